//! scimgate's OAuth2 authorization server on actix-web: the client credentials grant (RFC 6749
//! §4.4) issuing RFC 9068 JWT access tokens signed with ES256, RFC 7662 introspection, RFC 7009
//! revocation, RFC 8414 metadata and the JWK Set; plus what the SCIM API needs to accept those
//! tokens ([`AccessTokenVerifier`]) and what support uses to register clients ([`registry`]).

mod client_auth;
pub mod error;
mod form;
mod introspect;
pub mod jwt;
pub mod keys;
mod metadata;
pub mod provider;
pub mod rate_limit;
pub mod registry;
pub mod secrets;
pub mod state;
mod token;
pub mod ttl_cache;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt as _;
use scimgate_domain::ports::Store;
use scimgate_domain::time::Timestamp;

pub use error::{OAuthCode, OAuthError};
pub use jwt::{AccessClaims, TokenSettings, VerifyError};
pub use rate_limit::{FailureLimiter, LimitSettings, RedisCounters};
pub use secrets::TokenHasher;
pub use state::{ClientCache, CredentialState};
pub use ttl_cache::TtlCache;

/// What every handler of the authorization server shares.
pub struct AuthzState {
    pub store: Arc<dyn Store>,
    pub hasher: TokenHasher,
    pub credentials: Arc<CredentialState>,
    pub clients: Arc<ClientCache>,
    pub limiter: Arc<FailureLimiter>,
    pub tokens: TokenSettings,
    /// Count failures against the `Forwarded` / `X-Forwarded-For` client (behind a trusted
    /// proxy only: anyone can send that header).
    pub trust_forwarded_for: bool,
}

impl std::fmt::Debug for AuthzState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzState")
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// Reads a request body up to [`form::MAX_FORM_BYTES`], refusing larger ones in OAuth terms.
pub(crate) async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, OAuthError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| OAuthError::invalid_request("the body could not be read"))?;
        if body.len() + chunk.len() > form::MAX_FORM_BYTES {
            return Err(OAuthError::new(
                413,
                OAuthCode::InvalidRequest,
                "the body is too large",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// RFC 9110 §15.5.6: a 405 names the methods allowed.
async fn post_only() -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&OAuthError::new(
        405,
        OAuthCode::InvalidRequest,
        "this endpoint accepts POST only",
    ));
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    res
}

async fn get_only() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .json(serde_json::json!({ "error": "invalid_request", "error_description": "this endpoint accepts GET only" }))
}

/// Mounts the authorization server. The caller registers `AuthzState` as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{get, post, resource, to};
    cfg.service(
        resource("/oauth/token")
            .route(post().to(token::token))
            .default_service(to(post_only)),
    )
    .service(
        resource("/oauth/introspect")
            .route(post().to(introspect::introspect))
            .default_service(to(post_only)),
    )
    .service(
        resource("/oauth/revoke")
            .route(post().to(introspect::revoke))
            .default_service(to(post_only)),
    )
    .service(
        resource("/.well-known/oauth-authorization-server")
            .route(get().to(metadata::metadata))
            .route(web::head().to(metadata::metadata))
            .default_service(to(get_only)),
    )
    .service(
        resource("/.well-known/jwks.json")
            .route(get().to(metadata::jwks))
            .route(web::head().to(metadata::jwks))
            .default_service(to(get_only)),
    );
}

/// Verifies one of our access tokens against the in-memory snapshot, reloading it once when
/// the token names a kid the snapshot lacks (a key rotated in another process).
pub async fn verify_access_token(
    credentials: &CredentialState,
    tokens: &TokenSettings,
    token: &str,
) -> Result<Result<AccessClaims, VerifyError>, state::StateError> {
    let now = Timestamp::now();
    let snapshot = credentials.snapshot().await?;
    match jwt::verify(tokens, &snapshot, token, now) {
        Err(VerifyError::UnknownKey)
            if jwt::kid_of(token).is_some_and(|k| snapshot.verifying_key(&k).is_none()) =>
        {
            let snapshot = credentials.reload_for_unknown_key().await?;
            Ok(jwt::verify(tokens, &snapshot, token, now))
        }
        other => Ok(other),
    }
}

/// Verifies access tokens on the SCIM path: signature, claims and revocations from the
/// in-memory snapshot, so the common request costs no database round trip.
#[derive(Debug, Clone)]
pub struct AccessTokenVerifier {
    pub credentials: Arc<CredentialState>,
    pub tokens: TokenSettings,
}

impl AccessTokenVerifier {
    /// `Ok(Err(_))` for a refused token; `Err` when the state cannot be loaded.
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<Result<AccessClaims, VerifyError>, state::StateError> {
        verify_access_token(&self.credentials, &self.tokens, token).await
    }
}
