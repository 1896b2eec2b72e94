//! The PATCH engine (RFC 7644 §3.5.2): parsing the request, applying operations to a

mod apply;
mod multi;
mod request;
mod target;

pub use apply::{apply, apply_checked};
pub use request::{OpKind, PATCH_OP_URN, PatchOp, PatchRequest};
