//! The command line operators script (DESIGN "the scimgate binary"): `serve`, `migrate`,
//! `tenant ...`, `token ...`. With `--json` a command prints exactly one JSON object on its last
//! line; errors go to stderr with a non-zero exit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scimgate_domain::ids::{TenantId, TokenId};
use scimgate_domain::ports::{TokenRecord, TokenStore as _};
use scimgate_domain::tenant::{DeleteBehaviour, Slug, Tenant, TenantSettings, UniqueIdentifier};
use scimgate_domain::ports::TenantStore as _;
use scimgate_domain::time::Timestamp;
use serde_json::json;

use crate::app::{self, Services};
use crate::config::Settings;
use crate::tokens::generate_token;

#[derive(Debug, Parser)]
#[command(name = "scimgate", version, about = "SCIM 2.0 provisioning gateway for multi-tenant SaaS")]
struct Cli {
    /// Configuration file (default: ./scimgate.toml when present).
    #[arg(long, global = true, env = "SCIMGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the SCIM API, /healthz and /readyz.
    Serve {
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum IdentifierArg {
    Email,
    #[value(name = "userName", alias = "username")]
    UserName,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeleteArg {
    Deactivate,
    Remove,
}

#[derive(Debug, Args)]
struct SettingsArgs {
    /// The attribute that identifies a member (SEMANTICS 1).
    #[arg(long)]
    unique_identifier: Option<IdentifierArg>,
    /// What SCIM DELETE does (SEMANTICS 8).
    #[arg(long)]
    delete_behaviour: Option<DeleteArg>,
    /// Forbid deactivating members added before SCIM (SEMANTICS 9).
    #[arg(long)]
    protect_pre_scim_members: Option<bool>,
    /// Refuse attributes the schema does not know (SEMANTICS 22).
    #[arg(long)]
    strict_schema: Option<bool>,
}

impl SettingsArgs {
    fn apply(&self, s: &mut TenantSettings) {
        if let Some(u) = self.unique_identifier {
            s.unique_identifier = match u {
                IdentifierArg::Email => UniqueIdentifier::Email,
                IdentifierArg::UserName => UniqueIdentifier::UserName,
            };
        }
        if let Some(d) = self.delete_behaviour {
            s.delete_behaviour = match d {
                DeleteArg::Deactivate => DeleteBehaviour::Deactivate,
                DeleteArg::Remove => DeleteBehaviour::Remove,
            };
        }
        if let Some(p) = self.protect_pre_scim_members {
            s.protect_pre_scim_members = p;
        }
        if let Some(p) = self.strict_schema {
            s.strict_schema = p;
        }
    }
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        settings: SettingsArgs,
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant and its settings.
    Show {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a tenant's provisioning settings.
    Settings {
        slug: String,
        #[command(flatten)]
        settings: SettingsArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a static SCIM bearer token; it is printed once and never stored.
    Create {
        #[arg(long)]
        tenant: String,
        /// Lifetime, e.g. `90d`, `12h` (default: no expiry).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's tokens (never their secrets).
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        token_id: String,
        #[arg(long)]
        json: bool,
    },
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
    crate::telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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

fn tenant_json(t: &Tenant) -> serde_json::Value {
    json!({
        "id": t.id.as_str(),
        "slug": t.slug.as_str(),
        "name": t.name,
        "settings": t.settings,
        "created": t.created.to_rfc3339(),
    })
}

fn token_json(t: &TokenRecord) -> serde_json::Value {
    json!({
        "id": t.id.as_str(),
        "tenant_id": t.tenant_id.as_str(),
        "created": t.created.to_rfc3339(),
        "expires": t.expires.map(Timestamp::to_rfc3339),
        "revoked": t.revoked.map(Timestamp::to_rfc3339),
    })
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
        Command::Serve { no_migrate } => {
            let migrate = settings.database.migrate_on_start && !no_migrate;
            let services = Services::connect(&settings, migrate).await?;
            let listener = std::net::TcpListener::bind(&settings.http.address)
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.http.address))?;
            tracing::info!(address = %listener.local_addr()?, database = services.db.url().backend_name(), "scimgate serving");
            app::serve(&settings, &services, listener)?.await?;
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
    }
}

async fn tenant_command(services: &Services, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create { slug, name, settings, json } => {
            let slug = Slug::parse(&slug)?;
            let mut tenant_settings = TenantSettings::default();
            settings.apply(&mut tenant_settings);
            let tenant = Tenant {
                id: TenantId::generate(),
                name: name.unwrap_or_else(|| slug.to_string()),
                slug,
                settings: tenant_settings,
                created: Timestamp::now(),
            };
            services.db.insert_tenant(&tenant).await.map_err(|e| match e {
                scimgate_domain::ports::StoreError::Conflict { .. } => anyhow::anyhow!("a tenant with slug {:?} already exists", tenant.slug.as_str()),
                other => other.into(),
            })?;
            if json {
                println!("{}", json!({ "id": tenant.id.as_str(), "slug": tenant.slug.as_str() }));
            } else {
                println!("created tenant {} ({})", tenant.slug, tenant.id);
            }
        }
        TenantCommand::List { json } => {
            let tenants = services.db.list_tenants().await?;
            if json {
                println!("{}", json!({ "tenants": tenants.iter().map(tenant_json).collect::<Vec<_>>() }));
            } else {
                for t in &tenants {
                    println!("{}\t{}\t{}", t.slug, t.id, t.name);
                }
            }
        }
        TenantCommand::Show { slug, json } => {
            let t = tenant_by_slug(services, &slug).await?;
            if json {
                println!("{}", tenant_json(&t));
            } else {
                println!("{}", serde_json::to_string_pretty(&tenant_json(&t))?);
            }
        }
        TenantCommand::Settings { slug, settings, json } => {
            let mut t = tenant_by_slug(services, &slug).await?;
            settings.apply(&mut t.settings);
            services.db.update_tenant_settings(&t.id, &t.settings).await?;
            if json {
                println!("{}", tenant_json(&t));
            } else {
                println!("{}", serde_json::to_string_pretty(&t.settings)?);
            }
        }
    }
    Ok(())
}

async fn token_command(services: &Services, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { tenant, expires_in, json } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let secret = generate_token()?;
            let now = Timestamp::now();
            let expires = expires_in.map(|d| now.plus_seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
            let record = TokenRecord {
                id: TokenId::generate(),
                tenant_id: t.id.clone(),
                hash: services.hasher.hash(&secret),
                created: now,
                expires,
                revoked: None,
            };
            services.db.insert_token(&record).await?;
            if json {
                println!("{}", json!({ "id": record.id.as_str(), "token": secret }));
            } else {
                println!("token id: {}\ntoken (shown once, store it now): {secret}", record.id);
            }
        }
        TokenCommand::List { tenant, json } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let tokens = services.db.tokens_of(&t.id).await?;
            if json {
                println!("{}", json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }));
            } else {
                for k in &tokens {
                    let state = if k.revoked.is_some() { "revoked" } else { "active" };
                    println!("{}\t{state}\tcreated {}", k.id, k.created.to_rfc3339());
                }
            }
        }
        TokenCommand::Revoke { token_id, json } => {
            let found = services.db.revoke_token(&TokenId::from_raw(token_id.clone()), Timestamp::now()).await?;
            anyhow::ensure!(found, "no token with id {token_id:?}");
            if json {
                println!("{}", json!({ "id": token_id, "revoked": true }));
            } else {
                println!("revoked token {token_id}");
            }
        }
    }
    Ok(())
}
