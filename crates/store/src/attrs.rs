//! Where each SCIM attribute lives in the database: a column of `members`/`groups`, the
//! `member_values` index, a constant, or the `group_members` table. The schema decides types
//! and caseExact; unknown attributes are refused (→ 400 invalidFilter).

use scimgate_domain::filter::AttrPath;
use scimgate_domain::schema::{self, AttrType, AttributeDef, ResourceType, SchemaRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Members,
    Groups,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Column {
        column: &'static str,
        type_: AttrType,
        case_exact: bool,
    },
    /// A path in `member_values` (lower-case), with the attribute's semantics.
    /// `multi_complex` marks a multi-valued complex attribute named without a sub-attribute.
    Values {
        path: String,
        type_: AttrType,
        case_exact: bool,
        multi_complex: bool,
        complex: bool,
    },
    Constant(&'static str),
    /// `members.value` of a Group: the ids of its members.
    GroupMembers,
    /// `groups.value` of a User: the ids of the groups it is in.
    MemberGroups,
}

fn resource_type(target: Target) -> &'static ResourceType {
    match target {
        Target::Members => schema::user(),
        Target::Groups => schema::group(),
    }
}

fn name_of(p: &AttrPath) -> String {
    let mut s = p.urn.as_ref().map(|u| format!("{u}:")).unwrap_or_default();
    s.push_str(&p.attr);
    if let Some(sub) = &p.sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}

fn core_urn(target: Target) -> &'static str {
    resource_type(target).schema.id
}

/// Resolves `path` (relative to `parent` inside a value filter `parent[...]`).
pub fn resolve(
    target: Target,
    path: &AttrPath,
    parent: Option<&AttrPath>,
) -> Result<Resolved, String> {
    let unknown = || format!("unknown attribute {:?} in filter", name_of(path));
    let rt = resource_type(target);
    // Inside `emails[...]`, `type` means `emails.type`.
    let full = match parent {
        Some(pa) => {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(format!(
                    "{:?} inside {}[...] must name a sub-attribute",
                    name_of(path),
                    pa.attr
                ));
            }
            AttrPath {
                urn: pa.urn.clone(),
                attr: pa.attr.clone(),
                sub: Some(path.attr.clone()),
            }
        }
        None => path.clone(),
    };
    // The core schema's URN prefix adds nothing (RFC 7644 §3.10).
    let urn = full
        .urn
        .as_deref()
        .filter(|u| !u.eq_ignore_ascii_case(core_urn(target)));
    let attr = full.attr.as_str();
    let sub = full.sub.as_deref();

    if let (None, Some(r)) = (urn, column(target, attr, sub)) {
        return Ok(r);
    }
    if target == Target::Groups {
        return Err(format!(
            "{:?} cannot be used in a Groups filter",
            name_of(path)
        ));
    }
    let lookup = AttrPath {
        urn: full.urn.clone(),
        attr: attr.to_owned(),
        sub: None,
    };
    let found = rt.resolve(&lookup).ok_or_else(unknown)?;
    let def: &AttributeDef = found.attr;
    let base = match found.schema {
        SchemaRef::Extension(ext) => {
            format!("{}:{}", ext.id.to_lowercase(), def.name.to_lowercase())
        }
        SchemaRef::Core => def.name.to_lowercase(),
    };
    match sub {
        Some(s) => {
            let sd = def.sub_attribute(s).ok_or_else(unknown)?;
            Ok(Resolved::Values {
                path: format!("{base}.{}", sd.name.to_lowercase()),
                type_: sd.type_,
                case_exact: sd.case_exact,
                multi_complex: false,
                complex: false,
            })
        }
        None if def.type_ == AttrType::Complex && def.multi_valued => {
            // RFC 7644 §3.4.2.2: a multi-valued complex attribute compares on its `value`.
            let value = def.sub_attribute("value");
            Ok(Resolved::Values {
                path: base,
                type_: value.map_or(AttrType::String, |v| v.type_),
                case_exact: value.is_some_and(|v| v.case_exact),
                multi_complex: true,
                complex: true,
            })
        }
        None => Ok(Resolved::Values {
            path: base,
            type_: def.type_,
            case_exact: def.case_exact,
            multi_complex: false,
            complex: def.type_ == AttrType::Complex,
        }),
    }
}

fn is(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn column(target: Target, attr: &str, sub: Option<&str>) -> Option<Resolved> {
    let col = |column, type_, case_exact| {
        Some(Resolved::Column {
            column,
            type_,
            case_exact,
        })
    };
    let table_meta = |created, modified, rt| match sub {
        Some(s) if is(s, "created") => col(created, AttrType::DateTime, true),
        Some(s) if is(s, "lastModified") => col(modified, AttrType::DateTime, true),
        Some(s) if is(s, "resourceType") => Some(Resolved::Constant(rt)),
        _ => None,
    };
    match target {
        Target::Members => match (attr, sub) {
            (a, None) if is(a, "id") => col("members.id", AttrType::String, true),
            // userName is caseExact false (RFC 7643 §4.1.1): compared on its lower-cased copy.
            (a, None) if is(a, "userName") => col("members.user_name_lc", AttrType::String, false),
            (a, None) if is(a, "externalId") => col("members.external_id", AttrType::String, true),
            (a, None) if is(a, "active") => col("members.active", AttrType::Boolean, true),
            (a, None) if is(a, "groups") => Some(Resolved::MemberGroups),
            (a, Some(s)) if is(a, "groups") && is(s, "value") => Some(Resolved::MemberGroups),
            (a, _) if is(a, "meta") => {
                table_meta("members.created", "members.last_modified", "User")
            }
            _ => None,
        },
        Target::Groups => match (attr, sub) {
            (a, None) if is(a, "id") => col("groups.id", AttrType::String, true),
            (a, None) if is(a, "displayName") => {
                col("groups.display_name_lc", AttrType::String, false)
            }
            (a, None) if is(a, "externalId") => col("groups.external_id", AttrType::String, true),
            (a, None) if is(a, "members") => Some(Resolved::GroupMembers),
            (a, Some(s)) if is(a, "members") && is(s, "value") => Some(Resolved::GroupMembers),
            (a, _) if is(a, "meta") => {
                table_meta("groups.created", "groups.last_modified", "Group")
            }
            _ => None,
        },
    }
}
