//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3.1): `client_secret_basic` or `client_secret_post`, never both; secrets checked in
//! constant time against their keyed hashes; failures rate limited per client and per source
//! address.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use scimgate_domain::oauth::ClientRecord;
use scimgate_domain::time::Timestamp;

use crate::AuthzState;
use crate::error::OAuthError;
use crate::form::Form;
use crate::rate_limit::LimitKey;

/// Client ids past this length are refused unread (they would only fill the limiter).
const MAX_CLIENT_ID: usize = 256;

/// The credentials a request presents.
struct Presented {
    client_id: String,
    secret: String,
}

/// RFC 6749 §2.3.1: the id and secret are form-encoded, then joined with `:` and base64ed.
fn basic(req: &HttpRequest) -> Result<Option<Presented>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "client authentication must use HTTP Basic or the client_id and client_secret parameters",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(Presented {
        client_id: decode(id),
        secret: decode(secret),
    }))
}

fn presented(req: &HttpRequest, form: &Form) -> Result<Presented, OAuthError> {
    let header = basic(req)?;
    let (form_id, form_secret) = (form.get("client_id"), form.get("client_secret"));
    match header {
        Some(p) => {
            // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in
            // each request."
            if form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: HTTP Basic or client_secret in the body, not both",
                ));
            }
            if form_id.is_some_and(|id| id != p.client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the HTTP Basic client",
                ));
            }
            Ok(p)
        }
        None => match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok(Presented {
                client_id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            _ => Err(OAuthError::invalid_client(
                "client authentication is required (HTTP Basic or client_id and client_secret)",
            )),
        },
    }
}

/// The address a failure is counted for: the peer, or the first `Forwarded` /
/// `X-Forwarded-For` hop when the deployment says a trusted proxy sets it.
fn source_address(st: &AuthzState, req: &HttpRequest) -> String {
    if st.trust_forwarded_for
        && let Some(a) = req.connection_info().realip_remote_addr()
    {
        // Without a forwarding header this is the peer as `ip:port`: count the ip only.
        return a
            .parse::<std::net::SocketAddr>()
            .map_or_else(|_| a.to_owned(), |s| s.ip().to_string());
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Authenticates the calling client; every failure answers the same `invalid_client`.
pub async fn authenticate(
    st: &AuthzState,
    req: &HttpRequest,
    form: &Form,
) -> Result<Arc<ClientRecord>, OAuthError> {
    let p = presented(req, form)?;
    if p.client_id.is_empty() || p.client_id.len() > MAX_CLIENT_ID {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    let keys = [
        LimitKey::Client(p.client_id.clone()),
        LimitKey::Address(source_address(st, req)),
    ];
    if let Some(wait) = keys.iter().filter_map(|k| st.limiter.blocked(k)).max() {
        tracing::warn!(client_id = %p.client_id, "client authentication rate limited");
        return Err(OAuthError::too_many(wait));
    }
    let client = st
        .clients
        .get(st.store.as_ref(), &p.client_id)
        .await
        .map_err(|e| {
            tracing::error!(cause = %e, "client lookup failed");
            OAuthError::unavailable()
        })?;
    let now = Timestamp::now();
    let ok = match &client {
        Some(c) => {
            // Check every accepted hash, not just until the first match: same work either way.
            let mut ok = false;
            for hash in c.accepted_hashes(now) {
                ok |= st.hasher.verify(&p.secret, hash);
            }
            ok
        }
        None => {
            // The same work for an unknown client, so timing does not tell ids apart.
            let _ = st.hasher.verify(&p.secret, "");
            false
        }
    };
    match client {
        Some(c) if ok => Ok(c),
        other => {
            let why = match &other {
                None => "unknown client",
                Some(c) if c.revoked.is_some() => "revoked client",
                Some(_) => "wrong secret",
            };
            tracing::info!(client_id = %p.client_id, why, "client authentication failed");
            if let Some(wait) = st.limiter.record_failure(&keys).await {
                tracing::warn!(client_id = %p.client_id, blocked_for = ?wait, "client authentication now rate limited");
            }
            Err(OAuthError::invalid_client("client authentication failed"))
        }
    }
}
