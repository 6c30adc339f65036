//! `faer` adapter (feature `faer`): products of `faer::MatRef`s of any strides through
//! [`default_engine`](super::default_engine) or a given engine.
//!
//! ```
//! let a = faer::mat![[1.0f64, 2.0], [3.0, 4.0]];
//! let b = faer::mat![[5.0f64, 6.0], [7.0, 8.0]];
//! let c = strass::api::faer::matmul(a.as_ref(), b.as_ref())?;
//! assert_eq!(c, faer::mat![[19.0, 22.0], [43.0, 50.0]]);
//! # Ok::<(), strass::Error>(())
//! ```

use super::{gemm_raw, Raw};
use crate::kernel::{Element, Engine};
use faer::{Mat, MatMut, MatRef};

fn raw<T>(ptr: *const T, rows: usize, cols: usize, rs: isize, cs: isize) -> Raw<T> {
    Raw {
        ptr,
        rows,
        cols,
        rs,
        cs,
    }
}

/// `C = alpha A B + beta C` with `engine` (`beta == 0`: C's old contents are not read).
pub fn gemm_with<T: Element>(
    engine: &Engine,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<(), crate::Error> {
    let ar = raw(
        a.as_ptr(),
        a.nrows(),
        a.ncols(),
        a.row_stride(),
        a.col_stride(),
    );
    let br = raw(
        b.as_ptr(),
        b.nrows(),
        b.ncols(),
        b.row_stride(),
        b.col_stride(),
    );
    let (rows, cols, rs, cs) = (c.nrows(), c.ncols(), c.row_stride(), c.col_stride());
    let cr = raw(c.as_ptr_mut() as *const T, rows, cols, rs, cs);
    // SAFETY: the views address valid elements of live matrices; C is borrowed mutably, so it
    // overlaps neither A nor B and nothing else accesses it; gemm_raw checks C's elements are
    // distinct.
    unsafe { gemm_raw(engine, alpha, ar, br, beta, cr) }
}

/// `C = alpha A B + beta C` with [`default_engine`](super::default_engine).
pub fn gemm<T: Element>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<(), crate::Error> {
    gemm_with(super::default_engine(), alpha, a, b, beta, c)
}

/// The product `A B` as a new matrix; mismatched inner dimensions are a shape error.
pub fn matmul<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Mat<T>, crate::Error> {
    let mut c = Mat::from_fn(a.nrows(), b.ncols(), |_, _| T::ZERO);
    gemm(T::ONE, a, b, T::ZERO, c.as_mut())?;
    Ok(c)
}
