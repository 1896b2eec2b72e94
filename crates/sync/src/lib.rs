//! scimgate's team-sync worker: the job queues (Redis Streams with a consumer group, or an
//! in-process queue), reconciliation of teams and effective access, the sweeper that re-enqueues
//! whatever is behind, and signed webhook delivery.

pub mod dispatch;
pub mod queue;
pub mod reconcile;
pub mod webhook;
pub mod worker;
