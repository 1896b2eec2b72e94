//! One page of a SCIM list (RFC 7644 §3.4.2.4) for any table: the filtered rows in order with
//! their total through a window function (one round trip), or only the total for `count=0`.

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_async::RunQueryDsl;
use scimgate_domain::ports::{ListQuery, Page, StoreError};

use crate::attrs::Target;
use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::filter_sql;
use crate::rows::CountRow;
use crate::sql::SqlFrag;

/// A row of a page: the entity's columns plus `total`.
pub(crate) trait PageRow: Sized {
    type Entity;
    fn total(&self) -> i64;
    fn into_entity(self) -> Result<Self::Entity, DbError>;
}

impl DbStore {
    /// `SELECT {columns}, COUNT(*) OVER () AS total {conditions} ORDER BY ... LIMIT ... OFFSET ...`
    /// where `conditions` is the `FROM ... WHERE ...` part.
    pub(crate) async fn load_page<R>(
        &self,
        columns: &str,
        target: Target,
        conditions: &SqlFrag,
        query: &ListQuery,
    ) -> Result<Page<R::Entity>, StoreError>
    where
        R: PageRow + QueryableByName<Pg> + QueryableByName<Sqlite> + Send + 'static,
    {
        let offset = i64::try_from(query.start_index.saturating_sub(1)).unwrap_or(i64::MAX);
        let limit = i64::try_from(query.count).unwrap_or(i64::MAX);
        let mut count_q = SqlFrag::new("SELECT COUNT(*) AS n");
        count_q.append(conditions);
        let count = || async {
            let n: Result<Vec<CountRow>, DbError> = with_conn!(self, conn => {
                count_q.clone().load::<CountRow>(conn).await.map_err(DbError::from)
            });
            Ok::<i64, StoreError>(CountRow::total(&n?))
        };
        if limit == 0 {
            let total = count().await?;
            return Ok(Page {
                total: u64::try_from(total).unwrap_or(0),
                items: Vec::new(),
            });
        }
        let mut q = SqlFrag::new(&format!("SELECT {columns}, COUNT(*) OVER () AS total"));
        q.append(conditions);
        let sort = query.sort.as_ref().map(|s| (&s.path, s.descending));
        filter_sql::order_by(target, sort, &mut q).map_err(|e| StoreError::InvalidQuery(e.0))?;
        q.sql(" LIMIT ")
            .bigint(limit)
            .sql(" OFFSET ")
            .bigint(offset);
        let rows: Result<Vec<R>, DbError> = with_conn!(self, conn => {
            q.load::<R>(conn).await.map_err(DbError::from)
        });
        let rows = rows?;
        let total = match rows.as_slice().first() {
            Some(r) => r.total(),
            // Past the last page the window function has no row to ride on.
            None if offset > 0 => count().await?,
            None => 0,
        };
        let items = rows
            .into_iter()
            .map(R::into_entity)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }
}
