//! The BASIC language: tokenizer → parser → AST with spans → generated Rhai code with
//! a position map → compiled Rhai `AST`, cached by content hash (docs/language.md).
//!
//! [`compile`] turns a `.bas` source into a [`CompiledScript`]; [`run_entry`] runs one of
//! its entry points against a [`context::Host`] and reports where it stopped.

pub mod ast;
pub mod codegen;
pub mod context;
pub mod diagnostics;
pub mod engine;
pub mod keywords;
pub mod parser;
pub mod tokenizer;
pub mod value;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, EvalAltResult, Map, Scope};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use ast::{ExprKind, Stmt, StmtKind};
pub use codegen::EntryKind;
use codegen::GeneratedEntry;
use context::Host;
use diagnostics::{Diagnostic, Diagnostics, Span};

/// One runnable entry point of a compiled script.
pub struct CompiledEntry {
    pub generated: GeneratedEntry,
    pub ast: rhai::AST,
    /// What the entry's calls touch (see `keywords::effects`).
    pub effects: keywords::effects::EntryEffects,
}

/// A compiled `.bas` script: its entry points (index 0 is the whole file), its
/// warnings, and what `check` needs to know about it.
pub struct CompiledScript {
    /// Hex SHA-256 of the source: the script's identity for caching and version pinning.
    pub hash: String,
    pub entries: Vec<CompiledEntry>,
    pub warnings: Vec<Diagnostic>,
    /// Bots named by a string literal in `BOT "name" …`, with the position.
    pub delegations: Vec<(String, Span)>,
    /// The script's top-level `TABLE … END TABLE` definitions, with their positions.
    pub tables: Vec<(ast::TableDef, Span)>,
    /// The script's `SET SCHEDULE` as a cron expression, with its position.
    pub schedule: Option<(String, Span)>,
}

impl CompiledScript {
    /// The event names of the script's `ON EVENT` handlers with their entry indices.
    pub fn handlers(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.generated.kind {
                EntryKind::Handler { event } => Some((event.as_str(), i)),
                _ => None,
            })
    }
}

/// The hex SHA-256 of a source text.
pub fn content_hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compiles a script. Errors come back as diagnostics with `.bas` positions.
pub fn compile(
    engine: &Engine,
    source: &str,
    limits: &engine::Limits,
) -> Result<CompiledScript, Diagnostics> {
    // The front-end recurses as deep as the script nests (within its limits), and how
    // much stack that takes depends on the build: it gets a stack of its own, the same
    // on every thread that compiles (a server's blocking threads, a test's threads).
    stacker::grow(COMPILE_STACK_BYTES, || {
        compile_on_this_stack(engine, source, limits)
    })
}

/// The stack the front-end runs on: ample for the deepest nesting the parser allows, in
/// an unoptimized build too.
const COMPILE_STACK_BYTES: usize = 32 << 20;

/// What `check` says about a script: its errors, or its warnings and a warning for each
/// delegation to a bot that `unknown_bot` gives a message for (the caller knows which
/// bots exist: those beside a package on the command line, those loaded in a server).
pub fn check_source(
    engine: &Engine,
    source: &str,
    limits: &engine::Limits,
    unknown_bot: impl Fn(&str) -> Option<String>,
) -> Vec<Diagnostic> {
    match compile(engine, source, limits) {
        Ok(script) => {
            let mut d = script.warnings.clone();
            for (bot, span) in &script.delegations {
                if let Some(message) = unknown_bot(bot) {
                    d.push(Diagnostic::warning(*span, message));
                }
            }
            d
        }
        Err(e) => e.0,
    }
}

/// The syntax tree of a script (for tools that read its structure, such as the
/// designer's graph), parsed on the compiler's own stack.
pub fn parse_source(source: &str, limits: &engine::Limits) -> Result<ast::Script, Diagnostics> {
    stacker::grow(COMPILE_STACK_BYTES, || parse_on_this_stack(source, limits))
}

/// Tokens and syntax tree of a script within the size limit.
fn parse_on_this_stack(source: &str, limits: &engine::Limits) -> Result<ast::Script, Diagnostics> {
    if source.len() > limits.max_script_bytes {
        return Err(Diagnostics(vec![Diagnostic::error(
            Span::new(1, 1),
            format!(
                "the script is {} bytes, over the limit of {} bytes",
                source.len(),
                limits.max_script_bytes
            ),
        )]));
    }
    let tokens = tokenizer::tokenize(source).map_err(|d| Diagnostics(vec![d]))?;
    parser::parse(tokens).map_err(Diagnostics)
}

fn compile_on_this_stack(
    engine: &Engine,
    source: &str,
    limits: &engine::Limits,
) -> Result<CompiledScript, Diagnostics> {
    let script = parse_on_this_stack(source, limits)?;
    let mut diags = script.warnings.clone();
    let schedule = keywords::schedule::declared(&script.body, &mut diags);
    let generated = codegen::generate(&script, &mut diags);
    let mut delegations = Vec::new();
    collect_delegations(&script.body, &mut delegations);
    let mut entries = Vec::with_capacity(generated.len());
    for g in generated {
        match engine.compile(&g.code) {
            Ok(ast) => entries.push(CompiledEntry {
                effects: keywords::effects::EntryEffects::of(&ast),
                generated: g,
                ast,
            }),
            Err(e) => {
                let p = e.position();
                let span = g
                    .source_span(
                        p.line().unwrap_or(0) as u32,
                        p.position().unwrap_or(0) as u32,
                    )
                    .unwrap_or_default();
                let message = if *e.0 == rhai::ParseErrorType::ExprTooDeep {
                    // Within the parser's limits, deep blocks and deep expressions
                    // together can still be too much for the engine.
                    "this part of the script is nested too deeply; split it into smaller \
                     expressions or procedures"
                        .to_string()
                } else {
                    format!("internal error: generated code does not compile ({e})")
                };
                diags.push(Diagnostic::error(span, message));
            }
        }
    }
    diags.sort_by_key(|d| d.span);
    // A statement the code generator visits twice (a workflow's body is generated for
    // the script and for its entry) says the same thing once.
    diags.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let tables = script
        .body
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Table(t) => Some((t.clone(), s.span)),
            _ => None,
        })
        .collect();
    Ok(CompiledScript {
        hash: content_hash(source),
        entries,
        warnings: diags,
        delegations,
        tables,
        schedule,
    })
}

fn collect_delegations(body: &[Stmt], out: &mut Vec<(String, Span)>) {
    fn expr(e: &ast::Expr, out: &mut Vec<(String, Span)>) {
        if let ExprKind::Delegate { bot, .. } = &e.kind {
            if let ExprKind::Str(name) = &bot.kind {
                out.push((name.clone(), bot.span));
            }
        }
    }
    for s in body {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Assign { value: e, .. } => expr(e, out),
            StmtKind::If { arms, otherwise } => {
                for (_, b) in arms {
                    collect_delegations(b, out);
                }
                if let Some(b) = otherwise {
                    collect_delegations(b, out);
                }
            }
            StmtKind::ForEach { body, .. }
            | StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::DoLoop { body, .. }
            | StmtKind::Procedure { body, .. }
            | StmtKind::Workflow { body, .. }
            | StmtKind::Step { body, .. }
            | StmtKind::OnEvent { body, .. } => collect_delegations(body, out),
            StmtKind::Select {
                cases, otherwise, ..
            } => {
                for (_, b) in cases {
                    collect_delegations(b, out);
                }
                if let Some(b) = otherwise {
                    collect_delegations(b, out);
                }
            }
            StmtKind::Parallel { branches } => {
                for b in branches {
                    collect_delegations(&b.body, out);
                }
            }
            StmtKind::Try { body, handler, .. } => {
                collect_delegations(body, out);
                collect_delegations(handler, out);
            }
            _ => {}
        }
    }
}

/// Compiled scripts by content hash. A script with a hash already here is never
/// compiled again.
#[derive(Default)]
pub struct ScriptCache {
    scripts: Mutex<HashMap<String, Arc<CompiledScript>>>,
    compiles: std::sync::atomic::AtomicU64,
}

impl ScriptCache {
    pub fn get(&self, hash: &str) -> Option<Arc<CompiledScript>> {
        self.scripts.lock().ok().and_then(|m| m.get(hash).cloned())
    }

    /// The compiled form of `source`, compiling it only if its hash is new.
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        source: &str,
        limits: &engine::Limits,
    ) -> Result<Arc<CompiledScript>, Diagnostics> {
        let hash = content_hash(source);
        if let Some(c) = self.get(&hash) {
            return Ok(c);
        }
        self.compiles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let compiled = Arc::new(compile(engine, source, limits)?);
        if let Ok(mut m) = self.scripts.lock() {
            m.insert(hash, compiled.clone());
        }
        Ok(compiled)
    }

    /// How many compilations this cache has done (a metric, and a test hook).
    pub fn compile_count(&self) -> u64 {
        self.compiles.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A runtime error at a `.bas` position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{span}: {message}")]
pub struct RuntimeError {
    pub span: Span,
    pub message: String,
}

impl RuntimeError {
    /// `file:line:col: error: message`, the source line and a caret.
    pub fn render(&self, file: &str, source: &str) -> String {
        Diagnostic::error(self.span, self.message.clone()).render(file, source)
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The entry ran to its end (or `RETURN`).
    Completed,
    /// A keyword is waiting; the host recorded what for.
    Suspended,
    Failed(RuntimeError),
}

/// Runs entry `entry` of `script` with the given variables and host. Returns how the
/// run ended and the variables as they were when it stopped.
pub fn run_entry(
    engine: &Engine,
    script: &CompiledScript,
    entry: usize,
    vars: &Json,
    host: &mut dyn Host,
) -> (RunOutcome, Json) {
    let Some(e) = script.entries.get(entry) else {
        return (
            RunOutcome::Failed(RuntimeError {
                span: Span::default(),
                message: format!("the script has no entry point {entry}"),
            }),
            vars.clone(),
        );
    };
    let mut scope = Scope::new();
    let v = value::from_json(vars).try_cast::<Map>().unwrap_or_default();
    scope.push("V", v);
    keywords::http::reset_headers();
    let result = context::with_host(host, || engine.run_ast_with_scope(&mut scope, &e.ast));
    let vars_after = scope
        .get_value::<Map>("V")
        .map(|m| value::to_json(&Dynamic::from_map(m)))
        .unwrap_or(Json::Null);
    let outcome = match result {
        Ok(()) => RunOutcome::Completed,
        Err(err) => classify(&e.generated, *err, engine),
    };
    (outcome, vars_after)
}

/// The error as raised where it happened: inside a `FUNCTION`/`SUB` the error is wrapped
/// in the call's error, whose position is the call site, not the failing line.
fn innermost(err: EvalAltResult) -> EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
            if inner.position().is_none() {
                EvalAltResult::ErrorInFunctionCall(name, source, inner, pos)
            } else {
                innermost(*inner)
            }
        }
        other => other,
    }
}

fn classify(g: &GeneratedEntry, err: EvalAltResult, engine: &Engine) -> RunOutcome {
    let err = innermost(err);
    // `return` at the top level ends the run normally.
    if let EvalAltResult::Return(_, _) = err {
        return RunOutcome::Completed;
    }
    if let EvalAltResult::ErrorTerminated(token, _) = &err {
        if token.is_string() && value::display(token) == keywords::SUSPEND {
            return RunOutcome::Suspended;
        }
    }
    let pos = err.position();
    let span = g
        .source_span(
            pos.line().unwrap_or(0) as u32,
            pos.position().unwrap_or(0) as u32,
        )
        .unwrap_or_default();
    RunOutcome::Failed(RuntimeError {
        span,
        message: error_message(err, engine),
    })
}

fn error_message(err: EvalAltResult, engine: &Engine) -> String {
    match err {
        EvalAltResult::ErrorRuntime(v, _) => value::display(&v),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => error_message(*inner, engine),
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "the script ran more than {} operations and was stopped (an endless loop?)",
            engine.max_operations()
        ),
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "calls nested deeper than {} levels (endless recursion?)",
            engine.max_call_levels()
        ),
        // Raised by the run-time clock (`engine::run_clock`); its token is the message.
        EvalAltResult::ErrorTerminated(token, _) => value::display(&token),
        EvalAltResult::ErrorDataTooLarge(what, _) => match what.as_str() {
            "Length of string" => format!(
                "a string is longer than this server allows ({} bytes)",
                engine.max_string_size()
            ),
            "Size of array/BLOB" => format!(
                "a list has more items than this server allows ({})",
                engine.max_array_size()
            ),
            "Size of object map" => format!(
                "a map has more entries than this server allows ({})",
                engine.max_map_size()
            ),
            _ => format!("{what} is over the size limit of this server"),
        },
        other => {
            let text = other.to_string();
            // Rhai appends " (line L, position P)" of the generated code; drop it.
            match text.rfind(" (line ") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use context::TerminalHost;

    fn run_src(src: &str, input: &str) -> (String, RunOutcome) {
        let limits = engine::Limits::default();
        let engine = engine::new_engine(&limits);
        let script = compile(&engine, src, &limits).unwrap();
        let mut out = Vec::new();
        let mut host = TerminalHost::new(input.as_bytes(), &mut out);
        let (outcome, _) = run_entry(&engine, &script, 0, &Json::Null, &mut host);
        drop(host);
        (String::from_utf8(out).unwrap(), outcome)
    }

    #[test]
    fn talk_and_arithmetic() {
        let (out, outcome) = run_src("x = 4\nTALK x * 2\nTALK x / 8 + 9\n", "");
        assert_eq!(outcome, RunOutcome::Completed);
        assert_eq!(out, "8\n9.5\n");
    }

    #[test]
    fn runtime_error_has_bas_position() {
        let (_, outcome) = run_src("x = 1\ny = 0\nTALK x / y\n", "");
        match outcome {
            RunOutcome::Failed(e) => {
                assert_eq!(e.span, Span::new(3, 8));
                assert_eq!(e.message, "division by zero");
            }
            other => panic!("{other:?}"),
        }
    }
}
