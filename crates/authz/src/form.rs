//! Request bodies of the OAuth2 endpoints: `application/x-www-form-urlencoded` only (RFC 6749
//! §3.2, RFC 7662 §2.1, RFC 7009 §2.1), each parameter at most once (RFC 6749 §3.2).

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::OAuthError;

/// The largest body accepted; token requests are a few hundred bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A parsed form: parameter → value.
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Like [`Self::get`], but an empty value counts as absent (RFC 6749 §3.1: "Parameters
    /// sent without a value MUST be treated as if they were omitted").
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Checks the content type and parses `body`.
    pub fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        if body.len() > MAX_FORM_BYTES {
            return Err(OAuthError::invalid_request("the body is too large"));
        }
        // Credentials belong in the body or the Authorization header, never in the URL.
        if req.query_string().contains("client_secret") {
            return Err(OAuthError::invalid_request(
                "client_secret must not be sent in the URL",
            ));
        }
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k:?} is repeated"
                )));
            }
        }
        Ok(Self(map))
    }
}
