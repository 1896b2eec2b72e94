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
use crate::rows::{GROUP_COLUMNS, GroupRow, GroupWrite, insert_memberships};
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
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
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
                            diesel::delete(group_members::table.filter(of_group)).execute(conn).await?;
                        }
                        MembershipChange::ReplaceAll(ids) => {
                            bump::group_members(&tenant, &row.id).execute(conn).await?;
                            diesel::delete(group_members::table.filter(of_group)).execute(conn).await?;
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
                }
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn delete_group(&self, tenant: &TenantId, id: &GroupId) -> Result<bool, StoreError> {
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
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
