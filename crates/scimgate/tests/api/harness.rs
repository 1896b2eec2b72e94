//! The app under test: the real scimgate app (`Services::connect` + `app::spawn`, port 0) on a
//! fresh database of each backend (`databases.rs`), with a tenant and its token made the way
//! the CLI makes them, and the members, tenants and tokens tests seed through the store.

use std::any::Any;
use std::future::Future;

use actix_web::dev::ServerHandle;
use scimgate::app::{self, Services};
use scimgate::config::{Admin, Database, Http, Log, OAuth, Redis, Scim, Security, Settings};
use scimgate::tokens::generate_token;
use scimgate_domain::ids::{MemberId, TenantId, TokenId};
use scimgate_domain::member::{Member, MemberState, Provenance, member_keys};
use scimgate_domain::ports::{MemberStore as _, TenantStore as _, TokenRecord, TokenStore as _};
use scimgate_domain::tenant::{Slug, Tenant, TenantSettings};
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

pub use crate::client::*;
use crate::databases::{PostgresDb, SqliteDb};

const TOKEN_HASH_KEY: &str = "api-tests-token-hash-key-0123456789abcdef";
const KEY_ENCRYPTION_KEY: &str = "api-tests-key-encryption-key-0123456789abcdef";
/// The operator credential of every test app's admin API.
pub const OPERATOR_TOKEN: &str = "api-tests-operator-token-0123456789abcdef";

/// The limits every test app runs with: small, so that tests can pass them cheaply.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_PAGE_SIZE: u64 = 50;
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const BULK_MAX_OPERATIONS: usize = 10;
pub const BULK_MAX_PAYLOAD_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// One running app on one backend, with tenant `acme` and its token.
#[derive(Debug)]
pub struct TestApp {
    pub services: Services,
    pub tenant: Tenant,
    pub token: String,
    /// A client of `acme` at `/scim/v2`.
    pub scim: Client,
}

impl TestApp {
    /// A client of no tenant (no token) at `/scim/v2`.
    pub fn anonymous(&self) -> Client {
        self.scim.with_token(None)
    }

    /// A client at the server root, for non-SCIM paths.
    pub fn root(&self) -> Client {
        self.scim.at("")
    }

    /// A tenant as `scimgate tenant create` makes it.
    pub async fn add_tenant(&self, slug: &str) -> Tenant {
        let tenant = Tenant {
            id: TenantId::generate(),
            slug: Slug::parse(slug).expect("a valid slug"),
            name: format!("{slug} Inc."),
            settings: TenantSettings::default(),
            created: Timestamp::now(),
        };
        self.services
            .db
            .insert_tenant(&tenant)
            .await
            .expect("insert tenant");
        tenant
    }

    /// A token as `scimgate token create` makes it; returns (secret, record).
    pub async fn add_token(
        &self,
        tenant: &TenantId,
        expires: Option<Timestamp>,
    ) -> (String, TokenRecord) {
        let secret = generate_token().expect("a token");
        let record = TokenRecord {
            id: TokenId::generate(),
            tenant_id: tenant.clone(),
            hash: self.services.hasher.hash(&secret),
            created: Timestamp::now(),
            expires,
            revoked: None,
        };
        self.services
            .db
            .insert_token(&record)
            .await
            .expect("insert token");
        (secret, record)
    }

    /// Another tenant with its own token, and a client of it at `/scim/v2`.
    pub async fn other_tenant(&self, slug: &str) -> (Tenant, Client) {
        let tenant = self.add_tenant(slug).await;
        let (secret, _) = self.add_token(&tenant.id, None).await;
        let client = self.scim.with_token(Some(&secret));
        (tenant, client)
    }

    /// Changes `acme`'s settings as `scimgate tenant settings` does. The tenant is read per
    /// request, so the next request sees them.
    pub async fn set_settings(&mut self, change: impl FnOnce(&mut TenantSettings)) {
        change(&mut self.tenant.settings);
        self.services
            .db
            .update_tenant_settings(&self.tenant.id, &self.tenant.settings)
            .await
            .expect("update settings");
    }

    /// A member of `acme` made outside SCIM (by an admin, before SCIM was enabled).
    pub async fn pre_scim_member(&self, resource: Value) -> MemberId {
        let Value::Object(resource) = resource else {
            panic!("a resource is an object")
        };
        let keys = member_keys(&resource, self.tenant.settings.unique_identifier);
        let now = Timestamp::now();
        let member = Member {
            id: MemberId::generate(),
            tenant_id: self.tenant.id.clone(),
            resource,
            state: MemberState::Active,
            provenance: Provenance::PreScim,
            scim_managed: false,
            scim_visible: true,
            created: now,
            last_modified: now,
            version: 1,
            first_sign_in: None,
        };
        self.services
            .db
            .insert_member(&member, &keys, None)
            .await
            .expect("insert pre-SCIM member");
        member.id
    }

    /// The member as the store holds it (whatever SCIM sees).
    pub async fn stored_member(&self, id: &str) -> Option<Member> {
        self.services
            .db
            .member(&self.tenant.id, &MemberId::from_raw(id))
            .await
            .expect("read member")
    }
}

/// Runs `body` once per backend, the two concurrently, each on a fresh database and a fresh
/// server; cleans up, then fails naming the backend(s) whose body failed.
pub async fn for_each_backend<F, Fut>(body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for_each_backend_with(|_| {}, body).await;
}

/// [`for_each_backend`] with changed settings (e.g. smaller limits).
pub async fn for_each_backend_with<F, Fut>(tune: impl Fn(&mut Settings), body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // PostgreSQL first: a missing server fails the test before anything else is made.
    let postgres = PostgresDb::create().await;
    let sqlite = SqliteDb::new();
    let pg = start(Backend::Postgres, &postgres.url(), &tune).await;
    let lite = start(Backend::Sqlite, &sqlite.url(), &tune).await;
    let (pg_handle, lite_handle) = (pg.1.clone(), lite.1.clone());
    let pg_run = tokio::spawn(body(pg.0));
    let lite_run = tokio::spawn(body(lite.0));
    let outcomes = [
        (Backend::Postgres, pg_run.await),
        (Backend::Sqlite, lite_run.await),
    ];
    // Stop the servers (and with them the pools they hold) before dropping the databases.
    pg_handle.stop(false).await;
    lite_handle.stop(false).await;
    postgres.drop_database().await;
    drop(sqlite);
    let failures: Vec<String> = outcomes
        .into_iter()
        .filter_map(|(backend, outcome)| {
            outcome
                .err()
                .map(|e| format!("[{}] {}", backend.name(), panic_text(e)))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn settings(url: &str, tune: &impl Fn(&mut Settings)) -> Settings {
    let secret = |s: &str| serde_json::from_value(json!(s)).expect("a secret");
    let mut s = Settings {
        http: Http {
            address: "127.0.0.1:0".to_owned(),
        },
        database: Database {
            url: Some(secret(url)),
            max_connections: 4,
            migrate_on_start: true,
        },
        security: Security {
            token_hash_key: Some(secret(TOKEN_HASH_KEY)),
            // Revocation must show at once in these tests.
            token_cache_seconds: 0,
            key_encryption_key: Some(secret(KEY_ENCRYPTION_KEY)),
            trust_forwarded_for: false,
        },
        log: Log {
            format: "text".to_owned(),
            level: "warn".to_owned(),
        },
        scim: Scim {
            default_page_size: DEFAULT_PAGE_SIZE,
            max_page_size: MAX_PAGE_SIZE,
            max_body_bytes: MAX_BODY_BYTES,
            bulk_max_operations: BULK_MAX_OPERATIONS,
            bulk_max_payload_bytes: BULK_MAX_PAYLOAD_BYTES,
        },
        oauth: OAuth::default(),
        redis: Redis::default(),
        admin: Admin {
            operator_token: Some(secret(OPERATOR_TOKEN)),
        },
        // Sweeps often: a test that loses a job sees the sweeper catch up quickly.
        sync: scimgate::config::Sync {
            sweep_seconds: 1,
            ..scimgate::config::Sync::default()
        },
        telemetry: scimgate::config::Telemetry::default(),
    };
    tune(&mut s);
    s
}

async fn start(
    backend: Backend,
    url: &str,
    tune: &impl Fn(&mut Settings),
) -> (TestApp, ServerHandle) {
    let settings = settings(url, tune);
    let services = Services::connect(&settings, true)
        .await
        .unwrap_or_else(|e| panic!("[{}] cannot start the services: {e:#}", backend.name()));
    let (addr, handle) = app::spawn(&settings, &services)
        .await
        .unwrap_or_else(|e| panic!("[{}] cannot start the server: {e:#}", backend.name()));
    let mut app = TestApp {
        services,
        tenant: placeholder_tenant(),
        token: String::new(),
        scim: Client::new(&format!("http://{addr}")),
    };
    app.tenant = app.add_tenant("acme").await;
    let (token, _) = app.add_token(&app.tenant.id, None).await;
    app.scim = app.scim.with_token(Some(&token));
    app.token = token;
    (app, handle)
}

fn placeholder_tenant() -> Tenant {
    Tenant {
        id: TenantId::from_raw(""),
        slug: Slug::parse("placeholder").expect("a valid slug"),
        name: String::new(),
        settings: TenantSettings::default(),
        created: Timestamp::now(),
    }
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
