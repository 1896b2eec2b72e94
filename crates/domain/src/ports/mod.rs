//! The storage ports: small capability traits that the store implements for PostgreSQL and
//! SQLite, joined by [`Store`] for callers that need them all. Every call takes the tenant.

use async_trait::async_trait;

use crate::filter::{AttrPath, Filter};
use crate::group::{Group, GroupMemberRef, MembershipChange};
use crate::ids::{ClientId, GroupId, MemberId, TenantId, TokenId};
use crate::member::{Member, MemberKeys};
use crate::oauth::{ClientRecord, RevokedToken, SigningKeyRecord};
use crate::tenant::{Tenant, TenantSettings};
use crate::time::Timestamp;

mod access;
pub use access::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (`what` names it: `userName`, `the unique identifier`,
    /// `displayName`, `slug`).
    #[error("{what} is already taken")]
    Conflict { what: &'static str },
    /// The row changed since it was read (optimistic concurrency).
    #[error("the resource changed since it was read")]
    VersionMismatch,
    #[error("not found")]
    NotFound,
    /// The tenant's seat limit is reached (SEMANTICS 10): nothing was written.
    #[error("seat limit of {limit} reached")]
    SeatLimit { limit: u64 },
    /// The query cannot be run as asked (e.g. an operator the attribute's type does not allow).
    #[error("{0}")]
    InvalidQuery(String),
    #[error("storage failure: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub path: AttrPath,
    pub descending: bool,
}

/// A page request; `start_index` is 1-based (RFC 7644 §3.4.2.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sort: Option<Sort>,
    pub start_index: u64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// A static SCIM bearer token as stored: never the secret, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub tenant_id: TenantId,
    pub hash: String,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, StoreError>;
    async fn tenant_by_id(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    async fn update_tenant_settings(
        &self,
        id: &TenantId,
        settings: &TenantSettings,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    async fn tokens_of(&self, tenant: &TenantId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Marks the token revoked; false when no such token exists.
    async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<bool, StoreError>;
    /// The token with this hash and its tenant, whatever its state.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<(TokenRecord, Tenant)>, StoreError>;
}

#[async_trait]
pub trait MemberStore: Send + Sync {
    async fn member(&self, tenant: &TenantId, id: &MemberId) -> Result<Option<Member>, StoreError>;
    async fn member_by_identifier(
        &self,
        tenant: &TenantId,
        identifier_lc: &str,
    ) -> Result<Option<Member>, StoreError>;
    async fn member_by_user_name(
        &self,
        tenant: &TenantId,
        user_name_lc: &str,
    ) -> Result<Option<Member>, StoreError>;
    /// Inserts a member; `Conflict` when its userName or identifier is taken. With
    /// `seat_limit`, the member takes a seat: `SeatLimit` when `limit` other members already
    /// do (counted and written in one transaction under the tenant's lock).
    async fn insert_member(
        &self,
        member: &Member,
        keys: &MemberKeys,
        seat_limit: Option<u64>,
    ) -> Result<(), StoreError>;
    /// Writes `member` (whose `version` is the new one) if the stored version is still
    /// `expected_version`, else `VersionMismatch`; bumps its access version. `seat_limit` as
    /// for `insert_member` (pass it when the write makes the member take a seat).
    async fn update_member(
        &self,
        member: &Member,
        keys: &MemberKeys,
        expected_version: i64,
        seat_limit: Option<u64>,
    ) -> Result<(), StoreError>;
    async fn delete_member(&self, tenant: &TenantId, id: &MemberId) -> Result<bool, StoreError>;
    /// Members visible to SCIM that match the query; the filter runs in the database.
    async fn list_members(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Page<Member>, StoreError>;
    /// Which of `ids` are members of the tenant visible to SCIM, each resolved by id or, failing
    /// that, by the tenant's unique identifier (SEMANTICS 3). Returns (as given, resolved id).
    async fn resolve_members(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> Result<Vec<(String, MemberId)>, StoreError>;
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    async fn group(&self, tenant: &TenantId, id: &GroupId) -> Result<Option<Group>, StoreError>;
    async fn group_by_display_name(
        &self,
        tenant: &TenantId,
        name_lc: &str,
    ) -> Result<Option<Group>, StoreError>;
    /// The members of these groups, visible to SCIM, in a stable order.
    async fn group_members(
        &self,
        tenant: &TenantId,
        groups: &[GroupId],
    ) -> Result<Vec<GroupMemberRef>, StoreError>;
    /// Inserts a group with its members; `Conflict` when the displayName is taken.
    async fn insert_group(&self, group: &Group, members: &[MemberId]) -> Result<(), StoreError>;
    /// In one transaction: writes `group` if its stored version is still `expected_version`
    /// and applies the membership changes in order, touching only the named memberships.
    async fn update_group(
        &self,
        group: &Group,
        expected_version: i64,
        changes: &[MembershipChange],
    ) -> Result<(), StoreError>;
    async fn delete_group(&self, tenant: &TenantId, id: &GroupId) -> Result<bool, StoreError>;
    async fn list_groups(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Page<Group>, StoreError>;
    /// The groups a member belongs to (for the User `groups` attribute).
    async fn groups_of_member(
        &self,
        tenant: &TenantId,
        member: &MemberId,
    ) -> Result<Vec<Group>, StoreError>;
}

/// How many credentials a disconnect revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Disconnected {
    pub clients: u64,
    pub tokens: u64,
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a client; `Conflict` when its id is taken.
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    /// The client with this id, whatever its tenant and state.
    async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError>;
    async fn clients_of(&self, tenant: &TenantId) -> Result<Vec<ClientRecord>, StoreError>;
    /// Makes `new_hash` the client's secret and keeps the current one working until
    /// `previous_expires`. `NotFound` for an unknown client; a revoked client cannot rotate
    /// (`NotFound` too: it is gone for good).
    async fn rotate_client_secret(
        &self,
        id: &ClientId,
        new_hash: &str,
        previous_expires: Timestamp,
        at: Timestamp,
    ) -> Result<ClientRecord, StoreError>;
    /// Marks the client revoked; false when no such client exists. Revoking twice keeps the
    /// first revocation time.
    async fn revoke_client(&self, id: &ClientId, at: Timestamp) -> Result<bool, StoreError>;
    /// Clients revoked at or after `since` (their tokens must be refused until they expire).
    async fn clients_revoked_since(&self, since: Timestamp) -> Result<Vec<ClientId>, StoreError>;
    /// Disconnect SCIM (SEMANTICS 21): in one transaction, revokes every client and every
    /// static token of the tenant that is not revoked yet. Data stays.
    async fn revoke_tenant_credentials(
        &self,
        tenant: &TenantId,
        at: Timestamp,
    ) -> Result<Disconnected, StoreError>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every stored signing key, newest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// In one transaction: inserts `key`, retires every other unretired key at `at`, and
    /// deletes keys retired before `forget_before` (their tokens have all expired).
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError>;
    /// Inserts `key` only if no unretired key exists (first start; two replicas starting at
    /// once make one key between them). Returns whether it was inserted.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Records a revoked access token (revoking twice is not an error).
    async fn revoke_access_token(&self, token: &RevokedToken) -> Result<(), StoreError>;
    /// The ids of revoked tokens that have not expired at `now`.
    async fn revoked_token_ids(&self, now: Timestamp) -> Result<Vec<String>, StoreError>;
}

/// Everything a SCIM request may need.
pub trait Store:
    TenantStore
    + TokenStore
    + MemberStore
    + GroupStore
    + ClientStore
    + KeyStore
    + RevocationStore
    + AccessStore
    + SyncStore
{
    /// Checks that the database answers (readiness).
    fn backend_name(&self) -> &'static str;
}
