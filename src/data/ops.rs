//! The data keywords (`FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`) run on a
//! bot's tables, through the connection of the run's transaction: a write commits with
//! the journal entry that records it, or not at all, so it happens once across crashes.
//!
//! Every statement is built from names checked against the table as PostgreSQL has it
//! (its columns and their types, read from the catalog) and values bound as parameters,
//! each cast to its column's type; a filter string is parsed by `filter.rs`, never
//! spliced. Each keyword runs under a savepoint, so a statement PostgreSQL refuses (a
//! duplicate key, text in a number column) fails the keyword with PostgreSQL's message
//! — a script error that `TRY` can catch — and leaves the run's transaction usable.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text};
use serde_json::{json, Map, Value as Json};

use super::filter::{self, is_name, quote_ident, Filter};
use super::schema::schema_of;
use crate::basic::context::DataCall;

/// Why a data keyword did not run.
#[derive(Debug)]
pub enum DataError {
    /// The script's mistake or a statement PostgreSQL refused: the keyword fails.
    Script(String),
    /// The database could not be used: the run is abandoned and tried again.
    Database(DieselError),
}

impl From<DieselError> for DataError {
    fn from(e: DieselError) -> Self {
        DataError::Database(e)
    }
}

/// A column of a table: its name and its PostgreSQL type as `format_type` spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
}

#[derive(QueryableByName)]
struct RowJson {
    #[diesel(sql_type = Jsonb)]
    row: Json,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The columns of `bot`'s table `table`, in order; empty when there is no such table.
pub fn columns(
    conn: &mut PgConnection,
    bot: &str,
    table: &str,
) -> Result<Vec<ColumnInfo>, DieselError> {
    let rows: Vec<ColumnRow> = diesel::sql_query(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r' \
         AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind::<Text, _>(schema_of(bot))
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ColumnInfo {
            name: r.name,
            ty: r.ty,
        })
        .collect())
}

/// The names of `bot`'s tables.
pub fn tables(conn: &mut PgConnection, bot: &str) -> Result<Vec<String>, DieselError> {
    let rows: Vec<TableName> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname",
    )
    .bind::<Text, _>(schema_of(bot))
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// How many rows `bot`'s `table` has.
pub fn count_rows(conn: &mut PgConnection, bot: &str, table: &str) -> Result<i64, DieselError> {
    let sql = format!("SELECT count(*) AS n FROM {}", qualified(bot, table));
    let c: Count = diesel::sql_query(sql).get_result(conn)?;
    Ok(c.n)
}

/// Up to `limit` rows of `bot`'s `table` after skipping `offset`, in the order of its
/// first column (for the API's table view).
pub fn rows(
    conn: &mut PgConnection,
    bot: &str,
    table: &str,
    cols: &[ColumnInfo],
    limit: i64,
    offset: i64,
) -> Result<Vec<Json>, DieselError> {
    let sql = format!(
        "SELECT to_jsonb(t) AS row FROM {} t {} LIMIT $1 OFFSET $2",
        qualified(bot, table),
        order_by(cols)
    );
    let rows: Vec<RowJson> = diesel::sql_query(sql)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.row).collect())
}

fn qualified(bot: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(&schema_of(bot)), quote_ident(table))
}

/// `ORDER BY` the first column, when its type can be ordered.
fn order_by(cols: &[ColumnInfo]) -> String {
    match cols.first() {
        Some(c) if !c.ty.starts_with("json") && !c.ty.starts_with("xml") => {
            format!("ORDER BY t.{}", quote_ident(&c.name))
        }
        _ => String::new(),
    }
}

/// A value as the text bound to its placeholder (cast to the column's type in SQL).
fn bound(value: &Json, ty: &str) -> Option<String> {
    if ty.starts_with("json") {
        return (!value.is_null()).then(|| value.to_string());
    }
    match value {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A statement and the values of its placeholders, in order.
struct Statement {
    sql: String,
    params: Vec<Option<String>>,
}

impl Statement {
    fn new() -> Statement {
        Statement {
            sql: String::new(),
            params: Vec::new(),
        }
    }

    /// A placeholder for `value`, cast to `ty`.
    fn param(&mut self, value: &Json, ty: &str) -> String {
        self.params.push(bound(value, ty));
        format!("CAST(${} AS {ty})", self.params.len())
    }

    /// The filter's condition, its values appended to the parameters.
    fn condition(&mut self, f: &Filter, cols: &[ColumnInfo]) -> Result<String, String> {
        let pairs: Vec<(String, String)> = cols
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        let cond = f.to_sql(&pairs, self.params.len() + 1)?;
        // A filter value is compared after a cast to its column's type (or as text, for
        // LIKE); it is bound as text either way.
        for p in &cond.params {
            self.params.push(bound(p, "text"));
        }
        Ok(cond.sql)
    }

    fn query(
        &self,
    ) -> diesel::query_builder::BoxedSqlQuery<'_, Pg, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(self.sql.as_str()).into_boxed::<Pg>();
        for p in &self.params {
            q = q.bind::<Nullable<Text>, _>(p.clone());
        }
        q
    }

    fn execute(&self, conn: &mut PgConnection) -> Result<usize, DieselError> {
        self.query().execute(conn)
    }

    fn load(&self, conn: &mut PgConnection) -> Result<Vec<Json>, DieselError> {
        let rows: Vec<RowJson> = self.query().load(conn)?;
        Ok(rows.into_iter().map(|r| r.row).collect())
    }
}

/// One data keyword on `bot`'s tables, through `conn` (the run's transaction), under a
/// savepoint. `FIND` fails when more than `max_rows` rows match.
pub fn run(
    conn: &mut PgConnection,
    bot: &str,
    call: &DataCall,
    max_rows: usize,
) -> Result<Json, DataError> {
    let keyword = call.keyword();
    let table = call.table().to_ascii_lowercase();
    let script = |m: String| DataError::Script(format!("{keyword} \"{table}\": {m}"));
    if !is_name(&table) {
        return Err(DataError::Script(format!(
            "{keyword}: '{}' is not a table name (letters, digits and '_'; a package \
             defines its tables with TABLE name … END TABLE)",
            call.table()
        )));
    }
    let cols = columns(conn, bot, &table)?;
    if cols.is_empty() {
        return Err(DataError::Script(format!(
            "{keyword}: bot '{bot}' has no table '{table}' (a package defines its tables \
             with TABLE {table} … END TABLE)"
        )));
    }
    let target = qualified(bot, &table);
    conn.transaction::<Json, DataError, _>(|conn| {
        let result = match call {
            DataCall::Find { filter, .. } => find(conn, &target, &cols, filter, max_rows),
            DataCall::Save { id, row, .. } => save(conn, &target, &cols, id, row).map(
                |n| json!({ "command": "save", "table": table, "id": id, "rows_affected": n }),
            ),
            DataCall::Insert { row, .. } => insert(conn, &target, &cols, row),
            DataCall::Update { filter, row, .. } => update(conn, &target, &cols, filter, row),
            DataCall::Delete { filter, .. } => delete(conn, &target, &cols, filter),
            DataCall::Merge {
                rows, keys, only, ..
            } => merge(conn, &target, &cols, rows, keys, only.as_deref()),
        };
        result.map_err(|e| match e {
            Step::Script(m) => script(m),
            Step::Db(e) => refused(e, &script),
        })
    })
}

/// What went wrong inside a keyword: the script's mistake, or a database error to sort.
enum Step {
    Script(String),
    Db(DieselError),
}

impl From<DieselError> for Step {
    fn from(e: DieselError) -> Self {
        Step::Db(e)
    }
}

impl From<String> for Step {
    fn from(m: String) -> Self {
        Step::Script(m)
    }
}

/// A statement PostgreSQL refused because of what it holds (a duplicate key, a missing
/// value, text in a number column) fails the keyword with its message; a lost
/// connection, a serialization failure or a deadlock abandons the run to be tried again.
fn refused(e: DieselError, script: &dyn Fn(String) -> DataError) -> DataError {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => DataError::Database(e),
        DieselError::DatabaseError(_, info)
            if info.message().contains("deadlock detected")
                || info.message().contains("terminating connection") =>
        {
            DataError::Database(DieselError::DatabaseError(DatabaseErrorKind::Unknown, info))
        }
        DieselError::DatabaseError(_, info) => {
            let mut m = info.message().to_string();
            if let Some(d) = info.details() {
                m.push_str(&format!(" ({d})"));
            }
            script(m)
        }
        other => DataError::Database(other),
    }
}

/// The table's column named `name` (as written, or in another case).
fn column<'c>(cols: &'c [ColumnInfo], name: &str) -> Result<&'c ColumnInfo, String> {
    cols.iter()
        .find(|c| c.name == name)
        .or_else(|| {
            let lower = name.to_lowercase();
            cols.iter().find(|c| c.name == lower)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            format!(
                "the table has no column '{name}' (its columns: {})",
                names.join(", ")
            )
        })
}

/// A filter over the table, its column names matched as [`column`] does.
fn parse_filter(text: &str, cols: &[ColumnInfo]) -> Result<Filter, String> {
    fn fix(f: Filter, cols: &[ColumnInfo]) -> Result<Filter, String> {
        Ok(match f {
            Filter::Cond {
                column: c,
                op,
                value,
            } => Filter::Cond {
                column: column(cols, &c)?.name.clone(),
                op,
                value,
            },
            Filter::And(a, b) => Filter::And(Box::new(fix(*a, cols)?), Box::new(fix(*b, cols)?)),
            Filter::Or(a, b) => Filter::Or(Box::new(fix(*a, cols)?), Box::new(fix(*b, cols)?)),
            Filter::All => Filter::All,
        })
    }
    fix(filter::parse(text)?, cols)
}

fn find(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    filter: &str,
    max_rows: usize,
) -> Result<Json, Step> {
    let f = parse_filter(filter, cols)?;
    let mut st = Statement::new();
    let cond = st.condition(&f, cols)?;
    st.sql = format!(
        "SELECT to_jsonb(t) AS row FROM {target} t WHERE {cond} {} LIMIT {}",
        order_by(cols),
        max_rows + 1
    );
    let rows = st.load(conn)?;
    if rows.len() > max_rows {
        return Err(Step::Script(format!(
            "more than {max_rows} rows match \"{filter}\"; narrow the filter (the limit is \
             BOTSERVER_FIND_MAX_ROWS)"
        )));
    }
    Ok(Json::Array(rows))
}

/// `SET a = $1, b = $2` for the row's columns (the given order).
fn assignments(
    st: &mut Statement,
    cols: &[ColumnInfo],
    row: &Map<String, Json>,
    skip: &[&str],
) -> Result<Vec<String>, String> {
    let mut sets = Vec::new();
    for (name, value) in row {
        let c = column(cols, name)?;
        if skip.contains(&c.name.as_str()) {
            continue;
        }
        let p = st.param(value, &c.ty);
        sets.push(format!("{} = {p}", quote_ident(&c.name)));
    }
    Ok(sets)
}

fn insert_statement(
    target: &str,
    cols: &[ColumnInfo],
    row: &Map<String, Json>,
    returning: &str,
) -> Result<Statement, String> {
    let mut st = Statement::new();
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (name, value) in row {
        let c = column(cols, name)?;
        names.push(quote_ident(&c.name));
        values.push(st.param(value, &c.ty));
    }
    st.sql = if names.is_empty() {
        format!("INSERT INTO {target} AS t DEFAULT VALUES {returning}")
    } else {
        format!(
            "INSERT INTO {target} AS t ({}) VALUES ({}) {returning}",
            names.join(", "),
            values.join(", ")
        )
    };
    Ok(st)
}

fn insert(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    row: &Map<String, Json>,
) -> Result<Json, Step> {
    let st = insert_statement(target, cols, row, "RETURNING to_jsonb(t) AS row")?;
    Ok(st.load(conn)?.into_iter().next().unwrap_or(Json::Null))
}

/// The row whose `id` is `id`: updated with `row`, or inserted. 1 either way.
fn save(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    id: &Json,
    row: &Map<String, Json>,
) -> Result<usize, Step> {
    let idc = column(cols, "id").map_err(|_| {
        "SAVE matches rows on their id, and the table has no column 'id'; use INSERT, or \
         MERGE with the key column"
            .to_string()
    })?;
    if id.is_null() {
        return Err(Step::Script("the id is NULL".to_string()));
    }
    let mut st = Statement::new();
    let sets = assignments(&mut st, cols, row, &[idc.name.as_str()])?;
    let idp = st.param(id, &idc.ty);
    let idq = quote_ident(&idc.name);
    st.sql = if sets.is_empty() {
        format!("SELECT count(*) AS n FROM {target} WHERE {idq} = {idp}")
    } else {
        format!(
            "UPDATE {target} SET {} WHERE {idq} = {idp}",
            sets.join(", ")
        )
    };
    let existing = |conn: &mut PgConnection| -> Result<usize, DieselError> {
        if sets.is_empty() {
            let c: Vec<Count> = st.query().load(conn)?;
            Ok(c.first().map_or(0, |c| c.n) as usize)
        } else {
            st.execute(conn)
        }
    };
    let matched = existing(conn)?;
    if matched > 0 {
        return Ok(matched);
    }
    let mut full = row.clone();
    full.retain(|k, _| !k.eq_ignore_ascii_case("id"));
    full.insert(idc.name.clone(), id.clone());
    let insert = insert_statement(target, cols, &full, "")?;
    Ok(match insert_or_again(conn, &insert, existing)? {
        Inserted::Now(n) | Inserted::Meanwhile(n) => n,
    })
}

/// What [`insert_or_again`] did.
enum Inserted {
    /// The row was inserted (the count).
    Now(usize),
    /// Another execution had inserted it: what the second try of `again` answered.
    Meanwhile(usize),
}

/// Inserts a row that was not there a moment ago. When another execution inserted the
/// same key meanwhile (a unique violation, once its transaction committed), `again` —
/// the update or lookup that found nothing before — runs once more and its count is the
/// answer; if it still finds nothing, the violation is the script's error.
fn insert_or_again(
    conn: &mut PgConnection,
    insert: &Statement,
    again: impl Fn(&mut PgConnection) -> Result<usize, DieselError>,
) -> Result<Inserted, Step> {
    match conn.transaction(|c| insert.execute(c)) {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            let n = again(conn)?;
            if n > 0 {
                Ok(Inserted::Meanwhile(n))
            } else {
                Err(Step::Db(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    info,
                )))
            }
        }
        other => Ok(Inserted::Now(other?)),
    }
}

fn needs_filter(filter: &str, what: &str) -> Result<(), Step> {
    if filter.trim().is_empty() {
        return Err(Step::Script(format!(
            "an empty filter would {what} every row; give one (\"id=7\")"
        )));
    }
    Ok(())
}

fn update(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    filter: &str,
    row: &Map<String, Json>,
) -> Result<Json, Step> {
    needs_filter(filter, "change")?;
    let f = parse_filter(filter, cols)?;
    let mut st = Statement::new();
    let sets = assignments(&mut st, cols, row, &[])?;
    if sets.is_empty() {
        return Err(Step::Script("no values to set".to_string()));
    }
    let cond = st.condition(&f, cols)?;
    st.sql = format!("UPDATE {target} SET {} WHERE {cond}", sets.join(", "));
    Ok(json!(st.execute(conn)?))
}

fn delete(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    filter: &str,
) -> Result<Json, Step> {
    needs_filter(filter, "delete")?;
    let f = parse_filter(filter, cols)?;
    let mut st = Statement::new();
    let cond = st.condition(&f, cols)?;
    st.sql = format!("DELETE FROM {target} WHERE {cond}");
    Ok(json!(st.execute(conn)?))
}

/// Each row updated where its key columns match (only `only`'s columns, when given), or
/// inserted when none matches. A row that matches with the same values is unchanged.
fn merge(
    conn: &mut PgConnection,
    target: &str,
    cols: &[ColumnInfo],
    rows: &[Map<String, Json>],
    keys: &[String],
    only: Option<&[String]>,
) -> Result<Json, Step> {
    let key_cols: Vec<&ColumnInfo> = keys
        .iter()
        .map(|k| column(cols, k))
        .collect::<Result<_, _>>()?;
    let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
    for (i, row) in rows.iter().enumerate() {
        // `WHERE key = … AND …`: the key values are the first parameters of both
        // statements below.
        let mut keyed = Statement::new();
        let mut conds = Vec::new();
        for k in &key_cols {
            let v = row
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&k.name))
                .map(|(_, v)| v)
                .ok_or_else(|| format!("row {} has no value for the key '{}'", i + 1, k.name))?;
            let p = keyed.param(v, &k.ty);
            conds.push(format!("{} = {p}", quote_ident(&k.name)));
        }
        let conds = conds.join(" AND ");
        let mut sets = Vec::new();
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut change = Statement {
            sql: String::new(),
            params: keyed.params.clone(),
        };
        for (n, v) in row {
            let c = column(cols, n)?;
            let is_key = key_cols.iter().any(|k| k.name == c.name);
            let wanted = only.is_none_or(|o| o.iter().any(|x| x.eq_ignore_ascii_case(n)));
            if !is_key && wanted {
                let p = change.param(v, &c.ty);
                sets.push(format!("{} = {p}", quote_ident(&c.name)));
                names.push(quote_ident(&c.name));
                values.push(p);
            }
        }
        change.sql = format!(
            "UPDATE {target} SET {} WHERE {conds} AND ROW({}) IS DISTINCT FROM ROW({})",
            sets.join(", "),
            names.join(", "),
            values.join(", ")
        );
        keyed.sql = format!("SELECT count(*) AS n FROM {target} WHERE {conds}");
        // 1 when the row was updated, 2 when it matched unchanged, 0 when there is none.
        let found = |conn: &mut PgConnection| -> Result<usize, DieselError> {
            if !sets.is_empty() && change.execute(conn)? > 0 {
                return Ok(1);
            }
            let c: Vec<Count> = keyed.query().load(conn)?;
            Ok(if c.first().map_or(0, |c| c.n) > 0 {
                2
            } else {
                0
            })
        };
        let outcome = match found(conn)? {
            0 => {
                let insert = insert_statement(target, cols, row, "")?;
                match insert_or_again(conn, &insert, found)? {
                    Inserted::Now(_) => 0,
                    Inserted::Meanwhile(n) => n,
                }
            }
            n => n,
        };
        match outcome {
            0 => inserted += 1,
            1 => updated += 1,
            _ => unchanged += 1,
        }
    }
    Ok(json!({
        "inserted": inserted,
        "updated": updated,
        "unchanged": unchanged,
        "total": rows.len(),
    }))
}
