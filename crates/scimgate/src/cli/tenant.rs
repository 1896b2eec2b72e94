//! `scimgate tenant ...`: create, list, show tenants, change their settings (through the same
//! checks as the admin API) and Disconnect SCIM.

use clap::{Args, Subcommand, ValueEnum};
use scimgate_admin::change_settings;
use scimgate_authz::registry::{self, tenant_json};
use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::TenantStore as _;
use scimgate_domain::tenant::{
    ActivateOn, DeleteBehaviour, Slug, Tenant, TenantSettings, UniqueIdentifier,
};
use scimgate_domain::time::Timestamp;
use serde_json::json;

use super::tenant_by_slug;
use crate::app::Services;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum IdentifierArg {
    Email,
    #[value(name = "userName", alias = "username")]
    UserName,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum DeleteArg {
    Deactivate,
    Remove,
}

#[derive(Debug, Args)]
pub(super) struct SettingsArgs {
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
pub(super) enum ActivateArg {
    Provision,
    #[value(name = "first_sign_in", alias = "first-sign-in")]
    FirstSignIn,
}

/// The access settings, checked as the admin API checks them (`PATCH .../settings`).
#[derive(Debug, Args)]
pub(super) struct AccessArgs {
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
pub(super) struct SeatLimit(Option<u64>);

pub(super) fn parse_seat_limit(s: &str) -> Result<SeatLimit, String> {
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
pub(super) enum TenantCommand {
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

pub(super) async fn tenant_command(services: &Services, cmd: TenantCommand) -> anyhow::Result<()> {
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
