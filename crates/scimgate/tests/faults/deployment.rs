//! One deployment under test: a fresh PostgreSQL database, a private Redis, the tenant and its
//! static token made by the real CLI, team sync and the group mappings set through the store
//! (not the admin API), and `serve scim` as its own process. Workers are started and killed
//! by the tests. The synced state is read back through the store's ports only.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use scimgate_domain::access::{
    GroupFact, Mapping, MappingKind, MemberFacts, OrgTarget, OwnAttributes, TeamFact, resolve,
};
use scimgate_domain::ids::{MappingId, MemberId, TenantId};
use scimgate_domain::member::MemberState;
use scimgate_domain::ports::{
    AccessStore as _, GroupStore as _, MemberStore as _, StoreError, SyncStore as _,
    TenantStore as _,
};
use scimgate_domain::time::Timestamp;
use scimgate_store::{DatabaseUrl, DbStore};

use crate::databases::PostgresDb;
use crate::idp::{Directory, Idp};
use crate::processes::{Env, RedisServer, Scimgate};

/// Groups mapped to an organization role (`deactivated` revokes access, SEMANTICS 13).
pub const ROLE_MAPPINGS: [(&str, &str); 4] = [
    ("Admins", "admin"),
    ("Managers", "manager"),
    ("Reviewers", "reviewer"),
    ("Offboarded", "deactivated"),
];
/// A group mapped to a workspace of the same name.
pub const WORKSPACE_GROUP: &str = "Engineering";

/// How long the tests wait for the sync to catch up after a fault.
pub const SYNC_DEADLINE: Duration = Duration::from_secs(90);

/// The Redis keys of the queue, under the default prefix (see `RedisQueue`).
const JOBS: &str = "scimgate:sync:jobs";
const RETRY: &str = "scimgate:sync:retry";
const DEAD: &str = "scimgate:sync:dead";

impl Drop for Deployment {
    /// The processes' logs are kept when the test fails (and their folder named), else removed.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the processes' logs are in {}", self.env.dir.display());
        } else {
            let _best_effort = std::fs::remove_dir_all(&self.env.dir);
        }
    }
}

/// Runs `body` with the URL of a fresh PostgreSQL database, then drops the database, also
/// when the body fails (its processes are killed first, as their guards drop with it).
pub async fn with_database<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = PostgresDb::create().await;
    let outcome = tokio::spawn(body(db.url())).await;
    db.drop_database().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the test did not finish: {e}");
    }
}

/// Polls `probe` until it returns `Ok`, failing with its last error after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + within;
    loop {
        let last = match probe().await {
            Ok(()) => return,
            Err(e) => e,
        };
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; last seen: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn db(e: StoreError) -> String {
    format!("storage: {e}")
}

/// The queue's keys in Redis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueState {
    /// Entries in the jobs stream: ready plus delivered and not acked (acked ones are deleted).
    pub jobs: u64,
    /// Delivered to a consumer and not acked.
    pub pending: u64,
    pub retrying: u64,
    pub dead: u64,
}

#[derive(Debug)]
pub struct Deployment {
    pub env: Env,
    pub redis: RedisServer,
    pub store: DbStore,
    pub tenant: TenantId,
    pub token: String,
    pub scim: Scimgate,
}

impl Deployment {
    /// Everything but the workers, on the database at `database_url`.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, |_| {}).await
    }

    /// The same, with the processes' environment tuned first.
    pub async fn start_with(database_url: &str, tune: impl FnOnce(&mut Env)) -> Self {
        let redis = RedisServer::start().await;
        let mut env = Env::new(database_url, &redis.url());
        tune(&mut env);
        // The real CLI, as support staff do it (it also runs the migrations).
        env.cli(&["tenant", "create", "acme", "--name", "Acme", "--json"]);
        let token = env.cli(&["token", "create", "--tenant", "acme", "--json"])["token"]
            .as_str()
            .expect("a token")
            .to_owned();

        let store = DbStore::connect(&DatabaseUrl::parse(Some(database_url)), 4)
            .await
            .expect("connect to the test database");
        let mut tenant = store
            .tenant_by_slug("acme")
            .await
            .expect("read the tenant")
            .expect("the tenant the CLI made");
        tenant.settings.team_sync = true;
        store
            .update_tenant_settings(&tenant.id, &tenant.settings)
            .await
            .expect("turn team sync on");
        let workspace = store
            .ensure_workspace(&tenant.id, WORKSPACE_GROUP)
            .await
            .expect("a workspace");
        let mut kinds: Vec<(&str, MappingKind)> = ROLE_MAPPINGS
            .iter()
            .map(|(group, role)| (*group, MappingKind::Role(OrgTarget::parse(role))))
            .collect();
        kinds.push((WORKSPACE_GROUP, MappingKind::Workspace(workspace.id)));
        // Made before the groups are pushed: they bind to the groups by name (SEMANTICS 11).
        for (group, kind) in kinds {
            store
                .insert_mapping(&Mapping {
                    id: MappingId::generate(),
                    tenant_id: tenant.id.clone(),
                    group_name: group.to_owned(),
                    group_id: None,
                    kind,
                    created: Timestamp::now(),
                })
                .await
                .expect("insert a mapping");
        }

        let scim = Scimgate::serve(&env, "scim", "scim").await;
        Self {
            env,
            redis,
            store,
            tenant: tenant.id,
            token,
            scim,
        }
    }

    /// An IdP with an empty directory, talking to the SCIM process.
    pub fn idp(&self) -> Idp {
        Idp::new(&self.scim.base_url(), &self.token)
    }

    /// A `serve sync` process on this deployment's database and Redis.
    pub async fn worker(&self, name: &str) -> Scimgate {
        Scimgate::serve(&self.env, name, "sync").await
    }

    /// The first member (by id, the order the worker applies them in pages of 1,000) whose
    /// access is behind.
    pub async fn first_member_behind(&self) -> Option<MemberId> {
        self.store
            .members_behind(&self.tenant, None, 1)
            .await
            .expect("members behind")
            .first()
            .map(|b| b.member.id.clone())
    }

    /// Nothing is behind: no group, no orphaned synced team, no member. Groups are looked at
    /// first: reconciling a group bumps members, so once no group is behind (and the IdP is
    /// done), members can only catch up.
    pub async fn nothing_behind(&self) -> Result<(), String> {
        let t = &self.tenant;
        if let Some(g) = self.store.groups_behind(t, 1).await.map_err(db)?.first() {
            return Err(format!(
                "group {:?} is behind (version {})",
                g.display_name, g.version
            ));
        }
        if self
            .store
            .tenants_behind(1000)
            .await
            .map_err(db)?
            .contains(t)
        {
            return Err("the tenant is behind (a synced team whose group is gone?)".into());
        }
        let behind = self.store.members_behind(t, None, 1).await.map_err(db)?;
        if let Some(b) = behind.first() {
            return Err(format!(
                "member {} is behind (access version {})",
                b.member.id, b.access_version
            ));
        }
        Ok(())
    }

    /// Waits until nothing is behind, then asserts that the synced state is what the
    /// directory and the rules say.
    pub async fn assert_synced(&self, dir: &Directory) {
        eventually("everything synced", SYNC_DEADLINE, || self.nothing_behind()).await;
        if let Err(e) = self.state_matches(dir).await {
            panic!("the synced state is wrong: {e}");
        }
    }

    /// The stored groups, teams and effective access against the IdP's directory:
    /// - every group holds what the IdP pushed (nothing lost on the SCIM side);
    /// - every group has exactly one team, linked to it, with its name and its members;
    /// - every member's stored access is `resolve` over its groups and teams.
    pub async fn state_matches(&self, dir: &Directory) -> Result<(), String> {
        let t = &self.tenant;
        let ids: Vec<_> = dir.groups.keys().cloned().collect();
        let mut stored_members: HashMap<_, BTreeSet<MemberId>> = HashMap::new();
        for r in self.store.group_members(t, &ids).await.map_err(db)? {
            stored_members
                .entry(r.group_id)
                .or_default()
                .insert(r.member_id);
        }
        for (id, g) in &dir.groups {
            let stored = self
                .store
                .group(t, id)
                .await
                .map_err(db)?
                .ok_or_else(|| format!("group {:?} is gone", g.name))?;
            if stored.display_name != g.name {
                return Err(format!(
                    "group {id} is named {:?}, the IdP named it {:?}",
                    stored.display_name, g.name
                ));
            }
            if stored_members.remove(id).unwrap_or_default() != g.members {
                return Err(format!("group {:?} lost a membership change", g.name));
            }
        }

        let teams = self.store.teams(t).await.map_err(db)?;
        if teams.len() != dir.groups.len() {
            let names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "{} teams for {} groups: {names:?}",
                teams.len(),
                dir.groups.len()
            ));
        }
        let mut team_of = HashMap::new();
        for (id, g) in &dir.groups {
            let linked: Vec<_> = teams
                .iter()
                .filter(|team| team.group_id.as_ref() == Some(id))
                .collect();
            let [team] = linked.as_slice() else {
                return Err(format!(
                    "group {:?} has {} linked teams",
                    g.name,
                    linked.len()
                ));
            };
            if team.name != g.name {
                return Err(format!(
                    "the team of group {:?} is named {:?}",
                    g.name, team.name
                ));
            }
            let members: BTreeSet<MemberId> = self
                .store
                .team_members(t, &team.id)
                .await
                .map_err(db)?
                .into_iter()
                .collect();
            if members != g.members {
                let missing = g.members.difference(&members).count();
                let extra = members.difference(&g.members).count();
                return Err(format!(
                    "team {:?}: {missing} of the group's members missing, {extra} extra",
                    team.name
                ));
            }
            team_of.insert(id.clone(), *team);
        }

        let model = self.store.access_model(t).await.map_err(db)?;
        for m in &dir.users {
            let member = self
                .store
                .member(t, m)
                .await
                .map_err(db)?
                .ok_or_else(|| format!("member {m} is gone"))?;
            let state = if dir.deactivated.contains(m) {
                MemberState::Deactivated
            } else {
                MemberState::Active
            };
            if member.state != state {
                return Err(format!("member {m} is {:?}, not {state:?}", member.state));
            }
            let mut facts = MemberFacts {
                state,
                own: OwnAttributes::of(&member.resource),
                groups: Vec::new(),
                teams: Vec::new(),
            };
            for (id, g) in dir.groups.iter().filter(|(_, g)| g.members.contains(m)) {
                facts.groups.push(GroupFact {
                    id: id.clone(),
                    name: g.name.clone(),
                });
                let team = team_of[id];
                facts.teams.push(TeamFact {
                    id: team.id.clone(),
                    custom_roles: team.custom_roles.clone(),
                });
            }
            let want = resolve(&model, &facts);
            let stored = self
                .store
                .member_access(t, m)
                .await
                .map_err(db)?
                .ok_or_else(|| format!("member {m} has no stored access"))?;
            if stored.access != want {
                return Err(format!(
                    "member {m}: stored access {:?}, the rules say {want:?}",
                    stored.access
                ));
            }
        }
        Ok(())
    }

    /// The queue as Redis holds it now.
    pub async fn queue(&self) -> Result<QueueState, String> {
        let mut conn = self.redis.connection().await;
        let (jobs, retrying, dead): (u64, u64, u64) = redis::pipe()
            .cmd("XLEN")
            .arg(JOBS)
            .cmd("ZCARD")
            .arg(RETRY)
            .cmd("XLEN")
            .arg(DEAD)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("Redis: {e}"))?;
        let pending = match redis::cmd("XPENDING")
            .arg(JOBS)
            .arg("sync")
            .query_async::<redis::streams::StreamPendingReply>(&mut conn)
            .await
        {
            Ok(reply) => reply.count() as u64,
            Err(e) if e.code() == Some("NOGROUP") => 0,
            Err(e) => return Err(format!("Redis: {e}")),
        };
        Ok(QueueState {
            jobs,
            pending,
            retrying,
            dead,
        })
    }

    /// Every job was taken and acked, none is waiting for a retry and none was given up on.
    pub async fn assert_queue_drained(&self) {
        eventually("every job acked", SYNC_DEADLINE, || async {
            let q = self.queue().await?;
            assert_eq!(q.dead, 0, "jobs were dead-lettered: {q:?}");
            if q == QueueState::default() {
                Ok(())
            } else {
                Err(format!("{q:?}"))
            }
        })
        .await;
    }
}
