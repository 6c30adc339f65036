//! The portable frame of loops (BLIS order): columns in `nc` blocks, depth in `kc` blocks (pack
//! `sum B` once per block), rows in `mc` blocks (pack `sum A` per block), then `nr`-wide and
//! `mr`-high micro-tiles. With `p` threads the rows are cut into `p` contiguous chunks (multiples
//! of `mr`), each with its own packed-A buffer; B's panels are packed by all threads together.
//! Every element of every destination is computed by the same operations in the same order for
//! any `p`, so the result does not depend on the thread count.

use super::pack::{pack_a, pack_b, Term};
use super::ukr::{write_back, Out, TileDst, UKernel};
use crate::kernel::{Element, KernelError};

/// Cache blocking: rows of A per packed block (`mc`), depth (`kc`), columns of B (`nc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocking {
    /// Rows of A packed at once (kept in L2); rounded up to the micro-tile height.
    pub mc: usize,
    /// Depth of one packed block (a `kc x nr` panel of B stays in L1).
    pub kc: usize,
    /// Columns of B packed at once (kept in L3); rounded up to the micro-tile width.
    pub nc: usize,
}

/// Bytes of alignment for packed buffers (one cache line, one AVX-512 vector).
const ALIGN: usize = 64;

/// A growable, cache-line aligned buffer of `T` that never shrinks.
#[derive(Debug, Default)]
pub(super) struct AlignedBuf<T> {
    raw: Vec<T>,
    off: usize,
    len: usize,
}

impl<T: Element> AlignedBuf<T> {
    /// Makes room for `len` aligned elements; allocation failure is an error.
    pub fn ensure(&mut self, len: usize) -> Result<(), KernelError> {
        if len <= self.len {
            return Ok(());
        }
        let pad = ALIGN / std::mem::size_of::<T>();
        let total = len
            .checked_add(pad)
            .ok_or(KernelError::Alloc { bytes: usize::MAX })?;
        let bytes = total.saturating_mul(std::mem::size_of::<T>());
        let mut raw: Vec<T> = Vec::new();
        raw.try_reserve_exact(total)
            .map_err(|_| KernelError::Alloc { bytes })?;
        raw.resize(total, T::ZERO);
        let addr = raw.as_ptr() as usize;
        let off = (addr.next_multiple_of(ALIGN) - addr) / std::mem::size_of::<T>();
        *self = AlignedBuf { raw, off, len };
        Ok(())
    }

    /// The aligned start.
    pub fn ptr(&mut self) -> *mut T {
        // SAFETY: off <= pad, inside the allocation.
        unsafe { self.raw.as_mut_ptr().add(self.off) }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.raw.capacity() * std::mem::size_of::<T>()
    }
}

/// The packed buffers a call needs.
#[derive(Debug, Default)]
pub(super) struct Buffers<T> {
    /// Packed `kc x nc` panel of `sum B`.
    pub b: AlignedBuf<T>,
    /// One packed `mc x kc` block of `sum A` per thread, then one scratch tile per thread.
    pub a: AlignedBuf<T>,
    /// The terms of A (after an optional transposition of the whole problem).
    pub a_terms: Vec<Term<T>>,
    /// The terms of B.
    pub b_terms: Vec<Term<T>>,
    /// Destinations with the caller's beta (first depth block).
    pub first: Vec<TileDst<T>>,
    /// Destinations with beta = 1 (later depth blocks).
    pub later: Vec<TileDst<T>>,
}

/// A raw pointer that may cross threads (each thread uses a disjoint part of what it points to).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the frame gives each thread a disjoint region behind the pointer.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

/// How the rows are split: `parts` chunks of `chunk` rows, packed in blocks of `mc`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Split {
    pub parts: usize,
    pub chunk: usize,
    pub mc: usize,
    pub kc: usize,
    pub nc: usize,
}

/// Below this many multiply-adds a call runs on one thread.
const PARALLEL_MIN_WORK: f64 = (96 * 96 * 96) as f64;

/// Effective blocking and thread split for an `m x k x n` call.
pub(super) fn split(
    uk: &UKernel<impl Sized>,
    blk: Blocking,
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
) -> Split {
    let (mr, nr) = (uk.mr, uk.nr);
    let work = m as f64 * k as f64 * n as f64;
    let want = if work < PARALLEL_MIN_WORK {
        1
    } else {
        threads.max(1)
    };
    let tiles = m.div_ceil(mr).max(1);
    let parts0 = want.min(tiles);
    let chunk = tiles.div_ceil(parts0) * mr;
    let parts = m.div_ceil(chunk).max(1);
    let mc = blk.mc.div_ceil(mr).max(1) * mr;
    Split {
        parts,
        chunk,
        mc: mc.min(chunk),
        kc: blk.kc.max(1).min(k.max(1)),
        nc: (blk.nc.div_ceil(nr).max(1) * nr).min(n.div_ceil(nr).max(1) * nr),
    }
}

/// Elements of the two buffers for a split: (B panel, A blocks + tiles).
pub(super) fn buffer_lens(uk: &UKernel<impl Sized>, s: &Split) -> (usize, usize) {
    let b = s.kc * s.nc;
    let per = s.mc * s.kc + uk.mr * uk.nr;
    (b, per * s.parts)
}

/// Runs the loop nest on the terms and destinations in `bufs` (`first` / `later`: block origins
/// with the caller's beta and with beta = 1).
///
/// # Safety
/// Every term is a valid `m x k` (A) or `k x n` (B) operand, every destination a valid `m x n`
/// block whose elements are distinct, disjoint from the other destinations and from all terms,
/// and not accessed by anyone else during the call.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn run<T: Element>(
    uk: &UKernel<T>,
    s: Split,
    bufs: &mut Buffers<T>,
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), KernelError> {
    let (b_len, a_len) = buffer_lens(uk, &s);
    bufs.b.ensure(b_len)?;
    bufs.a.ensure(a_len)?;
    let (a_terms, b_terms) = (&bufs.a_terms[..], &bufs.b_terms[..]);
    let bbuf = SendPtr(bufs.b.ptr());
    let abuf = SendPtr(bufs.a.ptr());
    let (mr, nr) = (uk.mr, uk.nr);
    let per = s.mc * s.kc + mr * nr;
    let all_unit = bufs.first.iter().all(|d| d.cs == 1);
    for jc in (0..n).step_by(s.nc) {
        let nc = s.nc.min(n - jc);
        let panels = nc.div_ceil(nr);
        for pc in (0..k).step_by(s.kc) {
            let kc = s.kc.min(k - pc);
            let dsts: &[TileDst<T>] = if pc == 0 { &bufs.first } else { &bufs.later };
            // Pack sum B: panels split between the threads.
            let pack_part = |t: usize| {
                let lo = panels * t / s.parts;
                let hi = panels * (t + 1) / s.parts;
                let bb = bbuf;
                // SAFETY: the block is inside every B term; panels lo..hi are this part's
                // disjoint share of the buffer sized by `buffer_lens`.
                unsafe { pack_b(b_terms, pc, kc, jc, nc, nr, lo..hi, bb.0) };
            };
            // Rows: chunk t packs its own A blocks and computes its own rows.
            let rows_part = |t: usize| {
                let lo = t * s.chunk;
                let hi = m.min(lo + s.chunk);
                let ab = abuf;
                let bb = bbuf;
                // SAFETY: part t owns `per` elements of the A buffer at t * per.
                let (apack, tile) = unsafe {
                    let base = ab.0.add(t * per);
                    (base, base.add(s.mc * s.kc))
                };
                for ic in (lo..hi).step_by(s.mc) {
                    let mc = s.mc.min(hi - ic);
                    // SAFETY: block inside every A term; apack holds mc.div_ceil(mr)*mr*kc.
                    unsafe { pack_a(a_terms, ic, mc, pc, kc, mr, apack) };
                    // SAFETY: the packed panels are complete; the rows ic..ic+mc of every
                    // destination belong to this part alone.
                    unsafe {
                        macro_kernel(uk, kc, apack, bb.0, tile, mc, nc, ic, jc, dsts, all_unit)
                    };
                }
            };
            let (pack_part, rows_part) = (&pack_part, &rows_part);
            if s.parts == 1 {
                pack_part(0);
                rows_part(0);
            } else {
                rayon::scope(|sc| {
                    for t in 1..s.parts {
                        sc.spawn(move |_| pack_part(t));
                    }
                    pack_part(0);
                });
                rayon::scope(|sc| {
                    for t in 1..s.parts {
                        sc.spawn(move |_| rows_part(t));
                    }
                    rows_part(0);
                });
            }
        }
    }
    Ok(())
}

/// All micro-tiles of one packed `mc x kc` block of A against the packed `kc x nc` panel of B.
///
/// # Safety
/// Packed buffers complete and sized for `mc`, `nc`, `kc`; `tile` holds `mr * nr` elements; the
/// rows `ic .. ic + mc`, columns `jc .. jc + nc` of every destination are valid and owned.
#[allow(clippy::too_many_arguments)]
unsafe fn macro_kernel<T: Element>(
    uk: &UKernel<T>,
    kc: usize,
    apack: *const T,
    bpack: *const T,
    tile: *mut T,
    mc: usize,
    nc: usize,
    ic: usize,
    jc: usize,
    dsts: &[TileDst<T>],
    all_unit: bool,
) {
    let (mr, nr) = (uk.mr, uk.nr);
    for jr in (0..nc).step_by(nr) {
        let cols = nr.min(nc - jr);
        // SAFETY: panel jr / nr of the packed B block.
        let bp = unsafe { bpack.add(jr * kc) };
        for ir in (0..mc).step_by(mr) {
            let rows = mr.min(mc - ir);
            // SAFETY: panel ir / mr of the packed A block.
            let ap = unsafe { apack.add(ir * kc) };
            let (row, col) = (ic + ir, jc + jr);
            if rows == mr && cols == nr && all_unit {
                // SAFETY: full tile inside every destination, unit column strides.
                unsafe { (uk.f)(kc, ap, bp, Out::Direct { dsts, row, col }) };
            } else {
                // SAFETY: scratch tile of mr * nr; then the rows x cols part is written back.
                unsafe {
                    (uk.f)(kc, ap, bp, Out::Tile(tile));
                    write_back(tile, nr, rows, cols, dsts, row, col);
                }
            }
        }
    }
}
