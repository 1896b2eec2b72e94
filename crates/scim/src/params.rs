//! Query parameters and request bodies, parsed at the boundary: list parameters
//! (RFC 7644 §3.4.2), `/.search` bodies (§3.4.3), preconditions (§3.14) and JSON bodies with a
//! size limit (413).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use futures_util::StreamExt as _;
use scimgate_domain::error::ScimError;
use scimgate_domain::filter::{AttrPath, parse_filter, parse_patch_path};
use scimgate_domain::ports::{ListQuery, Sort};
use scimgate_domain::provisioning::Precondition;
use scimgate_domain::schema::Projection;
use serde_json::Value;

use crate::ScimConfig;

/// The list parameters as they arrive, from the query string or a `.search` body.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<Value>,
    pub count: Option<Value>,
    pub attributes: Option<Value>,
    pub excluded_attributes: Option<Value>,
}

fn number(v: Option<&Value>, name: &str) -> Result<Option<i64>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer"))),
        Some(_) => Err(ScimError::invalid_value(format!(
            "{name} must be an integer"
        ))),
    }
}

/// `attributes` is a comma-separated string in a query and a list of strings in a body.
fn attr_list(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

impl ListParams {
    /// Reads the query string; parameter names are case-insensitive in practice (clients send
    /// `startindex`, `Count`), so they are matched ignoring case.
    pub fn from_query(req: &HttpRequest) -> Result<Self, ScimError> {
        let pairs: Vec<(String, String)> =
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map_err(|_| ScimError::invalid_syntax("the query string cannot be read"))?
                .into_inner();
        let mut p = Self::default();
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(v),
                "sortby" => p.sort_by = Some(v),
                "sortorder" => p.sort_order = Some(v),
                "startindex" => p.start_index = Some(Value::String(v)),
                "count" => p.count = Some(Value::String(v)),
                "attributes" => p.attributes = Some(Value::String(v)),
                "excludedattributes" => p.excluded_attributes = Some(Value::String(v)),
                _ => {}
            }
        }
        Ok(p)
    }

    pub fn projection(&self) -> Result<Projection, ScimError> {
        let a = attr_list(self.attributes.as_ref());
        let e = attr_list(self.excluded_attributes.as_ref());
        Projection::parse(a.as_deref(), e.as_deref())
    }

    /// The page request: startIndex below 1 reads as 1, count below 0 as 0, count above the
    /// maximum as the maximum (RFC 7644 §3.4.2.4).
    pub fn query(&self, config: &ScimConfig) -> Result<ListQuery, ScimError> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(parse_filter(f)?),
        };
        let sort = match self.sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let path = sort_path(s)?;
                let descending = match self.sort_order.as_deref().map(str::trim) {
                    None | Some("") => false,
                    Some(o) if o.eq_ignore_ascii_case("ascending") => false,
                    Some(o) if o.eq_ignore_ascii_case("descending") => true,
                    Some(o) => {
                        return Err(ScimError::invalid_value(format!(
                            "sortOrder must be ascending or descending, not {o:?}"
                        )));
                    }
                };
                Some(Sort { path, descending })
            }
        };
        let start_index = number(self.start_index.as_ref(), "startIndex")?
            .unwrap_or(1)
            .max(1);
        let count = number(self.count.as_ref(), "count")?
            .unwrap_or(config.default_page_size as i64)
            .clamp(0, config.max_page_size as i64);
        Ok(ListQuery {
            filter,
            sort,
            start_index: u64::try_from(start_index).unwrap_or(1),
            count: u64::try_from(count).unwrap_or(0),
        })
    }
}

fn sort_path(s: &str) -> Result<AttrPath, ScimError> {
    let p = parse_patch_path(s)
        .map_err(|e| ScimError::invalid_value(format!("sortBy: {}", e.detail)))?;
    if p.filter.is_some() {
        return Err(ScimError::invalid_value(
            "sortBy takes an attribute path without a filter",
        ));
    }
    Ok(p.attr)
}

/// If-Match (RFC 7644 §3.14).
pub fn precondition(req: &HttpRequest) -> Precondition {
    match req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => Precondition::IfMatch(v.split(',').map(|t| t.trim().to_owned()).collect()),
        None => Precondition::None,
    }
}

/// If-None-Match on a GET: true when the client already has `version` (→ 304).
pub fn not_modified(req: &HttpRequest, version: i64) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let list: Vec<String> = v.split(',').map(|t| t.trim().to_owned()).collect();
            scimgate_domain::provisioning::etag_matches(&list, version)
        })
}

/// Reads the body up to `limit` bytes: over it is 413 (RFC 7644 §3.7.4 names 413 for bulk;
/// the same limit guards every body).
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, ScimError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ScimError::invalid_syntax("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ScimError::new(
                413,
                None,
                format!("the request body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body as JSON (RFC 7644 §3.12: malformed JSON is invalidSyntax).
pub async fn json_body(payload: web::Payload, limit: usize) -> Result<Value, ScimError> {
    let bytes = read_body(payload, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax("the request body is empty"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")))
}

/// A message body must list its message schema in `schemas` (RFC 7644 §3.4.3, §3.7).
pub fn require_message_schema(body: &Value, urn: &str) -> Result<(), ScimError> {
    let listed = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)))
        });
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "'schemas' must list '{urn}'"
        )))
    }
}
