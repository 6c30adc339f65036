//! Loss-curve summaries and the grokking detector.
//!
//! **Operational definition of a grokking event** (the one the published work states): a
//! plateau of at least `min_plateau` (default 100) consecutive epochs in which the training loss
//! is below `train_below` (1e-6) while the test loss stays above `test_above` (0.1), followed by
//! a drop: the first later epoch whose test loss is below `drop_below` (0.01, an order of
//! magnitude under the plateau threshold). The event's epoch is the epoch of that drop. Without
//! such a plateau, or without a drop after it, the result is "none".

use serde::Serialize;

/// Thresholds of the grokking definition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GrokkingRule {
    /// Minimum plateau length in epochs.
    pub min_plateau: usize,
    /// The training loss must be below this on the plateau.
    pub train_below: f64,
    /// The test loss must be above this on the plateau.
    pub test_above: f64,
    /// The drop: the test loss falls below this after the plateau.
    pub drop_below: f64,
}

impl Default for GrokkingRule {
    fn default() -> Self {
        GrokkingRule {
            min_plateau: 100,
            train_below: 1e-6,
            test_above: 0.1,
            drop_below: 0.01,
        }
    }
}

/// A detected grokking event (epochs count from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GrokEvent {
    /// First epoch of the (first qualifying) plateau.
    pub plateau_start: usize,
    /// Its length in epochs.
    pub plateau_len: usize,
    /// The epoch at which the test loss dropped.
    pub epoch: usize,
}

/// Finds the first grokking event in per-epoch training and test losses (see the module
/// documentation). Curves of different lengths are compared over the shorter one.
pub fn detect_grokking(train: &[f64], test: &[f64], rule: &GrokkingRule) -> Option<GrokEvent> {
    let n = train.len().min(test.len());
    let on_plateau = |e: usize| train[e] < rule.train_below && test[e] > rule.test_above;
    let mut e = 0;
    while e < n {
        if !on_plateau(e) {
            e += 1;
            continue;
        }
        let start = e;
        while e < n && on_plateau(e) {
            e += 1;
        }
        let len = e - start;
        if len >= rule.min_plateau {
            if let Some(drop) = (e..n).find(|&t| test[t] < rule.drop_below) {
                return Some(GrokEvent {
                    plateau_start: start,
                    plateau_len: len,
                    epoch: drop,
                });
            }
        }
    }
    None
}

/// A compact description of one loss curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveSummary {
    /// Number of recorded points.
    pub points: usize,
    /// First value.
    pub first: f64,
    /// Last value.
    pub last: f64,
    /// Smallest value.
    pub min: f64,
    /// Index of the smallest value.
    pub argmin: usize,
    /// First index at which the value is below 1e-3 (`None`: never).
    pub below_1e_3: Option<usize>,
    /// First index at which the value is below 1e-6.
    pub below_1e_6: Option<usize>,
    /// `(index, value)` at roughly log-spaced indices 0, 1, 2, 5, 10, 20, 50, ... and the last.
    pub samples: Vec<(usize, f64)>,
}

impl CurveSummary {
    /// Summarises `curve` (empty curves give NaNs and no samples).
    pub fn of(curve: &[f64]) -> Self {
        let n = curve.len();
        let (argmin, min) =
            curve
                .iter()
                .copied()
                .enumerate()
                .fold((0, f64::NAN), |(bi, bv), (i, v)| {
                    if bv.is_nan() || v < bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                });
        let mut idx = Vec::new();
        let mut decade = 1;
        if n > 0 {
            idx.push(0);
        }
        'outer: loop {
            for mult in [1, 2, 5] {
                let i = mult * decade;
                if i >= n {
                    break 'outer;
                }
                idx.push(i);
            }
            decade *= 10;
        }
        if n > 1 && idx.last() != Some(&(n - 1)) {
            idx.push(n - 1);
        }
        CurveSummary {
            points: n,
            first: curve.first().copied().unwrap_or(f64::NAN),
            last: curve.last().copied().unwrap_or(f64::NAN),
            min,
            argmin,
            below_1e_3: curve.iter().position(|&v| v < 1e-3),
            below_1e_6: curve.iter().position(|&v| v < 1e-6),
            samples: idx.into_iter().map(|i| (i, curve[i])).collect(),
        }
    }
}
