//! Studies: grids of training runs in parallel, with their statistics and plots.
//!
//! The default grid is the published "Protocol B": batch sizes {8, 16, 24, 32, 48, 64, 96, 128}
//! x seeds 0..5 x repeats 0..3 = 120 runs of the paper protocol. A run is identified by
//! `(batch size, seed, repeat)`: the seed fixes the data, the repeat the initialisation and the
//! shuffling. Runs execute on a rayon pool; results are written in grid order, whatever order
//! they finished in, so the output does not depend on the number of threads.
//!
//! Outputs (in the study directory): `runs.jsonl` (one record per run), `success.csv` (success
//! per batch size with 95% Wilson intervals and delta), `phase.csv` and `phase.svg` (success over
//! batch size x epochs, from phase-1 checkpoints), `summary.json` and `summary.md` (everything,
//! with the one-way ANOVAs over batch size of delta and of success).

use super::protocol::{run, RunRecord, TrainSettings};
use super::stats::{mean_sd, median, one_way_anova, wilson, Anova, Proportion, Z95};
use super::TrainError;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The batch sizes of the published grid.
pub const PROTOCOL_B_BATCHES: [usize; 8] = [8, 16, 24, 32, 48, 64, 96, 128];

/// A study grid.
#[derive(Debug, Clone, Serialize)]
pub struct StudyConfig {
    /// Settings shared by every run (batch size, seed, repeat and checkpoints are set per run).
    pub base: TrainSettings,
    /// Batch sizes.
    pub batch_sizes: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Repeats per seed.
    pub repeats: u64,
    /// Epoch counts of the phase diagram (each at most `base.epochs`; `base.epochs` is added).
    pub phase_epochs: Vec<usize>,
    /// Worker threads.
    pub threads: usize,
}

impl StudyConfig {
    /// The published grid on the paper protocol.
    pub fn protocol_b() -> Self {
        StudyConfig {
            base: TrainSettings::paper(),
            batch_sizes: PROTOCOL_B_BATCHES.to_vec(),
            seeds: (0..5).collect(),
            repeats: 3,
            phase_epochs: vec![50, 100, 200, 300, 500, 700, 1000],
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// The settings of every run, in grid order (batch size, then seed, then repeat).
    pub fn runs(&self) -> Vec<TrainSettings> {
        let mut cps: Vec<usize> = self
            .phase_epochs
            .iter()
            .copied()
            .filter(|&e| e > 0 && e <= self.base.epochs)
            .chain(std::iter::once(self.base.epochs))
            .collect();
        cps.sort_unstable();
        cps.dedup();
        let mut out = Vec::new();
        for &b in &self.batch_sizes {
            for &seed in &self.seeds {
                for repeat in 0..self.repeats {
                    let mut s = self.base.clone();
                    s.batch_size = b;
                    s.seed = seed;
                    s.repeat = repeat;
                    s.checkpoints = cps.clone();
                    out.push(s);
                }
            }
        }
        out
    }
}

/// All runs of a study and how long they took.
#[derive(Debug, Clone)]
pub struct StudyResult {
    /// The grid.
    pub config: StudyConfig,
    /// One record per run, in grid order.
    pub records: Vec<RunRecord>,
    /// Wall time of the whole study in seconds.
    pub wall_time_s: f64,
}

/// Runs the grid on a pool of `config.threads` threads, with a progress bar on stderr when
/// `progress` is set (and stderr is a terminal).
pub fn run_study(config: &StudyConfig, progress: bool) -> Result<StudyResult, TrainError> {
    let runs = config.runs();
    if runs.is_empty() {
        return Err(TrainError::Settings(
            "the study grid is empty (no batch sizes, seeds or repeats)".into(),
        ));
    }
    for s in &runs {
        s.validate()?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(|e| TrainError::Settings(format!("cannot start the thread pool: {e}")))?;
    let bar = if progress {
        let b = ProgressBar::new(runs.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs, eta {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let records: Result<Vec<RunRecord>, TrainError> = pool.install(|| {
        runs.par_iter()
            .map(|s| {
                let r = run(s).map(|o| o.record);
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(StudyResult {
        config: config.clone(),
        records: records?,
        wall_time_s: start.elapsed().as_secs_f64(),
    })
}

/// One row of the success table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRow {
    /// Batch size.
    pub batch_size: usize,
    /// Success with its 95% Wilson interval.
    pub success: Proportion,
    /// Mean delta.
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub delta_mean: f64,
    /// Standard deviation of delta.
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub delta_sd: f64,
    /// Runs whose gauge-balanced rounding verified.
    pub balanced_exact: usize,
    /// Median wall time per run (s).
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub median_time_s: f64,
}

/// One cell of the phase diagram.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseCell {
    /// Batch size.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Success at that checkpoint.
    pub success: Proportion,
    /// Mean delta at that checkpoint.
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub delta_mean: f64,
}

/// Everything a study's outputs say.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudySummary {
    /// All runs.
    pub overall: Proportion,
    /// Per batch size.
    pub per_batch: Vec<BatchRow>,
    /// ANOVA of delta over batch size.
    pub anova_delta: Option<Anova>,
    /// ANOVA of success (0/1) over batch size.
    pub anova_success: Option<Anova>,
    /// Success over batch size x epochs.
    pub phase: Vec<PhaseCell>,
    /// Runs with a grokking event.
    pub grokking_events: usize,
    /// Runs whose output scheme matches Strassen up to slot order and signs.
    pub strassen_matches: usize,
    /// Median wall time per run (s).
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub median_run_time_s: f64,
    /// Whole study (s).
    #[serde(deserialize_with = "super::stats::f64_or_nan")]
    pub wall_time_s: f64,
    /// Threads used.
    pub threads: usize,
}

/// Computes the statistics of a study.
pub fn summarise(result: &StudyResult) -> StudySummary {
    let recs = &result.records;
    let batches = &result.config.batch_sizes;
    let of_batch = |b: usize| recs.iter().filter(move |r| r.settings.batch_size == b);
    let per_batch: Vec<BatchRow> = batches
        .iter()
        .map(|&b| {
            let rs: Vec<&RunRecord> = of_batch(b).collect();
            let deltas: Vec<f64> = rs.iter().map(|r| r.delta).collect();
            let (dm, dsd) = mean_sd(&deltas);
            let times: Vec<f64> = rs.iter().map(|r| r.wall_time_s).collect();
            BatchRow {
                batch_size: b,
                success: wilson(rs.iter().filter(|r| r.success).count(), rs.len(), Z95),
                delta_mean: dm,
                delta_sd: dsd,
                balanced_exact: rs.iter().filter(|r| r.verdict_balanced.exact).count(),
                median_time_s: median(&times),
            }
        })
        .collect();
    let groups = |f: &dyn Fn(&RunRecord) -> f64| -> Vec<Vec<f64>> {
        batches
            .iter()
            .map(|&b| of_batch(b).map(f).collect())
            .collect()
    };
    let anova_delta = one_way_anova(&groups(&|r| r.delta));
    let anova_success = one_way_anova(&groups(&|r| f64::from(u8::from(r.success))));
    let mut epochs: Vec<usize> = recs
        .iter()
        .flat_map(|r| r.checkpoints.iter().map(|c| c.epoch))
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    let mut phase = Vec::new();
    for &b in batches {
        for &e in &epochs {
            let cps: Vec<_> = of_batch(b)
                .filter_map(|r| r.checkpoints.iter().find(|c| c.epoch == e))
                .collect();
            let deltas: Vec<f64> = cps.iter().map(|c| c.delta).collect();
            phase.push(PhaseCell {
                batch_size: b,
                epochs: e,
                success: wilson(cps.iter().filter(|c| c.exact).count(), cps.len(), Z95),
                delta_mean: mean_sd(&deltas).0,
            });
        }
    }
    let times: Vec<f64> = recs.iter().map(|r| r.wall_time_s).collect();
    StudySummary {
        overall: wilson(recs.iter().filter(|r| r.success).count(), recs.len(), Z95),
        per_batch,
        anova_delta,
        anova_success,
        phase,
        grokking_events: recs.iter().filter(|r| r.grokking.is_some()).count(),
        strassen_matches: recs
            .iter()
            .filter(|r| r.success && !r.strassen_match.is_null())
            .count(),
        median_run_time_s: median(&times),
        wall_time_s: result.wall_time_s,
        threads: result.config.threads,
    }
}

/// A short description of the machine and its load, for result files.
pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!("{cpu}, {cores} logical cores available, load average {load} (1/5/15 min)")
}

/// Formats an ANOVA for Markdown.
pub fn anova_text(a: &Option<Anova>) -> String {
    match a {
        None => "not defined (fewer than two groups or no within-group degrees of freedom)".into(),
        Some(a) if a.ss_within == 0.0 && a.ss_between == 0.0 => format!(
            "not defined: no variance at all (every run has the same value); df = ({}, {})",
            a.df_between, a.df_within
        ),
        Some(a) if a.ss_within == 0.0 => format!(
            "F({}, {}) infinite (groups differ, no spread within groups), p = 0, eta^2 = 1",
            a.df_between, a.df_within
        ),
        Some(a) => format!(
            "F({}, {}) = {:.3}, p = {:.3e}, eta^2 = {:.3}",
            a.df_between, a.df_within, a.f, a.p, a.eta_squared
        ),
    }
}

fn write(path: &Path, text: &str) -> crate::Result<()> {
    crate::fsio::write_atomic(path, text.as_bytes()).map_err(|e| crate::Error::io(path, e))
}

/// Writes the study's files into `dir` (created if needed). `command` is the command line that
/// produced the study, recorded in the summary.
pub fn write_outputs(
    dir: &Path,
    result: &StudyResult,
    summary: &StudySummary,
    command: &str,
) -> crate::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    let mut runs = String::new();
    for r in &result.records {
        runs.push_str(&serde_json::to_string(r).expect("records serialise"));
        runs.push('\n');
    }
    write(&dir.join("runs.jsonl"), &runs)?;

    let mut csv = String::from(
        "batch_size,runs,successes,success_rate,wilson95_lo,wilson95_hi,delta_mean,delta_sd,balanced_exact,median_time_s\n",
    );
    for row in &summary.per_batch {
        let p = &row.success;
        let _ = writeln!(
            csv,
            "{},{},{},{:.4},{:.4},{:.4},{:.6},{:.6},{},{:.4}",
            row.batch_size,
            p.trials,
            p.successes,
            p.rate,
            p.lo,
            p.hi,
            row.delta_mean,
            row.delta_sd,
            row.balanced_exact,
            row.median_time_s
        );
    }
    write(&dir.join("success.csv"), &csv)?;

    let mut phase = String::from("batch_size,epochs,runs,successes,success_rate,delta_mean\n");
    for c in &summary.phase {
        let _ = writeln!(
            phase,
            "{},{},{},{},{:.4},{:.6}",
            c.batch_size,
            c.epochs,
            c.success.trials,
            c.success.successes,
            c.success.rate,
            c.delta_mean
        );
    }
    write(&dir.join("phase.csv"), &phase)?;
    write(&dir.join("phase.svg"), &phase_svg(summary)?)?;

    let json = serde_json::json!({
        "command": command,
        "machine": machine_description(),
        "config": result.config,
        "summary": summary,
    });
    write(
        &dir.join("summary.json"),
        &format!(
            "{}\n",
            serde_json::to_string_pretty(&json).expect("serialises")
        ),
    )?;
    write(
        &dir.join("summary.md"),
        &summary_markdown(result, summary, command),
    )?;
    Ok(())
}

/// The Markdown summary of a study.
pub fn summary_markdown(result: &StudyResult, s: &StudySummary, command: &str) -> String {
    let b = &result.config.base;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Study: {} protocol, {} runs\n",
        b.protocol,
        result.records.len()
    );
    let _ = writeln!(md, "Command: `{command}`\n");
    let _ = writeln!(md, "Machine: {}\n", machine_description());
    let _ = writeln!(
        md,
        "Grid: batch sizes {:?} x seeds {:?} x {} repeats; {} epochs, {} slots pruned to {}, {} rounding, objective {:?}, lr {}, wd {}, init scale {}.\n",
        result.config.batch_sizes,
        result.config.seeds,
        result.config.repeats,
        b.epochs,
        b.dims.rank,
        b.target_rank,
        format!("{:?}", b.rounding).to_lowercase(),
        b.objective,
        b.adamw.lr,
        b.adamw.weight_decay,
        b.init_scale
    );
    let _ = writeln!(
        md,
        "Wall time: {:.1} s on {} threads (median {:.3} s per run).\n",
        s.wall_time_s, s.threads, s.median_run_time_s
    );
    let o = &s.overall;
    let _ = writeln!(
        md,
        "**Overall success: {}/{} = {:.1}% (95% Wilson interval {:.1}%-{:.1}%).** Success = the output \
         scheme (pruned to rank {}, {} rounding) satisfies every Brent equation exactly; no fallback.\n",
        o.successes,
        o.trials,
        100.0 * o.rate,
        100.0 * o.lo,
        100.0 * o.hi,
        b.target_rank,
        format!("{:?}", b.rounding).to_lowercase()
    );
    let _ = writeln!(md, "| batch | runs | success | 95% Wilson | mean delta | sd delta | balanced rounding exact | median s/run |");
    let _ = writeln!(
        md,
        "| ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |"
    );
    for r in &s.per_batch {
        let p = &r.success;
        let _ = writeln!(
            md,
            "| {} | {} | {} ({:.1}%) | {:.1}%-{:.1}% | {:.4} | {:.4} | {} | {:.3} |",
            r.batch_size,
            p.trials,
            p.successes,
            100.0 * p.rate,
            100.0 * p.lo,
            100.0 * p.hi,
            r.delta_mean,
            r.delta_sd,
            r.balanced_exact,
            r.median_time_s
        );
    }
    let _ = writeln!(md, "\nOne-way ANOVA over batch size:\n");
    let _ = writeln!(md, "* of delta: {}", anova_text(&s.anova_delta));
    let _ = writeln!(md, "* of success (0/1): {}\n", anova_text(&s.anova_success));
    let _ = writeln!(
        md,
        "Grokking events (operational definition, see `src/train/metrics.rs`): {} of {} runs. \
         Successful runs matching Strassen up to slot order and signs: {}.\n",
        s.grokking_events,
        result.records.len(),
        s.strassen_matches
    );
    let _ = writeln!(
        md,
        "Phase diagram (success rate over batch size x epochs, from phase-1 checkpoints): `phase.csv`, `phase.svg`.\n"
    );
    md
}

/// The phase diagram as an SVG heat map.
pub fn phase_svg(s: &StudySummary) -> crate::Result<String> {
    use plotters::prelude::*;
    let mut batches: Vec<usize> = s.phase.iter().map(|c| c.batch_size).collect();
    batches.dedup();
    let mut epochs: Vec<usize> = s.phase.iter().map(|c| c.epochs).collect();
    epochs.sort_unstable();
    epochs.dedup();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 520)).into_drawing_area();
        let err = |e: String| crate::Error::Config(format!("cannot draw the phase diagram: {e}"));
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (nb, ne) = (batches.len().max(1), epochs.len().max(1));
        let mut chart = ChartBuilder::on(&root)
            .caption("Success rate over batch size x epochs", ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..nb as f64, 0f64..ne as f64)
            .map_err(|e| err(e.to_string()))?;
        let bl = batches.clone();
        let el = epochs.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("batch size")
            .y_desc("epochs")
            .x_labels(nb * 2 + 1)
            .y_labels(ne * 2 + 1)
            .x_label_formatter(&move |x| {
                let i = (x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < bl.len() {
                    bl[i as usize].to_string()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&move |y| {
                let i = (y - 0.5).round();
                if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < el.len() {
                    el[i as usize].to_string()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for c in &s.phase {
            let (Some(x), Some(y)) = (
                batches.iter().position(|&b| b == c.batch_size),
                epochs.iter().position(|&e| e == c.epochs),
            ) else {
                continue;
            };
            let rate = if c.success.rate.is_nan() {
                0.0
            } else {
                c.success.rate
            };
            // White (0%) to dark green (100%).
            let colour = RGBColor(
                (255.0 * (1.0 - 0.8 * rate)) as u8,
                (255.0 * (1.0 - 0.45 * rate)) as u8,
                (255.0 * (1.0 - 0.8 * rate)) as u8,
            );
            let (x, y) = (x as f64, y as f64);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    colour.filled(),
                )))
                .map_err(|e| err(e.to_string()))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.0}%", 100.0 * rate),
                    (x + 0.35, y + 0.6),
                    ("sans-serif", 14).into_font(),
                )))
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}
