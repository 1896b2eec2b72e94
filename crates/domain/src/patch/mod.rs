//! The PATCH engine (RFC 7644 §3.5.2): parsing the request, applying operations to a
//! resource, and pulling group membership changes out so they never touch the whole list.

mod request;

pub use request::{OpKind, PATCH_OP_URN, PatchOp, PatchRequest};
