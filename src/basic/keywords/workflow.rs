//! Orchestration keywords (docs/language.md): `ORCHESTRATE WORKFLOW … END WORKFLOW`,
//! `STEP label:` with `RETRY n [BACKOFF secs]`, `BOT "bot" "task"` delegation,
//! `HUMAN APPROVAL FROM … [TIMEOUT] [ON TIMEOUT: ESCALATE TO] [MESSAGE]`,
//! `PARALLEL` / `BRANCH` / `END PARALLEL`.

use std::collections::HashMap;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map, INT};

use super::{fail, host_err, RhaiResult};
use crate::basic::ast::*;
use crate::basic::codegen::{quote, Codegen, EntryKind};
use crate::basic::context::{call_host, ApprovalRequest, StepSpec};
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser, Terminator};
use crate::basic::tokenizer::Tok;
use crate::basic::value;

/// Words that end a `STEP label:` block (besides the next `STEP`): any block closer.
const STEP_BLOCK_ENDS: &[&str] = &[
    "end", "else", "elseif", "next", "wend", "loop", "case", "branch",
];

const APPROVAL_CLAUSES: &[&[&str]] = &[
    &["timeout"],
    &["on", "timeout"],
    &["escalate", "to"],
    &["message"],
];

impl Parser {
    pub(crate) fn workflow_statement(&mut self, w: &str, span: Span) -> PResult<Option<StmtKind>> {
        match w {
            "orchestrate" => {
                self.advance();
                self.expect_word("workflow", "ORCHESTRATE")?;
                if self.at_eol() {
                    return Err(
                        self.unexpected("expected a workflow name after ORCHESTRATE WORKFLOW")
                    );
                }
                let name = self.expr()?;
                if self.workflow_depth > 0 || self.proc_depth > 0 {
                    return Err(Diagnostic::error(
                        span,
                        "ORCHESTRATE WORKFLOW cannot be nested in another workflow or a procedure",
                    ));
                }
                self.workflow_depth += 1;
                const ENDS: &[Terminator] = &[&["end", "workflow"]];
                let r = self.block(ENDS);
                self.workflow_depth -= 1;
                let (body, which) = r?;
                if which == 0 && self.at_words(&["end", "workflow"]) {
                    self.advance();
                    self.advance();
                }
                let mut errors = Vec::new();
                check_step_labels(&body, &mut errors);
                self.errors.extend(errors);
                Ok(Some(StmtKind::Workflow { name, body }))
            }
            "step" => self.step_statement(),
            "human" => self.approval_statement(),
            "parallel" => {
                self.advance();
                self.parallel(span).map(Some)
            }
            "branch" => Err(Diagnostic::error(span, "BRANCH outside PARALLEL")),
            "retry" => Err(Diagnostic::error(span, "RETRY must follow a STEP")),
            "bot" => {
                let Some(e) = self.delegate_expr(w, span)? else {
                    return Ok(None);
                };
                Ok(Some(StmtKind::Expr(e)))
            }
            _ => Ok(None),
        }
    }

    /// `STEP label: stmt` (or `STEP label:` and a block) with its `RETRY` clause. Its own
    /// function, as is the approval's: the parser recurses through steps and branches, and
    /// small frames keep deep (but allowed) nesting within the thread's stack.
    fn step_statement(&mut self) -> PResult<Option<StmtKind>> {
        let span = self.span();
        if self.workflow_depth == 0 {
            self.warnings.push(Diagnostic::warning(
                span,
                "STEP outside ORCHESTRATE WORKFLOW: it is a step only when this script is started \
                 as a workflow (POST /api/workflows); run any other way, its statements run \
                 as plain ones",
            ));
        }
        self.advance();
        let label = self.label("STEP")?;
        self.expect_sym(":", "after the STEP label")?;
        let body = if self.at_eol() {
            self.step_block()
        } else {
            self.statement()?.into_iter().collect()
        };
        let retry = if self.at_word("retry") || self.continue_clause(&[&["retry"]]) {
            let rspan = self.span();
            self.advance();
            // Spellings: `RETRY`, `RETRY 3`, `RETRY 3 TIMES`, `RETRY 3 BACKOFF 2`,
            // `RETRY 3 TIMES WITH BACKOFF 2 SECONDS`, `RETRY 3 DELAY 2`.
            let at_backoff = |p: &Self| {
                p.at_word("backoff") || p.at_word("delay") || p.at_words(&["with", "backoff"])
            };
            let tries = if self.at_eol() || at_backoff(self) {
                Expr::new(ExprKind::Int(3), rspan)
            } else {
                self.concat()?
            };
            self.eat_word("times");
            let backoff = if at_backoff(self) {
                self.eat_word("with");
                self.advance();
                let secs = self.concat()?;
                if !self.eat_word("seconds") && !self.eat_word("secs") {
                    self.eat_word("s");
                }
                Some(secs)
            } else {
                None
            };
            Some(Retry {
                tries,
                backoff,
                span: rspan,
            })
        } else {
            None
        };
        Ok(Some(StmtKind::Step { label, body, retry }))
    }

    /// `HUMAN APPROVAL FROM who` and its clauses.
    fn approval_statement(&mut self) -> PResult<Option<StmtKind>> {
        self.advance();
        self.expect_word("approval", "HUMAN")?;
        self.expect_word("from", "HUMAN APPROVAL")?;
        if self.at_eol() {
            return Err(self.unexpected("expected the approver after HUMAN APPROVAL FROM"));
        }
        let who = self.expr()?;
        let (mut timeout, mut escalate, mut message) = (None, Vec::new(), None);
        let mut on_timeout = None;
        while !self.at_eol() || self.continue_clause(APPROVAL_CLAUSES) {
            if self.eat_word("timeout") {
                timeout = Some(self.seconds("TIMEOUT")?);
            } else if self.at_words(&["on", "timeout"]) {
                self.advance();
                self.advance();
                self.eat_sym(":");
                // ON TIMEOUT: APPROVE / REJECT decides the request when its time
                // runs out (after any escalation), instead of reporting "timeout".
                if self.at_word("approve") || self.at_word("reject") {
                    let approve = self.at_word("approve");
                    self.advance();
                    // Words after the decision (`APPROVE WITH WARNING`,
                    // `REJECT ORDER`) describe it: they become its comment.
                    let mut note = Vec::new();
                    while let Tok::Ident(w) = &self.peek().tok {
                        if APPROVAL_CLAUSES
                            .iter()
                            .any(|c| c[0].eq_ignore_ascii_case(w))
                        {
                            break;
                        }
                        note.push(w.to_lowercase());
                        self.advance();
                    }
                    on_timeout = Some((approve, note.join(" ")));
                    continue;
                }
                if !self.at_word("escalate") {
                    return Err(self
                        .unexpected("expected ESCALATE TO, APPROVE or REJECT after ON TIMEOUT:"));
                }
                self.advance();
                self.expect_word("to", "ESCALATE")?;
                escalate.push(self.expr()?);
            } else if self.eat_words(&["escalate", "to"]) {
                escalate.push(self.expr()?);
            } else if self.eat_word("message") {
                message = Some(self.expr()?);
            } else {
                break;
            }
        }
        Ok(Some(StmtKind::Approval {
            who,
            timeout,
            escalate,
            message,
            on_timeout,
        }))
    }

    /// A number of seconds after TIMEOUT (any expression, but not a missing one or a string).
    pub(crate) fn seconds(&mut self, what: &str) -> PResult<Expr> {
        if self.at_eol() || matches!(self.peek().tok, Tok::Str(_)) || !self.at_expr_start() {
            return Err(self.unexpected(&format!("{what} needs a number of seconds")));
        }
        let e = self.concat()?;
        if let ExprKind::Var(name) = &e.kind {
            if !self.names.contains(name) {
                self.warnings.push(Diagnostic::warning(
                    e.span,
                    format!(
                        "{what} {name}: '{name}' is not set before this line; unless the input sets it, \
                         running this fails ({what} needs a number of seconds)"
                    ),
                ));
            }
        }
        Ok(e)
    }

    /// The statements of `STEP label:` written alone on its line.
    fn step_block(&mut self) -> Vec<Stmt> {
        let mut body = Vec::new();
        loop {
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if matches!(self.peek().tok, Tok::Eof)
                || (self.at_word("step") && !self.peek_n(1).is_sym("="))
                || STEP_BLOCK_ENDS.iter().any(|w| self.at_word(w))
            {
                return body;
            }
            match self.statement() {
                Ok(Some(s)) if self.at_eol() => body.push(s),
                Ok(Some(_)) => {
                    let e = self.unexpected("expected end of statement");
                    self.errors.push(e);
                    while !self.at_eol() {
                        self.advance();
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.errors.push(e);
                    while !self.at_eol() {
                        self.advance();
                    }
                }
            }
        }
    }

    fn parallel(&mut self, opener: Span) -> PResult<StmtKind> {
        let mut branches: Vec<Branch> = Vec::new();
        self.parallel_depth += 1;
        let not_closed =
            || Diagnostic::error(opener, "PARALLEL is not closed (expected END PARALLEL)");
        loop {
            let line_start = self.pos;
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if self.eat_words(&["end", "parallel"]) {
                break;
            }
            if matches!(self.peek().tok, Tok::Eof) {
                self.parallel_depth -= 1;
                return Err(not_closed());
            }
            if !self.at_word("branch") {
                if !self.end_parallel_ahead() {
                    // Without an END PARALLEL further down, the block was never closed:
                    // say so once and let the following lines parse as ordinary code.
                    self.parallel_depth -= 1;
                    self.errors.push(not_closed());
                    self.pos = line_start;
                    return Ok(StmtKind::Parallel { branches });
                }
                let e =
                    Diagnostic::error(self.span(), "only BRANCH lines are allowed inside PARALLEL");
                self.errors.push(e);
                while !self.at_eol() {
                    self.advance();
                }
                continue;
            }
            let bspan = self.span();
            self.advance();
            let label = self.label("BRANCH")?;
            self.expect_sym(":", "after the BRANCH label")?;
            if branches.iter().any(|b| b.label == label) {
                self.errors.push(Diagnostic::error(
                    bspan,
                    format!("duplicate branch label '{label}'"),
                ));
            }
            let body = if self.at_eol() {
                const ENDS: &[Terminator] = &[&["branch"], &["end", "parallel"]];
                match self.block(ENDS) {
                    Ok((body, w)) if w < ENDS.len() => body,
                    _ => {
                        self.parallel_depth -= 1;
                        return Err(not_closed());
                    }
                }
            } else {
                self.statement()?.into_iter().collect()
            };
            branches.push(Branch {
                label,
                body,
                span: bspan,
            });
        }
        self.parallel_depth -= 1;
        if branches.is_empty() {
            return Err(Diagnostic::error(
                opener,
                "PARALLEL needs at least one BRANCH",
            ));
        }
        Ok(StmtKind::Parallel { branches })
    }

    /// True when a line further down starts with END PARALLEL.
    fn end_parallel_ahead(&self) -> bool {
        self.toks[self.pos..].windows(3).any(|w| {
            matches!(w[0].tok, Tok::Newline) && w[1].is_word("end") && w[2].is_word("parallel")
        })
    }

    /// `BOT bot task` (also with a comma between) as an expression.
    pub(crate) fn delegate_expr(&mut self, w: &str, span: Span) -> PResult<Option<Expr>> {
        // `BOT ID` alone (or called) is the catalog's value, not a delegation to `id`.
        let bot_id = self.at_words(&["bot", "id"])
            && matches!(self.peek_n(2).tok, Tok::Newline | Tok::Eof | Tok::Sym("("));
        if w != "bot"
            || bot_id
            || self.at_words(&["bot", "share"])
            || self.at_words(&["bot", "sync"])
            || !{
                let next = self.peek_n(1);
                matches!(next.tok, Tok::Str(_) | Tok::Ident(_) | Tok::Sym("("))
            }
        {
            return Ok(None);
        }
        self.advance();
        let bot = self.concat()?;
        self.eat_sym(",");
        if self.at_eol() {
            return Err(self.unexpected("expected the task after BOT \"bot\""));
        }
        let task = self.concat()?;
        Ok(Some(Expr::new(
            ExprKind::Delegate {
                bot: Box::new(bot),
                task: Box::new(task),
            },
            span,
        )))
    }
}

/// Reports step labels used twice in one workflow (loops give a step one label and
/// several iterations; that is not a duplicate).
pub fn check_step_labels(body: &[Stmt], errors: &mut Vec<Diagnostic>) {
    fn walk(body: &[Stmt], seen: &mut HashMap<String, Span>, errors: &mut Vec<Diagnostic>) {
        for s in body {
            match &s.kind {
                StmtKind::Step { label, body, .. } => {
                    if let Some(first) = seen.get(label) {
                        errors.push(Diagnostic::error(
                            s.span,
                            format!(
                                "duplicate step label '{label}' (first used at line {})",
                                first.line
                            ),
                        ));
                    } else {
                        seen.insert(label.clone(), s.span);
                    }
                    walk(body, seen, errors);
                }
                // The arms of an IF (or the CASEs of a SELECT) exclude each other: only one
                // runs, so the same label in two of them is one step.
                StmtKind::If { arms, otherwise } => {
                    let arms = arms.iter().map(|(_, b)| b).chain(otherwise);
                    walk_exclusive(arms, seen, errors);
                }
                StmtKind::ForEach { body, .. }
                | StmtKind::For { body, .. }
                | StmtKind::While { body, .. }
                | StmtKind::DoLoop { body, .. } => walk(body, seen, errors),
                StmtKind::Try { body, handler, .. } => {
                    walk(body, seen, errors);
                    walk(handler, seen, errors);
                }
                StmtKind::Select {
                    cases, otherwise, ..
                } => {
                    let arms = cases.iter().map(|(_, b)| b).chain(otherwise);
                    walk_exclusive(arms, seen, errors);
                }
                _ => {}
            }
        }
    }
    fn walk_exclusive<'a>(
        arms: impl Iterator<Item = &'a Vec<Stmt>>,
        seen: &mut HashMap<String, Span>,
        errors: &mut Vec<Diagnostic>,
    ) {
        let before = seen.clone();
        let mut after = seen.clone();
        for b in arms {
            let mut arm = before.clone();
            walk(b, &mut arm, errors);
            for (label, span) in arm {
                after.entry(label).or_insert(span);
            }
        }
        *seen = after;
    }
    walk(body, &mut HashMap::new(), errors);
}

impl Codegen<'_> {
    /// Starts an assignment to the current step's result variable, if inside a STEP.
    pub(crate) fn sink(&mut self, call: &str) {
        if let Some(s) = self.step_sink.clone() {
            self.w(&format!("{s} = "));
        }
        self.w(call);
    }

    pub(crate) fn workflow_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Workflow { name, body } => {
                let idx = self.add_entry(
                    EntryKind::Workflow {
                        name: match &name.kind {
                            ExprKind::Str(n) => n.clone(),
                            _ => String::new(),
                        },
                    },
                    body,
                );
                self.w("if k_in_workflow() {\n");
                self.block(body);
                self.w("} else {\n");
                self.mark(s.span);
                self.var("workflow_id");
                self.w(" = k_start_workflow(");
                self.expr(name);
                self.w(&format!(", {idx}, V);\n}}\n"));
            }
            StmtKind::Step { label, body, retry } => {
                let sr = self.temp("sr");
                let q = quote(label);
                self.w(&format!("let {sr} = ();\nk_step_begin({q}, "));
                match retry {
                    Some(r) => {
                        self.expr(&r.tries);
                        self.w(", ");
                        match &r.backoff {
                            Some(b) => self.expr(b),
                            None => self.w("1"),
                        }
                    }
                    None => self.w("1, 0"),
                }
                self.w(");\n");
                let saved = self.step_sink.replace(sr.clone());
                if retry.is_some() {
                    let ok = self.temp("ok");
                    self.w(&format!("loop {{\nlet {ok} = false;\ntry {{\n"));
                    self.block(body);
                    self.w(&format!("{ok} = true;\n}} catch (__err) {{\n"));
                    self.mark(s.span);
                    self.w(&format!(
                        "k_step_failed({q}, __err);\n}}\nif {ok} {{ break; }}\n}}\n"
                    ));
                } else {
                    self.block(body);
                }
                self.step_sink = saved;
                self.var(&format!("step{label}"));
                self.w(&format!(" = {sr};\n"));
                self.var("result");
                self.w(&format!(" = {sr};\n"));
                self.mark(s.span);
                self.w(&format!("k_step_end({q}, {sr});\n"));
            }
            StmtKind::Approval {
                who,
                timeout,
                escalate,
                message,
                on_timeout,
            } => {
                // Found here rather than by the parser, so that a script with an empty
                // approver still parses (the designer draws it while the error shows).
                if let ExprKind::Str(name) = &who.kind {
                    if name.trim().is_empty() {
                        self.diags.push(Diagnostic::error(
                            who.span,
                            "HUMAN APPROVAL FROM \"\" names nobody: give the approver (an address or a name)",
                        ));
                    }
                }
                let t = self.temp("ap");
                self.w(&format!("let {t} = k_approval("));
                self.expr(who);
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
                self.w(", [");
                self.args(escalate);
                self.w("], ");
                match message {
                    Some(e) => self.expr(e),
                    None => self.w("()"),
                }
                self.w(");\n");
                if let Some(approve) = on_timeout {
                    // The request timed out: decided as the script said, by "timeout".
                    let (approve, note) = approve;
                    let status = if *approve { "approved" } else { "rejected" };
                    let comment = if note.is_empty() {
                        "()".to_string()
                    } else {
                        quote(note)
                    };
                    self.w(&format!(
                        "if op_eq(op_index({t}, \"status\"), \"timeout\") {{ {t} = op_set_path({t}, [\"status\"], \"{status}\"); {t} = op_set_path({t}, [\"by\"], \"timeout\"); {t} = op_set_path({t}, [\"comment\"], {comment}); }}\n"
                    ));
                }
                self.var("approval");
                self.w(&format!(" = {t};\n"));
                self.sink(&format!("{t};\n"));
            }
            StmtKind::Parallel { branches } => {
                let mut spec = Vec::new();
                for b in branches {
                    let idx = self.add_entry(
                        EntryKind::Branch {
                            label: b.label.clone(),
                        },
                        &b.body,
                    );
                    spec.push(format!("[{}, {idx}]", quote(&b.label)));
                }
                self.mark(s.span);
                self.sink(&format!("k_parallel([{}], V);\n", spec.join(", ")));
            }
            _ => {}
        }
    }

    /// `BOT "bot" "task"` as a statement: the result goes to `result` (and the step's
    /// result), and a map result's keys become workflow variables.
    pub(crate) fn delegate_stmt(&mut self, e: &Expr) {
        let t = self.temp("d");
        self.w(&format!("let {t} = "));
        self.delegate_code(e);
        self.w(";\n");
        self.var("result");
        self.w(&format!(" = {t};\nV = op_merge(V, {t});\n"));
        self.sink(&format!("{t};\n"));
    }

    pub(crate) fn delegate_code(&mut self, e: &Expr) {
        if let ExprKind::Delegate { bot, task } = &e.kind {
            self.mark(e.span);
            self.w("k_bot(");
            self.expr(bot);
            self.w(", ");
            self.expr(task);
            self.w(", V)");
        }
    }
}

fn text_arg(v: &Dynamic, what: &str) -> Result<String, Box<rhai::EvalAltResult>> {
    let s = value::display(v);
    if s.trim().is_empty() {
        return Err(fail(format!("{what} must not be empty")));
    }
    Ok(s)
}

/// The seconds of a TIMEOUT clause, passed as `[value]` (NULL: no clause). A clause
/// whose value is not a number, NULL included, is an error, never "no deadline".
pub(crate) fn secs_arg(v: &Dynamic, what: &str) -> Result<Option<f64>, Box<rhai::EvalAltResult>> {
    if v.is_unit() {
        return Ok(None);
    }
    let v = match v.read_lock::<Array>() {
        Some(a) => a.first().cloned().unwrap_or(Dynamic::UNIT),
        None => v.clone(),
    };
    let v = &v;
    if v.is_unit() {
        return Err(fail(format!("{what} needs a number of seconds, got NULL")));
    }
    match value::as_num(v) {
        Some(n) if n.as_f64() >= 0.0 => Ok(Some(n.as_f64())),
        _ => Err(fail(format!(
            "{what} needs a number of seconds, got {}",
            value::type_name(v)
        ))),
    }
}

fn step_spec(
    label: &str,
    tries: &Dynamic,
    backoff: &Dynamic,
) -> Result<StepSpec, Box<rhai::EvalAltResult>> {
    let tries = match value::as_num(tries) {
        Some(n) if n.as_f64() >= 1.0 && n.as_f64() <= 100.0 => n.as_f64() as u32,
        _ => return Err(fail("RETRY needs a number of tries between 1 and 100")),
    };
    let backoff_secs = secs_arg(backoff, "BACKOFF")?.unwrap_or(1.0);
    Ok(StepSpec {
        label: label.to_string(),
        tries,
        backoff_secs,
    })
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_in_workflow", || -> RhaiResult {
        call_host(|h| Ok(h.in_workflow()))
            .map(Dynamic::from_bool)
            .map_err(host_err)
    });
    engine.register_fn(
        "k_start_workflow",
        |name: Dynamic, entry: INT, vars: Map| -> RhaiResult {
            let name = text_arg(&name, "the workflow name")?;
            let vars = value::to_json(&Dynamic::from_map(vars));
            call_host(|h| h.start_workflow(&name, entry as usize, vars))
                .map(Dynamic::from)
                .map_err(host_err)
        },
    );
    engine.register_fn(
        "k_step_begin",
        |label: ImmutableString, tries: Dynamic, backoff: Dynamic| -> RhaiResult {
            let spec = step_spec(&label, &tries, &backoff)?;
            call_host(|h| h.step_begin(&spec)).map_err(host_err)?;
            Ok(Dynamic::UNIT)
        },
    );
    engine.register_fn(
        "k_step_failed",
        |_label: ImmutableString, err: Dynamic| -> RhaiResult {
            let msg = value::display(&err);
            call_host(|h| h.step_failed(&msg)).map_err(host_err)?;
            Ok(Dynamic::UNIT)
        },
    );
    engine.register_fn(
        "k_step_end",
        |_label: ImmutableString, result: Dynamic| -> RhaiResult {
            let json = value::to_json(&result);
            call_host(|h| h.step_end(&json)).map_err(host_err)?;
            Ok(Dynamic::UNIT)
        },
    );
    engine.register_fn(
        "k_bot",
        |bot: Dynamic, task: Dynamic, vars: Map| -> RhaiResult {
            let bot = text_arg(&bot, "the bot of BOT")?;
            let task = value::display(&task);
            let vars = value::to_json(&Dynamic::from_map(vars));
            call_host(|h| h.delegate(&bot, &task, vars))
                .map(|v| value::from_json(&v))
                .map_err(host_err)
        },
    );
    engine.register_fn(
        "k_approval",
        |who: Dynamic, timeout: Dynamic, escalate: Array, message: Dynamic| -> RhaiResult {
            let req = ApprovalRequest {
                who: text_arg(&who, "the approver of HUMAN APPROVAL")?,
                timeout_secs: secs_arg(&timeout, "TIMEOUT")?,
                escalate: escalate
                    .iter()
                    .map(|e| text_arg(e, "ESCALATE TO"))
                    .collect::<Result<_, _>>()?,
                message: if message.is_unit() {
                    None
                } else {
                    Some(value::display(&message))
                },
            };
            call_host(|h| h.approval(&req))
                .map(|v| value::from_json(&v))
                .map_err(host_err)
        },
    );
    engine.register_fn("k_parallel", |branches: Array, vars: Map| -> RhaiResult {
        let mut spec = Vec::new();
        for b in branches {
            let pair = b
                .into_array()
                .map_err(|_| fail("internal: bad PARALLEL spec"))?;
            let label = pair.first().map(value::display).unwrap_or_default();
            let idx = pair.get(1).and_then(|d| d.as_int().ok()).unwrap_or(0);
            spec.push((label, idx as usize));
        }
        let vars = value::to_json(&Dynamic::from_map(vars));
        call_host(|h| h.parallel(&spec, vars))
            .map(|v| value::from_json(&v))
            .map_err(host_err)
    });
    engine.register_fn("k_return", |v: Dynamic| -> RhaiResult {
        let json = value::to_json(&v);
        call_host(|h| {
            h.set_result(json);
            Ok(())
        })
        .map_err(host_err)?;
        Ok(v)
    });
}
