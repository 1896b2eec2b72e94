"""Shared pieces of the chart tests: the chart loaded once through helm-python-sdk (Helm v4 as a
library), values files, and a rendered release as a list of Kubernetes objects."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import helm_python as helm
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "scimgate"
EXAMPLES = CHART / "examples"
BAD = EXAMPLES / "bad"
PARTS = ("authz", "scim", "sync")
RELEASE = "demo"
NAMESPACE = "idp"
FULLNAME = f"{RELEASE}-scimgate"

# Inline secrets: distinctive strings, so a test can look for them anywhere in the output.
INLINE_SECRETS = {
    "databaseUrl": "postgres://scimgate:inline-db-password-4711@db.example:5432/scimgate",
    "redisUrl": "redis://:inline-redis-password-4712@redis.example:6379",
    "tokenHashKey": "inline-token-hash-key-4713-0123456789abcdef",
    "keyEncryptionKey": "inline-key-encryption-key-4714-0123456789ab",
    "operatorToken": "inline-operator-token-4715-0123456789abcdef",
}


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    return data or {}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge like Helm's values layering (later wins, maps merge)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def minimal() -> dict[str, Any]:
    return load_yaml(EXAMPLES / "minimal.yaml")


def production() -> dict[str, Any]:
    return load_yaml(EXAMPLES / "production.yaml")


def inline() -> dict[str, Any]:
    return {
        "image": {"repository": "registry.example.com/platform/scimgate"},
        "secrets": dict(INLINE_SECRETS),
    }


@dataclass
class Render:
    """A rendered release: its objects (hooks included, as `helm template` shows them)."""

    manifests: dict[str, str]
    docs: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""

    def __post_init__(self) -> None:
        for name, text in sorted(self.manifests.items()):
            if name.endswith("NOTES.txt"):
                self.notes = text
                continue
            for doc in yaml.safe_load_all(text):
                if doc:
                    self.docs.append(doc)

    @property
    def text(self) -> str:
        """The manifests as one YAML stream, as `helm template` prints it (without its comments)."""
        pieces = [t.strip("\n") for n, t in sorted(self.manifests.items())
                  if not n.endswith("NOTES.txt") and t.strip()]
        return "---\n" + "\n---\n".join(pieces) + "\n"

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}: " + ", ".join(
            f"{d['kind']}/{d['metadata']['name']}" for d in self.docs
        )
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(d["metadata"]["name"] == name for d in self.kind(kind))

    def deployment(self, part: str) -> dict[str, Any]:
        return self.get("Deployment", f"{FULLNAME}-{part}")

    def container(self, part: str) -> dict[str, Any]:
        containers = self.deployment(part)["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1
        return containers[0]

    def config(self) -> dict[str, str]:
        return self.get("ConfigMap", FULLNAME)["data"]


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(str(CHART)) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render(chart: helm.Chart):
    """render(values) -> Render; the values are layered over the chart's defaults by Helm."""
    cache: dict[str, Render] = {}

    def _render(values: dict[str, Any], *, upgrade: bool = False) -> Render:
        key = json.dumps([values, upgrade], sort_keys=True)
        if key not in cache:
            manifests = chart.render(
                values,
                name=RELEASE,
                namespace=NAMESPACE,
                revision=2 if upgrade else 1,
                is_install=not upgrade,
                is_upgrade=upgrade,
            )
            cache[key] = Render(manifests)
        return cache[key]

    return _render
