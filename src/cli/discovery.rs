//! `strass train --method flip` and `strass discover`: rank reduction by flip-graph walks
//! ([`crate::train::flip`]) and the discovery table over shapes and seeds.

use super::training::{SettingsArgs, TrainArgs};
use crate::train::flip::{
    self, FlipEngine, FlipOutcome, FlipSettings, PolishObjective, SchemeMetrics,
};
use crate::train::stats::{wilson, Proportion, Z95};
use crate::Scheme;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How `strass train` searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// `gradient` for <2,2,2> or when a gradient-only option is given, else `flip`.
    Auto,
    /// The bilinear model trained by AdamW, pruned and rounded (`--protocol anneal|paper`).
    Gradient,
    /// Random walks on the flip graph from the definition of the product (exact at every step).
    Flip,
}

/// Options of the flip method (`strass train --method flip`, `strass discover`).
#[derive(Debug, Args, Clone, Default)]
pub struct FlipArgs {
    /// Coefficient bound of the flip method: coefficients stay in [-B, B] (default 1).
    #[arg(long)]
    pub max_coeff: Option<i8>,
    /// Flip method: flips without a rank reduction before restarting from the definition.
    #[arg(long)]
    pub plateau_flips: Option<u64>,
    /// Flip method: flips at the target rank spent reducing nonzeros (default 200000).
    #[arg(long)]
    pub polish_flips: Option<u64>,
    /// Flip method: what the polish phase minimises, `nonzeros` (the default) or `additions`
    /// (additions after common-subexpression elimination, as the plan compiler counts them).
    #[arg(long, value_enum)]
    pub polish_objective: Option<PolishObjective>,
    /// Flip method: temperature of the polish phase in nonzeros (a flip adding d nonzeros is
    /// taken with probability exp(-d / T); default 0.5, 0: never).
    #[arg(long)]
    pub polish_temperature: Option<f64>,
    /// Flip method: plus transitions (rank + 1) on a plateau without a new lowest rank before a
    /// restart from the definition (0: always restart).
    #[arg(long)]
    pub plus_limit: Option<u64>,
    /// Flip method: the implementation, `bits` (coefficients in {-1,0,1} as bitmasks, the
    /// default) or `legacy` (bytes, any coefficient bound; the default when --max-coeff > 1).
    #[arg(long, value_enum)]
    pub engine: Option<FlipEngine>,
    /// Flip method, bits engine: plus transitions only while the rank is below the lowest rank
    /// reached + this cap (default 2).
    #[arg(long)]
    pub plus_cap: Option<u32>,
    /// Flip method, bits engine: schemes kept at the lowest rank reached to restart from
    /// (default 64).
    #[arg(long)]
    pub pool_size: Option<u32>,
    /// Flip method: give up after this many CPU seconds of the run's thread (a failure; the
    /// default is no limit).
    #[arg(long)]
    pub time_limit: Option<f64>,
}

impl FlipArgs {
    fn apply(&self, s: &mut FlipSettings) -> crate::Result<()> {
        if let Some(b) = self.max_coeff {
            s.max_coeff = b;
            if b != 1 {
                s.engine = FlipEngine::Legacy;
            }
        }
        if let Some(e) = self.engine {
            s.engine = e;
        }
        if let Some(c) = self.plus_cap {
            s.plus_cap = c;
        }
        if let Some(p) = self.pool_size {
            s.pool_size = p;
        }
        if let Some(p) = self.plateau_flips {
            s.plateau_flips = p;
        }
        if let Some(p) = self.polish_flips {
            s.polish_flips = p;
        }
        if let Some(o) = self.polish_objective {
            s.polish_objective = o;
        }
        if let Some(t) = self.polish_temperature {
            s.polish_temperature = t;
        }
        if let Some(p) = self.plus_limit {
            s.plus_limit = p;
        }
        if let Some(t) = self.time_limit {
            if !(t.is_finite() && t > 0.0) {
                return Err(crate::Error::Config(format!(
                    "--time-limit must be a positive number of seconds, got {t}"
                )));
            }
        }
        s.validate()?;
        Ok(())
    }

    fn any_set(&self) -> bool {
        self.max_coeff.is_some()
            || self.plateau_flips.is_some()
            || self.polish_flips.is_some()
            || self.polish_objective.is_some()
            || self.polish_temperature.is_some()
            || self.plus_limit.is_some()
            || self.time_limit.is_some()
            || self.engine.is_some()
            || self.plus_cap.is_some()
            || self.pool_size.is_some()
    }
}

/// The gradient-only options that are set (by their command-line names).
fn gradient_options(a: &SettingsArgs) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut push = |set: bool, name: &'static str| {
        if set {
            v.push(name);
        }
    };
    push(a.protocol.is_some(), "--protocol");
    push(a.repeat.is_some(), "--repeat");
    push(a.slots.is_some(), "--slots");
    push(a.objective.is_some(), "--objective");
    push(a.distr.is_some(), "--distr");
    push(a.train_size.is_some(), "--train-size");
    push(a.test_size.is_some(), "--test-size");
    push(a.batch_size.is_some(), "--batch-size");
    push(a.epochs.is_some(), "--epochs");
    push(a.test_every.is_some(), "--test-every");
    push(a.lr.is_some(), "--lr");
    push(a.wd.is_some(), "--wd");
    push(a.init_scale.is_some(), "--init-scale");
    push(a.symmetric, "--symmetric");
    push(a.finetune_epochs.is_some(), "--finetune-epochs");
    push(a.rounding.is_some(), "--rounding");
    push(a.restarts.is_some(), "--restarts");
    push(a.anneal_steps.is_some(), "--anneal-steps");
    push(a.anneal_lambda.is_some(), "--anneal-lambda");
    push(a.anneal_lr.is_some(), "--anneal-lr");
    push(a.fallback.is_some(), "--fallback");
    v
}

/// The method `strass train` uses: `--method`, or for `auto` the gradient trainer on <2,2,2>
/// (its default protocol writes `kernels/learned.json`) or when a gradient-only option is
/// given, the flip method otherwise. Refuses flip options with the gradient method and
/// gradient options with the flip method.
pub fn resolve_method(a: &TrainArgs) -> crate::Result<Method> {
    let grad = gradient_options(&a.settings);
    let square2 = a.settings.dims.is_none_or(|d| d == (2, 2, 2));
    let method = match a.method {
        Method::Auto if square2 || !grad.is_empty() => Method::Gradient,
        Method::Auto => Method::Flip,
        m => m,
    };
    match method {
        Method::Flip if !grad.is_empty() => Err(crate::Error::Config(format!(
            "{} appl{} to the gradient method only, not to --method flip",
            grad.join(", "),
            if grad.len() == 1 { "ies" } else { "y" }
        ))),
        Method::Gradient if a.flip.any_set() => Err(crate::Error::Config(
            "--max-coeff, --plateau-flips, --polish-flips, --polish-objective, --polish-temperature, --plus-limit, --engine, --plus-cap, --pool-size and --time-limit apply to the flip method only (add --method flip)"
                .into(),
        )),
        m => Ok(m),
    }
}

/// The record of one flip run (`--record`, `--json`, and the lines of `strass discover`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlipRecord {
    /// `"flip"`.
    pub method: String,
    /// Everything that decides the result.
    pub settings: FlipSettings,
    /// The time limit, if any.
    pub time_limit_s: Option<f64>,
    /// True when an exact scheme of rank at most the target was found (and verified).
    pub success: bool,
    /// Lowest rank reached.
    pub best_rank: usize,
    /// Rank of the written scheme.
    pub rank: Option<usize>,
    /// Flips in total.
    pub flips: u64,
    /// Flips until the target was first reached.
    pub flips_to_target: Option<u64>,
    /// Restarts from the definition.
    pub restarts: u64,
    /// True when the time limit ended the run.
    pub timed_out: bool,
    /// Wall time in seconds.
    pub wall_time_s: f64,
    /// CPU time of the run's thread in seconds (what the time limit counts).
    pub cpu_time_s: f64,
    /// Nonzeros when the target was first reached, before polishing.
    pub nonzeros_unpolished: Option<usize>,
    /// Nonzeros, additions and growth factor of the written scheme.
    pub metrics: Option<SchemeMetrics>,
}

fn record_of(s: &FlipSettings, limit: Option<f64>, o: &FlipOutcome) -> FlipRecord {
    FlipRecord {
        method: "flip".into(),
        settings: s.clone(),
        time_limit_s: limit,
        success: o.scheme.is_some(),
        best_rank: o.best_rank,
        rank: o.scheme.as_ref().map(|x| x.rank),
        flips: o.flips,
        flips_to_target: o.flips_to_target,
        restarts: o.restarts,
        timed_out: o.timed_out,
        wall_time_s: o.wall_time_s,
        cpu_time_s: o.cpu_time_s,
        nonzeros_unpolished: o.nonzeros_unpolished,
        metrics: o.scheme.as_ref().map(flip::scheme_metrics),
    }
}

/// The scheme as written: named `name`, with the seed, settings and metrics as provenance
/// (nothing time-dependent, so the same command writes the same file).
pub fn learned_scheme(s: &Scheme, name: &str, rec: &FlipRecord) -> crate::Result<Scheme> {
    let provenance = json!({
        "source": "training",
        "generator": format!("strass {}", env!("CARGO_PKG_VERSION")),
        "method": "flip",
        "description": "random walk on the flip graph over the integers, from the definition of the product (rank m*k*n), seeded; exact at every step; see src/train/flip.rs",
        "seed": rec.settings.seed,
        "settings": rec.settings,
        "command": format!(
            "strass train --method flip --dims {},{},{} --target-rank {} --seed {}{} --name {name}",
            rec.settings.m, rec.settings.k, rec.settings.n, rec.settings.target_rank, rec.settings.seed,
            non_default_flags(&rec.settings)
        ),
        "metrics": {
            "flips": rec.flips,
            "flips_to_target": rec.flips_to_target,
            "restarts": rec.restarts,
            "nonzeros_unpolished": rec.nonzeros_unpolished,
            "metrics": rec.metrics,
        },
    });
    Ok(Scheme::new(
        name,
        (s.m, s.k, s.n),
        s.u.clone(),
        s.v.clone(),
        s.w.clone(),
        provenance,
    )?)
}

fn non_default_flags(s: &FlipSettings) -> String {
    let d = FlipSettings::new(s.m, s.k, s.n, s.target_rank, s.seed);
    let mut f = String::new();
    if s.max_coeff != d.max_coeff {
        let _ = write!(f, " --max-coeff {}", s.max_coeff);
    }
    if s.plateau_flips != d.plateau_flips {
        let _ = write!(f, " --plateau-flips {}", s.plateau_flips);
    }
    if s.polish_flips != d.polish_flips {
        let _ = write!(f, " --polish-flips {}", s.polish_flips);
    }
    if s.polish_temperature != d.polish_temperature {
        let _ = write!(f, " --polish-temperature {}", s.polish_temperature);
    }
    if s.polish_objective != d.polish_objective {
        let _ = write!(f, " --polish-objective {}", s.polish_objective.name());
    }
    if s.plus_limit != d.plus_limit {
        let _ = write!(f, " --plus-limit {}", s.plus_limit);
    }
    // --max-coeff > 1 alone selects the legacy engine.
    let implied = if s.max_coeff != 1 {
        FlipEngine::Legacy
    } else {
        d.engine
    };
    if s.engine != implied {
        let _ = write!(f, " --engine {}", s.engine.name());
    }
    if s.engine == FlipEngine::Bits {
        if s.plus_cap != d.plus_cap {
            let _ = write!(f, " --plus-cap {}", s.plus_cap);
        }
        if s.pool_size != d.pool_size {
            let _ = write!(f, " --pool-size {}", s.pool_size);
        }
    }
    f
}

fn spinner(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("valid template"),
    );
    pb
}

/// `strass train --method flip`.
pub fn cmd_train_flip(a: &TrainArgs) -> crate::Result<ExitCode> {
    let (m, k, n) = a.settings.dims.unwrap_or((2, 2, 2));
    let Some(target) = a.settings.target_rank else {
        return Err(crate::Error::Config(
            "--method flip needs --target-rank".into(),
        ));
    };
    let mut s = FlipSettings::new(m, k, n, target, a.settings.seed.unwrap_or(0));
    a.flip.apply(&mut s)?;
    let pb = spinner(!a.json && !a.quiet);
    let o = flip::run(&s, a.flip.time_limit, &mut |p| {
        pb.set_message(format!(
            "<{m},{k},{n}> target {target}: rank {} (best {}), {} flips, {} restarts",
            p.rank, p.best_rank, p.flips, p.restarts
        ));
        pb.tick();
    })?;
    pb.finish_and_clear();
    let rec = record_of(&s, a.flip.time_limit, &o);
    let line = serde_json::to_string(&rec).expect("records serialise");
    if let Some(p) = &a.record {
        std::fs::write(p, format!("{line}\n")).map_err(|e| crate::Error::io(p, e))?;
    }
    let written = match &o.scheme {
        Some(sch) => {
            let out = learned_scheme(sch, &a.name, &rec)?;
            // Checked once more on the object that is written.
            out.ensure_valid()?;
            out.save(&a.out)?;
            true
        }
        None => false,
    };
    if a.json {
        println!("{line}");
    } else {
        println!(
            "flip <{m},{k},{n}> target rank {target} seed {}: {} in {:.2} s CPU ({} flips, {} restarts{})",
            s.seed,
            if rec.success { "EXACT" } else { "FAILED (target rank not reached)" },
            rec.cpu_time_s,
            rec.flips,
            rec.restarts,
            if rec.timed_out { ", time limit reached" } else { "" }
        );
        match &rec.metrics {
            Some(mt) => println!(
                "  rank {}, {} nonzeros (before polishing {}), additions {} term by term, {} after CSE, growth factor {}",
                rec.rank.unwrap_or(0),
                mt.nonzeros,
                rec.nonzeros_unpolished.unwrap_or(0),
                mt.additions_naive,
                mt.additions_cse,
                mt.growth
            ),
            None => println!("  lowest rank reached: {}", rec.best_rank),
        }
        if written {
            println!("  wrote {} (verified exactly)", a.out.display());
        } else {
            println!("  no scheme written");
        }
    }
    Ok(if written {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One row of the discovery table: a shape, a target and the best rank known in the literature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Shape.
    pub dims: (usize, usize, usize),
    /// Target rank.
    pub rank: usize,
    /// Time limit per seed for this row (CPU seconds), overriding `--time-limit`.
    pub time_limit: Option<f64>,
}

fn parse_target(s: &str) -> Result<Target, String> {
    let (s, time_limit) = match s.split_once('@') {
        Some((t, l)) => {
            let l: f64 = l.trim().parse().map_err(|e| format!("`{l}`: {e}"))?;
            if !(l.is_finite() && l > 0.0) {
                return Err(format!("time limit `{l}` must be positive"));
            }
            (t, Some(l))
        }
        None => (s, None),
    };
    let (d, r) = s
        .split_once(':')
        .ok_or_else(|| format!("expected m,k,n:rank[@seconds], got `{s}`"))?;
    let dims: Vec<usize> = d
        .split(',')
        .map(|x| x.trim().parse::<usize>().map_err(|e| format!("`{x}`: {e}")))
        .collect::<Result<_, _>>()?;
    if dims.len() != 3 {
        return Err(format!("expected m,k,n:rank, got `{s}`"));
    }
    let rank = r.trim().parse().map_err(|e| format!("`{r}`: {e}"))?;
    Ok(Target {
        dims: (dims[0], dims[1], dims[2]),
        rank,
        time_limit,
    })
}

/// The best rank known to us from the literature for small shapes (integer or rational
/// coefficients), for the report only: the search never sees it.
fn best_known(d: (usize, usize, usize)) -> &'static str {
    let mut s = [d.0, d.1, d.2];
    s.sort_unstable();
    match s {
        [2, 2, 2] => "7",
        [2, 2, 3] => "11",
        [2, 3, 3] => "15",
        [2, 2, 4] => "14",
        [3, 3, 3] => "23",
        [2, 3, 4] => "20",
        [2, 4, 4] => "26",
        [3, 3, 4] => "29",
        [4, 4, 4] => "49 (48 reported in 2025)",
        [3, 4, 4] => "38",
        [3, 3, 5] => "36",
        [4, 4, 5] => "61 (reported in 2025; 62 before)",
        [5, 5, 5] => "93 (reported in 2025)",
        _ => "?",
    }
}

/// Default rows of `strass discover`.
pub const DEFAULT_TARGETS: &str =
    "2,2,2:7 2,2,3:11 2,3,3:15 2,2,4:14 3,3,3:23 2,3,4:20 2,4,4:27 2,4,4:26@10 3,3,4:30 3,3,4:29@10 4,4,4:49@10";

/// `strass discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Rows `m,k,n:rank[@seconds]` (a per-row time limit), separated by spaces.
    #[arg(long, num_args = 1.., value_parser = parse_target, default_value = DEFAULT_TARGETS, value_delimiter = ' ')]
    pub targets: Vec<Target>,
    /// Seeds per row (first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Flip-method options (the time limit is per seed, in CPU seconds; default 20 here).
    #[command(flatten)]
    pub flip: FlipArgs,
    /// Output directory (runs.jsonl, discovery.md, best schemes).
    #[arg(long, default_value = "bench-results/discovery")]
    pub out_dir: PathBuf,
    /// Report to put the table into (between discovery markers; appended when absent).
    #[arg(long, default_value = "bench-results/REPORT.md")]
    pub report: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Start and end markers of the discovery section in the report.
pub const MARK_BEGIN: &str = "<!-- strass discover: begin -->";
/// See [`MARK_BEGIN`].
pub const MARK_END: &str = "<!-- strass discover: end -->";

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let idx = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// `strass discover`: every row over the seeds, one run at a time on this thread.
pub fn cmd_discover(a: &DiscoverArgs) -> crate::Result<ExitCode> {
    if a.seeds == 0 || a.targets.is_empty() {
        return Err(crate::Error::Config(
            "discover needs at least one seed and one target".into(),
        ));
    }
    let limit = a.flip.time_limit.unwrap_or(20.0);
    let mut settings = Vec::new();
    for t in &a.targets {
        let (m, k, n) = t.dims;
        let mut s = FlipSettings::new(m, k, n, t.rank, 0);
        a.flip.apply(&mut s)?;
        settings.push((s, t.time_limit.unwrap_or(limit)));
    }
    std::fs::create_dir_all(&a.out_dir).map_err(|e| crate::Error::io(&a.out_dir, e))?;
    let load_before = crate::train::study::machine_description();
    let total = a.seeds * a.targets.len() as u64;
    let pb = if a.quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template("[{elapsed}] {bar:30} {pos}/{len} {msg}")
                .expect("valid template"),
        );
        pb
    };
    let mut lines = String::new();
    let mut rows = String::new();
    let mut not_reached = Vec::new();
    for (done, (base, limit)) in settings.iter().enumerate() {
        let done_rows = done + 1;
        let limit = *limit;
        let mut recs = Vec::new();
        let mut best: Option<(Scheme, FlipRecord)> = None;
        for seed in a.first_seed..a.first_seed + a.seeds {
            let mut s = base.clone();
            s.seed = seed;
            pb.set_message(format!(
                "<{},{},{};{}> seed {seed}",
                s.m, s.k, s.n, s.target_rank
            ));
            let o = flip::run(&s, Some(limit), &mut |_| pb.tick())?;
            let rec = record_of(&s, Some(limit), &o);
            lines.push_str(&serde_json::to_string(&rec).expect("records serialise"));
            lines.push('\n');
            if let (Some(sch), Some(mt)) = (&o.scheme, &rec.metrics) {
                let better = best.as_ref().is_none_or(|(b, br)| {
                    let bm = br.metrics.expect("successes have metrics");
                    (sch.rank, mt.additions_cse, mt.nonzeros)
                        < (b.rank, bm.additions_cse, bm.nonzeros)
                });
                if better {
                    best = Some((sch.clone(), rec.clone()));
                }
            }
            recs.push(rec);
            pb.inc(1);
        }
        let (m, k, n) = (base.m, base.k, base.n);
        let ok: Vec<&FlipRecord> = recs.iter().filter(|r| r.success).collect();
        let p: Proportion = wilson(ok.len(), recs.len(), Z95);
        let mut times: Vec<f64> = ok.iter().map(|r| r.cpu_time_s).collect();
        times.sort_by(f64::total_cmp);
        let timeouts = recs.iter().filter(|r| r.timed_out).count();
        let lowest = recs.iter().map(|r| r.best_rank).min().unwrap_or(0);
        let metric = |f: fn(&SchemeMetrics) -> usize| -> String {
            let mut v: Vec<usize> = ok
                .iter()
                .filter_map(|r| r.metrics.as_ref().map(f))
                .collect();
            v.sort_unstable();
            match (v.first(), v.get(v.len() / 2)) {
                (Some(lo), Some(med)) => format!("{lo} / {med}"),
                _ => "-".into(),
            }
        };
        let growth = {
            let mut v: Vec<i64> = ok
                .iter()
                .filter_map(|r| r.metrics.map(|x| x.growth))
                .collect();
            v.sort_unstable();
            match (v.first(), v.get(v.len() / 2)) {
                (Some(lo), Some(med)) => format!("{lo} / {med}"),
                _ => "-".into(),
            }
        };
        let (all_flips, all_cpu) = recs
            .iter()
            .fold((0u64, 0.0f64), |(f, c), r| (f + r.flips, c + r.cpu_time_s));
        let rate = if all_cpu > 0.0 {
            format!("{:.2}M", all_flips as f64 / all_cpu / 1e6)
        } else {
            "-".into()
        };
        let _ = writeln!(
            rows,
            "| <{m},{k},{n}> | {} | {} | {} | {limit} | {}/{} ({:.0}%-{:.0}%) | {} | {} | {} | {} | {rate} | {} | {} | {} |",
            base.target_rank,
            base.engine.name(),
            best_known((m, k, n)),
            p.successes,
            p.trials,
            100.0 * p.lo,
            100.0 * p.hi,
            if times.is_empty() { "-".into() } else { format!("{:.2}", quantile(&times, 0.5)) },
            if times.is_empty() { "-".into() } else { format!("{:.2}", quantile(&times, 0.9)) },
            timeouts,
            lowest,
            metric(|x| x.nonzeros),
            metric(|x| x.additions_cse),
            growth,
        );
        if ok.is_empty() {
            not_reached.push(format!(
                "<{m},{k},{n};{}> (lowest rank reached in {} seeds of at most {limit} CPU s each: {lowest})",
                base.target_rank,
                recs.len()
            ));
        }
        if let Some((sch, rec)) = best {
            let name = format!("learned-{m}{k}{n}-{}", sch.rank);
            let file = a.out_dir.join(format!("{name}.json"));
            learned_scheme(&sch, &name, &rec)?.save(&file)?;
        }
        write_discovery(
            a,
            &lines,
            &rows,
            &not_reached,
            &load_before,
            done_rows,
            settings.len(),
        )?;
    }
    pb.finish_and_clear();
    let md = write_discovery(
        a,
        &lines,
        &rows,
        &not_reached,
        &load_before,
        settings.len(),
        settings.len(),
    )?;
    print!("{md}");
    Ok(ExitCode::SUCCESS)
}

/// Writes runs.jsonl, discovery.md and the report section for the rows done so far.
#[allow(clippy::too_many_arguments)]
fn write_discovery(
    a: &DiscoverArgs,
    lines: &str,
    rows: &str,
    not_reached: &[String],
    load_before: &str,
    rows_done: usize,
    rows_total: usize,
) -> crate::Result<String> {
    let runs = a.out_dir.join("runs.jsonl");
    std::fs::write(&runs, lines).map_err(|e| crate::Error::io(&runs, e))?;
    let load_after = crate::train::study::machine_description();
    let mut md = String::new();
    let _ = writeln!(md, "## Discovery: exact schemes by flip-graph walks\n");
    let _ = writeln!(
        md,
        "Each run is a random walk on the flip graph (`src/train/flip.rs`; engine `bits`: \
         coefficients in {{-1,0,1}} as bitmasks, plus transitions while the rank is below the \
         lowest reached + a cap, restarts from a pool of schemes at the lowest rank; engine \
         `legacy`: the first implementation), starting from the definition of the product (rank \
         m*k*n) and seeded with its seed; it succeeds when it reaches the target rank, and the \
         result is verified exactly (Brent equations). One run of a row is reproduced by \
         `strass train --method flip --dims m,k,n --target-rank r --seed s --time-limit t` (with \
         the options of the command below); flips / CPU s is over all runs of the row. A run that does not reach the target within the time limit is a failure. \
         Seeds {}..{}, time limit per seed (CPU seconds) as in the table, one run at a time on one \
         thread, under `nice -n 19`. Times are CPU seconds of the run's thread (so they do not \
         count time the shared machine gave to other jobs), including the polish phase \
         (nonzero reduction). Nonzeros, additions after common-subexpression elimination (CSE, the plan \
         compiler's count per level) and growth factor `max_i sum_r |w_ir| |u_r|_1 |v_r|_1` are \
         given as best / median over the successful seeds. The best scheme of each row (fewest \
         additions after CSE) is written to `{}`.\n",
        a.first_seed,
        a.first_seed + a.seeds - 1,
        a.out_dir.display()
    );
    let _ = writeln!(md, "Command: `{}`\n", super::training::command_line());
    let _ = writeln!(md, "Machine before: {load_before}  ");
    let _ = writeln!(md, "Machine after: {load_after}\n");
    let _ = writeln!(
        md,
        "| shape | target rank | engine | best known rank | limit CPU s | exact (95% Wilson) | median CPU s / success | p90 CPU s / success | time-outs | lowest rank reached | flips / CPU s | nonzeros | additions after CSE | growth factor |"
    );
    let _ = writeln!(
        md,
        "| --- | ---: | --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    md.push_str(rows);
    if rows_done < rows_total {
        let _ = writeln!(
            md,
            "\nPartial: {rows_done} of {rows_total} rows done when this was written."
        );
    }
    if not_reached.is_empty() {
        let _ = writeln!(md, "\nEvery target was reached by at least one seed.");
    } else {
        let _ = writeln!(md, "\nNot reached by any seed: {}.", not_reached.join("; "));
    }
    let table = a.out_dir.join("discovery.md");
    std::fs::write(&table, &md).map_err(|e| crate::Error::io(&table, e))?;
    splice_report(&a.report, &md)?;
    Ok(md)
}

/// Puts `section` into the report between [`MARK_BEGIN`] and [`MARK_END`], replacing what was
/// there, or appends it (the file is created when missing).
pub fn splice_report(path: &Path, section: &str) -> crate::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(crate::Error::io(path, e)),
    };
    let block = format!("{MARK_BEGIN}\n{section}{MARK_END}\n");
    let new = match (old.find(MARK_BEGIN), old.find(MARK_END)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{block}{}",
                &old[..b],
                old[e + MARK_END.len()..].trim_start_matches('\n')
            )
        }
        _ if old.is_empty() => block,
        _ => format!("{}\n{block}", old.trim_end_matches('\n').to_string() + "\n"),
    };
    std::fs::write(path, new).map_err(|e| crate::Error::io(path, e))
}

/// `text` with the discovery section of the report at `path` (if it has one) appended, so that
/// `strass report` keeps what `strass discover` wrote.
pub fn carry_over(path: &Path, text: String) -> String {
    let Ok(old) = std::fs::read_to_string(path) else {
        return text;
    };
    match (old.find(MARK_BEGIN), old.find(MARK_END)) {
        (Some(b), Some(e)) if e > b => format!(
            "{}\n{}\n",
            text.trim_end_matches('\n'),
            &old[b..e + MARK_END.len()]
        ),
        _ => text,
    }
}
