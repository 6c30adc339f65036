//! The two-phase training protocols and one training run.
//!
//! **Phase 1** fits a rank-`slots` bilinear model, either to random products (`Objective::Data`:
//! minibatch MSE, AdamW) or to the matrix-multiplication tensor itself (`Objective::Tensor`:
//! the exact expected loss, full batch). **Phase 2** prunes to the target rank by importance,
//! optionally fine-tunes the kept slots, and discretises (see [`super::discretise`]).
//!
//! Two named protocols:
//! * `paper`: the published one. 8 slots, data objective with N(0,1) pairs (2048 train, 512
//!   test), AdamW (lr 1e-3, wd 1e-4), B = 32, 1000 epochs, prune to 7, plain rounding, one attempt.
//! * `anneal` (the default, our design): 7 slots, tensor objective, AdamW with a larger step,
//!   then an annealed penalty `lambda(t) * sum x^2 (x^2 - 1)^2` that pulls every coefficient
//!   towards {-1, 0, 1} while each slot's gauge is re-balanced after every step, then
//!   gauge-balanced rounding and exact verification. An attempt that does not verify is
//!   restarted from a fresh initialisation (a new random stream of the same seed), up to
//!   `restarts` attempts. Every attempt is honest training from random numbers: nothing in it
//!   knows any published scheme.
//!
//! Randomness: every stream is a ChaCha8 generator seeded with the run's `seed`; the stream
//! number separates its uses (training data, test data, initialisation of attempt i, shuffling
//! of attempt i, and the `repeat` index). The same settings give a bit-identical run.

use super::adamw::{AdamW, AdamWConfig};
use super::data::{epoch_order, Batch, Dataset, Distr};
use super::discretise::{discretise, prune, Discretised, Rounding};
use super::metrics::{detect_grokking, CurveSummary, GrokEvent, GrokkingRule};
use super::model::{matmul_tensor, Dims, Model, Workspace};
use super::TrainError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What phase 1 minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Minibatch MSE on random products.
    Data,
    /// The exact tensor loss `||T - sum_r u_r (x) v_r (x) w_r||^2`, full batch.
    Tensor,
}

impl std::str::FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "data" => Ok(Objective::Data),
            "tensor" => Ok(Objective::Tensor),
            _ => Err(format!("unknown objective `{s}` (data, tensor)")),
        }
    }
}

/// What to write when a run does not end in an exact scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Write nothing; the run failed.
    #[default]
    None,
    /// Write Strassen's scheme with provenance "fallback"; the run still counts as failed.
    Canonical,
}

impl std::str::FromStr for Fallback {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Fallback::None),
            "canonical" => Ok(Fallback::Canonical),
            _ => Err(format!("unknown fallback `{s}` (none, canonical)")),
        }
    }
}

/// The integer-penalty annealing of the `anneal` protocol (after phase 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anneal {
    /// Steps of annealing.
    pub steps: usize,
    /// Penalty weight at the first annealing step.
    pub lambda_start: f64,
    /// Penalty weight at the last step (geometric schedule in between).
    pub lambda_end: f64,
    /// AdamW learning rate during annealing.
    pub lr: f64,
}

/// Every setting of a training run. [`TrainSettings::paper`] and [`TrainSettings::anneal`] give
/// the two named protocols; any field may then be changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Protocol name, recorded for provenance (`paper`, `anneal`, or `custom`).
    pub protocol: String,
    /// Shape and number of slots of the phase-1 model.
    pub dims: Dims,
    /// Rank after pruning.
    pub target_rank: usize,
    /// Phase-1 objective.
    pub objective: Objective,
    /// Distribution of the entries of A and B.
    pub distr: Distr,
    /// Training pairs.
    pub train_size: usize,
    /// Test pairs.
    pub test_size: usize,
    /// Minibatch size (data objective).
    pub batch_size: usize,
    /// Epochs (data objective: passes over the training set; tensor objective: full-batch steps).
    pub epochs: usize,
    /// Evaluate the test loss every this many epochs (carried forward in between).
    pub test_every: usize,
    /// Optimiser.
    pub adamw: AdamWConfig,
    /// Standard deviation of the initial parameters.
    pub init_scale: f64,
    /// Start with V = U.
    pub symmetric_init: bool,
    /// Master seed.
    pub seed: u64,
    /// Repeat index: same data as `seed`, different initialisation and shuffling.
    pub repeat: u64,
    /// Epochs of fine-tuning after pruning (same objective and optimiser settings).
    pub finetune_epochs: usize,
    /// Which discretisation decides success.
    pub rounding: Rounding,
    /// Integer-penalty annealing after phase 1 (none in the paper protocol).
    pub anneal: Option<Anneal>,
    /// Maximum number of attempts (fresh initialisations); 1 = no restarts.
    pub restarts: usize,
    /// What to write on failure.
    pub fallback: Fallback,
    /// Phase-1 epochs after which phase 2 (prune, fine-tune, anneal, discretise with
    /// `rounding`, verify) is also applied to a copy of the current model: the outcome of the
    /// same run with phase 1 stopped there (the optimiser has no schedule, so the phase-1 state
    /// is the same). Feeds phase diagrams.
    #[serde(default)]
    pub checkpoints: Vec<usize>,
}

impl TrainSettings {
    /// The published protocol.
    pub fn paper() -> Self {
        TrainSettings {
            protocol: "paper".into(),
            dims: Dims::two_by_two(8),
            target_rank: 7,
            objective: Objective::Data,
            distr: Distr::Normal,
            train_size: 2048,
            test_size: 512,
            batch_size: 32,
            epochs: 1000,
            test_every: 1,
            adamw: AdamWConfig::default(),
            init_scale: 0.5,
            symmetric_init: false,
            seed: 0,
            repeat: 0,
            finetune_epochs: 0,
            rounding: Rounding::Plain,
            anneal: None,
            restarts: 1,
            fallback: Fallback::None,
            checkpoints: Vec::new(),
        }
    }

    /// Our default protocol (see the module documentation).
    pub fn anneal() -> Self {
        TrainSettings {
            protocol: "anneal".into(),
            dims: Dims::two_by_two(7),
            target_rank: 7,
            objective: Objective::Tensor,
            distr: Distr::Normal,
            train_size: 2048,
            test_size: 512,
            batch_size: 32,
            epochs: 2000,
            test_every: 25,
            adamw: AdamWConfig {
                lr: 0.02,
                ..AdamWConfig::default()
            },
            init_scale: 0.5,
            symmetric_init: false,
            seed: 0,
            repeat: 0,
            finetune_epochs: 0,
            rounding: Rounding::Balanced,
            anneal: Some(Anneal {
                steps: 3000,
                lambda_start: 1e-4,
                lambda_end: 1.0,
                lr: 0.01,
            }),
            restarts: 100,
            fallback: Fallback::None,
            checkpoints: Vec::new(),
        }
    }

    /// The named protocol.
    pub fn named(name: &str) -> Result<Self, TrainError> {
        match name {
            "paper" => Ok(Self::paper()),
            "anneal" | "default" => Ok(Self::anneal()),
            _ => Err(TrainError::Settings(format!(
                "unknown protocol `{name}` (paper, anneal)"
            ))),
        }
    }

    /// Checks the settings for values that cannot run.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |s: String| Err(TrainError::Settings(s));
        let d = &self.dims;
        if d.m == 0 || d.k == 0 || d.n == 0 || d.rank == 0 {
            return bad(format!(
                "dimensions must be positive, got <{},{},{}> with {} slots",
                d.m, d.k, d.n, d.rank
            ));
        }
        if d.m * d.k * d.n > 4096 || d.rank > 4096 {
            return bad("dimensions too large for this trainer".into());
        }
        if self.target_rank == 0 || self.target_rank > d.rank {
            return bad(format!(
                "target rank {} must be between 1 and the number of slots {}",
                self.target_rank, d.rank
            ));
        }
        if self.objective == Objective::Data && (self.batch_size == 0 || self.train_size == 0) {
            return bad("batch size and training-set size must be positive".into());
        }
        if self.test_size == 0 {
            return bad("test-set size must be positive".into());
        }
        if self.test_every == 0 {
            return bad("test_every must be positive".into());
        }
        if self.restarts == 0 {
            return bad("restarts (maximum attempts) must be at least 1".into());
        }
        if self.symmetric_init && d.m * d.k != d.k * d.n {
            return bad("symmetric initialisation needs mk == kn".into());
        }
        let a = &self.adamw;
        let finite_pos = |x: f64| x.is_finite() && x > 0.0;
        let optimiser_ok = finite_pos(a.lr)
            && a.weight_decay.is_finite()
            && a.weight_decay >= 0.0
            && (0.0..1.0).contains(&a.beta1)
            && (0.0..1.0).contains(&a.beta2)
            && finite_pos(a.eps)
            && finite_pos(self.init_scale);
        if !optimiser_ok {
            return bad(format!(
                "optimiser settings out of range: {a:?}, init scale {}",
                self.init_scale
            ));
        }
        if let Some(an) = &self.anneal {
            if !finite_pos(an.lr) || !finite_pos(an.lambda_start) || !finite_pos(an.lambda_end) {
                return bad(format!("annealing settings out of range: {an:?}"));
            }
        }
        Ok(())
    }
}

/// Stream numbers separating the uses of the seed.
const STREAM_TRAIN: u64 = 1;
const STREAM_TEST: u64 = 2;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// The continuous outcome of one attempt, before discretisation.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model after phase 1 (all slots).
    pub full: Model,
    /// The pruned (and fine-tuned, annealed) model that is discretised.
    pub pruned: Model,
    /// Per-epoch training loss (phase 1, then fine-tuning and annealing if any).
    pub train_curve: Vec<f64>,
    /// Per-epoch test loss (MSE on the test set).
    pub test_curve: Vec<f64>,
    /// Phase-1 checkpoint results.
    pub checkpoints: Vec<Checkpoint>,
}

/// Everything one run produces besides its record.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The record (one JSON line in a study).
    pub record: RunRecord,
    /// The attempt's continuous models.
    pub trained: Trained,
    /// Plain rounding.
    pub plain: Discretised,
    /// Gauge-balanced rounding.
    pub balanced: Discretised,
}

/// A short exact verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerdictSummary {
    /// All Brent equations hold.
    pub exact: bool,
    /// Failing equations.
    pub failed: usize,
    /// Equations.
    pub total: usize,
}

impl From<&crate::scheme::Verdict> for VerdictSummary {
    fn from(v: &crate::scheme::Verdict) -> Self {
        VerdictSummary {
            exact: v.is_valid(),
            failed: v.failed_count,
            total: v.total,
        }
    }
}

/// One run's record: settings, metrics, outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// All settings (seed and repeat included).
    pub settings: TrainSettings,
    /// Attempts made (1 without restarts).
    pub attempts: usize,
    /// Tensor loss `||T - T_hat||^2` of the continuous model after phase 1 (all slots).
    pub tensor_loss_full: f64,
    /// Tensor loss of the pruned continuous model that was discretised.
    pub tensor_loss_pruned: f64,
    /// Slot importances after phase 1.
    pub importance: Vec<f64>,
    /// `max |theta - Q(theta)|` for the rounding that decides success.
    pub delta: f64,
    /// Delta of plain rounding.
    pub delta_plain: f64,
    /// Delta of gauge-balanced rounding.
    pub delta_balanced: f64,
    /// Training-loss curve summary.
    pub train_loss: CurveSummary,
    /// Test-loss curve summary.
    pub test_loss: CurveSummary,
    /// Grokking event per the operational definition, `null` for none.
    pub grokking: Option<GrokEvent>,
    /// Exact verdict of plain rounding.
    pub verdict_plain: VerdictSummary,
    /// Exact verdict of gauge-balanced rounding.
    pub verdict_balanced: VerdictSummary,
    /// Exact verdict of the output rounding.
    pub exact: bool,
    /// Structural match of the output scheme with Strassen (`null`: none or not checked).
    pub strassen_match: serde_json::Value,
    /// The small basis change mapping Strassen onto the output scheme when there is no plain
    /// match (`null`: none found, not exact, or not checked).
    #[serde(default)]
    pub strassen_basis_match: serde_json::Value,
    /// Relative errors of the output scheme applied recursively up to 64 x 64 (`null` when the
    /// scheme is not exact or the dimensions do not allow it).
    pub expansion_errors: serde_json::Value,
    /// Nonzero coefficients of the output scheme.
    pub nonzeros: usize,
    /// Success: the output scheme verified exactly and no fallback was used.
    pub success: bool,
    /// Whether a fallback scheme was written instead.
    pub fallback_used: bool,
    /// Phase-1 checkpoints of the last attempt (see [`TrainSettings::checkpoints`]).
    pub checkpoints: Vec<Checkpoint>,
    /// Wall time of the run in seconds (all attempts).
    pub wall_time_s: f64,
}

/// The outcome of discretising at a phase-1 checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Epochs done.
    pub epoch: usize,
    /// The discretised (output rounding) scheme verified exactly.
    pub exact: bool,
    /// Its delta.
    pub delta: f64,
}

/// Per-epoch curves of one training phase, and checkpoint results.
#[derive(Default)]
struct Curves {
    train: Vec<f64>,
    test: Vec<f64>,
    checkpoints: Vec<Checkpoint>,
}

/// What every training phase of one run reads.
struct Ctx<'a> {
    s: &'a TrainSettings,
    train: &'a Dataset,
    test: &'a Batch,
    /// The matrix-multiplication tensor of the phase-1 shape.
    target: &'a [f64],
}

/// Which phase a training loop belongs to (phase-1 loops record checkpoints).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    One,
    Two,
}

impl Ctx<'_> {
    /// Records a checkpoint after `epoch` phase-1 epochs if the settings ask for one: phase 2
    /// (prune, fine-tune, anneal) runs on a copy of the model, with a copy of the shuffling
    /// stream, and the result is discretised and verified. The run itself is not disturbed.
    fn checkpoint(&self, model: &Model, epoch: usize, shuffle: &ChaCha8Rng, curves: &mut Curves) {
        if !self.s.checkpoints.contains(&epoch) {
            return;
        }
        let mut sh = shuffle.clone();
        let mut scratch = Curves::default();
        let m = self.phase2(model, &mut sh, &mut scratch);
        let d = discretise(&m, self.s.rounding);
        curves.checkpoints.push(Checkpoint {
            epoch,
            exact: d.verdict.is_valid(),
            delta: d.delta,
        });
    }

    /// Trains `model` for `epochs` on the data objective (minibatch MSE).
    fn train_data(
        &self,
        model: &mut Model,
        epochs: usize,
        shuffle: &mut ChaCha8Rng,
        curves: &mut Curves,
        phase: Phase,
    ) {
        let (s, train, test) = (self.s, self.train, self.test);
        let mut opt = AdamW::new(s.adamw, model.theta.len());
        let mut grad = vec![0.0; model.theta.len()];
        let mut ws = Workspace::default();
        let mut batch = Batch::default();
        let mut last_test = f64::NAN;
        for epoch in 0..epochs {
            let order = epoch_order(train.len, shuffle);
            let mut sum = 0.0;
            for chunk in order.chunks(s.batch_size) {
                train.gather(chunk, &mut batch);
                let loss = model.batch_loss_grad(
                    &batch.a,
                    &batch.b,
                    &batch.c,
                    batch.len,
                    Some(&mut grad),
                    &mut ws,
                );
                sum += loss * chunk.len() as f64;
                opt.step(&mut model.theta, &grad);
            }
            curves.train.push(sum / train.len as f64);
            if epoch % s.test_every == 0 || epoch + 1 == epochs {
                last_test =
                    model.batch_loss_grad(&test.a, &test.b, &test.c, test.len, None, &mut ws);
            }
            curves.test.push(last_test);
            if phase == Phase::One {
                self.checkpoint(model, epoch + 1, shuffle, curves);
            }
        }
    }

    /// Trains `model` for `epochs` full-batch steps on the tensor objective, optionally with the
    /// annealed integer penalty and per-step gauge balancing.
    #[allow(clippy::too_many_arguments)]
    fn train_tensor(
        &self,
        model: &mut Model,
        adamw: AdamWConfig,
        epochs: usize,
        anneal: Option<&Anneal>,
        shuffle: &ChaCha8Rng,
        curves: &mut Curves,
        phase: Phase,
    ) {
        let (s, test) = (self.s, self.test);
        let target_owned;
        let target = if model.dims == s.dims {
            self.target
        } else {
            target_owned = matmul_tensor(&model.dims);
            &target_owned
        };
        let mut opt = AdamW::new(adamw, model.theta.len());
        let mut grad = vec![0.0; model.theta.len()];
        let mut resid = Vec::new();
        let mut ws = Workspace::default();
        let mut last_test = f64::NAN;
        let cm = model.dims.c_len() as f64;
        for epoch in 0..epochs {
            let loss = model.tensor_loss_grad_ws(target, Some(&mut grad), &mut resid);
            if let Some(an) = anneal {
                let frac = if epochs > 1 {
                    epoch as f64 / (epochs - 1) as f64
                } else {
                    1.0
                };
                let lambda = an.lambda_start * (an.lambda_end / an.lambda_start).powf(frac);
                integer_penalty(&model.theta, lambda, &mut grad);
            }
            opt.step(&mut model.theta, &grad);
            if anneal.is_some() {
                model.balance_max();
            }
            // The tensor loss is mn times the expected per-entry MSE under N(0,1) data.
            curves.train.push(loss / cm);
            if epoch % s.test_every == 0 || epoch + 1 == epochs {
                last_test =
                    model.batch_loss_grad(&test.a, &test.b, &test.c, test.len, None, &mut ws);
            }
            curves.test.push(last_test);
            if phase == Phase::One {
                self.checkpoint(model, epoch + 1, shuffle, curves);
            }
        }
    }

    /// Phase 1 from `model`.
    fn phase1(&self, model: &mut Model, shuffle: &mut ChaCha8Rng, curves: &mut Curves) {
        let s = self.s;
        match s.objective {
            Objective::Data => self.train_data(model, s.epochs, shuffle, curves, Phase::One),
            Objective::Tensor => {
                let sh = shuffle.clone();
                self.train_tensor(model, s.adamw, s.epochs, None, &sh, curves, Phase::One)
            }
        }
    }

    /// Phase 2 on a phase-1 model: prune, fine-tune, anneal. Returns the model to discretise.
    fn phase2(&self, full: &Model, shuffle: &mut ChaCha8Rng, curves: &mut Curves) -> Model {
        let s = self.s;
        let mut pruned = prune(full, s.target_rank);
        if s.finetune_epochs > 0 {
            match s.objective {
                Objective::Data => {
                    self.train_data(&mut pruned, s.finetune_epochs, shuffle, curves, Phase::Two)
                }
                Objective::Tensor => self.train_tensor(
                    &mut pruned,
                    s.adamw,
                    s.finetune_epochs,
                    None,
                    shuffle,
                    curves,
                    Phase::Two,
                ),
            }
        }
        if let Some(an) = &s.anneal {
            let cfg = AdamWConfig {
                lr: an.lr,
                ..s.adamw
            };
            self.train_tensor(
                &mut pruned,
                cfg,
                an.steps,
                Some(an),
                shuffle,
                curves,
                Phase::Two,
            );
        }
        pruned
    }

    /// One attempt: initialise from the attempt's stream, phase 1, phase 2.
    fn attempt(&self, index: u64) -> Trained {
        let s = self.s;
        // Streams 16 + 2*(repeat*restarts + index) and the next one: init and shuffle.
        let base = 16 + 2 * (s.repeat * s.restarts as u64 + index);
        let mut init_rng = rng(s.seed, base);
        let mut shuffle = rng(s.seed, base + 1);
        let mut model = Model::random(s.dims, s.init_scale, s.symmetric_init, &mut init_rng);
        let mut curves = Curves::default();
        self.phase1(&mut model, &mut shuffle, &mut curves);
        let pruned = self.phase2(&model, &mut shuffle, &mut curves);
        Trained {
            full: model,
            pruned,
            train_curve: curves.train,
            test_curve: curves.test,
            checkpoints: curves.checkpoints,
        }
    }
}

/// `sum x^2 (x^2 - 1)^2` and its gradient added (times `lambda`) into `grad`.
fn integer_penalty(theta: &[f64], lambda: f64, grad: &mut [f64]) -> f64 {
    let mut pen = 0.0;
    for (g, &x) in grad.iter_mut().zip(theta) {
        let x2 = x * x;
        let d = x2 - 1.0;
        pen += x2 * d * d;
        *g += lambda * 2.0 * x * d * (3.0 * x2 - 1.0);
    }
    pen
}

/// The training set of a run with settings `s` (the data objective's pairs; the same for every
/// repeat of the seed).
pub fn training_set(s: &TrainSettings) -> Dataset {
    Dataset::random(
        s.dims,
        s.train_size,
        s.distr,
        &mut rng(s.seed, STREAM_TRAIN),
    )
}

/// Runs one training run to the end (all attempts) and returns its record and outputs.
/// This never writes files; see [`super::output_scheme`] for the output file.
pub fn run(s: &TrainSettings) -> Result<RunOutput, TrainError> {
    s.validate()?;
    let start = Instant::now();
    let data_dims = s.dims;
    let train = match s.objective {
        Objective::Data => training_set(s),
        Objective::Tensor => Dataset::random(data_dims, 0, s.distr, &mut rng(s.seed, STREAM_TRAIN)),
    };
    let test = Dataset::random(
        data_dims,
        s.test_size,
        s.distr,
        &mut rng(s.seed, STREAM_TEST),
    )
    .as_batch();
    let target = matmul_tensor(&s.dims);
    let ctx = Ctx {
        s,
        train: &train,
        test: &test,
        target: &target,
    };
    let mut attempts = 0;
    let (trained, plain, balanced) = loop {
        let t = ctx.attempt(attempts as u64);
        attempts += 1;
        let plain = discretise(&t.pruned, Rounding::Plain);
        let balanced = discretise(&t.pruned, Rounding::Balanced);
        let ok = match s.rounding {
            Rounding::Plain => plain.verdict.is_valid(),
            Rounding::Balanced => balanced.verdict.is_valid(),
        };
        if ok || attempts >= s.restarts {
            break (t, plain, balanced);
        }
    };
    let chosen = match s.rounding {
        Rounding::Plain => &plain,
        Rounding::Balanced => &balanced,
    };
    let exact = chosen.verdict.is_valid();
    let analysis = super::analyse(&chosen.scheme, s.seed);
    let record = RunRecord {
        settings: s.clone(),
        attempts,
        tensor_loss_full: trained.full.tensor_loss(&target),
        tensor_loss_pruned: trained
            .pruned
            .tensor_loss(&matmul_tensor(&trained.pruned.dims)),
        importance: trained.full.slot_importance(),
        delta: chosen.delta,
        delta_plain: plain.delta,
        delta_balanced: balanced.delta,
        train_loss: CurveSummary::of(&trained.train_curve),
        test_loss: CurveSummary::of(&trained.test_curve),
        grokking: detect_grokking(
            &trained.train_curve,
            &trained.test_curve,
            &GrokkingRule::default(),
        ),
        verdict_plain: (&plain.verdict).into(),
        verdict_balanced: (&balanced.verdict).into(),
        exact,
        strassen_match: analysis.strassen_match,
        strassen_basis_match: analysis.strassen_basis_match,
        expansion_errors: analysis.expansion_errors,
        nonzeros: chosen.scheme.nonzeros(),
        success: exact,
        fallback_used: false,
        checkpoints: trained.checkpoints.clone(),
        wall_time_s: start.elapsed().as_secs_f64(),
    };
    Ok(RunOutput {
        record,
        trained,
        plain,
        balanced,
    })
}

impl Model {
    /// The tensor loss without gradient.
    pub fn tensor_loss(&self, target: &[f64]) -> f64 {
        self.tensor_loss_grad(target, None)
    }
}
