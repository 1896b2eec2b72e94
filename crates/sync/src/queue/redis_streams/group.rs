//! The consumer group `sync` on the jobs stream: creating it (again, after the stream is lost),
//! claiming the entries a consumer took and never acked, and removing the consumers of workers
//! that went away.

use std::sync::atomic::Ordering;

use redis::RedisError;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId};
use scimgate_domain::jobs::QueueError;

use super::{GROUP, RedisQueue, now_ms};
use crate::queue::millis;

/// How many `XAUTOCLAIM` rounds one `next_batch` makes at most (each scans up to 10 × COUNT
/// pending entries).
const AUTOCLAIM_ROUNDS: usize = 4;
/// At most this many consumers are removed in one pass, so that a pass stays a short script
/// even on a group that collected years of restarts; the rest go in the next passes.
const PRUNE_MAX: usize = 1_000;

/// Removes from the group the consumers that hold no pending entry and have been idle longer
/// than the limit, except the caller, at most a number of them. KEYS: jobs stream. ARGV: group,
/// idle limit (ms), the caller's consumer name, how many at most. Returns how many it removed
/// (0 when the stream or the group does not exist).
///
/// The check and the removal are one script so that nothing runs in between: `XGROUP
/// DELCONSUMER` drops the consumer's pending entries with it, and an entry no consumer holds is
/// never delivered again. A consumer with pending entries is left alone until `XAUTOCLAIM` has
/// handed them to a live one.
const PRUNE_CONSUMERS: &str = r"
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(consumers) ~= 'table' or consumers.err then return 0 end
local limit, max, removed = tonumber(ARGV[2]), tonumber(ARGV[4]), 0
for _, fields in ipairs(consumers) do
  if removed >= max then break end
  local consumer = {}
  for i = 1, #fields, 2 do consumer[fields[i]] = fields[i + 1] end
  if consumer.name ~= ARGV[3] and consumer.pending == 0 and consumer.idle > limit then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], consumer.name)
    removed = removed + 1
  end
end
return removed
";

impl RedisQueue {
    pub(super) async fn create_group(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<(), RedisError> {
        let created: Result<(), RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.inner.jobs)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(e),
        }
        self.inner.group_ready.store(true, Ordering::Release);
        Ok(())
    }

    pub(super) async fn ensure_group(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<(), RedisError> {
        if self.inner.group_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        self.create_group(conn).await
    }

    /// Claims entries left idle by any consumer (a dead one, or this one after a cancelled read).
    pub(super) async fn autoclaim(
        &self,
        conn: &mut ConnectionManager,
        max: usize,
    ) -> Result<Vec<StreamId>, RedisError> {
        let idle_ms = millis(self.inner.config.claim_idle).max(1);
        let mut cursor = "0-0".to_owned();
        let mut claimed = Vec::new();
        for _ in 0..AUTOCLAIM_ROUNDS {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.inner.jobs)
                .arg(GROUP)
                .arg(&self.inner.config.consumer)
                .arg(idle_ms)
                .arg(&cursor)
                .arg("COUNT")
                .arg(max - claimed.len())
                .query_async(conn)
                .await?;
            // Deleted ids (`reply.deleted_ids`) were dropped from the pending list by Redis.
            claimed.extend(reply.claimed);
            cursor = reply.next_stream_id;
            if cursor == "0-0" || claimed.len() >= max {
                break;
            }
        }
        Ok(claimed)
    }

    /// Removes the group's stale consumers (see [`PRUNE_CONSUMERS`]) if a pass is due: on the
    /// first read, then once per [`stale_consumer_after`] (one pass per process at a time, however
    /// many reads run at once). Only an unavailable Redis is an error; anything else is logged and
    /// left for the next pass, since reading must not stop over housekeeping.
    ///
    /// [`stale_consumer_after`]: super::RedisQueueConfig::stale_consumer_after
    pub(super) async fn prune_consumers_if_due(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<(), QueueError> {
        let after = self.inner.config.stale_consumer_after();
        let now = now_ms();
        let due = self.inner.next_prune_ms.load(Ordering::Relaxed);
        let next = now.saturating_add(millis(after));
        if now < due
            || self
                .inner
                .next_prune_ms
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let pruned = self
            .bounded(
                redis::cmd("EVAL")
                    .arg(PRUNE_CONSUMERS)
                    .arg(1)
                    .arg(&self.inner.jobs)
                    .arg(GROUP)
                    .arg(millis(after))
                    .arg(&self.inner.config.consumer)
                    .arg(PRUNE_MAX)
                    .query_async::<i64>(conn),
            )
            .await;
        match pruned.map_err(QueueError::from) {
            Ok(0) => {}
            Ok(removed) => tracing::info!(
                removed,
                stream = %self.inner.jobs,
                "removed idle consumers without pending entries from the consumer group"
            ),
            Err(e @ QueueError::Unavailable(_)) => return Err(e),
            Err(e) => tracing::warn!(
                error = %e,
                stream = %self.inner.jobs,
                "could not remove idle consumers from the consumer group; trying again later"
            ),
        }
        Ok(())
    }
}
