//! Our User extension for role attributes (LaunchDarkly's `role`, `customRole` and
//! `roleAttributes`; SEMANTICS 17), published in `/Schemas` and filterable like any attribute.

use super::build::{complex, string};
use super::types::{Schema, Uniqueness};
use crate::access::ACCESS_EXTENSION_URN;

pub(super) fn schema() -> Schema {
    Schema {
        id: ACCESS_EXTENSION_URN,
        name: "AccessUser",
        description: "Role attributes of a member: the base role, custom roles and role attributes, checked against the tenant's role catalogue",
        attributes: vec![
            string(
                "role",
                "The member's base organization role, a key of the tenant's role catalogue. Used when no mapped group gives a role.",
            )
            .case_exact(),
            string(
                "customRole",
                "Keys of custom roles of the tenant's catalogue. They aggregate with the custom roles of the member's teams.",
            )
            .case_exact()
            .multi(),
            complex(
                "roleAttributes",
                "Role attributes: each a key and its values.",
                vec![
                    string("key", "The role attribute's key.")
                        .case_exact()
                        .uniqueness(Uniqueness::None),
                    string("values", "The role attribute's values.")
                        .case_exact()
                        .multi(),
                ],
            )
            .multi(),
        ],
    }
}
