//! A small map of values trusted for a while: verified static tokens, client records and
//! tenants are kept for `security.token_cache_seconds` so the common request asks the database
//! nothing. Bounded: past its capacity the map starts over, whatever the traffic.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub struct TtlCache<V> {
    ttl: Duration,
    capacity: usize,
    entries: RwLock<HashMap<String, (Instant, V)>>,
}

impl<V> std::fmt::Debug for TtlCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<V: Clone> TtlCache<V> {
    /// A cache trusting entries for `ttl` (zero: nothing is ever kept).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value, if it is still trusted.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.read().ok()?;
        let (until, v) = entries.get(key)?;
        (*until > Instant::now()).then(|| v.clone())
    }

    /// Keeps `value` for the ttl, or less when `at_most` says so (a credential's own expiry).
    pub fn insert(&self, key: &str, value: V, at_most: Option<Duration>) {
        if self.ttl.is_zero() {
            return;
        }
        let keep = at_most.map_or(self.ttl, |d| d.min(self.ttl));
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key.to_owned(), (Instant::now() + keep, value));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_trusted_for_the_ttl_or_their_own_limit_and_zero_keeps_nothing() {
        let c = TtlCache::new(Duration::from_secs(60), 10);
        c.insert("a", 1, None);
        c.insert("b", 2, Some(Duration::ZERO));
        assert_eq!(c.get("a"), Some(1));
        assert_eq!(c.get("b"), None, "a credential expiring now is not kept");
        c.clear();
        assert_eq!(c.get("a"), None);
        let off = TtlCache::new(Duration::ZERO, 10);
        off.insert("a", 1, None);
        assert_eq!(off.get("a"), None);
    }

    #[test]
    fn past_its_capacity_the_cache_starts_over() {
        let c = TtlCache::new(Duration::from_secs(60), 2);
        c.insert("a", 1, None);
        c.insert("b", 2, None);
        c.insert("c", 3, None);
        assert_eq!((c.get("a"), c.get("b"), c.get("c")), (None, None, Some(3)));
    }
}
