//! `/tenants/{slug}/settings` and `/tenants/{slug}/roles`: the tenant's SCIM settings and its
//! role catalogue, each checked against the other (the default initial role must be a role;
//! a role still in use cannot be removed).

use actix_web::{HttpResponse, web};
use scimgate_domain::access::{MappingKind, OrgTarget, ProjectRole, RoleCatalogue, RoleDef};
use scimgate_domain::jobs::JobQueue;
use scimgate_domain::ports::{ListQuery, Store};
use scimgate_domain::tenant::{
    ActivateOn, DeleteBehaviour, Tenant, TenantSettings, UniqueIdentifier,
};
use scimgate_domain::time::Timestamp;
use serde::Deserialize;

use crate::error::{Problem, json_body, present};
use crate::{AdminState, TenantAdmin};

pub async fn show(who: TenantAdmin) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(&who.tenant.settings))
}

/// A merge patch of the settings (RFC 7396): a member present replaces, `seatLimit: null`
/// removes the limit, a member absent stays.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsPatch {
    unique_identifier: Option<UniqueIdentifier>,
    delete_behaviour: Option<DeleteBehaviour>,
    protect_pre_scim_members: Option<bool>,
    strict_schema: Option<bool>,
    team_sync: Option<bool>,
    default_initial_role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    seat_limit: Option<Option<u64>>,
    activate_on: Option<ActivateOn>,
}

impl SettingsPatch {
    fn apply(self, s: &mut TenantSettings) {
        let SettingsPatch {
            unique_identifier,
            delete_behaviour,
            protect_pre_scim_members,
            strict_schema,
            team_sync,
            default_initial_role,
            seat_limit,
            activate_on,
        } = self;
        if let Some(v) = unique_identifier {
            s.unique_identifier = v;
        }
        if let Some(v) = delete_behaviour {
            s.delete_behaviour = v;
        }
        if let Some(v) = protect_pre_scim_members {
            s.protect_pre_scim_members = v;
        }
        if let Some(v) = strict_schema {
            s.strict_schema = v;
        }
        if let Some(v) = team_sync {
            s.team_sync = v;
        }
        if let Some(v) = default_initial_role {
            s.default_initial_role = v;
        }
        if let Some(v) = seat_limit {
            s.seat_limit = v;
        }
        if let Some(v) = activate_on {
            s.activate_on = v;
        }
    }
}

/// Whether the tenant has any member (SCIM-managed or not).
async fn has_members(store: &dyn Store, tenant: &Tenant) -> Result<bool, Problem> {
    let page = store
        .list_members(
            &tenant.id,
            &ListQuery {
                filter: None,
                sort: None,
                start_index: 1,
                count: 0,
            },
        )
        .await?;
    Ok(page.total > 0)
}

/// Checks and stores new settings for `tenant` (the admin API and the CLI both change
/// settings through this): the default initial role must be in the catalogue, the unique
/// identifier changes only while there are no members; turning team sync off unlinks every
/// team; a change that can move access bumps every member and tells the worker.
pub async fn change_settings(
    store: &dyn Store,
    jobs: &dyn JobQueue,
    tenant: &Tenant,
    after: TenantSettings,
) -> Result<TenantSettings, Problem> {
    let before = &tenant.settings;
    let catalogue = store.catalogue(&tenant.id).await?;
    if !catalogue.has_role(&after.default_initial_role) {
        return Err(Problem::bad_request(format!(
            "defaultInitialRole {:?} is not an organization role of the catalogue ({})",
            after.default_initial_role,
            role_keys(&catalogue.roles)
        )));
    }
    // Every member's stored identifier key was computed with the current setting: changing
    // it under existing members would make them unfindable (SEMANTICS 1).
    if after.unique_identifier != before.unique_identifier && has_members(store, tenant).await? {
        return Err(Problem::conflict(
            "uniqueIdentifier can change only while the tenant has no members: every \
             member's identifier was computed with the current setting",
        ));
    }
    if after == *before {
        return Ok(after);
    }
    store.update_tenant_settings(&tenant.id, &after).await?;
    if !before.team_sync && after.team_sync {
        // The groups pushed before get their teams too, not only the next ones.
        let n = store.resync_groups(&tenant.id).await?;
        tracing::info!(tenant = %tenant.slug, groups = n, "team sync on: every group is synced again");
    }
    if before.team_sync && !after.team_sync {
        // SEMANTICS 19: turning team sync off keeps every team and makes it editable.
        let n = store.unlink_all_teams(&tenant.id, Timestamp::now()).await?;
        tracing::info!(tenant = %tenant.slug, teams = n, "team sync off: unlinked every team");
    }
    if access_relevant(before, &after) {
        store.bump_tenant_access(&tenant.id).await?;
        crate::announce(jobs, tenant).await;
    }
    Ok(after)
}

pub async fn patch(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let patch: SettingsPatch = json_body(&body)?;
    let mut after = who.tenant.settings.clone();
    patch.apply(&mut after);
    let changed = after != who.tenant.settings;
    let after = change_settings(st.store.as_ref(), st.jobs.as_ref(), &who.tenant, after).await?;
    if changed {
        tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, "changed the tenant settings");
    }
    Ok(HttpResponse::Ok().json(&after))
}

/// Whether members' effective access may change with the settings.
fn access_relevant(a: &TenantSettings, b: &TenantSettings) -> bool {
    a.team_sync != b.team_sync || a.default_initial_role != b.default_initial_role
}

fn role_keys(roles: &[RoleDef]) -> String {
    roles
        .iter()
        .map(|r| r.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn roles(who: TenantAdmin, st: web::Data<AdminState>) -> Result<HttpResponse, Problem> {
    let c = st.store.catalogue(&who.tenant.id).await?;
    Ok(HttpResponse::Ok().json(&c))
}

pub async fn put_roles(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: CatalogueBody = json_body(&body)?;
    let new = RoleCatalogue {
        roles: new.roles,
        custom_roles: new.custom_roles,
    };
    new.validate()
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    if let Some(use_) = still_used(&st, &who, &new).await? {
        return Err(Problem::conflict(use_));
    }
    let old = st.store.catalogue(&who.tenant.id).await?;
    if old != new {
        st.store.put_catalogue(&who.tenant.id, &new).await?;
        st.announce(&who.tenant).await;
        tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, "replaced the role catalogue");
    }
    Ok(HttpResponse::Ok().json(&new))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CatalogueBody {
    roles: Vec<RoleDef>,
    #[serde(default)]
    custom_roles: Vec<RoleDef>,
}

/// What in the tenant still names a role the new catalogue lacks, if anything.
async fn still_used(
    st: &AdminState,
    who: &TenantAdmin,
    new: &RoleCatalogue,
) -> Result<Option<String>, Problem> {
    let role = who.tenant.settings.default_initial_role.as_str();
    if !new.has_role(role) {
        return Ok(Some(format!(
            "role {role:?} is the default initial role: change defaultInitialRole first"
        )));
    }
    for m in st.store.mappings(&who.tenant.id).await? {
        let named = match &m.kind {
            MappingKind::Role(OrgTarget::Role(r)) => Some(r),
            MappingKind::Project {
                role: ProjectRole::Role(r),
                ..
            } => Some(r),
            _ => None,
        };
        if let Some(r) = named
            && !new.has_role(r)
        {
            return Ok(Some(format!(
                "role {r:?} is used by a {} mapping of group {:?}: delete the mapping first",
                m.kind.name(),
                m.group_name
            )));
        }
    }
    for t in st.store.teams(&who.tenant.id).await? {
        if let Some(r) = t.custom_roles.iter().find(|r| !new.has_custom_role(r)) {
            return Ok(Some(format!(
                "custom role {r:?} is held by team {:?}: take it from the team first",
                t.name
            )));
        }
    }
    Ok(None)
}
