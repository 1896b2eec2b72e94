//! `/Groups` (RFC 7644 §3.3–§3.6). Member lists are loaded only when the response carries them
//! (`excludedAttributes=members` never reads them).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::group::Group;
use scimgate_domain::patch::PatchRequest;
use scimgate_domain::provisioning::{self as prov, Ctx};
use scimgate_domain::schema::{self, Projection};
use serde_json::Value;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::params::{ListParams, json_body, not_modified, precondition};
use crate::render::{self, base_url};
use crate::{ScimState, id_of};

fn ctx<'a>(st: &'a ScimState, p: &'a Principal) -> Ctx<'a> {
    Ctx {
        store: st.store.as_ref(),
        tenant: &p.tenant,
        jobs: st.jobs.as_ref(),
    }
}

/// Renders groups, loading members for all of them in one query when the projection wants them.
async fn render_groups(
    req: &HttpRequest,
    p: &Principal,
    st: &ScimState,
    groups: &[Group],
    projection: &Projection,
) -> ApiResult<Vec<Value>> {
    let members = if projection.wants(schema::group(), "members") && !groups.is_empty() {
        let ids: Vec<_> = groups.iter().map(|g| g.id.clone()).collect();
        Some(
            st.store
                .group_members(&p.tenant.id, &ids)
                .await
                .map_err(|e| ApiError(prov_storage(e)))?,
        )
    } else {
        None
    };
    let base = base_url(req);
    Ok(groups
        .iter()
        .map(|g| {
            render::project(
                schema::group(),
                projection,
                render::group(&base, g, members.as_deref()),
            )
        })
        .collect())
}

fn prov_storage(e: scimgate_domain::ports::StoreError) -> scimgate_domain::error::ScimError {
    tracing::error!(cause = %e, "storage failure");
    scimgate_domain::error::ScimError::internal()
}

async fn one(
    req: &HttpRequest,
    p: &Principal,
    st: &ScimState,
    g: &Group,
    status: StatusCode,
) -> ApiResult<HttpResponse> {
    let projection = ListParams::from_query(req)?.projection()?;
    let mut out = render_groups(req, p, st, std::slice::from_ref(g), &projection).await?;
    let body = out.pop().unwrap_or(Value::Null);
    let location = render::group_location(&base_url(req), g);
    Ok(render::resource_response(
        status, &body, g.version, &location,
    ))
}

pub async fn create(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    ListParams::from_query(&req)?.projection()?;
    let body = json_body(body, st.config.max_body_bytes).await?;
    let g = prov::create_group(ctx(&st, &p), body).await?;
    one(&req, &p, &st, &g, StatusCode::CREATED).await
}

pub async fn get(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    let g = prov::find_group(ctx(&st, &p), id_of(&req)).await?;
    if not_modified(&req, g.version) {
        return Ok(HttpResponse::NotModified().finish());
    }
    one(&req, &p, &st, &g, StatusCode::OK).await
}

pub async fn replace(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    ListParams::from_query(&req)?.projection()?;
    let body = json_body(body, st.config.max_body_bytes).await?;
    let g = prov::replace_group(ctx(&st, &p), id_of(&req), body, &precondition(&req)).await?;
    one(&req, &p, &st, &g, StatusCode::OK).await
}

pub async fn patch(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    ListParams::from_query(&req)?.projection()?;
    let body = PatchRequest::parse(json_body(body, st.config.max_body_bytes).await?)?;
    let g = prov::patch_group(ctx(&st, &p), id_of(&req), body, &precondition(&req)).await?;
    one(&req, &p, &st, &g, StatusCode::OK).await
}

pub async fn delete(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    prov::delete_group(ctx(&st, &p), id_of(&req), &precondition(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    let params = ListParams::from_query(&req)?;
    search(&req, &p, &st, &params).await
}

pub async fn search(
    req: &HttpRequest,
    p: &Principal,
    st: &ScimState,
    params: &ListParams,
) -> ApiResult<HttpResponse> {
    let projection = params.projection()?;
    let query = params.query(&st.config)?;
    let page = prov::list_groups(ctx(st, p), &query).await?;
    let resources = render_groups(req, p, st, &page.items, &projection).await?;
    Ok(render::list_response(
        page.total,
        query.start_index,
        resources,
    ))
}
