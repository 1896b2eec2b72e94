//! `/admin/v1/tenants`: create, list and show tenants; Disconnect SCIM.

use actix_web::{HttpResponse, web};
use scimgate_authz::registry::{self, tenant_json};
use scimgate_domain::ids::TenantId;
use scimgate_domain::tenant::{Slug, Tenant, TenantSettings};
use scimgate_domain::time::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::error::{Problem, json_body};
use crate::{AdminState, Operator};

/// The tenant named by the `{slug}` path segment, else 404.
pub async fn by_slug(st: &AdminState, slug: &str) -> Result<Tenant, Problem> {
    st.store
        .tenant_by_slug(slug)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no tenant with slug {slug:?}")))
}

pub async fn list(_: Operator, st: web::Data<AdminState>) -> Result<HttpResponse, Problem> {
    let tenants = st.store.list_tenants().await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "tenants": tenants.iter().map(tenant_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    slug: String,
    name: Option<String>,
    #[serde(default)]
    settings: Option<NewSettings>,
}

/// The settings a tenant can be created with; the access settings (team sync, default role,
/// seat limit, activation) start at their defaults and are set through their own checks.
/// Members not listed are ignored, as the OpenAPI document says.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NewSettings {
    unique_identifier: scimgate_domain::tenant::UniqueIdentifier,
    delete_behaviour: scimgate_domain::tenant::DeleteBehaviour,
    protect_pre_scim_members: bool,
    strict_schema: bool,
}

impl From<NewSettings> for TenantSettings {
    fn from(n: NewSettings) -> Self {
        Self {
            unique_identifier: n.unique_identifier,
            delete_behaviour: n.delete_behaviour,
            protect_pre_scim_members: n.protect_pre_scim_members,
            strict_schema: n.strict_schema,
            ..Self::default()
        }
    }
}

pub async fn create(
    _: Operator,
    st: web::Data<AdminState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: NewTenant = json_body(&body)?;
    let slug = Slug::parse(&new.slug).map_err(|e| Problem::bad_request(e.to_string()))?;
    let tenant = Tenant {
        id: TenantId::generate(),
        name: new
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| slug.to_string()),
        slug,
        settings: new.settings.map(TenantSettings::from).unwrap_or_default(),
        created: Timestamp::now(),
    };
    st.store.insert_tenant(&tenant).await.map_err(|e| match e {
        scimgate_domain::ports::StoreError::Conflict { .. } => Problem::conflict(format!(
            "a tenant with slug {:?} already exists",
            tenant.slug.as_str()
        )),
        other => other.into(),
    })?;
    tracing::info!(tenant = %tenant.slug, "created a tenant");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/admin/v1/tenants/{}", tenant.slug)))
        .json(tenant_json(&tenant)))
}

pub async fn show(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    Ok(HttpResponse::Ok().json(tenant_json(&t)))
}

/// SEMANTICS 21: every SCIM credential of the tenant stops working at once; data stays.
pub async fn disconnect(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    let done = registry::disconnect(st.store.as_ref(), &t.id).await?;
    (st.on_revoke)();
    tracing::warn!(tenant = %t.slug, clients = done.clients, tokens = done.tokens, "disconnected SCIM");
    Ok(HttpResponse::Ok().json(json!({
        "tenant": t.slug.as_str(),
        "clients_revoked": done.clients,
        "tokens_revoked": done.tokens,
    })))
}
