//! Roles, teams and effective access (SEMANTICS 11–20): the catalogue, the mappings the tenant
//! admin sets, and the pure function that turns a member's own attributes, groups and teams
//! into what the member may do. The worker calls it; nothing here does I/O.

mod catalogue;
mod model;
mod resolve;

pub use catalogue::*;
pub use model::*;
pub use resolve::*;

/// The URN of our User extension (`role`, `customRole`, `roleAttributes`; SEMANTICS 17).
/// Not under `urn:ietf:params:scim`: that namespace is for IANA-registered schemas (RFC 7643 §10).
pub const ACCESS_EXTENSION_URN: &str = "urn:scimgate:params:scim:schemas:extension:access:2.0:User";
