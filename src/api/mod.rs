//! The drop-in entry points: [`strassen_mul`] for contiguous row-major slices, [`sgemm`] /
//! [`dgemm`] with matrixmultiply's signature (raw pointers, row and column strides of either
//! sign, alpha, beta), and adapters for `ndarray` (feature `ndarray`) and `faer` (feature
//! `faer`).
//!
//! All of them use one process-wide engine, [`default_engine`]: the shipped scheme, strass's
//! packed GEMM as leaf, the tuning file's cutoffs where it has them (read once, at the first
//! call) and built-in ones otherwise, and `STRASS_NUM_THREADS` threads (default: all cores).
//! Build an [`Engine`] yourself for other choices.

#[cfg(feature = "faer")]
pub mod faer;
#[cfg(feature = "ndarray")]
pub mod ndarray;

use crate::kernel::view::{RawMut, RawRef};
use crate::kernel::{check_dims, named, Element, Engine, KernelError, MatMut, MatRef};
use std::sync::OnceLock;

/// The engine the drop-in functions use (created at the first call): [`Engine::tuned`].
pub fn default_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::tuned)
}

/// C = A B for row-major contiguous A (m x k), B (k x n), C (m x n), with [`default_engine`].
/// C's old contents are ignored. Slice lengths must be exactly `m*k`, `k*n` and `m*n`.
pub fn strassen_mul<T: Element>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), crate::Error> {
    check_dims(m, k, n)?;
    let a = MatRef::row_major(a, m, k).map_err(|e| named(e, "A"))?;
    let b = MatRef::row_major(b, k, n).map_err(|e| named(e, "B"))?;
    let c = MatMut::row_major(c, m, n).map_err(|e| named(e, "C"))?;
    default_engine().gemm(T::ONE, a, b, T::ZERO, c)
}

/// A strided operand given by raw parts (element `(i, j)` at `ptr + i*rs + j*cs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<T> {
    pub ptr: *const T,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

/// `C = alpha A B + beta C` on raw strided operands with [`default_engine`] (see [`sgemm`]).
///
/// # Safety
/// As for [`sgemm`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_raw<T: Element>(
    engine: &Engine,
    alpha: T,
    a: Raw<T>,
    b: Raw<T>,
    beta: T,
    c: Raw<T>,
) -> Result<(), crate::Error> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    check_dims(m, k, n)?;
    if b.rows != k || c.rows != m || c.cols != n {
        return Err(KernelError::Shape(format!(
            "A is {}x{}, B is {}x{}, C is {}x{}: need A m x k, B k x n, C m x n",
            a.rows, a.cols, b.rows, b.cols, c.rows, c.cols
        ))
        .into());
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if !distinct_elements(c) {
        return Err(KernelError::Shape(format!(
            "C ({m}x{n}, strides {}, {}): distinct elements of C share memory",
            c.rs, c.cs
        ))
        .into());
    }
    // Negative strides: the kernel's views step forward, so such an operand is copied into a
    // row-major buffer first (O(size) work; C is copied back at the end).
    let (a_buf, b_buf) = (positive_copy(a, k > 0)?, positive_copy(b, k > 0)?);
    let a = a_buf.as_ref().map_or(a, |v| contiguous(v.as_ptr(), m, k));
    let b = b_buf.as_ref().map_or(b, |v| contiguous(v.as_ptr(), k, n));
    let mut c_buf = positive_copy(c, beta != T::ZERO)?;
    let cv = match c_buf.as_mut() {
        Some(v) => contiguous(v.as_mut_ptr(), m, n),
        None => c,
    };
    let to_ref = |x: Raw<T>| RawRef {
        ptr: x.ptr,
        rows: x.rows,
        cols: x.cols,
        rs: x.rs,
        cs: x.cs,
    };
    let craw = RawMut {
        ptr: cv.ptr as *mut T,
        rows: m,
        cols: n,
        rs: cv.rs,
        cs: cv.cs,
    };
    // SAFETY: the caller promises valid operands, C not overlapping A or B and nothing else
    // accessing C meanwhile; C's elements are distinct (checked above); the copies are ours.
    unsafe { engine.gemm_unchecked(alpha, to_ref(a), to_ref(b), beta, craw)? };
    if let Some(v) = c_buf {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) is inside the caller's C (caller's contract).
                unsafe {
                    *(c.ptr as *mut T).offset(i as isize * c.rs + j as isize * c.cs) = v[i * n + j]
                };
            }
        }
    }
    Ok(())
}

fn contiguous<T>(ptr: *const T, rows: usize, cols: usize) -> Raw<T> {
    Raw {
        ptr,
        rows,
        cols,
        rs: cols as isize,
        cs: 1,
    }
}

/// A row-major copy of `x` if one of its strides (over an extent above 1) is negative, else
/// `None`; `read` false returns a zeroed buffer without reading `x`.
fn positive_copy<T: Element>(x: Raw<T>, read: bool) -> Result<Option<Vec<T>>, KernelError> {
    let neg = (x.rows > 1 && x.rs < 0) || (x.cols > 1 && x.cs < 0);
    if !neg || x.rows == 0 || x.cols == 0 {
        return Ok(None);
    }
    let len = x.rows * x.cols;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| KernelError::Alloc {
        bytes: len.saturating_mul(std::mem::size_of::<T>()),
    })?;
    if !read {
        v.resize(len, T::ZERO);
        return Ok(Some(v));
    }
    for i in 0..x.rows {
        for j in 0..x.cols {
            // SAFETY: (i, j) is inside the operand (caller's contract of `gemm_raw`).
            v.push(unsafe { *x.ptr.offset(i as isize * x.rs + j as isize * x.cs) });
        }
    }
    Ok(Some(v))
}

/// True when no two elements of the `rows x cols` view share memory (strides of either sign).
fn distinct_elements<T>(c: Raw<T>) -> bool {
    let (r, k) = (c.rows, c.cols);
    let (rs, cs) = (c.rs.unsigned_abs(), c.cs.unsigned_abs());
    if r <= 1 || k <= 1 {
        let (ext, s) = if r <= 1 { (k, cs) } else { (r, rs) };
        return ext <= 1 || s >= 1;
    }
    let ((s_in, n_in), s_out) = if cs <= rs {
        ((cs, k), rs)
    } else {
        ((rs, r), cs)
    };
    s_in >= 1 && n_in.checked_mul(s_in).is_some_and(|span| s_out >= span)
}

macro_rules! dropin {
    ($name:ident, $try_name:ident, $t:ty) => {
        /// `C = alpha A B + beta C` with matrixmultiply's signature: A is `m x k` with row
        /// stride `rsa` and column stride `csa` (in elements, of either sign), B `k x n`, C
        /// `m x n`; with `beta == 0` C's old contents are not read. Runs on
        #[doc = concat!("[`default_engine`]; the same as `matrixmultiply::", stringify!($name), "`")]
        /// but faster on large products. Errors (a C whose elements overlap, an invalid
        /// `STRASS_NUM_THREADS`) panic with a message; use the `try_` form to get them as
        /// values. If the recursion's workspace cannot be allocated the product runs as one
        /// packed GEMM, which needs only small buffers.
        ///
        /// # Safety
        /// As for matrixmultiply: every element of A, B and C addressed by the dimensions and
        /// strides is valid to read (C: to write), C does not overlap A or B, and nothing else
        /// accesses C during the call.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $name(
            m: usize,
            k: usize,
            n: usize,
            alpha: $t,
            a: *const $t,
            rsa: isize,
            csa: isize,
            b: *const $t,
            rsb: isize,
            csb: isize,
            beta: $t,
            c: *mut $t,
            rsc: isize,
            csc: isize,
        ) {
            let r = {
                // SAFETY: forwarded contract.
                unsafe { $try_name(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            };
            if let Err(e) = r {
                panic!(concat!("strass::", stringify!($name), ": {}"), e);
            }
        }

        #[doc = concat!("[`", stringify!($name), "`] returning errors instead of panicking.")]
        ///
        /// # Safety
        #[doc = concat!("As for [`", stringify!($name), "`].")]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $try_name(
            m: usize,
            k: usize,
            n: usize,
            alpha: $t,
            a: *const $t,
            rsa: isize,
            csa: isize,
            b: *const $t,
            rsb: isize,
            csb: isize,
            beta: $t,
            c: *mut $t,
            rsc: isize,
            csc: isize,
        ) -> Result<(), crate::Error> {
            let raw = |ptr: *const $t, rows, cols, rs, cs| Raw {
                ptr,
                rows,
                cols,
                rs,
                cs,
            };
            let (a, b, c) = (
                raw(a, m, k, rsa, csa),
                raw(b, k, n, rsb, csb),
                raw(c as *const $t, m, n, rsc, csc),
            );
            let engine = default_engine();
            // SAFETY: forwarded contract.
            match unsafe { gemm_raw(engine, alpha, a, b, beta, c) } {
                Err(crate::Error::Kernel(KernelError::Alloc { .. })) => {
                    let plain = engine.clone().max_levels(0);
                    // SAFETY: forwarded contract; nothing was written to C (the engine writes
                    // C only after its workspace is allocated).
                    unsafe { gemm_raw(&plain, alpha, a, b, beta, c) }
                }
                r => r,
            }
        }
    };
}

dropin!(sgemm, try_sgemm, f32);
dropin!(dgemm, try_dgemm, f64);
