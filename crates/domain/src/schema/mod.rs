//! The SCIM schemas this server implements (RFC 7643 §4, §8.7.1) as data: the one source for
//! `/Schemas`, input validation, PATCH, filter typing (caseExact) and attribute projection.

mod access_ext;
mod build;
mod common;
mod discovery;
mod enterprise;
mod group;
mod lookup;
mod normalize;
mod projection;
mod resource_type;
mod types;
mod user;
mod value;

pub use discovery::{RESOURCE_TYPE_URN, SCHEMA_URN, resource_type_json, schema_json};
pub use enterprise::ENTERPRISE_USER_URN;
pub use group::GROUP_URN;
pub use lookup::ComplexScope;
pub(crate) use normalize::member_ids;
pub use normalize::{Normalized, normalize};
pub use projection::Projection;
pub use resource_type::*;
pub use types::*;
pub use user::USER_URN;
pub(crate) use value::{Unknowns, coerce, coerce_element, coerce_simple};
