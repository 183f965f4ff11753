//! The parser: tokens → [`Script`]. Recursive descent over lines; each statement
//! starts at the beginning of a line. Errors are collected per statement (the parser
//! skips to the next line and goes on), so `check` reports every error in a file.
//!
//! The base dialect (assignments, control flow, procedures, expressions) lives here;
//! the keyword families live in `keywords/`, each with its parse rule as an
//! `impl Parser` block beside its code generation and host functions.

use super::ast::*;
use super::diagnostics::{Diagnostic, Span};
use super::keywords;
use super::tokenizer::{StrPart, Tok, Token};

pub type PResult<T> = Result<T, Diagnostic>;

/// Words that cannot be variable names because the grammar gives them a meaning.
/// Words that General Bots scripts also use as names (`to`, `step`, `description`, …) are
/// not here: they are keywords only where a statement or clause can start with them.
const RESERVED: &[&str] = &[
    "and", "or", "not", "mod", "then", "else", "elseif", "end", "if", "for", "each", "in", "next",
    "while", "wend", "do", "loop", "until", "select", "sub", "function", "return", "exit", "true",
    "false", "null", "nothing", "with",
];

/// How deeply expressions may nest (in recursion steps: a parenthesis, list or call
/// argument costs two, a `NOT`, sign or `^` one) and blocks may nest. Deeper input is
/// an error, not a stack overflow of the parser or of the code generated from it.
const MAX_EXPR_DEPTH: usize = 100;
const MAX_BLOCK_DEPTH: usize = 24;

/// Parses tokens into a script; all errors found are returned together.
pub fn parse(tokens: Vec<Token>) -> Result<Script, Vec<Diagnostic>> {
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        errors: Vec::new(),
        parallel_depth: 0,
        workflow_depth: 0,
        proc_depth: 0,
        with_depth: 0,
        open_ends: Vec::new(),
        expr_depth: 0,
        gave_up: false,
        loop_kinds: Vec::new(),
        names: Default::default(),
        warnings: Vec::new(),
    };
    let body = p.block(&[]).map(|(b, _)| b);
    if let Ok(b) = &body {
        let mut errors = Vec::new();
        keywords::workflow::check_step_labels(b, &mut errors);
        p.errors.extend(errors);
        p.errors.sort_by_key(|d| d.span);
    }
    match body {
        Ok(body) if p.errors.is_empty() => Ok(Script {
            body,
            warnings: p.warnings,
        }),
        Ok(_) => Err(p.errors),
        Err(e) => {
            p.errors.push(e);
            Err(p.errors)
        }
    }
}

/// The state of one parse.
pub struct Parser {
    pub(crate) toks: Vec<Token>,
    pub(crate) pos: usize,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) parallel_depth: usize,
    pub(crate) workflow_depth: usize,
    pub(crate) proc_depth: usize,
    /// Inside `WITH`, where a line may start with `.field`.
    with_depth: usize,
    /// The terminators of the blocks being parsed, innermost last.
    open_ends: Vec<Vec<Terminator>>,
    expr_depth: usize,
    /// Set when the input nests too deeply: the rest of the file is skipped.
    gave_up: bool,
    loop_kinds: Vec<&'static str>,
    /// Names the script assigns (variables, loop variables, parameters) so far: such a
    /// name is a variable even where it is also a keyword (`list = …` then `IN list`).
    pub(crate) names: std::collections::HashSet<String>,
    /// Warnings found while parsing (errors are in `errors`).
    pub(crate) warnings: Vec<Diagnostic>,
}

/// A terminator of a block: a sequence of words at the start of a line.
pub type Terminator = &'static [&'static str];

/// What closes a FOR loop: `NEXT [var]`, or `END FOR` as General Bots writes it.
const FOR_ENDS: &[Terminator] = &[&["next"], &["end", "for"]];

/// Words that start statements of the base dialect (for "did you mean").
const STATEMENT_WORDS: &[&str] = &[
    "if", "for", "while", "do", "select", "switch", "sub", "function", "with", "exit", "return",
    "call", "let", "set", "try", "throw", "raise", "break", "push", "append",
];

/// The known word nearest to a misspelt one (`TALKK` → `talk`), when one is close: at
/// most two edits, and fewer than a third of the word.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    known: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 2);
    known
        .filter(|k| !k.is_empty())
        .map(|k| (strsim::levenshtein(&word, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d > 0 && *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Runs a recursive step of the parser with enough stack: more is allocated when little
/// is left, whichever thread parses (nesting is bounded by the parser's own limits).
fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 4 << 20, f)
}

/// The assignment target an expression names (`a`, `a.b`, `a[i]`), if it names one.
fn expr_target(e: &Expr) -> Option<Target> {
    match &e.kind {
        ExprKind::Var(var) => Some(Target {
            var: var.clone(),
            path: Vec::new(),
            span: e.span,
        }),
        ExprKind::Member(obj, m) => {
            let mut t = expr_target(obj)?;
            t.path.push(PathSeg::Member(m.clone()));
            Some(t)
        }
        ExprKind::Index(obj, i) => {
            let mut t = expr_target(obj)?;
            t.path.push(PathSeg::Index((**i).clone()));
            Some(t)
        }
        _ => None,
    }
}

/// The message for a block closer (or `ELSE`, `CASE`) whose block was never opened.
fn stray_closer(p: &Parser, w: &str) -> String {
    let opener = match w {
        "next" => "FOR",
        "wend" => "WHILE",
        "loop" => "DO",
        "else" | "elseif" => "IF",
        "case" => "SELECT CASE",
        _ => {
            let next = match &p.peek_n(1).tok {
                Tok::Ident(n) => n.to_ascii_lowercase(),
                _ => String::new(),
            };
            let opener = match next.as_str() {
                "if" => "IF",
                "select" => "SELECT CASE",
                "while" => "WHILE",
                "sub" => "SUB",
                "function" => "FUNCTION",
                "with" => "WITH",
                "on" => "ON EVENT",
                "workflow" => "ORCHESTRATE WORKFLOW",
                "parallel" => "PARALLEL",
                "switch" => "SWITCH",
                "try" => "TRY",
                "for" => "FOR",
                _ => return "'END' without a matching opening statement".to_string(),
            };
            return format!("'END {}' without a matching {opener}", next.to_uppercase());
        }
    };
    format!("'{}' without a matching {opener}", w.to_uppercase())
}

impl Parser {
    // ----- token helpers -------------------------------------------------------------

    pub(crate) fn peek(&self) -> &Token {
        self.peek_n(0)
    }

    pub(crate) fn peek_n(&self, n: usize) -> &Token {
        let i = (self.pos + n).min(self.toks.len().saturating_sub(1));
        &self.toks[i]
    }

    pub(crate) fn span(&self) -> Span {
        self.peek().span
    }

    pub(crate) fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn at_word(&self, w: &str) -> bool {
        self.peek().is_word(w)
    }

    /// True when the next tokens are exactly these words.
    pub(crate) fn at_words(&self, ws: &[&str]) -> bool {
        ws.iter()
            .enumerate()
            .all(|(i, w)| self.peek_n(i).is_word(w))
    }

    pub(crate) fn eat_word(&mut self, w: &str) -> bool {
        if self.at_word(w) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_words(&mut self, ws: &[&str]) -> bool {
        if self.at_words(ws) {
            for _ in ws {
                self.advance();
            }
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_word(&mut self, w: &str, after: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected {} after {after}", w.to_uppercase())))
        }
    }

    pub(crate) fn at_sym(&self, s: &str) -> bool {
        self.peek().is_sym(s)
    }

    pub(crate) fn eat_sym(&mut self, s: &str) -> bool {
        if self.at_sym(s) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_sym(&mut self, s: &str, what: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected '{s}' {what}")))
        }
    }

    pub(crate) fn at_eol(&self) -> bool {
        matches!(self.peek().tok, Tok::Newline | Tok::Eof)
    }

    pub(crate) fn unexpected(&self, what: &str) -> Diagnostic {
        Diagnostic::error(
            self.span(),
            format!("{what}, found {}", self.peek().describe()),
        )
    }

    /// When the next line starts with one of these clause words, joins it to the
    /// current statement (docs/language.md: `TIMEOUT`, `ON TIMEOUT`, … continue the line above).
    pub(crate) fn continue_clause(&mut self, clauses: &[&[&str]]) -> bool {
        if matches!(self.peek().tok, Tok::Newline) {
            let next = self.pos + 1;
            let hit = clauses.iter().any(|ws| {
                ws.iter()
                    .enumerate()
                    .all(|(i, w)| self.toks.get(next + i).is_some_and(|t| t.is_word(w)))
            });
            if hit {
                self.advance();
                return true;
            }
        }
        false
    }

    pub(crate) fn ident(&mut self, what: &str) -> PResult<(String, Span)> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(s) if !RESERVED.contains(&s.to_ascii_lowercase().as_str()) => {
                self.advance();
                // Names are case-insensitive in every script: `PREÇO` is `preço`.
                Ok((s.to_lowercase(), t.span))
            }
            _ => Err(self.unexpected(&format!("expected {what}"))),
        }
    }

    /// A label: an identifier or a number (`STEP 3:`, `BRANCH A:`).
    pub(crate) fn label(&mut self, what: &str) -> PResult<String> {
        let t = self.peek().clone();
        let label = match &t.tok {
            Tok::Ident(s) => s.to_lowercase(),
            Tok::Int(n) => n.to_string(),
            _ => return Err(self.unexpected(&format!("expected a label after {what}"))),
        };
        self.advance();
        Ok(label)
    }

    fn skip_line(&mut self) {
        while !self.at_eol() {
            self.advance();
        }
    }

    // ----- blocks and statements -----------------------------------------------------

    /// Parses statements up to a line starting with one of `ends` (not consumed).
    /// Returns the body and the index of the terminator found; `ends.len()` or more
    /// means the file ended first.
    pub(crate) fn block(&mut self, ends: &[Terminator]) -> PResult<(Vec<Stmt>, usize)> {
        // The top level is one entry of `open_ends`, not a nesting level.
        if self.open_ends.len() > MAX_BLOCK_DEPTH {
            // Reported at the start of the statement that opens this block.
            let opener = self.toks[..self.pos.min(self.toks.len())]
                .iter()
                .rev()
                .skip_while(|t| matches!(t.tok, Tok::Newline))
                .take_while(|t| !matches!(t.tok, Tok::Newline))
                .last()
                .map_or(self.span(), |t| t.span);
            self.errors.push(Diagnostic::error(
                opener,
                format!("blocks are nested more than {MAX_BLOCK_DEPTH} deep here"),
            ));
            self.give_up();
        }
        if self.gave_up {
            return Ok((Vec::new(), ends.len()));
        }
        self.open_ends.push(ends.to_vec());
        let r = grow(|| self.block_lines(ends));
        self.open_ends.pop();
        r
    }

    /// True when the statement being parsed is at the top level of the script, in no block.
    pub(crate) fn at_top_level(&self) -> bool {
        self.open_ends.len() <= 1
    }

    /// Skips the rest of the file after an error that makes parsing it pointless.
    fn give_up(&mut self) {
        self.gave_up = true;
        while !matches!(self.peek().tok, Tok::Eof) {
            self.advance();
        }
    }

    /// One more level of expression nesting, or an error when there are too many.
    fn deeper(&mut self) -> PResult<()> {
        if self.expr_depth >= MAX_EXPR_DEPTH {
            return Err(Diagnostic::error(
                self.span(),
                "this expression is nested too deeply",
            ));
        }
        self.expr_depth += 1;
        Ok(())
    }

    /// True when the line starts with the terminator of an enclosing block (not the
    /// innermost one): `NEXT` reached inside an `IF` that lacks its `END IF`.
    fn at_enclosing_end(&self) -> bool {
        let outer = self.open_ends.len().saturating_sub(1);
        self.open_ends[..outer]
            .iter()
            .any(|ends| ends.iter().any(|ws| self.at_words(ws)))
    }

    fn block_lines(&mut self, ends: &[Terminator]) -> PResult<(Vec<Stmt>, usize)> {
        let mut body = Vec::new();
        loop {
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if matches!(self.peek().tok, Tok::Eof) {
                return Ok((body, ends.len()));
            }
            if let Some(i) = ends.iter().position(|ws| self.at_words(ws)) {
                return Ok((body, i));
            }
            if self.at_enclosing_end() {
                // This block is not closed; the enclosing one is, here. Stopping lets
                // the enclosing block end normally instead of a cascade of errors.
                return Ok((body, ends.len()));
            }
            let start = self.pos;
            match self.statement() {
                Ok(Some(s)) => {
                    // A statement that ends with a block (`STEP label:` alone on its
                    // line) has already consumed the line break after that block.
                    let after_newline = self
                        .pos
                        .checked_sub(1)
                        .and_then(|i| self.toks.get(i))
                        .is_some_and(|t| matches!(t.tok, Tok::Newline));
                    if self.at_eol() || after_newline {
                        body.push(s);
                    } else {
                        let e = self.unexpected("expected end of statement");
                        self.errors.push(e);
                        self.skip_line();
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // Block openers report "missing END" at their own position and have
                    // already consumed the rest of the file; stop there.
                    let at_eof = matches!(self.peek().tok, Tok::Eof);
                    self.errors.push(e);
                    if at_eof {
                        return Ok((body, usize::MAX));
                    }
                    // A block that stopped at the start of a later line (at the end of
                    // an enclosing block) leaves that line to be parsed.
                    let at_line_start = self.pos > start
                        && self
                            .toks
                            .get(self.pos - 1)
                            .is_some_and(|t| matches!(t.tok, Tok::Newline));
                    if !at_line_start {
                        self.skip_line();
                    }
                }
            }
        }
    }

    /// A block that must end with `ends`; a missing end is reported at `opener`.
    pub(crate) fn block_until(
        &mut self,
        ends: &[Terminator],
        opener: Span,
        what: &str,
    ) -> PResult<(Vec<Stmt>, usize)> {
        match self.block(ends) {
            Ok(r) if self.gave_up => Ok(r),
            Ok((_, w)) if w >= ends.len() => {
                // Name the closer, not a word that only starts another branch
                // (`ELSEIF`, `ELSE`, `CASE`).
                let closer = ends
                    .iter()
                    .find(|ws| !matches!(ws.first(), Some(&("elseif" | "else" | "case"))))
                    .or(ends.first())
                    .map(|ws| ws.join(" ").to_uppercase())
                    .unwrap_or_default();
                Err(Diagnostic::error(
                    opener,
                    format!("{what} is not closed (expected {closer})"),
                ))
            }
            Ok(r) => Ok(r),
            Err(e) => Err(e),
        }
    }

    /// One statement, or `None` for a line that holds only a declaration with no effect.
    pub(crate) fn statement(&mut self) -> PResult<Option<Stmt>> {
        let span = self.span();
        if self.with_depth > 0 && self.at_sym(".") {
            // `.field = expr` inside WITH: the same as `field = expr`.
            self.advance();
            let kind = self.assignment()?;
            return Ok(Some(Stmt::new(kind, span)));
        }
        let t = self.peek().clone();
        let Tok::Ident(word) = &t.tok else {
            return Err(self.unexpected("expected a statement"));
        };
        let w = word.to_ascii_lowercase();
        let reserved = RESERVED.contains(&w.as_str());
        // `name = …` and `name.member …` are assignments (or method calls) even when the
        // name is also a keyword (`step = 1`, `description = "…"`, `table.name = …`).
        if !reserved && (self.peek_n(1).is_sym("=") || self.peek_n(1).is_sym(".")) {
            let kind = if self.peek_n(1).is_sym("=") {
                self.assignment()?
            } else {
                self.postfix_statement()?
            };
            return Ok(Some(Stmt::new(kind, span)));
        }
        if let Some(stmt) = self.keyword_statement(&w, span)? {
            return Ok(Some(stmt));
        }
        let kind = self.base_statement(&w, word, span)?;
        Ok(Some(Stmt::new(kind, span)))
    }

    /// A statement of the base dialect (control flow, procedures, assignments, calls) or,
    /// failing that, a catalog keyword. Its own function so that the frames of nested
    /// statements stay small (blocks recurse through `statement`).
    #[inline(never)]
    fn base_statement(&mut self, w: &str, word: &str, span: Span) -> PResult<StmtKind> {
        let kind = match w {
            "if" => self.if_stmt()?,
            "for" => self.for_stmt()?,
            "while" => self.while_stmt()?,
            "do" => self.do_stmt()?,
            "select" => self.select_stmt(false)?,
            "switch" => self.select_stmt(true)?,
            "sub" | "function" => self.procedure()?,
            "with" => self.with_stmt()?,
            "try" if self.at_eol_after(1) => self.try_stmt()?,
            "throw" | "raise" if !self.at_eol_after(1) => {
                self.advance();
                StmtKind::Throw(self.expr()?)
            }
            "break" if self.peek_n(1).is_word("for") || self.at_eol_after(1) => {
                // Rhai's `break`: leaves the innermost loop, as bare EXIT does.
                self.advance();
                self.eat_word("for");
                match self.loop_kinds.last() {
                    Some(&"for") => StmtKind::ExitFor,
                    Some(_) => StmtKind::ExitDo,
                    None => return Err(Diagnostic::error(span, "BREAK outside a loop")),
                }
            }
            "push" | "append"
                if matches!(self.peek_n(1).tok, Tok::Ident(_))
                    && (self.peek_n(2).is_sym(",") || self.peek_n(2).is_sym(".")) =>
            {
                // `PUSH list, value` / `APPEND list, value`: appends to the list
                // (`list = PUSH(list, value)`). `APPEND "file", text` is the file keyword.
                self.advance();
                let target = self.target()?;
                self.expect_sym(",", "between the list and the value of PUSH")?;
                let item = self.expr()?;
                let list = Expr::new(ExprKind::Var(target.var.clone()), target.span);
                let list = target.path.iter().fold(list, |obj, seg| match seg {
                    PathSeg::Member(m) => {
                        Expr::new(ExprKind::Member(Box::new(obj), m.clone()), span)
                    }
                    PathSeg::Index(i) => {
                        Expr::new(ExprKind::Index(Box::new(obj), Box::new(i.clone())), span)
                    }
                });
                let value = Expr::new(ExprKind::Call("push".into(), vec![list, item]), span);
                StmtKind::Assign { target, value }
            }
            "exit" => {
                self.advance();
                if self.eat_word("sub") || self.eat_word("function") {
                    if self.proc_depth == 0 {
                        return Err(Diagnostic::error(
                            span,
                            "EXIT SUB/FUNCTION outside a SUB or FUNCTION",
                        ));
                    }
                    StmtKind::Return(None)
                } else if self.at_eol() {
                    // Bare EXIT (General Bots): leaves the innermost loop; outside a loop
                    // it ends the procedure, or the script.
                    match self.loop_kinds.last() {
                        Some(&"for") => StmtKind::ExitFor,
                        Some(_) => StmtKind::ExitDo,
                        None => StmtKind::Return(None),
                    }
                } else if self.eat_word("for") {
                    if !self.loop_kinds.contains(&"for") {
                        return Err(Diagnostic::error(span, "EXIT FOR outside a FOR loop"));
                    }
                    StmtKind::ExitFor
                } else if self.eat_word("do") || self.eat_word("while") {
                    if !self.loop_kinds.contains(&"do") {
                        return Err(Diagnostic::error(span, "EXIT DO outside a DO loop"));
                    }
                    StmtKind::ExitDo
                } else {
                    return Err(self.unexpected("expected FOR, DO, SUB or FUNCTION after EXIT"));
                }
            }
            "return" => {
                self.advance();
                if self.at_eol() || self.at_word("else") {
                    StmtKind::Return(None)
                } else if self.at_word("with") {
                    // `RETURN WITH error AS "not found"[, code AS 404]`: a map result.
                    self.advance();
                    let mut entries = Vec::new();
                    loop {
                        let (key, _) = self.member_name()?;
                        self.expect_word("as", "the field name of RETURN WITH")?;
                        entries.push((key, self.expr()?));
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    StmtKind::Return(Some(Expr::new(ExprKind::Map(entries), span)))
                } else {
                    StmtKind::Return(Some(self.expr()?))
                }
            }
            "call" if !matches!(self.peek_n(1).tok, Tok::Str(_)) => {
                self.advance();
                let (name, _) = self.ident("a SUB name after CALL")?;
                let args = if self.eat_sym("(") {
                    self.args(")")?
                } else {
                    Vec::new()
                };
                StmtKind::Call { name, args }
            }
            "let" => {
                self.advance();
                self.assignment()?
            }
            "set" if matches!(self.peek_n(1).tok, Tok::Ident(_)) && self.peek_n(2).is_sym("=") => {
                self.advance();
                self.assignment()?
            }
            "set"
                if matches!(self.peek_n(1).tok, Tok::Ident(_))
                    && (self.peek_n(2).is_sym(".") || self.peek_n(2).is_sym("[")) =>
            {
                self.advance();
                self.postfix_statement()?
            }
            "end" | "next" | "wend" | "loop" | "else" | "elseif" | "case" => {
                return Err(Diagnostic::error(span, stray_closer(self, w)))
            }
            _ => {
                let next = self.peek_n(1);
                if next.is_sym("=") {
                    self.assignment()?
                } else if next.is_sym(".") || next.is_sym("[") || next.is_sym("?.") {
                    self.postfix_statement()?
                } else if next.is_sym("(") {
                    let (name, _) = self.ident("a name")?;
                    self.advance();
                    let args = self.args(")")?;
                    StmtKind::Call { name, args }
                } else if let Some(kind) = self.unavailable_statement()? {
                    kind
                } else {
                    let hint = did_you_mean(
                        w,
                        STATEMENT_WORDS.iter().copied().chain(
                            keywords::catalog::KEYWORDS
                                .iter()
                                .map(|k| k.words.split(' ').next().unwrap_or("")),
                        ),
                    )
                    .map(|k| format!(" (did you mean {}?)", k.to_uppercase()))
                    .unwrap_or_default();
                    return Err(Diagnostic::error(
                        span,
                        format!("unknown statement '{word}'{hint}"),
                    ));
                }
            }
        };
        Ok(kind)
    }

    /// A statement that starts with a member or index chain: an assignment to it
    /// (`a.b[0] = 1`) or a method call (`list.push(x)`, which updates `list`).
    fn postfix_statement(&mut self) -> PResult<StmtKind> {
        let start = self.pos;
        let e = self.postfix()?;
        if self.at_sym("=") {
            // Parsed again as a target: the same tokens, read as a place to store into.
            self.pos = start;
            return self.assignment();
        }
        if let ExprKind::Method(obj, name, args) = &e.kind {
            if let Some(builtin) = keywords::builtins::updating_method(name) {
                if let Some(target) = expr_target(obj) {
                    let mut all = vec![(**obj).clone()];
                    all.extend(args.iter().cloned());
                    let value = Expr::new(ExprKind::Call(builtin.to_string(), all), e.span);
                    return Ok(StmtKind::Assign { target, value });
                }
            }
            return Ok(StmtKind::Expr(e));
        }
        Err(self.unexpected("expected '=' in assignment"))
    }

    fn assignment(&mut self) -> PResult<StmtKind> {
        let target = self.target()?;
        self.expect_sym("=", "in assignment")?;
        // `x = HEAR [AS …]` is `HEAR x [AS …]`: it waits for the user's answer.
        if self.at_word("hear") {
            self.hear_allowed()?;
            self.advance();
            self.names.insert(target.var.clone());
            return self.hear_rest(target);
        }
        let value = self.expr()?;
        // From here on the name is a variable, even where it is also a keyword; not in
        // its own value (`product = PRODUCT id`).
        self.names.insert(target.var.clone());
        Ok(StmtKind::Assign { target, value })
    }

    /// `var`, `var.member`, `var[index]`, … as an assignment target.
    pub(crate) fn target(&mut self) -> PResult<Target> {
        let (var, span) = self.ident("a variable name")?;
        let mut path = Vec::new();
        loop {
            if self.eat_sym(".") {
                let (m, _) = self.member_name()?;
                path.push(PathSeg::Member(m));
            } else if self.eat_sym("[") {
                let e = self.expr()?;
                self.expect_sym("]", "to close the index")?;
                path.push(PathSeg::Index(e));
            } else {
                break;
            }
        }
        Ok(Target { var, path, span })
    }

    fn member_name(&mut self) -> PResult<(String, Span)> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(s) => {
                self.advance();
                Ok((s.to_lowercase(), t.span))
            }
            _ => Err(self.unexpected("expected a member name after '.'")),
        }
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        let cond = self.expr()?;
        if let Err(e) = self.expect_word("then", "the IF condition") {
            if !self.at_eol() {
                return Err(e);
            }
            // A block IF that only lacks THEN: report it and parse the block, so its
            // END IF does not show up as a second, misleading error.
            self.errors.push(e);
        }
        if !self.at_eol() {
            // One-line IF: IF c THEN stmt [ELSE stmt]
            let then = self.statement()?.into_iter().collect();
            let otherwise = if self.eat_word("else") {
                Some(self.statement()?.into_iter().collect())
            } else {
                None
            };
            // A one-line IF may still be closed by a stray END IF on the same line.
            self.eat_words(&["end", "if"]);
            return Ok(StmtKind::If {
                arms: vec![(cond, then)],
                otherwise,
            });
        }
        const ENDS: &[Terminator] = &[&["elseif"], &["else", "if"], &["else"], &["end", "if"]];
        let mut arms = Vec::new();
        let mut cond = cond;
        let mut otherwise = None;
        loop {
            let (body, which) = self.block_until(ENDS, opener, "IF")?;
            arms.push((cond, body));
            match which {
                0 | 1 => {
                    self.advance();
                    if which == 1 {
                        self.advance();
                    }
                    cond = self.expr()?;
                    self.expect_word("then", "the ELSEIF condition")?;
                }
                2 => {
                    self.advance();
                    const LAST: &[Terminator] = &[&["end", "if"], &["else"], &["elseif"]];
                    let (body, mut which) = self.block_until(LAST, opener, "IF")?;
                    if which != 0 {
                        self.errors.push(Diagnostic::error(
                            self.span(),
                            "ELSE must be the last branch of an IF",
                        ));
                        // Skip the misplaced branches up to END IF (or the end, when the
                        // rest of the file was given up for nesting too deeply).
                        while which != 0 && which < LAST.len() {
                            self.skip_line();
                            which = self.block_until(LAST, opener, "IF")?.1;
                        }
                    }
                    otherwise = Some(body);
                    self.eat_words(&["end", "if"]);
                    break;
                }
                _ => {
                    self.eat_words(&["end", "if"]);
                    break;
                }
            }
        }
        Ok(StmtKind::If { arms, otherwise })
    }

    fn loop_body(
        &mut self,
        kind: &'static str,
        ends: &[Terminator],
        opener: Span,
        what: &str,
    ) -> PResult<(Vec<Stmt>, usize)> {
        self.loop_kinds.push(kind);
        let r = self.block_until(ends, opener, what);
        self.loop_kinds.pop();
        r
    }

    fn for_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        // `FOR x IN list` is `FOR EACH x IN list`.
        let each = matches!(self.peek().tok, Tok::Ident(_)) && self.peek_n(1).is_word("in");
        if each || self.eat_word("each") {
            let (var, _) = self.ident("a loop variable after FOR EACH")?;
            self.names.insert(var.clone());
            self.expect_word("in", "the FOR EACH variable")?;
            let mut list = self.expr()?;
            // `IN list LAST 10` / `IN list FIRST 10`: only those items.
            if self.at_word("last") || self.at_word("first") {
                let last = self.at_word("last");
                let lspan = self.span();
                self.advance();
                let n = self.concat()?;
                let args = if last {
                    let neg = Expr::new(ExprKind::Unary(UnOp::Neg, Box::new(n)), lspan);
                    vec![list, neg]
                } else {
                    vec![list, Expr::new(ExprKind::Int(0), lspan), n]
                };
                list = Expr::new(ExprKind::Call("slice".into(), args), lspan);
            }
            self.eat_word("do");
            let (body, which) = self.loop_body("for", FOR_ENDS, opener, "FOR EACH")?;
            self.end_for(which, &var)?;
            return Ok(StmtKind::ForEach { var, list, body });
        }
        let (var, _) = self.ident("a loop variable after FOR")?;
        self.names.insert(var.clone());
        self.expect_sym("=", "after the FOR variable")?;
        let from = self.expr()?;
        self.expect_word("to", "the FOR start value")?;
        let to = self.expr()?;
        let step = if self.eat_word("step") {
            Some(self.expr()?)
        } else {
            None
        };
        self.eat_word("do");
        let (body, which) = self.loop_body("for", FOR_ENDS, opener, "FOR")?;
        self.end_for(which, &var)?;
        Ok(StmtKind::For {
            var,
            from,
            to,
            step,
            body,
        })
    }

    /// Consumes the `NEXT [var]` or `END FOR` that closed a FOR loop.
    fn end_for(&mut self, which: usize, var: &str) -> PResult<()> {
        self.advance();
        if which == 1 {
            self.advance();
            return Ok(());
        }
        self.next_var(var)
    }

    fn next_var(&mut self, var: &str) -> PResult<()> {
        if let Tok::Ident(name) = &self.peek().tok {
            if name.to_lowercase() != var {
                return Err(Diagnostic::error(
                    self.span(),
                    format!("NEXT {name} does not match FOR {var}"),
                ));
            }
            self.advance();
        }
        Ok(())
    }

    fn while_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        let cond = self.expr()?;
        // `WHILE c DO … END WHILE`, as some General Bots scripts write it.
        self.eat_word("do");
        let (body, _) = self.loop_body("do", &[&["wend"], &["end", "while"]], opener, "WHILE")?;
        if !self.eat_word("wend") {
            self.eat_words(&["end", "while"]);
        }
        Ok(StmtKind::While { cond, body })
    }

    fn do_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        let pre = self.loop_condition()?;
        let (body, _) = self.loop_body("do", &[&["loop"]], opener, "DO")?;
        self.advance();
        let post = self.loop_condition()?;
        Ok(StmtKind::DoLoop { pre, post, body })
    }

    fn loop_condition(&mut self) -> PResult<Option<(bool, Expr)>> {
        if self.eat_word("while") {
            Ok(Some((false, self.expr()?)))
        } else if self.eat_word("until") {
            Ok(Some((true, self.expr()?)))
        } else {
            Ok(None)
        }
    }

    /// `SELECT CASE x … END SELECT`, or General Bots' `SWITCH x … END SWITCH` (whose
    /// `DEFAULT` is `CASE ELSE`).
    fn select_stmt(&mut self, switch: bool) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        if !switch {
            self.expect_word("case", "SELECT")?;
        }
        let subject = self.expr()?;
        let mut cases = Vec::new();
        let mut otherwise = None;
        const SELECT_ENDS: &[Terminator] = &[&["case"], &["end", "select"]];
        const SWITCH_ENDS: &[Terminator] = &[&["case"], &["end", "switch"], &["default"]];
        let (ends, what) = if switch {
            (SWITCH_ENDS, "SWITCH")
        } else {
            (SELECT_ENDS, "SELECT CASE")
        };
        let (before, mut which) = self.block_until(ends, opener, what)?;
        if let Some(s) = before.first() {
            self.errors
                .push(Diagnostic::error(s.span, "statement before the first CASE"));
        }
        // For SWITCH, terminator 2 is DEFAULT (for SELECT, 2 means the file ended).
        let is_default = |which: usize| switch && which == 2;
        while which == 0 || is_default(which) {
            let case_span = self.span();
            self.advance();
            if is_default(which) || self.eat_word("else") {
                self.eat_sym(":");
                let (body, w) = self.block_until(ends, opener, what)?;
                if w == 0 || is_default(w) {
                    // Reported, and the CASEs after it are still parsed.
                    self.errors.push(Diagnostic::error(
                        case_span,
                        "CASE ELSE must be the last CASE",
                    ));
                }
                otherwise = Some(body);
                which = w;
                continue;
            }
            let mut tests = Vec::new();
            loop {
                if self.eat_word("is") {
                    let op = self
                        .comparison_op()
                        .ok_or_else(|| self.unexpected("expected a comparison after CASE IS"))?;
                    tests.push(CaseTest::Is(op, self.concat()?));
                } else {
                    let v = self.expr()?;
                    if self.eat_word("to") {
                        tests.push(CaseTest::Range(v, self.expr()?));
                    } else {
                        tests.push(CaseTest::Value(v));
                    }
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
            // `CASE "a":` — the colon of C-like switches is accepted.
            self.eat_sym(":");
            let (body, w) = self.block_until(ends, opener, what)?;
            cases.push((tests, body));
            which = w;
        }
        if !self.eat_words(&["end", "select"]) {
            self.eat_words(&["end", "switch"]);
        }
        Ok(StmtKind::Select {
            subject,
            cases,
            otherwise,
        })
    }

    fn procedure(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        let is_function = self.at_word("function");
        self.advance();
        if self.proc_depth > 0 || self.workflow_depth > 0 {
            // Reported, and the declaration is still parsed so that its END SUB is not
            // taken for the end of the enclosing one.
            self.errors.push(Diagnostic::error(
                opener,
                "SUB and FUNCTION can only be declared at the top level of a script",
            ));
        }
        let (name, _) = self.ident("a name after SUB/FUNCTION")?;
        let mut params = Vec::new();
        if self.eat_sym("(") && !self.eat_sym(")") {
            loop {
                let (p, pspan) = self.ident("a parameter name")?;
                self.names.insert(p.clone());
                if self.eat_word("as") {
                    self.ident("a type after AS")?;
                }
                if params.contains(&p) {
                    // Reported; the rest of the declaration is still parsed.
                    self.errors.push(Diagnostic::error(
                        pspan,
                        format!("parameter '{p}' is declared twice"),
                    ));
                }
                params.push(p);
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",", "between parameters")?;
            }
        }
        let end: Terminator = if is_function {
            &["end", "function"]
        } else {
            &["end", "sub"]
        };
        self.proc_depth += 1;
        let r = self.block_until(&[end], opener, if is_function { "FUNCTION" } else { "SUB" });
        self.proc_depth -= 1;
        let (body, _) = r?;
        self.advance();
        self.advance();
        Ok(StmtKind::Procedure {
            name,
            params,
            body,
            is_function,
        })
    }

    /// `TRY` / … / `CATCH [name]` / … / `END TRY`.
    fn try_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        const ENDS: &[Terminator] = &[&["catch"], &["end", "try"]];
        let (body, which) = self.block_until(ENDS, opener, "TRY")?;
        let mut var = "err".to_string();
        let mut handler = Vec::new();
        if which == 0 {
            self.advance();
            if let Tok::Ident(_) = self.peek().tok {
                var = self.ident("a name after CATCH")?.0;
            }
            self.names.insert(var.clone());
            handler = self.block_until(&[&["end", "try"]], opener, "TRY")?.0;
        }
        self.eat_words(&["end", "try"]);
        Ok(StmtKind::Try { body, var, handler })
    }

    fn with_stmt(&mut self) -> PResult<StmtKind> {
        let opener = self.span();
        self.advance();
        let (var, _) = self.ident("a variable after WITH")?;
        self.with_depth += 1;
        let r = self.block_until(&[&["end", "with"]], opener, "WITH");
        self.with_depth -= 1;
        let (body, _) = r?;
        self.advance();
        self.advance();
        // Inside WITH, `field = expr` (or `.field = expr`) sets a member of the object.
        let mut out = Vec::new();
        for s in body {
            match s.kind {
                StmtKind::Assign { target, value } => {
                    let mut path = vec![PathSeg::Member(target.var)];
                    path.extend(target.path);
                    out.push(Stmt::new(
                        StmtKind::Assign {
                            target: Target {
                                var: var.clone(),
                                path,
                                span: target.span,
                            },
                            value,
                        },
                        s.span,
                    ));
                }
                _ => {
                    return Err(Diagnostic::error(
                        s.span,
                        "only 'field = value' lines are allowed inside WITH",
                    ))
                }
            }
        }
        Ok(StmtKind::With { var, body: out })
    }

    // ----- expressions ---------------------------------------------------------------

    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.cond_expr()
    }

    pub(crate) fn args(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat_sym(close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat_sym(close) {
                return Ok(args);
            }
            let what = if close == "]" {
                "the list"
            } else {
                "the argument list"
            };
            self.expect_sym(",", &format!("or '{close}' in {what}"))?;
        }
    }

    fn binary_level(
        &mut self,
        next: fn(&mut Self) -> PResult<Expr>,
        ops: &[(&str, BinOp)],
    ) -> PResult<Expr> {
        let mut left = next(self)?;
        loop {
            let found = ops.iter().find(|(s, _)| match &self.peek().tok {
                Tok::Sym(sym) => sym == s,
                Tok::Ident(w) => w.eq_ignore_ascii_case(s),
                _ => false,
            });
            let Some((_, op)) = found else { break };
            let span = self.span();
            self.advance();
            let right = next(self)?;
            left = Expr::new(ExprKind::Binary(*op, Box::new(left), Box::new(right)), span);
        }
        Ok(left)
    }

    /// `a ? b : c` and `a ?? b` (Rhai forms): below OR.
    fn cond_expr(&mut self) -> PResult<Expr> {
        let first = self.or_expr()?;
        if self.at_sym("?") {
            let span = self.span();
            self.advance();
            self.deeper()?;
            let then = self.cond_expr();
            let otherwise = then.and_then(|then| {
                self.expect_sym(":", "between the two values of '? :'")?;
                Ok((then, self.cond_expr()?))
            });
            self.expr_depth -= 1;
            let (then, otherwise) = otherwise?;
            return Ok(Expr::new(
                ExprKind::Cond(Box::new(first), Box::new(then), Box::new(otherwise)),
                span,
            ));
        }
        let mut left = first;
        while self.at_sym("??") {
            let span = self.span();
            self.advance();
            let right = self.or_expr()?;
            left = Expr::new(ExprKind::Coalesce(Box::new(left), Box::new(right)), span);
        }
        Ok(left)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::and_expr, &[("or", BinOp::Or), ("||", BinOp::Or)])
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::not_expr, &[("and", BinOp::And), ("&&", BinOp::And)])
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        self.deeper()?;
        let r = grow(|| self.not_expr_inner());
        self.expr_depth -= 1;
        r
    }

    fn not_expr_inner(&mut self) -> PResult<Expr> {
        if self.at_word("not") {
            let span = self.span();
            self.advance();
            let e = self.not_expr()?;
            return Ok(Expr::new(ExprKind::Unary(UnOp::Not, Box::new(e)), span));
        }
        self.cmp_expr()
    }

    fn comparison_op(&mut self) -> Option<BinOp> {
        let op = match &self.peek().tok {
            Tok::Sym("=") | Tok::Sym("==") => BinOp::Eq,
            Tok::Sym("<>") | Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">=") => BinOp::Ge,
            _ => return None,
        };
        self.advance();
        Some(op)
    }

    fn cmp_expr(&mut self) -> PResult<Expr> {
        let mut left = self.concat()?;
        loop {
            let span = self.span();
            if let Some(test) = self.is_test(&left)? {
                left = Expr::new(test, span);
                continue;
            }
            if self.at_words(&["starts", "with"]) || self.at_words(&["ends", "with"]) {
                // `a STARTS WITH b` / `a ENDS WITH b`
                let f = if self.at_word("starts") {
                    "startswith"
                } else {
                    "endswith"
                };
                self.advance();
                self.advance();
                let right = self.concat()?;
                left = Expr::new(ExprKind::Call(f.into(), vec![left, right]), span);
                continue;
            }
            if self.at_word("contains") && self.at_expr_start_after(1) {
                // `a CONTAINS b`, as General Bots conditions write it.
                self.advance();
                let right = self.concat()?;
                left = Expr::new(ExprKind::Call("contains".into(), vec![left, right]), span);
                continue;
            }
            let Some(op) = self.comparison_op() else {
                break;
            };
            let right = self.concat()?;
            left = Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), span);
        }
        Ok(left)
    }

    pub(crate) fn concat(&mut self) -> PResult<Expr> {
        self.binary_level(Self::add_expr, &[("&", BinOp::Concat)])
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::mod_expr, &[("+", BinOp::Add), ("-", BinOp::Sub)])
    }

    fn mod_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::intdiv_expr, &[("mod", BinOp::Mod), ("%", BinOp::Mod)])
    }

    fn intdiv_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::mul_expr, &[("\\", BinOp::IntDiv)])
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        self.binary_level(Self::unary_expr, &[("*", BinOp::Mul), ("/", BinOp::Div)])
    }

    fn unary_expr(&mut self) -> PResult<Expr> {
        self.deeper()?;
        let r = grow(|| self.unary_expr_inner());
        self.expr_depth -= 1;
        r
    }

    fn unary_expr_inner(&mut self) -> PResult<Expr> {
        let span = self.span();
        if self.eat_sym("-") {
            let e = self.unary_expr()?;
            return Ok(match e.kind {
                ExprKind::Int(n) => Expr::new(ExprKind::Int(n.wrapping_neg()), span),
                ExprKind::Float(f) => Expr::new(ExprKind::Float(-f), span),
                _ => Expr::new(ExprKind::Unary(UnOp::Neg, Box::new(e)), span),
            });
        }
        if self.eat_sym("+") {
            return self.unary_expr();
        }
        if self.eat_sym("!") {
            // Rhai's `!x` binds tighter than BASIC's NOT.
            let e = self.unary_expr()?;
            return Ok(Expr::new(ExprKind::Unary(UnOp::Not, Box::new(e)), span));
        }
        self.pow_expr()
    }

    fn pow_expr(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if self.at_sym("^") {
            let span = self.span();
            self.advance();
            let exp = self.unary_expr()?;
            return Ok(Expr::new(
                ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)),
                span,
            ));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            // `?.` is `.`: reading a member of NULL is already NULL.
            if self.at_sym(".") || self.at_sym("?.") {
                let span = self.span();
                self.advance();
                let (m, _) = self.member_name()?;
                if self.at_sym("(") {
                    self.advance();
                    let args = self.args(")")?;
                    e = Expr::new(ExprKind::Method(Box::new(e), m, args), span);
                } else {
                    e = Expr::new(ExprKind::Member(Box::new(e), m), span);
                }
            } else if self.at_sym("[") {
                let span = self.span();
                self.advance();
                let i = self.expr()?;
                self.expect_sym("]", "to close the index")?;
                e = Expr::new(ExprKind::Index(Box::new(e), Box::new(i)), span);
            } else {
                return Ok(e);
            }
        }
    }

    /// `PUBLISH` not followed by `EVENT` is the social-media keyword of the catalog; a
    /// `PUBLISH` alone or with a value (`PUBLISH post`) is that one.
    fn at_catalog_publish(&self) -> bool {
        !self.peek_n(1).is_word("event") && !matches!(self.peek_n(1).tok, Tok::Str(_))
    }

    /// True when the token `n` ahead ends the line.
    fn at_eol_after(&self, n: usize) -> bool {
        matches!(self.peek_n(n).tok, Tok::Newline | Tok::Eof)
    }

    /// True when the token `n` ahead can start an expression.
    fn at_expr_start_after(&self, n: usize) -> bool {
        !matches!(self.peek_n(n).tok, Tok::Newline | Tok::Eof)
    }

    /// True when the current token can start an expression.
    pub(crate) fn at_expr_start(&self) -> bool {
        match &self.peek().tok {
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) => true,
            Tok::Sym(s) => matches!(*s, "(" | "[" | "{" | "-" | "!"),
            Tok::Ident(w) => {
                let w = w.to_ascii_lowercase();
                !RESERVED.contains(&w.as_str())
                    || matches!(w.as_str(), "true" | "false" | "null" | "nothing" | "not")
            }
            _ => false,
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let span = t.span;
        match t.tok {
            Tok::Int(n) => {
                self.advance();
                Ok(Expr::new(ExprKind::Int(n), span))
            }
            Tok::Float(f) => {
                self.advance();
                Ok(Expr::new(ExprKind::Float(f), span))
            }
            Tok::Str(parts) => {
                self.advance();
                self.string_expr(parts, span)
            }
            Tok::Sym("(") => {
                self.advance();
                let e = self.expr()?;
                self.expect_sym(")", "to close '('")?;
                Ok(e)
            }
            Tok::Sym("[") => {
                self.advance();
                let items = self.args("]")?;
                Ok(Expr::new(ExprKind::List(items), span))
            }
            Tok::Sym("{") => {
                self.advance();
                self.map_literal(span)
            }
            Tok::Ident(word) => {
                let w = word.to_ascii_lowercase();
                match w.as_str() {
                    "true" => {
                        self.advance();
                        return Ok(Expr::new(ExprKind::Bool(true), span));
                    }
                    "false" => {
                        self.advance();
                        return Ok(Expr::new(ExprKind::Bool(false), span));
                    }
                    "null" | "nothing" => {
                        self.advance();
                        return Ok(Expr::new(ExprKind::Null, span));
                    }
                    _ => {}
                }
                if let Some(e) = self.keyword_expr(&w, span)? {
                    return Ok(e);
                }
                if self.peek_n(1).is_sym("(") {
                    let (name, _) = self.ident("a function name")?;
                    self.advance();
                    let mut args = self.args(")")?;
                    // `FORMAT(x) AS "pattern"`
                    if name == "format" && args.len() == 1 && self.eat_word("as") {
                        args.push(self.concat()?);
                    }
                    return Ok(Expr::new(ExprKind::Call(name, args), span));
                }
                if self.at_bare_builtin(&w) {
                    // A built-in written without parentheses, as General Bots scripts
                    // do: `FIRST results`, `FORMAT NOW() AS "HH:mm"`, `DATEADD d, "day", 1`.
                    self.advance();
                    let mut args = vec![self.concat()?];
                    if w == "format" && self.eat_word("as") {
                        args.push(self.concat()?);
                    }
                    while self.eat_sym(",") {
                        args.push(self.concat()?);
                    }
                    return Ok(Expr::new(ExprKind::Call(w, args), span));
                }
                let (name, _) = self.ident("an expression")?;
                Ok(Expr::new(ExprKind::Var(name), span))
            }
            _ => Err(self.unexpected("expected an expression")),
        }
    }

    fn map_literal(&mut self, span: Span) -> PResult<Expr> {
        let mut entries = Vec::new();
        if self.eat_sym("}") {
            return Ok(Expr::new(ExprKind::Map(entries), span));
        }
        loop {
            // A newline inside braces is fine: the tokenizer removed the one after `,`,
            // and a line break right after `{` or before `}` is skipped here.
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if self.eat_sym("}") {
                break;
            }
            let key = match self.peek().tok.clone() {
                Tok::Ident(k) => k,
                Tok::Str(parts) => match parts.as_slice() {
                    [StrPart::Text(k)] => k.clone(),
                    _ => return Err(self.unexpected("expected a plain string as map key")),
                },
                Tok::Int(n) => n.to_string(),
                _ => return Err(self.unexpected("expected a map key")),
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(Diagnostic::error(
                    self.span(),
                    format!("key '{key}' appears twice in the map"),
                ));
            }
            self.advance();
            self.expect_sym(":", "after the map key")?;
            let value = self.expr()?;
            entries.push((key, value));
            while matches!(self.peek().tok, Tok::Newline) {
                self.advance();
            }
            if self.eat_sym("}") {
                break;
            }
            self.expect_sym(",", "or '}' in the map")?;
        }
        Ok(Expr::new(ExprKind::Map(entries), span))
    }

    pub(crate) fn string_expr(&mut self, parts: Vec<StrPart>, span: Span) -> PResult<Expr> {
        if let [StrPart::Text(s)] = parts.as_slice() {
            return Ok(Expr::new(ExprKind::Str(s.clone()), span));
        }
        let mut out = Vec::new();
        for part in parts {
            match part {
                StrPart::Text(s) => out.push(InterpPart::Text(s)),
                StrPart::Expr(mut toks) => {
                    let end = toks.last().map(|t| t.span).unwrap_or(span);
                    toks.push(Token {
                        tok: Tok::Eof,
                        span: end,
                    });
                    let mut sub = Parser {
                        toks,
                        pos: 0,
                        errors: Vec::new(),
                        parallel_depth: 0,
                        workflow_depth: 0,
                        proc_depth: 0,
                        with_depth: 0,
                        open_ends: Vec::new(),
                        // The interpolation is nested in this expression.
                        expr_depth: self.expr_depth,
                        gave_up: false,
                        loop_kinds: Vec::new(),
                        names: std::mem::take(&mut self.names),
                        warnings: Vec::new(),
                    };
                    let e = sub.expr();
                    self.names = std::mem::take(&mut sub.names);
                    let e = e?;
                    if !matches!(sub.peek().tok, Tok::Eof) {
                        return Err(
                            sub.unexpected("expected '}' after the interpolated expression")
                        );
                    }
                    out.push(InterpPart::Expr(e));
                }
            }
        }
        Ok(Expr::new(ExprKind::Interp(out), span))
    }

    /// True at a built-in's name followed by an argument without parentheses, where the
    /// name is not one of the script's variables.
    fn at_bare_builtin(&self, w: &str) -> bool {
        if self.names.contains(w) || keywords::builtins::arity(w).is_none_or(|(_, max)| max == 0) {
            return false;
        }
        match &self.peek_n(1).tok {
            Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Sym("[" | "{") => true,
            Tok::Ident(next) => {
                let next = next.to_ascii_lowercase();
                !RESERVED.contains(&next.as_str())
                    && !matches!(next.as_str(), "as" | "is" | "to" | "step")
            }
            _ => false,
        }
    }

    /// `x IS [NOT] NULL` and `x IS [NOT] EMPTY` after a value.
    fn is_test(&mut self, left: &Expr) -> PResult<Option<ExprKind>> {
        if !self.at_word("is") {
            return Ok(None);
        }
        let negated = self.peek_n(1).is_word("not");
        let what = self.peek_n(if negated { 2 } else { 1 }).clone();
        let test = if what.is_word("null") || what.is_word("nothing") {
            "isnull"
        } else if what.is_word("empty") {
            "isempty"
        } else {
            return Ok(None);
        };
        for _ in 0..if negated { 3 } else { 2 } {
            self.advance();
        }
        let call = ExprKind::Call(test.to_string(), vec![left.clone()]);
        Ok(Some(if negated {
            ExprKind::Unary(UnOp::Not, Box::new(Expr::new(call, what.span)))
        } else {
            call
        }))
    }

    /// Dispatches statements that start with a keyword of a keyword family.
    fn keyword_statement(&mut self, w: &str, span: Span) -> PResult<Option<Stmt>> {
        let kind = match w {
            "wait" if self.at_words(&["wait", "for"]) => self.event_statement(w, span)?,
            "talk" | "hear" | "print" | "debug" | "wait" | "delay" | "param" | "description" => {
                self.conversation_statement(w)?
            }
            "set" | "set_bot_memory" | "bot" if self.at_memory_statement() => {
                self.memory_statement()?
            }
            "set" | "set_context" if self.at_context_statement() => self.memory_statement()?,
            "set" | "set_header" | "clear" | "clear_headers" if self.at_header_statement() => {
                self.header_statement()?
            }
            "set" | "set_schedule" if self.at_schedule_statement() => {
                self.schedule_statement(span)?
            }
            "get" | "post" | "put" | "patch" | "delete" | "delete_http"
                if !self.at_words(&["get", "bot", "memory"]) =>
            {
                match self.http_expr(span)? {
                    Some(e) => Some(StmtKind::Expr(e)),
                    None => self.data_expr(span)?.map(StmtKind::Expr),
                }
            }
            "find" | "save" | "insert" | "update" | "merge" => {
                self.data_expr(span)?.map(StmtKind::Expr)
            }
            "send" | "send_mail" | "send_email" if self.at_send_mail() => {
                self.send_mail_expr(span)?.map(StmtKind::Expr)
            }
            "begin" => self.begin_block(span)?,
            "table" => self.table_statement(span)?,
            "orchestrate" | "step" | "human" | "parallel" | "branch" | "retry" => {
                self.workflow_statement(w, span)?
            }
            "bot" if !self.peek_n(1).is_sym("=") => self.workflow_statement(w, span)?,
            "on" if self.at_words(&["on", "event"]) => self.event_statement(w, span)?,
            "publish" if !self.at_catalog_publish() => self.event_statement(w, span)?,
            _ => None,
        };
        Ok(kind.map(|k| Stmt::new(k, span)))
    }

    fn keyword_expr(&mut self, w: &str, span: Span) -> PResult<Option<Expr>> {
        if let Some(e) = self.memory_expr(w, span)? {
            return Ok(Some(e));
        }
        if let Some(e) = self.delegate_expr(w, span)? {
            return Ok(Some(e));
        }
        if let Some(e) = self.http_expr(span)? {
            return Ok(Some(e));
        }
        if let Some(e) = self.data_expr(span)? {
            return Ok(Some(e));
        }
        if let Some(e) = self.send_mail_expr(span)? {
            return Ok(Some(e));
        }
        if self.at_words(&["new", "object"])
            || self.at_words(&["new", "array"])
            || self.at_words(&["create", "object"])
        {
            // General Bots' empty map and list.
            let object = self.peek_n(1).is_word("object");
            self.advance();
            self.advance();
            let kind = if object {
                ExprKind::Map(Vec::new())
            } else {
                ExprKind::List(Vec::new())
            };
            return Ok(Some(Expr::new(kind, span)));
        }
        keywords::catalog::expr(self, span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basic::tokenizer::tokenize;

    fn parse_src(src: &str) -> Result<Script, Vec<Diagnostic>> {
        parse(tokenize(src).unwrap())
    }

    #[test]
    fn precedence_and_spans() {
        let s = parse_src("x = 1 + 2 * 3\n").unwrap();
        match &s.body[0].kind {
            StmtKind::Assign { value, .. } => match &value.kind {
                ExprKind::Binary(BinOp::Add, _, r) => {
                    assert!(matches!(r.kind, ExprKind::Binary(BinOp::Mul, _, _)));
                    assert_eq!(value.span, Span::new(1, 7));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_are_collected_per_line() {
        let errs = parse_src("x = \ny = 2\nz = )\n").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].span, Span::new(1, 5));
        assert_eq!(errs[1].span, Span::new(3, 5));
    }

    #[test]
    fn missing_end_if_points_at_if() {
        let errs = parse_src("x = 1\nIF x THEN\n  TALK x\n").unwrap_err();
        assert_eq!(errs[0].span, Span::new(2, 1));
        assert!(
            errs[0].message.contains("IF is not closed"),
            "{}",
            errs[0].message
        );
    }
}
