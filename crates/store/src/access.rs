//! The access configuration a tenant admin manages (catalogue, workspaces, projects,
//! mappings, teams, webhook endpoint) and the computed access the host application reads.
//! Every write that can change someone's access bumps their access version in its transaction.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use scimgate_domain::access::{Mapping, Project, RoleCatalogue, Team, Workspace};
use scimgate_domain::ids::{MappingId, MemberId, TeamId, TenantId, WorkspaceId};
use scimgate_domain::member::{Member, MemberState};
use scimgate_domain::ports::{
    AccessStore, AccessView, EventRecord, StoreError, StoredAccess, WebhookEndpoint,
};
use scimgate_domain::time::Timestamp;

use crate::access_rows::{
    AccessRow, EventRow, MappingRow, ProjectRow, TeamRow, WebhookRow, WorkspaceRow,
};
use crate::bump;
use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::members::{CHUNK, check_seats};
use crate::rows::{CountRow, MEMBER_COLUMNS, MemberRow};
use crate::schema::{
    events, group_mappings, group_members, groups, member_access, member_sync, members, projects,
    role_catalogues, team_members, teams, webhook_endpoints, workspaces,
};
use crate::sql::SqlFrag;

fn team_member_rows(team: &Team, ids: &[MemberId]) -> Vec<SqlFrag> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.chunks(CHUNK)
        .map(|chunk| {
            // Through the tenant's members: another tenant's id inserts nothing.
            let mut q =
                SqlFrag::new("INSERT INTO team_members (team_id, member_id, tenant_id) SELECT ");
            q.text(team.id.as_str())
                .sql(", m.id, m.tenant_id FROM members m WHERE m.tenant_id = ")
                .text(team.tenant_id.as_str())
                .sql(" AND m.id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    q.sql(", ");
                }
                q.text(id.as_str());
            }
            q.sql(") ON CONFLICT DO NOTHING");
            q
        })
        .collect()
}

impl DbStore {
    /// The event of a team made or changed through the admin API (issue 4 point 9), written in
    /// the same transaction; synced teams' events come from the worker's reconcile.
    async fn team_event(&self, team: &Team, event_type: &str) -> Result<EventRow, StoreError> {
        let deliver = self.deliverable(&team.tenant_id).await?;
        let data = serde_json::json!({
            "id": team.id,
            "name": team.name,
            "description": team.description,
            "customRoles": team.custom_roles,
            "maintainers": team.maintainers,
            "groupId": team.group_id,
        });
        Ok(EventRow::new(
            team.tenant_id.as_str(),
            event_type,
            &data,
            team.last_modified,
            deliver,
        )?)
    }
}

#[async_trait]
impl AccessStore for DbStore {
    async fn catalogue(&self, tenant: &TenantId) -> Result<RoleCatalogue, StoreError> {
        let r: Result<Option<String>, DbError> = with_conn!(self, conn => {
            role_catalogues::table.filter(role_catalogues::tenant_id.eq(tenant.as_str()))
                .select(role_catalogues::catalogue).first(conn).await.optional().map_err(DbError::from)
        });
        match r? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Backend(format!("corrupt catalogue: {e}"))),
            None => Ok(RoleCatalogue::default()),
        }
    }

    async fn put_catalogue(
        &self,
        tenant: &TenantId,
        catalogue: &RoleCatalogue,
    ) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(catalogue).map_err(|e| StoreError::Backend(e.to_string()))?;
        let now = Timestamp::now().millis();
        let t = tenant.to_string();
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::insert_into(role_catalogues::table)
                    .values((role_catalogues::tenant_id.eq(&t), role_catalogues::catalogue.eq(&text), role_catalogues::updated.eq(now)))
                    .on_conflict(role_catalogues::tenant_id)
                    .do_update()
                    .set((role_catalogues::catalogue.eq(&text), role_catalogues::updated.eq(now)))
                    .execute(conn).await?;
                bump::tenant(&t).execute(conn).await?;
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn bump_tenant_access(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let q = bump::tenant(tenant.as_str());
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            q.execute(conn).await.map_err(DbError::from)
        });
        Ok(r? as u64)
    }

    async fn workspaces(&self, tenant: &TenantId) -> Result<Vec<Workspace>, StoreError> {
        let r: Result<Vec<WorkspaceRow>, DbError> = with_conn!(self, conn => {
            workspaces::table.filter(workspaces::tenant_id.eq(tenant.as_str()))
                .order(workspaces::name_lc).select(WorkspaceRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(WorkspaceRow::into_domain).collect())
    }

    async fn ensure_workspace(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Workspace, StoreError> {
        let row = WorkspaceRow::from_domain(&Workspace {
            id: WorkspaceId::generate(),
            tenant_id: tenant.clone(),
            name: name.to_owned(),
            created: Timestamp::now(),
        });
        let r: Result<WorkspaceRow, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::insert_into(workspaces::table).values(&row)
                    .on_conflict((workspaces::tenant_id, workspaces::name_lc)).do_nothing()
                    .execute(conn).await?;
                Ok(workspaces::table.filter(workspaces::tenant_id.eq(&row.tenant_id))
                    .filter(workspaces::name_lc.eq(&row.name_lc))
                    .select(WorkspaceRow::as_select()).first(conn).await?)
            }).await
        });
        Ok(r?.into_domain())
    }

    async fn delete_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
    ) -> Result<bool, StoreError> {
        let t = tenant.to_string();
        let w = id.to_string();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                // Members it reached lose it: a tenant-wide recompute (rare, admin-driven).
                bump::tenant(&t).execute(conn).await?;
                Ok(diesel::delete(workspaces::table.filter(workspaces::tenant_id.eq(&t)).filter(workspaces::id.eq(&w)))
                    .execute(conn).await?)
            }).await
        });
        Ok(r? > 0)
    }

    async fn projects(&self, tenant: &TenantId) -> Result<Vec<Project>, StoreError> {
        let r: Result<Vec<ProjectRow>, DbError> = with_conn!(self, conn => {
            projects::table.filter(projects::tenant_id.eq(tenant.as_str()))
                .order(projects::project_key).select(ProjectRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(ProjectRow::into_domain).collect())
    }

    async fn put_project(&self, project: &Project) -> Result<(), StoreError> {
        let row = ProjectRow::from_domain(project);
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::insert_into(projects::table).values(&row)
                    .on_conflict((projects::tenant_id, projects::project_key))
                    .do_update()
                    .set((projects::name.eq(&row.name), projects::workspace_id.eq(&row.workspace_id)))
                    .execute(conn).await?;
                bump::tenant(&row.tenant_id).execute(conn).await?;
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn delete_project(&self, tenant: &TenantId, key: &str) -> Result<bool, StoreError> {
        let t = tenant.to_string();
        let k = key.to_owned();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::tenant(&t).execute(conn).await?;
                Ok(diesel::delete(projects::table.filter(projects::tenant_id.eq(&t)).filter(projects::project_key.eq(&k)))
                    .execute(conn).await?)
            }).await
        });
        Ok(r? > 0)
    }

    async fn mappings(&self, tenant: &TenantId) -> Result<Vec<Mapping>, StoreError> {
        let r: Result<Vec<MappingRow>, DbError> = with_conn!(self, conn => {
            group_mappings::table.filter(group_mappings::tenant_id.eq(tenant.as_str()))
                .order((group_mappings::kind, group_mappings::group_name_lc, group_mappings::created))
                .select(MappingRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        r?.into_iter()
            .map(|m| m.into_domain().map_err(StoreError::from))
            .collect()
    }

    async fn insert_mapping(&self, mapping: &Mapping) -> Result<Mapping, StoreError> {
        let mut row = MappingRow::from_domain(mapping);
        let r: Result<MappingRow, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::lock_tenant(&row.tenant_id).execute(conn).await?;
                // Bind to the group of that name if it exists (SEMANTICS 11).
                let group: Option<(String, String)> = groups::table
                    .filter(groups::tenant_id.eq(&row.tenant_id))
                    .filter(groups::display_name_lc.eq(&row.group_name_lc))
                    .select((groups::id, groups::display_name))
                    .first(conn).await.optional()?;
                if let Some((id, name)) = &group {
                    row.group_id = Some(id.clone());
                    row.group_name = name.clone();
                }
                // The same group: bound to its id, or named alike while unbound.
                let same_group = group_mappings::table
                    .filter(group_mappings::tenant_id.eq(&row.tenant_id))
                    .filter(group_mappings::kind.eq(&row.kind))
                    .filter(group_mappings::group_name_lc.eq(&row.group_name_lc));
                let existing: Vec<MappingRow> = same_group.select(MappingRow::as_select()).load(conn).await?;
                let clash = existing.iter().any(|e| {
                    row.kind == "role"
                        || (e.workspace_id == row.workspace_id && e.project_key == row.project_key)
                });
                if clash {
                    return Err(DbError::Domain(StoreError::Conflict {
                        what: if row.kind == "role" { "a role mapping for this group" } else { "this mapping" },
                    }));
                }
                diesel::insert_into(group_mappings::table).values(&row).execute(conn).await?;
                if let Some((id, _)) = &group {
                    bump::group_members(&row.tenant_id, id).execute(conn).await?;
                }
                Ok(row)
            }).await
        });
        Ok(r?.into_domain()?)
    }

    async fn delete_mapping(&self, tenant: &TenantId, id: &MappingId) -> Result<bool, StoreError> {
        let seat_limit = self.seat_limit(tenant).await?;
        let t = tenant.to_string();
        let i = id.to_string();
        let r: Result<bool, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::lock_tenant(&t).execute(conn).await?;
                let row: Option<MappingRow> = group_mappings::table
                    .filter(group_mappings::tenant_id.eq(&t)).filter(group_mappings::id.eq(&i))
                    .select(MappingRow::as_select()).first(conn).await.optional()?;
                let Some(row) = row else { return Ok(false) };
                if let Some(g) = &row.group_id {
                    bump::group_members(&t, g).execute(conn).await?;
                }
                diesel::delete(group_mappings::table.filter(group_mappings::id.eq(&i))).execute(conn).await?;
                // Without a group mapped to `deactivated`, its members may take their seats
                // back: refused past the seat limit (SEMANTICS 10), as a SCIM write would be.
                if let (Some(limit), Some(g)) = (seat_limit, &row.group_id)
                    && row.kind == "role" && row.role.as_deref() == Some("deactivated")
                {
                    let members: Vec<String> = group_members::table.filter(group_members::group_id.eq(g))
                        .select(group_members::member_id).load(conn).await?;
                    crate::groups::check_regained_seats(conn, &t, members, limit).await?;
                }
                Ok(true)
            }).await
        });
        Ok(r?)
    }

    async fn teams(&self, tenant: &TenantId) -> Result<Vec<Team>, StoreError> {
        let r: Result<Vec<TeamRow>, DbError> = with_conn!(self, conn => {
            teams::table.filter(teams::tenant_id.eq(tenant.as_str()))
                .order(teams::name_lc).select(TeamRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        r?.into_iter()
            .map(|t| t.into_domain().map_err(StoreError::from))
            .collect()
    }

    async fn team(&self, tenant: &TenantId, id: &TeamId) -> Result<Option<Team>, StoreError> {
        let r: Result<Option<TeamRow>, DbError> = with_conn!(self, conn => {
            teams::table.filter(teams::tenant_id.eq(tenant.as_str())).filter(teams::id.eq(id.as_str()))
                .select(TeamRow::as_select()).first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(TeamRow::into_domain).transpose()?)
    }

    async fn team_members(
        &self,
        tenant: &TenantId,
        id: &TeamId,
    ) -> Result<Vec<MemberId>, StoreError> {
        let r: Result<Vec<String>, DbError> = with_conn!(self, conn => {
            team_members::table.filter(team_members::tenant_id.eq(tenant.as_str()))
                .filter(team_members::team_id.eq(id.as_str()))
                .order(team_members::member_id)
                .select(team_members::member_id).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(MemberId::from_raw).collect())
    }

    async fn insert_team(&self, team: &Team, member_ids: &[MemberId]) -> Result<(), StoreError> {
        let row = TeamRow::from_domain(team)?;
        let inserts = team_member_rows(team, member_ids);
        let ids: Vec<String> = member_ids.iter().map(ToString::to_string).collect();
        let bumps = bump::members(team.tenant_id.as_str(), &ids);
        let event = self.team_event(team, "team.created").await?;
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::insert_into(teams::table).values(&row).execute(conn).await?;
                for q in inserts { q.execute(conn).await?; }
                for q in bumps { q.execute(conn).await?; }
                diesel::insert_into(events::table).values(&event).execute(conn).await?;
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn update_team(
        &self,
        team: &Team,
        expected_version: i64,
        member_ids: Option<&[MemberId]>,
    ) -> Result<(), StoreError> {
        let row = TeamRow::from_domain(team)?;
        let replace = member_ids.map(|ids| {
            let strings: Vec<String> = ids.iter().map(ToString::to_string).collect();
            (
                team_member_rows(team, ids),
                bump::members(team.tenant_id.as_str(), &strings),
            )
        });
        let event = self.team_event(team, "team.updated").await?;
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                let n = diesel::update(teams::table.filter(teams::id.eq(&row.id))
                        .filter(teams::tenant_id.eq(&row.tenant_id))
                        .filter(teams::version.eq(expected_version)))
                    .set(&row).execute(conn).await?;
                if n == 0 {
                    return Err(DbError::Domain(StoreError::VersionMismatch));
                }
                // Roles may have changed: every current member is recomputed.
                bump::team_members(&row.tenant_id, &row.id).execute(conn).await?;
                if let Some((inserts, bumps)) = replace {
                    diesel::delete(team_members::table.filter(team_members::team_id.eq(&row.id))).execute(conn).await?;
                    for q in inserts { q.execute(conn).await?; }
                    for q in bumps { q.execute(conn).await?; }
                }
                diesel::insert_into(events::table).values(&event).execute(conn).await?;
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn delete_team(&self, tenant: &TenantId, id: &TeamId) -> Result<bool, StoreError> {
        let t = tenant.to_string();
        let i = id.to_string();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::team_members(&t, &i).execute(conn).await?;
                Ok(diesel::delete(teams::table.filter(teams::tenant_id.eq(&t)).filter(teams::id.eq(&i))).execute(conn).await?)
            }).await
        });
        Ok(r? > 0)
    }

    async fn resync_groups(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::update(groups::table.filter(groups::tenant_id.eq(tenant.as_str())))
                .set(groups::synced_version.eq(0_i64))
                .execute(conn).await.map_err(DbError::from)
        });
        Ok(r? as u64)
    }

    async fn unlink_all_teams(&self, tenant: &TenantId, at: Timestamp) -> Result<u64, StoreError> {
        let t = tenant.to_string();
        let deliver = self.deliverable(tenant).await?;
        let r: Result<u64, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::lock_tenant(&t).execute(conn).await?;
                let linked: Vec<TeamRow> = teams::table.filter(teams::tenant_id.eq(&t))
                    .filter(teams::linked_group_id.is_not_null())
                    .select(TeamRow::as_select()).load(conn).await?;
                for team in &linked {
                    diesel::update(teams::table.filter(teams::id.eq(&team.id)))
                        .set((teams::linked_group_id.eq(None::<String>), teams::version.eq(teams::version + 1), teams::last_modified.eq(at.millis())))
                        .execute(conn).await?;
                    let data = serde_json::json!({"id": team.id, "name": team.name, "reason": "team_sync_off"});
                    let ev = EventRow::new(&t, "team.unlinked", &data, at, deliver)?;
                    diesel::insert_into(events::table).values(&ev).execute(conn).await?;
                }
                Ok(linked.len() as u64)
            }).await
        });
        Ok(r?)
    }

    async fn member_access(
        &self,
        tenant: &TenantId,
        member: &MemberId,
    ) -> Result<Option<StoredAccess>, StoreError> {
        let r: Result<Option<AccessRow>, DbError> = with_conn!(self, conn => {
            member_access::table.filter(member_access::tenant_id.eq(tenant.as_str()))
                .filter(member_access::member_id.eq(member.as_str()))
                .select(AccessRow::as_select()).first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(AccessRow::into_domain).transpose()?)
    }

    async fn access_views(
        &self,
        tenant: &TenantId,
        ids: &[MemberId],
    ) -> Result<Vec<AccessView>, StoreError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let versions: Result<Vec<(String, i64, i64)>, DbError> = with_conn!(self, conn => {
                member_sync::table.filter(member_sync::tenant_id.eq(tenant.as_str()))
                    .filter(member_sync::member_id.eq_any(chunk))
                    .select((member_sync::member_id, member_sync::access_version, member_sync::synced_version))
                    .load::<(String, i64, i64)>(conn).await.map_err(DbError::from)
            });
            let stored: Result<Vec<AccessRow>, DbError> = with_conn!(self, conn => {
                member_access::table.filter(member_access::tenant_id.eq(tenant.as_str()))
                    .filter(member_access::member_id.eq_any(chunk))
                    .select(AccessRow::as_select()).load(conn).await.map_err(DbError::from)
            });
            let (versions, stored) = (versions?, stored?);
            let mut stored: std::collections::HashMap<String, AccessRow> = stored
                .into_iter()
                .map(|a| (a.member_id.clone(), a))
                .collect();
            for (id, access_version, synced_version) in versions {
                out.push(AccessView {
                    stored: stored.remove(&id).map(AccessRow::into_domain).transpose()?,
                    member_id: MemberId::from_raw(id),
                    current: synced_version >= access_version,
                });
            }
        }
        Ok(out)
    }

    async fn seats_taken(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let q = bump::seats(tenant.as_str(), None);
        let r: Result<Vec<CountRow>, DbError> = with_conn!(self, conn => {
            q.load::<CountRow>(conn).await.map_err(DbError::from)
        });
        let rows = r?;
        Ok(u64::try_from(CountRow::total(&rows)).unwrap_or(0))
    }

    async fn record_sign_in(
        &self,
        tenant: &TenantId,
        member: &MemberId,
        at: Timestamp,
        seat_limit: Option<u64>,
    ) -> Result<Member, StoreError> {
        let t = tenant.to_string();
        let m = member.to_string();
        let r: Result<MemberRow, DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                bump::lock_tenant(&t).execute(conn).await?;
                let mut q = SqlFrag::new(&format!("SELECT {MEMBER_COLUMNS} FROM members WHERE members.tenant_id = "));
                q.text(t.as_str()).sql(" AND members.id = ").text(m.as_str());
                let row = q.load::<MemberRow>(conn).await?.into_iter().next()
                    .ok_or(DbError::Domain(StoreError::NotFound))?;
                let activates = row.state == MemberState::NotActivated.as_str();
                if activates && let Some(limit) = seat_limit {
                    check_seats(bump::seats(&t, Some(&m)).load::<CountRow>(conn).await?, limit)?;
                }
                let first = row.first_sign_in.unwrap_or(at.millis());
                let state = if activates { MemberState::Active.as_str() } else { row.state.as_str() };
                diesel::update(members::table.filter(members::id.eq(&m)))
                    .set((
                        members::first_sign_in.eq(Some(first)),
                        members::state.eq(state),
                    ))
                    .execute(conn).await?;
                for b in bump::members(&t, std::slice::from_ref(&m)) {
                    b.execute(conn).await?;
                }
                let mut q = SqlFrag::new(&format!("SELECT {MEMBER_COLUMNS} FROM members WHERE members.id = "));
                q.text(m.as_str());
                q.load::<MemberRow>(conn).await?.into_iter().next().ok_or(DbError::Domain(StoreError::NotFound))
            }).await
        });
        Ok(r?.into_domain()?)
    }

    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let r: Result<Option<WebhookRow>, DbError> = with_conn!(self, conn => {
            webhook_endpoints::table.filter(webhook_endpoints::tenant_id.eq(tenant.as_str()))
                .select(WebhookRow::as_select()).first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(WebhookRow::into_domain))
    }

    async fn put_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let row = WebhookRow::from_domain(endpoint);
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::insert_into(webhook_endpoints::table).values(&row)
                .on_conflict(webhook_endpoints::tenant_id).do_update()
                .set((webhook_endpoints::url.eq(&row.url), webhook_endpoints::secret.eq(&row.secret),
                      webhook_endpoints::enabled.eq(row.enabled), webhook_endpoints::updated.eq(row.updated)))
                .execute(conn).await.map_err(DbError::from)
        });
        r.map(|_| ()).map_err(StoreError::from)
    }

    async fn delete_webhook_endpoint(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::delete(webhook_endpoints::table.filter(webhook_endpoints::tenant_id.eq(tenant.as_str())))
                .execute(conn).await.map_err(DbError::from)
        });
        Ok(r? > 0)
    }

    async fn events(
        &self,
        tenant: &TenantId,
        before: Option<Timestamp>,
        limit: u64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let before = before.map_or(i64::MAX, Timestamp::millis);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let r: Result<Vec<EventRow>, DbError> = with_conn!(self, conn => {
            events::table.filter(events::tenant_id.eq(tenant.as_str()))
                .filter(events::created.lt(before))
                .order((events::created.desc(), events::id.desc()))
                .limit(limit)
                .select(EventRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        r?.into_iter()
            .map(|e| e.into_domain().map_err(StoreError::from))
            .collect()
    }
}
