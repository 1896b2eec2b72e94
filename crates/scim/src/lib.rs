//! The per-tenant SCIM 2.0 API (RFC 7643, RFC 7644) on actix-web: served at `/scim/v2` (the
//! tenant comes from the credential) and at `/tenants/{slug}/scim/v2` (which must match it).

pub mod auth;
mod bulk;
mod discovery;
pub mod error;
mod groups;
mod params;
mod render;
mod search;
mod users;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::error::ScimError;
use scimgate_domain::jobs::JobQueue;
use scimgate_domain::ports::Store;

pub use auth::{AuthError, AuthFailure, Authenticator, Principal};
pub use error::{ApiError, error_body};

/// Limits of the SCIM API; the same numbers are advertised in ServiceProviderConfig.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    pub default_page_size: u64,
    /// `filter.maxResults`: the largest page served.
    pub max_page_size: u64,
    /// The largest body of a single-resource request.
    pub max_body_bytes: usize,
    pub bulk_max_operations: usize,
    pub bulk_max_payload_bytes: usize,
}

impl Default for ScimConfig {
    fn default() -> Self {
        Self {
            default_page_size: 100,
            max_page_size: 1000,
            max_body_bytes: 1024 * 1024,
            bulk_max_operations: 1000,
            bulk_max_payload_bytes: 4 * 1024 * 1024,
        }
    }
}

/// What every SCIM handler shares.
pub struct ScimState {
    pub store: Arc<dyn Store>,
    pub config: ScimConfig,
    /// Where changes that can affect access are announced to the sync worker.
    pub jobs: Arc<dyn JobQueue>,
}

impl std::fmt::Debug for ScimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The `{id}` path segment of this request.
pub(crate) fn id_of(req: &HttpRequest) -> &str {
    req.match_info().get("id").unwrap_or_default()
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError(ScimError::new(
        405,
        None,
        "method not allowed on this endpoint",
    )))
}

async fn no_such_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError(ScimError::not_found("no such SCIM endpoint")))
}

fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    use actix_web::web::{delete, get, patch, post, put, resource};
    let read_only = || web::to(method_not_allowed);
    scope
        .service(
            resource("/ServiceProviderConfig")
                .route(get().to(discovery::service_provider_config))
                .default_service(read_only()),
        )
        .service(
            resource("/ResourceTypes")
                .route(get().to(discovery::resource_types_list))
                .default_service(read_only()),
        )
        .service(
            resource("/ResourceTypes/{id}")
                .route(get().to(discovery::resource_type))
                .default_service(read_only()),
        )
        .service(
            resource("/Schemas")
                .route(get().to(discovery::schemas_list))
                .default_service(read_only()),
        )
        .service(
            resource("/Schemas/{id}")
                .route(get().to(discovery::schema))
                .default_service(read_only()),
        )
        .service(
            resource("/.search")
                .route(post().to(search::root))
                .default_service(read_only()),
        )
        .service(
            resource("/Bulk")
                .route(post().to(bulk::bulk))
                .default_service(read_only()),
        )
        .service(
            resource("/Users/.search")
                .route(post().to(search::users))
                .default_service(read_only()),
        )
        .service(
            resource(["/Users", "/Users/"])
                .route(get().to(users::list))
                .route(post().to(users::create))
                .default_service(read_only()),
        )
        .service(
            resource("/Users/{id}")
                .route(get().to(users::get))
                .route(put().to(users::replace))
                .route(patch().to(users::patch))
                .route(delete().to(users::delete))
                .default_service(read_only()),
        )
        .service(
            resource("/Groups/.search")
                .route(post().to(search::groups))
                .default_service(read_only()),
        )
        .service(
            resource(["/Groups", "/Groups/"])
                .route(get().to(groups::list))
                .route(post().to(groups::create))
                .default_service(read_only()),
        )
        .service(
            resource("/Groups/{id}")
                .route(get().to(groups::get))
                .route(put().to(groups::replace))
                .route(patch().to(groups::patch))
                .route(delete().to(groups::delete))
                .default_service(read_only()),
        )
        .default_service(web::to(no_such_endpoint))
}

/// Mounts the SCIM API on an actix-web app. The caller registers `ScimState` and
/// `Arc<dyn Authenticator>` as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(routes(web::scope("/scim/v2")))
        .service(routes(web::scope("/tenants/{slug}/scim/v2")));
}
