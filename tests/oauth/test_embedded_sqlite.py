"""The embedded default: one `scimgate serve` on SQLite with the database file as its only
setting. The keys are generated beside the database; the issuer is the listen address and the
audience its `/scim/v2`; a third-party client gets a token and provisions with it."""

from __future__ import annotations

import stat
from pathlib import Path

import requests
from authlib.integrations.requests_client import OAuth2Session

import expect
import forge
from servers import Deployment


def test_the_embedded_server_issues_tokens_that_its_scim_api_accepts(embedded: Deployment):
    doc = requests.get(embedded.metadata_url, timeout=10).json()
    assert doc["issuer"] == embedded.issuer == f"http://127.0.0.1:{embedded.authz.port}"
    assert doc["token_endpoint"] == f"{embedded.issuer}/oauth/token"

    client = embedded.new_client(embedded.new_tenant("embedded"))
    with OAuth2Session(client.client_id, client.client_secret) as session:
        token = session.fetch_token(doc["token_endpoint"], grant_type="client_credentials")
        claims = forge.split(token["access_token"]).payload
        assert claims["iss"] == embedded.issuer
        assert claims["aud"] == f"{embedded.issuer}/scim/v2"

        created = session.post(f"{embedded.scim_url()}/Users", json=expect.new_user(), timeout=10)
        assert created.status_code == 201, created.text
        listed = session.get(f"{embedded.scim_url()}/Users", timeout=10)
        assert listed.status_code == 200 and listed.json()["totalResults"] == 1, listed.text


def test_the_embedded_server_keeps_its_generated_keys_private_beside_the_database(
    embedded: Deployment,
):
    home = Path(embedded.cli.cwd)
    assert (home / "scimgate.db").is_file()
    key = home / "key-encryption.key"
    assert key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    jwks = requests.get(embedded.jwks_url, timeout=10).json()["keys"]
    assert len(jwks) == 1 and jwks[0]["crv"] == "P-256"


def test_static_tokens_work_on_the_embedded_server(embedded: Deployment):
    token = embedded.new_static_token(embedded.new_tenant("static"))
    r = requests.get(f"{embedded.scim_url()}/Users", headers=expect.bearer(token), timeout=10)
    assert r.status_code == 200, r.text
