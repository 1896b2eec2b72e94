"""Every operation with valid and invalid inputs. Each response goes through Spec.check (its
status documented for the operation, its headers and body valid against the document); the
tests then assert the exact status and what the body must say."""

import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Api, binary

T = "/admin/v1/tenants"
TENANT = "/admin/v1/tenants/{slug}"
DISCONNECT = "/admin/v1/tenants/{slug}/disconnect-scim"
CLIENTS = "/admin/v1/tenants/{slug}/clients"
CLIENT = "/admin/v1/tenants/{slug}/clients/{client_id}"
ROTATE = "/admin/v1/tenants/{slug}/clients/{client_id}/rotate"
REVOKE = "/admin/v1/tenants/{slug}/clients/{client_id}/revoke"
TOKENS = "/admin/v1/tenants/{slug}/tokens"
TOKEN_REVOKE = "/admin/v1/tenants/{slug}/tokens/{token_id}/revoke"
KEYS = "/admin/v1/keys"
KEYS_ROTATE = "/admin/v1/keys/rotate"

BIG = b"{" + b" " * (64 * 1024) + b"}"  # valid JSON, one byte over the limit
NOT_AN_OBJECT = "the JSON body must be an object"
MAX_SECONDS = 315360000  # ten years of 365 days: the bound of overlap_seconds and expires_in_seconds


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def near(a: datetime, b: datetime, seconds: float = 30) -> bool:
    return abs((a - b).total_seconds()) <= seconds


def now() -> datetime:
    return datetime.now(timezone.utc)


def exact_problem(body, status, title, detail):
    assert body == {"type": "about:blank", "title": title, "status": status, "detail": detail}


def problem(body, status, detail=None):
    assert body["status"] == status
    assert body["type"] == "about:blank"
    if detail is not None:
        assert detail in body["detail"], body


def make_tenant(api, slug, **extra):
    return api.expect(201, "POST", T, json_body={"slug": slug, **extra}, valid_request=True)[1]


def make_client(api, slug, **body):
    return api.expect(201, "POST", CLIENTS, slug=slug, json_body=body, valid_request=True)[1]


# --- tenants ---------------------------------------------------------------------------------

# The access settings every new tenant starts with (issue 4).
ACCESS_DEFAULTS = {
    "teamSync": False,
    "defaultInitialRole": "reader",
    "seatLimit": None,
    "activateOn": "provision",
}


def test_create_tenant_with_defaults(api, slug):
    resp, body = api.expect(201, "POST", T, json_body={"slug": slug}, valid_request=True)
    assert resp.headers["Location"] == f"/admin/v1/tenants/{slug}"
    assert body["slug"] == slug
    assert body["name"] == slug
    assert body["settings"] == {
        "uniqueIdentifier": "email",
        "deleteBehaviour": "deactivate",
        "protectPreScimMembers": False,
        "strictSchema": False,
        **ACCESS_DEFAULTS,
    }
    assert near(ts(body["created"]), now())
    assert "Cache-Control" not in resp.headers
    _, shown = api.expect(200, "GET", TENANT, slug=slug)
    assert shown == body


def test_create_tenant_with_name_and_every_setting(api, slug):
    settings = {
        "uniqueIdentifier": "userName",
        "deleteBehaviour": "remove",
        "protectPreScimMembers": True,
        "strictSchema": True,
    }
    body = make_tenant(api, slug, name="Acme Corp", settings=settings)
    assert body["name"] == "Acme Corp"
    assert body["settings"] == {**settings, **ACCESS_DEFAULTS}


def test_access_settings_are_not_set_at_creation(api, slug):
    # Team sync, default role, seat limit and activation have their own checked endpoints:
    # given at creation they are ignored like any unknown member.
    body = make_tenant(
        api, slug, settings={"teamSync": True, "seatLimit": 3, "defaultInitialRole": "nope"}
    )
    assert {k: body["settings"][k] for k in ACCESS_DEFAULTS} == ACCESS_DEFAULTS


def test_tenant_settings_are_partial_and_ignore_unknown_members(api, slug):
    body = make_tenant(api, slug, settings={"deleteBehaviour": "remove", "somethingElse": 1})
    assert body["settings"]["deleteBehaviour"] == "remove"
    assert body["settings"]["uniqueIdentifier"] == "email"
    assert "somethingElse" not in body["settings"]


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_blank_or_null_tenant_name_is_the_slug(api, slug, name):
    body = make_tenant(api, slug, name=name, settings=None)
    assert body["name"] == slug
    assert body["settings"]["uniqueIdentifier"] == "email"


def test_a_tenant_name_is_stored_as_given(api, slug):
    assert make_tenant(api, slug, name="  Acme  ")["name"] == "  Acme  "


@pytest.mark.parametrize("shape", ["digits", "one-letter-and-digits", "trailing-dash", "double-dash", "63-long"])
def test_slugs_the_server_accepts(api, slug, shape):
    n = slug.rsplit("-", 1)[1]
    good = {
        "digits": f"9{n}",
        "one-letter-and-digits": f"q{n}",
        "trailing-dash": f"t{n}-",
        "double-dash": f"d--{n}",
        "63-long": (f"l{n}" + "x" * 63)[:63],
    }[shape]
    assert make_tenant(api, good)["slug"] == good


@pytest.mark.parametrize("bad", ["", "Acme", "-acme", "a_b", "a/b", "a b", "é", "x" * 64])
def test_invalid_slugs_are_400(api, bad):
    _, body = api.expect(400, "POST", T, json_body={"slug": bad}, valid_request=False)
    problem(body, 400, "invalid tenant slug")


@pytest.mark.parametrize(
    "payload, detail",
    [
        ({}, "missing field `slug`"),
        ({"slug": "ok-slug", "extra": 1}, "unknown field `extra`"),
        ({"slug": 5}, "invalid type"),
        ({"slug": "ok-slug", "name": 5}, "invalid type"),
        ({"slug": "ok-slug", "settings": {"uniqueIdentifier": "EMAIL"}}, "unknown variant"),
        ({"slug": "ok-slug", "settings": {"deleteBehaviour": "delete"}}, "unknown variant"),
        ({"slug": "ok-slug", "settings": {"strictSchema": None}}, "invalid type"),
        ({"slug": "ok-slug", "settings": "email"}, "invalid type"),
    ],
)
def test_invalid_tenant_bodies_are_400(api, payload, detail):
    _, body = api.expect(400, "POST", T, json_body=payload, valid_request=False)
    problem(body, 400, detail)


@pytest.mark.parametrize(
    "raw, detail",
    [(b"", "a JSON body is required"), (b"  \n", "a JSON body is required"),
     (b"slug=acme", "invalid JSON body"), (b'{"slug":', "invalid JSON body")],
)
def test_a_tenant_body_must_be_json(api, raw, detail):
    _, body = api.expect(400, "POST", T, data=raw, headers={"Content-Type": "application/json"})
    problem(body, 400, detail)


@pytest.mark.parametrize("raw", [b"null", b" null ", b"[]", b"7", b"-1.5", b'"acme"', b"true", b"false"])
def test_a_json_body_that_is_not_an_object_is_400(api, raw):
    _, body = api.expect(400, "POST", T, data=raw, headers={"Content-Type": "application/json"})
    exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)


def test_a_positional_array_is_refused_and_nothing_is_created(api, slug):
    """serde would read a struct from a sequence of its members' values: the server refuses any
    body that is not an object, also where the body is optional."""
    tenant = [slug, "Arrayed", ["userName", "remove", True, False]]
    for payload in (tenant, [slug], [slug, None, None]):
        _, body = api.expect(400, "POST", T, json_body=payload, valid_request=False)
        exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)
    api.expect(404, "GET", TENANT, slug=slug)
    assert slug not in [t["slug"] for t in api.expect(200, "GET", T)[1]["tenants"]]

    make_tenant(api, slug)
    for payload in (["okta", "scim:read"], [], [None, None]):
        _, body = api.expect(400, "POST", CLIENTS, slug=slug, json_body=payload, valid_request=False)
        exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)
    assert api.expect(200, "GET", CLIENTS, slug=slug)[1] == {"clients": []}
    for payload in ([60], [], [None]):
        _, body = api.expect(400, "POST", TOKENS, slug=slug, json_body=payload, valid_request=False)
        exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)
    assert api.expect(200, "GET", TOKENS, slug=slug)[1] == {"tokens": []}

    c = make_client(api, slug)
    for payload in ([0], [], [None]):
        _, body = api.expect(400, "POST", ROTATE, slug=slug, client_id=c["client_id"], json_body=payload,
                             valid_request=False)
        exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1]["secret_rotated"] is None


@pytest.mark.parametrize("raw", [b"null", b"[]", b"0", b'""', b"false"])
def test_an_optional_body_must_still_be_an_object_when_sent(api, slug, raw):
    make_tenant(api, slug)
    c = make_client(api, slug)
    for template, extra in ((CLIENTS, {}), (TOKENS, {}), (ROTATE, {"client_id": c["client_id"]})):
        _, body = api.expect(400, "POST", template, slug=slug, data=raw,
                             headers={"Content-Type": "application/json"}, **extra)
        exact_problem(body, 400, "Bad Request", NOT_AN_OBJECT)
    assert [x["client_id"] for x in api.expect(200, "GET", CLIENTS, slug=slug)[1]["clients"]] == [c["client_id"]]
    assert api.expect(200, "GET", TOKENS, slug=slug)[1] == {"tokens": []}
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1]["secret_rotated"] is None


@pytest.mark.parametrize("raw", [b"", b" ", b"  \n\t\r\n "])
def test_an_empty_or_blank_optional_body_is_the_empty_object(api, slug, raw):
    make_tenant(api, slug)
    h = {"Content-Type": "application/json"}
    _, c = api.expect(201, "POST", CLIENTS, slug=slug, data=raw, headers=h)
    assert (c["name"], c["scope"]) == ("IdP", "scim:read scim:write")
    _, t = api.expect(201, "POST", TOKENS, slug=slug, data=raw, headers=h)
    assert t["expires"] is None
    _, r = api.expect(200, "POST", ROTATE, slug=slug, client_id=c["client_id"], data=raw, headers=h)
    assert near(ts(r["previous_secret_expires"]), ts(r["secret_rotated"]) + timedelta(days=1), 1)


def test_the_body_is_json_whatever_the_content_type(api, slug):
    resp, body = api.expect(201, "POST", T, data=f'{{"slug":"{slug}"}}', headers={"Content-Type": "text/plain"})
    assert body["slug"] == slug


def test_a_taken_slug_is_409(api, slug):
    make_tenant(api, slug)
    _, body = api.expect(409, "POST", T, json_body={"slug": slug, "name": "again"}, valid_request=True)
    problem(body, 409, f'a tenant with slug "{slug}" already exists')


@pytest.mark.parametrize("template, params", [
    (T, {}), (CLIENTS, {}), (ROTATE, {"client_id": "sgc_0"}), (TOKENS, {}),
])
def test_a_body_over_64_kib_is_413_plain_text(api, slug, template, params):
    if template != T:
        make_tenant(api, slug)
        params = {"slug": slug, **params}
    resp, body = api.expect(413, "POST", template, data=BIG, headers={"Content-Type": "application/json"}, **params)
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert body == "payload reached size limit"


def test_a_body_of_64_kib_is_read(api, slug):
    raw = ('{"slug":"%s"' % slug).encode() + b" " * (64 * 1024 - len(slug) - 11) + b"}"
    assert len(raw) == 64 * 1024
    api.expect(201, "POST", T, data=raw)


def test_list_tenants_is_ordered_by_slug(api, slug):
    for suffix in ("b", "a", "c"):
        make_tenant(api, f"{slug}-{suffix}")
    _, body = api.expect(200, "GET", T)
    slugs = [t["slug"] for t in body["tenants"]]
    assert slugs == sorted(slugs)
    assert {f"{slug}-a", f"{slug}-b", f"{slug}-c"} <= set(slugs)


@pytest.mark.parametrize("missing", ["no-such-tenant", "ACME", "a b", "%2F", "x" * 300])
def test_an_unknown_tenant_is_404(api, missing):
    _, body = api.expect(404, "GET", TENANT, slug=missing)
    problem(body, 404, "no tenant with slug")


@pytest.mark.parametrize("method, template, extra", [
    ("POST", DISCONNECT, {}), ("GET", CLIENTS, {}), ("POST", CLIENTS, {}),
    ("GET", CLIENT, {"client_id": "sgc_x"}), ("POST", ROTATE, {"client_id": "sgc_x"}),
    ("POST", REVOKE, {"client_id": "sgc_x"}), ("GET", TOKENS, {}), ("POST", TOKENS, {}),
    ("POST", TOKEN_REVOKE, {"token_id": "t"}),
])
def test_every_tenant_path_is_404_for_an_unknown_tenant(api, method, template, extra):
    _, body = api.expect(404, method, template, slug="no-such-tenant", **extra)
    problem(body, 404, 'no tenant with slug "no-such-tenant"')


# --- clients ---------------------------------------------------------------------------------

def test_create_client_without_body(api, slug):
    make_tenant(api, slug)
    resp, body = api.expect(201, "POST", CLIENTS, slug=slug)
    assert resp.headers["Location"] == f"/admin/v1/tenants/{slug}/clients/{body['client_id']}"
    assert resp.headers["Cache-Control"] == "no-store"
    assert body["name"] == "IdP"
    assert body["scope"] == "scim:read scim:write"
    assert body["grant_types"] == ["client_credentials"]
    assert body["tenant"] == slug
    assert body["status"] == "active"
    assert body["secret_rotated"] is None and body["previous_secret_expires"] is None
    assert body["revoked"] is None
    assert near(ts(body["created"]), now())


@pytest.mark.parametrize("payload, name, scope", [
    ({}, "IdP", "scim:read scim:write"),
    ({"name": None, "scope": None}, "IdP", "scim:read scim:write"),
    ({"name": "  Okta  "}, "Okta", "scim:read scim:write"),
    ({"name": "x" * 200, "scope": "scim:read"}, "x" * 200, "scim:read"),
    ({"scope": " scim:read "}, "IdP", "scim:read"),
    ({"scope": "scim:write"}, "IdP", "scim:write"),
    ({"scope": "scim:write  scim:read"}, "IdP", "scim:read scim:write"),
    ({"scope": "scim:read scim:read"}, "IdP", "scim:read"),
])
def test_create_client_names_and_scopes(api, slug, payload, name, scope):
    make_tenant(api, slug)
    body = make_client(api, slug, **payload)
    assert (body["name"], body["scope"]) == (name, scope)


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"scope": ""}, "the scope parameter is empty", True),
    ({"scope": "   "}, "the scope parameter is empty", True),
    ({"scope": "root"}, 'unknown scope "root"', True),
    ({"scope": "SCIM:READ"}, "unknown scope", True),
    ({"scope": "scim:read\tscim:write"}, "unknown scope", True),
    ({"scope": "scim:read,scim:write"}, "unknown scope", True),
    ({"scope": ["scim:read"]}, "invalid type", True),
    ({"name": ""}, "a client name must be 1 to 200 characters", True),
    ({"name": "   "}, "a client name must be 1 to 200 characters", True),
    # Longer than 200 once trimmed: the document says so in prose only.
    ({"name": "x" * 201}, "a client name must be 1 to 200 characters", False),
    ({"name": "Okta", "grant_types": ["client_credentials"]}, "unknown field `grant_types`", True),
    ({"client_secret": "mine"}, "unknown field `client_secret`", True),
])
def test_invalid_client_bodies_are_400(api, slug, payload, detail, schema_says_invalid):
    make_tenant(api, slug)
    _, body = api.expect(400, "POST", CLIENTS, slug=slug, json_body=payload,
                         valid_request=not schema_says_invalid)
    problem(body, 400, detail)


def test_get_and_list_clients_never_show_a_secret(api, slug):
    make_tenant(api, slug)
    first = make_client(api, slug, name="first")
    second = make_client(api, slug, name="second", scope="scim:read")
    for c in (first, second):
        resp, shown = api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])
        assert "client_secret" not in shown
        assert c["client_secret"] not in resp.text
        assert shown == {k: v for k, v in c.items() if k != "client_secret"}
    resp, listed = api.expect(200, "GET", CLIENTS, slug=slug)
    assert [c["client_id"] for c in listed["clients"]] == [first["client_id"], second["client_id"]]
    assert first["client_secret"] not in resp.text and second["client_secret"] not in resp.text


def test_a_client_of_another_tenant_is_404(api, slug):
    make_tenant(api, slug)
    make_tenant(api, f"{slug}-other")
    c = make_client(api, slug)
    for method, template in (("GET", CLIENT), ("POST", ROTATE), ("POST", REVOKE)):
        _, body = api.expect(404, method, template, slug=f"{slug}-other", client_id=c["client_id"])
        problem(body, 404, f'no client "{c["client_id"]}" in tenant "{slug}-other"')
    # ... and it was not touched.
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1]["status"] == "active"


def test_an_unknown_client_is_404(api, slug):
    make_tenant(api, slug)
    for cid in ("sgc_00000000000000000000000000000000", "nothing", "a/b"):
        _, body = api.expect(404, "GET", CLIENT, slug=slug, client_id=cid)
        problem(body, 404, "no client")


def test_rotate_with_the_default_overlap(api, slug):
    make_tenant(api, slug)
    c = make_client(api, slug)
    resp, body = api.expect(200, "POST", ROTATE, slug=slug, client_id=c["client_id"])
    assert resp.headers["Cache-Control"] == "no-store"
    assert body["client_secret"] != c["client_secret"]
    assert near(ts(body["secret_rotated"]), now())
    # oauth.secret_rotation_overlap_seconds defaults to a day.
    assert near(ts(body["previous_secret_expires"]), ts(body["secret_rotated"]) + timedelta(days=1), 1)
    assert {k: body[k] for k in ("client_id", "name", "scope", "created", "status")} == {
        k: c[k] for k in ("client_id", "name", "scope", "created", "status")
    }


@pytest.mark.parametrize("payload, seconds", [
    ({"overlap_seconds": 0}, 0), ({"overlap_seconds": 3600}, 3600), ({"overlap_seconds": None}, 86400), ({}, 86400),
])
def test_rotate_with_an_overlap(api, slug, payload, seconds):
    make_tenant(api, slug)
    c = make_client(api, slug)
    _, body = api.expect(200, "POST", ROTATE, slug=slug, client_id=c["client_id"], json_body=payload, valid_request=True)
    assert near(ts(body["previous_secret_expires"]), ts(body["secret_rotated"]) + timedelta(seconds=seconds), 1)


def test_an_overlap_of_exactly_ten_years_is_accepted(api, slug):
    make_tenant(api, slug)
    c = make_client(api, slug)
    _, body = api.expect(200, "POST", ROTATE, slug=slug, client_id=c["client_id"],
                         json_body={"overlap_seconds": MAX_SECONDS}, valid_request=True)
    assert near(ts(body["previous_secret_expires"]), ts(body["secret_rotated"]) + timedelta(seconds=MAX_SECONDS), 1)
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1] == {
        k: v for k, v in body.items() if k != "client_secret"
    }


@pytest.mark.parametrize("seconds", [MAX_SECONDS + 1, 9223372036854775807])
def test_an_overlap_over_ten_years_is_400(api, slug, seconds):
    make_tenant(api, slug)
    c = make_client(api, slug)
    _, body = api.expect(400, "POST", ROTATE, slug=slug, client_id=c["client_id"],
                         json_body={"overlap_seconds": seconds}, valid_request=False)
    exact_problem(body, 400, "Bad Request", "overlap_seconds must be at most 315360000 (10 years)")
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1]["secret_rotated"] is None


def test_the_range_is_checked_before_the_client_state(api, slug):
    """A revoked client with an overlap out of range: 400, not 409."""
    make_tenant(api, slug)
    c = make_client(api, slug)
    api.expect(200, "POST", REVOKE, slug=slug, client_id=c["client_id"])
    _, body = api.expect(400, "POST", ROTATE, slug=slug, client_id=c["client_id"],
                         json_body={"overlap_seconds": MAX_SECONDS + 1}, valid_request=False)
    exact_problem(body, 400, "Bad Request", "overlap_seconds must be at most 315360000 (10 years)")
    _, body = api.expect(400, "POST", ROTATE, slug=slug, client_id=c["client_id"],
                         json_body={"overlap_seconds": -1}, valid_request=False)
    exact_problem(body, 400, "Bad Request", "overlap_seconds must be 0 or more")


@pytest.mark.parametrize("configured", [str(MAX_SECONDS + 1), "-1"])
def test_a_configured_default_overlap_out_of_range_stops_the_start(tmp_path, configured):
    """Checked when the configuration loads, not on the first rotation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE__")}
    env |= {
        "SCIMGATE__DATABASE__URL": f"sqlite://{tmp_path}/scimgate.db",
        "SCIMGATE__OAUTH__SECRET_ROTATION_OVERLAP_SECONDS": configured,
    }
    out = subprocess.run([str(binary()), "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert (f"oauth.secret_rotation_overlap_seconds must be between 0 and {MAX_SECONDS} (ten years), "
            f"not {configured}") in out.stderr, out.stderr


def test_the_configured_default_overlap_of_exactly_ten_years_is_used(new_server, spec, slug):
    api = Api(new_server(SCIMGATE__OAUTH__SECRET_ROTATION_OVERLAP_SECONDS=str(MAX_SECONDS)), spec)
    make_tenant(api, slug)
    c = make_client(api, slug)
    _, body = api.expect(200, "POST", ROTATE, slug=slug, client_id=c["client_id"])
    assert near(ts(body["previous_secret_expires"]), ts(body["secret_rotated"]) + timedelta(seconds=MAX_SECONDS), 1)


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"overlap_seconds": -1}, "overlap_seconds must be 0 or more", True),
    ({"overlap_seconds": 1.5}, "invalid type: floating point", True),
    ({"overlap_seconds": "60"}, "invalid type: string", True),
    ({"overlap_seconds": 9223372036854775808}, "invalid JSON body", True),
    ({"overlap": 60}, "unknown field `overlap`", True),
    # A JSON Schema integer, refused by the server: the document says so in prose.
    ({"overlap_seconds": 90.0}, "invalid type: floating point", False),
])
def test_invalid_rotate_bodies_are_400(api, slug, payload, detail, schema_says_invalid):
    make_tenant(api, slug)
    c = make_client(api, slug)
    _, body = api.expect(400, "POST", ROTATE, slug=slug, client_id=c["client_id"], json_body=payload,
                         valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    # Nothing was rotated.
    assert api.expect(200, "GET", CLIENT, slug=slug, client_id=c["client_id"])[1]["secret_rotated"] is None


def test_revoke_then_rotate_is_409_and_revoke_again_is_200(api, slug):
    make_tenant(api, slug)
    c = make_client(api, slug)
    resp, revoked = api.expect(200, "POST", REVOKE, slug=slug, client_id=c["client_id"])
    assert revoked["status"] == "revoked"
    assert near(ts(revoked["revoked"]), now())
    assert "client_secret" not in revoked
    _, body = api.expect(409, "POST", ROTATE, slug=slug, client_id=c["client_id"], json_body={}, valid_request=True)
    problem(body, 409, "a revoked client cannot be rotated; register a new one")
    _, again = api.expect(200, "POST", REVOKE, slug=slug, client_id=c["client_id"])
    assert again == revoked
    _, listed = api.expect(200, "GET", CLIENTS, slug=slug)
    assert listed["clients"] == [revoked]


def test_revoke_ignores_any_body(api, slug):
    make_tenant(api, slug)
    c = make_client(api, slug)
    api.expect(200, "POST", REVOKE, slug=slug, client_id=c["client_id"], data=b"not json")


# --- static tokens ---------------------------------------------------------------------------

def test_create_a_token_that_never_expires(api, slug):
    tenant = make_tenant(api, slug)
    resp, body = api.expect(201, "POST", TOKENS, slug=slug)
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Location" not in resp.headers
    assert body["tenant_id"] == tenant["id"]
    assert body["expires"] is None and body["revoked"] is None
    assert near(ts(body["created"]), now())


@pytest.mark.parametrize("payload, seconds", [
    ({"expires_in_seconds": 3600}, 3600), ({"expires_in_seconds": 1}, 1), ({"expires_in_seconds": None}, None), ({}, None),
])
def test_create_a_token_with_a_lifetime(api, slug, payload, seconds):
    make_tenant(api, slug)
    _, body = api.expect(201, "POST", TOKENS, slug=slug, json_body=payload, valid_request=True)
    if seconds is None:
        assert body["expires"] is None
    else:
        assert near(ts(body["expires"]), ts(body["created"]) + timedelta(seconds=seconds), 1)


def test_a_lifetime_of_exactly_ten_years_is_accepted(api, slug):
    make_tenant(api, slug)
    _, body = api.expect(201, "POST", TOKENS, slug=slug,
                         json_body={"expires_in_seconds": MAX_SECONDS}, valid_request=True)
    assert near(ts(body["expires"]), ts(body["created"]) + timedelta(seconds=MAX_SECONDS), 1)
    assert api.expect(200, "GET", TOKENS, slug=slug)[1] == {"tokens": [{k: v for k, v in body.items() if k != "token"}]}


@pytest.mark.parametrize("seconds", [MAX_SECONDS + 1, 9223372036854775807])
def test_a_lifetime_over_ten_years_is_400(api, slug, seconds):
    make_tenant(api, slug)
    _, body = api.expect(400, "POST", TOKENS, slug=slug,
                         json_body={"expires_in_seconds": seconds}, valid_request=False)
    exact_problem(body, 400, "Bad Request", "expires_in_seconds must be at most 315360000 (10 years)")
    assert api.expect(200, "GET", TOKENS, slug=slug)[1] == {"tokens": []}


@pytest.mark.parametrize("payload, detail, schema_says_invalid", [
    ({"expires_in_seconds": 0}, "expires_in_seconds must be positive", True),
    ({"expires_in_seconds": -60}, "expires_in_seconds must be positive", True),
    ({"expires_in_seconds": "60"}, "invalid type: string", True),
    ({"expires_in_seconds": 1.5}, "invalid type: floating point", True),
    ({"expires": 60}, "unknown field `expires`", True),
    ({"expires_in_seconds": 1000.0}, "invalid type: floating point", False),
])
def test_invalid_token_bodies_are_400(api, slug, payload, detail, schema_says_invalid):
    make_tenant(api, slug)
    _, body = api.expect(400, "POST", TOKENS, slug=slug, json_body=payload, valid_request=not schema_says_invalid)
    problem(body, 400, detail)
    assert api.expect(200, "GET", TOKENS, slug=slug)[1] == {"tokens": []}


def test_tokens_are_listed_oldest_first_without_the_token(api, slug):
    make_tenant(api, slug)
    made = [api.expect(201, "POST", TOKENS, slug=slug)[1] for _ in range(3)]
    resp, listed = api.expect(200, "GET", TOKENS, slug=slug)
    assert listed["tokens"] == [{k: v for k, v in t.items() if k != "token"} for t in made]
    for t in made:
        assert t["token"] not in resp.text


def test_revoke_a_token_twice_and_unknown_ones(api, slug):
    make_tenant(api, slug)
    make_tenant(api, f"{slug}-other")
    t = api.expect(201, "POST", TOKENS, slug=slug)[1]
    _, body = api.expect(200, "POST", TOKEN_REVOKE, slug=slug, token_id=t["id"])
    assert body == {"id": t["id"], "revoked": True}
    _, again = api.expect(200, "POST", TOKEN_REVOKE, slug=slug, token_id=t["id"])
    assert again == body
    listed = api.expect(200, "GET", TOKENS, slug=slug)[1]["tokens"]
    assert near(ts(listed[0]["revoked"]), now())
    # Another tenant's token, the token itself instead of its id, and nonsense are all 404.
    for other_slug, token_id in ((f"{slug}-other", t["id"]), (slug, t["token"]), (slug, "nope")):
        _, body = api.expect(404, "POST", TOKEN_REVOKE, slug=other_slug, token_id=token_id)
        problem(body, 404, "no token")


# --- disconnect ------------------------------------------------------------------------------

def test_disconnect_counts_what_it_revoked(api, slug):
    make_tenant(api, slug)
    c1, c2 = make_client(api, slug), make_client(api, slug)
    api.expect(200, "POST", REVOKE, slug=slug, client_id=c2["client_id"])
    for _ in range(2):
        api.expect(201, "POST", TOKENS, slug=slug)
    _, body = api.expect(200, "POST", DISCONNECT, slug=slug)
    assert body == {"tenant": slug, "clients_revoked": 1, "tokens_revoked": 2}
    _, body = api.expect(200, "POST", DISCONNECT, slug=slug)
    assert body == {"tenant": slug, "clients_revoked": 0, "tokens_revoked": 0}
    assert all(c["status"] == "revoked" for c in api.expect(200, "GET", CLIENTS, slug=slug)[1]["clients"])
    assert all(t["revoked"] for t in api.expect(200, "GET", TOKENS, slug=slug)[1]["tokens"])
    # The tenant stays, and new credentials can be issued.
    api.expect(200, "GET", TENANT, slug=slug)
    assert make_client(api, slug)["status"] == "active"


# --- keys ------------------------------------------------------------------------------------

def test_keys_list_and_rotate(api):
    _, before = api.expect(200, "GET", KEYS)
    current = [k for k in before["keys"] if k["status"] == "current"]
    assert len(current) == 1
    assert current[0]["alg"] == "ES256" and current[0]["retired"] is None
    resp, rotated = api.expect(200, "POST", KEYS_ROTATE)
    assert rotated["kid"] != current[0]["kid"]
    _, after = api.expect(200, "GET", KEYS)
    assert after["keys"][0]["kid"] == rotated["kid"]
    assert after["keys"][0]["status"] == "current"
    old = next(k for k in after["keys"] if k["kid"] == current[0]["kid"])
    assert old["status"] == "retired" and near(ts(old["retired"]), now())
    assert [k["created"] for k in after["keys"]] == sorted((k["created"] for k in after["keys"]), reverse=True)
