//! Training commands: train, study, fragility, permutations, kappa, report.

use crate::train::{self, data::Distr, discretise::Rounding, Fallback, Objective, TrainSettings};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Training commands.
#[derive(Debug, Subcommand)]
pub enum TrainingCommand {
    /// Learn a bilinear scheme; exits 0 only when the learned scheme verifies exactly.
    Train(Box<TrainArgs>),
    /// Run a grid of training runs (default: the published Protocol B, 120 paper-protocol runs)
    /// and write runs, success table, ANOVAs and phase diagram to a directory.
    Study(Box<StudyArgs>),
    /// Add Gaussian noise before rounding (100 trials per level) to a scheme file's coefficients
    /// or to a trained run's continuous weights, and count exact results.
    Fragility(Box<FragilityArgs>),
    /// Apply all rank! slot permutations to U, V, W together and to W alone; error statistics.
    Permutations(PermutationsArgs),
    /// Gradient-noise covariance per batch size at a training checkpoint: sigma^2 = Tr(Sigma)/d
    /// and its condition number.
    Kappa(Box<KappaArgs>),
    /// Write bench-results/REPORT.md: each published claim beside our measurement and the
    /// command behind it (reads the study directory; runs the rest).
    Report(ReportArgs),
    /// Flip-method runs over shapes and seeds: the discovery table (bench-results/discovery/,
    /// spliced into bench-results/REPORT.md).
    Discover(Box<super::discovery::DiscoverArgs>),
}

/// Settings overrides shared by the training commands. Unset options keep the protocol's value.
#[derive(Debug, Args, Clone, Default)]
pub struct SettingsArgs {
    /// Protocol: `anneal` (our best; the default of `train`) or `paper` (the published one; the
    /// default of `study`).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Master seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Repeat index (same data as the seed, another initialisation and shuffling).
    #[arg(long)]
    pub repeat: Option<u64>,
    /// Problem shape `m,k,n` (default 2,2,2).
    #[arg(long, value_parser = parse_dims)]
    pub dims: Option<(usize, usize, usize)>,
    /// Slots of the phase-1 model.
    #[arg(long)]
    pub slots: Option<usize>,
    /// Rank after pruning.
    #[arg(long)]
    pub target_rank: Option<usize>,
    /// Phase-1 objective: `data` (minibatch MSE) or `tensor` (exact, full batch).
    #[arg(long)]
    pub objective: Option<Objective>,
    /// Entries of A and B: `normal` or `uniform`.
    #[arg(long)]
    pub distr: Option<Distr>,
    /// Training pairs.
    #[arg(long)]
    pub train_size: Option<usize>,
    /// Test pairs.
    #[arg(long)]
    pub test_size: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Epochs (tensor objective: full-batch steps).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Evaluate the test loss every N epochs.
    #[arg(long)]
    pub test_every: Option<usize>,
    /// AdamW learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// AdamW decoupled weight decay.
    #[arg(long)]
    pub wd: Option<f64>,
    /// Standard deviation of the initial parameters.
    #[arg(long)]
    pub init_scale: Option<f64>,
    /// Start with V = U.
    #[arg(long)]
    pub symmetric: bool,
    /// Fine-tuning epochs after pruning.
    #[arg(long)]
    pub finetune_epochs: Option<usize>,
    /// Rounding that decides success: `plain` or `balanced`.
    #[arg(long)]
    pub rounding: Option<Rounding>,
    /// Maximum attempts (fresh initialisations).
    #[arg(long)]
    pub restarts: Option<usize>,
    /// Annealing steps (0 disables the integer-penalty annealing).
    #[arg(long)]
    pub anneal_steps: Option<usize>,
    /// Final weight of the integer penalty.
    #[arg(long)]
    pub anneal_lambda: Option<f64>,
    /// Learning rate during annealing.
    #[arg(long)]
    pub anneal_lr: Option<f64>,
    /// On failure: `none` or `canonical` (write Strassen, marked as fallback; still a failure).
    #[arg(long)]
    pub fallback: Option<Fallback>,
}

/// Largest `m*k*n` `--dims` accepts (the trainer's own limit).
const MAX_TRAIN_TENSOR: usize = 4096;

fn parse_dims(s: &str) -> Result<(usize, usize, usize), String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(format!("expected m,k,n, got `{s}`"));
    }
    let p = |x: &str| x.trim().parse::<usize>().map_err(|e| format!("`{x}`: {e}"));
    let (m, k, n) = (p(parts[0])?, p(parts[1])?, p(parts[2])?);
    // Checked here so that no later product of the dimensions can overflow.
    let product = m.checked_mul(k).and_then(|x| x.checked_mul(n));
    match product {
        Some(x) if (1..=MAX_TRAIN_TENSOR).contains(&x) => Ok((m, k, n)),
        _ => Err(format!(
            "`{s}`: each dimension must be at least 1 and m*k*n at most {MAX_TRAIN_TENSOR}"
        )),
    }
}

impl SettingsArgs {
    /// The protocol's settings (`default_protocol` unless `--protocol` is given) with these
    /// overrides applied.
    pub fn settings(&self, default_protocol: &str) -> crate::Result<TrainSettings> {
        let mut s = TrainSettings::named(self.protocol.as_deref().unwrap_or(default_protocol))?;
        macro_rules! set {
            ($opt:expr, $field:expr) => {
                if let Some(x) = $opt {
                    $field = x;
                }
            };
        }
        set!(self.seed, s.seed);
        set!(self.repeat, s.repeat);
        if let Some((m, k, n)) = self.dims {
            s.dims.m = m;
            s.dims.k = k;
            s.dims.n = n;
        }
        set!(self.slots, s.dims.rank);
        set!(self.target_rank, s.target_rank);
        set!(self.objective, s.objective);
        set!(self.distr, s.distr);
        set!(self.train_size, s.train_size);
        set!(self.test_size, s.test_size);
        set!(self.batch_size, s.batch_size);
        set!(self.epochs, s.epochs);
        set!(self.test_every, s.test_every);
        set!(self.lr, s.adamw.lr);
        set!(self.wd, s.adamw.weight_decay);
        set!(self.init_scale, s.init_scale);
        if self.symmetric {
            s.symmetric_init = true;
        }
        set!(self.finetune_epochs, s.finetune_epochs);
        set!(self.rounding, s.rounding);
        set!(self.restarts, s.restarts);
        set!(self.fallback, s.fallback);
        if let Some(steps) = self.anneal_steps {
            if steps == 0 {
                s.anneal = None;
            } else {
                let mut an = s.anneal.unwrap_or(train::protocol::Anneal {
                    steps,
                    lambda_start: 1e-4,
                    lambda_end: 1.0,
                    lr: 0.01,
                });
                an.steps = steps;
                s.anneal = Some(an);
            }
        }
        if let Some(an) = s.anneal.as_mut() {
            set!(self.anneal_lambda, an.lambda_end);
            set!(self.anneal_lr, an.lr);
        }
        // Seed, repeat and fallback do not change the protocol itself; anything else does.
        let protocol_changed = self.dims.is_some()
            || self.slots.is_some()
            || self.target_rank.is_some()
            || self.objective.is_some()
            || self.distr.is_some()
            || self.train_size.is_some()
            || self.test_size.is_some()
            || self.batch_size.is_some()
            || self.epochs.is_some()
            || self.lr.is_some()
            || self.wd.is_some()
            || self.init_scale.is_some()
            || self.symmetric
            || self.finetune_epochs.is_some()
            || self.rounding.is_some()
            || self.restarts.is_some()
            || self.anneal_steps.is_some()
            || self.anneal_lambda.is_some()
            || self.anneal_lr.is_some();
        if protocol_changed {
            s.protocol = format!("{}+custom", s.protocol);
        }
        s.validate()?;
        Ok(s)
    }
}

/// `strass train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Settings.
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Where to write the learned scheme.
    #[arg(long, short, default_value = "learned.json")]
    pub out: PathBuf,
    /// Scheme name in the output file.
    #[arg(long, default_value = "learned")]
    pub name: String,
    /// Also write the run record (one JSON object) to this file.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Print the run record as JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Search method: `auto` (gradient for <2,2,2> or with gradient options, else flip),
    /// `gradient` or `flip`.
    #[arg(long, value_enum, default_value_t = super::discovery::Method::Auto)]
    pub method: super::discovery::Method,
    /// Options of the flip method.
    #[command(flatten)]
    pub flip: super::discovery::FlipArgs,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}

fn cmd_train(a: TrainArgs) -> crate::Result<ExitCode> {
    if super::discovery::resolve_method(&a)? == super::discovery::Method::Flip {
        return super::discovery::cmd_train_flip(&a);
    }
    let s = a.settings.settings("anneal")?;
    // Every output must be writable before any is replaced (or any time is spent training).
    for p in std::iter::once(&a.out).chain(&a.record) {
        crate::fsio::check_writable(p).map_err(|e| crate::Error::io(p, e))?;
    }
    let mut out = train::run(&s)?;
    let scheme = train::output_scheme(&mut out, &a.name);
    if let Some(scheme) = &scheme {
        scheme.save(&a.out)?;
    }
    let rec = &out.record;
    let line = serde_json::to_string(rec).expect("records serialise");
    if let Some(p) = &a.record {
        crate::fsio::write_atomic(p, format!("{line}\n").as_bytes())
            .map_err(|e| crate::Error::io(p, e))?;
    }
    if a.json {
        println!("{line}");
    } else {
        println!(
            "protocol {} seed {} repeat {}: {} after {} attempt(s) in {:.3} s",
            s.protocol,
            s.seed,
            s.repeat,
            if rec.success {
                "EXACT"
            } else {
                "FAILED (no exact scheme)"
            },
            rec.attempts,
            rec.wall_time_s
        );
        println!(
            "  tensor loss: full {:.3e}, pruned {:.3e}; delta plain {:.4}, balanced {:.4}",
            rec.tensor_loss_full, rec.tensor_loss_pruned, rec.delta_plain, rec.delta_balanced
        );
        println!(
            "  exact verdict: plain {}/{} equations fail, balanced {}/{} fail; {} nonzeros",
            rec.verdict_plain.failed,
            rec.verdict_plain.total,
            rec.verdict_balanced.failed,
            rec.verdict_balanced.total,
            rec.nonzeros
        );
        match &scheme {
            Some(_) if rec.fallback_used => println!(
                "  wrote {} with Strassen's scheme as a FALLBACK (provenance \"fallback\"); the run failed",
                a.out.display()
            ),
            Some(_) => println!("  wrote {}", a.out.display()),
            None => println!("  no scheme written"),
        }
    }
    Ok(if rec.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `strass study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Settings shared by all runs (default protocol: paper).
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Batch sizes (default: 8,16,24,32,48,64,96,128).
    #[arg(long, value_delimiter = ',')]
    pub batch_sizes: Vec<usize>,
    /// Add the large batch sizes 256, 512 and 1024.
    #[arg(long)]
    pub large_batches: bool,
    /// Number of seeds (0, 1, ...).
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Repeats per seed.
    #[arg(long, default_value_t = 3)]
    pub repeats: u64,
    /// Epoch counts of the phase diagram (checkpoints; the run's epochs are always included).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "50,100,200,300,500,700,1000"
    )]
    pub phase_epochs: Vec<usize>,
    /// Worker threads (default: all available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory.
    #[arg(long, default_value = "bench-results/study")]
    pub out_dir: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The command line as typed, for records.
pub(super) fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("strass {}", args.join(" "))
}

fn cmd_study(a: StudyArgs) -> crate::Result<ExitCode> {
    use crate::train::study;
    let mut cfg = study::StudyConfig::protocol_b();
    cfg.base = a.settings.settings("paper")?;
    if !a.batch_sizes.is_empty() {
        cfg.batch_sizes = a.batch_sizes.clone();
    }
    if a.large_batches {
        cfg.batch_sizes.extend([256, 512, 1024]);
    }
    if cfg.batch_sizes.contains(&0) {
        return Err(crate::Error::Config("batch sizes must be positive".into()));
    }
    cfg.seeds = (0..a.seeds).collect();
    cfg.repeats = a.repeats;
    cfg.phase_epochs = a.phase_epochs.clone();
    if let Some(t) = a.threads {
        if t == 0 {
            return Err(crate::Error::Config("--threads must be at least 1".into()));
        }
        cfg.threads = t;
    }
    let n = cfg.runs().len();
    eprintln!(
        "study: {n} runs of the {} protocol on {} threads -> {}",
        cfg.base.protocol,
        cfg.threads,
        a.out_dir.display()
    );
    let result = study::run_study(&cfg, !a.quiet)?;
    let summary = study::summarise(&result);
    study::write_outputs(&a.out_dir, &result, &summary, &command_line())?;
    print!(
        "{}",
        study::summary_markdown(&result, &summary, &command_line())
    );
    Ok(ExitCode::SUCCESS)
}

/// `strass fragility`.
#[derive(Debug, Args)]
pub struct FragilityArgs {
    /// A scheme file; without it, the continuous weights of a training run with the settings
    /// below (default protocol: paper) are used.
    #[arg(long)]
    pub scheme: Option<PathBuf>,
    /// Settings of the training run.
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Noise standard deviations.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1e-4,5e-4,1e-3,5e-3,1e-2,5e-2,1e-1"
    )]
    pub sigmas: Vec<f64>,
    /// Trials per noise level.
    #[arg(long, default_value_t = 100)]
    pub trials: usize,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub noise_seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn load_scheme_or_strassen(path: &Option<PathBuf>) -> crate::Result<crate::Scheme> {
    match path {
        Some(p) => Ok(crate::Scheme::load(p)?),
        None => Ok(crate::Scheme::strassen()),
    }
}

fn cmd_fragility(a: FragilityArgs) -> crate::Result<ExitCode> {
    use crate::train::diagnostics;
    if a.sigmas.iter().any(|s| !(s.is_finite() && *s >= 0.0)) || a.trials == 0 {
        return Err(crate::Error::Config(
            "noise levels must be finite and non-negative, trials positive".into(),
        ));
    }
    let (what, model) = match &a.scheme {
        Some(p) => (
            format!("scheme {}", p.display()),
            diagnostics::model_of_scheme(&crate::Scheme::load(p)?),
        ),
        None => {
            let s = a.settings.settings("paper")?;
            let out = train::run(&s)?;
            (
                format!(
                    "continuous weights of a {} run (seed {}, pruned to rank {}; its own rounding {})",
                    s.protocol,
                    s.seed,
                    s.target_rank,
                    if out.record.exact { "exact" } else { "not exact" }
                ),
                out.trained.pruned,
            )
        }
    };
    let rows = diagnostics::fragility(&model, &a.sigmas, a.trials, a.noise_seed);
    if a.json {
        println!("{}", serde_json::to_string(&rows).expect("serialises"));
    } else {
        println!("fragility of the {what}, {} trials per level", a.trials);
        println!("| sigma | plain rounding exact | 95% Wilson | balanced rounding exact | mean failing equations (plain) |");
        println!("| ---: | ---: | :---: | ---: | ---: |");
        for r in &rows {
            println!(
                "| {:e} | {}/{} | {:.1}%-{:.1}% | {}/{} | {:.2} |",
                r.sigma,
                r.plain.successes,
                r.plain.trials,
                100.0 * r.plain.lo,
                100.0 * r.plain.hi,
                r.balanced.successes,
                r.balanced.trials,
                r.mean_failed_plain
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `strass permutations`.
#[derive(Debug, Args)]
pub struct PermutationsArgs {
    /// Scheme file (default: the shipped Strassen scheme).
    #[arg(long)]
    pub scheme: Option<PathBuf>,
    /// Seed of the random test pairs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn cmd_permutations(a: PermutationsArgs) -> crate::Result<ExitCode> {
    let s = load_scheme_or_strassen(&a.scheme)?;
    let stats = train::diagnostics::permutations(&s, a.seed)?;
    if a.json {
        println!("{}", serde_json::to_string(&stats).expect("serialises"));
    } else {
        println!(
            "slot permutations of {} (rank {}, exact: {})",
            s.name,
            s.rank,
            s.verify().is_valid()
        );
        println!("| applied to | permutations | non-identity exact | non-identity failing | rel. error min / median / max |");
        println!("| --- | ---: | ---: | ---: | --- |");
        for p in &stats {
            println!(
                "| {} | {} | {} | {} | {:.2e} / {:.2e} / {:.2e} |",
                p.applied_to,
                p.permutations,
                p.non_identity_exact,
                p.non_identity_failed,
                p.rel_error_min,
                p.rel_error_median,
                p.rel_error_max
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `strass kappa`.
#[derive(Debug, Args)]
pub struct KappaArgs {
    /// Settings of the run whose phase-1 end is the checkpoint (default protocol: paper; choose
    /// the checkpoint with --epochs).
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_value = "8,16,24,32,48,64,96,128")]
    pub batch_sizes: Vec<usize>,
    /// Minibatch gradients sampled per batch size.
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn cmd_kappa(a: KappaArgs) -> crate::Result<ExitCode> {
    let s = a.settings.settings("paper")?;
    if s.objective != train::Objective::Data {
        return Err(crate::Error::Config(
            "kappa needs the data objective (minibatch gradients)".into(),
        ));
    }
    if a.samples < 2 || a.batch_sizes.is_empty() || a.batch_sizes.contains(&0) {
        return Err(crate::Error::Config(
            "kappa needs at least 2 samples and positive batch sizes".into(),
        ));
    }
    let out = train::run(&s)?;
    let data = train::protocol::training_set(&s);
    let rows =
        train::diagnostics::kappa(&out.trained.full, &data, &a.batch_sizes, a.samples, s.seed);
    if a.json {
        println!("{}", serde_json::to_string(&rows).expect("serialises"));
    } else {
        println!(
            "gradient noise at the end of phase 1 ({} epochs, {} protocol, seed {}); d = {}; full-batch |g|^2 = {:.3e}",
            s.epochs,
            s.protocol,
            s.seed,
            out.trained.full.theta.len(),
            rows.first().map_or(f64::NAN, |r| r.full_grad_norm2)
        );
        println!("| batch | samples | sigma^2 = Tr(Sigma)/d | condition | null dims | condition (non-null) |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &rows {
            println!(
                "| {} | {} | {:.3e} | {:.3e} | {} | {:.3e} |",
                r.batch_size, r.samples, r.sigma2, r.condition, r.null_dims, r.condition_nonnull
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `strass report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory written by `strass study` (paper protocol).
    #[arg(long, default_value = "bench-results/study")]
    pub study_dir: PathBuf,
    /// Where to write the report.
    #[arg(long, default_value = "bench-results/REPORT.md")]
    pub out: PathBuf,
    /// Consecutive seeds of the default protocol to run (0, 1, ...).
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// Where to write the default protocol's run records.
    #[arg(long, default_value = "bench-results/train-default.jsonl")]
    pub default_runs: PathBuf,
    /// Study directories of protocol variants to list (repeatable).
    #[arg(long)]
    pub variant: Vec<PathBuf>,
}

fn cmd_report(a: ReportArgs) -> crate::Result<ExitCode> {
    // Every output must be writable before any is replaced.
    for p in [&a.out, &a.default_runs] {
        if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
        }
        crate::fsio::check_writable(p).map_err(|e| crate::Error::io(p, e))?;
    }
    let cfg = train::report::ReportConfig {
        study_dir: a.study_dir,
        default_seeds: a.seeds,
        default_runs_out: Some(a.default_runs),
        variants: a.variant,
        command: command_line(),
    };
    let text = train::report::build(&cfg)?;
    // Keep the discovery table (`strass discover`), which this command does not regenerate.
    let text = super::discovery::carry_over(&a.out, text);
    crate::fsio::write_atomic(&a.out, text.as_bytes()).map_err(|e| crate::Error::io(&a.out, e))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Runs one of these commands.
pub fn run(cmd: TrainingCommand) -> crate::Result<ExitCode> {
    match cmd {
        TrainingCommand::Train(a) => cmd_train(*a),
        TrainingCommand::Study(a) => cmd_study(*a),
        TrainingCommand::Fragility(a) => cmd_fragility(*a),
        TrainingCommand::Permutations(a) => cmd_permutations(a),
        TrainingCommand::Kappa(a) => cmd_kappa(*a),
        TrainingCommand::Report(a) => cmd_report(a),
        TrainingCommand::Discover(a) => super::discovery::cmd_discover(&a),
    }
}
