//! The packed GEMM's rate at the recursion's leaf sizes, per cache blocking, beside OpenBLAS.
//!
//! ```sh
//! OPENBLAS_CORETYPE=SkylakeX cargo bench --features openblas --bench blocking
//! STRASS_BENCH_SIZES=1024,2048 STRASS_BENCH_DTYPES=f32 STRASS_BENCH_BLOCKINGS="4092,256,1024;4092,384,512" \
//!   cargo bench --features openblas --bench blocking
//! ```
//!
//! For each dtype and `n x n x n` size, one thread, contenders run interleaved (A B C A B C ...):
//! OpenBLAS, strass's packed GEMM with its built-in blocking, and with each
//! blocking `mc,kc,nc` of `STRASS_BENCH_BLOCKINGS` (`;`-separated; default: a grid around the
//! built-in one). Reported: median seconds, GFLOP/s and the ratio to the first contender. A full
//! default run writes `bench-results/blocking.md`; any override writes to
//! `target/bench-results-quick/`. Knobs: `STRASS_BENCH_SIZES` (default `512,1024,2048,4096`),
//! `STRASS_BENCH_DTYPES`, `STRASS_BENCH_REPS` (default 7, 3 above 1e11 flops).

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use strass::kernel::fused::{
    fused_gemm, Blocking, DstView, FusedConfig, FusedWorkspace, Output, SrcView,
};
use strass::machine::Machine;
use strass::tune::measure::{gemm_flops, interleaved, random_matrix};
use strass::Element;

/// The default grid around the built-in blocking `(kc, nc)`: `kc` two thirds and four thirds of
/// it (multiples of 64), `nc` halved and doubled, and `kc = 384` (the f32 built-in before
/// 2026-12-04) when it is not the built-in one.
fn grid(kc: usize, nc: usize) -> Vec<(usize, usize)> {
    let r64 = |x: usize| (x / 64).max(1) * 64;
    let mut g = vec![
        (r64(kc * 2 / 3), nc),
        (r64(kc * 4 / 3), nc),
        (kc, nc / 2),
        (kc, nc * 2),
    ];
    if kc != 384 {
        g.push((384, nc));
    }
    g
}

fn blockings(builtin: Blocking, mr: usize) -> (Vec<Blocking>, bool) {
    match std::env::var("STRASS_BENCH_BLOCKINGS") {
        Ok(v) if !v.trim().is_empty() => {
            let parsed = v
                .split(';')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    let x: Vec<usize> = s
                        .split(',')
                        .map(|t| {
                            t.trim().parse().unwrap_or_else(|_| {
                                panic!("STRASS_BENCH_BLOCKINGS: `{s}` is not mc,kc,nc")
                            })
                        })
                        .collect();
                    match x[..] {
                        [mc, kc, nc] => Blocking { mc, kc, nc },
                        _ => panic!("STRASS_BENCH_BLOCKINGS: `{s}` is not mc,kc,nc"),
                    }
                })
                .collect();
            (parsed, false)
        }
        _ => (
            grid(builtin.kc, builtin.nc)
                .into_iter()
                .map(|(kc, nc)| Blocking {
                    mc: 4096 / mr * mr,
                    kc,
                    nc,
                })
                .collect(),
            true,
        ),
    }
}

fn gemm<T: Element>(ws: &mut FusedWorkspace<T>, a: &[T], b: &[T], c: &mut [T], n: usize) {
    let av = [(T::ONE, SrcView::row_major(a, n, n).expect("A"))];
    let bv = [(T::ONE, SrcView::row_major(b, n, n).expect("B"))];
    let mut cv = [Output::overwrite(
        T::ONE,
        DstView::row_major(c, n, n).expect("C"),
    )];
    fused_gemm(&av, &bv, &mut cv, ws).expect("packed GEMM");
}

fn cell<T: Element>(n: usize, md: &mut String) -> bool {
    let builtin = FusedWorkspace::<T>::new();
    let (grid, default_grid) = blockings(builtin.blocking(), builtin.micro_tile().0);
    let mut names = Vec::new();
    let mut wss = Vec::new();
    names.push("OpenBLAS".to_string());
    names.push(format!("built-in {:?}", builtin.blocking()));
    wss.push(builtin);
    for bl in grid {
        let ws = FusedWorkspace::<T>::with_config(FusedConfig {
            blocking: Some(bl),
            ..FusedConfig::default()
        })
        .unwrap_or_else(|e| panic!("{bl:?}: {e}"));
        names.push(format!("{:?}", ws.blocking()));
        wss.push(ws);
    }
    let (a, b) = (random_matrix::<T>(n, n, 1), random_matrix::<T>(n, n, 2));
    let c = std::cell::RefCell::new(vec![T::ZERO; n * n]);
    let flops = gemm_flops(n, n, n);
    let reps = common::env_num("STRASS_BENCH_REPS", if flops > 1e11 { 3 } else { 7 });
    let mut runs: Vec<Box<dyn FnMut() -> Result<(), String> + '_>> = Vec::new();
    runs.push(Box::new(|| {
        common::openblas_mul(1, &a, &b, &mut c.borrow_mut(), n).map_err(|e| e.to_string())
    }));
    for ws in wss.iter_mut() {
        let (a, b, c) = (&a, &b, &c);
        runs.push(Box::new(move || {
            gemm(ws, a, b, &mut c.borrow_mut(), n);
            Ok(())
        }));
    }
    let mut refs: Vec<&mut dyn FnMut() -> Result<(), String>> = runs
        .iter_mut()
        .map(|r| &mut **r as &mut dyn FnMut() -> Result<(), String>)
        .collect();
    let t = interleaved(&mut refs, 1, reps, |_| true).unwrap_or_else(|e| panic!("{e}"));
    let base = t[0].median_wall();
    let _ = writeln!(md, "\n### {} {n}^3, 1 thread ({reps} rounds)\n", T::DTYPE);
    let _ = writeln!(md, "| contender | median s | GFLOP/s | vs {} |", names[0]);
    let _ = writeln!(md, "| --- | ---: | ---: | ---: |");
    for (name, t) in names.iter().zip(&t) {
        let m = t.median_wall();
        let _ = writeln!(
            md,
            "| {name} | {} | {:.1} | {:.3}x |",
            common::secs(m),
            flops / m / 1e9,
            base / m
        );
    }
    default_grid
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (sizes, default_sizes) = common::sizes(&[512, 1024, 2048, 4096]);
    let dtypes: Vec<String> = std::env::var("STRASS_BENCH_DTYPES")
        .unwrap_or_else(|_| "f32,f64".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let machine = Machine::detect();
    let load_start = common::loadavg();
    let t0 = std::time::Instant::now();
    let mut md = String::new();
    let mut default_grid = true;
    for &n in &sizes {
        for d in &dtypes {
            default_grid &= match d.as_str() {
                "f32" => cell::<f32>(n, &mut md),
                "f64" => cell::<f64>(n, &mut md),
                other => panic!("STRASS_BENCH_DTYPES: unknown dtype `{other}`"),
            };
        }
        eprint!("{md}");
    }
    let full = default_sizes
        && default_grid
        && std::env::var_os("STRASS_BENCH_DTYPES").is_none()
        && std::env::var_os("STRASS_BENCH_REPS").is_none();
    let mut out = String::from("# Packed GEMM rate per size and cache blocking\n\n");
    let _ = writeln!(
        out,
        "Command: `{}`. Run took {:.0} s; load average {load_start} at the start, {} at the end. \
         One thread; medians of interleaved rounds after one warm-up round. GFLOP/s counts \
         2 n^3.\n",
        common::command_line("blocking"),
        t0.elapsed().as_secs_f64(),
        common::loadavg()
    );
    out.push_str(&machine.to_markdown());
    out.push_str(&md);
    let dir = common::out_dir(full);
    common::write(&dir.join("blocking.md"), &out);
}
