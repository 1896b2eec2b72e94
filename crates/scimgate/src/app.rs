//! The application, built by one function for `main` and for the tests: the store, the
//! authenticator, the SCIM API, health and readiness, request ids and access logs.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use scimgate_domain::ports::Store;
use scimgate_scim::{Authenticator, ScimState};
use scimgate_store::{DatabaseUrl, DbStore};

use crate::config::Settings;
use crate::tokens::{StaticTokens, TokenHasher};

/// Everything the running services share.
#[derive(Clone)]
pub struct Services {
    pub db: Arc<DbStore>,
    pub hasher: TokenHasher,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Connects to the configured database (and migrates when `migrate`).
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
        Ok(Self {
            db: Arc::new(db),
            hasher,
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.db.clone()
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(db: web::Data<Arc<DbStore>>) -> HttpResponse {
    match db.ping().await {
        Ok(()) => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": "ok" }))
        }
        Err(e) => {
            tracing::warn!(cause = %e, "readiness: database unavailable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "unavailable", "database": "error" }))
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One span per request with its id (taken from `X-Request-Id` when sane, else generated),
/// echoed in the response, and one access-log line. Headers are never logged: they carry
/// credentials.
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
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let start = Instant::now();
    let mut res = tracing::Instrument::instrument(next.call(req), span.clone()).await?;
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = start.elapsed().as_secs_f64() * 1000.0,
            "served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// Binds `listener` and starts the server; returns its handle and the server future.
pub fn serve(
    settings: &Settings,
    services: &Services,
    listener: TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    let store = services.store();
    let auth: Arc<dyn Authenticator> = Arc::new(StaticTokens::new(
        store.clone(),
        services.hasher.clone(),
        std::time::Duration::from_secs(settings.security.token_cache_seconds),
    ));
    let scim = web::Data::new(ScimState {
        store,
        config: settings.scim_config(),
    });
    let auth = web::Data::new(auth);
    let db = web::Data::new(services.db.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scim.clone())
            .app_data(auth.clone())
            .app_data(db.clone())
            .wrap(from_fn(request_context))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .configure(scimgate_scim::configure)
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// A server on an ephemeral port, for tests: returns its address and handle.
pub async fn spawn(
    settings: &Settings,
    services: &Services,
) -> anyhow::Result<(std::net::SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = serve(settings, services, listener)?;
    let handle = server.handle();
    tokio::spawn(server);
    Ok((addr, handle))
}
