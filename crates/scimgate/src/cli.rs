//! The command line operators script (DESIGN "the scimgate binary"): `serve`, `migrate`,
//! `tenant ...`, `token ...`, `client ...`, `keys ...`. With `--json` a command prints exactly one JSON object on its last
//! line; errors go to stderr with a non-zero exit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use scimgate_domain::ports::TenantStore as _;
use scimgate_domain::tenant::Tenant;
use serde_json::json;

use crate::app::{self, Parts, Services};
use crate::config::Settings;

mod credentials;
mod tenant;

use credentials::{
    ClientCommand, KeysCommand, TokenCommand, client_command, keys_command, token_command,
};
use tenant::{TenantCommand, tenant_command};

#[derive(Debug, Parser)]
#[command(
    name = "scimgate",
    version,
    about = "SCIM 2.0 provisioning gateway for multi-tenant SaaS"
)]
struct Cli {
    /// Configuration file (default: ./scimgate.toml when present).
    #[arg(long, global = true, env = "SCIMGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every part on one port (the SCIM API, the authorization server and the admin
    /// API, /healthz and /readyz), or one part: `serve authz`, `serve scim` or `serve sync`.
    Serve {
        /// One part only (production: each part its own Deployment).
        part: Option<PartArg>,
        /// Do not run pending migrations on start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run pending database migrations.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage static SCIM bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage OAuth2 clients (registered by support; the IdP exchanges them for access tokens).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PartArg {
    /// The OAuth2 authorization server and the admin API.
    Authz,
    /// The SCIM API.
    Scim,
    /// The team-sync worker: consumes jobs, reconciles teams and effective access, sweeps for
    /// anything behind. Its HTTP port answers /healthz and /readyz only.
    Sync,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = match crate::telemetry::init(&settings.log, &settings.telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: telemetry: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn tenant_by_slug(services: &Services, slug: &str) -> anyhow::Result<Tenant> {
    services
        .db
        .tenant_by_slug(slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tenant with slug {slug:?}"))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { part, no_migrate } => {
            let migrate = settings.database.migrate_on_start && !no_migrate;
            let services = Services::connect(&settings, migrate).await?;
            let listener = std::net::TcpListener::bind(&settings.http.address)
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.http.address))?;
            let parts = match part {
                None => Parts::ALL,
                Some(PartArg::Authz) => Parts {
                    scim: false,
                    authz: true,
                    sync: false,
                },
                Some(PartArg::Scim) => Parts {
                    scim: true,
                    authz: false,
                    sync: false,
                },
                Some(PartArg::Sync) => Parts {
                    scim: false,
                    authz: false,
                    sync: true,
                },
            };
            let address = listener.local_addr()?;
            if settings.oauth.issuer.is_none() && address.ip().is_unspecified() {
                tracing::warn!(
                    %address,
                    "oauth.issuer is not set and the listen address is unspecified: access tokens \
                     will name http://{address} as their issuer; set SCIMGATE__OAUTH__ISSUER to the public URL"
                );
            }
            let server = app::serve(&settings, &services, listener, parts).await?;
            tracing::info!(
                %address,
                scim = parts.scim,
                authz = parts.authz,
                sync = parts.sync,
                database = services.db.url().backend_name(),
                redis = services.redis.is_some(),
                issuer = %settings.token_settings(Some(address)).issuer,
                "scimgate serving"
            );
            let worker = parts.sync.then(|| services.spawn_worker(&settings));
            server.await?;
            // The server stopped (SIGTERM/SIGINT): let the worker finish its batch.
            services.stop();
            if let Some(w) = worker {
                let _finished = w.await;
            }
            Ok(())
        }
        Command::Migrate => {
            let services = Services::connect(&settings, false).await?;
            let applied = services.db.migrate().await?;
            println!("{}", json!({ "applied": applied }));
            Ok(())
        }
        Command::Tenant(cmd) => {
            let services = Services::connect(&settings, true).await?;
            tenant_command(&services, cmd).await
        }
        Command::Token(cmd) => {
            let services = Services::connect(&settings, true).await?;
            token_command(&services, cmd).await
        }
        Command::Client(cmd) => {
            let services = Services::connect(&settings, true).await?;
            client_command(&services, &settings, cmd).await
        }
        Command::Keys(cmd) => {
            let services = Services::connect(&settings, true).await?;
            keys_command(&services, &settings, cmd).await
        }
    }
}
