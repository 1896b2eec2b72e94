//! Row structs: what the tables hold, converted to and from domain types here and nowhere else.

use diesel::prelude::*;
use scimgate_domain::group::Group;
use scimgate_domain::ids::{GroupId, MemberId, TenantId, TokenId};
use scimgate_domain::member::{Member, MemberKeys, MemberState, Provenance};
use scimgate_domain::ports::TokenRecord;
use scimgate_domain::tenant::{Slug, Tenant};
use scimgate_domain::time::Timestamp;
use serde_json::{Map, Value};

use crate::error::DbError;
use crate::schema::{groups, members, scim_tokens, tenants};

fn parse_object(text: &str) -> Result<Map<String, Value>, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Corrupt(format!("resource JSON: {e}")))
}

#[derive(Debug, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = tenants)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub settings: String,
    pub created: i64,
}

impl TenantRow {
    pub fn from_domain(t: &Tenant) -> Result<Self, DbError> {
        Ok(Self {
            id: t.id.to_string(),
            slug: t.slug.to_string(),
            name: t.name.clone(),
            settings: serde_json::to_string(&t.settings)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            created: t.created.millis(),
        })
    }
    pub fn into_domain(self) -> Result<Tenant, DbError> {
        Ok(Tenant {
            id: TenantId::from_raw(self.id),
            slug: Slug::parse(&self.slug).map_err(|e| DbError::Corrupt(e.to_string()))?,
            name: self.name,
            settings: serde_json::from_str(&self.settings)
                .map_err(|e| DbError::Corrupt(format!("settings: {e}")))?,
            created: Timestamp::from_millis(self.created),
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_tokens)]
pub struct TokenRow {
    pub id: String,
    pub tenant_id: String,
    pub token_hash: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
}

impl TokenRow {
    pub fn from_domain(t: &TokenRecord) -> Self {
        Self {
            id: t.id.to_string(),
            tenant_id: t.tenant_id.to_string(),
            token_hash: t.hash.clone(),
            created: t.created.millis(),
            expires: t.expires.map(Timestamp::millis),
            revoked: t.revoked.map(Timestamp::millis),
        }
    }
    pub fn into_domain(self) -> TokenRecord {
        TokenRecord {
            id: TokenId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            hash: self.token_hash,
            created: Timestamp::from_millis(self.created),
            expires: self.expires.map(Timestamp::from_millis),
            revoked: self.revoked.map(Timestamp::from_millis),
        }
    }
}

/// The columns a member is read back from.
#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub id: String,
    pub tenant_id: String,
    pub resource: String,
    pub state: String,
    pub provenance: String,
    pub scim_managed: bool,
    pub scim_visible: bool,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
    pub first_sign_in: Option<i64>,
}

/// The SELECT list matching [`MemberRow`], for hand-built queries.
pub const MEMBER_COLUMNS: &str = "members.id, members.tenant_id, members.resource, members.state, \
     members.provenance, members.scim_managed, members.scim_visible, members.created, \
     members.last_modified, members.version, members.first_sign_in";

impl MemberRow {
    pub fn into_domain(self) -> Result<Member, DbError> {
        Ok(Member {
            id: MemberId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            resource: parse_object(&self.resource)?,
            state: MemberState::parse(&self.state)
                .ok_or_else(|| DbError::Corrupt(format!("state {}", self.state)))?,
            provenance: Provenance::parse(&self.provenance)
                .ok_or_else(|| DbError::Corrupt(format!("provenance {}", self.provenance)))?,
            scim_managed: self.scim_managed,
            scim_visible: self.scim_visible,
            created: Timestamp::from_millis(self.created),
            last_modified: Timestamp::from_millis(self.last_modified),
            version: self.version,
            first_sign_in: self.first_sign_in.map(Timestamp::from_millis),
        })
    }
}

/// Every column of a member, for INSERT and UPDATE.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = members, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct MemberWrite {
    pub id: String,
    pub tenant_id: String,
    pub user_name: String,
    pub user_name_lc: String,
    pub email_lc: Option<String>,
    pub identifier_lc: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub state: &'static str,
    pub provenance: &'static str,
    pub scim_managed: bool,
    pub scim_visible: bool,
    pub resource: String,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
    pub first_sign_in: Option<i64>,
}

impl MemberWrite {
    pub fn new(m: &Member, k: &MemberKeys) -> Result<Self, DbError> {
        Ok(Self {
            id: m.id.to_string(),
            tenant_id: m.tenant_id.to_string(),
            user_name: k.user_name.clone(),
            user_name_lc: k.user_name_lc.clone(),
            email_lc: k.email_lc.clone(),
            identifier_lc: k.identifier_lc.clone(),
            external_id: k.external_id.clone(),
            display_name: k.display_name.clone(),
            active: k.active,
            state: m.state.as_str(),
            provenance: m.provenance.as_str(),
            scim_managed: m.scim_managed,
            scim_visible: m.scim_visible,
            resource: serde_json::to_string(&m.resource)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            created: m.created.millis(),
            last_modified: m.last_modified.millis(),
            version: m.version,
            first_sign_in: m.first_sign_in.map(Timestamp::millis),
        })
    }
}

#[derive(Debug)]
pub struct MemberValueRow {
    pub member_id: String,
    pub tenant_id: String,
    pub path: String,
    pub idx: i32,
    pub value: Option<String>,
    pub value_lc: Option<String>,
}

impl MemberValueRow {
    pub fn all(m: &Member, k: &MemberKeys) -> Vec<Self> {
        k.values
            .iter()
            .map(|v| Self {
                member_id: m.id.to_string(),
                tenant_id: m.tenant_id.to_string(),
                path: v.path.clone(),
                idx: v.idx,
                value_lc: v.value.as_ref().map(|s| s.to_lowercase()),
                value: v.value.clone(),
            })
            .collect()
    }

    /// One multi-row INSERT for these rows (diesel's batch insert is not available for SQLite
    /// through diesel-async).
    pub fn insert(rows: &[Self]) -> crate::sql::SqlFrag {
        let mut q = crate::sql::SqlFrag::new(
            "INSERT INTO member_values (member_id, tenant_id, path, idx, value, value_lc) VALUES ",
        );
        for (i, r) in rows.iter().enumerate() {
            q.sql(if i == 0 { "(" } else { ", (" });
            q.text(r.member_id.as_str())
                .sql(", ")
                .text(r.tenant_id.as_str())
                .sql(", ")
                .text(r.path.as_str());
            q.sql(", ").bigint(i64::from(r.idx)).sql(", ");
            match &r.value {
                Some(v) => q.text(v.as_str()),
                None => q.sql("NULL"),
            };
            q.sql(", ");
            match &r.value_lc {
                Some(v) => q.text(v.as_str()),
                None => q.sql("NULL"),
            };
            q.sql(")");
        }
        q
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = groups)]
pub struct GroupRow {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub resource: String,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
}

pub const GROUP_COLUMNS: &str = "groups.id, groups.tenant_id, groups.display_name, groups.external_id, groups.resource, groups.created, groups.last_modified, groups.version";

/// Every column of a group but `synced_version`, for INSERT and UPDATE.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = groups, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct GroupWrite {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub display_name_lc: String,
    pub external_id: Option<String>,
    pub resource: String,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
}

impl GroupWrite {
    pub fn from_domain(g: &Group) -> Result<Self, DbError> {
        Ok(Self {
            id: g.id.to_string(),
            tenant_id: g.tenant_id.to_string(),
            display_name: g.display_name.clone(),
            display_name_lc: g.display_name.to_lowercase(),
            external_id: g.external_id.clone(),
            resource: serde_json::to_string(&g.resource)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            created: g.created.millis(),
            last_modified: g.last_modified.millis(),
            version: g.version,
        })
    }
}

impl GroupRow {
    pub fn into_domain(self) -> Result<Group, DbError> {
        Ok(Group {
            id: GroupId::from_raw(self.id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            display_name: self.display_name,
            external_id: self.external_id,
            resource: parse_object(&self.resource)?,
            created: Timestamp::from_millis(self.created),
            last_modified: Timestamp::from_millis(self.last_modified),
            version: self.version,
        })
    }
}

/// `INSERT ... ON CONFLICT DO NOTHING` for memberships, as one statement per chunk (diesel's
/// batch insert has no upsert on SQLite).
pub fn insert_memberships(
    group_id: &str,
    tenant_id: &str,
    member_ids: &[String],
) -> crate::sql::SqlFrag {
    // Through a SELECT on the tenant's members: an id of another tenant inserts nothing, even
    // if a caller forgot to resolve it in the tenant first.
    let mut q = crate::sql::SqlFrag::new(
        "INSERT INTO group_members (group_id, member_id, tenant_id) SELECT ",
    );
    q.text(group_id)
        .sql(", m.id, m.tenant_id FROM members m WHERE m.tenant_id = ")
        .text(tenant_id)
        .sql(" AND m.id IN (");
    for (i, m) in member_ids.iter().enumerate() {
        if i > 0 {
            q.sql(", ");
        }
        q.text(m.as_str());
    }
    q.sql(") ON CONFLICT DO NOTHING");
    q
}

/// `SELECT COUNT(*) AS n`.
#[derive(Debug, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

impl CountRow {
    /// The count of a `SELECT COUNT(*)` result (0 when it returned no row).
    pub fn total(rows: &[Self]) -> i64 {
        rows.first().map_or(0, |c| c.n)
    }
}
