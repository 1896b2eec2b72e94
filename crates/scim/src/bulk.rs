//! `POST /Bulk` (RFC 7644 §3.7): operations run in order through the same provisioning
//! operations as single requests; `bulkId:` references resolve to ids created earlier in the
//! request; `failOnErrors` stops after that many errors; limits are those advertised in
//! ServiceProviderConfig (413 past them, §3.7.4).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::error::ScimError;
use scimgate_domain::patch::PatchRequest;
use scimgate_domain::provisioning::{self as prov, Ctx, Precondition, etag};
use serde_json::{Map, Value, json};

use crate::ScimState;
use crate::auth::Principal;
use crate::error::{ApiResult, error_body};
use crate::params::{read_body, require_message_schema};
use crate::render::{base_url, json_response};

pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Replaces every `bulkId:<id>` string inside `v` (RFC 7644 §3.7.2).
fn resolve_refs(v: &mut Value, ids: &HashMap<String, String>) -> Result<(), ScimError> {
    match v {
        Value::String(s) => {
            if let Some(bulk_id) = s.strip_prefix("bulkId:") {
                let id = ids.get(bulk_id).ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "bulkId {bulk_id:?} is not defined by an earlier operation"
                    ))
                })?;
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| resolve_refs(i, ids))?,
        Value::Object(map) => map.values_mut().try_for_each(|i| resolve_refs(i, ids))?,
        _ => {}
    }
    Ok(())
}

/// Resolves a `bulkId:<id>` resource segment of an operation's path (`/Users/bulkId:u1`, RFC
/// 7644 §3.7.2); the path as a whole never starts with `bulkId:`.
fn resolve_path(path: &str, ids: &HashMap<String, String>) -> Result<String, ScimError> {
    let Some((kind, id)) = path.rsplit_once('/') else {
        return Ok(path.to_owned());
    };
    let mut id = Value::String(id.to_owned());
    resolve_refs(&mut id, ids)?;
    Ok(format!("{kind}/{}", id.as_str().unwrap_or_default()))
}

struct Outcome {
    status: StatusCode,
    id: Option<String>,
    version: Option<i64>,
}

async fn run_one(
    ctx: Ctx<'_>,
    method: &str,
    path: &str,
    data: Option<Value>,
    pre: &Precondition,
) -> Result<Outcome, ScimError> {
    let path = path.trim_start_matches('/');
    let (kind, id) = match path.split_once('/') {
        Some((k, id)) => (k, Some(id)),
        None => (path, None),
    };
    let need_data = || {
        data.clone()
            .ok_or_else(|| ScimError::invalid_syntax("this operation needs 'data'"))
    };
    let done = |status, id: String, version| {
        Ok(Outcome {
            status,
            id: Some(id),
            version: Some(version),
        })
    };
    match (method.to_ascii_uppercase().as_str(), kind, id) {
        ("POST", "Users", None) => {
            let c = prov::create_user(ctx, need_data()?).await?;
            done(
                StatusCode::CREATED,
                c.member.id.to_string(),
                c.member.version,
            )
        }
        ("POST", "Groups", None) => {
            let g = prov::create_group(ctx, need_data()?).await?;
            done(StatusCode::CREATED, g.id.to_string(), g.version)
        }
        ("PUT", "Users", Some(id)) => {
            let m = prov::replace_user(ctx, id, need_data()?, pre).await?;
            done(StatusCode::OK, m.id.to_string(), m.version)
        }
        ("PUT", "Groups", Some(id)) => {
            let g = prov::replace_group(ctx, id, need_data()?, pre).await?;
            done(StatusCode::OK, g.id.to_string(), g.version)
        }
        ("PATCH", "Users", Some(id)) => {
            let m = prov::patch_user(ctx, id, &PatchRequest::parse(need_data()?)?, pre).await?;
            done(StatusCode::OK, m.id.to_string(), m.version)
        }
        ("PATCH", "Groups", Some(id)) => {
            let g = prov::patch_group(ctx, id, PatchRequest::parse(need_data()?)?, pre).await?;
            done(StatusCode::OK, g.id.to_string(), g.version)
        }
        ("DELETE", "Users", Some(id)) => {
            prov::delete_user(ctx, id, pre).await?;
            Ok(Outcome {
                status: StatusCode::NO_CONTENT,
                id: Some(id.to_owned()),
                version: None,
            })
        }
        ("DELETE", "Groups", Some(id)) => {
            prov::delete_group(ctx, id, pre).await?;
            Ok(Outcome {
                status: StatusCode::NO_CONTENT,
                id: Some(id.to_owned()),
                version: None,
            })
        }
        (m, _, _) => Err(ScimError::invalid_syntax(format!(
            "unsupported bulk operation {m} {path}"
        ))),
    }
}

pub async fn bulk(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let limit = st.config.bulk_max_payload_bytes;
    let bytes = read_body(body, limit).await?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}"))
    })?;
    require_message_schema(&body, BULK_REQUEST_URN)?;
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array"))?;
    if ops.len() > st.config.bulk_max_operations {
        return Err(ScimError::new(
            413,
            None,
            format!(
                "a bulk request takes at most {} operations",
                st.config.bulk_max_operations
            ),
        )
        .into());
    }
    let fail_on_errors =
        match body.get("failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer")
            })?),
        };
    let ctx = Ctx {
        store: st.store.as_ref(),
        tenant: &p.tenant,
        jobs: st.jobs.as_ref(),
    };
    let base = base_url(&req);
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut results = Vec::with_capacity(ops.len());
    let mut errors = 0u64;
    for op in ops {
        let obj = op.as_object().cloned().unwrap_or_default();
        let method = obj
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let bulk_id = obj.get("bulkId").and_then(Value::as_str).map(str::to_owned);
        let mut path = obj
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let pre = match obj.get("version").and_then(Value::as_str) {
            Some(v) => Precondition::IfMatch(vec![v.to_owned()]),
            None => Precondition::None,
        };
        let outcome = async {
            if method.eq_ignore_ascii_case("POST") && bulk_id.is_none() {
                return Err(ScimError::invalid_syntax(
                    "a POST operation needs a bulkId (RFC 7644 §3.7)",
                ));
            }
            path = resolve_path(&path, &ids)?;
            let mut data = obj.get("data").cloned();
            if let Some(d) = data.as_mut() {
                resolve_refs(d, &ids)?;
            }
            run_one(ctx, &method, &path, data, &pre).await
        }
        .await;
        let mut entry = Map::new();
        entry.insert("method".into(), json!(method));
        if let Some(b) = &bulk_id {
            entry.insert("bulkId".into(), json!(b));
        }
        match outcome {
            Ok(o) => {
                let kind = path
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if let (Some(b), Some(id), true) =
                    (&bulk_id, &o.id, o.status == StatusCode::CREATED)
                {
                    ids.insert(b.clone(), id.clone());
                }
                if let (Some(id), true) = (&o.id, o.status != StatusCode::NO_CONTENT) {
                    entry.insert("location".into(), json!(format!("{base}/{kind}/{id}")));
                }
                if let Some(v) = o.version {
                    entry.insert("version".into(), json!(etag(v)));
                }
                entry.insert("status".into(), json!(o.status.as_u16().to_string()));
            }
            Err(e) => {
                errors += 1;
                entry.insert("status".into(), json!(e.status.to_string()));
                entry.insert("response".into(), error_body(&e));
            }
        }
        results.push(Value::Object(entry));
        if fail_on_errors.is_some_and(|n| errors >= n) {
            break;
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "schemas": [BULK_RESPONSE_URN], "Operations": results }),
    ))
}
