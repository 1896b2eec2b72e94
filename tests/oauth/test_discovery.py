"""RFC 8414 metadata and the RFC 7517 JWK Set, and PyJWT verifying our RFC 9068 access tokens
from nothing but what the metadata document publishes."""

from __future__ import annotations

import time

import jwt
import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

import expect
import forge
from servers import Client, Deployment

RFC9068_CLAIMS = {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"}


def metadata(prod: Deployment) -> dict:
    r = requests.get(prod.metadata_url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    return r.json()


def test_the_metadata_document_describes_this_authorization_server(prod: Deployment):
    doc = metadata(prod)
    # RFC 8414 §3.3: the issuer is the URL the document was fetched under, less the well-known part.
    assert doc["issuer"] == prod.issuer
    assert f"{doc['issuer']}/.well-known/oauth-authorization-server" == prod.metadata_url
    assert doc["token_endpoint"] == f"{prod.issuer}/oauth/token"
    assert doc["jwks_uri"] == f"{prod.issuer}/.well-known/jwks.json"
    assert doc["introspection_endpoint"] == f"{prod.issuer}/oauth/introspect"
    assert doc["revocation_endpoint"] == f"{prod.issuer}/oauth/revoke"
    assert doc["grant_types_supported"] == ["client_credentials"]
    methods = {"client_secret_basic", "client_secret_post"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == methods
    assert set(doc["introspection_endpoint_auth_methods_supported"]) == methods
    assert set(doc["revocation_endpoint_auth_methods_supported"]) == methods
    assert set(doc["scopes_supported"]) == {"scim:read", "scim:write", "admin"}
    # No authorization endpoint: no browser flow, so nothing that would need one is offered.
    assert "authorization_endpoint" not in doc
    assert "none" not in doc["token_endpoint_auth_methods_supported"]


def test_authlib_validates_the_metadata_document(prod: Deployment):
    """authlib's RFC 8414 validator (required members, URL forms, value types), every rule but
    one: it takes an empty `response_types_supported` for a missing one. RFC 8414 §2 makes the
    member REQUIRED without exempting servers that have no authorization endpoint; this one
    has none, so it lists no response type, which is the honest answer, and is asserted here."""
    doc = AuthorizationServerMetadata(metadata(prod))
    assert doc["response_types_supported"] == []
    keys = [k for k in doc.REGISTRY_KEYS if k != "response_types_supported"]
    assert len(keys) >= 20, keys
    for key in keys:
        object.__getattribute__(doc, f"validate_{key}")()


def test_every_endpoint_the_metadata_names_answers(prod: Deployment):
    doc = metadata(prod)
    for endpoint in ("token_endpoint", "introspection_endpoint", "revocation_endpoint"):
        r = requests.post(
            doc[endpoint], data={"token": "x", "grant_type": "client_credentials"}, timeout=10
        )
        expect.invalid_client(r)  # reachable, and asks for client authentication
    jwks = requests.get(doc["jwks_uri"], timeout=10)
    assert jwks.status_code == 200
    assert jwks.json()["keys"]


def test_the_jwks_publishes_only_public_p256_keys_named_by_their_thumbprint(prod: Deployment):
    keys = requests.get(prod.jwks_url, timeout=10).json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "EC" and key["crv"] == "P-256", key
        assert key["alg"] == "ES256" and key["use"] == "sig", key
        assert "d" not in key, "a private key member is published"
        assert key["kid"] == forge.thumbprint(key), key  # RFC 7638
        forge.jwk_to_public_key(key)  # a point on the curve


def test_the_issuer_of_every_token_is_the_metadata_issuer(prod: Deployment, client: Client):
    token = prod.access_token(client)
    assert forge.split(token).payload["iss"] == metadata(prod)["issuer"]


def test_pyjwt_verifies_an_access_token_with_the_published_jwks(prod: Deployment, client: Client):
    doc = metadata(prod)
    response = expect.token_success(prod.token_response(client))
    token = response["access_token"]

    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert header["alg"] == "ES256"
    published = {k["kid"] for k in requests.get(doc["jwks_uri"], timeout=10).json()["keys"]}
    assert header["kid"] in published
    assert set(header) == {"typ", "alg", "kid"}

    jwks = jwt.PyJWKClient(doc["jwks_uri"], cache_keys=False)
    signing_key = jwks.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256"],
        audience=prod.audience,
        issuer=doc["issuer"],
        options={"require": sorted(RFC9068_CLAIMS)},
    )

    # RFC 9068 §2.2, for a client acting on its own behalf.
    assert set(claims) - {"nbf"} == RFC9068_CLAIMS | {"scope", "tenant"}
    assert claims["iss"] == prod.issuer
    assert claims["aud"] == prod.audience
    assert claims["sub"] == client.client_id
    assert claims["client_id"] == client.client_id
    assert claims["scope"] == "scim:read scim:write" == response["scope"]
    assert claims["tenant"] == client.tenant.id
    assert claims["exp"] - claims["iat"] == response["expires_in"] == 3600
    assert abs(claims["iat"] - time.time()) < 120  # same machine, same clock
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_every_token_has_its_own_jti(prod: Deployment, client: Client):
    jtis = {forge.split(prod.access_token(client)).payload["jti"] for _ in range(3)}
    assert len(jtis) == 3


def test_head_is_served_wherever_get_is(prod: Deployment):
    # RFC 9110 §9.1: GET and HEAD are the methods every general-purpose server supports.
    for url in (prod.metadata_url, prod.jwks_url):
        r = requests.head(url, timeout=10)
        assert r.status_code == 200, (url, r.status_code)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        assert r.content == b""
