//! `/tenants/{slug}/members`: the host application's read API of effective access, and the
//! sign-in report that activates a member provisioned as not activated (SEMANTICS 6, 24).

use actix_web::{HttpResponse, web};
use scimgate_domain::filter::parse_filter;
use scimgate_domain::ids::MemberId;
use scimgate_domain::jobs::{Job, JobKind};
use scimgate_domain::member::{Member, MemberState};
use scimgate_domain::ports::{AccessView, ListQuery, StoreError};
use scimgate_domain::time::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Problem, query_number};
use crate::{AdminState, TenantAdmin};

/// The largest page of members.
const MAX_COUNT: u64 = 200;
const DEFAULT_COUNT: u64 = 100;

fn member_json(m: &Member, view: Option<&AccessView>) -> Value {
    let text = |k: &str| m.resource.get(k).and_then(Value::as_str);
    json!({
        "id": m.id.as_str(),
        "userName": text("userName"),
        "externalId": text("externalId"),
        "active": m.state != MemberState::Deactivated,
        "state": m.state.as_str(),
        "firstSignIn": m.first_sign_in.map(Timestamp::to_rfc3339),
        "access": view.and_then(|v| v.stored.as_ref()).map(|s| &s.access),
        "synced": view.is_some_and(|v| v.current),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
}

pub async fn list(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Problem> {
    let filter = match params.filter.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(f) => Some(
            parse_filter(f).map_err(|e| Problem::bad_request(format!("filter: {}", e.detail)))?,
        ),
    };
    let start_index =
        query_number("startIndex", params.start_index.as_deref(), 1, 0..=u64::MAX)?.max(1);
    let count = query_number(
        "count",
        params.count.as_deref(),
        DEFAULT_COUNT,
        0..=u64::MAX,
    )?;
    if count > MAX_COUNT {
        return Err(Problem::bad_request(format!(
            "count must be at most {MAX_COUNT}"
        )));
    }
    let page = st
        .store
        .list_members(
            &who.tenant.id,
            &ListQuery {
                filter,
                sort: None,
                start_index,
                count,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::InvalidQuery(why) => Problem::bad_request(format!("filter: {why}")),
            other => other.into(),
        })?;
    let ids: Vec<MemberId> = page.items.iter().map(|m| m.id.clone()).collect();
    let views = st.store.access_views(&who.tenant.id, &ids).await?;
    let members: Vec<Value> = page
        .items
        .iter()
        .map(|m| member_json(m, views.iter().find(|v| v.member_id == m.id)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "totalResults": page.total,
        "startIndex": start_index,
        "itemsPerPage": members.len(),
        "members": members,
    })))
}

async fn show_member(
    st: &AdminState,
    who: &TenantAdmin,
    m: &Member,
) -> Result<HttpResponse, Problem> {
    let views = st
        .store
        .access_views(&who.tenant.id, std::slice::from_ref(&m.id))
        .await?;
    Ok(HttpResponse::Ok().json(member_json(m, views.first())))
}

pub async fn show(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let m = st
        .store
        .member(&who.tenant.id, &MemberId::from_raw(path.1.clone()))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no member {:?}", path.1)))?;
    show_member(&st, &who, &m).await
}

/// The host application reports that the member signed in.
pub async fn sign_in(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = MemberId::from_raw(path.1.clone());
    let m = st
        .store
        .record_sign_in(
            &who.tenant.id,
            &id,
            Timestamp::now(),
            who.tenant.settings.seat_limit,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => Problem::not_found(format!("no member {:?}", path.1)),
            StoreError::SeatLimit { limit } => Problem::conflict(format!(
                "seat limit of {limit} reached: this member cannot be activated until a seat is \
                 free (deactivate a member, or raise seatLimit)"
            )),
            other => other.into(),
        })?;
    let job = Job {
        tenant: who.tenant.id.clone(),
        kind: JobKind::Member,
        id: m.id.to_string(),
        version: m.version,
        traceparent: None,
        enqueued_at_ms: None,
    };
    if let Err(e) = st.jobs.enqueue(&job).await {
        tracing::warn!(tenant = %who.tenant.slug, error = %e, "could not enqueue a member job; the sweeper will pick the change up");
    }
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, member = %m.id, state = m.state.as_str(), "recorded a sign-in");
    show_member(&st, &who, &m).await
}
