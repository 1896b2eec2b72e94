"""deploy/: the Dockerfile (hadolint and the properties the chart relies on), the laptop compose
stack and its collector configuration, checked offline (there is no Docker daemon here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, PARTS

DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = Path(sys.executable).with_name("hadolint")
    run = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def stages():
    """{stage name: its lines} of the Dockerfile."""
    out, current = {}, None
    for line in DOCKERFILE.read_text().splitlines():
        m = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current and line and not line.startswith("#"):
            out[current].append(line)
    return out


def test_the_default_stage_is_the_non_root_runtime_with_one_entrypoint():
    s = stages()
    assert list(s)[-1] == "runtime", "the last stage is what `docker build` makes by default"
    assert "ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot" in DOCKERFILE.read_text()
    for name in ("runtime", "laptop"):
        lines = s[name]
        assert "USER 65532:65532" in lines
        assert "EXPOSE 8080" in lines
        assert 'ENTRYPOINT ["/usr/local/bin/scimgate"]' in lines
        assert 'CMD ["serve"]' in lines
        assert any("SCIMGATE__HTTP__ADDRESS=0.0.0.0:8080" in line for line in lines)


def test_dependencies_are_cooked_in_their_own_layer_before_the_sources_arrive():
    builder = stages()["builder"]
    cook = next(i for i, line in enumerate(builder) if "cargo chef cook" in line)
    copy_sources = next(i for i, line in enumerate(builder) if line == "COPY . .")
    assert cook < copy_sources
    assert any("cargo build --release --locked -p scimgate" in line for line in builder)


def test_the_build_context_leaves_out_target_and_git():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"target/", ".git/"} <= set(ignored)
    # What the binary embeds must stay in the context.
    for needed in ("migrations", "docs", "crates", "Cargo.lock"):
        assert not any(p.rstrip("/") == needed for p in ignored), needed


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_stack_has_every_service_with_a_healthcheck():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "otel-collector", "migrate", *PARTS}
    for name in ("postgres", "redis", *PARTS):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_the_parts_start_after_a_successful_migration_and_healthy_stores():
    services = compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for part in PARTS:
        s = services[part]
        assert s["command"] == ["serve", part, "--no-migrate"]
        assert s["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert s["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert s["depends_on"]["redis"]["condition"] == "service_healthy"
        assert s["build"]["target"] == "laptop"
        assert s["read_only"] is True and s["user"] == "65532:65532"
        env = s["environment"]
        assert env["SCIMGATE__HTTP__ADDRESS"] == "0.0.0.0:8080"
        assert env["SCIMGATE__TELEMETRY__OTLP_ENDPOINT"].startswith("http://otel-collector:")
        assert env["SCIMGATE__TELEMETRY__SERVICE_NAME"] == f"scimgate-{part}"
        # Laptop secrets are marked as such in their values.
        for key in ("SCIMGATE__SECURITY__TOKEN_HASH_KEY", "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY",
                    "SCIMGATE__ADMIN__OPERATOR_TOKEN"):
            assert env[key].startswith("laptop-only-") and len(env[key]) >= 32


def test_the_collector_receives_otlp_on_both_ports_and_prints_it():
    config = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    assert "debug" in config["exporters"]
    for pipeline in config["service"]["pipelines"].values():
        assert pipeline["receivers"] == ["otlp"] and pipeline["exporters"] == ["debug"]
    mounted = compose()["services"]["otel-collector"]["volumes"]
    assert "./otel-collector.yaml:/etc/otelcol/config.yaml:ro" in mounted


def documented_variables():
    text = (ROOT / "docs" / "configuration.md").read_text()
    names = set(re.findall(r"`(SCIMGATE__[A-Z_]+?)(?:_FILE)?`", text))
    # "`SCIMGATE__OAUTH__FAILED_AUTH_PER_CLIENT` / `..._PER_ADDRESS`": the suffix replaces the
    # name's tail from its first word on.
    for full, suffix in re.findall(r"`(SCIMGATE__[A-Z_]+)` / `\.\.\.(_[A-Z_]+)`", text):
        if suffix != "_FILE":
            head = full.rfind("_" + suffix.split("_")[1])
            names.add(full[:head] + suffix)
    return names


# Settings the chart and compose already pass but docs/configuration.md does not list yet:
# being added in another branch (http.tls_cert_file, http.tls_key_file). Unknown variables are ignored by the app meanwhile.
PENDING = {"SCIMGATE__HTTP__TLS_CERT_FILE", "SCIMGATE__HTTP__TLS_KEY_FILE"}


def test_compose_and_the_chart_use_only_documented_settings(render):
    from conftest import production
    documented = documented_variables() | PENDING
    assert "SCIMGATE__SCIM__BULK_MAX_PAYLOAD_BYTES" in documented
    used = set()
    for s in compose()["services"].values():
        used |= {k for k in s.get("environment", {}) if k.startswith("SCIMGATE__")}
    r = render(production())
    used |= set(r.config())
    values = yaml.safe_load((ROOT / "helm/scimgate/values.yaml").read_text())
    used |= {f"SCIMGATE__{section.upper()}__{key.upper()}" for section, keys in values["config"].items()
             for key in keys}
    for d in r.kind("Deployment") + r.kind("Job"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            used |= {e["name"].removesuffix("_FILE") for e in c.get("env", [])}
    undocumented = sorted(used - documented)
    assert not undocumented, undocumented
