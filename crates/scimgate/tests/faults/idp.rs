//! The identity provider's side: a SCIM client that provisions users and pushes groups over
//! HTTP as an IdP does, and the directory it believes in (who is in which group, who is
//! active). Every request must answer 2xx; its latency is recorded. The synced state must end
//! up matching the directory.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use scimgate_domain::ids::{GroupId, MemberId};
use serde_json::{Value, json};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Users per Bulk request when provisioning many.
const BULK_CHUNK: usize = 250;

/// A group as the IdP knows it.
#[derive(Debug, Clone)]
pub struct DirGroup {
    /// The name it was created with; renames add a suffix to it.
    pub base: String,
    pub name: String,
    pub members: BTreeSet<MemberId>,
}

/// What the IdP pushed: the truth the synced state must match.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub users: Vec<MemberId>,
    pub deactivated: BTreeSet<MemberId>,
    pub groups: BTreeMap<GroupId, DirGroup>,
}

impl Directory {
    pub fn group_named(&self, base: &str) -> GroupId {
        self.groups
            .iter()
            .find(|(_, g)| g.base == base)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no group {base:?} in the directory"))
    }
}

/// How the IdP's requests went: when each started and how long it took to answer.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: Vec<(Instant, Duration)>,
}

impl Stats {
    /// The requests started in `[from, to)` and the longest of them.
    pub fn between(&self, from: Instant, to: Instant) -> (usize, Duration) {
        let within: Vec<Duration> = self
            .requests
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, took)| *took)
            .collect();
        (
            within.len(),
            within.iter().copied().max().unwrap_or_default(),
        )
    }
}

/// A tiny deterministic generator (xorshift64*): the same changes on every run, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 33) as usize % n.max(1)
    }
}

/// The IdP: a SCIM client with the tenant's static token, and its directory.
#[derive(Debug, Clone)]
pub struct Idp {
    http: reqwest::Client,
    base: String,
    token: String,
    pub dir: Directory,
    pub stats: Stats,
    renames: u64,
}

impl Idp {
    /// A client of the SCIM API at `base` (`http://host:port`).
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            base: format!("{base}/scim/v2"),
            token: token.to_owned(),
            dir: Directory::default(),
            stats: Stats::default(),
            renames: 0,
        }
    }

    /// Sends one request; it must answer 2xx. Returns the body.
    async fn send(&mut self, method: Method, path: &str, body: &Value) -> Value {
        let started = Instant::now();
        let res = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let elapsed = started.elapsed();
        self.stats.requests.push((started, elapsed));
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn patch(&mut self, path: &str, ops: Value) {
        let body = json!({ "schemas": [PATCH_URN], "Operations": ops });
        // The answer need not carry hundreds of members.
        let path = format!("{path}?excludedAttributes=members");
        self.send(Method::PATCH, &path, &body).await;
    }

    /// Provisions `count` users through Bulk; returns their ids.
    pub async fn create_users(&mut self, prefix: &str, count: usize) -> Vec<MemberId> {
        let mut ids = Vec::with_capacity(count);
        let numbers: Vec<usize> = (0..count).collect();
        for chunk in numbers.chunks(BULK_CHUNK) {
            let ops: Vec<Value> = chunk
                .iter()
                .map(|i| {
                    let name = format!("{prefix}{i}@example.com");
                    json!({
                        "method": "POST",
                        "path": "/Users",
                        "bulkId": format!("u{i}"),
                        "data": {
                            "schemas": [USER_URN],
                            "userName": name,
                            "name": { "givenName": prefix, "familyName": format!("N{i}") },
                            "emails": [{ "value": name, "type": "work", "primary": true }],
                            "active": true,
                        },
                    })
                })
                .collect();
            let body = json!({ "schemas": [BULK_URN], "Operations": ops });
            let answer = self.send(Method::POST, "/Bulk", &body).await;
            for op in answer["Operations"].as_array().cloned().unwrap_or_default() {
                assert_eq!(op["status"], "201", "a Bulk create failed: {op}");
                let location = op["location"].as_str().expect("a location");
                let id = location.rsplit('/').next().expect("an id");
                ids.push(MemberId::from_raw(id));
            }
        }
        assert_eq!(ids.len(), count);
        self.dir.users.extend(ids.iter().cloned());
        ids
    }

    /// Pushes a new group with these members.
    pub async fn create_group(&mut self, name: &str, members: &[MemberId]) -> GroupId {
        let refs: Vec<Value> = members
            .iter()
            .map(|m| json!({ "value": m.as_str() }))
            .collect();
        let body = json!({ "schemas": [GROUP_URN], "displayName": name, "members": refs });
        let answer = self
            .send(Method::POST, "/Groups?excludedAttributes=members", &body)
            .await;
        let id = GroupId::from_raw(answer["id"].as_str().expect("a group id"));
        self.dir.groups.insert(
            id.clone(),
            DirGroup {
                base: name.to_owned(),
                name: name.to_owned(),
                members: members.iter().cloned().collect(),
            },
        );
        id
    }

    /// PATCH add of members (one operation, a value array, as Okta and Entra ID send it).
    pub async fn add(&mut self, group: &GroupId, members: &[MemberId]) {
        let refs: Vec<Value> = members
            .iter()
            .map(|m| json!({ "value": m.as_str() }))
            .collect();
        self.patch(
            &format!("/Groups/{group}"),
            json!([{ "op": "add", "path": "members", "value": refs }]),
        )
        .await;
        let g = self.dir.groups.get_mut(group).expect("a known group");
        g.members.extend(members.iter().cloned());
    }

    /// PATCH remove of members, one value-filter operation each (RFC 7644 §3.5.2.2).
    pub async fn remove(&mut self, group: &GroupId, members: &[MemberId]) {
        let ops: Vec<Value> = members
            .iter()
            .map(|m| json!({ "op": "remove", "path": format!("members[value eq \"{m}\"]") }))
            .collect();
        self.patch(&format!("/Groups/{group}"), json!(ops)).await;
        let g = self.dir.groups.get_mut(group).expect("a known group");
        for m in members {
            g.members.remove(m);
        }
    }

    /// Renames a group (its base name plus a fresh suffix).
    pub async fn rename(&mut self, group: &GroupId) {
        self.renames += 1;
        let base = self.dir.groups[group].base.clone();
        let name = format!("{base} r{}", self.renames);
        self.patch(
            &format!("/Groups/{group}"),
            json!([{ "op": "replace", "path": "displayName", "value": name }]),
        )
        .await;
        self.dir.groups.get_mut(group).expect("a known group").name = name;
    }

    /// PATCHes a user's `active`.
    pub async fn set_active(&mut self, user: &MemberId, active: bool) {
        self.patch(
            &format!("/Users/{user}"),
            json!([{ "op": "replace", "path": "active", "value": active }]),
        )
        .await;
        if active {
            self.dir.deactivated.remove(user);
        } else {
            self.dir.deactivated.insert(user.clone());
        }
    }

    /// One random change of the kind an IdP sends all day: members added to or removed from
    /// a group, a group renamed, a user deactivated (or reactivated). With `only_forward`,
    /// nothing is ever undone (no removal, no reactivation), so no member's access can come
    /// back to an earlier value.
    pub async fn random_change(&mut self, rng: &mut Rng, only_forward: bool) {
        let groups: Vec<GroupId> = self.dir.groups.keys().cloned().collect();
        let group = groups[rng.below(groups.len())].clone();
        let how_many = 1 + rng.below(8);
        let mut kind = rng.below(10);
        if only_forward && (5..=7).contains(&kind) {
            kind = 0;
        }
        match kind {
            0..=4 => {
                let outside: Vec<MemberId> = self
                    .dir
                    .users
                    .iter()
                    .filter(|u| !self.dir.groups[&group].members.contains(*u))
                    .cloned()
                    .collect();
                let picked = pick(rng, &outside, how_many);
                if !picked.is_empty() {
                    self.add(&group, &picked).await;
                }
            }
            5..=7 => {
                let inside: Vec<MemberId> =
                    self.dir.groups[&group].members.iter().cloned().collect();
                let picked = pick(rng, &inside, how_many);
                if !picked.is_empty() {
                    self.remove(&group, &picked).await;
                }
            }
            8 => self.rename(&group).await,
            _ => {
                let user = self.dir.users[rng.below(self.dir.users.len())].clone();
                let deactivated = self.dir.deactivated.contains(&user);
                if !deactivated {
                    self.set_active(&user, false).await;
                } else if !only_forward {
                    self.set_active(&user, true).await;
                }
            }
        }
    }
}

/// Up to `n` distinct elements of `from`.
pub fn pick(rng: &mut Rng, from: &[MemberId], n: usize) -> Vec<MemberId> {
    let mut picked = BTreeSet::new();
    for _ in 0..n.min(from.len()) * 2 {
        if picked.len() >= n.min(from.len()) {
            break;
        }
        picked.insert(from[rng.below(from.len())].clone());
    }
    picked.into_iter().collect()
}
