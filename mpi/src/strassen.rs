//! Strassen's 2x2 scheme and the local operations CAPS builds from it: forming the sums of
//! quadrants, adding products into quadrants, and the row (de)interleaving of a BFS exchange.
//!
//! All functions work on one rank's row-major local share; quadrants are in the order
//! `[X11, X12, X21, X22]`. The scheme is Strassen's original (1969):
//! `M1 = (A11 + A22)(B11 + B22)`, `M2 = (A21 + A22) B11`, `M3 = A11 (B12 - B22)`,
//! `M4 = A22 (B21 - B11)`, `M5 = (A11 + A12) B22`, `M6 = (A21 - A11)(B11 + B12)`,
//! `M7 = (A12 - A22)(B21 + B22)`; `C11 = M1 + M4 - M5 + M7`, `C12 = M3 + M5`,
//! `C21 = M2 + M4`, `C22 = M1 - M2 + M3 + M6`.

use crate::Scalar;

/// Coefficients of A's quadrants in product `r` (`U[r][q]`).
pub const U: [[i8; 4]; 7] = [
    [1, 0, 0, 1],
    [0, 0, 1, 1],
    [1, 0, 0, 0],
    [0, 0, 0, 1],
    [1, 1, 0, 0],
    [-1, 0, 1, 0],
    [0, 1, 0, -1],
];
/// Coefficients of B's quadrants in product `r` (`V[r][q]`).
pub const V: [[i8; 4]; 7] = [
    [1, 0, 0, 1],
    [1, 0, 0, 0],
    [0, 1, 0, -1],
    [-1, 0, 1, 0],
    [0, 0, 0, 1],
    [1, 1, 0, 0],
    [0, 0, 1, 1],
];
/// Coefficients of the products in C's quadrant `q` (`W[q][r]`).
pub const W: [[i8; 7]; 4] = [
    [1, 0, 0, 1, -1, 0, 1],
    [0, 0, 1, 0, 1, 0, 0],
    [0, 1, 0, 1, 0, 0, 0],
    [1, -1, 1, 0, 0, 1, 0],
];

/// `sum_q coef[q] X_q` for a row-major `rows x cols` local share `x` (both even), as a new
/// `rows/2 x cols/2` row-major block.
pub fn combine<T: Scalar>(x: &[T], rows: usize, cols: usize, coef: &[i8; 4]) -> Vec<T> {
    debug_assert!(rows.is_multiple_of(2) && cols.is_multiple_of(2) && x.len() == rows * cols);
    let (hr, hc) = (rows / 2, cols / 2);
    let mut out = vec![T::ZERO; hr * hc];
    for (q, &c) in coef.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let (r0, c0) = ((q / 2) * hr, (q % 2) * hc);
        let neg = c < 0;
        for r in 0..hr {
            let src = &x[(r0 + r) * cols + c0..(r0 + r) * cols + c0 + hc];
            let dst = &mut out[r * hc..(r + 1) * hc];
            if neg {
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d = *d - s);
            } else {
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
            }
        }
    }
    out
}

/// `C_q += W[q][r] M` for every quadrant `q` of the row-major `rows x cols` local share `c`,
/// where `m` is product `r`'s `rows/2 x cols/2` block.
pub fn accumulate<T: Scalar>(c: &mut [T], rows: usize, cols: usize, m: &[T], r: usize) {
    let (hr, hc) = (rows / 2, cols / 2);
    debug_assert_eq!(m.len(), hr * hc);
    for (q, w) in W.iter().enumerate() {
        let coef = w[r];
        if coef == 0 {
            continue;
        }
        let (r0, c0) = ((q / 2) * hr, (q % 2) * hc);
        for i in 0..hr {
            let dst = &mut c[(r0 + i) * cols + c0..(r0 + i) * cols + c0 + hc];
            let src = &m[i * hc..(i + 1) * hc];
            if coef < 0 {
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d = *d - s);
            } else {
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
            }
        }
    }
}

/// The BFS gather: `g` (seven, or the leaf group's size) `rows x cols` row-major chunks,
/// chunk `i` from group member `i`, become one `g rows x cols` block whose row `s` is row
/// `s / g` of chunk `s % g`.
pub fn interleave<T: Copy, B: std::ops::Deref<Target = [T]>>(
    chunks: &[B],
    rows: usize,
    cols: usize,
) -> Vec<T> {
    let q = chunks.len();
    let mut out = Vec::with_capacity(q * rows * cols);
    for s in 0..q * rows {
        let (g, u) = (s % q, s / q);
        out.extend_from_slice(&chunks[g][u * cols..(u + 1) * cols]);
    }
    out
}

/// Inverse of [`interleave`]: chunk `g` gets the rows `s` with `s % 7 == g`.
pub fn deinterleave<T: Copy>(x: &[T], rows7: usize, cols: usize) -> Vec<Vec<T>> {
    debug_assert!(rows7.is_multiple_of(7));
    let mut out: Vec<Vec<T>> = (0..7)
        .map(|_| Vec::with_capacity(rows7 / 7 * cols))
        .collect();
    for s in 0..rows7 {
        out[s % 7].extend_from_slice(&x[s * cols..(s + 1) * cols]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classical(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        (0..len as u64)
            .map(|i| crate::gen::entry(seed, 0, i, 0))
            .collect()
    }

    /// Brent equations: sum_r U[r][a] V[r][b] W[c][r] = [A_ij B_jl contributes to C_il].
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn scheme_satisfies_brent_equations() {
        for qa in 0..4 {
            for qb in 0..4 {
                for qc in 0..4 {
                    let s: i32 = (0..7)
                        .map(|r| U[r][qa] as i32 * V[r][qb] as i32 * W[qc][r] as i32)
                        .sum();
                    let (i, j1) = (qa / 2, qa % 2);
                    let (j2, l) = (qb / 2, qb % 2);
                    let want = (j1 == j2 && qc == i * 2 + l) as i32;
                    assert_eq!(s, want, "qa {qa} qb {qb} qc {qc}");
                }
            }
        }
    }

    #[test]
    fn one_level_matches_classical_on_rectangles() {
        let (m, k, n) = (6, 4, 10);
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let mut c = vec![0.0; m * n];
        for r in 0..7 {
            let s = combine(&a, m, k, &U[r]);
            let t = combine(&b, k, n, &V[r]);
            let p = classical(&s, &t, m / 2, k / 2, n / 2);
            accumulate(&mut c, m, n, &p, r);
        }
        let want = classical(&a, &b, m, k, n);
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    /// The CAPS BFS exchange on paper: S (R x C) row-cyclic over p = 7 p' ranks; member
    /// (g, j) = g p' + j gathers from (g', j), g' = 0..7, and must end up with S's rows
    /// j + p' s, i.e. row-cyclic over the p' ranks of its subgroup.
    #[test]
    fn bfs_exchange_gives_row_cyclic_over_subgroup() {
        for pp in [1usize, 2, 7] {
            let p = 7 * pp;
            let (rows, cols) = (3 * p, 5);
            let s: Vec<f64> = values(rows * cols, 3);
            let share = |q: usize| -> Vec<f64> {
                (0..rows / p)
                    .flat_map(|u| s[(q + p * u) * cols..(q + p * u + 1) * cols].to_vec())
                    .collect()
            };
            for j in 0..pp {
                let chunks: Vec<Vec<f64>> = (0..7).map(|g| share(g * pp + j)).collect();
                let got = interleave(&chunks, rows / p, cols);
                let want: Vec<f64> = (0..rows / pp)
                    .flat_map(|u| s[(j + pp * u) * cols..(j + pp * u + 1) * cols].to_vec())
                    .collect();
                assert_eq!(got, want);
                assert_eq!(deinterleave(&got, rows / pp, cols), chunks);
            }
        }
    }
}
