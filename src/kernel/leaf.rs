//! The leaf GEMMs the recursion ends in: `C = alpha A B + beta C` on strided views, through
//! matrixmultiply or (feature `openblas`) OpenBLAS, on one thread or split over several.
//!
//! Splitting: with `p > 1` threads a leaf is cut into `p` slabs of C rows (or columns, whichever
//! is longer), each computed by a single-threaded call. Both libraries compute an element of C
//! from its row of A and column of B alone (matrixmultiply's k-blocking is a fixed constant), so
//! the split changes no bit of the result with the matrixmultiply leaf. The fused leaf
//! ([`super::fused`]) threads itself (its results do not depend on the thread count either).

use super::view::{RawMut, RawRef};
use super::{Element, KernelError, Leaf};
use std::any::TypeId;

/// Slab boundaries are rounded to this many rows/columns (a multiple of every micro-tile).
const SLAB_ALIGN: usize = 32;

/// `C = alpha A B + beta C` on up to `threads` threads (`beta == 0`: C is not read).
///
/// # Safety
/// The views are valid, C's elements are distinct and nothing else accesses C meanwhile.
pub(crate) unsafe fn gemm<T: Element>(
    leaf: Leaf,
    alpha: T,
    a: RawRef<T>,
    b: RawRef<T>,
    beta: T,
    c: RawMut<T>,
    threads: usize,
) -> Result<(), KernelError> {
    if leaf == Leaf::Fused {
        // SAFETY: forwarded contract.
        return unsafe {
            fused(
                alpha,
                &[(1, a)],
                &[(1, b)],
                &mut [(c, T::ONE, beta)],
                threads,
            )
        };
    }
    let (m, n) = (c.rows, c.cols);
    let by_rows = m >= n;
    let long = if by_rows { m } else { n };
    let work = (m as f64) * (n as f64) * (a.cols as f64);
    let parts = if threads > 1 && work >= 1e6 {
        threads.min(long.div_ceil(SLAB_ALIGN)).max(1)
    } else {
        1
    };
    if parts == 1 {
        // SAFETY: forwarded contract.
        return unsafe { gemm1(leaf, alpha, a, b, beta, c) };
    }
    let bounds = |p: usize| ((long * p / parts) / SLAB_ALIGN * SLAB_ALIGN).min(long);
    let slab = |p: usize| {
        let (lo, hi) = (
            if p == 0 { 0 } else { bounds(p) },
            if p + 1 == parts { long } else { bounds(p + 1) },
        );
        if by_rows {
            (
                a.block(lo, 0, hi - lo, a.cols),
                b,
                c.block(lo, 0, hi - lo, n),
            )
        } else {
            (
                a,
                b.block(0, lo, b.rows, hi - lo),
                c.block(0, lo, m, hi - lo),
            )
        }
    };
    let results: Vec<Result<(), KernelError>> = {
        let mut out: Vec<Result<(), KernelError>> = (0..parts).map(|_| Ok(())).collect();
        rayon::scope(|s| {
            for (p, r) in out.iter_mut().enumerate() {
                let (ab, bb, cb) = slab(p);
                // SAFETY: the slabs of C are disjoint; the rest is the caller's contract.
                s.spawn(move |_| *r = unsafe { gemm1(leaf, alpha, ab, bb, beta, cb) });
            }
        });
        out
    };
    results.into_iter().collect()
}

/// One single-threaded leaf call.
///
/// # Safety
/// As for [`gemm`].
unsafe fn gemm1<T: Element>(
    leaf: Leaf,
    alpha: T,
    a: RawRef<T>,
    b: RawRef<T>,
    beta: T,
    c: RawMut<T>,
) -> Result<(), KernelError> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert!(b.rows == k && c.rows == m && c.cols == n);
    if m == 0 || n == 0 {
        return Ok(());
    }
    match leaf {
        Leaf::MatrixMultiply => {
            macro_rules! mm {
                ($f:path, $t:ty) => {
                    // SAFETY: T is $t (checked by the caller); the views are valid (contract).
                    unsafe {
                        $f(
                            m,
                            k,
                            n,
                            alpha.to_f64() as $t,
                            a.ptr as *const $t,
                            a.rs,
                            a.cs,
                            b.ptr as *const $t,
                            b.rs,
                            b.cs,
                            beta.to_f64() as $t,
                            c.ptr as *mut $t,
                            c.rs,
                            c.cs,
                        )
                    }
                };
            }
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                mm!(matrixmultiply::sgemm, f32);
            } else {
                // Element is sealed to f32 and f64.
                mm!(matrixmultiply::dgemm, f64);
            }
            Ok(())
        }
        // SAFETY: forwarded contract.
        Leaf::Fused => unsafe { fused(alpha, &[(1, a)], &[(1, b)], &mut [(c, T::ONE, beta)], 1) },
        #[cfg(feature = "openblas")]
        Leaf::OpenBlas => {
            use crate::blas::{gemm_raw, Operand};
            let op = |rows: usize, cols: usize, rs: isize, cs: isize| Operand {
                rows,
                cols,
                rs: rs as usize,
                cs: cs as usize,
            };
            // SAFETY: the views are valid (caller's contract); strides are non-negative.
            unsafe {
                gemm_raw(
                    alpha,
                    a.ptr,
                    op(m, k, a.rs, a.cs),
                    b.ptr,
                    op(k, n, b.rs, b.cs),
                    beta,
                    c.ptr,
                    op(m, n, c.rs, c.cs),
                )
            }
        }
    }
}

/// Whether `leaf` can take an operand with these strides (OpenBLAS needs a unit stride in one
/// dimension and a leading dimension covering the other).
pub(crate) fn accepts(leaf: Leaf, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    match leaf {
        Leaf::MatrixMultiply | Leaf::Fused => {
            let _ = (rs, cs);
            true
        }
        #[cfg(feature = "openblas")]
        Leaf::OpenBlas => {
            let rs = if rows <= 1 { 1 } else { rs };
            let cs = if cols <= 1 { 1 } else { cs };
            (rs == 1 && cs >= rows) || (cs == 1 && rs >= cols)
        }
    }
}

/// `C_i = alpha w_i (sum_j u_j A_j)(sum_l v_l B_l) + beta_i C_i` for every output
/// `(C_i, w_i, beta_i)`, through the fused packed GEMM on `threads` threads.
///
/// # Safety
/// The views are valid; the outputs are pairwise disjoint, disjoint from the sources, and
/// nothing else accesses them meanwhile.
pub(crate) unsafe fn fused<T: Element>(
    alpha: T,
    a: &[(i64, RawRef<T>)],
    b: &[(i64, RawRef<T>)],
    c: &mut [(RawMut<T>, T, T)],
    threads: usize,
) -> Result<(), KernelError> {
    use super::fused::{fused_gemm, DstView, Output, SrcView};
    let src = |&(w, v): &(i64, RawRef<T>)| {
        // SAFETY: caller's contract.
        (T::from_i64(w), unsafe {
            SrcView::from_raw(v.ptr, v.rows, v.cols, v.rs, v.cs)
        })
    };
    let (av, bv): (Vec<_>, Vec<_>) = (a.iter().map(src).collect(), b.iter().map(src).collect());
    let mut outs: Vec<Output<'_, T>> = c
        .iter()
        .map(|&(v, w, beta)| Output {
            gamma: alpha * w,
            beta,
            // SAFETY: caller's contract.
            c: unsafe { DstView::from_raw(v.ptr, v.rows, v.cols, v.rs, v.cs) },
        })
        .collect();
    fused_workspace::<T, _>(|ws| {
        ws.set_threads(threads);
        fused_gemm(&av, &bv, &mut outs, ws)
    })
}

/// Runs `f` with this thread's cached fused workspace for `T` (a fresh one if it is in use,
/// e.g. by a call this thread interrupted to help another rayon task).
fn fused_workspace<T: Element, R>(f: impl FnOnce(&mut super::fused::FusedWorkspace<T>) -> R) -> R {
    use super::fused::FusedWorkspace;
    use std::cell::RefCell;
    thread_local! {
        static F32: RefCell<FusedWorkspace<f32>> = RefCell::new(FusedWorkspace::new());
        static F64: RefCell<FusedWorkspace<f64>> = RefCell::new(FusedWorkspace::new());
    }
    fn with<U: Element, R>(
        key: &'static std::thread::LocalKey<RefCell<FusedWorkspace<U>>>,
        f: impl FnOnce(&mut FusedWorkspace<U>) -> R,
    ) -> R {
        key.with(|cell| match cell.try_borrow_mut() {
            Ok(mut ws) => f(&mut ws),
            Err(_) => f(&mut FusedWorkspace::new()),
        })
    }
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        with(&F32, |ws| {
            // SAFETY: T is f32, so FusedWorkspace<f32> is FusedWorkspace<T>.
            f(unsafe { &mut *(ws as *mut FusedWorkspace<f32> as *mut FusedWorkspace<T>) })
        })
    } else {
        with(&F64, |ws| {
            // SAFETY: T is f64 (Element is sealed to f32 and f64).
            f(unsafe { &mut *(ws as *mut FusedWorkspace<f64> as *mut FusedWorkspace<T>) })
        })
    }
}
