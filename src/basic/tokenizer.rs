//! The tokenizer: `.bas` text → tokens with positions.
//!
//! It owns the lexical rules of docs/language.md: comments (`'`, `//`, `REM`), strings with
//! `""`, backslash escapes and `${expr}` interpolation, numbers, line continuation
//! (`_` at the end of a line, or a line ending in `,`). Statements are separated by
//! `Newline` tokens; keywords are plain identifiers that the parser compares
//! case-insensitively, so a keyword can never be mis-recognised inside a string.

use super::diagnostics::{Diagnostic, Span};

/// One piece of a string literal: literal text or an interpolated expression.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    Expr(Vec<Token>),
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(Vec<StrPart>),
    /// The lines of a text block (`BEGIN TALK` … `END TALK`), after its header line.
    Block(Vec<StrPart>),
    /// Punctuation and operators: `+ - * / \ ^ & = <> < > <= >= ( ) [ ] { } , . : ;`
    Sym(&'static str),
    Newline,
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

impl Token {
    /// True when this token is the identifier `word` (case-insensitive).
    pub fn is_word(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    pub fn is_sym(&self, sym: &str) -> bool {
        matches!(&self.tok, Tok::Sym(s) if *s == sym)
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Int(n) => format!("number {n}"),
            Tok::Float(n) => format!("number {n}"),
            Tok::Str(_) => "a string".to_string(),
            Tok::Block(_) => "a text block".to_string(),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Newline => "end of line".to_string(),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

/// Longest first: the tokenizer takes the first that matches. The two-character Rhai
/// operators (`== != && || ?? ?.`), `!`, `?` and `%` are part of the dialect as General
/// Bots scripts write it (it passes Rhai forms through).
const SYMBOLS: [&str; 32] = [
    "<>", "<=", ">=", "==", "!=", "&&", "||", "??", "?.", "+", "-", "*", "/", "\\", "^", "&", "=",
    "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "!", "?", "%", "@",
];

/// Text blocks: `BEGIN TALK … END TALK` and the like. Their lines are prose, never code:
/// the tokenizer takes them whole, with `${expr}` interpolation.
pub const TEXT_BLOCKS: &[&[&str]] = &[&["talk"], &["system", "prompt"], &["mail"]];

/// How deeply `${…}` interpolations may nest inside one another.
const MAX_INTERPOLATION_DEPTH: usize = 8;

struct Lexer<'a> {
    /// How many interpolations this text is nested in.
    depth: usize,
    chars: Vec<char>,
    pos: usize,
    line: u32,
    col: u32,
    out: Vec<Token>,
    _src: &'a str,
}

/// Turns source text into tokens, ending with `Eof`. The first lexical error stops it.
pub fn tokenize(src: &str) -> Result<Vec<Token>, Diagnostic> {
    tokenize_at(src, Span::new(1, 1), 0)
}

fn tokenize_at(src: &str, start: Span, depth: usize) -> Result<Vec<Token>, Diagnostic> {
    let mut lx = Lexer {
        depth,
        chars: src.chars().collect(),
        pos: 0,
        line: start.line,
        col: start.col,
        out: Vec::new(),
        _src: src,
    };
    lx.run()?;
    if depth == 0 {
        join_bracketed_lines(&mut lx.out);
    }
    Ok(lx.out)
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn here(&self) -> Span {
        Span::new(self.line, self.col)
    }

    fn push(&mut self, tok: Tok, span: Span) {
        self.out.push(Token { tok, span });
    }

    fn at_line_start(&self) -> bool {
        matches!(
            self.out.last(),
            None | Some(Token {
                tok: Tok::Newline,
                ..
            })
        )
    }

    fn skip_to_eol(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    fn newline(&mut self, span: Span) {
        // A line ending in `,` (or in `+`, `&`, AND, OR: an expression not finished)
        // continues on the next line; blank lines collapse.
        let unfinished = self
            .out
            .last()
            .is_some_and(|t| t.is_word("and") || t.is_word("or") || t.is_sym("+") || t.is_sym("&"));
        // Not at the end of the file: there, the missing operand is the error to report.
        if unfinished && self.chars[self.pos..].iter().any(|c| !c.is_whitespace()) {
            return;
        }
        match self.out.last() {
            Some(Token {
                tok: Tok::Sym(","), ..
            })
            | Some(Token {
                tok: Tok::Newline, ..
            })
            | None => {}
            _ => self.push(Tok::Newline, span),
        }
    }

    fn run(&mut self) -> Result<(), Diagnostic> {
        while let Some(c) = self.peek() {
            let span = self.here();
            match c {
                '\n' => {
                    self.bump();
                    self.end_line(span)?;
                }
                // A Windows line end is one line end, at the column where the line ends.
                '\r' if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                    self.end_line(span)?;
                }
                // Rhai's map literal `#{ … }` is the dialect's `{ … }`.
                '#' if self.peek_at(1) == Some('{') => {
                    self.bump();
                    self.bump();
                    self.push(Tok::Sym("{"), span);
                }
                // `#` starting a line is a comment (and `#!` a shebang line).
                '#' if self.at_line_start() => self.skip_to_eol(),
                '`' => {
                    self.bump();
                    let parts = self.string(span, '`')?;
                    self.push(Tok::Str(parts), span);
                }
                ' ' | '\t' | '\r' | '\u{feff}' => {
                    self.bump();
                }
                // `'"'`: a one-character string in Rhai's quotes, as General Bots scripts
                // pass through; any other `'` starts a comment.
                '\'' if self.single_quoted_string().is_some() => {
                    let n = self.single_quoted_string().unwrap_or(0);
                    self.bump();
                    let text: String = (0..n).filter_map(|_| self.bump()).collect();
                    self.bump();
                    self.push(Tok::Str(vec![StrPart::Text(text)]), span);
                }
                '\'' => self.skip_to_eol(),
                '/' if self.peek_at(1) == Some('/') => self.skip_to_eol(),
                '"' => {
                    self.bump();
                    let parts = self.string(span, '"')?;
                    self.push(Tok::Str(parts), span);
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number(span)?
                }
                c if c.is_alphabetic() || c == '_' => self.word(span),
                _ => {
                    let sym = SYMBOLS.iter().find(|s| {
                        s.chars()
                            .enumerate()
                            .all(|(i, sc)| self.peek_at(i) == Some(sc))
                    });
                    match sym {
                        Some(s) => {
                            for _ in 0..s.len() {
                                self.bump();
                            }
                            self.push(Tok::Sym(s), span);
                        }
                        None if c == ';' => {
                            // `;` separates statements on one line, as `:` does in old BASICs.
                            self.bump();
                            self.newline(span);
                        }
                        None => {
                            return Err(Diagnostic::error(
                                span,
                                format!("unexpected character '{c}'"),
                            ))
                        }
                    }
                }
            }
        }
        let span = self.here();
        self.end_line(span)?;
        self.push(Tok::Eof, span);
        Ok(())
    }

    /// The text-block header (`BEGIN TALK`, …) that the current line holds, if any.
    fn block_header(&self) -> Option<(&'static [&'static str], Span)> {
        let start = self
            .out
            .iter()
            .rposition(|t| matches!(t.tok, Tok::Newline))
            .map_or(0, |i| i + 1);
        let line = &self.out[start..];
        let begin = line.first().filter(|t| t.is_word("begin"))?;
        TEXT_BLOCKS
            .iter()
            .find(|kind| {
                kind.iter()
                    .enumerate()
                    .all(|(i, w)| line.get(i + 1).is_some_and(|t| t.is_word(w)))
            })
            .map(|kind| (*kind, begin.span))
    }

    /// The end of a line: a text block's header line is followed by its prose lines.
    fn end_line(&mut self, span: Span) -> Result<(), Diagnostic> {
        if let Some((kind, opener)) = self.block_header() {
            // The lines up to `END <kind>` are prose, taken without their common indent.
            let parts = self.text_block(kind, opener)?;
            self.push(Tok::Block(parts), opener);
        }
        self.newline(span);
        Ok(())
    }

    /// True when the text from `at` on starts a line `END <kind>` (any indentation).
    fn is_block_end(&self, mut at: usize, kind: &[&str]) -> bool {
        let word_at = |at: &mut usize, w: &str| -> bool {
            while matches!(self.chars.get(*at), Some(' ' | '\t')) {
                *at += 1;
            }
            let n = w.chars().count();
            let got: String = self.chars.iter().skip(*at).take(n).collect();
            let boundary = !self
                .chars
                .get(*at + n)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_');
            if got.eq_ignore_ascii_case(w) && boundary {
                *at += n;
                true
            } else {
                false
            }
        };
        word_at(&mut at, "end") && kind.iter().all(|w| word_at(&mut at, w))
    }

    /// The prose lines of a text block, consumed up to and including its `END` line.
    fn text_block(&mut self, kind: &[&str], opener: Span) -> Result<Vec<StrPart>, Diagnostic> {
        // First pass: find the end line and the common indent of the prose lines.
        let mut at = self.pos;
        let mut indent = usize::MAX;
        loop {
            if at >= self.chars.len() {
                return Err(Diagnostic::error(
                    opener,
                    format!(
                        "BEGIN {0} is not closed (expected END {0})",
                        kind.join(" ").to_uppercase()
                    ),
                ));
            }
            if self.is_block_end(at, kind) {
                break;
            }
            let line_end = self.chars[at..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(self.chars.len(), |i| at + i);
            let line = &self.chars[at..line_end];
            if line.iter().any(|c| !c.is_whitespace()) {
                indent = indent.min(line.iter().take_while(|c| matches!(c, ' ' | '\t')).count());
            }
            at = line_end + 1;
        }
        let indent = if indent == usize::MAX { 0 } else { indent };
        // Second pass: the text itself, with interpolations, at real positions.
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut first = true;
        while !self.is_block_end(self.pos, kind) {
            if !first {
                text.push('\n');
            }
            first = false;
            for _ in 0..indent {
                if matches!(self.peek(), Some(' ' | '\t')) {
                    self.bump();
                }
            }
            while let Some(c) = self.peek() {
                if c == '\n' {
                    break;
                }
                let here = self.here();
                self.bump();
                match c {
                    '\r' if self.peek() == Some('\n') => {}
                    '$' if self.peek() == Some('{') => {
                        self.bump();
                        let expr = self.interpolation(here)?;
                        if !text.is_empty() {
                            parts.push(StrPart::Text(std::mem::take(&mut text)));
                        }
                        parts.push(StrPart::Expr(expr));
                    }
                    c => text.push(c),
                }
            }
            self.bump();
        }
        // The END line itself (anything after its words is ignored, like a comment).
        self.skip_to_eol();
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrPart::Text(text));
        }
        Ok(parts)
    }

    fn word(&mut self, span: Span) {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        // Type suffixes of old BASICs (`name$`) are accepted and ignored.
        if self.peek() == Some('$') {
            self.bump();
        }
        if s == "_" {
            // `_` at the end of a line (before an optional comment) joins the next line.
            let mut i = 0;
            while matches!(self.peek_at(i), Some(' ' | '\t' | '\r')) {
                i += 1;
            }
            match self.peek_at(i) {
                Some('\n') => {
                    for _ in 0..=i {
                        self.bump();
                    }
                    return;
                }
                None => return,
                Some('\'') => {
                    self.skip_to_eol();
                    self.bump();
                    return;
                }
                Some('/') if self.peek_at(i + 1) == Some('/') => {
                    self.skip_to_eol();
                    self.bump();
                    return;
                }
                _ => {}
            }
        }
        if s.eq_ignore_ascii_case("REM") && self.at_line_start() {
            self.skip_to_eol();
            return;
        }
        self.push(Tok::Ident(s), span);
    }

    fn number(&mut self, span: Span) -> Result<(), Diagnostic> {
        let mut s = String::new();
        let mut is_float = false;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                s.push(c);
            } else if c == '.' && !is_float && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                is_float = true;
                s.push(c);
            } else {
                break;
            }
            self.bump();
        }
        if matches!(self.peek(), Some('e' | 'E'))
            && (self.peek_at(1).is_some_and(|d| d.is_ascii_digit())
                || (matches!(self.peek_at(1), Some('+' | '-'))
                    && self.peek_at(2).is_some_and(|d| d.is_ascii_digit())))
        {
            is_float = true;
            s.push('e');
            self.bump();
            if let Some(sign @ ('+' | '-')) = self.peek() {
                s.push(sign);
                self.bump();
            }
            while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
                s.push(c);
                self.bump();
            }
        }
        if !is_float {
            if let Ok(n) = s.parse::<i64>() {
                self.push(Tok::Int(n), span);
                return Ok(());
            }
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => {
                self.push(Tok::Float(f), span);
                Ok(())
            }
            _ => Err(Diagnostic::error(
                span,
                format!("number '{s}' is out of range"),
            )),
        }
    }

    /// A string after its opening quote: `"…"` on one line with `""` for a quote, or a
    /// Rhai backtick string, which may span lines.
    fn string(&mut self, start: Span, close: char) -> Result<Vec<StrPart>, Diagnostic> {
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let here = self.here();
            let Some(c) = self.bump() else {
                return Err(Diagnostic::error(start, "unterminated string"));
            };
            match c {
                '\n' if close == '`' => text.push('\n'),
                '\r' if close == '`' && self.peek() == Some('\n') => {}
                '\n' if self.string_goes_on(close) => text.push('\n'),
                '\n' => return Err(Diagnostic::error(start, "unterminated string")),
                '"' if close == '"' && self.peek() == Some('"') => {
                    self.bump();
                    text.push('"');
                }
                c if c == close => break,
                '\\' => {
                    let esc = self.bump();
                    match esc {
                        Some('n') => text.push('\n'),
                        Some('t') => text.push('\t'),
                        Some('r') => text.push('\r'),
                        Some('"') => text.push('"'),
                        Some('\\') => text.push('\\'),
                        Some('$') => text.push('$'),
                        // An unknown escape is kept as written: Windows paths stay intact.
                        Some('\n') | None => {
                            return Err(Diagnostic::error(start, "unterminated string"))
                        }
                        Some(other) => {
                            text.push('\\');
                            text.push(other);
                        }
                    }
                }
                '$' if self.peek() == Some('{') => {
                    self.bump();
                    let toks = self.interpolation(here)?;
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(StrPart::Expr(toks));
                }
                other => text.push(other),
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrPart::Text(text));
        }
        Ok(parts)
    }

    /// At a `'`: the length of a single-quoted string starting here, when it is one. A
    /// `'` starts a comment, except where a value must come (after an operator, `(`, `,`,
    /// `=`, or a keyword such as TALK or DEFAULT) and a closing `'` is on the same line:
    /// then it is a string in single quotes (`TALK '"' + q + '"'`, `DEFAULT 'new'`), as
    /// General Bots scripts pass them through.
    fn single_quoted_string(&self) -> Option<usize> {
        let after_value = match self.out.last().map(|t| &t.tok) {
            None | Some(Tok::Newline) => return None,
            Some(Tok::Sym(s)) => matches!(*s, ")" | "]" | "}"),
            Some(Tok::Ident(w)) => !matches!(
                w.to_ascii_lowercase().as_str(),
                "talk"
                    | "print"
                    | "default"
                    | "return"
                    | "then"
                    | "else"
                    | "and"
                    | "or"
                    | "not"
                    | "as"
                    | "to"
                    | "with"
                    | "like"
            ),
            Some(_) => true,
        };
        if after_value {
            return None;
        }
        let rest = &self.chars[self.pos + 1..];
        let n = rest.iter().position(|c| *c == '\'' || *c == '\n')?;
        (rest.get(n) == Some(&'\'')).then_some(n)
    }

    /// At a line break inside a `"…"` string: true when the string goes on over the
    /// lines below (a prompt or mail body written over several lines). That is so when a
    /// closing quote further down ends its line or is followed by what can follow a value
    /// (`,` `)` `+` `&` …); otherwise the string was left open by mistake and the error
    /// names its first line.
    fn string_goes_on(&self, close: char) -> bool {
        if close != '"' {
            return false;
        }
        let mut i = self.pos;
        while let Some(&c) = self.chars.get(i) {
            match c {
                '"' if self.chars.get(i + 1) == Some(&'"') => i += 2,
                '"' => {
                    let mut j = i + 1;
                    while matches!(self.chars.get(j), Some(' ' | '\t' | '\r')) {
                        j += 1;
                    }
                    return match self.chars.get(j) {
                        None | Some('\n' | ',' | ')' | ']' | '}' | '+' | '&' | ';' | '\'') => true,
                        Some(c) if c.is_alphabetic() => {
                            // A clause word after the value (`… " THEN`, `… " AS x`).
                            let word: String = self.chars[j..]
                                .iter()
                                .take_while(|c| c.is_alphanumeric() || **c == '_')
                                .collect();
                            matches!(
                                word.to_ascii_lowercase().as_str(),
                                "then" | "as" | "with" | "to" | "else" | "and" | "or"
                            )
                        }
                        _ => false,
                    };
                }
                '\\' => i += 2,
                _ => i += 1,
            }
        }
        false
    }

    /// The expression of a `${…}` (after `${`, up to its `}` on the same line).
    fn interpolation(&mut self, here: Span) -> Result<Vec<Token>, Diagnostic> {
        let inner_start = self.here();
        let mut depth = 1;
        let mut inner = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(Diagnostic::error(
                        here,
                        "'${' in a string is not closed with '}'",
                    ))
                }
                Some('{') => {
                    depth += 1;
                    inner.push('{');
                }
                Some('}') => {
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        break;
                    }
                    inner.push('}');
                }
                Some(ch) => inner.push(ch),
            }
            self.bump();
        }
        if inner.trim().is_empty() {
            return Err(Diagnostic::error(here, "empty '${}' in a string"));
        }
        if self.depth >= MAX_INTERPOLATION_DEPTH {
            return Err(Diagnostic::error(
                here,
                "'${' interpolations are nested too deeply",
            ));
        }
        let mut toks = tokenize_at(&inner, inner_start, self.depth + 1)?;
        toks.retain(|t| !matches!(t.tok, Tok::Newline | Tok::Eof));
        Ok(toks)
    }
}

/// Removes the line breaks inside brackets that are closed later: a call, list or map
/// may span lines. A bracket never closed keeps its line breaks, so the error about it
/// stays on its own line.
fn join_bracketed_lines(toks: &mut Vec<Token>) {
    let mut open: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut joined = vec![false; toks.len()];
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Sym("(") => open.push((")", Vec::new())),
            Tok::Sym("[") => open.push(("]", Vec::new())),
            Tok::Sym("{") => open.push(("}", Vec::new())),
            Tok::Sym(s @ (")" | "]" | "}")) => match open.pop() {
                Some((closer, breaks)) if closer == *s => {
                    for b in breaks {
                        joined[b] = true;
                    }
                }
                // A mismatched closer: nothing before it is joined.
                _ => open.clear(),
            },
            Tok::Newline => {
                if let Some((_, breaks)) = open.last_mut() {
                    breaks.push(i);
                }
            }
            _ => {}
        }
    }
    let mut i = 0;
    toks.retain(|_| {
        i += 1;
        !joined[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn comments_and_continuations() {
        let toks = kinds("TALK \"a'b\" ' comment\nx = 1 + _\n 2\nREM \"unterminated\n");
        assert_eq!(
            toks,
            vec![
                Tok::Ident("TALK".into()),
                Tok::Str(vec![StrPart::Text("a'b".into())]),
                Tok::Newline,
                Tok::Ident("x".into()),
                Tok::Sym("="),
                Tok::Int(1),
                Tok::Sym("+"),
                Tok::Int(2),
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn string_escapes_and_interpolation() {
        let toks = tokenize("\"say \"\"hi\"\" ${name}!\\n\"").unwrap();
        match &toks[0].tok {
            Tok::Str(parts) => {
                assert_eq!(parts.len(), 3);
                assert_eq!(parts[0], StrPart::Text("say \"hi\" ".into()));
                match &parts[1] {
                    StrPart::Expr(t) => assert_eq!(t[0].span, Span::new(1, 15)),
                    other => panic!("{other:?}"),
                }
                assert_eq!(parts[2], StrPart::Text("!\n".into()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unterminated_string_points_at_its_start() {
        let err = tokenize("x = 1\nTALK \"abc\n").unwrap_err();
        assert_eq!(err.span, Span::new(2, 6));
        assert_eq!(err.message, "unterminated string");
    }
}
