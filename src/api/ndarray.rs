//! `ndarray` adapter (feature `ndarray`): products of `ArrayView2`s of any strides (transposed,
//! sliced, negative) through [`default_engine`](super::default_engine) or a given engine.
//!
//! ```
//! use ndarray::array;
//! let a = array![[1.0f64, 2.0], [3.0, 4.0]];
//! let b = array![[5.0f64, 6.0], [7.0, 8.0]];
//! let c = strass::api::ndarray::dot(&a.view(), &b.t())?;
//! assert_eq!(c, array![[17.0, 23.0], [39.0, 53.0]]);
//! # Ok::<(), strass::Error>(())
//! ```

use super::{gemm_raw, Raw};
use crate::kernel::{Element, Engine};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

fn raw<T>(ptr: *const T, dim: (usize, usize), strides: &[isize]) -> Raw<T> {
    Raw {
        ptr,
        rows: dim.0,
        cols: dim.1,
        rs: strides[0],
        cs: strides[1],
    }
}

/// `C = alpha A B + beta C` with `engine` (`beta == 0`: C's old contents are not read).
pub fn gemm_with<T: Element>(
    engine: &Engine,
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) -> Result<(), crate::Error> {
    let (ar, br) = (
        raw(a.as_ptr(), a.dim(), a.strides()),
        raw(b.as_ptr(), b.dim(), b.strides()),
    );
    let cr = raw(c.as_mut_ptr() as *const T, c.dim(), c.strides());
    // SAFETY: the views address valid elements of live arrays; C is borrowed mutably, so it
    // overlaps neither A nor B (shared borrows) and nothing else accesses it; ndarray's mutable
    // views never alias themselves (gemm_raw checks that too).
    unsafe { gemm_raw(engine, alpha, ar, br, beta, cr) }
}

/// `C = alpha A B + beta C` with [`default_engine`](super::default_engine).
pub fn gemm<T: Element>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) -> Result<(), crate::Error> {
    gemm_with(super::default_engine(), alpha, a, b, beta, c)
}

/// The product `A B` as a new row-major array (like `a.dot(b)`); mismatched inner dimensions
/// are a shape error.
pub fn dot<T: Element>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
) -> Result<Array2<T>, crate::Error> {
    let mut c = Array2::from_elem((a.nrows(), b.ncols()), T::ZERO);
    gemm(T::ONE, a, b, T::ZERO, &mut c.view_mut())?;
    Ok(c)
}
