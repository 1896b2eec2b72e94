//! Group membership changes pulled out of a Group PATCH, so that the store can apply them as
//! row inserts and deletes: a member change costs the same whatever the group's size, and the
//! member list is never reread or rewritten (INTEROP 12).

use serde_json::{Map, Value};

use super::request::{OpKind, PatchOp};
use crate::error::ScimError;
use crate::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::schema::{GROUP_URN, member_ids};

/// One change to a group's member list; ids are the member `value`s as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<String>),
    Remove(Vec<String>),
    RemoveAll,
    ReplaceAll(Vec<String>),
}

fn is_members(path: &AttrPath) -> bool {
    path.attr.eq_ignore_ascii_case("members")
        && path
            .urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(GROUP_URN))
}

/// `members`, or `urn:ietf:params:scim:schemas:core:2.0:Group:members`, as a key of a no-path
/// `value` object.
fn is_members_key(key: &str) -> bool {
    let bare = key
        .get(..GROUP_URN.len())
        .filter(|p| p.eq_ignore_ascii_case(GROUP_URN))
        .and_then(|_| key.get(GROUP_URN.len()..))
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(key);
    bare.eq_ignore_ascii_case("members")
}

/// Splits a Group PATCH into its member changes (in order) and the other operations (in
/// order, for [`super::apply`]). Member ids are not checked here; removing an id that is not
/// a member is left to the caller (the store treats it as done).
pub fn split_member_changes(
    ops: Vec<PatchOp>,
) -> Result<(Vec<MemberChange>, Vec<PatchOp>), ScimError> {
    let mut changes = Vec::new();
    let mut rest = Vec::new();
    for op in ops {
        match &op.path {
            Some(path) if is_members(&path.attr) => changes.push(path_change(&op, path)?),
            Some(_) => rest.push(op),
            None => {
                if let Some(op) = split_no_path(op, &mut changes)? {
                    rest.push(op);
                }
            }
        }
    }
    Ok((changes, rest))
}

fn path_change(op: &PatchOp, path: &PatchPath) -> Result<MemberChange, ScimError> {
    if path.attr.sub.is_some() || path.sub_after_filter.is_some() {
        return Err(ScimError::invalid_path(
            "members are added and removed whole; their sub-attributes cannot be patched",
        ));
    }
    let value = op.value.clone().unwrap_or(Value::Null);
    match (op.op, &path.filter) {
        (OpKind::Add, None) => Ok(MemberChange::Add(member_ids(&value)?)),
        (OpKind::Replace, None) => Ok(MemberChange::ReplaceAll(member_ids(&value)?)),
        // INTEROP 1: Entra ID removes members with a value array and no filter.
        (OpKind::Remove, None) if !value.is_null() => Ok(MemberChange::Remove(member_ids(&value)?)),
        // RFC 7644 §3.5.2.2: remove with no filter removes every value.
        (OpKind::Remove, None) => Ok(MemberChange::RemoveAll),
        // RFC 7644 §3.5.2.2: `members[value eq "id"]`.
        (OpKind::Remove, Some(filter)) => {
            let mut ids = Vec::new();
            value_eqs(filter, &mut ids)?;
            Ok(MemberChange::Remove(ids))
        }
        // RFC 7643 §4.2: member sub-attributes are immutable.
        (_, Some(_)) => Err(ScimError::mutability(
            "a member's sub-attributes are immutable; add or remove the member instead",
        )),
    }
}

/// `value eq "id"`, or several joined with `or`.
fn value_eqs(filter: &Filter, ids: &mut Vec<String>) -> Result<(), ScimError> {
    match filter {
        Filter::Or(l, r) => {
            value_eqs(l, ids)?;
            value_eqs(r, ids)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            ids.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::invalid_filter(
            "only 'value eq \"<id>\"' (optionally joined with 'or') is supported in a members filter",
        )),
    }
}

/// Takes `members` out of a no-path add or replace (`{"op":"replace","value":{"members":[]}}`);
/// returns the operation with what is left, if anything.
fn split_no_path(
    op: PatchOp,
    changes: &mut Vec<MemberChange>,
) -> Result<Option<PatchOp>, ScimError> {
    let PatchOp {
        op: kind,
        path,
        value: Some(Value::Object(attrs)),
    } = op
    else {
        return Ok(Some(op));
    };
    let mut left = Map::new();
    for (key, v) in attrs {
        if !is_members_key(&key) {
            left.insert(key, v);
            continue;
        }
        let ids = member_ids(&v)?;
        changes.push(match kind {
            OpKind::Add => MemberChange::Add(ids),
            _ => MemberChange::ReplaceAll(ids),
        });
    }
    let only_schemas = left.keys().all(|k| k.eq_ignore_ascii_case("schemas"));
    Ok((!only_schemas).then_some(PatchOp {
        op: kind,
        path,
        value: Some(Value::Object(left)),
    }))
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
