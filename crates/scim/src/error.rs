//! The one response mapper of the SCIM API: every refusal becomes an RFC 7644 §3.12 error body
//! with `application/scim+json` (refusals at the edge, with their `WWW-Authenticate`, are
//! [`crate::auth::AuthError`]).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scimgate_domain::error::ScimError;
use serde_json::json;

pub const SCIM_JSON: &str = "application/scim+json";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error on its way out.
#[derive(Debug)]
pub struct ApiError(pub ScimError);

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The RFC 7644 §3.12 body; `status` is a string there.
pub fn error_body(e: &ScimError) -> serde_json::Value {
    let mut body =
        json!({ "schemas": [ERROR_URN], "status": e.status.to_string(), "detail": e.detail });
    if let (Some(t), Some(obj)) = (e.scim_type, body.as_object_mut()) {
        obj.insert("scimType".into(), json!(t.as_str()));
    }
    body
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
        res.body(error_body(&self.0).to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
