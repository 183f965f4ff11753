//! `SEND MAIL to, subject, body` (also `SEND EMAIL`, `SEND_MAIL(…)`), as a statement or a
//! value (`status = SEND MAIL …` is "sent"). The arguments may continue over lines after
//! a comma. Sending, and what is journaled, is the host's business (`src/mail/`).

use rhai::{Dynamic, Engine};

use super::{host_err, RhaiResult};
use crate::basic::ast::{Expr, ExprKind};
use crate::basic::codegen::Codegen;
use crate::basic::context::{call_host, MailCall};
use crate::basic::diagnostics::Span;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

impl Parser {
    /// How many words spell `SEND MAIL` here (0 when it is not).
    fn send_mail_words(&self) -> usize {
        if self.at_words(&["send", "mail"]) || self.at_words(&["send", "email"]) {
            2
        } else if self.at_word("send_mail") || self.at_word("send_email") {
            1
        } else {
            0
        }
    }

    /// True at `SEND MAIL` in any of its spellings.
    pub(crate) fn at_send_mail(&self) -> bool {
        self.send_mail_words() > 0
    }

    /// `SEND MAIL to, subject, body` or `SEND_MAIL(to, subject, body)`.
    pub(crate) fn send_mail_expr(&mut self, span: Span) -> PResult<Option<Expr>> {
        let n = self.send_mail_words();
        if n == 0 {
            return Ok(None);
        }
        for _ in 0..n {
            self.advance();
        }
        let args = if self.eat_sym("(") {
            self.args(")")?
        } else {
            let mut args = vec![self.expr()?];
            while self.eat_sym(",") {
                while matches!(self.peek().tok, Tok::Newline) {
                    self.advance();
                }
                args.push(self.expr()?);
            }
            args
        };
        if args.len() != 3 {
            // Attachments, a CC list, …: forms of General Bots that this server does
            // not send.
            let name = format!("SEND MAIL with {} arguments", args.len());
            return Ok(Some(Expr::new(ExprKind::Unavailable(name), span)));
        }
        Ok(Some(Expr::new(ExprKind::SendMail(args), span)))
    }
}

impl Codegen<'_> {
    pub(crate) fn send_mail_code(&mut self, e: &Expr) {
        if let ExprKind::SendMail(args) = &e.kind {
            self.mark(e.span);
            self.w("k_send_mail(");
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(a);
            }
            self.w(")");
        }
    }
}

fn send_mail(to: Dynamic, subject: Dynamic, body: Dynamic) -> RhaiResult {
    if to.is_unit() {
        return Err(super::fail("SEND MAIL needs a recipient, got NULL"));
    }
    let mail = MailCall {
        to: value::display(&to).trim().to_string(),
        subject: value::display(&subject),
        body: value::display(&body),
    };
    let answer = call_host(|h| h.send_mail(&mail)).map_err(host_err)?;
    Ok(value::from_json(&answer))
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_send_mail", send_mail);
}
