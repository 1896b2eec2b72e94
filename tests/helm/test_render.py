"""What the rendered release must be: a Deployment and a Service per part, probes, the pods'
security settings, secrets only as files, the migration hook, checksums, autoscaling, the
Ingress routes and the NetworkPolicies."""

from __future__ import annotations

import base64
import hashlib

import pytest

from conftest import FULLNAME, INLINE_SECRETS, PARTS, inline, merge, minimal, production

SECRET_ENV = {
    "database-url": "SCIMGATE__DATABASE__URL_FILE",
    "redis-url": "SCIMGATE__REDIS__URL_FILE",
    "token-hash-key": "SCIMGATE__SECURITY__TOKEN_HASH_KEY_FILE",
    "key-encryption-key": "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY_FILE",
    "operator-token": "SCIMGATE__ADMIN__OPERATOR_TOKEN_FILE",
}
SECRET_SETTINGS = {v.removesuffix("_FILE") for v in SECRET_ENV.values()}
VALUE_SETS = {"minimal": minimal, "inline": inline, "production": production}


@pytest.fixture(params=sorted(VALUE_SETS))
def any_render(request, render):
    return render(VALUE_SETS[request.param]())


def pod(render_, part):
    return render_.deployment(part)["spec"]["template"]


def test_each_part_has_a_deployment_and_a_service_that_selects_its_pods(any_render):
    for part in PARTS:
        deployment = any_render.deployment(part)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert labels["app.kubernetes.io/component"] == part
        service = any_render.get("Service", f"{FULLNAME}-{part}")
        assert service["spec"]["selector"].items() <= labels.items()
        (port,) = service["spec"]["ports"]
        assert port["targetPort"] == "http"
        (container_port,) = any_render.container(part)["ports"]
        assert container_port == {"name": "http", "containerPort": 8080, "protocol": "TCP"}


def test_each_part_runs_its_own_subcommand_without_migrating(any_render):
    for part in PARTS:
        assert any_render.container(part)["args"] == ["serve", part, "--no-migrate"]


def test_without_the_migration_job_the_parts_migrate_on_start(render):
    r = render(merge(minimal(), {"migration": {"enabled": False}}))
    assert not r.kind("Job")
    for part in PARTS:
        assert r.container(part)["args"] == ["serve", part]


def test_the_parts_listen_on_all_addresses_on_8080(any_render):
    assert any_render.config()["SCIMGATE__HTTP__ADDRESS"] == "0.0.0.0:8080"


def test_probes_check_liveness_readiness_and_startup_on_the_app_paths(any_render):
    for part in PARTS:
        c = any_render.container(part)
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http", "scheme": "HTTP"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http", "scheme": "HTTP"}
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        # The startup probe gives a slow start (connecting, signing key) a minute or more.
        startup = c["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_pods_run_as_a_non_root_user_on_a_read_only_root_with_no_privileges(any_render):
    for part in PARTS:
        spec = pod(any_render, part)["spec"]
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True
        assert psc["runAsUser"] == 65532
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        csc = any_render.container(part)["securityContext"]
        assert csc["runAsNonRoot"] is True
        assert csc["runAsUser"] == 65532
        assert csc["readOnlyRootFilesystem"] is True
        assert csc["allowPrivilegeEscalation"] is False
        assert csc["capabilities"] == {"drop": ["ALL"]}
        assert csc["seccompProfile"] == {"type": "RuntimeDefault"}
        mounts = {m["name"]: m["mountPath"] for m in any_render.container(part)["volumeMounts"]}
        assert mounts["tmp"] == "/tmp"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"]


def test_the_service_account_mounts_no_token(any_render):
    (account,) = any_render.kind("ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    for part in PARTS:
        assert pod(any_render, part)["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_the_grace_period_covers_the_pre_stop_sleep_and_the_servers_30_second_drain(any_render):
    for part in PARTS:
        spec = pod(any_render, part)["spec"]
        sleep = any_render.container(part)["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert spec["terminationGracePeriodSeconds"] >= sleep + 30 + 5


def test_pods_spread_over_zones_and_nodes(any_render):
    for part in PARTS:
        constraints = pod(any_render, part)["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in constraints}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        for c in constraints:
            assert c["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == part


def test_every_container_has_requests_and_a_memory_limit(any_render):
    containers = [any_render.container(p) for p in PARTS]
    containers += [c for j in any_render.kind("Job") for c in j["spec"]["template"]["spec"]["containers"]]
    for c in containers:
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
        assert c["resources"]["limits"]["memory"]


# --- secrets -----------------------------------------------------------------------------------


def secret_files(render_, workload):
    """{key: env var} of the secret files a pod spec mounts and points at."""
    spec = workload["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volume = next(v for v in spec["volumes"] if v["name"] == "secrets")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "secrets")
    assert mount["readOnly"] is True
    items = {i["key"]: i["path"] for i in volume["secret"]["items"]}
    env = {e["name"]: e for e in container.get("env", [])}
    files = {}
    for key, path in items.items():
        var = SECRET_ENV[key]
        assert env[var]["value"] == f"{mount['mountPath']}/{path}", var
        files[key] = var
    # Every _FILE variable points at a mounted key: no variable names a file that is not there.
    for name in env:
        if name.endswith("_FILE"):
            assert name in files.values(), f"{name} names no mounted file"
    return files


def test_secrets_reach_the_app_as_files_never_as_environment_values(any_render):
    workloads = [any_render.deployment(p) for p in PARTS] + any_render.kind("Job")
    for w in workloads:
        (container,) = w["spec"]["template"]["spec"]["containers"]
        for e in container.get("env", []):
            assert e["name"] not in SECRET_SETTINGS, f"{e['name']} as a plain variable"
            assert "valueFrom" not in e, f"{e['name']} from a secretKeyRef"
        for source in container.get("envFrom", []):
            assert "secretRef" not in source
        secret_files(any_render, w)
    for key in SECRET_SETTINGS:
        assert key not in any_render.config()


def test_no_inline_secret_appears_in_the_output_except_encoded_in_its_secret(render):
    r = render(inline())
    (secret,) = r.kind("Secret")
    for value in INLINE_SECRETS.values():
        assert value not in r.text
        encoded = base64.b64encode(value.encode()).decode()
        holders = [d for d in r.docs if encoded in str(d)]
        assert holders == [secret]


def test_each_part_mounts_only_the_secrets_it_reads(render):
    r = render(inline())
    want = {
        "authz": {"database-url", "redis-url", "token-hash-key", "key-encryption-key", "operator-token"},
        # The SCIM part never unseals anything and serves no admin API.
        "scim": {"database-url", "redis-url", "token-hash-key"},
        "sync": {"database-url", "redis-url", "token-hash-key", "key-encryption-key"},
    }
    for part, keys in want.items():
        assert set(secret_files(r, r.deployment(part))) == keys, part
    (job,) = r.kind("Job")
    # `scimgate migrate` builds the token hasher too, so it needs token-hash-key.
    assert set(secret_files(r, job)) == {"database-url", "token-hash-key"}


def test_an_existing_secret_mounts_only_the_optional_keys_it_is_said_to_hold(render):
    r = render(minimal())
    assert not r.kind("Secret")
    for part in PARTS:
        volume = next(v for v in pod(r, part)["spec"]["volumes"] if v["name"] == "secrets")
        assert volume["secret"]["secretName"] == "scimgate"
        assert "redis-url" not in secret_files(r, r.deployment(part))
    r = render(production())
    assert "redis-url" in secret_files(r, r.deployment("scim"))
    assert "operator-token" in secret_files(r, r.deployment("authz"))


# --- the migration hook ------------------------------------------------------------------------


def hook(doc):
    a = doc["metadata"].get("annotations", {})
    return a.get("helm.sh/hook"), int(a.get("helm.sh/hook-weight", "0")), a.get("helm.sh/hook-delete-policy")


def test_the_migration_job_is_a_pre_install_and_pre_upgrade_hook(any_render):
    (job,) = any_render.kind("Job")
    name, weight, policy = hook(job)
    assert name == "pre-install,pre-upgrade"
    assert "before-hook-creation" in policy.split(",")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_the_migration_job_uses_only_what_exists_before_the_release(render):
    """Hooks run before the release's plain objects exist: the Job must not need them."""
    for values in (inline(), minimal(), production()):
        r = render(values)
        (job,) = r.kind("Job")
        _, job_weight, _ = hook(job)
        spec = job["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert "envFrom" not in container, "the ConfigMap is created after the hooks"
        plain_accounts = {d["metadata"]["name"] for d in r.kind("ServiceAccount") if not hook(d)[0]}
        assert spec["serviceAccountName"] not in plain_accounts
        secret_name = next(v for v in spec["volumes"] if v["name"] == "secrets")["secret"]["secretName"]
        chart_secrets = [d for d in r.kind("Secret") if d["metadata"]["name"] == secret_name]
        if values["secrets"].get("existingSecret"):
            assert not chart_secrets
        else:
            (secret,) = chart_secrets
            name, weight, policy = hook(secret)
            assert name == "pre-install,pre-upgrade", "the Job would wait for a Secret made after it"
            assert weight < job_weight
            assert policy == "before-hook-creation", "hook-succeeded would delete it under the pods"
        policies = [d for d in r.kind("NetworkPolicy") if d["spec"]["podSelector"]["matchLabels"].get(
            "app.kubernetes.io/component") == "migrate"]
        (policy,) = policies
        name, weight, _ = hook(policy)
        assert name == "pre-install,pre-upgrade" and weight < job_weight


def test_the_hooks_render_the_same_on_upgrade(render):
    install = render(inline())
    upgrade = render(inline(), upgrade=True)
    assert [hook(d) for d in install.docs] == [hook(d) for d in upgrade.docs]


# --- checksums ---------------------------------------------------------------------------------


def checksums(render_, part):
    return {k: v for k, v in pod(render_, part)["metadata"]["annotations"].items() if k.startswith("checksum/")}


def test_a_changed_setting_or_inline_secret_rolls_every_part(render):
    base = render(inline())
    changed_config = render(merge(inline(), {"config": {"log": {"level": "debug"}}}))
    changed_secret = render(merge(inline(), {"secrets": {"operatorToken": "x" * 40}}))
    for part in PARTS:
        sums = checksums(base, part)
        assert set(sums) == {"checksum/config", "checksum/secret"}
        assert all(len(v) == 64 for v in sums.values())
        assert checksums(changed_config, part)["checksum/config"] != sums["checksum/config"]
        assert checksums(changed_config, part)["checksum/secret"] == sums["checksum/secret"]
        assert checksums(changed_secret, part)["checksum/secret"] != sums["checksum/secret"]


def test_the_config_checksum_is_the_configmaps(render, chart):
    r = render(minimal())
    text = next(t for n, t in r.manifests.items() if n.endswith("/configmap.yaml"))
    assert checksums(r, "scim")["checksum/config"] == hashlib.sha256(text.encode()).hexdigest()


# --- settings ----------------------------------------------------------------------------------


def test_settings_become_scimgate_variables_and_big_numbers_stay_integers(render):
    r = render(merge(minimal(), {"config": {
        "scim": {"max_body_bytes": 1048576, "bulk_max_payload_bytes": 4194304},
        "security": {"trust_forwarded_for": True},
        "redis": {"key_prefix": "scimgate:prod:"},
    }}))
    config = r.config()
    assert config["SCIMGATE__SCIM__MAX_BODY_BYTES"] == "1048576"
    assert config["SCIMGATE__SCIM__BULK_MAX_PAYLOAD_BYTES"] == "4194304"
    assert config["SCIMGATE__SECURITY__TRUST_FORWARDED_FOR"] == "true"
    assert config["SCIMGATE__REDIS__KEY_PREFIX"] == "scimgate:prod:"
    assert config["SCIMGATE__LOG__FORMAT"] == "json"
    # Unset settings keep the app's defaults: no empty variables.
    assert "SCIMGATE__OAUTH__AUDIENCE" not in config
    assert all(v != "" for v in config.values())


def test_the_issuer_defaults_to_the_first_ingress_host(render):
    values = merge(minimal(), {"config": {"oauth": {"issuer": ""}}, "ingress": {
        "enabled": True, "hosts": ["idp.example.org"], "tls": [{"secretName": "t", "hosts": ["idp.example.org"]}]}})
    assert render(values).config()["SCIMGATE__OAUTH__ISSUER"] == "https://idp.example.org"
    values["ingress"]["tls"] = []
    assert render(values).config()["SCIMGATE__OAUTH__ISSUER"] == "http://idp.example.org"
    assert render(minimal()).config()["SCIMGATE__OAUTH__ISSUER"] == "https://scim.example.com"


def test_each_part_names_itself_to_telemetry(render):
    r = render(production())
    assert r.config()["SCIMGATE__TELEMETRY__OTLP_ENDPOINT"] == "http://otel-collector.observability.svc:4318"
    for part in PARTS:
        env = {e["name"]: e.get("value") for e in r.container(part)["env"]}
        assert env["SCIMGATE__TELEMETRY__SERVICE_NAME"] == f"scimgate-{part}"


def test_pod_tls_mounts_the_certificate_and_probes_over_https(render):
    r = render(merge(minimal(), {"httpTls": {"enabled": True, "secretName": "pod-tls"}}))
    assert r.config()["SCIMGATE__HTTP__TLS_CERT_FILE"] == "/etc/scimgate/tls/tls.crt"
    assert r.config()["SCIMGATE__HTTP__TLS_KEY_FILE"] == "/etc/scimgate/tls/tls.key"
    for part in PARTS:
        c = r.container(part)
        assert c["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
        assert {"name": "tls", "mountPath": "/etc/scimgate/tls", "readOnly": True} in c["volumeMounts"]


# --- scaling -----------------------------------------------------------------------------------


def test_autoscaled_parts_leave_replicas_to_the_hpa(render):
    r = render(production())
    for part in PARTS:
        assert "replicas" not in r.deployment(part)["spec"]
        hpa = r.get("HorizontalPodAutoscaler", f"{FULLNAME}-{part}")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1", "kind": "Deployment", "name": f"{FULLNAME}-{part}"}
        assert hpa["spec"]["minReplicas"] == 3
    r = render(minimal())
    assert not r.kind("HorizontalPodAutoscaler")
    assert r.deployment("authz")["spec"]["replicas"] == 2


def test_each_part_has_its_own_disruption_budget(any_render):
    for part in PARTS:
        pdb = any_render.get("PodDisruptionBudget", f"{FULLNAME}-{part}")
        assert pdb["apiVersion"] == "policy/v1"
        labels = pod(any_render, part)["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_a_disabled_part_leaves_nothing_behind(render):
    r = render(merge(production(), {"sync": {"enabled": False}, "scim": {"enabled": False}}))
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        names = {d["metadata"]["name"] for d in r.kind(kind)}
        assert f"{FULLNAME}-sync" not in names and f"{FULLNAME}-scim" not in names, kind
    assert r.has("Deployment", f"{FULLNAME}-authz")
    paths = {p["path"] for rule in r.kind("Ingress")[0]["spec"]["rules"] for p in rule["http"]["paths"]}
    assert "/scim" not in paths and "/oauth" in paths


# --- ingress, monitoring, network policy ------------------------------------------------------


def test_the_ingress_sends_each_path_to_the_part_that_serves_it(render):
    r = render(production())
    (ingress,) = r.kind("Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "scim.example.com"
    routes = {p["path"]: p["backend"]["service"]["name"].removeprefix(f"{FULLNAME}-") for p in rule["http"]["paths"]}
    assert routes == {"/oauth": "authz", "/.well-known": "authz", "/admin": "authz",
                      "/scim": "scim", "/tenants": "scim"}
    assert all(p["pathType"] == "Prefix" and p["backend"]["service"]["port"] == {"name": "http"}
               for p in rule["http"]["paths"])
    assert ingress["spec"]["tls"] == [{"secretName": "scimgate-tls", "hosts": ["scim.example.com"]}]
    r = render(merge(production(), {"ingress": {"admin": False}}))
    paths = {p["path"] for p in r.kind("Ingress")[0]["spec"]["rules"][0]["http"]["paths"]}
    assert "/admin" not in paths
    assert not render(minimal()).kind("Ingress")


def test_the_service_monitor_exists_only_when_asked_for_and_scrapes_every_part(render):
    assert not render(minimal()).kind("ServiceMonitor")
    r = render(production())
    (sm,) = r.kind("ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    selected = [s for s in r.kind("Service")
                if sm["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
                and s["metadata"]["labels"]["app.kubernetes.io/component"]
                in sm["spec"]["selector"]["matchExpressions"][0]["values"]]
    assert sorted(s["metadata"]["name"] for s in selected) == [f"{FULLNAME}-{p}" for p in sorted(PARTS)]
    assert all(any(p["name"] == "http" for p in s["spec"]["ports"]) for s in selected)


def egress_ports(policy):
    return {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_network_policies_admit_only_the_http_port_and_reach_only_what_each_part_uses(render):
    r = render(production())
    for part in PARTS:
        policy = r.get("NetworkPolicy", f"{FULLNAME}-{part}")
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        (ingress,) = policy["spec"]["ingress"]
        assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
        assert len(ingress["from"]) == 2
        ports = egress_ports(policy)
        assert {53, 5432, 6379, 4318} <= ports
        # Only the worker delivers webhooks.
        assert (443 in ports) == (part == "sync")
    # No Redis configured, no telemetry: no egress rule for them.
    ports = egress_ports(render(minimal()).get("NetworkPolicy", f"{FULLNAME}-scim"))
    assert ports == {53, 5432}
    assert not render(merge(minimal(), {"networkPolicy": {"enabled": False}})).kind("NetworkPolicy")


def test_notes_name_the_parts_and_warn_about_what_is_missing(render):
    notes = render(minimal()).notes
    assert f"{FULLNAME}-authz" in notes and f"{FULLNAME}-sync" in notes
    assert "WARNING: no Redis URL" in notes
    notes = render(production()).notes
    assert "WARNING" not in notes
    assert "https://scim.example.com/oauth/token" in notes
