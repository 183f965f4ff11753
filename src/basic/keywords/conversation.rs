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
        if w == "hear" {
            self.hear_allowed()?;
        }
        self.advance();
        let kind = match w {
            "talk" if self.at_word("to") && self.talk_to_follows() => {
                // TALK TO address, message: another channel (the catalog's TALK TO).
                self.advance();
                return Ok(Some(self.unavailable_args("TALK TO")));
            }
            "talk" => StmtKind::Talk(self.expr()?),
            // DEBUG (older scripts) is PRINT.
            "print" | "debug" => StmtKind::Print(self.expr()?),
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
                self.names.insert(target.var.clone());
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
                // DESCRIPTION "text", or the text unquoted to the end of the line.
                if matches!(self.peek().tok, Tok::Str(_)) {
                    self.expr()?;
                }
                while !self.at_eol() {
                    self.advance();
                }
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

    /// HEAR inside ORCHESTRATE WORKFLOW is an error: a workflow has no user to answer.
    pub(crate) fn hear_allowed(&self) -> PResult<()> {
        if self.workflow_depth > 0 {
            return Err(Diagnostic::error(
                self.span(),
                "HEAR waits for the user of a conversation, and a workflow has none; \
                 ask with HUMAN APPROVAL or WAIT FOR EVENT",
            ));
        }
        Ok(())
    }

    /// What follows `HEAR target` (or `target = HEAR`): `AS type`, or `AS "a", "b", …`
    /// (a menu: the answer must be one of the options).
    pub(crate) fn hear_rest(&mut self, target: Target) -> PResult<StmtKind> {
        let menu = self.at_words(&["as", "menu"]) && matches!(self.peek_n(2).tok, Tok::Str(_));
        if menu || self.at_word("as") && matches!(self.peek_n(1).tok, Tok::Str(_)) {
            // `AS "a", "b"`, also written `AS MENU "a", "b"`.
            self.advance();
            if menu {
                self.advance();
            }
            let mut options = vec![self.concat()?];
            while self.eat_sym(",") {
                options.push(self.concat()?);
            }
            return Ok(StmtKind::Hear {
                target,
                kind: HearKind::String,
                options,
                prompt: None,
                default: None,
            });
        }
        let kind = if self.eat_word("as") {
            let t = self.peek().clone();
            let written = match &t.tok {
                Tok::Ident(s) => s.clone(),
                _ => return Err(self.unexpected("expected a type after AS")),
            };
            let lower = written.to_ascii_lowercase();
            if ATTACHMENT_TYPES.contains(&lower.as_str()) {
                // An attachment (a file, a picture, a scanned code): channels this server
                // does not have.
                self.advance();
                return Ok(self.unavailable_args(&format!("HEAR … AS {}", written.to_uppercase())));
            }
            let kind = hear_kind(&lower).ok_or_else(|| {
                crate::basic::diagnostics::Diagnostic::error(
                    t.span,
                    format!(
                        "unknown HEAR type '{written}'; expected STRING, INTEGER, NUMBER, \
                         BOOLEAN, DATE, EMAIL, HOUR, MOBILE, ZIPCODE, URL, UUID, COLOR, \
                         CREDITCARD, CPF, CNPJ or a list of options"
                    ),
                )
            })?;
            self.advance();
            kind
        } else {
            HearKind::String
        };
        // `WITH "question"` and `DEFAULT value`, in either order.
        let (mut prompt, mut default) = (None, None);
        loop {
            if self.eat_word("with") {
                prompt = Some(self.concat()?);
            } else if self.eat_word("default") {
                default = Some(self.concat()?);
            } else {
                break;
            }
        }
        Ok(StmtKind::Hear {
            target,
            kind,
            options: Vec::new(),
            prompt,
            default,
        })
    }

    /// After `TALK`, at `TO`: true when an address follows (`TALK TO row.mobile, "Hi"`),
    /// false when `to` is a variable being said (`TALK to`, `TALK to & "!"`).
    fn talk_to_follows(&self) -> bool {
        match &self.peek_n(1).tok {
            Tok::Str(_) | Tok::Int(_) => true,
            Tok::Ident(w) => !matches!(
                w.to_ascii_lowercase().as_str(),
                "and" | "or" | "mod" | "then" | "else" | "is"
            ),
            _ => false,
        }
    }
}

/// `HEAR … AS` types that are attachments or logins, which need channels this server
/// does not have.
const ATTACHMENT_TYPES: &[&str] = &[
    "file", "image", "photo", "picture", "audio", "voice", "sound", "video", "document", "doc",
    "pdf", "qrcode", "qr", "login", "auth",
];

/// The input type a `HEAR … AS` word names (General Bots' spellings).
fn hear_kind(name: &str) -> Option<HearKind> {
    Some(match name {
        "string" | "text" | "name" | "password" | "pass" | "secret" | "language" | "lang" => {
            HearKind::String
        }
        "integer" | "int" | "long" => HearKind::Integer,
        "number" | "money" | "currency" | "amount" | "float" | "double" | "decimal" => {
            HearKind::Number
        }
        "boolean" | "bool" => HearKind::Boolean,
        "date" => HearKind::Date,
        "email" => HearKind::Email,
        "hour" | "time" => HearKind::Hour,
        "mobile" | "phone" | "telephone" => HearKind::Mobile,
        "zipcode" | "zip" | "cep" | "postalcode" => HearKind::Zipcode,
        "url" | "link" => HearKind::Url,
        "uuid" | "guid" => HearKind::Uuid,
        "color" | "colour" => HearKind::Color,
        "creditcard" | "card" => HearKind::CreditCard,
        "cpf" => HearKind::Cpf,
        "cnpj" => HearKind::Cnpj,
        _ => return None,
    })
}

/// True when the digits pass the check-digit rule of a CPF (11 digits) or CNPJ (14).
fn brazil_id_ok(digits: &[u32]) -> bool {
    let check = |body: &[u32], weights: &[u32]| -> u32 {
        let sum: u32 = body.iter().zip(weights).map(|(d, w)| d * w).sum();
        match sum % 11 {
            0 | 1 => 0,
            r => 11 - r,
        }
    };
    match digits.len() {
        11 if digits.iter().any(|d| *d != digits[0]) => {
            let w1: Vec<u32> = (2..=10).rev().collect();
            let w2: Vec<u32> = (2..=11).rev().collect();
            check(&digits[..9], &w1) == digits[9] && check(&digits[..10], &w2) == digits[10]
        }
        14 => {
            const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
            const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
            check(&digits[..12], &W1) == digits[12] && check(&digits[..13], &W2) == digits[13]
        }
        _ => false,
    }
}

/// The Luhn check of a card number.
fn luhn_ok(digits: &[u32]) -> bool {
    if !(12..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The digits of an answer that may contain separators (`123.456.789-09`, `+55 11 9…`).
fn digits_of(t: &str, allowed: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            out.push(d);
        } else if !allowed.contains(c) {
            return None;
        }
    }
    Some(out)
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
                prompt,
                default,
            } => {
                let t = self.temp("heard");
                if let Some(p) = prompt {
                    self.w("k_talk(");
                    self.expr(p);
                    self.w(");\n");
                }
                if let Some(d) = default {
                    self.w(&format!("let {t} = k_hear({}, ", quote(kind.name())));
                    self.expr(d);
                    self.w(");\n");
                } else if options.is_empty() {
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
        "hour" => {
            let ok = chrono::NaiveTime::parse_from_str(t, "%H:%M")
                .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S"))
                .or_else(|_| {
                    chrono::NaiveTime::parse_from_str(&t.to_ascii_uppercase(), "%I:%M %p")
                });
            ok.map(|h| Dynamic::from(h.format("%H:%M").to_string()))
                .map_err(|_| "Please enter a time (HH:MM).")
        }
        "mobile" => match digits_of(t, "+-() .") {
            Some(d) if (8..=15).contains(&d.len()) && !t[1..].contains('+') => {
                let plus = if t.starts_with('+') { "+" } else { "" };
                let digits: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
                Ok(Dynamic::from(format!("{plus}{digits}")))
            }
            _ => Err("Please enter a phone number."),
        },
        "zipcode" => match digits_of(t, "- ") {
            Some(d) if (4..=10).contains(&d.len()) => Ok(Dynamic::from(t.to_string())),
            _ => Err("Please enter a postal code."),
        },
        "url" => {
            let lower = t.to_ascii_lowercase();
            let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
                && t.len() > 8
                && !t.contains(char::is_whitespace);
            if ok {
                Ok(Dynamic::from(t.to_string()))
            } else {
                Err("Please enter a web address (https://…).")
            }
        }
        "uuid" => uuid::Uuid::parse_str(t)
            .map(|u| Dynamic::from(u.to_string()))
            .map_err(|_| "Please enter an identifier (UUID)."),
        "color" => {
            let hex = t.strip_prefix('#').unwrap_or("");
            let ok = (hex.len() == 3 || hex.len() == 6)
                && hex.chars().all(|c| c.is_ascii_hexdigit())
                || (t.len() >= 3 && t.chars().all(|c| c.is_ascii_alphabetic()));
            if ok {
                Ok(Dynamic::from(t.to_ascii_lowercase()))
            } else {
                Err("Please enter a colour (#rrggbb or a name).")
            }
        }
        "creditcard" => match digits_of(t, " -") {
            Some(d) if luhn_ok(&d) => Ok(Dynamic::from(
                d.iter().map(|x| x.to_string()).collect::<String>(),
            )),
            _ => Err("Please enter a valid card number."),
        },
        "cpf" | "cnpj" => match digits_of(t, ".-/ ") {
            Some(d) if d.len() == if kind == "cpf" { 11 } else { 14 } && brazil_id_ok(&d) => Ok(
                Dynamic::from(d.iter().map(|x| x.to_string()).collect::<String>()),
            ),
            _ if kind == "cpf" => Err("Please enter a valid CPF."),
            _ => Err("Please enter a valid CNPJ."),
        },
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
    engine.register_fn(
        "k_hear",
        |kind: ImmutableString, default: Dynamic| -> RhaiResult {
            // `HEAR x AS type DEFAULT d`: an empty answer is `d`.
            loop {
                let text = call_host(|h| h.hear()).map_err(host_err);
                crate::basic::engine::run_clock_waited();
                let text = text?;
                if text.trim().is_empty() {
                    return Ok(default);
                }
                match validate(kind.as_str(), &text) {
                    Ok(v) => return Ok(v),
                    Err(prompt) => call_host(|h| h.talk(prompt)).map_err(host_err)?,
                }
            }
        },
    );
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
