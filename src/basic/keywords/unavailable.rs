//! Keywords of the wider General Bots dialect that this server does not provide
//! (`LLM`, `FIND`, `SAVE`, `SEND EMAIL`, `USE KB`, …). They parse, so existing packages
//! load; `check` warns about them with their position; running one fails the execution
//! with "not available on this server" (DESIGN §2.3). A script is never mis-run.

use rhai::{Dynamic, Engine, ImmutableString};

use super::{fail, RhaiResult};
use crate::basic::ast::{Expr, ExprKind, StmtKind};
use crate::basic::diagnostics::Span;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;

/// Statement keywords, longest spellings first.
const STATEMENTS: &[&[&str]] = &[
    &["send", "email"],
    &["send", "mail"],
    &["send", "file"],
    &["send", "template"],
    &["send", "sms"],
    &["use", "kb"],
    &["use", "tool"],
    &["use", "website"],
    &["use", "model"],
    &["clear", "kb"],
    &["clear", "tools"],
    &["clear", "suggestions"],
    &["add", "suggestion"],
    &["add", "tool"],
    &["add", "kb"],
    &["add", "member"],
    &["add", "note"],
    &["create", "site"],
    &["create", "draft"],
    &["create", "task"],
    &["set", "schedule"],
    &["set", "user"],
    &["set", "header"],
    &["set", "kb"],
    &["set", "theme"],
    &["generate", "pdf"],
    &["llm"],
    &["find"],
    &["save"],
    &["get"],
    &["post"],
    &["put"],
    &["patch"],
    &["delete"],
    &["insert"],
    &["update"],
    &["merge"],
    &["webhook"],
    &["scrape"],
    &["upload"],
    &["download"],
    &["chart"],
    &["translate"],
    &["book"],
    &["weather"],
    &["hear_on"],
];

/// Function-like keywords that give a value (`x = LLM "…"`, `rows = FIND "t", "f"`).
const FUNCTIONS: &[&str] = &[
    "llm",
    "find",
    "get",
    "post",
    "put",
    "patch",
    "scrape",
    "translate",
    "weather",
    "chart",
    "download",
    "upload",
    "save",
    "insert",
    "update",
    "delete",
    "merge",
];

pub fn is_unavailable_function(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

impl Parser {
    /// An unavailable statement keyword at the start of the line: takes the whole line.
    pub(crate) fn unavailable_statement(&mut self) -> PResult<Option<StmtKind>> {
        let Some(words) = STATEMENTS.iter().find(|ws| self.at_words(ws)) else {
            return Ok(None);
        };
        let name = words.join(" ").to_uppercase();
        while !self.at_eol() {
            self.advance();
        }
        Ok(Some(StmtKind::Unavailable(name)))
    }
}

/// An unavailable keyword used as a value, followed by its arguments without parentheses.
pub(crate) fn expr(p: &mut Parser, w: &str, span: Span) -> PResult<Option<Expr>> {
    if !FUNCTIONS.contains(&w) || p.peek_n(1).is_sym("(") {
        return Ok(None);
    }
    let next = p.peek_n(1).clone();
    if !matches!(
        next.tok,
        Tok::Str(_) | Tok::Ident(_) | Tok::Int(_) | Tok::Float(_)
    ) {
        return Ok(None);
    }
    let name = w.to_uppercase();
    while !p.at_eol() {
        p.advance();
    }
    Ok(Some(Expr::new(ExprKind::Unavailable(name), span)))
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_unavailable", |name: ImmutableString| -> RhaiResult {
        Err::<Dynamic, _>(fail(format!("{name} is not available on this server")))
    });
}
