//! General Bots filter strings (`FIND "orders", "status=open"`, `"name LIKE '%ana%'"`,
//! `"stage != 'won' AND total > 100"`) turned into a condition of parameterized SQL.
//!
//! A filter is data written by scripts (often built from user input), so it is parsed,
//! never spliced into SQL: columns must be names of the table's definition, operators
//! come from a fixed list, and every value becomes a bind parameter. Anything else —
//! a function, a sub-query, a comment — is an error that says what was expected.

use serde_json::Value as Json;

/// A comparison of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
    NotLike,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Like => "ILIKE",
            Op::NotLike => "NOT ILIKE",
        }
    }
}

/// A parsed filter: conditions joined by AND/OR, with parentheses.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `column op value`; `IS NULL` is `Eq` with a NULL value.
    Cond {
        column: String,
        op: Op,
        value: Json,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// An empty filter: every row.
    All,
}

/// A filter as SQL: the condition text with `$n` placeholders, and the values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlCondition {
    pub sql: String,
    pub params: Vec<Json>,
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Word(String),
    Text(String),
    Num(String),
    Op(Op),
    Open,
    Close,
}

fn lex(src: &str) -> Result<Vec<T>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(T::Open);
                i += 1;
            }
            ')' => {
                out.push(T::Close);
                i += 1;
            }
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("a quote {c} is not closed")),
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            text.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(T::Text(text));
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, n) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', _) => (Op::Gt, 1),
                    _ => return Err("'!' must be followed by '='".to_string()),
                };
                out.push(T::Op(op));
                i += n;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '.')
                {
                    i += 1;
                }
                out.push(T::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while chars.get(i).is_some_and(|d| {
                    d.is_alphanumeric() || *d == '_' || *d == '.' || *d == '@' || *d == '-'
                }) {
                    i += 1;
                }
                out.push(T::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<T>,
    pos: usize,
}

impl P {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.pos)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(T::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.word("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.atom()?;
        while self.word("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Filter, String> {
        if matches!(self.peek(), Some(T::Open)) {
            self.pos += 1;
            let f = self.or()?;
            if !matches!(self.peek(), Some(T::Close)) {
                return Err("a '(' is not closed".to_string());
            }
            self.pos += 1;
            return Ok(f);
        }
        let column = match self.peek() {
            Some(T::Word(w)) if is_name(w) => w.to_lowercase(),
            Some(T::Word(w)) => return Err(format!("'{w}' is not a column name")),
            other => return Err(format!("expected a column name, found {}", describe(other))),
        };
        self.pos += 1;
        if matches!(self.peek(), Some(T::Open)) {
            return Err(format!(
                "'{column}(…)': functions are not allowed in a filter; write column op value"
            ));
        }
        // `IS [NOT] NULL`, `[NOT] LIKE`, or a comparison.
        if self.word("is") {
            self.pos += 1;
            let negated = self.word("not");
            if negated {
                self.pos += 1;
            }
            if !self.word("null") {
                return Err(format!("expected NULL after '{column} IS'"));
            }
            self.pos += 1;
            let op = if negated { Op::Ne } else { Op::Eq };
            return Ok(Filter::Cond {
                column,
                op,
                value: Json::Null,
            });
        }
        let op = if self.word("not") {
            self.pos += 1;
            if !self.word("like") {
                return Err(format!("expected LIKE after '{column} NOT'"));
            }
            self.pos += 1;
            Op::NotLike
        } else if self.word("like") {
            self.pos += 1;
            Op::Like
        } else {
            match self.peek() {
                Some(T::Op(op)) => {
                    let op = *op;
                    self.pos += 1;
                    op
                }
                other => {
                    return Err(format!(
                        "expected an operator (= != <> < > <= >= LIKE) after '{column}', found {}",
                        describe(other)
                    ))
                }
            }
        };
        let value = match self.peek().cloned() {
            Some(T::Text(s)) => Json::String(s),
            Some(T::Num(n)) => n
                .parse::<i64>()
                .map(Json::from)
                .or_else(|_| n.parse::<f64>().map(Json::from))
                .map_err(|_| format!("'{n}' is not a number"))?,
            Some(T::Word(w)) if w.eq_ignore_ascii_case("true") => Json::Bool(true),
            Some(T::Word(w)) if w.eq_ignore_ascii_case("false") => Json::Bool(false),
            Some(T::Word(w)) if w.eq_ignore_ascii_case("null") => Json::Null,
            // `status=open`: an unquoted word is text, as General Bots filters write it.
            Some(T::Word(w)) => Json::String(w),
            other => {
                return Err(format!(
                    "expected a value after '{column} {}', found {}",
                    op.sql(),
                    describe(other.as_ref())
                ))
            }
        };
        self.pos += 1;
        Ok(Filter::Cond { column, op, value })
    }
}

fn describe(t: Option<&T>) -> String {
    match t {
        None => "the end of the filter".to_string(),
        Some(T::Word(w)) => format!("'{w}'"),
        Some(T::Text(s)) => format!("'{s}'"),
        Some(T::Num(n)) => n.clone(),
        Some(T::Op(op)) => format!("'{}'", op.sql()),
        Some(T::Open) => "'('".to_string(),
        Some(T::Close) => "')'".to_string(),
    }
}

/// True for a plain column name: letters, digits and `_`, not starting with a digit.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

/// Parses a filter string. An empty one matches every row.
pub fn parse(src: &str) -> Result<Filter, String> {
    let toks = lex(src).map_err(|e| format!("filter \"{src}\": {e}"))?;
    if toks.is_empty() {
        return Ok(Filter::All);
    }
    let mut p = P { toks, pos: 0 };
    let f = p.or().map_err(|e| format!("filter \"{src}\": {e}"))?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "filter \"{src}\": expected AND, OR or the end, found {}",
            describe(p.peek())
        ));
    }
    Ok(f)
}

impl Filter {
    /// The condition as SQL over the given columns (name and PostgreSQL type), with
    /// placeholders numbered from `first` (`$first`, `$first+1`, …). Values are bound as
    /// text and cast to the column's type, so `id = '7'` and `id = 7` both compare
    /// numbers on a number column; LIKE compares text. A column the table does not have
    /// is an error.
    pub fn to_sql(
        &self,
        columns: &[(String, String)],
        first: usize,
    ) -> Result<SqlCondition, String> {
        let mut params = Vec::new();
        let sql = self.sql_into(columns, first, &mut params)?;
        Ok(SqlCondition { sql, params })
    }

    fn sql_into(
        &self,
        columns: &[(String, String)],
        first: usize,
        params: &mut Vec<Json>,
    ) -> Result<String, String> {
        Ok(match self {
            Filter::All => "TRUE".to_string(),
            Filter::And(a, b) => format!(
                "({} AND {})",
                a.sql_into(columns, first, params)?,
                b.sql_into(columns, first, params)?
            ),
            Filter::Or(a, b) => format!(
                "({} OR {})",
                a.sql_into(columns, first, params)?,
                b.sql_into(columns, first, params)?
            ),
            Filter::Cond { column, op, value } => {
                let Some((_, ty)) = columns.iter().find(|(c, _)| c == column) else {
                    let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
                    return Err(format!(
                        "the table has no column '{column}' (its columns: {})",
                        names.join(", ")
                    ));
                };
                let col = quote_ident(column);
                if value.is_null() {
                    return Ok(match op {
                        Op::Ne => format!("{col} IS NOT NULL"),
                        _ => format!("{col} IS NULL"),
                    });
                }
                params.push(value.clone());
                let n = first + params.len() - 1;
                match op {
                    Op::Like | Op::NotLike => format!("{col}::text {} ${n}", op.sql()),
                    _ => format!("{col} {} CAST(${n} AS {ty})", op.sql()),
                }
            }
        })
    }
}

/// A PostgreSQL identifier in double quotes (for names already checked by [`is_name`]).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cols() -> Vec<(String, String)> {
        [
            ("id", "bigint"),
            ("status", "text"),
            ("name", "text"),
            ("total", "numeric"),
            ("stage", "text"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    #[test]
    fn general_bots_filters() {
        let c = parse("status=open").unwrap().to_sql(&cols(), 1).unwrap();
        assert_eq!(c.sql, "\"status\" = CAST($1 AS text)");
        assert_eq!(c.params, vec![json!("open")]);
        let c = parse("stage != 'closed_won' AND stage != 'closed_lost'")
            .unwrap()
            .to_sql(&cols(), 3)
            .unwrap();
        assert_eq!(
            c.sql,
            "(\"stage\" <> CAST($3 AS text) AND \"stage\" <> CAST($4 AS text))"
        );
        let c = parse("name LIKE '%ana%' OR (total >= 10.5 AND id = 7)")
            .unwrap()
            .to_sql(&cols(), 1)
            .unwrap();
        assert_eq!(
            c.sql,
            "(\"name\"::text ILIKE $1 OR (\"total\" >= CAST($2 AS numeric) AND \"id\" = CAST($3 AS bigint)))"
        );
        assert_eq!(c.params, vec![json!("%ana%"), json!(10.5), json!(7)]);
        let c = parse("name IS NULL").unwrap().to_sql(&cols(), 1).unwrap();
        assert_eq!(c.sql, "\"name\" IS NULL");
        assert_eq!(parse("").unwrap(), Filter::All);
    }

    #[test]
    fn sql_in_a_filter_stays_data() {
        // A value with SQL in it is one parameter.
        let c = parse("name = 'x''; DROP TABLE orders; --'")
            .unwrap()
            .to_sql(&cols(), 1)
            .unwrap();
        assert_eq!(c.params, vec![json!("x'; DROP TABLE orders; --")]);
        // SQL outside a value is refused.
        for bad in [
            "id = 1; DROP TABLE orders",
            "id = 1 -- comment",
            "DATE(created) = '2026-01-01'",
            "id = (SELECT 1)",
            "1 = 1",
            "id = 1 UNION SELECT password FROM users",
        ] {
            assert!(
                parse(bad).and_then(|f| f.to_sql(&cols(), 1)).is_err(),
                "{bad}"
            );
        }
        let err = parse("nope = 1").unwrap().to_sql(&cols(), 1).unwrap_err();
        assert!(err.contains("no column 'nope'"), "{err}");
    }
}
