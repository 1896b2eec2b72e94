"""The document itself: valid OpenAPI 3.1, what the binary serves, and the routes of the code."""

import json
import re

import requests
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from conftest import DOC_PATH, REPO


def test_the_document_is_valid_openapi_3_1():
    doc, _ = read_from_filename(str(DOC_PATH))
    validate(doc)
    assert doc["openapi"].startswith("3.1.")


def test_the_document_is_two_space_indented_json():
    text = DOC_PATH.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_the_server_is_relative_and_auth_is_the_operator_bearer(spec):
    doc = spec.doc
    assert doc["servers"] == [
        {"url": "/", "description": "The scimgate server that serves this document."}
    ]
    assert doc["components"]["securitySchemes"]["operatorToken"]["type"] == "http"
    assert doc["components"]["securitySchemes"]["operatorToken"]["scheme"] == "bearer"
    assert doc["security"] == [{"operatorToken": []}]
    for method, template, op in spec.operations():
        if template == "/admin/v1/openapi.json":
            assert op["security"] == [], "the document itself needs no credential"
        else:
            assert "security" not in op, f"{method} {template} overrides the security"
            assert {"401", "429"} <= set(op["responses"]), f"{method} {template}"


def test_the_served_document_is_the_file(api, spec):
    # No credential: the document is public (any Authorization is ignored).
    for token in (None, "wrong"):
        resp, body = api.expect(200, "GET", "/admin/v1/openapi.json", token=token)
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.text == spec.text, (
            "the binary serves another document: rebuild it (cargo build -p scimgate), "
            "the file is embedded with include_str!"
        )


def _routes_in_code():
    """(path, METHOD) pairs mounted by crates/admin/src/lib.rs's configure()."""
    src = (REPO / "crates" / "admin" / "src" / "lib.rs").read_text()
    scope = re.search(r'scope\("([^"]+)"\)', src).group(1)
    routes = set()
    for m in re.finditer(r'resource\("([^"]+)"\)((?:\s*\.route\([a-z]+\(\)[^)]*\)\))+)', src):
        path = scope + m.group(1)
        for method in re.findall(r"\.route\(([a-z]+)\(\)", m.group(2)):
            routes.add((path, method.upper()))
    return routes


def test_every_route_of_the_code_is_documented_and_nothing_else(spec):
    code = _routes_in_code()
    assert len(code) >= 15, code
    documented = {(t, m) for m, t, _ in spec.operations()}
    assert documented == code


def test_bodies_are_described_where_the_code_reads_one(spec):
    """Handlers that take `web::Bytes` read a body: those document it, with 400 and 413."""
    readers = set()
    for name in ("tenants", "clients", "keys"):
        src = (REPO / "crates" / "admin" / "src" / f"{name}.rs").read_text()
        for m in re.finditer(r"pub async fn (\w+)\((.*?)\)\s*->", src, re.S):
            if "web::Bytes" in m.group(2):
                readers.add(m.group(1))
    assert readers == {"create", "rotate", "create_token"}
    with_body = {(m, t) for m, t, op in spec.operations() if "requestBody" in op}
    assert with_body == {
        ("POST", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants/{slug}/clients"),
        ("POST", "/admin/v1/tenants/{slug}/clients/{client_id}/rotate"),
        ("POST", "/admin/v1/tenants/{slug}/tokens"),
    }
    for method, template, op in spec.operations():
        if "requestBody" in op:
            assert {"400", "413"} <= set(op["responses"]), f"{method} {template}"
            schema, _ = spec.resolve(op["requestBody"]["content"]["application/json"]["schema"], "")
            assert schema["additionalProperties"] is False, "the server uses deny_unknown_fields"
        else:
            assert "413" not in op["responses"], f"{method} {template} reads no body"


def test_unknown_paths_and_methods_are_problems_without_credential(server):
    r = requests.get(f"{server.base}/admin/v1/nothing-here", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json() == {
        "type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such admin endpoint",
    }
    for method, path in (("DELETE", "/admin/v1/tenants"), ("PUT", "/admin/v1/keys"),
                         ("HEAD", "/admin/v1/openapi.json"), ("GET", "/admin/v1/keys/rotate")):
        r = requests.request(method, f"{server.base}{path}", timeout=5)
        assert r.status_code == 405, (method, path)
        assert r.headers["Content-Type"] == "application/problem+json"
        if method != "HEAD":
            assert r.json()["title"] == "Method Not Allowed"
