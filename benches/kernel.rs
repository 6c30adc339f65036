//! strassen_mul with matrixmultiply leaves against matrixmultiply alone (criterion).
//!
//! ```sh
//! cargo bench --bench kernel                                # 2048, 4096, 8192; f32, f64; 1 and 2 threads
//! STRASS_BENCH_SIZES=2048,4096 STRASS_BENCH_TAG=small cargo bench --bench kernel   # other sizes, into kernel-small.*
//! STRASS_BENCH_QUICK=1 cargo bench --bench kernel           # CI smoke run (256, 512; writes nothing)
//! ```
//!
//! `STRASS_BENCH_PEEL=1 cargo bench --bench kernel` instead compares dynamic peeling with padding
//! for sizes one below and one above each size (f32, one thread, interleaved repetitions) and
//! writes `bench-results/kernel-peeling.md`.
//!
//! Other knobs: `STRASS_BENCH_DTYPES` (default `f32,f64`), `STRASS_BENCH_THREADS` (default `1,2`),
//! `STRASS_BENCH_CUTOFF` (default: the engine's tuned or built-in cutoff), `STRASS_BENCH_FUSED=0`
//! (skip the extra rows for the fused packed-GEMM leaf: strass's own GEMM alone, and strassen_mul
//! with `Leaf::Fused`, whose last level is fused into packing).
//!
//! strass depends on matrixmultiply without its own threading, so "matrixmultiply alone on p > 1
//! threads" is one matrixmultiply call per slab of C rows on p engine threads
//! (`Engine::max_levels(0)` with the matrixmultiply leaf). The `strassen` rows use the
//! matrixmultiply leaf explicitly (the default leaf is the packed GEMM: see the `fused` rows and
//! the `shapes` benchmark).
//!
//! Besides criterion's report, it writes `bench-results/kernel.md`, `kernel.csv` (median times,
//! GFLOP/s, speed-ups) and `kernel-errors.csv` (the relative error of every recursion level
//! against an f64 classical reference), each with the machine description.

use criterion::{BenchmarkId, Criterion};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use strass::{Element, Engine, Leaf, MatMut, MatRef};

fn list<T: std::str::FromStr>(var: &str, default: &str) -> Vec<T> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

struct Config {
    sizes: Vec<usize>,
    dtypes: Vec<String>,
    threads: Vec<usize>,
    cutoff: Option<usize>,
    fused: bool,
    quick: bool,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var_os("STRASS_BENCH_QUICK").is_some();
        Config {
            sizes: list(
                "STRASS_BENCH_SIZES",
                if quick { "256,512" } else { "2048,4096,8192" },
            ),
            dtypes: list("STRASS_BENCH_DTYPES", "f32,f64"),
            threads: list("STRASS_BENCH_THREADS", "1,2"),
            // Quick mode uses a small cutoff so that the recursion runs at the small sizes.
            cutoff: std::env::var("STRASS_BENCH_CUTOFF")
                .ok()
                .and_then(|s| s.parse().ok())
                .or(quick.then_some(64)),
            fused: std::env::var("STRASS_BENCH_FUSED").map_or(true, |v| v != "0"),
            quick,
        }
    }

    fn engine(&self, p: usize) -> Engine {
        let e = Engine::tuned().threads(p).leaf(Leaf::MatrixMultiply);
        match self.cutoff {
            Some(c) => e.cutoff(c),
            None => e,
        }
    }
}

fn criterion_dir() -> PathBuf {
    match std::env::var_os("CRITERION_HOME") {
        Some(h) => PathBuf::from(h),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("criterion"),
    }
}

fn criterion(cfg: &Config) -> Criterion {
    let c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(if cfg.quick { 100 } else { 1000 }))
        .measurement_time(Duration::from_millis(if cfg.quick { 300 } else { 3000 }))
        .output_directory(&criterion_dir())
        .without_plots();
    // `cargo bench` passes `--bench`; criterion understands it (and filters, if given).
    c.configure_from_args()
}

fn inputs<T: Element>(n: usize) -> (Vec<T>, Vec<T>) {
    let mut s = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        T::from_f64(((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0)
    };
    (
        (0..n * n).map(|_| next()).collect(),
        (0..n * n).map(|_| next()).collect(),
    )
}

fn gemm<T: Element>(e: &Engine, a: &[T], b: &[T], c: &mut [T], n: usize) {
    e.gemm(
        T::ONE,
        MatRef::row_major(a, n, n).expect("shape"),
        MatRef::row_major(b, n, n).expect("shape"),
        T::ZERO,
        MatMut::row_major(c, n, n).expect("shape"),
    )
    .expect("gemm");
}

/// matrixmultiply alone: one call (p = 1) or one call per slab of C on p engine threads.
fn mm<T: Element>(a: &[T], b: &[T], c: &mut [T], n: usize, p: usize) {
    let e = Engine::new()
        .threads(p)
        .max_levels(0)
        .leaf(Leaf::MatrixMultiply);
    gemm(&e, a, b, c, n);
}

fn group_name(dtype: &str, n: usize) -> String {
    format!("kernel-{dtype}-{n}")
}

fn bench_dtype<T: Element>(c: &mut Criterion, cfg: &Config) {
    for &n in &cfg.sizes {
        let (a, b) = inputs::<T>(n);
        let mut out = vec![T::ZERO; n * n];
        let mut g = c.benchmark_group(group_name(T::DTYPE, n));
        g.sample_size(10);
        {
            {
                for &p in &cfg.threads {
                    g.bench_function(BenchmarkId::new("matrixmultiply", format!("p{p}")), |bch| {
                        bch.iter(|| mm(&a, &b, &mut out, n, p))
                    });
                }
                for &p in &cfg.threads {
                    let e = cfg.engine(p);
                    g.bench_function(BenchmarkId::new("strassen", format!("p{p}")), |bch| {
                        bch.iter(|| gemm(&e, &a, &b, &mut out, n))
                    });
                }
                if cfg.fused {
                    for &p in &cfg.threads {
                        let plain = Engine::new().threads(p).max_levels(0).leaf(Leaf::Fused);
                        g.bench_function(BenchmarkId::new("fused", format!("p{p}")), |bch| {
                            bch.iter(|| gemm(&plain, &a, &b, &mut out, n))
                        });
                        let e = cfg.engine(p).leaf(Leaf::Fused);
                        g.bench_function(
                            BenchmarkId::new("strassen-fused", format!("p{p}")),
                            |bch| bch.iter(|| gemm(&e, &a, &b, &mut out, n)),
                        );
                    }
                }
            }
        }
        g.finish();
    }
}

fn run_benches(cfg: &Config) {
    let mut c = criterion(cfg);
    for d in &cfg.dtypes {
        match d.as_str() {
            "f32" => bench_dtype::<f32>(&mut c, cfg),
            "f64" => bench_dtype::<f64>(&mut c, cfg),
            other => eprintln!("ignoring unknown dtype {other}"),
        }
    }
    c.final_summary();
}

/// Criterion's median estimate (seconds) of one benchmark, if it ran.
fn median_s(group: &str, func: &str, param: &str) -> Option<f64> {
    let p = criterion_dir()
        .join(group)
        .join(func)
        .join(param)
        .join("new")
        .join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? * 1e-9)
}

/// max |C - C_ref| / max |C_ref| for every number of levels up to the engine's, with C_ref the
/// classical product in f64.
fn errors<T: Element>(cfg: &Config, n: usize) -> Vec<(usize, f64)> {
    let (a, b) = inputs::<T>(n);
    let (a64, b64): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|x| x.to_f64()).collect(),
        b.iter().map(|x| x.to_f64()).collect(),
    );
    let all = std::thread::available_parallelism().map_or(1, |p| p.get());
    let mut reference = vec![0.0f64; n * n];
    // One level 0 product in f64 with the engine's threads (bitwise the same as one thread).
    gemm(
        &Engine::new().threads(all).max_levels(0),
        &a64,
        &b64,
        &mut reference,
        n,
    );
    let cmax = reference.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let e = cfg.engine(all);
    let levels = e.levels_for::<T>(n, n, n);
    let mut out = vec![T::ZERO; n * n];
    (0..=levels)
        .map(|l| {
            gemm(&e.clone().max_levels(l), &a, &b, &mut out, n);
            let err = out
                .iter()
                .zip(&reference)
                .fold(0.0f64, |m, (x, y)| m.max((x.to_f64() - y).abs()));
            (l, err / cmax)
        })
        .collect()
}

fn report(cfg: &Config, load_at_start: &str) {
    let machine = strass::machine::Machine::detect();
    let command = if cfg.quick {
        "STRASS_BENCH_QUICK=1 cargo bench --bench kernel".to_string()
    } else {
        format!(
            "STRASS_BENCH_SIZES={} cargo bench --bench kernel",
            cfg.sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let mut csv = machine.csv_comment();
    csv.push_str("dtype,n,impl,threads,levels,cutoff,median_s,gflops,speedup_vs_matrixmultiply_same_threads\n");
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# strassen_mul (matrixmultiply leaves) vs matrixmultiply alone\n"
    );
    let _ = writeln!(
        md,
        "Command: `{command}` (criterion, 10 samples, median).\n"
    );
    let _ = writeln!(md, "{}", machine.to_markdown());
    let _ = writeln!(
        md,
        "Load average (1, 5, 15 min): {load_at_start} at the start, {} at the end. Other processes disturb the timings; \
         trust the speed-up column only when the load stays well below the core count.\n",
        loadavg()
    );
    let _ = writeln!(
        md,
        "Scheme: `{}` (the shipped default), SIMD additions: {}.\n",
        Engine::new().plan().name(),
        strass::kernel::Isa::selected().name()
    );
    let _ = writeln!(md, "| dtype | n | threads | levels | cutoff | matrixmultiply s | strassen s | GFLOP/s (strassen, 2n^3/t) | speed-up |");
    let _ = writeln!(
        md,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for d in &cfg.dtypes {
        for &n in &cfg.sizes {
            let g = group_name(d, n);
            for &p in &cfg.threads {
                let e = cfg.engine(p);
                let (levels, cutoff) = match d.as_str() {
                    "f64" => (e.levels_for::<f64>(n, n, n), e.cutoff_for::<f64>()),
                    _ => (e.levels_for::<f32>(n, n, n), e.cutoff_for::<f32>()),
                };
                let base = median_s(&g, "matrixmultiply", &format!("p{p}"));
                let ours = median_s(&g, "strassen", &format!("p{p}"));
                let flops = 2.0 * (n as f64).powi(3);
                let fmt = |x: Option<f64>| x.map_or("-".to_string(), |t| format!("{t:.4}"));
                let speedup = match (base, ours) {
                    (Some(b), Some(s)) => format!("{:.3}", b / s),
                    _ => "-".into(),
                };
                let gf = ours.map_or("-".to_string(), |t| format!("{:.1}", flops / t / 1e9));
                let _ = writeln!(
                    md,
                    "| {d} | {n} | {p} | {levels} | {cutoff} | {} | {} | {gf} | {speedup} |",
                    fmt(base),
                    fmt(ours)
                );
                for (name, t) in [("matrixmultiply", base), ("strassen", ours)] {
                    if let Some(t) = t {
                        let lv = if name == "strassen" { levels } else { 0 };
                        let sp = if name == "strassen" {
                            speedup.clone()
                        } else {
                            "1".into()
                        };
                        let _ = writeln!(
                            csv,
                            "{d},{n},{name},{p},{lv},{cutoff},{t:.6},{:.2},{sp}",
                            flops / t / 1e9
                        );
                    }
                }
            }
        }
    }
    if cfg.fused {
        let _ = writeln!(
            md,
            "\n### With strass's own fused packed GEMM as leaf (`Leaf::Fused`)\n"
        );
        let _ = writeln!(md, "| dtype | n | threads | levels | fused GEMM alone s | strassen (fused leaves) s | speed-up vs fused alone | speed-up vs matrixmultiply |");
        let _ = writeln!(
            md,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for d in &cfg.dtypes {
            for &n in &cfg.sizes {
                let g = group_name(d, n);
                for &p in &cfg.threads {
                    let e = cfg.engine(p).leaf(Leaf::Fused);
                    let (levels, cutoff) = match d.as_str() {
                        "f64" => (e.levels_for::<f64>(n, n, n), e.cutoff_for::<f64>()),
                        _ => (e.levels_for::<f32>(n, n, n), e.cutoff_for::<f32>()),
                    };
                    let plain = median_s(&g, "fused", &format!("p{p}"));
                    let ours = median_s(&g, "strassen-fused", &format!("p{p}"));
                    let mm = median_s(&g, "matrixmultiply", &format!("p{p}"));
                    let r = |x: Option<f64>, y: Option<f64>| match (x, y) {
                        (Some(x), Some(y)) => format!("{:.3}", x / y),
                        _ => "-".into(),
                    };
                    let fmt = |x: Option<f64>| x.map_or("-".to_string(), |t| format!("{t:.4}"));
                    let _ = writeln!(
                        md,
                        "| {d} | {n} | {p} | {levels} | {} | {} | {} | {} |",
                        fmt(plain),
                        fmt(ours),
                        r(plain, ours),
                        r(mm, ours)
                    );
                    let flops = 2.0 * (n as f64).powi(3);
                    for (name, t, lv) in [("fused", plain, 0), ("strassen-fused", ours, levels)] {
                        if let Some(t) = t {
                            let sp = r(mm, Some(t));
                            let _ = writeln!(
                                csv,
                                "{d},{n},{name},{p},{lv},{cutoff},{t:.6},{:.2},{sp}",
                                flops / t / 1e9
                            );
                        }
                    }
                }
            }
        }
    }
    let _ = writeln!(
        md,
        "\nmatrixmultiply on p > 1 threads is one single-threaded call per slab of C on p engine threads; \
         strassen_mul uses p engine threads with single-threaded matrixmultiply leaves.\n"
    );
    let mut ecsv = machine.csv_comment();
    ecsv.push_str("dtype,n,levels,rel_error_max\n");
    let _ = writeln!(md, "## Relative error per recursion level\n");
    let _ = writeln!(md, "`max |C - C_ref| / max |C_ref|`, inputs uniform in [-1, 1], C_ref the classical product computed in f64 \
        (for f64 inputs C_ref has rounding errors of its own, so level 0 shows 0 and the other levels their difference to the classical f64 product).\n");
    let _ = writeln!(md, "| dtype | n | levels | relative error |");
    let _ = writeln!(md, "| --- | ---: | ---: | ---: |");
    for d in &cfg.dtypes {
        for &n in &cfg.sizes {
            let errs = match d.as_str() {
                "f32" => errors::<f32>(cfg, n),
                "f64" => errors::<f64>(cfg, n),
                _ => continue,
            };
            for (l, e) in errs {
                println!("error {d} n={n} levels={l}: {e:.3e}");
                let _ = writeln!(md, "| {d} | {n} | {l} | {e:.3e} |");
                let _ = writeln!(ecsv, "{d},{n},{l},{e:.6e}");
            }
        }
    }
    if cfg.quick {
        println!("{md}\n(quick mode: bench-results/ left unchanged)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    let _ = std::fs::create_dir_all(&dir);
    // STRASS_BENCH_TAG=t writes kernel-t.md etc., so runs of other sizes do not replace the
    // committed 8192 results.
    let stem = match std::env::var("STRASS_BENCH_TAG") {
        Ok(t) if !t.is_empty() => format!("kernel-{t}"),
        _ => "kernel".to_string(),
    };
    for (suffix, text) in [(".md", md), (".csv", csv), ("-errors.csv", ecsv)] {
        let f = format!("{stem}{suffix}");
        match std::fs::write(dir.join(&f), &text) {
            Ok(()) => println!("wrote bench-results/{f}"),
            Err(e) => eprintln!("cannot write bench-results/{f}: {e}"),
        }
    }
}

/// `/proc/loadavg`'s first three fields, or `"unknown"`.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| "unknown".into())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Dynamic peeling (what the kernel does) against padding (copy into zero-padded buffers whose
/// sides are multiples of 2^levels, multiply, copy back), at sizes n-1, n, n+1.
fn peeling(cfg: &Config) {
    let reps = if cfg.quick { 2 } else { 7 };
    let machine = strass::machine::Machine::detect();
    let mut md = String::from("# Odd sizes: dynamic peeling vs padding (f32, one thread)\n\n");
    let _ = writeln!(md, "Command: `STRASS_BENCH_PEEL=1 STRASS_BENCH_SIZES=... cargo bench --bench kernel` ({reps} interleaved repetitions, median).\n");
    let _ = writeln!(md, "{}", machine.to_markdown());
    let _ = writeln!(md, "Load average at the start: {}.\n", loadavg());
    let _ = writeln!(md, "| n | levels (peeling) | peeling s | padded to | padding s (incl. copies) | padding / peeling |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    for &base in &cfg.sizes {
        let e = cfg.engine(1);
        let levels = e.levels_for::<f32>(base, base, base);
        let q = 1usize << levels;
        for n in [base - 1, base, base + 1] {
            let (a, b) = inputs::<f32>(n);
            let np = n.div_ceil(q) * q;
            let (mut tp, mut tq) = (Vec::new(), Vec::new());
            let mut c = vec![0f32; n * n];
            for _ in 0..reps {
                let t = std::time::Instant::now();
                gemm(&e, &a, &b, &mut c, n);
                tp.push(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let (mut ap, mut bp, mut cp) = (
                    vec![0f32; np * np],
                    vec![0f32; np * np],
                    vec![0f32; np * np],
                );
                for r in 0..n {
                    ap[r * np..r * np + n].copy_from_slice(&a[r * n..(r + 1) * n]);
                    bp[r * np..r * np + n].copy_from_slice(&b[r * n..(r + 1) * n]);
                }
                gemm(&e.clone().max_levels(levels), &ap, &bp, &mut cp, np);
                for r in 0..n {
                    c[r * n..(r + 1) * n].copy_from_slice(&cp[r * np..r * np + n]);
                }
                tq.push(t.elapsed().as_secs_f64());
            }
            let (p, d) = (median(tp), median(tq));
            println!("peeling n={n}: {p:.4} s, padding to {np}: {d:.4} s");
            let _ = writeln!(
                md,
                "| {n} | {} | {p:.4} | {np} | {d:.4} | {:.3} |",
                e.levels_for::<f32>(n, n, n),
                d / p
            );
        }
    }
    if cfg.quick {
        println!("{md}");
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench-results")
        .join("kernel-peeling.md");
    if let Err(e) = std::fs::write(&path, md) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

fn main() {
    let cfg = Config::from_env();
    if std::env::var_os("STRASS_BENCH_PEEL").is_some() {
        peeling(&cfg);
        return;
    }
    let load_at_start = loadavg();
    run_benches(&cfg);
    report(&cfg, &load_at_start);
}
