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
            "-".into(),
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
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let mut out = format!("{:<w$}  {:>10}  {:>10}\n", "figure", "measured", "target");
    for (name, v, t) in rows {
        out.push_str(&format!("{name:<w$}  {v:>10}  {t:>10}\n"));
    }
    out
}
