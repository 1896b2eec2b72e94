//! Groups and memberships. A membership change touches only the named rows, whatever the
//! group's size; member lists are read only when asked for.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use scimgate_domain::group::{Group, GroupMemberRef, MembershipChange};
use scimgate_domain::ids::{GroupId, MemberId, TenantId};
use scimgate_domain::ports::{GroupStore, ListQuery, Page, StoreError};

use crate::attrs::Target;
use crate::bump;
use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::filter_sql;
use crate::members::CHUNK;
use crate::paging::PageRow;
use crate::rows::{CountRow, GROUP_COLUMNS, GroupRow, GroupWrite, insert_memberships};
use crate::schema::{group_members, groups, members};
use crate::sql::SqlFrag;

#[derive(Debug, QueryableByName)]
struct GroupPageRow {
    #[diesel(embed)]
    group: GroupRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

impl PageRow for GroupPageRow {
    type Entity = Group;
    fn total(&self) -> i64 {
        self.total
    }
    fn into_entity(self) -> Result<Group, DbError> {
        self.group.into_domain()
    }
}

/// `SeatLimit` when the members of `leaving` who take their seat back would pass `limit`
/// (SEMANTICS 10); nothing else is refused, even when the tenant is over its limit already.
pub(crate) async fn check_regained_seats<C>(
    conn: &mut C,
    tenant: &str,
    mut leaving: Vec<String>,
    limit: u64,
) -> Result<(), DbError>
where
    C: diesel_async::AsyncConnection,
    SqlFrag: diesel_async::methods::LoadQuery<'static, C, CountRow>,
{
    leaving.sort();
    leaving.dedup();
    let mut back = 0_i64;
    for chunk in leaving.chunks(CHUNK) {
        back += CountRow::total(&bump::regained(tenant, chunk).load::<CountRow>(conn).await?);
    }
    if back == 0 {
        return Ok(());
    }
    let taken = CountRow::total(&bump::seats(tenant, None).load::<CountRow>(conn).await?);
    if u64::try_from(taken + back).unwrap_or(u64::MAX) > limit {
        return Err(DbError::Domain(StoreError::SeatLimit { limit }));
    }
    Ok(())
}

impl DbStore {
    pub(crate) async fn seat_limit(&self, tenant: &TenantId) -> Result<Option<u64>, StoreError> {
        use scimgate_domain::ports::TenantStore as _;
        Ok(self
            .tenant_by_id(tenant)
            .await?
            .and_then(|t| t.settings.seat_limit))
    }
}

/// The INSERT statements adding `ids` to `group`, one per chunk.
fn membership_inserts(group: &Group, ids: &[MemberId]) -> Vec<SqlFrag> {
    id_strings(ids)
        .chunks(CHUNK)
        .map(|chunk| insert_memberships(group.id.as_str(), group.tenant_id.as_str(), chunk))
        .collect()
}

fn id_strings(ids: &[MemberId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl GroupStore for DbStore {
    async fn group(&self, tenant: &TenantId, id: &GroupId) -> Result<Option<Group>, StoreError> {
        let r: Result<Option<GroupRow>, DbError> = with_conn!(self, conn => {
            groups::table.filter(groups::id.eq(id.as_str())).filter(groups::tenant_id.eq(tenant.as_str()))
                .select(GroupRow::as_select()).first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(GroupRow::into_domain).transpose()?)
    }

    async fn group_by_display_name(
        &self,
        tenant: &TenantId,
        name_lc: &str,
    ) -> Result<Option<Group>, StoreError> {
        let r: Result<Option<GroupRow>, DbError> = with_conn!(self, conn => {
            groups::table.filter(groups::display_name_lc.eq(name_lc)).filter(groups::tenant_id.eq(tenant.as_str()))
                .select(GroupRow::as_select()).first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(GroupRow::into_domain).transpose()?)
    }

    async fn group_members(
        &self,
        tenant: &TenantId,
        group_ids: &[GroupId],
    ) -> Result<Vec<GroupMemberRef>, StoreError> {
        let mut out = Vec::new();
        let ids: Vec<String> = group_ids.iter().map(ToString::to_string).collect();
        for chunk in ids.chunks(CHUNK) {
            let r: Result<Vec<(String, String, Option<String>, String)>, DbError> = with_conn!(self, conn => {
                group_members::table
                    .inner_join(members::table)
                    .filter(group_members::tenant_id.eq(tenant.as_str()))
                    .filter(members::tenant_id.eq(tenant.as_str()))
                    .filter(group_members::group_id.eq_any(chunk))
                    .filter(members::scim_visible.eq(true))
                    .order((group_members::group_id, group_members::member_id))
                    .select((group_members::group_id, members::id, members::display_name, members::user_name))
                    .load(conn).await.map_err(DbError::from)
            });
            out.extend(
                r?.into_iter()
                    .map(|(g, m, display, user_name)| GroupMemberRef {
                        group_id: GroupId::from_raw(g),
                        member_id: MemberId::from_raw(m),
                        display: display.unwrap_or(user_name),
                    }),
            );
        }
        Ok(out)
    }

    async fn insert_group(&self, group: &Group, member_ids: &[MemberId]) -> Result<(), StoreError> {
        let row = GroupWrite::from_domain(group)?;
        let memberships = membership_inserts(group, member_ids);
        let bumps = bump::members(group.tenant_id.as_str(), &id_strings(member_ids));
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::insert_into(groups::table).values(&row).execute(conn).await?;
                for insert in memberships {
                    insert.execute(conn).await?;
                }
                for b in bumps {
                    b.execute(conn).await?;
                }
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn update_group(
        &self,
        group: &Group,
        expected_version: i64,
        changes: &[MembershipChange],
    ) -> Result<(), StoreError> {
        let row = GroupWrite::from_domain(group)?;
        let tenant = group.tenant_id.to_string();
        let seat_limit = self.seat_limit(&group.tenant_id).await?;
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                // Under a seat limit, members leaving a group mapped to `deactivated` may take
                // their seats back: the tenant's lock first (the order every seat-limited write
                // takes its locks in), the count at the end.
                if seat_limit.is_some() {
                    bump::lock_tenant(&tenant).execute(conn).await?;
                }
                let mut leaving: Vec<String> = Vec::new();
                // Write first, read never: on SQLite a transaction that reads before it writes
                // cannot take the write lock while another writer waits ("database is
                // locked"). The first UPDATE matches only when the name stays; the second
                // (any name) then means the group was renamed.
                let same_name = diesel::update(
                    groups::table
                        .filter(groups::id.eq(&row.id))
                        .filter(groups::tenant_id.eq(&row.tenant_id))
                        .filter(groups::version.eq(expected_version))
                        .filter(groups::display_name_lc.eq(&row.display_name_lc)),
                )
                .set(&row)
                .execute(conn)
                .await?;
                let renamed = same_name == 0;
                if renamed {
                    let n = diesel::update(
                        groups::table
                            .filter(groups::id.eq(&row.id))
                            .filter(groups::tenant_id.eq(&row.tenant_id))
                            .filter(groups::version.eq(expected_version)),
                    )
                    .set(&row)
                    .execute(conn)
                    .await?;
                    if n == 0 {
                        return Err(DbError::Domain(StoreError::VersionMismatch));
                    }
                }
                let of_group = group_members::group_id.eq(&row.id);
                // Every member whose memberships change is marked behind, in this transaction:
                // the cost follows the change, not the group's size.
                for change in changes {
                    match change {
                        MembershipChange::Add(ids) => {
                            for insert in membership_inserts(group, ids) {
                                insert.execute(conn).await?;
                            }
                            for b in bump::members(&tenant, &id_strings(ids)) {
                                b.execute(conn).await?;
                            }
                        }
                        MembershipChange::Remove(ids) => {
                            leaving.extend(id_strings(ids));
                            for chunk in id_strings(ids).chunks(CHUNK) {
                                diesel::delete(group_members::table.filter(of_group).filter(group_members::member_id.eq_any(chunk)))
                                    .execute(conn).await?;
                            }
                            for b in bump::members(&tenant, &id_strings(ids)) {
                                b.execute(conn).await?;
                            }
                        }
                        MembershipChange::RemoveAll => {
                            bump::group_members(&tenant, &row.id).execute(conn).await?;
                            leaving.extend(diesel::delete(group_members::table.filter(of_group))
                                .returning(group_members::member_id).get_results::<String>(conn).await?);
                        }
                        MembershipChange::ReplaceAll(ids) => {
                            bump::group_members(&tenant, &row.id).execute(conn).await?;
                            leaving.extend(diesel::delete(group_members::table.filter(of_group))
                                .returning(group_members::member_id).get_results::<String>(conn).await?);
                            for insert in membership_inserts(group, ids) {
                                insert.execute(conn).await?;
                            }
                            for b in bump::members(&tenant, &id_strings(ids)) {
                                b.execute(conn).await?;
                            }
                        }
                    }
                }
                // A rename can make mappings that name the group apply, or stop applying.
                if renamed {
                    bump::group_members(&tenant, &row.id).execute(conn).await?;
                    if seat_limit.is_some() {
                        leaving.extend(group_members::table.filter(of_group)
                            .select(group_members::member_id).load::<String>(conn).await?);
                    }
                }
                if let Some(limit) = seat_limit {
                    check_regained_seats(conn, &tenant, leaving, limit).await?;
                }
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn delete_group(&self, tenant: &TenantId, id: &GroupId) -> Result<bool, StoreError> {
        let seat_limit = self.seat_limit(tenant).await?;
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                if let Some(limit) = seat_limit {
                    // Its members may take their seats back (see update_group).
                    bump::lock_tenant(tenant.as_str()).execute(conn).await?;
                    bump::group_members(tenant.as_str(), id.as_str()).execute(conn).await?;
                    let leaving = diesel::delete(group_members::table.filter(group_members::group_id.eq(id.as_str()))
                        .filter(group_members::tenant_id.eq(tenant.as_str())))
                        .returning(group_members::member_id).get_results::<String>(conn).await?;
                    check_regained_seats(conn, tenant.as_str(), leaving, limit).await?;
                }
                // Its members lose whatever it gave them; the team it synced is unlinked by
                // the worker, which sees the group gone.
                bump::group_members(tenant.as_str(), id.as_str()).execute(conn).await?;
                Ok(diesel::delete(groups::table.filter(groups::id.eq(id.as_str())).filter(groups::tenant_id.eq(tenant.as_str())))
                    .execute(conn).await?)
            }).await
        });
        Ok(r? > 0)
    }

    async fn list_groups(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Page<Group>, StoreError> {
        let mut conditions = SqlFrag::new(" FROM groups WHERE groups.tenant_id = ");
        conditions.text(tenant.as_str());
        if let Some(f) = &query.filter {
            conditions.sql(" AND ");
            filter_sql::translate(f, Target::Groups, &mut conditions)
                .map_err(|e| StoreError::InvalidQuery(e.0))?;
        }
        self.load_page::<GroupPageRow>(GROUP_COLUMNS, Target::Groups, &conditions, query)
            .await
    }

    async fn groups_of_member(
        &self,
        tenant: &TenantId,
        member: &MemberId,
    ) -> Result<Vec<Group>, StoreError> {
        let r: Result<Vec<GroupRow>, DbError> = with_conn!(self, conn => {
            groups::table
                .inner_join(group_members::table)
                .filter(groups::tenant_id.eq(tenant.as_str()))
                .filter(group_members::member_id.eq(member.as_str()))
                .order(groups::display_name_lc)
                .select(GroupRow::as_select())
                .load(conn).await.map_err(DbError::from)
        });
        Ok(r?
            .into_iter()
            .map(GroupRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?)
    }
}

impl scimgate_domain::ports::Store for DbStore {
    fn backend_name(&self) -> &'static str {
        self.url().backend_name()
    }
}
