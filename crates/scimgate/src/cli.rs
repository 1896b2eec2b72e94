//! The command line operators script (DESIGN "the scimgate binary"): `serve`, `migrate`,
//! `tenant ...`, `token ...`, `client ...`, `keys ...`. With `--json` a command prints exactly one JSON object on its last
//! line; errors go to stderr with a non-zero exit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scimgate_admin::change_settings;
use scimgate_authz::registry::{self, client_json, key_json, tenant_json, token_json};
use scimgate_domain::ids::{ClientId, TenantId, TokenId};
use scimgate_domain::oauth::{ClientRecord, ScopeSet};
use scimgate_domain::ports::{ClientStore as _, KeyStore as _, TenantStore as _, TokenStore as _};
use scimgate_domain::tenant::{
    ActivateOn, DeleteBehaviour, Slug, Tenant, TenantSettings, UniqueIdentifier,
};
use scimgate_domain::time::Timestamp;
use serde_json::json;

use crate::app::{self, Parts, Services};
use crate::config::Settings;

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

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client; its secret is printed once and never stored.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "IdP")]
        name: String,
        /// Space-delimited scopes the client may get (default: scim:read scim:write).
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's clients (never their secrets).
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one client.
    Show {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a new secret; the old one keeps working for the overlap, then fails.
    Rotate {
        client_id: String,
        /// How long the old secret keeps working, e.g. `1h` (default:
        /// oauth.secret_rotation_overlap_seconds, 24 h).
        #[arg(long, value_parser = humantime::parse_duration)]
        overlap: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client: its secrets and its access tokens stop working.
    Revoke {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new signing key; the old ones stay published until their last token expires.
    Rotate {
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys (public information only).
    List {
        #[arg(long)]
        json: bool,
    },
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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ActivateArg {
    Provision,
    #[value(name = "first_sign_in", alias = "first-sign-in")]
    FirstSignIn,
}

/// The access settings, checked as the admin API checks them (`PATCH .../settings`).
#[derive(Debug, Args)]
struct AccessArgs {
    /// Every pushed group creates or links a team (SEMANTICS 19); off unlinks every team.
    #[arg(long)]
    team_sync: Option<bool>,
    /// The role of a member no mapped group and no `role` attribute places.
    #[arg(long)]
    default_initial_role: Option<String>,
    /// At most this many members take a seat; `none` for no limit.
    #[arg(long, value_parser = parse_seat_limit)]
    seat_limit: Option<SeatLimit>,
    /// When a new member gets access: at once, or at its first sign-in.
    #[arg(long)]
    activate_on: Option<ActivateArg>,
}

#[derive(Debug, Clone, Copy)]
struct SeatLimit(Option<u64>);

fn parse_seat_limit(s: &str) -> Result<SeatLimit, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(SeatLimit(None));
    }
    s.parse::<u64>()
        .map(|n| SeatLimit(Some(n)))
        .map_err(|_| format!("a seat limit is a whole number or `none`, not {s:?}"))
}

impl AccessArgs {
    fn apply(&self, s: &mut TenantSettings) {
        if let Some(v) = self.team_sync {
            s.team_sync = v;
        }
        if let Some(v) = &self.default_initial_role {
            s.default_initial_role.clone_from(v);
        }
        if let Some(SeatLimit(v)) = self.seat_limit {
            s.seat_limit = v;
        }
        if let Some(a) = self.activate_on {
            s.activate_on = match a {
                ActivateArg::Provision => ActivateOn::Provision,
                ActivateArg::FirstSignIn => ActivateOn::FirstSignIn,
            };
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
        #[command(flatten)]
        access: AccessArgs,
        #[arg(long)]
        json: bool,
    },
    /// Disconnect SCIM: revoke every OAuth2 client and static token of the tenant at once.
    /// Members, groups and settings stay.
    DisconnectScim {
        slug: String,
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

/// A lifetime or overlap from the command line, at most ten years.
fn bounded(flag: &str, d: std::time::Duration) -> anyhow::Result<i64> {
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    anyhow::ensure!(
        secs <= registry::MAX_LIFETIME_SECONDS,
        "{flag} must be at most ten years ({} seconds)",
        registry::MAX_LIFETIME_SECONDS
    );
    Ok(secs)
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

async fn tenant_command(services: &Services, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create {
            slug,
            name,
            settings,
            json,
        } => {
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
            services
                .db
                .insert_tenant(&tenant)
                .await
                .map_err(|e| match e {
                    scimgate_domain::ports::StoreError::Conflict { .. } => anyhow::anyhow!(
                        "a tenant with slug {:?} already exists",
                        tenant.slug.as_str()
                    ),
                    other => other.into(),
                })?;
            if json {
                println!(
                    "{}",
                    json!({ "id": tenant.id.as_str(), "slug": tenant.slug.as_str() })
                );
            } else {
                println!("created tenant {} ({})", tenant.slug, tenant.id);
            }
        }
        TenantCommand::List { json } => {
            let tenants = services.db.list_tenants().await?;
            if json {
                println!(
                    "{}",
                    json!({ "tenants": tenants.iter().map(tenant_json).collect::<Vec<_>>() })
                );
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
        TenantCommand::Settings {
            slug,
            settings,
            access,
            json,
        } => {
            let mut t = tenant_by_slug(services, &slug).await?;
            let mut after = t.settings.clone();
            settings.apply(&mut after);
            access.apply(&mut after);
            t.settings = change_settings(services.db.as_ref(), services.queue.as_ref(), &t, after)
                .await
                .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
            if json {
                println!("{}", tenant_json(&t));
            } else {
                println!("{}", serde_json::to_string_pretty(&t.settings)?);
            }
        }
        TenantCommand::DisconnectScim { slug, json } => {
            let t = tenant_by_slug(services, &slug).await?;
            let done = registry::disconnect(services.db.as_ref(), &t.id).await?;
            if json {
                println!(
                    "{}",
                    json!({ "tenant": slug, "clients_revoked": done.clients, "tokens_revoked": done.tokens })
                );
            } else {
                println!(
                    "disconnected SCIM for {slug}: revoked {} client(s) and {} static token(s)",
                    done.clients, done.tokens
                );
            }
        }
    }
    Ok(())
}

async fn token_command(services: &Services, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            tenant,
            expires_in,
            json,
        } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let expires = expires_in
                .map(|d| bounded("--expires-in", d).map(|s| Timestamp::now().plus_seconds(s)))
                .transpose()?;
            let (record, secret) = registry::create_static_token(
                services.db.as_ref(),
                &services.hasher,
                &t.id,
                expires,
            )
            .await?;
            let secret = secret.0;
            if json {
                println!("{}", json!({ "id": record.id.as_str(), "token": secret }));
            } else {
                println!(
                    "token id: {}\ntoken (shown once, store it now): {secret}",
                    record.id
                );
            }
        }
        TokenCommand::List { tenant, json } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let tokens = services.db.tokens_of(&t.id).await?;
            if json {
                println!(
                    "{}",
                    json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() })
                );
            } else {
                for k in &tokens {
                    let state = if k.revoked.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!("{}\t{state}\tcreated {}", k.id, k.created.to_rfc3339());
                }
            }
        }
        TokenCommand::Revoke { token_id, json } => {
            let found = services
                .db
                .revoke_token(&TokenId::from_raw(token_id.clone()), Timestamp::now())
                .await?;
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

/// The client and the slug of its tenant, or an error naming the id.
async fn client_and_slug(services: &Services, id: &str) -> anyhow::Result<(ClientRecord, String)> {
    let c = services
        .db
        .client(&ClientId::from_raw(id))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no client with id {id:?}"))?;
    let slug = services
        .db
        .tenant_by_id(&c.tenant_id)
        .await?
        .map(|t| t.slug.to_string())
        .unwrap_or_default();
    Ok((c, slug))
}

fn print_client(c: &ClientRecord, slug: &str, json: bool) -> anyhow::Result<()> {
    let body = client_json(c, slug);
    if json {
        println!("{body}");
    } else {
        println!("{}", serde_json::to_string_pretty(&body)?);
    }
    Ok(())
}

async fn client_command(
    services: &Services,
    settings: &Settings,
    cmd: ClientCommand,
) -> anyhow::Result<()> {
    let store = services.db.as_ref();
    match cmd {
        ClientCommand::Create {
            tenant,
            name,
            scope,
            json,
        } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let scopes = match scope {
                Some(s) => ScopeSet::parse(&s)?,
                None => ScopeSet::scim(),
            };
            let (client, secret) =
                registry::create(store, &services.hasher, &t.id, &name, scopes).await?;
            if json {
                println!(
                    "{}",
                    json!({ "client_id": client.client_id.as_str(), "client_secret": secret.0 })
                );
            } else {
                println!(
                    "client_id: {}\nclient_secret (shown once, store it now): {}\nscope: {}",
                    client.client_id, secret.0, client.scopes
                );
            }
        }
        ClientCommand::List { tenant, json } => {
            let t = tenant_by_slug(services, &tenant).await?;
            let clients = store.clients_of(&t.id).await?;
            if json {
                let list: Vec<_> = clients.iter().map(|c| client_json(c, &tenant)).collect();
                println!("{}", json!({ "clients": list }));
            } else {
                for c in &clients {
                    let state = if c.revoked.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!("{}\t{state}\t{}\t{}", c.client_id, c.scopes, c.name);
                }
            }
        }
        ClientCommand::Show { client_id, json } => {
            let (c, slug) = client_and_slug(services, &client_id).await?;
            print_client(&c, &slug, json)?;
        }
        ClientCommand::Rotate {
            client_id,
            overlap,
            json,
        } => {
            let overlap = match overlap {
                Some(d) => bounded("--overlap", d)?,
                None => settings.oauth.secret_rotation_overlap_seconds,
            };
            let (c, secret) = registry::rotate(
                store,
                &services.hasher,
                &ClientId::from_raw(client_id.clone()),
                overlap,
            )
            .await?;
            let expires = c.previous_secret_expires.map(Timestamp::to_rfc3339);
            if json {
                println!(
                    "{}",
                    json!({
                        "client_id": c.client_id.as_str(),
                        "client_secret": secret.0,
                        "previous_secret_expires": expires,
                    })
                );
            } else {
                println!(
                    "client_id: {}\nnew client_secret (shown once, store it now): {}\nthe previous secret works until {}",
                    c.client_id,
                    secret.0,
                    expires.unwrap_or_default()
                );
            }
        }
        ClientCommand::Revoke { client_id, json } => {
            let c = registry::revoke(store, &ClientId::from_raw(client_id)).await?;
            if json {
                println!(
                    "{}",
                    json!({ "client_id": c.client_id.as_str(), "revoked": true })
                );
            } else {
                println!("revoked client {}", c.client_id);
            }
        }
    }
    Ok(())
}

async fn keys_command(
    services: &Services,
    settings: &Settings,
    cmd: KeysCommand,
) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate { json } => {
            anyhow::ensure!(
                services.kek.is_some(),
                "security.key_encryption_key is required to make signing keys"
            );
            let kid = services
                .credential_state(settings, true)
                .rotate()
                .await
                .map_err(|e| anyhow::anyhow!("key rotation failed: {e}"))?;
            if json {
                println!("{}", json!({ "kid": kid }));
            } else {
                println!(
                    "new signing key {kid}; the previous keys stay published until their tokens expire"
                );
            }
        }
        KeysCommand::List { json } => {
            let keys = services.db.signing_keys().await?;
            let list: Vec<_> = keys.iter().map(key_json).collect();
            if json {
                println!("{}", json!({ "keys": list }));
            } else {
                for k in &keys {
                    let state = if k.retired.is_some() {
                        "retired"
                    } else {
                        "current"
                    };
                    println!(
                        "{}\t{}\t{state}\tcreated {}",
                        k.kid,
                        k.alg,
                        k.created.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}
