//! Users: create (or adopt), read, replace, patch, delete and list, by the tenant's rules
//! (SEMANTICS 1–9, RFC 7644 §3.3–§3.6).

use serde_json::{Map, Value};

use super::{Ctx, Precondition, WRITE_ATTEMPTS, check_precondition, storage};
use crate::error::ScimError;
use crate::ids::MemberId;
use crate::member::{Member, MemberState, Provenance, member_keys};
use crate::patch::{PatchRequest, apply_checked};
use crate::ports::{ListQuery, Page, StoreError};
use crate::schema::{self, normalize};
use crate::tenant::{DeleteBehaviour, UniqueIdentifier};
use crate::time::Timestamp;

/// The result of a create: the member and whether an existing one was adopted (SEMANTICS 2).
#[derive(Debug)]
pub struct Created {
    pub member: Member,
    pub adopted: bool,
}

fn identifier_name(ctx: Ctx<'_>) -> &'static str {
    match ctx.tenant.settings.unique_identifier {
        UniqueIdentifier::Email => "email",
        UniqueIdentifier::UserName => "userName",
    }
}

fn not_found(x: &str) -> ScimError {
    ScimError::not_found(format!("User {x} not found"))
}

fn log_ignored(ignored: &[String]) {
    if !ignored.is_empty() {
        tracing::info!(attributes = ?ignored, "ignored attributes the User schema does not define");
    }
}

fn active_of(resource: &Map<String, Value>) -> bool {
    resource
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// The state after the IdP set `active` (SEMANTICS 7).
fn next_state(current: MemberState, active: bool) -> MemberState {
    match (current, active) {
        (_, false) => MemberState::Deactivated,
        (MemberState::Deactivated, true) => MemberState::Active,
        (state, true) => state,
    }
}

/// SEMANTICS 9: a member added before SCIM may be protected from deactivation through SCIM.
fn check_protection(ctx: Ctx<'_>, member: &Member, deactivating: bool) -> Result<(), ScimError> {
    if deactivating
        && member.provenance == Provenance::PreScim
        && member.state != MemberState::Deactivated
        && ctx.tenant.settings.protect_pre_scim_members
    {
        return Err(ScimError::mutability(
            "this member was added before SCIM and the tenant setting protect_pre_scim_members forbids \
             deactivating it through SCIM",
        ));
    }
    Ok(())
}

pub async fn create_user(ctx: Ctx<'_>, body: Value) -> Result<Created, ScimError> {
    let n = normalize(schema::user(), body, ctx.tenant.settings.strict_schema)?;
    log_ignored(&n.ignored);
    let resource = n.resource;
    let keys = member_keys(&resource, ctx.tenant.settings.unique_identifier);
    let active = active_of(&resource);
    let now = Timestamp::now();

    if let Some(existing) = ctx
        .store
        .member_by_identifier(&ctx.tenant.id, &keys.identifier_lc)
        .await
        .map_err(storage)?
    {
        if existing.scim_managed && existing.scim_visible {
            // RFC 7644 §3.3: a duplicate is 409 uniqueness.
            return Err(ScimError::uniqueness(format!(
                "a member with this {} already exists",
                identifier_name(ctx)
            )));
        }
        // SEMANTICS 2: adopt a member SCIM does not manage yet (or deleted through SCIM).
        let mut adopted = existing.clone();
        adopted.resource = resource;
        adopted.scim_managed = true;
        adopted.scim_visible = true;
        adopted.state = next_state(existing.state, active);
        adopted.last_modified = now;
        adopted.version = existing.version + 1;
        ctx.store
            .update_member(&adopted, &keys, existing.version)
            .await
            .map_err(storage)?;
        return Ok(Created {
            member: adopted,
            adopted: true,
        });
    }

    let member = Member {
        id: MemberId::generate(),
        tenant_id: ctx.tenant.id.clone(),
        resource,
        state: if active {
            MemberState::Active
        } else {
            MemberState::Deactivated
        },
        provenance: Provenance::Scim,
        scim_managed: true,
        scim_visible: true,
        created: now,
        last_modified: now,
        version: 1,
    };
    ctx.store
        .insert_member(&member, &keys)
        .await
        .map_err(storage)?;
    Ok(Created {
        member,
        adopted: false,
    })
}

/// A member visible to SCIM, by id or else by the tenant's unique identifier (SEMANTICS 3).
pub async fn find_user(ctx: Ctx<'_>, x: &str) -> Result<Member, ScimError> {
    let tenant = &ctx.tenant.id;
    let by_id = ctx
        .store
        .member(tenant, &MemberId::from_raw(x))
        .await
        .map_err(storage)?;
    let found = match by_id {
        Some(m) => Some(m),
        None => ctx
            .store
            .member_by_identifier(tenant, &x.trim().to_lowercase())
            .await
            .map_err(storage)?,
    };
    found.filter(|m| m.scim_visible).ok_or_else(|| not_found(x))
}

/// Read-modify-write with optimistic concurrency: `change` gets the current member and
/// returns the new resource; retried when another write wins, unless the client pinned a
/// version with If-Match (then 412).
async fn modify_user<F>(
    ctx: Ctx<'_>,
    x: &str,
    pre: &Precondition,
    mut change: F,
) -> Result<Member, ScimError>
where
    F: FnMut(&Member) -> Result<Map<String, Value>, ScimError> + Send,
{
    for _ in 0..WRITE_ATTEMPTS {
        let current = find_user(ctx, x).await?;
        check_precondition(pre, current.version)?;
        let resource = change(&current)?;
        let active = active_of(&resource);
        // A request that changes nothing (INTEROP 13: empty Operations; a PUT of the same
        // body) keeps the version: a new ETag would fail other clients' If-Match for nothing.
        if resource == current.resource && next_state(current.state, active) == current.state {
            return Ok(current);
        }
        check_protection(ctx, &current, !active)?;
        let keys = member_keys(&resource, ctx.tenant.settings.unique_identifier);
        let mut next = current.clone();
        next.resource = resource;
        next.state = next_state(current.state, active);
        next.last_modified = Timestamp::now();
        next.version = current.version + 1;
        match ctx.store.update_member(&next, &keys, current.version).await {
            Ok(()) => return Ok(next),
            Err(StoreError::VersionMismatch) if matches!(pre, Precondition::None) => continue,
            Err(e) => return Err(storage(e)),
        }
    }
    Err(ScimError::conflict(
        "the resource is being changed concurrently; retry",
    ))
}

/// PUT (RFC 7644 §3.5.1): the body replaces every attribute the client may write.
pub async fn replace_user(
    ctx: Ctx<'_>,
    x: &str,
    body: Value,
    pre: &Precondition,
) -> Result<Member, ScimError> {
    let n = normalize(schema::user(), body, ctx.tenant.settings.strict_schema)?;
    log_ignored(&n.ignored);
    let resource = n.resource;
    modify_user(ctx, x, pre, |_| Ok(resource.clone())).await
}

/// PATCH (RFC 7644 §3.5.2).
pub async fn patch_user(
    ctx: Ctx<'_>,
    x: &str,
    req: &PatchRequest,
    pre: &Precondition,
) -> Result<Member, ScimError> {
    let strict = ctx.tenant.settings.strict_schema;
    modify_user(ctx, x, pre, |current| {
        let mut resource = current.resource.clone();
        // The engine sees `id` so that a replace carrying the same id is accepted (Okta).
        resource.insert("id".into(), Value::String(current.id.to_string()));
        let ignored = apply_checked(schema::user(), &mut resource, &req.operations, strict)?;
        log_ignored(&ignored);
        resource.remove("id");
        Ok(resource)
    })
    .await
}

/// DELETE (RFC 7644 §3.6, SEMANTICS 8): deactivate (default) or remove, per tenant.
pub async fn delete_user(ctx: Ctx<'_>, x: &str, pre: &Precondition) -> Result<(), ScimError> {
    for _ in 0..WRITE_ATTEMPTS {
        let current = find_user(ctx, x).await?;
        check_precondition(pre, current.version)?;
        check_protection(ctx, &current, true)?;
        match ctx.tenant.settings.delete_behaviour {
            DeleteBehaviour::Remove => {
                ctx.store
                    .delete_member(&ctx.tenant.id, &current.id)
                    .await
                    .map_err(storage)?;
                return Ok(());
            }
            DeleteBehaviour::Deactivate => {
                let mut next = current.clone();
                next.resource.insert("active".into(), Value::Bool(false));
                next.state = MemberState::Deactivated;
                next.scim_visible = false;
                next.last_modified = Timestamp::now();
                next.version = current.version + 1;
                let keys = member_keys(&next.resource, ctx.tenant.settings.unique_identifier);
                match ctx.store.update_member(&next, &keys, current.version).await {
                    Ok(()) => return Ok(()),
                    Err(StoreError::VersionMismatch) if matches!(pre, Precondition::None) => {
                        continue;
                    }
                    Err(e) => return Err(storage(e)),
                }
            }
        }
    }
    Err(ScimError::conflict(
        "the resource is being changed concurrently; retry",
    ))
}

pub async fn list_users(ctx: Ctx<'_>, query: &ListQuery) -> Result<Page<Member>, ScimError> {
    ctx.store
        .list_members(&ctx.tenant.id, query)
        .await
        .map_err(storage)
}
