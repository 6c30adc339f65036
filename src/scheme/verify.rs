//! Exact verification of a scheme by the Brent equations.
//!
//! With A indexed `(i,p)`, B indexed `(q,j)` and C indexed `(s,t)`, the scheme computes the matrix
//! product iff for every such index triple
//! `sum_r u[r][(i,p)] * v[r][(q,j)] * w[(s,t)][r] = [p == q] [i == s] [j == t]`.
//! All arithmetic is checked `i128`; an overflow counts as a failure of that equation. The check
//! itself is [`super::brent::check`], which `build.rs` also runs on every shipped scheme.

use super::{brent, Scheme};
use std::fmt;

/// One Brent equation that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedEquation {
    /// Index into A, `(row, col)`.
    pub a: (usize, usize),
    /// Index into B, `(row, col)`.
    pub b: (usize, usize),
    /// Index into C, `(row, col)`.
    pub c: (usize, usize),
    /// The scheme's value `sum_r u v w` (`None` on overflow).
    pub got: Option<i128>,
    /// The matrix-multiplication tensor's value (0 or 1).
    pub expected: i128,
}

impl fmt::Display for FailedEquation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let got = match self.got {
            Some(g) => g.to_string(),
            None => "overflow".into(),
        };
        write!(
            f,
            "a{:?} b{:?} c{:?}: sum_r u*v*w = {got}, expected {}",
            self.a, self.b, self.c, self.expected
        )
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Number of Brent equations, `(mk)(kn)(mn)`.
    pub total: usize,
    /// Number of failing equations.
    pub failed_count: usize,
    /// The first few failing equations (at most [`MAX_REPORTED`]), in index order.
    pub failed: Vec<FailedEquation>,
}

/// How many failing equations a [`Verdict`] keeps.
pub const MAX_REPORTED: usize = 8;

impl Verdict {
    /// True when every equation holds.
    pub fn is_valid(&self) -> bool {
        self.failed_count == 0
    }
}

/// Evaluates every Brent equation of `s` exactly.
pub fn verify(s: &Scheme) -> Verdict {
    let (m, k, n) = (s.m, s.k, s.n);
    let raw = brent::check((m, k, n), &s.u, &s.v, &s.w, MAX_REPORTED);
    Verdict {
        total: raw.total,
        failed_count: raw.failed_count,
        failed: raw
            .first
            .iter()
            .map(|f| FailedEquation {
                a: (f.ia / k, f.ia % k),
                b: (f.ib / n, f.ib % n),
                c: (f.ic / n, f.ic % n),
                got: f.got,
                expected: f.expected,
            })
            .collect(),
    }
}
