//! Code generation: [`Script`] → Rhai source, with a map from generated positions back
//! to `.bas` spans so that runtime errors name the `.bas` line and column.
//!
//! The generated code keeps every script variable in one object map `V` (a Rhai
//! variable the runner pushes into the scope). That gives BASIC's rules for free: a
//! variable never assigned reads as `()` (NULL), a workflow's variables can be
//! snapshotted, copied into a child execution and merged from a map result. Operators
//! call host functions (`op_add`, …) that implement BASIC semantics; keywords call
//! host functions named `k_…` (see `keywords/`), built-ins `b_…`, user procedures `p_…`.

use std::collections::HashMap;

use super::ast::*;
use super::diagnostics::{Diagnostic, Span};
use super::keywords::builtins;

/// What an entry point of a script is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// The whole file.
    Main,
    /// An `ORCHESTRATE WORKFLOW` block started from a script that is not a workflow.
    Workflow { name: String },
    /// The body of `ON EVENT name DO … END ON`.
    Handler { event: String },
    /// One `BRANCH` of a `PARALLEL`, run as a child execution.
    Branch { label: String },
}

/// The generated Rhai source of one entry point and its position map.
#[derive(Debug, Clone)]
pub struct GeneratedEntry {
    pub kind: EntryKind,
    pub code: String,
    /// (generated line, generated column, `.bas` span), in generation order.
    pub map: Vec<(u32, u32, Span)>,
}

impl GeneratedEntry {
    /// The `.bas` span of the innermost construct generated at or before `line:col`.
    pub fn source_span(&self, line: u32, col: u32) -> Option<Span> {
        self.map
            .iter()
            .rev()
            .find(|(l, c, _)| (*l, *c) <= (line, col))
            .map(|(_, _, s)| *s)
    }
}

/// Bodies waiting to become their own entry points (workflow blocks, handlers, branches).
struct Pending {
    kind: EntryKind,
    body: Vec<Stmt>,
}

/// The code generator for one script.
pub struct Codegen<'a> {
    out: String,
    line: u32,
    col: u32,
    map: Vec<(u32, u32, Span)>,
    pub(crate) diags: &'a mut Vec<Diagnostic>,
    procedures: HashMap<String, (usize, bool)>,
    tmp: usize,
    pending: Vec<Pending>,
    /// Index the next pending entry will get (entries are numbered in creation order).
    next_entry: usize,
    pub(crate) in_procedure: bool,
    /// Inside a STEP: the Rhai variable that receives the step's result.
    pub(crate) step_sink: Option<String>,
    proc_code: String,
}

/// Generates every entry point of a script. Errors (unknown functions, …) and
/// warnings are appended to `diags`.
pub fn generate(script: &Script, diags: &mut Vec<Diagnostic>) -> Vec<GeneratedEntry> {
    let mut procedures = HashMap::new();
    for s in &script.body {
        if let StmtKind::Procedure {
            name,
            params,
            is_function,
            ..
        } = &s.kind
        {
            if procedures
                .insert(name.clone(), (params.len(), *is_function))
                .is_some()
            {
                diags.push(Diagnostic::error(
                    s.span,
                    format!("'{name}' is declared twice"),
                ));
            }
        }
    }
    let mut g = Codegen {
        out: String::new(),
        line: 1,
        col: 1,
        map: Vec::new(),
        diags,
        procedures,
        tmp: 0,
        pending: Vec::new(),
        next_entry: 1,
        in_procedure: false,
        step_sink: None,
        proc_code: String::new(),
    };
    // Procedures first: their Rhai functions are appended to every entry. A name
    // declared twice was reported above; only its first declaration is generated.
    let mut generated = std::collections::HashSet::new();
    for s in &script.body {
        if let StmtKind::Procedure {
            name, params, body, ..
        } = &s.kind
        {
            if generated.insert(name.clone()) {
                g.procedure(name, params, body, s.span);
            }
        }
    }
    g.proc_code = std::mem::take(&mut g.out);
    let proc_map = std::mem::take(&mut g.map);
    let proc_lines = g.line - 1;

    let mut entries = Vec::new();
    // Entry indices are handed out in creation order; a FIFO queue generates them in
    // that same order, so `entries[i]` is entry `i`.
    let mut queue = std::collections::VecDeque::from([Pending {
        kind: EntryKind::Main,
        body: script.body.clone(),
    }]);
    while let Some(p) = queue.pop_front() {
        g.out = g.proc_code.clone();
        g.line = proc_lines + 1;
        g.col = 1;
        g.map = proc_map.clone();
        g.block(&p.body);
        if matches!(p.kind, EntryKind::Branch { .. }) {
            // A branch's result is its `result` variable (set by a BOT in it).
            g.w("k_return(V[\"result\"]);\n");
        }
        entries.push(GeneratedEntry {
            kind: p.kind,
            code: std::mem::take(&mut g.out),
            map: std::mem::take(&mut g.map),
        });
        queue.extend(std::mem::take(&mut g.pending));
    }
    entries
}

/// A Rhai string literal for `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Codegen<'_> {
    pub(crate) fn w(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.out.push_str(s);
    }

    pub(crate) fn mark(&mut self, span: Span) {
        self.map.push((self.line, self.col, span));
    }

    pub(crate) fn temp(&mut self, what: &str) -> String {
        self.tmp += 1;
        format!("__{what}{}", self.tmp)
    }

    /// Queues `body` as a new entry point and returns its index.
    pub(crate) fn add_entry(&mut self, kind: EntryKind, body: &[Stmt]) -> usize {
        let idx = self.next_entry;
        self.next_entry += 1;
        self.pending.push(Pending {
            kind,
            body: body.to_vec(),
        });
        idx
    }

    pub(crate) fn var(&mut self, name: &str) {
        self.w(&format!("V[{}]", quote(name)));
    }

    pub(crate) fn block(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn procedure(&mut self, name: &str, params: &[String], body: &[Stmt], span: Span) {
        self.mark(span);
        let args: Vec<String> = (0..params.len()).map(|i| format!("a{i}")).collect();
        self.w(&format!("fn {}({}) {{\n", proc_fn(name), args.join(", ")));
        let init: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}: a{i}", quote(p)))
            .collect();
        self.w(&format!("let V = #{{{}}};\n", init.join(", ")));
        self.in_procedure = true;
        self.block(body);
        self.in_procedure = false;
        self.w("}\n");
    }

    /// Assigns the value of the Rhai expression text `value` to a target.
    pub(crate) fn assign_to(&mut self, target: &Target, value: &str) {
        self.mark(target.span);
        if target.path.is_empty() {
            self.var(&target.var);
            self.w(&format!(" = {value};\n"));
            return;
        }
        self.var(&target.var);
        self.w(" = op_set_path(");
        self.var(&target.var);
        self.w(", [");
        for (i, seg) in target.path.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            match seg {
                PathSeg::Member(m) => self.w(&quote(m)),
                PathSeg::Index(e) => self.expr(e),
            }
        }
        self.w(&format!("], {value});\n"));
    }

    /// One statement, in its own Rhai block: its temporaries (`let __v…`) are scoped
    /// to it, which keeps Rhai's variable lookups short in long scripts.
    pub(crate) fn stmt(&mut self, s: &Stmt) {
        if matches!(s.kind, StmtKind::Procedure { .. } | StmtKind::Declaration) {
            return;
        }
        self.w("{\n");
        self.stmt_code(s);
        self.w("}\n");
    }

    fn stmt_code(&mut self, s: &Stmt) {
        self.mark(s.span);
        match &s.kind {
            StmtKind::Assign { target, value } => {
                let t = self.temp("v");
                self.w(&format!("let {t} = "));
                self.expr(value);
                self.w(";\n");
                self.assign_to(target, &t);
                if let Some(sink) = self.step_sink.clone() {
                    self.w(&format!("{sink} = {t};\n"));
                }
            }
            StmtKind::Expr(e) if matches!(e.kind, ExprKind::Delegate { .. }) => {
                self.delegate_stmt(e);
            }
            StmtKind::Expr(e) => {
                self.expr(e);
                self.w(";\n");
            }
            StmtKind::If { arms, otherwise } => {
                for (i, (cond, body)) in arms.iter().enumerate() {
                    if i > 0 {
                        self.w(" else ");
                    }
                    self.w("if op_truthy(");
                    self.expr(cond);
                    self.w(") {\n");
                    self.block(body);
                    self.w("}");
                }
                if let Some(body) = otherwise {
                    self.w(" else {\n");
                    self.block(body);
                    self.w("}");
                }
                self.w("\n");
            }
            StmtKind::ForEach { var, list, body } => {
                let it = self.temp("it");
                self.w(&format!("for {it} in "));
                // A value that cannot be looped over is reported at the list expression.
                self.mark(list.span);
                self.w("op_iter(");
                self.expr(list);
                self.w(") {\n");
                self.var(var);
                self.w(&format!(" = {it};\n"));
                self.block(body);
                self.w("}\n");
            }
            StmtKind::For {
                var,
                from,
                to,
                step,
                body,
            } => {
                let end = self.temp("end");
                let st = self.temp("step");
                // Each bound that is not a number is reported at its own expression.
                self.var(var);
                self.w(" = ");
                self.mark(from.span);
                self.w("op_num(");
                self.expr(from);
                self.w(&format!(");\nlet {end} = "));
                self.mark(to.span);
                self.w("op_num(");
                self.expr(to);
                self.w(&format!(");\nlet {st} = "));
                match step {
                    Some(e) => {
                        self.mark(e.span);
                        self.w("op_num(");
                        self.expr(e);
                        self.w(")");
                    }
                    None => self.w("1"),
                }
                self.w(";\n");
                self.mark(step.as_ref().map_or(s.span, |e| e.span));
                self.w(&format!(
                    "if op_eq({st}, 0) {{ throw \"FOR STEP must not be 0\"; }}\n"
                ));
                self.w("while op_for_continues(");
                self.var(var);
                self.w(&format!(", {end}, {st}) {{\n"));
                self.block(body);
                self.var(var);
                self.w(" = op_add(");
                self.var(var);
                self.w(&format!(", {st});\n}}\n"));
            }
            StmtKind::While { cond, body } => {
                self.w("while op_truthy(");
                self.expr(cond);
                self.w(") {\n");
                self.block(body);
                self.w("}\n");
            }
            StmtKind::DoLoop { pre, post, body } => {
                self.w("loop {\n");
                if let Some((until, cond)) = pre {
                    self.w(if *until {
                        "if op_truthy("
                    } else {
                        "if !op_truthy("
                    });
                    self.expr(cond);
                    self.w(") { break; }\n");
                }
                self.block(body);
                if let Some((until, cond)) = post {
                    self.w(if *until {
                        "if op_truthy("
                    } else {
                        "if !op_truthy("
                    });
                    self.expr(cond);
                    self.w(") { break; }\n");
                }
                self.w("}\n");
            }
            StmtKind::ExitFor | StmtKind::ExitDo => self.w("break;\n"),
            StmtKind::Select {
                subject,
                cases,
                otherwise,
            } => {
                let t = self.temp("sel");
                self.w(&format!("let {t} = "));
                self.expr(subject);
                self.w(";\n");
                for (i, (tests, body)) in cases.iter().enumerate() {
                    if i > 0 {
                        self.w(" else ");
                    }
                    self.w("if ");
                    for (j, test) in tests.iter().enumerate() {
                        if j > 0 {
                            self.w(" || ");
                        }
                        match test {
                            CaseTest::Value(v) => {
                                self.w(&format!("op_eq({t}, "));
                                self.expr(v);
                                self.w(")");
                            }
                            CaseTest::Range(a, b) => {
                                self.w(&format!("(op_ge({t}, "));
                                self.expr(a);
                                self.w(&format!(") && op_le({t}, "));
                                self.expr(b);
                                self.w("))");
                            }
                            CaseTest::Is(op, v) => {
                                self.w(&format!("{}({t}, ", binop_fn(*op)));
                                self.expr(v);
                                self.w(")");
                            }
                        }
                    }
                    self.w(" {\n");
                    self.block(body);
                    self.w("}");
                }
                if let Some(body) = otherwise {
                    if cases.is_empty() {
                        self.w("{\n");
                    } else {
                        self.w(" else {\n");
                    }
                    self.block(body);
                    self.w("}");
                }
                self.w("\n");
            }
            StmtKind::Procedure { .. } => {}
            StmtKind::Call { name, args } => {
                self.call(name, args, s.span, true);
                self.w(";\n");
            }
            StmtKind::With { var, body } => {
                self.w("if type_of(");
                self.var(var);
                self.w(") != \"map\" { ");
                self.var(var);
                self.w(" = #{}; }\n");
                self.block(body);
            }
            StmtKind::Return(value) => {
                if self.in_procedure {
                    self.w("return ");
                    match value {
                        Some(e) => self.expr(e),
                        None => self.w("()"),
                    }
                    self.w(";\n");
                } else {
                    self.w("return k_return(");
                    match value {
                        Some(e) => self.expr(e),
                        None => self.w("()"),
                    }
                    self.w(");\n");
                }
            }
            StmtKind::Declaration => {}
            StmtKind::Throw(e) => {
                self.w("k_throw(");
                self.expr(e);
                self.w(");\n");
            }
            StmtKind::Try { body, var, handler } => {
                // A suspend ends the run with an error no `catch` can take, so a wait inside
                // TRY still suspends; only failures reach the handler.
                let e = self.temp("e");
                self.w("try {\n");
                self.block(body);
                self.w(&format!("}} catch ({e}) {{\n"));
                self.var(var);
                self.w(&format!(" = op_concat_all([{e}]);\n"));
                self.block(handler);
                self.w("}\n");
            }
            _ => self.keyword_stmt(s),
        }
    }

    pub(crate) fn expr(&mut self, e: &Expr) {
        self.mark(e.span);
        match &e.kind {
            ExprKind::Null => self.w("()"),
            ExprKind::Bool(b) => self.w(if *b { "true" } else { "false" }),
            ExprKind::Int(n) => {
                if *n == i64::MIN {
                    self.w("(-9223372036854775807 - 1)");
                } else if *n < 0 {
                    self.w(&format!("({n})"));
                } else {
                    self.w(&n.to_string());
                }
            }
            ExprKind::Float(f) => {
                let text = format!("{f:?}");
                if *f < 0.0 {
                    self.w(&format!("({text})"));
                } else {
                    self.w(&text);
                }
            }
            ExprKind::Str(s) => self.w(&quote(s)),
            ExprKind::Interp(parts) => {
                self.w("op_concat_all([");
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    match p {
                        InterpPart::Text(t) => self.w(&quote(t)),
                        InterpPart::Expr(e) => self.expr(e),
                    }
                }
                self.w("])");
            }
            ExprKind::Var(name) => self.var(name),
            ExprKind::List(items) => {
                self.w("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    self.expr(item);
                }
                self.w("]");
            }
            ExprKind::Map(entries) => {
                self.w("#{");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    self.w(&format!("{}: ", quote(k)));
                    self.expr(v);
                }
                self.w("}");
            }
            ExprKind::Unary(UnOp::Neg, inner) => {
                self.w("op_neg(");
                self.expr(inner);
                self.w(")");
            }
            ExprKind::Unary(UnOp::Not, inner) => {
                self.w("!op_truthy(");
                self.expr(inner);
                self.w(")");
            }
            ExprKind::Binary(BinOp::And, a, b) => {
                self.w("(op_truthy(");
                self.expr(a);
                self.w(") && op_truthy(");
                self.expr(b);
                self.w("))");
            }
            ExprKind::Binary(BinOp::Or, a, b) => {
                self.w("(op_truthy(");
                self.expr(a);
                self.w(") || op_truthy(");
                self.expr(b);
                self.w("))");
            }
            ExprKind::Binary(op, a, b) => {
                self.w(binop_fn(*op));
                self.w("(");
                self.expr(a);
                self.w(", ");
                self.expr(b);
                self.w(")");
            }
            ExprKind::Member(obj, name) => {
                self.w("op_index(");
                self.expr(obj);
                self.w(&format!(", {})", quote(name)));
            }
            ExprKind::Index(obj, idx) => {
                self.w("op_index(");
                self.expr(obj);
                self.w(", ");
                self.expr(idx);
                self.w(")");
            }
            ExprKind::Call(name, args) => self.call(name, args, e.span, false),
            ExprKind::Method(obj, name, args) => self.method(obj, name, args, e.span),
            ExprKind::Cond(c, a, b) => {
                self.w("(if op_truthy(");
                self.expr(c);
                self.w(") { ");
                self.expr(a);
                self.w(" } else { ");
                self.expr(b);
                self.w(" })");
            }
            ExprKind::Coalesce(a, b) => {
                let t = self.temp("c");
                self.w(&format!("{{ let {t} = "));
                self.expr(a);
                self.w(&format!("; if type_of({t}) == \"()\" {{ "));
                self.expr(b);
                self.w(&format!(" }} else {{ {t} }} }}"));
            }
            _ => self.keyword_expr(e),
        }
    }

    /// A call of a user procedure or a built-in function.
    fn call(&mut self, name: &str, args: &[Expr], span: Span, as_statement: bool) {
        if let Some(&(arity, is_function)) = self.procedures.get(name) {
            if arity != args.len() {
                self.diags.push(Diagnostic::error(
                    span,
                    format!(
                        "'{name}' takes {arity} argument{}, {} given",
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                ));
            }
            if !as_statement && !is_function {
                self.diags.push(Diagnostic::error(
                    span,
                    format!(
                        "SUB '{name}' has no value; declare it as a FUNCTION to use its result"
                    ),
                ));
            }
            self.w(&format!("{}(", proc_fn(name)));
            self.args(args);
            self.w(")");
            return;
        }
        if name == "iif" && args.len() == 3 {
            // IIF evaluates only the value it chooses.
            let cond = ExprKind::Cond(
                Box::new(args[0].clone()),
                Box::new(args[1].clone()),
                Box::new(args[2].clone()),
            );
            self.expr(&Expr::new(cond, span));
            return;
        }
        match builtins::arity(name) {
            Some((min, max)) => {
                if args.len() < min || args.len() > max {
                    let want = if min == max {
                        format!("{min}")
                    } else {
                        format!("{min} to {max}")
                    };
                    self.diags.push(Diagnostic::error(
                        span,
                        format!(
                            "{} takes {want} argument{}, {} given",
                            name.to_uppercase(),
                            if max == 1 { "" } else { "s" },
                            args.len()
                        ),
                    ));
                }
                self.w(&format!("b_{name}("));
                self.args(args);
                self.w(")");
            }
            None if super::keywords::catalog::is_unavailable_function(name, as_statement) => {
                let keyword = super::keywords::catalog::function_keyword(name)
                    .map_or_else(|| name.to_uppercase(), str::to_string);
                self.unavailable(&keyword, span);
            }
            None => {
                let what = if as_statement {
                    "SUB or FUNCTION"
                } else {
                    "function"
                };
                let hint = super::parser::did_you_mean(name, builtins::names())
                    .map(|b| format!(" (did you mean {}?)", b.to_uppercase()))
                    .unwrap_or_default();
                self.diags.push(Diagnostic::error(
                    span,
                    format!("unknown {what} '{name}'{hint}"),
                ));
                self.w("()");
            }
        }
    }

    /// A Rhai-style method call (`s.contains("a")`): the built-in it stands for, with the
    /// object as its first argument.
    fn method(&mut self, obj: &Expr, name: &str, args: &[Expr], span: Span) {
        match builtins::method(name) {
            Some(builtin) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(obj.clone());
                all.extend_from_slice(args);
                self.call(builtin, &all, span, false);
            }
            None => {
                self.diags
                    .push(Diagnostic::error(span, format!("unknown method '{name}'")));
                self.w("()");
            }
        }
    }

    pub(crate) fn args(&mut self, args: &[Expr]) {
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.expr(a);
        }
    }

    /// Emits a call that fails at run time with "not available on this server", and a
    /// warning for `check`.
    pub(crate) fn unavailable(&mut self, name: &str, span: Span) {
        self.diags.push(Diagnostic::warning(
            span,
            format!("{name} is not available on this server; running it fails the execution"),
        ));
        self.w(&format!("k_unavailable({})", quote(name)));
    }
}

/// The Rhai function of a user procedure. Rhai names are ASCII, BASIC names need not be
/// (`SUB Olá`): `_` is doubled and any other character becomes `_x<hex>_`, so two
/// different names never share a function.
fn proc_fn(name: &str) -> String {
    let mut out = String::from("p_");
    for c in name.chars() {
        match c {
            '_' => out.push_str("__"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c => out.push_str(&format!("_x{:x}_", c as u32)),
        }
    }
    out
}

fn binop_fn(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "op_add",
        BinOp::Sub => "op_sub",
        BinOp::Mul => "op_mul",
        BinOp::Div => "op_div",
        BinOp::IntDiv => "op_intdiv",
        BinOp::Mod => "op_mod",
        BinOp::Pow => "op_pow",
        BinOp::Concat => "op_concat",
        BinOp::Eq => "op_eq",
        BinOp::Ne => "op_ne",
        BinOp::Lt => "op_lt",
        BinOp::Gt => "op_gt",
        BinOp::Le => "op_le",
        BinOp::Ge => "op_ge",
        BinOp::And | BinOp::Or => "op_truthy",
    }
}
