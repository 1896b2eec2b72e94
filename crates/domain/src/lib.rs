//! scimgate's domain: tenants, members, groups, the SCIM resource model, filters, PATCH and the
//! storage ports. No I/O, no web, database or queue library.

pub mod error;
pub mod filter;
pub mod patch;
pub mod schema;
