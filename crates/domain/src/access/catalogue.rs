//! The role catalogue of a tenant (DESIGN "Roles, groups and teams"): organization roles in
//! priority order, highest first, and the custom role keys teams and members may carry.

use serde::{Deserialize, Serialize};

/// Names that are states or mapping targets, never roles.
pub const RESERVED_KEYS: [&str; 3] = ["deactivated", "not_activated", "inherit"];

/// An organization role or a custom role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDef {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl RoleDef {
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            name: None,
            description: None,
        }
    }
}

/// The catalogue. `roles` is ordered by priority: index 0 wins over every other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleCatalogue {
    pub roles: Vec<RoleDef>,
    #[serde(default)]
    pub custom_roles: Vec<RoleDef>,
}

/// The default organization roles, highest priority first (DESIGN).
pub const DEFAULT_ROLES: [&str; 6] = [
    "owner",
    "admin",
    "manager",
    "reviewer",
    "annotator",
    "reader",
];

impl Default for RoleCatalogue {
    fn default() -> Self {
        Self {
            roles: DEFAULT_ROLES.iter().map(|k| RoleDef::new(k)).collect(),
            custom_roles: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidCatalogue(pub String);

/// A role key: 1–64 of `a-z 0-9 _ - .`, starting with a letter or digit.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || b == b'.'
        })
        && key
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

impl RoleCatalogue {
    /// Checks keys: well-formed, not reserved, unique across both lists, at least one role.
    pub fn validate(&self) -> Result<(), InvalidCatalogue> {
        if self.roles.is_empty() {
            return Err(InvalidCatalogue(
                "the catalogue needs at least one organization role".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for r in self.roles.iter().chain(&self.custom_roles) {
            if !valid_key(&r.key) {
                return Err(InvalidCatalogue(format!(
                    "role key {:?} is not valid: use 1-64 characters a-z, 0-9, '_', '-' and '.', \
                     starting with a letter or digit",
                    r.key
                )));
            }
            if RESERVED_KEYS.contains(&r.key.as_str()) {
                return Err(InvalidCatalogue(format!(
                    "{:?} is a state, not a role, and cannot be in the catalogue",
                    r.key
                )));
            }
            if !seen.insert(r.key.as_str()) {
                return Err(InvalidCatalogue(format!(
                    "role key {:?} appears twice in the catalogue",
                    r.key
                )));
            }
        }
        Ok(())
    }

    /// The priority rank of an organization role: 0 is the highest; None if not in the catalogue.
    pub fn rank(&self, key: &str) -> Option<usize> {
        self.roles.iter().position(|r| r.key == key)
    }

    pub fn has_role(&self, key: &str) -> bool {
        self.rank(key).is_some()
    }

    pub fn has_custom_role(&self, key: &str) -> bool {
        self.custom_roles.iter().any(|r| r.key == key)
    }

    /// The higher-priority of two organization roles.
    pub fn higher<'a>(&self, a: &'a str, b: &'a str) -> &'a str {
        match (self.rank(a), self.rank(b)) {
            (Some(x), Some(y)) if y < x => b,
            (None, Some(_)) => b,
            _ => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_orders_owner_above_reader() {
        let c = RoleCatalogue::default();
        assert_eq!(c.rank("owner"), Some(0));
        assert_eq!(c.rank("reader"), Some(5));
        assert_eq!(c.higher("reader", "admin"), "admin");
        assert_eq!(c.higher("manager", "annotator"), "manager");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_catalogue_refuses_reserved_duplicate_and_malformed_keys() {
        let bad = |roles: &[&str], custom: &[&str]| RoleCatalogue {
            roles: roles.iter().map(|k| RoleDef::new(k)).collect(),
            custom_roles: custom.iter().map(|k| RoleDef::new(k)).collect(),
        };
        assert!(bad(&["admin", "deactivated"], &[]).validate().is_err());
        assert!(bad(&["admin"], &["admin"]).validate().is_err());
        assert!(bad(&["Admin"], &[]).validate().is_err());
        assert!(bad(&[], &["x"]).validate().is_err());
        assert!(bad(&["admin"], &["billing-viewer"]).validate().is_ok());
    }
}
