//! Groups (SCIM Groups) as the store keeps them. Membership lives apart from the group row, so a
//! member change reads and writes only that membership whatever the group's size.

use serde_json::{Map, Value};

use crate::ids::{GroupId, MemberId, TenantId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// The SCIM attributes without id, meta and members.
    pub resource: Map<String, Value>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub version: i64,
}

impl Group {
    /// Refreshes the row's keys from `resource` after a write.
    pub fn sync_keys(&mut self) {
        self.display_name = self
            .resource
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.external_id = self
            .resource
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
}

/// One member of a group, as a group response lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberRef {
    pub group_id: GroupId,
    pub member_id: MemberId,
    /// The member's displayName, else its userName (RFC 7643 §4.2 `display`).
    pub display: String,
}

/// A membership change with ids already resolved in the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    Add(Vec<MemberId>),
    Remove(Vec<MemberId>),
    RemoveAll,
    ReplaceAll(Vec<MemberId>),
}
