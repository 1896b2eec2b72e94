"""The operator credential: 401 problem documents with WWW-Authenticate (no error code when no
credential was sent, `invalid_token` when it is wrong), the per-address lockout of failed
operator logins (429 with Retry-After, counted apart from OAuth2 client authentication) and the
disabled admin API."""

import pytest
import requests

from conftest import OPERATOR_TOKEN, Api

# RFC 6750 §3.1: no error code when the request has no credential, `invalid_token` when it is wrong.
NO_CREDENTIAL = 'Bearer realm="scimgate-admin"'
WRONG_CREDENTIAL = 'Bearer realm="scimgate-admin", error="invalid_token"'
REQUIRED = "the operator credential is required: Authorization: Bearer <admin.operator_token>"
WRONG = "the operator credential is wrong"
DISABLED = "the admin API is disabled: set admin.operator_token (SCIMGATE__ADMIN__OPERATOR_TOKEN)"
# The same for the tenant's access operations, which also take a tenant admin's access token.
TENANT_REQUIRED = ("a credential is required: Authorization: Bearer <the operator credential, or an "
                   "access token of this tenant's client with scope admin>")
TENANT_WRONG = "the credential is neither the operator credential nor a valid access token"
# A concrete path for every operation; the tenant need not exist: the credential comes first.
PARAMS = {"slug": "auth-probe", "client_id": "sgc_0", "token_id": "t0", "id": "x0", "key": "p0"}
# Every operation but the document itself: 14 of the support staff, 29 of a tenant's access.
OPERATIONS = 43

# Authorization headers without a bearer credential (crates/admin/src/lib.rs `bearer`: the
# trimmed value split at its first space, the scheme `bearer` in any case).
ABSENT = {
    "missing": {},
    "basic": {"Authorization": f"Basic {OPERATOR_TOKEN}"},
    "empty-bearer": {"Authorization": "Bearer "},
    "bare-scheme": {"Authorization": "bearer"},
    "no-scheme": {"Authorization": OPERATOR_TOKEN},
    "tab-not-space": {"Authorization": f"Bearer\t{OPERATOR_TOKEN}"},
    "empty-header": {"Authorization": ""},
}
# Bearer credentials that are wrong.
WRONG_TOKENS = {
    "wrong": {"Authorization": "Bearer " + "w" * len(OPERATOR_TOKEN)},
    "longer": {"Authorization": f"Bearer {OPERATOR_TOKEN}x"},
    "shorter": {"Authorization": f"Bearer {OPERATOR_TOKEN[:-1]}"},
    "two-words": {"Authorization": f"Bearer {OPERATOR_TOKEN} {OPERATOR_TOKEN}"},
    "case": {"Authorization": f"Bearer {OPERATOR_TOKEN.upper()}"},
}


def authed_operations(spec, which="all"):
    """(method, template, params) of the operations that need a credential: `all`, `operator`
    (operator-only) or `tenant` (those that also take a tenant admin's access token)."""
    for method, template, op in spec.operations():
        if template != "/admin/v1/openapi.json":
            tenant = "security" in op
            if which == "all" or (which == "tenant") == tenant:
                params = {k: v for k, v in PARAMS.items() if "{" + k + "}" in template}
                yield method, template, params


def takes_tenant_tokens(spec, method, template) -> bool:
    return "security" in spec.operation(method, template)


def assert_unauthorized(resp, body, detail, challenge):
    assert resp.status_code == 401
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.headers["WWW-Authenticate"] == challenge
    assert resp.headers["Cache-Control"] == "no-store"
    assert body == {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail}


def assert_locked_out(resp, body):
    assert resp.status_code == 429
    assert body == {
        "type": "about:blank", "title": "Too Many Requests", "status": 429,
        "detail": "too many failed operator logins",
    }
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in resp.headers


def failed_client_authentication(server):
    return requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sgc_00000000000000000000000000000000", "scimgate_cs_wrong"),
        timeout=5,
    )


@pytest.mark.parametrize("how", sorted(ABSENT))
def test_no_credential_is_401_without_an_error_code_everywhere(api, spec, how):
    count = 0
    for method, template, params in authed_operations(spec):
        resp, body = api.call(method, template, token=None, headers=ABSENT[how], **params)
        detail = TENANT_REQUIRED if takes_tenant_tokens(spec, method, template) else REQUIRED
        assert_unauthorized(resp, body, detail, NO_CREDENTIAL)
        count += 1
    assert count == OPERATIONS


@pytest.mark.parametrize("how", sorted(WRONG_TOKENS))
def test_a_wrong_credential_is_401_invalid_token_everywhere(api, spec, how):
    count = 0
    for method, template, params in authed_operations(spec):
        resp, body = api.call(method, template, token=None, headers=WRONG_TOKENS[how], **params)
        detail = TENANT_WRONG if takes_tenant_tokens(spec, method, template) else WRONG
        assert_unauthorized(resp, body, detail, WRONG_CREDENTIAL)
        count += 1
    assert count == OPERATIONS


@pytest.mark.parametrize("value", [f"bearer {OPERATOR_TOKEN}", f"BEARER  {OPERATOR_TOKEN} "])
def test_the_scheme_is_case_insensitive_and_spaces_are_trimmed(api, value):
    api.expect(200, "GET", "/admin/v1/keys", token=None, headers={"Authorization": value})


def test_failures_lock_the_address_out_even_with_the_right_credential(new_server, spec):
    server = new_server(SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="3")
    api = Api(server, spec)
    for _ in range(3):
        resp, body = api.call("GET", "/admin/v1/tenants", token="wrong-" + OPERATOR_TOKEN)
        assert_unauthorized(resp, body, WRONG, WRONG_CREDENTIAL)
    count = 0
    for method, template, params in authed_operations(spec):
        resp, body = api.expect(429, method, template, **params)
        assert_locked_out(resp, body)
        count += 1
    assert count == OPERATIONS
    # The lockout comes before the credential is looked at: without one it is 429 too.
    for headers in ABSENT.values():
        resp, body = api.expect(429, "GET", "/admin/v1/keys", token=None, headers=headers)
        assert_locked_out(resp, body)
    # The document stays public.
    api.expect(200, "GET", "/admin/v1/openapi.json", token=None)


def test_requests_without_a_credential_are_not_counted(new_server, spec):
    server = new_server(SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="2")
    api = Api(server, spec)
    for _ in range(3):
        for headers in ABSENT.values():
            resp, body = api.call("GET", "/admin/v1/tenants", token=None, headers=headers)
            assert_unauthorized(resp, body, REQUIRED, NO_CREDENTIAL)
    api.expect(200, "GET", "/admin/v1/tenants")
    # Wrong tokens are: the limit (2) still holds, unspent by the 21 requests above.
    for _ in range(2):
        resp, body = api.call("GET", "/admin/v1/tenants", token="wrong-" + OPERATOR_TOKEN)
        assert_unauthorized(resp, body, WRONG, WRONG_CREDENTIAL)
    resp, body = api.expect(429, "GET", "/admin/v1/tenants")
    assert_locked_out(resp, body)


def test_failed_oauth_client_authentications_do_not_lock_operators_out(new_server, spec):
    server = new_server(SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="2")
    api = Api(server, spec)
    for _ in range(2):
        r = failed_client_authentication(server)
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "invalid_client"
    # The token endpoint's address limit is spent ...
    r = failed_client_authentication(server)
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "temporarily_unavailable"
    # ... the admin API's is not: a wrong operator token is still checked (401, not 429) and
    # the right one works.
    resp, body = api.call("GET", "/admin/v1/tenants", token="wrong-" + OPERATOR_TOKEN)
    assert_unauthorized(resp, body, WRONG, WRONG_CREDENTIAL)
    api.expect(200, "GET", "/admin/v1/tenants")


def test_failed_operator_logins_do_not_block_the_token_endpoint(new_server, spec, slug):
    server = new_server(SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="2")
    api = Api(server, spec)
    api.expect(201, "POST", "/admin/v1/tenants", json_body={"slug": slug})
    _, client = api.expect(201, "POST", "/admin/v1/tenants/{slug}/clients", slug=slug)
    for _ in range(2):
        resp, body = api.call("GET", "/admin/v1/tenants", token="wrong-" + OPERATOR_TOKEN)
        assert_unauthorized(resp, body, WRONG, WRONG_CREDENTIAL)
    resp, body = api.expect(429, "GET", "/admin/v1/tenants")
    assert_locked_out(resp, body)
    # The token endpoint still checks client credentials from the same address: a wrong one is
    # 401 (not 429), the right one gets a token.
    r = failed_client_authentication(server)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    r = requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"


def test_without_an_operator_token_the_admin_api_is_disabled(new_server, spec):
    server = new_server(operator_token=None, SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="2")
    api = Api(server, spec)
    for token in (OPERATOR_TOKEN, None, "anything"):
        for method, template, params in authed_operations(spec, "operator"):
            resp, body = api.call(method, template, token=token, **params)
            # No credential can be right: no error code, and never 429 (no failure is counted).
            assert_unauthorized(resp, body, DISABLED, NO_CREDENTIAL)
    # The tenant's access operations still take tenant admins' access tokens: without a
    # credential they ask for one, and any other bearer token is a wrong access token.
    for method, template, params in authed_operations(spec, "tenant"):
        resp, body = api.call(method, template, token=None, **params)
        assert_unauthorized(resp, body, TENANT_REQUIRED, NO_CREDENTIAL)
    resp, body = api.call("GET", "/admin/v1/tenants/{slug}/settings", token=OPERATOR_TOKEN, slug="auth-probe")
    assert_unauthorized(resp, body, TENANT_WRONG, WRONG_CREDENTIAL)
    api.expect(200, "GET", "/admin/v1/openapi.json", token=None)
