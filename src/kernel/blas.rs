//! System OpenBLAS (feature `openblas`): a strided GEMM wrapper for the kernel's leaf and the
//! benchmarks' baseline, thread control, and the library's self-description.

use super::{Element, KernelError};
// Linking: openblas-src emits the `-lopenblas` directive; blas-src selects it as the BLAS.
use blas_src as _;
use cblas as _;
use openblas_src as _;
use std::any::TypeId;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

extern "C" {
    fn openblas_set_num_threads(n: c_int);
    fn openblas_get_num_threads() -> c_int;
    fn openblas_get_config() -> *const c_char;
    fn openblas_get_corename() -> *const c_char;
}

/// Sets the number of threads OpenBLAS uses for its own calls.
pub fn set_num_threads(n: usize) {
    let n = n.clamp(1, c_int::MAX as usize) as c_int;
    // SAFETY: plain FFI call taking an int; OpenBLAS clamps it to its compiled maximum.
    unsafe { openblas_set_num_threads(n) }
}

/// The number of threads OpenBLAS currently uses.
pub fn num_threads() -> usize {
    // SAFETY: plain FFI getter without arguments.
    unsafe { openblas_get_num_threads() }.max(1) as usize
}

/// OpenBLAS's build description, e.g. `"OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"`.
pub fn config() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { cstr(openblas_get_config()) }
}

/// The CPU core OpenBLAS selected its kernels for, e.g. `"SkylakeX"`.
pub fn corename() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { cstr(openblas_get_corename()) }
}

/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives the call.
unsafe fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }
        .to_string_lossy()
        .trim()
        .to_string()
}

/// One operand for [`gemm`]: a strided `rows x cols` view starting at `data[0]`.
#[derive(Debug, Clone, Copy)]
pub struct Operand {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row stride in elements.
    pub rs: usize,
    /// Column stride in elements.
    pub cs: usize,
}

/// How an operand with a unit stride is described to column-major BLAS: (transposed?, ld).
fn col_major_desc(op: Operand, what: &str) -> Result<(bool, usize), KernelError> {
    // A dimension of extent 1 has an irrelevant stride: treat it as whatever fits.
    let rs = if op.rows <= 1 { 1 } else { op.rs };
    let cs = if op.cols <= 1 { 1 } else { op.cs };
    if rs == 1 && cs >= op.rows.max(1) {
        Ok((false, cs))
    } else if cs == 1 && rs >= op.cols.max(1) {
        Ok((true, rs))
    } else {
        Err(KernelError::Shape(format!(
            "OpenBLAS leaf: {what} needs a unit row or column stride (rows {}, cols {}, strides {}, {})",
            op.rows, op.cols, op.rs, op.cs
        )))
    }
}

fn to_int(x: usize, what: &str) -> Result<i32, KernelError> {
    i32::try_from(x)
        .map_err(|_| KernelError::Shape(format!("OpenBLAS leaf: {what} = {x} exceeds i32")))
}

/// Checks that an operand's elements lie within a slice of `len` elements.
fn check_within(op: Operand, len: usize, what: &str) -> Result<(), KernelError> {
    if op.rows == 0 || op.cols == 0 {
        return Ok(());
    }
    let last = (op.rows - 1).checked_mul(op.rs).and_then(|x| {
        (op.cols - 1)
            .checked_mul(op.cs)
            .and_then(|y| x.checked_add(y))
    });
    match last {
        Some(l) if l < len => Ok(()),
        _ => Err(KernelError::Shape(format!(
            "OpenBLAS leaf: {what} ({}x{}, strides {}, {}) does not fit in a slice of {len}",
            op.rows, op.cols, op.rs, op.cs
        ))),
    }
}

/// C = alpha A B + beta C through OpenBLAS, with A `m x k`, B `k x n`, C `m x n` given as strided
/// views (each with a unit stride in one dimension). With `beta == 0` C's old contents are ignored.
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Element>(
    alpha: T,
    a: &[T],
    ao: Operand,
    b: &[T],
    bo: Operand,
    beta: T,
    c: &mut [T],
    co: Operand,
) -> Result<(), KernelError> {
    check_within(ao, a.len(), "A")?;
    check_within(bo, b.len(), "B")?;
    check_within(co, c.len(), "C")?;
    // SAFETY: the views lie within the slices (checked above), and `c` is borrowed mutably.
    unsafe {
        gemm_raw(
            alpha,
            a.as_ptr(),
            ao,
            b.as_ptr(),
            bo,
            beta,
            c.as_mut_ptr(),
            co,
        )
    }
}

extern "C" {
    fn cblas_sgemm(
        layout: c_int,
        transa: c_int,
        transb: c_int,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: f32,
        a: *const f32,
        lda: c_int,
        b: *const f32,
        ldb: c_int,
        beta: f32,
        c: *mut f32,
        ldc: c_int,
    );
    fn cblas_dgemm(
        layout: c_int,
        transa: c_int,
        transb: c_int,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: f64,
        a: *const f64,
        lda: c_int,
        b: *const f64,
        ldb: c_int,
        beta: f64,
        c: *mut f64,
        ldc: c_int,
    );
}

/// CBLAS enumeration values.
const CBLAS_COL_MAJOR: c_int = 102;
const CBLAS_NO_TRANS: c_int = 111;
const CBLAS_TRANS: c_int = 112;

/// [`gemm`] on raw pointers, for callers (the kernel's parallel leaves) whose C views interleave
/// in memory so that no two of them may be borrowed as slices at once.
///
/// # Safety
/// Every element of each view is valid memory (A and B readable, C writable), C's elements are
/// distinct, and no other thread accesses C's elements during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_raw<T: Element>(
    alpha: T,
    a: *const T,
    ao: Operand,
    b: *const T,
    bo: Operand,
    beta: T,
    c: *mut T,
    co: Operand,
) -> Result<(), KernelError> {
    let (m, k, n) = (ao.rows, ao.cols, bo.cols);
    if bo.rows != k || co.rows != m || co.cols != n {
        return Err(KernelError::Shape(format!(
            "OpenBLAS leaf: shapes {}x{} * {}x{} -> {}x{} do not agree",
            ao.rows, ao.cols, bo.rows, bo.cols, co.rows, co.cols
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    // Express C column-major; if C is row-major, compute C^T = B^T A^T instead.
    let (c_trans, ldc) = col_major_desc(co, "C")?;
    let (a_t, lda) = col_major_desc(ao, "A")?;
    let (b_t, ldb) = col_major_desc(bo, "B")?;
    let (mm, nn, ta, tb, first, f_ld, second, s_ld) = if !c_trans {
        (m, n, a_t, b_t, a, lda, b, ldb)
    } else {
        // C^T (n x m) = B^T A^T: B^T's column-major description flips B's transposition.
        (n, m, !b_t, !a_t, b, ldb, a, lda)
    };
    let tr = |t: bool| if t { CBLAS_TRANS } else { CBLAS_NO_TRANS };
    let (mi, ni, ki) = (to_int(mm, "m")?, to_int(nn, "n")?, to_int(k.max(1), "k")?);
    let (l1, l2, l3) = (
        to_int(f_ld.max(1), "lda")?,
        to_int(s_ld.max(1), "ldb")?,
        to_int(ldc.max(1), "ldc")?,
    );
    if k == 0 {
        // Nothing to multiply: C = beta C (OpenBLAS would do this too, but k = 0 is rejected by
        // some builds' argument checks).
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) is an element of C (caller's contract).
                let x = unsafe { &mut *c.add(i * co.rs + j * co.cs) };
                *x = if beta == T::ZERO { T::ZERO } else { beta * *x };
            }
        }
        return Ok(());
    }
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked by TypeId), so the casts reinterpret values of the same type;
        // the caller guarantees the views, which the leading dimensions above describe exactly.
        unsafe {
            cblas_sgemm(
                CBLAS_COL_MAJOR,
                tr(ta),
                tr(tb),
                mi,
                ni,
                ki,
                *(&alpha as *const T as *const f32),
                first as *const f32,
                l1,
                second as *const f32,
                l2,
                *(&beta as *const T as *const f32),
                c as *mut f32,
                l3,
            )
        };
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: T is f64 (checked by TypeId); as above.
        unsafe {
            cblas_dgemm(
                CBLAS_COL_MAJOR,
                tr(ta),
                tr(tb),
                mi,
                ni,
                ki,
                *(&alpha as *const T as *const f64),
                first as *const f64,
                l1,
                second as *const f64,
                l2,
                *(&beta as *const T as *const f64),
                c as *mut f64,
                l3,
            )
        };
    } else {
        return Err(KernelError::Option(format!(
            "OpenBLAS leaf: unsupported dtype {}",
            T::DTYPE
        )));
    }
    Ok(())
}
