//! When to try a failed delivery again: the spec's schedule ([`retry_schedule`]) and
//! [`RetryPolicy`], which adds jitter and honours (within bounds) an endpoint's `Retry-After`.

use std::time::Duration;

use aws_lc_rs::rand;

#[cfg(doc)]
use super::DeliveryOutcome;

/// The spec's example schedule: the delays before attempts 2 to 10 (attempt 1 is immediate).
/// Ten attempts over a little more than three days, so an endpoint down for a weekend still
/// gets its events.
const STANDARD_DELAYS: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// The spec's recommended schedule, without jitter: the delay before attempt `attempt + 1`,
/// given that `attempt` attempts have been made (`0` gives zero: the first attempt is
/// immediate), or `None` once all ten attempts are spent. It is [`RetryPolicy::standard`]'s
/// [`RetryPolicy::delay`].
pub fn retry_schedule(attempt: u32) -> Option<Duration> {
    schedule_delay(&STANDARD_DELAYS, attempt)
}

fn schedule_delay(delays: &[Duration], attempt: u32) -> Option<Duration> {
    match attempt {
        0 => Some(Duration::ZERO),
        n => delays.get(usize::try_from(n - 1).ok()?).copied(),
    }
}

/// When to retry a failed delivery, and when to give up.
///
/// A policy is a list of delays: entry `n - 1` is the wait after the `n`th failed attempt, so a
/// list of `k` delays allows `k + 1` attempts. [`RetryPolicy::standard`] is the spec's schedule
/// with jitter; tests build short ones with [`RetryPolicy::from_delays`] or
/// [`RetryPolicy::exponential`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
    jitter_percent: u32,
}

impl RetryPolicy {
    /// The spec's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; ten attempts)
    /// with up to 10 % added jitter, as the spec recommends, so that endpoints that failed
    /// together (an outage) are not hit together again.
    pub fn standard() -> Self {
        Self {
            delays: STANDARD_DELAYS.to_vec(),
            jitter_percent: 10,
        }
    }

    /// A schedule of exactly these delays, without jitter.
    pub fn from_delays(delays: impl Into<Vec<Duration>>) -> Self {
        Self {
            delays: delays.into(),
            jitter_percent: 0,
        }
    }

    /// `max_attempts` attempts with delays `base`, `base * factor`, `base * factor²`, …
    /// (saturating), without jitter. `max_attempts` of 0 or 1 means no retry at all.
    pub fn exponential(base: Duration, factor: u32, max_attempts: u32) -> Self {
        let delays = std::iter::successors(Some(base), |d| Some(d.saturating_mul(factor)))
            .take(usize::try_from(max_attempts.saturating_sub(1)).unwrap_or(usize::MAX))
            .collect::<Vec<_>>();
        Self::from_delays(delays)
    }

    /// The same schedule with up to `percent` % of each delay added at random (never removed,
    /// so a `Retry-After` floor still holds). Capped at 100.
    pub fn with_jitter(mut self, percent: u32) -> Self {
        self.jitter_percent = percent.min(100);
        self
    }

    /// How many attempts the policy allows in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The scheduled delay before attempt `attempt + 1` after `attempt` attempts (zero for
    /// `0`), without jitter or `Retry-After`; `None` when no attempt is left.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        schedule_delay(&self.delays, attempt)
    }

    /// The wait after failed attempt `attempt` (1-based), or `None` to give up.
    ///
    /// `retry_after` is the endpoint's request ([`DeliveryOutcome::Retry::retry_after`]): the
    /// wait is at least that, and at least the schedule's, but an endpoint cannot push a retry
    /// past the policy's longest delay (it could otherwise park a message for ever). Jitter is
    /// then added on top.
    pub fn next_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let scheduled = self.delay(attempt)?;
        let longest = self.delays.iter().copied().max().unwrap_or_default();
        let wait = match retry_after {
            Some(asked) => scheduled.max(asked.min(longest)),
            None => scheduled,
        };
        Some(wait.saturating_add(self.jitter(wait)))
    }

    /// A random extra of up to `jitter_percent` % of `delay` (none if the generator fails: a
    /// retry a little less spread out beats no retry).
    fn jitter(&self, delay: Duration) -> Duration {
        if self.jitter_percent == 0 || delay.is_zero() {
            return Duration::ZERO;
        }
        let mut random = [0u8; 8];
        if rand::fill(&mut random).is_err() {
            return Duration::ZERO;
        }
        // span × random / 2⁶⁴: a uniform fraction of the span, in integers.
        let span = delay
            .as_nanos()
            .saturating_mul(u128::from(self.jitter_percent))
            / 100;
        let extra = span
            .checked_mul(u128::from(u64::from_le_bytes(random)))
            .map_or(span, |product| product >> 64);
        Duration::from_nanos(u64::try_from(extra).unwrap_or(u64::MAX))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn jitter_only_adds_and_stays_within_the_percentage() {
        let policy = RetryPolicy::from_delays([Duration::from_secs(100)]).with_jitter(10);
        for _ in 0..200 {
            let d = policy.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(100) && d <= Duration::from_secs(110),
                "{d:?}"
            );
        }
    }
}
