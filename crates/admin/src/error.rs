//! The admin API's one response mapper: RFC 9457 problem details
//! (`application/problem+json`), 401 with a `WWW-Authenticate: Bearer` challenge.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use scimgate_authz::registry::RegistryError;
use scimgate_domain::ports::StoreError;
use serde_json::json;

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    pub title: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<&'static str>,
}

impl Problem {
    pub fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            retry_after: None,
            challenge: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "Bad Request", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "Not Found", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, "Conflict", detail)
    }
    /// A wrong credential (RFC 6750 §3.1 `invalid_token`).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            challenge: Some("Bearer realm=\"scimgate-admin\", error=\"invalid_token\""),
            ..Self::new(401, "Unauthorized", detail)
        }
    }
    /// No credential at all, or none can be right: RFC 6750 §3.1 wants no error code then.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self {
            challenge: Some("Bearer realm=\"scimgate-admin\""),
            ..Self::new(401, "Unauthorized", detail)
        }
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "Internal Server Error",
            "internal error; see the server log",
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(c) = self.challenge {
            res.insert_header((header::WWW_AUTHENTICATE, c));
        }
        if let Some(s) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        res.content_type("application/problem+json").body(
            json!({
                "type": "about:blank",
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
            })
            .to_string(),
        )
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { what } => Self::conflict(format!("{what} is already taken")),
            StoreError::NotFound => Self::not_found("not found"),
            StoreError::SeatLimit { limit } => Self::conflict(format!(
                "seat limit of {limit} reached: members would get their access back; free seats \
                 or raise the limit first"
            )),
            other => {
                tracing::error!(cause = %other, "storage failure");
                Self::internal()
            }
        }
    }
}

impl From<RegistryError> for Problem {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Store(s) => s.into(),
            RegistryError::NoSuchClient(_) => Self::not_found(e.to_string()),
            RegistryError::BadName => Self::bad_request(e.to_string()),
            RegistryError::Secret(s) => {
                tracing::error!(cause = %s, "secret generation failed");
                Self::internal()
            }
        }
    }
}

/// A JSON body, refusing anything else with a problem the caller can act on.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}")
            .map_err(|e| Problem::bad_request(format!("a JSON body is required: {e}")));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))?;
    // serde would also read a struct from a positional array: only an object is a body here.
    if !value.is_object() {
        return Err(Problem::bad_request("the JSON body must be an object"));
    }
    serde_json::from_value(value)
        .map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))
}

use scimgate_authz::registry::MAX_LIFETIME_SECONDS as MAX_SECONDS;

/// Checks a duration in seconds from a request body.
pub fn bounded_seconds(name: &str, value: i64, min: i64) -> Result<i64, Problem> {
    if value < min {
        let what = if min > 0 { "positive" } else { "0 or more" };
        return Err(Problem::bad_request(format!("{name} must be {what}")));
    }
    if value > MAX_SECONDS {
        return Err(Problem::bad_request(format!(
            "{name} must be at most {MAX_SECONDS} (10 years)"
        )));
    }
    Ok(value)
}

/// For `Option<Option<T>>` body members: `Some(None)` for an explicit `null`, `None` (with
/// `#[serde(default)]`) for an absent member, as a JSON merge patch reads them (RFC 7396).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The longest name (workspace, project, team, mapping group) in characters.
pub(crate) const MAX_NAME: usize = 200;

/// A name as the admin API stores it: trimmed, then 1 to [`MAX_NAME`] characters without
/// control characters; `what` names it in the 400 problem.
pub(crate) fn check_name(what: &str, name: &str) -> Result<String, Problem> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Problem::bad_request(format!("{what} must not be empty")));
    }
    if n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(Problem::bad_request(format!(
            "{what} must be at most {MAX_NAME} printable characters"
        )));
    }
    Ok(n.to_owned())
}

/// An integer query parameter: `default` when absent, 400 when it is not a whole number in
/// `range`.
pub(crate) fn query_number(
    name: &str,
    raw: Option<&str>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, Problem> {
    let Some(s) = raw else { return Ok(default) };
    match s.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        Ok(_) => Err(Problem::bad_request(format!(
            "{name} must be from {} to {}, not {s:?}",
            range.start(),
            range.end()
        ))),
        Err(_) => Err(Problem::bad_request(format!(
            "{name} must be a whole number, not {s:?}"
        ))),
    }
}
