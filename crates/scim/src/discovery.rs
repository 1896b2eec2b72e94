//! Discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, describing exactly
//! what this server does (INTEROP 11: IdPs act on these fields).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::error::ScimError;
use scimgate_domain::schema::{self, resource_type_json, schema_json};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::render::{base_url, json_response, list_response};
use crate::{ScimState, id_of};

pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

pub async fn service_provider_config(
    req: HttpRequest,
    _p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    let c = &st.config;
    let body = json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/scimgate/scimgate/blob/main/docs/api.md",
        "patch": { "supported": true },
        "bulk": { "supported": true, "maxOperations": c.bulk_max_operations, "maxPayloadSize": c.bulk_max_payload_bytes },
        "filter": { "supported": true, "maxResults": c.max_page_size },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token (RFC 6750): an OAuth2 access token from the client credentials grant at /oauth/token (RFC 6749 §4.4, RFC 9068), or a static SCIM token issued per tenant",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base_url(&req)),
        }
    });
    Ok(json_response(StatusCode::OK, &body))
}

fn resource_types(base: &str) -> Vec<Value> {
    [schema::user(), schema::group()]
        .into_iter()
        .map(|rt| resource_type_json(rt, base))
        .collect()
}

pub async fn resource_types_list(req: HttpRequest, _p: Principal) -> ApiResult<HttpResponse> {
    let all = resource_types(&base_url(&req));
    Ok(list_response(all.len() as u64, 1, all))
}

pub async fn resource_type(req: HttpRequest, _p: Principal) -> ApiResult<HttpResponse> {
    let id = id_of(&req);
    resource_types(&base_url(&req))
        .into_iter()
        .find(|r| {
            r.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        })
        .map(|r| json_response(StatusCode::OK, &r))
        .ok_or_else(|| ApiError(ScimError::not_found(format!("ResourceType {id} not found"))))
}

fn schemas(base: &str) -> Vec<Value> {
    schema::schemas()
        .into_iter()
        .map(|s| schema_json(s, base))
        .collect()
}

pub async fn schemas_list(req: HttpRequest, _p: Principal) -> ApiResult<HttpResponse> {
    let all = schemas(&base_url(&req));
    Ok(list_response(all.len() as u64, 1, all))
}

pub async fn schema(req: HttpRequest, _p: Principal) -> ApiResult<HttpResponse> {
    let id = id_of(&req);
    schemas(&base_url(&req))
        .into_iter()
        .find(|s| {
            s.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        })
        .map(|s| json_response(StatusCode::OK, &s))
        .ok_or_else(|| ApiError(ScimError::not_found(format!("Schema {id} not found"))))
}
