//! HTTP tests of the SCIM API: each test starts the real app on port 0, on a fresh database of
//! each backend (SQLite and PostgreSQL; see `api/harness.rs`), and talks to it with reqwest.
//! PostgreSQL must be running (`SCIMGATE_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/client.rs"]
mod client;
#[path = "api/databases.rs"]
mod databases;
#[path = "api/harness.rs"]
mod harness;

#[path = "api/access.rs"]
mod access;
#[path = "api/discovery.rs"]
mod discovery;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/groups.rs"]
mod groups;
#[path = "api/isolation.rs"]
mod isolation;
#[path = "api/oauth.rs"]
mod oauth;
#[path = "api/oauth_admin.rs"]
mod oauth_admin;
#[path = "api/preconditions.rs"]
mod preconditions;
#[path = "api/projection.rs"]
mod projection;
#[path = "api/search_bulk.rs"]
mod search_bulk;
#[path = "api/tenant_admin.rs"]
mod tenant_admin;
#[path = "api/tenant_rules.rs"]
mod tenant_rules;
#[path = "api/user_lists.rs"]
mod user_lists;
#[path = "api/user_patch.rs"]
mod user_patch;
#[path = "api/users.rs"]
mod users;
