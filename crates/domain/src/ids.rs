//! Typed identifiers. Ids are UUIDv7 strings: unique, opaque to clients, roughly time-ordered.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            /// Wraps an id read from storage or from a client; ids are opaque text.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A tenant: one enterprise customer of the SaaS product.
    TenantId
);
id_type!(
    /// A member of a tenant (a SCIM User).
    MemberId
);
id_type!(
    /// A group pushed by the tenant's identity provider (a SCIM Group).
    GroupId
);
id_type!(
    /// A static SCIM bearer token (not the secret itself).
    TokenId
);
id_type!(
    /// An OAuth2 client registered by support (RFC 6749 §2.2 `client_id`).
    ClientId
);
id_type!(
    /// A team: a set of members with custom roles, maintainers and a description (LD teams),
    /// linked to a group while team sync is on.
    TeamId
);
id_type!(
    /// A workspace of a tenant (LS workspaces): groups map to its membership.
    WorkspaceId
);
id_type!(
    /// A mapping from a group to a role, a workspace or a project role.
    MappingId
);
