//! Verification against real ES256 keys: what we issue is accepted, and each RFC 8725 / RFC 9700
//! attack that applies to a bearer JWT is refused for the right reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
use aws_lc_rs::{hmac, rand::SystemRandom, signature::EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scimgate_domain::ids::{ClientId, TenantId};
use scimgate_domain::oauth::{ClientRecord, GrantType, ScopeSet, SigningKeyRecord};
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::keys::{self, KeyEncryptionKey, VerifyingKey};
use crate::state::Snapshot;

struct Fixture {
    settings: TokenSettings,
    record: SigningKeyRecord,
    key: Arc<SigningKey>,
    client: ClientRecord,
}

fn fixture() -> Fixture {
    let kek = KeyEncryptionKey::new(&[7u8; 32]).unwrap();
    let (record, key) = keys::generate(&kek, Timestamp::now()).unwrap();
    let now = Timestamp::now();
    Fixture {
        settings: TokenSettings {
            issuer: "https://auth.example".into(),
            audience: "https://auth.example/scim/v2".into(),
            ttl_seconds: 600,
            leeway_seconds: 30,
        },
        record,
        key: Arc::new(key),
        client: ClientRecord {
            client_id: ClientId::from_raw("sgc_okta"),
            tenant_id: TenantId::from_raw("tenant-acme"),
            name: "okta".into(),
            scopes: ScopeSet::scim(),
            grant_types: vec![GrantType::ClientCredentials],
            secret_hash: String::new(),
            previous_secret_hash: None,
            previous_secret_expires: None,
            created: now,
            secret_rotated: None,
            revoked: None,
        },
    }
}

impl Fixture {
    fn verifying(&self, until: Option<Timestamp>) -> Arc<VerifyingKey> {
        Arc::new(keys::verifying(&self.record, until).unwrap())
    }
    fn snapshot(&self) -> Snapshot {
        Snapshot::of(Some(self.key.clone()), vec![self.verifying(None)], &[], &[])
    }
    fn issue(&self) -> (String, AccessClaims) {
        issue(
            &self.settings,
            &self.key,
            &self.client,
            ScopeSet::scim(),
            Timestamp::now(),
        )
        .unwrap()
    }
    fn check(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        verify(&self.settings, &self.snapshot(), token, Timestamp::now())
    }
    /// Signs `claims` with our real key under `header`.
    fn sign(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.key.encoding).unwrap()
    }
    fn header(&self) -> Header {
        let mut h = Header::new(Algorithm::ES256);
        h.typ = Some(TYP.into());
        h.kid = Some(self.key.kid.clone());
        h
    }
    fn claims(&self) -> Value {
        serde_json::to_value(self.issue().1).unwrap()
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[test]
fn an_issued_token_verifies_and_carries_the_rfc_9068_claims() {
    let f = fixture();
    let (token, issued) = f.issue();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(&token)[0]).unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], f.key.kid.as_str());
    let claims = f.check(&token).unwrap();
    assert_eq!(claims, issued);
    assert_eq!(claims.sub, "sgc_okta");
    assert_eq!(claims.client_id, "sgc_okta");
    assert_eq!(claims.tenant, "tenant-acme");
    assert_eq!(claims.aud, "https://auth.example/scim/v2");
    assert_eq!(claims.exp - claims.iat, 600);
    assert_eq!(claims.scope, "scim:read scim:write");
    assert_eq!(claims.jti.len(), 32);
    assert_ne!(f.issue().1.jti, claims.jti, "every token has its own jti");
}

#[test]
fn alg_none_is_refused_with_or_without_a_signature_part() {
    let f = fixture();
    let header = b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": f.key.kid }));
    let body = b64(&f.claims());
    for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
        let e = f.check(&token).unwrap_err();
        assert!(
            matches!(e, VerifyError::Algorithm | VerifyError::Malformed),
            "{e:?}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let f = fixture();
    let header = b64(&json!({ "alg": "HS256", "typ": "at+jwt", "kid": f.key.kid }));
    let input = format!("{header}.{}", b64(&f.claims()));
    // The attacker's "secret": the public JWK as published, and its x coordinate.
    for secret in [
        f.record.public_jwk.clone(),
        f.verifying(None).jwk["x"].to_string(),
    ] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(hmac::sign(&key, input.as_bytes()));
        assert_eq!(
            f.check(&format!("{input}.{sig}")),
            Err(VerifyError::Algorithm)
        );
    }
}

#[test]
fn another_asymmetric_algorithm_in_the_header_is_refused() {
    let f = fixture();
    let good = f.issue().0;
    let p = parts(&good);
    for alg in ["ES384", "RS256", "PS256", "EdDSA", "es256"] {
        let header = b64(&json!({ "alg": alg, "typ": "at+jwt", "kid": f.key.kid }));
        let token = format!("{header}.{}.{}", p[1], p[2]);
        let e = f.check(&token).unwrap_err();
        assert!(
            matches!(e, VerifyError::Algorithm | VerifyError::Malformed),
            "{alg}: {e:?}"
        );
    }
}

#[test]
fn the_type_must_be_at_jwt_in_either_form_and_any_case() {
    let f = fixture();
    let claims = f.claims();
    for (typ, ok) in [
        (Some("at+jwt"), true),
        (Some("application/at+jwt"), true),
        (Some("AT+JWT"), true),
        (Some("Application/At+Jwt"), true),
        (Some("JWT"), false),
        (Some("application/jwt"), false),
        (Some("at+jwt2"), false),
        (None, false),
    ] {
        let mut h = f.header();
        h.typ = typ.map(str::to_owned);
        let r = f.check(&f.sign(&h, &claims));
        assert_eq!(r.is_ok(), ok, "typ {typ:?}: {r:?}");
        if !ok {
            assert_eq!(r, Err(VerifyError::Type));
        }
    }
}

#[test]
fn a_critical_header_is_refused() {
    let f = fixture();
    let mut h = f.header();
    h.crit = Some(vec!["exp".into()]);
    assert_eq!(
        f.check(&f.sign(&h, &f.claims())),
        Err(VerifyError::Critical)
    );
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let f = fixture();
    let mut h = f.header();
    h.kid = Some("not-ours".into());
    assert_eq!(
        f.check(&f.sign(&h, &f.claims())),
        Err(VerifyError::UnknownKey)
    );
    h.kid = None;
    assert_eq!(
        f.check(&f.sign(&h, &f.claims())),
        Err(VerifyError::UnknownKey)
    );
}

#[test]
fn an_attacker_key_under_our_kid_fails_the_signature() {
    let f = fixture();
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let attacker = EncodingKey::from_ec_der(pkcs8.as_ref());
    let token = jsonwebtoken::encode(&f.header(), &f.claims(), &attacker).unwrap();
    assert_eq!(f.check(&token), Err(VerifyError::Signature));
}

#[test]
fn jku_x5u_and_jwk_headers_are_ignored() {
    // Signed with our key, the extra headers change nothing: they are neither trusted nor
    // fetched (nothing here can fetch; the HTTP tests show no request is made).
    let f = fixture();
    let mut h = f.header();
    h.jku = Some("http://127.0.0.1:9/jwks.json".into());
    h.x5u = Some("http://127.0.0.1:9/cert.pem".into());
    assert!(f.check(&f.sign(&h, &f.claims())).is_ok());
}

#[test]
fn tampered_claims_fail_the_signature() {
    let f = fixture();
    let p = parts(&f.issue().0);
    for (name, value) in [
        ("scope", json!("scim:read scim:write")),
        ("tenant", json!("tenant-globex")),
        ("exp", json!(4_000_000_000_i64)),
    ] {
        let mut claims = f.claims();
        claims[name] = value;
        let token = format!("{}.{}.{}", p[0], b64(&claims), p[2]);
        assert_eq!(f.check(&token), Err(VerifyError::Signature), "{name}");
    }
}

#[test]
fn wrong_issuer_or_audience_is_refused() {
    let f = fixture();
    let mut c = f.claims();
    c["iss"] = json!("https://evil.example");
    assert_eq!(f.check(&f.sign(&f.header(), &c)), Err(VerifyError::Issuer));
    let mut c = f.claims();
    c["aud"] = json!("https://other.example/api");
    assert_eq!(
        f.check(&f.sign(&f.header(), &c)),
        Err(VerifyError::Audience)
    );
}

#[test]
fn expiry_and_not_before_allow_the_leeway_and_no_more() {
    let f = fixture();
    let now = Timestamp::now().millis() / 1000;
    let with = |exp: i64, nbf: Option<i64>, iat: i64| {
        let mut c = f.claims();
        c["exp"] = json!(exp);
        c["iat"] = json!(iat);
        if let Some(n) = nbf {
            c["nbf"] = json!(n);
        }
        f.check(&f.sign(&f.header(), &c))
    };
    assert!(
        with(now - 20, None, now - 600).is_ok(),
        "within the 30 s leeway"
    );
    assert_eq!(with(now - 40, None, now - 600), Err(VerifyError::Expired));
    assert!(with(now + 600, Some(now + 20), now).is_ok());
    assert_eq!(
        with(now + 600, Some(now + 60), now),
        Err(VerifyError::NotYetValid)
    );
    assert_eq!(
        with(now + 600, None, now + 60),
        Err(VerifyError::NotYetValid),
        "iat in the future"
    );
}

#[test]
fn missing_or_inconsistent_claims_are_refused() {
    let f = fixture();
    for (name, value) in [
        ("tenant", Value::Null),
        ("jti", json!("")),
        ("client_id", json!("sgc_someone_else")),
        ("scope", json!("scim:read root")),
    ] {
        let mut c = f.claims();
        if value.is_null() {
            c.as_object_mut().unwrap().remove(name);
        } else {
            c[name] = value;
        }
        assert_eq!(
            f.check(&f.sign(&f.header(), &c)),
            Err(VerifyError::Claims),
            "{name}"
        );
    }
    let mut c = f.claims();
    c.as_object_mut().unwrap().remove("exp");
    assert!(
        f.check(&f.sign(&f.header(), &c)).is_err(),
        "exp is required"
    );
}

#[test]
fn revoked_clients_and_token_ids_are_refused() {
    let f = fixture();
    let (token, claims) = f.issue();
    let v = vec![f.verifying(None)];
    let now = Timestamp::now();
    let by_client = Snapshot::of(None, v.clone(), &["sgc_okta"], &[]);
    assert_eq!(
        verify(&f.settings, &by_client, &token, now),
        Err(VerifyError::Revoked)
    );
    let by_jti = Snapshot::of(None, v, &[], &[&claims.jti]);
    assert_eq!(
        verify(&f.settings, &by_jti, &token, now),
        Err(VerifyError::Revoked)
    );
}

#[test]
fn a_retired_key_is_accepted_only_until_its_window_ends() {
    let f = fixture();
    let (token, _) = f.issue();
    let now = Timestamp::now();
    let open = Snapshot::of(
        None,
        vec![f.verifying(Some(now.plus_seconds(60)))],
        &[],
        &[],
    );
    assert!(verify(&f.settings, &open, &token, now).is_ok());
    let closed = Snapshot::of(None, vec![f.verifying(Some(now))], &[], &[]);
    assert_eq!(
        verify(&f.settings, &closed, &token, now),
        Err(VerifyError::UnknownKey)
    );
}

#[test]
fn oversized_and_malformed_tokens_are_refused_unread() {
    let f = fixture();
    let huge = format!("{}.{}.{}", "a".repeat(5000), "b".repeat(5000), "c");
    assert_eq!(f.check(&huge), Err(VerifyError::Malformed));
    for t in ["", "abc", "a.b", "a.b.c.d", "!!.??.**"] {
        assert!(f.check(t).is_err(), "{t:?}");
    }
}
