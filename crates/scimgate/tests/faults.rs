//! Fault tests of the change flow (issue 4 point 12), with real processes: the `scimgate`
//! binary as `serve scim` and as separate `serve sync` workers, a fresh PostgreSQL database
//! and a private `redis-server` per test, an IdP driving SCIM over HTTP.
//!
//! - `a_worker_killed_mid_batch_loses_nothing_and_leaves_no_team_wrong`: SIGKILL a worker
//!   while it applies a batch; the next one applies every job and no team is wrong.
//! - `scim_keeps_answering_through_a_redis_outage_and_every_change_syncs_after_it`: freeze,
//!   then kill Redis while the IdP keeps PATCHing groups; SCIM keeps answering promptly, and
//!   once a new (empty) Redis is up every change is synced.
//! - `two_workers_at_once_apply_each_change_once`: two workers on one queue and one
//!   database; every change is applied once.
//!
//! Outcomes are read through the store's ports and waited for with a deadline, never after a
//! fixed sleep; the sleeps here only pace the faults. The one timed assertion is the SCIM
//! latency bound during the outage. Needs PostgreSQL (see `api/databases.rs`) and
//! `redis-server` on the PATH.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // SqliteDb: these tests run on PostgreSQL, the production topology.
#[path = "api/databases.rs"]
mod databases;
#[path = "faults/deployment.rs"]
mod deployment;
#[path = "faults/idp.rs"]
mod idp;
#[path = "faults/processes.rs"]
mod processes;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use scimgate_domain::access::AccessState;
use scimgate_domain::ids::MemberId;
use scimgate_domain::ports::AccessStore as _;
use serde_json::Value;

use crate::deployment::{Deployment, SYNC_DEADLINE, with_database};
use crate::idp::{Directory, Idp, Rng, pick};

/// The SCIM answer time that no request may exceed while Redis is down.
const SCIM_LATENCY_BOUND: Duration = Duration::from_secs(5);

/// Pushes the groups every test starts with: each of the mapped groups, the workspace group,
/// and one that everyone is in, from slices of `users`.
async fn push_groups(idp: &mut Idp, users: &[MemberId]) {
    let n = users.len();
    let part = |from: usize, to: usize| users[n * from / 100..n * to / 100].to_vec();
    idp.create_group("Everyone", users).await;
    idp.create_group("Engineering", &part(0, 48)).await;
    idp.create_group("Reviewers", &part(32, 64)).await;
    idp.create_group("Managers", &part(60, 76)).await;
    idp.create_group("Admins", &part(76, 78)).await;
    idp.create_group("Offboarded", &part(98, 100)).await;
}

/// Starts a worker on a backlog and SIGKILLs it in the middle of it: once the first page of
/// members is committed and more are still behind. Asserts that it really died mid-way,
/// holding deliveries it never acked.
async fn kill_mid_batch(d: &Deployment, name: &str) {
    let first = d
        .first_member_behind()
        .await
        .expect("a backlog for the worker");
    let mut worker = d.worker(name).await;
    let deadline = Instant::now() + SYNC_DEADLINE;
    loop {
        match d.first_member_behind().await {
            Some(now) if now != first => break,
            Some(_) => {}
            None => panic!(
                "{name} applied the whole backlog before it could be killed: the test needs \
                 more members to catch it mid-way"
            ),
        }
        assert!(worker.running(), "{name} crashed:\n{}", worker.log_tail());
        assert!(
            Instant::now() < deadline,
            "{name} applied nothing within {SYNC_DEADLINE:?}:\n{}",
            worker.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.kill();
    assert!(
        d.first_member_behind().await.is_some(),
        "{name} had finished when it was killed"
    );
    let queue = d.queue().await.expect("the queue");
    assert!(
        queue.pending > 0,
        "{name} died holding no delivery: {queue:?}"
    );
    eprintln!("{name} killed mid-batch; queue after: {queue:?}");
}

/// Kill the worker (SIGKILL) in the middle of applying a batch, twice, and let a new one take
/// over: every job is applied and no team is wrong.
///
/// 2,500 users and six groups of up to 2,500 members (team sync on, role, deny and workspace
/// mappings) are provisioned with no worker running. A worker starts on that backlog and is
/// killed as soon as its first page of 1,000 members is committed while more are behind: its
/// batch is neither finished nor acked. Then, still with no worker, the IdP renames the group
/// everyone is in (every member behind again), moves 300 members from one mapped group to
/// another, removes some from the workspace group, deactivates some users and puts others in
/// the deny group; a second worker is killed the same way. A third takes over the dead
/// workers' deliveries (XAUTOCLAIM) beside the sweeper's jobs and must leave: every group with
/// exactly one team, named like it and holding its members; every member's stored access
/// equal to what the rules compute from its groups and teams; nothing behind; and an empty
/// queue (no delivery left in a dead consumer's pending list, nothing retrying, nothing
/// dead-lettered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_loses_nothing_and_leaves_no_team_wrong() {
    with_database(|url| async move {
        let d = Deployment::start(&url).await;
        let mut idp = d.idp();
        let users = idp.create_users("kill", 2500).await;
        push_groups(&mut idp, &users).await;

        kill_mid_batch(&d, "worker-1").await;

        let group = |name: &str| idp.dir.group_named(name);
        let (everyone, reviewers, managers) =
            (group("Everyone"), group("Reviewers"), group("Managers"));
        let (engineering, offboarded) = (group("Engineering"), group("Offboarded"));
        idp.rename(&everyone).await;
        let moved = users[1000..1300].to_vec();
        for chunk in moved.chunks(50) {
            idp.remove(&reviewers, chunk).await;
        }
        idp.add(&managers, &moved).await;
        for chunk in users[0..100].chunks(50) {
            idp.remove(&engineering, chunk).await;
        }
        for user in &users[2000..2020] {
            idp.set_active(user, false).await;
        }
        idp.add(&offboarded, &users[2020..2050]).await;

        kill_mid_batch(&d, "worker-2").await;

        let mut last = d.worker("worker-3").await;
        d.assert_synced(&idp.dir).await;
        d.assert_queue_drained().await;
        assert!(last.running(), "worker-3 crashed:\n{}", last.log_tail());

        // The rules, spelled out for a few members (the check above recomputes them all).
        let access = |i: usize| {
            let store = &d.store;
            let (tenant, id) = (&d.tenant, users[i].clone());
            async move {
                store
                    .member_access(tenant, &id)
                    .await
                    .expect("read access")
                    .expect("stored access")
                    .access
            }
        };
        assert_eq!(access(1100).await.role.as_deref(), Some("manager"), "moved");
        assert_eq!(access(1400).await.role.as_deref(), Some("reviewer"));
        assert_eq!(access(1920).await.role.as_deref(), Some("admin"));
        assert_eq!(access(2010).await.state, AccessState::Deactivated);
        assert_eq!(access(2030).await.state, AccessState::Deactivated);
        assert_eq!(access(50).await.workspaces.len(), 0, "left Engineering");
        assert_eq!(access(150).await.workspaces.len(), 1);
        assert_eq!(access(2400).await.teams.len(), 1, "only in Everyone");
    })
    .await;
}

/// Stop Redis while the IdP keeps PATCHing groups: SCIM keeps answering promptly, and once
/// Redis is back (a new, empty server: every job, stream and consumer group lost) every change
/// is synced.
///
/// 400 users, six groups, one worker, everything synced. Then the IdP changes groups without
/// pause (members added and removed, groups renamed, users deactivated and reactivated) while
/// Redis is healthy for 2 s, frozen for 4 s (SIGSTOP: connections hang, as in a partition),
/// killed for 3 s, and replaced by an empty server for 3 s more. Every SCIM request must
/// answer 2xx within 5 s (SCIM writes announce their jobs in the background; this is the one
/// timed assertion), requests must have been made in each phase, and after the IdP stops,
/// every change must be synced: teams match groups, access matches the rules, the new Redis'
/// queue drains, the worker still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_keeps_answering_through_a_redis_outage_and_every_change_syncs_after_it() {
    with_database(|url| async move {
        let mut d = Deployment::start(&url).await;
        let mut idp = d.idp();
        let users = idp.create_users("outage", 400).await;
        push_groups(&mut idp, &users).await;
        let mut worker = d.worker("worker").await;
        d.assert_synced(&idp.dir).await;

        let (stop, stopped) = tokio::sync::watch::channel(false);
        let churn = tokio::spawn(async move {
            let mut rng = Rng::new(42);
            while !*stopped.borrow() {
                idp.random_change(&mut rng, false).await;
            }
            idp
        });
        let pace = |secs| tokio::time::sleep(Duration::from_secs(secs));
        let start = Instant::now();
        pace(2).await;
        let frozen = Instant::now();
        d.redis.freeze();
        pace(4).await;
        let killed = Instant::now();
        d.redis.kill();
        pace(3).await;
        let restarted = Instant::now();
        d.redis.restart().await;
        pace(3).await;
        let end = Instant::now();
        stop.send_replace(true);
        let idp = churn.await.expect("the IdP's requests all answered 2xx");

        let phases = [
            ("Redis up", start, frozen),
            ("Redis frozen", frozen, killed),
            ("Redis down", killed, restarted),
            (
                "Redis back, empty",
                restarted,
                end + Duration::from_secs(60),
            ),
        ];
        for (phase, from, to) in phases {
            let (count, slowest) = idp.stats.between(from, to);
            eprintln!("{phase}: {count} SCIM requests, the slowest {slowest:?}");
            assert!(count >= 5, "{phase}: only {count} SCIM requests were made");
            assert!(
                slowest < SCIM_LATENCY_BOUND,
                "{phase}: a SCIM request took {slowest:?}"
            );
        }

        d.assert_synced(&idp.dir).await;
        d.assert_queue_drained().await;
        assert!(
            worker.running(),
            "the worker crashed:\n{}",
            worker.log_tail()
        );
    })
    .await;
}

/// One member's events, in no particular order: its `member.created` access and its
/// `access.changed` transitions, as JSON text.
#[derive(Debug, Default)]
struct MemberLog {
    created: Vec<String>,
    changes: Vec<(String, String)>,
}

/// Reads the outbox and asserts that every change was applied once: one `team.created` per
/// group, one `member.created` per member, and each member's `access.changed` events forming
/// one chain from its first access to its stored access, no access left twice (the IdP never
/// undoes a change in this test, so a repeated transition can only be a double application).
async fn assert_applied_once(d: &Deployment, dir: &Directory) {
    let events = d
        .store
        .events(&d.tenant, None, 1_000_000)
        .await
        .expect("the outbox");
    let mut teams_created: HashMap<String, usize> = HashMap::new();
    let mut logs: BTreeMap<String, MemberLog> = BTreeMap::new();
    for e in &events {
        let payload: Value = serde_json::from_str(&e.payload).expect("a JSON payload");
        let data = &payload["data"];
        let id = data["id"].as_str().unwrap_or_default().to_owned();
        match e.event_type.as_str() {
            "team.created" => {
                let group = data["groupId"].as_str().unwrap_or_default().to_owned();
                *teams_created.entry(group).or_default() += 1;
            }
            "member.created" => logs
                .entry(id)
                .or_default()
                .created
                .push(data["access"].to_string()),
            "access.changed" => logs
                .entry(id)
                .or_default()
                .changes
                .push((data["previous"].to_string(), data["access"].to_string())),
            _ => {}
        }
    }
    for (group, g) in &dir.groups {
        let n = teams_created.remove(group.as_str()).unwrap_or(0);
        assert_eq!(n, 1, "group {:?}: {n} team.created events", g.name);
    }
    assert!(
        teams_created.is_empty(),
        "team.created for unknown groups: {teams_created:?}"
    );
    let mut transitions = 0;
    for m in &dir.users {
        let log = logs.remove(m.as_str()).unwrap_or_default();
        let [first] = log.created.as_slice() else {
            panic!("member {m}: {} member.created events", log.created.len());
        };
        let mut next: HashMap<&str, &str> = HashMap::new();
        for (previous, access) in &log.changes {
            assert_ne!(
                previous, access,
                "member {m}: a change that changed nothing"
            );
            let again = next.insert(previous.as_str(), access.as_str());
            assert!(
                again.is_none(),
                "member {m}: left the same access twice (a change applied twice?): {previous}"
            );
        }
        let mut current = first.as_str();
        while let Some(after) = next.remove(current) {
            current = after;
            transitions += 1;
        }
        assert!(
            next.is_empty(),
            "member {m}: access.changed events off its chain: {next:?}"
        );
        let stored = d
            .store
            .member_access(&d.tenant, m)
            .await
            .expect("read access")
            .expect("stored access");
        let stored = serde_json::to_value(&stored.access)
            .expect("JSON")
            .to_string();
        assert_eq!(
            current, stored,
            "member {m}: the events do not end at its access"
        );
    }
    eprintln!(
        "{} events: {} access transitions, each applied once",
        events.len(),
        transitions
    );
}

/// Two workers on one Redis and one database at once: each change is applied once.
///
/// 800 users and six groups are provisioned with no worker running; then two `serve sync`
/// processes start together on the backlog while the IdP keeps adding members, renaming
/// groups, deactivating users and pushing two new groups. Both take jobs from the consumer
/// group and reconcile the same tenant at the same time; the compare-and-set on synced
/// versions must make every change land once: one team per group and one `team.created` per
/// group, one `member.created` per member, and no access transition applied twice (see
/// `assert_applied_once`). The final state matches the directory, the queue drains, and both
/// workers did some of the work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_at_once_apply_each_change_once() {
    with_database(|url| async move {
        let d = Deployment::start(&url).await;
        let mut idp = d.idp();
        let users = idp.create_users("pair", 800).await;
        push_groups(&mut idp, &users).await;

        let (mut a, mut b) = tokio::join!(d.worker("worker-a"), d.worker("worker-b"));
        let mut rng = Rng::new(7);
        for i in 0..150 {
            idp.random_change(&mut rng, true).await;
            if i == 50 || i == 100 {
                let name = if i == 50 { "Contractors" } else { "Auditors" };
                let members = pick(&mut rng, &users, 120);
                idp.create_group(name, &members).await;
            }
        }
        d.assert_synced(&idp.dir).await;
        d.assert_queue_drained().await;
        assert_applied_once(&d, &idp.dir).await;

        for w in [&mut a, &mut b] {
            assert!(w.running(), "{} crashed:\n{}", w.name, w.log_tail());
            let worked = w
                .log_events()
                .iter()
                .filter(|e| e["message"] == "tenant synced")
                .filter(|e| e["members"].as_u64() > Some(0) || e["groups"].as_u64() > Some(0))
                .count();
            eprintln!("{}: {worked} reconciles that applied something", w.name);
            assert!(worked > 0, "{} applied nothing", w.name);
        }
    })
    .await;
}
