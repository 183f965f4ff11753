//! Data keywords: `TABLE name … END TABLE` definitions. They parse into the AST
//! ([`TableDef`]) with their columns, types, keys and references. The server creates the
//! tables when the package loads (`data/schema.rs`); running a definition does nothing
//! (it is a declaration, like `PARAM`). The data keywords are not provided yet, so
//! `check` says so.

use crate::basic::ast::{Column, Stmt, StmtKind, TableDef};
use crate::basic::codegen::Codegen;
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;

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

impl Codegen<'_> {
    /// A table definition runs as nothing; `check` says the table is not created.
    pub(crate) fn data_stmt(&mut self, s: &Stmt) {
        if let StmtKind::Table(t) = &s.kind {
            self.diags.push(Diagnostic::warning(
                s.span,
                format!(
                    "TABLE {}: the server creates this table when the package loads, but the \
                     data keywords (SAVE, FIND, …) are not available on this server yet",
                    t.name
                ),
            ));
        }
    }
}
