//! The syntax tree of a `.bas` script. Every node carries the span where it starts, so
//! that diagnostics and runtime errors point at the `.bas` source. Identifiers are
//! stored lower-cased: BASIC names are case-insensitive.

use super::diagnostics::Span;

/// An expression and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    IntDiv,
    Mod,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Interp(Vec<InterpPart>),
    Var(String),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    /// A call of a built-in or a script `FUNCTION` (name lower-cased).
    Call(String, Vec<Expr>),
    /// A method call in Rhai style, `x.len()`, `s.contains("a")` (name lower-cased).
    Method(Box<Expr>, String, Vec<Expr>),
    /// `c ? a : b`: only the chosen value is evaluated.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a ?? b`: `a` unless it is NULL.
    Coalesce(Box<Expr>, Box<Expr>),
    /// `GET BOT MEMORY(key)`
    BotMemory(Box<Expr>),
    /// `GET CONFIG "name"`: a value of the bot's config.csv.
    BotConfig(Box<Expr>),
    /// `BOT SYNC MEMORY [FROM bot]` used as a value: how many keys changed.
    SyncMemory(Option<Box<Expr>>),
    /// `BOT "bot" "task"` — delegation to another bot (docs/language.md).
    Delegate {
        bot: Box<Expr>,
        task: Box<Expr>,
    },
    /// `GET url`, `POST url, body`, … — an HTTP request.
    Http {
        method: &'static str,
        url: Box<Expr>,
        body: Option<Box<Expr>>,
    },
    /// `FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`: the keyword (lower-case),
    /// its arguments (the table first), and the variable name of each argument that is
    /// one (`SAVE "t", id, name, email` names its columns by them).
    Data {
        op: &'static str,
        args: Vec<Expr>,
        names: Vec<Option<String>>,
    },
    /// `SEND MAIL to, subject, body`.
    SendMail(Vec<Expr>),
    /// A keyword of the wider General Bots dialect that this server does not provide.
    Unavailable(String),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

/// One segment of an assignment target after the variable: `.name` or `[index]`.
#[derive(Debug, Clone, PartialEq)]
pub enum PathSeg {
    Member(String),
    Index(Expr),
}

/// The left side of an assignment: a variable and an optional member/index path.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub var: String,
    pub path: Vec<PathSeg>,
    pub span: Span,
}

/// One `CASE` test.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseTest {
    Value(Expr),
    Range(Expr, Expr),
    Is(BinOp, Expr),
}

/// The input types `HEAR … AS` validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HearKind {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Email,
    /// A time of day, `HH:MM`.
    Hour,
    /// A phone number: digits, with an optional `+` and separators.
    Mobile,
    Zipcode,
    Url,
    Uuid,
    /// `#rgb` / `#rrggbb` or a colour name.
    Color,
    /// A card number that passes the Luhn check.
    CreditCard,
    /// A Brazilian CPF (11 digits with their check digits).
    Cpf,
    /// A Brazilian CNPJ (14 digits with their check digits).
    Cnpj,
}

impl HearKind {
    pub fn name(self) -> &'static str {
        match self {
            HearKind::String => "string",
            HearKind::Integer => "integer",
            HearKind::Number => "number",
            HearKind::Boolean => "boolean",
            HearKind::Date => "date",
            HearKind::Email => "email",
            HearKind::Hour => "hour",
            HearKind::Mobile => "mobile",
            HearKind::Zipcode => "zipcode",
            HearKind::Url => "url",
            HearKind::Uuid => "uuid",
            HearKind::Color => "color",
            HearKind::CreditCard => "creditcard",
            HearKind::Cpf => "cpf",
            HearKind::Cnpj => "cnpj",
        }
    }
}

/// Where `BOT SHARE MEMORY` sends a value.
#[derive(Debug, Clone, PartialEq)]
pub enum ShareTarget {
    Bot(Expr),
    All,
}

/// A `RETRY n [BACKOFF secs]` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub tries: Expr,
    pub backoff: Option<Expr>,
    pub span: Span,
}

/// One `BRANCH label:` of a `PARALLEL` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub label: String,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// A statement and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Assign {
        target: Target,
        value: Expr,
    },
    /// An expression evaluated for its effect (`BOT "x" "t"`, `name(args)`).
    Expr(Expr),
    If {
        arms: Vec<(Expr, Vec<Stmt>)>,
        otherwise: Option<Vec<Stmt>>,
    },
    ForEach {
        var: String,
        list: Expr,
        body: Vec<Stmt>,
    },
    For {
        var: String,
        from: Expr,
        to: Expr,
        step: Option<Expr>,
        body: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// `DO [WHILE|UNTIL c] … LOOP [WHILE|UNTIL c]`; the bool is true for UNTIL.
    DoLoop {
        pre: Option<(bool, Expr)>,
        post: Option<(bool, Expr)>,
        body: Vec<Stmt>,
    },
    ExitFor,
    ExitDo,
    Select {
        subject: Expr,
        cases: Vec<(Vec<CaseTest>, Vec<Stmt>)>,
        otherwise: Option<Vec<Stmt>>,
    },
    Procedure {
        name: String,
        params: Vec<String>,
        body: Vec<Stmt>,
        is_function: bool,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
    With {
        var: String,
        body: Vec<Stmt>,
    },
    Return(Option<Expr>),
    Talk(Expr),
    Hear {
        target: Target,
        kind: HearKind,
        /// `HEAR x AS "a", "b"`: the answer must be one of these.
        options: Vec<Expr>,
        /// `WITH "question"`: said before waiting.
        prompt: Option<Expr>,
        /// `DEFAULT value`: the value of an empty answer.
        default: Option<Expr>,
    },
    Print(Expr),
    /// `WAIT secs` / `DELAY secs`
    Sleep(Expr),
    SetMemory {
        key: Expr,
        value: Expr,
    },
    SetContext {
        key: Expr,
        value: Expr,
    },
    /// `PARAM` and `DESCRIPTION`: declarations for tools, no effect when run.
    Declaration,
    Workflow {
        name: Expr,
        body: Vec<Stmt>,
    },
    Step {
        label: String,
        body: Vec<Stmt>,
        retry: Option<Retry>,
    },
    Approval {
        who: Expr,
        timeout: Option<Expr>,
        escalate: Vec<Expr>,
        message: Option<Expr>,
        /// `ON TIMEOUT: APPROVE` (true) or `REJECT` (false), with the words after it.
        on_timeout: Option<(bool, String)>,
    },
    Parallel {
        branches: Vec<Branch>,
    },
    Publish {
        name: Expr,
        payload: Option<Expr>,
    },
    WaitEvent {
        names: Vec<Expr>,
        filter: Option<Expr>,
        timeout: Option<Expr>,
        escalate: Option<Expr>,
    },
    OnEvent {
        name: String,
        body: Vec<Stmt>,
    },
    ShareMemory {
        key: Expr,
        target: ShareTarget,
    },
    SyncMemory {
        from: Option<Expr>,
    },
    /// `TRY … [CATCH [name] …] END TRY`: a runtime error in the body runs the handler
    /// (with the error's text in `name`, default `err`) instead of failing the run.
    Try {
        body: Vec<Stmt>,
        var: String,
        handler: Vec<Stmt>,
    },
    /// `THROW message` / `RAISE message`: fails the run with the message (a TRY catches it).
    Throw(Expr),
    /// `SET HEADER name, value`: a header of the HTTP requests that follow.
    SetHeader {
        name: Expr,
        value: Expr,
    },
    ClearHeaders,
    /// `TABLE name … END TABLE`: a table definition of the bot's package.
    Table(TableDef),
    /// `SET SCHEDULE "…"`: the script runs on this schedule (its cron expression).
    Schedule(String),
    Unavailable(String),
}

/// A `TABLE name [ON connection] … END TABLE` definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: String,
    /// `ON connection`: the database it lives in, when not the bot's own.
    pub connection: Option<String>,
    pub columns: Vec<Column>,
}

/// One column line of a `TABLE`: `[FIELD] name [AS] type[(len[, scale])] [KEY]
/// [REFERENCES table] …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// The type as written, lower-case (`string`, `number`, `date`, …).
    pub ty: String,
    /// `(len)` or `(len, scale)`.
    pub size: Vec<i64>,
    pub key: bool,
    pub references: Option<String>,
    /// `DEFAULT value`, as written.
    pub default: Option<Expr>,
    pub span: Span,
}

impl Stmt {
    pub fn new(kind: StmtKind, span: Span) -> Self {
        Stmt { kind, span }
    }
}

/// A parsed script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub body: Vec<Stmt>,
    /// What the parser found suspicious but not wrong (a STEP outside a workflow, …).
    pub warnings: Vec<super::diagnostics::Diagnostic>,
}
