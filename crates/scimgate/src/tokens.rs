//! Static SCIM bearer tokens: 256 random bits, shown once, stored as HMAC-SHA-256 under a
//! server key (a keyed hash: the tokens are random, so no slow password hash is needed, and a
//! stolen table alone verifies nothing). Also the [`Authenticator`] the SCIM API uses.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lc_rs::{hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scimgate_domain::error::ScimError;
use scimgate_domain::ports::Store;
use scimgate_domain::time::Timestamp;
use scimgate_scim::{AuthFailure, Authenticator, Principal};

/// Prefix of every token, so that leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "scimgate_";

/// The HMAC key for token hashes.
#[derive(Clone)]
pub struct TokenHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHasher(<key redacted>)")
    }
}

impl TokenHasher {
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            key.len() >= 32,
            "security.token_hash_key must be at least 32 bytes"
        );
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    /// The configured key, or (SQLite only) one generated once beside the database file.
    pub fn from_config(
        configured: Option<&str>,
        sqlite_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        if let Some(k) = configured {
            return Self::new(k.as_bytes());
        }
        let Some(dir) = sqlite_dir else {
            anyhow::bail!(
                "security.token_hash_key is required with PostgreSQL: set SCIMGATE__SECURITY__TOKEN_HASH_KEY \
                 or SCIMGATE__SECURITY__TOKEN_HASH_KEY_FILE to 32 or more random bytes"
            );
        };
        let path = dir.join("token-hash.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Self::new(existing.trim().as_bytes());
        }
        std::fs::create_dir_all(dir)?;
        let key = random_text()?;
        write_private(&path, &key)?;
        tracing::warn!(path = %path.display(), "generated a token hash key for the embedded database");
        Self::new(key.as_bytes())
    }

    pub fn hash(&self, token: &str) -> String {
        let tag = hmac::sign(&self.key, token.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn random_text() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content)?;
    Ok(())
}

/// A new token: `scimgate_` + 256 random bits, base64url.
pub fn generate_token() -> anyhow::Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_text()?))
}

/// Verifies static tokens against the store, trusting a verified token for `cache_ttl`
/// (a revocation applies within that time) so the common request costs no lookup.
#[allow(missing_debug_implementations)] // holds a trait object; nothing useful to print
pub struct StaticTokens {
    store: Arc<dyn Store>,
    hasher: TokenHasher,
    cache_ttl: Duration,
    /// Token hash → (trusted until, principal).
    cache: Mutex<HashMap<String, (Instant, Principal)>>,
}

/// Entries kept at most; past it the cache starts over (bounded memory whatever the traffic).
const CACHE_CAPACITY: usize = 10_000;

impl StaticTokens {
    pub fn new(store: Arc<dyn Store>, hasher: TokenHasher, cache_ttl: Duration) -> Self {
        Self {
            store,
            hasher,
            cache_ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, hash: &str) -> Option<Principal> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, p)| p.clone())
    }

    fn remember(&self, hash: String, principal: &Principal, expires: Option<Timestamp>) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let mut until = Instant::now() + self.cache_ttl;
        // Never trust a token past its own expiry.
        if let Some(e) = expires {
            let left = u64::try_from(e.millis() - Timestamp::now().millis()).unwrap_or(0);
            until = until.min(Instant::now() + Duration::from_millis(left));
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(hash, (until, principal.clone()));
        }
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, token: &str) -> Result<Result<Principal, AuthFailure>, ScimError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(Err(AuthFailure::Unknown));
        }
        let hash = self.hasher.hash(token);
        if let Some(p) = self.cached(&hash) {
            return Ok(Ok(p));
        }
        // The lookup is by keyed hash: equality on a MAC reveals nothing usable about the token.
        let found = self.store.token_by_hash(&hash).await.map_err(|e| {
            tracing::error!(cause = %e, "token lookup failed");
            ScimError::internal()
        })?;
        let Some((record, tenant)) = found else {
            return Ok(Err(AuthFailure::Unknown));
        };
        if record.revoked.is_some() {
            return Ok(Err(AuthFailure::Revoked));
        }
        if record.expires.is_some_and(|e| e <= Timestamp::now()) {
            return Ok(Err(AuthFailure::Expired));
        }
        let principal = Principal {
            tenant,
            credential_id: record.id.to_string(),
        };
        self.remember(hash, &principal, record.expires);
        Ok(Ok(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_256_random_bits_with_a_prefix() {
        let a = generate_token().unwrap_or_default();
        let b = generate_token().unwrap_or_default();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn the_hash_depends_on_the_key() {
        let k1 = TokenHasher::new(&[1u8; 32]);
        let k2 = TokenHasher::new(&[2u8; 32]);
        let (Ok(k1), Ok(k2)) = (k1, k2) else {
            panic!("keys")
        };
        assert_eq!(k1.hash("t").len(), 64);
        assert_ne!(k1.hash("t"), k2.hash("t"));
        assert!(TokenHasher::new(b"short").is_err());
    }
}
