//! A bot's `TABLE` definitions as PostgreSQL: each bot has a schema of its own
//! (`bot_<name>`), so a bot reaches only its own tables; each definition is a table in
//! it. Loading a package compares the definitions with the tables that exist and plans
//! only changes that lose nothing: a new table, a new column. A column that a definition
//! no longer has, or whose type changed, is refused with the definition's position: the
//! data in it would be lost. [`apply_definitions`] runs this when a package loads.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::basic::ast::{Column, ExprKind, TableDef};
use crate::basic::diagnostics::{Diagnostic, Span};

use super::filter::{is_name, quote_ident};

/// The PostgreSQL schema of a bot's tables.
pub fn schema_of(bot: &str) -> String {
    let clean: String = bot
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("bot_{clean}")
}

/// The PostgreSQL type of a column as General Bots writes it.
pub fn sql_type(c: &Column) -> String {
    let size = |default: &str| match c.size.as_slice() {
        [n] => format!("{default}({n})"),
        [p, s] => format!("{default}({p},{s})"),
        _ => default.to_string(),
    };
    match c.ty.as_str() {
        "string" | "varchar" | "char" => match c.size.as_slice() {
            [n] => format!("varchar({n})"),
            _ => "text".to_string(),
        },
        "number" | "decimal" | "numeric" | "money" | "currency" => match c.size.as_slice() {
            [] => "numeric".to_string(),
            _ => size("numeric"),
        },
        "integer" | "int" | "bigint" => "bigint".to_string(),
        "smallint" => "smallint".to_string(),
        "double" | "float" | "real" => "double precision".to_string(),
        "date" => "date".to_string(),
        "datetime" | "timestamp" => "timestamptz".to_string(),
        "time" => "time".to_string(),
        "boolean" | "bool" => "boolean".to_string(),
        "guid" | "uuid" => "uuid".to_string(),
        "json" | "jsonb" | "object" | "array" => "jsonb".to_string(),
        "serial" => "bigserial".to_string(),
        // text, email, phone, url, file, image
        _ => "text".to_string(),
    }
}

/// The SQL default of a column, when it has one this server can express.
fn default_sql(c: &Column) -> Result<Option<String>, Diagnostic> {
    let Some(d) = &c.default else {
        return Ok(None);
    };
    let sql = match &d.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(f) if f.is_finite() => f.to_string(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "NULL".to_string(),
        ExprKind::Str(s) => format!("'{}'", s.replace('\'', "''")),
        ExprKind::Call(f, args) if args.is_empty() && (f == "now" || f == "today") => {
            if f == "now" { "now()" } else { "current_date" }.to_string()
        }
        ExprKind::Call(f, args) if args.is_empty() && (f == "uuid" || f == "guid") => {
            "gen_random_uuid()".to_string()
        }
        _ => {
            return Err(Diagnostic::error(
                d.span,
                format!(
                    "column '{}': a DEFAULT must be a number, a text, TRUE/FALSE, NULL, NOW(), TODAY() or UUID()",
                    c.name
                ),
            ))
        }
    };
    Ok(Some(sql))
}

fn check_name(what: &str, name: &str, span: Span) -> Result<(), Diagnostic> {
    if is_name(name) {
        Ok(())
    } else {
        Err(Diagnostic::error(
            span,
            format!("{what} '{name}' must be letters, digits and '_' (63 at most), not starting with a digit"),
        ))
    }
}

/// The statements that create a definition's table in the bot's schema.
pub fn create_table(bot: &str, def: &TableDef, span: Span) -> Result<Vec<String>, Diagnostic> {
    check_name("table", &def.name, span)?;
    let schema = quote_ident(&schema_of(bot));
    let mut cols = Vec::new();
    for c in &def.columns {
        check_name("column", &c.name, c.span)?;
        let mut line = format!("{} {}", quote_ident(&c.name), sql_type(c));
        if let Some(d) = default_sql(c)? {
            line.push_str(&format!(" DEFAULT {d}"));
        }
        cols.push(line);
    }
    let keys: Vec<String> = def
        .columns
        .iter()
        .filter(|c| c.key)
        .map(|c| quote_ident(&c.name))
        .collect();
    if !keys.is_empty() {
        cols.push(format!("PRIMARY KEY ({})", keys.join(", ")));
    }
    Ok(vec![
        format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{} ({})",
            quote_ident(&def.name),
            cols.join(", ")
        ),
    ])
}

/// The changes that bring an existing table (its columns and their PostgreSQL types, as
/// `information_schema` spells them) to its definition: new columns only. A column
/// dropped from the definition, or with another type, is an error at the definition.
pub fn alter_table(
    bot: &str,
    def: &TableDef,
    existing: &[(String, String)],
    span: Span,
) -> Result<Vec<String>, Diagnostic> {
    let schema = quote_ident(&schema_of(bot));
    let table = quote_ident(&def.name);
    for (name, _) in existing {
        if !def.columns.iter().any(|c| &c.name == name) {
            return Err(Diagnostic::error(
                span,
                format!(
                    "TABLE {}: column '{name}' exists with data and is no longer defined; \
                     dropping it would lose that data (keep the column, or drop it in the database yourself)",
                    def.name
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for c in &def.columns {
        match existing.iter().find(|(n, _)| n == &c.name) {
            Some((_, ty)) => {
                if !same_type(ty, &sql_type(c)) {
                    return Err(Diagnostic::error(
                        c.span,
                        format!(
                            "TABLE {}: column '{}' is {ty} in the database and {} here; changing its type is refused",
                            def.name,
                            c.name,
                            sql_type(c)
                        ),
                    ));
                }
            }
            None => {
                check_name("column", &c.name, c.span)?;
                let mut line = format!(
                    "ALTER TABLE {schema}.{table} ADD COLUMN {} {}",
                    quote_ident(&c.name),
                    sql_type(c)
                );
                if let Some(d) = default_sql(c)? {
                    line.push_str(&format!(" DEFAULT {d}"));
                }
                out.push(line);
            }
        }
    }
    Ok(out)
}

/// True when an `information_schema` data type is the type this server creates.
fn same_type(existing: &str, wanted: &str) -> bool {
    let base = |t: &str| -> String {
        let t = t.split('(').next().unwrap_or(t).trim().to_ascii_lowercase();
        match t.as_str() {
            "character varying" => "varchar".into(),
            "timestamp with time zone" => "timestamptz".into(),
            "time without time zone" => "time".into(),
            "bigserial" => "bigint".into(),
            other => other.to_string(),
        }
    };
    base(existing) == base(wanted)
}

/// A column of an existing table, as `information_schema` describes it.
#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

/// Creates or extends the tables that a script of `bot` defines (its top-level
/// `TABLE … END TABLE` blocks, as its compile found them) in the bot's schema. What
/// cannot be applied — a change that would lose data, a statement PostgreSQL refuses —
/// is returned as a problem naming the file and line (`shown`), and that table is left
/// as it was.
pub fn apply_definitions(
    conn: &mut PgConnection,
    bot: &str,
    shown: &str,
    tables: &[(TableDef, Span)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (def, span) in tables {
        let existing: Result<Vec<ColumnRow>, _> = diesel::sql_query(
            "SELECT column_name::text AS column_name, data_type::text AS data_type \
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 \
             ORDER BY ordinal_position",
        )
        .bind::<Text, _>(schema_of(bot))
        .bind::<Text, _>(&def.name)
        .load(conn);
        let existing: Vec<(String, String)> = match existing {
            Ok(rows) => rows
                .into_iter()
                .map(|r| (r.column_name, r.data_type))
                .collect(),
            Err(e) => {
                problems.push(format!("{shown}:{}: TABLE {}: {e}", *span, def.name));
                continue;
            }
        };
        let plan = if existing.is_empty() {
            create_table(bot, def, *span)
        } else {
            alter_table(bot, def, &existing, *span)
        };
        match plan {
            Ok(statements) => {
                let applied = conn.transaction::<_, diesel::result::Error, _>(|conn| {
                    for sql in &statements {
                        diesel::sql_query(sql.as_str()).execute(conn)?;
                    }
                    Ok(())
                });
                if let Err(e) = applied {
                    problems.push(format!("{shown}:{}: TABLE {}: {e}", *span, def.name));
                }
            }
            Err(d) => problems.push(format!("{shown}:{}: {}", d.span, d.message)),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basic::ast::{Stmt, StmtKind};
    use crate::basic::{parser, tokenizer};

    fn def(src: &str) -> TableDef {
        let script = parser::parse(tokenizer::tokenize(src).unwrap()).unwrap();
        match script.body.into_iter().next() {
            Some(Stmt {
                kind: StmtKind::Table(t),
                ..
            }) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn definitions_become_tables() {
        let d = def("TABLE orders\n id GUID KEY\n total NUMBER(10,2) DEFAULT 0\n customer STRING(80)\n created DATETIME DEFAULT NOW()\n paid BOOLEAN\nEND TABLE\n");
        let sql = create_table("Customer-Support", &d, Span::new(1, 1)).unwrap();
        assert_eq!(
            sql[0],
            "CREATE SCHEMA IF NOT EXISTS \"bot_customer_support\""
        );
        assert_eq!(
            sql[1],
            "CREATE TABLE IF NOT EXISTS \"bot_customer_support\".\"orders\" (\"id\" uuid, \"total\" numeric(10,2) DEFAULT 0, \"customer\" varchar(80), \"created\" timestamptz DEFAULT now(), \"paid\" boolean, PRIMARY KEY (\"id\"))"
        );
    }

    #[test]
    fn changes_that_lose_data_are_refused() {
        let d = def("TABLE t\n id INTEGER KEY\n name STRING\nEND TABLE\n");
        let existing = vec![
            ("id".to_string(), "bigint".to_string()),
            ("old".to_string(), "text".to_string()),
        ];
        let err = alter_table("b", &d, &existing, Span::new(1, 1)).unwrap_err();
        assert!(err.message.contains("column 'old'"), "{}", err.message);
        let existing = vec![("id".to_string(), "text".to_string())];
        let err = alter_table("b", &d, &existing, Span::new(1, 1)).unwrap_err();
        assert_eq!(err.span, Span::new(2, 2));
        let existing = vec![("id".to_string(), "bigint".to_string())];
        let add = alter_table("b", &d, &existing, Span::new(1, 1)).unwrap();
        assert_eq!(
            add,
            vec!["ALTER TABLE \"bot_b\".\"t\" ADD COLUMN \"name\" text"]
        );
    }
}
