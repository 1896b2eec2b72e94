//! The PATCH engine (RFC 7644 §3.5.2): parsing the request, applying operations to a
//! resource, and pulling group membership changes out so they never touch the whole list.

mod apply;
mod members;
mod multi;
mod request;
mod target;

pub use apply::{apply, apply_checked};
pub use members::{MemberChange, split_member_changes};
pub use request::{OpKind, PATCH_OP_URN, PatchOp, PatchRequest};
