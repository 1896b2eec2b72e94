//! `POST /.search` (RFC 7644 §3.4.3), per resource type and at the root.

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::error::ScimError;
use scimgate_domain::provisioning::{self as prov, Ctx};
use scimgate_domain::schema;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::params::{ListParams, json_body, require_message_schema};
use crate::render::{self, base_url};
use crate::{ScimState, groups, users};

pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

async fn params(body: web::Payload, st: &ScimState) -> Result<ListParams, ScimError> {
    let body = json_body(body, st.config.max_body_bytes).await?;
    require_message_schema(&body, SEARCH_REQUEST_URN)?;
    serde_json::from_value(body)
        .map_err(|e| ScimError::invalid_syntax(format!("search request: {e}")))
}

pub async fn users(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let params = params(body, &st).await?;
    users::search(&req, &p, &st, &params).await
}

pub async fn groups(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let params = params(body, &st).await?;
    groups::search(&req, &p, &st, &params).await
}

/// Root search: Users then Groups as one result set. A filter naming an attribute one type
/// lacks matches nothing of that type (RFC 7644 §3.4.3: the filter applies to every type).
pub async fn root(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let params = params(body, &st).await?;
    let projection = params.projection()?;
    let query = params.query(&st.config)?;
    let ctx = Ctx {
        store: st.store.as_ref(),
        tenant: &p.tenant,
        jobs: st.jobs.as_ref(),
    };
    let filtered = query.filter.is_some();
    let mut count_only = query.clone();
    count_only.count = 0;
    let user_total =
        lenient(prov::list_users(ctx, &count_only).await, filtered)?.map_or(0, |p| p.total);
    let group_total =
        lenient(prov::list_groups(ctx, &count_only).await, filtered)?.map_or(0, |p| p.total);
    let base = base_url(&req);
    let mut resources = Vec::new();
    // The page [start, start + count) over users followed by groups.
    let start = query.start_index - 1;
    let end = start + query.count;
    if start < user_total && query.count > 0 {
        let mut q = query.clone();
        q.count = end.min(user_total) - start;
        if let Some(page) = lenient(prov::list_users(ctx, &q).await, filtered)? {
            resources.extend(
                page.items
                    .iter()
                    .map(|m| render::project(schema::user(), &projection, render::user(&base, m))),
            );
        }
    }
    if end > user_total && query.count > 0 {
        let mut q = query.clone();
        q.start_index = start.saturating_sub(user_total) + 1;
        q.count = end - user_total.max(start);
        if let Some(page) = lenient(prov::list_groups(ctx, &q).await, filtered)? {
            resources.extend(page.items.iter().map(|g| {
                render::project(schema::group(), &projection, render::group(&base, g, None))
            }));
        }
    }
    Ok(render::list_response(
        user_total + group_total,
        query.start_index,
        resources,
    ))
}

/// A filter naming an attribute this type lacks matches none of its resources.
fn lenient<T>(r: Result<T, ScimError>, filtered: bool) -> Result<Option<T>, ScimError> {
    match r {
        Err(e)
            if filtered && e.scim_type == Some(scimgate_domain::error::ScimType::InvalidFilter) =>
        {
            Ok(None)
        }
        other => other.map(Some),
    }
}
