//! The queue's connections to Redis and its errors: the shared [`ConnectionManager`], the
//! blocking read's own connection, the overall deadline on a few commands, and how a Redis error
//! becomes a [`QueueError`].

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind};
use scimgate_domain::jobs::QueueError;

use super::RedisQueue;

impl RedisQueue {
    pub(super) fn timeout(&self) -> Duration {
        self.inner.config.command_timeout
    }

    /// The shared connection for ordinary commands.
    pub(super) async fn conn(&self) -> Result<ConnectionManager, QueueError> {
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
    pub(super) async fn bounded<T>(
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

    pub(super) async fn connect_reader(&self) -> Result<MultiplexedConnection, QueueError> {
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
}

/// What went wrong inside the queue: the Redis error is kept so that NOGROUP can be told apart.
#[derive(Debug)]
pub(super) enum Failure {
    Redis(RedisError),
    Queue(QueueError),
}

impl Failure {
    /// The stream or its consumer group is gone (a Redis restart, the key deleted): NOGROUP,
    /// or UNBLOCKED for a read that was waiting on it.
    pub(super) fn is_nogroup(&self) -> bool {
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

/// Connection trouble is `Unavailable` (retry later); anything else is `Backend`.
pub(super) fn map_err(e: RedisError) -> QueueError {
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
