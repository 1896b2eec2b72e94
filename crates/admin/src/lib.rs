//! scimgate's admin API under `/admin/v1`, for the vendor's support staff: tenants, OAuth2
//! clients, static SCIM tokens, access-token signing keys and Disconnect SCIM. Every route but
//! the OpenAPI document needs the operator credential (`Authorization: Bearer <operator
//! token>`); errors are RFC 9457 problem details. The document is `docs/openapi/admin.json`.

mod clients;
mod error;
mod keys;
mod tenants;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use aws_lc_rs::constant_time;
use scimgate_authz::rate_limit::LimitKey;
use scimgate_authz::{CredentialState, FailureLimiter, TokenHasher};
use scimgate_domain::ports::Store;

pub use error::Problem;

/// The OpenAPI 3.1 document of this API, served at `/admin/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../docs/openapi/admin.json");

/// What every admin handler shares.
pub struct AdminState {
    pub store: Arc<dyn Store>,
    pub hasher: TokenHasher,
    /// None: the admin API is disabled (every request is 401).
    pub operator_token: Option<String>,
    pub credentials: Arc<CredentialState>,
    pub limiter: Arc<FailureLimiter>,
    /// How long a rotated client secret keeps working when the request does not say.
    pub default_overlap_seconds: i64,
    /// Called after a revocation, so this process's credential caches apply it at once.
    pub on_revoke: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("enabled", &self.operator_token.is_some())
            .finish_non_exhaustive()
    }
}

/// A request authenticated with the operator credential.
#[derive(Debug)]
pub struct Operator;

fn source(req: &HttpRequest) -> LimitKey {
    LimitKey::OperatorAddress(
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    )
}

async fn check_operator(req: HttpRequest) -> Result<Operator, Problem> {
    let st = req
        .app_data::<web::Data<AdminState>>()
        .ok_or_else(Problem::internal)?;
    let Some(expected) = &st.operator_token else {
        return Err(Problem::unauthenticated(
            "the admin API is disabled: set admin.operator_token (SCIMGATE__ADMIN__OPERATOR_TOKEN)",
        ));
    };
    let key = source(&req);
    if let Some(wait) = st.limiter.blocked(&key) {
        let mut p = Problem::new(429, "Too Many Requests", "too many failed operator logins");
        p.retry_after = Some(wait.as_secs().max(1));
        return Err(p);
    }
    let Some(presented) = bearer(&req) else {
        return Err(Problem::unauthenticated(
            "the operator credential is required: Authorization: Bearer <admin.operator_token>",
        ));
    };
    if constant_time::verify_slices_are_equal(presented.as_bytes(), expected.as_bytes()).is_ok() {
        return Ok(Operator);
    }
    tracing::warn!("refused admin API credential");
    st.limiter.record_failure(std::slice::from_ref(&key)).await;
    Err(Problem::unauthorized("the operator credential is wrong"))
}

/// `Authorization: Bearer <token>` (RFC 6750 §2.1; scheme case-insensitive).
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequest for Operator {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(check_operator(req.clone()))
    }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::not_found("no such admin endpoint"))
}

async fn method_not_allowed() -> Result<HttpResponse, Problem> {
    Err(Problem::new(
        405,
        "Method Not Allowed",
        "method not allowed on this endpoint",
    ))
}

/// Mounts the admin API. The caller registers `AdminState` as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{get, post, resource, scope, to};
    let nope = || to(method_not_allowed);
    cfg.service(
        scope("/admin/v1")
            .app_data(web::PayloadConfig::new(64 * 1024))
            .service(
                resource("/openapi.json")
                    .route(get().to(openapi))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants")
                    .route(get().to(tenants::list))
                    .route(post().to(tenants::create))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}")
                    .route(get().to(tenants::show))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/disconnect-scim")
                    .route(post().to(tenants::disconnect))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/clients")
                    .route(get().to(clients::list))
                    .route(post().to(clients::create))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/clients/{client_id}")
                    .route(get().to(clients::show))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/clients/{client_id}/rotate")
                    .route(post().to(clients::rotate))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/clients/{client_id}/revoke")
                    .route(post().to(clients::revoke))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/tokens")
                    .route(get().to(clients::list_tokens))
                    .route(post().to(clients::create_token))
                    .default_service(nope()),
            )
            .service(
                resource("/tenants/{slug}/tokens/{token_id}/revoke")
                    .route(post().to(clients::revoke_token))
                    .default_service(nope()),
            )
            .service(
                resource("/keys")
                    .route(get().to(keys::list))
                    .default_service(nope()),
            )
            .service(
                resource("/keys/rotate")
                    .route(post().to(keys::rotate))
                    .default_service(nope()),
            )
            .default_service(to(not_found)),
    );
}
