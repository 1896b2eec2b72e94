//! Table-driven tests of effective access, with the seeds' own examples.

use super::*;
use crate::access::{RoleDef, Team};
use crate::ids::{MappingId, TenantId};
use crate::time::Timestamp;

fn catalogue(roles: &[&str], custom: &[&str]) -> RoleCatalogue {
    RoleCatalogue {
        roles: roles.iter().map(|k| RoleDef::new(k)).collect(),
        custom_roles: custom.iter().map(|k| RoleDef::new(k)).collect(),
    }
}

fn mapping(group: &str, kind: MappingKind) -> Mapping {
    Mapping {
        id: MappingId::generate(),
        tenant_id: TenantId::from_raw("t"),
        group_name: group.to_owned(),
        group_id: None,
        kind,
        created: Timestamp::from_millis(0),
    }
}

fn role(group: &str, r: &str) -> Mapping {
    mapping(group, MappingKind::Role(OrgTarget::parse(r)))
}

fn project(group: &str, p: &str, r: &str) -> Mapping {
    mapping(
        group,
        MappingKind::Project {
            project: p.to_owned(),
            role: ProjectRole::parse(r),
        },
    )
}

fn workspace(group: &str, w: &str) -> Mapping {
    mapping(group, MappingKind::Workspace(WorkspaceId::from_raw(w)))
}

fn member(state: MemberState, groups: &[&str]) -> MemberFacts {
    MemberFacts {
        state,
        own: OwnAttributes::default(),
        groups: groups
            .iter()
            .map(|g| GroupFact {
                id: GroupId::from_raw(format!("id-{g}")),
                name: (*g).to_owned(),
            })
            .collect(),
        teams: Vec::new(),
    }
}

fn model(cat: RoleCatalogue, mappings: Vec<Mapping>) -> AccessModel {
    AccessModel {
        catalogue: cat,
        default_initial_role: "reader".into(),
        mappings,
        projects: BTreeMap::new(),
    }
}

/// Datasaur's example table: Administrator → Admin, Manager and QA → Reviewer, Annotator and
/// Data developer → Labeler; priority Admin > Reviewer > Labeler.
fn datasaur() -> AccessModel {
    let mut m = model(
        catalogue(&["admin", "reviewer", "labeler"], &[]),
        vec![
            role("Administrator", "admin"),
            role("Manager", "reviewer"),
            role("QA", "reviewer"),
            role("Annotator", "labeler"),
            role("Data developer", "labeler"),
        ],
    );
    m.default_initial_role = "labeler".into();
    m
}

#[test]
fn the_organization_role_is_the_highest_priority_among_mapped_groups() {
    let m = datasaur();
    let cases: &[(&[&str], Option<&str>, RoleSource)] = &[
        // "John belongs to both the Administrator group and the QA group → Admin".
        (&["Administrator", "QA"], Some("admin"), RoleSource::Group),
        (&["QA", "Administrator"], Some("admin"), RoleSource::Group),
        (
            &["Manager", "Annotator"],
            Some("reviewer"),
            RoleSource::Group,
        ),
        (&["Data developer"], Some("labeler"), RoleSource::Group),
        // Group names as the IdP sends them, compared without case.
        (&["qa"], Some("reviewer"), RoleSource::Group),
        // An unmapped group gives nothing: the default initial role applies.
        (&["Sales"], Some("labeler"), RoleSource::Default),
        (&[], Some("labeler"), RoleSource::Default),
    ];
    for (groups, want, source) in cases {
        let a = resolve(&m, &member(MemberState::Active, groups));
        assert_eq!(a.role.as_deref(), *want, "groups {groups:?}");
        assert_eq!(a.role_source, Some(*source), "groups {groups:?}");
        assert_eq!(a.state, AccessState::Active);
        assert!(a.takes_seat());
    }
}

#[test]
fn the_role_attribute_applies_only_when_no_mapped_group_gives_a_role() {
    let m = datasaur();
    let cases: &[(&[&str], Option<&str>, &str, RoleSource)] = &[
        (&[], Some("reviewer"), "reviewer", RoleSource::Attribute),
        (
            &["Administrator"],
            Some("labeler"),
            "admin",
            RoleSource::Group,
        ),
        // A role the catalogue lost since it was set falls back to the default.
        (&[], Some("owner"), "labeler", RoleSource::Default),
        (&["Sales"], None, "labeler", RoleSource::Default),
    ];
    for (groups, own, want, source) in cases {
        let mut f = member(MemberState::Active, groups);
        f.own.role = own.map(str::to_owned);
        let a = resolve(&m, &f);
        assert_eq!(a.role.as_deref(), Some(*want), "{groups:?} {own:?}");
        assert_eq!(a.role_source, Some(*source));
    }
}

#[test]
fn a_group_mapped_to_deactivated_wins_over_every_other_group() {
    let mut m = datasaur();
    m.mappings
        .push(role("Contractors-offboarded", "deactivated"));
    let a = resolve(
        &m,
        &member(
            MemberState::Active,
            &["Administrator", "Contractors-offboarded"],
        ),
    );
    assert_eq!(a.state, AccessState::Deactivated);
    assert_eq!(a.deactivated_by, Some(DeactivatedBy::Group));
    assert_eq!(a.role, None);
    assert!(!a.takes_seat());
}

#[test]
fn active_false_always_wins() {
    let a = resolve(
        &datasaur(),
        &member(MemberState::Deactivated, &["Administrator"]),
    );
    assert_eq!(a.state, AccessState::Deactivated);
    assert_eq!(a.deactivated_by, Some(DeactivatedBy::Scim));
    assert_eq!(a.role, None);
    assert!(a.projects.is_empty() && a.workspaces.is_empty() && a.custom_roles.is_empty());
}

#[test]
fn a_member_not_activated_has_its_role_and_assignments_pending_and_takes_no_seat() {
    let mut m = model(
        RoleCatalogue::default(),
        vec![
            role("Labelers", "annotator"),
            project("Labelers", "p1", "inherit"),
        ],
    );
    m.projects.insert("p1".into(), None);
    let a = resolve(&m, &member(MemberState::NotActivated, &["Labelers"]));
    assert_eq!(a.state, AccessState::NotActivated);
    assert_eq!(a.role.as_deref(), Some("annotator"));
    assert_eq!(a.projects["p1"].role, "annotator");
    assert!(!a.takes_seat());
}

/// Label Studio: "Group A can be Annotators in Project 1 and Reviewers in Project 2"; `inherit`
/// takes the organization role; workspace members reach its projects with their organization
/// role unless a project mapping overrides it.
#[test]
fn project_roles_resolve_per_project() {
    let mut m = model(
        RoleCatalogue::default(),
        vec![
            role("A", "manager"),
            project("A", "p1", "annotator"),
            project("A", "p2", "reviewer"),
            project("B", "p2", "admin"),
            project("B", "p3", "inherit"),
            workspace("A", "ws1"),
            project("C", "unregistered", "admin"),
            project("C", "p1", "no-such-role"),
        ],
    );
    for (p, ws) in [
        ("p1", None),
        ("p2", None),
        ("p3", None),
        ("p4", Some("ws1")),
        ("p5", Some("ws2")),
    ] {
        m.projects.insert(p.into(), ws.map(WorkspaceId::from_raw));
    }
    type Want<'a> = &'a [(&'a str, &'a str, ProjectVia)];
    let cases: &[(&[&str], Want<'_>)] = &[
        (
            &["A"],
            &[
                ("p1", "annotator", ProjectVia::Mapping),
                ("p2", "reviewer", ProjectVia::Mapping),
                ("p4", "manager", ProjectVia::Workspace),
            ],
        ),
        // Per project the highest-priority mapped role wins; inherit = organization role
        // (here the default, reader).
        (
            &["B"],
            &[
                ("p2", "admin", ProjectVia::Mapping),
                ("p3", "reader", ProjectVia::Mapping),
            ],
        ),
        (
            &["A", "B"],
            &[
                ("p1", "annotator", ProjectVia::Mapping),
                ("p2", "admin", ProjectVia::Mapping),
                ("p3", "manager", ProjectVia::Mapping),
                ("p4", "manager", ProjectVia::Workspace),
            ],
        ),
        // Unregistered projects and unknown roles give nothing.
        (&["C"], &[]),
    ];
    for (groups, want) in cases {
        let a = resolve(&m, &member(MemberState::Active, groups));
        let got: Vec<(&str, &str, ProjectVia)> = a
            .projects
            .iter()
            .map(|(k, v)| (k.as_str(), v.role.as_str(), v.via))
            .collect();
        assert_eq!(&got, want, "groups {groups:?}");
    }
}

#[test]
fn workspaces_are_the_union_of_the_mapped_groups_workspaces() {
    let m = model(
        RoleCatalogue::default(),
        vec![
            workspace("A", "w1"),
            workspace("B", "w2"),
            workspace("B", "w1"),
        ],
    );
    let a = resolve(&m, &member(MemberState::Active, &["A", "B"]));
    let got: Vec<&str> = a.workspaces.iter().map(WorkspaceId::as_str).collect();
    assert_eq!(got, ["w1", "w2"]);
}

/// LaunchDarkly: "A member's individual roles will aggregate with the custom roles that you
/// apply to their teams."
#[test]
fn custom_roles_aggregate_the_members_own_and_its_teams() {
    let m = model(
        catalogue(&["admin", "reader"], &["flag-editor", "billing", "ops"]),
        vec![],
    );
    let mut f = member(MemberState::Active, &[]);
    f.own.custom_roles = vec!["flag-editor".into(), "gone".into()];
    f.teams = vec![
        TeamFact {
            id: TeamId::from_raw("t1"),
            custom_roles: vec!["billing".into(), "flag-editor".into()],
        },
        TeamFact {
            id: TeamId::from_raw("t2"),
            custom_roles: vec!["ops".into()],
        },
    ];
    let a = resolve(&m, &f);
    let got: Vec<&str> = a.custom_roles.iter().map(String::as_str).collect();
    assert_eq!(got, ["billing", "flag-editor", "ops"]);
    assert_eq!(a.teams.len(), 2);
}

#[test]
fn a_bound_mapping_follows_its_group_through_renames() {
    let mut bound = role("Engineering", "admin");
    bound.group_id = Some(GroupId::from_raw("g1"));
    let m = model(RoleCatalogue::default(), vec![bound]);
    let mut f = member(MemberState::Active, &[]);
    f.groups = vec![GroupFact {
        id: GroupId::from_raw("g1"),
        name: "Eng (renamed)".into(),
    }];
    assert_eq!(resolve(&m, &f).role.as_deref(), Some("admin"));
    // Another group that took the old name does not get the mapping.
    f.groups = vec![GroupFact {
        id: GroupId::from_raw("g2"),
        name: "Engineering".into(),
    }];
    assert_eq!(resolve(&m, &f).role.as_deref(), Some("reader"));
}

#[test]
fn role_attributes_merge_by_key_without_duplicates() {
    let mut f = member(MemberState::Active, &[]);
    f.own.role_attributes = vec![
        RoleAttribute {
            key: "projects".into(),
            values: vec!["web".into(), "api".into()],
        },
        RoleAttribute {
            key: "projects".into(),
            values: vec!["api".into(), "mobile".into()],
        },
    ];
    let a = resolve(&model(RoleCatalogue::default(), vec![]), &f);
    assert_eq!(a.role_attributes["projects"], ["web", "api", "mobile"]);
}

#[test]
fn own_attributes_are_read_from_the_access_extension() {
    let resource = serde_json::json!({
        "userName": "u",
        "urn:scimgate:params:scim:schemas:extension:access:2.0:User": {
            "role": "admin",
            "customRole": ["a", "b"],
            "roleAttributes": [{"key": "k", "values": ["v"]}]
        }
    });
    let own = OwnAttributes::of(resource.as_object().unwrap_or(&Map::new()));
    assert_eq!(own.role.as_deref(), Some("admin"));
    assert_eq!(own.custom_roles, ["a", "b"]);
    assert_eq!(own.role_attributes[0].values, ["v"]);
}

#[test]
fn a_synced_team_refuses_name_and_member_edits_only() {
    let mut team = Team {
        id: TeamId::from_raw("t"),
        tenant_id: TenantId::from_raw("x"),
        name: "Platform".into(),
        description: None,
        custom_roles: vec![],
        maintainers: vec![],
        group_id: Some(GroupId::from_raw("g")),
        created: Timestamp::from_millis(0),
        last_modified: Timestamp::from_millis(0),
        version: 1,
    };
    assert!(crate::access::synced_team_edit_refusal(&team, true, false).is_some());
    assert!(crate::access::synced_team_edit_refusal(&team, false, true).is_some());
    assert!(crate::access::synced_team_edit_refusal(&team, false, false).is_none());
    team.group_id = None;
    assert!(crate::access::synced_team_edit_refusal(&team, true, true).is_none());
}
