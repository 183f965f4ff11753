//! Data keywords: `TABLE name … END TABLE` definitions, and `FIND`, `SAVE`, `INSERT`,
//! `UPDATE`, `DELETE`, `MERGE` over the tables they define.
//!
//! A definition parses into the AST ([`TableDef`]) with its columns, types, keys and
//! references; the server creates the table when the package loads (`data/schema.rs`),
//! and running the definition does nothing (it is a declaration, like `PARAM`).
//!
//! The keywords take General Bots' forms: `rows = FIND "t", "status=open"`,
//! `SAVE "t", id, data` or `SAVE "t", id, name, email` (the variables' names are the
//! columns), `row = INSERT "t", data` or `INSERT INTO "t" WITH a = 1, b = x`,
//! `n = UPDATE "t", "filter", data`, `n = DELETE "t", "filter"`,
//! `r = MERGE "t", rows, "key"`. Here they become a [`DataCall`]; what it does to the
//! database, in the run's transaction, is the host's business (`data/ops.rs`).

use rhai::{Array, Dynamic, Engine, ImmutableString};
use serde_json::Value as Json;

use super::{host_err, RhaiResult};
use crate::basic::ast::{Column, Expr, ExprKind, Stmt, StmtKind, TableDef};
use crate::basic::codegen::{quote, Codegen};
use crate::basic::context::{call_host, DataCall};
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

/// The data keywords, as their first word.
const OPS: &[&str] = &["find", "save", "insert", "update", "delete", "merge"];

/// Column types General Bots table definitions use.
const TYPES: &[&str] = &[
    "varchar",
    "char",
    "smallint",
    "real",
    "numeric",
    "jsonb",
    "string",
    "text",
    "number",
    "integer",
    "int",
    "bigint",
    "double",
    "float",
    "decimal",
    "money",
    "currency",
    "date",
    "datetime",
    "timestamp",
    "time",
    "boolean",
    "bool",
    "guid",
    "uuid",
    "json",
    "object",
    "array",
    "email",
    "phone",
    "url",
    "file",
    "image",
    "serial",
];

impl Parser {
    /// `TABLE name [ON connection] [READ BY …] [WRITE BY …]`, its column lines, `END TABLE`.
    pub(crate) fn table_statement(&mut self, opener: Span) -> PResult<Option<StmtKind>> {
        self.advance();
        let name = self.table_word("a table name after TABLE")?;
        let connection = if self.eat_word("on") {
            Some(self.table_word("a connection name after ON")?)
        } else {
            None
        };
        // READ BY / WRITE BY and the like: access rules, kept for nothing here.
        while !self.at_eol() {
            self.advance();
        }
        let mut columns: Vec<Column> = Vec::new();
        loop {
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if matches!(self.peek().tok, Tok::Eof) {
                return Err(Diagnostic::error(
                    opener,
                    "TABLE is not closed (expected END TABLE)",
                ));
            }
            if self.eat_words(&["end", "table"]) {
                break;
            }
            match self.column() {
                Ok(None) => {}
                Ok(Some(c)) => {
                    if columns.iter().any(|o| o.name == c.name) {
                        self.errors.push(Diagnostic::error(
                            c.span,
                            format!("column '{}' is defined twice in TABLE {name}", c.name),
                        ));
                    }
                    columns.push(c);
                }
                Err(e) => {
                    self.errors.push(e);
                    while !self.at_eol() {
                        self.advance();
                    }
                }
            }
        }
        Ok(Some(StmtKind::Table(TableDef {
            name,
            connection,
            columns,
        })))
    }

    /// A name in a table definition: an identifier (any word) or a string.
    fn table_word(&mut self, what: &str) -> PResult<String> {
        let t = self.peek().clone();
        let name = match &t.tok {
            Tok::Ident(s) => s.to_lowercase(),
            Tok::Str(parts) => match parts.as_slice() {
                [crate::basic::tokenizer::StrPart::Text(s)] => s.clone(),
                _ => return Err(self.unexpected(&format!("expected {what}"))),
            },
            _ => return Err(self.unexpected(&format!("expected {what}"))),
        };
        self.advance();
        Ok(name)
    }

    fn column(&mut self) -> PResult<Option<Column>> {
        let span = self.span();
        // A table-level constraint line (`(a, b)`, `PRIMARY KEY (a, b)`, `UNIQUE (a)`):
        // kept for nothing here.
        let constraint = self.at_sym("(")
            || [
                "primary",
                "unique",
                "foreign",
                "constraint",
                "check",
                "index",
            ]
            .iter()
            .any(|w| self.at_word(w) && !matches!(self.peek_n(1).tok, Tok::Ident(_)))
            || self.at_words(&["primary", "key"])
            || self.at_words(&["foreign", "key"]);
        if constraint {
            while !self.at_eol() {
                self.advance();
            }
            return Ok(None);
        }
        if self.at_word("field") && matches!(self.peek_n(1).tok, Tok::Ident(_)) {
            self.advance();
        }
        let name = self.table_word("a column name")?;
        self.eat_word("as");
        let t = self.peek().clone();
        let ty = match &t.tok {
            Tok::Ident(s) if TYPES.contains(&s.to_ascii_lowercase().as_str()) => {
                s.to_ascii_lowercase()
            }
            Tok::Ident(s) => {
                return Err(Diagnostic::error(
                    t.span,
                    format!(
                        "unknown column type '{s}'; expected one of {}",
                        TYPES.join(", ")
                    ),
                ))
            }
            _ => return Err(self.unexpected("expected a column type")),
        };
        self.advance();
        let mut size = Vec::new();
        if self.eat_sym("(") {
            loop {
                match self.peek().tok {
                    Tok::Int(n) => {
                        size.push(n);
                        self.advance();
                    }
                    _ => return Err(self.unexpected("expected a size in the column type")),
                }
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",", "between the sizes of the column type")?;
            }
        }
        let mut column = Column {
            name,
            ty,
            size,
            key: false,
            references: None,
            default: None,
            span,
        };
        while !self.at_eol() {
            if self.eat_word("key") || self.eat_words(&["primary", "key"]) {
                column.key = true;
            } else if self.eat_word("references") {
                column.references = Some(self.table_word("a table after REFERENCES")?);
                // `REFERENCES items(id)`: the column referred to.
                if self.eat_sym("(") {
                    self.table_word("a column in REFERENCES")?;
                    self.expect_sym(")", "after the column of REFERENCES")?;
                }
            } else if self.eat_word("default") {
                column.default = Some(self.expr()?);
            } else if self.eat_words(&["not", "null"])
                || self.eat_word("required")
                || self.eat_word("unique")
                || self.eat_word("index")
                || self.eat_word("null")
            {
            } else if self.eat_word("generated") {
                // `GENERATED ALWAYS AS (…)`: a computed column, its formula kept for nothing.
                while !self.at_eol() {
                    self.advance();
                }
            } else if self.at_words(&["read", "by"]) || self.at_words(&["write", "by"]) {
                self.advance();
                self.advance();
                self.expr()?;
            } else {
                return Err(self.unexpected("expected KEY, REFERENCES, DEFAULT or end of line"));
            }
        }
        Ok(Some(column))
    }
}

impl Parser {
    /// `FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE` or `MERGE` with its arguments, as a
    /// value or a statement. `None` when the word is something else here: a variable
    /// (`find = 1`), a longer keyword (`DELETE FILE`, `MERGE PDF`), or `DELETE "https://…"`.
    pub(crate) fn data_expr(&mut self, span: Span) -> PResult<Option<Expr>> {
        let Tok::Ident(w) = &self.peek().tok else {
            return Ok(None);
        };
        let w = w.to_ascii_lowercase();
        let Some(op) = OPS.iter().find(|o| **o == w).copied() else {
            return Ok(None);
        };
        if let Some((_, n)) = super::catalog::lookup(self) {
            if n > 1 {
                return Ok(None);
            }
        }
        let next = self.peek_n(1);
        let starts = match &next.tok {
            Tok::Str(_) | Tok::Sym("(") => true,
            Tok::Ident(x) => op == "insert" && x.eq_ignore_ascii_case("into"),
            _ => false,
        };
        if !starts {
            return Ok(None);
        }
        self.advance();
        let mut args = Vec::new();
        if op == "insert" && self.eat_word("into") {
            // `INSERT INTO "t" WITH a = 1, b = x`: the pairs are the row.
            args.push(self.concat()?);
            let with = self.span();
            self.expect_word("with", "INSERT INTO table")?;
            args.push(self.with_pairs(with)?);
        } else if self.eat_sym("(") {
            args = self.args(")")?;
        } else {
            args.push(self.concat()?);
            if self.at_word("set") || self.at_word("where") || self.at_word("on") {
                // `UPDATE "t" SET a = 1 WHERE …`, `MERGE INTO …`: other General Bots
                // forms, which this server does not run.
                while !self.at_eol() {
                    self.advance();
                }
                let name = format!("this form of {}", op.to_uppercase());
                return Ok(Some(Expr::new(ExprKind::Unavailable(name), span)));
            }
            while self.eat_sym(",") {
                while matches!(self.peek().tok, Tok::Newline) {
                    self.advance();
                }
                args.push(self.expr()?);
            }
        }
        let names = args
            .iter()
            .map(|a| match &a.kind {
                ExprKind::Var(n) | ExprKind::Member(_, n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        Ok(Some(Expr::new(ExprKind::Data { op, args, names }, span)))
    }

    /// `a = 1, b = x` after `WITH`, over several lines: a map of the pairs.
    fn with_pairs(&mut self, span: Span) -> PResult<Expr> {
        let mut pairs = Vec::new();
        loop {
            while matches!(self.peek().tok, Tok::Newline) && pairs.is_empty() {
                self.advance();
            }
            let name = self.table_word("a column name after WITH")?;
            self.expect_sym("=", "after the column name")?;
            pairs.push((name, self.expr()?));
            if !self.eat_sym(",") {
                break;
            }
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
        }
        Ok(Expr::new(ExprKind::Map(pairs), span))
    }
}

impl Codegen<'_> {
    /// A table definition runs as nothing (the table is made when the package loads).
    pub(crate) fn data_stmt(&mut self, _s: &Stmt) {}

    /// `k_data("find", [args…], [names…])`: the names are those of the arguments that
    /// are variables (`SAVE "t", id, name, email` makes the columns `name` and `email`).
    pub(crate) fn data_expr_code(&mut self, e: &Expr) {
        if let ExprKind::Data { op, args, names } = &e.kind {
            self.mark(e.span);
            self.w(&format!("k_data({}, [", quote(op)));
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(a);
            }
            self.w("], [");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                match n {
                    Some(n) => self.w(&quote(n)),
                    None => self.w("()"),
                }
            }
            self.w("])");
        }
    }
}

/// A map of column → value, from a script's map.
fn row_of(keyword: &str, v: &Dynamic) -> Result<serde_json::Map<String, Json>, String> {
    match value::to_json(v) {
        Json::Object(m) => Ok(m),
        other => Err(format!(
            "{keyword}: expected a map of column names to values, got {}",
            kind(&other)
        )),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "NULL",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// A filter argument: text (`"status=open"`); NULL or none is every row.
fn filter_of(keyword: &str, v: Option<&Dynamic>) -> Result<String, String> {
    match v {
        None => Ok(String::new()),
        Some(v) if v.is_unit() => Ok(String::new()),
        Some(v) if v.is_string() => Ok(value::display(v)),
        Some(v) => Err(format!(
            "{keyword}: the filter must be a text such as \"status=open\", got {}",
            kind(&value::to_json(v))
        )),
    }
}

/// The arguments of a data keyword in the shape of its operation.
fn call_of(op: &str, args: &[Dynamic], names: &[Dynamic]) -> Result<DataCall, String> {
    let keyword = op.to_uppercase();
    let keyword = keyword.as_str();
    let Some(table) = args.first() else {
        return Err(format!("{keyword} needs a table name"));
    };
    if !table.is_string() {
        return Err(format!(
            "{keyword}: the table must be a name in quotes, got {}",
            kind(&value::to_json(table))
        ));
    }
    let table = value::display(table).trim().to_string();
    let rest = &args[1..];
    let count = |min: usize, max: usize, usage: &str| {
        if rest.len() + 1 < min || rest.len() + 1 > max {
            Err(format!(
                "{keyword} takes {usage}; it was given {} argument(s)",
                rest.len() + 1
            ))
        } else {
            Ok(())
        }
    };
    Ok(match op {
        "find" => {
            count(1, 2, "a table and a filter (FIND \"t\", \"status=open\")")?;
            DataCall::Find {
                filter: filter_of(keyword, rest.first())?,
                table,
            }
        }
        "save" => save_call(table, rest, names.get(1..).unwrap_or(&[]))?,
        "insert" => {
            count(2, 2, "a table and a map of values (INSERT \"t\", row)")?;
            DataCall::Insert {
                row: row_of(keyword, &rest[0])?,
                table,
            }
        }
        "update" => {
            count(
                3,
                3,
                "a table, a filter and the new values (UPDATE \"t\", \"id=1\", row)",
            )?;
            DataCall::Update {
                filter: filter_of(keyword, rest.first())?,
                row: assignments(keyword, &rest[1])?,
                table,
            }
        }
        "delete" => {
            count(2, 2, "a table and a filter (DELETE \"t\", \"id=1\")")?;
            DataCall::Delete {
                filter: filter_of(keyword, rest.first())?,
                table,
            }
        }
        "merge" => {
            count(
                3,
                4,
                "a table, rows and the key columns (MERGE \"t\", rows, \"id\")",
            )?;
            let rows = match value::to_json(&rest[0]) {
                Json::Object(m) => vec![m],
                Json::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Json::Object(m) => Ok(m),
                        other => Err(format!(
                            "MERGE: every row must be a map, got {}",
                            kind(&other)
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(format!(
                        "MERGE: expected a map or a list of maps, got {}",
                        kind(&other)
                    ))
                }
            };
            let keys = names_list(&rest[1]);
            if keys.is_empty() {
                return Err(
                    "MERGE needs the key column(s) to match rows on, as \"id\" or \"a,b\"".into(),
                );
            }
            let only = rest.get(2).map(names_list);
            DataCall::Merge {
                table,
                rows,
                keys,
                only,
            }
        }
        other => return Err(format!("{other} is not a data keyword")),
    })
}

/// `"a,b"` or `["a", "b"]`: column names.
fn names_list(v: &Dynamic) -> Vec<String> {
    match value::to_json(v) {
        Json::Array(items) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => s.trim().to_string(),
                other => other.to_string(),
            })
            .filter(|s| !s.is_empty())
            .collect(),
        other => {
            let text = match other {
                Json::String(s) => s,
                Json::Null => String::new(),
                o => o.to_string(),
            };
            text.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }
    }
}

/// The new values of `UPDATE`: a map, or General Bots' text of pairs
/// (`"status=done, total=3"`).
fn assignments(keyword: &str, v: &Dynamic) -> Result<serde_json::Map<String, Json>, String> {
    if !v.is_string() {
        return row_of(keyword, v);
    }
    let text = value::display(v);
    let mut row = serde_json::Map::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, val)) = part.split_once('=') else {
            return Err(format!(
                "{keyword}: '{part}' is not column=value (the values are a map or \"a=1, b=2\")"
            ));
        };
        let val = val.trim().trim_matches('\'');
        row.insert(name.trim().to_string(), Json::String(val.to_string()));
    }
    Ok(row)
}

/// `SAVE "t", id, data` (a map), `SAVE "t", id, a, b, …` (the variables' names are the
/// columns), or `SAVE "t", data` with the id in the map.
fn save_call(table: String, rest: &[Dynamic], names: &[Dynamic]) -> Result<DataCall, String> {
    match rest {
        [] => Err("SAVE takes a table, an id and the values (SAVE \"t\", id, data)".into()),
        [data] => {
            let row = row_of("SAVE", data)?;
            let id = row.get("id").cloned().unwrap_or(Json::Null);
            if id.is_null() {
                return Err("SAVE \"t\", data: the map has no id (write SAVE \"t\", id, data, or INSERT for a new row)".into());
            }
            Ok(DataCall::Save { table, id, row })
        }
        [id, data] if data.is_map() => Ok(DataCall::Save {
            table,
            id: value::to_json(id),
            row: row_of("SAVE", data)?,
        }),
        [id, fields @ ..] => {
            let mut row = serde_json::Map::new();
            for (i, f) in fields.iter().enumerate() {
                let name = names
                    .get(i + 1)
                    .filter(|n| n.is_string())
                    .map(value::display);
                let Some(name) = name else {
                    return Err(format!(
                        "SAVE: value {} is not a variable, so it has no column name (name it with a variable, or pass a map)",
                        i + 3
                    ));
                };
                row.insert(name, value::to_json(f));
            }
            Ok(DataCall::Save {
                table,
                id: value::to_json(id),
                row,
            })
        }
    }
}

fn data(op: ImmutableString, args: Array, names: Array) -> RhaiResult {
    let call = call_of(op.as_str(), &args, &names).map_err(super::fail)?;
    let answer = call_host(|h| h.data(&call)).map_err(host_err)?;
    Ok(value::from_json(&answer))
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_data", data);
}
