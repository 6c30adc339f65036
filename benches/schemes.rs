//! Schemes benchmark: the engine that picks a scheme per level from the shape
//! (`Engine::learned_schemes`, the cost model of `strass::kernel::cost`) against the default
//! Strassen-only engine, strass's packed GEMM alone and OpenBLAS (feature `openblas`), on shapes
//! where the choice should matter.
//!
//! ```sh
//! cargo bench --features openblas --bench schemes     # full run: bench-results/schemes.{csv,md}
//! STRASS_BENCH_QUICK=1 cargo bench --features openblas --bench schemes   # small sizes, quick
//! ```
//!
//! Every (shape, dtype, threads) cell runs its contenders interleaved (A B C D A B C D ...),
//! after `STRASS_BENCH_WARMUP` (default 1) untimed rounds, `STRASS_BENCH_REPS` timed rounds
//! (default 3); medians are reported, with the ratio baseline time / contender time (baseline:
//! OpenBLAS, without the feature the packed GEMM alone) and the relative error
//! `||C - AB||_F / ||AB||_F` (random-vector residual in double-double). Each engine's levels are
//! printed (scheme and shape per level). Knobs: `STRASS_BENCH_SHAPES` (comma-separated `n` or
//! `MxKxN`; default 6144, 3072x4096x6144, 2000x3000x4000), `STRASS_BENCH_DTYPES` (default
//! `f32,f64`), `STRASS_BENCH_THREADS` (default 1), `STRASS_BENCH_CUTOFF` (both engines; default:
//! the engines' own), `STRASS_BENCH_BANDWIDTH` (the cost model's addition bandwidth in bytes/s,
//! `inf` for free additions; default `strass::kernel::cost::BANDWIDTH`), `STRASS_BENCH_REPS`,
//! `STRASS_BENCH_WARMUP`, `STRASS_BENCH_QUICK` (shapes 144 and 96x144x192, cutoff 48, a cost
//! model with free additions, small sizes and calls so that learned levels run there, one
//! round, no warm-up), `STRASS_BENCH_PAUSE_MS` (untimed pause after every call; default 200 ms
//! on more than one thread, none on one), `STRASS_BENCH_OUT`. Results go to
//! `bench-results/` only on a full run (no knob set), else to `target/bench-results-quick/`.

mod common;

use common::{engine_gemm, env, env_list, env_num, loadavg, out_dir, parse_shapes, write, Run};
use std::fmt::Write as _;
use std::time::Instant;
use strass::kernel::{CostModel, LevelChoice};
use strass::machine::Machine;
use strass::tune::measure::{median, random_matrix, ResidualCheck};
use strass::{Element, Engine};

const SHAPES: &[(usize, usize, usize)] =
    &[(6144, 6144, 6144), (3072, 4096, 6144), (2000, 3000, 4000)];
const QUICK_SHAPES: &[(usize, usize, usize)] = &[(144, 144, 144), (96, 144, 192)];
const QUICK_CUTOFF: usize = 48;

const KNOBS: &[&str] = &[
    "STRASS_BENCH_SHAPES",
    "STRASS_BENCH_DTYPES",
    "STRASS_BENCH_THREADS",
    "STRASS_BENCH_CUTOFF",
    "STRASS_BENCH_REPS",
    "STRASS_BENCH_WARMUP",
    "STRASS_BENCH_QUICK",
    "STRASS_BENCH_BANDWIDTH",
    "STRASS_BENCH_PAUSE_MS",
];

/// One measured row.
struct Row {
    shape: (usize, usize, usize),
    dtype: &'static str,
    threads: usize,
    contender: &'static str,
    levels: String,
    median_s: f64,
    baseline_s: f64,
    rel_error: f64,
}

fn describe(chain: &[LevelChoice]) -> String {
    if chain.is_empty() {
        return "leaf".into();
    }
    chain
        .iter()
        .map(|l| {
            let (m0, k0, n0) = l.grid;
            format!("<{m0},{k0},{n0};{}> {}", l.rank, l.scheme)
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

#[allow(clippy::too_many_arguments)]
fn cell<T: Element>(
    sh: (usize, usize, usize),
    p: usize,
    model: CostModel,
    cutoff: Option<usize>,
    reps: usize,
    warmup: usize,
    rows: &mut Vec<Row>,
) {
    let (m, k, n) = sh;
    let a = random_matrix::<T>(m, k, 1);
    let b = random_matrix::<T>(k, n, 2);
    let mut c = vec![T::ZERO; m * n];
    let check = ResidualCheck::new(&a, &b, m, k, n, 3);
    let with_cutoff = |e: Engine| match cutoff {
        Some(x) => e.cutoff(x),
        None => e,
    };
    let strassen = with_cutoff(Engine::new().threads(p));
    let chosen = with_cutoff(Engine::new().learned_schemes().cost_model(model).threads(p));
    let packed = Engine::new().threads(p).max_levels(0);
    let engines: Vec<(&'static str, &Engine)> = vec![
        ("strass Strassen only (default)", &strassen),
        ("strass per-shape choice", &chosen),
        ("strass packed GEMM alone", &packed),
    ];
    let c_cell = std::cell::RefCell::new(&mut c);
    let mut names: Vec<(&'static str, String)> = Vec::new();
    let mut runs: Vec<Run<'_>> = Vec::new();
    #[cfg(feature = "openblas")]
    {
        names.push(("OpenBLAS", "-".into()));
        runs.push(Box::new(|| {
            common::openblas_gemm(sh, p, &a, &b, &mut c_cell.borrow_mut())
        }));
    }
    let (a_r, b_r, c_r) = (&a, &b, &c_cell);
    for &(name, e) in &engines {
        let chain = e
            .level_choices::<T>(m, k, n)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        names.push((name, describe(&chain)));
        runs.push(Box::new(move || {
            engine_gemm(e, a_r, b_r, &mut c_r.borrow_mut(), sh)
        }));
    }
    for (name, levels) in &names {
        eprintln!("{m}x{k}x{n} {} p={p} {name}: levels {levels}", T::DTYPE);
    }
    let t0 = Instant::now();
    let (timings, errors) = common::time_and_check(
        &mut runs,
        warmup,
        reps,
        common::pause_for(p),
        &check,
        &c_cell,
        &format!("{m}x{k}x{n} {}", T::DTYPE),
    );
    // The baseline is the first contender: OpenBLAS, or without it the packed GEMM alone.
    let base_i = if cfg!(feature = "openblas") { 0 } else { 2 };
    let base = timings[base_i].median_wall();
    for (((name, levels), t), err) in names.into_iter().zip(&timings).zip(errors) {
        let walls: Vec<f64> = t.samples.iter().map(|s| s.wall).collect();
        let row = Row {
            shape: sh,
            dtype: T::DTYPE,
            threads: p,
            contender: name,
            levels,
            median_s: median(&walls),
            baseline_s: base,
            rel_error: err,
        };
        eprintln!(
            "{m:>5}x{k:>5}x{n:>5} {} p={p} {:<32} {:>9.4} s  {:>6.3}x  err {:.2e}",
            T::DTYPE,
            row.contender,
            row.median_s,
            base / row.median_s,
            row.rel_error
        );
        rows.push(row);
    }
    eprintln!(
        "  ({:.0} s for the cell, load {})",
        t0.elapsed().as_secs_f64(),
        loadavg()
    );
}

fn baseline_name() -> &'static str {
    if cfg!(feature = "openblas") {
        "OpenBLAS"
    } else {
        "strass packed GEMM alone"
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = env("STRASS_BENCH_QUICK").is_some();
    let shapes = match env("STRASS_BENCH_SHAPES") {
        Some(s) => parse_shapes("STRASS_BENCH_SHAPES", &s),
        None if quick => QUICK_SHAPES.to_vec(),
        None => SHAPES.to_vec(),
    };
    let dtypes: Vec<String> = env("STRASS_BENCH_DTYPES")
        .unwrap_or_else(|| "f32,f64".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let threads = env_list("STRASS_BENCH_THREADS").unwrap_or_else(|| vec![1]);
    let cutoff = env_list("STRASS_BENCH_CUTOFF")
        .and_then(|v| v.first().copied())
        .or(quick.then_some(QUICK_CUTOFF));
    // Quick mode prices additions, small sizes and calls at zero, so that on its small shapes
    // the learned levels run (the point is to exercise them, not to time them).
    let base_model = if quick {
        CostModel {
            bandwidth: f64::INFINITY,
            half_rate_dim: 0.0,
            call_overhead: 0.0,
            ..CostModel::default()
        }
    } else {
        CostModel::default()
    };
    let model = CostModel {
        bandwidth: env_num("STRASS_BENCH_BANDWIDTH", base_model.bandwidth),
        ..base_model
    };
    let reps = env_num("STRASS_BENCH_REPS", if quick { 1 } else { 3 });
    let warmup = env_num("STRASS_BENCH_WARMUP", if quick { 0 } else { 1 });
    let full = KNOBS.iter().all(|k| env(k).is_none());
    let dir = out_dir(full);
    let machine = Machine::detect();
    let load_start = loadavg();
    let t0 = Instant::now();
    let mut rows = Vec::new();
    for &sh in &shapes {
        for &p in &threads {
            for d in &dtypes {
                match d.as_str() {
                    "f32" => cell::<f32>(sh, p, model, cutoff, reps, warmup, &mut rows),
                    "f64" => cell::<f64>(sh, p, model, cutoff, reps, warmup, &mut rows),
                    other => panic!("STRASS_BENCH_DTYPES: unknown dtype `{other}`"),
                }
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let load_end = loadavg();

    let mut csv = machine.csv_comment();
    csv.push_str(
        "m,k,n,dtype,threads,contender,levels,median_s,baseline,baseline_s,speedup,rel_error\n",
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{:.6},{},{:.6},{:.4},{:.3e}",
            r.shape.0,
            r.shape.1,
            r.shape.2,
            r.dtype,
            r.threads,
            strass::machine::csv_field(r.contender),
            strass::machine::csv_field(&r.levels),
            r.median_s,
            baseline_name(),
            r.baseline_s,
            r.baseline_s / r.median_s,
            r.rel_error
        );
    }
    write(&dir.join("schemes.csv"), &csv);

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Schemes: per-shape scheme choice against Strassen only and {}\n",
        baseline_name()
    );
    let _ = writeln!(
        md,
        "Ratios are {} time / contender time on the same threads and inputs, medians of {reps} interleaved \
         rounds after {warmup} warm-up round(s) (`{}`). `Strassen only` is `Engine::new()`; `per-shape \
         choice` is `Engine::new().learned_schemes()` (the cost model of `strass::kernel::cost` choosing \
         per level among the default 2x2 scheme and every orientation of the shipped learned schemes, \
         addition bandwidth {:.3e} bytes/s); cutoff: {}. Errors are `||C - AB||_F / ||AB||_F`. Machine: {}. Run took {wall:.0} s; load average \
         {load_start} at the start, {load_end} at the end.\n",
        baseline_name(),
        common::command_line("schemes"),
        model.bandwidth,
        cutoff.map_or("the engines' own (built-in policy)".to_string(), |c| c.to_string()),
        machine.summary(),
    );
    let _ = writeln!(
        md,
        "| m x k x n | dtype | threads | contender | levels | median s | ratio | rel. error |"
    );
    let _ = writeln!(md, "| --- | --- | ---: | --- | --- | ---: | ---: | ---: |");
    for r in &rows {
        let _ = writeln!(
            md,
            "| {} x {} x {} | {} | {} | {} | {} | {} | {:.3}x | {:.2e} |",
            r.shape.0,
            r.shape.1,
            r.shape.2,
            r.dtype,
            r.threads,
            r.contender,
            r.levels,
            common::secs(r.median_s),
            r.baseline_s / r.median_s,
            r.rel_error
        );
    }
    write(&dir.join("schemes.md"), &md);
}
