//! The bots: every loaded package; one bot's scripts with their `check` diagnostics,
//! schedules, memory, shares and tables; pausing it. And one conversation's transcript.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::view;
use super::{back_to, render, Form, PageError, Viewer};
use crate::db::states::ExecKind;
use crate::db::{executions, memory, messages, schedules};
use crate::error::Error;
use crate::server::extract::{Path, Query};
use crate::server::AppState;

/// A bot in the list.
pub struct BotRow {
    pub name: String,
    pub scripts: String,
    pub paused: bool,
}

#[derive(Template)]
#[template(path = "bots.html")]
struct BotsPage {
    viewer: Viewer,
    bots: Vec<BotRow>,
}

/// `GET /bots`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let bots = state
        .blocking(|rt| {
            let paused = crate::db::events::paused_bots(&mut *rt.conn()?)?;
            Ok(rt
                .bot_list()
                .into_iter()
                .map(|(name, scripts)| BotRow {
                    paused: paused.contains(&name),
                    scripts: scripts.join(", "),
                    name,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    render(&BotsPage { viewer, bots })
}

/// One diagnostic of a script.
pub struct DiagView {
    pub severity: String,
    pub at: String,
    pub message: String,
}

/// A script of the bot, with what `check` says about it.
pub struct ScriptView {
    pub name: String,
    pub file: String,
    pub lines: usize,
    pub errors: usize,
    pub diagnostics: Vec<DiagView>,
}

/// A `name: value` line (memory, shares, schedules, tables).
pub struct Pair {
    pub name: String,
    pub value: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "bot.html")]
struct BotPage {
    viewer: Viewer,
    bot: String,
    paused: bool,
    scripts: Vec<ScriptView>,
    schedules: Vec<Pair>,
    memory: Vec<Pair>,
    shared_out: Vec<Pair>,
    shared_in: Vec<Pair>,
    tables: Vec<Pair>,
    config: Vec<Pair>,
    recent: Vec<super::workflows::Row>,
    notice: String,
    templates: Vec<TemplateView>,
}

/// A workflow template offered on a bot's page.
pub struct TemplateView {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
}

/// `?notice=`.
#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// Settings whose values are secrets and are not shown.
fn secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["pass", "secret", "token", "key"]
        .iter()
        .any(|s| k.contains(s))
}

/// `GET /bots/{bot}`.
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(bot): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let package = state
        .rt
        .package(&bot)
        .ok_or_else(|| Error::NotFound(format!("unknown bot '{bot}'")))?;
    let b = bot.clone();
    let page = state
        .blocking(move |rt| {
            let mut scripts = Vec::new();
            for s in package.scripts.values() {
                let diags = rt.check(&s.source);
                scripts.push(ScriptView {
                    name: s.name.clone(),
                    file: s
                        .path
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_default(),
                    lines: s.source.lines().count(),
                    errors: diags.iter().filter(|d| d.is_error()).count(),
                    diagnostics: diags
                        .iter()
                        .map(|d| DiagView {
                            severity: d.severity.to_string(),
                            at: format!("{}:{}", d.span.line, d.span.col),
                            message: d.message.clone(),
                        })
                        .collect(),
                });
            }
            let mut conn = rt.conn()?;
            let paused = crate::db::events::paused_bots(&mut conn)?.contains(&b);
            let schedules = schedules::list(&mut conn, Some(&b))?
                .into_iter()
                .map(|s| Pair {
                    name: s.script.clone(),
                    value: s.cron.clone(),
                    note: format!(
                        "next {}{}{}",
                        view::time(&s.next_at),
                        s.last_run_at
                            .map(|t| format!(", last run {}", view::time(&t)))
                            .unwrap_or_default(),
                        s.last_error
                            .map(|e| format!(", last error: {e}"))
                            .unwrap_or_default()
                    ),
                })
                .collect();
            let memory = memory::list(&mut conn, &b, None)?
                .into_iter()
                .map(|m| Pair {
                    name: m.key,
                    value: view::json_line(&m.value, 300),
                    note: format!("version {}, {}", m.version, view::time(&m.updated_at)),
                })
                .collect();
            let (out, inc) = memory::shares(&mut conn, &b)?;
            let share = |s: memory::ShareRow, other: String| Pair {
                name: s.key,
                value: view::json_line(&s.value, 300),
                note: format!(
                    "{other}, version {}, {}",
                    s.version,
                    view::time(&s.shared_at)
                ),
            };
            let shared_out = out
                .into_iter()
                .map(|s| {
                    let to = format!("with {}", s.target_bot);
                    share(s, to)
                })
                .collect();
            let shared_in = inc
                .into_iter()
                .map(|s| {
                    let from = format!("from {}", s.source_bot);
                    share(s, from)
                })
                .collect();
            let mut tables = Vec::new();
            for t in crate::data::ops::tables(&mut conn, &b)? {
                let cols = crate::data::ops::columns(&mut conn, &b, &t)?;
                let n = crate::data::ops::count_rows(&mut conn, &b, &t)?;
                tables.push(Pair {
                    value: cols
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    note: format!("{n} rows"),
                    name: t,
                });
            }
            let recent = executions::list(
                &mut conn,
                &[ExecKind::Workflow],
                &executions::ListFilter {
                    bot: Some(&b),
                    ..Default::default()
                },
                10,
            )?;
            let config = package
                .config
                .iter()
                .map(|(k, v)| Pair {
                    name: k.clone(),
                    value: if secret(k) {
                        "••••••".into()
                    } else {
                        v.clone()
                    },
                    note: String::new(),
                })
                .collect();
            Ok(BotPage {
                viewer,
                bot: b,
                paused,
                scripts,
                schedules,
                memory,
                shared_out,
                shared_in,
                tables,
                config,
                recent: recent.iter().map(super::workflows::row).collect(),
                notice: q.notice,
                templates: crate::designer::templates::list()
                    .iter()
                    .map(|t| TemplateView {
                        name: t.name,
                        title: t.title,
                        description: t.description,
                    })
                    .collect(),
            })
        })
        .await?;
    render(&page)
}

async fn switch(
    state: AppState,
    viewer: Viewer,
    bot: String,
    form: Form,
    paused: bool,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    if !state.rt.has_bot(&bot) {
        return Err(Error::NotFound(format!("unknown bot '{bot}'")).into());
    }
    let b = bot.clone();
    state.blocking(move |rt| rt.set_paused(&b, paused)).await?;
    let notice = if paused {
        "Paused: nothing of this bot runs until it is resumed."
    } else {
        "Resumed."
    };
    Ok(back_to(&form, &format!("/bots/{bot}"), notice))
}

/// `POST /bots/{bot}/scripts` `csrf`, `template`, `script`: the bot's new script made
/// from a workflow template, then its designer.
pub async fn new_script(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(bot): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    let template = form.need("template")?.to_string();
    let script = form.need("script")?.trim().to_string();
    let (b, s, t) = (bot.clone(), script.clone(), template.clone());
    let created = state
        .blocking(move |rt| crate::designer::templates::create(rt, &b, &s, &t))
        .await?;
    let notice = format!(
        "{}.bas made from the template {template}: edit it here, then start it as a workflow.",
        created.script
    );
    Ok(axum::response::Redirect::to(&format!(
        "/designer/{}/{}?notice={}",
        super::view::url_encode(&created.bot),
        super::view::url_encode(&created.script),
        super::view::url_encode(&notice)
    ))
    .into_response())
}

/// `POST /bots/{bot}/pause` `csrf`.
pub async fn pause(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(bot): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    switch(state, viewer, bot, form, true).await
}

/// `POST /bots/{bot}/resume` `csrf`.
pub async fn resume(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(bot): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    switch(state, viewer, bot, form, false).await
}

/// One message of a transcript.
pub struct MessageView {
    pub from_bot: bool,
    pub text: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    viewer: Viewer,
    id: String,
    bot: String,
    status: String,
    waiting: String,
    messages: Vec<MessageView>,
}

/// `GET /conversations/{id}`: the transcript of one conversation.
pub async fn conversation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = crate::server::extract::parse_id(id.trim(), "conversation")?;
    let page = state
        .blocking(move |rt| {
            let mut conn = rt.conn()?;
            let e = executions::get(&mut conn, id)?
                .filter(|e| e.kind == ExecKind::Conversation)
                .ok_or_else(|| Error::NotFound(format!("no conversation {id}")))?;
            let messages = messages::messages(&mut conn, id, 0)?
                .into_iter()
                .map(|m| MessageView {
                    from_bot: m.direction == crate::db::states::Direction::Bot,
                    text: m.text,
                    at: view::time(&m.created_at),
                })
                .collect();
            Ok(ConversationPage {
                viewer,
                id: id.to_string(),
                bot: e.bot.clone(),
                status: e.status.as_str().to_string(),
                waiting: view::waiting(&e.waiting_for),
                messages,
            })
        })
        .await?;
    render(&page)
}
