"""The tenant's access endpoints (`/admin/v1/tenants/{slug}/settings`, roles, mappings,
workspaces, projects, teams, members, dead letters, webhook, events) against the real binary:
who may call them (the operator, or an access token with scope `admin` of a client of the
path's tenant: 403 without the scope, 404 for another tenant's), every documented status, and
an end-to-end flow where SCIM pushes, mappings and team sync reach the members' effective access
through the sync worker that runs inside `scimgate serve`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import sqlite3
import threading
import time

import pytest
import requests

from conftest import OPERATOR_TOKEN, Api
from test_operations import BIG, CLIENTS, NOT_AN_OBJECT, TOKENS, exact_problem, make_tenant, near, now, problem, ts
from test_workflow import USER_SCHEMA, scim

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ACCESS_EXT = "urn:scimgate:params:scim:schemas:extension:access:2.0:User"

B = "/admin/v1/tenants/{slug}"
SETTINGS = f"{B}/settings"
ROLES = f"{B}/roles"
MAPPINGS = f"{B}/mappings"
MAPPING = f"{B}/mappings/{{id}}"
WORKSPACES = f"{B}/workspaces"
WORKSPACE = f"{B}/workspaces/{{id}}"
PROJECTS = f"{B}/projects"
PROJECT = f"{B}/projects/{{key}}"
TEAMS = f"{B}/teams"
TEAM = f"{B}/teams/{{id}}"
MEMBERS = f"{B}/members"
MEMBER = f"{B}/members/{{id}}"
SIGN_IN = f"{B}/members/{{id}}/sign-in"
DEAD_LETTERS = f"{B}/dead-letters"
DEAD_LETTER = f"{B}/dead-letters/{{id}}"
REQUEUE = f"{B}/dead-letters/{{id}}/requeue"
WEBHOOK = f"{B}/webhook"
ROTATE_SECRET = f"{B}/webhook/rotate-secret"
EVENTS = f"{B}/events"

# Every access operation, with path parameters that need not exist (the caller comes first).
ACCESS_OPERATIONS = [
    ("GET", SETTINGS), ("PATCH", SETTINGS),
    ("GET", ROLES), ("PUT", ROLES),
    ("GET", MAPPINGS), ("POST", MAPPINGS), ("DELETE", MAPPING),
    ("GET", WORKSPACES), ("POST", WORKSPACES), ("DELETE", WORKSPACE),
    ("GET", PROJECTS), ("PUT", PROJECT), ("DELETE", PROJECT),
    ("GET", TEAMS), ("POST", TEAMS), ("GET", TEAM), ("PATCH", TEAM), ("DELETE", TEAM),
    ("GET", MEMBERS), ("GET", MEMBER), ("POST", SIGN_IN),
    ("GET", DEAD_LETTERS), ("POST", REQUEUE), ("DELETE", DEAD_LETTER),
    ("GET", WEBHOOK), ("PUT", WEBHOOK), ("DELETE", WEBHOOK), ("POST", ROTATE_SECRET),
    ("GET", EVENTS),
]
PROBE = {"id": "x0", "key": "p0"}
# The operations that read a body (PATCH settings also takes application/merge-patch+json).
BODY_OPERATIONS = [
    ("PATCH", SETTINGS), ("PUT", ROLES), ("POST", MAPPINGS), ("POST", WORKSPACES), ("PUT", PROJECT),
    ("POST", TEAMS), ("PATCH", TEAM), ("PUT", WEBHOOK),
]
INSUFFICIENT_SCOPE = 'Bearer realm="scimgate-admin", error="insufficient_scope", scope="admin"'
DEFAULT_ROLES = ["owner", "admin", "manager", "reviewer", "annotator", "reader"]
SETTINGS_DEFAULTS = {
    "uniqueIdentifier": "email", "deleteBehaviour": "deactivate", "protectPreScimMembers": False,
    "strictSchema": False, "teamSync": False, "defaultInitialRole": "reader", "seatLimit": None,
    "activateOn": "provision",
}
JSON = {"Content-Type": "application/json"}
DEADLINE = 30  # seconds the worker gets to apply a change


def params_of(template: str, **given) -> dict:
    return {k: given.get(k, v) for k, v in PROBE.items() if "{" + k + "}" in template}


def request_token(server, client: dict, scope: str | None = None) -> requests.Response:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return requests.post(f"{server.base}/oauth/token", data=data,
                         auth=(client["client_id"], client["client_secret"]), timeout=5)


def access_token(server, client: dict, scope: str | None = None) -> str:
    r = request_token(server, client, scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def tenant_admin(api: Api, slug: str, scope: str = "admin", ask: str | None = "admin") -> Api:
    """An Api calling as a tenant admin of `slug`: a client registered with `scope`, and an
    access token asked for `ask` (None: no scope parameter)."""
    _, client = api.expect(201, "POST", CLIENTS, slug=slug, json_body={"name": "admin", "scope": scope},
                           valid_request=True)
    return Api(api.server, api.spec, token=access_token(api.server, client, ask))


def static_token(api: Api, slug: str) -> str:
    return api.expect(201, "POST", TOKENS, slug=slug)[1]["token"]


def scim_user(server, bearer: str, user_name: str, **extra) -> dict:
    r = scim(server, bearer, "POST", "/Users", {
        "schemas": [USER_SCHEMA], "userName": user_name,
        "emails": [{"value": user_name, "primary": True}], **extra,
    })
    assert r.status_code == 201, r.text
    return r.json()


def scim_group(server, bearer: str, name: str, members: list[str]) -> dict:
    r = scim(server, bearer, "POST", "/Groups", {
        "schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members],
    })
    assert r.status_code == 201, r.text
    return r.json()


def eventually(check, what: str, timeout: float = DEADLINE):
    """Calls `check` until it returns something truthy without failing an assertion."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = f"returned {result!r}"
        except AssertionError as e:
            last = str(e)
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}; last: {last}")
        time.sleep(0.2)


def synced_member(api: Api, slug: str, member_id: str) -> dict:
    """The member once the worker applied every change that concerns it."""
    def check():
        _, m = api.expect(200, "GET", MEMBER, slug=slug, id=member_id)
        return m if m["synced"] and m["access"] is not None else None
    return eventually(check, f"member {member_id} synced")


# --- callers ---------------------------------------------------------------------------------

def test_the_access_operations_are_documented_with_both_callers(spec):
    documented = {(m, t) for m, t, op in spec.operations() if "tenantAdminToken" in json.dumps(op.get("security", []))}
    assert documented == set(ACCESS_OPERATIONS)
    for method, template in ACCESS_OPERATIONS:
        op = spec.operation(method, template)
        assert op["security"] == [{"operatorToken": []}, {"tenantAdminToken": ["admin"]}]
        assert {"401", "403", "404", "429", "500"} <= set(op["responses"]), (method, template)
    scheme = spec.doc["components"]["securitySchemes"]["tenantAdminToken"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "admin" in scheme["flows"]["clientCredentials"]["scopes"]


def test_the_admin_scope_is_advertised_and_never_given_by_default(api, server, slug):
    meta = requests.get(f"{server.base}/.well-known/oauth-authorization-server", timeout=5).json()
    assert "admin" in meta["scopes_supported"]
    make_tenant(api, slug)
    _, plain = api.expect(201, "POST", CLIENTS, slug=slug, json_body={}, valid_request=True)
    assert plain["scope"] == "scim:read scim:write"
    r = request_token(server, plain, "admin")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope", r.text
    _, both = api.expect(201, "POST", CLIENTS, slug=slug,
                         json_body={"scope": "admin scim:write scim:read"}, valid_request=True)
    assert both["scope"] == "scim:read scim:write admin"
    # Without a scope parameter a client gets all of its scopes.
    assert request_token(server, both).json()["scope"] == "scim:read scim:write admin"
    _, only = api.expect(201, "POST", CLIENTS, slug=slug, json_body={"scope": "admin"}, valid_request=True)
    assert only["scope"] == "admin"
    assert api.expect(200, "GET", "/admin/v1/tenants/{slug}/clients/{client_id}", slug=slug,
                      client_id=only["client_id"])[1]["scope"] == "admin"


def test_a_tenant_admin_token_calls_every_access_operation_of_its_tenant(api, slug):
    make_tenant(api, slug)
    admin = tenant_admin(api, slug)
    # One call each that gets past the caller check: 2xx, or the 404 of a missing item.
    for method, template in ACCESS_OPERATIONS:
        kw = {}
        if (method, template) in BODY_OPERATIONS:
            kw = {"data": b"{}", "headers": JSON}
        resp, _ = admin.call(method, template, slug=slug, **params_of(template), **kw)
        assert resp.status_code not in (401, 403), (method, template, resp.text)
        if resp.status_code == 404:
            assert "no tenant" not in resp.json()["detail"], (method, template, resp.text)
    _, settings = admin.expect(200, "GET", SETTINGS, slug=slug)
    assert settings == SETTINGS_DEFAULTS


@pytest.mark.parametrize("scope, ask", [
    ("scim:read", None), ("scim:read scim:write", None), ("scim:read scim:write admin", "scim:read scim:write"),
])
def test_a_token_without_the_admin_scope_is_403_everywhere(api, slug, scope, ask):
    make_tenant(api, slug)
    scim_only = tenant_admin(api, slug, scope=scope, ask=ask)
    for method, template in ACCESS_OPERATIONS:
        resp, body = scim_only.expect(403, method, template, slug=slug, **params_of(template))
        assert resp.headers["WWW-Authenticate"] == INSUFFICIENT_SCOPE
        assert resp.headers["Cache-Control"] == "no-store"
        assert body["title"] == "Forbidden" and "admin" in body["detail"], body


def test_a_static_scim_token_never_carries_admin(api, slug):
    make_tenant(api, slug)
    static = Api(api.server, api.spec, token=static_token(api, slug))
    for method, template in (("GET", SETTINGS), ("GET", MEMBERS), ("PUT", WEBHOOK)):
        resp, _ = static.expect(403, method, template, slug=slug, **params_of(template))
        assert resp.headers["WWW-Authenticate"] == INSUFFICIENT_SCOPE


def test_an_admin_only_token_is_refused_by_scim(api, server, slug):
    make_tenant(api, slug)
    admin = tenant_admin(api, slug)
    r = scim(server, admin.token, "GET", "/Users")
    assert r.status_code == 403, r.text
    assert "insufficient_scope" in r.headers["WWW-Authenticate"]


def test_another_tenants_admin_token_is_404_everywhere(api, slug):
    make_tenant(api, slug)
    make_tenant(api, f"{slug}-other")
    other = tenant_admin(api, f"{slug}-other")
    for method, template in ACCESS_OPERATIONS:
        _, body = other.expect(404, method, template, slug=slug, **params_of(template))
        exact_problem(body, 404, "Not Found", f'no tenant with slug "{slug}"')
    # ... the same answer as for a tenant that does not exist.
    _, body = other.expect(404, "GET", SETTINGS, slug="no-such-tenant")
    exact_problem(body, 404, "Not Found", 'no tenant with slug "no-such-tenant"')


def test_every_access_path_is_404_for_an_unknown_tenant(api):
    for method, template in ACCESS_OPERATIONS:
        _, body = api.expect(404, method, template, slug="no-such-tenant", **params_of(template))
        problem(body, 404, 'no tenant with slug "no-such-tenant"')


def test_a_tenant_admin_token_is_not_the_operator_credential(api, spec, slug):
    """The support staff's operations stay operator-only: a tenant admin's token there is 401."""
    make_tenant(api, slug)
    admin = tenant_admin(api, slug, scope="scim:read scim:write admin")
    count = 0
    for method, template, op in spec.operations():
        if "security" in op:
            continue
        resp, body = admin.expect(401, method, template, slug=slug, client_id="sgc_0", token_id="t0")
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin", error="invalid_token"'
        count += 1
    assert count == 14


def test_invalid_access_tokens_are_401(api, server, slug):
    make_tenant(api, slug)
    _, client = api.expect(201, "POST", CLIENTS, slug=slug, json_body={"scope": "admin"}, valid_request=True)
    token = access_token(server, client)
    admin = Api(server, api.spec, token=token)
    admin.expect(200, "GET", SETTINGS, slug=slug)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (tampered, "not-a-jwt", token + "x"):
        resp, body = admin.expect(401, "GET", SETTINGS, slug=slug, token=bad)
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin", error="invalid_token"'
        assert body["title"] == "Unauthorized"
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        resp, _ = admin.expect(401, "GET", SETTINGS, slug=slug, token=None, headers=headers)
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin"'
    # A revoked client's tokens stop at once.
    api.expect(200, "POST", "/admin/v1/tenants/{slug}/clients/{client_id}/revoke", slug=slug,
               client_id=client["client_id"])
    resp, _ = admin.expect(401, "GET", SETTINGS, slug=slug)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin", error="invalid_token"'


# Methods the access paths do not have: 405 problems, before any credential is looked at.
UNDOCUMENTED_METHODS = [
    ("DELETE", SETTINGS), ("POST", ROLES), ("DELETE", ROLES), ("PUT", MAPPINGS), ("GET", MAPPING),
    ("PATCH", MAPPING), ("PUT", WORKSPACES), ("GET", WORKSPACE), ("POST", PROJECTS), ("GET", PROJECT),
    ("PUT", TEAMS), ("POST", TEAM), ("PUT", TEAM), ("POST", MEMBERS), ("PATCH", MEMBER), ("GET", SIGN_IN),
    ("POST", DEAD_LETTERS), ("GET", REQUEUE), ("GET", DEAD_LETTER), ("POST", WEBHOOK), ("PATCH", WEBHOOK),
    ("GET", ROTATE_SECRET), ("POST", EVENTS), ("HEAD", EVENTS), ("DELETE", EVENTS),
]


@pytest.mark.parametrize("token", [None, OPERATOR_TOKEN])
def test_a_method_a_path_does_not_have_is_405(api, server, spec, token):
    documented = {(m, t) for m, t, _ in spec.operations()}
    for method, template in UNDOCUMENTED_METHODS:
        assert (method, template) not in documented
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(method, api.url(template, slug="no-such-tenant", **params_of(template)),
                             headers=headers, timeout=5)
        assert r.status_code == 405, (method, template, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/problem+json"
        if method != "HEAD":
            assert r.json()["title"] == "Method Not Allowed"


# --- bodies ----------------------------------------------------------------------------------

@pytest.fixture
def tenant(api, slug):
    make_tenant(api, slug)
    return slug


def body_params(api, slug) -> dict:
    """Path parameters that exist, so a body is what is refused."""
    _, team = api.expect(201, "POST", TEAMS, slug=slug, json_body={"name": "body-probe"}, valid_request=True)
    return {"id": team["id"], "key": "body-probe"}


def test_bodies_over_64_kib_are_413(new_server, spec, slug):
    # A server of its own, and retries on a reset: see
    # test_a_body_over_64_kib_is_answered_not_reset (the busier the server, the likelier the
    # reset: on the shared one nearly every attempt is reset).
    api = Api(new_server(), spec)
    make_tenant(api, slug)
    tenant = slug
    existing = body_params(api, tenant)
    for method, template in BODY_OPERATIONS:
        for attempt in range(60):
            try:
                resp, body = api.expect(413, method, template, slug=tenant, data=BIG, headers=JSON,
                                        **params_of(template, **existing))
                break
            except requests.ConnectionError:
                api.http = requests.Session()
        else:
            pytest.fail(f"{method} {template}: every attempt was reset")
        assert body == "payload reached size limit"


def test_a_body_over_64_kib_is_answered_not_reset(api, tenant):
    """The 413 must reach the client. On the access operations the body extractor fails while
    the caller check is still waiting on the database; dropping that check panics the worker
    (diesel-async's SyncConnectionWrapper: "can call blocking only when running on the
    multi-threaded runtime") and the connection is reset instead of answered."""
    resets = 0
    for _ in range(20):
        try:
            r = requests.patch(api.url(SETTINGS, slug=tenant), data=BIG, timeout=5,
                               headers={**JSON, "Authorization": f"Bearer {api.token}"})
            assert r.status_code == 413
        except requests.ConnectionError:
            resets += 1
    assert resets == 0, f"{resets} of 20 requests were reset instead of answered 413"


@pytest.mark.parametrize("raw, detail", [
    (b"[]", NOT_AN_OBJECT), (b"null", NOT_AN_OBJECT), (b"7", NOT_AN_OBJECT), (b'"x"', NOT_AN_OBJECT),
    (b"not json", "invalid JSON body"), (b'{"name":', "invalid JSON body"),
])
def test_bodies_must_be_json_objects(api, tenant, raw, detail):
    existing = body_params(api, tenant)
    for method, template in BODY_OPERATIONS:
        _, body = api.expect(400, method, template, slug=tenant, data=raw, headers=JSON,
                             **params_of(template, **existing))
        problem(body, 400, detail)


def test_unknown_members_are_400_everywhere(api, tenant):
    existing = body_params(api, tenant)
    bodies = {
        SETTINGS: {"teamSync": True, "colour": "red"},
        ROLES: {"roles": [{"key": "a"}], "extra": 1},
        MAPPINGS: {"group": "g", "kind": "role", "role": "admin", "extra": 1},
        WORKSPACES: {"name": "w", "extra": 1},
        PROJECT: {"name": "p", "extra": 1},
        TEAMS: {"name": "t", "extra": 1},
        TEAM: {"extra": 1},
        WEBHOOK: {"url": "https://example.com/h", "extra": 1},
    }
    for method, template in BODY_OPERATIONS:
        _, body = api.expect(400, method, template, slug=tenant, json_body=bodies[template],
                             valid_request=False, **params_of(template, **existing))
        problem(body, 400, "unknown field")
    # Nothing was changed.
    assert api.expect(200, "GET", SETTINGS, slug=tenant)[1] == SETTINGS_DEFAULTS


# --- settings --------------------------------------------------------------------------------

def test_settings_show_the_eight_settings_like_the_tenant(api, tenant):
    _, settings = api.expect(200, "GET", SETTINGS, slug=tenant)
    assert settings == SETTINGS_DEFAULTS
    assert api.expect(200, "GET", "/admin/v1/tenants/{slug}", slug=tenant)[1]["settings"] == settings


def test_settings_are_a_merge_patch(api, tenant):
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"seatLimit": 5, "activateOn": "first_sign_in"},
                          valid_request=True)
    assert after == {**SETTINGS_DEFAULTS, "seatLimit": 5, "activateOn": "first_sign_in"}
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={}, valid_request=True)
    assert after["seatLimit"] == 5
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"seatLimit": None}, valid_request=True)
    assert after["seatLimit"] is None and after["activateOn"] == "first_sign_in"
    every = {
        "uniqueIdentifier": "userName", "deleteBehaviour": "remove", "protectPreScimMembers": True,
        "strictSchema": True, "teamSync": True, "defaultInitialRole": "annotator", "seatLimit": 0,
        "activateOn": "provision",
    }
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body=every, valid_request=True)
    assert after == every
    assert api.expect(200, "GET", SETTINGS, slug=tenant)[1] == every
    assert api.expect(200, "GET", "/admin/v1/tenants/{slug}", slug=tenant)[1]["settings"] == every


def test_settings_take_the_merge_patch_media_type(api, tenant):
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, data=json.dumps({"seatLimit": 9}),
                          headers={"Content-Type": "application/merge-patch+json"})
    assert after["seatLimit"] == 9


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"teamSync": "yes"}, "invalid type", True),
    ({"seatLimit": -1}, "-1", True),
    ({"seatLimit": 1.5}, "invalid type", True),
    ({"seatLimit": "5"}, "invalid type", True),
    ({"defaultInitialRole": "nope"}, "nope", False),
    ({"defaultInitialRole": "deactivated"}, "deactivated", False),
    ({"defaultInitialRole": ""}, "defaultInitialRole", True),
    ({"uniqueIdentifier": "EMAIL"}, "unknown variant", True),
    ({"activateOn": "login"}, "unknown variant", True),
    ({"teamSync": True, "seatLimit": -5}, "-5", True),
])
def test_invalid_settings_are_400(api, tenant, payload, detail, schema_says_invalid):
    _, body = api.expect(400, "PATCH", SETTINGS, slug=tenant, json_body=payload, valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert api.expect(200, "GET", SETTINGS, slug=tenant)[1] == SETTINGS_DEFAULTS


def test_null_changes_nothing_but_the_seat_limit(api, tenant):
    api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"teamSync": True, "seatLimit": 4}, valid_request=True)
    nulls = {k: None for k in SETTINGS_DEFAULTS}
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body=nulls, valid_request=True)
    assert after == {**SETTINGS_DEFAULTS, "teamSync": True}


def test_the_unique_identifier_changes_only_without_members(api, server, tenant):
    scim_user(server, static_token(api, tenant), f"ann@{tenant}.example")
    _, body = api.expect(409, "PATCH", SETTINGS, slug=tenant, json_body={"uniqueIdentifier": "userName"},
                         valid_request=True)
    problem(body, 409, "uniqueIdentifier")
    # The same value is no change.
    api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"uniqueIdentifier": "email", "strictSchema": True},
               valid_request=True)
    assert api.expect(200, "GET", SETTINGS, slug=tenant)[1]["uniqueIdentifier"] == "email"


def test_the_default_role_must_be_in_the_catalogue(api, tenant):
    api.expect(200, "PUT", ROLES, slug=tenant, json_body={"roles": [{"key": "boss"}, {"key": "reader"}]},
               valid_request=True)
    _, body = api.expect(400, "PATCH", SETTINGS, slug=tenant, json_body={"defaultInitialRole": "manager"},
                         valid_request=True)
    problem(body, 400, "manager")
    _, after = api.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"defaultInitialRole": "boss"},
                          valid_request=True)
    assert after["defaultInitialRole"] == "boss"


# --- role catalogue --------------------------------------------------------------------------

def test_the_default_catalogue(api, tenant):
    _, cat = api.expect(200, "GET", ROLES, slug=tenant)
    assert [r["key"] for r in cat["roles"]] == DEFAULT_ROLES
    assert cat["customRoles"] == []


def test_put_replaces_the_catalogue(api, tenant):
    new = {
        "roles": [{"key": "owner", "name": "Owner"}, {"key": "editor", "description": "Edits"}, {"key": "reader"}],
        "customRoles": [{"key": "flag-editor", "name": "Flag editor"}, {"key": "a.b_c-1"}],
    }
    _, cat = api.expect(200, "PUT", ROLES, slug=tenant, json_body=new, valid_request=True)
    assert cat == new
    assert api.expect(200, "GET", ROLES, slug=tenant)[1] == new
    # customRoles is optional: none.
    _, cat = api.expect(200, "PUT", ROLES, slug=tenant, json_body={"roles": [{"key": "reader"}]}, valid_request=True)
    assert cat == {"roles": [{"key": "reader"}], "customRoles": []}


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"roles": []}, "at least one", True),
    ({}, "missing field `roles`", True),
    ({"roles": [{"key": "Admin"}]}, "Admin", True),
    ({"roles": [{"key": ""}]}, "not valid", True),
    ({"roles": [{"key": "-x"}]}, "-x", True),
    ({"roles": [{"key": "x" * 65}]}, "not valid", True),
    ({"roles": [{"key": "reader"}, {"key": "deactivated"}]}, "deactivated", True),
    ({"roles": [{"key": "reader"}], "customRoles": [{"key": "inherit"}]}, "inherit", True),
    ({"roles": [{"key": "not_activated"}, {"key": "reader"}]}, "not_activated", True),
    ({"roles": [{"key": "reader"}, {"key": "reader"}]}, "twice", False),
    ({"roles": [{"key": "reader"}], "customRoles": [{"key": "reader"}]}, "twice", False),
    ({"roles": ["reader"]}, "invalid type", True),
    ({"roles": [{"name": "Reader"}]}, "missing field `key`", True),
])
def test_invalid_catalogues_are_400(api, tenant, payload, detail, schema_says_invalid):
    _, body = api.expect(400, "PUT", ROLES, slug=tenant, json_body=payload, valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert [r["key"] for r in api.expect(200, "GET", ROLES, slug=tenant)[1]["roles"]] == DEFAULT_ROLES


def test_a_role_in_use_cannot_be_removed(api, tenant):
    # The default initial role (reader).
    _, body = api.expect(409, "PUT", ROLES, slug=tenant, json_body={"roles": [{"key": "owner"}]}, valid_request=True)
    problem(body, 409, "reader")
    assert "default" in body["detail"], body
    # A role mapping's role.
    api.expect(201, "POST", MAPPINGS, slug=tenant, json_body={"group": "Ops", "kind": "role", "role": "manager"},
               valid_request=True)
    _, body = api.expect(409, "PUT", ROLES, slug=tenant,
                         json_body={"roles": [{"key": "owner"}, {"key": "reader"}]}, valid_request=True)
    problem(body, 409, "manager")
    assert "Ops" in body["detail"], body
    # A team's custom role.
    keep = [{"key": k} for k in DEFAULT_ROLES]
    api.expect(200, "PUT", ROLES, slug=tenant, json_body={"roles": keep, "customRoles": [{"key": "flag-editor"}]},
               valid_request=True)
    api.expect(201, "POST", TEAMS, slug=tenant, json_body={"name": "Flags", "customRoles": ["flag-editor"]},
               valid_request=True)
    _, body = api.expect(409, "PUT", ROLES, slug=tenant, json_body={"roles": keep}, valid_request=True)
    problem(body, 409, "flag-editor")
    assert "Flags" in body["detail"], body
    assert api.expect(200, "GET", ROLES, slug=tenant)[1]["customRoles"] == [{"key": "flag-editor"}]


# --- mappings, workspaces, projects ----------------------------------------------------------

def test_mappings_of_each_kind(api, tenant):
    api.expect(201, "PUT", PROJECT, slug=tenant, key="proj-1", json_body={"name": "One"}, valid_request=True)
    made = {}
    for payload in (
        {"group": "Engineering", "kind": "role", "role": "admin"},
        {"group": "Contractors", "kind": "role", "role": "deactivated"},
        {"group": "Engineering", "kind": "workspace", "workspace": "Research"},
        {"group": "Engineering", "kind": "project", "project": "proj-1", "role": "reviewer"},
        {"group": "Sales", "kind": "project", "project": "proj-1", "role": "inherit"},
    ):
        resp, m = api.expect(201, "POST", MAPPINGS, slug=tenant, json_body=payload, valid_request=True)
        assert resp.headers["Location"] == f"/admin/v1/tenants/{tenant}/mappings/{m['id']}"
        assert m["group"] == payload["group"] and m["kind"] == payload["kind"]
        assert m["groupId"] is None  # no such group pushed yet
        assert near(ts(m["created"]), now())
        made[(payload["group"], payload["kind"])] = m
    ws = made[("Engineering", "workspace")]
    assert ws["workspace"] == "Research" and "role" not in ws and "project" not in ws
    _, workspaces = api.expect(200, "GET", WORKSPACES, slug=tenant)
    assert [(w["id"], w["name"]) for w in workspaces["workspaces"]] == [(ws["workspaceId"], "Research")]
    assert made[("Sales", "project")]["role"] == "inherit"
    assert "workspaceId" not in made[("Engineering", "role")]

    _, listed = api.expect(200, "GET", MAPPINGS, slug=tenant)
    assert sorted(m["id"] for m in listed["mappings"]) == sorted(m["id"] for m in made.values())
    problem(api.expect(400, "GET", MAPPINGS, slug=tenant, query={"kind": ""})[1], 400, "kind must be")
    for kind, n in (("role", 2), ("workspace", 1), ("project", 2)):
        _, only = api.expect(200, "GET", MAPPINGS, slug=tenant, query={"kind": kind})
        assert [m["kind"] for m in only["mappings"]] == [kind] * n

    mid = made[("Sales", "project")]["id"]
    api.expect(204, "DELETE", MAPPING, slug=tenant, id=mid)
    _, body = api.expect(404, "DELETE", MAPPING, slug=tenant, id=mid)
    problem(body, 404)
    assert mid not in [m["id"] for m in api.expect(200, "GET", MAPPINGS, slug=tenant)[1]["mappings"]]


@pytest.mark.parametrize("kind", ["roles", "ROLE", "team", " role"])
def test_a_bad_kind_filter_is_400(api, tenant, kind):
    _, body = api.expect(400, "GET", MAPPINGS, slug=tenant, query={"kind": kind})
    problem(body, 400)


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"group": "G", "kind": "role"}, "role", True),
    ({"kind": "role", "role": "admin"}, "group", True),
    ({"group": "G", "role": "admin"}, "kind", True),
    ({"group": "G", "kind": "team", "role": "admin"}, "team", True),
    ({"group": "", "kind": "role", "role": "admin"}, "group", True),
    ({"group": "   ", "kind": "role", "role": "admin"}, "group", True),
    ({"group": "G", "kind": "role", "role": "wizard"}, "wizard", False),
    ({"group": "G", "kind": "role", "role": "inherit"}, "inherit", False),
    ({"group": "G", "kind": "project", "project": "nope", "role": "reviewer"}, "nope", False),
    ({"group": "G", "kind": "project", "project": "p", "role": "deactivated"}, "deactivated", False),
    ({"group": "G", "kind": "project", "project": "p"}, "role", True),
    ({"group": "G", "kind": "workspace"}, "workspace", True),
    ({"group": "G", "kind": "workspace", "workspace": ""}, "workspace", True),
    ({"group": 5, "kind": "role", "role": "admin"}, "invalid type", True),
    ({"group": "G", "kind": "role", "role": "admin", "workspace": "W"}, "workspace", True),
    ({"group": "G", "kind": "workspace", "workspace": "W", "role": "admin"}, "role", True),
    ({"group": "G", "kind": "project", "project": "p", "role": "reviewer", "workspace": "W"}, "workspace", True),
    ({"group": "x" * 201, "kind": "role", "role": "admin"}, "200", False),
])
def test_invalid_mappings_are_400(api, tenant, payload, detail, schema_says_invalid):
    api.expect(201, "PUT", PROJECT, slug=tenant, key="p", json_body={"name": "P"}, valid_request=True)
    _, body = api.expect(400, "POST", MAPPINGS, slug=tenant, json_body=payload, valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert api.expect(200, "GET", MAPPINGS, slug=tenant)[1] == {"mappings": []}


def test_a_group_has_one_role_mapping_and_no_duplicates(api, tenant):
    first = {"group": "Engineering", "kind": "role", "role": "admin"}
    api.expect(201, "POST", MAPPINGS, slug=tenant, json_body=first, valid_request=True)
    for again in (first, {"group": "Engineering", "kind": "role", "role": "reader"},
                  {"group": "engineering", "kind": "role", "role": "reader"}):
        _, body = api.expect(409, "POST", MAPPINGS, slug=tenant, json_body=again, valid_request=True)
        problem(body, 409)
    ws = {"group": "Engineering", "kind": "workspace", "workspace": "Research"}
    api.expect(201, "POST", MAPPINGS, slug=tenant, json_body=ws, valid_request=True)
    _, body = api.expect(409, "POST", MAPPINGS, slug=tenant, json_body=ws, valid_request=True)
    problem(body, 409)
    # More workspace mappings are fine.
    api.expect(201, "POST", MAPPINGS, slug=tenant, json_body={**ws, "workspace": "Labs"}, valid_request=True)
    assert len(api.expect(200, "GET", MAPPINGS, slug=tenant)[1]["mappings"]) == 3


def test_workspaces_are_unique_by_name_regardless_of_case(api, tenant):
    resp, ws = api.expect(201, "POST", WORKSPACES, slug=tenant, json_body={"name": "Research"}, valid_request=True)
    assert resp.headers["Location"] == f"/admin/v1/tenants/{tenant}/workspaces/{ws['id']}"
    assert ws["name"] == "Research" and near(ts(ws["created"]), now())
    resp, same = api.expect(200, "POST", WORKSPACES, slug=tenant, json_body={"name": "RESEARCH"}, valid_request=True)
    assert same == ws
    assert "Location" not in resp.headers
    api.expect(201, "POST", WORKSPACES, slug=tenant, json_body={"name": "x" * 200}, valid_request=True)
    _, listed = api.expect(200, "GET", WORKSPACES, slug=tenant)
    assert {w["name"] for w in listed["workspaces"]} == {"Research", "x" * 200}


@pytest.mark.parametrize("payload, schema_says_invalid", [
    ({"name": ""}, True), ({"name": "   "}, True), ({"name": "x" * 201}, False), ({}, True), ({"name": 3}, True),
    ({"name": "bell\u0007"}, False),
])
def test_invalid_workspaces_are_400(api, tenant, payload, schema_says_invalid):
    _, body = api.expect(400, "POST", WORKSPACES, slug=tenant, json_body=payload, valid_request=not schema_says_invalid)
    problem(body, 400)
    assert api.expect(200, "GET", WORKSPACES, slug=tenant)[1] == {"workspaces": []}


def test_deleting_a_workspace_deletes_its_mappings(api, tenant):
    _, m = api.expect(201, "POST", MAPPINGS, slug=tenant,
                      json_body={"group": "Eng", "kind": "workspace", "workspace": "Research"}, valid_request=True)
    api.expect(204, "DELETE", WORKSPACE, slug=tenant, id=m["workspaceId"])
    assert api.expect(200, "GET", MAPPINGS, slug=tenant)[1] == {"mappings": []}
    assert api.expect(200, "GET", WORKSPACES, slug=tenant)[1] == {"workspaces": []}
    _, body = api.expect(404, "DELETE", WORKSPACE, slug=tenant, id=m["workspaceId"])
    problem(body, 404)


def test_projects_are_registered_and_updated(api, tenant):
    _, ws = api.expect(201, "POST", WORKSPACES, slug=tenant, json_body={"name": "Research"}, valid_request=True)
    _, p = api.expect(201, "PUT", PROJECT, slug=tenant, key="proj 42 é", json_body={"name": "Invoices"},
                      valid_request=True)
    assert p["key"] == "proj 42 é" and p["name"] == "Invoices" and p["workspaceId"] is None
    assert near(ts(p["created"]), now())
    _, q = api.expect(200, "PUT", PROJECT, slug=tenant, key="proj 42 é",
                      json_body={"name": "Bills", "workspaceId": ws["id"]}, valid_request=True)
    assert q == {**p, "name": "Bills", "workspaceId": ws["id"]}
    _, q = api.expect(200, "PUT", PROJECT, slug=tenant, key="proj 42 é", json_body={"name": "Bills", "workspaceId": None},
                      valid_request=True)
    assert q["workspaceId"] is None
    api.expect(201, "PUT", PROJECT, slug=tenant, key="k" * 200, json_body={"name": "Long"}, valid_request=True)
    _, listed = api.expect(200, "GET", PROJECTS, slug=tenant)
    assert [x["key"] for x in listed["projects"]] == ["k" * 200, "proj 42 é"]
    api.expect(204, "DELETE", PROJECT, slug=tenant, key="proj 42 é")
    _, body = api.expect(404, "DELETE", PROJECT, slug=tenant, key="proj 42 é")
    problem(body, 404)
    assert [x["key"] for x in api.expect(200, "GET", PROJECTS, slug=tenant)[1]["projects"]] == ["k" * 200]


def test_a_project_key_is_counted_in_characters(api, tenant):
    """The contract: keys are 1 to 200 characters (not bytes)."""
    key = "é" * 200
    _, p = api.expect(201, "PUT", PROJECT, slug=tenant, key=key, json_body={"name": "Accents"}, valid_request=True)
    assert p["key"] == key


@pytest.mark.parametrize("key, payload, schema_says_invalid", [
    (" lead", {"name": "P"}, False), ("trail ", {"name": "P"}, False), ("a/b", {"name": "P"}, False),
    ("tab\there", {"name": "P"}, False), ("k" * 201, {"name": "P"}, False),
    ("ok", {"name": ""}, True), ("ok", {"name": "  "}, True), ("ok", {}, True),
    ("ok", {"name": "P", "workspaceId": "no-such-workspace"}, False),
])
def test_invalid_projects_are_400(api, tenant, key, payload, schema_says_invalid):
    _, body = api.expect(400, "PUT", PROJECT, slug=tenant, key=key, json_body=payload,
                         valid_request=not schema_says_invalid)
    problem(body, 400)
    assert api.expect(200, "GET", PROJECTS, slug=tenant)[1] == {"projects": []}


# --- teams -----------------------------------------------------------------------------------

def test_teams_made_here(api, server, tenant):
    bearer = static_token(api, tenant)
    ann = scim_user(server, bearer, f"ann@{tenant}.example")["id"]
    bob = scim_user(server, bearer, f"bob@{tenant}.example")["id"]
    keep = [{"key": k} for k in DEFAULT_ROLES]
    api.expect(200, "PUT", ROLES, slug=tenant, json_body={"roles": keep, "customRoles": [{"key": "flag-editor"}, {"key": "ops"}]},
               valid_request=True)
    resp, team = api.expect(201, "POST", TEAMS, slug=tenant, valid_request=True, json_body={
        "name": "Platform", "description": "Runs it", "customRoles": ["flag-editor"], "maintainers": [ann],
        "members": [ann, bob],
    })
    assert resp.headers["Location"] == f"/admin/v1/tenants/{tenant}/teams/{team['id']}"
    assert team["name"] == "Platform" and team["description"] == "Runs it"
    assert team["customRoles"] == ["flag-editor"] and team["maintainers"] == [ann]
    assert sorted(team["members"]) == sorted([ann, bob])
    assert team["synced"] is False and team["groupId"] is None
    assert api.expect(200, "GET", TEAM, slug=tenant, id=team["id"])[1] == team
    _, bare = api.expect(201, "POST", TEAMS, slug=tenant, json_body={"name": " Bare ", "description": "  "},
                         valid_request=True)
    assert (bare["name"], bare["description"], bare["customRoles"], bare["maintainers"], bare["members"]) == (
        "Bare", None, [], [], [])
    # Members may be named by their unique identifier (the email here); they are stored as ids.
    _, by_email = api.expect(201, "POST", TEAMS, slug=tenant, valid_request=True, json_body={
        "name": "By email", "members": [f"ann@{tenant}.example", ann], "customRoles": ["ops", "flag-editor", "ops"]})
    assert by_email["members"] == [ann] and by_email["customRoles"] == ["flag-editor", "ops"]
    api.expect(204, "DELETE", TEAM, slug=tenant, id=by_email["id"])
    _, listed = api.expect(200, "GET", TEAMS, slug=tenant)
    assert sorted(t["name"] for t in listed["teams"]) == ["Bare", "Platform"]

    _, body = api.expect(409, "POST", TEAMS, slug=tenant, json_body={"name": "Platform"}, valid_request=True)
    problem(body, 409)

    _, changed = api.expect(200, "PATCH", TEAM, slug=tenant, id=team["id"], valid_request=True,
                            json_body={"name": "Platform 2", "members": [bob], "customRoles": ["ops"], "description": None})
    assert changed["name"] == "Platform 2" and changed["members"] == [bob] and changed["customRoles"] == ["ops"]
    assert changed["description"] is None and changed["maintainers"] == [ann]
    assert changed["version"] > team["version"] and changed["created"] == team["created"]
    _, body = api.expect(409, "PATCH", TEAM, slug=tenant, id=team["id"], json_body={"name": "Bare"}, valid_request=True)
    problem(body, 409)

    # Custom roles and teams reach the members' effective access.
    def bob_has_ops():
        access = synced_member(api, tenant, bob)["access"]
        return "ops" in access["customRoles"] and team["id"] in access["teams"]
    eventually(bob_has_ops, "bob gets the team's custom role")

    api.expect(204, "DELETE", TEAM, slug=tenant, id=team["id"])
    for method in ("GET", "PATCH", "DELETE"):
        kw = {"json_body": {"description": "x"}} if method == "PATCH" else {}
        _, body = api.expect(404, method, TEAM, slug=tenant, id=team["id"], **kw)
        problem(body, 404)


# (body, detail, whether the document's schema refuses it too): as POST and PATCH bodies.
INVALID_TEAM_MEMBERS = [
    ({"name": ""}, "name", True),
    ({"name": "   "}, "name", True),
    ({"customRoles": ["nope"]}, "nope", False),
    ({"customRoles": ["admin"]}, "admin", False),
    ({"members": ["no-such-member"]}, "no-such-member", False),
    ({"maintainers": ["no-such-member"]}, "no-such-member", False),
    ({"members": "x"}, "invalid type", True),
    ({"description": 5}, "invalid type", True),
    ({"name": "x" * 201}, "name", False),
    ({"description": "d" * 2001}, "description", False),
]


@pytest.mark.parametrize("payload, detail, schema_says_invalid", INVALID_TEAM_MEMBERS)
def test_invalid_teams_are_400(api, tenant, payload, detail, schema_says_invalid):
    _, body = api.expect(400, "POST", TEAMS, slug=tenant, json_body={"name": "T", **payload},
                         valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert api.expect(200, "GET", TEAMS, slug=tenant)[1] == {"teams": []}
    _, body = api.expect(400, "POST", TEAMS, slug=tenant, json_body={"description": "no name"}, valid_request=False)
    problem(body, 400, "name")


@pytest.mark.parametrize("payload, detail, schema_says_invalid", INVALID_TEAM_MEMBERS)
def test_invalid_team_changes_are_400(api, tenant, payload, detail, schema_says_invalid):
    _, team = api.expect(201, "POST", TEAMS, slug=tenant, json_body={"name": "Fine"}, valid_request=True)
    _, body = api.expect(400, "PATCH", TEAM, slug=tenant, id=team["id"], json_body=payload,
                         valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert api.expect(200, "GET", TEAM, slug=tenant, id=team["id"])[1] == team


# --- members ---------------------------------------------------------------------------------

def test_members_are_listed_paged_and_filtered(api, server, tenant):
    bearer = static_token(api, tenant)
    users = [scim_user(server, bearer, f"u{i}@{tenant}.example", externalId=f"ext-{i}") for i in range(3)]
    _, page = api.expect(200, "GET", MEMBERS, slug=tenant)
    assert page["totalResults"] == 3 and page["startIndex"] == 1 and page["itemsPerPage"] == 3
    assert {m["id"] for m in page["members"]} == {u["id"] for u in users}
    one = next(m for m in page["members"] if m["id"] == users[0]["id"])
    assert one["userName"] == users[0]["userName"] and one["externalId"] == "ext-0"
    assert one["active"] is True and one["state"] == "active" and one["firstSignIn"] is None

    _, page = api.expect(200, "GET", MEMBERS, slug=tenant, query={"startIndex": 2, "count": 1})
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"], len(page["members"])) == (3, 2, 1, 1)
    _, page = api.expect(200, "GET", MEMBERS, slug=tenant, query={"count": 200})
    assert page["itemsPerPage"] == 3
    _, page = api.expect(200, "GET", MEMBERS, slug=tenant, query={"filter": f'userName eq "{users[1]["userName"]}"'})
    assert [m["id"] for m in page["members"]] == [users[1]["id"]]
    assert page["totalResults"] == 1

    for query in ({"filter": "userName eq"}, {"filter": "nope pr x and"}, {"filter": "(("},
                  {"count": 201}, {"count": "abc"}, {"startIndex": "abc"}):
        _, body = api.expect(400, "GET", MEMBERS, slug=tenant, query=query)
        problem(body, 400)

    m = synced_member(api, tenant, users[2]["id"])
    assert m["access"]["state"] == "active" and m["access"]["role"] == "reader"
    assert m["access"]["roleSource"] == "default"
    for missing in ("no-such-member", "00000000-0000-7000-8000-000000000000"):
        _, body = api.expect(404, "GET", MEMBER, slug=tenant, id=missing)
        problem(body, 404)
        _, body = api.expect(404, "POST", SIGN_IN, slug=tenant, id=missing)
        problem(body, 404)


def test_another_tenants_member_is_404(api, server, slug):
    make_tenant(api, slug)
    make_tenant(api, f"{slug}-b")
    user = scim_user(server, static_token(api, slug), f"ann@{slug}.example")
    api.expect(200, "GET", MEMBER, slug=slug, id=user["id"])
    api.expect(404, "GET", MEMBER, slug=f"{slug}-b", id=user["id"])
    api.expect(404, "POST", SIGN_IN, slug=f"{slug}-b", id=user["id"])


def test_sign_in_is_recorded_once(api, server, tenant):
    user = scim_user(server, static_token(api, tenant), f"ann@{tenant}.example")
    _, m = api.expect(200, "POST", SIGN_IN, slug=tenant, id=user["id"])
    first = m["firstSignIn"]
    assert near(ts(first), now()) and m["state"] == "active"
    _, again = api.expect(200, "POST", SIGN_IN, slug=tenant, id=user["id"], data=b"ignored")
    assert again["firstSignIn"] == first


def test_activation_on_first_sign_in_and_the_seat_limit(api, server, tenant):
    admin = tenant_admin(api, tenant)
    admin.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"activateOn": "first_sign_in", "seatLimit": 1},
                 valid_request=True)
    bearer = static_token(api, tenant)
    ann = scim_user(server, bearer, f"ann@{tenant}.example")["id"]
    bob = scim_user(server, bearer, f"bob@{tenant}.example")["id"]
    for who in (ann, bob):
        m = synced_member(admin, tenant, who)
        assert m["state"] == "not_activated" and m["access"]["state"] == "not_activated", m
        assert m["firstSignIn"] is None
    _, m = admin.expect(200, "POST", SIGN_IN, slug=tenant, id=ann)
    assert m["state"] == "active" and m["firstSignIn"] is not None
    eventually(lambda: synced_member(admin, tenant, ann)["access"]["state"] == "active", "ann takes her seat")
    # Bob would be the second seat of one.
    _, body = admin.expect(409, "POST", SIGN_IN, slug=tenant, id=bob)
    problem(body, 409, "seat limit of 1 reached")
    _, m = admin.expect(200, "GET", MEMBER, slug=tenant, id=bob)
    assert m["state"] == "not_activated" and m["firstSignIn"] is None
    # Raising the limit lets him in.
    admin.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"seatLimit": 2}, valid_request=True)
    _, m = admin.expect(200, "POST", SIGN_IN, slug=tenant, id=bob)
    assert m["state"] == "active"


def test_deleting_a_deactivated_mapping_past_the_seat_limit_is_409(api, server, tenant):
    admin = tenant_admin(api, tenant)
    bearer = static_token(api, tenant)
    _, mapping = admin.expect(201, "POST", MAPPINGS, slug=tenant,
                              json_body={"group": "Offboarded", "kind": "role", "role": "deactivated"},
                              valid_request=True)
    ann = scim_user(server, bearer, f"ann@{tenant}.example")["id"]
    bob = scim_user(server, bearer, f"bob@{tenant}.example")["id"]
    scim_group(server, bearer, "Offboarded", [bob])
    eventually(lambda: synced_member(admin, tenant, bob)["access"]["state"] == "deactivated", "bob is out")
    synced_member(admin, tenant, ann)
    # Ann takes the one seat; without the mapping Bob would take a second.
    admin.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"seatLimit": 1}, valid_request=True)
    _, body = admin.expect(409, "DELETE", MAPPING, slug=tenant, id=mapping["id"])
    problem(body, 409, "seat limit of 1 reached")
    _, mappings = admin.expect(200, "GET", MAPPINGS, slug=tenant)
    assert mapping["id"] in [m["id"] for m in mappings["mappings"]]
    # With room for him it goes, and Bob gets his access back.
    admin.expect(200, "PATCH", SETTINGS, slug=tenant, json_body={"seatLimit": 2}, valid_request=True)
    admin.expect(204, "DELETE", MAPPING, slug=tenant, id=mapping["id"])
    eventually(lambda: synced_member(admin, tenant, bob)["access"]["state"] == "active", "bob is back")


# --- the end-to-end flow ---------------------------------------------------------------------

def synced_team_of(admin: Api, slug: str, group: dict, members: list[str]) -> dict:
    def check():
        _, teams = admin.expect(200, "GET", TEAMS, slug=slug)
        synced = [t for t in teams["teams"] if t["groupId"] == group["id"]]
        assert synced, teams
        t = synced[0]
        assert t["synced"] is True and t["name"] == group["displayName"], t
        assert sorted(t["members"]) == sorted(members), t
        return t
    return eventually(check, f"the synced team of group {group['displayName']!r}")


def test_turning_team_sync_on_makes_teams_of_the_groups_already_pushed(api, server, slug):
    """The brief's order: the group is pushed and synced first, then team sync is turned on."""
    make_tenant(api, slug)
    admin = tenant_admin(api, slug)
    bearer = static_token(api, slug)
    ann = scim_user(server, bearer, f"ann@{slug}.example")["id"]
    group = scim_group(server, bearer, "Design", [ann])
    synced_member(admin, slug, ann)
    time.sleep(1)  # the group's own sync (no team: team sync is off)
    assert admin.expect(200, "GET", TEAMS, slug=slug)[1] == {"teams": []}
    admin.expect(200, "PATCH", SETTINGS, slug=slug, json_body={"teamSync": True}, valid_request=True)
    team = synced_team_of(admin, slug, group, [ann])
    eventually(lambda: team["id"] in synced_member(admin, slug, ann)["access"]["teams"], "ann is in the team")


def test_groups_mappings_and_team_sync_reach_the_members_access(api, server, slug):
    make_tenant(api, slug)
    admin = tenant_admin(api, slug, scope="admin")
    bearer = static_token(api, slug)
    ann = scim_user(server, bearer, f"ann@{slug}.example")["id"]
    bob = scim_user(server, bearer, f"bob@{slug}.example")["id"]
    carl = scim_user(server, bearer, f"carl@{slug}.example")["id"]

    # The host application registers a project; the tenant admin maps the group before the IdP
    # pushes it, and turns team sync on.
    admin.expect(201, "PUT", PROJECT, slug=slug, key="proj-1", json_body={"name": "Project One"}, valid_request=True)
    _, role_map = admin.expect(201, "POST", MAPPINGS, slug=slug, valid_request=True,
                               json_body={"group": "Engineering", "kind": "role", "role": "manager"})
    assert role_map["groupId"] is None
    _, body = admin.expect(409, "POST", MAPPINGS, slug=slug, valid_request=True,
                           json_body={"group": "Engineering", "kind": "role", "role": "admin"})
    problem(body, 409)
    _, ws_map = admin.expect(201, "POST", MAPPINGS, slug=slug, valid_request=True,
                             json_body={"group": "Engineering", "kind": "workspace", "workspace": "Research"})
    admin.expect(201, "POST", MAPPINGS, slug=slug, valid_request=True,
                 json_body={"group": "Engineering", "kind": "project", "project": "proj-1", "role": "reviewer"})
    _, settings = admin.expect(200, "PATCH", SETTINGS, slug=slug, json_body={"teamSync": True}, valid_request=True)
    assert settings["teamSync"] is True
    group = scim_group(server, bearer, "Engineering", [ann, bob])

    # The mappings bind to the pushed group; the worker applies them: role, workspace, project
    # role, and a synced team of the group.
    def bound():
        _, ms = admin.expect(200, "GET", MAPPINGS, slug=slug)
        return all(m["groupId"] == group["id"] for m in ms["mappings"]) and len(ms["mappings"]) == 3
    eventually(bound, "the mappings bind to the group")
    team = synced_team_of(admin, slug, group, [ann, bob])

    def access_applied(who):
        def check():
            m = synced_member(admin, slug, who)
            a = m["access"]
            assert a["role"] == "manager", a
            assert a["roleSource"] == "group"
            assert ws_map["workspaceId"] in a["workspaces"], a
            assert a["projects"].get("proj-1") == {"role": "reviewer", "via": "mapping"}, a
            assert team["id"] in a["teams"], a
            return m
        return eventually(check, f"{who}'s access follows the mappings")
    for who in (ann, bob):
        m = access_applied(who)
        assert m["access"]["state"] == "active"
    m = synced_member(admin, slug, carl)
    assert (m["access"]["role"], m["access"]["roleSource"], m["access"]["teams"]) == ("reader", "default", [])
    assert m["access"]["projects"] == {} and m["access"]["workspaces"] == []

    # A synced team: name and members belong to the IdP, the rest is editable here.
    for change in ({"name": "Renamed"}, {"members": [ann]}, {"name": "Renamed", "members": [ann]}):
        _, body = admin.expect(409, "PATCH", TEAM, slug=slug, id=team["id"], json_body=change, valid_request=True)
        problem(body, 409, "change only through the IdP")
    _, edited = admin.expect(200, "PATCH", TEAM, slug=slug, id=team["id"], valid_request=True,
                             json_body={"description": "Builds things", "maintainers": [ann]})
    assert edited["description"] == "Builds things" and edited["maintainers"] == [ann]
    assert edited["name"] == "Engineering" and edited["synced"] is True
    _, body = admin.expect(409, "DELETE", TEAM, slug=slug, id=team["id"])
    problem(body, 409)
    # While team sync is on, teams come from the IdP only.
    _, body = admin.expect(409, "POST", TEAMS, slug=slug, json_body={"name": "Handmade"}, valid_request=True)
    problem(body, 409)
    # The mapped role is in use.
    _, body = admin.expect(409, "PUT", ROLES, slug=slug, valid_request=True,
                           json_body={"roles": [{"key": k} for k in DEFAULT_ROLES if k != "manager"]})
    problem(body, 409, "manager")
    assert "Engineering" in body["detail"], body

    # The IdP's changes follow: carl joins the group.
    r = scim(server, bearer, "PATCH", f"/Groups/{group['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": carl}]}],
    })
    assert r.status_code in (200, 204), r.text
    eventually(lambda: sorted(admin.expect(200, "GET", TEAM, slug=slug, id=team["id"])[1]["members"])
               == sorted([ann, bob, carl]), "carl joins the synced team")
    access_applied(carl)

    # Team sync off: the team stays, unlinked and editable, with its members.
    admin.expect(200, "PATCH", SETTINGS, slug=slug, json_body={"teamSync": False}, valid_request=True)
    _, unlinked = admin.expect(200, "GET", TEAM, slug=slug, id=team["id"])
    assert unlinked["synced"] is False and unlinked["groupId"] is None
    assert sorted(unlinked["members"]) == sorted([ann, bob, carl])
    assert unlinked["description"] == "Builds things"
    _, renamed = admin.expect(200, "PATCH", TEAM, slug=slug, id=team["id"], valid_request=True,
                              json_body={"name": "Engineering (old)", "members": [ann]})
    assert renamed["name"] == "Engineering (old)" and renamed["members"] == [ann]
    _, handmade = admin.expect(201, "POST", TEAMS, slug=slug, json_body={"name": "Handmade"}, valid_request=True)

    # Deleting the role mapping: the group's members fall back to the default role.
    admin.expect(204, "DELETE", MAPPING, slug=slug, id=role_map["id"])
    eventually(lambda: synced_member(admin, slug, bob)["access"]["role"] == "reader", "bob falls back to reader")

    # What happened is in the events, newest first.
    _, events = admin.expect(200, "GET", EVENTS, slug=slug)
    types = [e["type"] for e in events["events"]]
    assert {"member.created", "access.changed", "team.created", "team.unlinked"} <= set(types), types
    created = [e["data"]["id"] for e in events["events"] if e["type"] == "member.created"]
    assert sorted(created) == sorted([ann, bob, carl])
    assert all(e["status"] == "undelivered" for e in events["events"])  # no webhook endpoint
    stamps = [e["created"] for e in events["events"]]
    assert stamps == sorted(stamps, reverse=True)
    # The synced team's events name it and its group; teams made or changed here have theirs.
    made = [e for e in events["events"] if e["type"] == "team.created"]
    assert sorted([(e["data"]["id"], e["data"]["groupId"]) for e in made], key=str) == sorted(
        [(team["id"], group["id"]), (handmade["id"], None)], key=str), made
    renamed_ev = [e for e in events["events"] if e["type"] == "team.updated" and e["data"].get("name") == "Engineering (old)"]
    assert [e["data"]["id"] for e in renamed_ev] == [team["id"]], renamed_ev
    assert team["id"] in [e["data"]["id"] for e in events["events"] if e["type"] == "team.unlinked"]


# --- events ----------------------------------------------------------------------------------

def test_events_are_paged_by_limit_and_before(api, server, tenant):
    bearer = static_token(api, tenant)
    users = [scim_user(server, bearer, f"e{i}@{tenant}.example")["id"] for i in range(3)]
    for u in users:
        synced_member(api, tenant, u)

    def three():
        _, ev = api.expect(200, "GET", EVENTS, slug=tenant)
        return ev if len([e for e in ev["events"] if e["type"] == "member.created"]) == 3 else None
    every = eventually(three, "three member.created events")["events"]
    for e in every:
        assert e["id"].startswith("msg_") and e["attempts"] == 0 and e["delivered"] is None
        assert e["lastError"] is None and e["status"] == "undelivered"
    _, page = api.expect(200, "GET", EVENTS, slug=tenant, query={"limit": 1})
    assert page["events"] == every[:1]
    _, page = api.expect(200, "GET", EVENTS, slug=tenant, query={"limit": 200, "before": every[0]["created"]})
    assert every[0]["id"] not in [e["id"] for e in page["events"]]
    assert all(e["created"] < every[0]["created"] for e in page["events"])
    for query in ({"limit": 0}, {"limit": 201}, {"limit": -1}, {"limit": "abc"}, {"before": "yesterday"},
                  {"before": "2026-13-01T00:00:00Z"}):
        _, body = api.expect(400, "GET", EVENTS, slug=tenant, query=query)
        problem(body, 400)


# --- webhook ---------------------------------------------------------------------------------

class Receiver:
    """A local webhook endpoint recording what it gets."""

    def __init__(self):
        self.got: list[tuple[dict, bytes]] = []
        received = self.got

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/scim"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def signed_with(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_") + "=" * (-len(secret.removeprefix("whsec_")) % 4))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(s.split(",", 1) == ["v1", expected] for s in headers["webhook-signature"].split())


def test_the_webhook_endpoint_and_its_secret(api, server, tenant):
    admin = tenant_admin(api, tenant)
    for method, template in (("GET", WEBHOOK), ("DELETE", WEBHOOK), ("POST", ROTATE_SECRET)):
        _, body = admin.expect(404, method, template, slug=tenant)
        problem(body, 404)
    receiver = Receiver()
    try:
        resp, hook = admin.expect(201, "PUT", WEBHOOK, slug=tenant, json_body={"url": receiver.url}, valid_request=True)
        secret = hook["secret"]
        assert secret.startswith("whsec_")
        assert hook["url"] == receiver.url and hook["enabled"] is True
        resp, shown = admin.expect(200, "GET", WEBHOOK, slug=tenant)
        assert shown == {k: v for k, v in hook.items() if k != "secret"}
        assert secret not in resp.text and "secret" not in shown

        # Events are POSTed there, signed with the secret.
        bearer = static_token(api, tenant)
        ann = scim_user(server, bearer, f"ann@{tenant}.example")["id"]
        first = eventually(lambda: [g for g in receiver.got if json.loads(g[1])["data"].get("id") == ann],
                           "the webhook gets ann's event")[0]
        assert signed_with(secret, *first)
        eventually(lambda: any(e["status"] == "delivered" and e["delivered"]
                               for e in admin.expect(200, "GET", EVENTS, slug=tenant)[1]["events"]),
                   "the event is delivered")

        # Replacing keeps the secret and does not show it.
        resp, replaced = admin.expect(200, "PUT", WEBHOOK, slug=tenant, json_body={"url": receiver.url, "enabled": True},
                                      valid_request=True)
        assert "secret" not in replaced and secret not in resp.text
        assert replaced["created"] == hook["created"]

        # Rotation: a new secret, shown once, signs what comes next.
        resp, rotated = admin.expect(200, "POST", ROTATE_SECRET, slug=tenant)
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
        assert "secret" not in admin.expect(200, "GET", WEBHOOK, slug=tenant)[1]
        bob = scim_user(server, bearer, f"bob@{tenant}.example")["id"]
        second = eventually(lambda: [g for g in receiver.got if json.loads(g[1])["data"].get("id") == bob],
                            "the webhook gets bob's event")[0]
        assert signed_with(rotated["secret"], *second)

        _, disabled = admin.expect(200, "PUT", WEBHOOK, slug=tenant, valid_request=True,
                                   json_body={"url": "https://hooks.example.com/scim?x=1", "enabled": False})
        assert disabled["enabled"] is False and disabled["url"] == "https://hooks.example.com/scim?x=1"
        admin.expect(204, "DELETE", WEBHOOK, slug=tenant)
        admin.expect(404, "GET", WEBHOOK, slug=tenant)
        # A new endpoint after a delete is new again: a new secret.
        _, again = admin.expect(201, "PUT", WEBHOOK, slug=tenant, json_body={"url": "https://[::1]/x"}, valid_request=True)
        assert again["secret"] not in (secret, rotated["secret"])
    finally:
        receiver.close()


def test_webhook_secrets_are_sent_with_no_store(api, tenant):
    """Like every other secret of this API, a webhook secret is never cached on the way."""
    resp, _ = api.expect(201, "PUT", WEBHOOK, slug=tenant, json_body={"url": "https://example.com/h"}, valid_request=True)
    assert resp.headers["Cache-Control"] == "no-store"
    resp, _ = api.expect(200, "POST", ROTATE_SECRET, slug=tenant)
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "ftp://example.com/hook", "/relative/hook", "example.com/hook", "not a url", "",
    "https://user:pw@example.com/hook", "https://example.com/hook#frag", "http://localhost.example.com/x",
])
def test_invalid_webhook_urls_are_400(api, tenant, url):
    _, body = api.expect(400, "PUT", WEBHOOK, slug=tenant, json_body={"url": url})
    problem(body, 400)
    api.expect(404, "GET", WEBHOOK, slug=tenant)


@pytest.mark.parametrize("url", ["http://localhost:9/x", "http://127.0.0.1/x", "http://[::1]:8080/x", "https://example.com"])
def test_webhook_urls_the_server_accepts(api, tenant, url):
    _, hook = api.expect(201, "PUT", WEBHOOK, slug=tenant, json_body={"url": url}, valid_request=True)
    assert hook["url"] in (url, url + "/")


# --- dead letters ----------------------------------------------------------------------------

def test_dead_letters_start_empty(api, tenant):
    admin = tenant_admin(api, tenant)
    _, body = admin.expect(200, "GET", DEAD_LETTERS, slug=tenant)
    assert body == {"deadLetters": []}
    for method, template in (("POST", REQUEUE), ("DELETE", DEAD_LETTER)):
        _, body = admin.expect(404, method, template, slug=tenant, id="no-such-letter")
        problem(body, 404)


def test_a_job_the_worker_gives_up_on_is_a_dead_letter(new_server, spec, slug):
    """A corrupt catalogue row (written behind the server's back) makes every sync of the
    tenant fail; with one attempt allowed, its jobs become dead letters at once."""
    server = new_server(SCIMGATE__SYNC__MAX_ATTEMPTS="1", SCIMGATE__SYNC__SWEEP_SECONDS="3600")
    api = Api(server, spec)
    tenant = make_tenant(api, slug)
    api.expect(200, "PUT", ROLES, slug=slug, json_body={"roles": [{"key": "reader"}]}, valid_request=True)
    bearer = static_token(api, slug)
    ann = scim_user(server, bearer, f"ann@{slug}.example")["id"]
    synced_member(api, slug, ann)
    with sqlite3.connect(server.workdir / "scimgate.db", timeout=10) as db:
        db.execute("UPDATE role_catalogues SET catalogue = 'not json' WHERE tenant_id = ?", (tenant["id"],))
    r = scim(server, bearer, "PATCH", f"/Users/{ann}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Ann"}],
    })
    assert r.status_code in (200, 204), r.text
    letters = eventually(lambda: api.expect(200, "GET", DEAD_LETTERS, slug=slug)[1]["deadLetters"], "a dead letter")
    letter = letters[0]
    assert letter["kind"] in ("member", "tenant") and letter["target"] in (ann, tenant["id"])
    assert "catalogue" in letter["error"] and letter["attempts"] >= 1
    assert near(ts(letter["failedAt"]), now())
    api.expect(204, "POST", REQUEUE, slug=slug, id=letter["id"])
    # It fails again (the row is still corrupt) and comes back as a new dead letter.
    again = eventually(lambda: [d for d in api.expect(200, "GET", DEAD_LETTERS, slug=slug)[1]["deadLetters"]
                                if d["id"] != letter["id"]], "the requeued job fails again")
    for d in api.expect(200, "GET", DEAD_LETTERS, slug=slug)[1]["deadLetters"]:
        api.expect(204, "DELETE", DEAD_LETTER, slug=slug, id=d["id"])
    assert again
    assert api.expect(200, "GET", DEAD_LETTERS, slug=slug)[1] == {"deadLetters": []}
    _, body = api.expect(404, "POST", REQUEUE, slug=slug, id=letter["id"])
    problem(body, 404)


# --- lockout ---------------------------------------------------------------------------------

def test_invalid_access_tokens_count_towards_the_lockout(new_server, spec, slug):
    server = new_server(SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="2")
    api = Api(server, spec)
    make_tenant(api, slug)
    admin = tenant_admin(api, slug)
    admin.expect(200, "GET", SETTINGS, slug=slug)
    for _ in range(2):
        resp, _ = admin.expect(401, "GET", SETTINGS, slug=slug, token="not-an-access-token")
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin", error="invalid_token"'
    # The address is locked out: the tenant admin's valid token and the operator's.
    for token, detail in ((admin.token, "too many failed admin logins"), (OPERATOR_TOKEN, "too many failed operator logins")):
        resp, body = admin.expect(429, "GET", SETTINGS, slug=slug, token=token)
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        exact_problem(body, 429, "Too Many Requests", detail)
    api.expect(429, "GET", "/admin/v1/tenants")
    api.expect(429, "GET", "/admin/v1/tenants", token=None)
    # A request without any credential to an access operation is 401 even then (the document
    # says so; the operator-only operations answer it 429).
    resp, _ = admin.expect(401, "GET", SETTINGS, slug=slug, token=None)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="scimgate-admin"'


# --- query strings ---------------------------------------------------------------------------

@pytest.mark.parametrize("template, query", [
    (MAPPINGS, "kind=role&kind=project"), (MEMBERS, "startIndex=1&startIndex=2"), (MEMBERS, "count=1&count=1"),
    (EVENTS, "limit=1&limit=2"), (EVENTS, "before=2026-01-01T00:00:00Z&before=2026-01-02T00:00:00Z"),
])
def test_a_repeated_query_parameter_is_a_400_problem(server, tenant, template, query):
    """Like every error of the admin API, a query the server cannot read is a problem document
    (today: actix's text/plain "Query deserialize error", and often a reset connection, for the
    reason given in test_a_body_over_64_kib_is_answered_not_reset)."""
    url = server.base + template.replace("{slug}", tenant) + "?" + query
    for _ in range(5):
        r = requests.get(url, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=5)
        assert r.status_code == 400, r.text
        assert r.headers["Content-Type"] == "application/problem+json", (r.headers, r.text)
        assert r.headers["Cache-Control"] == "no-store"
        assert r.json()["status"] == 400
