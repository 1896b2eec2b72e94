"""Forging JWS compact tokens by hand for the RFC 8725 attacks: every byte of the header, the
payload and the signature is ours to choose, which no JWT library allows (PyJWT, rightly,
refuses to HMAC with a public key). Only `cryptography` primitives are used to sign.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class Parts:
    """A compact JWS taken apart: the decoded header and payload, and the raw segments."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes
    segments: list[str]


def split(token: str) -> Parts:
    segments = token.split(".")
    assert len(segments) == 3, token
    return Parts(
        header=json.loads(unb64url(segments[0])),
        payload=json.loads(unb64url(segments[1])),
        signature=unb64url(segments[2]),
        segments=segments,
    )


def compact(header: dict[str, Any], payload: dict[str, Any], sign: Signer | None) -> str:
    """`b64(header).b64(payload).b64(sign(signing input))`; an empty signature when `sign` is
    None (the trailing dot stays, as RFC 7519 §6.1 writes unsecured JWTs)."""
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64url(signature)}"


def with_header(token: str, header: dict[str, Any]) -> str:
    """The token with its header segment replaced, payload and signature kept byte for byte."""
    _, payload, signature = token.split(".")
    return f"{b64url_json(header)}.{payload}.{signature}"


def with_payload(token: str, payload: dict[str, Any]) -> str:
    """The token with its payload segment replaced, header and signature kept byte for byte."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url_json(payload)}.{signature}"


# --- signers -------------------------------------------------------------------------------


def ecdsa_signer(key: ec.EllipticCurvePrivateKey, hash_alg: hashes.HashAlgorithm) -> Signer:
    """JWS ECDSA: the raw `r || s`, each the curve's size (RFC 7518 §3.4), not DER."""
    size = (key.curve.key_size + 7) // 8

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_alg)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def rs256_signer(key: rsa.RSAPrivateKey) -> Signer:
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def ps256_signer(key: rsa.RSAPrivateKey) -> Signer:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return lambda data: key.sign(data, pss, hashes.SHA256())


def hmac_signer(secret: bytes, alg: str = "HS256") -> Signer:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return lambda data: hmac.new(secret, data, digest).digest()


# --- keys ----------------------------------------------------------------------------------


def ec_public_jwk(key: ec.EllipticCurvePublicKey, alg: str = "ES256") -> dict[str, Any]:
    numbers = key.public_numbers()
    size = (key.curve.key_size + 7) // 8
    crv = {256: "P-256", 384: "P-384", 521: "P-521"}[key.curve.key_size]
    jwk = {
        "kty": "EC",
        "crv": crv,
        "x": b64url(numbers.x.to_bytes(size, "big")),
        "y": b64url(numbers.y.to_bytes(size, "big")),
    }
    return {**jwk, "kid": thumbprint(jwk), "alg": alg, "use": "sig"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace."""
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "RSA": ("e", "kty", "n"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def jwk_to_public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256", jwk
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64url(jwk["x"]), "big"),
        int.from_bytes(unb64url(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key()


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.invalid")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


@dataclass
class Attacker:
    """Keys an attacker controls, made once per session."""

    p256: ec.EllipticCurvePrivateKey
    p384: ec.EllipticCurvePrivateKey
    rsa: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> Attacker:
        return cls(
            p256=ec.generate_private_key(ec.SECP256R1()),
            p384=ec.generate_private_key(ec.SECP384R1()),
            rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )

    @property
    def p256_jwk(self) -> dict[str, Any]:
        return ec_public_jwk(self.p256.public_key())

    def es256(self) -> Signer:
        return ecdsa_signer(self.p256, hashes.SHA256())

    def es384(self) -> Signer:
        return ecdsa_signer(self.p384, hashes.SHA384())

    def rs256(self) -> Signer:
        return rs256_signer(self.rsa)

    def ps256(self) -> Signer:
        return ps256_signer(self.rsa)


def random_kid() -> str:
    return b64url(secrets.token_bytes(32))
