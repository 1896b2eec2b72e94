//! Configuration, loaded once: built-in defaults → optional `scimgate.toml` →
//! `SCIMGATE__SECTION__KEY` environment variables → `SCIMGATE__SECTION__KEY_FILE` files for
//! secrets. Secrets never appear in `Debug`.

use std::path::Path;

use serde::Deserialize;

/// A secret string: never printed.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Http {
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Database {
    /// `postgres://...` for PostgreSQL; `sqlite://PATH` or empty for the embedded SQLite file.
    #[serde(default)]
    pub url: Option<Secret>,
    pub max_connections: usize,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Security {
    /// The HMAC key of stored token hashes (at least 32 bytes). Required with PostgreSQL; with
    /// SQLite a key is generated next to the database file when none is set.
    pub token_hash_key: Option<Secret>,
    /// How long a verified static token is trusted without asking the database again (0 =
    /// never cached). A revocation takes effect within this time.
    #[serde(default = "default_token_cache_seconds")]
    pub token_cache_seconds: u64,
    /// The key that seals access-token signing keys at rest (32+ bytes). Required to serve the
    /// authorization server with PostgreSQL; with SQLite generated next to the database file.
    #[serde(default)]
    pub key_encryption_key: Option<Secret>,
    /// Count failed client authentications against the `Forwarded` / `X-Forwarded-For` client
    /// instead of the peer address: only behind a proxy that sets it.
    #[serde(default)]
    pub trust_forwarded_for: bool,
}

fn default_token_cache_seconds() -> u64 {
    1
}

impl Default for Security {
    fn default() -> Self {
        Self {
            token_hash_key: None,
            token_cache_seconds: default_token_cache_seconds(),
            key_encryption_key: None,
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Log {
    /// `text` or `json`.
    pub format: String,
    /// An `EnvFilter` directive, e.g. `info` or `scimgate=debug,info`.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scim {
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub max_body_bytes: usize,
    pub bulk_max_operations: usize,
    pub bulk_max_payload_bytes: usize,
}

/// Traces (metrics are always on `/metrics`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Telemetry {
    /// The OTLP/HTTP endpoint of a collector, e.g. `http://otel-collector:4318` (`/v1/traces`
    /// is appended to a bare base URL); none → spans are not exported. The standard
    /// `OTEL_EXPORTER_OTLP_HEADERS` variable adds headers (a vendor's API key).
    pub otlp_endpoint: Option<String>,
    /// The `service.name` resource attribute of exported spans.
    pub service_name: String,
    /// The share of new traces sampled (0.0–1.0); a request carrying a `traceparent` keeps its
    /// caller's decision.
    pub sample_ratio: f64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "scimgate".to_owned(),
            sample_ratio: 1.0,
        }
    }
}

/// The OAuth2 authorization server.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OAuth {
    /// The `iss` of access tokens and the base of the metadata's URLs; default
    /// `http://<http.address>`. Set it to the public URL in production.
    pub issuer: Option<String>,
    /// The `aud` of access tokens: the SCIM API's URL; default `<issuer>/scim/v2`.
    pub audience: Option<String>,
    pub access_token_ttl_seconds: i64,
    /// Clock skew tolerated when checking `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
    /// How long a rotated client secret keeps working (`client rotate`).
    pub secret_rotation_overlap_seconds: i64,
    /// Failed client authentications allowed per window, per client and per source address.
    pub failed_auth_per_client: u32,
    pub failed_auth_per_address: u32,
    pub failed_auth_window_seconds: u64,
}

impl Default for OAuth {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            access_token_ttl_seconds: 3600,
            leeway_seconds: 30,
            secret_rotation_overlap_seconds: 24 * 3600,
            failed_auth_per_client: 20,
            failed_auth_per_address: 10,
            failed_auth_window_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Redis {
    /// `redis://` or `rediss://`; none → counters and queues in process.
    pub url: Option<Secret>,
    /// Prefix of every key this deployment writes.
    pub key_prefix: String,
}

impl Default for Redis {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "scimgate:".to_owned(),
        }
    }
}

/// The team-sync worker (`serve sync`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Sync {
    /// How often the sweeper looks for members and groups whose sync is behind.
    pub sweep_seconds: u64,
    /// Failed attempts before a job goes to the dead letters.
    pub max_attempts: u32,
    /// A job delivered to a worker that neither acked nor failed it within this time is
    /// reclaimed by another (XAUTOCLAIM).
    pub claim_idle_seconds: u64,
}

impl Default for Sync {
    fn default() -> Self {
        Self {
            sweep_seconds: 5,
            max_attempts: scimgate_sync::queue::DEFAULT_MAX_ATTEMPTS,
            claim_idle_seconds: scimgate_sync::queue::DEFAULT_CLAIM_IDLE.as_secs(),
        }
    }
}

/// The admin API (`/admin/v1`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// The operator credential (a bearer token of 32+ characters); none → the admin API
    /// refuses every request.
    pub operator_token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: Http,
    pub database: Database,
    #[serde(default)]
    pub security: Security,
    pub log: Log,
    pub scim: Scim,
    #[serde(default)]
    pub oauth: OAuth,
    #[serde(default)]
    pub redis: Redis,
    #[serde(default)]
    pub admin: Admin,
    #[serde(default)]
    pub sync: Sync,
    #[serde(default)]
    pub telemetry: Telemetry,
}

const SECRET_KEYS: [&str; 5] = [
    "database.url",
    "security.token_hash_key",
    "security.key_encryption_key",
    "redis.url",
    "admin.operator_token",
];

impl Settings {
    /// Loads the layers; `file` overrides the default `scimgate.toml` lookup.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let defaults = scimgate_scim::ScimConfig::default();
        let mut builder = config::Config::builder()
            .set_default("http.address", "127.0.0.1:8080")?
            .set_default("database.max_connections", 16)?
            .set_default("database.migrate_on_start", true)?
            .set_default("log.format", "text")?
            .set_default("log.level", "info")?
            .set_default("scim.default_page_size", defaults.default_page_size)?
            .set_default("scim.max_page_size", defaults.max_page_size)?
            .set_default("scim.max_body_bytes", defaults.max_body_bytes as u64)?
            .set_default(
                "scim.bulk_max_operations",
                defaults.bulk_max_operations as u64,
            )?
            .set_default(
                "scim.bulk_max_payload_bytes",
                defaults.bulk_max_payload_bytes as u64,
            )?;
        builder = match file {
            Some(f) => builder.add_source(config::File::from(f).required(true)),
            None => builder.add_source(config::File::with_name("scimgate.toml").required(false)),
        };
        builder = builder.add_source(
            config::Environment::with_prefix("SCIMGATE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        // `*_FILE` variables: the secret is the file's content (Kubernetes secrets as files).
        for key in SECRET_KEYS {
            let var = format!("SCIMGATE__{}_FILE", key.replace('.', "__").to_uppercase());
            if let Ok(path) = std::env::var(&var) {
                let content = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{var}: cannot read {path}: {e}"))?;
                builder = builder.set_override(key, content.trim().to_owned())?;
            }
        }
        let settings: Self = builder.build()?.try_deserialize()?;
        let overlap = settings.oauth.secret_rotation_overlap_seconds;
        anyhow::ensure!(
            (0..=scimgate_authz::registry::MAX_LIFETIME_SECONDS).contains(&overlap),
            "oauth.secret_rotation_overlap_seconds must be between 0 and {} (ten years), not {overlap}",
            scimgate_authz::registry::MAX_LIFETIME_SECONDS
        );
        anyhow::ensure!(
            (1..=scimgate_authz::registry::MAX_LIFETIME_SECONDS)
                .contains(&settings.oauth.access_token_ttl_seconds),
            "oauth.access_token_ttl_seconds must be between 1 and {}",
            scimgate_authz::registry::MAX_LIFETIME_SECONDS
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&settings.telemetry.sample_ratio),
            "telemetry.sample_ratio must be between 0.0 and 1.0, not {}",
            settings.telemetry.sample_ratio
        );
        if let Some(endpoint) = settings.telemetry.otlp_endpoint.as_deref()
            && !endpoint.trim().is_empty()
        {
            crate::telemetry::traces_url(endpoint)?;
        }
        Ok(settings)
    }

    /// What access tokens are issued and checked with, `issuer` defaulting to the address
    /// actually listened on.
    pub fn token_settings(
        &self,
        listening: Option<std::net::SocketAddr>,
    ) -> scimgate_authz::TokenSettings {
        let issuer = self.oauth.issuer.clone().unwrap_or_else(|| {
            let addr = listening.map_or_else(|| self.http.address.clone(), |a| a.to_string());
            format!("http://{addr}")
        });
        let issuer = issuer.trim_end_matches('/').to_owned();
        let audience = self
            .oauth
            .audience
            .clone()
            .unwrap_or_else(|| format!("{issuer}/scim/v2"));
        scimgate_authz::TokenSettings {
            issuer,
            audience,
            ttl_seconds: self.oauth.access_token_ttl_seconds.max(1),
            leeway_seconds: self.oauth.leeway_seconds,
        }
    }

    pub fn limit_settings(&self) -> scimgate_authz::LimitSettings {
        scimgate_authz::LimitSettings {
            per_client: self.oauth.failed_auth_per_client.max(1),
            per_address: self.oauth.failed_auth_per_address.max(1),
            window: std::time::Duration::from_secs(self.oauth.failed_auth_window_seconds.max(1)),
        }
    }

    pub fn scim_config(&self) -> scimgate_scim::ScimConfig {
        scimgate_scim::ScimConfig {
            default_page_size: self.scim.default_page_size,
            max_page_size: self.scim.max_page_size.max(1),
            max_body_bytes: self.scim.max_body_bytes,
            bulk_max_operations: self.scim.bulk_max_operations,
            bulk_max_payload_bytes: self.scim.bulk_max_payload_bytes,
        }
    }
}
