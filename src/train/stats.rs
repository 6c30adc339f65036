//! Statistics for studies: Wilson score intervals and one-way ANOVA.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// Deserialises an `f64` that JSON may hold as `null` (serde_json writes NaN and infinities as
/// `null`); `null` reads back as NaN.
pub fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A binomial proportion with its Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes.
    pub successes: usize,
    /// Trials.
    pub trials: usize,
    /// `successes / trials` (NaN for no trials).
    #[serde(deserialize_with = "f64_or_nan")]
    pub rate: f64,
    /// Lower end of the interval.
    #[serde(deserialize_with = "f64_or_nan")]
    pub lo: f64,
    /// Upper end of the interval.
    #[serde(deserialize_with = "f64_or_nan")]
    pub hi: f64,
}

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `successes` out of `trials` at normal quantile `z`
/// (use [`Z95`] for 95%). With no trials the interval is [0, 1] and the rate NaN.
pub fn wilson(successes: usize, trials: usize, z: f64) -> Proportion {
    if trials == 0 {
        return Proportion {
            successes,
            trials,
            rate: f64::NAN,
            lo: 0.0,
            hi: 1.0,
        };
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Proportion {
        successes,
        trials,
        rate: p,
        lo: (centre - half).max(0.0),
        hi: (centre + half).min(1.0),
    }
}

/// The result of a one-way analysis of variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anova {
    /// Number of groups.
    pub groups: usize,
    /// Number of observations.
    pub n: usize,
    /// Between-group sum of squares.
    #[serde(deserialize_with = "f64_or_nan")]
    pub ss_between: f64,
    /// Within-group sum of squares.
    #[serde(deserialize_with = "f64_or_nan")]
    pub ss_within: f64,
    /// Between-group degrees of freedom, `groups - 1`.
    pub df_between: usize,
    /// Within-group degrees of freedom, `n - groups`.
    pub df_within: usize,
    /// `(ss_between / df_between) / (ss_within / df_within)`; infinite when the groups differ
    /// but have no spread, NaN when there is no variance at all.
    #[serde(deserialize_with = "f64_or_nan")]
    pub f: f64,
    /// Upper-tail probability of `f` under F(df_between, df_within) (NaN when `f` is NaN).
    #[serde(deserialize_with = "f64_or_nan")]
    pub p: f64,
    /// Effect size `ss_between / (ss_between + ss_within)` (NaN when there is no variance).
    #[serde(deserialize_with = "f64_or_nan")]
    pub eta_squared: f64,
}

/// One-way ANOVA of `groups` (empty groups are ignored). Returns `None` with fewer than two
/// non-empty groups or no within-group degrees of freedom.
pub fn one_way_anova(groups: &[Vec<f64>]) -> Option<Anova> {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let k = groups.len();
    let n: usize = groups.iter().map(|g| g.len()).sum();
    if k < 2 || n <= k {
        return None;
    }
    let grand = groups.iter().flat_map(|g| g.iter()).sum::<f64>() / n as f64;
    let mut ssb = 0.0;
    let mut ssw = 0.0;
    for g in &groups {
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        ssb += g.len() as f64 * (mean - grand).powi(2);
        ssw += g.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    }
    let (dfb, dfw) = (k - 1, n - k);
    let f = if ssw > 0.0 {
        (ssb / dfb as f64) / (ssw / dfw as f64)
    } else if ssb > 0.0 {
        f64::INFINITY
    } else {
        f64::NAN
    };
    let p = if f.is_nan() {
        f64::NAN
    } else if f.is_infinite() {
        0.0
    } else {
        FisherSnedecor::new(dfb as f64, dfw as f64)
            .map(|d| d.sf(f))
            .unwrap_or(f64::NAN)
    };
    let total = ssb + ssw;
    Some(Anova {
        groups: k,
        n,
        ss_between: ssb,
        ss_within: ssw,
        df_between: dfb,
        df_within: dfw,
        f,
        p,
        eta_squared: if total > 0.0 { ssb / total } else { f64::NAN },
    })
}

/// Mean and sample standard deviation (NaN for fewer than 1 and 2 values).
pub fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

/// The median (NaN for no values); NaNs sort last.
pub fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
