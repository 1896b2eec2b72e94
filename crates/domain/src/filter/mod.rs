//! SCIM filters (RFC 7644 §3.4.2.2): the AST, the parser, the canonical printer and the
//! in-memory evaluator used for value-filter PATCH paths. Translation to SQL lives in the store.

mod ast;
pub use ast::*;
