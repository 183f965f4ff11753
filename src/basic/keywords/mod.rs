//! The keyword families. Each file holds everything about its keywords: the parse rule
//! (an `impl Parser` block), the code generation (an `impl Codegen` block) and the host
//! functions registered on the Rhai engine (`register`).

pub mod builtins;
pub mod catalog;
pub mod conversation;
pub mod data;
pub mod effects;
pub mod events;
pub mod http;
pub mod mail;
pub mod memory;
pub mod schedule;
pub mod workflow;

use rhai::{Dynamic, EvalAltResult, Position};

use super::ast::{Stmt, StmtKind};
use super::codegen::Codegen;
use super::context::HostError;

/// The payload of the `ErrorTerminated` that suspends a run. Scripts cannot catch it.
pub const SUSPEND: &str = "__botserver_suspend";

/// Converts a host failure into the Rhai error that ends or suspends the run.
pub fn host_err(e: HostError) -> Box<EvalAltResult> {
    match e {
        HostError::Suspend => Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(SUSPEND),
            Position::NONE,
        )),
        HostError::Fail(msg) => Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(msg),
            Position::NONE,
        )),
    }
}

/// A runtime error with a message.
pub fn fail(msg: impl Into<String>) -> Box<EvalAltResult> {
    host_err(HostError::Fail(msg.into()))
}

pub type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// Registers every keyword's host functions.
pub fn register(engine: &mut rhai::Engine) {
    builtins::register(engine);
    conversation::register(engine);
    memory::register(engine);
    workflow::register(engine);
    events::register(engine);
    http::register(engine);
    data::register(engine);
    mail::register(engine);
    catalog::register(engine);
}

impl Codegen<'_> {
    /// Code for a statement of one of the keyword families.
    pub(crate) fn keyword_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Talk(_) | StmtKind::Hear { .. } | StmtKind::Print(_) | StmtKind::Sleep(_) => {
                self.conversation_stmt(s)
            }
            StmtKind::SetMemory { .. }
            | StmtKind::SetContext { .. }
            | StmtKind::ShareMemory { .. }
            | StmtKind::SyncMemory { .. } => self.memory_stmt(s),
            StmtKind::Workflow { .. }
            | StmtKind::Step { .. }
            | StmtKind::Approval { .. }
            | StmtKind::Parallel { .. } => self.workflow_stmt(s),
            StmtKind::Publish { .. } | StmtKind::WaitEvent { .. } | StmtKind::OnEvent { .. } => {
                self.event_stmt(s)
            }
            StmtKind::Table { .. } => self.data_stmt(s),
            StmtKind::Schedule(_) => self.schedule_stmt(s),
            StmtKind::SetHeader { .. } | StmtKind::ClearHeaders => self.http_stmt(s),
            StmtKind::Unavailable(name) => {
                self.unavailable(name, s.span);
                self.w(";\n");
            }
            _ => {}
        }
    }

    /// Code for an expression of one of the keyword families.
    pub(crate) fn keyword_expr(&mut self, e: &super::ast::Expr) {
        use super::ast::ExprKind;
        match &e.kind {
            ExprKind::BotMemory(_) | ExprKind::SyncMemory(_) | ExprKind::BotConfig(_) => {
                self.memory_expr_code(e)
            }
            ExprKind::Delegate { .. } => self.delegate_code(e),
            ExprKind::Http { .. } => self.http_expr_code(e),
            ExprKind::Data { .. } => self.data_expr_code(e),
            ExprKind::SendMail(_) => self.send_mail_code(e),
            ExprKind::Unavailable(name) => self.unavailable(name, e.span),
            _ => self.w("()"),
        }
    }
}
