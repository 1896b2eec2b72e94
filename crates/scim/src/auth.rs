//! Bearer authentication at the edge (RFC 6750 §2.1): the credential names the tenant, resolved
//! once per request; `/tenants/{slug}/scim/v2` must name the same tenant, else 404 (nothing is
//! revealed about whether the tenant exists).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use async_trait::async_trait;
use scimgate_domain::error::ScimError;
use scimgate_domain::tenant::Tenant;

use crate::error::ApiError;

/// Who is calling: the tenant and the credential.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    /// The credential's id (for logs and audit; never the secret).
    pub credential_id: String,
}

/// Why a credential was refused. All of them answer 401; the reason is logged only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

/// Checks a bearer token. Implemented by the binary (static tokens now, OAuth2 JWTs later).
#[async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, token: &str) -> Result<Result<Principal, AuthFailure>, ScimError>;
}

/// The detail of a 401 without any credential; RFC 6750 §3.1 then wants no error code.
pub(crate) const NO_CREDENTIAL: &str = "a bearer token is required";

fn unauthorized(reason: AuthFailure) -> ApiError {
    tracing::info!(?reason, "refused SCIM credential");
    let detail = match reason {
        AuthFailure::Missing => NO_CREDENTIAL,
        _ => "the bearer token is not valid (unknown, expired or revoked)",
    };
    ApiError(ScimError::new(401, None, detail))
}

/// The bearer token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = req
                .app_data::<web::Data<Arc<dyn Authenticator>>>()
                .ok_or_else(|| ApiError(ScimError::internal()))?
                .clone();
            let token = bearer(&req).ok_or_else(|| unauthorized(AuthFailure::Missing))?;
            let principal = auth.authenticate(token).await.map_err(ApiError)?.map_err(unauthorized)?;
            if let Some(slug) = req.match_info().get("slug") {
                if slug != principal.tenant.slug.as_str() {
                    return Err(ApiError(ScimError::not_found("not found")));
                }
            }
            Ok(principal)
        })
    }
}
