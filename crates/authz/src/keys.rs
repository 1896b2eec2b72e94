//! Access-token signing keys: ES256 (ECDSA P-256, RFC 7518 §3.4) key pairs made with aws-lc-rs,
//! their public halves as JWKs (RFC 7517) with the RFC 7638 thumbprint as `kid`, and their
//! private halves sealed at rest with AES-256-GCM under a key-encryption key from config.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::{self, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use scimgate_domain::oauth::SigningKeyRecord;
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

/// The one signing algorithm; verification accepts nothing else (RFC 8725 §3.1).
pub const ALG: &str = "ES256";
const SEALED_PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("security.key_encryption_key must be at least 32 bytes")]
    ShortKek,
    #[error("cannot make a signing key: {0}")]
    Generate(&'static str),
    #[error("cannot open signing key {kid}: wrong security.key_encryption_key, or a corrupt row")]
    Open { kid: String },
    #[error("signing key {kid} is not usable: {why}")]
    Invalid { kid: String, why: String },
}

/// The key that seals signing keys at rest: AES-256-GCM under HKDF-SHA-256 of the configured
/// secret, so any 32+ byte secret works.
pub struct KeyEncryptionKey(LessSafeKey);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

impl KeyEncryptionKey {
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::ShortKek);
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"scimgate").extract(secret);
        let okm = prk
            .expand(&[b"signing-key-encryption v1"], &AES_256_GCM)
            .map_err(|_| KeyError::Generate("hkdf"))?;
        let key = UnboundKey::from(okm);
        Ok(Self(LessSafeKey::new(key)))
    }

    /// `v1.` + base64url(nonce ‖ ciphertext ‖ tag); the kid is the associated data, so a
    /// sealed key moved to another row does not open.
    fn seal(&self, kid: &str, plain: &[u8]) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).map_err(|_| KeyError::Generate("random"))?;
        let mut buf = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KeyError::Generate("seal"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let err = || KeyError::Open {
            kid: kid.to_owned(),
        };
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .ok_or_else(err)?;
        if raw.len() < NONCE_LEN {
            return Err(err());
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| err())?;
        let mut buf = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .map_err(|_| err())?;
        Ok(plain.to_vec())
    }
}

/// A private key ready to sign.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A public key ready to verify, with its JWK for the JWKS document.
pub struct VerifyingKey {
    pub kid: String,
    pub decoding: DecodingKey,
    pub jwk: Value,
    /// Tokens signed with it are refused after this instant (retired keys only).
    pub accepted_until: Option<Timestamp>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("accepted_until", &self.accepted_until)
            .finish_non_exhaustive()
    }
}

/// The public JWK of an uncompressed P-256 point (`04 ‖ x ‖ y`), its kid being the RFC 7638
/// thumbprint (SHA-256 over the required members in lexicographic order).
fn public_jwk(point: &[u8]) -> Result<(String, Value), KeyError> {
    if point.len() != 65 || point[0] != 4 {
        return Err(KeyError::Generate("unexpected public key encoding"));
    }
    let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&point[33..]);
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y,
        "kid": kid, "use": "sig", "alg": ALG,
    });
    Ok((kid, jwk))
}

/// A new ES256 key: the record to store (private key sealed) and the key to sign with.
pub fn generate(
    kek: &KeyEncryptionKey,
    now: Timestamp,
) -> Result<(SigningKeyRecord, SigningKey), KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| KeyError::Generate("ecdsa"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| KeyError::Generate("ecdsa"))?;
    let (kid, jwk) = public_jwk(pair.public_key().as_ref())?;
    let record = SigningKeyRecord {
        sealed_private_key: kek.seal(&kid, pkcs8.as_ref())?,
        kid: kid.clone(),
        alg: ALG.to_owned(),
        public_jwk: jwk.to_string(),
        created: now,
        retired: None,
    };
    let key = SigningKey {
        kid,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
    };
    Ok((record, key))
}

/// Opens a stored key for signing; the public key must match the sealed private key.
pub fn open(record: &SigningKeyRecord, kek: &KeyEncryptionKey) -> Result<SigningKey, KeyError> {
    let pkcs8 = kek.open(&record.kid, &record.sealed_private_key)?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(|_| {
            KeyError::Invalid {
                kid: record.kid.clone(),
                why: "not a P-256 PKCS#8 key".into(),
            }
        })?;
    let (kid, _) = public_jwk(pair.public_key().as_ref())?;
    if kid != record.kid {
        return Err(KeyError::Invalid {
            kid: record.kid.clone(),
            why: "the private key does not match the kid".into(),
        });
    }
    Ok(SigningKey {
        kid,
        encoding: EncodingKey::from_ec_der(&pkcs8),
    })
}

/// The public half of a stored key; `accepted_until` is computed by the caller's policy.
pub fn verifying(
    record: &SigningKeyRecord,
    accepted_until: Option<Timestamp>,
) -> Result<VerifyingKey, KeyError> {
    let invalid = |why: &str| KeyError::Invalid {
        kid: record.kid.clone(),
        why: why.to_owned(),
    };
    if record.alg != ALG {
        return Err(invalid("unsupported algorithm"));
    }
    let jwk: Value = serde_json::from_str(&record.public_jwk).map_err(|_| invalid("bad JWK"))?;
    let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else {
        return Err(invalid("JWK without x and y"));
    };
    let decoding = DecodingKey::from_ec_components(x, y).map_err(|_| invalid("bad JWK"))?;
    Ok(VerifyingKey {
        kid: record.kid.clone(),
        decoding,
        jwk,
        accepted_until,
    })
}

/// Webhook secrets and other values the service reads back are sealed with the same key,
/// under a different associated-data namespace than signing keys (`context` is prefixed).
impl scimgate_domain::secrets::SecretBox for KeyEncryptionKey {
    fn seal(
        &self,
        context: &str,
        plain: &[u8],
    ) -> Result<String, scimgate_domain::secrets::SealError> {
        self.seal(&format!("secret:{context}"), plain)
            .map_err(|_| scimgate_domain::secrets::SealError("seal"))
    }
    fn open(
        &self,
        context: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, scimgate_domain::secrets::SealError> {
        KeyEncryptionKey::open(self, &format!("secret:{context}"), sealed)
            .map_err(|_| scimgate_domain::secrets::SealError("open"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(byte: u8) -> KeyEncryptionKey {
        KeyEncryptionKey::new(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_generated_key_opens_again_only_with_the_same_kek() {
        let (record, key) = generate(&kek(1), Timestamp::now()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.kid, record.kid);
        assert!(record.sealed_private_key.starts_with("v1."));
        assert!(!record.sealed_private_key.contains("PRIVATE"));
        assert!(open(&record, &kek(1)).is_ok());
        assert!(matches!(open(&record, &kek(2)), Err(KeyError::Open { .. })));
    }

    #[test]
    fn a_sealed_key_does_not_open_under_another_kid() {
        let (mut record, _) = generate(&kek(1), Timestamp::now()).unwrap_or_else(|e| panic!("{e}"));
        record.kid = "someone-else".into();
        assert!(open(&record, &kek(1)).is_err());
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint_of_the_public_jwk() {
        let (record, _) = generate(&kek(1), Timestamp::now()).unwrap_or_else(|e| panic!("{e}"));
        let jwk: Value = serde_json::from_str(&record.public_jwk).unwrap_or_default();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap_or_default(),
            jwk["y"].as_str().unwrap_or_default()
        );
        let thumb = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
        assert_eq!(record.kid, thumb);
        assert_eq!(jwk["kid"], record.kid.as_str());
        assert_eq!(jwk["alg"], "ES256");
        assert!(jwk.get("d").is_none(), "the public JWK has no private part");
    }

    #[test]
    fn a_short_key_encryption_key_is_refused() {
        assert!(matches!(
            KeyEncryptionKey::new(b"short"),
            Err(KeyError::ShortKek)
        ));
    }
}
