//! Members: reads, optimistic writes with their filter index, and filtered pages.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use scimgate_domain::ids::{MemberId, TenantId};
use scimgate_domain::member::{Member, MemberKeys};
use scimgate_domain::ports::{ListQuery, MemberStore, Page, StoreError};
use scimgate_domain::time::Timestamp;

use crate::access_rows::EventRow;
use crate::attrs::Target;
use crate::bump;
use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::filter_sql;
use crate::paging::PageRow;
use crate::rows::{CountRow, MEMBER_COLUMNS, MemberRow, MemberValueRow, MemberWrite};
use crate::schema::{events, member_values, members};
use crate::sql::SqlFrag;

/// `SeatLimit` when `limit` members already take a seat.
pub(crate) fn check_seats(count: Vec<CountRow>, limit: u64) -> Result<(), DbError> {
    let taken = CountRow::total(&count);
    if u64::try_from(taken).unwrap_or(u64::MAX) >= limit {
        return Err(DbError::Domain(StoreError::SeatLimit { limit }));
    }
    Ok(())
}

/// Rows per multi-row INSERT or IN list: under SQLite's and PostgreSQL's bind-parameter limits.
pub(crate) const CHUNK: usize = 1000;

#[derive(Debug, QueryableByName)]
pub(crate) struct MemberPageRow {
    #[diesel(embed)]
    member: MemberRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

impl PageRow for MemberPageRow {
    type Entity = Member;
    fn total(&self) -> i64 {
        self.total
    }
    fn into_entity(self) -> Result<Member, DbError> {
        self.member.into_domain()
    }
}

impl DbStore {
    async fn member_where(
        &self,
        tenant: &TenantId,
        column: &'static str,
        value: &str,
    ) -> Result<Option<Member>, StoreError> {
        let mut q = SqlFrag::new(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE members.tenant_id = "
        ));
        q.text(tenant.as_str())
            .sql(&format!(" AND members.{column} = "))
            .text(value)
            .sql(" LIMIT 1");
        let rows: Result<Vec<MemberRow>, DbError> = with_conn!(self, conn => {
            q.load::<MemberRow>(conn).await.map_err(DbError::from)
        });
        Ok(rows?
            .into_iter()
            .next()
            .map(MemberRow::into_domain)
            .transpose()?)
    }

    /// `WHERE` for a SCIM list: the tenant, visibility and the filter.
    pub(crate) fn member_conditions(
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<SqlFrag, StoreError> {
        let mut w = SqlFrag::new(" FROM members WHERE members.tenant_id = ");
        w.text(tenant.as_str())
            .sql(" AND members.scim_visible = ")
            .boolean(true);
        if let Some(f) = &query.filter {
            w.sql(" AND ");
            filter_sql::translate(f, Target::Members, &mut w)
                .map_err(|e| StoreError::InvalidQuery(e.0))?;
        }
        Ok(w)
    }
}

#[async_trait]
impl MemberStore for DbStore {
    async fn member(&self, tenant: &TenantId, id: &MemberId) -> Result<Option<Member>, StoreError> {
        self.member_where(tenant, "id", id.as_str()).await
    }

    async fn member_by_identifier(
        &self,
        tenant: &TenantId,
        identifier_lc: &str,
    ) -> Result<Option<Member>, StoreError> {
        self.member_where(tenant, "identifier_lc", identifier_lc)
            .await
    }

    async fn member_by_user_name(
        &self,
        tenant: &TenantId,
        user_name_lc: &str,
    ) -> Result<Option<Member>, StoreError> {
        self.member_where(tenant, "user_name_lc", user_name_lc)
            .await
    }

    async fn insert_member(
        &self,
        member: &Member,
        keys: &MemberKeys,
        seat_limit: Option<u64>,
    ) -> Result<(), StoreError> {
        let row = MemberWrite::new(member, keys)?;
        let values = MemberValueRow::all(member, keys);
        let tenant = member.tenant_id.to_string();
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                if let Some(limit) = seat_limit {
                    bump::lock_tenant(&tenant).execute(conn).await?;
                    check_seats(bump::seats(&tenant, None).load::<CountRow>(conn).await?, limit)?;
                }
                diesel::insert_into(members::table).values(&row).execute(conn).await?;
                bump::new_member(&tenant, &row.id).execute(conn).await?;
                for chunk in values.chunks(CHUNK) {
                    MemberValueRow::insert(chunk).execute(conn).await?;
                }
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn update_member(
        &self,
        member: &Member,
        keys: &MemberKeys,
        expected_version: i64,
        seat_limit: Option<u64>,
    ) -> Result<(), StoreError> {
        let row = MemberWrite::new(member, keys)?;
        let values = MemberValueRow::all(member, keys);
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                if let Some(limit) = seat_limit {
                    bump::lock_tenant(&row.tenant_id).execute(conn).await?;
                    check_seats(
                        bump::seats(&row.tenant_id, Some(&row.id)).load::<CountRow>(conn).await?,
                        limit,
                    )?;
                }
                let n = diesel::update(
                    members::table
                        .filter(members::id.eq(&row.id))
                        .filter(members::tenant_id.eq(&row.tenant_id))
                        .filter(members::version.eq(expected_version)),
                )
                .set(&row)
                .execute(conn)
                .await?;
                if n == 0 {
                    return Err(DbError::Domain(StoreError::VersionMismatch));
                }
                for b in bump::members(&row.tenant_id, std::slice::from_ref(&row.id)) {
                    b.execute(conn).await?;
                }
                diesel::delete(member_values::table.filter(member_values::member_id.eq(&row.id)))
                    .execute(conn)
                    .await?;
                for chunk in values.chunks(CHUNK) {
                    MemberValueRow::insert(chunk).execute(conn).await?;
                }
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    /// Removes the member (its team memberships and stored access go with it) and writes a
    /// `member.removed` event in the same transaction, so the host application hears of it.
    async fn delete_member(&self, tenant: &TenantId, id: &MemberId) -> Result<bool, StoreError> {
        let deliver = self.deliverable(tenant).await?;
        let at = Timestamp::now();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                // Write first (SQLite: a transaction that reads before it writes fails with
                // "database is locked" when another writer waits, docs/decisions.md).
                let removed: Vec<String> = diesel::delete(members::table.filter(members::id.eq(id.as_str())).filter(members::tenant_id.eq(tenant.as_str())))
                    .returning(members::user_name).get_results(conn).await?;
                let n = removed.len();
                if let Some(user_name) = removed.into_iter().next() {
                    let data = serde_json::json!({ "id": id.as_str(), "userName": user_name });
                    let ev = EventRow::new(tenant.as_str(), "member.removed", &data, at, deliver)?;
                    diesel::insert_into(events::table).values(&ev).execute(conn).await?;
                }
                Ok(n)
            }).await
        });
        Ok(r? > 0)
    }

    async fn list_members(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Page<Member>, StoreError> {
        let conditions = Self::member_conditions(tenant, query)?;
        self.load_page::<MemberPageRow>(MEMBER_COLUMNS, Target::Members, &conditions, query)
            .await
    }

    async fn resolve_members(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> Result<Vec<(String, MemberId)>, StoreError> {
        let mut found: Vec<(String, String)> = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let lc: Vec<String> = chunk.iter().map(|s| s.trim().to_lowercase()).collect();
            let r: Result<Vec<(String, String)>, DbError> = with_conn!(self, conn => {
                members::table
                    .filter(members::tenant_id.eq(tenant.as_str()))
                    .filter(members::scim_visible.eq(true))
                    .filter(members::id.eq_any(chunk).or(members::identifier_lc.eq_any(&lc)))
                    .select((members::id, members::identifier_lc))
                    .load(conn).await.map_err(DbError::from)
            });
            found.extend(r?);
        }
        // Ids first (SEMANTICS 3), then the unique identifier.
        let by_id: std::collections::HashSet<&str> =
            found.iter().map(|(id, _)| id.as_str()).collect();
        let by_identifier: std::collections::HashMap<&str, &str> = found
            .iter()
            .map(|(id, ident)| (ident.as_str(), id.as_str()))
            .collect();
        Ok(ids
            .iter()
            .filter_map(|given| {
                let id = if by_id.contains(given.as_str()) {
                    Some(given.clone())
                } else {
                    by_identifier
                        .get(given.trim().to_lowercase().as_str())
                        .map(|id| (*id).to_owned())
                };
                id.map(|id| (given.clone(), MemberId::from_raw(id)))
            })
            .collect())
    }
}
