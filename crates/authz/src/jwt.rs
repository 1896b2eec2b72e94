//! JWT access tokens per RFC 9068: issued with `typ: at+jwt` and a `kid`, verified with a pinned
//! algorithm list, the `typ`, issuer, audience, lifetime with bounded skew and the claims this
//! server puts in (RFC 8725 §3: never trust the header's choice of algorithm or key).

use jsonwebtoken::{Algorithm, Header, Validation};
use scimgate_domain::ids::{ClientId, TenantId};
use scimgate_domain::oauth::{ClientRecord, ScopeSet};
use scimgate_domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::keys::SigningKey;
use crate::state::Snapshot;

/// RFC 9068 §2.1: the media type of access tokens, `typ` in its short form.
pub const TYP: &str = "at+jwt";
/// Tokens past this size are refused unread.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What issuing and verifying need to agree on.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    /// The SCIM API's identifier: every token is for it.
    pub audience: String,
    pub ttl_seconds: i64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
}

/// The claims of RFC 9068 §2.2, plus `tenant`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub tenant: String,
}

impl AccessClaims {
    pub fn tenant_id(&self) -> TenantId {
        TenantId::from_raw(self.tenant.clone())
    }
    pub fn client(&self) -> ClientId {
        ClientId::from_raw(self.client_id.clone())
    }
    pub fn expires(&self) -> Timestamp {
        Timestamp::from_millis(self.exp.saturating_mul(1000))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("cannot sign the access token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Signs an access token for `client` with `scopes`.
pub fn issue(
    settings: &TokenSettings,
    key: &SigningKey,
    client: &ClientRecord,
    scopes: ScopeSet,
    now: Timestamp,
) -> Result<(String, AccessClaims), IssueError> {
    let iat = now.millis().div_euclid(1000);
    let claims = AccessClaims {
        iss: settings.issuer.clone(),
        // RFC 9068 §2.2: with no resource owner, `sub` is the client.
        sub: client.client_id.to_string(),
        aud: settings.audience.clone(),
        client_id: client.client_id.to_string(),
        scope: scopes.to_string(),
        jti: uuid::Uuid::new_v4().simple().to_string(),
        iat,
        exp: iat + settings.ttl_seconds,
        nbf: None,
        tenant: client.tenant_id.to_string(),
    };
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some(TYP.to_owned());
    header.kid = Some(key.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &key.encoding)?;
    Ok((token, claims))
}

/// Why a token was refused. Every variant answers 401 `invalid_token`; the variant is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a JWT")]
    Malformed,
    #[error("algorithm not accepted")]
    Algorithm,
    #[error("typ is not at+jwt")]
    Type,
    #[error("unsupported critical header")]
    Critical,
    #[error("no kid, or a kid this server never published")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("missing or malformed claims")]
    Claims,
    #[error("revoked")]
    Revoked,
}

/// The kid a token names, if it can be read at all (to decide whether a key refresh may help).
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Verifies `token` against the keys and revocations in `snapshot`.
pub fn verify(
    settings: &TokenSettings,
    snapshot: &Snapshot,
    token: &str,
    now: Timestamp,
) -> Result<AccessClaims, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
        return Err(VerifyError::Malformed);
    }
    // The header is read only to pick our own key by kid. `alg` must be the one we sign with
    // (so `none` and HS256-with-the-public-key never get near a verifier); `jku`, `x5u`,
    // `jwk` and `x5c` are ignored and never fetched.
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName => VerifyError::Algorithm,
        _ => VerifyError::Malformed,
    })?;
    if header.alg != Algorithm::ES256 {
        return Err(VerifyError::Algorithm);
    }
    // RFC 9068 §4: `typ` must be `at+jwt` or `application/at+jwt`, compared case-insensitively
    // (RFC 7515 §4.1.9).
    let typ = header.typ.as_deref().unwrap_or_default();
    let typ = typ
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    if !typ.eq_ignore_ascii_case(TYP) {
        return Err(VerifyError::Type);
    }
    // RFC 7515 §4.1.11: we understand no extension, so any `crit` is refused.
    if header.crit.is_some() {
        return Err(VerifyError::Critical);
    }
    let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
    let key = snapshot.verifying_key(kid).ok_or(VerifyError::UnknownKey)?;
    if key.accepted_until.is_some_and(|until| until <= now) {
        return Err(VerifyError::UnknownKey);
    }

    let mut validation = Validation::new(Algorithm::ES256);
    validation.leeway = settings.leeway_seconds;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data =
        jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature | K::InvalidEcdsaKey => VerifyError::Signature,
                K::ExpiredSignature => VerifyError::Expired,
                K::ImmatureSignature => VerifyError::NotYetValid,
                K::InvalidIssuer => VerifyError::Issuer,
                K::InvalidAudience => VerifyError::Audience,
                K::InvalidAlgorithm => VerifyError::Algorithm,
                _ => VerifyError::Claims,
            }
        })?;
    let claims = data.claims;
    let now_s = now.millis().div_euclid(1000);
    let leeway = i64::try_from(settings.leeway_seconds).unwrap_or(i64::MAX);
    if claims.iat > now_s.saturating_add(leeway) {
        return Err(VerifyError::NotYetValid);
    }
    if claims.sub != claims.client_id
        || claims.client_id.is_empty()
        || claims.tenant.is_empty()
        || claims.jti.is_empty()
        || ScopeSet::parse(&claims.scope).is_err()
    {
        return Err(VerifyError::Claims);
    }
    if snapshot.is_revoked(&claims.client_id, &claims.jti) {
        return Err(VerifyError::Revoked);
    }
    Ok(claims)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
