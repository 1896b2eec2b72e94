//! The job queues behind the domain's `JobQueue` and `JobConsumer` ports: Redis Streams with a
//! consumer group ([`RedisQueue`]) and an in-process queue for the embedded mode
//! ([`MemoryQueue`]). Both retry failed jobs with the same exponential backoff and set a job
//! aside as a dead letter after the configured number of attempts.

mod memory;
mod redis_streams;

use std::time::Duration;

mod background;
pub use background::BackgroundQueue;
pub use memory::{MemoryQueue, MemoryQueueConfig};
pub use redis_streams::{RedisQueue, RedisQueueConfig};

/// Default number of attempts before a job is dead-lettered.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Default delay before the first retry.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Default ceiling of the retry delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);
/// Default time after which an entry delivered and not acked is handed to another consumer.
pub const DEFAULT_CLAIM_IDLE: Duration = Duration::from_secs(30);
/// Default number of dead letters kept.
pub const DEFAULT_DEAD_LETTER_CAP: usize = 10_000;

/// The longest error text kept with a dead letter.
const MAX_ERROR_LEN: usize = 2_000;

/// The delay before retrying a delivery that failed on its `attempt`-th try:
/// `base * 2^(attempt-1)`, capped at `max`, minus up to 10% jitter so that jobs that failed
/// together do not all come back in the same instant.
pub(crate) fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let nominal = base.saturating_mul(factor).min(max);
    // Cheap randomness without another dependency: a v4 UUID is 122 random bits.
    let permille = (uuid::Uuid::new_v4().as_u128() % 1_000) as u32;
    nominal.saturating_sub(nominal * permille / 10_000)
}

/// `d` in whole milliseconds, saturating at `i64::MAX`: Redis arguments and unix-ms clock
/// arithmetic are both `i64`.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `error` cut to a bounded length (on a character boundary).
pub(crate) fn bounded_error(error: &str) -> String {
    if error.len() <= MAX_ERROR_LEN {
        return error.to_owned();
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_per_attempt_and_stops_at_the_ceiling() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for (attempt, nominal_ms) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let d = backoff(base, max, attempt);
            let nominal = Duration::from_millis(nominal_ms);
            assert!(d <= nominal, "attempt {attempt}: {d:?} > {nominal:?}");
            assert!(
                d >= nominal * 9 / 10,
                "attempt {attempt}: {d:?} < 90% of {nominal:?}"
            );
        }
    }

    #[test]
    fn a_long_error_is_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_LEN);
        let cut = bounded_error(&long);
        assert!(cut.len() <= MAX_ERROR_LEN + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(bounded_error("short"), "short");
    }
}
