//! The SCIM schemas this server implements (RFC 7643 §4, §8.7.1) as data: the one source for
//! `/Schemas`, input validation, PATCH, filter typing (caseExact) and attribute projection.

mod types;
pub use types::*;
