//! Groups: create, read, replace, patch, delete and list. Membership changes are applied as
//! deltas in the same transaction as the group row (DESIGN "Change flow" step 1), so a member
//! change costs the same whatever the group's size.

use serde_json::{Map, Value};

use super::{Ctx, Precondition, WRITE_ATTEMPTS, check_precondition, storage};
use crate::error::ScimError;
use crate::group::{Group, MembershipChange};
use crate::ids::{GroupId, MemberId};
use crate::jobs::JobKind;
use crate::patch::{MemberChange, PatchRequest, apply_checked, split_member_changes};
use crate::ports::{ListQuery, Page, StoreError};
use crate::schema::{self, normalize};
use crate::time::Timestamp;

fn not_found(x: &str) -> ScimError {
    ScimError::not_found(format!("Group {x} not found"))
}

fn log_ignored(ignored: &[String]) {
    if !ignored.is_empty() {
        tracing::info!(attributes = ?ignored, "ignored attributes the Group schema does not define");
    }
}

/// Takes `members` out of a normalised Group resource: member ids as the client sent them.
fn take_members(resource: &mut Map<String, Value>) -> Vec<String> {
    match resource.remove("members") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Resolves member references in the tenant (by id, else by the unique identifier,
/// SEMANTICS 3). An unknown reference — including another tenant's member — is refused, with
/// the same answer whichever it is.
async fn resolve(ctx: Ctx<'_>, given: &[String]) -> Result<Vec<MemberId>, ScimError> {
    if given.is_empty() {
        return Ok(Vec::new());
    }
    let found = ctx
        .store
        .resolve_members(&ctx.tenant.id, given)
        .await
        .map_err(storage)?;
    if found.len() != given.len() {
        let known: std::collections::HashSet<&str> =
            found.iter().map(|(g, _)| g.as_str()).collect();
        if let Some(missing) = given.iter().find(|g| !known.contains(g.as_str())) {
            return Err(ScimError::invalid_value(format!(
                "member {missing:?} is not a User of this tenant"
            )));
        }
    }
    Ok(found.into_iter().map(|(_, id)| id).collect())
}

pub async fn create_group(ctx: Ctx<'_>, body: Value) -> Result<Group, ScimError> {
    let n = normalize(schema::group(), body, ctx.tenant.settings.strict_schema)?;
    log_ignored(&n.ignored);
    let mut resource = n.resource;
    let members = resolve(ctx, &take_members(&mut resource)).await?;
    let now = Timestamp::now();
    let mut group = Group {
        id: GroupId::generate(),
        tenant_id: ctx.tenant.id.clone(),
        display_name: String::new(),
        external_id: None,
        resource,
        created: now,
        last_modified: now,
        version: 1,
    };
    group.sync_keys();
    ctx.store
        .insert_group(&group, &members)
        .await
        .map_err(storage)?;
    ctx.enqueue(JobKind::Group, group.id.as_str(), group.version)
        .await;
    Ok(group)
}

/// A group by id, else by displayName (SEMANTICS 3: Label Studio addresses groups by name).
pub async fn find_group(ctx: Ctx<'_>, x: &str) -> Result<Group, ScimError> {
    let tenant = &ctx.tenant.id;
    if let Some(g) = ctx
        .store
        .group(tenant, &GroupId::from_raw(x))
        .await
        .map_err(storage)?
    {
        return Ok(g);
    }
    ctx.store
        .group_by_display_name(tenant, &x.to_lowercase())
        .await
        .map_err(storage)?
        .ok_or_else(|| not_found(x))
}

async fn write_group<F>(
    ctx: Ctx<'_>,
    x: &str,
    pre: &Precondition,
    changes: &[MembershipChange],
    mut change: F,
) -> Result<Group, ScimError>
where
    F: FnMut(&Group) -> Result<Map<String, Value>, ScimError> + Send,
{
    for _ in 0..WRITE_ATTEMPTS {
        let current = find_group(ctx, x).await?;
        check_precondition(pre, current.version)?;
        let mut next = current.clone();
        next.resource = change(&current)?;
        // Nothing to change (INTEROP 13): the version stays.
        if changes.is_empty() && next.resource == current.resource {
            return Ok(current);
        }
        next.sync_keys();
        next.last_modified = Timestamp::now();
        next.version = current.version + 1;
        match ctx
            .store
            .update_group(&next, current.version, changes)
            .await
        {
            Ok(()) => {
                ctx.enqueue(JobKind::Group, next.id.as_str(), next.version)
                    .await;
                return Ok(next);
            }
            Err(StoreError::VersionMismatch) if matches!(pre, Precondition::None) => continue,
            Err(e) => return Err(storage(e)),
        }
    }
    Err(ScimError::conflict(
        "the resource is being changed concurrently; retry",
    ))
}

/// PUT: the body replaces the group, its member list included.
pub async fn replace_group(
    ctx: Ctx<'_>,
    x: &str,
    body: Value,
    pre: &Precondition,
) -> Result<Group, ScimError> {
    let n = normalize(schema::group(), body, ctx.tenant.settings.strict_schema)?;
    log_ignored(&n.ignored);
    let mut resource = n.resource;
    let members = resolve(ctx, &take_members(&mut resource)).await?;
    let changes = [MembershipChange::ReplaceAll(members)];
    write_group(ctx, x, pre, &changes, |_| Ok(resource.clone())).await
}

/// PATCH: member operations become membership deltas; the rest goes through the PATCH engine.
pub async fn patch_group(
    ctx: Ctx<'_>,
    x: &str,
    req: PatchRequest,
    pre: &Precondition,
) -> Result<Group, ScimError> {
    let (member_ops, rest) = split_member_changes(req.operations)?;
    let mut changes = Vec::with_capacity(member_ops.len());
    for op in member_ops {
        changes.push(match op {
            MemberChange::Add(ids) => MembershipChange::Add(resolve(ctx, &ids).await?),
            MemberChange::ReplaceAll(ids) => {
                MembershipChange::ReplaceAll(resolve(ctx, &ids).await?)
            }
            MemberChange::RemoveAll => MembershipChange::RemoveAll,
            MemberChange::Remove(ids) => {
                // Removing someone who is not a member (or not a user) changes nothing.
                let found = ctx
                    .store
                    .resolve_members(&ctx.tenant.id, &ids)
                    .await
                    .map_err(storage)?;
                MembershipChange::Remove(found.into_iter().map(|(_, id)| id).collect())
            }
        });
    }
    let strict = ctx.tenant.settings.strict_schema;
    write_group(ctx, x, pre, &changes, |current| {
        let mut resource = current.resource.clone();
        if rest.is_empty() {
            return Ok(resource);
        }
        resource.insert("id".into(), Value::String(current.id.to_string()));
        let ignored = apply_checked(schema::group(), &mut resource, &rest, strict)?;
        log_ignored(&ignored);
        resource.remove("id");
        resource.remove("members");
        Ok(resource)
    })
    .await
}

pub async fn delete_group(ctx: Ctx<'_>, x: &str, pre: &Precondition) -> Result<(), ScimError> {
    let current = find_group(ctx, x).await?;
    check_precondition(pre, current.version)?;
    if ctx
        .store
        .delete_group(&ctx.tenant.id, &current.id)
        .await
        .map_err(storage)?
    {
        ctx.enqueue(JobKind::Group, current.id.as_str(), current.version + 1)
            .await;
        Ok(())
    } else {
        Err(not_found(x))
    }
}

pub async fn list_groups(ctx: Ctx<'_>, query: &ListQuery) -> Result<Page<Group>, ScimError> {
    ctx.store
        .list_groups(&ctx.tenant.id, query)
        .await
        .map_err(storage)
}
