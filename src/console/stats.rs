//! The overview's figures over the last minutes: every [`INTERVAL_SECS`] a sampler reads
//! the runtime's counters and wake-up latencies and keeps the last [`KEEP`] intervals.
//! They are this instance's own (each instance shows what it ran).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::workflow::Runtime;

/// The length of one interval.
pub const INTERVAL_SECS: u64 = 10;
/// How many intervals are kept (ten minutes).
pub const KEEP: usize = 60;

/// One interval's figures.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When the interval ended.
    pub at: DateTime<Utc>,
    /// Executions completed per second.
    pub completed_per_sec: f64,
    /// Executions failed per second.
    pub failed_per_sec: f64,
    /// Runs per second.
    pub runs_per_sec: f64,
    /// Wake-ups run in the interval.
    pub wakeups: u64,
    /// Median wake-up latency, milliseconds (none without wake-ups).
    pub wake_p50_ms: Option<f64>,
    /// 99th percentile, milliseconds.
    pub wake_p99_ms: Option<f64>,
}

/// The kept intervals, oldest first.
#[derive(Default)]
pub struct Series {
    samples: Mutex<VecDeque<Sample>>,
}

impl Series {
    /// The kept intervals, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// When the newest interval ended, if there is one.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.samples
            .lock()
            .ok()
            .and_then(|s| s.back().map(|x| x.at))
    }

    fn push(&self, sample: Sample) {
        if let Ok(mut s) = self.samples.lock() {
            if s.len() == KEEP {
                s.pop_front();
            }
            s.push_back(sample);
        }
    }
}

/// The value at quantile `q` (0–1) of `sorted` (the bench's percentile), none when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let v = crate::bench::report::percentile(sorted, q);
    (!v.is_nan()).then_some(v)
}

/// Samples `rt` into `series` every interval until the runtime is gone.
pub fn spawn_sampler(rt: &Arc<Runtime>, series: Arc<Series>) {
    let weak = Arc::downgrade(rt);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(INTERVAL_SECS));
        every.tick().await;
        let counts = |rt: &Runtime| {
            (
                rt.metrics.completed.load(Ordering::Relaxed),
                rt.metrics.failed.load(Ordering::Relaxed),
                rt.metrics.runs.load(Ordering::Relaxed),
            )
        };
        let Some(rt) = weak.upgrade() else { return };
        let mut last = counts(&rt);
        let _ = rt.metrics.wake.take();
        drop(rt);
        loop {
            every.tick().await;
            let Some(rt) = weak.upgrade() else { return };
            let now = counts(&rt);
            let (mut lat, wakeups) = rt.metrics.wake.take();
            lat.sort_by(f64::total_cmp);
            let per_sec = |a: u64, b: u64| a.saturating_sub(b) as f64 / INTERVAL_SECS as f64;
            series.push(Sample {
                at: Utc::now(),
                completed_per_sec: per_sec(now.0, last.0),
                failed_per_sec: per_sec(now.1, last.1),
                runs_per_sec: per_sec(now.2, last.2),
                wakeups,
                wake_p50_ms: quantile(&lat, 0.5).map(|s| s * 1000.0),
                wake_p99_ms: quantile(&lat, 0.99).map(|s| s * 1000.0),
            });
            last = now;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_sorted_list() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(51.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_series_keeps_the_last_intervals() {
        let s = Series::default();
        for i in 0..(KEEP + 5) {
            s.push(Sample {
                at: Utc::now(),
                completed_per_sec: i as f64,
                failed_per_sec: 0.0,
                runs_per_sec: 0.0,
                wakeups: 0,
                wake_p50_ms: None,
                wake_p99_ms: None,
            });
        }
        let kept = s.samples();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0].completed_per_sec, 5.0);
    }
}
