//! The compile figure of the README (Performance): how long the whole front-end (tokenizer, parser,
//! code generation, Rhai compilation) takes for a 1,000-line script (target < 20 ms).
//!
//! The script is generated, not read from disk, so the figure is the same on every
//! machine's checkout and scales to any size. It mixes what real bots are made of:
//! assignments, IF/ELSEIF/ELSE, FOR and FOR EACH loops, DO loops, SELECT CASE, TALK with
//! `${…}` interpolation, FUNCTIONs and their calls, maps, bot memory, comments, and a
//! workflow with STEPs, an approval and a PARALLEL block.

use std::time::Instant;

use crate::basic::compile;
use crate::basic::engine::{new_engine, Limits};

/// Timings of repeated fresh compilations of one script, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompileFigures {
    /// The median compile time.
    pub median_ms: f64,
    /// The 99th percentile compile time.
    pub p99_ms: f64,
    /// How many compiles were measured.
    pub runs: usize,
}

/// A BASIC script of exactly `lines` lines (a newline ends each) that compiles without
/// errors.
pub fn generate_script(lines: usize) -> String {
    let workflow_lines = workflow_len(lines);
    let body_budget = lines - workflow_lines;
    let mut out: Vec<String> = Vec::with_capacity(lines);
    let mut i = 0;
    loop {
        let block = block(i);
        if out.len() + block.len() > body_budget {
            break;
        }
        out.extend(block);
        i += 1;
    }
    // Fill up to the exact size with one-line statements.
    let mut k = 0;
    while out.len() < body_budget {
        out.push(match k % 3 {
            0 => format!("filler_{k} = {k} * 2 + 1"),
            1 => format!("' filler comment {k}"),
            _ => format!("TALK \"filler ${{filler_{}}}\"", k - 1),
        });
        k += 1;
    }
    if workflow_lines > 0 {
        out.extend(workflow(workflow_lines));
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// The workflow block's share of a script: a tenth of it, when there is room for one.
fn workflow_len(lines: usize) -> usize {
    // ORCHESTRATE + END WORKFLOW + approval (5 lines) + PARALLEL (4 lines) + one STEP.
    const SMALLEST: usize = 12;
    if lines < SMALLEST * 2 {
        0
    } else {
        (lines / 10).max(SMALLEST)
    }
}

/// Exactly `len` lines (at least 12) of `ORCHESTRATE WORKFLOW … END WORKFLOW`.
fn workflow(len: usize) -> Vec<String> {
    let mut w = vec!["ORCHESTRATE WORKFLOW \"generated\"".to_string()];
    let steps = len - 11;
    for s in 0..steps {
        w.push(match s % 3 {
            0 => format!("  STEP s{s}: BOT \"worker-{}\" \"task {s}\"", s % 5),
            1 => format!("  STEP s{s}: total_{s} = total_{s} + {s}"),
            _ => format!("  STEP s{s}: DELAY {}", s % 4),
        });
    }
    w.extend(
        [
            "  IF order_amount > 100 THEN",
            "    STEP approve: HUMAN APPROVAL FROM \"manager@company.com\"",
            "      TIMEOUT 1800",
            "      ON TIMEOUT: ESCALATE TO \"director@company.com\"",
            "  END IF",
            "  STEP fanout: PARALLEL",
            "    BRANCH A: BOT \"refund-processor\" \"process refund\"",
            "    BRANCH B: BOT \"inventory-updater\" \"update stock\"",
            "  END PARALLEL",
            "END WORKFLOW",
        ]
        .map(String::from),
    );
    w
}

/// The `i`-th block of the script body; its variables and FUNCTION names are unique.
fn block(i: usize) -> Vec<String> {
    let lines: Vec<String> = match i % 8 {
        0 => vec![
            format!("' block {i}: prices and quantities"),
            format!("price_{i} = {i} * 3 + 7.5"),
            format!("qty_{i} = ({i} MOD 5) + 1"),
            format!("total_{i} = price_{i} * qty_{i} - {i} \\ 2"),
            format!("label_{i} = \"item-\" & {i} & \"-\" & UCASE(\"sku\")"),
        ],
        1 => vec![
            format!("IF total_{p} > 100 AND qty_{p} <> 3 THEN", p = i - 1),
            format!("    TALK \"Order ${{label_{p}}} costs ${{total_{p}}}, a manager must approve it.\"", p = i - 1),
            format!("    needs_approval_{i} = TRUE"),
            format!("ELSEIF total_{p} > 50 OR NOT ISNULL(coupon) THEN", p = i - 1),
            format!("    TALK \"Order ${{label_{p}}} is approved.\"", p = i - 1),
            "ELSE".to_string(),
            format!("    needs_approval_{i} = FALSE"),
            "END IF".to_string(),
        ],
        2 => vec![
            format!("sum_{i} = 0"),
            format!("FOR n = 1 TO {} STEP 2", 10 + i % 7),
            format!("    sum_{i} = sum_{i} + n ^ 2"),
            format!("    IF sum_{i} > 1000 THEN EXIT FOR"),
            "NEXT n".to_string(),
            format!("TALK \"The sum is ${{sum_{i}}}\""),
        ],
        3 => vec![
            format!("SELECT CASE {i} MOD 4"),
            "    CASE 0".to_string(),
            format!("        status_{i} = \"new\""),
            "    CASE 1, 2".to_string(),
            format!("        status_{i} = \"open\""),
            "    CASE IS > 2".to_string(),
            format!("        status_{i} = \"closed\""),
            "    CASE ELSE".to_string(),
            format!("        status_{i} = \"unknown\""),
            "END SELECT".to_string(),
        ],
        4 => vec![
            format!("FUNCTION Discount{i}(amount, rate)"),
            "    IF amount > 200 THEN".to_string(),
            "        rate = rate + 0.05".to_string(),
            "    END IF".to_string(),
            "    RETURN ROUND(amount * (1 - rate), 2)".to_string(),
            "END FUNCTION".to_string(),
            format!("discounted_{i} = Discount{i}(total_{p}, 0.1)", p = i - 4),
        ],
        5 => vec![
            format!("items_{i} = [\"apple\", \"pear\", \"fig\", LCASE(\"PLUM\")]"),
            format!("FOR EACH fruit IN items_{i}"),
            format!("    TALK \"We have ${{fruit}} (${{LEN(fruit)}} letters) in block {i}\""),
            "NEXT fruit".to_string(),
        ],
        6 => vec![
            format!("customer_{i} = {{ name: \"Ana {i}\", email: \"ana{i}@example.com\", tags: [1, 2, 3] }}"),
            format!("customer_{i}.visits = customer_{i}.visits + 1"),
            format!("SET BOT MEMORY \"customer_{i}\", customer_{i}"),
            format!("last_{i} = GET BOT MEMORY(\"customer_{i}\")"),
            format!("TALK \"Hello ${{last_{i}.name}}, visit number ${{customer_{i}.visits}}\""),
        ],
        _ => vec![
            format!("count_{i} = 0"),
            format!("DO WHILE count_{i} < 5"),
            format!("    count_{i} = count_{i} + 1"),
            format!("    IF count_{i} = 3 THEN TALK \"halfway in block {i}\""),
            "LOOP".to_string(),
            format!("PRINT \"block {i} done at \" + FORMAT(NOW(), \"yyyy-MM-dd HH:mm\")"),
        ],
    };
    lines
}

/// Compiles a generated script of `lines` lines `runs` times (at least once), each time
/// from source with a fresh front-end pass (the script cache is not used), and returns
/// the median and 99th percentile of the wall-clock times.
pub fn bench_compile(lines: usize, runs: usize) -> CompileFigures {
    let limits = Limits::default();
    let engine = new_engine(&limits);
    let source = generate_script(lines);
    let runs = runs.max(1);
    // One untimed compile warms caches and the allocator, as a long-running server is.
    let _ = compile(&engine, &source, &limits);
    let mut times: Vec<f64> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let compiled = compile(&engine, &source, &limits);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(compiled);
    }
    times.sort_by(f64::total_cmp);
    CompileFigures {
        median_ms: percentile(&times, 50.0),
        p99_ms: percentile(&times, 99.0),
        runs,
    }
}

/// Nearest-rank percentile of sorted, non-empty `times`.
fn percentile(times: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
    times
        .get(rank.clamp(1, times.len()) - 1)
        .copied()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiles(lines: usize) {
        let src = generate_script(lines);
        assert_eq!(src.lines().count(), lines, "line count for {lines}");
        let limits = Limits::default();
        let engine = new_engine(&limits);
        match compile(&engine, &src, &limits) {
            Ok(script) => {
                let errors: Vec<_> = script.warnings.iter().filter(|d| d.is_error()).collect();
                assert!(errors.is_empty(), "{errors:?}");
            }
            Err(d) => panic!("{lines} lines: {}", d.render("generated.bas", &src)),
        }
    }

    #[test]
    fn thousand_line_script_compiles_without_errors() {
        compiles(1000);
        let src = generate_script(1000);
        for needle in [
            "ORCHESTRATE WORKFLOW",
            "STEP ",
            "SELECT CASE",
            "FUNCTION ",
            "FOR EACH",
            "ELSEIF",
            "${",
        ] {
            assert!(src.contains(needle), "no {needle} in the generated script");
        }
    }

    #[test]
    fn every_size_compiles() {
        for lines in [0, 1, 2, 11, 23, 24, 25, 37, 100, 333, 2500] {
            compiles(lines);
        }
    }

    #[test]
    fn figures_are_ordered() {
        let f = bench_compile(50, 5);
        assert_eq!(f.runs, 5);
        assert!(f.median_ms > 0.0 && f.median_ms <= f.p99_ms, "{f:?}");
    }
}
