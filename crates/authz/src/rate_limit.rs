//! Failed client authentication is rate limited per client and per source address: fixed
//! windows counting failures. Counters are shared through Redis when it is configured (so every
//! replica sees every failure) and kept in process otherwise, or while Redis is unreachable.
//!
//! Only failures cost anything: a request is checked against this process's own view of the
//! blocks (no round trip), and a failure is counted in Redis, whose answer tells this process
//! whether the key is now blocked. Across N replicas an attacker therefore gets at most the
//! limit plus one guess per replica per window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits of [`FailureLimiter`].
#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub per_client: u32,
    pub per_address: u32,
    pub window: Duration,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            per_client: 20,
            per_address: 10,
            window: Duration::from_secs(60),
        }
    }
}

/// What a limit is counted for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    Client(String),
    Address(String),
    /// Failed operator logins to the admin API, per source address: counted apart from client
    /// authentications, so a misconfigured IdP behind the same address cannot lock operators out.
    OperatorAddress(String),
}

impl LimitKey {
    fn text(&self) -> String {
        match self {
            Self::Client(c) => format!("client:{c}"),
            Self::Address(a) => format!("addr:{a}"),
            Self::OperatorAddress(a) => format!("operator-addr:{a}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    ends: Instant,
}

/// Redis, when configured: the connection and the prefix of this deployment's keys.
#[derive(Clone)]
pub struct RedisCounters {
    pub conn: redis::aio::ConnectionManager,
    pub prefix: String,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct FailureLimiter {
    settings: LimitSettings,
    redis: Option<RedisCounters>,
    local: Mutex<HashMap<LimitKey, Window>>,
}

/// Windows kept at most in process; past it expired ones are dropped, then all.
const LOCAL_CAPACITY: usize = 100_000;

impl FailureLimiter {
    pub fn new(settings: LimitSettings, redis: Option<RedisCounters>) -> Self {
        Self {
            settings,
            redis,
            local: Mutex::new(HashMap::new()),
        }
    }

    fn limit(&self, key: &LimitKey) -> u32 {
        match key {
            LimitKey::Client(_) => self.settings.per_client,
            LimitKey::Address(_) | LimitKey::OperatorAddress(_) => self.settings.per_address,
        }
    }

    /// How long `key` stays blocked, if it is.
    pub fn blocked(&self, key: &LimitKey) -> Option<Duration> {
        let now = Instant::now();
        let local = self.local.lock().ok()?;
        let w = local.get(key)?;
        (w.ends > now && w.failures >= self.limit(key)).then(|| w.ends - now)
    }

    /// Counts one failure for each key; returns the longest block any of them is now under.
    pub async fn record_failure(&self, keys: &[LimitKey]) -> Option<Duration> {
        let mut longest = None;
        for key in keys {
            let window = match &self.redis {
                Some(r) => match self.count_in_redis(r, key).await {
                    Ok(w) => {
                        self.store_local(key, w);
                        w
                    }
                    Err(e) => {
                        tracing::warn!(cause = %e, "rate limit: Redis unavailable, counting in process");
                        self.count_local(key)
                    }
                },
                None => self.count_local(key),
            };
            if window.failures >= self.limit(key) {
                let left = window.ends.saturating_duration_since(Instant::now());
                longest = longest.max(Some(left));
            }
        }
        longest
    }

    fn count_local(&self, key: &LimitKey) -> Window {
        let now = Instant::now();
        let Ok(mut local) = self.local.lock() else {
            return Window {
                failures: 0,
                ends: now,
            };
        };
        if local.len() >= LOCAL_CAPACITY {
            local.retain(|_, w| w.ends > now);
            if local.len() >= LOCAL_CAPACITY {
                local.clear();
            }
        }
        let w = local.entry(key.clone()).or_insert(Window {
            failures: 0,
            ends: now + self.settings.window,
        });
        if w.ends <= now {
            *w = Window {
                failures: 0,
                ends: now + self.settings.window,
            };
        }
        w.failures = w.failures.saturating_add(1);
        *w
    }

    fn store_local(&self, key: &LimitKey, w: Window) {
        if let Ok(mut local) = self.local.lock() {
            if local.len() >= LOCAL_CAPACITY {
                local.clear();
            }
            local.insert(key.clone(), w);
        }
    }

    /// `INCR`, `PEXPIRE NX` (the window starts at the first failure) and `PTTL`, atomically.
    async fn count_in_redis(
        &self,
        r: &RedisCounters,
        key: &LimitKey,
    ) -> redis::RedisResult<Window> {
        let name = format!("{}ratelimit:{}", r.prefix, key.text());
        let window_ms = u64::try_from(self.settings.window.as_millis()).unwrap_or(u64::MAX);
        let mut conn = r.conn.clone();
        let (failures, ttl_ms): (u32, i64) = redis::pipe()
            .atomic()
            .incr(&name, 1)
            .cmd("PEXPIRE")
            .arg(&name)
            .arg(window_ms)
            .arg("NX")
            .ignore()
            .pttl(&name)
            .query_async(&mut conn)
            .await?;
        let left = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(window_ms));
        Ok(Window {
            failures,
            ends: Instant::now() + left,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_client: u32, per_address: u32) -> FailureLimiter {
        FailureLimiter::new(
            LimitSettings {
                per_client,
                per_address,
                window: Duration::from_secs(60),
            },
            None,
        )
    }

    #[tokio::test]
    async fn a_key_is_blocked_once_its_failures_reach_the_limit() {
        let l = limiter(3, 100);
        let key = LimitKey::Client("c".into());
        assert_eq!(l.record_failure(std::slice::from_ref(&key)).await, None);
        assert_eq!(l.record_failure(std::slice::from_ref(&key)).await, None);
        assert!(l.blocked(&key).is_none());
        let block = l.record_failure(std::slice::from_ref(&key)).await;
        assert!(block.is_some_and(|d| d <= Duration::from_secs(60) && d > Duration::from_secs(58)));
        assert!(l.blocked(&key).is_some());
        assert!(l.blocked(&LimitKey::Client("other".into())).is_none());
    }

    #[tokio::test]
    async fn clients_and_addresses_have_their_own_limits() {
        let l = limiter(100, 2);
        let keys = [
            LimitKey::Client("c".into()),
            LimitKey::Address("10.0.0.1".into()),
        ];
        l.record_failure(&keys).await;
        assert!(l.record_failure(&keys).await.is_some());
        assert!(l.blocked(&keys[1]).is_some());
        assert!(l.blocked(&keys[0]).is_none());
    }

    #[tokio::test]
    async fn a_window_ends() {
        let l = FailureLimiter::new(
            LimitSettings {
                per_client: 1,
                per_address: 1,
                window: Duration::from_millis(50),
            },
            None,
        );
        let key = LimitKey::Address("a".into());
        assert!(l.record_failure(std::slice::from_ref(&key)).await.is_some());
        assert!(l.blocked(&key).is_some());
        tokio::time::sleep(Duration::from_millis(70)).await;
        assert!(l.blocked(&key).is_none());
    }
}
