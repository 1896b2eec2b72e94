//! The job queues' behaviour, against the real Redis (`SCIMGATE_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`) and in process. Behaviour both queues share is written once, generic
//! over a [`Backend`], and run for each. Every Redis test works under a random key prefix and
//! deletes its keys when it ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use redis::ConnectionAddr;
use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{
    Delivery, Job, JobConsumer, JobKind, JobQueue, QueueDepth, QueueError, RetryOutcome,
};
use scimgate_sync::queue::{MemoryQueue, MemoryQueueConfig, RedisQueue, RedisQueueConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// Harness

/// What a test tunes; everything else is the default.
#[derive(Debug, Clone, Copy)]
struct Settings {
    max_attempts: u32,
    backoff: Duration,
    claim_idle: Duration,
    dead_letter_cap: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Duration::from_millis(40),
            claim_idle: Duration::from_secs(30),
            dead_letter_cap: 100,
        }
    }
}

/// One queue under test, seen by any number of consumers.
trait Backend: Sized + Send + Sync {
    type Queue: JobQueue + JobConsumer + Clone + Send + Sync + 'static;
    async fn start(settings: Settings) -> Self;
    /// A consumer on the same queue (a separate process's worker, for Redis).
    fn consumer(&self, name: &str) -> Self::Queue;
}

fn redis_url() -> String {
    std::env::var("SCIMGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A Redis queue under a fresh prefix; its keys are deleted on drop (also when a test fails).
struct RedisBackend {
    client: redis::Client,
    prefix: String,
    settings: Settings,
}

impl RedisBackend {
    fn config(&self, name: &str) -> RedisQueueConfig {
        let mut config = RedisQueueConfig::new(self.prefix.clone(), name);
        config.max_attempts = self.settings.max_attempts;
        config.backoff_base = self.settings.backoff;
        config.backoff_max = Duration::from_secs(2);
        config.claim_idle = self.settings.claim_idle;
        config.dead_letter_cap = self.settings.dead_letter_cap;
        config
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    async fn raw(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .expect("a direct connection to the test Redis")
    }
}

impl Backend for RedisBackend {
    type Queue = RedisQueue;

    async fn start(settings: Settings) -> Self {
        let url = redis_url();
        let need = |e: &dyn std::fmt::Display| -> ! {
            panic!(
                "these tests need a Redis server at {url} (set SCIMGATE_TEST_REDIS_URL to use \
                 another): {e}"
            )
        };
        let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| need(&e));
        let ping = async {
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        };
        match tokio::time::timeout(Duration::from_secs(3), ping).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => need(&e),
            Err(e) => need(&e),
        }
        Self {
            client,
            prefix: format!("scimgate-test:{}:", uuid::Uuid::new_v4()),
            settings,
        }
    }

    fn consumer(&self, name: &str) -> RedisQueue {
        RedisQueue::new(self.client.clone(), self.config(name))
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        let Ok(mut conn) = self
            .client
            .get_connection_with_timeout(Duration::from_secs(2))
        else {
            return;
        };
        let mut cursor: u64 = 0;
        loop {
            let Ok((next, keys)): Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

/// The in-process queue; consumers are clones of one queue.
struct MemoryBackend {
    queue: MemoryQueue,
}

impl MemoryBackend {
    fn config(settings: Settings) -> MemoryQueueConfig {
        MemoryQueueConfig {
            max_attempts: settings.max_attempts,
            backoff_base: settings.backoff,
            backoff_max: Duration::from_secs(2),
            claim_idle: settings.claim_idle,
            dead_letter_cap: settings.dead_letter_cap,
            ..MemoryQueueConfig::default()
        }
    }
}

impl Backend for MemoryBackend {
    type Queue = MemoryQueue;

    async fn start(settings: Settings) -> Self {
        Self {
            queue: MemoryQueue::new(Self::config(settings)),
        }
    }

    fn consumer(&self, _name: &str) -> MemoryQueue {
        self.queue.clone()
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::from_raw(name)
}

fn job(tenant_name: &str, kind: JobKind, id: &str, version: i64) -> Job {
    Job {
        tenant: tenant(tenant_name),
        kind,
        id: id.to_owned(),
        version,
        traceparent: None,
        enqueued_at_ms: None,
    }
}

fn member(id: &str) -> Job {
    job("tenant-a", JobKind::Member, id, 1)
}

const SHORT: Duration = Duration::from_millis(100);
const LONG: Duration = Duration::from_secs(2);

/// Waits (up to 5 s) for a non-empty batch.
async fn next_nonempty<Q: JobConsumer>(q: &Q, max: usize) -> Vec<Delivery> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let batch = q.next_batch(max, LONG).await.expect("next_batch");
        if !batch.is_empty() {
            return batch;
        }
        assert!(Instant::now() < until, "nothing was delivered within 5 s");
    }
}

// ---------------------------------------------------------------------------------------------
// Behaviour shared by both queues

async fn an_enqueued_job_is_delivered_once_and_acking_it_leaves_nothing_behind<B: Backend>() {
    let backend = B::start(Settings::default()).await;
    let q = backend.consumer("worker-1");
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());

    let sent = Job {
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        enqueued_at_ms: None,
        ..job("tenant-a", JobKind::Group, "g1", 7)
    };
    q.enqueue(&sent).await.unwrap();
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            ready: 1,
            ..QueueDepth::default()
        }
    );

    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, sent);
    assert_eq!(batch[0].attempt, 1);
    assert!(!batch[0].receipt.is_empty());
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            in_flight: 1,
            ..QueueDepth::default()
        }
    );
    assert!(
        q.next_batch(10, SHORT).await.unwrap().is_empty(),
        "delivered twice"
    );

    q.ack(&batch).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    assert!(q.next_batch(10, SHORT).await.unwrap().is_empty());
}

async fn next_batch_hands_out_at_most_max_deliveries_in_the_order_they_were_enqueued<B: Backend>() {
    let backend = B::start(Settings::default()).await;
    let q = backend.consumer("worker-1");
    for i in 0..5 {
        q.enqueue(&member(&format!("m{i}"))).await.unwrap();
    }
    let first = q.next_batch(3, LONG).await.unwrap();
    let second = q.next_batch(3, LONG).await.unwrap();
    let ids = |b: &[Delivery]| b.iter().map(|d| d.job.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["m0", "m1", "m2"]);
    assert_eq!(ids(&second), ["m3", "m4"]);
    assert!(q.next_batch(0, SHORT).await.unwrap().is_empty());
    q.ack(&first).await.unwrap();
    q.ack(&second).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn next_batch_waits_for_block_when_there_is_nothing_and_no_longer<B: Backend>() {
    let backend = B::start(Settings::default()).await;
    let q = backend.consumer("worker-1");
    let started = Instant::now();
    let batch = q.next_batch(10, Duration::from_millis(300)).await.unwrap();
    let waited = started.elapsed();
    assert!(batch.is_empty());
    assert!(
        waited >= Duration::from_millis(280),
        "returned after {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(1500),
        "returned after {waited:?}"
    );
}

async fn a_job_enqueued_while_a_consumer_waits_is_delivered_before_the_wait_ends<B: Backend>() {
    let backend = B::start(Settings::default()).await;
    let consumer = backend.consumer("worker-1");
    let producer = backend.consumer("producer");
    // The consumer group exists before anyone waits on it (as in production after the first
    // poll); a job enqueued before the group exists is delivered too (see the NOGROUP test).
    assert!(
        consumer
            .next_batch(1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );

    let waiting = tokio::spawn({
        let consumer = consumer.clone();
        async move {
            let started = Instant::now();
            let batch = consumer.next_batch(10, Duration::from_secs(10)).await;
            (batch, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    producer.enqueue(&member("m1")).await.unwrap();
    let (batch, waited) = waiting.await.unwrap();
    let batch = batch.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("m1"));
    assert!(waited < Duration::from_secs(3), "woke up after {waited:?}");
    consumer.ack(&batch).await.unwrap();
}

async fn two_consumers_never_receive_the_same_entry<B: Backend>() {
    let backend = B::start(Settings::default()).await;
    let a = backend.consumer("worker-a");
    let b = backend.consumer("worker-b");
    const JOBS: usize = 60;
    for i in 0..JOBS {
        a.enqueue(&member(&format!("m{i}"))).await.unwrap();
    }
    let drain = |q: B::Queue| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = q.next_batch(4, Duration::from_millis(300)).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                q.ack(&batch).await.unwrap();
                got.extend(batch);
                tokio::task::yield_now().await;
            }
        })
    };
    let (from_a, from_b) = (drain(a.clone()), drain(b.clone()));
    let (from_a, from_b) = (from_a.await.unwrap(), from_b.await.unwrap());

    let receipts_a: HashSet<_> = from_a.iter().map(|d| d.receipt.clone()).collect();
    let receipts_b: HashSet<_> = from_b.iter().map(|d| d.receipt.clone()).collect();
    assert!(
        receipts_a.is_disjoint(&receipts_b),
        "both consumers got {:?}",
        receipts_a.intersection(&receipts_b).collect::<Vec<_>>()
    );
    let ids: HashSet<_> = from_a
        .iter()
        .chain(&from_b)
        .map(|d| d.job.id.clone())
        .collect();
    assert_eq!(
        from_a.len() + from_b.len(),
        JOBS,
        "some job was delivered twice or not at all"
    );
    assert_eq!(ids.len(), JOBS);
    assert_eq!(a.depth().await.unwrap(), QueueDepth::default());
}

async fn an_entry_that_is_never_acked_is_reclaimed_by_another_consumer_after_claim_idle<
    B: Backend,
>() {
    let backend = B::start(Settings {
        claim_idle: Duration::from_millis(200),
        ..Settings::default()
    })
    .await;
    let crashed = backend.consumer("worker-crashed");
    let survivor = backend.consumer("worker-survivor");
    crashed.enqueue(&member("m1")).await.unwrap();

    let taken = crashed.next_batch(10, LONG).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(
        survivor
            .next_batch(10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "reclaimed before claim_idle"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let reclaimed = survivor.next_batch(10, LONG).await.unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].job, member("m1"));
    assert_eq!(reclaimed[0].receipt, taken[0].receipt);
    assert_eq!(reclaimed[0].attempt, 1);

    survivor.ack(&reclaimed).await.unwrap();
    assert_eq!(survivor.depth().await.unwrap(), QueueDepth::default());
    assert!(crashed.next_batch(10, SHORT).await.unwrap().is_empty());
}

async fn a_failed_job_comes_back_after_its_backoff_and_is_dead_lettered_after_max_attempts<
    B: Backend,
>() {
    let backoff = Duration::from_millis(60);
    let backend = B::start(Settings {
        max_attempts: 3,
        backoff,
        ..Settings::default()
    })
    .await;
    let q = backend.consumer("worker-1");
    let sent = member("m1");
    q.enqueue(&sent).await.unwrap();

    let mut delivery = q.next_batch(10, LONG).await.unwrap().remove(0);
    for attempt in 1..=2u32 {
        assert_eq!(delivery.attempt, attempt);
        assert_eq!(delivery.job, sent);
        let failed_at = Instant::now();
        let outcome = q.fail(&delivery, &format!("boom {attempt}")).await.unwrap();
        let nominal = backoff * 2u32.pow(attempt - 1);
        let RetryOutcome::Retrying(delay) = outcome else {
            panic!("attempt {attempt}: {outcome:?}, expected a retry");
        };
        assert!(
            delay <= nominal && delay >= nominal * 9 / 10,
            "attempt {attempt}: delay {delay:?}, nominal {nominal:?}"
        );
        assert_eq!(
            q.depth().await.unwrap(),
            QueueDepth {
                retrying: 1,
                ..QueueDepth::default()
            }
        );

        let batch = next_nonempty(&q, 10).await;
        let waited = failed_at.elapsed();
        assert!(
            waited + Duration::from_millis(2) >= delay,
            "attempt {attempt}: redelivered after {waited:?}, before its delay {delay:?}"
        );
        assert!(
            waited < delay + Duration::from_secs(1),
            "redelivered after {waited:?}"
        );
        assert_eq!(batch.len(), 1);
        delivery = batch.into_iter().next().unwrap();
    }

    assert_eq!(delivery.attempt, 3);
    assert_eq!(
        q.fail(&delivery, "boom 3").await.unwrap(),
        RetryOutcome::DeadLettered
    );
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            dead: 1,
            ..QueueDepth::default()
        }
    );
    assert!(
        q.next_batch(10, Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );

    let dead = q.dead_letters(&sent.tenant, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job, sent);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].error, "boom 3");
    let age = scimgate_domain::time::Timestamp::now().millis() - dead[0].failed_at.millis();
    assert!((0..10_000).contains(&age), "failed_at is {age} ms ago");
}

async fn dead_letters_are_listed_newest_first_for_their_tenant_only_and_can_be_requeued_or_discarded<
    B: Backend,
>() {
    let backend = B::start(Settings {
        max_attempts: 1,
        ..Settings::default()
    })
    .await;
    let q = backend.consumer("worker-1");
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let a1 = job("tenant-a", JobKind::Member, "a1", 1);
    let a2 = job("tenant-a", JobKind::Group, "a2", 2);
    let b1 = job("tenant-b", JobKind::Tenant, "tenant-b", 3);
    for j in [&a1, &a2, &b1] {
        q.enqueue(j).await.unwrap();
    }
    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 3);
    for d in &batch {
        let error = format!("failed {}", d.job.id);
        assert_eq!(q.fail(d, &error).await.unwrap(), RetryOutcome::DeadLettered);
    }
    assert_eq!(q.depth().await.unwrap().dead, 3);

    let of_a = q.dead_letters(&a, 10).await.unwrap();
    let jobs = |l: &[scimgate_domain::jobs::DeadLetter]| {
        l.iter().map(|d| d.job.clone()).collect::<Vec<_>>()
    };
    assert_eq!(jobs(&of_a), [a2.clone(), a1.clone()]);
    assert_eq!(of_a[0].error, "failed a2");
    assert_eq!(of_a[1].attempts, 1);
    assert_eq!(
        jobs(&q.dead_letters(&a, 1).await.unwrap()),
        vec![a2.clone()]
    );
    assert_eq!(
        jobs(&q.dead_letters(&b, 10).await.unwrap()),
        vec![b1.clone()]
    );
    assert!(
        q.dead_letters(&tenant("tenant-c"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (a2_id, a1_id) = (of_a[0].id.clone(), of_a[1].id.clone());
    assert_ne!(a1_id, a2_id);

    // Another tenant's id, an unknown id and a malformed one are all "unknown".
    assert!(!q.requeue_dead_letter(&b, &a1_id).await.unwrap());
    assert!(!q.discard_dead_letter(&b, &a1_id).await.unwrap());
    assert!(!q.requeue_dead_letter(&a, "1-999999").await.unwrap());
    assert!(!q.requeue_dead_letter(&a, "not an id").await.unwrap());
    assert!(!q.discard_dead_letter(&a, "+").await.unwrap());
    assert_eq!(q.depth().await.unwrap().dead, 3);

    // Requeued: back on the queue with its attempts starting again, gone from the dead letters.
    assert!(q.requeue_dead_letter(&a, &a1_id).await.unwrap());
    assert!(
        !q.requeue_dead_letter(&a, &a1_id).await.unwrap(),
        "requeued twice"
    );
    assert_eq!(
        jobs(&q.dead_letters(&a, 10).await.unwrap()),
        vec![a2.clone()]
    );
    let again = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].job, a1);
    assert_eq!(again[0].attempt, 1);
    q.ack(&again).await.unwrap();

    // Discarded: gone for good.
    assert!(q.discard_dead_letter(&a, &a2_id).await.unwrap());
    assert!(
        !q.discard_dead_letter(&a, &a2_id).await.unwrap(),
        "discarded twice"
    );
    assert!(q.dead_letters(&a, 10).await.unwrap().is_empty());
    assert_eq!(jobs(&q.dead_letters(&b, 10).await.unwrap()), [b1]);
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            dead: 1,
            ..QueueDepth::default()
        }
    );
    assert!(q.next_batch(10, SHORT).await.unwrap().is_empty());
}

macro_rules! for_both_queues {
    ($($name:ident),* $(,)?) => {
        mod redis_queue {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name::<super::RedisBackend>().await;
                }
            )*
        }
        mod memory_queue {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name::<super::MemoryBackend>().await;
                }
            )*
        }
    };
}

for_both_queues!(
    an_enqueued_job_is_delivered_once_and_acking_it_leaves_nothing_behind,
    next_batch_hands_out_at_most_max_deliveries_in_the_order_they_were_enqueued,
    next_batch_waits_for_block_when_there_is_nothing_and_no_longer,
    a_job_enqueued_while_a_consumer_waits_is_delivered_before_the_wait_ends,
    two_consumers_never_receive_the_same_entry,
    an_entry_that_is_never_acked_is_reclaimed_by_another_consumer_after_claim_idle,
    a_failed_job_comes_back_after_its_backoff_and_is_dead_lettered_after_max_attempts,
    dead_letters_are_listed_newest_first_for_their_tenant_only_and_can_be_requeued_or_discarded,
);

// ---------------------------------------------------------------------------------------------
// Redis only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_the_queue_recovers_when_its_stream_is_deleted_behind_its_back() {
    let backend = RedisBackend::start(Settings::default()).await;
    let q = backend.consumer("worker-1");
    q.enqueue(&member("before")).await.unwrap();
    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    q.ack(&batch).await.unwrap();

    // As after a Redis restart: the stream and its consumer group are gone.
    let mut raw = backend.raw().await;
    let deleted: i64 = redis::cmd("DEL")
        .arg(backend.key("sync:jobs"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(deleted, 1);

    q.enqueue(&member("after")).await.unwrap();
    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("after"));
    assert_eq!(batch[0].attempt, 1);
    q.ack(&batch).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());

    // And again with the consumer waiting on the stream when it disappears (its blocked read
    // is answered UNBLOCKED).
    let waiting = tokio::spawn({
        let q = q.clone();
        async move { q.next_batch(10, Duration::from_secs(5)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    redis::cmd("DEL")
        .arg(backend.key("sync:jobs"))
        .query_async::<i64>(&mut raw)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    backend
        .consumer("producer")
        .enqueue(&member("later"))
        .await
        .unwrap();
    let batch = waiting.await.unwrap().expect("the waiting read recovers");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("later"));
    q.ack(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_jobs_enqueued_before_any_consumer_group_exists_are_delivered() {
    let backend = RedisBackend::start(Settings::default()).await;
    let producer = backend.consumer("producer");
    producer.enqueue(&member("early")).await.unwrap();
    let q = backend.consumer("worker-1");
    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("early"));
    q.ack(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_blocking_read_does_not_hold_up_other_commands_on_the_same_queue() {
    let backend = RedisBackend::start(Settings::default()).await;
    let q = backend.consumer("worker-1");
    assert!(q.next_batch(1, Duration::ZERO).await.unwrap().is_empty());

    let waiting = tokio::spawn({
        let q = q.clone();
        async move { q.next_batch(10, Duration::from_secs(5)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    q.enqueue(&member("m1")).await.unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "depth + enqueue took {took:?} during a blocking read"
    );

    let batch = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the blocked read saw the new job")
        .unwrap()
        .unwrap();
    assert_eq!(batch.len(), 1);
    q.ack(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_due_retry_is_delivered_while_a_consumer_is_already_waiting() {
    let backend = RedisBackend::start(Settings {
        backoff: Duration::from_millis(100),
        ..Settings::default()
    })
    .await;
    let q = backend.consumer("worker-1");
    q.enqueue(&member("m1")).await.unwrap();
    let first = q.next_batch(1, LONG).await.unwrap();
    let started = Instant::now();
    assert!(matches!(
        q.fail(&first[0], "boom").await.unwrap(),
        RetryOutcome::Retrying(_)
    ));
    // One long wait: the retry comes due during it and must not wait for the wait to end.
    let batch = q.next_batch(10, Duration::from_secs(10)).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].attempt, 2);
    assert!(
        waited < Duration::from_secs(2),
        "the retry came after {waited:?}"
    );
    q.ack(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_fail_keeps_the_job_until_the_retry_is_written_and_uses_one_member_per_delivery() {
    let backend = RedisBackend::start(Settings {
        backoff: Duration::from_secs(60),
        ..Settings::default()
    })
    .await;
    let a = backend.consumer("worker-a");
    // Two deliveries of the same job (as after a duplicate enqueue) fail: two retries.
    a.enqueue(&member("m1")).await.unwrap();
    a.enqueue(&member("m1")).await.unwrap();
    let batch = a.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 2);
    for d in &batch {
        a.fail(d, "boom").await.unwrap();
    }
    let mut raw = backend.raw().await;
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(backend.key("sync:retry"))
        .arg(0)
        .arg(-1)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    for m in &members {
        let v: serde_json::Value = serde_json::from_str(m).unwrap();
        assert_eq!(v["attempt"], 2);
        let job: Job = serde_json::from_str(v["job"].as_str().unwrap()).unwrap();
        assert_eq!(job, member("m1"));
    }
    let length: u64 = redis::cmd("XLEN")
        .arg(backend.key("sync:jobs"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        length, 0,
        "failed entries are acked and deleted from the stream"
    );
}

/// A TCP proxy in front of the test Redis that can be taken down and brought back on the same
/// port, to play an outage.
struct Proxy {
    port: u16,
    upstream: (String, u16),
    tasks: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: (String, u16)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Stops listening and cuts every connection.
    async fn stop(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restart(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_an_outage_fails_fast_as_unavailable_and_the_same_queue_works_once_redis_is_back() {
    let backend = RedisBackend::start(Settings::default()).await;
    let info = backend.client.get_connection_info().clone();
    let ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
        panic!(
            "this test needs a plain TCP Redis URL, not {:?}",
            info.addr()
        );
    };
    let proxy = Proxy::start((host, port)).await;
    let through_proxy =
        redis::Client::open(info.set_addr(ConnectionAddr::Tcp("127.0.0.1".into(), proxy.port)))
            .unwrap();
    let q = RedisQueue::new(through_proxy, backend.config("worker-1"));

    q.enqueue(&member("m1")).await.unwrap();
    let batch = q.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    q.ack(&batch).await.unwrap();

    proxy.stop().await;
    for attempt in 0..3 {
        let started = Instant::now();
        let enqueued = q.enqueue(&member("m2")).await;
        assert!(
            matches!(enqueued, Err(QueueError::Unavailable(_))),
            "enqueue {attempt} during the outage: {enqueued:?}"
        );
        let read = q.next_batch(10, Duration::from_secs(1)).await;
        assert!(
            matches!(read, Err(QueueError::Unavailable(_))),
            "next_batch {attempt} during the outage: {read:?}"
        );
        assert!(matches!(q.depth().await, Err(QueueError::Unavailable(_))));
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(8),
            "three calls took {took:?} during the outage"
        );
    }

    proxy.restart().await;
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match q.enqueue(&member("m3")).await {
            Ok(()) => break,
            Err(e) => assert!(
                Instant::now() < until,
                "still failing after the outage: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let batch = loop {
        match q.next_batch(10, LONG).await {
            Ok(batch) if !batch.is_empty() => break batch,
            Ok(_) => panic!("the job enqueued after the outage was not delivered"),
            Err(e) => assert!(Instant::now() < until, "next_batch still failing: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("m3"));
    q.ack(&batch).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_queue_pointed_at_a_closed_port_reports_unavailable_quickly() {
    // Port 1 on the loopback interface: nothing listens there.
    let client = redis::Client::open("redis://127.0.0.1:1").unwrap();
    let q = RedisQueue::new(client, RedisQueueConfig::new("unused:", "worker-1"));
    let started = Instant::now();
    assert!(matches!(
        q.enqueue(&member("m1")).await,
        Err(QueueError::Unavailable(_))
    ));
    assert!(matches!(
        q.next_batch(10, Duration::from_secs(1)).await,
        Err(QueueError::Unavailable(_))
    ));
    assert!(matches!(q.depth().await, Err(QueueError::Unavailable(_))));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_long_idle_consumer_is_removed_from_the_group_unless_it_holds_pending_entries() {
    // claim_idle stays at 30 s, so nothing is reclaimed while the test runs.
    let backend = RedisBackend::start(Settings::default()).await;
    let stale_after = Duration::from_millis(300);
    let consumer = |name: &str| {
        let mut config = backend.config(name);
        config.stale_consumer_after = Some(stale_after);
        RedisQueue::new(backend.client.clone(), config)
    };

    // A worker that went away holding a job: its entry is pending until XAUTOCLAIM moves it.
    let holding = consumer("gone-holding");
    holding.enqueue(&member("m1")).await.unwrap();
    let held = holding.next_batch(1, LONG).await.unwrap();
    assert_eq!(held.len(), 1);
    // A worker that went away after finishing its job: nothing pending.
    let finished = consumer("gone-finished");
    finished.enqueue(&member("m2")).await.unwrap();
    let done = finished.next_batch(10, LONG).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].job, member("m2"));
    finished.ack(&done).await.unwrap();

    tokio::time::sleep(stale_after * 2).await;
    // A new worker's first read removes the stale consumer, not the one holding an entry.
    let fresh = consumer("worker-new");
    fresh.enqueue(&member("m3")).await.unwrap();
    let batch = fresh.next_batch(10, LONG).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].job, member("m3"));
    fresh.ack(&batch).await.unwrap();

    let mut raw = backend.raw().await;
    let info: redis::streams::StreamInfoConsumersReply = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(backend.key("sync:jobs"))
        .arg("sync")
        .query_async(&mut raw)
        .await
        .unwrap();
    let mut consumers: Vec<(String, usize)> = info
        .consumers
        .into_iter()
        .map(|c| (c.name, c.pending))
        .collect();
    consumers.sort();
    assert_eq!(
        consumers,
        [("gone-holding".to_owned(), 1), ("worker-new".to_owned(), 0)]
    );
    // The held job is still in flight, to be reclaimed after claim_idle.
    assert_eq!(fresh.depth().await.unwrap().in_flight, 1);
    holding.ack(&held).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// In process only

#[tokio::test]
async fn memory_enqueuing_a_job_that_is_still_queued_keeps_one_entry_with_the_higher_version() {
    let q = MemoryQueue::new(MemoryQueueConfig::default());
    q.enqueue(&job("tenant-a", JobKind::Member, "m1", 1))
        .await
        .unwrap();
    q.enqueue(&job("tenant-a", JobKind::Member, "m1", 3))
        .await
        .unwrap();
    q.enqueue(&job("tenant-a", JobKind::Member, "m1", 2))
        .await
        .unwrap();
    // Different kind, different tenant: not the same thing.
    q.enqueue(&job("tenant-a", JobKind::Group, "m1", 1))
        .await
        .unwrap();
    q.enqueue(&job("tenant-b", JobKind::Member, "m1", 1))
        .await
        .unwrap();
    assert_eq!(q.depth().await.unwrap().ready, 3);

    let batch = q.next_batch(10, SHORT).await.unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(batch[0].job, job("tenant-a", JobKind::Member, "m1", 3));
    assert_eq!(batch[1].job, job("tenant-a", JobKind::Group, "m1", 1));
    assert_eq!(batch[2].job, job("tenant-b", JobKind::Member, "m1", 1));

    // Once delivered, a new change is a new entry.
    q.enqueue(&job("tenant-a", JobKind::Member, "m1", 4))
        .await
        .unwrap();
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            ready: 1,
            in_flight: 3,
            ..QueueDepth::default()
        }
    );
    q.ack(&batch).await.unwrap();
    let next = q.next_batch(10, SHORT).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].job.version, 4);
}

#[tokio::test]
async fn memory_enqueuing_past_capacity_is_refused_as_unavailable_until_room_frees_up() {
    let q = MemoryQueue::new(MemoryQueueConfig {
        capacity: 2,
        ..MemoryQueueConfig::default()
    });
    q.enqueue(&member("m1")).await.unwrap();
    q.enqueue(&member("m2")).await.unwrap();
    let refused = q.enqueue(&member("m3")).await;
    assert!(
        matches!(refused, Err(QueueError::Unavailable(_))),
        "{refused:?}"
    );
    // Coalescing into a queued job needs no room.
    q.enqueue(&job("tenant-a", JobKind::Member, "m1", 9))
        .await
        .unwrap();

    let batch = q.next_batch(1, SHORT).await.unwrap();
    assert_eq!(batch[0].job.version, 9);
    // In flight still counts.
    assert!(matches!(
        q.enqueue(&member("m3")).await,
        Err(QueueError::Unavailable(_))
    ));
    q.ack(&batch).await.unwrap();
    q.enqueue(&member("m3")).await.unwrap();
    assert_eq!(q.depth().await.unwrap().ready, 2);
}

#[tokio::test]
async fn memory_dead_letters_beyond_the_cap_drop_the_oldest() {
    let q = MemoryQueue::new(MemoryQueueConfig {
        max_attempts: 1,
        dead_letter_cap: 2,
        ..MemoryQueueConfig::default()
    });
    for i in 0..3 {
        q.enqueue(&member(&format!("m{i}"))).await.unwrap();
    }
    for d in q.next_batch(10, SHORT).await.unwrap() {
        assert_eq!(
            q.fail(&d, "boom").await.unwrap(),
            RetryOutcome::DeadLettered
        );
    }
    let dead = q.dead_letters(&tenant("tenant-a"), 10).await.unwrap();
    let ids: Vec<_> = dead.iter().map(|d| d.job.id.as_str()).collect();
    assert_eq!(ids, ["m2", "m1"]);
    assert_eq!(q.depth().await.unwrap().dead, 2);
}

#[tokio::test]
async fn memory_clones_share_one_queue() {
    let producer = MemoryQueue::new(MemoryQueueConfig::default());
    let worker = producer.clone();
    producer.enqueue(&member("m1")).await.unwrap();
    let batch = worker.next_batch(10, SHORT).await.unwrap();
    assert_eq!(batch.len(), 1);
    worker.ack(&batch).await.unwrap();
    assert_eq!(producer.depth().await.unwrap(), QueueDepth::default());
}
