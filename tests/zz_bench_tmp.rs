#![allow(clippy::unwrap_used, clippy::expect_used)]
use botserver::basic;
#[path = "../src/bench/compile.rs"]
mod compile;
#[test]
fn measure() {
    for lines in [1000, 1000, 2000, 5000] {
        let f = compile::bench_compile(lines, 100);
        eprintln!("{lines} lines: {f:?}");
    }
}
#[test]
fn phases() {
    use std::time::Instant;
    let limits = basic::engine::Limits::default();
    let engine = basic::engine::new_engine(&limits);
    for lines in [1000, 5000] {
        let src = compile::generate_script(lines);
        for _ in 0..3 {
            let t = Instant::now();
            let toks = basic::tokenizer::tokenize(&src).unwrap();
            let t1 = t.elapsed();
            let script = basic::parser::parse(toks).unwrap();
            let t2 = t.elapsed();
            let mut d = Vec::new();
            let gen = basic::codegen::generate(&script, &mut d);
            let t3 = t.elapsed();
            let sizes: Vec<usize> = gen.iter().map(|g| g.code.len()).collect();
            for g in &gen {
                engine.compile(&g.code).unwrap();
            }
            let t4 = t.elapsed();
            eprintln!(
                "{lines}: tok {t1:?} parse {:?} gen {:?} rhai {:?} entries {} bytes {:?}",
                t2 - t1,
                t3 - t2,
                t4 - t3,
                gen.len(),
                sizes.iter().sum::<usize>()
            );
        }
    }
}
