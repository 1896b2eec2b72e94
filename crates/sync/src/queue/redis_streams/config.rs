//! [`RedisQueueConfig`]: how a [`RedisQueue`] names its keys, identifies itself and retries.

use std::time::Duration;

#[cfg(doc)]
use super::RedisQueue;

/// The least idle time after which [`RedisQueueConfig::stale_consumer_after`] removes a
/// consumer by default.
const MIN_STALE_CONSUMER_AFTER: Duration = Duration::from_secs(10 * 60);
use crate::queue::{
    DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_CLAIM_IDLE, DEFAULT_DEAD_LETTER_CAP,
    DEFAULT_MAX_ATTEMPTS,
};

/// How a [`RedisQueue`] names its keys, identifies itself and retries.
#[derive(Debug, Clone)]
pub struct RedisQueueConfig {
    /// Prepended to every key, e.g. `scimgate:`.
    pub prefix: String,
    /// This process's consumer name in the group: unique per process (see [`Self::unique_consumer`]).
    pub consumer: String,
    /// A delivery that fails on this attempt is dead-lettered.
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles per attempt.
    pub backoff_base: Duration,
    /// The longest delay between retries.
    pub backoff_max: Duration,
    /// An entry delivered to a consumer and not acked for this long is handed to another.
    pub claim_idle: Duration,
    /// About how many dead letters are kept (`MAXLEN ~`).
    pub dead_letter_cap: usize,
    /// A consumer of the group that holds no pending entry and has been idle for longer than
    /// this is removed from the group: it is a worker that went away (every start adds a
    /// consumer, named per process). `None`, the default, is ten times `claim_idle` and at least
    /// ten minutes; see [`Self::stale_consumer_after`].
    pub stale_consumer_after: Option<Duration>,
    /// How long one command (or connecting) may take before the queue reports itself
    /// unavailable. The blocking read waits its block time plus this.
    pub command_timeout: Duration,
}

impl RedisQueueConfig {
    /// The defaults: 8 attempts, backoff from 1 s to 5 min, reclaim after 30 s, 10 000 dead
    /// letters, 2 s per command.
    pub fn new(prefix: impl Into<String>, consumer: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            consumer: consumer.into(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
            claim_idle: DEFAULT_CLAIM_IDLE,
            dead_letter_cap: DEFAULT_DEAD_LETTER_CAP,
            command_timeout: Duration::from_secs(2),
            stale_consumer_after: None,
        }
    }

    /// How long a consumer without pending entries may stay idle before it is removed: the
    /// configured value, or ten times `claim_idle` and at least ten minutes. Generous on
    /// purpose: a live consumer interacts at least once per read's block time, and removing
    /// one by mistake costs nothing (Redis adds it back on its next read).
    pub fn stale_consumer_after(&self) -> Duration {
        self.stale_consumer_after.unwrap_or_else(|| {
            self.claim_idle
                .saturating_mul(10)
                .max(MIN_STALE_CONSUMER_AFTER)
        })
    }

    /// A consumer name unique to this process: `hostname-pid-uuid`.
    pub fn unique_consumer() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "scimgate".to_owned());
        format!(
            "{host}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_is_stale_after_ten_claim_idles_and_at_least_ten_minutes_unless_configured() {
        let mut config = RedisQueueConfig::new("p:", "c");
        config.claim_idle = Duration::from_secs(30);
        assert_eq!(config.stale_consumer_after(), Duration::from_secs(600));
        config.claim_idle = Duration::from_secs(120);
        assert_eq!(config.stale_consumer_after(), Duration::from_secs(1200));
        config.stale_consumer_after = Some(Duration::from_millis(300));
        assert_eq!(config.stale_consumer_after(), Duration::from_millis(300));
    }
}
