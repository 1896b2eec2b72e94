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
//!
//! Here: the queue itself, producing and consuming. Alongside: `config` (its settings),
//! `connection` (connections, deadlines, errors), `group` (the consumer group), `retry` (the
//! retry set) and `dead_letters` (the dead-letter stream).

mod config;
mod connection;
mod dead_letters;
mod group;
mod retry;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::time::Duration;

use async_trait::async_trait;
use redis::ToRedisArgs;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamId, StreamPendingReply, StreamReadReply};
use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{
    DeadLetter, Delivery, Job, JobConsumer, JobQueue, QueueDepth, QueueError, RetryOutcome,
};
use scimgate_domain::time::Timestamp;
use tokio::sync::{Mutex, OnceCell};
use tokio::time::Instant;

pub use self::config::RedisQueueConfig;
use self::connection::Failure;
use super::millis;

/// The consumer group every worker reads through.
const GROUP: &str = "sync";

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
    /// When (ms since the epoch) the next removal of stale consumers is due; 0 on the first read.
    next_prune_ms: AtomicI64,
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
                next_prune_ms: AtomicI64::new(0),
            }),
        }
    }

    pub fn config(&self) -> &RedisQueueConfig {
        &self.inner.config
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
            cmd.arg("BLOCK").arg(millis(block).max(1));
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
            let mut pipe = redis::pipe();
            pipe.atomic();
            self.ack_and_delete(&mut pipe, &broken);
            self.bounded(pipe.query_async::<()>(conn)).await?;
        }
        Ok(())
    }

    /// Adds to `pipe` the end of the entries `ids`: `XACK` takes them off the group's pending
    /// list and `XDEL` out of the stream (so its length stays what is ready plus in flight).
    fn ack_and_delete<T: ToRedisArgs>(&self, pipe: &mut redis::Pipeline, ids: &[T]) {
        pipe.cmd("XACK")
            .arg(&self.inner.jobs)
            .arg(GROUP)
            .arg(ids)
            .ignore()
            .cmd("XDEL")
            .arg(&self.inner.jobs)
            .arg(ids)
            .ignore();
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
        self.prune_consumers_if_due(&mut conn).await?;
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
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.ack_and_delete(&mut pipe, &ids);
        self.bounded(pipe.query_async::<()>(&mut conn)).await?;
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
            self.add_dead_letter(&mut pipe, delivery, &job, error, attempt);
            RetryOutcome::DeadLettered
        } else {
            RetryOutcome::Retrying(self.add_retry(&mut pipe, delivery, &job, attempt))
        };
        self.ack_and_delete(&mut pipe, std::slice::from_ref(&delivery.receipt));
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
        self.list_dead_letters(tenant, limit).await
    }

    async fn requeue_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        self.requeue_dead(tenant, id).await
    }

    async fn discard_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        self.discard_dead(tenant, id).await
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

fn now_ms() -> i64 {
    Timestamp::now().millis()
}
