//! Reconciliation: bring one tenant's teams and effective access up to date with its current
//! state. State-based and idempotent (DESIGN "Change flow" step 2): it reads what is behind,
//! computes, and applies with compare-and-set, so duplicates, reordering and two workers at
//! once are harmless.

use scimgate_domain::access::{AccessState, resolve};
use scimgate_domain::ids::TenantId;
use scimgate_domain::member::Member;
use scimgate_domain::ports::{AccessUpdate, NewEvent, Store, StoreError, StoredAccess};
use scimgate_domain::time::Timestamp;
use serde_json::json;

/// What one reconcile of a tenant did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub groups: u64,
    pub teams_unlinked: u64,
    /// Members recomputed and applied by this worker.
    pub members: u64,
    /// Members another worker applied first, or being written meanwhile (they come back).
    pub skipped: u64,
}

/// Members per read-compute-apply round: one transaction each.
pub const MEMBER_BATCH: u64 = 1000;

/// The events a member's recomputed access emits, given what was stored before (issue 4
/// point 9: member created/updated/deactivated and effective access changed).
pub fn member_events(
    old: Option<&StoredAccess>,
    update: &AccessUpdate,
    member: &Member,
) -> Vec<NewEvent> {
    let user_name = member.resource.get("userName").cloned().unwrap_or_default();
    let access = serde_json::to_value(&update.access).unwrap_or_default();
    let mut out = Vec::new();
    match old {
        None => out.push(NewEvent {
            event_type: "member.created",
            data: json!({"id": member.id, "userName": user_name, "access": access}),
        }),
        Some(old) => {
            let now_off = update.access.state == AccessState::Deactivated;
            if now_off && old.access.state != AccessState::Deactivated {
                out.push(NewEvent {
                    event_type: "member.deactivated",
                    data: json!({
                        "id": member.id,
                        "userName": user_name,
                        "deactivatedBy": update.access.deactivated_by,
                    }),
                });
            } else if old.member_version != update.member_version {
                out.push(NewEvent {
                    event_type: "member.updated",
                    data: json!({"id": member.id, "userName": user_name, "version": update.member_version}),
                });
            }
            if old.access != update.access {
                out.push(NewEvent {
                    event_type: "access.changed",
                    data: json!({
                        "id": member.id,
                        "userName": user_name,
                        "access": access,
                        "previous": serde_json::to_value(&old.access).unwrap_or_default(),
                    }),
                });
            }
        }
    }
    out
}

/// Reconciles one tenant: unlinks teams whose group is gone, reconciles the groups behind
/// (team sync), then recomputes every member whose access is behind. Groups go first (and again
/// before each page of members) so that team memberships they change are seen by the member
/// pass.
pub async fn sync_tenant(store: &dyn Store, tenant: &TenantId) -> Result<SyncStats, StoreError> {
    let Some(t) = store.tenant_by_id(tenant).await? else {
        // Deleted tenant: its rows went with it.
        return Ok(SyncStats::default());
    };
    let mut stats = SyncStats {
        teams_unlinked: store.unlink_orphan_teams(tenant, Timestamp::now()).await?,
        ..SyncStats::default()
    };
    sync_groups(store, &t, &mut stats).await?;

    let deliver = store
        .webhook_endpoint(tenant)
        .await?
        .is_some_and(|w| w.enabled);
    let mut after = None;
    loop {
        // A group pushed in parts (Okta: POST, then PATCHes of members) comes back behind
        // while its members are being computed: reconcile it before the next batch, so the
        // members it adds to its team are computed once, with their team, not once without
        // and again after. Members its reconcile marked behind may sort before the cursor:
        // start over (the ones done are no longer behind).
        if sync_groups(store, &t, &mut stats).await? {
            after = None;
        }
        let behind = store
            .members_behind(tenant, after.as_ref(), MEMBER_BATCH)
            .await?;
        let Some(last) = behind.last() else { break };
        // The model (catalogue, mappings, projects, default role) is read after the members,
        // for each page: a change of it bumps the members it concerns, so one committed before
        // this page's read is in the model read now, and one committed after leaves them
        // behind at a newer version. Read once before the pass, a mapping deleted meanwhile
        // would be applied as still there, at the version its deletion gave, and never
        // recomputed (found by the admin API tests).
        let model = store.access_model(tenant).await?;
        after = Some(last.member.id.clone());
        let updates: Vec<AccessUpdate> = behind
            .iter()
            .map(|b| AccessUpdate {
                member_id: b.member.id.clone(),
                access_version: b.access_version,
                member_version: b.member.version,
                access: resolve(&model, &b.facts),
            })
            .collect();
        let members: Vec<Member> = behind.into_iter().map(|b| b.member).collect();
        let applied = store
            .apply_access(
                tenant,
                &updates,
                &members,
                member_events,
                deliver,
                Timestamp::now(),
            )
            .await?;
        stats.members += applied.len() as u64;
        stats.skipped += (updates.len() - applied.len()) as u64;
    }
    Ok(stats)
}

/// Reconciles the tenant's groups that are behind (team sync); whether any member's team
/// changed.
async fn sync_groups(
    store: &dyn Store,
    t: &scimgate_domain::tenant::Tenant,
    stats: &mut SyncStats,
) -> Result<bool, StoreError> {
    let mut members_changed = false;
    loop {
        let groups = store.groups_behind(&t.id, 200).await?;
        if groups.is_empty() {
            break;
        }
        let mut progressed = false;
        for g in &groups {
            let r = store
                .reconcile_group(g, t.settings.team_sync, Timestamp::now())
                .await?;
            progressed |= r.applied;
            members_changed |= r.members_changed > 0;
            stats.groups += u64::from(r.applied);
        }
        if !progressed {
            // Another worker applied them, or their members are being written right now:
            // they stay behind, and the next job (or sweep) retries.
            break;
        }
    }
    Ok(members_changed)
}
