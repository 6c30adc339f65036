//! Training speed: one paper-protocol run (1000 epochs, B = 32, 2048 pairs) and the default
//! protocol per seed, each on one thread. Writes `bench-results/train-speed.md`.
//!
//! `cargo bench --bench train` (set `STRASS_BENCH_QUICK=1` for a short smoke run, as CI does).

use std::fmt::Write as _;
use std::time::Instant;
use strass::train::stats::median;
use strass::train::study::machine_description;
use strass::train::{run, TrainSettings};

fn time_runs(settings: impl Iterator<Item = TrainSettings>) -> (Vec<f64>, usize) {
    let mut times = Vec::new();
    let mut ok = 0;
    for s in settings {
        let t = Instant::now();
        let out = run(&s).expect("valid settings");
        times.push(t.elapsed().as_secs_f64());
        ok += usize::from(out.record.success);
    }
    (times, ok)
}

fn main() {
    // `cargo bench` passes `--bench`; ignore all arguments.
    let quick = std::env::var_os("STRASS_BENCH_QUICK").is_some();
    let (paper_n, default_n) = if quick { (1, 5) } else { (5, 100) };
    let machine = machine_description();

    let (paper_t, paper_ok) = time_runs((0..paper_n).map(|seed| {
        let mut s = TrainSettings::paper();
        s.seed = seed;
        s
    }));
    let (def_t, def_ok) = time_runs((0..default_n).map(|seed| {
        let mut s = TrainSettings::anneal();
        s.seed = seed;
        s
    }));
    let max = |v: &[f64]| v.iter().copied().fold(0.0f64, f64::max);
    let mut md = String::new();
    let _ = writeln!(md, "# Training speed (one thread)\n");
    let _ = writeln!(
        md,
        "Command: `cargo bench --bench train`{}\n",
        if quick { " (quick mode)" } else { "" }
    );
    let _ = writeln!(md, "Machine: {machine}\n");
    let _ = writeln!(md, "| what | runs | median s | max s | exact | target |");
    let _ = writeln!(md, "| --- | ---: | ---: | ---: | ---: | --- |");
    let _ = writeln!(
        md,
        "| paper protocol: 8 slots, 1000 epochs, B = 32, 2048 pairs, then prune + round + verify + expansion | {} | {:.3} | {:.3} | {}/{} | < 2 s |",
        paper_t.len(),
        median(&paper_t),
        max(&paper_t),
        paper_ok,
        paper_t.len()
    );
    let _ = writeln!(
        md,
        "| default protocol per seed (all attempts until exact), seeds 0..{} | {} | {:.4} | {:.4} | {}/{} | median < 1 s |",
        default_n - 1,
        def_t.len(),
        median(&def_t),
        max(&def_t),
        def_ok,
        def_t.len()
    );
    print!("{md}");
    if !quick {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/train-speed.md");
        if let Err(e) = std::fs::write(&path, &md) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}
