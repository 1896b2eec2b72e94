//! Discovery: RFC 8414 authorization server metadata and the RFC 7517 JWK Set of the keys that
//! sign access tokens.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use scimgate_domain::oauth::Scope;
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

use crate::AuthzState;
use crate::error::OAuthError;
use crate::keys::ALG;

/// RFC 8414 §2. Only what this server does: no authorization endpoint yet, so no response
/// types.
pub fn document(st: &AuthzState) -> Value {
    let base = st.tokens.issuer.trim_end_matches('/');
    let methods = ["client_secret_basic", "client_secret_post"];
    json!({
        "issuer": st.tokens.issuer,
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "access_token_signing_alg_values_supported": [ALG],
    })
}

pub async fn metadata(st: web::Data<AuthzState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(document(&st))
}

pub async fn jwks(st: web::Data<AuthzState>) -> Result<HttpResponse, OAuthError> {
    let snapshot = st.credentials.snapshot().await.map_err(|e| {
        tracing::error!(cause = %e, "keys unavailable");
        OAuthError::unavailable()
    })?;
    let keys: Vec<&Value> = snapshot
        .published(Timestamp::now())
        .map(|k| &k.jwk)
        .collect();
    // Short caching: a rotated key is published at once, and verifiers refetch on an unknown kid.
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        ))
        .content_type("application/json")
        .body(json!({ "keys": keys }).to_string()))
}
