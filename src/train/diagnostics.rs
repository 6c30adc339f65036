//! Diagnostics: fragility of discretisation under noise, slot permutations, gradient noise.

use super::data::{epoch_order, Batch, Dataset, Distr};
use super::discretise::{discretise, Rounding};
use super::model::{Dims, Model, Workspace};
use super::stats::{wilson, Proportion, Z95};
use crate::scheme::Scheme;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

/// The noise levels of the published fragility experiment.
pub const FRAGILITY_SIGMAS: [f64; 7] = [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1];

/// The continuous model with a scheme's integer coefficients.
pub fn model_of_scheme(s: &Scheme) -> Model {
    let dims = Dims {
        m: s.m,
        k: s.k,
        n: s.n,
        rank: s.rank,
    };
    let mut theta = Vec::with_capacity(dims.num_params());
    theta.extend(s.u.iter().flatten().map(|&x| x as f64));
    theta.extend(s.v.iter().flatten().map(|&x| x as f64));
    theta.extend(s.w.iter().flatten().map(|&x| x as f64));
    Model { dims, theta }
}

/// Fragility at one noise level.
#[derive(Debug, Clone, Serialize)]
pub struct FragilityRow {
    /// Standard deviation of the Gaussian noise added to every parameter.
    pub sigma: f64,
    /// Success of plain rounding.
    pub plain: Proportion,
    /// Success of gauge-balanced rounding.
    pub balanced: Proportion,
    /// Mean number of failing Brent equations (plain rounding).
    pub mean_failed_plain: f64,
}

/// For each `sigma`, adds N(0, sigma^2) noise to every parameter of `model` `trials` times,
/// discretises both ways and verifies exactly. Deterministic for a given `seed`.
pub fn fragility(model: &Model, sigmas: &[f64], trials: usize, seed: u64) -> Vec<FragilityRow> {
    sigmas
        .iter()
        .enumerate()
        .map(|(i, &sigma)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(100 + i as u64);
            let (mut ok_p, mut ok_b, mut failed) = (0, 0, 0usize);
            for _ in 0..trials {
                let mut m = model.clone();
                for x in m.theta.iter_mut() {
                    *x += sigma * rng.sample::<f64, _>(StandardNormal);
                }
                let p = discretise(&m, Rounding::Plain);
                let b = discretise(&m, Rounding::Balanced);
                ok_p += usize::from(p.verdict.is_valid());
                ok_b += usize::from(b.verdict.is_valid());
                failed += p.verdict.failed_count;
            }
            FragilityRow {
                sigma,
                plain: wilson(ok_p, trials, Z95),
                balanced: wilson(ok_b, trials, Z95),
                mean_failed_plain: failed as f64 / trials.max(1) as f64,
            }
        })
        .collect()
}

/// Error statistics of one family of permuted schemes.
#[derive(Debug, Clone, Serialize)]
pub struct PermutationStats {
    /// What was permuted.
    pub applied_to: String,
    /// Permutations tried (all `rank!`).
    pub permutations: usize,
    /// Non-identity permutations whose result is still an exact scheme.
    pub non_identity_exact: usize,
    /// Non-identity permutations whose result fails.
    pub non_identity_failed: usize,
    /// Whether the identity gives an exact scheme (it must, for a valid input).
    pub identity_exact: bool,
    /// Over non-identity permutations: minimum, median, mean and maximum relative Frobenius
    /// error of the product on the fixed random test pairs.
    pub rel_error_min: f64,
    /// Median.
    pub rel_error_median: f64,
    /// Mean.
    pub rel_error_mean: f64,
    /// Maximum.
    pub rel_error_max: f64,
    /// Over non-identity permutations: mean number of failing Brent equations.
    pub mean_failed_equations: f64,
}

/// Heap's algorithm: every permutation of `0..n`, the identity first.
pub fn all_permutations(n: usize) -> Vec<Vec<usize>> {
    let mut p: Vec<usize> = (0..n).collect();
    let mut out = vec![p.clone()];
    let mut c = vec![0usize; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                p.swap(0, i);
            } else {
                p.swap(c[i], i);
            }
            out.push(p.clone());
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    out
}

/// Relative Frobenius error of `s` on the test pairs.
fn rel_error(s: &Scheme, test: &Batch) -> f64 {
    let m = model_of_scheme(s);
    let mut ws = Workspace::default();
    let mse = m.batch_loss_grad(&test.a, &test.b, &test.c, test.len, None, &mut ws);
    let norm2 = test.c.iter().map(|x| x * x).sum::<f64>() / test.c.len() as f64;
    (mse / norm2).sqrt()
}

/// Applies every slot permutation of `s` (at most rank 9: 362880 permutations) to U, V and W
/// together, and to W alone, and reports how many give exact schemes and the errors of the
/// others on 512 random N(0,1) pairs drawn from `seed`.
pub fn permutations(s: &Scheme, seed: u64) -> Result<[PermutationStats; 2], super::TrainError> {
    if s.rank > 9 {
        return Err(super::TrainError::Settings(format!(
            "rank {} has too many slot permutations to enumerate (limit 9)",
            s.rank
        )));
    }
    let dims = Dims {
        m: s.m,
        k: s.k,
        n: s.n,
        rank: s.rank,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let test = Dataset::random(dims, 512, Distr::Normal, &mut rng).as_batch();
    let perms = all_permutations(s.rank);
    let mut out = Vec::new();
    for joint in [true, false] {
        let mut errors = Vec::new();
        let mut failed_eq = 0usize;
        let (mut exact, mut identity_exact) = (0, false);
        for (idx, p) in perms.iter().enumerate() {
            let mut t = s.clone();
            // Column r of the new W is column p[r] of the old one.
            t.w =
                s.w.iter()
                    .map(|row| p.iter().map(|&r| row[r]).collect())
                    .collect();
            if joint {
                t.u = p.iter().map(|&r| s.u[r].clone()).collect();
                t.v = p.iter().map(|&r| s.v[r].clone()).collect();
            }
            let v = t.verify();
            if idx == 0 {
                identity_exact = v.is_valid();
                continue;
            }
            exact += usize::from(v.is_valid());
            failed_eq += v.failed_count;
            errors.push(rel_error(&t, &test));
        }
        let n = errors.len();
        errors.sort_by(|a, b| a.total_cmp(b));
        out.push(PermutationStats {
            applied_to: if joint {
                "U, V and W together"
            } else {
                "W alone"
            }
            .into(),
            permutations: perms.len(),
            non_identity_exact: exact,
            non_identity_failed: n - exact,
            identity_exact,
            rel_error_min: errors.first().copied().unwrap_or(f64::NAN),
            rel_error_median: super::stats::median(&errors),
            rel_error_mean: errors.iter().sum::<f64>() / n.max(1) as f64,
            rel_error_max: errors.last().copied().unwrap_or(f64::NAN),
            mean_failed_equations: failed_eq as f64 / n.max(1) as f64,
        });
    }
    let b = out.pop().expect("two families");
    let a = out.pop().expect("two families");
    Ok([a, b])
}

/// Symmetric eigenvalues by cyclic Jacobi rotations (ascending). `a` is `n x n` row-major.
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    let mut a = a.to_vec();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i].powi(2)).sum();
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut ev: Vec<f64> = (0..n).map(|i| a[i * n + i]).collect();
    ev.sort_by(|x, y| x.total_cmp(y));
    ev
}

/// Gradient-noise statistics at one batch size.
#[derive(Debug, Clone, Serialize)]
pub struct KappaRow {
    /// Batch size.
    pub batch_size: usize,
    /// Minibatch gradients sampled.
    pub samples: usize,
    /// `sigma^2 = Tr(Sigma) / d`, Sigma the covariance of the minibatch gradient.
    pub sigma2: f64,
    /// Squared norm of the full-batch gradient (the signal).
    pub full_grad_norm2: f64,
    /// `lambda_max / lambda_min` of Sigma (infinite if Sigma is singular).
    pub condition: f64,
    /// Eigenvalues below `1e-12 lambda_max`: directions without gradient noise. Every
    /// per-sample gradient lies in the row space of the Jacobian of `theta -> T_hat` (the
    /// predicted tensor), which has at most `(mk)(kn)(mn)` rows and loses further directions to
    /// the rescaling gauge of each slot, so with `d` above that many of the `d` directions carry
    /// no noise at all.
    pub null_dims: usize,
    /// `lambda_max / lambda_min` over the remaining eigenvalues.
    pub condition_nonnull: f64,
}

/// Gradient noise of the data objective at the parameters of `model`: for each batch size,
/// `samples` minibatches drawn as in training (epochs of random order, cut into batches; partial
/// last batches skipped here so all gradients have the same size) give the covariance Sigma of
/// the minibatch gradient, its `sigma^2 = Tr(Sigma)/d` and its condition number.
pub fn kappa(
    model: &Model,
    train: &Dataset,
    batch_sizes: &[usize],
    samples: usize,
    seed: u64,
) -> Vec<KappaRow> {
    let d = model.theta.len();
    let mut ws = Workspace::default();
    let full = train.as_batch();
    let mut g_full = vec![0.0; d];
    model.batch_loss_grad(
        &full.a,
        &full.b,
        &full.c,
        full.len,
        Some(&mut g_full),
        &mut ws,
    );
    let full_grad_norm2 = g_full.iter().map(|x| x * x).sum();
    batch_sizes
        .iter()
        .map(|&bsz| {
            let bsz = bsz.min(train.len).max(1);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(200 + bsz as u64);
            let mut grads: Vec<Vec<f64>> = Vec::with_capacity(samples);
            let mut batch = Batch::default();
            let mut g = vec![0.0; d];
            while grads.len() < samples {
                let order = epoch_order(train.len, &mut rng);
                for chunk in order.chunks_exact(bsz) {
                    if grads.len() == samples {
                        break;
                    }
                    train.gather(chunk, &mut batch);
                    model.batch_loss_grad(&batch.a, &batch.b, &batch.c, bsz, Some(&mut g), &mut ws);
                    grads.push(g.clone());
                }
            }
            let n = grads.len() as f64;
            let mean: Vec<f64> = (0..d)
                .map(|i| grads.iter().map(|g| g[i]).sum::<f64>() / n)
                .collect();
            let mut cov = vec![0.0; d * d];
            for g in &grads {
                for i in 0..d {
                    let gi = g[i] - mean[i];
                    for j in 0..d {
                        cov[i * d + j] += gi * (g[j] - mean[j]);
                    }
                }
            }
            cov.iter_mut().for_each(|x| *x /= n - 1.0);
            let trace: f64 = (0..d).map(|i| cov[i * d + i]).sum();
            let ev = symmetric_eigenvalues(&cov, d);
            let lmax = ev.last().copied().unwrap_or(0.0);
            let lmin = ev.first().copied().unwrap_or(0.0);
            let cut = 1e-12 * lmax;
            let nonnull: Vec<f64> = ev.iter().copied().filter(|&l| l > cut).collect();
            KappaRow {
                batch_size: bsz,
                samples: grads.len(),
                sigma2: trace / d as f64,
                full_grad_norm2,
                condition: if lmin > 0.0 {
                    lmax / lmin
                } else {
                    f64::INFINITY
                },
                null_dims: d - nonnull.len(),
                condition_nonnull: nonnull.first().map_or(f64::NAN, |&l| lmax / l),
            }
        })
        .collect()
}
