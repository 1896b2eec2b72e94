//! Sync jobs and the queue ports (DESIGN "Change flow"). A job is a hint, not the change: it
//! carries ids and a version, and the worker reads current state, so a duplicate, a reordering
//! or a lost job is harmless (the sweeper re-enqueues whatever is behind).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::time::Timestamp;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A member's attributes, state or memberships changed (`id` = member id).
    Member,
    /// A group's name or members changed, or it was deleted (`id` = group id).
    Group,
    /// Something tenant-wide changed: settings, catalogue, mappings (`id` = tenant id).
    Tenant,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Group => "group",
            Self::Tenant => "tenant",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Self::Member),
            "group" => Some(Self::Group),
            "tenant" => Some(Self::Tenant),
            _ => None,
        }
    }
}

/// One unit of sync work.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Job {
    pub tenant: TenantId,
    pub kind: JobKind,
    /// The member, group or tenant id.
    pub id: String,
    /// The row's version when the job was made (informational: the worker reads current state).
    pub version: i64,
    /// The W3C `traceparent` of the request that caused the job, carried into the worker's span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// When the write that caused the job announced it (Unix milliseconds): the worker measures
    /// the job's latency from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueued_at_ms: Option<i64>,
}

/// A job as handed to a consumer: the job plus what the queue needs to ack or retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub job: Job,
    /// The queue's own id for this delivery (a Redis stream entry id; a counter in process).
    pub receipt: String,
    /// 1 on the first delivery; counts failed attempts before this one plus one.
    pub attempt: u32,
}

/// A job that failed `attempts` times and was set aside (visible in the admin API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead-letter entry's id (stable; used to retry or discard it).
    pub id: String,
    pub job: Job,
    pub error: String,
    pub attempts: u32,
    pub failed_at: Timestamp,
}

/// What happened to a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Scheduled again after this delay.
    Retrying(Duration),
    /// Failed too often: moved to the dead letters.
    DeadLettered,
}

/// How much work waits (for metrics and the admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct QueueDepth {
    /// Entries not yet delivered to any consumer.
    pub ready: u64,
    /// Delivered, not acked yet (being worked on, or held by a dead consumer).
    pub in_flight: u64,
    /// Waiting for their retry time.
    pub retrying: u64,
    pub dead: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue failure: {0}")]
    Backend(String),
}

/// The producer side: every SCIM or admin write that can change access enqueues a job.
#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError>;
}

/// The consumer side, used by `scimgate serve sync`.
#[async_trait]
pub trait JobConsumer: Send + Sync {
    /// Up to `max` deliveries: retries that are due and jobs left idle by a dead consumer
    /// first, then new jobs, waiting at most `block` when there is nothing.
    async fn next_batch(&self, max: usize, block: Duration) -> Result<Vec<Delivery>, QueueError>;
    /// The deliveries are done.
    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError>;
    /// The delivery failed with `error`: schedule it again with backoff, or dead-letter it
    /// after the configured number of attempts. Either way it is acked.
    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<RetryOutcome, QueueError>;
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
    /// The tenant's dead letters, newest first.
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError>;
    /// Puts a dead letter back on the queue (attempts start again); false if unknown.
    async fn requeue_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError>;
    /// Discards a dead letter; false if unknown.
    async fn discard_dead_letter(&self, tenant: &TenantId, id: &str) -> Result<bool, QueueError>;
}
