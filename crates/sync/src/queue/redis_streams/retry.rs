//! Retries waiting for their time, in the sorted set `sync:retry`: a failed delivery is
//! scheduled there with its backoff, and consumers move the ones that are due back to the
//! jobs stream.

use std::time::Duration;

use redis::RedisError;
use redis::aio::ConnectionManager;
use scimgate_domain::jobs::Delivery;

use super::{RedisQueue, now_ms};
use crate::queue::{backoff, millis};

/// Moves the retries that are due back to the stream. KEYS: retry set, jobs stream. ARGV: now
/// (ms), how many at most. Returns the score of the earliest retry still waiting, or -1.
const MOVE_DUE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local ok, retry = pcall(cjson.decode, member)
  if ok and type(retry) == 'table' and type(retry.job) == 'string' then
    redis.call('XADD', KEYS[2], '*', 'job', retry.job, 'attempt', tostring(retry.attempt or 1))
  end
  redis.call('ZREM', KEYS[1], member)
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #next == 0 then return -1 end
return tonumber(next[2])
";

impl RedisQueue {
    /// Moves due retries to the stream; the time (ms) the next one is due, if any.
    pub(super) async fn move_due(
        &self,
        conn: &mut ConnectionManager,
        max: usize,
    ) -> Result<Option<i64>, RedisError> {
        let next: i64 = redis::cmd("EVAL")
            .arg(MOVE_DUE)
            .arg(2)
            .arg(&self.inner.retry)
            .arg(&self.inner.jobs)
            .arg(now_ms())
            .arg(max)
            .query_async(conn)
            .await?;
        Ok((next >= 0).then_some(next))
    }

    /// Adds to `pipe` the retry of `delivery` (its job as JSON in `job`) after its failed
    /// `attempt`, due once the backoff has passed, and returns that backoff.
    pub(super) fn add_retry(
        &self,
        pipe: &mut redis::Pipeline,
        delivery: &Delivery,
        job: &str,
        attempt: u32,
    ) -> Duration {
        let config = &self.inner.config;
        let delay = backoff(config.backoff_base, config.backoff_max, attempt);
        let member = serde_json::json!({
            "job": job,
            "attempt": attempt + 1,
            "receipt": delivery.receipt,
        })
        .to_string();
        let due = now_ms().saturating_add(millis(delay));
        pipe.cmd("ZADD")
            .arg(&self.inner.retry)
            .arg(due)
            .arg(member)
            .ignore();
        delay
    }
}
