//! The fused packed GEMM (`strass::kernel::fused`), side by side in one process:
//!
//! 1. plain GEMM (one term each) against `matrixmultiply` and, with `--features openblas`,
//!    OpenBLAS on one thread;
//! 2. one Strassen product `C11 += M, C22 += M, M = (A11 + A22)(B11 + B22)` on blocks of
//!    `2s x 2s` matrices: the fused call (2 A terms, 2 B terms, 2 destinations) against the
//!    unfused sequence (add the A blocks into a temporary, add the B blocks, GEMM into a
//!    temporary, add it into both destinations), with the fused GEMM and with matrixmultiply
//!    as the GEMM of that sequence.
//!
//! Contenders run interleaved (A B C A B C ...) and medians are reported, because the machine
//! is shared. `cargo bench --bench fused [--features openblas]`; environment:
//! `STRASS_BENCH_SIZES` (default `1024,2048`), `STRASS_BENCH_REPS` (default 5),
//! `STRASS_BENCH_DTYPES` (default `f32,f64`), `STRASS_FUSED_THREADS` (default 1).
//! The full default run writes `bench-results/fused.md`; any override only prints.

use std::fmt::Write as _;
use std::time::Instant;
use strass::kernel::fused::{
    fused_gemm, Blocking, DstView, FusedConfig, FusedWorkspace, Output, SrcView,
};
use strass::kernel::Element;
use strass::tune::measure::{interleaved, random_matrix, Timings};

type Contender<'a> = Box<dyn FnMut() -> Result<(), String> + 'a>;

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `STRASS_FUSED_BLOCKING=mc,kc,nc` overrides the built-in blocking (for tuning).
fn config(threads: usize) -> FusedConfig {
    let blocking = std::env::var("STRASS_FUSED_BLOCKING").ok().and_then(|v| {
        let x: Vec<usize> = v.split(',').filter_map(|t| t.trim().parse().ok()).collect();
        (x.len() == 3).then(|| Blocking {
            mc: x[0],
            kc: x[1],
            nc: x[2],
        })
    });
    FusedConfig {
        threads,
        blocking,
        ..FusedConfig::default()
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// matrixmultiply's GEMM for `T`, `C = alpha A B + beta C`, all row-major with the given strides.
#[allow(clippy::too_many_arguments)]
fn mm_gemm<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    ldb: usize,
    beta: T,
    c: &mut [T],
    ldc: usize,
) {
    assert!(a.len() >= (m - 1) * lda + k && b.len() >= (k - 1) * ldb + n);
    assert!(c.len() >= (m - 1) * ldc + n);
    let (lda, ldb, ldc) = (lda as isize, ldb as isize, ldc as isize);
    if T::DTYPE == "f32" {
        // SAFETY: T is f32; the extents were checked above.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr() as *const f32,
                lda,
                1,
                b.as_ptr() as *const f32,
                ldb,
                1,
                beta.to_f64() as f32,
                c.as_mut_ptr() as *mut f32,
                ldc,
                1,
            )
        }
    } else {
        // SAFETY: T is f64; the extents were checked above.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr() as *const f64,
                lda,
                1,
                b.as_ptr() as *const f64,
                ldb,
                1,
                beta.to_f64(),
                c.as_mut_ptr() as *mut f64,
                ldc,
                1,
            )
        }
    }
}

/// `dst = x + y` for `s x s` blocks at the given offsets of row-major matrices of width `ld`.
fn add_blocks<T: Element>(
    dst: &mut [T],
    x: &[T],
    xo: usize,
    y: &[T],
    yo: usize,
    s: usize,
    ld: usize,
) {
    for i in 0..s {
        let (xr, yr) = (&x[xo + i * ld..][..s], &y[yo + i * ld..][..s]);
        for ((d, &a), &b) in dst[i * s..][..s].iter_mut().zip(xr).zip(yr) {
            *d = a + b;
        }
    }
}

/// `c[block at co] += t` for an `s x s` contiguous `t`.
fn acc_block<T: Element>(c: &mut [T], co: usize, t: &[T], s: usize, ld: usize) {
    for i in 0..s {
        for (d, &x) in c[co + i * ld..][..s].iter_mut().zip(&t[i * s..][..s]) {
            *d += x;
        }
    }
}

struct Row {
    label: String,
    seconds: f64,
    gflops: f64,
}

fn summarize(names: &[&str], t: &[Timings], flops: f64) -> Vec<Row> {
    names
        .iter()
        .zip(t)
        .map(|(n, t)| {
            let s = t.median_wall();
            Row {
                label: n.to_string(),
                seconds: s,
                gflops: flops / s / 1e9,
            }
        })
        .collect()
}

fn table(title: &str, rows: &[Row], base: usize, out: &mut String) {
    let _ = writeln!(out, "\n{title}\n");
    let _ = writeln!(
        out,
        "| contender | median s | GFLOP/s | time vs {} |",
        rows[base].label
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: |");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.1} | {:.3} |",
            r.label,
            r.seconds,
            r.gflops,
            r.seconds / rows[base].seconds
        );
    }
}

fn plain<T: Element>(
    s: usize,
    reps: usize,
    threads: usize,
    out: &mut String,
) -> Result<(), String> {
    let a = random_matrix::<T>(s, s, 1);
    let b = random_matrix::<T>(s, s, 2);
    let mut c1 = vec![T::ZERO; s * s];
    let mut c2 = vec![T::ZERO; s * s];
    let mut ws = FusedWorkspace::<T>::with_config(config(threads)).map_err(|e| e.to_string())?;
    let info = format!("{:?} {:?} {:?}", ws.isa(), ws.micro_tile(), ws.blocking());
    #[allow(unused_mut)] // OpenBLAS joins with the feature
    let mut names = vec!["fused_gemm", "matrixmultiply"];
    let mut fused: Contender = Box::new(|| {
        let at = [(
            T::ONE,
            SrcView::row_major(&a, s, s).map_err(|e| e.to_string())?,
        )];
        let bt = [(
            T::ONE,
            SrcView::row_major(&b, s, s).map_err(|e| e.to_string())?,
        )];
        let mut o = [Output::overwrite(
            T::ONE,
            DstView::row_major(&mut c1, s, s).map_err(|e| e.to_string())?,
        )];
        fused_gemm(&at, &bt, &mut o, &mut ws).map_err(|e| e.to_string())
    });
    let mut mm: Contender = Box::new(|| {
        mm_gemm(s, s, s, &a, s, &b, s, T::ZERO, &mut c2, s);
        Ok(())
    });
    #[allow(unused_mut)]
    let mut contenders: Vec<&mut dyn FnMut() -> Result<(), String>> = vec![&mut fused, &mut mm];
    #[cfg(feature = "openblas")]
    let mut c3 = vec![T::ZERO; s * s];
    #[cfg(feature = "openblas")]
    let mut ob: Contender = Box::new(|| {
        use strass::blas::{gemm, Operand};
        let op = Operand {
            rows: s,
            cols: s,
            rs: s,
            cs: 1,
        };
        gemm(T::ONE, &a, op, &b, op, T::ZERO, &mut c3, op).map_err(|e| e.to_string())
    });
    #[cfg(feature = "openblas")]
    {
        strass::blas::set_num_threads(threads);
        names.push("OpenBLAS");
        contenders.push(&mut ob);
    }
    let t = interleaved(&mut contenders, 1, reps, |_| true)?;
    drop(contenders);
    drop(fused);
    drop(mm);
    let rows = summarize(&names, &t, 2.0 * (s as f64).powi(3));
    let title = format!(
        "**Plain GEMM, {} {s}x{s}x{s}, {threads} thread(s)** (fused: {info}; max |fused - mm| = {:.2e})",
        T::DTYPE,
        c1.iter().zip(&c2).map(|(x, y)| (x.to_f64() - y.to_f64()).abs()).fold(0.0, f64::max)
    );
    table(&title, &rows, 0, out);
    Ok(())
}

/// `c[C22] += c[C11]` for the `s x s` diagonal blocks of a `2s x 2s` row-major matrix.
fn acc_c22_from_c11<T: Element>(c: &mut [T], s: usize) {
    let ld = 2 * s;
    let (top, bottom) = c.split_at_mut(s * ld + s);
    for i in 0..s {
        for (d, &x) in bottom[i * ld..][..s].iter_mut().zip(&top[i * ld..][..s]) {
            *d += x;
        }
    }
}

fn blk<T>(x: &[T], o: usize, s: usize, ld: usize) -> Result<SrcView<'_, T>, String> {
    SrcView::new(&x[o..], s, s, ld, 1).map_err(|e| e.to_string())
}

/// One Strassen product `M = (A11 + A22)(B11 + B22)` on the blocks of `2s x 2s` matrices, added
/// to C11 and C22 (`first_overwrites`: `C11 = M, C22 += M`, as for the first product that
/// reaches C11; else `C11 += M, C22 += M`).
fn strassen_product<T: Element>(
    s: usize,
    reps: usize,
    threads: usize,
    first_overwrites: bool,
    out: &mut String,
) -> Result<(), String> {
    let ld = 2 * s;
    let a = random_matrix::<T>(ld, ld, 3);
    let b = random_matrix::<T>(ld, ld, 4);
    let c0 = random_matrix::<T>(ld, ld, 5);
    let (o11, o22) = (0, s * ld + s);
    let (mut cf, mut cu, mut cm, mut cs) = (c0.clone(), c0.clone(), c0.clone(), c0.clone());
    let temp = || vec![T::ZERO; s * s];
    let (mut ta, mut tb, mut tm) = (temp(), temp(), temp());
    let (mut ta2, mut tb2, mut tm2) = (temp(), temp(), temp());
    let (mut ta3, mut tb3, tm3) = (temp(), temp(), temp());
    let cfg = config(threads);
    let e = |e: strass::kernel::KernelError| e.to_string();
    let mut ws = FusedWorkspace::<T>::with_config(cfg).map_err(e)?;
    let mut ws2 = FusedWorkspace::<T>::with_config(cfg).map_err(e)?;
    let mut fused: Contender = Box::new(|| {
        let at = [
            (T::ONE, blk(&a, o11, s, ld)?),
            (T::ONE, blk(&a, o22, s, ld)?),
        ];
        let bt = [
            (T::ONE, blk(&b, o11, s, ld)?),
            (T::ONE, blk(&b, o22, s, ld)?),
        ];
        let (top, bottom) = cf.split_at_mut(o22);
        let c11 = DstView::new(top, s, s, ld, 1).map_err(e)?;
        let mut o = [
            if first_overwrites {
                Output::overwrite(T::ONE, c11)
            } else {
                Output::accumulate(T::ONE, c11)
            },
            Output::accumulate(T::ONE, DstView::new(bottom, s, s, ld, 1).map_err(e)?),
        ];
        fused_gemm(&at, &bt, &mut o, &mut ws).map_err(e)
    });
    // Unfused: S = A11 + A22, T = B11 + B22, then either C11 = S T (straight through the GEMM's
    // beta = 0) and C22 += C11, or M = S T and C11 += M, C22 += M.
    let mut unfused_own: Contender = Box::new(|| {
        add_blocks(&mut ta, &a, o11, &a, o22, s, ld);
        add_blocks(&mut tb, &b, o11, &b, o22, s, ld);
        let at = [(T::ONE, SrcView::row_major(&ta, s, s).map_err(e)?)];
        let bt = [(T::ONE, SrcView::row_major(&tb, s, s).map_err(e)?)];
        if first_overwrites {
            let c11 = DstView::new(&mut cu, s, s, ld, 1).map_err(e)?;
            fused_gemm(&at, &bt, &mut [Output::overwrite(T::ONE, c11)], &mut ws2).map_err(e)?;
            acc_c22_from_c11(&mut cu, s);
        } else {
            let m = DstView::row_major(&mut tm, s, s).map_err(e)?;
            fused_gemm(&at, &bt, &mut [Output::overwrite(T::ONE, m)], &mut ws2).map_err(e)?;
            acc_block(&mut cu, o11, &tm, s, ld);
            acc_block(&mut cu, o22, &tm, s, ld);
        }
        Ok(())
    });
    let mut unfused_mm: Contender = Box::new(|| {
        add_blocks(&mut ta2, &a, o11, &a, o22, s, ld);
        add_blocks(&mut tb2, &b, o11, &b, o22, s, ld);
        if first_overwrites {
            mm_gemm(s, s, s, &ta2, s, &tb2, s, T::ZERO, &mut cm, ld);
            acc_c22_from_c11(&mut cm, s);
        } else {
            mm_gemm(s, s, s, &ta2, s, &tb2, s, T::ZERO, &mut tm2, s);
            acc_block(&mut cm, o11, &tm2, s, ld);
            acc_block(&mut cm, o22, &tm2, s, ld);
        }
        Ok(())
    });
    // The memory passes of the unfused sequence alone: what fusing removes.
    let mut adds_only: Contender = Box::new(|| {
        add_blocks(&mut ta3, &a, o11, &a, o22, s, ld);
        add_blocks(&mut tb3, &b, o11, &b, o22, s, ld);
        if first_overwrites {
            acc_c22_from_c11(&mut cs, s);
        } else {
            acc_block(&mut cs, o11, &tm3, s, ld);
            acc_block(&mut cs, o22, &tm3, s, ld);
        }
        Ok(())
    });
    let names = [
        "fused_gemm (2 A, 2 B terms, 2 outputs)",
        "unfused, fused_gemm as GEMM",
        "unfused, matrixmultiply as GEMM",
        "the unfused additions alone",
    ];
    let t = interleaved(
        &mut [
            &mut fused,
            &mut unfused_own,
            &mut unfused_mm,
            &mut adds_only,
        ],
        1,
        reps,
        |_| true,
    )?;
    drop((fused, unfused_own, unfused_mm, adds_only));
    let rows = summarize(&names, &t, 2.0 * (s as f64).powi(3));
    let diff = cf
        .iter()
        .zip(&cu)
        .map(|(x, y)| (x.to_f64() - y.to_f64()).abs())
        .fold(0.0, f64::max);
    let what = if first_overwrites {
        "C11 = M, C22 += M"
    } else {
        "C11 += M, C22 += M"
    };
    let title = format!(
        "**One Strassen product {what}, M = (A11 + A22)(B11 + B22), {} blocks {s}x{s} of {ld}x{ld}, {threads} thread(s)** (max |fused - unfused| after all rounds: {diff:.2e})",
        T::DTYPE
    );
    table(&title, &rows, 0, out);
    Ok(())
}

fn main() -> Result<(), String> {
    let sizes_set = std::env::var("STRASS_BENCH_SIZES").is_ok();
    let sizes: Vec<usize> = env_list("STRASS_BENCH_SIZES", "1024,2048")
        .iter()
        .map(|s| s.parse().map_err(|_| format!("bad size {s}")))
        .collect::<Result<_, _>>()?;
    let dtypes = env_list("STRASS_BENCH_DTYPES", "f32,f64");
    let reps = env_usize("STRASS_BENCH_REPS", 5);
    let threads = env_usize("STRASS_FUSED_THREADS", 1).max(1);
    // Criterion-style arguments (`--bench`) are accepted and ignored.
    let mut out = String::new();
    let machine = strass::machine::Machine::detect();
    let _ = writeln!(out, "# Fused packed GEMM (`strass::kernel::fused`)\n");
    let _ = writeln!(out, "{}", machine.to_markdown());
    let _ = writeln!(
        out,
        "Medians of {reps} interleaved rounds after one warm-up round (the machine is shared: compare within a table)."
    );
    for &s in &sizes {
        for dt in &dtypes {
            let t0 = Instant::now();
            match dt.as_str() {
                "f32" => {
                    plain::<f32>(s, reps, threads, &mut out)?;
                    strassen_product::<f32>(s, reps, threads, true, &mut out)?;
                    strassen_product::<f32>(s, reps, threads, false, &mut out)?;
                }
                "f64" => {
                    plain::<f64>(s, reps, threads, &mut out)?;
                    strassen_product::<f64>(s, reps, threads, true, &mut out)?;
                    strassen_product::<f64>(s, reps, threads, false, &mut out)?;
                }
                other => return Err(format!("unknown dtype {other}")),
            }
            eprintln!("{dt} {s}: {:.1} s", t0.elapsed().as_secs_f64());
        }
    }
    println!("{out}");
    if !sizes_set {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/fused.md");
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).map_err(|e| e.to_string())?;
        std::fs::write(&path, &out).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
