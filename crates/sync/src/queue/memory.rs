//! The in-process job queue for the embedded mode (no Redis): the same semantics as the Redis
//! queue (retries with backoff, dead letters, reclaiming deliveries left unacked), bounded, and
//! coalescing jobs for the same thing that have not been delivered yet. Nothing survives a
//! restart: the sweeper re-enqueues whatever is behind.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{
    DeadLetter, Delivery, Job, JobConsumer, JobKind, JobQueue, QueueDepth, QueueError, RetryOutcome,
};
use scimgate_domain::time::Timestamp;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{
    DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_CLAIM_IDLE, DEFAULT_DEAD_LETTER_CAP,
    DEFAULT_MAX_ATTEMPTS, backoff, bounded_error,
};

/// Default number of jobs held (ready, in flight and waiting for a retry).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Limits and retry policy of a [`MemoryQueue`].
#[derive(Debug, Clone)]
pub struct MemoryQueueConfig {
    /// How many jobs the queue holds (ready, in flight, retrying); enqueueing past it fails
    /// with [`QueueError::Unavailable`].
    pub capacity: usize,
    /// A delivery that fails on this attempt is dead-lettered.
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles per attempt.
    pub backoff_base: Duration,
    /// The longest delay between retries.
    pub backoff_max: Duration,
    /// A delivery not acked for this long is handed out again (its worker died or hung).
    pub claim_idle: Duration,
    /// How many dead letters are kept (the oldest go first).
    pub dead_letter_cap: usize,
}

impl Default for MemoryQueueConfig {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
            claim_idle: DEFAULT_CLAIM_IDLE,
            dead_letter_cap: DEFAULT_DEAD_LETTER_CAP,
        }
    }
}

/// The in-process queue. Cheap to clone: clones share the queue (the SCIM side enqueues, the
/// worker consumes).
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    config: MemoryQueueConfig,
    state: Mutex<State>,
    /// Woken when something becomes available (an enqueue, a retry scheduled, a requeue).
    changed: Notify,
}

type CoalesceKey = (TenantId, JobKind, String);

#[derive(Debug)]
struct Entry {
    job: Job,
    attempt: u32,
}

#[derive(Debug)]
struct InFlight {
    job: Job,
    attempt: u32,
    since: Instant,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    /// Not yet delivered, in order (the key is the receipt it will be delivered under).
    ready: BTreeMap<u64, Entry>,
    /// Ready entries that came from `enqueue`, by what they are about.
    coalesce: HashMap<CoalesceKey, u64>,
    in_flight: HashMap<u64, InFlight>,
    /// Waiting for their retry, by due time.
    retry: BTreeMap<(Instant, u64), Entry>,
    /// Newest last.
    dead: VecDeque<DeadLetter>,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn held(&self) -> usize {
        self.ready.len() + self.in_flight.len() + self.retry.len()
    }

    /// Adds a job with `attempt`, or merges it into a ready entry about the same thing.
    fn push(&mut self, job: Job, attempt: u32, capacity: usize) -> Result<(), QueueError> {
        let key = (job.tenant.clone(), job.kind, job.id.clone());
        if let Some(existing) = self
            .coalesce
            .get(&key)
            .and_then(|id| self.ready.get_mut(id))
        {
            if job.version > existing.job.version {
                // Latency counts from the first write the entry stands for.
                let first = existing.job.enqueued_at_ms;
                existing.job = job;
                existing.job.enqueued_at_ms = match (first, existing.job.enqueued_at_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            existing.attempt = existing.attempt.min(attempt);
            return Ok(());
        }
        if self.held() >= capacity {
            return Err(QueueError::Unavailable(format!(
                "the in-process job queue is full ({capacity} jobs)"
            )));
        }
        let id = self.next_id();
        self.ready.insert(id, Entry { job, attempt });
        self.coalesce.insert(key, id);
        Ok(())
    }

    /// Up to `max` deliveries: deliveries left unacked too long, due retries, then ready jobs.
    fn take(&mut self, max: usize, now: Instant, claim_idle: Duration) -> Vec<Delivery> {
        let mut out = Vec::new();

        let mut idle: Vec<(Instant, u64)> = self
            .in_flight
            .iter()
            .filter(|(_, f)| now.saturating_duration_since(f.since) >= claim_idle)
            .map(|(id, f)| (f.since, *id))
            .collect();
        idle.sort_unstable();
        for (_, id) in idle.into_iter().take(max) {
            if let Some(f) = self.in_flight.get_mut(&id) {
                f.since = now;
                out.push(Delivery {
                    job: f.job.clone(),
                    receipt: id.to_string(),
                    attempt: f.attempt,
                });
            }
        }

        while out.len() < max {
            let Some(entry) = self.retry.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let entry = entry.remove();
            let id = self.next_id();
            out.push(self.deliver(id, entry, now));
        }

        while out.len() < max {
            let Some((id, entry)) = self.ready.pop_first() else {
                break;
            };
            let key = (
                entry.job.tenant.clone(),
                entry.job.kind,
                entry.job.id.clone(),
            );
            if self.coalesce.get(&key) == Some(&id) {
                self.coalesce.remove(&key);
            }
            out.push(self.deliver(id, entry, now));
        }
        out
    }

    fn deliver(&mut self, id: u64, entry: Entry, now: Instant) -> Delivery {
        let delivery = Delivery {
            job: entry.job.clone(),
            receipt: id.to_string(),
            attempt: entry.attempt,
        };
        self.in_flight.insert(
            id,
            InFlight {
                job: entry.job,
                attempt: entry.attempt,
                since: now,
            },
        );
        delivery
    }

    /// When something that is not ready now becomes available by itself.
    fn next_wake(&self, claim_idle: Duration) -> Option<Instant> {
        let retry = self.retry.keys().next().map(|(due, _)| *due);
        let reclaim = self.in_flight.values().map(|f| f.since + claim_idle).min();
        match (retry, reclaim) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl MemoryQueue {
    pub fn new(config: MemoryQueueConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::default()),
                changed: Notify::new(),
            }),
        }
    }

    pub fn config(&self) -> &MemoryQueueConfig {
        &self.inner.config
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn receipt_id(receipt: &str) -> Option<u64> {
    receipt.parse().ok()
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        self.state()
            .push(job.clone(), 1, self.inner.config.capacity)?;
        self.inner.changed.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl JobConsumer for MemoryQueue {
    async fn next_batch(&self, max: usize, block: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + block;
        let claim_idle = self.inner.config.claim_idle;
        loop {
            // Registered before looking, so a change made after the look still wakes us.
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();

            let wake = {
                let mut state = self.state();
                let batch = state.take(max, Instant::now(), claim_idle);
                if !batch.is_empty() {
                    return Ok(batch);
                }
                state.next_wake(claim_idle)
            };
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
            let until = wake.map_or(deadline, |w| w.min(deadline));
            let _ = tokio::time::timeout_at(until, changed).await;
        }
    }

    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        let mut state = self.state();
        for id in deliveries.iter().filter_map(|d| receipt_id(&d.receipt)) {
            state.in_flight.remove(&id);
        }
        Ok(())
    }

    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<RetryOutcome, QueueError> {
        let config = &self.inner.config;
        let attempt = delivery.attempt.max(1);
        let outcome = {
            let mut state = self.state();
            if let Some(id) = receipt_id(&delivery.receipt) {
                state.in_flight.remove(&id);
            }
            if attempt >= config.max_attempts.max(1) {
                let id = state.next_id();
                state.dead.push_back(DeadLetter {
                    id: id.to_string(),
                    job: delivery.job.clone(),
                    error: bounded_error(error),
                    attempts: attempt,
                    failed_at: Timestamp::now(),
                });
                while state.dead.len() > config.dead_letter_cap {
                    state.dead.pop_front();
                }
                RetryOutcome::DeadLettered
            } else {
                let delay = backoff(config.backoff_base, config.backoff_max, attempt);
                let id = state.next_id();
                state.retry.insert(
                    (Instant::now() + delay, id),
                    Entry {
                        job: delivery.job.clone(),
                        attempt: attempt + 1,
                    },
                );
                RetryOutcome::Retrying(delay)
            }
        };
        // A waiting consumer recomputes when to wake up.
        self.inner.changed.notify_waiters();
        Ok(outcome)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let state = self.state();
        Ok(QueueDepth {
            ready: state.ready.len() as u64,
            in_flight: state.in_flight.len() as u64,
            retrying: state.retry.len() as u64,
            dead: state.dead.len() as u64,
        })
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        Ok(self
            .state()
            .dead
            .iter()
            .rev()
            .filter(|d| &d.job.tenant == tenant)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn requeue_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        {
            let mut state = self.state();
            let Some(at) = state
                .dead
                .iter()
                .position(|d| d.id == id && &d.job.tenant == tenant)
            else {
                return Ok(false);
            };
            let job = state.dead[at].job.clone();
            state.push(job, 1, self.inner.config.capacity)?;
            state.dead.remove(at);
        }
        self.inner.changed.notify_waiters();
        Ok(true)
    }

    async fn discard_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError> {
        let mut state = self.state();
        let at = state
            .dead
            .iter()
            .position(|d| d.id == id && &d.job.tenant == tenant);
        Ok(at.and_then(|at| state.dead.remove(at)).is_some())
    }
}
