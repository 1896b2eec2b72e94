//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4) issuing RFC 9068 JWT
//! access tokens, with scope narrowing (§3.3) and an optional RFC 8707 `resource`.

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::oauth::{GrantType, ScopeError, ScopeSet};
use scimgate_domain::time::Timestamp;
use serde_json::json;

use crate::AuthzState;
use crate::error::{OAuthCode, OAuthError, no_store};
use crate::form::Form;
use crate::{client_auth, jwt, read_body};

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AuthzState>,
) -> Result<HttpResponse, OAuthError> {
    let result = issue(req, payload, st).await;
    match &result {
        Ok(_) => metrics::counter!(
            "scimgate_oauth_tokens_issued_total",
            "grant_type" => GrantType::ClientCredentials.as_str()
        )
        .increment(1),
        Err(e) => metrics::counter!(
            "scimgate_oauth_tokens_refused_total",
            "error" => e.code.as_str()
        )
        .increment(1),
    }
    result
}

async fn issue(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AuthzState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(payload).await?;
    let form = Form::parse(&req, &body)?;
    let grant = form
        .value("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?
        .to_owned();
    let client = client_auth::authenticate(&st, &req, &form).await?;

    // RFC 6749 §5.2: a grant this server does not know or offer, then one the client may not use.
    let Some(grant) = GrantType::parse(&grant) else {
        return Err(OAuthError::new(
            400,
            OAuthCode::UnsupportedGrantType,
            format!("grant_type {grant:?} is not supported; use client_credentials"),
        ));
    };
    if !client.grant_types.contains(&grant) {
        return Err(OAuthError::new(
            400,
            OAuthCode::UnauthorizedClient,
            format!("this client may not use the {} grant", grant.as_str()),
        ));
    }
    let scopes = ScopeSet::grant(form.value("scope"), client.scopes).map_err(|e| {
        let text = match &e {
            ScopeError::Empty => "the scope parameter is empty".to_owned(),
            other => other.to_string(),
        };
        OAuthError::new(400, OAuthCode::InvalidScope, text)
    })?;
    if scopes.is_empty() {
        return Err(OAuthError::new(
            400,
            OAuthCode::InvalidScope,
            "this client has no scope to grant",
        ));
    }
    // RFC 8707 §2: the one resource these tokens are for.
    if let Some(resource) = form.value("resource")
        && resource != st.tokens.audience
    {
        return Err(OAuthError::new(
            400,
            OAuthCode::InvalidTarget,
            format!("resource must be {}", st.tokens.audience),
        ));
    }

    let snapshot = st.credentials.snapshot().await.map_err(|e| {
        tracing::error!(cause = %e, "signing key unavailable");
        OAuthError::unavailable()
    })?;
    let key = snapshot.signing_key().ok_or_else(|| {
        tracing::error!("no signing key: is security.key_encryption_key set for this part?");
        OAuthError::unavailable()
    })?;
    let (token, claims) =
        jwt::issue(&st.tokens, key, &client, scopes, Timestamp::now()).map_err(|e| {
            tracing::error!(cause = %e, "signing failed");
            OAuthError::server_error()
        })?;
    tracing::debug!(client_id = %client.client_id, jti = %claims.jti, scope = %claims.scope, "issued an access token");

    let mut res = HttpResponse::Ok();
    no_store(&mut res);
    Ok(res.content_type("application/json").body(
        json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": st.tokens.ttl_seconds,
            "scope": claims.scope,
        })
        .to_string(),
    ))
}
