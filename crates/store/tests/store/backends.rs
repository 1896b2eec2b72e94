//! Runs a test body once per backend, each on a fresh database: a SQLite file in its own temp
//! folder, and a PostgreSQL database created for the test and dropped after it. PostgreSQL is
//! required: when it cannot be reached the test fails and says so, it is never skipped.

use std::any::Any;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use scimgate_store::{DatabaseUrl, DbStore};

/// The PostgreSQL server (no database in the URL) unless `SCIMGATE_TEST_POSTGRES_URL` says
/// otherwise.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
const POSTGRES_ENV: &str = "SCIMGATE_TEST_POSTGRES_URL";
/// More than one connection, so a pool's connections really differ (SQLite pragmas are set on
/// each one).
const POOL_SIZE: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the harness runs the migrations before the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Migrated,
    Empty,
}

/// Runs `body` against a migrated store of each backend.
pub async fn for_each_backend<F, Fut>(body: F)
where
    F: Fn(DbStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(Schema::Migrated, body).await;
}

/// Runs `body` once per backend, the two concurrently; then drops both databases and fails
/// naming the backend whose body failed.
pub async fn run<F, Fut>(schema: Schema, body: F)
where
    F: Fn(DbStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // PostgreSQL first: a missing server fails the test before anything else is created.
    let postgres = PostgresDb::create().await;
    let sqlite = SqliteDb::new();

    let pg_store = open(&postgres.url(), schema).await;
    let sqlite_store = open(&sqlite.url(), schema).await;
    let pg_run = tokio::spawn(body(pg_store));
    let sqlite_run = tokio::spawn(body(sqlite_store));
    let outcomes = [("postgres", pg_run.await), ("sqlite", sqlite_run.await)];

    postgres.drop_database().await;
    drop(sqlite);

    let failures: Vec<String> = outcomes
        .into_iter()
        .filter_map(|(backend, outcome)| {
            outcome
                .err()
                .map(|e| format!("[{backend}] {}", panic_text(e)))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn open(url: &DatabaseUrl, schema: Schema) -> DbStore {
    let store = DbStore::connect(url, POOL_SIZE)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url:?}: {e}"));
    if schema == Schema::Migrated {
        let applied = store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrating {url:?}: {e}"));
        assert!(
            !applied.is_empty(),
            "a fresh {url:?} had nothing to migrate"
        );
    }
    store
}

fn panic_text(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return e.to_string();
    }
    let payload: Box<dyn Any + Send> = e.into_panic();
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map_or_else(|| "panicked".to_owned(), |s| (*s).to_owned()),
    }
}

/// A SQLite file in a folder of its own, removed (with its WAL files) when dropped.
struct SqliteDb {
    dir: PathBuf,
}

impl SqliteDb {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "scimgate-store-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        Self { dir }
    }

    fn url(&self) -> DatabaseUrl {
        // A pooled SQLite database must be a file: every `:memory:` connection is its own
        // database.
        let url = format!("sqlite://{}", self.dir.join("store.db").display());
        DatabaseUrl::parse(Some(&url))
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        let _best_effort = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database of its own on the PostgreSQL server.
struct PostgresDb {
    server: String,
    name: String,
    admin: AsyncPgConnection,
}

impl PostgresDb {
    async fn create() -> Self {
        let server = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let required = |why: String| -> ! {
            panic!(
                "PostgreSQL at {} is required by the store tests (set {POSTGRES_ENV} to use \
                 another server): {why}",
                redacted(&server)
            )
        };
        let admin_url = format!("{server}/postgres");
        let mut admin =
            match tokio::time::timeout(CONNECT_TIMEOUT, AsyncPgConnection::establish(&admin_url))
                .await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => required(e.to_string()),
                Err(_) => required(format!("no answer within {CONNECT_TIMEOUT:?}")),
            };
        let name = format!("scimgate_test_{}", uuid::Uuid::new_v4().simple());
        if let Err(e) = admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
        {
            required(format!("CREATE DATABASE {name} failed: {e}"));
        }
        Self {
            server,
            name,
            admin,
        }
    }

    fn url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(Some(&format!("{}/{}", self.server, self.name)))
    }

    /// Best effort: a database left behind costs disk, not correctness.
    async fn drop_database(mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = self.admin.batch_execute(&sql).await {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// The server URL without its password, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}
