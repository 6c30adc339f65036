//! strass as a C BLAS library (`libstrass_blas.so` / `libstrass_blas.a`).
//!
//! Exports the reference CBLAS `cblas_sgemm` / `cblas_dgemm` and the Fortran-77 BLAS
//! `sgemm_` / `dgemm_`, all running on strass's engine through [`strass::try_sgemm`] /
//! [`strass::try_dgemm`] (no second implementation). The C declarations are in
//! `capi/include/strass_blas.h`.
//!
//! Conventions, as in the reference BLAS and CBLAS (LP64: every integer is a C `int`):
//!
//! * **Invalid arguments** (M, N or K < 0, a leading dimension that is too small, an invalid
//!   layout or transpose) print the reference `xerbla` message to stderr, e.g.
//!   ` ** On entry to cblas_dgemm parameter number  4 had an illegal value`, and return with C
//!   untouched. Unlike the reference `xerbla` (which stops the program) the call returns. The
//!   parameter numbers are those of the routine called: for `dgemm_` 1 TRANSA, 2 TRANSB, 3 M,
//!   4 N, 5 K, 8 LDA, 10 LDB, 13 LDC; for `cblas_dgemm` 1 Layout, 2 TransA, 3 TransB, 4 M, 5 N,
//!   6 K, 9 lda, 11 ldb, 14 ldc. When several are invalid the one the reference reports is
//!   reported (the first in its order of checks; for row-major CBLAS that order is the
//!   reference's, which checks N before M and ldb before lda).
//! * **Quick return**: with `M == 0`, `N == 0`, or `(alpha == 0 || K == 0) && beta == 1`
//!   nothing is read or written.
//! * `beta == 0` never reads C (NaN there does not propagate); `alpha == 0` never reads A or B.
//! * **Engine errors** (in practice only an invalid `STRASS_NUM_THREADS`): a one-line message
//!   ` ** strass_blas: <routine>: <reason>` on stderr and C is left untouched (the engine checks
//!   everything before it writes C). A panic inside the engine is caught at the FFI boundary
//!   (it never unwinds into C): the same kind of message is printed, and C's contents are then
//!   unspecified.
//! * **Fortran hidden arguments**: gfortran (and most Fortran compilers) append one hidden
//!   string-length argument per `CHARACTER` argument, by value, after the declared ones.
//!   `sgemm_` / `dgemm_` are defined without them: in the C calling conventions of the
//!   supported platforms (x86-64 System V, AArch64) the caller owns its argument area, so
//!   trailing arguments a callee does not declare are ignored harmlessly. Only the first
//!   character of TRANSA / TRANSB is read.
//!
//! [`strass_blas_calls`] counts the calls that entered one of the four routines, so a program
//! can tell (for example under `LD_PRELOAD`) that its BLAS calls reach strass.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::{c_char, c_int};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

/// CBLAS `CblasRowMajor`.
pub const CBLAS_ROW_MAJOR: c_int = 101;
/// CBLAS `CblasColMajor`.
pub const CBLAS_COL_MAJOR: c_int = 102;
/// CBLAS `CblasNoTrans`.
pub const CBLAS_NO_TRANS: c_int = 111;
/// CBLAS `CblasTrans`.
pub const CBLAS_TRANS: c_int = 112;
/// CBLAS `CblasConjTrans` (the same as [`CBLAS_TRANS`] for real matrices).
pub const CBLAS_CONJ_TRANS: c_int = 113;

static CALLS: AtomicU64 = AtomicU64::new(0);

/// The number of calls that entered `cblas_sgemm`, `cblas_dgemm`, `sgemm_` or `dgemm_` of
/// this library since it was loaded (invalid and quick-return calls included).
#[no_mangle]
pub extern "C" fn strass_blas_calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    N,
    T,
}

impl Op {
    fn from_cblas(t: c_int) -> Option<Op> {
        match t {
            CBLAS_NO_TRANS => Some(Op::N),
            CBLAS_TRANS | CBLAS_CONJ_TRANS => Some(Op::T),
            _ => None,
        }
    }

    fn from_char(c: c_char) -> Option<Op> {
        match c as u8 {
            b'N' | b'n' => Some(Op::N),
            b'T' | b't' | b'C' | b'c' => Some(Op::T),
            _ => None,
        }
    }
}

/// The arguments of a column-major (Fortran) GEMM call, transposes already decoded.
#[derive(Debug, Clone, Copy)]
struct ColArgs {
    ta: Op,
    tb: Op,
    m: c_int,
    n: c_int,
    k: c_int,
    lda: c_int,
    ldb: c_int,
    ldc: c_int,
}

impl ColArgs {
    /// The reference DGEMM's argument check: 0 if valid, else the number of the first invalid
    /// parameter in DGEMM's order (3 M, 4 N, 5 K, 8 LDA, 10 LDB, 13 LDC).
    fn check(&self) -> c_int {
        let nrowa = if self.ta == Op::N { self.m } else { self.k };
        let nrowb = if self.tb == Op::N { self.k } else { self.n };
        if self.m < 0 {
            3
        } else if self.n < 0 {
            4
        } else if self.k < 0 {
            5
        } else if self.lda < nrowa.max(1) {
            8
        } else if self.ldb < nrowb.max(1) {
            10
        } else if self.ldc < self.m.max(1) {
            13
        } else {
            0
        }
    }
}

/// The two element types and their engine entry points.
trait Real: Copy + PartialEq {
    const ZERO: Self;
    const ONE: Self;

    /// `C = alpha A B + beta C` on strided operands, with `strass::try_sgemm` / `try_dgemm`.
    ///
    /// # Safety
    /// As for `strass::try_dgemm`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn engine(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) -> Result<(), strass::Error>;
}

macro_rules! real {
    ($t:ty, $f:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            unsafe fn engine(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) -> Result<(), strass::Error> {
                // SAFETY: forwarded contract.
                unsafe { $f(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

real!(f32, strass::try_sgemm);
real!(f64, strass::try_dgemm);

/// Writes a line to stderr, ignoring failures (a closed stderr must not panic here).
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The reference `xerbla` message for parameter `info` of routine `name`.
fn xerbla(name: &str, info: c_int) {
    report(&format!(
        " ** On entry to {name} parameter number {info:2} had an illegal value"
    ));
}

/// Column-major `C = alpha op(A) op(B) + beta C` on already checked arguments, with the
/// reference quick return.
///
/// # Safety
/// The arguments passed [`ColArgs::check`], and A, B, C are valid column-major arrays for them
/// (as the BLAS requires), C not overlapping A or B.
unsafe fn gemm_col<T: Real>(
    g: ColArgs,
    alpha: T,
    a: *const T,
    b: *const T,
    beta: T,
    c: *mut T,
) -> Result<(), strass::Error> {
    if g.m == 0 || g.n == 0 || ((alpha == T::ZERO || g.k == 0) && beta == T::ONE) {
        return Ok(());
    }
    // Checked non-negative: the conversions are exact.
    let (m, n, k) = (g.m as usize, g.n as usize, g.k as usize);
    let (lda, ldb, ldc) = (g.lda as isize, g.ldb as isize, g.ldc as isize);
    // Element (i, p) of op(A): A(i, p) at a + i + p*lda, or A(p, i) at a + p + i*lda.
    let (rsa, csa) = if g.ta == Op::N { (1, lda) } else { (lda, 1) };
    let (rsb, csb) = if g.tb == Op::N { (1, ldb) } else { (ldb, 1) };
    // SAFETY: the caller's contract; the strides address exactly the BLAS's elements.
    unsafe { T::engine(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, 1, ldc) }
}

/// Runs one exported call: counts it, catches panics, reports engine errors.
fn entry(name: &str, f: impl FnOnce() -> Result<(), strass::Error>) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report(&format!(" ** strass_blas: {name}: {e} (C is unchanged)")),
        Err(_) => report(&format!(
            " ** strass_blas: {name}: internal error (panic caught); C's contents are unspecified"
        )),
    }
}

/// The CBLAS routine: checks in the reference CBLAS's order, then the column-major call
/// (row-major: the transposed problem `C^T = op(B)^T op(A)^T`, as the reference does).
///
/// # Safety
/// As for the reference `cblas_dgemm`.
#[allow(clippy::too_many_arguments)]
unsafe fn cblas<T: Real>(
    name: &str,
    layout: c_int,
    transa: c_int,
    transb: c_int,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: T,
    a: *const T,
    lda: c_int,
    b: *const T,
    ldb: c_int,
    beta: T,
    c: *mut T,
    ldc: c_int,
) {
    entry(name, || {
        if layout != CBLAS_ROW_MAJOR && layout != CBLAS_COL_MAJOR {
            xerbla(name, 1);
            return Ok(());
        }
        let Some(ta) = Op::from_cblas(transa) else {
            xerbla(name, 2);
            return Ok(());
        };
        let Some(tb) = Op::from_cblas(transb) else {
            xerbla(name, 3);
            return Ok(());
        };
        if layout == CBLAS_COL_MAJOR {
            let g = ColArgs {
                ta,
                tb,
                m,
                n,
                k,
                lda,
                ldb,
                ldc,
            };
            // DGEMM's parameter numbers 3.. become CBLAS's (one more: Layout comes first).
            match g.check() {
                0 => {}
                info => {
                    xerbla(name, info + 1);
                    return Ok(());
                }
            }
            // SAFETY: checked arguments; the caller's contract for the arrays.
            unsafe { gemm_col(g, alpha, a, b, beta, c) }
        } else {
            // Row-major C (m x n, ldc) is column-major C^T (n x m): C^T = op(B)^T op(A)^T.
            let g = ColArgs {
                ta: tb,
                tb: ta,
                m: n,
                n: m,
                k,
                lda: ldb,
                ldb: lda,
                ldc,
            };
            // The swapped call's DGEMM numbers, mapped back to CBLAS's parameters.
            let info = match g.check() {
                0 => 0,
                3 => 5,
                4 => 4,
                5 => 6,
                8 => 11,
                10 => 9,
                13 => 14,
                other => other + 1,
            };
            if info != 0 {
                xerbla(name, info);
                return Ok(());
            }
            // SAFETY: checked arguments; the caller's contract for the arrays (row-major B
            // with ldb is column-major B^T with ldb, and likewise A and C).
            unsafe { gemm_col(g, alpha, b, a, beta, c) }
        }
    });
}

/// The Fortran-77 routine (all arguments by reference).
///
/// # Safety
/// As for the reference `DGEMM`: every pointer is valid (the scalars and TRANSA / TRANSB
/// readable).
#[allow(clippy::too_many_arguments)]
unsafe fn fortran<T: Real>(
    name: &str,
    transa: *const c_char,
    transb: *const c_char,
    m: *const c_int,
    n: *const c_int,
    k: *const c_int,
    alpha: *const T,
    a: *const T,
    lda: *const c_int,
    b: *const T,
    ldb: *const c_int,
    beta: *const T,
    c: *mut T,
    ldc: *const c_int,
) {
    entry(name, || {
        // SAFETY: the caller's contract: the scalar arguments are valid to read.
        let (ta, tb, m, n, k, alpha, lda, ldb, beta, ldc) = unsafe {
            (
                *transa, *transb, *m, *n, *k, *alpha, *lda, *ldb, *beta, *ldc,
            )
        };
        let Some(ta) = Op::from_char(ta) else {
            xerbla(name, 1);
            return Ok(());
        };
        let Some(tb) = Op::from_char(tb) else {
            xerbla(name, 2);
            return Ok(());
        };
        let g = ColArgs {
            ta,
            tb,
            m,
            n,
            k,
            lda,
            ldb,
            ldc,
        };
        match g.check() {
            0 => {}
            info => {
                xerbla(name, info);
                return Ok(());
            }
        }
        // SAFETY: checked arguments; the caller's contract for the arrays.
        unsafe { gemm_col(g, alpha, a, b, beta, c) }
    });
}

macro_rules! exports {
    ($t:ty, $cblas:ident, $f77:ident, $cname:literal, $fname:literal) => {
        #[doc = concat!("Reference CBLAS `", $cname, "`: `C = alpha op(A) op(B) + beta C`.")]
        ///
        /// # Safety
        /// As for the reference CBLAS: A, B and C are valid arrays for the dimensions, layout
        /// and leading dimensions (C writable), C does not overlap A or B, and nothing else
        /// accesses C during the call. Invalid scalar arguments are reported, not undefined.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $cblas(
            layout: c_int,
            transa: c_int,
            transb: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: $t,
            a: *const $t,
            lda: c_int,
            b: *const $t,
            ldb: c_int,
            beta: $t,
            c: *mut $t,
            ldc: c_int,
        ) {
            // SAFETY: forwarded contract.
            unsafe {
                cblas::<$t>(
                    $cname, layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                )
            }
        }

        #[doc = concat!("Fortran-77 BLAS `", $fname, "` (column-major, arguments by reference;")]
        /// trailing hidden string-length arguments are accepted and ignored).
        ///
        /// # Safety
        /// As for the reference routine: every pointer is valid (scalars readable, A and B
        /// readable and C writable for the dimensions and leading dimensions), C does not
        /// overlap A or B, and nothing else accesses C during the call.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $f77(
            transa: *const c_char,
            transb: *const c_char,
            m: *const c_int,
            n: *const c_int,
            k: *const c_int,
            alpha: *const $t,
            a: *const $t,
            lda: *const c_int,
            b: *const $t,
            ldb: *const c_int,
            beta: *const $t,
            c: *mut $t,
            ldc: *const c_int,
        ) {
            // SAFETY: forwarded contract.
            unsafe {
                fortran::<$t>(
                    $fname, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                )
            }
        }
    };
}

exports!(f32, cblas_sgemm, sgemm_, "cblas_sgemm", "SGEMM");
exports!(f64, cblas_dgemm, dgemm_, "cblas_dgemm", "DGEMM");

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn args(
        ta: Op,
        tb: Op,
        m: c_int,
        n: c_int,
        k: c_int,
        lda: c_int,
        ldb: c_int,
        ldc: c_int,
    ) -> ColArgs {
        ColArgs {
            ta,
            tb,
            m,
            n,
            k,
            lda,
            ldb,
            ldc,
        }
    }

    #[test]
    fn check_follows_the_reference_order_and_leading_dimension_rules() {
        use Op::{N, T};
        assert_eq!(args(N, N, 3, 4, 5, 3, 5, 3).check(), 0);
        assert_eq!(args(T, T, 3, 4, 5, 5, 4, 3).check(), 0);
        assert_eq!(args(N, N, -1, -1, -1, 0, 0, 0).check(), 3);
        assert_eq!(args(N, N, 1, -1, -1, 0, 0, 0).check(), 4);
        assert_eq!(args(N, N, 1, 1, -1, 0, 0, 0).check(), 5);
        assert_eq!(args(N, N, 3, 4, 5, 2, 5, 3).check(), 8);
        assert_eq!(args(T, N, 3, 4, 5, 4, 5, 3).check(), 8);
        assert_eq!(args(N, N, 3, 4, 5, 3, 4, 3).check(), 10);
        assert_eq!(args(N, T, 3, 4, 5, 3, 3, 3).check(), 10);
        assert_eq!(args(N, N, 3, 4, 5, 3, 5, 2).check(), 13);
        // Leading dimensions are at least 1 even for empty matrices.
        assert_eq!(args(N, N, 0, 0, 0, 0, 1, 1).check(), 8);
        assert_eq!(args(N, N, 0, 0, 0, 1, 1, 1).check(), 0);
    }

    #[test]
    fn transpose_codes() {
        assert_eq!(Op::from_cblas(111), Some(Op::N));
        assert_eq!(Op::from_cblas(112), Some(Op::T));
        assert_eq!(Op::from_cblas(113), Some(Op::T));
        assert_eq!(Op::from_cblas(110), None);
        for (c, op) in [(b'n', Some(Op::N)), (b'C', Some(Op::T)), (b'x', None)] {
            assert_eq!(Op::from_char(c as c_char), op);
        }
    }

    #[test]
    fn row_major_product_and_invalid_call_leave_the_right_contents() {
        // A 2x3, B 3x2 row-major, C = A B.
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0f64, 8.0, 9.0, 10.0, 11.0, 12.0];
        let mut c = [f64::NAN; 4];
        // SAFETY: valid row-major arrays for the dimensions.
        unsafe {
            cblas_dgemm(
                101,
                111,
                111,
                2,
                2,
                3,
                1.0,
                a.as_ptr(),
                3,
                b.as_ptr(),
                2,
                0.0,
                c.as_mut_ptr(),
                2,
            )
        };
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
        let before = strass_blas_calls();
        // lda = 2 < K = 3: rejected, C untouched.
        // SAFETY: the call is rejected before any array is accessed.
        unsafe {
            cblas_dgemm(
                101,
                111,
                111,
                2,
                2,
                3,
                1.0,
                a.as_ptr(),
                2,
                b.as_ptr(),
                2,
                0.0,
                c.as_mut_ptr(),
                2,
            )
        };
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
        assert!(strass_blas_calls() > before);
    }
}
