//! Packing with fused additions: one pass reads every operand term and writes the linear
//! combination straight into the packed panel the micro-kernel streams, so `sum_j c_j X_j` costs
//! no extra memory pass.
//!
//! The combination is evaluated term by term in a fixed order, `c_0 x_0 + c_1 x_1 + ...`, with
//! separate multiplies and adds, so it is the same for every blocking and thread count.

use crate::kernel::Element;

/// A strided operand term: `coef * X`, element `(i, j)` of X at `ptr + i * rs + j * cs`.
#[derive(Debug)]
pub(super) struct Term<T> {
    /// The coefficient.
    pub coef: T,
    /// Element (0, 0).
    pub ptr: *const T,
    /// Row stride in elements.
    pub rs: isize,
    /// Column stride in elements.
    pub cs: isize,
}

impl<T: Copy> Clone for Term<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Copy> Copy for Term<T> {}

// SAFETY: terms are only read through, by any number of threads, while the caller's borrow of
// the operands is alive; `T: Sync` makes shared reads sound.
unsafe impl<T: Sync> Send for Term<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Term<T> {}

impl<T: Element> Term<T> {
    /// Pointer to element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` is inside the operand.
    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> *const T {
        // SAFETY: forwarded to the caller.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

/// `dst[t] = sum_j c_j src_j[t * stride_j]` for `t < len`, terms in order.
///
/// # Safety
/// `dst` holds `len` writable elements with step `dstep`; each `starts[j]` with step `steps[j]`
/// addresses `len` readable elements.
#[inline(always)]
unsafe fn combine_line<T: Element>(
    terms: &[Term<T>],
    starts: impl Fn(&Term<T>) -> *const T,
    step: impl Fn(&Term<T>) -> isize,
    len: usize,
    dst: *mut T,
    dstep: usize,
) {
    let first = &terms[0];
    let (p0, s0, c0) = (starts(first), step(first), first.coef);
    for t in 0..len {
        // SAFETY: t < len (caller's contract).
        unsafe { *dst.add(t * dstep) = c0 * *p0.offset(t as isize * s0) };
    }
    for term in &terms[1..] {
        let (p, s, c) = (starts(term), step(term), term.coef);
        for t in 0..len {
            // SAFETY: t < len (caller's contract).
            unsafe { *dst.add(t * dstep) += c * *p.offset(t as isize * s) };
        }
    }
}

/// Packs rows `i0 .. i0 + mc`, columns `p0 .. p0 + kc` of `sum_j c_j A_j` into panels of `mr`
/// rows: panel `q` holds, for each `p < kc`, the `mr` values of rows `q * mr ..`; rows past `mc`
/// are zero.
///
/// # Safety
/// The block is inside every term; `out` holds `mc.div_ceil(mr) * mr * kc` writable elements.
pub(super) unsafe fn pack_a<T: Element>(
    terms: &[Term<T>],
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    mr: usize,
    out: *mut T,
) {
    for (q, r0) in (0..mc).step_by(mr).enumerate() {
        let rows = mr.min(mc - r0);
        // SAFETY: panel q starts inside `out` (q < mc.div_ceil(mr)).
        let panel = unsafe { out.add(q * mr * kc) };
        for r in 0..rows {
            // SAFETY: row i0 + r0 + r, columns p0 .. p0 + kc are inside every term; the panel
            // column r with step mr has kc slots.
            unsafe {
                combine_line(
                    terms,
                    |t| t.at(i0 + r0 + r, p0),
                    |t| t.cs,
                    kc,
                    panel.add(r),
                    mr,
                )
            };
        }
        for r in rows..mr {
            for p in 0..kc {
                // SAFETY: inside the panel.
                unsafe { *panel.add(p * mr + r) = T::ZERO };
            }
        }
    }
}

/// Packs rows `p0 .. p0 + kc`, columns `j0 .. j0 + nc` of `sum_l c_l B_l` into panels of `nr`
/// columns: panel `q` holds, for each `p < kc`, the `nr` values of columns `q * nr ..`; columns
/// past `nc` are zero. Only panels `panels.start .. panels.end` are written (for splitting the
/// work between threads).
///
/// # Safety
/// The block is inside every term; `out` holds `nc.div_ceil(nr) * nr * kc` writable elements.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn pack_b<T: Element>(
    terms: &[Term<T>],
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
    panels: std::ops::Range<usize>,
    out: *mut T,
) {
    let unit = terms.iter().all(|t| t.cs == 1);
    for q in panels {
        let c0 = q * nr;
        let cols = nr.min(nc - c0);
        // SAFETY: panel q starts inside `out`.
        let panel = unsafe { out.add(q * nr * kc) };
        if unit {
            for p in 0..kc {
                // SAFETY: row p0 + p, columns j0 + c0 .. + cols are inside every term (unit
                // column stride); the panel row p has nr slots.
                unsafe {
                    combine_line(
                        terms,
                        |t| t.at(p0 + p, j0 + c0),
                        |_| 1,
                        cols,
                        panel.add(p * nr),
                        1,
                    )
                };
            }
        } else {
            for c in 0..cols {
                // SAFETY: column j0 + c0 + c, rows p0 .. p0 + kc are inside every term; the panel
                // column c with step nr has kc slots.
                unsafe {
                    combine_line(
                        terms,
                        |t| t.at(p0, j0 + c0 + c),
                        |t| t.rs,
                        kc,
                        panel.add(c),
                        nr,
                    )
                };
            }
        }
        for p in 0..kc {
            for c in cols..nr {
                // SAFETY: inside the panel.
                unsafe { *panel.add(p * nr + c) = T::ZERO };
            }
        }
    }
}
