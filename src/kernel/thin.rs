//! Thin products for the recursion's peeled edges: `C = alpha A B + beta C` when one dimension
//! is at most [`THIN`] (a leftover column of the depth, of C's columns or of C's rows).
//!
//! Such products are memory-bound: the packed GEMM would pack the whole wide operand and pad the
//! thin side to a full micro-tile, i.e. read and write it once more and do up to `mr` or `nr`
//! times the useful flops. These loops read every operand once instead: rows of C are updated
//! with `a_ip * (row p of B)` (thin depth or few rows), or each element of C is one dot product
//! of a row of A with a column of B (few columns). Only unit-stride layouts take these paths
//! (after transposing the product when C is column-major); anything else returns `false` and the
//! caller uses the packed GEMM.

use super::view::{RawMut, RawRef};
use super::Element;

/// Largest thin dimension handled here.
pub(crate) const THIN: usize = 4;

/// Computes the product if it is thin and laid out for these loops; `false` means "not handled"
/// (nothing was written).
///
/// # Safety
/// The views are valid, C's elements are distinct and disjoint from A and B, and nothing else
/// accesses C meanwhile.
pub(crate) unsafe fn gemm<T: Element>(
    alpha: T,
    a: RawRef<T>,
    b: RawRef<T>,
    beta: T,
    c: RawMut<T>,
) -> bool {
    // Vectors run along C's rows; if this orientation does not fit, try the transposed product
    // (C^T = B^T A^T), e.g. for column-major operands.
    // SAFETY: (both calls) forwarded contract.
    unsafe { oriented(alpha, a, b, beta, c) || oriented(alpha, b.t(), a.t(), beta, c.t()) }
}

/// [`gemm`] in this orientation only.
///
/// # Safety
/// As for [`gemm`].
unsafe fn oriented<T: Element>(
    alpha: T,
    a: RawRef<T>,
    b: RawRef<T>,
    beta: T,
    c: RawMut<T>,
) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 || k == 0 || (n > 1 && c.cs != 1) {
        return false;
    }
    if (k <= THIN || m <= THIN) && (n == 1 || b.cs == 1) {
        // SAFETY: forwarded contract; the layout conditions were checked above.
        unsafe { row_updates(alpha, a, b, beta, c) };
        return true;
    }
    if n <= THIN && (k == 1 || a.cs == 1) {
        // SAFETY: as above.
        return unsafe { dots(alpha, a, b, beta, c) };
    }
    false
}

/// `row i of C = beta (row i of C) + sum_p (alpha a_ip) (row p of B)`; C's and B's rows
/// contiguous.
unsafe fn row_updates<T: Element>(alpha: T, a: RawRef<T>, b: RawRef<T>, beta: T, c: RawMut<T>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    for i in 0..m {
        // SAFETY: row i of C is n contiguous elements of C, which nothing else accesses; rows of
        // B are n contiguous elements of B, disjoint from C (caller's contract).
        let crow = unsafe { std::slice::from_raw_parts_mut(c.ptr.offset(i as isize * c.rs), n) };
        // SAFETY: (i, p) lies in A (caller's contract).
        let at = |p: usize| unsafe { *a.ptr.offset(i as isize * a.rs + p as isize * a.cs) };
        let brow =
            // SAFETY: row p of B is n contiguous elements of B (caller's contract).
            |p: usize| unsafe { std::slice::from_raw_parts(b.ptr.offset(p as isize * b.rs), n) };
        let s0 = alpha * at(0);
        if beta == T::ZERO {
            for (x, &y) in crow.iter_mut().zip(brow(0)) {
                *x = s0 * y;
            }
        } else {
            for (x, &y) in crow.iter_mut().zip(brow(0)) {
                *x = beta * *x + s0 * y;
            }
        }
        for p in 1..k {
            let s = alpha * at(p);
            for (x, &y) in crow.iter_mut().zip(brow(p)) {
                *x += s * y;
            }
        }
    }
}

/// `c_ij = beta c_ij + alpha (row i of A) . (column j of B)`; A's rows contiguous. Returns
/// `false` (nothing written) if the copy of B's columns cannot be allocated.
unsafe fn dots<T: Element>(alpha: T, a: RawRef<T>, b: RawRef<T>, beta: T, c: RawMut<T>) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    // B's few columns, each copied into a contiguous run of k.
    let mut bt: Vec<T> = Vec::new();
    if bt.try_reserve_exact(n * k).is_err() {
        return false;
    }
    for j in 0..n {
        // SAFETY: (p, j) lies in B.
        bt.extend((0..k).map(|p| unsafe { *b.ptr.offset(p as isize * b.rs + j as isize * b.cs) }));
    }
    for i in 0..m {
        // SAFETY: row i of A is k contiguous elements of A.
        let arow = unsafe { std::slice::from_raw_parts(a.ptr.offset(i as isize * a.rs), k) };
        for (j, col) in bt.chunks_exact(k).enumerate() {
            let d = alpha * dot(arow, col);
            // SAFETY: (i, j) lies in C, which nothing else accesses.
            let x = unsafe { &mut *c.ptr.offset(i as isize * c.rs + j as isize * c.cs) };
            *x = if beta == T::ZERO { d } else { beta * *x + d };
        }
    }
    true
}

/// A dot product with 16 independent partial sums (so the loop vectorises).
fn dot<T: Element>(x: &[T], y: &[T]) -> T {
    const L: usize = 16;
    let mut acc = [T::ZERO; L];
    let (xc, yc) = (x.chunks_exact(L), y.chunks_exact(L));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (u, v) in xc.zip(yc) {
        for l in 0..L {
            acc[l] += u[l] * v[l];
        }
    }
    let mut s = T::ZERO;
    for v in acc {
        s += v;
    }
    for (&u, &v) in xr.iter().zip(yr) {
        s += u * v;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn reference(
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        b: &[f64],
        c0: &[f64],
        alpha: f64,
        beta: f64,
    ) -> Vec<f64> {
        (0..m * n)
            .map(|x| {
                let (i, j) = (x / n, x % n);
                let s: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                alpha * s + if beta == 0.0 { 0.0 } else { beta * c0[x] }
            })
            .collect()
    }

    #[test]
    fn thin_products_match_the_reference_in_both_layouts() {
        let mut seed = 1u64;
        let mut rnd = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        for &(m, k, n) in &[
            (37, 1, 41),
            (50, 3, 70),
            (1, 90, 33),
            (4, 19, 100),
            (64, 77, 1),
            (45, 130, 4),
            (3, 3, 3),
        ] {
            for &(alpha, beta) in &[(1.0, 0.0), (-0.5, 2.0)] {
                let a: Vec<f64> = (0..m * k).map(|_| rnd()).collect();
                let b: Vec<f64> = (0..k * n).map(|_| rnd()).collect();
                let c0: Vec<f64> = (0..m * n).map(|_| rnd()).collect();
                let want = reference(m, k, n, &a, &b, &c0, alpha, beta);
                // Row-major C.
                let mut c = if beta == 0.0 {
                    vec![f64::NAN; m * n]
                } else {
                    c0.clone()
                };
                let ra = RawRef {
                    ptr: a.as_ptr(),
                    rows: m,
                    cols: k,
                    rs: k as isize,
                    cs: 1,
                };
                let rb = RawRef {
                    ptr: b.as_ptr(),
                    rows: k,
                    cols: n,
                    rs: n as isize,
                    cs: 1,
                };
                let rc = RawMut {
                    ptr: c.as_mut_ptr(),
                    rows: m,
                    cols: n,
                    rs: n as isize,
                    cs: 1,
                };
                // SAFETY: the views describe the vectors exactly.
                assert!(
                    // SAFETY: the views describe the vectors exactly.
                    unsafe { gemm(alpha, ra, rb, beta, rc) },
                    "{m}x{k}x{n} not handled"
                );
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "{m}x{k}x{n} row-major: {x} vs {y}");
                }
                // Column-major C (and column-major A and B): the transposed path.
                let at: Vec<f64> = (0..m * k).map(|x| a[(x % m) * k + x / m]).collect();
                let btr: Vec<f64> = (0..k * n).map(|x| b[(x % k) * n + x / k]).collect();
                let mut cc: Vec<f64> = (0..m * n)
                    .map(|x| {
                        if beta == 0.0 {
                            f64::NAN
                        } else {
                            c0[(x % m) * n + x / m]
                        }
                    })
                    .collect();
                let ra = RawRef {
                    ptr: at.as_ptr(),
                    rows: m,
                    cols: k,
                    rs: 1,
                    cs: m as isize,
                };
                let rb = RawRef {
                    ptr: btr.as_ptr(),
                    rows: k,
                    cols: n,
                    rs: 1,
                    cs: k as isize,
                };
                let rc = RawMut {
                    ptr: cc.as_mut_ptr(),
                    rows: m,
                    cols: n,
                    rs: 1,
                    cs: m as isize,
                };
                // SAFETY: as above.
                assert!(
                    // SAFETY: the views describe the vectors exactly.
                    unsafe { gemm(alpha, ra, rb, beta, rc) },
                    "{m}x{k}x{n} col-major not handled"
                );
                for (x, w) in want.iter().enumerate() {
                    let (i, j) = (x / n, x % n);
                    assert!((cc[j * m + i] - *w).abs() < 1e-12, "{m}x{k}x{n} col-major");
                }
            }
        }
        // A wide product is not thin.
        let v = vec![0.0f64; 64 * 64];
        let r = RawRef {
            ptr: v.as_ptr(),
            rows: 64,
            cols: 64,
            rs: 64,
            cs: 1,
        };
        let mut w = vec![0.0f64; 64 * 64];
        let rc = RawMut {
            ptr: w.as_mut_ptr(),
            rows: 64,
            cols: 64,
            rs: 64,
            cs: 1,
        };
        // SAFETY: as above.
        assert!(!unsafe { gemm(1.0, r, r, 0.0, rc) });
    }
}
