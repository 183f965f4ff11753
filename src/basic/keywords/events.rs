//! Event keywords (docs/language.md): `ON EVENT name DO … END ON`, `PUBLISH EVENT name
//! [WITH payload]`, `WAIT FOR EVENT name [OR name…] [WHERE cond] [TIMEOUT secs]
//! [ON TIMEOUT: ESCALATE TO who]`.

use rhai::{Array, Dynamic, Engine, FnPtr, Map, NativeCallContext};

use super::{fail, host_err, RhaiResult};
use crate::basic::ast::*;
use crate::basic::codegen::{Codegen, EntryKind};
use crate::basic::context::{call_host, EventWait};
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser, Terminator};
use crate::basic::tokenizer::{StrPart, Tok};
use crate::basic::value;

/// Event names: 1–128 characters of letters, digits, `_ - . :`.
pub fn valid_event_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

pub fn event_name_error(name: &str) -> String {
    format!("invalid event name '{name}': use 1-128 letters, digits, '_', '-', '.' or ':'")
}

const WAIT_CLAUSES: &[&[&str]] = &[
    &["where"],
    &["timeout"],
    &["on", "timeout"],
    &["escalate", "to"],
];

impl Parser {
    fn check_literal_name(&mut self, e: &Expr) {
        if let ExprKind::Str(name) = &e.kind {
            if !valid_event_name(name) {
                self.errors
                    .push(Diagnostic::error(e.span, event_name_error(name)));
            }
        }
    }

    pub(crate) fn event_statement(&mut self, w: &str, span: Span) -> PResult<Option<StmtKind>> {
        match w {
            "on" => {
                if self.at_words(&["on", "error"]) {
                    while !self.at_eol() {
                        self.advance();
                    }
                    return Ok(Some(StmtKind::Unavailable("ON ERROR".to_string())));
                }
                self.advance();
                self.expect_word("event", "ON")?;
                let t = self.peek().clone();
                let name = match &t.tok {
                    Tok::Str(parts) => match parts.as_slice() {
                        [StrPart::Text(n)] => n.clone(),
                        _ => {
                            return Err(Diagnostic::error(
                                t.span,
                                "ON EVENT needs a plain string name",
                            ))
                        }
                    },
                    Tok::Ident(n) if !n.eq_ignore_ascii_case("do") => n.clone(),
                    _ => return Err(self.unexpected("expected an event name after ON EVENT")),
                };
                if !valid_event_name(&name) {
                    return Err(Diagnostic::error(t.span, event_name_error(&name)));
                }
                self.advance();
                self.eat_word("do");
                if self.workflow_depth > 0 || self.proc_depth > 0 {
                    return Err(Diagnostic::error(
                        span,
                        "ON EVENT can only be declared at the top level of a script",
                    ));
                }
                const ENDS: &[Terminator] = &[&["end", "on"]];
                self.proc_depth += 1;
                let r = self.block_until(ENDS, span, "ON EVENT");
                self.proc_depth -= 1;
                let (body, _) = r?;
                self.advance();
                self.advance();
                Ok(Some(StmtKind::OnEvent { name, body }))
            }
            "publish" => {
                self.advance();
                self.expect_word("event", "PUBLISH")?;
                if self.at_eol() {
                    return Err(self.unexpected("expected an event name after PUBLISH EVENT"));
                }
                let name = self.concat()?;
                self.check_literal_name(&name);
                let payload = if self.eat_word("with") {
                    Some(self.expr()?)
                } else {
                    None
                };
                Ok(Some(StmtKind::Publish { name, payload }))
            }
            "wait" => {
                self.advance();
                self.advance();
                self.expect_word("event", "WAIT FOR")?;
                if self.at_eol() {
                    return Err(self.unexpected("expected an event name after WAIT FOR EVENT"));
                }
                let mut names = vec![self.concat()?];
                while self.eat_word("or") {
                    names.push(self.concat()?);
                }
                for n in names.clone() {
                    self.check_literal_name(&n);
                }
                let (mut filter, mut timeout, mut escalate) = (None, None, None);
                while !self.at_eol() || self.continue_clause(WAIT_CLAUSES) {
                    if self.eat_word("where") {
                        filter = Some(self.expr()?);
                    } else if self.eat_word("timeout") {
                        timeout = Some(self.seconds("TIMEOUT")?);
                    } else if self.at_words(&["on", "timeout"]) {
                        self.advance();
                        self.advance();
                        self.eat_sym(":");
                        self.expect_word("escalate", "ON TIMEOUT:")?;
                        self.expect_word("to", "ESCALATE")?;
                        escalate = Some(self.expr()?);
                    } else if self.eat_words(&["escalate", "to"]) {
                        escalate = Some(self.expr()?);
                    } else {
                        break;
                    }
                }
                Ok(Some(StmtKind::WaitEvent {
                    names,
                    filter,
                    timeout,
                    escalate,
                }))
            }
            _ => Ok(None),
        }
    }
}

impl Codegen<'_> {
    pub(crate) fn event_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::OnEvent { name, body } => {
                self.add_entry(
                    EntryKind::Handler {
                        event: name.clone(),
                    },
                    body,
                );
            }
            StmtKind::Publish { name, payload } => {
                self.w("k_publish(");
                self.expr(name);
                self.w(", ");
                match payload {
                    Some(p) => self.expr(p),
                    None => self.w("()"),
                }
                self.w(");\n");
            }
            StmtKind::WaitEvent {
                names,
                filter,
                timeout,
                escalate,
            } => {
                let t = self.temp("ev");
                self.w(&format!("let {t} = k_wait_event(["));
                self.args(names);
                self.w("], ");
                match filter {
                    // The filter is a closure over `V` only, so it captures nothing.
                    Some(f) => {
                        self.w("|V| op_truthy(");
                        self.expr(f);
                        self.w(")");
                    }
                    None => self.w("()"),
                }
                self.w(", ");
                // A TIMEOUT clause is passed as `[seconds]`, so that a clause whose value
                // is NULL fails instead of meaning "no deadline".
                match timeout {
                    Some(e) => {
                        self.w("[");
                        self.expr(e);
                        self.w("]");
                    }
                    None => self.w("()"),
                }
                self.w(", ");
                match escalate {
                    Some(e) => self.expr(e),
                    None => self.w("()"),
                }
                self.w(", V);\n");
                self.var("event");
                self.w(&format!(" = {t};\n"));
                self.sink(&format!("{t};\n"));
            }
            _ => {}
        }
    }
}

fn name_arg(v: &Dynamic) -> Result<String, Box<rhai::EvalAltResult>> {
    let name = value::display(v);
    if !valid_event_name(&name) {
        return Err(fail(event_name_error(&name)));
    }
    Ok(name)
}

fn wait_event(
    ctx: NativeCallContext,
    names: Array,
    filter: Dynamic,
    timeout: Dynamic,
    escalate: Dynamic,
    vars: Map,
) -> RhaiResult {
    let names = names.iter().map(name_arg).collect::<Result<Vec<_>, _>>()?;
    let timeout_secs = super::workflow::secs_arg(&timeout, "TIMEOUT")?;
    let filter: Option<FnPtr> = filter.try_cast::<FnPtr>();
    let wait = EventWait {
        names,
        filtered: filter.is_some(),
        timeout_secs,
        escalate: if escalate.is_unit() {
            None
        } else {
            Some(value::display(&escalate))
        },
    };
    let mut check = |event: &serde_json::Value| -> Result<bool, String> {
        let Some(f) = &filter else { return Ok(true) };
        let mut v = vars.clone();
        v.insert("event".into(), value::from_json(event));
        f.call_within_context::<Dynamic>(&ctx, (Dynamic::from_map(v),))
            .map(|d| value::truthy(&d))
            .map_err(|e| format!("in WHERE: {e}"))
    };
    call_host(|h| h.wait_event(&wait, &mut check))
        .map(|v| value::from_json(&v))
        .map_err(host_err)
}

pub fn register(engine: &mut Engine) {
    engine.register_fn(
        "k_publish",
        |name: Dynamic, payload: Dynamic| -> RhaiResult {
            let name = name_arg(&name)?;
            let payload = value::to_json(&payload);
            call_host(|h| h.publish(&name, payload)).map_err(host_err)?;
            Ok(Dynamic::UNIT)
        },
    );
    engine.register_fn("k_wait_event", wait_event);
}
