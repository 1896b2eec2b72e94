//! The provisioning operations a SCIM request performs: each takes the tenant (resolved once at
//! the edge) and the store, applies the tenant's rules (SEMANTICS.md) and returns domain values
//! or a [`ScimError`]. No HTTP here: the SCIM service renders the results.

mod groups;
mod users;

pub use groups::*;
pub use users::*;

use crate::error::ScimError;
use crate::jobs::{Job, JobKind, JobQueue};
use crate::ports::StoreError;
use crate::tenant::Tenant;

/// The tenant a request acts for, the store it acts on and the queue its changes go to.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub store: &'a dyn crate::ports::Store,
    pub tenant: &'a Tenant,
    pub jobs: &'a dyn JobQueue,
}

impl Ctx<'_> {
    /// Tells the worker what changed (DESIGN "Change flow" step 1). The change is already
    /// committed and marked behind, so a failed enqueue only delays the sync until the
    /// sweeper finds it: it is logged, never returned to the IdP.
    pub(crate) async fn enqueue(&self, kind: JobKind, id: &str, version: i64) {
        let job = Job {
            tenant: self.tenant.id.clone(),
            kind,
            id: id.to_owned(),
            version,
            traceparent: None,
            enqueued_at_ms: None,
        };
        if let Err(e) = self.jobs.enqueue(&job).await {
            tracing::warn!(error = %e, kind = kind.as_str(), id, "could not enqueue a sync job; the sweeper will pick the change up");
        }
    }
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("tenant", &self.tenant.slug)
            .finish_non_exhaustive()
    }
}

/// How many times a write without If-Match is retried when another write won the race.
pub(crate) const WRITE_ATTEMPTS: usize = 5;

/// A client's If-Match / If-None-Match precondition (RFC 7644 §3.14, RFC 7232).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    #[default]
    None,
    /// `If-Match`: the versions the client accepts (`*` = any).
    IfMatch(Vec<String>),
}

/// The weak ETag of a version (RFC 7644 §3.14: `meta.version`).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// True when the If-Match list admits `version`; weak comparison (RFC 7232 §2.3.2).
pub fn etag_matches(list: &[String], version: i64) -> bool {
    let want = version.to_string();
    list.iter().any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/").trim_matches('"') == want
    })
}

pub(crate) fn check_precondition(p: &Precondition, version: i64) -> Result<(), ScimError> {
    match p {
        Precondition::IfMatch(list) if !etag_matches(list, version) => {
            Err(ScimError::precondition_failed(format!(
                "the resource is at version {}, not the one given in If-Match",
                etag(version)
            )))
        }
        _ => Ok(()),
    }
}

/// Storage failures as SCIM errors: the cause is logged, the client sees a safe message.
pub(crate) fn storage(e: StoreError) -> ScimError {
    match e {
        StoreError::Conflict { what } => {
            ScimError::uniqueness(format!("{what} is already taken in this tenant"))
        }
        StoreError::VersionMismatch => {
            ScimError::precondition_failed("the resource changed since it was read")
        }
        StoreError::NotFound => ScimError::not_found("resource not found"),
        // SEMANTICS 10: 403 with a detail that says so.
        StoreError::SeatLimit { limit } => ScimError::new(
            403,
            None,
            format!(
                "seat limit of {limit} reached: deactivate a member or raise the tenant's seat_limit"
            ),
        ),
        StoreError::InvalidQuery(msg) => ScimError::invalid_filter(msg),
        StoreError::Backend(msg) => {
            tracing::error!(cause = %msg, "storage failure");
            ScimError::internal()
        }
    }
}
