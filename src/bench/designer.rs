//! The designer's graph of a generated 1,000-line workflow: parsing, the graph and its
//! SVG, as the designer's page and API compute them on every request.

use std::time::Instant;

use super::report::{percentile, sorted};

/// A workflow of about `lines` lines: steps delegating to bots, approvals, waits for
/// events, `IF`s and `PARALLEL`s of two branches, in turn.
pub fn workflow_source(lines: usize) -> String {
    let mut s = String::from("ORCHESTRATE WORKFLOW \"generated\"\n");
    let mut n = 0;
    while s.lines().count() < lines.saturating_sub(1) {
        n += 1;
        match n % 5 {
            0 => s.push_str(&format!("  STEP {n}: BOT \"worker\" \"task {n}\"\n")),
            1 => s.push_str(&format!(
                "  STEP {n}: HUMAN APPROVAL FROM \"boss{n}@example.com\"\n    TIMEOUT 3600\n    ON TIMEOUT: ESCALATE TO \"chief@example.com\"\n"
            )),
            2 => s.push_str(&format!(
                "  IF amount > {n} THEN\n    STEP {n}: BOT \"checker\" \"check {n}\"\n  ELSE\n    STEP {n}: WAIT FOR EVENT \"ready_{n}\" TIMEOUT 60\n  END IF\n"
            )),
            3 => s.push_str(&format!(
                "  STEP {n}: PARALLEL\n    BRANCH A: BOT \"left\" \"part {n}\"\n    BRANCH B: BOT \"right\" \"part {n}\"\n  END PARALLEL\n"
            )),
            _ => s.push_str(&format!("  ' step {n} waits a little\n  STEP {n}: DELAY 1\n  x{n} = {n} * 2\n")),
        }
    }
    s.push_str("END WORKFLOW\n");
    s
}

/// The median time (ms) of parse → graph → SVG for a `lines`-line workflow, over `runs`.
pub fn bench_graph(lines: usize, runs: usize) -> Result<f64, String> {
    let source = workflow_source(lines);
    let limits = crate::basic::engine::Limits::default();
    let none = |_: usize| None;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let script = crate::basic::parse_source(&source, &limits)
            .map_err(|d| format!("the generated workflow does not parse: {:?}", d.0.first()))?;
        let g = crate::designer::graph::graph(&script, &source);
        let svg = crate::designer::layout::svg(&g, &none, &none);
        std::hint::black_box(svg);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentile(&sorted(ms), 0.5))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_workflow_has_the_lines_asked_and_parses() {
        let s = super::workflow_source(1000);
        assert!(
            (995..=1010).contains(&s.lines().count()),
            "{}",
            s.lines().count()
        );
        assert!(super::bench_graph(1000, 1).is_ok());
    }
}
