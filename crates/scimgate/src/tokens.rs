//! Static SCIM bearer tokens: 256 random bits, shown once, stored as HMAC-SHA-256 under a
//! server key (a keyed hash: the tokens are random, so no slow password hash is needed, and a
//! stolen table alone verifies nothing), and their verification with a short cache.

use std::sync::Arc;
use std::time::Duration;

use scimgate_authz::TtlCache;
pub use scimgate_authz::secrets::TokenHasher;
use scimgate_domain::error::ScimError;
use scimgate_domain::oauth::ScopeSet;
use scimgate_domain::ports::Store;
use scimgate_domain::time::Timestamp;
use scimgate_scim::{AuthFailure, Principal};

pub use scimgate_authz::registry::{TOKEN_PREFIX, generate_token};

/// Verifies static tokens against the store, trusting a verified token for `cache_ttl`
/// (a revocation applies within that time) so the common request costs no lookup.
#[allow(missing_debug_implementations)] // holds a trait object; nothing useful to print
pub struct StaticTokens {
    store: Arc<dyn Store>,
    hasher: TokenHasher,
    /// Token hash → principal.
    cache: TtlCache<Principal>,
}

/// Entries kept at most; past it the cache starts over (bounded memory whatever the traffic).
const CACHE_CAPACITY: usize = 10_000;

impl StaticTokens {
    pub fn new(store: Arc<dyn Store>, hasher: TokenHasher, cache_ttl: Duration) -> Self {
        Self {
            store,
            hasher,
            cache: TtlCache::new(cache_ttl, CACHE_CAPACITY),
        }
    }

    /// Forgets every verified token (after a revocation in this process).
    pub fn clear(&self) {
        self.cache.clear();
    }
}

impl StaticTokens {
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<Result<Principal, AuthFailure>, ScimError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(Err(AuthFailure::Unknown));
        }
        let hash = self.hasher.hash(token);
        if let Some(p) = self.cache.get(&hash) {
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
            scopes: ScopeSet::scim(),
        };
        // Never trust a token past its own expiry.
        let left = record.expires.map(|e| {
            Duration::from_millis(
                u64::try_from(e.millis() - Timestamp::now().millis()).unwrap_or(0),
            )
        });
        self.cache.insert(&hash, principal.clone(), left);
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
}
