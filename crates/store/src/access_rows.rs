//! Rows of the access tables (catalogues, workspaces, projects, mappings, teams, computed
//! access, webhook endpoints, events) and their conversions to domain types.

use diesel::prelude::*;
use scimgate_domain::access::{
    EffectiveAccess, Mapping, MappingKind, OrgTarget, Project, ProjectRole, Team, Workspace,
};
use scimgate_domain::ids::{GroupId, MappingId, MemberId, TeamId, TenantId, WorkspaceId};
use scimgate_domain::ports::{EventRecord, EventStatus, StoredAccess, WebhookEndpoint};
use scimgate_domain::time::Timestamp;

use crate::error::DbError;
use crate::schema::{
    events, group_mappings, member_access, projects, teams, webhook_endpoints, workspaces,
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("{what}: {e}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, DbError> {
    serde_json::to_string(v).map_err(|e| corrupt("JSON", e))
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = workspaces)]
pub struct WorkspaceRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub name_lc: String,
    pub created: i64,
}

impl WorkspaceRow {
    pub fn from_domain(w: &Workspace) -> Self {
        Self {
            id: w.id.to_string(),
            tenant_id: w.tenant_id.to_string(),
            name: w.name.clone(),
            name_lc: w.name.to_lowercase(),
            created: w.created.millis(),
        }
    }
    pub fn into_domain(self) -> Workspace {
        Workspace {
            id: WorkspaceId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            name: self.name,
            created: Timestamp::from_millis(self.created),
        }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = projects, treat_none_as_null = true)]
pub struct ProjectRow {
    pub tenant_id: String,
    pub project_key: String,
    pub name: String,
    pub workspace_id: Option<String>,
    pub created: i64,
}

impl ProjectRow {
    pub fn from_domain(p: &Project) -> Self {
        Self {
            tenant_id: p.tenant_id.to_string(),
            project_key: p.key.clone(),
            name: p.name.clone(),
            workspace_id: p.workspace_id.as_ref().map(ToString::to_string),
            created: p.created.millis(),
        }
    }
    pub fn into_domain(self) -> Project {
        Project {
            tenant_id: TenantId::from_raw(self.tenant_id),
            key: self.project_key,
            name: self.name,
            workspace_id: self.workspace_id.map(WorkspaceId::from_raw),
            created: Timestamp::from_millis(self.created),
        }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = group_mappings)]
pub struct MappingRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub group_name: String,
    pub group_name_lc: String,
    pub group_id: Option<String>,
    pub role: Option<String>,
    pub workspace_id: Option<String>,
    pub project_key: Option<String>,
    pub created: i64,
}

impl MappingRow {
    pub fn from_domain(m: &Mapping) -> Self {
        let (role, workspace_id, project_key) = match &m.kind {
            MappingKind::Role(t) => (Some(t.as_str().to_owned()), None, None),
            MappingKind::Workspace(w) => (None, Some(w.to_string()), None),
            MappingKind::Project { project, role } => {
                (Some(role.as_str().to_owned()), None, Some(project.clone()))
            }
        };
        Self {
            id: m.id.to_string(),
            tenant_id: m.tenant_id.to_string(),
            kind: m.kind.name().to_owned(),
            group_name: m.group_name.clone(),
            group_name_lc: m.group_name.to_lowercase(),
            group_id: m.group_id.as_ref().map(ToString::to_string),
            role,
            workspace_id,
            project_key,
            created: m.created.millis(),
        }
    }
    pub fn into_domain(self) -> Result<Mapping, DbError> {
        let kind = match (
            self.kind.as_str(),
            self.role,
            self.workspace_id,
            self.project_key,
        ) {
            ("role", Some(r), _, _) => MappingKind::Role(OrgTarget::parse(&r)),
            ("workspace", _, Some(w), _) => MappingKind::Workspace(WorkspaceId::from_raw(w)),
            ("project", Some(r), _, Some(p)) => MappingKind::Project {
                project: p,
                role: ProjectRole::parse(&r),
            },
            (k, ..) => return Err(corrupt("mapping", k)),
        };
        Ok(Mapping {
            id: MappingId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            group_name: self.group_name,
            group_id: self.group_id.map(GroupId::from_raw),
            kind,
            created: Timestamp::from_millis(self.created),
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = teams, treat_none_as_null = true)]
pub struct TeamRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub name_lc: String,
    pub description: Option<String>,
    pub custom_roles: String,
    pub maintainers: String,
    pub linked_group_id: Option<String>,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
}

impl TeamRow {
    pub fn from_domain(t: &Team) -> Result<Self, DbError> {
        let maintainers: Vec<&str> = t.maintainers.iter().map(MemberId::as_str).collect();
        Ok(Self {
            id: t.id.to_string(),
            tenant_id: t.tenant_id.to_string(),
            name: t.name.clone(),
            name_lc: t.name.to_lowercase(),
            description: t.description.clone(),
            custom_roles: json(&t.custom_roles)?,
            maintainers: json(&maintainers)?,
            linked_group_id: t.group_id.as_ref().map(ToString::to_string),
            created: t.created.millis(),
            last_modified: t.last_modified.millis(),
            version: t.version,
        })
    }
    pub fn into_domain(self) -> Result<Team, DbError> {
        let custom_roles: Vec<String> =
            serde_json::from_str(&self.custom_roles).map_err(|e| corrupt("team roles", e))?;
        let maintainers: Vec<String> =
            serde_json::from_str(&self.maintainers).map_err(|e| corrupt("maintainers", e))?;
        Ok(Team {
            id: TeamId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            name: self.name,
            description: self.description,
            custom_roles,
            maintainers: maintainers.into_iter().map(MemberId::from_raw).collect(),
            group_id: self.linked_group_id.map(GroupId::from_raw),
            created: Timestamp::from_millis(self.created),
            last_modified: Timestamp::from_millis(self.last_modified),
            version: self.version,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = member_access, treat_none_as_null = true)]
pub struct AccessRow {
    pub member_id: String,
    pub tenant_id: String,
    pub state: String,
    pub role: Option<String>,
    pub takes_seat: bool,
    pub access: String,
    pub access_version: i64,
    pub member_version: i64,
    pub updated: i64,
}

impl AccessRow {
    pub fn new(
        tenant: &str,
        member: &MemberId,
        access: &EffectiveAccess,
        access_version: i64,
        member_version: i64,
        at: Timestamp,
    ) -> Result<Self, DbError> {
        let state = serde_json::to_value(access.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Self {
            member_id: member.to_string(),
            tenant_id: tenant.to_owned(),
            state,
            role: access.role.clone(),
            takes_seat: access.takes_seat(),
            access: json(access)?,
            access_version,
            member_version,
            updated: at.millis(),
        })
    }
    pub fn into_domain(self) -> Result<StoredAccess, DbError> {
        Ok(StoredAccess {
            member_id: MemberId::from_raw(self.member_id),
            access: serde_json::from_str(&self.access).map_err(|e| corrupt("access", e))?,
            access_version: self.access_version,
            member_version: self.member_version,
            updated: Timestamp::from_millis(self.updated),
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookRow {
    pub tenant_id: String,
    pub url: String,
    pub secret: String,
    pub enabled: bool,
    pub created: i64,
    pub updated: i64,
}

impl WebhookRow {
    pub fn from_domain(w: &WebhookEndpoint) -> Self {
        Self {
            tenant_id: w.tenant_id.to_string(),
            url: w.url.clone(),
            secret: w.secret.clone(),
            enabled: w.enabled,
            created: w.created.millis(),
            updated: w.updated.millis(),
        }
    }
    pub fn into_domain(self) -> WebhookEndpoint {
        WebhookEndpoint {
            tenant_id: TenantId::from_raw(self.tenant_id),
            url: self.url,
            secret: self.secret,
            enabled: self.enabled,
            created: Timestamp::from_millis(self.created),
            updated: Timestamp::from_millis(self.updated),
        }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: String,
    pub tenant_id: String,
    pub event_type: String,
    pub payload: String,
    pub created: i64,
    pub status: String,
    pub attempts: i32,
    pub next_attempt: i64,
    pub last_error: Option<String>,
    pub delivered: Option<i64>,
}

impl EventRow {
    /// A new event whose body follows the Standard Webhooks payload shape
    /// (`type`, `timestamp`, `data`).
    pub fn new(
        tenant: &str,
        event_type: &str,
        data: &serde_json::Value,
        at: Timestamp,
        deliver: bool,
    ) -> Result<Self, DbError> {
        let payload = serde_json::json!({
            "type": event_type,
            "timestamp": at.to_rfc3339(),
            "data": data,
        });
        Ok(Self {
            id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
            tenant_id: tenant.to_owned(),
            event_type: event_type.to_owned(),
            payload: json(&payload)?,
            created: at.millis(),
            status: if deliver {
                EventStatus::Pending
            } else {
                EventStatus::Undelivered
            }
            .as_str()
            .to_owned(),
            attempts: 0,
            next_attempt: at.millis(),
            last_error: None,
            delivered: None,
        })
    }
    pub fn into_domain(self) -> Result<EventRecord, DbError> {
        Ok(EventRecord {
            id: self.id,
            tenant_id: TenantId::from_raw(self.tenant_id),
            event_type: self.event_type,
            payload: self.payload,
            created: Timestamp::from_millis(self.created),
            status: EventStatus::parse(&self.status)
                .ok_or_else(|| corrupt("event status", &self.status))?,
            attempts: self.attempts,
            next_attempt: Timestamp::from_millis(self.next_attempt),
            last_error: self.last_error,
            delivered: self.delivered.map(Timestamp::from_millis),
        })
    }
}
