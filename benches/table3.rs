//! Table 3: strassen_mul against OpenBLAS on square matrices (default 8192 x 8192), f32 and f64,
//! single-thread (OpenBLAS on 1 thread vs the engine on 1 thread with OpenBLAS leaves, with the
//! fused leaf (strass's own packed GEMM absorbing the last level's additions) and with
//! matrixmultiply leaves) and multi-thread (all cores, the same three).
//!
//! A custom harness (criterion's sampling would take hours at 8192): per dtype and condition the
//! contenders run interleaved (O S1 S2 S3 O S1 S2 S3 ...), `STRASS_BENCH_WARMUP` untimed rounds (default
//! 1) then `STRASS_BENCH_REPS` timed rounds (default 5); medians are reported.
//!
//! ```text
//! cargo bench --features openblas --bench table3                          # full: 8192, ~15 min here
//! STRASS_BENCH_SIZES=512 cargo bench --features openblas --bench table3   # quick
//! ```
//! Knobs: `STRASS_BENCH_SIZES` (comma list), `STRASS_BENCH_REPS`, `STRASS_BENCH_WARMUP`,
//! `STRASS_BENCH_CUTOFF` (else the tuning file's cutoff, else the bench default),
//! `STRASS_BENCH_OUT` (output dir). A full run writes `bench-results/table3.{csv,md}`, a quick
//! one `target/bench-results-quick/table3.{csv,md}`.

mod common;

use common::*;
use std::fmt::Write as _;
use strass::machine::Machine;
use strass::tune::measure::{self, gemm_flops, Timings};
use strass::{Element, Engine, Leaf};

/// Products per recursion level of the engine's default scheme (a 2x2 rank-7 scheme).
const DEFAULT_RANK: usize = 7;

/// One line of the table.
struct Row {
    size: usize,
    dtype: &'static str,
    condition: &'static str,
    leaf: Leaf,
    threads: usize,
    threshold: usize,
    threshold_from: &'static str,
    levels: usize,
    strassen: Timings,
    openblas: Timings,
    rel_error: f64,
    openblas_error: f64,
    /// Estimated time of the leaf products alone: rank^levels products at the leaf size.
    leaf_estimate: f64,
}

impl Row {
    fn speedup(&self) -> f64 {
        self.openblas.median_wall() / self.strassen.median_wall()
    }
}

/// The accuracy reference of one dtype: a full f64 product for f32, a residual check for f64.
enum Reference {
    Full(Vec<f64>),
    Residual(measure::ResidualCheck),
}

impl Reference {
    fn error<T: Element>(&self, c: &[T]) -> f64 {
        match self {
            Reference::Full(r) => measure::rel_error_frobenius(c, r),
            Reference::Residual(check) => check.error(c),
        }
    }
}

/// Median seconds of one `side x side` leaf product with `threads` threads (a few runs).
fn leaf_seconds<T: Element>(leaf: Leaf, threads: usize, side: usize) -> f64 {
    let a = measure::random_matrix::<T>(side, side, 5);
    let b = measure::random_matrix::<T>(side, side, 6);
    let mut c = vec![T::ZERO; side * side];
    let e = Engine::new().leaf(leaf).threads(threads).cutoff(usize::MAX);
    let mut f = || engine_mul(&e, threads, &a, &b, &mut c, side);
    let t = measure::interleaved(&mut [&mut f], 1, 5, |_| true).expect("leaf product");
    t[0].median_wall()
}

fn run<T: Element>(n: usize, warmup: usize, reps: usize, rows: &mut Vec<Row>) {
    let all = all_cores();
    eprintln!("== {} {n}x{n}", T::DTYPE);
    let a = measure::random_matrix::<T>(n, n, 1);
    let b = measure::random_matrix::<T>(n, n, 2);
    let reference = if T::DTYPE == "f32" {
        // The same inputs, widened exactly, multiplied by OpenBLAS in f64 on all cores.
        let a64: Vec<f64> = a.iter().map(|x| x.to_f64()).collect();
        let b64: Vec<f64> = b.iter().map(|x| x.to_f64()).collect();
        let mut c64 = vec![0.0f64; n * n];
        openblas_mul(all, &a64, &b64, &mut c64, n).expect("f64 reference");
        Reference::Full(c64)
    } else {
        Reference::Residual(measure::ResidualCheck::new(&a, &b, n, n, n, 77))
    };
    let mut conditions = vec![("single-thread", 1usize)];
    if all > 1 {
        conditions.push(("multi-thread", all));
    }
    let leaves = [Leaf::OpenBlas, Leaf::Fused, Leaf::MatrixMultiply];
    // One base engine: its clones share one cached workspace instead of keeping one each.
    let base = Engine::tuned();
    for (condition, p) in conditions {
        let (engines, from): (Vec<Engine>, Vec<&'static str>) = leaves
            .iter()
            .map(|&l| bench_engine::<T>(&base, l, p))
            .unzip();
        let cut: Vec<(usize, &'static str)> = engines
            .iter()
            .zip(from)
            .map(|(e, f)| (e.cutoff_for::<T>(), f))
            .collect();
        let mut c_blas = vec![T::ZERO; n * n];
        let mut c_s: Vec<Vec<T>> = leaves.iter().map(|_| vec![T::ZERO; n * n]).collect();
        eprintln!(
            "   {condition} ({p} threads): OpenBLAS, {}; {warmup} warm-up + {reps} timed rounds",
            leaves
                .iter()
                .zip(&cut)
                .map(|(&l, &(c, _))| format!("strassen/{} cutoff {c}", leaf_name(l)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let timings = {
            let (a, b) = (&a, &b);
            let mut f0 = || openblas_mul(p, a, b, &mut c_blas, n);
            let mut fs: Vec<Box<dyn FnMut() -> Result<(), strass::Error>>> = engines
                .iter()
                .zip(c_s.iter_mut())
                .map(|(e, c)| {
                    Box::new(move || engine_mul(e, p, a, b, c, n))
                        as Box<dyn FnMut() -> Result<(), strass::Error>>
                })
                .collect();
            let mut all_fs: Vec<&mut dyn FnMut() -> Result<(), strass::Error>> = vec![&mut f0];
            all_fs.extend(fs.iter_mut().map(|f| &mut **f as _));
            measure::interleaved(&mut all_fs, warmup, reps, |r| {
                eprintln!("     {r} of {reps} rounds done");
                true
            })
            .expect("a contender failed")
        };
        let openblas_error = reference.error(&c_blas);
        for (i, &leaf) in leaves.iter().enumerate() {
            let levels = engines[i].levels_for::<T>(n, n, n);
            let side = n.div_ceil(1 << levels);
            let leaf_estimate =
                (DEFAULT_RANK as f64).powi(levels as i32) * leaf_seconds::<T>(leaf, p, side);
            let row = Row {
                size: n,
                dtype: T::DTYPE,
                condition,
                leaf,
                threads: p,
                threshold: cut[i].0,
                threshold_from: cut[i].1,
                levels,
                strassen: timings[i + 1].clone(),
                openblas: timings[0].clone(),
                rel_error: reference.error(&c_s[i]),
                openblas_error,
                leaf_estimate,
            };
            eprintln!(
                "   {} {:>14} {p}t: strassen {} s, openblas {} s, speedup {:.3}x, error {:.2e} (openblas {:.2e})",
                row.dtype,
                leaf_name(leaf),
                secs(row.strassen.median_wall()),
                secs(row.openblas.median_wall()),
                row.speedup(),
                row.rel_error,
                row.openblas_error
            );
            rows.push(row);
        }
    }
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "size,dtype,condition,leaf,threads,threshold,levels,strassen_s,openblas_s,speedup,rel_error\n",
    );
    for r in rows {
        writeln!(
            s,
            "{},{},{},{},{},{},{},{:.6},{:.6},{:.4},{:.3e}",
            r.size,
            r.dtype,
            r.condition,
            leaf_name(r.leaf),
            r.threads,
            r.threshold,
            r.levels,
            r.strassen.median_wall(),
            r.openblas.median_wall(),
            r.speedup(),
            r.rel_error
        )
        .unwrap();
    }
    s
}

/// The issue's targets at 8192: (condition, leaf, minimum speedup).
fn target(r: &Row) -> Option<f64> {
    if r.size != 8192 {
        return None;
    }
    match (r.condition, r.leaf) {
        ("single-thread", Leaf::OpenBlas) => Some(1.15),
        ("single-thread", Leaf::MatrixMultiply) => Some(1.0),
        ("multi-thread", _) => Some(1.05),
        _ => None,
    }
}

/// The table in the published form (Matrix size, Condition, Strassen, OpenBLAS, Speedup) plus
/// dtype, leaf, GFLOP/s and errors.
fn main_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| Matrix size | Condition | Strassen | OpenBLAS | Speedup | dtype | leaf | GFLOP/s (Strassen / OpenBLAS) | error (Strassen / OpenBLAS) |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        let (st, ot) = (r.strassen.median_wall(), r.openblas.median_wall());
        let fl = gemm_flops(r.size, r.size, r.size) / 1e9;
        writeln!(
            s,
            "| {n}x{n} | {} | {} s | {} s | {:.3}x | {} | {} | {:.1} / {:.1} | {:.2e} / {:.2e} |",
            r.condition,
            secs(st),
            secs(ot),
            r.speedup(),
            r.dtype,
            leaf_name(r.leaf),
            fl / st,
            fl / ot,
            r.rel_error,
            r.openblas_error,
            n = r.size,
        )
        .unwrap();
    }
    s
}

/// Replaces the README's text between the table3 markers (a full run only).
fn update_readme(rows: &[Row], machine: &Machine) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let (begin, end) = ("<!-- table3:begin", "<!-- table3:end -->");
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        eprintln!("README.md has no table3 markers; not updated");
        return;
    };
    let Some(b_end) = text[b..].find("-->").map(|i| b + i + 3) else {
        return;
    };
    if e < b_end {
        return;
    }
    let body = format!(
        "\n{}\nMachine: {}. Details (CPU/wall, spreads, leaf-time estimates, targets): \
         [bench-results/table3.md](bench-results/table3.md).\n",
        main_table(rows),
        machine.summary()
    );
    let new = format!("{}{}{}", &text[..b_end], body, &text[e..]);
    write(&path, &new);
}

fn markdown(
    rows: &[Row],
    machine: &Machine,
    cmd: &str,
    warmup: usize,
    reps: usize,
    wall: f64,
) -> String {
    let mut s = String::from("# Table 3: strassen_mul against OpenBLAS\n\n");
    writeln!(
        s,
        "Medians of {reps} interleaved runs per contender (after {warmup} warm-up round{}), \
         seconds per product of two random n x n matrices (entries uniform in [-1, 1)). \
         Speedup = OpenBLAS / Strassen; GFLOP/s counts 2n^3 for both. Whole run: {:.0} s.\n",
        if warmup == 1 { "" } else { "s" },
        wall
    )
    .unwrap();
    s.push_str(&main_table(rows));
    s.push_str(
        "\n## Details\n\n\
         | size | dtype | condition | leaf | threads | cutoff | levels | Strassen min-max (s) | OpenBLAS min-max (s) | cpu/wall S, O | leaf products (est. s) | target |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        let tgt = match target(r) {
            Some(t) if r.speedup() >= t => format!(">= {t}x: met"),
            Some(t) => format!(">= {t}x: **not met**"),
            None => "-".into(),
        };
        let (s0, s1) = r.strassen.range();
        let (o0, o1) = r.openblas.range();
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {}-{} | {}-{} | {}, {} | {} | {tgt} |",
            r.size,
            r.dtype,
            r.condition,
            leaf_name(r.leaf),
            r.threads,
            r.threshold,
            r.levels,
            secs(s0),
            secs(s1),
            secs(o0),
            secs(o1),
            ratio2(r.strassen.parallelism()),
            ratio2(r.openblas.parallelism()),
            secs(r.leaf_estimate),
        )
        .unwrap();
    }
    // Validity: OpenBLAS must have had the cores it was given, else the machine was busy and
    // the row compares two starved contenders.
    let starved: Vec<String> = rows
        .iter()
        .filter(|r| {
            let par = r.openblas.parallelism();
            par.is_finite() && par < 0.8 * r.threads as f64
        })
        .map(|r| {
            format!(
                "{} {} {} threads (OpenBLAS cpu/wall {:.2})",
                r.size,
                r.dtype,
                r.threads,
                r.openblas.parallelism()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let unknown = rows.iter().any(|r| !r.openblas.parallelism().is_finite());
    if unknown {
        s.push_str(
            "\nValidity: not checked for some rows (products under 0.05 s are too short for \
             the CPU-time clock, or no /proc).\n",
        );
    }
    if starved.is_empty() && !unknown {
        s.push_str(
            "\nValidity: OpenBLAS had the cores it was given in every row (cpu/wall >= 0.8 p).\n",
        );
    } else if !starved.is_empty() {
        writeln!(
            s,
            "\n**Validity warning**: OpenBLAS got less than 0.8 p cores of CPU time in: {}. \
             The machine was busy; those rows do not measure what they claim.",
            starved.join("; ")
        )
        .unwrap();
    }
    let sources: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.threshold_from).collect();
    s.push_str("\nColumns:\n\n");
    writeln!(
        s,
        "- **cutoff**: a recursion level runs while its blocks stay at least this large (so the leaf products are between cutoff and 2 cutoff); taken from: {}.",
        sources.into_iter().collect::<Vec<_>>().join(", ")
    )
    .unwrap();
    s.push_str(
        "- **error**: relative error in the Frobenius norm, ||C - AB||_F / ||AB||_F. f32: against \
         the full product of the same inputs computed by OpenBLAS dgemm in f64. f64: estimated as \
         ||(C - AB)x|| / ||ABx|| for a Gaussian vector x, all products in double-double (an \
         unbiased estimate of the same ratio, O(n^2) work).\n\
         - **cpu/wall**: median process CPU time over wall time per product, for Strassen (S) \
         and OpenBLAS (O): about 1 on one busy thread, about p on p.\n\
         - **leaf products (est.)**: rank^levels products at the leaf size, each timed alone with \
         the same leaf and threads; Strassen's time minus this is the time spent outside the \
         leaf GEMMs (additions, copies, scheduling).\n\
         - **target**: the issue's goals at 8192 (1 thread: >= 1.15x with OpenBLAS leaves, \
         >= 1.0x with matrixmultiply leaves; all cores: >= 1.05x, shown for every leaf). The \
         fused leaf has no single-thread target of its own in the issue.\n\n",
    );
    writeln!(s, "Reproduce: `{cmd}`\n").unwrap();
    s.push_str(&machine.to_markdown());
    s
}

fn main() {
    let cmd = command_line("table3");
    let (sizes, full) = sizes(&[8192]);
    let reps = env_num("STRASS_BENCH_REPS", 5usize).max(1);
    let warmup = env_num("STRASS_BENCH_WARMUP", 1usize);
    warm_up(env_num("STRASS_BENCH_WARMUP_SECS", 2.0f64));
    let machine = Machine::detect();
    eprintln!(
        "table3: sizes {sizes:?}, {warmup} warm-up + {reps} timed rounds; {}",
        machine.summary()
    );
    let t0 = std::time::Instant::now();
    let mut rows = Vec::new();
    for &n in &sizes {
        run::<f32>(n, warmup, reps, &mut rows);
        run::<f64>(n, warmup, reps, &mut rows);
    }
    let wall = t0.elapsed().as_secs_f64();
    let dir = out_dir(full);
    write(&dir.join("table3.csv"), &csv(&rows));
    if full && std::env::var_os("STRASS_BENCH_OUT").is_none() {
        update_readme(&rows, &machine);
    }
    write(
        &dir.join("table3.md"),
        &markdown(&rows, &machine, &cmd, warmup, reps, wall),
    );
    eprintln!("table3: done in {wall:.0} s");
}
