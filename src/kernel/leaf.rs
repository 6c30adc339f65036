//! The leaf GEMMs the recursion ends in.
//!
//! # The product contract
//! The recursion's last level calls [`product`] once per product of the scheme:
//!
//! ```text
//! C_i = alpha w_i (sum_j u_j A_j)(sum_l v_l B_l) + beta_i C_i     for every output i
//! ```
//!
//! with integer `u_j`, `v_l`, `w_i` and `beta_i` in {0, 1} (0: C_i is overwritten, not read).
//! strass's packed GEMM ([`Leaf::Fused`]) implements it natively: the sums are formed while
//! packing and every micro-tile is added to each output from registers. A classical library
//! (matrixmultiply, OpenBLAS) implements it with temporaries from the workspace: the sums written
//! once, one GEMM into an output it overwrites (or a temporary), and one fused pass adding the
//! product to the other outputs. Plain `C = alpha A B + beta C` ([`gemm`]) is the one-term case.
//!
//! Splitting: with `p > 1` threads a leaf is cut into `p` slabs of C rows (or columns, whichever
//! is longer), each computed by a single-threaded call. Both libraries compute an element of C
//! from its row of A and column of B alone (matrixmultiply's k-blocking is a fixed constant), so
//! the split changes no bit of the result with the matrixmultiply leaf. The fused leaf
//! ([`super::fused`]) threads itself (its results do not depend on the thread count either).

use super::simd::{self, Isa};
use super::view::{RawMut, RawRef};
use super::workspace::{padded, take};
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
        if unsafe { super::thin::gemm(alpha, a, b, beta, c) } {
            return Ok(());
        }
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
            use super::blas::{gemm_raw, Operand};
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

/// One output of a [`product`]: `C = alpha coeff M + (C unless overwrite)`.
#[derive(Clone, Copy)]
pub(crate) struct Out<T> {
    pub c: RawMut<T>,
    pub coeff: i64,
    pub overwrite: bool,
}

/// Workspace elements a [`product`] with `mb x kb` and `kb x nb` operands needs.
pub(crate) fn product_ws_len<T>(leaf: Leaf, mb: usize, kb: usize, nb: usize) -> usize {
    match leaf {
        Leaf::Fused => 0,
        _ => padded::<T>(mb * kb) + padded::<T>(kb * nb) + padded::<T>(mb * nb),
    }
}

/// The product contract (see the module documentation): for every output,
/// `C_i = alpha w_i (sum_j u_j A_j)(sum_l v_l B_l) + beta_i C_i`, on up to `threads` threads.
/// `ws` holds at least [`product_ws_len`] elements.
///
/// # Safety
/// The views are valid; the outputs are pairwise disjoint, disjoint from the sources and from
/// `ws`, and nothing else accesses them meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn product<T: Element>(
    leaf: Leaf,
    isa: Isa,
    alpha: T,
    a: &[(RawRef<T>, i64)],
    b: &[(RawRef<T>, i64)],
    outs: &[Out<T>],
    ws: &mut [T],
    threads: usize,
) -> Result<(), KernelError> {
    let (Some(a0), Some(b0)) = (a.first(), b.first()) else {
        return Err(KernelError::Internal("a product without operands".into()));
    };
    if outs.is_empty() {
        return Ok(());
    }
    if leaf == Leaf::Fused {
        let at: Vec<(i64, RawRef<T>)> = a.iter().map(|&(v, w)| (w, v)).collect();
        let bt: Vec<(i64, RawRef<T>)> = b.iter().map(|&(v, w)| (w, v)).collect();
        let mut ct: Vec<(RawMut<T>, T, T)> = outs
            .iter()
            .map(|o| {
                let beta = if o.overwrite { T::ZERO } else { T::ONE };
                (o.c, T::from_i64(o.coeff), beta)
            })
            .collect();
        // SAFETY: forwarded contract.
        return unsafe { fused(alpha, &at, &bt, &mut ct, threads) };
    }
    let (mb, kb, nb) = (a0.0.rows, a0.0.cols, b0.0.cols);
    let mut ws = ws;
    // SAFETY: (both) the buffers are disjoint parts of the workspace, large enough.
    let (s, sa) = unsafe { operand(isa, a, take(&mut ws, mb * kb)?.as_mut_ptr(), threads) };
    // SAFETY: as above.
    let (t, sb) = unsafe { operand(isa, b, take(&mut ws, kb * nb)?.as_mut_ptr(), threads) };
    let f = sa * sb;
    let scaled = |c: i64| {
        if c == 1 {
            alpha
        } else {
            alpha * T::from_i64(c)
        }
    };
    if let [o] = outs {
        let beta = if o.overwrite { T::ZERO } else { T::ONE };
        // SAFETY: forwarded contract.
        return unsafe { gemm(leaf, scaled(f * o.coeff), s, t, beta, o.c, threads) };
    }
    // The product goes into an output it overwrites with coefficient ±1 (so the others get an
    // integer multiple of it), else into a temporary; then one pass adds it to the others.
    let (src, rest): (RawMut<T>, Vec<Scatter<T>>) =
        match outs.iter().position(|o| o.overwrite && o.coeff.abs() == 1) {
            Some(i) => {
                let d = outs[i];
                // SAFETY: forwarded contract.
                unsafe { gemm(leaf, scaled(f * d.coeff), s, t, T::ZERO, d.c, threads)? };
                let rest = outs
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, o)| (o.c, o.coeff * d.coeff, !o.overwrite))
                    .collect();
                (d.c, rest)
            }
            None => {
                let m = temp_like(take(&mut ws, mb * nb)?.as_mut_ptr(), outs[0].c);
                // SAFETY: m is workspace memory of mb x nb elements.
                unsafe { gemm(leaf, scaled(f), s, t, T::ZERO, m, threads)? };
                let rest = outs.iter().map(|o| (o.c, o.coeff, !o.overwrite)).collect();
                (m, rest)
            }
        };
    // SAFETY: forwarded contract; src is disjoint from every other output.
    unsafe { simd::scatter(isa, src.as_ref(), &rest, threads) };
    Ok(())
}

/// A destination of [`simd::scatter`]: the view, its coefficient, and whether it accumulates.
type Scatter<T> = (RawMut<T>, i64, bool);

/// A `rows x cols` temporary in `buf`, column-major when `like` is column-contiguous.
pub(crate) fn temp_like<T>(buf: *mut T, like: RawMut<T>) -> RawMut<T> {
    let col_major = (like.rows <= 1 || like.rs == 1) && like.cols > 1 && like.cs != 1;
    let (rs, cs) = if col_major {
        (1, like.rows as isize)
    } else {
        (like.cols as isize, 1)
    };
    RawMut {
        ptr: buf,
        rows: like.rows,
        cols: like.cols,
        rs,
        cs,
    }
}

/// A single term with its coefficient (folded into alpha by the caller), or the linear
/// combination written once into `buf`.
///
/// # Safety
/// `buf` holds `rows * cols` elements of workspace; the terms are valid views of one shape.
pub(crate) unsafe fn operand<T: Element>(
    isa: Isa,
    terms: &[(RawRef<T>, i64)],
    buf: *mut T,
    threads: usize,
) -> (RawRef<T>, i64) {
    if let [(v, w)] = terms {
        return (*v, *w);
    }
    let like = terms[0].0;
    let view = temp_like(
        buf,
        RawMut {
            ptr: like.ptr as *mut T,
            rows: like.rows,
            cols: like.cols,
            rs: like.rs,
            cs: like.cs,
        },
    );
    // SAFETY: buf holds rows*cols elements; the sources are blocks of A or B.
    unsafe { simd::combine(isa, view, false, terms, threads) };
    (view.as_ref(), 1)
}

/// `C_i = alpha w_i (sum_j u_j A_j)(sum_l v_l B_l) + beta_i C_i` for every output
/// `(C_i, w_i, beta_i)`, through the fused packed GEMM on `threads` threads.
///
/// # Safety
/// The views are valid; the outputs are pairwise disjoint, disjoint from the sources, and
/// nothing else accesses them meanwhile.
unsafe fn fused<T: Element>(
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
