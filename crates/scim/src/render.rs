//! Domain values rendered as SCIM resources: `id`, `meta` (RFC 7643 §3.1), group members, list
//! responses (RFC 7644 §3.4.2), with the request's attribute projection applied.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::{HttpResponse, http::StatusCode};
use scimgate_domain::group::{Group, GroupMemberRef};
use scimgate_domain::member::{Member, MemberState};
use scimgate_domain::provisioning::etag;
use scimgate_domain::schema::{Projection, ResourceType};
use serde_json::{Map, Value, json};

use crate::error::SCIM_JSON;

pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The SCIM base URL of this request: scheme and host as the client used them, then
/// `/scim/v2` or `/tenants/{slug}/scim/v2`.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let prefix = match req.match_info().get("slug") {
        Some(slug) => format!("/tenants/{slug}/scim/v2"),
        None => "/scim/v2".to_owned(),
    };
    format!("{}://{}{prefix}", info.scheme(), info.host())
}

fn meta(resource_type: &str, location: String, created: i64, modified: i64, version: i64) -> Value {
    use scimgate_domain::time::Timestamp;
    json!({
        "resourceType": resource_type,
        "created": Timestamp::from_millis(created).to_rfc3339(),
        "lastModified": Timestamp::from_millis(modified).to_rfc3339(),
        "location": location,
        "version": etag(version),
    })
}

/// Where a User lives (`meta.location`, and `Location` on 201).
pub fn user_location(base: &str, m: &Member) -> String {
    format!("{base}/Users/{}", m.id)
}

/// Where a Group lives.
pub fn group_location(base: &str, g: &Group) -> String {
    format!("{base}/Groups/{}", g.id)
}

/// A member as a SCIM User. `active` reports access: false once deactivated (SEMANTICS 6–7).
pub fn user(base: &str, m: &Member) -> Map<String, Value> {
    let mut out = Map::with_capacity(m.resource.len() + 3);
    out.insert("id".into(), Value::String(m.id.to_string()));
    for (k, v) in &m.resource {
        out.insert(k.clone(), v.clone());
    }
    out.insert(
        "active".into(),
        Value::Bool(m.state != MemberState::Deactivated),
    );
    let location = user_location(base, m);
    out.insert(
        "meta".into(),
        meta(
            "User",
            location,
            m.created.millis(),
            m.last_modified.millis(),
            m.version,
        ),
    );
    out
}

/// A group as a SCIM Group; `members` only when they were loaded.
pub fn group(base: &str, g: &Group, members: Option<&[GroupMemberRef]>) -> Map<String, Value> {
    let mut out = Map::with_capacity(g.resource.len() + 3);
    out.insert("id".into(), Value::String(g.id.to_string()));
    for (k, v) in &g.resource {
        out.insert(k.clone(), v.clone());
    }
    if let Some(members) = members {
        let list: Vec<Value> = members
            .iter()
            .filter(|r| r.group_id == g.id)
            .map(|r| {
                json!({
                    "value": r.member_id.as_str(),
                    "display": r.display,
                    "type": "User",
                    "$ref": format!("{base}/Users/{}", r.member_id),
                })
            })
            .collect();
        if !list.is_empty() {
            out.insert("members".into(), Value::Array(list));
        }
    }
    let location = group_location(base, g);
    out.insert(
        "meta".into(),
        meta(
            "Group",
            location,
            g.created.millis(),
            g.last_modified.millis(),
            g.version,
        ),
    );
    out
}

pub fn project(
    rt: &ResourceType,
    projection: &Projection,
    mut resource: Map<String, Value>,
) -> Value {
    projection.apply(rt, &mut resource);
    Value::Object(resource)
}

/// 200/201 with the resource, its ETag and (for 201) its Location (RFC 7644 §3.3). The
/// location is given apart from the body: `attributes` may have projected `meta` away.
pub fn resource_response(
    status: StatusCode,
    body: &Value,
    version: i64,
    location: &str,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, SCIM_JSON));
    res.insert_header((header::ETAG, etag(version)));
    if status == StatusCode::CREATED {
        res.insert_header((header::LOCATION, location.to_owned()));
    }
    res.body(body.to_string())
}

pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .body(body.to_string())
}

pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> HttpResponse {
    let body = json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    json_response(StatusCode::OK, &body)
}
