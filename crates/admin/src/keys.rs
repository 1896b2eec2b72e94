//! `/admin/v1/keys`: the access-token signing keys (public parts only) and their rotation.

use actix_web::{HttpResponse, web};
use scimgate_authz::registry::key_json;
use serde_json::json;

use crate::error::Problem;
use crate::{AdminState, Operator};

pub async fn list(_: Operator, st: web::Data<AdminState>) -> Result<HttpResponse, Problem> {
    let keys = st.store.signing_keys().await?;
    Ok(HttpResponse::Ok().json(json!({ "keys": keys.iter().map(key_json).collect::<Vec<_>>() })))
}

pub async fn rotate(_: Operator, st: web::Data<AdminState>) -> Result<HttpResponse, Problem> {
    let kid = st.credentials.rotate().await.map_err(|e| {
        tracing::error!(cause = %e, "key rotation failed");
        Problem::new(
            503,
            "Service Unavailable",
            format!("key rotation failed: {e}"),
        )
    })?;
    tracing::warn!(%kid, "rotated the access-token signing key");
    Ok(HttpResponse::Ok().json(json!({ "kid": kid })))
}
