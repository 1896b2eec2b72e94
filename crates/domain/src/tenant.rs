//! Tenants and their provisioning settings (SEMANTICS.md rules 1, 8, 9, 22).

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::time::Timestamp;

/// A URL-safe tenant slug: 1–63 of `a-z 0-9 -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid tenant slug {0:?}: use 1-63 characters a-z, 0-9 and '-', starting with a letter or digit"
)]
pub struct InvalidSlug(pub String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidSlug> {
        let ok = !raw.is_empty()
            && raw.len() <= 63
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidSlug(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which attribute identifies a member across SCIM and pre-SCIM accounts (SEMANTICS 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum UniqueIdentifier {
    /// Label Studio, Datasaur: the member's email.
    #[default]
    Email,
    /// LaunchDarkly: the SCIM userName.
    UserName,
}

/// What SCIM DELETE does to a member (SEMANTICS 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum DeleteBehaviour {
    /// Label Studio: the member is deactivated and keeps its account.
    #[default]
    Deactivate,
    /// Datasaur: the member leaves the tenant.
    Remove,
}

/// When a new member gets access (SEMANTICS 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ActivateOn {
    /// A new member is active at once.
    #[default]
    Provision,
    /// Label Studio: a new member is not activated (no access, no seat) until the host
    /// application reports its first sign-in.
    FirstSignIn,
}

/// The role a member gets when no mapped group and no `role` attribute gives one (LD).
pub const DEFAULT_INITIAL_ROLE: &str = "reader";

fn default_initial_role() -> String {
    DEFAULT_INITIAL_ROLE.to_owned()
}

/// The tenant's provisioning settings, stored as one JSON document. Fields added later
/// default when an older document lacks them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantSettings {
    pub unique_identifier: UniqueIdentifier,
    pub delete_behaviour: DeleteBehaviour,
    /// LaunchDarkly: members added before SCIM cannot be deactivated through SCIM.
    pub protect_pre_scim_members: bool,
    /// Refuse attributes the schema does not know instead of ignoring them.
    pub strict_schema: bool,
    /// LaunchDarkly team sync: every pushed group creates or links a team (SEMANTICS 19).
    pub team_sync: bool,
    /// The organization role of a member no mapping and no `role` attribute places (LD).
    #[serde(default = "default_initial_role")]
    pub default_initial_role: String,
    /// At most this many members take a seat (active, with a role); none when absent (LS).
    pub seat_limit: Option<u64>,
    pub activate_on: ActivateOn,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            unique_identifier: UniqueIdentifier::default(),
            delete_behaviour: DeleteBehaviour::default(),
            protect_pre_scim_members: false,
            strict_schema: false,
            team_sync: false,
            default_initial_role: default_initial_role(),
            seat_limit: None,
            activate_on: ActivateOn::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: Slug,
    pub name: String,
    pub settings: TenantSettings,
    pub created: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_lowercase_url_safe_text() {
        assert!(Slug::parse("acme-corp").is_ok());
        assert!(Slug::parse("Acme").is_err());
        assert!(Slug::parse("-acme").is_err());
        assert!(Slug::parse("").is_err());
        assert!(Slug::parse("a/b").is_err());
    }

    #[test]
    fn settings_default_to_the_label_studio_rules() {
        let s: TenantSettings = serde_json::from_str("{}").unwrap_or_default();
        assert_eq!(s.unique_identifier, UniqueIdentifier::Email);
        assert_eq!(s.delete_behaviour, DeleteBehaviour::Deactivate);
        assert!(!s.protect_pre_scim_members);
        assert!(!s.team_sync);
        assert_eq!(s.default_initial_role, "reader");
        assert_eq!(s.seat_limit, None);
        assert_eq!(s.activate_on, ActivateOn::Provision);
    }

    #[test]
    fn an_older_settings_document_gains_the_new_defaults() {
        let s: TenantSettings =
            serde_json::from_str(r#"{"uniqueIdentifier":"userName","strictSchema":true}"#)
                .unwrap_or_default();
        assert_eq!(s.unique_identifier, UniqueIdentifier::UserName);
        assert!(s.strict_schema);
        assert_eq!(s.default_initial_role, "reader");
    }
}
