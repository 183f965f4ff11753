//! Raw SQL as prepared statements. `diesel::sql_query` marks every query as unsafe to
//! cache, so PostgreSQL parses and plans each one again on every call: measured under
//! load, parse and bind (planning) took about as long as executing our statements. A
//! [`Sql`] query is prepared once per connection and reused by its text (PostgreSQL then
//! settles on a generic plan), with the same `.bind::<Type, _>(value)` interface.
//!
//! Use it for the statements of the runtime's hot paths. The API's list queries
//! (`executions::list`, `approvals::list`, `events::list`) stay with
//! `diesel::sql_query` on purpose: their optional filters are written as
//! `($n IS NULL OR column = $n)`, and a prepared statement soon runs on a generic plan
//! that must serve every combination of given and missing filters (so it cannot use the
//! index of the one filter given), while an unprepared query is planned afresh with its
//! values, the missing filters folded away.

use std::borrow::Cow;
use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A statement with `$n` placeholders and the values bound to them.
#[must_use = "a query runs only when loaded or executed"]
pub struct Sql<'f> {
    text: Cow<'static, str>,
    binds: Vec<Box<dyn Bind + Send + 'f>>,
}

/// A prepared statement of this text (bind its values with [`Sql::bind`]).
pub fn sql(text: impl Into<Cow<'static, str>>) -> Sql<'static> {
    Sql {
        text: text.into(),
        binds: Vec::new(),
    }
}

impl<'f> Sql<'f> {
    /// Binds the value of the next placeholder (`$1`, then `$2`, …).
    pub fn bind<ST, V>(self, value: V) -> Sql<'f>
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'f,
        ST: Send + 'f,
    {
        let mut binds = self.binds;
        binds.push(Box::new(Value::<ST, V> {
            value,
            st: PhantomData,
        }));
        Sql {
            text: self.text,
            binds,
        }
    }
}

trait Bind {
    fn push<'b>(&'b self, pass: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Value<ST, V> {
    value: V,
    st: PhantomData<ST>,
}

impl<ST, V> Bind for Value<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg>,
{
    fn push<'b>(&'b self, pass: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param::<ST, V>(&self.value)
    }
}

impl QueryFragment<Pg> for Sql<'_> {
    /// Writes the text with each `$n` replaced by the bind of the n-th value (Diesel
    /// numbers them afresh; a placeholder used twice binds its value twice).
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let text: &str = &self.text;
        let bytes = text.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
                let mut end = i + 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                let n: usize = text[i + 1..end].parse().unwrap_or(0);
                let bind = n
                    .checked_sub(1)
                    .and_then(|k| self.binds.get(k))
                    .ok_or_else(|| {
                        diesel::result::Error::QueryBuilderError(
                            format!("${n} has no bound value in: {text}").into(),
                        )
                    })?;
                out.push_sql(&text[start..i]);
                bind.push(&mut out)?;
                start = end;
                i = end;
            } else {
                i += 1;
            }
        }
        out.push_sql(&text[start..]);
        Ok(())
    }
}

impl QueryId for Sql<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Sql<'_> {}

#[cfg(test)]
mod tests {
    use super::sql;
    use diesel::pg::Pg;
    use diesel::sql_types::{Integer, Text};

    #[test]
    fn placeholders_are_renumbered_in_order_of_use() {
        let q = sql("SELECT $2::text, $1, $2, '$'")
            .bind::<Integer, _>(1)
            .bind::<Text, _>("a");
        let text = diesel::debug_query::<Pg, _>(&q).to_string();
        assert!(
            text.starts_with("SELECT $1::text, $2, $3, '$'"),
            "unexpected SQL: {text}"
        );
    }
}
