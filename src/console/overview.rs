//! The overview: executions by status, what the waiting ones wait for, recent failures,
//! and this instance's throughput and wake-up latency over the last minutes.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::stats::{Sample, INTERVAL_SECS};
use super::workflows::Row;
use super::{is_htmx, render, PageError, Viewer};
use crate::db::executions;
use crate::db::states::{ExecKind, ExecStatus};
use crate::server::AppState;

/// A count with its label.
pub struct Count {
    pub label: String,
    pub n: i64,
    pub link: String,
}

/// One bar of a chart: its height in percent of the tallest and its caption.
pub struct Bar {
    pub pct: u32,
    pub title: String,
}

/// The part of the overview that the live stream refreshes.
pub struct Figures {
    pub statuses: Vec<Count>,
    pub waiting: Vec<Count>,
    pub failures: Vec<Row>,
    pub throughput: Vec<Bar>,
    pub latency: Vec<Bar>,
    pub last_throughput: String,
    pub last_latency: String,
    pub minutes: u64,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    viewer: Viewer,
    fig: Figures,
}

#[derive(Template)]
#[template(path = "overview_live.html")]
struct OverviewPart {
    fig: Figures,
}

fn bars(samples: &[Sample], value: impl Fn(&Sample) -> Option<f64>, unit: &str) -> Vec<Bar> {
    let max = samples.iter().filter_map(&value).fold(0.0_f64, f64::max);
    samples
        .iter()
        .map(|s| {
            let v = value(s);
            Bar {
                pct: match v {
                    Some(v) if max > 0.0 => ((v / max) * 100.0).round().clamp(1.0, 100.0) as u32,
                    _ => 0,
                },
                title: format!(
                    "{}: {}",
                    s.at.format("%H:%M:%S"),
                    v.map(|v| format!("{v:.1} {unit}"))
                        .unwrap_or_else(|| "none".into())
                ),
            }
        })
        .collect()
}

fn figures(
    state: &AppState,
) -> impl FnOnce(&crate::workflow::Runtime) -> crate::error::Result<Figures> {
    let samples = state.console.series.samples();
    move |rt| {
        let mut conn = rt.conn()?;
        let counts = executions::workflow_counts(&mut conn)?;
        let statuses = ExecStatus::ALL
            .iter()
            .map(|s| Count {
                label: s.as_str().to_string(),
                n: counts
                    .iter()
                    .find(|(k, _)| k == s.as_str())
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
                link: format!("/workflows?status={}", s.as_str()),
            })
            .collect();
        let waiting = executions::waiting_counts(&mut conn)?
            .into_iter()
            .map(|(what, n)| Count {
                link: if what == "approval" {
                    "/approvals".into()
                } else {
                    "/workflows?status=waiting".into()
                },
                label: what,
                n,
            })
            .collect();
        let failed = executions::list(
            &mut conn,
            &[ExecKind::Workflow],
            &executions::ListFilter {
                status: Some(ExecStatus::Failed),
                ..Default::default()
            },
            10,
        )?;
        let last = samples.last();
        Ok(Figures {
            statuses,
            waiting,
            failures: failed.iter().map(super::workflows::row).collect(),
            throughput: bars(&samples, |s| Some(s.completed_per_sec), "completed/s"),
            latency: bars(&samples, |s| s.wake_p50_ms, "ms"),
            last_throughput: last
                .map(|s| {
                    format!(
                        "{:.1} completed/s, {:.1} runs/s",
                        s.completed_per_sec, s.runs_per_sec
                    )
                })
                .unwrap_or_else(|| format!("no interval yet (one every {INTERVAL_SECS} s)")),
            last_latency: last
                .and_then(|s| {
                    s.wake_p50_ms.map(|p50| {
                        format!(
                            "p50 {p50:.2} ms, p99 {:.2} ms over {} wake-ups",
                            s.wake_p99_ms.unwrap_or(p50),
                            s.wakeups
                        )
                    })
                })
                .unwrap_or_else(|| "no wake-ups in the last interval".into()),
            minutes: (samples.len() as u64 * INTERVAL_SECS).div_ceil(60),
        })
    }
}

/// `GET /`: the overview (or, for htmx, its figures alone).
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let fig = state.blocking(figures(&state)).await?;
    if is_htmx(&headers) {
        return render(&OverviewPart { fig });
    }
    render(&OverviewPage { viewer, fig })
}
