//! Conversation keywords: `TALK`, `HEAR … AS type`, `PRINT`, `WAIT`/`DELAY`, and the
//! tool declarations `PARAM` and `DESCRIPTION`.

use rhai::{Dynamic, Engine, ImmutableString};

use super::{fail, host_err, RhaiResult};
use crate::basic::ast::{HearKind, StmtKind};
use crate::basic::codegen::{quote, Codegen};
use crate::basic::context::call_host;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

impl Parser {
    pub(crate) fn conversation_statement(&mut self, w: &str) -> PResult<Option<StmtKind>> {
        self.advance();
        let kind = match w {
            "talk" => StmtKind::Talk(self.expr()?),
            "print" => StmtKind::Print(self.expr()?),
            "wait" | "delay" => {
                if self.at_eol() {
                    return Err(
                        self.unexpected(&format!("{} needs a number of seconds", w.to_uppercase()))
                    );
                }
                StmtKind::Sleep(self.expr()?)
            }
            "hear" => {
                let target = self.target()?;
                let kind = if self.eat_word("as") {
                    let t = self.peek().clone();
                    let written = match &t.tok {
                        Tok::Ident(s) => s.clone(),
                        _ => return Err(self.unexpected("expected a type after AS")),
                    };
                    let name = written.to_ascii_lowercase();
                    let kind = match name.as_str() {
                        "string" | "text" | "name" => HearKind::String,
                        "integer" | "int" | "long" => HearKind::Integer,
                        "number" | "money" | "float" | "double" | "decimal" => HearKind::Number,
                        "boolean" | "bool" => HearKind::Boolean,
                        "date" => HearKind::Date,
                        "email" => HearKind::Email,
                        _ => {
                            return Err(crate::basic::diagnostics::Diagnostic::error(
                                t.span,
                                format!(
                                "unknown HEAR type '{written}'; expected STRING, INTEGER, NUMBER, BOOLEAN, DATE or EMAIL"
                            ),
                            ))
                        }
                    };
                    self.advance();
                    kind
                } else {
                    HearKind::String
                };
                StmtKind::Hear { target, kind }
            }
            // PARAM name AS type [LIKE "ex"] [DESCRIPTION "d"] [OPTIONAL] — the rest of the
            // line only documents the parameter.
            "param" => {
                self.ident("a parameter name after PARAM")?;
                while !self.at_eol() {
                    self.advance();
                }
                StmtKind::Declaration
            }
            _ => {
                // DESCRIPTION "text"
                self.expr()?;
                StmtKind::Declaration
            }
        };
        Ok(Some(kind))
    }
}

impl Codegen<'_> {
    pub(crate) fn conversation_stmt(&mut self, s: &crate::basic::ast::Stmt) {
        match &s.kind {
            StmtKind::Talk(e) => {
                self.w("k_talk(");
                self.expr(e);
                self.w(");\n");
            }
            StmtKind::Print(e) => {
                self.w("k_print(");
                self.expr(e);
                self.w(");\n");
            }
            StmtKind::Sleep(e) => {
                self.w("k_sleep(");
                self.expr(e);
                self.w(");\n");
            }
            StmtKind::Hear { target, kind } => {
                let t = self.temp("heard");
                self.w(&format!("let {t} = k_hear({});\n", quote(kind.name())));
                self.assign_to(target, &t);
            }
            _ => {}
        }
    }
}

/// Checks a HEAR answer against its type: the typed value, or the re-ask prompt.
pub fn validate(kind: &str, text: &str) -> Result<Dynamic, &'static str> {
    let t = text.trim();
    match kind {
        "integer" => t
            .parse::<i64>()
            .map(Dynamic::from_int)
            .map_err(|_| "Please enter a whole number."),
        "number" => value::parse_num(&t.replace(',', "."))
            .map(|n| n.into_dynamic())
            .ok_or("Please enter a number."),
        "boolean" => match t.to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" | "sim" | "s" | "ok" => Ok(Dynamic::TRUE),
            "no" | "n" | "false" | "0" | "não" | "nao" => Ok(Dynamic::FALSE),
            _ => Err("Please answer yes or no."),
        },
        "date" => parse_date(t)
            .map(|d| Dynamic::from(d.format("%Y-%m-%d").to_string()))
            .ok_or("Please enter a date (YYYY-MM-DD)."),
        "email" => {
            let ok = t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }) && !t.contains(char::is_whitespace);
            if ok {
                Ok(Dynamic::from(t.to_string()))
            } else {
                Err("Please enter a valid email address.")
            }
        }
        _ => Ok(Dynamic::from(text.to_string())),
    }
}

/// Dates as people type them: `2026-01-31`, `31/01/2026`.
pub fn parse_date(t: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .ok()
}

fn hear(kind: ImmutableString) -> RhaiResult {
    loop {
        let text = call_host(|h| h.hear()).map_err(host_err);
        crate::basic::engine::run_clock_waited();
        let text = text?;
        match validate(kind.as_str(), &text) {
            Ok(v) => return Ok(v),
            Err(prompt) => call_host(|h| h.talk(prompt)).map_err(host_err)?,
        }
    }
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_talk", |v: Dynamic| -> RhaiResult {
        let text = value::display(&v);
        call_host(|h| h.talk(&text)).map_err(host_err)?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_print", |v: Dynamic| -> RhaiResult {
        let text = value::display(&v);
        call_host(|h| {
            h.print(&text);
            Ok(())
        })
        .map_err(host_err)?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_sleep", |v: Dynamic| -> RhaiResult {
        let secs = match value::as_num(&v) {
            Some(n) if !v.is_unit() && n.as_f64() >= 0.0 => n.as_f64(),
            Some(_) if !v.is_unit() => {
                return Err(fail(format!(
                    "WAIT needs a number of seconds, 0 or more, got {}",
                    value::display(&v)
                )))
            }
            _ => {
                return Err(fail(format!(
                    "WAIT needs a number of seconds, got {}",
                    value::type_name(&v)
                )))
            }
        };
        let slept = call_host(|h| h.sleep(secs)).map_err(host_err);
        crate::basic::engine::run_clock_waited();
        slept?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_hear", hear);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hear_types() {
        assert_eq!(validate("integer", " 42 ").unwrap().as_int().unwrap(), 42);
        assert!(validate("integer", "4.2").is_err());
        assert!(validate("email", "a@b.co").is_ok());
        assert!(validate("email", "a@b").is_err());
        assert_eq!(
            value::display(&validate("date", "31/01/2026").unwrap()),
            "2026-01-31"
        );
        assert!(validate("boolean", "YES").unwrap().as_bool().unwrap());
    }
}
