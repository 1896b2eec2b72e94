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


# The tenant's access operations (under /admin/v1/tenants/{slug}/, but the tenant itself, its
# clients, tokens and Disconnect SCIM) also take a tenant admin's access token.
OPERATOR_ONLY_TENANT_PATHS = ("/clients", "/tokens", "/disconnect-scim")


def test_the_server_is_relative_and_auth_is_the_operator_bearer(spec):
    doc = spec.doc
    assert doc["servers"] == [
        {"url": "/", "description": "The scimgate server that serves this document."}
    ]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["operatorToken"]["type"] == "http"
    assert schemes["operatorToken"]["scheme"] == "bearer"
    assert schemes["tenantAdminToken"]["type"] == "oauth2"
    flow = schemes["tenantAdminToken"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token" and "admin" in flow["scopes"]
    assert doc["security"] == [{"operatorToken": []}]
    tenant_admin = 0
    for method, template, op in spec.operations():
        rest = template.removeprefix("/admin/v1/tenants/{slug}")
        if template == "/admin/v1/openapi.json":
            assert op["security"] == [], "the document itself needs no credential"
            continue
        if rest != template and rest and not rest.startswith(OPERATOR_ONLY_TENANT_PATHS):
            assert op["security"] == [{"operatorToken": []}, {"tenantAdminToken": ["admin"]}], (
                f"{method} {template}: the operator or a tenant admin"
            )
            assert {"403", "404"} <= set(op["responses"]), f"{method} {template}"
            tenant_admin += 1
        else:
            assert "security" not in op, f"{method} {template} overrides the security"
        assert {"401", "429"} <= set(op["responses"]), f"{method} {template}"
    assert tenant_admin == 29


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
    """(path, METHOD) -> `module::handler` of the routes the admin crate's configure() mounts
    (crates/admin/src/routes.rs)."""
    src = (REPO / "crates" / "admin" / "src" / "routes.rs").read_text()
    scope = re.search(r'scope\("([^"]+)"\)', src).group(1)
    routes = {}
    for m in re.finditer(r'resource\("([^"]+)"\)((?:\s*\.route\([a-z]+\(\)[^)]*\)\))+)', src):
        path = scope + m.group(1)
        for method, handler in re.findall(r"\.route\(([a-z]+)\(\)\.to\(([\w:]+)\)\)", m.group(2)):
            routes[(path, method.upper())] = handler
    return routes


def test_every_route_of_the_code_is_documented_and_nothing_else(spec):
    code = set(_routes_in_code())
    assert len(code) >= 15, code
    documented = {(t, m) for m, t, _ in spec.operations()}
    assert documented == code


def _reads_a_body(handler: str) -> bool:
    """Whether the handler takes `web::Bytes` (`module::function` in crates/admin/src, or a
    function of lib.rs)."""
    module, _, function = handler.rpartition("::")
    module = module or "lib"
    src = (REPO / "crates" / "admin" / "src" / f"{module}.rs").read_text()
    m = re.search(rf"(?:pub )?async fn {function}\((.*?)\)\s*->", src, re.S)
    assert m, handler
    return "web::Bytes" in m.group(1)


def test_bodies_are_described_where_the_code_reads_one(spec):
    """Handlers that take `web::Bytes` read a body: those document it, with 400 and 413."""
    readers = {(m, t) for (t, m), handler in _routes_in_code().items() if _reads_a_body(handler)}
    with_body = {(m, t) for m, t, op in spec.operations() if "requestBody" in op}
    assert with_body == readers
    assert with_body == {
        ("POST", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants/{slug}/clients"),
        ("POST", "/admin/v1/tenants/{slug}/clients/{client_id}/rotate"),
        ("POST", "/admin/v1/tenants/{slug}/tokens"),
        ("PATCH", "/admin/v1/tenants/{slug}/settings"),
        ("PUT", "/admin/v1/tenants/{slug}/roles"),
        ("POST", "/admin/v1/tenants/{slug}/mappings"),
        ("POST", "/admin/v1/tenants/{slug}/workspaces"),
        ("PUT", "/admin/v1/tenants/{slug}/projects/{key}"),
        ("POST", "/admin/v1/tenants/{slug}/teams"),
        ("PATCH", "/admin/v1/tenants/{slug}/teams/{id}"),
        ("PUT", "/admin/v1/tenants/{slug}/webhook"),
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
