//! The figures `bench` measures, and how it prints them.

/// The figures, with the keys `--json` prints.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Figures {
    /// Three-step workflows completed per second (64 in flight, over HTTP).
    pub workflows_per_sec: f64,
    /// The same with three delegated (`BOT`) steps.
    pub delegated_workflows_per_sec: f64,
    /// Overhead per journaled step, median (ms).
    pub step_overhead_p50_ms: f64,
    /// Overhead per journaled step, 99th percentile (ms).
    pub step_overhead_p99_ms: f64,
    /// Publish → the waiting workflow ran again, median (ms).
    pub event_wake_p50_ms: f64,
    /// The same, 99th percentile (ms).
    pub event_wake_p99_ms: f64,
    /// 10,000 due workflows running again after a start (s).
    pub recovery_10k_secs: f64,
    /// Compiling a generated 1,000-line script, median (ms).
    pub compile_1000_lines_ms: f64,
    /// RSS growth per suspended workflow (KiB).
    pub suspended_rss_kib_per_workflow: f64,
    /// The seed's shape (two `BOT` steps, then a `PARALLEL` of two `BOT` branches)
    /// completed per second (64 in flight, over HTTP).
    pub parallel_workflows_per_sec: f64,
    /// Conversation messages answered per second (64 conversations in a `HEAR` loop
    /// answering with `TALK`, over HTTP).
    pub conversation_messages_per_sec: f64,
    /// A message posted → its reply received, median (ms).
    pub conversation_reply_p50_ms: f64,
    /// The same, 99th percentile (ms).
    pub conversation_reply_p99_ms: f64,
    /// Workflows woken per second, each by its own event published over HTTP.
    pub wakeups_per_sec: f64,
    /// Publish → that event's workflow ran again, 99th percentile (ms).
    pub wakeup_p99_ms: f64,
    /// Database size growth per suspended workflow (bytes; `--only scale`).
    pub suspended_disk_bytes_per_workflow: f64,
    /// 100,000 due workflows running again after a start (s; `--only scale`).
    pub recovery_100k_secs: f64,
    /// Three-step throughput with 1,000,000 finished executions in the tables, over the
    /// figure with none (`--only scale`).
    pub throughput_at_1m_ratio: f64,
    /// The designer's graph (parse, graph, SVG) of a generated 1,000-line workflow,
    /// median (ms).
    pub designer_graph_1000_lines_ms: f64,
    /// The console's workflow list with a million executions, median (ms; `--only console`).
    pub console_list_p50_ms: f64,
    /// A filtered list (status, bot, time), median (ms; `--only console`).
    pub console_filtered_p50_ms: f64,
    /// A workflow's page (steps, tree, journal), median (ms; `--only console`).
    pub console_detail_p50_ms: f64,
}

impl Figures {
    /// Every figure not measured (NaN, `null` in the JSON).
    pub fn unmeasured() -> Figures {
        Figures {
            workflows_per_sec: f64::NAN,
            delegated_workflows_per_sec: f64::NAN,
            step_overhead_p50_ms: f64::NAN,
            step_overhead_p99_ms: f64::NAN,
            event_wake_p50_ms: f64::NAN,
            event_wake_p99_ms: f64::NAN,
            recovery_10k_secs: f64::NAN,
            compile_1000_lines_ms: f64::NAN,
            suspended_rss_kib_per_workflow: f64::NAN,
            parallel_workflows_per_sec: f64::NAN,
            conversation_messages_per_sec: f64::NAN,
            conversation_reply_p50_ms: f64::NAN,
            conversation_reply_p99_ms: f64::NAN,
            wakeups_per_sec: f64::NAN,
            wakeup_p99_ms: f64::NAN,
            suspended_disk_bytes_per_workflow: f64::NAN,
            recovery_100k_secs: f64::NAN,
            throughput_at_1m_ratio: f64::NAN,
            designer_graph_1000_lines_ms: f64::NAN,
            console_list_p50_ms: f64::NAN,
            console_filtered_p50_ms: f64::NAN,
            console_detail_p50_ms: f64::NAN,
        }
    }
}

/// One table's or index's share of the disk a suspended workflow takes.
#[derive(Debug, Clone, Default)]
pub struct DiskShare {
    /// The table or index.
    pub relation: String,
    /// Its growth per suspended workflow (bytes).
    pub bytes_per_workflow: f64,
}

/// Figures printed in the table only.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Woken on another instance (the publisher had no free run slot), through NOTIFY.
    pub wake_pg: Option<(f64, f64)>,
    /// Woken on another instance through Redis: p50 and p99 (ms).
    pub wake_redis: Option<(f64, f64)>,
    /// 10,000 due workflows completed after a start (s).
    pub recovery_completed_secs: f64,
    /// Threads before the suspended workflows.
    pub threads_before: usize,
    /// Threads after them.
    pub threads_after: usize,
    /// Publish → running again, median, of the wake-up storm (ms).
    pub wakeup_p50_ms: f64,
    /// How many workflows the wake-up storm woke.
    pub wakeups: usize,
    /// Conversations started (each answers a fixed number of messages, then the next
    /// one starts).
    pub conversations: usize,
    /// The scale part was skipped (it runs only with `--only scale`).
    pub scale_skipped: bool,
    /// Each table's and index's share of the disk per suspended workflow.
    pub disk_shares: Vec<DiskShare>,
    /// Writing the million finished executions and vacuuming (s).
    pub fill_secs: f64,
    /// Three-step workflows/s before the million.
    pub throughput_empty: f64,
    /// Three-step workflows/s with the million.
    pub throughput_full: f64,
    /// 100,000 due workflows completed after a start (s).
    pub recovery_100k_completed_secs: f64,
    /// The console part ran (`--only console`).
    pub console_ran: bool,
    /// The console's page 10,000 rows deep, median (ms).
    pub console_deep_page_p50_ms: f64,
    /// Executions in the tables while the console was timed.
    pub console_executions: i64,
}

/// The `p`-quantile (0..1) of sorted values; NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The values sorted ascending.
pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// A figure with `digits` decimals, or `-` when it was not measured.
pub fn fig(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.digits$}")
    }
}

/// The table of figures beside their targets.
pub fn table(f: &Figures, e: &Extra) -> String {
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "three-step workflows/s (64 in flight, HTTP)".into(),
            fig(f.workflows_per_sec, 0),
            ">= 3000".into(),
        ),
        (
            "delegated three-step workflows/s".into(),
            fig(f.delegated_workflows_per_sec, 0),
            ">= 2000".into(),
        ),
        (
            "seed's shape: 2 BOT + PARALLEL of 2 BOT, workflows/s".into(),
            fig(f.parallel_workflows_per_sec, 0),
            ">= 1500".into(),
        ),
        (
            "conversation messages/s (64 conversations, HTTP)".into(),
            fig(f.conversation_messages_per_sec, 0),
            ">= 5000".into(),
        ),
        (
            "conversation reply p50 (ms)".into(),
            fig(f.conversation_reply_p50_ms, 2),
            "-".into(),
        ),
        (
            "conversation reply p99 (ms)".into(),
            fig(f.conversation_reply_p99_ms, 2),
            "< 10".into(),
        ),
        (
            if e.wakeups > 0 {
                format!("wake-ups/s ({} workflows, each its own event)", e.wakeups)
            } else {
                "wake-ups/s (workflows each woken by its own event)".into()
            },
            fig(f.wakeups_per_sec, 0),
            ">= 5000".into(),
        ),
        (
            "wake-up p50 (ms)".into(),
            fig(e.wakeup_p50_ms, 2),
            "-".into(),
        ),
        (
            "wake-up p99 (ms)".into(),
            fig(f.wakeup_p99_ms, 2),
            "< 20".into(),
        ),
        (
            "step overhead p50 (ms)".into(),
            fig(f.step_overhead_p50_ms, 3),
            "< 0.5".into(),
        ),
        (
            "step overhead p99 (ms)".into(),
            fig(f.step_overhead_p99_ms, 3),
            "-".into(),
        ),
        (
            "event wake p50 (ms)".into(),
            fig(f.event_wake_p50_ms, 2),
            "< 2".into(),
        ),
        (
            "event wake p99 (ms)".into(),
            fig(f.event_wake_p99_ms, 2),
            "< 10".into(),
        ),
    ];
    for (carrier, figures) in [("PostgreSQL NOTIFY", e.wake_pg), ("Redis", e.wake_redis)] {
        if let Some((p50, p99)) = figures {
            rows.push((
                format!("  publisher full, woken elsewhere by {carrier}: p50 / p99 (ms)"),
                format!("{p50:.2} / {p99:.2}"),
                "-".into(),
            ));
        }
    }
    rows.extend([
        (
            "recovery: 10,000 due workflows running again (s)".into(),
            fig(f.recovery_10k_secs, 2),
            "< 2".into(),
        ),
        (
            "recovery: 10,000 workflows completed (s)".into(),
            fig(e.recovery_completed_secs, 2),
            "-".into(),
        ),
        (
            "compile 1,000 lines (ms, median)".into(),
            fig(f.compile_1000_lines_ms, 2),
            "< 20".into(),
        ),
        (
            "memory per suspended workflow (KiB)".into(),
            fig(f.suspended_rss_kib_per_workflow, 2),
            "< 10".into(),
        ),
        (
            "threads before / after 2,000 suspended".into(),
            format!("{} / {}", e.threads_before, e.threads_after),
            "no growth".into(),
        ),
    ]);
    if e.scale_skipped {
        rows.push((
            "scale (disk per suspended workflow, 100k recovery, 1M history)".into(),
            "skipped".into(),
            "--only scale".into(),
        ));
    } else {
        rows.push((
            "disk per suspended workflow (bytes)".into(),
            fig(f.suspended_disk_bytes_per_workflow, 0),
            "stated".into(),
        ));
        for share in &e.disk_shares {
            rows.push((
                format!("  of which {}", share.relation),
                fig(share.bytes_per_workflow, 0),
                "-".into(),
            ));
        }
        rows.extend([
            (
                "recovery: 100,000 due workflows running again (s)".into(),
                fig(f.recovery_100k_secs, 2),
                "< 10".into(),
            ),
            (
                "recovery: 100,000 workflows completed (s)".into(),
                fig(e.recovery_100k_completed_secs, 2),
                "-".into(),
            ),
            (
                "three-step workflows/s: empty tables / 1M finished".into(),
                format!(
                    "{} / {}",
                    fig(e.throughput_empty, 0),
                    fig(e.throughput_full, 0)
                ),
                "-".into(),
            ),
            (
                "throughput at 1M finished executions (ratio)".into(),
                fig(f.throughput_at_1m_ratio, 3),
                ">= 0.9".into(),
            ),
            (
                "writing the 1M finished executions + VACUUM (s)".into(),
                fig(e.fill_secs, 1),
                "-".into(),
            ),
        ]);
    }
    rows.push((
        "designer: graph of a 1,000-line workflow (ms, median)".into(),
        fig(f.designer_graph_1000_lines_ms, 2),
        "< 50".into(),
    ));
    if e.console_ran {
        rows.extend([
            (
                format!(
                    "console: workflow list, {} executions (ms)",
                    e.console_executions
                ),
                fig(f.console_list_p50_ms, 2),
                "< 50".into(),
            ),
            (
                "console: filtered list (status, bot, time) (ms)".into(),
                fig(f.console_filtered_p50_ms, 2),
                "< 50".into(),
            ),
            (
                "console: a workflow's page (ms)".into(),
                fig(f.console_detail_p50_ms, 2),
                "< 50".into(),
            ),
            (
                "console: the list 10,000 rows deep (ms)".into(),
                fig(e.console_deep_page_p50_ms, 2),
                "-".into(),
            ),
        ]);
    } else {
        rows.push((
            "console pages with a million executions".into(),
            "skipped".into(),
            "--only console".into(),
        ));
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let mut out = format!("{:<w$}  {:>10}  {:>10}\n", "figure", "measured", "target");
    for (name, v, t) in rows {
        out.push_str(&format!("{name:<w$}  {v:>10}  {t:>10}\n"));
    }
    out
}
