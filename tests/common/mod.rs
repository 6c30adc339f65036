//! Shared helpers for the kernel tests: schemes, reference products, the error bound.
#![allow(dead_code)]

use strass::{Element, Scheme};

/// A `strass tune` command line that finishes in about a second (one f64 job at size 32).
pub const QUICK_TUNE: [&str; 13] = [
    "tune",
    "--budget-secs",
    "1",
    "--size",
    "32",
    "--cutoffs",
    "16",
    "--dtype",
    "f64",
    "--leaf",
    "matrixmultiply",
    "--threads",
    "1",
];

/// Loads a shipped scheme file.
pub fn scheme(name: &str) -> Scheme {
    Scheme::load(format!(
        "{}/kernels/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The classical `<m,k,n; mkn>` scheme.
pub fn classical(m: usize, k: usize, n: usize) -> Scheme {
    Scheme::classical(m, k, n).unwrap()
}

/// The Kronecker product `s1 (x) s2`: s1 acts on blocks, s2 inside them.
pub fn kron(s1: &Scheme, s2: &Scheme) -> Scheme {
    let s = strass::scheme::kron(s1, s2).unwrap();
    assert!(s.verify().is_valid(), "kron product is not valid");
    s
}

/// Error growth per level: `max_i sum_r |w_ir| ||u_r||_1 ||v_r||_1` (12 for Strassen, 18 for
/// Winograd, k0 for a classical scheme).
pub fn growth(s: &Scheme) -> f64 {
    (0..s.m() * s.n())
        .map(|i| {
            (0..s.rank())
                .map(|r| {
                    let nu: i64 = s.u()[r].iter().map(|x| x.abs()).sum();
                    let nv: i64 = s.v()[r].iter().map(|x| x.abs()).sum();
                    (s.w()[i][r].abs() * nu * nv) as f64
                })
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// Additions per level, term by term.
pub fn additions(s: &Scheme) -> f64 {
    let nz = |rows: &[Vec<i64>]| {
        rows.iter()
            .map(|r| r.iter().filter(|&&x| x != 0).count().saturating_sub(1))
            .sum::<usize>()
    };
    (nz(s.u()) + nz(s.v()) + nz(s.w())) as f64
}

/// The error bound the kernel is tested against, in units of `u ||A||_max ||B||_max`:
///
/// `2 [ g^l (k_l^2 + t k_l) + k^2 ]` with `g` = [`growth`], `t` = [`additions`], `l` levels and
/// `k_l = ceil(k / k0^l)` the leaf's inner dimension.
///
/// For Strassen (g = 12) this is Higham's bound (Accuracy and Stability of Numerical Algorithms,
/// 2nd ed., Thm. 23.2: `[12^l (n0^2 + 5 n0) - 5 n] u ||A|| ||B||`, max norm) with the 5 replaced
/// by the scheme's addition count, plus the classical bound `k^2 u ||A|| ||B||` for the peeled
/// remainders, and a factor 2 for the second-order terms.
pub fn bound_units(s: &Scheme, levels: usize, k: usize) -> f64 {
    let g = growth(s);
    let t = additions(s);
    let kl = (k as f64 / (s.k() as f64).powi(levels as i32)).ceil();
    2.0 * (g.powi(levels as i32) * (kl * kl + t * kl) + (k * k) as f64)
}

/// A small deterministic generator (no dependency on the proptest RNG for matrix entries).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    pub fn vec<T: Element>(&mut self, len: usize) -> Vec<T> {
        (0..len).map(|_| T::from_f64(self.next())).collect()
    }
}

/// `alpha A B + beta C0` in f64 (classical), for A given by `a(i, p)` etc.
#[allow(clippy::too_many_arguments)]
pub fn reference(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: impl Fn(usize, usize) -> f64,
    b: impl Fn(usize, usize) -> f64,
    beta: f64,
    c0: impl Fn(usize, usize) -> f64,
) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    let bm: Vec<f64> = (0..k * n).map(|x| b(x / n.max(1), x % n.max(1))).collect();
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for p in 0..k {
            let aip = a(i, p);
            for (x, y) in row.iter_mut().zip(&bm[p * n..(p + 1) * n]) {
                *x += aip * y;
            }
        }
        for (j, x) in row.iter_mut().enumerate() {
            *x = alpha * *x + if beta == 0.0 { 0.0 } else { beta * c0(i, j) };
        }
    }
    out
}

/// `Engine::gemm` on contiguous row-major slices.
pub trait MulExt {
    /// `C = alpha A B + beta C` with A `m x k`, B `k x n`, C `m x n`, all row-major.
    fn mul<T: Element>(
        &self,
        alpha: T,
        a: &[T],
        b: &[T],
        beta: T,
        c: &mut [T],
        mkn: (usize, usize, usize),
    ) -> Result<(), strass::Error>;
}

impl MulExt for strass::Engine {
    fn mul<T: Element>(
        &self,
        alpha: T,
        a: &[T],
        b: &[T],
        beta: T,
        c: &mut [T],
        (m, k, n): (usize, usize, usize),
    ) -> Result<(), strass::Error> {
        self.gemm(
            alpha,
            strass::MatRef::row_major(a, m, k)?,
            strass::MatRef::row_major(b, k, n)?,
            beta,
            strass::MatMut::row_major(c, m, n)?,
        )
    }
}
