//! Flip throughput: flips per CPU second of one thread for the flip-graph walk
//! (`strass::train::flip`), both engines, from the definition of `<3,3,3>`, `<4,4,4>` and
//! `<5,5,5>` with a target rank no walk reaches (so the whole budget is search: flips,
//! reductions, plus transitions and restarts, exactly as in `strass discover`).
//!
//! `cargo bench --bench flips` writes `bench-results/discovery/flips.md`; with
//! `STRASS_BENCH_QUICK=1` (CI) it runs a short budget, prints the table and writes nothing.

use std::fmt::Write as _;
use strass::train::flip::{self, thread_cpu_seconds, FlipEngine, FlipSettings};
use strass::train::study::machine_description;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    // `cargo bench` passes `--bench`; ignore all arguments.
    let quick = std::env::var_os("STRASS_BENCH_QUICK").is_some();
    let (budget, legacy_budget, reps) = if quick {
        (2_000_000u64, 200_000u64, 1)
    } else {
        (30_000_000, 2_000_000, 3)
    };
    let machine = machine_description();
    let mut md = String::new();
    let _ = writeln!(md, "# Flip throughput (one thread)\n");
    let _ = writeln!(
        md,
        "Command: `cargo bench --bench flips`{}. Each cell is a walk from the definition of the \
         product with an unreachable target rank (1), default settings otherwise, stopped after \
         the given number of flips; flips/s = flips taken / CPU seconds of the walk's thread \
         (10 ms resolution), best of {reps} seeds (0..{reps}), with the median beside it. The \
         load average (1/5/15 min) is read before each cell: the machine is shared.\n",
        if quick { " (quick mode)" } else { "" }
    );
    let _ = writeln!(md, "Machine: {machine}\n");
    let _ = writeln!(
        md,
        "| shape | engine | flips per seed | best flips/s | median flips/s | lowest rank reached | load before |"
    );
    let _ = writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: | --- |");
    for (m, k, n) in [(3, 3, 3), (4, 4, 4), (5, 5, 5)] {
        for engine in [FlipEngine::Bits, FlipEngine::Legacy] {
            let flips = if engine == FlipEngine::Bits {
                budget
            } else {
                legacy_budget
            };
            let before = load();
            let mut rates = Vec::new();
            let mut lowest = usize::MAX;
            for seed in 0..reps {
                let mut s = FlipSettings::new(m, k, n, 1, seed);
                s.engine = engine;
                s.max_flips = flips;
                let t0 = thread_cpu_seconds();
                let w0 = std::time::Instant::now();
                let o = flip::run(&s, None, &mut |_| {}).expect("valid settings");
                let cpu = match (t0, thread_cpu_seconds()) {
                    (Some(a), Some(b)) if b > a => b - a,
                    _ => w0.elapsed().as_secs_f64(),
                };
                rates.push(o.flips as f64 / cpu);
                lowest = lowest.min(o.best_rank);
            }
            rates.sort_by(f64::total_cmp);
            let _ = writeln!(
                md,
                "| <{m},{k},{n}> | {} | {flips} | {:.2}M | {:.2}M | {lowest} | {before} |",
                engine.name(),
                rates[rates.len() - 1] / 1e6,
                rates[rates.len() / 2] / 1e6,
            );
        }
    }
    let _ = writeln!(md, "\nLoad average after: {}", load());
    print!("{md}");
    if !quick {
        let path = "bench-results/discovery/flips.md";
        std::fs::write(path, &md).expect("writes bench-results/discovery/flips.md");
        println!("wrote {path}");
    }
}
