"""Sending forged or misused tokens to `serve scim` and checking how they are refused.

Every forged token carries the claims of a real, valid token of ours (the `Victim`'s), so the one
thing wrong with it is the attack. Each must be a 401 with `error="invalid_token"`; where the
server's log says which check refused it (`scimgate::credentials` at info), the test also names
the check, so an attack stopped by accident by another check does not hide a missing defence.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import requests

import expect
import forge
from servers import Client, Deployment, Tenant

# What `scimgate::credentials` logs as `why` (the Display of authz::jwt::VerifyError).
MALFORMED = "not a JWT"
ALGORITHM = "algorithm not accepted"
TYPE = "typ is not at+jwt"
CRITICAL = "unsupported critical header"
UNKNOWN_KEY = "no kid, or a kid this server never published"
SIGNATURE = "bad signature"
EXPIRED = "expired"
ISSUER = "wrong issuer"
AUDIENCE = "wrong audience"
REVOKED = "revoked"


@dataclass
class Victim:
    """A tenant with a client, one real token of each kind, and our published key."""

    tenant: Tenant
    client: Client
    token: str  # scim:read scim:write
    read_token: str  # scim:read only
    claims: dict
    kid: str
    jwk: dict
    jwks_text: str


def make_victim(prod: Deployment) -> Victim:
    tenant = prod.new_tenant("victim")
    client = prod.new_client(tenant)
    token = prod.access_token(client)
    parts = forge.split(token)
    jwks = requests.get(prod.jwks_url, timeout=10)
    jwk = next(k for k in jwks.json()["keys"] if k["kid"] == parts.header["kid"])
    return Victim(
        tenant=tenant,
        client=client,
        token=token,
        read_token=prod.access_token(client, scope="scim:read"),
        claims=parts.payload,
        kid=parts.header["kid"],
        jwk=jwk,
        jwks_text=jwks.text,
    )


def header(victim: Victim, **changes) -> dict:
    """Our own header (`typ`, `alg`, `kid`) with `changes`; a None value drops the member."""
    h = {"typ": "at+jwt", "alg": "ES256", "kid": victim.kid} | changes
    return {k: v for k, v in h.items() if v is not None}


def refused(prod: Deployment, token: str, *reasons: str, path: str = "/Users") -> None:
    """`token` gets 401 invalid_token from SCIM; the refusal is one of `reasons` when given."""
    request_id = f"attack-{secrets.token_hex(8)}"
    r = requests.get(
        f"{prod.scim_url()}{path}",
        headers=expect.bearer(token) | {"X-Request-Id": request_id},
        timeout=10,
    )
    expect.invalid_token(r)
    if reasons:
        why = prod.scim.refusal_reason(request_id)
        assert why in reasons, f"refused because {why!r}, expected {reasons}"


# The order n of the P-256 group (SEC 2 §2.4.2).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def signature_of_token(token: str, signature: bytes) -> str:
    h, p, _ = token.split(".")
    return f"{h}.{p}.{forge.b64url(signature)}"


def signature_of(victim: Victim, signature: bytes) -> str:
    return signature_of_token(victim.token, signature)
