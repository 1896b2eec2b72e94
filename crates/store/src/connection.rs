//! Connecting: PostgreSQL when the URL says `postgres://`, otherwise a SQLite file; pools,
//! per-connection SQLite settings, embedded migrations, and the macro that writes each query
//! once for both backends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl as _};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt as _;
use scimgate_domain::ports::StoreError;

use crate::error::DbError;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Settings applied to every SQLite connection: WAL for concurrent readers, a busy timeout
/// instead of immediate SQLITE_BUSY, foreign keys (off by default in SQLite), and a
/// case-sensitive LIKE so `co`/`sw`/`ew` behave as on PostgreSQL (caseExact attributes).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;";

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl std::fmt::Debug for DatabaseUrl {
    // A PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Postgres(_) => f.write_str("Postgres(<redacted>)"),
            Self::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
        }
    }
}

impl DatabaseUrl {
    pub const DEFAULT_SQLITE: &'static str = "./data/scimgate.db";

    /// `postgres://` or `postgresql://` → PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or empty →
    /// SQLite (default `./data/scimgate.db`).
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.map(str::trim).unwrap_or_default();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Self::Postgres(raw.to_owned());
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        Self::Sqlite(PathBuf::from(if path.is_empty() {
            Self::DEFAULT_SQLITE
        } else {
            path
        }))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

pub(crate) enum Backend {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// The store: a pool of connections to one backend.
pub struct DbStore {
    pub(crate) backend: Backend,
    url: DatabaseUrl,
}

impl std::fmt::Debug for DbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

pub(crate) fn pool_error(e: impl std::fmt::Display) -> DbError {
    DbError::Pool(e.to_string())
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend the store has.
/// The body is written once and type-checked for both; it must evaluate to
/// `Result<_, DbError>`.
macro_rules! with_conn {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.backend {
            $crate::connection::Backend::Postgres(pool) => match pool.get().await {
                Ok(mut guard) => {
                    let $conn = &mut *guard;
                    $body
                }
                Err(e) => Err($crate::connection::pool_error(e)),
            },
            $crate::connection::Backend::Sqlite(pool) => match pool.get().await {
                Ok(mut guard) => {
                    let $conn = &mut *guard;
                    $body
                }
                Err(e) => Err($crate::connection::pool_error(e)),
            },
        }
    };
}
pub(crate) use with_conn;

fn sqlite_setup(
    url: &str,
) -> futures_util::future::BoxFuture<'_, diesel::ConnectionResult<SqliteConn>> {
    async move {
        let mut conn = SqliteConn::establish(url).await?;
        conn.batch_execute(SQLITE_PRAGMAS)
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(conn)
    }
    .boxed()
}

impl DbStore {
    /// Opens a pool of `max_connections` (creating the SQLite file and its folder if needed).
    pub async fn connect(url: &DatabaseUrl, max_connections: usize) -> Result<Self, StoreError> {
        let backend = match url {
            DatabaseUrl::Postgres(u) => {
                let mut config = ManagerConfig::default();
                // No `SELECT 1` on every checkout: it doubled the round trips of a request. A
                // connection diesel saw break is discarded on return instead.
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    u.clone(),
                    config,
                );
                Backend::Postgres(
                    Pool::builder(manager)
                        .max_size(max_connections.max(1))
                        .wait_timeout(Some(POOL_TIMEOUT))
                        .create_timeout(Some(POOL_TIMEOUT))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(|e| StoreError::Backend(format!("pool: {e}")))?,
                )
            }
            DatabaseUrl::Sqlite(path) => {
                ensure_parent(path)?;
                let mut config = ManagerConfig::default();
                config.custom_setup = Box::new(sqlite_setup);
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    path.to_string_lossy(),
                    config,
                );
                Backend::Sqlite(
                    Pool::builder(manager)
                        .max_size(max_connections.max(1))
                        .wait_timeout(Some(POOL_TIMEOUT))
                        .create_timeout(Some(POOL_TIMEOUT))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(|e| StoreError::Backend(format!("pool: {e}")))?,
                )
            }
        };
        let store = Self {
            backend,
            url: url.clone(),
        };
        store.ping().await?;
        Ok(store)
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// `SELECT 1` on a pooled connection (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.batch_execute("SELECT 1").await.map_err(DbError::from)
        });
        r.map_err(StoreError::from)
    }

    /// Runs pending migrations; returns the versions applied. On PostgreSQL an advisory lock
    /// keeps two replicas starting at once from migrating together.
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let url = self.url.clone();
        // diesel's migration harness is synchronous: run it on a blocking thread, never on the
        // async runtime (diesel-async's async harness panics on actix's current-thread runtime).
        let applied = tokio::task::spawn_blocking(move || run_migrations(&url))
            .await
            .map_err(|e| StoreError::Backend(format!("migration task: {e}")))?;
        applied.map_err(StoreError::Backend)
    }
}

const POOL_TIMEOUT: Duration = Duration::from_secs(10);

fn ensure_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

fn run_migrations(url: &DatabaseUrl) -> Result<Vec<String>, String> {
    let versions = |v: Vec<diesel::migration::MigrationVersion<'_>>| {
        v.iter().map(ToString::to_string).collect()
    };
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(u)
                .map_err(|e| e.to_string())?;
            diesel::sql_query("SELECT pg_advisory_lock(7305711)")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            let result = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(versions)
                .map_err(|e| e.to_string());
            let _unlock =
                diesel::sql_query("SELECT pg_advisory_unlock(7305711)").execute(&mut conn);
            result
        }
        DatabaseUrl::Sqlite(path) => {
            ensure_parent(path).map_err(|e| e.to_string())?;
            let mut conn =
                SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| e.to_string())?;
            diesel::sql_query("PRAGMA foreign_keys = ON")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            conn.run_pending_migrations(SQLITE_MIGRATIONS)
                .map(versions)
                .map_err(|e| e.to_string())
        }
    }
}
