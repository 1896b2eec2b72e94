//! One fresh database per backend and test: a SQLite file in a temp folder, removed when
//! dropped, and a PostgreSQL database created for the test and dropped after it. PostgreSQL
//! is required: when it cannot be reached the test fails, naming what is missing.

use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};

/// The PostgreSQL server (no database in the URL) unless `SCIMGATE_TEST_POSTGRES_URL` says
/// otherwise; databases are created through its `postgres` database.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
const POSTGRES_ENV: &str = "SCIMGATE_TEST_POSTGRES_URL";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite file in a folder of its own (the token-hash key file would go there too), removed
/// when dropped.
pub struct SqliteDb {
    dir: PathBuf,
}

impl SqliteDb {
    pub fn new() -> Self {
        Self {
            dir: std::env::temp_dir().join(format!(
                "scimgate-api-test-{}",
                uuid::Uuid::new_v4().simple()
            )),
        }
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.dir.join("scimgate.db").display())
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        let _best_effort = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database of its own on the PostgreSQL server.
pub struct PostgresDb {
    server: String,
    name: String,
    admin: AsyncPgConnection,
}

impl PostgresDb {
    pub async fn create() -> Self {
        let server = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let required = |why: String| -> ! {
            panic!(
                "the API tests need a PostgreSQL server at {} (its `postgres` database, a role allowed to \
                 CREATE DATABASE; set {POSTGRES_ENV} to another server base URL): {why}",
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
        let name = format!("scimgate_api_{}", uuid::Uuid::new_v4().simple());
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

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Best effort: a database left behind costs disk, not correctness.
    pub async fn drop_database(mut self) {
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
