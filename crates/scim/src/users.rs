//! `/Users` (RFC 7644 §3.3–§3.6): thin handlers that parse, call one provisioning operation and
//! render.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::error::ScimError;
use scimgate_domain::member::Member;
use scimgate_domain::patch::PatchRequest;
use scimgate_domain::provisioning::{self as prov, Ctx};
use scimgate_domain::schema::{self, Projection};
use serde_json::{Value, json};

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

/// A member as the response shows it. `groups` (returned on request, see the User schema) is
/// read only when the projection asks for it.
async fn render_user(
    base: &str,
    p: &Principal,
    st: &ScimState,
    member: &Member,
    projection: &Projection,
) -> ApiResult<Value> {
    let mut out = render::user(base, member);
    if projection.wants(schema::user(), "groups") {
        let groups = st
            .store
            .groups_of_member(&p.tenant.id, &member.id)
            .await
            .map_err(|e| {
                tracing::error!(cause = %e, "storage failure");
                ApiError(ScimError::internal())
            })?;
        let list: Vec<Value> = groups
            .iter()
            .map(|g| {
                json!({
                    "value": g.id.as_str(),
                    "display": g.display_name,
                    "type": "direct",
                    "$ref": format!("{base}/Groups/{}", g.id),
                })
            })
            .collect();
        if !list.is_empty() {
            out.insert("groups".into(), Value::Array(list));
        }
    }
    Ok(render::project(schema::user(), projection, out))
}

pub async fn create(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let projection = ListParams::from_query(&req)?.projection()?;
    let body = json_body(body, st.config.max_body_bytes).await?;
    let created = prov::create_user(ctx(&st, &p), body).await?;
    if created.adopted {
        tracing::info!(member = %created.member.id, "adopted an existing member");
    }
    let base = base_url(&req);
    let out = render_user(&base, &p, &st, &created.member, &projection).await?;
    Ok(render::resource_response(
        StatusCode::CREATED,
        &out,
        created.member.version,
        &render::user_location(&base, &created.member),
    ))
}

pub async fn get(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    let projection = ListParams::from_query(&req)?.projection()?;
    let member = prov::find_user(ctx(&st, &p), id_of(&req)).await?;
    if not_modified(&req, member.version) {
        return Ok(HttpResponse::NotModified().finish());
    }
    let base = base_url(&req);
    let out = render_user(&base, &p, &st, &member, &projection).await?;
    Ok(render::resource_response(
        StatusCode::OK,
        &out,
        member.version,
        &render::user_location(&base, &member),
    ))
}

pub async fn replace(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let projection = ListParams::from_query(&req)?.projection()?;
    let body = json_body(body, st.config.max_body_bytes).await?;
    let member = prov::replace_user(ctx(&st, &p), id_of(&req), body, &precondition(&req)).await?;
    let base = base_url(&req);
    let out = render_user(&base, &p, &st, &member, &projection).await?;
    Ok(render::resource_response(
        StatusCode::OK,
        &out,
        member.version,
        &render::user_location(&base, &member),
    ))
}

/// RFC 7644 §3.5.2: answered 200 with the resource (INTEROP 14).
pub async fn patch(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let projection = ListParams::from_query(&req)?.projection()?;
    let body = PatchRequest::parse(json_body(body, st.config.max_body_bytes).await?)?;
    let member = prov::patch_user(ctx(&st, &p), id_of(&req), &body, &precondition(&req)).await?;
    let base = base_url(&req);
    let out = render_user(&base, &p, &st, &member, &projection).await?;
    Ok(render::resource_response(
        StatusCode::OK,
        &out,
        member.version,
        &render::user_location(&base, &member),
    ))
}

pub async fn delete(
    req: HttpRequest,
    p: Principal,
    st: web::Data<ScimState>,
) -> ApiResult<HttpResponse> {
    prov::delete_user(ctx(&st, &p), id_of(&req), &precondition(&req)).await?;
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

/// A page of users for `GET /Users` and `POST /Users/.search`.
pub async fn search(
    req: &HttpRequest,
    p: &Principal,
    st: &ScimState,
    params: &ListParams,
) -> ApiResult<HttpResponse> {
    let projection = params.projection()?;
    let query = params.query(&st.config)?;
    let page = prov::list_users(ctx(st, p), &query).await?;
    let base = base_url(req);
    let mut resources = Vec::with_capacity(page.items.len());
    for m in &page.items {
        resources.push(render_user(&base, p, st, m, &projection).await?);
    }
    Ok(render::list_response(
        page.total,
        query.start_index,
        resources,
    ))
}
