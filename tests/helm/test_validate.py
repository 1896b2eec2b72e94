"""The chart against the tools: Helm's lint, the values schema (good and bad values), every
rendered object against Kubernetes' own schemas in strict mode, and yamllint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from conftest import BAD, CHART, EXAMPLES, inline, load_yaml, merge, minimal, production

# The chart's floor (Chart.yaml kubeVersion) and the newest Kubernetes that kubernetes-validate
# ships schemas for.
KUBE_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
NEWEST = KUBE_VERSIONS[-1]
# Custom resources: kubernetes-validate has no schema for them (they come with their CRDs), so
# they are checked by hand below instead.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
VALUE_SETS = {
    "minimal": minimal,
    "inline": inline,
    "production": production,
    "everything-off": lambda: merge(minimal(), {
        "migration": {"enabled": False}, "networkPolicy": {"enabled": False},
        "serviceAccount": {"create": False}, "topologySpread": {"enabled": False},
        "authz": {"pdb": {"enabled": False}}, "shutdown": {"preStopSleepSeconds": 0}}),
    "pod-tls": lambda: merge(production(), {
        "httpTls": {"enabled": True, "secretName": "pod-tls"},
        "serviceMonitor": {"tlsConfig": {"serverName": "scim.example.com"}}}),
}
YAMLLINT = YamlLintConfig(file=str(Path(__file__).with_name("yamllint.yaml")))


def test_the_newest_kubernetes_is_at_least_1_33():
    assert tuple(int(x) for x in NEWEST.split(".")[:2]) >= (1, 33), NEWEST


def test_the_library_is_helm_4():
    assert helm.helm_sdk_version().startswith("v4."), helm.helm_sdk_version()


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_helm_lint_finds_nothing(name):
    report = helm.lint(str(CHART), VALUE_SETS[name](), strict=True, kube_version=f"v{NEWEST}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], problems or report["errors"]


def test_helm_lint_reports_a_bad_value():
    report = helm.lint(str(CHART), load_yaml(BAD / "replicas-zero.yaml"), strict=True)
    assert any("/sync/replicas" in e for e in report["errors"]), report


def test_the_default_values_are_refused_until_a_secret_source_is_given(chart):
    with pytest.raises(helm.HelmValuesError) as refused:
        chart.render({}, name="demo", namespace="idp")
    assert "/secrets/" in str(refused.value)
    chart.render({"secrets": {"existingSecret": "scimgate"}}, name="demo", namespace="idp")


BAD_FILES = sorted(BAD.glob("*.yaml"))


def test_there_are_bad_values_files():
    assert len(BAD_FILES) >= 6


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_a_bad_values_file_is_refused_and_the_error_names_its_field(chart, path):
    expect = re.search(r"^# expect: (\S+)$", path.read_text(), re.M)
    assert expect, f"{path.name} has no '# expect: <field>' line"
    values = load_yaml(path)
    with pytest.raises(helm.HelmValuesError) as refused:
        chart.validate_schema(values)
    assert expect.group(1) in str(refused.value), str(refused.value)
    # And the render itself fails the same way (helm install / template would).
    with pytest.raises(helm.HelmValuesError) as refused:
        chart.render(values, name="demo", namespace="idp")
    assert expect.group(1) in str(refused.value)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_every_rendered_object_is_valid_kubernetes(render, name, version):
    r = render(VALUE_SETS[name]())
    checked = 0
    for doc in r.docs:
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} at {path}: {e.message}")
        checked += 1
    assert checked >= 8


def test_kubernetes_validate_strict_on_the_command_line(render, tmp_path):
    """The same check through the CLI, as a person would run it on `helm template` output."""
    docs = [d for d in render(production()).docs if (d["apiVersion"], d["kind"]) not in CRD_KINDS]
    out = tmp_path / "production.yaml"
    out.write_text(yaml.safe_dump_all(docs))
    cli = Path(sys.executable).with_name("kubernetes-validate")
    run = subprocess.run([str(cli), "--strict", "--quiet", "-k", NEWEST, str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    # ...and it does catch a field Kubernetes does not have.
    docs[0].setdefault("spec", {})["replica"] = 2
    out.write_text(yaml.safe_dump_all(docs))
    run = subprocess.run([str(cli), "--strict", "--quiet", "-k", NEWEST, str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0


def test_kubernetes_validate_has_no_schema_for_service_monitors(render):
    """Why ServiceMonitor is checked by hand: the custom resource is not in Kubernetes' schemas."""
    (sm,) = render(production()).kind("ServiceMonitor")
    with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
        kubernetes_validate.validate(sm, NEWEST, strict=True)


# The ServiceMonitor fields this chart writes, per prometheus-operator's monitoring.coreos.com/v1
# API (a hand-kept subset, not the CRD): an unknown field here is a typo.
SERVICE_MONITOR_SPEC = {"jobLabel", "selector", "endpoints", "namespaceSelector"}
SERVICE_MONITOR_ENDPOINT = {"port", "path", "scheme", "interval", "scrapeTimeout", "tlsConfig"}


@pytest.mark.parametrize("name", ["production", "pod-tls"])
def test_the_service_monitor_uses_only_known_fields(render, name):
    (sm,) = render(VALUE_SETS[name]()).kind("ServiceMonitor")
    assert set(sm) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(sm["spec"]) <= SERVICE_MONITOR_SPEC
    for endpoint in sm["spec"]["endpoints"]:
        assert set(endpoint) <= SERVICE_MONITOR_ENDPOINT, set(endpoint) - SERVICE_MONITOR_ENDPOINT
        assert endpoint["scheme"] in ("http", "https")
        assert re.fullmatch(r"[0-9]+(ms|s|m|h)", endpoint["interval"])
    kubernetes_validate.validate({  # the metadata is ordinary object metadata
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": sm["metadata"]}, NEWEST, strict=True)


def lint_problems(text):
    return [f"{p.line}:{p.column} {p.rule}: {p.desc}" for p in linter.run(text, YAMLLINT)]


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_the_rendered_output_passes_yamllint(render, name):
    problems = lint_problems(render(VALUE_SETS[name]()).text)
    assert not problems, problems


@pytest.mark.parametrize("path", [CHART / "values.yaml", CHART / "Chart.yaml",
                                  *sorted(EXAMPLES.glob("*.yaml")), *BAD_FILES],
                         ids=lambda p: str(p.relative_to(CHART)))
def test_values_files_pass_yamllint(path):
    problems = lint_problems(path.read_text())
    assert not problems, problems


def test_every_default_value_is_described_by_the_schema(chart):
    """additionalProperties: false at every level of the schema, so no default can be unchecked."""
    schema = chart.schema
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"  # Helm 3 and 4 both read it
    defs = schema.get("definitions", {})

    def walk(node, where):
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, where
            for key, sub in node["properties"].items():
                walk(sub, f"{where}/{key}")

    walk(schema, "")
    chart.validate_schema({"secrets": {"existingSecret": "x"}})
