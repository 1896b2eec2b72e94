"""RFC 7662 introspection and RFC 7009 revocation, through authlib's client for both, and their
effect on the SCIM process (a revocation recorded by `serve authz` refuses the token at
`serve scim`)."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

import expect
import forge
from servers import Client, Deployment


def session(client: Client, method: str = "client_secret_basic") -> OAuth2Session:
    return OAuth2Session(client.client_id, client.client_secret, token_endpoint_auth_method=method)


def introspect(prod: Deployment, caller: Client, token: str, **hint) -> dict:
    with session(caller) as s:
        r = s.introspect_token(prod.introspection_endpoint, token=token, **hint)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def revoke(
    prod: Deployment, caller: Client, token: str, method: str = "client_secret_basic", **hint
) -> None:
    with session(caller, method) as s:
        r = s.revoke_token(prod.revocation_endpoint, token=token, **hint)
    # RFC 7009 §2.2: 200 whether or not there was anything to revoke.
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"


def scim_status(prod: Deployment, token: str) -> requests.Response:
    return requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)


# --- introspection -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_introspection_describes_an_active_token_of_the_callers_tenant(
    prod: Deployment, client: Client, method: str
):
    token = prod.access_token(client, scope="scim:read")
    claims = forge.split(token).payload
    with session(client, method) as s:
        r = s.introspect_token(
            prod.introspection_endpoint, token=token, token_type_hint="access_token"
        )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    assert r.json() == {
        "active": True,
        "scope": "scim:read",
        "client_id": client.client_id,
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "sub": client.client_id,
        "aud": prod.audience,
        "iss": prod.issuer,
        "jti": claims["jti"],
        "tenant": client.tenant.id,
    }


def test_another_client_of_the_same_tenant_sees_the_token_active(prod: Deployment, client: Client):
    colleague = prod.new_client(client.tenant)
    assert introspect(prod, colleague, prod.access_token(client))["active"] is True


def test_another_tenants_token_is_inactive(prod: Deployment, client: Client):
    stranger = prod.new_client(prod.new_tenant())
    # RFC 7662 §2.2: nothing about a token the caller may not know of, not even that it exists.
    assert introspect(prod, client, prod.access_token(stranger)) == {"active": False}


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "scimgate_notatoken"],
)
def test_a_token_that_is_not_ours_is_inactive(prod: Deployment, client: Client, token: str):
    assert introspect(prod, client, token) == {"active": False}


def test_a_static_scim_token_is_not_an_access_token(prod: Deployment, client: Client):
    assert introspect(prod, client, prod.new_static_token(client.tenant)) == {"active": False}


def test_introspection_needs_client_authentication(prod: Deployment, client: Client):
    token = prod.access_token(client)
    expect.invalid_client(
        requests.post(prod.introspection_endpoint, data={"token": token}, timeout=10)
    )
    # An access token is not a client credential (RFC 7662 §2.1 allows it; this server does not).
    expect.invalid_client(
        requests.post(
            prod.introspection_endpoint,
            data={"token": token},
            headers=expect.bearer(token),
            timeout=10,
        )
    )


def test_introspection_without_a_token_is_invalid_request(prod: Deployment, client: Client):
    r = requests.post(
        prod.introspection_endpoint, auth=client.basic, data={"token": ""}, timeout=10
    )
    expect.oauth_error(r, 400, "invalid_request")


# --- revocation ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_revoked_token_is_refused_by_scim_and_inactive(
    prod: Deployment, client: Client, method: str
):
    token = prod.access_token(client)
    assert scim_status(prod, token).status_code == 200

    revoke(prod, client, token, method=method, token_type_hint="access_token")

    expect.invalid_token(scim_status(prod, token))
    assert introspect(prod, client, token) == {"active": False}
    # Only that token: the client gets a new one and uses it.
    assert scim_status(prod, prod.access_token(client)).status_code == 200


def test_a_wrong_hint_does_not_stop_the_revocation(prod: Deployment, client: Client):
    # RFC 7009 §2.1: a server that cannot find the token under the hinted type "MUST extend
    # its search across all of its supported token types".
    token = prod.access_token(client)
    revoke(prod, client, token, token_type_hint="refresh_token")
    expect.invalid_token(scim_status(prod, token))


def test_revoking_another_clients_token_is_a_no_op(prod: Deployment, client: Client):
    colleague = prod.new_client(client.tenant)
    stranger = prod.new_client(prod.new_tenant())
    victims = [prod.access_token(colleague), prod.access_token(stranger)]

    for token in victims:
        # RFC 7009 §2.1: the server checks the token was issued to the client asking.
        revoke(prod, client, token)

    assert scim_status(prod, victims[0]).status_code == 200
    assert introspect(prod, colleague, victims[0])["active"] is True
    assert introspect(prod, stranger, victims[1])["active"] is True


def test_revoking_something_that_is_no_token_answers_200(prod: Deployment, client: Client):
    revoke(prod, client, "not-a-token")
    revoke(prod, client, prod.new_static_token(client.tenant))


def test_revocation_needs_client_authentication(prod: Deployment, client: Client):
    token = prod.access_token(client)
    expect.invalid_client(
        requests.post(prod.revocation_endpoint, data={"token": token}, timeout=10)
    )
    expect.invalid_client(
        requests.post(
            prod.revocation_endpoint,
            auth=(client.client_id, "wrong"),
            data={"token": token},
            timeout=10,
        )
    )
    assert scim_status(prod, token).status_code == 200
