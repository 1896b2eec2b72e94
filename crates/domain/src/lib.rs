//! scimgate's domain: tenants, members, groups, the SCIM resource model, filters, PATCH and the
//! storage ports. No I/O, no web, database or queue library.

pub mod access;
pub mod error;
pub mod filter;
pub mod group;
pub mod ids;
pub mod jobs;
pub mod member;
pub mod oauth;
pub mod patch;
pub mod ports;
pub mod provisioning;
pub mod schema;
pub mod secrets;
pub mod tenant;
pub mod time;
