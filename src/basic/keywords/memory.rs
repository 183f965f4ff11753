//! Memory keywords: `SET BOT MEMORY`, `GET BOT MEMORY(…)`, `SET CONTEXT`,
//! `BOT SHARE MEMORY … WITH (bot | ALL)`, `BOT SYNC MEMORY [FROM bot]` (docs/language.md).

use rhai::{Dynamic, Engine};

use super::{fail, host_err, RhaiResult};
use crate::basic::ast::{Expr, ExprKind, ShareTarget, Stmt, StmtKind};
use crate::basic::codegen::Codegen;
use crate::basic::context::call_host;
use crate::basic::diagnostics::Span;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

impl Parser {
    pub(crate) fn at_memory_statement(&self) -> bool {
        self.at_words(&["set", "bot", "memory"])
            || self.at_word("set_bot_memory")
            || self.at_words(&["bot", "share", "memory"])
            || self.at_words(&["bot", "sync", "memory"])
    }

    /// `key, value` with optional parentheses around the pair.
    fn key_value(&mut self, what: &str) -> PResult<(Expr, Expr)> {
        let parens = self.eat_sym("(");
        let key = self.expr()?;
        self.expect_sym(",", &format!("between the key and the value of {what}"))?;
        let value = self.expr()?;
        if parens {
            self.expect_sym(")", &format!("to close {what}"))?;
        }
        Ok((key, value))
    }

    /// True at a context or session statement: `SET CONTEXT …`, `SET_CONTEXT …`, or
    /// `SET "key", value`.
    pub(crate) fn at_context_statement(&self) -> bool {
        self.at_words(&["set", "context"])
            || self.at_word("set_context")
            || (self.at_word("set") && matches!(self.peek_n(1).tok, Tok::Str(_)) && {
                // `SET "key", value` — but not the three-argument table update.
                let mut commas = 0;
                let mut i = 1;
                while !matches!(self.peek_n(i).tok, Tok::Newline | Tok::Eof) {
                    if self.peek_n(i).is_sym(",") {
                        commas += 1;
                    }
                    i += 1;
                }
                commas == 1
            })
    }

    /// The rest of `SET CONTEXT`: `"name" AS value`, `"name", value`, or `"text"` alone
    /// (the conversation's context text, under the name `context`).
    fn context_rest(&mut self) -> PResult<StmtKind> {
        let parens = self.eat_sym("(");
        let first = self.expr()?;
        let (key, value) = if self.eat_word("as") || self.eat_sym(",") {
            (first, self.expr()?)
        } else {
            (
                Expr::new(ExprKind::Str("context".to_string()), first.span),
                first,
            )
        };
        if parens {
            self.expect_sym(")", "to close SET CONTEXT")?;
        }
        Ok(StmtKind::SetContext { key, value })
    }

    pub(crate) fn memory_statement(&mut self) -> PResult<Option<StmtKind>> {
        if self.eat_words(&["set", "bot", "memory"]) || self.eat_word("set_bot_memory") {
            let (key, value) = self.key_value("SET BOT MEMORY")?;
            return Ok(Some(StmtKind::SetMemory { key, value }));
        }
        if self.eat_words(&["set", "context"]) || self.eat_word("set_context") {
            return self.context_rest().map(Some);
        }
        if self.at_word("set") && matches!(self.peek_n(1).tok, Tok::Str(_)) {
            // `SET "session.key", value`: a value of the conversation's context.
            self.advance();
            let (key, value) = self.key_value("SET")?;
            return Ok(Some(StmtKind::SetContext { key, value }));
        }
        if self.eat_words(&["bot", "share", "memory"]) {
            let key = self.concat()?;
            self.expect_word("with", "the key of BOT SHARE MEMORY")?;
            let all_alone = matches!(
                self.peek_n(1).tok,
                crate::basic::tokenizer::Tok::Newline | crate::basic::tokenizer::Tok::Eof
            ) || self.peek_n(1).is_word("else");
            let target = if self.at_word("all") && all_alone {
                self.advance();
                ShareTarget::All
            } else {
                ShareTarget::Bot(self.expr()?)
            };
            return Ok(Some(StmtKind::ShareMemory { key, target }));
        }
        if self.eat_words(&["bot", "sync", "memory"]) {
            let from = self.sync_from()?;
            return Ok(Some(StmtKind::SyncMemory { from }));
        }
        Ok(None)
    }

    /// The optional `FROM bot` of `BOT SYNC MEMORY`.
    fn sync_from(&mut self) -> PResult<Option<Expr>> {
        Ok(if self.eat_word("from") {
            Some(self.expr()?)
        } else {
            None
        })
    }

    /// `GET BOT MEMORY(key)`, `GET BOT MEMORY key`, `GET_BOT_MEMORY(key)`; and
    /// `BOT SYNC MEMORY [FROM bot]` as a value (`n = BOT SYNC MEMORY`).
    pub(crate) fn memory_expr(&mut self, w: &str, span: Span) -> PResult<Option<Expr>> {
        if w == "bot" && self.eat_words(&["bot", "sync", "memory"]) {
            let from = self.sync_from()?.map(Box::new);
            return Ok(Some(Expr::new(ExprKind::SyncMemory(from), span)));
        }
        let config = if w == "get" && self.at_words(&["get", "config"]) {
            Some(2)
        } else if w == "get_config" {
            Some(1)
        } else {
            None
        };
        if let Some(n) = config {
            // `GET CONFIG "name"`: a value of the bot's config.csv.
            for _ in 0..n {
                self.advance();
            }
            let key = self.key_arg("GET CONFIG")?;
            return Ok(Some(Expr::new(ExprKind::BotConfig(Box::new(key)), span)));
        }
        let spelled = if w == "get" && self.at_words(&["get", "bot", "memory"]) {
            3
        } else if w == "get_bot_memory" {
            1
        } else {
            return Ok(None);
        };
        for _ in 0..spelled {
            self.advance();
        }
        let key = self.key_arg("GET BOT MEMORY")?;
        Ok(Some(Expr::new(ExprKind::BotMemory(Box::new(key)), span)))
    }

    /// The key of a reading keyword: `("k")` or `"k"` (then up to a comparison).
    fn key_arg(&mut self, what: &str) -> PResult<Expr> {
        if self.eat_sym("(") {
            let k = self.expr()?;
            self.expect_sym(")", &format!("to close {what}("))?;
            Ok(k)
        } else {
            self.concat()
        }
    }
}

impl Codegen<'_> {
    pub(crate) fn memory_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::SetMemory { key, value } => {
                self.w("k_memory_set(");
                self.expr(key);
                self.w(", ");
                self.expr(value);
                self.w(");\n");
            }
            StmtKind::SetContext { key, value } => {
                self.w("k_set_context(");
                self.expr(key);
                self.w(", ");
                self.expr(value);
                self.w(");\n");
            }
            StmtKind::ShareMemory { key, target } => match target {
                ShareTarget::All => {
                    self.w("k_share_memory_all(");
                    self.expr(key);
                    self.w(");\n");
                }
                ShareTarget::Bot(e) => {
                    self.w("k_share_memory(");
                    self.expr(key);
                    self.w(", ");
                    self.expr(e);
                    self.w(");\n");
                }
            },
            StmtKind::SyncMemory { from } => {
                self.sink("k_sync_memory(");
                if let Some(e) = from {
                    self.expr(e);
                }
                self.w(");\n");
            }
            _ => {}
        }
    }

    pub(crate) fn memory_expr_code(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::BotMemory(key) => {
                self.w("k_memory_get(");
                self.expr(key);
                self.w(")");
            }
            ExprKind::BotConfig(key) => {
                self.w("k_config(");
                self.expr(key);
                self.w(")");
            }
            ExprKind::SyncMemory(from) => {
                self.w("k_sync_memory(");
                if let Some(f) = from {
                    self.expr(f);
                }
                self.w(")");
            }
            _ => {}
        }
    }
}

fn key_text(key: &Dynamic, what: &str) -> Result<String, Box<rhai::EvalAltResult>> {
    let k = value::display(key);
    if key.is_unit() || k.is_empty() {
        return Err(fail(format!("{what} needs a non-empty key")));
    }
    if k.len() > 256 {
        return Err(fail(format!("{what}: the key is longer than 256 bytes")));
    }
    Ok(k)
}

/// A named bot; NULL is an error, never "every bot" (that is written `WITH ALL`).
fn bot_name(v: &Dynamic, what: &str) -> Result<String, Box<rhai::EvalAltResult>> {
    if v.is_unit() {
        return Err(fail(format!("{what} needs a bot name, got NULL")));
    }
    let name = value::display(v);
    if name.is_empty() {
        return Err(fail(format!("{what} needs a bot name")));
    }
    Ok(name)
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_config", |key: Dynamic| -> RhaiResult {
        let key = key_text(&key, "GET CONFIG")?;
        let v = call_host(|h| h.config(&key)).map_err(host_err)?;
        Ok(value::from_json(&v))
    });
    engine.register_fn("k_memory_get", |key: Dynamic| -> RhaiResult {
        let key = key_text(&key, "GET BOT MEMORY")?;
        let v = call_host(|h| h.memory_get(&key)).map_err(host_err)?;
        Ok(value::from_json(&v))
    });
    engine.register_fn("k_memory_set", |key: Dynamic, v: Dynamic| -> RhaiResult {
        let key = key_text(&key, "SET BOT MEMORY")?;
        let v = value::to_json(&v);
        call_host(|h| h.memory_set(&key, v)).map_err(host_err)?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_set_context", |key: Dynamic, v: Dynamic| -> RhaiResult {
        let key = key_text(&key, "SET CONTEXT")?;
        let v = value::to_json(&v);
        call_host(|h| h.set_context(&key, v)).map_err(host_err)?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn(
        "k_share_memory",
        |key: Dynamic, target: Dynamic| -> RhaiResult {
            let key = key_text(&key, "BOT SHARE MEMORY")?;
            let target = bot_name(&target, "BOT SHARE MEMORY … WITH")?;
            call_host(|h| h.share_memory(&key, Some(&target))).map_err(host_err)?;
            Ok(Dynamic::UNIT)
        },
    );
    engine.register_fn("k_share_memory_all", |key: Dynamic| -> RhaiResult {
        let key = key_text(&key, "BOT SHARE MEMORY")?;
        call_host(|h| h.share_memory(&key, None)).map_err(host_err)?;
        Ok(Dynamic::UNIT)
    });
    engine.register_fn("k_sync_memory", || -> RhaiResult {
        let n = call_host(|h| h.sync_memory(None)).map_err(host_err)?;
        Ok(Dynamic::from_int(n))
    });
    engine.register_fn("k_sync_memory", |from: Dynamic| -> RhaiResult {
        let from = bot_name(&from, "BOT SYNC MEMORY FROM")?;
        let n = call_host(|h| h.sync_memory(Some(&from))).map_err(host_err)?;
        Ok(Dynamic::from_int(n))
    });
}
