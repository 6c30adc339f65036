//! Where the time of a fast product goes, and a cost model that predicts it.
//!
//! ```sh
//! OPENBLAS_CORETYPE=SkylakeX cargo bench --features openblas,profile --bench profile
//! STRASS_BENCH_SIZES=2048 STRASS_BENCH_DTYPES=f32 cargo bench --features openblas,profile --bench profile
//! ```
//!
//! For each dtype and size it runs, interleaved (A B C A B C ...), OpenBLAS, strass's packed GEMM
//! alone, the recursion with 1, 2 and 3 levels of Strassen and of Winograd's variant (last level
//! [`Variant::MultiOutput`], the default), the same Strassen levels with the other last-level
//! variants ([`Variant::Packed`], "AB", and [`Variant::Explicit`]), Winograd's scheme in its
//! sparsest alternative basis (`Engine::alt_basis`), and the default engine, on
//! one thread. The kernel's timed phases (`strass::kernel::profile`,
//! feature `profile`) split each product's time per recursion depth into leaf products, operand
//! sums, scatters, zeroing and peeled fringes, and the packed GEMM's time into packing A,
//! packing B and micro-kernels.
//!
//! The cost model predicts each configuration's time from two calibrations measured first in the
//! same process: the packed GEMM alone on `b x b x b` at every leaf size `b` (its time `G(b)` and
//! the time it spends packing A and B, `P_A(b)`, `P_B(b)`), and the bandwidth `BW` of the
//! kernel's own operand sum (`strass::kernel::profile::sum_bandwidth`). A leaf product with `t_A`
//! and `t_B` operand terms costs `G(b) + (t_A - 1) P_A(b) + (t_B - 1) P_B(b)` (each further term
//! is one more packing pass) plus its further outputs (read and written once) at `BW`; a level's
//! explicit operand sums, scatters and zeroing are the bytes they move at `BW`. With the AB
//! variant the last level's further outputs are scatter passes instead; with the explicit one the
//! last level is priced as the upper levels, over plain leaf GEMMs. An alternative basis is
//! priced as its core's plan plus one pass per basis map (the operand read, the transform
//! written, at `BW`). The tables put
//! prediction beside measurement.
//!
//! Knobs: `STRASS_BENCH_SIZES` (default `4096,8192`), `STRASS_BENCH_DTYPES` (default `f32,f64`),
//! `STRASS_BENCH_REPS` (default 3, 2 above 4e11 flops), `STRASS_BENCH_WARMUP` (default 1),
//! `STRASS_BENCH_LEVELS` (default `1,2,3`), `STRASS_BENCH_CONFIGS` (only these configurations,
//! by exact name, `;`-separated; OpenBLAS always runs), `STRASS_BENCH_OUT`. A full default run writes
//! `bench-results/profile.md`; any override writes to `target/bench-results-quick/`.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::Instant;
use strass::kernel::profile::{self, Entry, Phase};
use strass::machine::Machine;
use strass::plan::{Dest, Plan};
use strass::scheme::{AltBasis, Scheme};
use strass::tune::measure::{gemm_flops, median, random_matrix, ResidualCheck};
use strass::{Element, Engine, Variant};

/// One configuration of the product.
struct Config {
    name: String,
    engine: Option<Engine>,
    levels: usize,
    variant: Variant,
    /// Runs an alternative basis: modelled as its core plus one pass per basis map.
    alt: bool,
}

/// One timed run: wall seconds and the phase counters.
struct Sample {
    wall: f64,
    phases: Vec<Entry>,
}

/// The calibration the model uses.
struct Calib {
    /// The packed GEMM alone on `b x b x b`, per size `b`.
    gemms: Vec<Gemm>,
    /// Bytes per second of the kernel's operand sum ([`profile::sum_bandwidth`]).
    bw: f64,
}

/// One calibration GEMM: its median time and the packing phases of that run.
#[derive(Clone, Copy)]
struct Gemm {
    b: usize,
    /// Wall seconds.
    wall: f64,
    /// Seconds packing A (one term).
    pack_a: f64,
    /// Seconds packing B (one term).
    pack_b: f64,
}

impl Calib {
    fn at(&self, b: usize) -> Gemm {
        *self
            .gemms
            .iter()
            .min_by_key(|g| g.b.abs_diff(b))
            .expect("calibrated sizes")
    }
}

/// The model's components for one configuration (seconds).
#[derive(Default, Clone, Copy)]
struct Predicted {
    /// Leaf products as plain GEMMs of their size (calibrated times, packing included).
    flops: f64,
    /// Extra operand terms of the leaf products (each costs one more packing pass of its
    /// operand, as calibrated) and extra outputs (bytes at BW).
    product_extra: f64,
    /// Operand sums, scatters and zeroing of the upper levels (bytes at BW).
    additions: f64,
}

impl Predicted {
    fn total(&self) -> f64 {
        self.flops + self.product_extra + self.additions
    }
}

/// Predicts an `n^3` product with `levels` levels of `plan` (square blocks, `n` divisible).
/// The last level runs `variant` (`Explicit`: priced as the upper levels).
fn predict(
    plan: &Plan,
    n: usize,
    levels: usize,
    variant: Variant,
    size: usize,
    c: &Calib,
) -> Predicted {
    let mut p = Predicted::default();
    node(plan, n, levels, variant, true, size, c, &mut p);
    p
}

/// Bytes-at-bandwidth seconds of the scatters of `step` (each target read and written once,
/// written only when fresh; the source read once).
fn scatter_seconds(step: &strass::plan::Step, block: f64, c: &Calib) -> f64 {
    step.scatter
        .iter()
        .map(|s| if s.fresh { 2.0 } else { 3.0 } * block / c.bw)
        .sum()
}

#[allow(clippy::too_many_arguments)]
fn node(
    plan: &Plan,
    n: usize,
    levels: usize,
    variant: Variant,
    ow: bool,
    size: usize,
    c: &Calib,
    p: &mut Predicted,
) {
    if levels == 0 {
        p.flops += c.at(n).wall;
        return;
    }
    let d = plan.data();
    let b = n / plan.dims().0;
    let block = (b * b * size) as f64;
    let sched = plan.schedule(ow);
    p.additions += sched.zero_blocks.len() as f64 * block / c.bw;
    if levels == 1 && variant != Variant::Explicit {
        for step in &sched.steps {
            let r = step.product;
            let g = c.at(b);
            let extra_a = (d.a_terms[r].len() - 1) as f64 * g.pack_a;
            let extra_b = (d.b_terms[r].len() - 1) as f64 * g.pack_b;
            p.flops += g.wall;
            if variant == Variant::Packed {
                // One output, then a scatter pass to the others.
                p.product_extra += extra_a + extra_b;
                p.additions += scatter_seconds(step, block, c);
                continue;
            }
            // Every further output is read and written once (written only when fresh).
            let extra_out: f64 = d.c_terms[r]
                .iter()
                .skip(1)
                .map(|t| {
                    let fresh = step.scatter.iter().any(|s| s.block == t.block && s.fresh)
                        || matches!(step.dest, Dest::Block { block, fresh: true, .. } if block == t.block);
                    if fresh {
                        1.0
                    } else {
                        2.0
                    }
                })
                .sum();
            p.product_extra += extra_a + extra_b + extra_out * block / c.bw;
        }
        return;
    }
    for step in &sched.steps {
        let r = step.product;
        for t in [d.a_terms[r].len(), d.b_terms[r].len()] {
            if t >= 2 {
                p.additions += (t + 1) as f64 * block / c.bw;
            }
        }
        p.additions += scatter_seconds(step, block, c);
        let child_ow = match step.dest {
            Dest::Block { fresh, .. } => fresh,
            Dest::Temp => true,
        };
        node(plan, b, levels - 1, variant, child_ow, size, c, p);
    }
}

fn time<R>(f: impl FnOnce() -> R) -> (f64, R) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

/// Calibrates the model for `T`: the packed GEMM alone at each size in `sizes` (median time and
/// its packing phases), and the kernel's operand-sum bandwidth on `n/2` blocks.
fn calibrate<T: Element>(sizes: &[usize], n: usize) -> Calib {
    let gemm = Engine::new().threads(1).max_levels(0);
    let mut gemms = Vec::new();
    for &b in sizes {
        let (x, y) = (random_matrix::<T>(b, b, 11), random_matrix::<T>(b, b, 12));
        let mut z = vec![T::ZERO; b * b];
        common::engine_mul(&gemm, 1, &x, &y, &mut z, b).expect("product");
        let reps = if b <= 1024 { 7 } else { 3 };
        let mut runs: Vec<(f64, Vec<Entry>)> = (0..reps)
            .map(|_| {
                profile::reset();
                let wall =
                    time(|| common::engine_mul(&gemm, 1, &x, &y, &mut z, b).expect("product")).0;
                (wall, profile::snapshot())
            })
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, phases) = &runs[runs.len() / 2];
        gemms.push(Gemm {
            b,
            wall: *wall,
            pack_a: phase_sum(phases, Phase::PackA, None),
            pack_b: phase_sum(phases, Phase::PackB, None),
        });
    }
    let bw = profile::sum_bandwidth::<T>((n / 2).max(1), 3);
    Calib { gemms, bw }
}

/// The relative error of configuration `i` against plain Strassen's at the same number of
/// levels (run in the same table), flagged when it is more than twice as large; `-` for the
/// baselines and for Strassen itself.
fn error_vs_strassen(configs: &[Config], errors: &[f64], i: usize) -> String {
    let cfg = &configs[i];
    let plain = format!(
        "Strassen, {} level{}",
        cfg.levels,
        if cfg.levels == 1 { "" } else { "s" }
    );
    if cfg.levels == 0 || cfg.name == plain {
        return "-".into();
    }
    let Some(j) = configs.iter().position(|c| c.name == plain) else {
        return "-".into();
    };
    let r = errors[i] / errors[j];
    if r > 2.0 {
        format!("{r:.2}x: **loses more than 2x accuracy**")
    } else {
        format!("{r:.2}x")
    }
}

fn phase_sum(s: &[Entry], phase: Phase, depth: Option<usize>) -> f64 {
    s.iter()
        .filter(|e| e.phase == phase && depth.is_none_or(|d| e.depth == d))
        .map(|e| e.time.as_secs_f64())
        .sum()
}

/// Results of one (dtype, size) cell, as markdown.
fn cell<T: Element>(n: usize, levels: &[usize], md: &mut String, calib_md: &mut String) {
    let strassen = Engine::new().threads(1);
    let winograd = Scheme::shipped("winograd")
        .and_then(|s| strassen.clone().with_scheme(&s).ok())
        .expect("the shipped Winograd scheme");
    let mut configs = Vec::new();
    configs.push(Config {
        name: "OpenBLAS".into(),
        engine: None,
        levels: 0,
        variant: Variant::MultiOutput,
        alt: false,
    });
    configs.push(Config {
        name: "packed GEMM".into(),
        engine: Some(strassen.clone().max_levels(0)),
        levels: 0,
        variant: Variant::MultiOutput,
        alt: false,
    });
    for (label, base) in [("Strassen", &strassen), ("Winograd", &winograd)] {
        for &l in levels {
            if n >> l < 16 {
                continue;
            }
            configs.push(Config {
                name: format!("{label}, {l} level{}", if l == 1 { "" } else { "s" }),
                engine: Some(base.clone().cutoff(n >> l).max_levels(l)),
                levels: l,
                variant: Variant::MultiOutput,
                alt: false,
            });
        }
    }
    // The other last-level variants, with Strassen.
    for (label, v) in [("AB", Variant::Packed), ("explicit", Variant::Explicit)] {
        for &l in levels {
            if n >> l < 16 {
                continue;
            }
            configs.push(Config {
                name: format!(
                    "Strassen, {l} level{}, {label} last level",
                    if l == 1 { "" } else { "s" }
                ),
                engine: Some(strassen.clone().cutoff(n >> l).max_levels(l).variant(v)),
                levels: l,
                variant: v,
                alt: false,
            });
        }
    }
    // Winograd's scheme in its sparsest alternative basis (the kernel's transform path).
    let alt = strassen
        .clone()
        .alt_basis(&AltBasis::winograd_sparse())
        .expect("the shipped alternative basis");
    for &l in levels {
        if n >> l < 16 {
            continue;
        }
        configs.push(Config {
            name: format!(
                "Winograd alt basis, {l} level{}",
                if l == 1 { "" } else { "s" }
            ),
            engine: Some(alt.clone().cutoff(n >> l).max_levels(l)),
            levels: l,
            variant: Variant::MultiOutput,
            alt: true,
        });
    }
    configs.push(Config {
        name: "default engine".into(),
        levels: strassen.levels_for::<T>(n, n, n),
        engine: Some(strassen.clone()),
        variant: strassen.variant_kind(),
        alt: false,
    });

    // STRASS_BENCH_CONFIGS: the configurations to run, by exact name, `;`-separated (OpenBLAS,
    // the baseline, always runs).
    if let Ok(only) = std::env::var("STRASS_BENCH_CONFIGS") {
        let names: Vec<&str> = only.split(';').map(str::trim).collect();
        configs.retain(|c| c.engine.is_none() || names.contains(&c.name.as_str()));
    }
    let leaf_sizes: Vec<usize> = (0..=levels.iter().copied().max().unwrap_or(0))
        .map(|l| n >> l)
        .filter(|&b| b >= 16)
        .collect();
    let calib = calibrate::<T>(&leaf_sizes, n);
    let _ = writeln!(
        calib_md,
        "| {} | {n} | {} | {:.1} |",
        T::DTYPE,
        calib
            .gemms
            .iter()
            .map(|g| format!(
                "{}: {:.1} ({:.1}% / {:.1}%)",
                g.b,
                gemm_flops(g.b, g.b, g.b) / g.wall / 1e9,
                100.0 * g.pack_a / g.wall,
                100.0 * g.pack_b / g.wall
            ))
            .collect::<Vec<_>>()
            .join(", "),
        calib.bw / 1e9
    );

    let (a, b) = (random_matrix::<T>(n, n, 1), random_matrix::<T>(n, n, 2));
    let mut c = vec![T::ZERO; n * n];
    let check = ResidualCheck::new(&a, &b, n, n, n, 3);
    let flops = gemm_flops(n, n, n);
    let reps = common::env_num("STRASS_BENCH_REPS", if flops > 4e11 { 2 } else { 3 });
    let warmup = common::env_num("STRASS_BENCH_WARMUP", 1);
    let mut samples: Vec<Vec<Sample>> = configs.iter().map(|_| Vec::new()).collect();
    let mut errors = vec![f64::NAN; configs.len()];
    for round in 0..warmup + reps {
        for (i, cfg) in configs.iter().enumerate() {
            profile::reset();
            let (wall, ()) = time(|| match &cfg.engine {
                Some(e) => common::engine_mul(e, 1, &a, &b, &mut c, n).expect("product"),
                None => common::openblas_mul(1, &a, &b, &mut c, n).expect("OpenBLAS"),
            });
            let phases = profile::snapshot();
            if round == 0 {
                errors[i] = check.error(&c);
            }
            if round >= warmup {
                samples[i].push(Sample { wall, phases });
            }
        }
    }
    let med = |s: &[Sample]| median(&s.iter().map(|x| x.wall).collect::<Vec<_>>());
    let base = med(&samples[0]);
    let base_name = &configs[0].name;
    let _ = writeln!(md, "\n### {} {n}^3, 1 thread\n", T::DTYPE);
    let _ = writeln!(
        md,
        "| configuration | levels | median s | vs {base_name} | predicted s | model error | rel. error | error vs Strassen |"
    );
    let _ = writeln!(
        md,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    let mut breakdown = String::new();
    let _ = writeln!(
        breakdown,
        "\n| {} {n}^3 | leaf products | operand sums | scatters | zeroing | fringes | unaccounted | pack A | pack B | micro-kernels |",
        T::DTYPE
    );
    let _ = writeln!(
        breakdown,
        "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |"
    );
    for (i, cfg) in configs.iter().enumerate() {
        let m = med(&samples[i]);
        let pred = cfg.engine.as_ref().map(|e| {
            let size = std::mem::size_of::<T>();
            let mut p = predict(e.plan(), n, cfg.levels, cfg.variant, size, &calib);
            if cfg.alt {
                // The core's plan, plus one pass of each basis map: A and B read and their
                // transforms written, the core's result read and C written.
                p.additions += 6.0 * (n * n * size) as f64 / calib.bw;
            }
            p
        });
        let (p_s, p_err) = pred.map_or(("-".into(), "-".into()), |p| {
            (
                common::secs(p.total()),
                format!("{:+.1}%", 100.0 * (p.total() - m) / m),
            )
        });
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3}x | {p_s} | {p_err} | {:.2e} | {} |",
            cfg.name,
            cfg.levels,
            common::secs(m),
            base / m,
            errors[i],
            error_vs_strassen(&configs, &errors, i)
        );
        if cfg.engine.is_none() {
            continue;
        }
        // The breakdown of the median sample (the faster one of two).
        let s = samples[i]
            .iter()
            .min_by(|x, y| (x.wall - m).abs().total_cmp(&(y.wall - m).abs()))
            .expect("a sample");
        let per_depth = |phase: Phase| -> String {
            let mut parts = Vec::new();
            for d in 0..profile::MAX_DEPTH {
                let t = phase_sum(&s.phases, phase, Some(d));
                if t > 0.0 {
                    parts.push(format!("d{d} {:.3} ({:.0}%)", t, 100.0 * t / s.wall));
                }
            }
            if parts.is_empty() {
                "-".into()
            } else {
                parts.join(", ")
            }
        };
        // The recursion's phases (disjoint); the packed GEMM's nest inside them.
        let top: f64 = profile::PHASES[..6]
            .iter()
            .map(|&ph| phase_sum(&s.phases, ph, None))
            .sum();
        let leafish = format!(
            "{}{}",
            per_depth(Phase::Leaf).replace('-', ""),
            per_depth(Phase::Product).replace('-', "")
        );
        let pct = |ph: Phase| {
            let t = phase_sum(&s.phases, ph, None);
            format!("{:.3} ({:.0}%)", t, 100.0 * t / s.wall)
        };
        let _ = writeln!(
            breakdown,
            "| {} ({} s) | {} | {} | {} | {} | {} | {:.3} ({:.0}%) | {} | {} | {} |",
            cfg.name,
            common::secs(s.wall),
            leafish,
            per_depth(Phase::Operands),
            per_depth(Phase::Scatter),
            per_depth(Phase::Zero),
            per_depth(Phase::Fringe),
            s.wall - top,
            100.0 * (s.wall - top) / s.wall,
            pct(Phase::PackA),
            pct(Phase::PackB),
            pct(Phase::Micro),
        );
        if let Some(p) = pred {
            let _ = writeln!(
                breakdown,
                "| model: {} | {:.3} + {:.3} extra terms | {:.3} (all additions) | | | | | | | |",
                cfg.name, p.flops, p.product_extra, p.additions
            );
        }
    }
    md.push_str(&breakdown);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (sizes, default_sizes) = common::sizes(&[4096, 8192]);
    let dtypes: Vec<String> = std::env::var("STRASS_BENCH_DTYPES")
        .unwrap_or_else(|_| "f32,f64".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let levels = common::env_list("STRASS_BENCH_LEVELS").unwrap_or_else(|| vec![1, 2, 3]);
    let full = default_sizes
        && std::env::var_os("STRASS_BENCH_DTYPES").is_none()
        && std::env::var_os("STRASS_BENCH_REPS").is_none()
        && std::env::var_os("STRASS_BENCH_LEVELS").is_none()
        && std::env::var_os("STRASS_BENCH_CONFIGS").is_none();
    let machine = Machine::detect();
    let load_start = common::loadavg();
    let t0 = Instant::now();
    let mut md = String::new();
    let mut calib_md = String::from(
        "| dtype | size | packed GEMM alone at leaf size b: GFLOP/s (share packing A / B) | operand sum GB/s |\n| --- | ---: | --- | ---: |\n",
    );
    for &n in &sizes {
        for d in &dtypes {
            match d.as_str() {
                "f32" => cell::<f32>(n, &levels, &mut md, &mut calib_md),
                "f64" => cell::<f64>(n, &levels, &mut md, &mut calib_md),
                other => panic!("STRASS_BENCH_DTYPES: unknown dtype `{other}`"),
            }
            eprint!("{md}");
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Time breakdown and cost model\n");
    let _ = writeln!(
        out,
        "Command: `{}`. Run took {:.0} s; load average {load_start} \
         at the start, {} at the end. One thread; medians of interleaved runs.\n",
        common::command_line("profile")
            .replace("--features openblas", "--features openblas,profile"),
        t0.elapsed().as_secs_f64(),
        common::loadavg()
    );
    out.push_str(&machine.to_markdown());
    let _ = writeln!(
        out,
        "\n## Calibration (measured first, same process)\n\n{calib_md}"
    );
    let _ = writeln!(
        out,
        "## Measured and predicted\n\nPhase columns: seconds at each recursion depth `d` (share of \
         the wall time). Leaf products are the whole packed GEMM calls (packing included); \
         operand sums, scatters and zeroing are the explicit passes of the upper levels; fringes \
         the peeled remainders. Pack A / pack B / micro-kernels split the packed GEMM's time over \
         all its calls. The model rows give the predicted flop time of the leaf products, the \
         predicted cost of their extra terms, and of all explicit additions.\n{md}"
    );
    let dir = common::out_dir(full);
    common::write(&dir.join("profile.md"), &out);
}
