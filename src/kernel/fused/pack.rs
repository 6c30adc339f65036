//! Packing with fused additions: one pass reads every operand term and writes the linear
//! combination straight into the packed panel the micro-kernel streams, so `sum_j c_j X_j` costs
//! no extra memory pass.
//!
//! The combination is evaluated term by term in a fixed order, `c_0 x_0 + c_1 x_1 + ...`, with
//! separate multiplies and adds, so it is the same for every blocking and thread count.

use super::Isa;
use crate::kernel::Element;
use std::ops::Range;

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

/// `dst[t] = sum_j c_j src_j[t]` for `t < len` over contiguous lines, in one pass for up to two
/// terms (the common case of fast schemes), then one more pass over `dst` (in L1) per term.
///
/// # Safety
/// `dst` holds `len` writable elements; each `start(term)` addresses `len` readable ones.
#[inline(always)]
unsafe fn combine_contiguous<T: Element>(
    terms: &[Term<T>],
    start: impl Fn(&Term<T>) -> *const T,
    len: usize,
    dst: *mut T,
) {
    // SAFETY: caller's contract; sources are read-only and never alias `dst` (packed buffers are
    // the workspace's own memory).
    let d = unsafe { std::slice::from_raw_parts_mut(dst, len) };
    // SAFETY: each term's line of `len` elements from `start(t)` is readable (caller's contract).
    let line = |t: &Term<T>| unsafe { std::slice::from_raw_parts(start(t), len) };
    match terms {
        [t0] => {
            let (c0, x0) = (t0.coef, line(t0));
            for (d, &x) in d.iter_mut().zip(x0) {
                *d = c0 * x;
            }
        }
        [t0, t1, rest @ ..] => {
            let (c0, x0, c1, x1) = (t0.coef, line(t0), t1.coef, line(t1));
            for ((d, &x), &y) in d.iter_mut().zip(x0).zip(x1) {
                *d = c0 * x + c1 * y;
            }
            for t in rest {
                let (c, x) = (t.coef, line(t));
                for (d, &x) in d.iter_mut().zip(x) {
                    *d += c * x;
                }
            }
        }
        [] => d.fill(T::ZERO),
    }
}

/// Packs rows `i0 .. i0 + mc`, columns `p0 .. p0 + kc` of `sum_j c_j A_j` into micro-panels of
/// `mr` rows, each row-major (`mr x kc`, row `r` of panel `q` at `q * mr * kc + r * kc`); rows
/// past `mc` are zero. Only panels `panels.start .. panels.end` are written (for splitting the
/// work between threads).
///
/// # Safety
/// The block is inside every term; `out` holds `mc.div_ceil(mr) * mr * kc` writable elements.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn pack_a<T: Element>(
    terms: &[Term<T>],
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    mr: usize,
    panels: std::ops::Range<usize>,
    out: *mut T,
) {
    let row_unit = terms.iter().all(|t| t.cs == 1);
    let col_unit = terms.iter().all(|t| t.rs == 1);
    for q in panels {
        let r0 = q * mr;
        let rows = mr.min(mc - r0);
        // SAFETY: panel q starts inside `out` (q < mc.div_ceil(mr)).
        let panel = unsafe { out.add(q * mr * kc) };
        if row_unit || !col_unit {
            for r in 0..rows {
                // SAFETY: row i0 + r0 + r, column p0 lies inside every term (caller's contract).
                let row = |t: &Term<T>| unsafe { t.at(i0 + r0 + r, p0) };
                // SAFETY: row i0 + r0 + r, columns p0 .. p0 + kc are inside every term; row r
                // of the panel has kc slots.
                unsafe {
                    if row_unit {
                        combine_contiguous(terms, row, kc, panel.add(r * kc))
                    } else {
                        combine_line(terms, row, |t| t.cs, kc, panel.add(r * kc), 1)
                    }
                }
            }
        } else {
            // Column-major A: read down the columns.
            for p in 0..kc {
                // SAFETY: column p0 + p, rows i0 + r0 .. + rows are inside every term; column
                // p of the panel has `rows` slots with step kc.
                unsafe {
                    combine_line(
                        terms,
                        |t| t.at(i0 + r0, p0 + p),
                        |t| t.rs,
                        rows,
                        panel.add(p),
                        kc,
                    )
                };
            }
        }
        // SAFETY: rows rows..mr of the panel are inside it.
        unsafe { std::ptr::write_bytes(panel.add(rows * kc), 0, (mr - rows) * kc) };
    }
}

/// Source rows [`pack_b_rows`] packs together: each goes to every panel before the next group.
/// Writing a group of rows into one panel after another keeps the stores of each panel
/// contiguous (row by row across all panels, every store of a row lands in a different panel,
/// `NR * kc` elements apart); measured here, packing B took 18-38% less time than row by row
/// (`bench-results/pack-b.md`).
const PACK_B_ROWS: usize = 8;

/// [`pack_b`] for row-major-like terms (unit column stride) and a micro-panel width known at
/// compile time: source rows in groups of [`PACK_B_ROWS`], each group across all panels (every
/// source row still read in contiguous `NR`-wide pieces), every piece the sum of the terms'
/// contiguous values, one and two terms without a loop over the terms. Same operations in the
/// same order per element as the generic path, so the same bits.
///
/// # Safety
/// As [`pack_b`], with every term's column stride 1.
#[inline(always)]
unsafe fn pack_b_rows<T: Element, const NR: usize>(
    terms: &[Term<T>],
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    panels: std::ops::Range<usize>,
    out: *mut T,
) {
    let full = panels.start..panels.end.min(nc / NR).max(panels.start);
    // Both closures are only called with p < kc and a full panel q (q in `full`).
    let row = |t: &Term<T>, p: usize, q: usize| {
        // SAFETY: row p0 + p, columns j0 + q NR .. + NR of a full panel q lie inside every
        // term (caller's contract); the terms are not written during the call.
        unsafe { &*(t.at(p0 + p, j0 + q * NR) as *const [T; NR]) }
    };
    let dst = |p: usize, q: usize| {
        // SAFETY: row p of panel q has NR slots in `out` (caller's contract), and each call
        // hands out a different row or panel, used before the next call.
        unsafe { &mut *(out.add(q * NR * kc + p * NR) as *mut [T; NR]) }
    };
    for g in (0..kc).step_by(PACK_B_ROWS) {
        let rows = g..kc.min(g + PACK_B_ROWS);
        match terms {
            [t0] => {
                let c = t0.coef;
                for q in full.clone() {
                    for p in rows.clone() {
                        let (x, d) = (row(t0, p, q), dst(p, q));
                        for j in 0..NR {
                            d[j] = c * x[j];
                        }
                    }
                }
            }
            [t0, t1, rest @ ..] => {
                let (ca, cb) = (t0.coef, t1.coef);
                for q in full.clone() {
                    for p in rows.clone() {
                        let (x, y, d) = (row(t0, p, q), row(t1, p, q), dst(p, q));
                        for j in 0..NR {
                            d[j] = ca * x[j] + cb * y[j];
                        }
                        for t in rest {
                            let (c, z) = (t.coef, row(t, p, q));
                            for j in 0..NR {
                                d[j] += c * z[j];
                            }
                        }
                    }
                }
            }
            [] => {
                for q in full.clone() {
                    for p in rows.clone() {
                        dst(p, q).fill(T::ZERO);
                    }
                }
            }
        }
        for q in full.end..panels.end {
            let c0 = q * NR;
            let cols = NR.min(nc - c0);
            for p in rows.clone() {
                // SAFETY: row p0 + p, columns j0 + c0 .. + cols are inside every term; row p
                // of panel q has NR >= cols slots.
                unsafe {
                    let dst = out.add(q * NR * kc + p * NR);
                    combine_contiguous(terms, |t| t.at(p0 + p, j0 + c0), cols, dst);
                    std::ptr::write_bytes(dst.add(cols), 0, NR - cols);
                }
            }
        }
    }
}

/// Packs rows `p0 .. p0 + kc`, columns `j0 .. j0 + nc` of `sum_l c_l B_l` into micro-panels of
/// `nr` columns: panel `q` holds, for each `p < kc`, the `nr` values of columns `q * nr ..`;
/// columns past `nc` are zero. Only panels `panels.start .. panels.end` are written.
///
/// # Safety
/// The block is inside every term; `out` holds `nc.div_ceil(nr) * nr * kc` writable elements.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn pack_b<T: Element>(
    terms: &[Term<T>],
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
    panels: std::ops::Range<usize>,
    out: *mut T,
) {
    let row_unit = terms.iter().all(|t| t.cs == 1);
    let col_unit = terms.iter().all(|t| t.rs == 1);
    if row_unit {
        // The panel widths of every micro-kernel (AVX-512 f32 32, f64 16; AVX2 16, 8; portable
        // 8); another width takes the generic path below.
        // SAFETY: forwarded contract.
        unsafe {
            match nr {
                32 => return pack_b_rows::<T, 32>(terms, p0, kc, j0, nc, panels, out),
                16 => return pack_b_rows::<T, 16>(terms, p0, kc, j0, nc, panels, out),
                8 => return pack_b_rows::<T, 8>(terms, p0, kc, j0, nc, panels, out),
                _ => {}
            }
        }
    }
    if row_unit || !col_unit {
        // Row by row across all panels, so each source row is one contiguous read (one page,
        // hardware-prefetched) however large the row stride.
        for p in 0..kc {
            for q in panels.clone() {
                let c0 = q * nr;
                let cols = nr.min(nc - c0);
                // SAFETY: row p0 + p, column j0 + c0 lies inside every term (caller's contract).
                let row = |t: &Term<T>| unsafe { t.at(p0 + p, j0 + c0) };
                // SAFETY: row p0 + p, columns j0 + c0 .. + cols are inside every term; row p of
                // panel q has nr >= cols slots.
                unsafe {
                    let dst = out.add(q * nr * kc + p * nr);
                    combine_line(terms, row, |t| t.cs, cols, dst, 1);
                    std::ptr::write_bytes(dst.add(cols), 0, nr - cols);
                }
            }
        }
        return;
    }
    // Column-major B: read down the columns.
    for q in panels {
        let c0 = q * nr;
        let cols = nr.min(nc - c0);
        // SAFETY: panel q starts inside `out`.
        let panel = unsafe { out.add(q * nr * kc) };
        for c in 0..cols {
            // SAFETY: column j0 + c0 + c, rows p0 .. p0 + kc are inside every term; column c of
            // the panel has kc slots with step nr.
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
        if cols < nr {
            for p in 0..kc {
                // SAFETY: columns cols..nr of row p are inside the panel.
                unsafe { std::ptr::write_bytes(panel.add(p * nr + cols), 0, nr - cols) };
            }
        }
    }
}

/// Defines `pack_a_for` / `pack_b_for`: the packing routine compiled once per instruction set
/// (the sums are plain multiplies and adds, so every version gives the same bits; the wider
/// ones move the data faster), chosen by the micro-kernel's instruction set.
macro_rules! per_isa {
    ($pub_name:ident, $inner:ident, $avx512:ident, $avx2:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $avx512<T: Element>(
            t: &[Term<T>],
            i0: usize,
            m: usize,
            p0: usize,
            k: usize,
            r: usize,
            q: Range<usize>,
            out: *mut T,
        ) {
            // SAFETY: forwarded contract; the caller checked that the CPU has AVX-512F.
            unsafe { $inner(t, i0, m, p0, k, r, q, out) }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $avx2<T: Element>(
            t: &[Term<T>],
            i0: usize,
            m: usize,
            p0: usize,
            k: usize,
            r: usize,
            q: Range<usize>,
            out: *mut T,
        ) {
            // SAFETY: forwarded contract; the caller checked that the CPU has AVX2.
            unsafe { $inner(t, i0, m, p0, k, r, q, out) }
        }

        /// Dispatches to the version for `isa` (see the macro's documentation).
        ///
        /// # Safety
        /// As for the generic routine; `isa` is supported by this CPU.
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $pub_name<T: Element>(
            isa: Isa,
            t: &[Term<T>],
            i0: usize,
            m: usize,
            p0: usize,
            k: usize,
            r: usize,
            q: Range<usize>,
            out: *mut T,
        ) {
            // SAFETY: (all arms) forwarded contract; `isa` was checked when the micro-kernel was
            // selected.
            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded contract; the micro-kernel selection checked that this CPU has AVX-512.
                Isa::Avx512 => unsafe { $avx512(t, i0, m, p0, k, r, q, out) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded contract; the micro-kernel selection checked that this CPU has AVX2.
                Isa::Avx2 => unsafe { $avx2(t, i0, m, p0, k, r, q, out) },
                // SAFETY: forwarded contract (portable code).
                _ => unsafe { $inner(t, i0, m, p0, k, r, q, out) },
            }
        }
    };
}

per_isa!(pack_a_for, pack_a, pack_a_avx512, pack_a_avx2);
per_isa!(pack_b_for, pack_b, pack_b_avx512, pack_b_avx2);
