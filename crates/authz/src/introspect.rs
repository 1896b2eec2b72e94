//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009). Both require client
//! authentication; a client sees only its own tenant's tokens: anything else is inactive, and
//! revoking it is a silent no-op (RFC 7009 §2.2: invalid tokens cause no error).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::oauth::{ClientRecord, RevokedToken};
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

use crate::error::{OAuthError, no_store};
use crate::form::Form;
use crate::jwt::{AccessClaims, VerifyError};
use crate::{AuthzState, client_auth, read_body};

fn json_no_store(body: &Value) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    no_store(&mut res);
    res.content_type("application/json").body(body.to_string())
}

async fn verify_token(
    st: &AuthzState,
    token: &str,
) -> Result<Result<AccessClaims, VerifyError>, OAuthError> {
    crate::verify_access_token(&st.credentials, &st.tokens, token)
        .await
        .map_err(|e| {
            tracing::error!(cause = %e, "credential state unavailable");
            OAuthError::unavailable()
        })
}

/// What both endpoints start with: the form, the authenticated caller, the `token` parameter.
async fn caller_and_token(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AuthzState,
) -> Result<(Arc<ClientRecord>, String), OAuthError> {
    let body = read_body(payload).await?;
    let form = Form::parse(req, &body)?;
    let caller = client_auth::authenticate(st, req, &form).await?;
    let token = form
        .value("token")
        .map(str::to_owned)
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))?;
    Ok((caller, token))
}

pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AuthzState>,
) -> Result<HttpResponse, OAuthError> {
    let (caller, token) = caller_and_token(&req, payload, &st).await?;
    let inactive = json!({ "active": false });
    let claims = match verify_token(&st, &token).await? {
        Ok(c) if c.tenant == caller.tenant_id.as_str() => c,
        Ok(_) => return Ok(json_no_store(&inactive)),
        Err(why) => {
            tracing::debug!(%why, "introspected an inactive token");
            return Ok(json_no_store(&inactive));
        }
    };
    // The authoritative answer: the issuing client as stored now, not as cached.
    let issuer_client = st.store.client(&claims.client()).await.map_err(|e| {
        tracing::error!(cause = %e, "client lookup failed");
        OAuthError::unavailable()
    })?;
    if issuer_client.is_none_or(|c| c.revoked.is_some()) {
        return Ok(json_no_store(&inactive));
    }
    Ok(json_no_store(&json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "jti": claims.jti,
        "tenant": claims.tenant,
    })))
}

pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AuthzState>,
) -> Result<HttpResponse, OAuthError> {
    let (caller, token) = caller_and_token(&req, payload, &st).await?;
    // RFC 7009 §2.1: `token_type_hint` is only a hint; every token here is an access token.
    let ok = || {
        let mut res = HttpResponse::Ok();
        no_store(&mut res);
        res.finish()
    };
    let claims = match verify_token(&st, &token).await? {
        Ok(c) => c,
        Err(why) => {
            tracing::debug!(%why, "revocation of an invalid token: nothing to do");
            return Ok(ok());
        }
    };
    // RFC 7009 §2.1: only the client the token was issued to may revoke it.
    if claims.client_id != caller.client_id.as_str() {
        tracing::info!(caller = %caller.client_id, "revocation of another client's token ignored");
        return Ok(ok());
    }
    st.store
        .revoke_access_token(&RevokedToken {
            jti: claims.jti.clone(),
            tenant_id: claims.tenant_id(),
            client_id: claims.client(),
            revoked: Timestamp::now(),
            expires: claims.expires(),
        })
        .await
        .map_err(|e| {
            tracing::error!(cause = %e, "recording a revocation failed");
            OAuthError::unavailable()
        })?;
    st.credentials.invalidate();
    tracing::info!(client_id = %claims.client_id, jti = %claims.jti, "revoked an access token");
    Ok(ok())
}
