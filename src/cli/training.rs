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
}

/// Settings overrides shared by the training commands. Unset options keep the protocol's value.
#[derive(Debug, Args, Clone, Default)]
pub struct SettingsArgs {
    /// Protocol: `anneal` (default, our best) or `paper` (the published one).
    #[arg(long, default_value = "anneal")]
    pub protocol: String,
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

fn parse_dims(s: &str) -> Result<(usize, usize, usize), String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(format!("expected m,k,n, got `{s}`"));
    }
    let p = |x: &str| x.trim().parse::<usize>().map_err(|e| format!("`{x}`: {e}"));
    Ok((p(parts[0])?, p(parts[1])?, p(parts[2])?))
}

impl SettingsArgs {
    /// The protocol's settings with these overrides applied.
    pub fn settings(&self) -> crate::Result<TrainSettings> {
        let mut s = TrainSettings::named(&self.protocol)?;
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
}

fn cmd_train(a: TrainArgs) -> crate::Result<ExitCode> {
    let s = a.settings.settings()?;
    let mut out = train::run(&s)?;
    let scheme = train::output_scheme(&mut out, &a.name);
    if let Some(scheme) = &scheme {
        scheme.save(&a.out)?;
    }
    let rec = &out.record;
    let line = serde_json::to_string(rec).expect("records serialise");
    if let Some(p) = &a.record {
        std::fs::write(p, format!("{line}\n")).map_err(|e| crate::Error::io(p, e))?;
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

/// Runs one of these commands.
pub fn run(cmd: TrainingCommand) -> crate::Result<ExitCode> {
    match cmd {
        TrainingCommand::Train(a) => cmd_train(*a),
    }
}
