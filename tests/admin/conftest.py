"""Shared fixtures of the admin API tests: the document, the real scimgate binary on SQLite in a
temporary directory, and a client whose every response is checked against the document."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
DOC_PATH = REPO / "docs" / "openapi" / "admin.json"
DOC_URI = "urn:scimgate:admin-openapi"
OPERATOR_TOKEN = "operator-token-for-the-admin-api-tests-0123456789"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Statuses a test cannot provoke against a healthy server: 500 (storage failures), 503 (a signing
# key that cannot be made or stored, POST /admin/v1/keys/rotate; and the sync queue unreachable,
# GET/POST/DELETE .../dead-letters: the servers of this suite run without `redis.url`, on the
# in-process queue, which is never unavailable).
UNPROVOKABLE = {"500", "503"}


def binary() -> Path:
    if os.environ.get("SCIMGATE_BIN"):
        return Path(os.environ["SCIMGATE_BIN"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "scimgate"
    return REPO / "target" / "debug" / "scimgate"


def pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Spec:
    """The document, and checks of real responses against it."""

    def __init__(self, path: Path):
        self.text = path.read_text()
        self.doc = json.loads(self.text)
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOC_URI, resource)
        # (METHOD, template, status) seen in a checked response.
        self.seen: set[tuple[str, str, str]] = set()

    def operations(self):
        for template, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield method.upper(), template, item[method]

    def operation(self, method: str, template: str) -> dict:
        item = self.doc["paths"].get(template)
        assert item is not None, f"{template} is not documented"
        op = item.get(method.lower())
        assert op is not None, f"{method} {template} is not documented"
        return op

    def resolve(self, obj: dict, pointer: str) -> tuple[dict, str]:
        """Follows a local `$ref` (Reference Objects may carry a description beside it)."""
        while "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), ref
            pointer = ref[1:]
            obj = self.doc
            for part in ref[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj, pointer

    def validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{DOC_URI}#{pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def validate(self, instance, pointer: str, what: str):
        errors = sorted(self.validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, f"{what} does not validate against {pointer}:\n" + "\n".join(
            f"  at {list(e.path)}: {e.message}" for e in errors[:10]
        ) + f"\n  instance: {json.dumps(instance)[:2000]}"

    def is_valid(self, instance, pointer: str) -> bool:
        return self.validator(pointer).is_valid(instance)

    def request_schema_pointer(self, method: str, template: str) -> str | None:
        op = self.operation(method, template)
        if "requestBody" not in op:
            return None
        base = f"/paths/{pointer_escape(template)}/{method.lower()}/requestBody"
        body, base = self.resolve(op["requestBody"], base)
        return f"{base}/content/application~1json/schema"

    def check(self, resp: requests.Response, method: str, template: str):
        """Asserts that the response is one the document gives for this operation; returns its
        body (parsed JSON, or text)."""
        op = self.operation(method, template)
        status = str(resp.status_code)
        what = f"{method} {template} -> {status}"
        assert status in op["responses"], (
            f"{what} is not a documented status ({sorted(op['responses'])}); body: {resp.text[:500]}"
        )
        base = f"/paths/{pointer_escape(template)}/{method.lower()}/responses/{status}"
        response, base = self.resolve(op["responses"][status], base)
        for name, header in response.get("headers", {}).items():
            header, hpointer = self.resolve(header, f"{base}/headers/{pointer_escape(name)}")
            if name not in resp.headers:
                assert not header.get("required"), f"{what}: required header {name} is missing"
                continue
            self.validate(resp.headers[name], f"{hpointer}/schema", f"{what} header {name}")
        content = response.get("content")
        if not content:
            assert resp.content == b"", f"{what}: a body where the document has none"
            body = None
        else:
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            assert ctype in content, f"{what}: Content-Type {ctype!r} is not one of {sorted(content)}"
            if ctype.endswith("json"):
                body = resp.json()
            else:
                body = resp.text
            media = content[ctype]
            if "schema" in media:
                self.validate(body, f"{base}/content/{pointer_escape(ctype)}/schema", what)
        self.seen.add((method.upper(), template, status))
        return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`scimgate serve` on SQLite in `workdir`, on a free loopback port."""

    def __init__(self, workdir: Path, operator_token: str | None = OPERATOR_TOKEN, **env: str):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "scimgate.log"
        environ = {
            k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE__")
        }
        environ.update(
            {
                "SCIMGATE__DATABASE__URL": f"sqlite://{workdir}/scimgate.db",
                "SCIMGATE__HTTP__ADDRESS": f"127.0.0.1:{self.port}",
                "SCIMGATE__LOG__LEVEL": "warn",
                "SCIMGATE__SECURITY__TOKEN_CACHE_SECONDS": "0",
            }
        )
        if operator_token is not None:
            environ["SCIMGATE__ADMIN__OPERATOR_TOKEN"] = operator_token
        environ.update(env)
        exe = binary()
        assert exe.is_file(), f"no scimgate binary at {exe} (cargo build -p scimgate, or SCIMGATE_BIN)"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(exe), "serve"], env=environ, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scimgate exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"scimgate did not become healthy:\n{self.log_text()}")
            time.sleep(0.05)

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Api:
    """Calls operations by their documented path template; every response is checked."""

    def __init__(self, server: Server, spec: Spec, token: str | None = OPERATOR_TOKEN):
        self.server = server
        self.spec = spec
        self.token = token
        self.http = requests.Session()

    def url(self, template: str, **params: str) -> str:
        path = template
        for name, value in params.items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        assert "{" not in path, f"missing a path parameter of {template}"
        return self.server.base + path

    def call(
        self,
        method: str,
        template: str,
        *,
        json_body=None,
        data: bytes | str | None = None,
        token: str | None | type(...) = ...,
        headers: dict | None = None,
        valid_request: bool | None = None,
        query: dict | None = None,
        **params: str,
    ):
        """Returns (response, checked body). `valid_request` asserts what the document's request
        schema says of `json_body`, so that the tests also prove the request schemas true.
        `query` is the query string's parameters."""
        if valid_request is not None:
            pointer = self.spec.request_schema_pointer(method, template)
            assert pointer is not None, f"{method} {template} documents no request body"
            assert self.spec.is_valid(json_body, pointer) == valid_request, (
                f"the document says {json_body!r} is {'in' if valid_request else ''}valid "
                f"for {method} {template}"
            )
        h = dict(headers or {})
        token = self.token if token is ... else token
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        resp = self.http.request(method, self.url(template, **params), params=query, data=data, headers=h,
                                 timeout=10)
        body = self.spec.check(resp, method, template)
        return resp, body

    def expect(self, status: int, method: str, template: str, **kw):
        resp, body = self.call(method, template, **kw)
        assert resp.status_code == status, (
            f"{method} {template} {kw}: expected {status}, got {resp.status_code}: {resp.text[:500]}"
        )
        return resp, body


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec(DOC_PATH)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # Failures are counted per address, and many tests here fail on purpose: a high limit keeps
    # the shared server out of the lockout (tested on a server of its own).
    s = Server(
        tmp_path_factory.mktemp("server"),
        SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="1000000",
        SCIMGATE__OAUTH__FAILED_AUTH_PER_CLIENT="1000000",
    )
    yield s
    s.stop()


@pytest.fixture(scope="session")
def api(server, spec) -> Api:
    return Api(server, spec)


@pytest.fixture
def new_server(tmp_path):
    """Starts servers of a test's own; stops them after it."""
    started: list[Server] = []

    def start(**kw) -> Server:
        s = Server(tmp_path / f"server{len(started)}", **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


_counter = iter(range(1_000_000))


@pytest.fixture
def slug(request) -> str:
    """A slug no other test uses."""
    name = request.node.name.lower()
    clean = "".join(c if c.isalnum() else "-" for c in name).strip("-")[:40]
    return f"{clean}-{next(_counter)}"
