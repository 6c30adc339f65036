//! Numeric expansion: apply a scheme recursively, with its own coefficients at every level, to
//! random matrices and measure the error against a classical `f64` product.
//!
//! This is the floating-point companion of the exact check: a valid scheme gives errors at the
//! level of `f64` rounding that grow slowly with the number of levels, an invalid one gives
//! errors of order 1. No formula is hand-written here: at each level the operands are split into
//! `m x k` and `k x n` grids of blocks, product `r` multiplies `sum_j u[r][j] A_j` by
//! `sum_j v[r][j] B_j` by recursing, and block `i` of C accumulates `w[i][r]` times product `r`.

use super::{Scheme, SchemeError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::path::Path;

/// The error of one recursive application of a scheme.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpansionError {
    /// Rows of A and C (`scheme.m ^ levels`).
    pub m: usize,
    /// Columns of A, rows of B (`scheme.k ^ levels`).
    pub k: usize,
    /// Columns of B and C (`scheme.n ^ levels`).
    pub n: usize,
    /// Recursion levels applied (the scheme is used down to 1 x 1 blocks).
    pub levels: usize,
    /// `||C - A B||_F / ||A B||_F`, with `A B` the classical `f64` product.
    pub rel_error: f64,
}

/// A dense row-major matrix.
struct Mat {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Mat {
    fn zeros(rows: usize, cols: usize) -> Self {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    fn random(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Self {
        let data = (0..rows * cols)
            .map(|_| StandardNormal.sample(rng))
            .collect();
        Mat { rows, cols, data }
    }

    /// `self += c * block (bi, bj)` of `src`, where blocks are `self.rows x self.cols`.
    fn add_block_of(&mut self, c: f64, src: &Mat, bi: usize, bj: usize) {
        let (r0, c0) = (bi * self.rows, bj * self.cols);
        for i in 0..self.rows {
            let s = &src.data[(r0 + i) * src.cols + c0..][..self.cols];
            let d = &mut self.data[i * self.cols..][..self.cols];
            for (x, y) in d.iter_mut().zip(s) {
                *x += c * y;
            }
        }
    }

    /// Block `(bi, bj)` of `self` (blocks `src.rows x src.cols`) `+= c * src`.
    fn add_to_block(&mut self, c: f64, src: &Mat, bi: usize, bj: usize) {
        let (r0, c0) = (bi * src.rows, bj * src.cols);
        for i in 0..src.rows {
            let s = &src.data[i * src.cols..][..src.cols];
            let d = &mut self.data[(r0 + i) * self.cols + c0..][..src.cols];
            for (x, y) in d.iter_mut().zip(s) {
                *x += c * y;
            }
        }
    }

    fn classical(a: &Mat, b: &Mat) -> Mat {
        let mut c = Mat::zeros(a.rows, b.cols);
        for i in 0..a.rows {
            for p in 0..a.cols {
                let x = a.data[i * a.cols + p];
                let brow = &b.data[p * b.cols..][..b.cols];
                for (y, z) in c.data[i * b.cols..][..b.cols].iter_mut().zip(brow) {
                    *y += x * z;
                }
            }
        }
        c
    }
}

/// Multiplies `a` by `b` with `levels` recursive applications of `s` (dimensions must be
/// multiples of the matching powers of the block sizes) and the classical product below.
fn apply(s: &Scheme, a: &Mat, b: &Mat, levels: usize) -> Mat {
    if levels == 0 {
        return Mat::classical(a, b);
    }
    let (bm, bk, bn) = (a.rows / s.m, a.cols / s.k, b.cols / s.n);
    let mut c = Mat::zeros(a.rows, b.cols);
    for r in 0..s.rank {
        let wcol_zero = s.w.iter().all(|row| row[r] == 0);
        if wcol_zero || s.u[r].iter().all(|&x| x == 0) || s.v[r].iter().all(|&x| x == 0) {
            continue; // this product is zero or unused
        }
        let mut sa = Mat::zeros(bm, bk);
        for (j, &cu) in s.u[r].iter().enumerate() {
            if cu != 0 {
                sa.add_block_of(cu as f64, a, j / s.k, j % s.k);
            }
        }
        let mut tb = Mat::zeros(bk, bn);
        for (j, &cv) in s.v[r].iter().enumerate() {
            if cv != 0 {
                tb.add_block_of(cv as f64, b, j / s.n, j % s.n);
            }
        }
        let p = apply(s, &sa, &tb, levels - 1);
        for (i, row) in s.w.iter().enumerate() {
            if row[r] != 0 {
                c.add_to_block(row[r] as f64, &p, i / s.n, i % s.n);
            }
        }
    }
    c
}

fn frobenius(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Applies `s` recursively with 1, 2, ... levels to random `N(0,1)` matrices of size
/// `m^L x k^L` times `k^L x n^L`, for every `L` with `max(m,k,n)^L <= max_size` (so 2, 4, ..., 64
/// for a 2x2 scheme and `max_size = 64`), and returns the relative Frobenius error against the
/// classical `f64` product for each size. Deterministic for a given `seed`.
///
/// Errors if the scheme is malformed or `max_size` is smaller than one block.
pub fn expansion_errors(
    s: &Scheme,
    max_size: usize,
    seed: u64,
) -> Result<Vec<ExpansionError>, SchemeError> {
    s.check_shape(Path::new(&format!("<scheme {}>", s.name)))?;
    let big = s.m.max(s.k).max(s.n);
    if big > max_size {
        return Err(SchemeError::Argument(format!(
            "expansion of {} <{},{},{}>: max_size {max_size} is smaller than one block",
            s.name, s.m, s.k, s.n
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let (mut mm, mut kk, mut nn, mut levels) = (s.m, s.k, s.n, 1);
    loop {
        let a = Mat::random(mm, kk, &mut rng);
        let b = Mat::random(kk, nn, &mut rng);
        let c = apply(s, &a, &b, levels);
        let exact = Mat::classical(&a, &b);
        let diff: Vec<f64> = c.data.iter().zip(&exact.data).map(|(x, y)| x - y).collect();
        let (num, den) = (frobenius(&diff), frobenius(&exact.data));
        let rel_error = if den > 0.0 {
            num / den
        } else if num == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        out.push(ExpansionError {
            m: mm,
            k: kk,
            n: nn,
            levels,
            rel_error,
        });
        // A 1x1x1 scheme does not grow; one level says all there is.
        if big == 1 || mm.max(kk).max(nn).saturating_mul(big) > max_size {
            break;
        }
        (mm, kk, nn, levels) = (mm * s.m, kk * s.k, nn * s.n, levels + 1);
    }
    Ok(out)
}
