//! The common attributes every resource carries (RFC 7643 §3.1): `id`, `externalId`, `meta`.
//! They belong to no schema, so `/Schemas` does not list them (as in RFC 7643 §8.7.1).

use super::build::{complex, date_time, reference, string};
use super::types::{AttributeDef, Mutability, Returned, Uniqueness};

pub(super) fn attributes() -> Vec<AttributeDef> {
    let ro = Mutability::ReadOnly;
    vec![
        string("id", "A unique identifier for a SCIM resource as defined by the service provider.")
            .case_exact()
            .mutability(ro)
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server),
        string("externalId", "A String that is an identifier for the resource as defined by the provisioning client.")
            .case_exact(),
        complex(
            "meta",
            "A complex attribute containing resource metadata.",
            vec![
                string("resourceType", "The name of the resource type of the resource.")
                    .case_exact()
                    .mutability(ro),
                date_time("created", "The \"DateTime\" that the resource was added to the service provider.")
                    .mutability(ro),
                date_time("lastModified", "The most recent DateTime that the details of this resource were updated at the service provider.")
                    .mutability(ro),
                reference("location", &["uri"], "The URI of the resource being returned.")
                    .case_exact()
                    .mutability(ro),
                string("version", "The version of the resource being returned.")
                    .case_exact()
                    .mutability(ro),
            ],
        )
        .mutability(ro),
    ]
}
