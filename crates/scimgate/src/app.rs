//! The application, built by one function for `main` and for the tests: the store, the
//! credentials, the parts (SCIM API, authorization server with the admin API), health and
//! readiness, request ids and access logs.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use scimgate_admin::AdminState;
use scimgate_authz::keys::KeyEncryptionKey;
use scimgate_authz::secrets::configured_or_generated;
use scimgate_authz::{
    AccessTokenVerifier, AuthzState, ClientCache, CredentialState, FailureLimiter, RedisCounters,
};
use scimgate_domain::jobs::{JobConsumer, JobQueue, QueueError};
use scimgate_domain::ports::Store;
use scimgate_scim::{Authenticator, ScimState};
use scimgate_store::{DatabaseUrl, DbStore};
use scimgate_sync::dispatch::Dispatcher;
use scimgate_sync::queue::{
    BackgroundQueue, MemoryQueue, MemoryQueueConfig, RedisQueue, RedisQueueConfig,
};
use scimgate_sync::webhook::{RetryPolicy, SenderConfig, WebhookSender};
use scimgate_sync::worker::{Worker, WorkerConfig};
use tokio::sync::watch;

use crate::config::Settings;
use crate::credentials::Credentials;
use crate::tokens::{StaticTokens, TokenHasher};

/// Which parts a process serves (`serve`, `serve authz`, `serve scim`, `serve sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub scim: bool,
    /// The authorization server and the admin API.
    pub authz: bool,
    /// The team-sync worker (its process still answers /healthz and /readyz).
    pub sync: bool,
}

impl Parts {
    pub const ALL: Self = Self {
        scim: true,
        authz: true,
        sync: true,
    };
}

/// Everything the running services share.
#[derive(Clone)]
pub struct Services {
    pub db: Arc<DbStore>,
    pub hasher: TokenHasher,
    /// The signing keys' encryption key: None with PostgreSQL when not configured (such a
    /// process can verify access tokens but not issue them).
    pub kek: Option<Arc<KeyEncryptionKey>>,
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Where SCIM and admin writes announce changes: Redis Streams, or in process.
    pub queue: Arc<dyn JobQueue>,
    /// The same queue's consumer side, for the worker.
    pub consumer: Arc<dyn JobConsumer>,
    /// The queue itself, unbuffered: the sweeper must see an enqueue fail to sync in its place.
    pub sweep_queue: Arc<dyn JobQueue>,
    /// Tells the worker (and later the server) to stop.
    pub shutdown: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("db", &self.db)
            .field("signs", &self.kek.is_some())
            .field("redis", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Connects to the configured database (and migrates when `migrate`) and, when configured,
    /// Redis (lazily: a Redis outage does not stop the start).
    pub async fn connect(settings: &Settings, migrate: bool) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(settings.database.url.as_ref().map(|s| s.expose()));
        let db = DbStore::connect(&url, settings.database.max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the {} database: {e}", url.backend_name()))?;
        if migrate {
            let applied = db
                .migrate()
                .await
                .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied migrations");
            }
        }
        let sqlite_dir = match &url {
            DatabaseUrl::Sqlite(p) => Some(
                p.parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default(),
            ),
            DatabaseUrl::Postgres(_) => None,
        };
        let hasher = TokenHasher::from_config(
            settings
                .security
                .token_hash_key
                .as_ref()
                .map(|s| s.expose()),
            sqlite_dir.as_deref(),
        )?;
        let kek_secret = match (&settings.security.key_encryption_key, &sqlite_dir) {
            (Some(k), _) => Some(k.expose().to_owned()),
            (None, Some(dir)) => Some(configured_or_generated(
                None,
                Some(dir),
                "key-encryption.key",
                "security.key_encryption_key",
                "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY",
            )?),
            (None, None) => None,
        };
        let kek = kek_secret
            .map(|k| KeyEncryptionKey::new(k.as_bytes()).map(Arc::new))
            .transpose()?;
        let redis_url = settings
            .redis
            .url
            .as_ref()
            .map(|u| u.expose().trim().to_owned())
            .filter(|u| !u.is_empty());
        let redis = redis_url.as_deref().map(redis_connection).transpose()?;
        type Queues = (Arc<dyn JobQueue>, Arc<dyn JobConsumer>, Arc<dyn JobQueue>);
        let (queue, consumer, sweep_queue): Queues = match &redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())
                    .map_err(|e| anyhow::anyhow!("redis.url is not a Redis URL: {e}"))?;
                let mut config = RedisQueueConfig::new(
                    settings.redis.key_prefix.clone(),
                    RedisQueueConfig::unique_consumer(),
                );
                config.max_attempts = settings.sync.max_attempts.max(1);
                config.claim_idle = Duration::from_secs(settings.sync.claim_idle_seconds.max(1));
                let q = Arc::new(RedisQueue::new(client, config));
                // SCIM requests never wait on Redis: announced in the background.
                let producer: Arc<dyn JobQueue> = Arc::new(BackgroundQueue::new(
                    q.clone(),
                    1024,
                    Duration::from_secs(1),
                ));
                (producer, q.clone(), q)
            }
            None => {
                let config = MemoryQueueConfig {
                    max_attempts: settings.sync.max_attempts.max(1),
                    ..MemoryQueueConfig::default()
                };
                let q = Arc::new(MemoryQueue::new(config));
                (q.clone(), q.clone(), q)
            }
        };
        Ok(Self {
            db: Arc::new(db),
            hasher,
            kek,
            redis,
            queue: Arc::new(Stamped(queue)),
            consumer,
            sweep_queue,
            shutdown: Arc::new(watch::channel(false).0),
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.db.clone()
    }

    /// Starts the team-sync worker on this runtime; it stops when [`Self::stop`] is called.
    pub fn spawn_worker(&self, settings: &Settings) -> tokio::task::JoinHandle<()> {
        let make_worker = {
            let (store, queue, consumer) = (
                self.store(),
                self.sweep_queue.clone(),
                self.consumer.clone(),
            );
            let sweep_every = Duration::from_secs(settings.sync.sweep_seconds.max(1));
            move || Worker {
                store: store.clone(),
                queue: queue.clone(),
                consumer: consumer.clone(),
                config: WorkerConfig {
                    sweep_every,
                    adopt_trace: crate::telemetry::adopt_job_contexts,
                    ..WorkerConfig::default()
                },
            }
        };
        match &self.kek {
            Some(kek) => match WebhookSender::new(SenderConfig::default()) {
                Ok(sender) => {
                    let dispatcher = Dispatcher {
                        store: self.store(),
                        secrets: kek.clone(),
                        sender,
                        policy: RetryPolicy::standard(),
                        every: Duration::from_secs(1),
                    };
                    tokio::spawn(dispatcher.run(self.shutdown.subscribe()));
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot build the webhook client: webhooks are not delivered")
                }
            },
            None => tracing::warn!(
                "security.key_encryption_key is not set: webhook secrets cannot be read, so webhooks are not delivered"
            ),
        }
        // Supervised: a panic in one sync (a bug) restarts the worker instead of leaving a
        // process that answers /healthz but syncs nothing; the unacked jobs come back.
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let run = tokio::spawn(make_worker().run(shutdown.subscribe()));
                match run.await {
                    Err(e) if e.is_panic() && !*shutdown.borrow() => {
                        tracing::error!(error = %e, "the sync worker panicked; restarting it in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    _ => break,
                }
            }
        })
    }

    /// Asks the worker to finish its batch and stop.
    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// The credential state of one process: it signs when `signs` and the key-encryption key
    /// is there.
    pub fn credential_state(&self, settings: &Settings, signs: bool) -> CredentialState {
        CredentialState::new(
            self.store(),
            self.kek.clone().filter(|_| signs),
            Duration::from_secs(settings.security.token_cache_seconds),
            settings.oauth.access_token_ttl_seconds.max(1),
        )
    }
}

fn redis_connection(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url)
        .map_err(|e| anyhow::anyhow!("redis.url is not a Redis URL: {e}"))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2);
    redis::aio::ConnectionManager::new_lazy_with_config(client, config)
        .map_err(|e| anyhow::anyhow!("cannot set up the Redis connection: {e}"))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the database answers and, if configured, Redis does.
async fn readyz(services: web::Data<Services>) -> HttpResponse {
    let database = match services.db.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(cause = %e, "readiness: database unavailable");
            "error"
        }
    };
    let redis = match &services.redis {
        None => "not configured",
        Some(conn) => {
            let mut conn = conn.clone();
            match redis::cmd("PING").query_async::<String>(&mut conn).await {
                Ok(_) => "ok",
                Err(e) => {
                    tracing::warn!(cause = %e, "readiness: Redis unavailable");
                    "error"
                }
            }
        }
    };
    let body = serde_json::json!({
        "status": if database == "ok" && redis != "error" { "ready" } else { "unavailable" },
        "database": database,
        "redis": redis,
    });
    if database == "ok" && redis != "error" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One span per request with its id (taken from `X-Request-Id` when sane, else generated),
/// echoed in the response, continuing the caller's W3C trace context; one access-log line; the
/// request counted and timed by route pattern (bounded: never the raw path, which names
/// tenants and users). Headers are never logged: they carry credentials.
async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    // The route pattern, from the app's resource map (known before the route runs).
    let route = req
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // OpenTelemetry HTTP server semantic conventions.
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        request_id = %id,
        http.request.method = %method,
        http.route = %route,
        url.path = %req.path(),
        http.response.status_code = tracing::field::Empty,
    );
    crate::telemetry::adopt_request_context(&span, req.headers());
    let start = Instant::now();
    let result = tracing::Instrument::instrument(next.call(req), span.clone()).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    record_request(&span, method.as_str(), &route, status, start.elapsed());
    let mut res = result?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

fn record_request(span: &tracing::Span, method: &str, route: &str, status: u16, elapsed: Duration) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            route,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "served"
        )
    });
    metrics::counter!(
        "scimgate_http_requests_total",
        "method" => method.to_owned(),
        "route" => route.to_owned(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "scimgate_http_request_duration_seconds",
        "method" => method.to_owned(),
        "route" => route.to_owned(),
    )
    .record(elapsed.as_secs_f64());
}

/// `GET /metrics`: the Prometheus text exposition format. A process running the worker reads
/// the queue's depth at scrape time (with a short limit: a scrape never hangs on Redis).
async fn metrics_endpoint(services: web::Data<Services>, parts: web::Data<Parts>) -> HttpResponse {
    if parts.sync {
        let depth =
            match tokio::time::timeout(Duration::from_secs(2), services.consumer.depth()).await {
                Ok(Ok(depth)) => Ok(depth),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 2 s".to_owned()),
            };
        match depth {
            Ok(depth) => {
                for (state, n) in [
                    ("ready", depth.ready),
                    ("in_flight", depth.in_flight),
                    ("retrying", depth.retrying),
                ] {
                    metrics::gauge!("scimgate_sync_queue_depth", "state" => state).set(n as f64);
                }
                metrics::gauge!("scimgate_sync_dead_letters").set(depth.dead as f64);
                metrics::gauge!("scimgate_sync_queue_up").set(1.0);
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read the sync queue's depth");
                metrics::gauge!("scimgate_sync_queue_up").set(0.0);
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::prometheus().render())
}

/// Stamps every job a request announces with the request's trace context and the time, so the
/// worker's span continues the request's trace and its latency is measured from the write.
struct Stamped(Arc<dyn JobQueue>);

#[async_trait::async_trait]
impl JobQueue for Stamped {
    async fn enqueue(&self, job: &scimgate_domain::jobs::Job) -> Result<(), QueueError> {
        let mut job = job.clone();
        if job.traceparent.is_none() {
            job.traceparent = crate::telemetry::current_traceparent();
        }
        if job.enqueued_at_ms.is_none() {
            job.enqueued_at_ms = Some(scimgate_domain::time::Timestamp::now().millis());
        }
        self.0.enqueue(&job).await
    }
}

/// The SCIM API's app data: its state and its authenticator.
type ScimData = (web::Data<ScimState>, web::Data<Arc<dyn Authenticator>>);

/// The per-process state of the parts, made once and shared by every worker.
struct PartStates {
    scim: Option<ScimData>,
    authz: Option<(web::Data<AuthzState>, web::Data<AdminState>)>,
}

async fn part_states(
    settings: &Settings,
    services: &Services,
    parts: Parts,
    listening: std::net::SocketAddr,
) -> anyhow::Result<PartStates> {
    let store = services.store();
    let tokens = settings.token_settings(Some(listening));
    let cache_ttl = Duration::from_secs(settings.security.token_cache_seconds);
    let credentials = Arc::new(services.credential_state(settings, parts.authz));
    if parts.authz {
        anyhow::ensure!(
            services.kek.is_some(),
            "security.key_encryption_key is required to serve the authorization server with \
             PostgreSQL: set SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY or ..._FILE to 32 or more random bytes"
        );
        credentials
            .ensure_signing_key()
            .await
            .map_err(|e| anyhow::anyhow!("signing key: {e}"))?;
    }
    let scim_auth = Arc::new(Credentials::new(
        StaticTokens::new(store.clone(), services.hasher.clone(), cache_ttl),
        AccessTokenVerifier {
            credentials: credentials.clone(),
            tokens: tokens.clone(),
        },
        store.clone(),
        cache_ttl,
    ));
    let scim = parts.scim.then(|| {
        let auth: Arc<dyn Authenticator> = scim_auth.clone();
        (
            web::Data::new(ScimState {
                store: store.clone(),
                config: settings.scim_config(),
                jobs: services.queue.clone(),
            }),
            web::Data::new(auth),
        )
    });
    let authz = if parts.authz {
        let limiter = Arc::new(FailureLimiter::new(
            settings.limit_settings(),
            services.redis.clone().map(|conn| RedisCounters {
                conn,
                prefix: settings.redis.key_prefix.clone(),
            }),
        ));
        let clients = Arc::new(ClientCache::new(cache_ttl));
        let on_revoke = {
            let (auth, clients) = (scim_auth.clone(), clients.clone());
            Arc::new(move || {
                auth.forget();
                clients.clear();
            })
        };
        Some((
            web::Data::new(AuthzState {
                store: store.clone(),
                hasher: services.hasher.clone(),
                credentials: credentials.clone(),
                clients,
                limiter: limiter.clone(),
                tokens,
                trust_forwarded_for: settings.security.trust_forwarded_for,
            }),
            web::Data::new(AdminState {
                store: store.clone(),
                hasher: services.hasher.clone(),
                operator_token: settings
                    .admin
                    .operator_token
                    .as_ref()
                    .map(|t| t.expose().to_owned())
                    .filter(|t| !t.is_empty()),
                credentials,
                limiter,
                default_overlap_seconds: settings.oauth.secret_rotation_overlap_seconds,
                on_revoke,
                tenant_auth: scim_auth.clone(),
                jobs: services.queue.clone(),
                consumer: services.consumer.clone(),
                secrets: services
                    .kek
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("the admin API needs the key-encryption key"))?,
            }),
        ))
    } else {
        None
    };
    Ok(PartStates { scim, authz })
}

/// Starts the server on `listener` with the given parts.
pub async fn serve(
    settings: &Settings,
    services: &Services,
    listener: TcpListener,
    parts: Parts,
) -> anyhow::Result<actix_web::dev::Server> {
    if let Some(t) = &settings.admin.operator_token
        && t.expose().len() < 32
    {
        anyhow::bail!("admin.operator_token must be at least 32 characters");
    }
    let states = part_states(settings, services, parts, listener.local_addr()?).await?;
    let services = web::Data::new(services.clone());
    let (scim, authz) = (states.scim, states.authz);
    let parts = web::Data::new(parts);
    crate::telemetry::prometheus();
    crate::telemetry::spawn_metrics_upkeep();
    let server = HttpServer::new(move || {
        let mut app = App::new()
            .app_data(services.clone())
            .wrap(from_fn(request_context))
            .app_data(parts.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics_endpoint))
            .route("/readyz", web::get().to(readyz));
        if let Some((authz, admin)) = &authz {
            app = app
                .app_data(authz.clone())
                .app_data(admin.clone())
                .configure(scimgate_authz::configure)
                .configure(scimgate_admin::configure);
        }
        if let Some((state, auth)) = &scim {
            app = app
                .app_data(state.clone())
                .app_data(auth.clone())
                .configure(scimgate_scim::configure);
        }
        app
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// A server with every part on an ephemeral port, for tests: returns its address and handle.
pub async fn spawn(
    settings: &Settings,
    services: &Services,
) -> anyhow::Result<(std::net::SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = serve(settings, services, listener, Parts::ALL).await?;
    let handle = server.handle();
    tokio::spawn(server);
    services.spawn_worker(settings);
    Ok((addr, handle))
}
