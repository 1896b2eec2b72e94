//! Mappings, workspaces, projects and teams: what a pushed group means in the product.
//! Groups are defined in the IdP; these are set by the tenant admin (SEMANTICS 11).

use crate::ids::{GroupId, MappingId, MemberId, TeamId, TenantId, WorkspaceId};
use crate::time::Timestamp;

/// What a group's organization-role mapping grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrgTarget {
    Role(String),
    /// LS: the group revokes its members' access; wins over every other group (SEMANTICS 13).
    Deactivated,
}

impl OrgTarget {
    pub fn parse(s: &str) -> Self {
        if s == "deactivated" {
            Self::Deactivated
        } else {
            Self::Role(s.to_owned())
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Role(r) => r,
            Self::Deactivated => "deactivated",
        }
    }
}

/// A project role: a catalogue role, or `inherit` the organization role (LS).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProjectRole {
    Role(String),
    Inherit,
}

impl ProjectRole {
    pub fn parse(s: &str) -> Self {
        if s == "inherit" {
            Self::Inherit
        } else {
            Self::Role(s.to_owned())
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Role(r) => r,
            Self::Inherit => "inherit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MappingKind {
    /// group → one organization role (each group maps to at most one).
    Role(OrgTarget),
    /// group → workspace membership.
    Workspace(WorkspaceId),
    /// group → a role in one project.
    Project { project: String, role: ProjectRole },
}

impl MappingKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Role(_) => "role",
            Self::Workspace(_) => "workspace",
            Self::Project { .. } => "project",
        }
    }
}

/// A mapping names the group as the IdP sends it and may exist before the first push; once the
/// group exists it binds to the group's id and follows renames (SEMANTICS 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id: MappingId,
    pub tenant_id: TenantId,
    pub group_name: String,
    pub group_id: Option<GroupId>,
    pub kind: MappingKind,
    pub created: Timestamp,
}

impl Mapping {
    /// Whether this mapping applies to the group `(id, display name)`.
    pub fn applies_to(&self, group: &GroupId, name: &str) -> bool {
        match &self.group_id {
            Some(bound) => bound == group,
            None => self.group_name.to_lowercase() == name.to_lowercase(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub created: Timestamp,
}

/// A project the host application registered; its key is the host application's own id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub tenant_id: TenantId,
    pub key: String,
    pub name: String,
    pub workspace_id: Option<WorkspaceId>,
    pub created: Timestamp,
}

/// A project key: 1–200 printable characters (not bytes) without `/` or surrounding spaces.
pub fn valid_project_key(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= 200
        && key.chars().all(|c| !c.is_control() && c != '/')
        && key.trim() == key
}

/// A team (LD). While linked to a group (team sync), its name and members come from the IdP;
/// its custom roles, maintainers and description are managed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub tenant_id: TenantId,
    pub name: String,
    pub description: Option<String>,
    pub custom_roles: Vec<String>,
    pub maintainers: Vec<MemberId>,
    /// The group it is synced with, while team sync links it.
    pub group_id: Option<GroupId>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub version: i64,
}

impl Team {
    pub fn synced(&self) -> bool {
        self.group_id.is_some()
    }
}

/// Why an admin edit of a team is refused (SEMANTICS 19: 409).
pub fn synced_team_edit_refusal(
    team: &Team,
    changes_name: bool,
    changes_members: bool,
) -> Option<String> {
    if !team.synced() {
        return None;
    }
    let what = match (changes_name, changes_members) {
        (true, true) => "name and members",
        (true, false) => "name",
        (false, true) => "members",
        (false, false) => return None,
    };
    Some(format!(
        "team {:?} is synced with an IdP group while team sync is on: its {what} change only \
         through the IdP; its roles, maintainers and description stay editable here",
        team.name
    ))
}
