"""Forged access tokens, the JWT attacks of RFC 8725 (JWT BCP) on a resource server accepting
RFC 9068 tokens: the algorithm, the type, `crit`, the signature, and where the key comes from.
Each is sent to `serve scim` and must be refused by the check named (see refusals.py)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import expect
import forge
from forge import Attacker
from refusals import (
    ALGORITHM,
    CRITICAL,
    MALFORMED,
    P256_ORDER,
    REVOKED,
    SIGNATURE,
    TYPE,
    UNKNOWN_KEY,
    Victim,
    header,
    refused,
    signature_of,
    signature_of_token,
)
from servers import Deployment


def test_the_genuine_token_is_accepted(prod: Deployment, victim: Victim):
    """The control: every attack below starts from this token's claims and our kid."""
    for token in (victim.token, victim.read_token):
        r = requests.get(f"{prod.scim_url()}/Users", headers=expect.bearer(token), timeout=10)
        assert r.status_code == 200, r.text


# --- RFC 8725 §2.1, §3.1: the algorithm is ours, never the token's --------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("trailing_dot", [True, False], ids=["with-dot", "without-dot"])
def test_an_unsigned_alg_none_token_is_refused(
    prod: Deployment, victim: Victim, alg: str, trailing_dot: bool
):
    token = forge.compact(header(victim, alg=alg), victim.claims, None)
    assert token.endswith(".")
    refused(prod, token if trailing_dot else token[:-1], MALFORMED, ALGORITHM)


def public_key_secrets(victim: Victim) -> dict[str, bytes]:
    """Every form of our public key an HS256 confusion attack might key the HMAC with."""
    public = forge.jwk_to_public_key(victim.jwk)
    pem = forge.public_pem(public)
    return {
        "pem": pem,
        "pem-without-newline": pem.rstrip(b"\n"),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "uncompressed-point": public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ),
        "jwk-json": json.dumps(victim.jwk).encode(),
        "jwk-json-compact": json.dumps(victim.jwk, separators=(",", ":")).encode(),
        "jwks-document": victim.jwks_text.encode(),
    }


@pytest.mark.parametrize(
    "form",
    [
        "pem",
        "pem-without-newline",
        "der",
        "uncompressed-point",
        "jwk-json",
        "jwk-json-compact",
        "jwks-document",
    ],
)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_our_public_key_is_refused(
    prod: Deployment, victim: Victim, form: str, alg: str
):
    sign = forge.hmac_signer(public_key_secrets(victim)[form], alg)
    refused(prod, forge.compact(header(victim, alg=alg), victim.claims, sign), ALGORITHM)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES384"])
def test_another_asymmetric_algorithm_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker, alg: str
):
    sign = {"RS256": attacker.rs256(), "PS256": attacker.ps256(), "ES384": attacker.es384()}[alg]
    refused(prod, forge.compact(header(victim, alg=alg), victim.claims, sign), ALGORITHM)


def test_a_lower_case_algorithm_name_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker
):
    refused(
        prod,
        forge.compact(header(victim, alg="es256"), victim.claims, attacker.es256()),
        MALFORMED,
        ALGORITHM,
    )


# --- RFC 8725 §3.11: explicit typing (RFC 9068 §4) -------------------------------------------


@pytest.mark.parametrize(
    "typ", ["JWT", "jwt", "application/jwt", "at+jwt ", "JOSE", "id_token+jwt", None]
)
def test_a_token_that_is_not_typed_at_jwt_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker, typ
):
    # Signed by the attacker under our kid: the type check comes before the signature, and
    # the log shows it is the one refusing.
    refused(prod, forge.compact(header(victim, typ=typ), victim.claims, attacker.es256()), TYPE)


@pytest.mark.parametrize("typ", ["JWT", None])
def test_our_token_with_its_typ_rewritten_is_refused(prod: Deployment, victim: Victim, typ):
    refused(prod, forge.with_header(victim.token, header(victim, typ=typ)), TYPE)


# --- RFC 7515 §4.1.11: crit ------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"], "exp": 9999999999}, {"crit": ["b64"], "b64": False}, {"crit": []}],
    ids=["crit-exp", "crit-b64", "crit-empty"],
)
def test_a_critical_header_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker, extra: dict
):
    refused(prod, forge.compact(header(victim, **extra), victim.claims, attacker.es256()), CRITICAL)


# --- RFC 8725 §2.1, §3.3: the signature covers every byte of header and payload -------------


@pytest.mark.parametrize(
    "change",
    [
        {"scope": "scim:read scim:write"},
        {"tenant": "00000000-0000-0000-0000-000000000000"},
        {"exp": 4102444800},
        {"client_id": "sgc_" + "0" * 32, "sub": "sgc_" + "0" * 32},
        {"aud": "https://elsewhere.invalid/scim/v2"},
    ],
    ids=[
        "scope-escalation",
        "tenant-switch",
        "lifetime-extended",
        "client-switch",
        "audience-changed",
    ],
)
def test_changed_claims_under_the_original_signature_are_refused(
    prod: Deployment, victim: Victim, change: dict
):
    base = forge.split(victim.read_token).payload
    refused(prod, forge.with_payload(victim.read_token, base | change), SIGNATURE)


def test_another_tenants_id_in_our_token_is_refused(prod: Deployment, victim: Victim):
    other = prod.new_tenant("other")
    base = forge.split(victim.token).payload
    refused(prod, forge.with_payload(victim.token, base | {"tenant": other.id}), SIGNATURE)


def test_a_re_encoded_header_breaks_the_signature(prod: Deployment, victim: Victim):
    original = forge.split(victim.token).header
    # Same members, other order and spacing: the signing input changed, so must the verdict.
    reordered = forge.b64url(json.dumps(dict(reversed(list(original.items()))), indent=1).encode())
    _, payload, signature = victim.token.split(".")
    refused(prod, f"{reordered}.{payload}.{signature}", SIGNATURE)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"alg": "ES384"}, (ALGORITHM,)),
        ({"alg": "HS256"}, (ALGORITHM,)),
        ({"alg": "none"}, (ALGORITHM, MALFORMED)),
        ({"kid": None}, (UNKNOWN_KEY,)),
    ],
    ids=["alg-ES384", "alg-HS256", "alg-none", "kid-removed"],
)
def test_our_signature_under_a_rewritten_header_is_refused(
    prod: Deployment, victim: Victim, changes, reasons
):
    refused(prod, forge.with_header(victim.token, header(victim, **changes)), *reasons)


def test_a_missing_signature_is_refused(prod: Deployment, victim: Victim):
    refused(prod, signature_of(victim, b""))


def test_an_all_zero_ecdsa_signature_is_refused(prod: Deployment, victim: Victim):
    # CVE-2022-21449 ("psychic signatures"): r = s = 0 verified as valid in some libraries.
    refused(prod, signature_of(victim, bytes(64)), SIGNATURE)


def test_a_signature_of_the_curve_order_is_refused(prod: Deployment, victim: Victim):
    refused(prod, signature_of(victim, P256_ORDER.to_bytes(32, "big") * 2), SIGNATURE)


def test_another_tokens_signature_is_refused(prod: Deployment, victim: Victim):
    refused(prod, signature_of(victim, forge.split(victim.read_token).signature), SIGNATURE)


def test_a_truncated_or_padded_signature_is_refused(prod: Deployment, victim: Victim):
    sig = forge.split(victim.token).signature
    refused(prod, signature_of(victim, sig[:-1]))
    refused(prod, signature_of(victim, sig + b"\x00"))
    refused(prod, victim.token + "==")


def test_revoking_a_token_also_revokes_its_malleated_twin(prod: Deployment, victim: Victim):
    """ECDSA signatures are malleable: (r, n - s) verifies as well as (r, s), so every token has
    a second valid spelling (RFC 7518 does not ask for low-s). Revocation must therefore go by
    jti, never by the token's text."""
    token = prod.access_token(victim.client)
    raw = forge.split(token).signature
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    twin = signature_of_token(token, r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big"))
    assert twin != token

    response = requests.post(
        prod.revocation_endpoint, auth=victim.client.basic, data={"token": token}, timeout=10
    )
    assert response.status_code == 200
    refused(prod, twin, REVOKED)
    refused(prod, token, REVOKED)


def test_our_own_signature_in_der_encoding_is_refused(prod: Deployment, victim: Victim):
    # The genuine signature, re-encoded as ASN.1 DER: RFC 7518 §3.4 wants exactly r || s.
    raw = forge.split(victim.token).signature
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    refused(prod, signature_of(victim, der), SIGNATURE)


# --- RFC 8725 §2.9, §3.10: keys are ours, picked by kid among those we publish, never fetched


@pytest.mark.parametrize(
    "kid",
    [forge.random_kid(), None, "", "../../../../../../dev/null", "' OR '1'='1", "*", "0" * 5000],
    ids=["random", "missing", "empty", "path-traversal", "sql-injection", "wildcard", "huge"],
)
def test_a_token_signed_by_an_unknown_key_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker, kid
):
    token = forge.compact(header(victim, kid=kid), victim.claims, attacker.es256())
    refused(prod, token, UNKNOWN_KEY)


def test_our_kid_on_an_attacker_signature_is_refused(
    prod: Deployment, victim: Victim, attacker: Attacker
):
    refused(prod, forge.compact(header(victim), victim.claims, attacker.es256()), SIGNATURE)


class KeyServer:
    """An attacker's web server that would hand out the attacker's keys; it counts every hit."""

    def __init__(self, attacker: Attacker):
        jwks = json.dumps({"keys": [attacker.p256_jwk]}).encode()
        cert = forge.self_signed_certificate(attacker.p256)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.hits.append(self.path)
                body = jwks if self.path.endswith(".json") else pem
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    def __enter__(self) -> KeyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def key_server(attacker: Attacker) -> Iterator[KeyServer]:
    with KeyServer(attacker) as server:
        # The server works: anything that fetched from it would be counted.
        assert requests.get(f"{server.url}/probe.json", timeout=5).status_code == 200
        server.hits.clear()
        yield server


def key_headers(attacker: Attacker, key_server: KeyServer) -> dict[str, dict]:
    jwk = attacker.p256_jwk
    return {
        "jku": {"jku": f"{key_server.url}/jwks.json"},
        "x5u": {"x5u": f"{key_server.url}/cert.pem"},
        "jwk": {"jwk": {k: jwk[k] for k in ("kty", "crv", "x", "y")}},
        "x5c": {"x5c": [key_server.cert_b64]},
        "all": {
            "jku": f"{key_server.url}/jwks.json",
            "x5u": f"{key_server.url}/cert.pem",
            "jwk": {k: jwk[k] for k in ("kty", "crv", "x", "y")},
            "x5c": [key_server.cert_b64],
        },
    }


@pytest.mark.parametrize("which", ["jku", "x5u", "jwk", "x5c", "all"])
@pytest.mark.parametrize("kid_is", ["attackers", "ours"])
def test_keys_named_or_embedded_in_the_header_are_never_used_nor_fetched(
    prod: Deployment,
    victim: Victim,
    attacker: Attacker,
    key_server: KeyServer,
    which: str,
    kid_is: str,
):
    kid = attacker.p256_jwk["kid"] if kid_is == "attackers" else victim.kid
    extra = key_headers(attacker, key_server)[which]
    token = forge.compact(header(victim, kid=kid, **extra), victim.claims, attacker.es256())
    # The headers are read and ignored (not a parse failure that would hide whether they are).
    refused(prod, token, UNKNOWN_KEY if kid_is == "attackers" else SIGNATURE)

    # The authorization server verifies with the same code: introspection must not fetch either.
    r = requests.post(
        prod.introspection_endpoint, auth=victim.client.basic, data={"token": token}, timeout=10
    )
    assert r.json() == {"active": False}
    assert key_server.hits == [], f"scimgate fetched {key_server.hits}"
