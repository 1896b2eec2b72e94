//! The consumer group `sync` on the jobs stream: creating it (again, after the stream is lost)
//! and claiming the entries a consumer took and never acked.

use std::sync::atomic::Ordering;

use redis::RedisError;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId};

use super::{GROUP, RedisQueue};
use crate::queue::millis;

/// How many `XAUTOCLAIM` rounds one `next_batch` makes at most (each scans up to 10 × COUNT
/// pending entries).
const AUTOCLAIM_ROUNDS: usize = 4;

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
}
