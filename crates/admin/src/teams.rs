//! `/tenants/{slug}/teams`: teams (LaunchDarkly). A team synced with an IdP group takes its
//! name and members from the IdP only (409 here, SEMANTICS 19); its custom roles, maintainers
//! and description are managed here. Without team sync, teams are made and edited here.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::access::{RoleCatalogue, Team, synced_team_edit_refusal};
use scimgate_domain::ids::{MemberId, TeamId};
use scimgate_domain::ports::StoreError;
use scimgate_domain::time::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Problem, check_name, json_body, present};
use crate::{AdminState, TenantAdmin};

/// The longest team name and description accepted.
const MAX_DESCRIPTION: usize = 2000;

fn team_json(t: &Team, members: &[MemberId]) -> Value {
    json!({
        "id": t.id.as_str(),
        "name": t.name,
        "description": t.description,
        "customRoles": t.custom_roles,
        "maintainers": t.maintainers.iter().map(MemberId::as_str).collect::<Vec<_>>(),
        "synced": t.synced(),
        "groupId": t.group_id.as_ref().map(|g| g.as_str()),
        "members": members.iter().map(MemberId::as_str).collect::<Vec<_>>(),
        "created": t.created.to_rfc3339(),
        "lastModified": t.last_modified.to_rfc3339(),
        "version": t.version,
    })
}

async fn team_of(st: &AdminState, who: &TenantAdmin, id: &str) -> Result<Team, Problem> {
    st.store
        .team(&who.tenant.id, &TeamId::from_raw(id))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no team {id:?}")))
}

pub async fn list(who: TenantAdmin, st: web::Data<AdminState>) -> Result<HttpResponse, Problem> {
    let teams = st.store.teams(&who.tenant.id).await?;
    let mut out = Vec::with_capacity(teams.len());
    for t in &teams {
        let members = st.store.team_members(&who.tenant.id, &t.id).await?;
        out.push(team_json(t, &members));
    }
    Ok(HttpResponse::Ok().json(json!({ "teams": out })))
}

pub async fn show(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let t = team_of(&st, &who, &path.1).await?;
    let members = st.store.team_members(&who.tenant.id, &t.id).await?;
    Ok(HttpResponse::Ok().json(team_json(&t, &members)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TeamBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    custom_roles: Option<Vec<String>>,
    maintainers: Option<Vec<String>>,
    members: Option<Vec<String>>,
}

/// A store error of a team write as a problem: a name taken is 409.
fn team_write_error(e: StoreError, name: &str) -> Problem {
    match e {
        StoreError::Conflict { .. } => {
            Problem::conflict(format!("a team named {name:?} already exists"))
        }
        StoreError::VersionMismatch => Problem::conflict(
            "the team changed while this request was applied: read it again and retry",
        ),
        other => other.into(),
    }
}

fn check_description(d: Option<String>) -> Result<Option<String>, Problem> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(Problem::bad_request(format!(
            "a team description is at most {MAX_DESCRIPTION} characters"
        ))),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Custom roles must be in the catalogue's custom roles; kept sorted and unique.
fn check_custom_roles(cat: &RoleCatalogue, roles: Vec<String>) -> Result<Vec<String>, Problem> {
    if let Some(r) = roles.iter().find(|r| !cat.has_custom_role(r)) {
        return Err(Problem::bad_request(format!(
            "custom role {r:?} is not in the catalogue's customRoles"
        )));
    }
    Ok(roles
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// Member ids of this tenant (by id, or by the tenant's unique identifier), unique, in order.
async fn check_members(
    st: &AdminState,
    who: &TenantAdmin,
    what: &str,
    ids: Vec<String>,
) -> Result<Vec<MemberId>, Problem> {
    let resolved = st.store.resolve_members(&who.tenant.id, &ids).await?;
    if let Some(missing) = ids
        .iter()
        .find(|id| !resolved.iter().any(|(given, _)| given == *id))
    {
        return Err(Problem::bad_request(format!(
            "{what}: no member {missing:?} in this tenant"
        )));
    }
    let mut seen = BTreeSet::new();
    Ok(resolved
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| seen.insert(id.clone()))
        .collect())
}

pub async fn create(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: TeamBody = json_body(&body)?;
    if who.tenant.settings.team_sync {
        return Err(Problem::conflict(
            "team sync is on: teams come from the IdP's groups (push a group); turn teamSync off \
             to manage teams here",
        ));
    }
    let Some(name) = new.name.as_deref() else {
        return Err(Problem::bad_request("a team needs a name"));
    };
    let name = check_name("a team name", name)?;
    let cat = st.store.catalogue(&who.tenant.id).await?;
    let custom_roles = check_custom_roles(&cat, new.custom_roles.unwrap_or_default())?;
    let maintainers = check_members(
        &st,
        &who,
        "maintainers",
        new.maintainers.unwrap_or_default(),
    )
    .await?;
    let members = check_members(&st, &who, "members", new.members.unwrap_or_default()).await?;
    let now = Timestamp::now();
    let team = Team {
        id: TeamId::generate(),
        tenant_id: who.tenant.id.clone(),
        name,
        description: check_description(new.description.flatten())?,
        custom_roles,
        maintainers,
        group_id: None,
        created: now,
        last_modified: now,
        version: 1,
    };
    st.store
        .insert_team(&team, &members)
        .await
        .map_err(|e| team_write_error(e, &team.name))?;
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, team = %team.id, "created a team");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{}/{}", req.path(), team.id)))
        .json(team_json(&team, &members)))
}

pub async fn patch(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let change: TeamBody = json_body(&body)?;
    let current = team_of(&st, &who, &path.1).await?;
    let current_members = st.store.team_members(&who.tenant.id, &current.id).await?;
    let name = change
        .name
        .as_deref()
        .map(|n| check_name("a team name", n))
        .transpose()?;
    let members = match change.members {
        Some(ids) => Some(check_members(&st, &who, "members", ids).await?),
        None => None,
    };
    let changes_name = name.as_ref().is_some_and(|n| *n != current.name);
    let changes_members = members.as_ref().is_some_and(|m| {
        m.iter().collect::<BTreeSet<_>>() != current_members.iter().collect::<BTreeSet<_>>()
    });
    if let Some(why) = synced_team_edit_refusal(&current, changes_name, changes_members) {
        return Err(Problem::conflict(why));
    }
    let mut team = current.clone();
    if let Some(n) = name {
        team.name = n;
    }
    if let Some(d) = change.description {
        team.description = check_description(d)?;
    }
    if let Some(roles) = change.custom_roles {
        let cat = st.store.catalogue(&who.tenant.id).await?;
        team.custom_roles = check_custom_roles(&cat, roles)?;
    }
    if let Some(ids) = change.maintainers {
        team.maintainers = check_members(&st, &who, "maintainers", ids).await?;
    }
    if team == current && !changes_members {
        return Ok(HttpResponse::Ok().json(team_json(&current, &current_members)));
    }
    team.version = current.version + 1;
    team.last_modified = Timestamp::now();
    let replace = members.filter(|_| changes_members);
    st.store
        .update_team(&team, current.version, replace.as_deref())
        .await
        .map_err(|e| team_write_error(e, &team.name))?;
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, team = %team.id, "changed a team");
    let members = replace.unwrap_or(current_members);
    Ok(HttpResponse::Ok().json(team_json(&team, &members)))
}

pub async fn delete(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let team = team_of(&st, &who, &path.1).await?;
    if team.synced() {
        return Err(Problem::conflict(format!(
            "team {:?} is synced with an IdP group: it goes away only when team sync is off \
             (deleting the group in the IdP unlinks it)",
            team.name
        )));
    }
    if !st.store.delete_team(&who.tenant.id, &team.id).await? {
        return Err(Problem::not_found(format!("no team {:?}", path.1)));
    }
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, team = %team.id, "deleted a team");
    Ok(HttpResponse::NoContent().finish())
}
