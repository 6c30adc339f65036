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

impl RawFailure {
    fn key(&self) -> (usize, usize, usize) {
        (self.ia, self.ib, self.ic)
    }
}

impl PartialOrd for RawFailure {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RawFailure {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Evaluates every Brent equation of the `<m,k,n>` scheme `(u, v, w)`, keeping the first `keep`
/// failures (in index order).
///
/// The check is sparse: it visits only the nonzero products `u[r][ia] v[r][ib] w[ic][r]` and the
/// `m*k*n` equations whose right-hand side is 1, so it costs
/// `sum_r nnz(u_r) nnz(v_r) nnz(w column r) + m k n` map updates, not `(mk)(kn)(mn) rank`
/// (every other equation has both sides 0). Rows must have the documented lengths (`u`, `v`:
/// rank rows of `m*k`, `k*n`; `w`: `m*n` rows of rank); with any other shape every equation
/// counts as failing (none is listed), never a panic.
pub fn check(
    (m, k, n): (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
    keep: usize,
) -> RawVerdict {
    use std::collections::{BinaryHeap, HashMap};
    let rank = u.len();
    let total = (m.saturating_mul(k))
        .saturating_mul(k.saturating_mul(n))
        .saturating_mul(m.saturating_mul(n));
    let shape_ok = m > 0
        && k > 0
        && n > 0
        && v.len() == rank
        && u.iter().all(|r| r.len() == m * k)
        && v.iter().all(|r| r.len() == k * n)
        && w.len() == m * n
        && w.iter().all(|r| r.len() == rank);
    if !shape_ok {
        return RawVerdict {
            total,
            failed_count: total,
            first: Vec::new(),
        };
    }
    let nonzeros = |row: &[i64]| -> Vec<(usize, i64)> {
        row.iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(j, &c)| (j, c))
            .collect()
    };
    let un: Vec<Vec<(usize, i64)>> = u.iter().map(|r| nonzeros(r)).collect();
    let vn: Vec<Vec<(usize, i64)>> = v.iter().map(|r| nonzeros(r)).collect();
    let mut failed_count = 0usize;
    // The `keep` smallest failures by index: a max-heap that drops its largest when too full.
    let mut first: BinaryHeap<RawFailure> = BinaryHeap::new();
    let mut fail = |f: RawFailure, count: &mut usize| {
        *count += 1;
        if keep > 0 && (first.len() < keep || first.peek().is_some_and(|top| f < *top)) {
            first.push(f);
            if first.len() > keep {
                first.pop();
            }
        }
    };
    let mut acc: HashMap<(usize, usize), Option<i128>> = HashMap::new();
    for (ic, wrow) in w.iter().enumerate() {
        let (s, t) = (ic / n, ic % n);
        acc.clear();
        for (r, &c) in wrow.iter().enumerate() {
            if c == 0 {
                continue;
            }
            for &(ia, a) in &un[r] {
                for &(ib, b) in &vn[r] {
                    let term = (a as i128)
                        .checked_mul(b as i128)
                        .and_then(|x| x.checked_mul(c as i128));
                    let e = acc.entry((ia, ib)).or_insert(Some(0));
                    *e = match (*e, term) {
                        (Some(x), Some(y)) => x.checked_add(y),
                        _ => None,
                    };
                }
            }
        }
        // The equations with right-hand side 1 for this C entry: a(s,p) b(p,t).
        for p in 0..k {
            let key = (s * k + p, p * n + t);
            match acc.remove(&key) {
                Some(Some(1)) => {}
                got => fail(
                    RawFailure {
                        ia: key.0,
                        ib: key.1,
                        ic,
                        got: got.unwrap_or(Some(0)),
                        expected: 1,
                    },
                    &mut failed_count,
                ),
            }
        }
        for (&(ia, ib), &got) in &acc {
            if got != Some(0) {
                fail(
                    RawFailure {
                        ia,
                        ib,
                        ic,
                        got,
                        expected: 0,
                    },
                    &mut failed_count,
                );
            }
        }
    }
    RawVerdict {
        total,
        failed_count,
        first: first.into_sorted_vec(),
    }
}
