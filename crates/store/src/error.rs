//! Storage errors: diesel's errors inside the store, the domain's `StoreError` at the ports.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use scimgate_domain::ports::StoreError;

/// The store's internal error; converted to [`StoreError`] at each port method.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Diesel(#[from] DieselError),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Domain(#[from] StoreError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Rows the transaction must write are being written by another one, and it chose not to
    /// wait for them (the caller retries later).
    #[error("rows are being written by another transaction")]
    Busy,
}

/// Names the unique key a constraint violation is about, from the constraint name (PostgreSQL)
/// or the message (SQLite: "UNIQUE constraint failed: members.tenant_id, members.user_name_lc").
fn conflict_subject(text: &str) -> &'static str {
    if text.contains("user_name") {
        "userName"
    } else if text.contains("identifier") {
        "the unique identifier"
    } else if text.contains("display_name") {
        "displayName"
    } else if text.contains("slug") {
        "slug"
    } else {
        "a unique key"
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Diesel(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                info,
            )) => {
                let text = format!(
                    "{} {}",
                    info.constraint_name().unwrap_or_default(),
                    info.message()
                );
                StoreError::Conflict {
                    what: conflict_subject(&text),
                }
            }
            DbError::Diesel(DieselError::NotFound) => StoreError::NotFound,
            DbError::Domain(d) => d,
            other => StoreError::Backend(other.to_string()),
        }
    }
}
