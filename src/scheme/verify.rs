//! Exact verification of a scheme by the Brent equations.
//!
//! With A indexed `(i,p)`, B indexed `(q,j)` and C indexed `(s,t)`, the scheme computes the matrix
//! product iff for every such index triple
//! `sum_r u[r][(i,p)] * v[r][(q,j)] * w[(s,t)][r] = [p == q] [i == s] [j == t]`.
//! All arithmetic is checked `i128`; an overflow counts as a failure of that equation.

use super::Scheme;

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

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Number of Brent equations, `(mk)(kn)(mn)`.
    pub total: usize,
    /// Number of failing equations.
    pub failed_count: usize,
    /// The first few failing equations (at most [`MAX_REPORTED`]).
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
    let mut verdict = Verdict {
        total: (m * k) * (k * n) * (m * n),
        failed_count: 0,
        failed: Vec::new(),
    };
    for ia in 0..m * k {
        let (i, p) = (ia / k, ia % k);
        for ib in 0..k * n {
            let (q, j) = (ib / n, ib % n);
            for ic in 0..m * n {
                let (si, t) = (ic / n, ic % n);
                let mut acc: Option<i128> = Some(0);
                for r in 0..s.rank {
                    let term = (s.u[r][ia] as i128)
                        .checked_mul(s.v[r][ib] as i128)
                        .and_then(|x| x.checked_mul(s.w[ic][r] as i128));
                    acc = match (acc, term) {
                        (Some(a), Some(t)) => a.checked_add(t),
                        _ => None,
                    };
                }
                let expected = i128::from(p == q && i == si && j == t);
                if acc != Some(expected) {
                    verdict.failed_count += 1;
                    if verdict.failed.len() < MAX_REPORTED {
                        verdict.failed.push(FailedEquation {
                            a: (i, p),
                            b: (q, j),
                            c: (si, t),
                            got: acc,
                            expected,
                        });
                    }
                }
            }
        }
    }
    verdict
}
