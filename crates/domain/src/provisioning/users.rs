//! Users: create (or adopt), read, replace, patch, delete and list, by the tenant's rules
//! (SEMANTICS 1–9, RFC 7644 §3.3–§3.6).

use serde_json::{Map, Value};

use super::{Ctx, Precondition, WRITE_ATTEMPTS, check_precondition, storage};
use crate::access::OwnAttributes;
use crate::error::ScimError;
use crate::ids::MemberId;
use crate::jobs::JobKind;
use crate::member::{Member, MemberState, Provenance, member_keys};
use crate::patch::{PatchRequest, apply_checked};
use crate::ports::{ListQuery, Page, StoreError};
use crate::schema::{self, normalize};
use crate::tenant::{ActivateOn, DeleteBehaviour, UniqueIdentifier};
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

/// The state after the IdP set `active` (SEMANTICS 7): reactivation gives access again, or
/// waits for the first sign-in when the tenant activates on first sign-in and the member never
/// signed in.
fn next_state(ctx: Ctx<'_>, member: Option<&Member>, active: bool) -> MemberState {
    let waits = ctx.tenant.settings.activate_on == ActivateOn::FirstSignIn
        && member.is_none_or(|m| m.first_sign_in.is_none());
    match (member.map(|m| m.state), active) {
        (_, false) => MemberState::Deactivated,
        (None | Some(MemberState::Deactivated), true) if waits => MemberState::NotActivated,
        (None | Some(MemberState::Deactivated), true) => MemberState::Active,
        (Some(state), true) => state,
    }
}

/// The seat limit to enforce when a write moves the member from `before` to `after`: only a
/// member who starts taking a seat is counted against it (SEMANTICS 10).
fn seat_check(ctx: Ctx<'_>, before: Option<MemberState>, after: MemberState) -> Option<u64> {
    let takes = |s: Option<MemberState>| s == Some(MemberState::Active);
    if takes(Some(after)) && !takes(before) {
        ctx.tenant.settings.seat_limit
    } else {
        None
    }
}

/// SEMANTICS 17: `role` and `customRole` must name roles of the tenant's catalogue.
async fn check_roles(ctx: Ctx<'_>, resource: &Map<String, Value>) -> Result<(), ScimError> {
    let own = OwnAttributes::of(resource);
    if own.role.is_none() && own.custom_roles.is_empty() && own.role_attributes.is_empty() {
        return Ok(());
    }
    let catalogue = ctx.store.catalogue(&ctx.tenant.id).await.map_err(storage)?;
    if let Some(role) = own.role.as_deref().filter(|r| !catalogue.has_role(r)) {
        let known: Vec<&str> = catalogue.roles.iter().map(|r| r.key.as_str()).collect();
        return Err(ScimError::invalid_value(format!(
            "role {role:?} is not in the tenant's role catalogue (known: {})",
            known.join(", ")
        )));
    }
    if let Some(custom) = own
        .custom_roles
        .iter()
        .find(|r| !catalogue.has_custom_role(r))
    {
        return Err(ScimError::invalid_value(format!(
            "customRole {custom:?} is not a custom role of the tenant's catalogue"
        )));
    }
    if let Some(a) = own.role_attributes.iter().find(|a| a.key.trim().is_empty()) {
        return Err(ScimError::invalid_value(format!(
            "roleAttributes element with values {:?} has an empty key",
            a.values
        )));
    }
    Ok(())
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
    check_roles(ctx, &resource).await?;
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
        adopted.state = next_state(ctx, Some(&existing), active);
        adopted.last_modified = now;
        adopted.version = existing.version + 1;
        let seats = seat_check(ctx, Some(existing.state), adopted.state);
        ctx.store
            .update_member(&adopted, &keys, existing.version, seats)
            .await
            .map_err(storage)?;
        ctx.enqueue(JobKind::Member, adopted.id.as_str(), adopted.version)
            .await;
        return Ok(Created {
            member: adopted,
            adopted: true,
        });
    }

    let member = Member {
        id: MemberId::generate(),
        tenant_id: ctx.tenant.id.clone(),
        resource,
        state: next_state(ctx, None, active),
        provenance: Provenance::Scim,
        scim_managed: true,
        scim_visible: true,
        created: now,
        last_modified: now,
        version: 1,
        first_sign_in: None,
    };
    ctx.store
        .insert_member(&member, &keys, seat_check(ctx, None, member.state))
        .await
        .map_err(storage)?;
    ctx.enqueue(JobKind::Member, member.id.as_str(), member.version)
        .await;
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
        let state = next_state(ctx, Some(&current), active);
        // A request that changes nothing (INTEROP 13: empty Operations; a PUT of the same
        // body) keeps the version: a new ETag would fail other clients' If-Match for nothing.
        if resource == current.resource && state == current.state {
            return Ok(current);
        }
        check_protection(ctx, &current, !active)?;
        // Checked only when they change: a role removed from the catalogue since must not
        // block unrelated updates (access falls back to the default role meanwhile).
        if OwnAttributes::of(&resource) != OwnAttributes::of(&current.resource) {
            check_roles(ctx, &resource).await?;
        }
        let keys = member_keys(&resource, ctx.tenant.settings.unique_identifier);
        let mut next = current.clone();
        next.resource = resource;
        next.state = state;
        next.last_modified = Timestamp::now();
        next.version = current.version + 1;
        let seats = seat_check(ctx, Some(current.state), state);
        match ctx
            .store
            .update_member(&next, &keys, current.version, seats)
            .await
        {
            Ok(()) => {
                ctx.enqueue(JobKind::Member, next.id.as_str(), next.version)
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
                ctx.enqueue(JobKind::Member, current.id.as_str(), current.version + 1)
                    .await;
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
                match ctx
                    .store
                    .update_member(&next, &keys, current.version, None)
                    .await
                {
                    Ok(()) => {
                        ctx.enqueue(JobKind::Member, next.id.as_str(), next.version)
                            .await;
                        return Ok(());
                    }
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
