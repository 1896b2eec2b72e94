//! The job queue on Redis Streams (DESIGN "Change flow").
//!
//! Keys, under the configured prefix:
//! - `sync:jobs`: a stream, read by the consumer group `sync`. Every entry has the fields `job`
//!   (the job as JSON) and `attempt`. Acked entries are deleted, so its length is what is ready
//!   plus what is in flight.
//! - `sync:retry`: a sorted set of failed deliveries waiting for their retry; the score is the
//!   time (ms since the epoch) they are due, the member a JSON object `{job, attempt, receipt}`.
//! - `sync:dead`: a stream of dead letters (`job`, `error`, `attempts`, `failed_at`, `tenant`),
//!   trimmed to about the configured cap.
//!
//! Ordinary commands share one [`ConnectionManager`] (which reconnects by itself); the blocking
//! `XREADGROUP` has a dedicated connection of its own, because a blocked command holds up every
//! other command queued on the same connection.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{
    StreamAutoClaimReply, StreamId, StreamPendingReply, StreamRangeReply, StreamReadReply,
};
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind};
use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{
    DeadLetter, Delivery, Job, JobConsumer, JobQueue, QueueDepth, QueueError, RetryOutcome,
};
use scimgate_domain::time::Timestamp;
use tokio::sync::{Mutex, OnceCell};
use tokio::time::Instant;

use super::{
    DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_CLAIM_IDLE, DEFAULT_DEAD_LETTER_CAP,
    DEFAULT_MAX_ATTEMPTS, backoff, bounded_error,
};

/// The consumer group every worker reads through.
const GROUP: &str = "sync";
/// How many `XAUTOCLAIM` rounds one `next_batch` makes at most (each scans up to 10 × COUNT
/// pending entries).
const AUTOCLAIM_ROUNDS: usize = 4;
/// Page size when scanning the dead-letter stream.
const DEAD_PAGE: usize = 200;

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
        }
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

/// The job queue on Redis Streams. Cheap to clone; connects on first use.
#[derive(Clone)]
pub struct RedisQueue {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    config: RedisQueueConfig,
    jobs: String,
    retry: String,
    dead: String,
    /// Ordinary commands (built on first use: it spawns a task, so it needs the runtime).
    manager: OnceCell<ConnectionManager>,
    /// The blocking read's own connection; `None` until first use and after an error.
    reader: Mutex<Option<MultiplexedConnection>>,
    /// The consumer group is known to exist.
    group_ready: AtomicBool,
}

impl fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("jobs", &self.inner.jobs)
            .field("consumer", &self.inner.config.consumer)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// A queue on `client`'s server. Nothing connects until the first call.
    pub fn new(client: redis::Client, config: RedisQueueConfig) -> Self {
        let jobs = format!("{}sync:jobs", config.prefix);
        let retry = format!("{}sync:retry", config.prefix);
        let dead = format!("{}sync:dead", config.prefix);
        Self {
            inner: Arc::new(Inner {
                client,
                config,
                jobs,
                retry,
                dead,
                manager: OnceCell::new(),
                reader: Mutex::new(None),
                group_ready: AtomicBool::new(false),
            }),
        }
    }

    pub fn config(&self) -> &RedisQueueConfig {
        &self.inner.config
    }

    fn timeout(&self) -> Duration {
        self.inner.config.command_timeout
    }

    /// The shared connection for ordinary commands.
    async fn conn(&self) -> Result<ConnectionManager, QueueError> {
        let timeout = self.timeout();
        let client = self.inner.client.clone();
        self.inner
            .manager
            .get_or_try_init(|| async move {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(100))
                    .set_max_delay(Duration::from_secs(1));
                ConnectionManager::new_lazy_with_config(client, config)
            })
            .await
            .cloned()
            .map_err(map_err)
    }

    /// Runs `fut` (a few commands on the shared connection) with an overall deadline, as a
    /// backstop to the per-command timeouts.
    async fn bounded<T>(
        &self,
        fut: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, Failure> {
        let limit = self.timeout() * 3 + Duration::from_secs(1);
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => result.map_err(Failure::Redis),
            Err(_) => Err(Failure::Queue(QueueError::Unavailable(format!(
                "Redis did not answer within {limit:?}"
            )))),
        }
    }

    async fn create_group(&self, conn: &mut ConnectionManager) -> Result<(), RedisError> {
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

    async fn ensure_group(&self, conn: &mut ConnectionManager) -> Result<(), RedisError> {
        if self.inner.group_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        self.create_group(conn).await
    }

    /// Moves due retries to the stream; the time (ms) the next one is due, if any.
    async fn move_due(
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

    /// Claims entries left idle by any consumer (a dead one, or this one after a cancelled read).
    async fn autoclaim(
        &self,
        conn: &mut ConnectionManager,
        max: usize,
    ) -> Result<Vec<StreamId>, RedisError> {
        let idle_ms = self.inner.config.claim_idle.as_millis().max(1);
        let mut cursor = "0-0".to_owned();
        let mut claimed = Vec::new();
        for _ in 0..AUTOCLAIM_ROUNDS {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.inner.jobs)
                .arg(GROUP)
                .arg(&self.inner.config.consumer)
                .arg(idle_ms.to_string())
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

    /// New entries: without blocking on the shared connection when `block` is zero, else on
    /// the dedicated connection.
    async fn read_new(&self, count: usize, block: Duration) -> Result<Vec<StreamId>, Failure> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(&self.inner.config.consumer)
            .arg("COUNT")
            .arg(count);
        if !block.is_zero() {
            cmd.arg("BLOCK").arg(block.as_millis().max(1).to_string());
        }
        cmd.arg("STREAMS").arg(&self.inner.jobs).arg(">");

        if block.is_zero() {
            let mut conn = self.conn().await?;
            let reply: Option<StreamReadReply> = self.bounded(cmd.query_async(&mut conn)).await?;
            return Ok(entries(reply));
        }

        // The connection is taken out while the read runs and put back only after a clean
        // answer: if this future is dropped mid-read, the connection goes with it (so nothing
        // queues behind a read nobody waits for), and after an error the next call reconnects.
        let mut slot = self.inner.reader.lock().await;
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => self.connect_reader().await?,
        };
        let limit = block + self.timeout();
        match tokio::time::timeout(limit, cmd.query_async::<Option<StreamReadReply>>(&mut conn))
            .await
        {
            Ok(Ok(reply)) => {
                *slot = Some(conn);
                Ok(entries(reply))
            }
            Ok(Err(e)) => {
                // A server error (NOGROUP, …) leaves the connection usable.
                if e.code().is_some() && !e.is_io_error() {
                    *slot = Some(conn);
                }
                Err(Failure::Redis(e))
            }
            Err(_) => Err(Failure::Queue(QueueError::Unavailable(format!(
                "Redis did not answer a blocking read within {limit:?}"
            )))),
        }
    }

    async fn connect_reader(&self) -> Result<MultiplexedConnection, QueueError> {
        // No response timeout on this connection: the read is bounded by `read_new` instead,
        // so it can block longer than the command timeout.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout()))
            .set_response_timeout(None);
        let limit = self.timeout() + Duration::from_secs(1);
        match tokio::time::timeout(
            limit,
            self.inner
                .client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        {
            Ok(conn) => conn.map_err(map_err),
            Err(_) => Err(QueueError::Unavailable(format!(
                "cannot connect to Redis within {limit:?}"
            ))),
        }
    }

    /// Turns stream entries into deliveries; entries that cannot be read are logged and removed
    /// (a job is only a hint: the sweeper re-enqueues whatever they stood for).
    async fn deliveries(
        &self,
        conn: &mut ConnectionManager,
        ids: Vec<StreamId>,
        out: &mut Vec<Delivery>,
    ) -> Result<(), Failure> {
        let mut broken = Vec::new();
        for entry in ids {
            match parse_delivery(&entry) {
                Some(delivery) => out.push(delivery),
                None => {
                    tracing::warn!(entry = %entry.id, stream = %self.inner.jobs, "dropping an unreadable sync job entry");
                    broken.push(entry.id);
                }
            }
        }
        if !broken.is_empty() {
            self.bounded(
                redis::pipe()
                    .atomic()
                    .cmd("XACK")
                    .arg(&self.inner.jobs)
                    .arg(GROUP)
                    .arg(&broken)
                    .ignore()
                    .cmd("XDEL")
                    .arg(&self.inner.jobs)
                    .arg(&broken)
                    .ignore()
                    .query_async::<()>(conn),
            )
            .await?;
        }
        Ok(())
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

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        let json = to_json(job)?;
        let mut conn = self.conn().await?;
        self.bounded(
            redis::cmd("XADD")
                .arg(&self.inner.jobs)
                .arg("*")
                .arg("job")
                .arg(json)
                .arg("attempt")
                .arg(1)
                .query_async::<String>(&mut conn),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl JobConsumer for RedisQueue {
    async fn next_batch(&self, max: usize, block: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + block;
        let mut conn = self.conn().await?;
        self.bounded(self.ensure_group(&mut conn)).await?;
        let mut out = Vec::new();
        loop {
            // 1. Retries that are due go back to the stream (where step 3 reads them).
            let next_retry = self.bounded(self.move_due(&mut conn, max)).await?;

            // 2. Entries some consumer took and never acked.
            let claimed = match self.bounded(self.autoclaim(&mut conn, max)).await {
                Err(e) if e.is_nogroup() => {
                    // The stream is gone (a Redis restart, or deleted): recreate the group.
                    self.bounded(self.create_group(&mut conn)).await?;
                    self.bounded(self.autoclaim(&mut conn, max)).await?
                }
                other => other?,
            };
            self.deliveries(&mut conn, claimed, &mut out).await?;
            if out.len() >= max {
                return Ok(out);
            }

            // 3. New entries; wait only if there is nothing at all, and not past the next retry.
            let now = Instant::now();
            let mut wait = if out.is_empty() {
                deadline.saturating_duration_since(now)
            } else {
                Duration::ZERO
            };
            if let Some(due) = next_retry {
                let until_due = u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0);
                wait = wait.min(Duration::from_millis(until_due.max(1)));
            }
            let want = max - out.len();
            let fresh = match self.read_new(want, wait).await {
                Err(e) if e.is_nogroup() => {
                    self.bounded(self.create_group(&mut conn)).await?;
                    self.read_new(want, wait).await?
                }
                other => other?,
            };
            self.deliveries(&mut conn, fresh, &mut out).await?;
            if !out.is_empty() || Instant::now() >= deadline {
                return Ok(out);
            }
        }
    }

    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = deliveries.iter().map(|d| d.receipt.as_str()).collect();
        let mut conn = self.conn().await?;
        self.bounded(
            redis::pipe()
                .atomic()
                .cmd("XACK")
                .arg(&self.inner.jobs)
                .arg(GROUP)
                .arg(&ids)
                .ignore()
                .cmd("XDEL")
                .arg(&self.inner.jobs)
                .arg(&ids)
                .ignore()
                .query_async::<()>(&mut conn),
        )
        .await?;
        Ok(())
    }

    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<RetryOutcome, QueueError> {
        let attempt = delivery.attempt.max(1);
        let job = to_json(&delivery.job)?;
        let mut pipe = redis::pipe();
        // One transaction, with the new home of the job first: it is never lost, and at worst
        // (a failure after the transaction) it is retried twice.
        pipe.atomic();
        let outcome = if attempt >= self.inner.config.max_attempts.max(1) {
            pipe.cmd("XADD")
                .arg(&self.inner.dead)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.inner.config.dead_letter_cap)
                .arg("*")
                .arg("job")
                .arg(&job)
                .arg("error")
                .arg(bounded_error(error))
                .arg("attempts")
                .arg(attempt)
                .arg("failed_at")
                .arg(Timestamp::now().millis())
                .arg("tenant")
                .arg(delivery.job.tenant.as_str())
                .ignore();
            RetryOutcome::DeadLettered
        } else {
            let config = &self.inner.config;
            let delay = backoff(config.backoff_base, config.backoff_max, attempt);
            let member = serde_json::json!({
                "job": job,
                "attempt": attempt + 1,
                "receipt": delivery.receipt,
            })
            .to_string();
            let due = now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            pipe.cmd("ZADD")
                .arg(&self.inner.retry)
                .arg(due)
                .arg(member)
                .ignore();
            RetryOutcome::Retrying(delay)
        };
        pipe.cmd("XACK")
            .arg(&self.inner.jobs)
            .arg(GROUP)
            .arg(&delivery.receipt)
            .ignore()
            .cmd("XDEL")
            .arg(&self.inner.jobs)
            .arg(&delivery.receipt)
            .ignore();
        let mut conn = self.conn().await?;
        self.bounded(pipe.query_async::<()>(&mut conn)).await?;
        Ok(outcome)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let mut conn = self.conn().await?;
        let (length, retrying, dead): (u64, u64, u64) = self
            .bounded(
                redis::pipe()
                    .cmd("XLEN")
                    .arg(&self.inner.jobs)
                    .cmd("ZCARD")
                    .arg(&self.inner.retry)
                    .cmd("XLEN")
                    .arg(&self.inner.dead)
                    .query_async(&mut conn),
            )
            .await?;
        let pending = self
            .bounded(
                redis::cmd("XPENDING")
                    .arg(&self.inner.jobs)
                    .arg(GROUP)
                    .query_async::<StreamPendingReply>(&mut conn),
            )
            .await;
        let in_flight = match pending {
            Ok(reply) => reply.count() as u64,
            // No group yet (or any more): nothing was delivered.
            Err(e) if e.is_nogroup() => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(QueueDepth {
            ready: length.saturating_sub(in_flight),
            in_flight,
            retrying,
            dead,
        })
    }

    async fn dead_letters(
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

    async fn requeue_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        let keys = [self.inner.dead.as_str(), self.inner.jobs.as_str()];
        self.dead_script(REQUEUE_DEAD, &keys, tenant, id).await
    }

    async fn discard_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        self.dead_script(DISCARD_DEAD, &[self.inner.dead.as_str()], tenant, id)
            .await
    }
}

/// What went wrong inside the queue: the Redis error is kept so that NOGROUP can be told apart.
#[derive(Debug)]
enum Failure {
    Redis(RedisError),
    Queue(QueueError),
}

impl Failure {
    /// The stream or its consumer group is gone (a Redis restart, the key deleted): NOGROUP,
    /// or UNBLOCKED for a read that was waiting on it.
    fn is_nogroup(&self) -> bool {
        matches!(self, Self::Redis(e) if matches!(e.code(), Some("NOGROUP" | "UNBLOCKED")))
    }
}

impl From<QueueError> for Failure {
    fn from(e: QueueError) -> Self {
        Self::Queue(e)
    }
}

impl From<Failure> for QueueError {
    fn from(e: Failure) -> Self {
        match e {
            Failure::Redis(e) => map_err(e),
            Failure::Queue(e) => e,
        }
    }
}

fn entries(reply: Option<StreamReadReply>) -> Vec<StreamId> {
    reply
        .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
        .unwrap_or_default()
}

fn parse_delivery(entry: &StreamId) -> Option<Delivery> {
    let job: String = entry.get("job")?;
    let job: Job = serde_json::from_str(&job).ok()?;
    Some(Delivery {
        job,
        receipt: entry.id.clone(),
        attempt: entry.get("attempt").unwrap_or(1).max(1),
    })
}

fn to_json(job: &Job) -> Result<String, QueueError> {
    serde_json::to_string(job).map_err(|e| QueueError::Backend(format!("cannot encode a job: {e}")))
}

/// `ms-seq`, as Redis writes stream entry ids.
fn is_stream_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    matches!(id.split_once('-'), Some((ms, seq)) if digits(ms) && digits(seq))
}

fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// Connection trouble is `Unavailable` (retry later); anything else is `Backend`.
fn map_err(e: RedisError) -> QueueError {
    let unavailable = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if unavailable {
        QueueError::Unavailable(format!("Redis: {e}"))
    } else {
        QueueError::Backend(format!("Redis: {e}"))
    }
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
