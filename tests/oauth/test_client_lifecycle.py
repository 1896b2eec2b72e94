"""What support does to a client with the CLI, seen from the IdP's side: secret rotation with and
without overlap, client revocation, and Disconnect SCIM for a whole tenant. The CLI writes to
the database while the two server processes run; with token_cache_seconds = 0 both see it on
their next request."""

from __future__ import annotations

import datetime

import requests

import expect
from servers import Client, Deployment, Tenant

GRANT = {"grant_type": "client_credentials"}


def token_with(prod: Deployment, client_id: str, secret: str) -> requests.Response:
    return requests.post(prod.token_endpoint, auth=(client_id, secret), data=GRANT, timeout=10)


def users(prod: Deployment, token: str) -> requests.Response:
    return requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)


def create_user(prod: Deployment, token: str) -> dict:
    r = requests.post(
        f"{prod.scim_url()}/Users", json=expect.new_user(), headers=expect.bearer(token), timeout=10
    )
    assert r.status_code == 201, r.text
    return r.json()


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- rotation ------------------------------------------------------------------------------


def test_after_a_rotation_both_secrets_work_during_the_overlap(prod: Deployment, client: Client):
    rotated = prod.cli.run("client", "rotate", client.client_id, "--overlap", "1h", "--json")
    assert rotated["client_id"] == client.client_id
    assert rotated["client_secret"] != client.client_secret
    expires = parse_time(rotated["previous_secret_expires"])
    in_an_hour = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert abs((expires - in_an_hour).total_seconds()) < 300, rotated

    for secret in (client.client_secret, rotated["client_secret"]):
        token = expect.token_success(token_with(prod, client.client_id, secret))["access_token"]
        assert users(prod, token).status_code == 200


def test_a_rotation_without_overlap_retires_the_old_secret_at_once(
    prod: Deployment, client: Client
):
    rotated = prod.cli.run("client", "rotate", client.client_id, "--overlap", "0s", "--json")

    expect.invalid_client(token_with(prod, client.client_id, client.client_secret))
    expect.token_success(token_with(prod, client.client_id, rotated["client_secret"]))


def test_a_second_rotation_retires_the_first_secret(prod: Deployment, client: Client):
    first = prod.cli.run("client", "rotate", client.client_id, "--overlap", "1h", "--json")
    second = prod.cli.run("client", "rotate", client.client_id, "--overlap", "1h", "--json")

    # Only the secret just replaced overlaps: the original one is gone.
    expect.invalid_client(token_with(prod, client.client_id, client.client_secret))
    expect.token_success(token_with(prod, client.client_id, first["client_secret"]))
    expect.token_success(token_with(prod, client.client_id, second["client_secret"]))


# --- revocation ----------------------------------------------------------------------------


def test_a_revoked_client_can_neither_get_tokens_nor_use_the_ones_it_had(
    prod: Deployment, client: Client
):
    token = prod.access_token(client)
    assert users(prod, token).status_code == 200
    witness = prod.new_client(client.tenant)  # introspects for the same tenant

    out = prod.cli.run("client", "revoke", client.client_id, "--json")
    assert out == {"client_id": client.client_id, "revoked": True}

    expect.invalid_client(token_with(prod, client.client_id, client.client_secret))
    expect.invalid_token(users(prod, token))
    introspected = requests.post(
        prod.introspection_endpoint, auth=witness.basic, data={"token": token}, timeout=10
    )
    assert introspected.json() == {"active": False}

    shown = prod.cli.run("client", "show", client.client_id, "--json")
    assert shown["status"] == "revoked" and shown["revoked"], shown
    # The tenant's other client is untouched.
    assert users(prod, prod.access_token(witness)).status_code == 200


def test_a_revoked_client_cannot_be_brought_back_by_a_rotation(prod: Deployment, client: Client):
    prod.cli.run("client", "revoke", client.client_id, "--json")
    prod.cli.fail("client", "rotate", client.client_id, "--json")
    expect.invalid_client(token_with(prod, client.client_id, client.client_secret))
    assert prod.cli.run("client", "show", client.client_id, "--json")["status"] == "revoked"


def test_a_revoked_client_cannot_introspect_or_revoke(prod: Deployment, client: Client):
    token = prod.access_token(prod.new_client(client.tenant))
    prod.cli.run("client", "revoke", client.client_id, "--json")
    for endpoint in (prod.introspection_endpoint, prod.revocation_endpoint):
        expect.invalid_client(
            requests.post(endpoint, auth=client.basic, data={"token": token}, timeout=10)
        )


def test_client_list_shows_a_tenants_clients_without_secrets(prod: Deployment, tenant: Tenant):
    a, b = prod.new_client(tenant), prod.new_client(tenant, scope="scim:read")
    listed = prod.cli.run("client", "list", "--tenant", tenant.slug, "--json")
    by_id = {c["client_id"]: c for c in listed["clients"]}
    assert set(by_id) == {a.client_id, b.client_id}
    assert by_id[b.client_id]["scope"] == "scim:read"
    assert a.client_secret not in str(listed) and b.client_secret not in str(listed)


# --- Disconnect SCIM -----------------------------------------------------------------------


def test_disconnect_scim_shuts_out_every_credential_of_the_tenant_and_keeps_its_data(
    prod: Deployment,
):
    tenant, bystander = prod.new_tenant("disc"), prod.new_tenant("keep")
    clients = [prod.new_client(tenant), prod.new_client(tenant, scope="scim:read")]
    tokens = [prod.access_token(c) for c in clients]
    static = prod.new_static_token(tenant)
    user = create_user(prod, tokens[0])

    other = prod.new_client(bystander)
    other_token = prod.access_token(other)
    other_static = prod.new_static_token(bystander)

    out = prod.cli.run("tenant", "disconnect-scim", tenant.slug, "--json")
    assert out == {"tenant": tenant.slug, "clients_revoked": 2, "tokens_revoked": 1}

    for c in clients:
        expect.invalid_client(token_with(prod, c.client_id, c.client_secret))
    for credential in [*tokens, static]:
        expect.invalid_token(users(prod, credential))
        expect.invalid_token(
            requests.get(
                f"{prod.scim_url(tenant.slug)}/Users", headers=expect.bearer(credential), timeout=10
            )
        )

    # Another tenant keeps working, with every kind of credential.
    for credential in (other_token, other_static, prod.access_token(other)):
        assert users(prod, credential).status_code == 200

    # The data stays: a client registered afterwards sees the same user.
    fresh = prod.new_client(tenant)
    found = requests.get(
        f"{prod.scim_url()}/Users/{user['id']}",
        headers=expect.bearer(prod.access_token(fresh)),
        timeout=10,
    )
    assert found.status_code == 200, found.text
    assert found.json()["userName"] == user["userName"]


def test_disconnect_scim_of_a_tenant_without_credentials_revokes_nothing(
    prod: Deployment, tenant: Tenant
):
    out = prod.cli.run("tenant", "disconnect-scim", tenant.slug, "--json")
    assert out == {"tenant": tenant.slug, "clients_revoked": 0, "tokens_revoked": 0}


def test_static_tokens_keep_working_beside_oauth_clients(prod: Deployment, client: Client):
    static = prod.new_static_token(client.tenant)
    assert users(prod, static).status_code == 200
    create_user(prod, static)  # a static token carries both scopes
