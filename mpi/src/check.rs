//! The distributed check: `||C x - A (B x)|| / (||A||_F ||B||_F ||x||)` for a random `x`
//! (entries from [`crate::gen`], id 2), every product formed blockwise on the ranks that hold
//! the blocks, in `f64`, then summed across ranks. `O((mk + kn + mn) / P)` work per rank and
//! three vector all-reduces; for a correct product it is of the order of the unit roundoff
//! times a small growth factor, for a wrong one of order 1.

use crate::layout::Layout;
use crate::Scalar;
use mpi::collective::SystemOperation;
use mpi::traits::*;

/// One rank's view of a distributed matrix: its padded local block (row-major, `ld` columns)
/// whose first rows and columns are its logical part of the `rows x cols` matrix in `layout`.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a, T> {
    /// The local block.
    pub data: &'a [T],
    /// Columns of the local block.
    pub ld: usize,
    /// The layout.
    pub layout: Layout,
    /// Global logical rows.
    pub rows: usize,
    /// Global logical columns.
    pub cols: usize,
    /// This rank.
    pub rank: usize,
}

impl<T: Scalar> Part<'_, T> {
    /// Calls `f(global_row, global_col, value)` for every logical element held here.
    pub fn for_each(&self, mut f: impl FnMut(usize, usize, f64)) {
        let (r0, rstep, lr, c0, lc) = self.layout.local_part(self.rank, self.rows, self.cols);
        for s in 0..lr {
            for t in 0..lc {
                f(r0 + s * rstep, c0 + t, self.data[s * self.ld + t].to_f64());
            }
        }
    }
}

fn sum_all<C: Communicator>(comm: &C, local: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; local.len()];
    comm.all_reduce_into(local, &mut out[..], SystemOperation::sum());
    out
}

/// `X v` (length `rows`) on every rank.
pub fn matvec<T: Scalar, C: Communicator>(comm: &C, x: &Part<T>, v: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.rows];
    x.for_each(|i, j, a| y[i] += a * v[j]);
    sum_all(comm, &y)
}

/// `(sum of squares, sum)` of all elements, on every rank.
pub fn norms<T: Scalar, C: Communicator>(comm: &C, x: &Part<T>) -> (f64, f64) {
    let (mut sq, mut s) = (0.0, 0.0);
    x.for_each(|_, _, a| {
        sq += a * a;
        s += a;
    });
    let r = sum_all(comm, &[sq, s]);
    (r[0], r[1])
}

/// The relative error of the module doc, on every rank.
pub fn projection_error<T: Scalar, C: Communicator>(
    comm: &C,
    a: &Part<T>,
    b: &Part<T>,
    c: &Part<T>,
    seed: u64,
) -> f64 {
    let x: Vec<f64> = (0..b.cols as u64)
        .map(|j| crate::gen::entry(seed, 2, j, 0))
        .collect();
    let bx = matvec(comm, b, &x);
    let abx = matvec(comm, a, &bx);
    let cx = matvec(comm, c, &x);
    let res: f64 = cx
        .iter()
        .zip(&abx)
        .map(|(u, v)| (u - v) * (u - v))
        .sum::<f64>()
        .sqrt();
    let (na, _) = norms(comm, a);
    let (nb, _) = norms(comm, b);
    let nx = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let denom = na.sqrt() * nb.sqrt() * nx;
    if denom == 0.0 {
        res
    } else {
        res / denom
    }
}
