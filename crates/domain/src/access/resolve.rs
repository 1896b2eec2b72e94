//! Effective access: organization role, workspaces, project roles, custom roles, state.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ACCESS_EXTENSION_URN;
use super::catalogue::RoleCatalogue;
use super::model::{Mapping, MappingKind, OrgTarget, ProjectRole};
use crate::ids::{GroupId, TeamId, WorkspaceId};
use crate::member::MemberState;

/// One `roleAttributes` element (LD): a key and its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAttribute {
    pub key: String,
    pub values: Vec<String>,
}

/// The member's own role attributes, read from the access extension of its SCIM resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnAttributes {
    pub role: Option<String>,
    pub custom_roles: Vec<String>,
    pub role_attributes: Vec<RoleAttribute>,
}

impl OwnAttributes {
    pub fn of(resource: &Map<String, Value>) -> Self {
        let ext = resource
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(ACCESS_EXTENSION_URN))
            .and_then(|(_, v)| v.as_object());
        let Some(ext) = ext else {
            return Self::default();
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            role: ext
                .get("role")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            custom_roles: strings(ext.get("customRole")),
            role_attributes: ext
                .get("roleAttributes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| {
                            Some(RoleAttribute {
                                key: e.get("key")?.as_str()?.to_owned(),
                                values: strings(e.get("values")),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A group the member belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFact {
    pub id: GroupId,
    pub name: String,
}

/// A team the member belongs to, with the custom roles the team carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamFact {
    pub id: TeamId,
    pub custom_roles: Vec<String>,
}

/// Everything about one member that access depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub state: MemberState,
    pub own: OwnAttributes,
    pub groups: Vec<GroupFact>,
    pub teams: Vec<TeamFact>,
}

/// Everything tenant-wide that access depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessModel {
    pub catalogue: RoleCatalogue,
    pub default_initial_role: String,
    pub mappings: Vec<Mapping>,
    /// Each registered project and its workspace.
    pub projects: BTreeMap<String, Option<WorkspaceId>>,
}

/// The member's access state as the host application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Active,
    /// Provisioned, no access and no seat until the first sign-in; the role and assignments
    /// below are pending (LS).
    NotActivated,
    Deactivated,
}

/// Why the member has no access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeactivatedBy {
    /// `active=false` or a SCIM DELETE (always wins, SEMANTICS 7).
    Scim,
    /// A group mapped to `deactivated` (SEMANTICS 13).
    Group,
}

/// Where the organization role came from (SEMANTICS 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSource {
    Group,
    Attribute,
    Default,
}

/// How the member reaches a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectVia {
    /// A group mapped to this project.
    Mapping,
    /// Membership of the project's workspace, with the organization role (SEMANTICS 14).
    Workspace,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectAccess {
    pub role: String,
    pub via: ProjectVia,
}

/// What a member may do. Serialised as the host application reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveAccess {
    pub state: AccessState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_by: Option<DeactivatedBy>,
    /// None when deactivated.
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_source: Option<RoleSource>,
    pub workspaces: BTreeSet<WorkspaceId>,
    pub projects: BTreeMap<String, ProjectAccess>,
    /// The member's own custom roles plus those of its teams (LD aggregation).
    pub custom_roles: BTreeSet<String>,
    pub role_attributes: BTreeMap<String, Vec<String>>,
    pub teams: BTreeSet<TeamId>,
}

impl EffectiveAccess {
    /// Whether the member takes a seat: active with a role (SEMANTICS 10).
    pub fn takes_seat(&self) -> bool {
        self.state == AccessState::Active && self.role.is_some()
    }

    fn none(deactivated_by: DeactivatedBy, teams: BTreeSet<TeamId>) -> Self {
        Self {
            state: AccessState::Deactivated,
            deactivated_by: Some(deactivated_by),
            role: None,
            role_source: None,
            workspaces: BTreeSet::new(),
            projects: BTreeMap::new(),
            custom_roles: BTreeSet::new(),
            role_attributes: BTreeMap::new(),
            teams,
        }
    }
}

/// Computes a member's effective access (SEMANTICS 7, 12–15, 18).
pub fn resolve(model: &AccessModel, member: &MemberFacts) -> EffectiveAccess {
    let cat = &model.catalogue;
    let teams: BTreeSet<TeamId> = member.teams.iter().map(|t| t.id.clone()).collect();
    if member.state == MemberState::Deactivated {
        // `active=false` always wins.
        return EffectiveAccess::none(DeactivatedBy::Scim, teams);
    }
    let mappings: Vec<&Mapping> = model
        .mappings
        .iter()
        .filter(|m| member.groups.iter().any(|g| m.applies_to(&g.id, &g.name)))
        .collect();

    // Organization role: a deny wins over every group; else the highest mapped role.
    let mut group_role: Option<&str> = None;
    for m in &mappings {
        match &m.kind {
            MappingKind::Role(OrgTarget::Deactivated) => {
                return EffectiveAccess::none(DeactivatedBy::Group, teams);
            }
            MappingKind::Role(OrgTarget::Role(r)) if cat.has_role(r) => {
                group_role = Some(group_role.map_or(r.as_str(), |g| cat.higher(g, r)));
            }
            _ => {}
        }
    }
    let (role, source) = match group_role {
        Some(r) => (r.to_owned(), RoleSource::Group),
        None => match member.own.role.as_deref().filter(|r| cat.has_role(r)) {
            Some(r) => (r.to_owned(), RoleSource::Attribute),
            None => (model.default_initial_role.clone(), RoleSource::Default),
        },
    };

    let mut workspaces = BTreeSet::new();
    for m in &mappings {
        if let MappingKind::Workspace(w) = &m.kind {
            workspaces.insert(w.clone());
        }
    }

    // Projects: an explicit mapping overrides the workspace route (LS); among mappings the
    // highest-priority role wins; `inherit` is the organization role.
    let mut projects: BTreeMap<String, ProjectAccess> = BTreeMap::new();
    for m in &mappings {
        if let MappingKind::Project { project, role: pr } = &m.kind {
            if !model.projects.contains_key(project) {
                continue;
            }
            let r = match pr {
                ProjectRole::Inherit => role.clone(),
                ProjectRole::Role(r) if cat.has_role(r) => r.clone(),
                ProjectRole::Role(_) => continue,
            };
            let next = match projects.get(project) {
                Some(cur) => cat.higher(&cur.role, &r).to_owned(),
                None => r,
            };
            projects.insert(
                project.clone(),
                ProjectAccess {
                    role: next,
                    via: ProjectVia::Mapping,
                },
            );
        }
    }
    for (project, ws) in &model.projects {
        if let Some(ws) = ws
            && workspaces.contains(ws)
            && !projects.contains_key(project)
        {
            projects.insert(
                project.clone(),
                ProjectAccess {
                    role: role.clone(),
                    via: ProjectVia::Workspace,
                },
            );
        }
    }

    let custom_roles: BTreeSet<String> = member
        .own
        .custom_roles
        .iter()
        .chain(member.teams.iter().flat_map(|t| t.custom_roles.iter()))
        .filter(|r| cat.has_custom_role(r))
        .cloned()
        .collect();
    let mut role_attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &member.own.role_attributes {
        let values = role_attributes.entry(a.key.clone()).or_default();
        for v in &a.values {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
    }

    EffectiveAccess {
        state: if member.state == MemberState::NotActivated {
            AccessState::NotActivated
        } else {
            AccessState::Active
        },
        deactivated_by: None,
        role: Some(role),
        role_source: Some(source),
        workspaces,
        projects,
        custom_roles,
        role_attributes,
        teams,
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
