//! Phase 2: pruning to the target rank and discretisation to integer coefficients.
//!
//! * **Importance** of a slot r is the Frobenius norm of its rank-one tensor,
//!   `||u_r||_2 ||v_r||_2 ||w_r||_2`. It is invariant under the rescaling gauge
//!   `(u, v, w) -> (alpha u, beta v, w / (alpha beta))`, so it measures what the slot contributes,
//!   not how the optimiser happened to distribute its scale.
//! * **Pruning** keeps the `target` most important slots (ties: the lower index), in their
//!   original order.
//! * **Plain rounding** `Q(x) = clamp(round(x), -1, 1)` (round half away from zero), entry-wise.
//! * **Gauge-balanced rounding** first rescales each slot by `(alpha, beta, 1/(alpha beta))` so
//!   that the largest absolute entries of `u_r`, `v_r` and `w_r` are equal, then rounds. A slot
//!   learned as `(2u, v/2, w)` rounds like `(u, v, w)`.
//!
//! `delta = max |theta - Q(theta)|` is measured on the parameters that were rounded (after
//! balancing, for the balanced variant): a value below 0.5 everywhere means rounding did not
//! have to decide anything close.

use super::model::{Dims, Model};
use crate::scheme::{Scheme, Verdict};
use serde::Serialize;

/// Which discretisation a protocol outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// Round and clamp the parameters as they are.
    Plain,
    /// Balance each slot's gauge first, then round and clamp.
    Balanced,
}

impl std::str::FromStr for Rounding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "plain" => Ok(Rounding::Plain),
            "balanced" => Ok(Rounding::Balanced),
            _ => Err(format!("unknown rounding `{s}` (plain, balanced)")),
        }
    }
}

/// Indices of the `target` most important slots, in increasing order.
pub fn top_slots(importance: &[f64], target: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..importance.len()).collect();
    // Descending importance; NaN counts as least important; ties by index.
    order.sort_by(|&a, &b| {
        let (x, y) = (importance[a], importance[b]);
        let x = if x.is_nan() { f64::NEG_INFINITY } else { x };
        let y = if y.is_nan() { f64::NEG_INFINITY } else { y };
        y.partial_cmp(&x).unwrap().then(a.cmp(&b))
    });
    let mut keep: Vec<usize> = order.into_iter().take(target).collect();
    keep.sort_unstable();
    keep
}

/// Prunes `model` to its `target` most important slots (no-op when it has at most `target`).
pub fn prune(model: &Model, target: usize) -> Model {
    if model.dims.rank <= target {
        return model.clone();
    }
    model.select_slots(&top_slots(&model.slot_importance(), target))
}

/// `clamp(round(x), -1, 1)`.
pub fn quantise(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    x.round().clamp(-1.0, 1.0) as i64
}

/// The outcome of discretising a model one way.
#[derive(Debug, Clone)]
pub struct Discretised {
    /// The parameters that were rounded (balanced ones for [`Rounding::Balanced`]).
    pub theta: Vec<f64>,
    /// Their rounded values.
    pub ints: Vec<i64>,
    /// `max |theta - Q(theta)|`.
    pub delta: f64,
    /// The integer scheme.
    pub scheme: Scheme,
    /// Its exact verdict.
    pub verdict: Verdict,
}

/// Builds the integer scheme with parameters `ints` (layout of `theta`).
pub fn scheme_from_ints(
    dims: &Dims,
    ints: &[i64],
    name: &str,
    provenance: serde_json::Value,
) -> Scheme {
    let (am, bm, cm, r) = (dims.a_len(), dims.b_len(), dims.c_len(), dims.rank);
    let ov = r * am;
    let ow = ov + r * bm;
    let u = (0..r)
        .map(|s| ints[s * am..(s + 1) * am].to_vec())
        .collect();
    let v = (0..r)
        .map(|s| ints[ov + s * bm..ov + (s + 1) * bm].to_vec())
        .collect();
    let w = (0..cm)
        .map(|i| ints[ow + i * r..ow + (i + 1) * r].to_vec())
        .collect();
    Scheme {
        name: name.to_string(),
        m: dims.m,
        k: dims.k,
        n: dims.n,
        rank: r,
        u,
        v,
        w,
        provenance,
    }
}

/// Discretises `model` (already pruned) by `rounding` and verifies the result exactly.
pub fn discretise(model: &Model, rounding: Rounding) -> Discretised {
    let mut m = model.clone();
    if rounding == Rounding::Balanced {
        m.balance_max();
    }
    let ints: Vec<i64> = m.theta.iter().map(|&x| quantise(x)).collect();
    let delta = m
        .theta
        .iter()
        .zip(&ints)
        .map(|(&x, &q)| (x - q as f64).abs())
        .fold(
            0.0f64,
            |a, b| if b.is_nan() { f64::INFINITY } else { a.max(b) },
        );
    let scheme = scheme_from_ints(&m.dims, &ints, "learned", serde_json::Value::Null);
    let verdict = scheme.verify();
    Discretised {
        theta: m.theta,
        ints,
        delta,
        scheme,
        verdict,
    }
}
