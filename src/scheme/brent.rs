//! The Brent equations in checked integer arithmetic.
//!
//! This file depends on nothing but `std`: `build.rs` includes it with `#[path]` to verify every
//! shipped scheme before it is embedded, and [`super::verify`] uses it at run time, so the build
//! and the library run the same check.
//!
//! With A indexed `(i,p)`, B indexed `(q,j)` and C indexed `(s,t)` (all row-major), a scheme
//! computes the matrix product iff for every index triple
//! `sum_r u[r][(i,p)] * v[r][(q,j)] * w[(s,t)][r] = [p == q] [i == s] [j == t]`.
//! An `i128` overflow counts as a failure of that equation.

/// One Brent equation that does not hold, by flat row-major indices into A, B and C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFailure {
    /// Flat index into A (`i*k + p`).
    pub ia: usize,
    /// Flat index into B (`q*n + j`).
    pub ib: usize,
    /// Flat index into C (`s*n + t`).
    pub ic: usize,
    /// The scheme's value (`None` on overflow).
    pub got: Option<i128>,
    /// The matrix-multiplication tensor's value (0 or 1).
    pub expected: i128,
}

/// Result of [`check`]: the number of equations, how many fail, and the first few failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawVerdict {
    /// Number of equations, `(mk)(kn)(mn)`.
    pub total: usize,
    /// Number of failing equations.
    pub failed_count: usize,
    /// The first `keep` failures, in index order.
    pub first: Vec<RawFailure>,
}

/// Evaluates every Brent equation of the `<m,k,n>` scheme `(u, v, w)`, keeping the first `keep`
/// failures. Rows must have the documented lengths (`u`, `v`: rank rows of `m*k`, `k*n`; `w`:
/// `m*n` rows of rank); a missing row or coefficient counts as a failing equation, never a panic.
pub fn check(
    (m, k, n): (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
    keep: usize,
) -> RawVerdict {
    let rank = u.len();
    let mut out = RawVerdict {
        total: (m * k) * (k * n) * (m * n),
        failed_count: 0,
        first: Vec::new(),
    };
    for ia in 0..m * k {
        let (i, p) = (ia / k, ia % k);
        for ib in 0..k * n {
            let (q, j) = (ib / n, ib % n);
            for ic in 0..m * n {
                let (s, t) = (ic / n, ic % n);
                let mut acc: Option<i128> = Some(0);
                for r in 0..rank.max(v.len()) {
                    let cu = u.get(r).and_then(|row| row.get(ia));
                    let cv = v.get(r).and_then(|row| row.get(ib));
                    let cw = w.get(ic).and_then(|row| row.get(r));
                    let term = match (cu, cv, cw) {
                        (Some(&a), Some(&b), Some(&c)) => (a as i128)
                            .checked_mul(b as i128)
                            .and_then(|x| x.checked_mul(c as i128)),
                        _ => None,
                    };
                    acc = match (acc, term) {
                        (Some(a), Some(t)) => a.checked_add(t),
                        _ => None,
                    };
                }
                let expected = i128::from(p == q && i == s && j == t);
                if acc != Some(expected) {
                    out.failed_count += 1;
                    if out.first.len() < keep {
                        out.first.push(RawFailure {
                            ia,
                            ib,
                            ic,
                            got: acc,
                            expected,
                        });
                    }
                }
            }
        }
    }
    out
}
