"""Genuine access tokens used where they must not work (RFC 8725 §3.8, §3.9; RFC 9700 §2.3,
§4.3.2): another issuer or audience, another deployment, past their lifetime, on another tenant's
data, outside the Authorization header; and bearer values that are no compact JWS at all."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests

import expect
import forge
from forge import Attacker
from refusals import AUDIENCE, EXPIRED, ISSUER, MALFORMED, UNKNOWN_KEY, Victim, header, refused
from servers import Deployment, Server

# --- RFC 8725 §2.7, §3.8, §3.9; RFC 9700 §2.3: issuer and audience --------------------------


def test_a_validly_signed_token_from_another_issuer_is_refused(
    prod: Deployment, victim: Victim, impostors: dict[str, Server]
):
    r = requests.post(
        f"{impostors['issuer'].url}/oauth/token",
        auth=victim.client.basic,
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    token = expect.token_success(r)["access_token"]
    claims = forge.split(token).payload
    assert (
        claims["iss"] == impostors["issuer"].url != prod.issuer and claims["aud"] == prod.audience
    )
    refused(prod, token, ISSUER)


def test_a_validly_signed_token_for_another_audience_is_refused(
    prod: Deployment, victim: Victim, impostors: dict[str, Server]
):
    r = requests.post(
        f"{impostors['audience'].url}/oauth/token",
        auth=victim.client.basic,
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    token = expect.token_success(r)["access_token"]
    claims = forge.split(token).payload
    assert claims["iss"] == prod.issuer and claims["aud"] == "https://elsewhere.invalid/scim/v2"
    refused(prod, token, AUDIENCE)
    intro = requests.post(
        prod.introspection_endpoint, auth=victim.client.basic, data={"token": token}, timeout=10
    )
    assert intro.json() == {"active": False}


def test_a_token_of_another_deployment_is_refused(
    prod: Deployment, embedded: Deployment, victim: Victim
):
    foreign = embedded.access_token(embedded.new_client(embedded.new_tenant()))
    refused(prod, foreign, UNKNOWN_KEY)
    # And the other way round.
    r = requests.get(
        f"{embedded.scim_url()}/Users", headers=expect.bearer(victim.token), timeout=10
    )
    expect.invalid_token(r)


# --- RFC 7519 §4.1.4: lifetime ---------------------------------------------------------------


def test_an_expired_token_is_refused(short_lived: Deployment):
    client = short_lived.new_client(short_lived.new_tenant())
    token = short_lived.access_token(client)
    exp = forge.split(token).payload["exp"]
    users = f"{short_lived.scim_url()}/Users"
    assert requests.get(users, headers=expect.bearer(token), timeout=10).status_code == 200

    # With no leeway the token is valid through second `exp` and refused after it.
    time.sleep(max(0.0, exp + 1 - time.time()) + 0.05)

    request_id = f"expired-{secrets.token_hex(6)}"
    r = requests.get(users, headers=expect.bearer(token) | {"X-Request-Id": request_id}, timeout=10)
    expect.invalid_token(r)
    assert short_lived.scim.refusal_reason(request_id) == EXPIRED
    intro = requests.post(
        short_lived.introspection_endpoint, auth=client.basic, data={"token": token}, timeout=10
    )
    assert intro.json() == {"active": False}


# --- RFC 9700 §2.3 (privilege restriction): one tenant's token, another tenant's data -------


def test_a_token_never_reaches_another_tenants_data(prod: Deployment, victim: Victim):
    owner = prod.new_tenant("owner")
    owner_token = prod.access_token(prod.new_client(owner))
    user = requests.post(
        f"{prod.scim_url()}/Users",
        json=expect.new_user("secret"),
        headers=expect.bearer(owner_token),
        timeout=10,
    ).json()
    attacker_headers = expect.bearer(victim.token)

    # Naming the other tenant in the path: 404, nothing said about whether it exists.
    for path in ("/Users", f"/Users/{user['id']}", "/Groups"):
        r = requests.get(f"{prod.scim_url(owner.slug)}{path}", headers=attacker_headers, timeout=10)
        expect.scim_error(r, 404)
    r = requests.get(
        f"{prod.scim_url('no-such-tenant')}/Users", headers=attacker_headers, timeout=10
    )
    expect.scim_error(r, 404)
    static = expect.bearer(prod.new_static_token(victim.tenant))
    expect.scim_error(
        requests.get(f"{prod.scim_url(owner.slug)}/Users", headers=static, timeout=10), 404
    )
    # Its own tenant's path works.
    assert requests.get(
        f"{prod.scim_url(victim.tenant.slug)}/Users", headers=attacker_headers, timeout=10
    ).ok

    # Through its own endpoint, the other tenant's user does not exist.
    base = prod.scim_url()
    assert (
        requests.get(f"{base}/Users/{user['id']}", headers=attacker_headers, timeout=10).status_code
        == 404
    )
    found = requests.get(
        f"{base}/Users",
        params={"filter": f'userName eq "{user["userName"]}"'},
        headers=attacker_headers,
        timeout=10,
    ).json()
    assert found["totalResults"] == 0 and not found.get("Resources")
    everything = requests.get(
        f"{base}/Users", params={"count": 1000}, headers=attacker_headers, timeout=10
    ).json()
    assert user["id"] not in {u["id"] for u in everything.get("Resources", [])}
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert (
        requests.patch(
            f"{base}/Users/{user['id']}", json=patch, headers=attacker_headers, timeout=10
        ).status_code
        == 404
    )
    assert (
        requests.delete(
            f"{base}/Users/{user['id']}", headers=attacker_headers, timeout=10
        ).status_code
        == 404
    )

    still = requests.get(
        f"{base}/Users/{user['id']}", headers=expect.bearer(owner_token), timeout=10
    )
    assert still.status_code == 200 and still.json()["active"] is True, still.text


# --- RFC 6750 §2 / RFC 9700 §4.3.2: where a bearer token may travel ------------------------


def test_a_token_in_the_query_string_is_not_accepted(prod: Deployment, victim: Victim):
    r = requests.get(f"{prod.scim_url()}/Users", params={"access_token": victim.token}, timeout=10)
    expect.missing_token(r)


def test_a_token_in_a_form_body_is_not_accepted(prod: Deployment, victim: Victim):
    r = requests.post(
        f"{prod.scim_url()}/Users/.search",
        data={"access_token": victim.token},
        timeout=10,
    )
    expect.missing_token(r)


def test_a_token_under_another_scheme_is_not_accepted(prod: Deployment, victim: Victim):
    for value in (
        f"Basic {victim.token}",
        f"Token {victim.token}",
        victim.token,
        f"Bearer{victim.token}",
    ):
        r = requests.get(f"{prod.scim_url()}/Users", headers={"Authorization": value}, timeout=10)
        assert r.status_code == 401, (value[:12], r.text)
        assert expect.challenge(r)[0] == "Bearer"


def test_a_client_secret_is_not_a_bearer_token(prod: Deployment, victim: Victim):
    refused(prod, victim.client.client_secret)


def test_the_bearer_scheme_is_case_insensitive(prod: Deployment, victim: Victim):
    # RFC 9110 §11.1: auth schemes are case-insensitive.
    r = requests.get(
        f"{prod.scim_url()}/Users", headers={"Authorization": f"bearer {victim.token}"}, timeout=10
    )
    assert r.status_code == 200, r.text


# --- RFC 7515 §7.1: shapes that are no compact JWS -------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        "five-segments",
        "two-segments",
        "empty-segments",
        "not-base64",
        "json-serialization",
        "static-prefix",
    ],
)
def test_a_token_that_is_no_compact_jws_is_refused(prod: Deployment, victim: Victim, shape: str):
    h, p, s = victim.token.split(".")
    token = {
        "five-segments": f"{h}.{p}.{s}.{s}.{s}",  # the shape of a JWE
        "two-segments": f"{h}.{p}",
        "empty-segments": "..",
        "not-base64": f"{h}.{p}.!!!",
        "json-serialization": json.dumps({"payload": p, "protected": h, "signature": s}),
        "static-prefix": f"scimgate_{victim.token}",
    }[shape]
    refused(prod, token)


def test_an_oversized_token_is_refused_without_an_error(
    prod: Deployment, victim: Victim, attacker: Attacker
):
    claims = victim.claims | {"padding": "x" * 9000}
    refused(prod, forge.compact(header(victim), claims, attacker.es256()), MALFORMED)
