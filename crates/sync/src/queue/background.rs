//! A producer that never makes the request wait for Redis: the enqueue runs in a background
//! task, at most `max_in_flight` at once, and is skipped for a moment after a failure (the
//! change is durable already; the sweeper picks up whatever was not announced).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use scimgate_domain::jobs::{Job, JobQueue, QueueError};
use tokio::sync::Semaphore;

use super::millis;

/// Wraps a queue whose enqueue may block (Redis down: connect and command timeouts).
pub struct BackgroundQueue {
    inner: Arc<dyn JobQueue>,
    permits: Arc<Semaphore>,
    /// Until when (unix ms) enqueues are skipped after a failure.
    quiet_until: Arc<AtomicI64>,
    quiet_for: Duration,
}

impl std::fmt::Debug for BackgroundQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundQueue")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    scimgate_domain::time::Timestamp::now().millis()
}

impl BackgroundQueue {
    pub fn new(inner: Arc<dyn JobQueue>, max_in_flight: usize, quiet_for: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            quiet_until: Arc::new(AtomicI64::new(0)),
            quiet_for,
        }
    }
}

#[async_trait]
impl JobQueue for BackgroundQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        if now_ms() < self.quiet_until.load(Ordering::Relaxed) {
            return Err(QueueError::Unavailable(
                "the queue failed moments ago; not retrying yet".into(),
            ));
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Err(QueueError::Unavailable(
                "too many enqueues in flight".into(),
            ));
        };
        let (inner, quiet, job) = (self.inner.clone(), self.quiet_until.clone(), job.clone());
        let quiet_ms = millis(self.quiet_for);
        tokio::spawn(async move {
            if let Err(e) = inner.enqueue(&job).await {
                quiet.store(now_ms().saturating_add(quiet_ms), Ordering::Relaxed);
                tracing::warn!(error = %e, tenant = %job.tenant, kind = job.kind.as_str(), "could not enqueue a sync job; the sweeper will pick the change up");
            }
            drop(permit);
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use scimgate_domain::ids::TenantId;
    use scimgate_domain::jobs::JobKind;
    use std::sync::atomic::AtomicUsize;

    struct Slow(Arc<AtomicUsize>, bool);

    #[async_trait]
    impl JobQueue for Slow {
        async fn enqueue(&self, _job: &Job) -> Result<(), QueueError> {
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 {
                Err(QueueError::Unavailable("down".into()))
            } else {
                Ok(())
            }
        }
    }

    fn job() -> Job {
        Job {
            tenant: TenantId::from_raw("t"),
            kind: JobKind::Member,
            id: "m".into(),
            version: 1,
            traceparent: None,
            enqueued_at_ms: None,
        }
    }

    #[tokio::test]
    async fn an_enqueue_returns_at_once_and_lands_in_the_background() {
        let count = Arc::new(AtomicUsize::new(0));
        let q = BackgroundQueue::new(
            Arc::new(Slow(count.clone(), false)),
            4,
            Duration::from_secs(1),
        );
        let started = std::time::Instant::now();
        q.enqueue(&job()).await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(100));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn after_a_failure_enqueues_are_skipped_for_a_moment() {
        let count = Arc::new(AtomicUsize::new(0));
        let q = BackgroundQueue::new(
            Arc::new(Slow(count.clone(), true)),
            4,
            Duration::from_secs(5),
        );
        q.enqueue(&job()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(q.enqueue(&job()).await.is_err());
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
