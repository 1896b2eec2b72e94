"""The token endpoint's refusals (RFC 6749 §3.2, §5.2; RFC 8707 §2) and scope narrowing (§3.3)
down to what SCIM then allows (RFC 6750 §3.1), with raw requests so every parameter is ours."""

from __future__ import annotations

import pytest
import requests

import expect
import forge
from servers import Client, Deployment

GRANT = {"grant_type": "client_credentials"}


def post(prod: Deployment, **kwargs) -> requests.Response:
    return requests.post(prod.token_endpoint, timeout=10, **kwargs)


# --- success ------------------------------------------------------------------------------


def test_a_token_answer_is_not_to_be_cached(prod: Deployment, client: Client):
    body = expect.token_success(post(prod, auth=client.basic, data=GRANT))
    assert body["scope"] == "scim:read scim:write"
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh token


def test_client_secret_post_gets_a_token(prod: Deployment, client: Client):
    data = GRANT | {"client_id": client.client_id, "client_secret": client.client_secret}
    expect.token_success(post(prod, data=data))


def test_a_basic_client_may_repeat_its_client_id_in_the_body(prod: Deployment, client: Client):
    expect.token_success(
        post(prod, auth=client.basic, data=GRANT | {"client_id": client.client_id})
    )


def test_the_resource_parameter_may_name_the_scim_api(prod: Deployment, client: Client):
    body = expect.token_success(
        post(prod, auth=client.basic, data=GRANT | {"resource": prod.audience})
    )
    assert forge.split(body["access_token"]).payload["aud"] == prod.audience


# --- scope ---------------------------------------------------------------------------------


def test_a_read_only_token_reads_but_may_not_write(prod: Deployment, client: Client):
    body = expect.token_success(post(prod, auth=client.basic, data=GRANT | {"scope": "scim:read"}))
    assert body["scope"] == "scim:read"
    token = body["access_token"]

    listed = requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)
    assert listed.status_code == 200, listed.text
    denied = requests.post(
        f"{prod.scim_url()}/Users", json=expect.new_user(), headers=expect.bearer(token), timeout=10
    )
    expect.insufficient_scope(denied, "scim:write")


def test_a_write_only_token_may_not_read(prod: Deployment, client: Client):
    token = prod.access_token(client, scope="scim:write")
    denied = requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)
    expect.insufficient_scope(denied, "scim:read")
    created = requests.post(
        f"{prod.scim_url()}/Users", json=expect.new_user(), headers=expect.bearer(token), timeout=10
    )
    assert created.status_code == 201, created.text


def test_a_read_only_token_may_search_but_not_send_a_bulk_request(prod: Deployment, client: Client):
    token = prod.access_token(client, scope="scim:read")
    search = requests.post(
        f"{prod.scim_url()}/Users/.search",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]},
        headers=expect.bearer(token),
        timeout=10,
    )
    assert search.status_code == 200, search.text
    bulk = requests.post(
        f"{prod.scim_url()}/Bulk",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []},
        headers=expect.bearer(token),
        timeout=10,
    )
    expect.insufficient_scope(bulk, "scim:write")


def test_a_read_only_client_cannot_ask_for_write(prod: Deployment):
    reader = prod.new_client(prod.new_tenant(), scope="scim:read")
    body = expect.token_success(post(prod, auth=reader.basic, data=GRANT))
    assert body["scope"] == "scim:read"  # by default, everything the client may have
    expect.oauth_error(
        post(prod, auth=reader.basic, data=GRANT | {"scope": "scim:read scim:write"}),
        400,
        "invalid_scope",
    )


def test_an_unknown_scope_is_invalid_scope(prod: Deployment, client: Client):
    expect.oauth_error(
        post(prod, auth=client.basic, data=GRANT | {"scope": "scim:read admin"}),
        400,
        "invalid_scope",
    )


def test_an_empty_scope_parameter_counts_as_omitted(prod: Deployment, client: Client):
    # RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted
    # from the request."
    body = expect.token_success(post(prod, auth=client.basic, data=GRANT | {"scope": ""}))
    assert body["scope"] == "scim:read scim:write"


# --- refusals ------------------------------------------------------------------------------


def test_another_resource_is_invalid_target(prod: Deployment, client: Client):
    r = post(
        prod, auth=client.basic, data=GRANT | {"resource": "https://elsewhere.example/scim/v2"}
    )
    expect.oauth_error(r, 400, "invalid_target")


@pytest.mark.parametrize(
    "grant",
    [
        "password",
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
)
def test_a_grant_other_than_client_credentials_is_unsupported(
    prod: Deployment, client: Client, grant: str
):
    expect.oauth_error(
        post(prod, auth=client.basic, data={"grant_type": grant}), 400, "unsupported_grant_type"
    )


def test_a_request_without_grant_type_is_invalid_request(prod: Deployment, client: Client):
    expect.oauth_error(
        post(prod, auth=client.basic, data={"scope": "scim:read"}), 400, "invalid_request"
    )


def test_two_authentication_methods_at_once_are_invalid_request(prod: Deployment, client: Client):
    # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    data = GRANT | {"client_id": client.client_id, "client_secret": client.client_secret}
    expect.oauth_error(post(prod, auth=client.basic, data=data), 400, "invalid_request")


def test_a_basic_client_naming_another_client_in_the_body_is_invalid_request(
    prod: Deployment, client: Client
):
    other = prod.new_client(client.tenant)
    r = post(prod, auth=client.basic, data=GRANT | {"client_id": other.client_id})
    expect.oauth_error(r, 400, "invalid_request")


def test_a_json_body_is_invalid_request(prod: Deployment, client: Client):
    expect.oauth_error(post(prod, auth=client.basic, json=GRANT), 400, "invalid_request")


def test_a_repeated_parameter_is_invalid_request(prod: Deployment, client: Client):
    # RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    data = [("grant_type", "client_credentials"), ("scope", "scim:read"), ("scope", "scim:write")]
    expect.oauth_error(post(prod, auth=client.basic, data=data), 400, "invalid_request")


def test_a_secret_in_the_url_is_refused(prod: Deployment, client: Client):
    # RFC 6749 §2.3.1: the credentials "MUST NOT be included in the request URI".
    r = post(
        prod,
        params={"client_id": client.client_id, "client_secret": client.client_secret},
        data=GRANT | {"client_id": client.client_id, "client_secret": client.client_secret},
    )
    expect.oauth_error(r, 400, "invalid_request")


def test_get_is_not_a_token_request(prod: Deployment, client: Client):
    r = requests.get(prod.token_endpoint, auth=client.basic, params=GRANT, timeout=10)
    expect.oauth_error(r, 405, "invalid_request")


def test_a_405_names_the_method_that_is_allowed(prod: Deployment):
    for endpoint in (prod.token_endpoint, prod.introspection_endpoint, prod.revocation_endpoint):
        r = requests.get(endpoint, timeout=10)
        assert r.status_code == 405, r.text
        assert r.headers.get("Allow") == "POST", (endpoint, dict(r.headers))
    r = requests.post(prod.jwks_url, timeout=10)
    assert r.status_code == 405 and r.headers.get("Allow") == "GET, HEAD", dict(r.headers)


def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(prod: Deployment, client: Client):
    wrong = expect.invalid_client(
        post(prod, auth=(client.client_id, client.client_secret + "x"), data=GRANT)
    )
    unknown = expect.invalid_client(
        post(prod, auth=("sgc_" + "0" * 32, client.client_secret), data=GRANT)
    )
    # The same answer for an unknown client and a wrong secret: ids cannot be enumerated.
    assert wrong == unknown


def test_a_wrong_posted_secret_is_invalid_client(prod: Deployment, client: Client):
    data = GRANT | {"client_id": client.client_id, "client_secret": "scimgate_cs_nope"}
    expect.invalid_client(post(prod, data=data))


def test_no_client_authentication_is_invalid_client(prod: Deployment):
    expect.invalid_client(post(prod, data=GRANT))


def test_a_bearer_credential_is_not_client_authentication(prod: Deployment, client: Client):
    token = prod.access_token(client)
    expect.invalid_client(post(prod, headers=expect.bearer(token), data=GRANT))


def test_a_scim_static_token_cannot_get_an_access_token(prod: Deployment, client: Client):
    static = prod.new_static_token(client.tenant)
    expect.invalid_client(post(prod, auth=(client.client_id, static), data=GRANT))


def test_error_descriptions_use_only_the_characters_rfc_6749_allows(
    prod: Deployment, client: Client
):
    answers = [
        post(prod, auth=client.basic, data=GRANT | {"scope": "scim:read admin"}),
        post(prod, auth=client.basic, data={"grant_type": "password"}),
        post(prod, auth=client.basic, data=[("grant_type", "client_credentials")] * 2),
    ]
    for r in answers:
        assert r.status_code == 400, r.text
        description = r.json()["error_description"]
        allowed = all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)
        assert allowed, description
