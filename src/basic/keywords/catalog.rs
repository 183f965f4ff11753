//! The catalog of General Bots keywords: every statement and value keyword of the General
//! Bots dialect, in one table, each marked provided or not by this server.
//!
//! A provided keyword is parsed by its own family (`conversation.rs`, `memory.rs`, …); its
//! row here documents it and puts it under the catalog's property test. A keyword that is
//! not provided still parses — as a statement (`SEND MAIL to, subject, body`) and as a value
//! (`rows = FIND "t", "f"`, `FIND("t", "f")`), in its space and underscore spellings
//! (`SEND MAIL`, `SEND_MAIL`), with arguments that may span lines — so existing packages
//! load; `check` warns about it with its position; running it fails the execution with
//! "… is not available on this server". A script is never mis-run silently.
//!
//! Adding a keyword is one row; providing one is moving it to its family and setting
//! `provided`.

use std::collections::HashMap;
use std::sync::OnceLock;

use rhai::{Dynamic, Engine, ImmutableString};

use super::{fail, RhaiResult};
use crate::basic::ast::{Expr, ExprKind, StmtKind};
use crate::basic::diagnostics::Span;
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::Tok;

/// How a keyword can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Only as a statement: `USE KB "docs"`.
    Statement,
    /// Only as a value: `x = LLM "prompt"`.
    Value,
    /// Both: `SAVE "t", a, b` and `id = SAVE "t", a, b`.
    Both,
}

/// One keyword of the General Bots dialect.
#[derive(Debug, Clone, Copy)]
pub struct Keyword {
    /// The words, space-separated and upper-case, as General Bots documents them.
    pub words: &'static str,
    pub form: Form,
    /// The family: the file under `keywords/` that provides it, or would.
    pub family: &'static str,
    /// True when this server runs it.
    pub provided: bool,
    /// Typical arguments, as General Bots scripts write them (docs and property test).
    pub example: &'static str,
    /// Clause words that continue the statement on the next line (`WITH` after `LLM`).
    pub clauses: &'static [&'static str],
    /// For a keyword that opens a block (`ON FORM SUBMIT "f"` … `END ON`): the words of
    /// the line that closes it. The block's statements are parsed and checked.
    pub block_end: &'static [&'static str],
}

const fn kw(
    words: &'static str,
    form: Form,
    family: &'static str,
    provided: bool,
    example: &'static str,
) -> Keyword {
    Keyword {
        words,
        form,
        family,
        provided,
        example,
        clauses: &[],
        block_end: &[],
    }
}

const fn kwc(
    words: &'static str,
    form: Form,
    family: &'static str,
    example: &'static str,
    clauses: &'static [&'static str],
) -> Keyword {
    Keyword {
        words,
        form,
        family,
        provided: false,
        example,
        clauses,
        block_end: &[],
    }
}

const fn kwb(
    words: &'static str,
    family: &'static str,
    example: &'static str,
    block_end: &'static [&'static str],
) -> Keyword {
    Keyword {
        words,
        form: Form::Statement,
        family,
        provided: false,
        example,
        clauses: &[],
        block_end,
    }
}

use Form::{Both, Statement as S, Value as V};

/// Every keyword, by family. Spellings are matched longest first, so `DELETE FILE` wins
/// over `DELETE`.
pub const KEYWORDS: &[Keyword] = &[
    // ----- provided: conversation -----
    kw("TALK", S, "conversation", true, "\"Hello\""),
    kw("HEAR", S, "conversation", true, "name"),
    kw("PRINT", S, "conversation", true, "\"log line\""),
    kw("WAIT", S, "conversation", true, "0"),
    kw("DELAY", S, "conversation", true, "0"),
    kw(
        "PARAM",
        S,
        "conversation",
        true,
        "name AS STRING LIKE \"Ana\" DESCRIPTION \"who\"",
    ),
    kw(
        "DESCRIPTION",
        S,
        "conversation",
        true,
        "\"What this tool does\"",
    ),
    kw("BEGIN TALK", S, "conversation", true, ""),
    kw("BEGIN SYSTEM PROMPT", S, "conversation", true, ""),
    // ----- provided: memory and context -----
    kw("SET BOT MEMORY", S, "memory", true, "\"k\", 1"),
    kw("GET BOT MEMORY", V, "memory", true, "(\"k\")"),
    kw("GET CONFIG", V, "memory", true, "\"api-url\""),
    kw("SET CONTEXT", S, "memory", true, "\"topic\" AS \"billing\""),
    kw(
        "BOT SHARE MEMORY",
        S,
        "memory",
        true,
        "\"k\" WITH \"other\"",
    ),
    kw("BOT SYNC MEMORY", Both, "memory", true, "FROM \"other\""),
    // ----- provided: orchestration and events -----
    kw("ORCHESTRATE WORKFLOW", S, "workflow", true, "\"w\""),
    kw("STEP", S, "workflow", true, "1: TALK \"x\""),
    kw(
        "HUMAN APPROVAL",
        S,
        "workflow",
        true,
        "FROM \"a@b.c\" TIMEOUT 60",
    ),
    kw("BOT", Both, "workflow", true, "\"helper\" \"do it\""),
    kw("PUBLISH EVENT", S, "events", true, "\"done\""),
    kw("WAIT FOR EVENT", S, "events", true, "\"done\" TIMEOUT 1"),
    kw("ON EVENT", S, "events", true, "\"done\" DO"),
    // ----- provided: built-in values -----
    kw("NEW OBJECT", V, "builtins", true, ""),
    kw("NEW ARRAY", V, "builtins", true, ""),
    // ----- conversation -----
    kw(
        "TALK TO",
        S,
        "conversation",
        false,
        "\"whatsapp:+5511999\", \"Hi\"",
    ),
    kw("BEGIN MAIL", S, "mail", false, "\"a@b.c\""),
    kw(
        "TRANSFER CONVERSATION",
        S,
        "conversation",
        false,
        "TO \"billing-bot\"",
    ),
    kw(
        "SEND WHATSAPP",
        S,
        "conversation",
        false,
        "TO \"+5511999\" WITH \"Hi\"",
    ),
    kw(
        "SEND INSTAGRAM",
        S,
        "conversation",
        false,
        "TO \"12345\" WITH \"Hi\"",
    ),
    kw(
        "SEND MEDIA",
        S,
        "conversation",
        false,
        "TO phone, url, caption",
    ),
    kw(
        "ADD SUGGESTION TOOL",
        S,
        "conversation",
        false,
        "\"tool\" AS \"Label\"",
    ),
    kw(
        "ADD SUGGESTION TEXT",
        S,
        "conversation",
        false,
        "\"yes\" AS \"Yes\"",
    ),
    kw("ADD SUGGESTION", S, "conversation", false, "\"Option\""),
    kw("CLEAR SUGGESTIONS", S, "conversation", false, ""),
    kw(
        "ADD SWITCHER",
        S,
        "conversation",
        false,
        "\"id\" AS \"Label\"",
    ),
    kw("CLEAR SWITCHERS", S, "conversation", false, ""),
    kw("SET USER", S, "conversation", false, "user_id"),
    kw(
        "TRANSFER TO HUMAN",
        Both,
        "conversation",
        false,
        "\"sales\"",
    ),
    kw("CARD", Both, "conversation", false, "\"image\", \"text\""),
    kw("PLAY", S, "conversation", false, "\"intro.mp4\""),
    kw("PAUSE", S, "conversation", false, ""),
    kw("RESUME", S, "conversation", false, ""),
    kw("STOP", S, "conversation", false, ""),
    kw(
        "QR CODE",
        Both,
        "conversation",
        false,
        "\"https://x.y\", 256",
    ),
    kw("WEATHER", Both, "conversation", false, "\"Lisbon\""),
    kw("FORECAST", Both, "conversation", false, "\"Lisbon\", 3"),
    kw("SET THEME", S, "conversation", false, "\"dark\""),
    kw("SET ANSWER MODE", S, "conversation", false, "\"document\""),
    kw("SET PAGE MODE", S, "conversation", false, "\"none\""),
    kw("SET LANGUAGE", S, "conversation", false, "\"pt\""),
    kw("SESSION ID", V, "conversation", false, ""),
    kw(
        "GET SESSION",
        V,
        "conversation",
        false,
        "session_id, \"name\"",
    ),
    kw("BOT ID", V, "conversation", false, ""),
    kw("SEND MESSAGE", S, "conversation", false, "\"Hello\""),
    kw("ANSWER", V, "ai", false, "\"Latest orders\""),
    kw("IMAGE", V, "ai", false, "\"A red bicycle\""),
    kw("GENERATE CODE", V, "misc", false, "6"),
    kw(
        "GENERATE SECURE LINK",
        V,
        "files",
        false,
        "\"/reports/a.pdf\" EXPIRES 7 DAYS",
    ),
    kw(
        "LOG ACTIVITY",
        S,
        "crm",
        false,
        "id, \"Account\", \"Created\"",
    ),
    kw(
        "RECORD METRIC",
        S,
        "misc",
        false,
        "\"visits\" WITH count = 1",
    ),
    kw("RESET REPORT", S, "misc", false, ""),
    kw("NOTIFY AGENT", S, "crm", false, "agent WITH \"New case\""),
    kw("ALLOW ROLE", S, "conversation", false, "\"admin\""),
    kw("PUBLISH", S, "social", false, "post"),
    kw("INPUT", S, "conversation", false, "\"Name?\", name"),
    // ----- data and tables -----
    kw(
        "SAVE FROM UNSTRUCTURED",
        Both,
        "data",
        false,
        "\"contacts\", text",
    ),
    kw("SAVE", Both, "data", true, "\"orders\", id, total"),
    kw("INSERT", Both, "data", true, "\"orders\", row"),
    kw("UPDATE", Both, "data", true, "\"orders\", \"id=1\", row"),
    kw("DELETE FILE", Both, "files", false, "\"old.txt\""),
    kw(
        "DELETE HTTP",
        Both,
        "http",
        true,
        "\"https://api.example.com/x\"",
    ),
    kw("DELETE POST", Both, "social", false, "post_id"),
    kw("DELETE", Both, "data", true, "\"orders\", \"id=1\""),
    kw("FIND", Both, "data", true, "\"orders\", \"status=open\""),
    kw("SEARCH PRODUCTS", Both, "data", false, "\"shoes\", 5"),
    kw("SEARCH", Both, "data", false, "\"products\", \"red shoes\""),
    kw("FILTER", Both, "data", false, "rows, \"total > 10\""),
    kw("AGGREGATE", Both, "data", false, "\"SUM\", rows, \"total\""),
    kw("MERGE PDF", Both, "files", false, "files, \"all.pdf\""),
    kw("MERGE", Both, "data", true, "\"orders\", rows, \"id\""),
    kw("MAP", Both, "data", false, "rows, \"a->b\""),
    kw("FILL", Both, "data", false, "rows, template"),
    kw("PIVOT", Both, "data", false, "rows, \"month\", \"total\""),
    kw("GROUP BY", Both, "data", false, "rows, \"status\""),
    kw("IMPORT", Both, "data", false, "\"data.csv\""),
    kw("EXPORT", Both, "data", false, "\"out.csv\", rows"),
    kw("DETECT", Both, "data", false, "rows"),
    kw("USE ACCOUNT", S, "data", false, "\"me@example.com\""),
    kw(
        "SYNCHRONIZE",
        S,
        "data",
        false,
        "\"/api/items\", \"items\", \"id\", \"page\", \"limit\"",
    ),
    kw("SCAN BARCODE", Both, "data", false, "image"),
    kw("QUERY", Both, "data", false, "\"SELECT * FROM orders\""),
    kw(
        "SET",
        S,
        "data",
        false,
        "\"orders\", \"id=1\", \"status=done\"",
    ),
    kwc(
        "JOIN",
        S,
        "data",
        "customers ON orders.customer = customers.id",
        &["where", "join", "group", "order"],
    ),
    kw("SORT", V, "data", false, "rows BY \"total\" DESC"),
    kw("DIR", Both, "files", false, "\"reports\""),
    kw("JSON PARSE", V, "data", false, "text"),
    kw("CACHE GET", V, "data", false, "\"key\""),
    kw("CACHE SET", S, "data", false, "\"key\", value"),
    kw("PRODUCT", V, "data", false, "product_id"),
    kw("PRODUCTS", V, "data", false, ""),
    kw("SEE", V, "ai", false, "image"),
    kwc(
        "SELECT",
        V,
        "data",
        "name FROM customers",
        &[
            "from", "join", "where", "group", "order", "having", "inner", "left",
        ],
    ),
    kw("TABLE", S, "data", true, "orders"),
    // ----- HTTP and web -----
    kw(
        "GET",
        Both,
        "http",
        true,
        "\"https://api.example.com/items\"",
    ),
    kw("POST TO", Both, "social", false, "\"instagram\", image"),
    kw(
        "POST",
        Both,
        "http",
        true,
        "\"https://api.example.com/items\", item",
    ),
    kw(
        "PUT",
        Both,
        "http",
        true,
        "\"https://api.example.com/items/1\", item",
    ),
    kw(
        "PATCH",
        Both,
        "http",
        true,
        "\"https://api.example.com/items/1\", item",
    ),
    kw(
        "SET HEADER",
        S,
        "http",
        true,
        "\"Authorization\", \"Bearer x\"",
    ),
    kw("CLEAR HEADERS", S, "http", true, ""),
    kw("GRAPHQL", Both, "http", false, "endpoint, query, vars"),
    kw("SOAP", Both, "http", false, "wsdl, \"op\", params"),
    kw("WEBHOOK", S, "http", false, "\"order-received\""),
    kw(
        "RSS",
        Both,
        "http",
        false,
        "\"https://example.com/feed\", 5",
    ),
    kw(
        "SCRAPE ALL",
        Both,
        "http",
        false,
        "\"https://example.com\", \"a\"",
    ),
    kw(
        "SCRAPE TABLE",
        Both,
        "http",
        false,
        "\"https://example.com\", \"table\"",
    ),
    kw(
        "SCRAPE LINKS",
        Both,
        "http",
        false,
        "\"https://example.com\"",
    ),
    kw(
        "SCRAPE IMAGES",
        Both,
        "http",
        false,
        "\"https://example.com\"",
    ),
    kw(
        "SCRAPE",
        Both,
        "http",
        false,
        "\"https://example.com\", \"h1\"",
    ),
    // ----- files -----
    kw("READ", Both, "files", false, "\"notes.txt\""),
    kw("WRITE", S, "files", false, "\"notes.txt\", text"),
    kw("APPEND", S, "files", false, "\"log.txt\", line"),
    kw("COPY", S, "files", false, "\"a.txt\", \"b.txt\""),
    kw("MOVE", S, "files", false, "\"a.txt\", \"b.txt\""),
    kw("LIST", Both, "files", false, "\"reports/\""),
    kw("COMPRESS", Both, "files", false, "files, \"all.zip\""),
    kw("EXTRACT", Both, "files", false, "\"all.zip\", \"out/\""),
    kw("UPLOAD", Both, "files", false, "file, \"docs/\""),
    kw(
        "DOWNLOAD",
        Both,
        "files",
        false,
        "\"https://example.com/a.pdf\", \"a.pdf\"",
    ),
    kw(
        "GENERATE PDF",
        Both,
        "files",
        false,
        "\"invoice\", data, \"invoice.pdf\"",
    ),
    kw("OCR", Both, "files", false, "image"),
    kw("CONVERT", Both, "files", false, "\"a.docx\", \"pdf\""),
    // ----- mail and messaging -----
    kw(
        "SEND MAIL",
        Both,
        "mail",
        true,
        "\"a@b.c\", \"Subject\", \"Body\"",
    ),
    kw(
        "SEND EMAIL",
        Both,
        "mail",
        true,
        "\"a@b.c\", \"Subject\", \"Body\"",
    ),
    kw(
        "SEND TEMPLATE",
        Both,
        "mail",
        false,
        "\"a@b.c\", \"welcome\", vars",
    ),
    kw(
        "CREATE DRAFT",
        Both,
        "mail",
        false,
        "\"a@b.c\", \"Subject\", \"Body\"",
    ),
    kw("SEND SMS", Both, "mail", false, "\"+5511999\", \"Hi\""),
    kw(
        "SEND FILE TO",
        S,
        "mail",
        false,
        "\"whatsapp:+5511999\", file",
    ),
    kw("SEND FILE", S, "mail", false, "file"),
    kw("SEND TO", S, "mail", false, "\"whatsapp:+5511999\", \"Hi\""),
    kw("BROADCAST", S, "mail", false, "\"Hi\" TO contacts"),
    kwb(
        "ON EMAIL",
        "mail",
        "\"support@example.com\"",
        &["end", "on"],
    ),
    kw(
        "ADD MEMBER",
        Both,
        "mail",
        false,
        "group_id, \"a@b.c\", \"member\"",
    ),
    kw(
        "CREATE TEAM",
        Both,
        "mail",
        false,
        "\"Sales\", members, \"desc\"",
    ),
    kw("BOOK MEETING", Both, "mail", false, "details, attendees"),
    kw(
        "CHECK AVAILABILITY",
        Both,
        "mail",
        false,
        "\"2026-12-01\", 30",
    ),
    kw(
        "BOOK",
        Both,
        "mail",
        false,
        "\"Call\", \"desc\", start, 30, \"room\"",
    ),
    // ----- scheduling, triggers, tasks -----
    kw("SET SCHEDULE", S, "schedule", true, "\"0 9 * * *\""),
    kwb(
        "ON FORM SUBMIT",
        "scheduling",
        "\"contact\"",
        &["end", "on"],
    ),
    kw(
        "ON CHANGE",
        S,
        "scheduling",
        false,
        "\"account://me/folder\"",
    ),
    kw("ON INSERT", S, "scheduling", false, "OF \"orders\""),
    kw("ON UPDATE", S, "scheduling", false, "OF \"orders\""),
    kw("ON DELETE", S, "scheduling", false, "OF \"orders\""),
    kw(
        "CREATE TASK",
        Both,
        "scheduling",
        false,
        "\"Call Ana\", \"me@example.com\", due, \"crm\"",
    ),
    kw(
        "ASSIGN SMART",
        Both,
        "scheduling",
        false,
        "task_id, \"sales\", \"round-robin\"",
    ),
    // ----- knowledge, LLM and tools -----
    kwc("LLM", Both, "ai", "\"Summarize this\"", &["with"]),
    kw("USE KB", S, "ai", false, "\"docs\""),
    kw("ADD KB", S, "ai", false, "\"docs\""),
    kw("SET KB", S, "ai", false, "\"docs\""),
    kw("CLEAR KB", S, "ai", false, "\"docs\""),
    kw("THINK KB", Both, "ai", false, "question"),
    kw("KB STATISTICS", Both, "ai", false, ""),
    kw("KB LIST COLLECTIONS", Both, "ai", false, ""),
    kw("KB COLLECTION STATS", Both, "ai", false, "\"docs\""),
    kw("KB DOCUMENTS COUNT", Both, "ai", false, "\"docs\""),
    kw("KB DOCUMENTS ADDED SINCE", Both, "ai", false, "\"docs\", 7"),
    kw("KB STORAGE SIZE", Both, "ai", false, ""),
    kwc(
        "USE WEBSITE",
        S,
        "ai",
        "\"https://example.com\"",
        &["refresh"],
    ),
    kw("CLEAR WEBSITES", S, "ai", false, ""),
    kw("ADD WEBSITE", S, "ai", false, "\"https://example.com\""),
    kw("USE TOOL", S, "ai", false, "\"lookup.bas\""),
    kw("ADD TOOL", S, "ai", false, "\"lookup\""),
    kw("CLEAR TOOLS", S, "ai", false, ""),
    kw("REMOVE TOOL", S, "ai", false, "\"lookup.bas\""),
    kw("REFRESH", S, "ai", false, "\"llm\""),
    kw("LIST TOOLS", Both, "ai", false, ""),
    kw("USE MODEL", S, "ai", false, "\"auto\""),
    kw("SET MODEL ROUTING", S, "ai", false, "\"cost\""),
    kw("USE MCP", Both, "ai", false, "\"server\", \"tool\", params"),
    kw("RUN PYTHON", Both, "ai", false, "\"print(1)\""),
    kw("RUN JAVASCRIPT", Both, "ai", false, "\"1 + 1\""),
    kw("RUN JS", Both, "ai", false, "\"1 + 1\""),
    kw("RUN BASH", Both, "ai", false, "\"ls\""),
    kw("CLASSIFY", Both, "ai", false, "text, categories"),
    kw("SENTIMENT", Both, "ai", false, "text"),
    kw("TRANSLATE", Both, "ai", false, "text, \"pt\""),
    kw("SUMMARIZE", Both, "ai", false, "text"),
    kw("VALIDATE", Both, "ai", false, "data, rules"),
    kw("CALCULATE", Both, "ai", false, "\"a + b\", vars"),
    kw("REWRITE", Both, "ai", false, "text"),
    kw(
        "CREATE SITE",
        Both,
        "ai",
        false,
        "\"shop\", \"template\", \"A shoe shop\"",
    ),
    kw("DETECT FACES", Both, "ai", false, "image"),
    kw("CHART", Both, "ai", false, "\"bar\", data"),
    // ----- memory beyond the bot's own -----
    kw("SET USER MEMORY", S, "memory", false, "\"k\", 1"),
    kw("GET USER MEMORY", V, "memory", false, "(\"k\")"),
    kw("REMEMBER USER FACT", S, "memory", false, "\"likes tea\""),
    kw("GET USER FACTS", V, "memory", false, ""),
    kw("CLEAR USER MEMORY", S, "memory", false, ""),
    kw("REMEMBER", S, "memory", false, "\"k\", 1, \"30 days\""),
    kw("RECALL", Both, "memory", false, "\"k\""),
    // ----- bots and attendance -----
    kw(
        "ADD BOT",
        S,
        "workflow",
        false,
        "\"helper\" WITH TRIGGER \"help\"",
    ),
    kw("REMOVE BOT", S, "workflow", false, "\"helper\""),
    kw(
        "DELEGATE",
        Both,
        "workflow",
        false,
        "\"Process this order\" TO BOT \"orders\"",
    ),
    kw(
        "CREATE CALENDAR EVENT",
        Both,
        "scheduling",
        false,
        "\"Standup\", start, 30",
    ),
    kw("CREATE FILE", S, "files", false, "\"notes/a.md\" WITH text"),
    kw(
        "CREATE LEAD",
        Both,
        "crm",
        false,
        "name, email, phone, source",
    ),
    kw("ON", S, "scheduling", false, "\"message:received\""),
    kw("LIST BOTS", Both, "workflow", false, ""),
    kw("SET BOT PRIORITY", S, "workflow", false, "\"helper\", 1"),
    kw("DELEGATE TO", Both, "workflow", false, "\"helper\""),
    kw("SET BOT REFLECTION", S, "workflow", false, "TRUE"),
    kw("REFLECT ON", Both, "workflow", false, "\"quality\""),
    kw("GET QUEUE", Both, "crm", false, ""),
    kw("NEXT IN QUEUE", V, "crm", false, ""),
    kw("ASSIGN CONVERSATION", Both, "crm", false, "id TO \"agent\""),
    kw("RESOLVE CONVERSATION", Both, "crm", false, "id"),
    kw("SET PRIORITY", S, "crm", false, "id TO 1"),
    kw("GET ATTENDANTS", Both, "crm", false, ""),
    kw(
        "SET ATTENDANT STATUS",
        S,
        "crm",
        false,
        "\"agent\" TO \"busy\"",
    ),
    kw("TAG CONVERSATION", Both, "crm", false, "id WITH \"vip\""),
    kw("ADD NOTE", Both, "crm", false, "\"called back\" TO id"),
    kw("SCORE LEAD", Both, "crm", false, "lead"),
    kw("AI SCORE LEAD", Both, "crm", false, "lead"),
    kw(
        "ANALYZE SENTIMENT",
        Both,
        "crm",
        false,
        "session_id, message",
    ),
    kw(
        "NOTIFY ATTENDANT",
        S,
        "crm",
        false,
        "agent, \"New customer\"",
    ),
    kw("GET TIPS", Both, "crm", false, "session_id, message"),
    kw("POLISH MESSAGE", Both, "crm", false, "message"),
    kw("GET SMART REPLIES", Both, "crm", false, "session_id"),
    kw("GET SUMMARY", Both, "crm", false, "session_id"),
    kw("GET CUSTOMER HISTORY", Both, "crm", false, "customer_id"),
    kw("QUALIFY LEAD", Both, "crm", false, "lead"),
    kw("GET LEAD SCORE", V, "crm", false, "lead_email"),
    // ----- errors and calls -----
    kw("ON ERROR RESUME NEXT", S, "errors", false, ""),
    kw("ON ERROR GOTO", S, "errors", false, "0"),
    kw("ON ERROR", S, "errors", false, ""),
    kw("CLEAR ERROR", S, "errors", false, ""),
    kw("ERROR MESSAGE", V, "errors", false, ""),
    kw("THROW", S, "errors", true, "\"bad input\""),
    kw("RAISE", S, "errors", true, "\"bad input\""),
    kw("CALL", Both, "misc", false, "\"/api/orders\", order"),
    kw("GOTO", S, "misc", false, "done"),
    kw("INCLUDE", S, "misc", false, "\"common.bas\""),
];

/// Catalog rows by their first word, each with its spelling as lower-case words.
type Index = HashMap<String, Vec<(&'static Keyword, Vec<String>)>>;

/// The catalog indexed by first word (lower-case), each list longest spelling first.
fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = Index::new();
        for k in KEYWORDS {
            let words: Vec<String> = k.words.split(' ').map(str::to_ascii_lowercase).collect();
            // The spaced spelling, and the underscore one (`SEND_MAIL`) as one word.
            map.entry(words[0].clone())
                .or_default()
                .push((k, words.clone()));
            if words.len() > 1 {
                map.entry(words.join("_"))
                    .or_default()
                    .push((k, vec![words.join("_")]));
            }
        }
        for list in map.values_mut() {
            list.sort_by_key(|(_, w)| std::cmp::Reverse(w.len()));
        }
        map
    })
}

/// The keyword whose spelling the parser is at, and how many tokens it takes.
pub fn lookup(p: &Parser) -> Option<(&'static Keyword, usize)> {
    let Tok::Ident(first) = &p.peek().tok else {
        return None;
    };
    let list = index().get(&first.to_ascii_lowercase())?;
    list.iter().find_map(|(k, words)| {
        let ws: Vec<&str> = words.iter().map(String::as_str).collect();
        p.at_words(&ws).then_some((*k, ws.len()))
    })
}

/// The row of a keyword, by its spaced spelling.
pub fn find(words: &str) -> Option<&'static Keyword> {
    KEYWORDS
        .iter()
        .find(|k| k.words.eq_ignore_ascii_case(words))
}

/// True for words that glue a keyword's arguments together (`AS`, `TO`, `WITH`, …).
fn is_glue(t: &crate::basic::tokenizer::Token) -> bool {
    const GLUE: &[&str] = &[
        "as", "to", "with", "from", "using", "in", "on", "of", "by", "into", "where", "for", "at",
        "and", "or", "set", "values", "options", "file", "next", "each", "do", "refresh",
        "trigger", "tools", "schedule", "status", "order", "group", "limit", "join", "is",
    ];
    matches!(&t.tok, Tok::Ident(w) if GLUE.iter().any(|g| w.eq_ignore_ascii_case(g)))
}

impl Parser {
    /// A keyword of the catalog that this server does not provide, at the start of a
    /// statement: its arguments are parsed (so they may span lines) and kept for nothing.
    pub(crate) fn unavailable_statement(&mut self) -> PResult<Option<StmtKind>> {
        let Some((k, n)) = lookup(self).filter(|(k, _)| !k.provided) else {
            return Ok(None);
        };
        if k.form == Form::Value {
            return Ok(None);
        }
        for _ in 0..n {
            self.advance();
        }
        self.keyword_args(k.clauses);
        if !k.block_end.is_empty() && self.block_end_ahead(k.block_end) {
            // The block's statements are checked like any others; the whole block fails
            // when run, as its keyword does.
            let _ = self.block(&[k.block_end])?;
            for _ in k.block_end {
                self.advance();
            }
        }
        Ok(Some(StmtKind::Unavailable(k.words.to_string())))
    }

    /// True when a later line starts with these words.
    fn block_end_ahead(&self, words: &[&str]) -> bool {
        self.toks[self.pos..].windows(words.len() + 1).any(|w| {
            matches!(w[0].tok, Tok::Newline) && w[1..].iter().zip(words).all(|(t, x)| t.is_word(x))
        })
    }

    /// The arguments of a keyword form this server does not run (`TALK TO a, m`,
    /// `HEAR f AS FILE`), after its words: parsed and dropped; the statement fails when run.
    pub(crate) fn unavailable_args(&mut self, name: &str) -> StmtKind {
        self.keyword_args(&[]);
        StmtKind::Unavailable(name.to_string())
    }

    /// The arguments of an unavailable keyword: expressions separated by commas and glue
    /// words, up to the end of the statement (or `THEN`/`ELSE` of a one-line IF, or the
    /// bracket that closes the call it is in). Text that is no expression is skipped to
    /// the end of the line: the keyword fails when run, whatever its arguments.
    fn keyword_args(&mut self, clauses: &'static [&'static str]) {
        loop {
            if self.at_eol() {
                if self.continue_clause(&clause_words(clauses)) {
                    continue;
                }
                return;
            }
            let t = self.peek().clone();
            if t.is_word("then") || t.is_word("else") {
                return;
            }
            if matches!(t.tok, Tok::Sym(")" | "]" | "}")) {
                return;
            }
            if matches!(t.tok, Tok::Sym("," | ";" | ":" | "*" | "=")) || is_glue(&t) {
                self.advance();
                continue;
            }
            let start = self.pos;
            if self.expr().is_err() {
                self.pos = start;
                while !self.at_eol() {
                    self.advance();
                }
            }
        }
    }
}

/// Clause words as the parser's `continue_clause` takes them.
fn clause_words(clauses: &'static [&'static str]) -> Vec<&'static [&'static str]> {
    clauses.iter().map(std::slice::from_ref).collect()
}

/// A catalog keyword used as a value (`x = FIND "t", "f"`, `IF LLM("q") = "y"`), when it
/// is one the server does not provide. A bare word followed by no argument is left to be
/// a variable (`TALK query`), unless the keyword takes no arguments (`x = LIST TOOLS`).
pub(crate) fn expr(p: &mut Parser, span: Span) -> PResult<Option<Expr>> {
    let Some((k, n)) = lookup(p).filter(|(k, _)| !k.provided && k.form != Form::Statement) else {
        return Ok(None);
    };
    if n == 1 && super::builtins::arity(&k.words.to_ascii_lowercase()).is_some() {
        // A built-in of this server by the same name (`JOIN(list, ",")`) is the built-in.
        return Ok(None);
    }
    let after = p.peek_n(n).clone();
    let with_args = match &after.tok {
        // Not `[`: `list[0]` indexes a variable named like a keyword.
        Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Sym("(") => true,
        // An identifier starts an argument unless it is a word of the statement around
        // (`IN list DO`, `IF find THEN`, `FOR i = 1 TO count STEP 2`).
        Tok::Ident(w) => !matches!(
            w.to_ascii_lowercase().as_str(),
            "then"
                | "else"
                | "do"
                | "to"
                | "step"
                | "and"
                | "or"
                | "mod"
                | "not"
                | "as"
                | "is"
                | "in"
                | "contains"
                | "starts"
                | "ends"
                | "like"
        ),
        _ => false,
    };
    // A phrase of several words is the keyword even without arguments (`KB STATISTICS`).
    if !(with_args || n > 1) {
        return Ok(None);
    }
    // A one-word keyword followed by an identifier is a value only when the identifier
    // starts an argument (`x = FIND name`), which cannot be told from `a = b c`: it is.
    for _ in 0..n {
        p.advance();
    }
    if after.is_sym("(") {
        p.advance();
        p.args(")")?;
    } else {
        p.keyword_args(k.clauses);
    }
    Ok(Some(Expr::new(
        ExprKind::Unavailable(k.words.to_string()),
        span,
    )))
}

/// True when `name` (called with parentheses, lower-case) is a catalog keyword that this
/// server does not provide: as a value (`FIND("t", "f")`), or as a statement too when the
/// call is one (`USE_WEBSITE("https://…")`).
pub fn is_unavailable_function(name: &str, as_statement: bool) -> bool {
    index().get(name).is_some_and(|list| {
        list.iter().any(|(k, w)| {
            w.len() == 1 && !k.provided && (as_statement || k.form != Form::Statement)
        })
    })
}

/// The upper-case keyword a function name stands for (`send_mail` → `SEND MAIL`).
pub fn function_keyword(name: &str) -> Option<&'static str> {
    index()
        .get(name)?
        .iter()
        .find(|(k, w)| w.len() == 1 && !k.provided)
        .map(|(k, _)| k.words)
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("k_unavailable", |name: ImmutableString| -> RhaiResult {
        Err::<Dynamic, _>(fail(format!("{name} is not available on this server")))
    });
    // THROW / RAISE: the script's own failure, with its message.
    engine.register_fn("k_throw", |message: Dynamic| -> RhaiResult {
        Err::<Dynamic, _>(fail(crate::basic::value::display(&message)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in KEYWORDS {
            assert!(seen.insert(k.words), "{} appears twice", k.words);
            assert_eq!(
                k.words,
                k.words.to_uppercase(),
                "{} is not upper-case",
                k.words
            );
        }
    }
}
