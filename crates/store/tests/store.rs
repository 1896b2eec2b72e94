//! The store's integration tests: every port of `scimgate-store` against PostgreSQL and SQLite,
//! each test on a fresh database of each backend (see `store/backends.rs`). PostgreSQL must be
//! running (`SCIMGATE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "store/backends.rs"]
mod backends;
#[path = "store/fixtures.rs"]
mod fixtures;

#[path = "store/big_groups.rs"]
mod big_groups;
#[path = "store/concurrency.rs"]
mod concurrency;
#[path = "store/group_filters.rs"]
mod group_filters;
#[path = "store/groups.rs"]
mod groups;
#[path = "store/isolation.rs"]
mod isolation;
#[path = "store/literals.rs"]
mod literals;
#[path = "store/member_filters.rs"]
mod member_filters;
#[path = "store/members.rs"]
mod members;
#[path = "store/migrations.rs"]
mod migrations;
#[path = "store/oauth.rs"]
mod oauth;
#[path = "store/paging.rs"]
mod paging;
#[path = "store/tenants.rs"]
mod tenants;
#[path = "store/tokens.rs"]
mod tokens;
