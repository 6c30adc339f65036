//! Threshold x threads sweep: the engine's time against its recursion cutoff, one line per
//! thread count, with OpenBLAS on the same thread count as the reference line.
//!
//! Default grid: sizes 4096 and 8192, f32 and f64, cutoffs 256..4096, threads {1, 2, all}
//! (deduplicated), OpenBLAS and fused leaves. Per (size, dtype) every contender runs once per round,
//! interleaved; up to `STRASS_BENCH_REPS` rounds (default 3), medians reported. A time budget
//! (`STRASS_SWEEP_BUDGET_SECS`, default 2400) is shared among the groups in proportion to their
//! expected cost; a group stops taking rounds when its share is spent (at least one round).
//!
//! ```text
//! cargo bench --features openblas --bench sweep                          # full, ~20-25 min here
//! STRASS_BENCH_SIZES=512 cargo bench --features openblas --bench sweep   # quick
//! ```
//! Knobs: `STRASS_BENCH_SIZES`, `STRASS_BENCH_REPS`, `STRASS_SWEEP_CUTOFFS`,
//! `STRASS_SWEEP_THREADS`, `STRASS_SWEEP_LEAF` (comma list of openblas, fused, matrixmultiply;
//! default openblas,fused),
//! `STRASS_SWEEP_BUDGET_SECS`, `STRASS_BENCH_OUT`, `STRASS_SWEEP_TUNE_OUT` (a tuning file to
//! write the best cutoff per dtype, leaf and threads at the largest size into, for `table3`:
//! `STRASS_TUNE_FILE=<it> cargo bench ... --bench table3`). A full run writes
//! `bench-results/sweep.{csv,md,svg}`, a quick one `target/bench-results-quick/`.

mod common;

use common::*;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use strass::machine::Machine;
use strass::tune::measure::{self, Timings};
use strass::{Element, Engine, Leaf};

/// One measured point.
struct Point {
    size: usize,
    dtype: &'static str,
    leaf: Leaf,
    threads: usize,
    cutoff: usize,
    levels: usize,
    strassen: Timings,
    openblas: Timings,
}

impl Point {
    fn speedup(&self) -> f64 {
        self.openblas.median_wall() / self.strassen.median_wall()
    }
}

/// Runs one (size, dtype) group within `budget`.
fn group<T: Element>(
    n: usize,
    leaves: &[Leaf],
    cutoffs: &[usize],
    threads: &[usize],
    reps: usize,
    budget: Duration,
    points: &mut Vec<Point>,
) {
    let start = Instant::now();
    let a = measure::random_matrix::<T>(n, n, 1);
    let b = measure::random_matrix::<T>(n, n, 2);
    // Contenders: per thread count, OpenBLAS, then per leaf one engine per distinct level
    // count. All engines are clones of one base, so they share one cached workspace (the
    // largest), not one each; engines with the same thread count share one thread pool.
    struct Slot {
        threads: usize,
        leaf: Option<Leaf>, // None: OpenBLAS
        engine: Option<Engine>,
        levels: usize,
    }
    let base = Engine::tuned();
    let mut slots = Vec::new();
    for &p in threads {
        slots.push(Slot {
            threads: p,
            leaf: None,
            engine: None,
            levels: 0,
        });
        let base_p = base.clone().threads(p);
        for &leaf in leaves {
            let mut seen = Vec::new();
            for &c in cutoffs {
                let e = base_p.clone().leaf(leaf).cutoff(c);
                let levels = e.levels_for::<T>(n, n, n);
                if !seen.contains(&levels) {
                    seen.push(levels);
                    slots.push(Slot {
                        threads: p,
                        leaf: Some(leaf),
                        engine: Some(e),
                        levels,
                    });
                }
            }
        }
    }
    eprintln!(
        "== {} n={n}: {} contenders, budget {:.0} s",
        T::DTYPE,
        slots.len(),
        budget.as_secs_f64()
    );
    let mut c = vec![T::ZERO; n * n];
    let timings = {
        let c = std::cell::RefCell::new(&mut c);
        let (a, b, c) = (&a, &b, &c);
        let mut fs: Vec<Box<dyn FnMut() -> Result<(), strass::Error> + '_>> = slots
            .iter()
            .map(|s| {
                let p = s.threads;
                match &s.engine {
                    None => Box::new(move || openblas_mul(p, a, b, &mut c.borrow_mut(), n))
                        as Box<dyn FnMut() -> Result<(), strass::Error>>,
                    Some(e) => Box::new(move || engine_mul(e, p, a, b, &mut c.borrow_mut(), n)),
                }
            })
            .collect();
        let mut refs: Vec<&mut dyn FnMut() -> Result<(), strass::Error>> =
            fs.iter_mut().map(|f| &mut **f as _).collect();
        let mut last = Instant::now();
        let mut longest = Duration::ZERO;
        measure::interleaved(&mut refs, 0, reps, |r| {
            longest = longest.max(last.elapsed());
            last = Instant::now();
            let go = start.elapsed() + longest <= budget;
            eprintln!(
                "   round {r} took {:.1} s{}",
                longest.as_secs_f64(),
                if go { "" } else { "; budget spent, stopping" }
            );
            go
        })
        .expect("a contender failed")
    };
    // Every requested cutoff gets a point; cutoffs with the same level count share a measurement.
    for &leaf in leaves {
        for &p in threads {
            let ob = slots
                .iter()
                .position(|s| s.threads == p && s.leaf.is_none())
                .unwrap();
            for &cut in cutoffs {
                let levels = base.clone().leaf(leaf).cutoff(cut).levels_for::<T>(n, n, n);
                let i = slots
                    .iter()
                    .position(|s| s.threads == p && s.leaf == Some(leaf) && s.levels == levels)
                    .unwrap();
                let pt = Point {
                    size: n,
                    dtype: T::DTYPE,
                    leaf,
                    threads: p,
                    cutoff: cut,
                    levels,
                    strassen: timings[i].clone(),
                    openblas: timings[ob].clone(),
                };
                eprintln!(
                    "   {:>14} {}t cutoff {cut:>5} ({levels} levels): {} s, openblas {} s, {:.3}x",
                    leaf_name(leaf),
                    p,
                    secs(pt.strassen.median_wall()),
                    secs(pt.openblas.median_wall()),
                    pt.speedup()
                );
                points.push(pt);
            }
        }
    }
}

/// Writes the best cutoff per (dtype, leaf, threads) at the largest size into a tuning file
/// (merged into an existing valid one for this machine), for the kernel and `table3` to use.
fn write_tune_file(points: &[Point], path: &std::path::Path) {
    use strass::tune::{this_machine, TuneEntry, TuneFile};
    let Some(n) = points.iter().map(|p| p.size).max() else {
        return;
    };
    let mut file = TuneFile::load_for(path, this_machine())
        .unwrap_or_else(|_| TuneFile::new(this_machine().clone()));
    let mut keys: Vec<(&str, Leaf, usize)> = points
        .iter()
        .filter(|p| p.size == n)
        .map(|p| (p.dtype, p.leaf, p.threads))
        .collect();
    keys.dedup();
    for (d, l, t) in keys {
        let group: Vec<&Point> = points
            .iter()
            .filter(|p| p.size == n && p.dtype == d && p.leaf == l && p.threads == t)
            .collect();
        let best = group
            .iter()
            .min_by(|x, y| {
                x.strassen
                    .median_wall()
                    .total_cmp(&y.strassen.median_wall())
            })
            .unwrap();
        file.upsert(TuneEntry {
            dtype: d.into(),
            leaf: leaf_name(l).into(),
            threads: t,
            cutoff: best.cutoff,
            size: n,
            seconds: best.strassen.median_wall(),
            candidates: group
                .iter()
                .map(|p| (p.cutoff, p.strassen.median_wall()))
                .collect(),
        });
    }
    file.save(path)
        .unwrap_or_else(|e| panic!("STRASS_SWEEP_TUNE_OUT: {e}"));
    eprintln!("wrote {} (best cutoffs at n={n})", path.display());
}

fn csv(points: &[Point]) -> String {
    let mut s =
        String::from("size,dtype,leaf,threads,cutoff,levels,strassen_s,openblas_s,speedup,reps\n");
    for p in points {
        writeln!(
            s,
            "{},{},{},{},{},{},{:.6},{:.6},{:.4},{}",
            p.size,
            p.dtype,
            leaf_name(p.leaf),
            p.threads,
            p.cutoff,
            p.levels,
            p.strassen.median_wall(),
            p.openblas.median_wall(),
            p.speedup(),
            p.strassen.samples.len()
        )
        .unwrap();
    }
    s
}

fn markdown(points: &[Point], machine: &Machine, cmd: &str, wall: f64) -> String {
    let mut s = String::from("# Cutoff x threads sweep\n\n");
    writeln!(
        s,
        "Median seconds per n x n product (random entries in [-1, 1)), interleaved rounds; \
         speedup = OpenBLAS on the same threads / engine. Full data: sweep.csv; plot: sweep.svg. \
         Whole run: {wall:.0} s.\n"
    )
    .unwrap();
    s.push_str("| size | dtype | leaf | threads | best cutoff | levels | engine (s) | OpenBLAS (s) | speedup | cpu/wall S, O | all cutoffs (s) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let mut keys: Vec<(usize, &str, Leaf, usize)> = points
        .iter()
        .map(|p| (p.size, p.dtype, p.leaf, p.threads))
        .collect();
    keys.dedup();
    for (n, d, l, t) in keys {
        let group: Vec<&Point> = points
            .iter()
            .filter(|p| p.size == n && p.dtype == d && p.leaf == l && p.threads == t)
            .collect();
        let best = group
            .iter()
            .min_by(|x, y| {
                x.strassen
                    .median_wall()
                    .total_cmp(&y.strassen.median_wall())
            })
            .unwrap();
        writeln!(
            s,
            "| {n} | {d} | {} | {t} | {} | {} | {} | {} | {:.3}x | {}, {} | {} |",
            leaf_name(best.leaf),
            best.cutoff,
            best.levels,
            secs(best.strassen.median_wall()),
            secs(best.openblas.median_wall()),
            best.speedup(),
            ratio2(best.strassen.parallelism()),
            ratio2(best.openblas.parallelism()),
            group
                .iter()
                .map(|p| format!("{}: {}", p.cutoff, secs(p.strassen.median_wall())))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
    }
    s.push_str(
        "\ncpu/wall: median process CPU time over wall time per product for the engine (S) and \
         OpenBLAS (O); about p when p threads were busy. OpenBLAS well below p means the machine \
         was busy and that row's comparison is not valid (`-`: products too short to tell).\n",
    );
    writeln!(s, "\nReproduce: `{cmd}`\n").unwrap();
    s.push_str(&machine.to_markdown());
    s
}

/// One panel per (size, dtype): time against cutoff (log2 axis), a solid line per thread count
/// for the engine and a dashed line for OpenBLAS on the same threads.
fn plot(
    points: &[Point],
    machine: &Machine,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut groups: Vec<(usize, &str, Leaf)> =
        points.iter().map(|p| (p.size, p.dtype, p.leaf)).collect();
    groups.dedup();
    // One row per (size, dtype), one column per leaf.
    let mut leaves: Vec<Leaf> = points.iter().map(|p| p.leaf).collect();
    leaves.dedup();
    leaves.sort_by_key(|&l| leaf_name(l));
    leaves.dedup();
    let cols = leaves.len().clamp(1, 3).min(groups.len().max(1));
    let rows = groups.len().div_ceil(cols).max(1);
    let (w, h) = (560 * cols as u32, 400 * rows as u32 + 40);
    let root = SVGBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(40);
    title.draw(&Text::new(
        format!(
            "strass cutoff sweep - {}, {} cores, OpenBLAS {}, {}",
            machine.cpu_model,
            machine.logical_cores,
            machine.openblas_core.as_deref().unwrap_or("-"),
            machine.date
        ),
        (10, 12),
        ("sans-serif", 14).into_font(),
    ))?;
    let panels = body.split_evenly((rows, cols));
    let palette = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for ((n, d, l), area) in groups.iter().zip(panels.iter()) {
        let pts: Vec<&Point> = points
            .iter()
            .filter(|p| p.size == *n && p.dtype == *d && p.leaf == *l)
            .collect();
        // Cutoffs are evenly spaced on the x axis (one slot per cutoff, labelled with it).
        let mut cuts: Vec<usize> = pts.iter().map(|p| p.cutoff).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let slot = |c: usize| cuts.iter().position(|&k| k == c).unwrap_or(0) as i32;
        let last = cuts.len() as i32 - 1;
        let ymax = pts
            .iter()
            .map(|p| p.strassen.median_wall().max(p.openblas.median_wall()))
            .fold(0.0, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{n} x {n}, {d}, {} leaves", leaf_name(pts[0].leaf)),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(-1..last + 1, 0.0..ymax.max(1e-9))?;
        let labels = cuts.clone();
        chart
            .configure_mesh()
            .x_desc("cutoff")
            .y_desc("seconds")
            .x_labels(cuts.len() + 2)
            .x_label_formatter(&|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .map_or_else(String::new, |c| c.to_string())
            })
            .draw()?;
        let mut threads: Vec<usize> = pts.iter().map(|p| p.threads).collect();
        threads.dedup();
        for (i, t) in threads.iter().enumerate() {
            let color = palette[i % palette.len()];
            let plural = if *t == 1 { "" } else { "s" };
            let line: Vec<(i32, f64)> = pts
                .iter()
                .filter(|p| p.threads == *t)
                .map(|p| (slot(p.cutoff), p.strassen.median_wall()))
                .collect();
            let ob = pts
                .iter()
                .find(|p| p.threads == *t)
                .map(|p| p.openblas.median_wall())
                .unwrap_or(0.0);
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?
                .label(format!("strassen, {t} thread{plural}"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.iter()
                    .map(|&(a, b)| Circle::new((a, b), 3, color.filled())),
            )?;
            // OpenBLAS on the same threads: a dashed horizontal line.
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(-1, ob), (last + 1, ob)],
                    6,
                    4,
                    color.stroke_width(1),
                ))?
                .label(format!("OpenBLAS, {t} thread{plural}"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.mix(0.5).stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    let cmd = command_line("sweep");
    let (sizes, full) = sizes(&[4096, 8192]);
    let reps = env_num("STRASS_BENCH_REPS", 3usize).max(1);
    let budget = env_num("STRASS_SWEEP_BUDGET_SECS", 2400.0f64);
    let cutoffs = env_list("STRASS_SWEEP_CUTOFFS").unwrap_or(vec![256, 512, 1024, 2048, 4096]);
    let mut threads = env_list("STRASS_SWEEP_THREADS").unwrap_or(vec![1, 2, all_cores()]);
    threads.sort_unstable();
    threads.dedup();
    let leaves: Vec<Leaf> = match std::env::var("STRASS_SWEEP_LEAF") {
        Ok(s) if !s.trim().is_empty() => s
            .split(',')
            .map(|l| {
                strass::tune::parse_leaf(l.trim())
                    .unwrap_or_else(|e| panic!("STRASS_SWEEP_LEAF: {e}"))
            })
            .collect(),
        _ => vec![Leaf::OpenBlas, Leaf::Fused],
    };
    warm_up(env_num("STRASS_BENCH_WARMUP_SECS", 2.0f64));
    let machine = Machine::detect();
    eprintln!(
        "sweep: sizes {sizes:?}, cutoffs {cutoffs:?}, threads {threads:?}, leaves {:?}, up to {reps} rounds, budget {budget:.0} s; {}",
        leaves.iter().map(|&l| leaf_name(l)).collect::<Vec<_>>(),
        machine.summary()
    );
    // Groups and their relative cost (n^3, f64 twice f32).
    let groups: Vec<(usize, &str)> = sizes
        .iter()
        .flat_map(|&n| [(n, "f32"), (n, "f64")])
        .collect();
    let weight = |(n, d): (usize, &str)| (n as f64).powi(3) * if d == "f64" { 2.0 } else { 1.0 };
    let t0 = Instant::now();
    let mut points = Vec::new();
    for (i, &g) in groups.iter().enumerate() {
        let left = (budget - t0.elapsed().as_secs_f64()).max(0.0);
        let rest: f64 = groups[i..].iter().map(|&g| weight(g)).sum();
        let share = Duration::from_secs_f64(left * weight(g) / rest);
        match g.1 {
            "f32" => group::<f32>(g.0, &leaves, &cutoffs, &threads, reps, share, &mut points),
            _ => group::<f64>(g.0, &leaves, &cutoffs, &threads, reps, share, &mut points),
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let dir = out_dir(full);
    write(&dir.join("sweep.csv"), &csv(&points));
    write(
        &dir.join("sweep.md"),
        &markdown(&points, &machine, &cmd, wall),
    );
    let svg = dir.join("sweep.svg");
    plot(&points, &machine, &svg).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
    eprintln!("wrote {}", svg.display());
    if let Some(p) = std::env::var_os("STRASS_SWEEP_TUNE_OUT").filter(|p| !p.is_empty()) {
        write_tune_file(&points, std::path::Path::new(&p));
    }
    eprintln!("sweep: done in {wall:.0} s");
}
