"""Real OAuth2 client libraries, used as an IdP's provisioning connector would use them, get a
token from `serve authz` and call `serve scim` with it (RFC 6749 §4.4, RFC 6750 §2.1)."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession

import expect
from servers import Client, Deployment


def record_responses(session: requests.Session) -> list[requests.Response]:
    """Every response the session gets, so a test can look at the request that was sent."""
    seen: list[requests.Response] = []
    session.hooks["response"].append(lambda r, *a, **kw: seen.append(r))
    return seen


def token_request(seen: list[requests.Response], endpoint: str) -> requests.PreparedRequest:
    requests_sent = [r.request for r in seen if r.request.url == endpoint]
    assert len(requests_sent) == 1, [r.request.url for r in seen]
    return requests_sent[0]


def body_of(request: requests.PreparedRequest) -> str:
    body = request.body or ""
    return body.decode() if isinstance(body, bytes) else body


def lists_and_creates_users(session: requests.Session, prod: Deployment) -> None:
    listed = session.get(f"{prod.scim_url()}/Users", timeout=10)
    assert listed.status_code == 200, listed.text
    assert listed.json()["schemas"] == [expect.LIST_RESPONSE]

    user = expect.new_user()
    created = session.post(f"{prod.scim_url()}/Users", json=user, timeout=10)
    assert created.status_code == 201, created.text
    assert created.json()["userName"] == user["userName"]

    found = session.get(
        f"{prod.scim_url()}/Users",
        params={"filter": f'userName eq "{user["userName"]}"'},
        timeout=10,
    )
    assert found.status_code == 200, found.text
    assert found.json()["totalResults"] == 1


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_gets_a_token_and_provisions_a_user(prod: Deployment, client: Client, method: str):
    session = AuthlibSession(
        client.client_id, client.client_secret, token_endpoint_auth_method=method
    )
    seen = record_responses(session)
    token = session.fetch_token(prod.token_endpoint, grant_type="client_credentials")

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "scim:read scim:write"
    assert token["expires_in"] == 3600
    assert token["expires_at"] > 0  # authlib computed it from expires_in

    sent = token_request(seen, prod.token_endpoint)
    body = body_of(sent)
    if method == "client_secret_basic":
        assert sent.headers["Authorization"].startswith("Basic ")
        assert "client_secret" not in body
    else:
        assert "Authorization" not in sent.headers
        assert f"client_secret={client.client_secret}" in body
    assert "grant_type=client_credentials" in body

    lists_and_creates_users(session, prod)
    session.close()


def test_authlib_asks_for_a_narrower_scope_and_gets_only_that(prod: Deployment, client: Client):
    session = AuthlibSession(client.client_id, client.client_secret, scope="scim:read")
    token = session.fetch_token(prod.token_endpoint, grant_type="client_credentials")
    assert token["scope"] == "scim:read"

    assert session.get(f"{prod.scim_url()}/Users", timeout=10).status_code == 200
    denied = session.post(f"{prod.scim_url()}/Users", json=expect.new_user(), timeout=10)
    expect.insufficient_scope(denied, "scim:write")
    session.close()


def test_authlib_reports_the_server_error_of_a_wrong_secret(prod: Deployment, client: Client):
    from authlib.integrations.base_client.errors import OAuthError

    session = AuthlibSession(client.client_id, "scimgate_cs_wrong")
    with pytest.raises(OAuthError) as raised:
        session.fetch_token(prod.token_endpoint, grant_type="client_credentials")
    assert raised.value.error == "invalid_client"
    session.close()


def test_requests_oauthlib_backend_application_client_provisions_a_user(
    prod: Deployment, client: Client
):
    session = OAuthlibSession(client=BackendApplicationClient(client_id=client.client_id))
    seen = record_responses(session)
    token = session.fetch_token(
        token_url=prod.token_endpoint,
        client_id=client.client_id,
        client_secret=client.client_secret,
    )

    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["scim:read", "scim:write"]  # oauthlib splits the scope
    assert token["expires_in"] == 3600
    # requests-oauthlib authenticates with HTTP Basic unless told to put the id in the body.
    assert token_request(seen, prod.token_endpoint).headers["Authorization"].startswith("Basic ")

    lists_and_creates_users(session, prod)
    session.close()


def test_requests_oauthlib_with_the_secret_in_the_body_and_a_scope(
    prod: Deployment, client: Client
):
    session = OAuthlibSession(
        client=BackendApplicationClient(client_id=client.client_id, scope=["scim:read"])
    )
    seen = record_responses(session)
    token = session.fetch_token(
        token_url=prod.token_endpoint,
        client_id=client.client_id,
        client_secret=client.client_secret,
        include_client_id=True,
    )
    assert token["scope"] == ["scim:read"]
    sent = token_request(seen, prod.token_endpoint)
    assert "Authorization" not in sent.headers
    assert f"client_secret={client.client_secret}" in body_of(sent)

    assert session.get(f"{prod.scim_url()}/Users", timeout=10).status_code == 200
    denied = session.post(f"{prod.scim_url()}/Users", json=expect.new_user(), timeout=10)
    expect.insufficient_scope(denied, "scim:write")
    session.close()
