//! What verifying and issuing tokens read on every request, kept in memory so the common
//! request makes no database round trip: the signing key, the published public keys, the
//! revoked clients and the revoked token ids. A snapshot older than `refresh_every` is
//! reloaded by the next request that needs it (one reload at a time); a token naming a kid
//! the snapshot lacks forces a reload, at most once a second.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use scimgate_domain::ids::ClientId;
use scimgate_domain::oauth::ClientRecord;
use scimgate_domain::ports::{Store, StoreError};
use scimgate_domain::time::Timestamp;

use crate::keys::{self, KeyEncryptionKey, SigningKey, VerifyingKey};
use crate::ttl_cache::TtlCache;

/// A retired key stays published this long past the last token it can have signed: the
/// snapshot refresh of the signers, clock skew, and a margin.
const RETIRED_KEY_SLACK_SECONDS: i64 = 120;
/// Forced reloads (unknown kid) happen at most this often.
const MIN_FORCED_RELOAD: Duration = Duration::from_secs(1);

/// One consistent view of keys and revocations.
#[derive(Debug)]
pub struct Snapshot {
    taken: Instant,
    signing: Option<Arc<SigningKey>>,
    verifying: Vec<Arc<VerifyingKey>>,
    revoked_clients: HashSet<String>,
    revoked_jtis: HashSet<String>,
}

impl Snapshot {
    pub fn signing_key(&self) -> Option<&Arc<SigningKey>> {
        self.signing.as_ref()
    }
    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying
            .iter()
            .find(|k| k.kid == kid)
            .map(Arc::as_ref)
    }
    /// The public keys to publish (RFC 7517 JWK Set members).
    pub fn published(&self, now: Timestamp) -> impl Iterator<Item = &VerifyingKey> {
        self.verifying
            .iter()
            .map(Arc::as_ref)
            .filter(move |k| k.accepted_until.is_none_or(|u| u > now))
    }
    pub fn is_revoked(&self, client_id: &str, jti: &str) -> bool {
        self.revoked_clients.contains(client_id) || self.revoked_jtis.contains(jti)
    }

    /// A snapshot made by hand, for unit tests of verification.
    #[cfg(test)]
    pub(crate) fn of(
        signing: Option<Arc<SigningKey>>,
        verifying: Vec<Arc<VerifyingKey>>,
        revoked_clients: &[&str],
        revoked_jtis: &[&str],
    ) -> Self {
        Self {
            taken: Instant::now(),
            signing,
            verifying,
            revoked_clients: revoked_clients.iter().map(|s| (*s).to_owned()).collect(),
            revoked_jtis: revoked_jtis.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
}

/// Shared by the authorization server (which signs) and the SCIM authenticator (which only
/// verifies, and has no key-encryption key).
pub struct CredentialState {
    store: Arc<dyn Store>,
    kek: Option<Arc<KeyEncryptionKey>>,
    refresh_every: Duration,
    token_ttl_seconds: i64,
    current: RwLock<Option<Arc<Snapshot>>>,
    reload: tokio::sync::Mutex<()>,
    /// Private keys already opened, by kid (opening costs a decryption and a key check).
    opened: Mutex<HashMap<String, Arc<SigningKey>>>,
    /// Set by [`Self::invalidate`]: the next request reloads whatever the snapshot's age.
    stale: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for CredentialState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialState")
            .field("refresh_every", &self.refresh_every)
            .field("signs", &self.kek.is_some())
            .finish_non_exhaustive()
    }
}

impl CredentialState {
    pub fn new(
        store: Arc<dyn Store>,
        kek: Option<Arc<KeyEncryptionKey>>,
        refresh_every: Duration,
        token_ttl_seconds: i64,
    ) -> Self {
        crate::provider::install();
        Self {
            store,
            kek,
            refresh_every,
            token_ttl_seconds,
            current: RwLock::new(None),
            reload: tokio::sync::Mutex::new(()),
            opened: Mutex::new(HashMap::new()),
            stale: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn cached(&self) -> Option<Arc<Snapshot>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn fresh(&self, s: &Snapshot) -> bool {
        !self.stale.load(std::sync::atomic::Ordering::Acquire)
            && !self.refresh_every.is_zero()
            && s.taken.elapsed() < self.refresh_every
    }

    /// The current snapshot, reloaded first when it is older than `refresh_every`.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, StateError> {
        if let Some(s) = self.cached().filter(|s| self.fresh(s)) {
            return Ok(s);
        }
        let _one_at_a_time = self.reload.lock().await;
        // Another request may have reloaded while this one waited.
        if let Some(s) = self.cached().filter(|s| self.fresh(s)) {
            return Ok(s);
        }
        self.load().await
    }

    /// Reloads now, unless the snapshot is younger than a second (an unknown kid must not
    /// become a way to hammer the database).
    pub async fn reload_for_unknown_key(&self) -> Result<Arc<Snapshot>, StateError> {
        let _one_at_a_time = self.reload.lock().await;
        if let Some(s) = self
            .cached()
            .filter(|s| s.taken.elapsed() < MIN_FORCED_RELOAD)
        {
            return Ok(s);
        }
        self.load().await
    }

    /// Makes the next request reload (after a revocation or rotation in this process).
    pub fn invalidate(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::Release);
    }

    async fn load(&self) -> Result<Arc<Snapshot>, StateError> {
        self.stale
            .store(false, std::sync::atomic::Ordering::Release);
        let now = Timestamp::now();
        // A client revoked earlier than this can have no unexpired token left.
        let window = self.token_ttl_seconds + RETIRED_KEY_SLACK_SECONDS;
        let records = self.store.signing_keys().await?;
        let revoked_clients = self
            .store
            .clients_revoked_since(now.plus_seconds(-window))
            .await?
            .into_iter()
            .map(ClientId::into_string)
            .collect();
        let revoked_jtis = self
            .store
            .revoked_token_ids(now)
            .await?
            .into_iter()
            .collect();

        let mut verifying = Vec::with_capacity(records.len());
        let mut signing = None;
        for record in &records {
            let until = record.retired.map(|r| r.plus_seconds(window));
            match keys::verifying(record, until) {
                Ok(k) => verifying.push(Arc::new(k)),
                Err(e) => tracing::error!(cause = %e, "skipping a stored signing key"),
            }
            if record.retired.is_none()
                && signing.is_none()
                && let Some(kek) = &self.kek
            {
                signing = Some(self.open(record, kek)?);
            }
        }
        let snapshot = Arc::new(Snapshot {
            taken: Instant::now(),
            signing,
            verifying,
            revoked_clients,
            revoked_jtis,
        });
        if let Ok(mut g) = self.current.write() {
            *g = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    fn open(
        &self,
        record: &scimgate_domain::oauth::SigningKeyRecord,
        kek: &KeyEncryptionKey,
    ) -> Result<Arc<SigningKey>, StateError> {
        if let Some(k) = self
            .opened
            .lock()
            .ok()
            .and_then(|m| m.get(&record.kid).cloned())
        {
            return Ok(k);
        }
        let key = Arc::new(keys::open(record, kek)?);
        if let Ok(mut m) = self.opened.lock() {
            m.insert(record.kid.clone(), key.clone());
        }
        Ok(key)
    }

    /// Makes the first signing key when none exists (first start of the authorization server).
    pub async fn ensure_signing_key(&self) -> Result<(), StateError> {
        let Some(kek) = &self.kek else {
            return Ok(());
        };
        let keys = self.store.signing_keys().await?;
        if let Some(current) = keys.iter().find(|k| k.retired.is_none()) {
            // Fail at start, not on the first token, when the KEK is wrong.
            self.open(current, kek)?;
            return Ok(());
        }
        let (record, _) = keys::generate(kek, Timestamp::now())?;
        if self.store.insert_first_signing_key(&record).await? {
            tracing::info!(kid = %record.kid, "made the first access-token signing key");
        }
        self.invalidate();
        Ok(())
    }

    /// `scimgate keys rotate`: a new signing key; the old ones stay published until every
    /// token they signed has expired, and keys past that are deleted.
    pub async fn rotate(&self) -> Result<String, StateError> {
        let Some(kek) = &self.kek else {
            return Err(StateError::Key(keys::KeyError::Generate(
                "no key-encryption key configured",
            )));
        };
        let now = Timestamp::now();
        let (record, _) = keys::generate(kek, now)?;
        let window = self.token_ttl_seconds + RETIRED_KEY_SLACK_SECONDS;
        self.store
            .rotate_signing_key(&record, now, now.plus_seconds(-window))
            .await?;
        self.invalidate();
        Ok(record.kid)
    }
}

/// Clients by id, trusted for `ttl` (a revocation or rotation elsewhere applies within it;
/// in this process, [`Self::clear`] applies it at once).
#[derive(Debug)]
pub struct ClientCache(TtlCache<Arc<ClientRecord>>);

/// Entries kept at most; past it the cache starts over (bounded memory whatever the traffic).
const CLIENT_CACHE_CAPACITY: usize = 10_000;

impl ClientCache {
    pub fn new(ttl: Duration) -> Self {
        Self(TtlCache::new(ttl, CLIENT_CACHE_CAPACITY))
    }

    pub async fn get(
        &self,
        store: &dyn Store,
        id: &str,
    ) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        if let Some(c) = self.0.get(id) {
            return Ok(Some(c));
        }
        let Some(client) = store.client(&ClientId::from_raw(id)).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        self.0.insert(id, client.clone(), None);
        Ok(Some(client))
    }

    pub fn clear(&self) {
        self.0.clear();
    }
}
