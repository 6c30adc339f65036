//! The fused packed GEMM (`strass::kernel::fused`), side by side in one process:
//!
//! 1. plain GEMM (one term each) against `matrixmultiply` and, with `--features openblas`,
//!    OpenBLAS on one thread;
//! 2. one Strassen product `C11 += M, C22 += M, M = (A11 + A22)(B11 + B22)` on blocks of
//!    `2s x 2s` matrices: the fused call (2 A terms, 2 B terms, 2 destinations) against the
//!    unfused sequence (add the A blocks into a temporary, add the B blocks, GEMM into a
//!    temporary, add it into both destinations), with the fused GEMM and with matrixmultiply
//!    as the GEMM of that sequence;
//! 3. one whole Strassen level of `2s x 2s` built from 7 fused calls (the kernel's `Leaf::Fused` last level with the
//!    shipped plan) against one plain GEMM of `2s x 2s` (and OpenBLAS).
//!
//! Contenders run interleaved (A B C A B C ...) and medians are reported, because the machine
//! is shared. `cargo bench --bench fused [--features openblas]`; environment:
//! `STRASS_BENCH_SIZES` (default `1024,2048`), `STRASS_BENCH_REPS` (default 5),
//! `STRASS_BENCH_DTYPES` (default `f32,f64`), `STRASS_FUSED_THREADS` (default 1).
//! The full default run writes `bench-results/fused.md`; any override only prints.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;
use strass::kernel::fused::{
    fused_gemm, Blocking, DstView, FusedConfig, FusedWorkspace, Output, SrcView,
};
use strass::kernel::Element;
use strass::tune::measure::random_matrix;

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

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Runs the contenders interleaved (one warm-up round, then `reps` rounds of A B C ...) and
/// returns each one's wall-clock seconds per call. A call shorter than 0.2 s is repeated within
/// its sample until the sample lasts about that long.
fn interleaved(
    contenders: &mut [&mut dyn FnMut() -> Result<(), String>],
    reps: usize,
) -> Result<Vec<Vec<f64>>, String> {
    let mut inner = Vec::with_capacity(contenders.len());
    for f in contenders.iter_mut() {
        let t0 = Instant::now();
        f()?;
        let once = t0.elapsed().as_secs_f64().max(1e-6);
        inner.push((0.2 / once).ceil().clamp(1.0, 1000.0) as usize);
    }
    let mut out = vec![Vec::new(); contenders.len()];
    for _ in 0..reps.max(1) {
        for ((f, smp), &times) in contenders.iter_mut().zip(out.iter_mut()).zip(&inner) {
            let t0 = Instant::now();
            for _ in 0..times {
                f()?;
            }
            smp.push(t0.elapsed().as_secs_f64() / times as f64);
        }
    }
    Ok(out)
}

struct Row {
    label: String,
    median: f64,
    min: f64,
    flops: f64,
}

fn summarize(names: &[&str], t: &[Vec<f64>], flops: f64) -> Vec<Row> {
    names
        .iter()
        .zip(t)
        .map(|(n, t)| Row {
            label: n.to_string(),
            median: median(t),
            min: t.iter().copied().fold(f64::INFINITY, f64::min),
            flops,
        })
        .collect()
}

fn table(title: &str, rows: &[Row], base: usize, out: &mut String) {
    let _ = writeln!(out, "\n{title}\n");
    let _ = writeln!(
        out,
        "| contender | median s | GFLOP/s | time vs {} | best s | best vs {} |",
        rows[base].label, rows[base].label
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.1} | {:.3} | {:.4} | {:.3} |",
            r.label,
            r.median,
            r.flops / r.median / 1e9,
            r.median / rows[base].median,
            r.min,
            r.min / rows[base].min
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
    let t = interleaved(&mut contenders, reps)?;
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
    // The fused and the unfused (own GEMM) results are compared after one more call each on
    // fresh copies of C, after the timing.
    let (cf, cu) = (RefCell::new(c0.clone()), RefCell::new(c0.clone()));
    let (mut cm, mut cs) = (c0.clone(), c0.clone());
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
        let mut cf = cf.borrow_mut();
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
        let mut cu = cu.borrow_mut();
        let cu = &mut cu[..];
        add_blocks(&mut ta, &a, o11, &a, o22, s, ld);
        add_blocks(&mut tb, &b, o11, &b, o22, s, ld);
        let at = [(T::ONE, SrcView::row_major(&ta, s, s).map_err(e)?)];
        let bt = [(T::ONE, SrcView::row_major(&tb, s, s).map_err(e)?)];
        if first_overwrites {
            let c11 = DstView::new(cu, s, s, ld, 1).map_err(e)?;
            fused_gemm(&at, &bt, &mut [Output::overwrite(T::ONE, c11)], &mut ws2).map_err(e)?;
            acc_c22_from_c11(cu, s);
        } else {
            let m = DstView::row_major(&mut tm, s, s).map_err(e)?;
            fused_gemm(&at, &bt, &mut [Output::overwrite(T::ONE, m)], &mut ws2).map_err(e)?;
            acc_block(cu, o11, &tm, s, ld);
            acc_block(cu, o22, &tm, s, ld);
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
        reps,
    )?;
    *cf.borrow_mut() = c0.clone();
    *cu.borrow_mut() = c0.clone();
    fused()?;
    unfused_own()?;
    drop((fused, unfused_own, unfused_mm, adds_only));
    let rows = summarize(&names, &t, 2.0 * (s as f64).powi(3));
    let diff = cf
        .borrow()
        .iter()
        .zip(cu.borrow().iter())
        .map(|(x, y)| (x.to_f64() - y.to_f64()).abs())
        .fold(0.0, f64::max);
    let what = if first_overwrites {
        "C11 = M, C22 += M"
    } else {
        "C11 += M, C22 += M"
    };
    let title = format!(
        "**One Strassen product {what}, M = (A11 + A22)(B11 + B22), {} blocks {s}x{s} of {ld}x{ld}, {threads} thread(s)** (max |fused - unfused| = {diff:.2e})",
        T::DTYPE
    );
    table(&title, &rows, 0, out);
    Ok(())
}

/// One Strassen level of `2s x 2s` from 7 fused calls against one plain `2s x 2s` GEMM (fused
/// GEMM with one term, and OpenBLAS with the feature).
fn strassen_level<T: Element>(
    s: usize,
    reps: usize,
    threads: usize,
    out: &mut String,
) -> Result<(), String> {
    // One level of the kernel with the fused leaf: its last level is one fused call per product.
    let engine = strass::Engine::new()
        .with_scheme(&strass::Scheme::strassen())
        .map_err(|e| e.to_string())?
        .leaf(strass::Leaf::Fused)
        .threads(threads)
        .cutoff(s)
        .max_levels(1);
    let n = 2 * s;
    let a = random_matrix::<T>(n, n, 6);
    let b = random_matrix::<T>(n, n, 7);
    let (mut c1, mut c2) = (vec![T::ZERO; n * n], vec![T::ZERO; n * n]);
    let e = |e: strass::kernel::KernelError| e.to_string();
    let mut ws2 = FusedWorkspace::<T>::with_config(config(threads)).map_err(e)?;
    let mut level: Contender = Box::new(|| {
        let av = strass::MatRef::row_major(&a, n, n).map_err(e)?;
        let bv = strass::MatRef::row_major(&b, n, n).map_err(e)?;
        let cv = strass::MatMut::row_major(&mut c1, n, n).map_err(e)?;
        engine
            .gemm(T::ONE, av, bv, T::ZERO, cv)
            .map_err(|x| x.to_string())
    });
    let mut plain: Contender = Box::new(|| {
        let at = [(T::ONE, SrcView::row_major(&a, n, n).map_err(e)?)];
        let bt = [(T::ONE, SrcView::row_major(&b, n, n).map_err(e)?)];
        let mut o = [Output::overwrite(
            T::ONE,
            DstView::row_major(&mut c2, n, n).map_err(e)?,
        )];
        fused_gemm(&at, &bt, &mut o, &mut ws2).map_err(e)
    });
    #[allow(unused_mut)]
    let mut names = vec!["Strassen level, 7 fused_gemm calls", "fused_gemm, plain"];
    #[allow(unused_mut)]
    let mut contenders: Vec<&mut dyn FnMut() -> Result<(), String>> = vec![&mut level, &mut plain];
    #[cfg(feature = "openblas")]
    let mut c3 = vec![T::ZERO; n * n];
    #[cfg(feature = "openblas")]
    let mut ob: Contender = Box::new(|| {
        use strass::blas::{gemm, Operand};
        let op = Operand {
            rows: n,
            cols: n,
            rs: n,
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
    let t = interleaved(&mut contenders, reps)?;
    drop(contenders);
    drop((level, plain));
    let rows = summarize(&names, &t, 2.0 * (n as f64).powi(3));
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (x, y) in c1.iter().zip(&c2) {
        num += (x.to_f64() - y.to_f64()).powi(2);
        den += y.to_f64().powi(2);
    }
    let title = format!(
        "**One Strassen level, {} {n}x{n}x{n} (7 products of {s}x{s}), {threads} thread(s)** (effective GFLOP/s = 2n^3 / time; ||C_strassen - C_plain||_F / ||C_plain||_F = {:.1e})",
        T::DTYPE,
        (num / den).sqrt()
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
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        out,
        "Command: `cargo bench --features openblas --bench fused` (OpenBLAS on 1 thread). \
         Load average at the start: `{}`.\n",
        load.trim()
    );
    let _ = writeln!(
        out,
        "Wall-clock seconds per call: median and best of {reps} interleaved rounds after one warm-up \
         round (calls under 0.2 s repeated within a round). The machine is shared with other jobs, so \
         absolute figures drift between tables; compare within a table."
    );
    for &s in &sizes {
        for dt in &dtypes {
            let t0 = Instant::now();
            match dt.as_str() {
                "f32" => {
                    plain::<f32>(s, reps, threads, &mut out)?;
                    strassen_product::<f32>(s, reps, threads, true, &mut out)?;
                    strassen_product::<f32>(s, reps, threads, false, &mut out)?;
                    strassen_level::<f32>(s, reps, threads, &mut out)?;
                }
                "f64" => {
                    plain::<f64>(s, reps, threads, &mut out)?;
                    strassen_product::<f64>(s, reps, threads, true, &mut out)?;
                    strassen_product::<f64>(s, reps, threads, false, &mut out)?;
                    strassen_level::<f64>(s, reps, threads, &mut out)?;
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
