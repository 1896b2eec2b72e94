//! The core Group schema, `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2).

use super::build::{complex, reference, string};
use super::types::{Mutability, Schema};

pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub(super) fn schema() -> Schema {
    let immutable = Mutability::Immutable;
    Schema {
        id: GROUP_URN,
        name: "Group",
        description: "Group",
        attributes: vec![
            // RFC 7643 §4.2 says REQUIRED; the §8.7.1 listing says `"required": false`. We
            // refuse a group without a name, so discovery says `true`.
            string(
                "displayName",
                "A human-readable name for the Group. REQUIRED.",
            )
            .required(),
            // §8.7.1 lists value, $ref and type; `display` is added because IdPs send it
            // and we return it (§4.2 lists `display` for the User's `groups`, its mirror).
            complex(
                "members",
                "A list of members of the Group.",
                vec![
                    string("value", "Identifier of the member of this Group.")
                        .mutability(immutable),
                    reference(
                        "$ref",
                        &["User", "Group"],
                        "The URI corresponding to a SCIM resource that is a member of this Group.",
                    )
                    .mutability(immutable),
                    string(
                        "display",
                        "A human-readable name, primarily used for display purposes.",
                    )
                    .mutability(immutable),
                    string(
                        "type",
                        "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                    )
                    .canonical(&["User", "Group"])
                    .mutability(immutable),
                ],
            )
            .multi(),
        ],
    }
}
