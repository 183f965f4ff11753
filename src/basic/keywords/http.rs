//! HTTP keywords: `x = GET url`, `POST url, body` (and `PUT`, `PATCH`), `DELETE HTTP url`
//! (also `DELETE "https://…"`), `SET HEADER name, value`, `CLEAR HEADERS`. An answer in
//! JSON becomes maps and lists, anything else text; a status outside 2xx fails the
//! statement with the method, URL and status (a `TRY` can catch it). Where the request
//! may go is the server's and the bot's allow-list (`src/http/`); what is journaled and
//! repeated is the host's business.

use std::cell::RefCell;

use rhai::{Dynamic, Engine, ImmutableString};

use super::{host_err, RhaiResult};
use crate::basic::ast::{Expr, ExprKind, Stmt, StmtKind};
use crate::basic::codegen::{quote, Codegen};
use crate::basic::context::{call_host, HttpCall};
use crate::basic::diagnostics::Span;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

thread_local! {
    /// The headers `SET HEADER` set in the run on this thread. A replay runs the
    /// `SET HEADER` statements again, so they need no journal.
    static HEADERS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the headers of the previous run on this thread.
pub fn reset_headers() {
    HEADERS.with(|h| h.borrow_mut().clear());
}

/// Takes the headers of the run in progress on this thread (a child about to run
/// inline, nested in it, starts with none); [`restore_headers`] gives them back.
pub fn take_headers() -> Vec<(String, String)> {
    HEADERS.with(|h| std::mem::take(&mut *h.borrow_mut()))
}

/// Puts back headers taken by [`take_headers`].
pub fn restore_headers(headers: Vec<(String, String)>) {
    HEADERS.with(|h| *h.borrow_mut() = headers);
}

/// The method a word starts, when it is an HTTP keyword followed by its URL.
fn method_at(p: &Parser) -> Option<(&'static str, usize)> {
    // A longer keyword of the catalog (`GET TIPS`, `POST TO`, `DELETE FILE`) is that one.
    if let Some((k, n)) = super::catalog::lookup(p) {
        if n > 1 && k.words != "DELETE HTTP" {
            return None;
        }
    }
    let t = p.peek();
    let (method, n) = if t.is_word("get") {
        ("GET", 1)
    } else if t.is_word("post") {
        ("POST", 1)
    } else if t.is_word("put") {
        ("PUT", 1)
    } else if t.is_word("patch") {
        ("PATCH", 1)
    } else if p.at_words(&["delete", "http"]) {
        ("DELETE", 2)
    } else if t.is_word("delete_http") {
        ("DELETE", 1)
    } else if t.is_word("delete") && is_url_literal(p.peek_n(1)) {
        // `DELETE "https://…"`: a URL, so the HTTP form (a table is `DELETE "t", "f"`).
        ("DELETE", 1)
    } else {
        return None;
    };
    // The URL must follow (`get = 1`, `TALK get` are variables).
    let next = p.peek_n(n);
    let starts = match &next.tok {
        Tok::Str(_) | Tok::Sym("(") => true,
        Tok::Ident(w) => !matches!(
            w.to_ascii_lowercase().as_str(),
            "then" | "else" | "do" | "to" | "and" | "or" | "mod" | "not" | "as" | "is" | "bot"
        ),
        _ => false,
    };
    starts.then_some((method, n))
}

fn is_url_literal(t: &crate::basic::tokenizer::Token) -> bool {
    match &t.tok {
        Tok::Str(parts) => matches!(parts.first(), Some(crate::basic::tokenizer::StrPart::Text(s))
            if s.starts_with("http://") || s.starts_with("https://")),
        _ => false,
    }
}

impl Parser {
    /// An HTTP request as a value or a statement: the method, its URL and body.
    pub(crate) fn http_expr(&mut self, span: Span) -> PResult<Option<Expr>> {
        let Some((method, n)) = method_at(self) else {
            return Ok(None);
        };
        for _ in 0..n {
            self.advance();
        }
        let parens = self.eat_sym("(");
        let url = self.concat()?;
        let body = if method != "GET" && method != "DELETE" && self.eat_sym(",") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        if parens {
            self.expect_sym(")", &format!("to close {method}("))?;
        }
        // Words after the URL (`GET stock FOR "MSFT"`) make it another General Bots form
        // of the word, which this server does not provide.
        if let Tok::Ident(w) = &self.peek().tok {
            let w = w.to_ascii_lowercase();
            if !matches!(
                w.as_str(),
                "then" | "else" | "and" | "or" | "mod" | "to" | "step" | "as" | "is"
            ) {
                while !self.at_eol() {
                    self.advance();
                }
                return Ok(Some(Expr::new(
                    ExprKind::Unavailable(method.to_string()),
                    span,
                )));
            }
        }
        Ok(Some(Expr::new(
            ExprKind::Http {
                method,
                url: Box::new(url),
                body,
            },
            span,
        )))
    }

    /// `SET HEADER name, value` / `SET_HEADER …`, `CLEAR HEADERS` / `CLEAR_HEADERS`.
    pub(crate) fn header_statement(&mut self) -> PResult<Option<StmtKind>> {
        if self.eat_words(&["set", "header"]) || self.eat_word("set_header") {
            let parens = self.eat_sym("(");
            // `SET HEADER "Accept", "…"`, also written `SET HEADER "Accept" = "…"`.
            let name = self.concat()?;
            if !self.eat_sym("=") {
                self.expect_sym(",", "between the name and the value of SET HEADER")?;
            }
            let value = self.expr()?;
            if parens {
                self.expect_sym(")", "to close SET HEADER(")?;
            }
            return Ok(Some(StmtKind::SetHeader { name, value }));
        }
        if self.eat_words(&["clear", "headers"]) || self.eat_word("clear_headers") {
            if self.eat_sym("(") {
                self.expect_sym(")", "after CLEAR_HEADERS(")?;
            }
            return Ok(Some(StmtKind::ClearHeaders));
        }
        Ok(None)
    }

    /// True at `SET HEADER`, `CLEAR HEADERS` or their underscore spellings.
    pub(crate) fn at_header_statement(&self) -> bool {
        self.at_words(&["set", "header"])
            || self.at_word("set_header")
            || self.at_words(&["clear", "headers"])
            || self.at_word("clear_headers")
    }
}

impl Codegen<'_> {
    pub(crate) fn http_expr_code(&mut self, e: &Expr) {
        if let ExprKind::Http { method, url, body } = &e.kind {
            self.w(&format!("k_http({}, ", quote(method)));
            self.expr(url);
            self.w(", ");
            match body {
                Some(b) => self.expr(b),
                None => self.w("()"),
            }
            self.w(")");
        }
    }

    pub(crate) fn http_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::SetHeader { name, value } => {
                self.w("k_set_header(");
                self.expr(name);
                self.w(", ");
                self.expr(value);
                self.w(");\n");
            }
            StmtKind::ClearHeaders => self.w("k_clear_headers();\n"),
            _ => {}
        }
    }
}

fn http(method: ImmutableString, url: Dynamic, body: Dynamic) -> RhaiResult {
    if url.is_unit() {
        return Err(super::fail(format!("{method} needs a URL, got NULL")));
    }
    let call = HttpCall {
        method: method.to_string(),
        url: value::display(&url).trim().to_string(),
        headers: HEADERS.with(|h| h.borrow().clone()),
        body: (!body.is_unit()).then(|| value::to_json(&body)),
    };
    let answer = call_host(|h| h.http(&call)).map_err(host_err)?;
    Ok(value::from_json(&answer))
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_http", http);
    engine.register_fn("k_set_header", |name: Dynamic, v: Dynamic| -> RhaiResult {
        let name = value::display(&name).trim().to_string();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !valid {
            return Err(super::fail(format!(
                "SET HEADER: '{name}' is not a header name (letters, digits, '-' and '_')"
            )));
        }
        let text = value::display(&v);
        if text.contains(['\r', '\n']) {
            return Err(super::fail(format!(
                "SET HEADER {name}: a header value cannot hold a line break"
            )));
        }
        HEADERS.with(|h| {
            let mut h = h.borrow_mut();
            h.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            h.push((name, text));
        });
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_clear_headers", || -> RhaiResult {
        reset_headers();
        Ok(Dynamic::UNIT)
    });
}
