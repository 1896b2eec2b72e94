//! The storage ports of roles, teams and effective access: [`AccessStore`] for what the tenant
//! admin and the host application manage and read, [`SyncStore`] for the worker.
//!
//! Every write that can change a member's access bumps that member's access version in the
//! same transaction (DESIGN "Storage and queue"), so the worker — and the sweeper behind it —
//! finds every member whose access is behind, whatever happened to the job.

use async_trait::async_trait;

use super::StoreError;
use crate::access::{
    AccessModel, EffectiveAccess, Mapping, MemberFacts, Project, RoleCatalogue, Team, Workspace,
};
use crate::group::Group;
use crate::ids::{MappingId, MemberId, TeamId, TenantId, WorkspaceId};
use crate::member::Member;
use crate::time::Timestamp;

/// A member's stored effective access and what it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccess {
    pub member_id: MemberId,
    pub access: EffectiveAccess,
    pub access_version: i64,
    pub member_version: i64,
    pub updated: Timestamp,
}

/// What the host application reads of a member's access: the stored access (None until the
/// worker first computed it) and whether it is current (no change still being applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessView {
    pub member_id: MemberId,
    pub stored: Option<StoredAccess>,
    pub current: bool,
}

/// A change event, written to the outbox in the transaction that makes the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// `member.created`, `member.updated`, `member.deactivated`, `member.removed`, `access.changed`,
    /// `team.created`, `team.updated`, `team.unlinked`.
    pub event_type: &'static str,
    /// The event's `data` object (JSON).
    pub data: serde_json::Value,
}

/// Delivery state of an outbox event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    Delivered,
    /// Gave up after the retry schedule, or the endpoint answered 410.
    Failed,
    /// No webhook endpoint was configured when it was written (kept as the provisioning log).
    Undelivered,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Undelivered => "undelivered",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            "undelivered" => Some(Self::Undelivered),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The webhook message id (`msg_...`), stable across retries (Standard Webhooks).
    pub id: String,
    pub tenant_id: TenantId,
    pub event_type: String,
    /// The whole webhook body: `{"type", "timestamp", "data"}`.
    pub payload: String,
    pub created: Timestamp,
    pub status: EventStatus,
    pub attempts: i32,
    pub next_attempt: Timestamp,
    pub last_error: Option<String>,
    pub delivered: Option<Timestamp>,
}

/// The tenant's webhook endpoint. `secret` is stored as given (sealed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub tenant_id: TenantId,
    pub url: String,
    pub secret: String,
    pub enabled: bool,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A member whose access is behind, with the facts its access depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberBehind {
    pub member: Member,
    pub access_version: i64,
    pub facts: MemberFacts,
}

/// The worker's result for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUpdate {
    pub member_id: MemberId,
    /// The access version the member had when its facts were read.
    pub access_version: i64,
    pub member_version: i64,
    pub access: EffectiveAccess,
}

/// Decides which events a member's recomputed access emits, given what was stored before.
pub type EventRule = fn(Option<&StoredAccess>, &AccessUpdate, &Member) -> Vec<NewEvent>;

/// What reconciling a group's team did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TeamReconcile {
    /// The team linked to the group after the reconcile, if any.
    pub team: Option<TeamId>,
    /// Members whose team membership changed (their access was bumped).
    pub members_changed: u64,
    /// False when another worker had already reconciled this version.
    pub applied: bool,
}

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// The tenant's catalogue (the default one until the tenant sets its own).
    async fn catalogue(&self, tenant: &TenantId) -> Result<RoleCatalogue, StoreError>;
    /// Replaces the catalogue and bumps every member's access version.
    async fn put_catalogue(
        &self,
        tenant: &TenantId,
        catalogue: &RoleCatalogue,
    ) -> Result<(), StoreError>;
    /// Bumps every member's access version (a tenant-wide change: settings, projects).
    async fn bump_tenant_access(&self, tenant: &TenantId) -> Result<u64, StoreError>;

    async fn workspaces(&self, tenant: &TenantId) -> Result<Vec<Workspace>, StoreError>;
    /// The workspace of this name (case-insensitive), created if missing (SEMANTICS 14).
    async fn ensure_workspace(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Workspace, StoreError>;
    /// Deletes a workspace, its mappings with it; bumps the members it reached.
    async fn delete_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
    ) -> Result<bool, StoreError>;

    async fn projects(&self, tenant: &TenantId) -> Result<Vec<Project>, StoreError>;
    /// Registers or updates a project (the host application's key); bumps the tenant.
    async fn put_project(&self, project: &Project) -> Result<(), StoreError>;
    async fn delete_project(&self, tenant: &TenantId, key: &str) -> Result<bool, StoreError>;

    async fn mappings(&self, tenant: &TenantId) -> Result<Vec<Mapping>, StoreError>;
    /// Inserts a mapping, bound at once to the group of that name if it exists; bumps the
    /// group's members. `Conflict` ("a role mapping for this group") when the kind is `Role`
    /// and the group already has one, or when the same mapping exists.
    async fn insert_mapping(&self, mapping: &Mapping) -> Result<Mapping, StoreError>;
    async fn delete_mapping(&self, tenant: &TenantId, id: &MappingId) -> Result<bool, StoreError>;

    async fn teams(&self, tenant: &TenantId) -> Result<Vec<Team>, StoreError>;
    async fn team(&self, tenant: &TenantId, id: &TeamId) -> Result<Option<Team>, StoreError>;
    async fn team_members(
        &self,
        tenant: &TenantId,
        id: &TeamId,
    ) -> Result<Vec<MemberId>, StoreError>;
    /// `Conflict` when the name is taken.
    async fn insert_team(&self, team: &Team, members: &[MemberId]) -> Result<(), StoreError>;
    /// Writes the team if its version is still `expected_version`; with `members`, replaces
    /// its membership. Bumps the access of every member concerned.
    async fn update_team(
        &self,
        team: &Team,
        expected_version: i64,
        members: Option<&[MemberId]>,
    ) -> Result<(), StoreError>;
    async fn delete_team(&self, tenant: &TenantId, id: &TeamId) -> Result<bool, StoreError>;
    /// Team sync turned on: every group of the tenant is behind again, so the worker makes or
    /// links the team of each group pushed before (SEMANTICS 19). Returns how many groups.
    async fn resync_groups(&self, tenant: &TenantId) -> Result<u64, StoreError>;
    /// Team sync turned off: every team keeps its roles and members and becomes unsynced.
    /// Writes a `team.unlinked` event per team. Returns how many were unlinked.
    async fn unlink_all_teams(&self, tenant: &TenantId, at: Timestamp) -> Result<u64, StoreError>;

    async fn member_access(
        &self,
        tenant: &TenantId,
        member: &MemberId,
    ) -> Result<Option<StoredAccess>, StoreError>;
    /// The access views of the tenant's members among `ids` (others are left out), in no
    /// particular order.
    async fn access_views(
        &self,
        tenant: &TenantId,
        ids: &[MemberId],
    ) -> Result<Vec<AccessView>, StoreError>;
    /// Members who take a seat now (active with a role; SEMANTICS 10).
    async fn seats_taken(&self, tenant: &TenantId) -> Result<u64, StoreError>;
    /// The host application reports a sign-in: records the first one and, for a member not
    /// activated yet, makes it active (under the seat limit). Returns the member after.
    async fn record_sign_in(
        &self,
        tenant: &TenantId,
        member: &MemberId,
        at: Timestamp,
        seat_limit: Option<u64>,
    ) -> Result<Member, StoreError>;

    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;
    async fn put_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    async fn delete_webhook_endpoint(&self, tenant: &TenantId) -> Result<bool, StoreError>;
    /// The tenant's events, newest first, created before `before` when given.
    async fn events(
        &self,
        tenant: &TenantId,
        before: Option<Timestamp>,
        limit: u64,
    ) -> Result<Vec<EventRecord>, StoreError>;
}

#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Tenants with members or groups behind (the sweeper), at most `limit`.
    async fn tenants_behind(&self, limit: u64) -> Result<Vec<TenantId>, StoreError>;
    /// Everything tenant-wide that access depends on.
    async fn access_model(&self, tenant: &TenantId) -> Result<AccessModel, StoreError>;
    /// The tenant's groups whose version is ahead of their synced version, and the synced
    /// teams whose group is gone.
    async fn groups_behind(&self, tenant: &TenantId, limit: u64) -> Result<Vec<Group>, StoreError>;
    /// Links, creates or updates the team of `group` (team sync on) and makes its membership
    /// the group's; marks the group synced at `group.version`. One transaction; a no-op
    /// (`applied: false`) when that version was synced already, or when members it must mark
    /// behind are being written by another transaction (it never waits for them: the group
    /// stays behind and comes back).
    async fn reconcile_group(
        &self,
        group: &Group,
        team_sync: bool,
        at: Timestamp,
    ) -> Result<TeamReconcile, StoreError>;
    /// Unlinks synced teams whose group was deleted (`team.unlinked` events).
    async fn unlink_orphan_teams(
        &self,
        tenant: &TenantId,
        at: Timestamp,
    ) -> Result<u64, StoreError>;
    /// Up to `limit` members whose access is behind, ordered by id after `after`, with facts.
    async fn members_behind(
        &self,
        tenant: &TenantId,
        after: Option<&MemberId>,
        limit: u64,
    ) -> Result<Vec<MemberBehind>, StoreError>;
    /// In one transaction: for each update whose access version is still ahead of the
    /// member's synced version, stores the access, writes the events `rule` asks for, and
    /// marks the member synced. Never waits for a member row another transaction is writing:
    /// such a member is skipped and stays behind. Returns the members applied (others were
    /// applied already by another worker, are being written, or changed again: those come
    /// back).
    async fn apply_access(
        &self,
        tenant: &TenantId,
        updates: &[AccessUpdate],
        members: &[Member],
        rule: EventRule,
        deliver: bool,
        at: Timestamp,
    ) -> Result<Vec<MemberId>, StoreError>;

    /// Pending events that are due, oldest first, across tenants.
    async fn due_events(&self, now: Timestamp, limit: u64) -> Result<Vec<EventRecord>, StoreError>;
    /// Claims an event for delivery until `lease_until` if it is still due (several workers).
    async fn claim_event(
        &self,
        id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn event_delivered(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Records a failed attempt: pending again at `next_attempt`, or failed for good.
    async fn event_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt: Option<Timestamp>,
    ) -> Result<(), StoreError>;
    /// Deletes delivered and failed events older than `before` (retention).
    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError>;
}
