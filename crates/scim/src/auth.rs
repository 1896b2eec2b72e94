//! Bearer authentication at the edge (RFC 6750 §2.1): the credential names the tenant, resolved
//! once per request; `/tenants/{slug}/scim/v2` must name the same tenant, else 404 (nothing is
//! revealed about whether the tenant exists). Reads need `scim:read`, writes `scim:write`
//! (403 `insufficient_scope` otherwise, RFC 6750 §3.1).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use async_trait::async_trait;
use scimgate_domain::error::ScimError;
use scimgate_domain::oauth::{Scope, ScopeSet};
use scimgate_domain::tenant::Tenant;
use tracing::Instrument as _;

use crate::error::{SCIM_JSON, error_body};

/// Who is calling: the tenant, the credential and what it may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    /// The credential's id (for logs and audit; never the secret).
    pub credential_id: String,
    /// Static tokens carry every scope; OAuth2 access tokens those they were granted.
    pub scopes: ScopeSet,
}

/// Why a credential was refused. All of them answer 401; the reason is logged only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Unknown,
    Expired,
    Revoked,
    /// A JWT that failed verification (signature, type, issuer, audience, claims).
    Invalid,
}

/// Checks a bearer token. Implemented by the binary (static tokens and OAuth2 JWTs).
#[async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, token: &str) -> Result<Result<Principal, AuthFailure>, ScimError>;
}

/// A refusal at the edge: an RFC 7644 §3.12 body plus the RFC 6750 §3 challenge.
#[derive(Debug)]
pub struct AuthError {
    error: ScimError,
    challenge: Option<String>,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl AuthError {
    fn plain(error: ScimError) -> Self {
        Self {
            error,
            challenge: None,
        }
    }

    fn unauthorized(reason: AuthFailure) -> Self {
        tracing::info!(?reason, "refused SCIM credential");
        let label = match reason {
            AuthFailure::Missing => "missing",
            AuthFailure::Unknown => "unknown",
            AuthFailure::Expired => "expired",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Invalid => "invalid",
        };
        metrics::counter!("scimgate_scim_credentials_refused_total", "reason" => label)
            .increment(1);
        // RFC 6750 §3.1: no error code when the request carried no credential at all.
        let (detail, challenge) = match reason {
            AuthFailure::Missing => (
                "a bearer token is required",
                "Bearer realm=\"scimgate\"".to_owned(),
            ),
            _ => (
                "the bearer token is not valid (unknown, expired or revoked)",
                "Bearer realm=\"scimgate\", error=\"invalid_token\"".to_owned(),
            ),
        };
        Self {
            error: ScimError::new(401, None, detail),
            challenge: Some(challenge),
        }
    }

    fn insufficient_scope(needed: Scope) -> Self {
        metrics::counter!("scimgate_scim_credentials_refused_total", "reason" => "insufficient_scope")
            .increment(1);
        Self {
            error: ScimError::new(
                403,
                None,
                format!("the access token lacks the {needed} scope this request needs"),
            ),
            challenge: Some(format!(
                "Bearer realm=\"scimgate\", error=\"insufficient_scope\", scope=\"{needed}\""
            )),
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, SCIM_JSON));
        if let Some(c) = &self.challenge {
            res.insert_header((header::WWW_AUTHENTICATE, c.as_str()));
        }
        res.body(error_body(&self.error).to_string())
    }
}

/// The bearer token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The scope a request needs: reading (GET, HEAD, and the POST of a `/.search`) or writing
/// (everything else, Bulk included).
fn needed_scope(req: &HttpRequest) -> Scope {
    let reads = req.method() == Method::GET
        || req.method() == Method::HEAD
        || (req.method() == Method::POST && req.path().ends_with("/.search"));
    if reads {
        Scope::ScimRead
    } else {
        Scope::ScimWrite
    }
}

impl FromRequest for Principal {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(to_completion(
            async move {
                let auth = req
                    .app_data::<web::Data<Arc<dyn Authenticator>>>()
                    .ok_or_else(|| AuthError::plain(ScimError::internal()))?
                    .clone();
                let token =
                    bearer(&req).ok_or_else(|| AuthError::unauthorized(AuthFailure::Missing))?;
                let principal = auth
                    .authenticate(token)
                    .await
                    .map_err(AuthError::plain)?
                    .map_err(AuthError::unauthorized)?;
                if req
                    .match_info()
                    .get("slug")
                    .is_some_and(|slug| slug != principal.tenant.slug.as_str())
                {
                    return Err(AuthError::plain(ScimError::not_found("not found")));
                }
                let needed = needed_scope(&req);
                if !principal.scopes.contains(needed) {
                    tracing::info!(credential = %principal.credential_id, %needed, "insufficient scope");
                    return Err(AuthError::insufficient_scope(needed));
                }
                Ok(principal)
            },
            || AuthError::plain(ScimError::internal()),
        ))
    }
}

/// Runs a credential check as a task of its own, started now, so that it finishes even when
/// actix drops the extraction because another extractor of the request failed first (a body
/// over the limit, an unreadable query): an SQLite query of diesel-async dropped mid-way on
/// actix's single-threaded worker runtime panics, and the client would get a reset connection
/// instead of its error. `internal` is the error when the task itself fails. Shared with the
/// admin API's extractors.
pub fn to_completion<T: 'static, E: 'static>(
    check: impl Future<Output = Result<T, E>> + 'static,
    internal: fn() -> E,
) -> impl Future<Output = Result<T, E>> {
    // In the request's span: the refusal's log line carries its request id.
    let task = actix_web::rt::spawn(check.in_current_span());
    async move {
        task.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the credential check failed");
            Err(internal())
        })
    }
}
