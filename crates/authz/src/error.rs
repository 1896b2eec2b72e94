//! The one response mapper of the authorization server: RFC 6749 §5.2 error bodies, 401 with
//! `WWW-Authenticate` for failed client authentication, `Cache-Control: no-store` on every
//! answer of the token endpoint, 429 with `Retry-After` when a limit is hit.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// The error codes of RFC 6749 §5.2 (and RFC 8707 §2 `invalid_target`), plus the
/// `temporarily_unavailable` of §4.1.2.1 for rate limits and storage failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    UnsupportedTokenType,
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }
}

/// An OAuth2 refusal on its way out.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: u16,
    pub code: OAuthCode,
    pub description: String,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(status: u16, code: OAuthCode, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, OAuthCode::InvalidRequest, description)
    }

    /// RFC 6749 §5.2: failed client authentication is 401 with a `WWW-Authenticate`
    /// challenge naming the scheme the client can use.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(401, OAuthCode::InvalidClient, description)
    }

    pub fn too_many(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Self {
            retry_after: Some(secs.max(1)),
            ..Self::new(
                429,
                OAuthCode::TemporarilyUnavailable,
                format!(
                    "too many failed client authentications; retry after {} s",
                    secs.max(1)
                ),
            )
        }
    }

    /// A storage failure: the cause is logged where it happened; the client sees no detail.
    pub fn unavailable() -> Self {
        Self::new(
            503,
            OAuthCode::TemporarilyUnavailable,
            "the authorization server cannot answer right now; retry later",
        )
    }

    pub fn server_error() -> Self {
        Self::new(500, OAuthCode::ServerError, "internal error")
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status,
            self.code.as_str(),
            self.description
        )
    }
}

/// The headers every answer of the token, introspection and revocation endpoints carries
/// (RFC 6749 §5.1: `no-store`; RFC 7662 §2.2 and RFC 7009 likewise carry credentials).
pub fn no_store(res: &mut actix_web::HttpResponseBuilder) {
    res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
}

/// RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E, so quotes
/// become apostrophes and anything else outside the set a question mark.
fn description_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        no_store(&mut res);
        if self.status == 401 {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"scimgate\", charset=\"UTF-8\""),
            ));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.content_type("application/json").body(
            json!({
                "error": self.code.as_str(),
                "error_description": description_chars(&self.description),
            })
            .to_string(),
        )
    }
}
