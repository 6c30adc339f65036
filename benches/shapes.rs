//! Shapes benchmark: the default `strassen_mul` engine against OpenBLAS (feature `openblas`),
//! BLIS (loaded at run time when installed), faer, matrixmultiply and strass's own packed GEMM alone, on a suite of square (odd and
//! non-power-of-two sizes included), rectangular and skinny shapes, f32 and f64, on 1 thread and
//! all cores.
//!
//! ```sh
//! cargo bench --features openblas --bench shapes      # full suite: bench-results/shapes.{csv,md,svg}, shapes-gflops.svg
//! STRASS_BENCH_SHAPES=2048,4097x4097x4097 STRASS_BENCH_DTYPES=f32 STRASS_BENCH_THREADS=1 \
//!   cargo bench --features openblas --bench shapes    # a subset: target/bench-results-quick/
//! ```
//!
//! Every (shape, dtype, threads) cell runs its contenders interleaved (A B C A B C ...), after
//! `STRASS_BENCH_WARMUP` (default 1) untimed rounds, `STRASS_BENCH_REPS` timed rounds (default
//! 3, or 2 for products above 4e11 flops); medians are reported. The speedup is baseline time /
//! contender time, the baseline being OpenBLAS on the same threads (without the feature: strass's
//! packed GEMM). The relative error `||C - AB||_F / ||AB||_F` is estimated with a random-vector
//! residual computed in double-double. Knobs: `STRASS_BENCH_SHAPES` (comma-separated `n` or
//! `MxKxN`), `STRASS_BENCH_DTYPES`, `STRASS_BENCH_THREADS`, `STRASS_BENCH_CUTOFFS` (extra strass
//! rows with these cutoffs), `STRASS_BENCH_SKIP` (contenders to leave out: blis, faer, mm, packed),
//! `STRASS_BENCH_BLIS` (the BLIS library to load; default `libblis.so.4`, Debian `libblis-dev`),
//! `STRASS_BENCH_PAUSE_MS` (untimed pause after every call; default 200 ms on more than one
//! thread, so that OpenBLAS's spinning worker threads are asleep before the next contender
//! starts, none on one thread), `STRASS_BENCH_OUT`.

mod common;

use common::{all_cores, engine_gemm, env, env_num, loadavg, parse_shapes, Run};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;
use strass::kernel::fused::probe::fma_peak_flops;
use strass::kernel::fused::Isa;
use strass::machine::Machine;
use strass::tune::measure::{gemm_flops, median, random_matrix, ResidualCheck};
use strass::{Element, Engine};

/// The full suite: squares from 500 to 8192 (odd, non-power-of-two and powers of two),
/// rectangular and skinny shapes.
const SUITE: &[(usize, usize, usize)] = &[
    (500, 500, 500),
    (1000, 1000, 1000),
    (1500, 1500, 1500),
    (2000, 2000, 2000),
    (2048, 2048, 2048),
    (2500, 2500, 2500),
    (3001, 3001, 3001),
    (4095, 4095, 4095),
    (4096, 4096, 4096),
    (4097, 4097, 4097),
    (6000, 6000, 6000),
    (8192, 8192, 8192),
    (8192, 8192, 1024),
    (1024, 8192, 8192),
    (8192, 1024, 8192),
    (3000, 5000, 7000),
    (2000, 3000, 4000),
    (8192, 500, 8192),
    (4096, 128, 4096),
    (64, 4096, 4096),
];

/// One measured row.
struct Row {
    shape: (usize, usize, usize),
    dtype: &'static str,
    threads: usize,
    contender: String,
    levels: usize,
    median_s: f64,
    min_s: f64,
    baseline_s: f64,
    rel_error: f64,
}

trait Contenders: Element + faer::traits::ComplexField {
    fn mm(sh: (usize, usize, usize), a: &[Self], b: &[Self], c: &mut [Self]);
}

macro_rules! impl_contenders {
    ($t:ty, $mm:path) => {
        impl Contenders for $t {
            fn mm(sh: (usize, usize, usize), a: &[Self], b: &[Self], c: &mut [Self]) {
                let (m, k, n) = sh;
                assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
                // SAFETY: the slices hold exactly the row-major matrices described.
                unsafe {
                    $mm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b.as_ptr(),
                        n as isize,
                        1,
                        0.0,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                }
            }
        }
    };
}
impl_contenders!(f32, matrixmultiply::sgemm);
impl_contenders!(f64, matrixmultiply::dgemm);

fn faer_mul<T: Contenders>(sh: (usize, usize, usize), p: usize, a: &[T], b: &[T], c: &mut [T]) {
    let (m, k, n) = sh;
    let av = faer::MatRef::from_row_major_slice(a, m, k);
    let bv = faer::MatRef::from_row_major_slice(b, k, n);
    let cv = faer::MatMut::from_row_major_slice_mut(c, m, n);
    let par = if p == 1 {
        faer::Par::Seq
    } else {
        faer::Par::rayon(p)
    };
    faer::linalg::matmul::matmul(cv, faer::Accum::Replace, av, bv, T::ONE, par);
}

fn cell<T: Contenders>(
    sh: (usize, usize, usize),
    p: usize,
    cutoffs: &[usize],
    skip: &[String],
    blis: Option<&common::Blis>,
    rows: &mut Vec<Row>,
) {
    let (m, k, n) = sh;
    let a = random_matrix::<T>(m, k, 1);
    let b = random_matrix::<T>(k, n, 2);
    let mut c = vec![T::ZERO; m * n];
    let check = ResidualCheck::new(&a, &b, m, k, n, 3);
    let default = Engine::tuned().threads(p);
    let packed = default.clone().max_levels(0);
    let variants: Vec<(String, Engine)> = std::iter::once(("strass".to_string(), default.clone()))
        .chain(
            cutoffs
                .iter()
                .map(|&x| (format!("strass cutoff {x}"), default.clone().cutoff(x))),
        )
        .collect();
    let c_cell = std::cell::RefCell::new(&mut c);
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut runs: Vec<Run<'_>> = Vec::new();
    #[cfg(feature = "openblas")]
    {
        names.push(("OpenBLAS".into(), 0));
        runs.push(Box::new(|| {
            common::openblas_gemm(sh, p, &a, &b, &mut c_cell.borrow_mut())
        }));
    }
    for (name, e) in &variants {
        names.push((name.clone(), e.levels_for::<T>(m, k, n)));
        runs.push(Box::new(|| {
            engine_gemm(e, &a, &b, &mut c_cell.borrow_mut(), sh)
        }));
    }
    if !skip.iter().any(|s| s == "packed") {
        names.push(("strass packed GEMM alone".into(), 0));
        runs.push(Box::new(|| {
            engine_gemm(&packed, &a, &b, &mut c_cell.borrow_mut(), sh)
        }));
    }
    if let Some(blis) = blis {
        names.push(("BLIS".into(), 0));
        runs.push(Box::new(|| {
            blis.gemm(sh, p, &a, &b, &mut c_cell.borrow_mut())
        }));
    }
    if !skip.iter().any(|s| s == "faer") {
        names.push(("faer".into(), 0));
        runs.push(Box::new(|| {
            faer_mul(sh, p, &a, &b, &mut c_cell.borrow_mut());
            Ok(())
        }));
    }
    if p == 1 && !skip.iter().any(|s| s == "mm") {
        names.push(("matrixmultiply".into(), 0));
        runs.push(Box::new(|| {
            T::mm(sh, &a, &b, &mut c_cell.borrow_mut());
            Ok(())
        }));
    }
    let flops = gemm_flops(m, k, n);
    let reps = env_num("STRASS_BENCH_REPS", if flops > 4e11 { 2 } else { 3 });
    let warmup = env_num("STRASS_BENCH_WARMUP", 1);
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
    let base = timings[0].median_wall();
    for (((name, levels), t), err) in names.into_iter().zip(&timings).zip(errors) {
        let walls: Vec<f64> = t.samples.iter().map(|s| s.wall).collect();
        let row = Row {
            shape: sh,
            dtype: T::DTYPE,
            threads: p,
            contender: name,
            levels,
            median_s: median(&walls),
            min_s: walls.iter().copied().fold(f64::INFINITY, f64::min),
            baseline_s: base,
            rel_error: err,
        };
        eprintln!(
            "{m:>5}x{k:>5}x{n:>5} {} p={p} {:<28} {:>9.4} s  {:>6.3}x  levels {}  err {:.2e}",
            T::DTYPE,
            row.contender,
            row.median_s,
            base / row.median_s,
            row.levels,
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let custom = env("STRASS_BENCH_SHAPES");
    let shapes = custom.as_deref().map_or_else(
        || SUITE.to_vec(),
        |s| parse_shapes("STRASS_BENCH_SHAPES", s),
    );
    let dtypes: Vec<String> = env("STRASS_BENCH_DTYPES")
        .unwrap_or_else(|| "f32,f64".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let threads: Vec<usize> = env("STRASS_BENCH_THREADS").map_or_else(
        || {
            let mut v = vec![1, all_cores()];
            v.dedup();
            v
        },
        |s| {
            s.split(',')
                .map(|x| x.trim().parse().expect("STRASS_BENCH_THREADS"))
                .collect()
        },
    );
    let cutoffs: Vec<usize> = env("STRASS_BENCH_CUTOFFS").map_or_else(Vec::new, |s| {
        s.split(',')
            .map(|x| x.trim().parse().expect("STRASS_BENCH_CUTOFFS"))
            .collect()
    });
    let skip: Vec<String> = env("STRASS_BENCH_SKIP").map_or_else(Vec::new, |s| {
        s.split(',').map(|x| x.trim().to_string()).collect()
    });
    let full = custom.is_none()
        && env("STRASS_BENCH_DTYPES").is_none()
        && env("STRASS_BENCH_THREADS").is_none()
        && cutoffs.is_empty()
        && skip.is_empty()
        && env("STRASS_BENCH_REPS").is_none()
        && env("STRASS_BENCH_PAUSE_MS").is_none();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = match env("STRASS_BENCH_OUT") {
        Some(d) => PathBuf::from(d),
        None if full => root.join("bench-results"),
        None => root.join("target").join("bench-results-quick"),
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let blis = if skip.iter().any(|s| s == "blis") {
        None
    } else {
        common::Blis::load()
            .map_err(|e| eprintln!("BLIS left out: {e}"))
            .ok()
    };
    let anchors = format!(
        "OpenBLAS core chosen natively (no OPENBLAS_CORETYPE): {}; BLIS: {}",
        std::env::var("OPENBLAS_CORETYPE").map_or_else(
            |_| machine_openblas(),
            |v| format!("FORCED by OPENBLAS_CORETYPE={v}, not native")
        ),
        match (&blis, skip.iter().any(|s| s == "blis")) {
            (Some(b), _) => b.description.clone(),
            (None, true) => "left out (STRASS_BENCH_SKIP)".into(),
            (None, false) => "not loaded (libblis-dev not installed)".into(),
        }
    );
    let machine = Machine::detect();
    let peak_start = fma_peaks();
    let load_start = loadavg();
    let t0 = Instant::now();
    let mut rows = Vec::new();
    for &sh in &shapes {
        for &p in &threads {
            for d in &dtypes {
                match d.as_str() {
                    "f32" => cell::<f32>(sh, p, &cutoffs, &skip, blis.as_ref(), &mut rows),
                    "f64" => cell::<f64>(sh, p, &cutoffs, &skip, blis.as_ref(), &mut rows),
                    other => panic!("STRASS_BENCH_DTYPES: unknown dtype `{other}`"),
                }
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let load_end = loadavg();
    // The better of the peaks measured before and after the run, per dtype.
    let peaks: Vec<(&str, f64)> = peak_start
        .iter()
        .zip(fma_peaks())
        .map(|(&(d, a), (_, b))| (d, a.max(b)))
        .collect();
    write_csv(&dir, &rows, &machine);
    write_md(
        &dir,
        &rows,
        &machine,
        &anchors,
        wall,
        (&load_start, &load_end),
        &peaks,
    );
    for (file, y) in [
        ("shapes.svg", YAxis::Speedup),
        ("shapes-gflops.svg", YAxis::Gflops(&peaks)),
    ] {
        let svg = dir.join(file);
        plot(&rows, &machine, &svg, y).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
        eprintln!("wrote {}", svg.display());
    }
}

/// One thread's FMA peak per dtype in GFLOP/s on the instruction set the packed GEMM runs (the
/// best of five timings of the FMA-only loop of `benches/peak.rs`); empty for the portable set.
fn fma_peaks() -> Vec<(&'static str, f64)> {
    let isa = Isa::selected();
    [("f32", true), ("f64", false)]
        .into_iter()
        .filter_map(|(d, single)| {
            (0..5)
                .filter_map(|_| fma_peak_flops(isa, single, 1 << 24))
                .reduce(f64::max)
                .map(|f| (d, f / 1e9))
        })
        .collect()
}

/// What the plot's y axis shows.
#[derive(Clone, Copy)]
enum YAxis<'a> {
    /// Baseline time / contender time, with a line at 1.
    Speedup,
    /// `2 m k n / time` in GFLOP/s for every contender, the baseline included (for Strassen an
    /// effective rate, which may exceed the peak), with a line at the measured FMA peak times the
    /// threads.
    Gflops(&'a [(&'a str, f64)]),
}

/// OpenBLAS's configuration and core as the machine description reports them.
fn machine_openblas() -> String {
    Machine::detect().openblas_string()
}

fn baseline_name() -> &'static str {
    if cfg!(feature = "openblas") {
        "OpenBLAS"
    } else {
        "strass"
    }
}

fn write_csv(dir: &std::path::Path, rows: &[Row], machine: &Machine) {
    let mut s = machine.csv_comment();
    s.push_str("m,k,n,dtype,threads,contender,levels,median_s,min_s,baseline,baseline_s,speedup,rel_error\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{:.6},{:.6},{},{:.6},{:.4},{:.3e}",
            r.shape.0,
            r.shape.1,
            r.shape.2,
            r.dtype,
            r.threads,
            strass::machine::csv_field(&r.contender),
            r.levels,
            r.median_s,
            r.min_s,
            baseline_name(),
            r.baseline_s,
            r.baseline_s / r.median_s,
            r.rel_error
        );
    }
    let path = dir.join("shapes.csv");
    std::fs::write(&path, s).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("wrote {}", path.display());
}

fn geomean(x: &[f64]) -> f64 {
    (x.iter().map(|v| v.ln()).sum::<f64>() / x.len().max(1) as f64).exp()
}

fn write_md(
    dir: &std::path::Path,
    rows: &[Row],
    machine: &Machine,
    anchors: &str,
    wall: f64,
    (l0, l1): (&str, &str),
    peaks: &[(&str, f64)],
) {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Shapes: default `strassen_mul` against {} and other GEMMs\n",
        baseline_name()
    );
    let _ = writeln!(
        md,
        "Ratios are {b} time / contender time on the same threads, same inputs, medians of interleaved \
         rounds (`cargo bench --features openblas --bench shapes`), with an untimed pause of {pause2} ms \
         after every call on 2 or more threads (so OpenBLAS's worker threads, which spin for a \
         while after a call, are asleep when the next contender starts); `strass` is the default engine \
         (`Engine::tuned()`, no tuning file: built-in policy), `levels` the recursion levels it ran; \
         errors are `||C - AB||_F / ||AB||_F` (random-vector residual in double-double). \
         Machine: {}; caches: {}. {anchors}. Run took {wall:.0} s; load average {l0} at the \
         start, {l1} at the end.\n",
        machine.summary(),
        strass::kernel::cache::Caches::detect().summary(),
        pause2 = common::pause_for(2).as_millis(),
        b = baseline_name()
    );
    if !peaks.is_empty() {
        let list: Vec<String> = peaks
            .iter()
            .map(|(d, g)| format!("{d} {g:.1} GFLOP/s"))
            .collect();
        let _ = writeln!(
            md,
            "FMA peak of one thread ({} FMA-only loop, best of the timings before and after the run): \
             {}. [shapes-gflops.svg](shapes-gflops.svg) plots every contender's `2 m k n / time` \
             against it (times the threads).\n",
            Isa::selected().name(),
            list.join(", ")
        );
    }
    let mut cells: Vec<((usize, usize, usize), &str, usize)> =
        rows.iter().map(|r| (r.shape, r.dtype, r.threads)).collect();
    cells.dedup();
    let mut contenders: Vec<&str> = Vec::new();
    for r in rows {
        if !contenders.contains(&r.contender.as_str()) {
            contenders.push(&r.contender);
        }
    }
    let mut groups: Vec<(&str, usize)> = cells.iter().map(|c| (c.1, c.2)).collect();
    groups.sort();
    groups.dedup();
    for (dtype, p) in groups {
        let _ = writeln!(
            md,
            "## {dtype}, {p} thread{}\n",
            if p == 1 { "" } else { "s" }
        );
        let _ = write!(md, "| m x k x n | {} s |", baseline_name());
        for c in contenders.iter().filter(|c| **c != baseline_name()) {
            let _ = write!(md, " {c} |");
        }
        let _ = writeln!(
            md,
            " strass levels | strass error | {} error |",
            baseline_name()
        );
        let _ = write!(md, "| --- | ---: |");
        for _ in contenders.iter().filter(|c| **c != baseline_name()) {
            let _ = write!(md, " ---: |");
        }
        let _ = writeln!(md, " ---: | ---: | ---: |");
        let mut strass_ratios = Vec::new();
        let mut worst: Option<(f64, (usize, usize, usize))> = None;
        for &(sh, d, q) in cells.iter().filter(|c| c.1 == dtype && c.2 == p) {
            let of = |name: &str| {
                rows.iter().find(|r| {
                    r.shape == sh && r.dtype == d && r.threads == q && r.contender == name
                })
            };
            let Some(base) = of(baseline_name()) else {
                continue;
            };
            let _ = write!(
                md,
                "| {} x {} x {} | {:.4} |",
                sh.0, sh.1, sh.2, base.median_s
            );
            for c in contenders.iter().filter(|c| **c != baseline_name()) {
                match of(c) {
                    Some(r) => {
                        let x = base.median_s / r.median_s;
                        if *c == "strass" {
                            let _ = write!(md, " **{x:.3}x** |");
                        } else {
                            let _ = write!(md, " {x:.3}x |");
                        }
                    }
                    None => {
                        let _ = write!(md, " - |");
                    }
                }
            }
            let s = of("strass");
            let _ = writeln!(
                md,
                " {} | {} | {:.2e} |",
                s.map_or("-".into(), |r| r.levels.to_string()),
                s.map_or("-".into(), |r| format!("{:.2e}", r.rel_error)),
                base.rel_error
            );
            if let Some(s) = s {
                if sh.0.min(sh.1).min(sh.2) >= 500 {
                    let x = base.median_s / s.median_s;
                    strass_ratios.push(x);
                    if worst.is_none_or(|(w, _)| x < w) {
                        worst = Some((x, sh));
                    }
                }
            }
        }
        if let Some((w, sh)) = worst {
            let _ = writeln!(
                md,
                "\nShapes with every dimension >= 500: geometric mean of strass's ratio **{:.3}x** over {} shapes; \
                 lowest {w:.3}x at {} x {} x {}.\n",
                geomean(&strass_ratios),
                strass_ratios.len(),
                sh.0,
                sh.1,
                sh.2
            );
        }
    }
    let _ = writeln!(md, "Plot: [shapes.svg](shapes.svg). Raw data: shapes.csv.");
    let path = dir.join("shapes.md");
    std::fs::write(&path, md).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("wrote {}", path.display());
}

fn plot(
    rows: &[Row],
    machine: &Machine,
    path: &std::path::Path,
    y: YAxis,
) -> Result<(), Box<dyn std::error::Error>> {
    let flops = |r: &Row| 2.0 * (r.shape.0 * r.shape.1 * r.shape.2) as f64;
    let value = |r: &Row| match y {
        YAxis::Speedup => r.baseline_s / r.median_s,
        YAxis::Gflops(_) => flops(r) / r.median_s / 1e9,
    };
    let mut groups: Vec<(&str, usize)> = rows.iter().map(|r| (r.dtype, r.threads)).collect();
    groups.sort();
    groups.dedup();
    let cols = groups.len().clamp(1, 2);
    let nrows = groups.len().div_ceil(cols).max(1);
    let root =
        SVGBackend::new(path, (620 * cols as u32, 420 * nrows as u32 + 40)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(40);
    title.draw(&Text::new(
        format!(
            "{} vs size (cube root of m k n) - {}, {}",
            match y {
                YAxis::Speedup => format!("speedup over {}", baseline_name()),
                YAxis::Gflops(_) => "GFLOP/s (2 m k n / time)".into(),
            },
            machine.cpu_model,
            machine.date
        ),
        (10, 12),
        ("sans-serif", 14).into_font(),
    ))?;
    let palette = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for ((dtype, p), area) in groups.iter().zip(body.split_evenly((nrows, cols)).iter()) {
        let sel: Vec<&Row> = rows
            .iter()
            .filter(|r| r.dtype == *dtype && r.threads == *p)
            .collect();
        let size = |r: &Row| ((r.shape.0 * r.shape.1 * r.shape.2) as f64).cbrt();
        let xmax = sel.iter().map(|r| size(r)).fold(1.0, f64::max) * 1.05;
        let peak = match y {
            YAxis::Speedup => 1.0,
            YAxis::Gflops(peaks) => peaks
                .iter()
                .find(|(d, _)| d == dtype)
                .map_or(0.0, |&(_, g)| g * *p as f64),
        };
        let ymax = sel.iter().map(|r| value(r)).fold(peak * 1.2, f64::max) * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{dtype}, {p} thread(s)"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
        chart
            .configure_mesh()
            .x_desc("size")
            .y_desc(match y {
                YAxis::Speedup => "speedup",
                YAxis::Gflops(_) => "GFLOP/s",
            })
            .draw()?;
        if peak > 0.0 {
            let line =
                chart.draw_series(LineSeries::new([(0.0, peak), (xmax, peak)], BLACK.mix(0.4)))?;
            if let YAxis::Gflops(_) = y {
                line.label(format!("FMA peak x {p} ({peak:.0})"))
                    .legend(|(x, y)| PathElement::new([(x - 8, y), (x + 8, y)], BLACK.mix(0.4)));
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for r in &sel {
            let shown = matches!(y, YAxis::Gflops(_)) || r.contender != baseline_name();
            if shown && !names.contains(&r.contender.as_str()) {
                names.push(&r.contender);
            }
        }
        for (i, name) in names.iter().enumerate() {
            let color = palette[i % palette.len()];
            let mut pts: Vec<(f64, f64)> = sel
                .iter()
                .filter(|r| r.contender == *name)
                .map(|r| (size(r), value(r)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                )?
                .label(name.to_string())
                .legend(move |(x, y)| Circle::new((x, y), 3, color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
