//! The app under test: the real scimgate app (`Services::connect` + `app::spawn`, port 0) on a
//! fresh database of each backend — a SQLite file in a temp folder and a PostgreSQL database
//! created for the test and dropped after it — with a tenant and its token made the way the CLI
//! makes them. PostgreSQL is required: when it cannot be reached the test fails, naming what is
//! missing; it is never skipped.

use std::any::Any;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use reqwest::Method;
use reqwest::header::HeaderMap;
use scimgate::app::{self, Services};
use scimgate::config::{Database, Http, Log, Scim, Security, Settings};
use scimgate::tokens::generate_token;
use scimgate_domain::ids::{MemberId, TenantId, TokenId};
use scimgate_domain::member::{Member, MemberState, Provenance, member_keys};
use scimgate_domain::ports::{MemberStore as _, TenantStore as _, TokenRecord, TokenStore as _};
use scimgate_domain::tenant::{Slug, Tenant, TenantSettings};
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// The PostgreSQL server (no database in the URL) unless `SCIMGATE_TEST_POSTGRES_URL` says
/// otherwise; databases are created through its `postgres` database.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
const POSTGRES_ENV: &str = "SCIMGATE_TEST_POSTGRES_URL";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN_HASH_KEY: &str = "api-tests-token-hash-key-0123456789abcdef";

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

/// An HTTP answer, its body read as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs; returns the response.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 7644 §3.12 error body: the Error schema, `status` as a string, and the
    /// `scimType` (or none).
    #[track_caller]
    pub fn expect_error(self, status: u16, scim_type: Option<&str>) -> Self {
        let me = self.expect(status);
        assert_eq!(
            me.body["schemas"],
            json!([ERROR_URN]),
            "error body: {}",
            me.text
        );
        assert_eq!(
            me.body["status"],
            json!(status.to_string()),
            "error body: {}",
            me.text
        );
        assert_eq!(
            me.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "error body: {}",
            me.text
        );
        assert!(
            me.body["detail"].is_string(),
            "error body without detail: {}",
            me.text
        );
        assert!(
            me.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
            "error content type: {:?}",
            me.header("content-type")
        );
        me
    }

    /// The `id` of the resource in the body.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_owned()
    }

    /// `totalResults` of a list response.
    #[track_caller]
    pub fn total(&self) -> u64 {
        self.body["totalResults"]
            .as_u64()
            .unwrap_or_else(|| panic!("not a list response: {}", self.text))
    }

    /// `Resources` of a list response.
    pub fn resources(&self) -> Vec<Value> {
        self.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The given attribute of every resource of a list response, as strings.
    pub fn each(&self, attr: &str) -> Vec<String> {
        self.resources()
            .iter()
            .map(|r| r[attr].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A SCIM client with one credential, at `/scim/v2` or another prefix.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    root: String,
    prefix: String,
    token: Option<String>,
}

impl Client {
    /// The same client with another bearer token (`None`: no Authorization header).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The same client at another base path, e.g. `/tenants/acme/scim/v2`.
    pub fn at(&self, prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.root, self.prefix)
    }

    /// A request with the bearer token set, to add headers or a raw body to.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PUT, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    /// A PATCH request body with these operations.
    pub async fn patch_ops(&self, path: &str, ops: Value) -> Resp {
        self.patch(path, &json!({ "schemas": [PATCH_URN], "Operations": ops }))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(self.request(Method::DELETE, path)).await
    }

    /// `GET /Users?filter=...` with the filter URL-encoded.
    pub async fn filter_users(&self, filter: &str) -> Resp {
        self.get(&format!("/Users?filter={}", encode(filter))).await
    }

    /// POSTs a User and returns its id (201 asserted).
    pub async fn create_user(&self, body: &Value) -> String {
        self.post("/Users", body).await.expect(201).id()
    }

    /// POSTs a Group and returns its id (201 asserted).
    pub async fn create_group(&self, body: &Value) -> String {
        self.post("/Groups", body).await.expect(201).id()
    }
}

/// Percent-encodes a query parameter value (RFC 3986 §2.3: only unreserved characters stay).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a request and reads the whole answer.
pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let res = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading the body failed: {e}"));
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// A User as identity providers send it: name, a primary work email, active.
pub fn user(user_name: &str, given: &str, family: &str, email: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": { "givenName": given, "familyName": family, "formatted": format!("{given} {family}") },
        "displayName": format!("{given} {family}"),
        "emails": [{ "value": email, "type": "work", "primary": true }],
        "active": true,
    })
}

/// A Group with these member ids.
pub fn group(display_name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({ "schemas": [GROUP_URN], "displayName": display_name, "members": members })
}

/// The member ids of a Group resource, sorted.
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted copies of ids, to compare with [`member_ids`].
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// One running app on one backend, with tenant `acme` and its token.
#[derive(Debug)]
pub struct TestApp {
    pub services: Services,
    pub tenant: Tenant,
    pub token: String,
    /// A client of `acme` at `/scim/v2`.
    pub scim: Client,
    root: String,
    http: reqwest::Client,
}

impl TestApp {
    /// A client of no tenant (no token) at `/scim/v2`.
    pub fn anonymous(&self) -> Client {
        self.scim.with_token(None)
    }

    /// A client at the server root, for non-SCIM paths.
    pub fn root(&self) -> Client {
        Client {
            http: self.http.clone(),
            root: self.root.clone(),
            prefix: String::new(),
            token: Some(self.token.clone()),
        }
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
        };
        self.services
            .db
            .insert_member(&member, &keys)
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
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let root = format!("http://{addr}");
    let mut app = TestApp {
        services,
        tenant: placeholder_tenant(),
        token: String::new(),
        scim: Client {
            http: http.clone(),
            root: root.clone(),
            prefix: "/scim/v2".to_owned(),
            token: None,
        },
        root,
        http,
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

/// A SQLite file in a folder of its own (the token-hash key file would go there too), removed
/// when dropped.
struct SqliteDb {
    dir: PathBuf,
}

impl SqliteDb {
    fn new() -> Self {
        Self {
            dir: std::env::temp_dir().join(format!(
                "scimgate-api-test-{}",
                uuid::Uuid::new_v4().simple()
            )),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.join("scimgate.db").display())
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

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
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
