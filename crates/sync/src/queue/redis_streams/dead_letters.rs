//! Dead letters, in the stream `sync:dead`: a job that failed its last attempt is added there
//! (with its error and tenant), and a tenant lists, requeues or discards its own.

use redis::streams::{StreamId, StreamRangeReply};
use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{DeadLetter, Delivery, Job, QueueError};
use scimgate_domain::time::Timestamp;

use super::RedisQueue;
use crate::queue::bounded_error;

/// Page size when scanning the dead-letter stream.
const DEAD_PAGE: usize = 200;

/// Puts a dead letter back on the jobs stream if it belongs to the tenant. KEYS: dead stream,
/// jobs stream. ARGV: entry id, tenant. Returns 1 when requeued, 0 otherwise.
const REQUEUE_DEAD: &str = r"
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entries == 0 then return 0 end
local fields = entries[1][2]
local job, tenant
for i = 1, #fields, 2 do
  if fields[i] == 'job' then job = fields[i + 1] elseif fields[i] == 'tenant' then tenant = fields[i + 1] end
end
if tenant ~= ARGV[2] or not job then return 0 end
redis.call('XADD', KEYS[2], '*', 'job', job, 'attempt', '1')
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
";

/// Deletes a dead letter if it belongs to the tenant. KEYS: dead stream. ARGV: entry id, tenant.
const DISCARD_DEAD: &str = r"
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entries == 0 then return 0 end
local fields = entries[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'tenant' and fields[i + 1] == ARGV[2] then
    return redis.call('XDEL', KEYS[1], ARGV[1])
  end
end
return 0
";

impl RedisQueue {
    /// Adds to `pipe` the dead letter of `delivery` (its job as JSON in `job`), which failed its
    /// last `attempt` with `error`; the stream is trimmed to about the configured cap.
    pub(super) fn add_dead_letter(
        &self,
        pipe: &mut redis::Pipeline,
        delivery: &Delivery,
        job: &str,
        error: &str,
        attempt: u32,
    ) {
        pipe.cmd("XADD")
            .arg(&self.inner.dead)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.inner.config.dead_letter_cap)
            .arg("*")
            .arg("job")
            .arg(job)
            .arg("error")
            .arg(bounded_error(error))
            .arg("attempts")
            .arg(attempt)
            .arg("failed_at")
            .arg(Timestamp::now().millis())
            .arg("tenant")
            .arg(delivery.job.tenant.as_str())
            .ignore();
    }

    /// The newest `limit` dead letters of `tenant`, newest first.
    pub(super) async fn list_dead_letters(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        let mut conn = self.conn().await?;
        let mut end = "+".to_owned();
        // The stream is capped (approximately), so this ends; the bound is a backstop.
        let max_pages = self.inner.config.dead_letter_cap / DEAD_PAGE + 4;
        for _ in 0..max_pages {
            let page: StreamRangeReply = self
                .bounded(
                    redis::cmd("XREVRANGE")
                        .arg(&self.inner.dead)
                        .arg(&end)
                        .arg("-")
                        .arg("COUNT")
                        .arg(DEAD_PAGE)
                        .query_async(&mut conn),
                )
                .await?;
            let full = page.ids.len() == DEAD_PAGE;
            for entry in &page.ids {
                match Self::parse_dead(entry) {
                    Some((owner, letter)) if owner == tenant.as_str() => {
                        found.push(letter);
                        if found.len() >= limit {
                            return Ok(found);
                        }
                    }
                    Some(_) => {}
                    None => tracing::warn!(entry = %entry.id, "skipping an unreadable dead letter"),
                }
            }
            match page.ids.last() {
                Some(last) if full => end = format!("({}", last.id),
                _ => break,
            }
        }
        Ok(found)
    }

    /// Puts the dead letter `id` of `tenant` back on the jobs stream, as a first attempt.
    pub(super) async fn requeue_dead(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<bool, QueueError> {
        let keys = [self.inner.dead.as_str(), self.inner.jobs.as_str()];
        self.dead_script(REQUEUE_DEAD, &keys, tenant, id).await
    }

    /// Deletes the dead letter `id` of `tenant`.
    pub(super) async fn discard_dead(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<bool, QueueError> {
        self.dead_script(DISCARD_DEAD, &[self.inner.dead.as_str()], tenant, id)
            .await
    }

    /// A dead letter entry; `None` if it cannot be read.
    fn parse_dead(entry: &StreamId) -> Option<(String, DeadLetter)> {
        let tenant: String = entry.get("tenant")?;
        let job: String = entry.get("job")?;
        let job: Job = serde_json::from_str(&job).ok()?;
        Some((
            tenant,
            DeadLetter {
                id: entry.id.clone(),
                job,
                error: entry.get("error").unwrap_or_default(),
                attempts: entry.get("attempts").unwrap_or(0),
                failed_at: Timestamp::from_millis(entry.get("failed_at").unwrap_or(0)),
            },
        ))
    }

    /// Runs one of the dead-letter scripts on `keys` for the entry `id` of `tenant`.
    async fn dead_script(
        &self,
        script: &str,
        keys: &[&str],
        tenant: &TenantId,
        id: &str,
    ) -> Result<bool, QueueError> {
        // Anything else is no entry of ours (and would be a range bound or a syntax error).
        if !is_stream_id(id) {
            return Ok(false);
        }
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(keys.len()).arg(keys);
        cmd.arg(id).arg(tenant.as_str());
        let done: i64 = self.bounded(cmd.query_async(&mut conn)).await?;
        Ok(done > 0)
    }
}

/// `ms-seq`, as Redis writes stream entry ids.
fn is_stream_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    matches!(id.split_once('-'), Some((ms, seq)) if digits(ms) && digits(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stream_ids_are_passed_to_redis() {
        assert!(is_stream_id("1796167360675-0"));
        assert!(!is_stream_id("1796167360675"));
        assert!(!is_stream_id("-"));
        assert!(!is_stream_id("+"));
        assert!(!is_stream_id("abc-1"));
        assert!(!is_stream_id("1-2-3"));
        assert!(!is_stream_id(""));
    }
}
