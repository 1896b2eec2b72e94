//! `scimgate token ...`, `scimgate client ...` and `scimgate keys ...`: the credentials support
//! manages from the command line.

use clap::Subcommand;
use scimgate_authz::registry::{self, client_json, key_json, token_json};
use scimgate_domain::ids::{ClientId, TokenId};
use scimgate_domain::oauth::{ClientRecord, ScopeSet};
use scimgate_domain::ports::{ClientStore as _, KeyStore as _, TenantStore as _, TokenStore as _};
use scimgate_domain::time::Timestamp;
use serde_json::json;

use super::tenant_by_slug;
use crate::app::Services;
use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub(super) enum ClientCommand {
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
pub(super) enum KeysCommand {
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

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
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

pub(super) fn bounded(flag: &str, d: std::time::Duration) -> anyhow::Result<i64> {
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    anyhow::ensure!(
        secs <= registry::MAX_LIFETIME_SECONDS,
        "{flag} must be at most ten years ({} seconds)",
        registry::MAX_LIFETIME_SECONDS
    );
    Ok(secs)
}

pub(super) async fn token_command(services: &Services, cmd: TokenCommand) -> anyhow::Result<()> {
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
pub(super) async fn client_and_slug(
    services: &Services,
    id: &str,
) -> anyhow::Result<(ClientRecord, String)> {
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

pub(super) fn print_client(c: &ClientRecord, slug: &str, json: bool) -> anyhow::Result<()> {
    let body = client_json(c, slug);
    if json {
        println!("{body}");
    } else {
        println!("{}", serde_json::to_string_pretty(&body)?);
    }
    Ok(())
}

pub(super) async fn client_command(
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

pub(super) async fn keys_command(
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
