"""`scimgate keys rotate` while both processes run: the new key signs from the next token on, the
old one stays published and accepted until the last token it signed has expired."""

from __future__ import annotations

import jwt
import requests

import expect
import forge
from servers import Client, Deployment


def published_kids(prod: Deployment) -> list[str]:
    r = requests.get(prod.jwks_url, timeout=10)
    assert r.status_code == 200
    return [k["kid"] for k in r.json()["keys"]]


def verified_by_pyjwt(prod: Deployment, token: str) -> dict:
    key = jwt.PyJWKClient(prod.jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
    return jwt.decode(
        token, key.key, algorithms=["ES256"], audience=prod.audience, issuer=prod.issuer
    )


def test_a_rotated_key_signs_new_tokens_and_the_old_ones_keep_working(
    prod: Deployment, client: Client
):
    old_token = prod.access_token(client)
    old_kid = forge.split(old_token).header["kid"]
    assert old_kid in published_kids(prod)

    new_kid = prod.cli.run("keys", "rotate", "--json")["kid"]
    assert new_kid != old_kid

    kids = published_kids(prod)
    assert old_kid in kids and new_kid in kids

    listed = {k["kid"]: k for k in prod.cli.run("keys", "list", "--json")["keys"]}
    assert listed[new_kid]["retired"] is None
    assert listed[old_kid]["retired"] is not None
    assert [k for k in listed.values() if k["retired"] is None] == [listed[new_kid]]

    new_token = prod.access_token(client)
    assert forge.split(new_token).header["kid"] == new_kid

    for token in (old_token, new_token):
        r = requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)
        assert r.status_code == 200, r.text
        assert verified_by_pyjwt(prod, token)["client_id"] == client.client_id
    introspected = requests.post(
        prod.introspection_endpoint, auth=client.basic, data={"token": old_token}, timeout=10
    )
    assert introspected.json()["active"] is True


def test_each_rotation_publishes_one_more_key_named_by_its_thumbprint(prod: Deployment):
    before = published_kids(prod)
    kid = prod.cli.run("keys", "rotate", "--json")["kid"]
    keys = requests.get(prod.jwks_url, timeout=10).json()["keys"]
    assert [k["kid"] for k in keys if k["kid"] not in before] == [kid]
    new = next(k for k in keys if k["kid"] == kid)
    assert forge.thumbprint(new) == kid
