//! Kronecker (tensor) products of schemes, and the classical scheme of any shape.
//!
//! If `a` is `<m1,k1,n1;r1>` and `b` is `<m2,k2,n2;r2>`, then `kron(a, b)` is
//! `<m1 m2, k1 k2, n1 n2; r1 r2>`: A is split into an `m1 x k1` grid of `m2 x k2` blocks, `a`
//! combines the blocks and `b` computes each block product. Entry `(i, p)` of A with
//! `i = i1 m2 + i2`, `p = p1 k2 + p2` gets coefficient `u_a[r1][(i1,p1)] * u_b[r2][(i2,p2)]` in
//! product `r = r1 r2_count + r2`; likewise for B and C.

use super::{Scheme, SchemeError};

/// The Kronecker product of two schemes (see the module docs for index conventions).
/// Strassen (x) Strassen is `<4,4,4;49>`.
pub fn kron(a: &Scheme, b: &Scheme) -> Result<Scheme, SchemeError> {
    let too_big =
        |what: &str| SchemeError::Argument(format!("kron({}, {}): {what}", a.name, b.name));
    let (m, k, n) = (a.m * b.m, a.k * b.k, a.n * b.n);
    let rank = a
        .rank
        .checked_mul(b.rank)
        .ok_or_else(|| too_big("rank overflows"))?;
    if [m, k, n, rank].iter().any(|&d| d as u64 > super::MAX_DIM) {
        return Err(too_big("result exceeds the dimension limit"));
    }
    // Flat index of block (x1, y1) entry (x2, y2) in a (d1*d2) x (e1*e2) row-major matrix.
    let flat = |(x1, y1): (usize, usize), (x2, y2): (usize, usize), d2: usize, e1: usize, e2| {
        (x1 * d2 + x2) * (e1 * e2) + (y1 * e2 + y2)
    };
    let prod = |x: i64, y: i64| {
        x.checked_mul(y)
            .ok_or_else(|| too_big("coefficient overflow"))
    };
    let mut u = vec![vec![0i64; m * k]; rank];
    let mut v = vec![vec![0i64; k * n]; rank];
    let mut w = vec![vec![0i64; rank]; m * n];
    for r1 in 0..a.rank {
        for r2 in 0..b.rank {
            let r = r1 * b.rank + r2;
            for ja in 0..a.m * a.k {
                for jb in 0..b.m * b.k {
                    let idx = flat((ja / a.k, ja % a.k), (jb / b.k, jb % b.k), b.m, a.k, b.k);
                    u[r][idx] = prod(a.u[r1][ja], b.u[r2][jb])?;
                }
            }
            for ja in 0..a.k * a.n {
                for jb in 0..b.k * b.n {
                    let idx = flat((ja / a.n, ja % a.n), (jb / b.n, jb % b.n), b.k, a.n, b.n);
                    v[r][idx] = prod(a.v[r1][ja], b.v[r2][jb])?;
                }
            }
            for ia in 0..a.m * a.n {
                for ib in 0..b.m * b.n {
                    let idx = flat((ia / a.n, ia % a.n), (ib / b.n, ib % b.n), b.m, a.n, b.n);
                    w[idx][r] = prod(a.w[ia][r1], b.w[ib][r2])?;
                }
            }
        }
    }
    Scheme::new(
        format!("{}(x){}", a.name, b.name),
        (m, k, n),
        u,
        v,
        w,
        serde_json::json!({"source": "derived", "kronecker": [a.name, b.name]}),
    )
}

impl Scheme {
    /// The classical `<m,k,n; m k n>` scheme: one product `a_ip b_pj` per `(i, p, j)`, in that
    /// order. Errors if a dimension is zero or too large.
    pub fn classical(m: usize, k: usize, n: usize) -> Result<Scheme, SchemeError> {
        let rank = m
            .checked_mul(k)
            .and_then(|x| x.checked_mul(n))
            .filter(|&r| r as u64 <= super::MAX_DIM)
            .ok_or_else(|| SchemeError::Argument(format!("classical <{m},{k},{n}>: too large")))?;
        let mut u = vec![vec![0i64; m * k]; rank];
        let mut v = vec![vec![0i64; k * n]; rank];
        let mut w = vec![vec![0i64; rank]; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    let r = (i * k + p) * n + j;
                    u[r][i * k + p] = 1;
                    v[r][p * n + j] = 1;
                    w[i * n + j][r] = 1;
                }
            }
        }
        Scheme::new(
            format!("classical{m}{k}{n}"),
            (m, k, n),
            u,
            v,
            w,
            serde_json::json!({"source": "literature", "reference": "definition of the matrix product"}),
        )
    }
}
