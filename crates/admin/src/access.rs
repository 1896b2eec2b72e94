//! `/tenants/{slug}/mappings`, `/workspaces` and `/projects`: what a pushed group means in the
//! product (SEMANTICS 11–14). Groups come from the IdP; mappings name them by display name and
//! bind to the group once it exists, so they may be set up before the first push.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use scimgate_domain::access::{
    Mapping, MappingKind, OrgTarget, Project, ProjectRole, Workspace, valid_project_key,
};
use scimgate_domain::ids::{MappingId, WorkspaceId};
use scimgate_domain::ports::StoreError;
use scimgate_domain::time::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Problem, check_name, json_body};
use crate::{AdminState, TenantAdmin};

fn workspace_json(w: &Workspace) -> Value {
    json!({ "id": w.id.as_str(), "name": w.name, "created": w.created.to_rfc3339() })
}

fn mapping_json(m: &Mapping, workspaces: &HashMap<WorkspaceId, String>) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(m.id.as_str()));
    o.insert("group".into(), json!(m.group_name));
    o.insert(
        "groupId".into(),
        json!(m.group_id.as_ref().map(|g| g.as_str())),
    );
    o.insert("kind".into(), json!(m.kind.name()));
    match &m.kind {
        MappingKind::Role(target) => {
            o.insert("role".into(), json!(target.as_str()));
        }
        MappingKind::Workspace(w) => {
            o.insert("workspaceId".into(), json!(w.as_str()));
            o.insert(
                "workspace".into(),
                json!(workspaces.get(w).cloned().unwrap_or_default()),
            );
        }
        MappingKind::Project { project, role } => {
            o.insert("project".into(), json!(project));
            o.insert("role".into(), json!(role.as_str()));
        }
    }
    o.insert("created".into(), json!(m.created.to_rfc3339()));
    Value::Object(o)
}

async fn workspace_names(
    st: &AdminState,
    who: &TenantAdmin,
) -> Result<HashMap<WorkspaceId, String>, Problem> {
    Ok(st
        .store
        .workspaces(&who.tenant.id)
        .await?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect())
}

#[derive(Debug, Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
}

pub async fn list_mappings(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    query: web::Query<KindQuery>,
) -> Result<HttpResponse, Problem> {
    let kind = query.kind.as_deref();
    if let Some(k) = kind
        && !["role", "workspace", "project"].contains(&k)
    {
        return Err(Problem::bad_request(format!(
            "kind must be role, workspace or project, not {k:?}"
        )));
    }
    let names = workspace_names(&st, &who).await?;
    let mappings: Vec<Value> = st
        .store
        .mappings(&who.tenant.id)
        .await?
        .iter()
        .filter(|m| kind.is_none_or(|k| m.kind.name() == k))
        .map(|m| mapping_json(m, &names))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "mappings": mappings })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMapping {
    group: String,
    kind: String,
    role: Option<String>,
    workspace: Option<String>,
    project: Option<String>,
}

/// The members a kind takes, for the error that names the extra ones.
fn only(kind: &str, m: &NewMapping, allowed: &[&str]) -> Result<(), Problem> {
    let given = [
        ("role", m.role.is_some()),
        ("workspace", m.workspace.is_some()),
        ("project", m.project.is_some()),
    ];
    if let Some((extra, _)) = given.iter().find(|(n, g)| *g && !allowed.contains(n)) {
        return Err(Problem::bad_request(format!(
            "a {kind} mapping takes no {extra:?} member"
        )));
    }
    Ok(())
}

fn required<'a>(kind: &str, what: &str, v: &'a Option<String>) -> Result<&'a str, Problem> {
    v.as_deref()
        .ok_or_else(|| Problem::bad_request(format!("a {kind} mapping needs {what:?}")))
}

pub async fn create_mapping(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: NewMapping = json_body(&body)?;
    let group = check_name("group", &new.group)?;
    let catalogue = st.store.catalogue(&who.tenant.id).await?;
    let role_in_catalogue = |r: &str, extra: &str| {
        if catalogue.has_role(r) || r == extra {
            Ok(())
        } else {
            Err(Problem::bad_request(format!(
                "role {r:?} is not an organization role of the catalogue{}",
                if extra.is_empty() {
                    String::new()
                } else {
                    format!(" (nor {extra:?})")
                }
            )))
        }
    };
    let kind = match new.kind.as_str() {
        "role" => {
            only("role", &new, &["role"])?;
            let r = required("role", "role", &new.role)?;
            role_in_catalogue(r, "deactivated")?;
            MappingKind::Role(OrgTarget::parse(r))
        }
        "project" => {
            only("project", &new, &["role", "project"])?;
            let key = required("project", "project", &new.project)?;
            let r = required("project", "role", &new.role)?;
            role_in_catalogue(r, "inherit")?;
            let known = st.store.projects(&who.tenant.id).await?;
            if !known.iter().any(|p| p.key == key) {
                return Err(Problem::bad_request(format!(
                    "no project {key:?} is registered: PUT /projects/{{key}} first"
                )));
            }
            MappingKind::Project {
                project: key.to_owned(),
                role: ProjectRole::parse(r),
            }
        }
        "workspace" => {
            only("workspace", &new, &["workspace"])?;
            let name = check_name(
                "workspace",
                required("workspace", "workspace", &new.workspace)?,
            )?;
            // SEMANTICS 14: the workspace is created if missing.
            let w = st.store.ensure_workspace(&who.tenant.id, &name).await?;
            MappingKind::Workspace(w.id)
        }
        other => {
            return Err(Problem::bad_request(format!(
                "kind must be role, workspace or project, not {other:?}"
            )));
        }
    };
    let mapping = Mapping {
        id: MappingId::generate(),
        tenant_id: who.tenant.id.clone(),
        group_name: group,
        group_id: None,
        kind,
        created: Timestamp::now(),
    };
    let saved = st
        .store
        .insert_mapping(&mapping)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { what } => Problem::conflict(format!(
                "{what} already exists for group {:?}",
                mapping.group_name
            )),
            other => other.into(),
        })?;
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, mapping = %saved.id, kind = saved.kind.name(), "added a mapping");
    let names = workspace_names(&st, &who).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{}/{}", req.path(), saved.id)))
        .json(mapping_json(&saved, &names)))
}

pub async fn delete_mapping(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = MappingId::from_raw(path.1.clone());
    if !st.store.delete_mapping(&who.tenant.id, &id).await? {
        return Err(Problem::not_found(format!("no mapping {:?}", path.1)));
    }
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, mapping = %id, "deleted a mapping");
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_workspaces(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    let ws: Vec<Value> = st
        .store
        .workspaces(&who.tenant.id)
        .await?
        .iter()
        .map(workspace_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "workspaces": ws })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWorkspace {
    name: String,
}

pub async fn create_workspace(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: NewWorkspace = json_body(&body)?;
    let name = check_name("name", &new.name)?;
    let existed = st
        .store
        .workspaces(&who.tenant.id)
        .await?
        .into_iter()
        .find(|w| w.name.to_lowercase() == name.to_lowercase());
    if let Some(w) = existed {
        return Ok(HttpResponse::Ok().json(workspace_json(&w)));
    }
    let w = st.store.ensure_workspace(&who.tenant.id, &name).await?;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, workspace = %w.id, "created a workspace");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{}/{}", req.path(), w.id)))
        .json(workspace_json(&w)))
}

pub async fn delete_workspace(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = WorkspaceId::from_raw(path.1.clone());
    if !st.store.delete_workspace(&who.tenant.id, &id).await? {
        return Err(Problem::not_found(format!("no workspace {:?}", path.1)));
    }
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, workspace = %id, "deleted a workspace");
    Ok(HttpResponse::NoContent().finish())
}

fn project_json(p: &Project) -> Value {
    json!({
        "key": p.key,
        "name": p.name,
        "workspaceId": p.workspace_id.as_ref().map(|w| w.as_str()),
        "created": p.created.to_rfc3339(),
    })
}

pub async fn list_projects(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    let ps: Vec<Value> = st
        .store
        .projects(&who.tenant.id)
        .await?
        .iter()
        .map(project_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "projects": ps })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProjectBody {
    name: String,
    #[serde(default)]
    workspace_id: Option<String>,
}

/// The host application registers (or renames, or moves) one of its projects.
pub async fn put_project(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let key = path.1.clone();
    if !valid_project_key(&key) {
        return Err(Problem::bad_request(
            "a project key is 1-200 printable characters without '/' or surrounding spaces",
        ));
    }
    let new: ProjectBody = json_body(&body)?;
    let name = check_name("name", &new.name)?;
    let workspace_id = match new.workspace_id {
        None => None,
        Some(w) => {
            let id = WorkspaceId::from_raw(w);
            if !st
                .store
                .workspaces(&who.tenant.id)
                .await?
                .iter()
                .any(|x| x.id == id)
            {
                return Err(Problem::bad_request(format!(
                    "no workspace {:?} in this tenant",
                    id.as_str()
                )));
            }
            Some(id)
        }
    };
    let existing = st
        .store
        .projects(&who.tenant.id)
        .await?
        .into_iter()
        .find(|p| p.key == key);
    let project = Project {
        tenant_id: who.tenant.id.clone(),
        key,
        name,
        workspace_id,
        created: existing.as_ref().map_or_else(Timestamp::now, |p| p.created),
    };
    if existing.as_ref() == Some(&project) {
        return Ok(HttpResponse::Ok().json(project_json(&project)));
    }
    st.store.put_project(&project).await?;
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, project = %project.key, "registered a project");
    Ok(if existing.is_some() {
        HttpResponse::Ok().json(project_json(&project))
    } else {
        HttpResponse::Created().json(project_json(&project))
    })
}

pub async fn delete_project(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    if !st.store.delete_project(&who.tenant.id, &path.1).await? {
        return Err(Problem::not_found(format!("no project {:?}", path.1)));
    }
    st.announce(&who.tenant).await;
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, project = %path.1, "deleted a project");
    Ok(HttpResponse::NoContent().finish())
}
