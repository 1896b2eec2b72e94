"""A support engineer's whole workflow through the admin API, checking that what the document
promises really happens at the OAuth2 token endpoint and the SCIM API."""

import base64
import json

import requests

from test_operations import (
    CLIENT, CLIENTS, DISCONNECT, KEYS, KEYS_ROTATE, REVOKE, ROTATE, T, TENANT, TOKEN_REVOKE, TOKENS,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def token_request(server, client_id, secret):
    return requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=5,
    )


def access_token(server, client_id, secret) -> str:
    r = token_request(server, client_id, secret)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def scim(server, bearer, method="GET", path="/Users", body=None):
    headers = {"Authorization": f"Bearer {bearer}"}
    if body is not None:
        headers["Content-Type"] = "application/scim+json"
    return requests.request(method, f"{server.base}/scim/v2{path}", headers=headers,
                            data=None if body is None else json.dumps(body), timeout=5)


def jwt_kid(token: str) -> str:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def test_support_workflow(api, server, slug):
    # 1. A tenant for the new customer.
    resp, tenant = api.expect(201, "POST", T, json_body={"slug": slug, "name": "Workflow Inc"}, valid_request=True)
    assert resp.headers["Location"] == f"/admin/v1/tenants/{slug}"
    assert requests.get(server.base + resp.headers["Location"], timeout=5,
                        headers={"Authorization": f"Bearer {api.token}"}).json() == tenant

    # 2. An OAuth2 client for its IdP: the secret is shown once, never again.
    resp, client = api.expect(201, "POST", CLIENTS, slug=slug, json_body={"name": "Okta"}, valid_request=True)
    assert resp.headers["Cache-Control"] == "no-store"
    cid, first_secret = client["client_id"], client["client_secret"]
    assert first_secret.startswith("scimgate_cs_")
    resp, shown = api.expect(200, "GET", CLIENT, slug=slug, client_id=cid)
    assert "client_secret" not in shown and first_secret not in resp.text
    resp, listed = api.expect(200, "GET", CLIENTS, slug=slug)
    assert [c["client_id"] for c in listed["clients"]] == [cid]
    assert first_secret not in resp.text
    early_access = access_token(server, cid, first_secret)
    assert scim(server, early_access).status_code == 200

    # 3. Rotation with an overlap: both secrets work until it ends...
    resp, rotated = api.expect(200, "POST", ROTATE, slug=slug, client_id=cid,
                               json_body={"overlap_seconds": 3600}, valid_request=True)
    assert resp.headers["Cache-Control"] == "no-store"
    second_secret = rotated["client_secret"]
    assert second_secret != first_secret
    assert token_request(server, cid, first_secret).status_code == 200
    assert token_request(server, cid, second_secret).status_code == 200
    resp, _ = api.expect(200, "GET", CLIENTS, slug=slug)
    assert second_secret not in resp.text
    # ... and rotating again keeps only the latest previous secret; overlap 0 ends it at once.
    _, rotated = api.expect(200, "POST", ROTATE, slug=slug, client_id=cid,
                            json_body={"overlap_seconds": 0}, valid_request=True)
    third_secret = rotated["client_secret"]
    assert token_request(server, cid, first_secret).status_code == 401
    assert token_request(server, cid, second_secret).status_code == 401
    assert token_request(server, cid, third_secret).status_code == 200
    # Tokens issued before a rotation stay valid.
    assert scim(server, early_access).status_code == 200

    # 4. Revocation: the secret and the access tokens already issued stop at once.
    _, revoked = api.expect(200, "POST", REVOKE, slug=slug, client_id=cid)
    assert revoked["status"] == "revoked"
    assert token_request(server, cid, third_secret).status_code == 401
    assert scim(server, early_access).status_code == 401
    api.expect(409, "POST", ROTATE, slug=slug, client_id=cid)

    # 5. A static token: shown once, listed without it.
    resp, token = api.expect(201, "POST", TOKENS, slug=slug, json_body={}, valid_request=True)
    assert resp.headers["Cache-Control"] == "no-store"
    secret_token = token["token"]
    created = scim(server, secret_token, "POST", "/Users", {
        "schemas": [USER_SCHEMA], "userName": f"ann@{slug}.example",
        "emails": [{"value": f"ann@{slug}.example", "primary": True}],
    })
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    resp, tokens = api.expect(200, "GET", TOKENS, slug=slug)
    assert tokens == {"tokens": [{k: v for k, v in token.items() if k != "token"}]}
    assert secret_token not in resp.text

    # 6. Revoking the token: refused at once.
    _, body = api.expect(200, "POST", TOKEN_REVOKE, slug=slug, token_id=token["id"])
    assert body == {"id": token["id"], "revoked": True}
    assert scim(server, secret_token).status_code == 401
    assert api.expect(200, "GET", TOKENS, slug=slug)[1]["tokens"][0]["revoked"] is not None

    # 7. Disconnect SCIM: every credential stops, the data stays.
    live_token = api.expect(201, "POST", TOKENS, slug=slug)[1]["token"]
    live_client = api.expect(201, "POST", CLIENTS, slug=slug)[1]
    live_access = access_token(server, live_client["client_id"], live_client["client_secret"])
    assert scim(server, live_token).status_code == 200
    assert scim(server, live_access).status_code == 200
    _, done = api.expect(200, "POST", DISCONNECT, slug=slug)
    assert done == {"tenant": slug, "clients_revoked": 1, "tokens_revoked": 1}
    assert scim(server, live_token).status_code == 401
    assert scim(server, live_access).status_code == 401
    assert token_request(server, live_client["client_id"], live_client["client_secret"]).status_code == 401
    assert api.expect(200, "GET", TENANT, slug=slug)[1] == tenant
    reconnect = api.expect(201, "POST", TOKENS, slug=slug)[1]["token"]
    again = scim(server, reconnect, "GET", f"/Users/{user_id}")
    assert again.status_code == 200 and again.json()["userName"] == f"ann@{slug}.example"

    # 8. Signing keys: list, rotate, new tokens carry the new kid, the old key still verifies.
    _, keys = api.expect(200, "GET", KEYS)
    old_kid = next(k["kid"] for k in keys["keys"] if k["status"] == "current")
    fresh = api.expect(201, "POST", CLIENTS, slug=slug)[1]
    before = access_token(server, fresh["client_id"], fresh["client_secret"])
    assert jwt_kid(before) == old_kid
    _, rotated_key = api.expect(200, "POST", KEYS_ROTATE)
    _, keys = api.expect(200, "GET", KEYS)
    assert keys["keys"][0] == {**keys["keys"][0], "kid": rotated_key["kid"], "status": "current", "retired": None}
    assert next(k for k in keys["keys"] if k["kid"] == old_kid)["status"] == "retired"
    after = access_token(server, fresh["client_id"], fresh["client_secret"])
    assert jwt_kid(after) == rotated_key["kid"]
    assert scim(server, before).status_code == 200
    assert scim(server, after).status_code == 200
    jwks = requests.get(f"{server.base}/.well-known/jwks.json", timeout=5).json()
    assert {old_kid, rotated_key["kid"]} <= {k["kid"] for k in jwks["keys"]}
