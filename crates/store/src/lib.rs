//! scimgate's storage: the domain's ports implemented with diesel-async on PostgreSQL
//! (production) and SQLite (the embedded default), one query path for both.

mod access;
mod access_rows;
mod attrs;
mod bump;
mod clients;
mod connection;
mod error;
mod filter_sql;
mod groups;
mod keys;
mod members;
mod paging;
mod rows;
mod schema;
mod sql;
mod sync;
mod tenants;
mod tokens;

pub use connection::{DatabaseUrl, DbStore};
