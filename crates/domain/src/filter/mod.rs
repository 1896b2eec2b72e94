//! SCIM filters (RFC 7644 §3.4.2.2): the AST, the parser, the canonical printer and the
//! in-memory evaluator used for value-filter PATCH paths. Translation to SQL lives in the store.

mod ast;
mod cursor;
mod eval;
mod literal;
mod op;
mod parse;
mod path;
mod print;

pub use ast::*;
pub use cursor::{MAX_INPUT_BYTES, MAX_NESTING};
pub use eval::{AttrLookup, matches};
pub use parse::parse_filter;
pub use path::parse_patch_path;

#[cfg(test)]
mod parse_error_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod path_tests;
#[cfg(test)]
mod print_tests;
#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod prop_tests;
