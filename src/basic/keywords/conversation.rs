//! Conversation keywords: `TALK`, `HEAR … AS type`, `PRINT`, `WAIT`/`DELAY`, and the
//! tool declarations `PARAM` and `DESCRIPTION`.

use rhai::{Dynamic, Engine, ImmutableString};

use super::{fail, host_err, RhaiResult};
use crate::basic::ast::{Expr, ExprKind, HearKind, StmtKind, Target};
use crate::basic::codegen::{quote, Codegen};
use crate::basic::context::call_host;
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::tokenizer::TEXT_BLOCKS;
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
                self.hear_rest(target)?
            }
            // PARAM name AS type [LIKE "ex"] [DESCRIPTION "d"] [OPTIONAL] — the rest of the
            // line only documents the parameter.
            "param" => {
                let (name, _) = self.ident("a parameter name after PARAM")?;
                self.names.insert(name);
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

    /// A text block: `BEGIN TALK` (one message), `BEGIN SYSTEM PROMPT` (the conversation's
    /// context value `system_prompt`, which a language model would read) or `BEGIN MAIL to`
    /// (not available here). The tokenizer has taken the prose lines as one block.
    pub(crate) fn begin_block(&mut self, span: Span) -> PResult<Option<StmtKind>> {
        let Some(kind) = TEXT_BLOCKS.iter().find(|k| {
            k.iter()
                .enumerate()
                .all(|(i, w)| self.peek_n(i + 1).is_word(w))
        }) else {
            return Ok(None);
        };
        for _ in 0..=kind.len() {
            self.advance();
        }
        // The header's own arguments (`BEGIN MAIL "a@b.c"`), up to the block.
        while !matches!(self.peek().tok, Tok::Block(_) | Tok::Newline | Tok::Eof) {
            self.advance();
        }
        let t = self.advance();
        let Tok::Block(parts) = t.tok else {
            return Err(Diagnostic::error(
                span,
                "expected the lines of the text block",
            ));
        };
        let text = self.string_expr(parts, span)?;
        Ok(Some(match kind {
            ["talk"] => StmtKind::Talk(text),
            ["system", "prompt"] => StmtKind::SetContext {
                key: Expr::new(ExprKind::Str("system_prompt".to_string()), span),
                value: text,
            },
            _ => StmtKind::Unavailable(format!("BEGIN {}", kind.join(" ").to_uppercase())),
        }))
    }

    /// What follows `HEAR target` (or `target = HEAR`): `AS type`, or `AS "a", "b", …`
    /// (a menu: the answer must be one of the options).
    pub(crate) fn hear_rest(&mut self, target: Target) -> PResult<StmtKind> {
        if self.at_word("as") && matches!(self.peek_n(1).tok, Tok::Str(_)) {
            self.advance();
            let mut options = vec![self.concat()?];
            while self.eat_sym(",") {
                options.push(self.concat()?);
            }
            return Ok(StmtKind::Hear {
                target,
                kind: HearKind::String,
                options,
            });
        }
        let kind = if self.eat_word("as") {
            let t = self.peek().clone();
            let written = match &t.tok {
                Tok::Ident(s) => s.clone(),
                _ => return Err(self.unexpected("expected a type after AS")),
            };
            let kind = hear_kind(&written.to_ascii_lowercase()).ok_or_else(|| {
                crate::basic::diagnostics::Diagnostic::error(
                    t.span,
                    format!(
                        "unknown HEAR type '{written}'; expected STRING, INTEGER, NUMBER, \
                         BOOLEAN, DATE or EMAIL"
                    ),
                )
            })?;
            self.advance();
            kind
        } else {
            HearKind::String
        };
        Ok(StmtKind::Hear {
            target,
            kind,
            options: Vec::new(),
        })
    }
}

/// The input type a `HEAR … AS` word names.
fn hear_kind(name: &str) -> Option<HearKind> {
    Some(match name {
        "string" | "text" | "name" => HearKind::String,
        "integer" | "int" | "long" => HearKind::Integer,
        "number" | "money" | "float" | "double" | "decimal" => HearKind::Number,
        "boolean" | "bool" => HearKind::Boolean,
        "date" => HearKind::Date,
        "email" => HearKind::Email,
        _ => return None,
    })
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
            StmtKind::Hear {
                target,
                kind,
                options,
            } => {
                let t = self.temp("heard");
                if options.is_empty() {
                    self.w(&format!("let {t} = k_hear({});\n", quote(kind.name())));
                } else {
                    self.w(&format!("let {t} = k_hear_menu(["));
                    self.args(options);
                    self.w("]);\n");
                }
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

/// `HEAR x AS "a", "b"`: asks again until the answer is one of the options (compared
/// without case or surrounding spaces); the value is the option as the script wrote it.
fn hear_menu(options: rhai::Array) -> RhaiResult {
    let names: Vec<String> = options.iter().map(value::display).collect();
    loop {
        let text = call_host(|h| h.hear()).map_err(host_err);
        crate::basic::engine::run_clock_waited();
        let text = text?;
        let answer = text.trim();
        if let Some(i) = names
            .iter()
            .position(|n| n.trim().eq_ignore_ascii_case(answer))
        {
            return Ok(options[i].clone());
        }
        let prompt = format!("Please choose one of: {}.", names.join(", "));
        call_host(|h| h.talk(&prompt)).map_err(host_err)?;
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
    engine.register_fn("k_hear_menu", hear_menu);
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
