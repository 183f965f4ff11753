//! Diagnostics: every language error or warning carries a `.bas` position and is
//! rendered like a compiler message (`file:line:col: error: message`, the source
//! line, a caret under the column).

use std::fmt;

/// A position in a `.bas` source: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(line: u32, col: u32) -> Self {
        Span { line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How bad a diagnostic is: errors stop compilation, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One message about a script, at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span,
            message: message.into(),
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            span,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col: severity: message`, then the source line and a caret; only
    /// `file: severity: message` when the position is unknown (line 0).
    pub fn render(&self, file: &str, source: &str) -> String {
        if self.span.line == 0 {
            return format!("{file}: {}: {}\n", self.severity, self.message);
        }
        let mut out = format!(
            "{}:{}:{}: {}: {}\n",
            file, self.span.line, self.span.col, self.severity, self.message
        );
        if let Some(text) = source
            .lines()
            .nth(self.span.line.saturating_sub(1) as usize)
        {
            let text = text.trim_end_matches('\r');
            out.push_str(&format!("  {text}\n"));
            // The caret keeps tabs so that it lines up under the column in a terminal.
            let pad: String = text
                .chars()
                .take(self.span.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("  {pad}^\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.span, self.severity, self.message)
    }
}

/// The result of compiling a script that has at least one error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn render(&self, file: &str, source: &str) -> String {
        self.0.iter().map(|d| d.render(file, source)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_column() {
        let d = Diagnostic::error(Span::new(2, 6), "boom");
        let text = d.render("a.bas", "x = 1\nTALK ?\n");
        assert_eq!(text, "a.bas:2:6: error: boom\n  TALK ?\n       ^\n");
    }

    #[test]
    fn unknown_position_is_not_shown() {
        let d = Diagnostic::error(Span::default(), "stopped");
        assert_eq!(d.render("a.bas", "x = 1\n"), "a.bas: error: stopped\n");
    }
}
