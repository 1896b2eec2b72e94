//! scimgate's admin API under `/admin/v1`. For the vendor's support staff (the operator
//! credential, `Authorization: Bearer <operator token>`): tenants, OAuth2 clients, static SCIM
//! tokens, access-token signing keys and Disconnect SCIM. For a tenant's admin and the host
//! application (the operator credential, or an OAuth2 access token of the tenant's own client
//! with scope `admin`): the tenant's SCIM settings, role catalogue, mappings, workspaces,
//! projects, teams, members' effective access, dead letters, webhook endpoint and events.
//! Errors are RFC 9457 problem details. The document is `docs/openapi/admin.json`.

mod access;
mod clients;
mod error;
mod keys;
mod members;
mod routes;
mod settings;
mod sync;
mod teams;
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
use scimgate_domain::jobs::{Job, JobConsumer, JobKind, JobQueue};
use scimgate_domain::oauth::Scope;
use scimgate_domain::ports::Store;
use scimgate_domain::secrets::SecretBox;
use scimgate_domain::tenant::Tenant;
use scimgate_scim::auth::to_completion;
use scimgate_scim::{AuthFailure, Authenticator};

pub use error::Problem;
pub use routes::configure;
pub use settings::change_settings;

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
    /// Checks the OAuth2 access tokens of tenant admins (the same checks SCIM makes).
    pub tenant_auth: Arc<dyn Authenticator>,
    /// Where admin writes that change access announce it to the worker.
    pub jobs: Arc<dyn JobQueue>,
    /// The queue's consumer side, for the dead letters.
    pub consumer: Arc<dyn JobConsumer>,
    /// Seals the tenants' webhook secrets (the key-encryption key).
    pub secrets: Arc<dyn SecretBox>,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("enabled", &self.operator_token.is_some())
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// Tells the worker the tenant's access must be recomputed.
    pub async fn announce(&self, tenant: &Tenant) {
        announce(self.jobs.as_ref(), tenant).await;
    }
}

/// Enqueues a tenant sync job. A failed enqueue is only logged: the write bumped the members'
/// access versions, so the sweeper finds them.
pub async fn announce(jobs: &dyn JobQueue, tenant: &Tenant) {
    let job = Job {
        tenant: tenant.id.clone(),
        kind: JobKind::Tenant,
        id: tenant.id.to_string(),
        version: 0,
        traceparent: None,
        enqueued_at_ms: None,
    };
    if let Err(e) = jobs.enqueue(&job).await {
        tracing::warn!(tenant = %tenant.slug, error = %e, "could not enqueue a tenant sync job; the sweeper will pick the change up");
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

/// A caller of the tenant endpoints (`/tenants/{slug}/...` but clients, tokens and
/// Disconnect SCIM): the operator, or an OAuth2 access token of one of the tenant's own
/// clients with scope `admin`. Carries the tenant of the path.
#[derive(Debug)]
pub struct TenantAdmin {
    pub tenant: Tenant,
    /// `operator`, or the access token's credential id (for the log).
    pub caller: String,
}

async fn check_tenant_admin(req: HttpRequest) -> Result<TenantAdmin, Problem> {
    let st = req
        .app_data::<web::Data<AdminState>>()
        .ok_or_else(Problem::internal)?;
    let slug = req.match_info().get("slug").unwrap_or_default().to_owned();
    let presented = bearer(&req);
    let is_operator = matches!((&st.operator_token, presented), (Some(op), Some(p))
        if constant_time::verify_slices_are_equal(p.as_bytes(), op.as_bytes()).is_ok());
    if presented.is_none() {
        return Err(Problem::unauthenticated(
            "a credential is required: Authorization: Bearer <the operator credential, or an \
             access token of this tenant's client with scope admin>",
        ));
    }
    if is_operator {
        check_operator(req.clone()).await?;
        let tenant = tenants::by_slug(st, &slug).await?;
        return Ok(TenantAdmin {
            tenant,
            caller: "operator".into(),
        });
    }
    let key = source(&req);
    if let Some(wait) = st.limiter.blocked(&key) {
        let mut p = Problem::new(429, "Too Many Requests", "too many failed admin logins");
        p.retry_after = Some(wait.as_secs().max(1));
        return Err(p);
    }
    let token = presented.unwrap_or_default();
    let principal = match st.tenant_auth.authenticate(token).await {
        Ok(Ok(p)) => p,
        Ok(Err(reason)) => {
            tracing::warn!(?reason, "refused admin API credential");
            st.limiter.record_failure(std::slice::from_ref(&key)).await;
            return Err(Problem::unauthorized(match reason {
                AuthFailure::Expired => "the access token has expired",
                AuthFailure::Revoked => "the credential was revoked",
                _ => "the credential is neither the operator credential nor a valid access token",
            }));
        }
        Err(e) => {
            tracing::error!(error = %e, "credential check failed");
            return Err(Problem::internal());
        }
    };
    // A tenant admin sees its own tenant only; another slug answers as if it did not exist
    // (nothing is revealed about other tenants).
    if principal.tenant.slug.as_str() != slug {
        return Err(Problem::not_found(format!("no tenant with slug {slug:?}")));
    }
    // RFC 6750 §3.1: a valid token without the scope the resource needs is 403.
    if !principal.scopes.contains(Scope::Admin) {
        return Err(Problem {
            challenge: Some(
                "Bearer realm=\"scimgate-admin\", error=\"insufficient_scope\", scope=\"admin\"",
            ),
            ..Problem::new(
                403,
                "Forbidden",
                "this access token lacks the admin scope: register the client with scope \"admin\" and ask for it",
            )
        });
    }
    Ok(TenantAdmin {
        tenant: principal.tenant,
        caller: principal.credential_id,
    })
}

impl FromRequest for TenantAdmin {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(to_completion(
            check_tenant_admin(req.clone()),
            Problem::internal,
        ))
    }
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
