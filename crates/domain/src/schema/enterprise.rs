//! The Enterprise User extension, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
//! (RFC 7643 §4.3), as RFC 7643 §8.7.1 publishes it.

use super::build::{complex, reference, string};
use super::types::{Mutability, Schema};

pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn schema() -> Schema {
    Schema {
        id: ENTERPRISE_USER_URN,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            string(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.",
            ),
            string("costCenter", "Identifies the name of a cost center."),
            string("organization", "Identifies the name of an organization."),
            string("division", "Identifies the name of a division."),
            string("department", "Identifies the name of a department."),
            complex(
                "manager",
                "The User's manager.  A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
                vec![
                    string(
                        "value",
                        "The id of the SCIM resource representing the User's manager.  REQUIRED.",
                    ),
                    reference(
                        "$ref",
                        &["User"],
                        "The URI of the SCIM resource representing the User's manager.  REQUIRED.",
                    ),
                    string(
                        "displayName",
                        "The displayName of the User's manager.  OPTIONAL and READ-ONLY.",
                    )
                    .mutability(Mutability::ReadOnly),
                ],
            ),
        ],
    }
}
