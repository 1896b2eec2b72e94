//! A SQL fragment with bound parameters that renders for either backend (`$1` on PostgreSQL,
//! `?` on SQLite), for the queries whose shape depends on the request (SCIM filters and sorts).
//! Values are always bound, never spliced into the text.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, Text, Untyped};

#[derive(Debug, Clone)]
enum Part {
    Sql(String),
    Text(String),
    BigInt(i64),
    Bool(bool),
}

/// A query built piece by piece. Load it with `diesel_async::RunQueryDsl::load` into a
/// `QueryableByName` row type.
#[derive(Debug, Clone, Default)]
pub struct SqlFrag {
    parts: Vec<Part>,
}

impl SqlFrag {
    pub fn new(sql: &str) -> Self {
        Self {
            parts: vec![Part::Sql(sql.to_owned())],
        }
    }
    pub fn sql(&mut self, sql: &str) -> &mut Self {
        match self.parts.last_mut() {
            Some(Part::Sql(s)) => s.push_str(sql),
            _ => self.parts.push(Part::Sql(sql.to_owned())),
        }
        self
    }
    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.parts.push(Part::Text(v.into()));
        self
    }
    /// ` IN (v1, v2, ...)` with every value bound.
    pub fn in_list(&mut self, values: &[String]) -> &mut Self {
        self.sql(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.text(v.as_str());
        }
        self.sql(")")
    }
    pub fn bigint(&mut self, v: i64) -> &mut Self {
        self.parts.push(Part::BigInt(v));
        self
    }
    pub fn boolean(&mut self, v: bool) -> &mut Self {
        self.parts.push(Part::Bool(v));
        self
    }
    pub fn is_empty(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, Part::Sql(s) if s.is_empty()))
    }
    pub fn append(&mut self, other: &SqlFrag) -> &mut Self {
        for p in &other.parts {
            match p {
                Part::Sql(s) => {
                    self.sql(s);
                }
                other => self.parts.push(other.clone()),
            }
        }
        self
    }
}

impl<DB> QueryFragment<DB> for SqlFrag
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Bool>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    bool: ToSql<Bool, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Cached as prepared statements by SQL text: the text depends only on the filter's
        // shape, every value is a bind parameter.
        for part in &self.parts {
            match part {
                Part::Sql(s) => out.push_sql(s),
                Part::Text(v) => out.push_bind_param::<Text, String>(v)?,
                Part::BigInt(v) => out.push_bind_param::<BigInt, i64>(v)?,
                Part::Bool(v) => out.push_bind_param::<Bool, bool>(v)?,
            }
        }
        Ok(())
    }
}

impl QueryId for SqlFrag {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for SqlFrag {
    type SqlType = Untyped;
}
