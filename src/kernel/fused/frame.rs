//! The portable frame of loops (BLIS's, with the roles of A and B exchanged because the vectors
//! run along C's rows): rows in `mc` blocks, depth in `kc` blocks (pack `sum A` once per block,
//! by all threads), columns cut into one chunk per thread and each chunk in `nc` blocks (pack
//! `sum B` per block into the thread's own buffer), then `mr`-high and `nr`-wide micro-tiles.
//! Every element of every destination is computed by the same operations in the same order for
//! any `p`, so the result does not depend on the thread count.

use super::pack::{pack_a_for, pack_b_for, Term};
use super::ukr::{add_partial, write_back, Out, TileDst, UKernel};
use crate::kernel::profile::{timed, Phase};
use crate::kernel::{Element, KernelError};

/// Cache blocking: rows of A packed at once (`mc`, a panel kept in L3 and shared by the
/// threads), depth (`kc`, so that an `mr x kc` micro-panel of A stays in L1) and columns of B
/// packed at once (`nc`, a per-thread block kept in L2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocking {
    /// Rows of A packed at once; rounded up to the micro-tile height.
    pub mc: usize,
    /// Depth of one packed block.
    pub kc: usize,
    /// Columns of B packed at once; rounded up to the micro-tile width.
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
        // Huge pages for large panels, asked for before `resize` first touches the memory.
        crate::kernel::workspace::advise_huge_pages(raw.as_mut_ptr().cast(), bytes);
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
    /// The packed `mc x kc` panel of `sum A` (shared by the threads).
    pub a: AlignedBuf<T>,
    /// One packed `kc x nc` block of `sum B` and one scratch tile per thread.
    pub b: AlignedBuf<T>,
    /// The terms of A (after an optional transposition of the whole problem).
    pub a_terms: Vec<Term<T>>,
    /// The terms of B.
    pub b_terms: Vec<Term<T>>,
    /// Destinations with the caller's beta (first depth block).
    pub first: Vec<TileDst<T>>,
    /// Destinations with beta = 1 (later depth blocks).
    pub later: Vec<TileDst<T>>,
    /// The `m x n` partial product when no destination can hold it (see [`Accumulate`]).
    pub temp: AlignedBuf<T>,
}

/// Where the partial product over the depth blocks lives between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Accumulate {
    /// In every destination: each depth block adds `gamma_i * tile` to every `C_i` (one
    /// read-modify-write of every destination per depth block).
    Everywhere,
    /// In destination `i` (which is overwritten, `beta_i == 0`): the unscaled partial product
    /// is kept there, and the last depth block adds it to its tile and writes every
    /// destination once.
    InDestination(usize),
    /// Likewise in a workspace temporary of `m x n` (when every destination accumulates).
    InTemp,
}

/// A raw pointer that may cross threads (each thread uses a disjoint part of what it points to).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the frame gives each thread a disjoint region behind the pointer.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

/// How the work is split: columns in `parts` chunks of `chunk` columns (multiples of `nr`),
/// with the effective block sizes.
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
pub(super) fn split<T>(
    uk: &UKernel<T>,
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
    let tiles = n.div_ceil(nr).max(1);
    let chunk = tiles.div_ceil(want.min(tiles)) * nr;
    let parts = n.div_ceil(chunk).max(1);
    Split {
        parts,
        chunk,
        mc: balanced(m, blk.mc, mr),
        kc: if k <= blk.kc || blk.kc < 4 {
            balanced(k, blk.kc, 1)
        } else {
            balanced(k, blk.kc / 4 * 4, 4)
        },
        nc: balanced(chunk, blk.nc, nr),
    }
}

/// The block size for `total` (at least 1) in blocks of at most `cap` rounded up to a multiple
/// of `align`: as many blocks as that needs, of one size (a multiple of `align`) but the last, so
/// that no block is a small remainder (1000 in blocks of at most 448 is 336 + 336 + 328, not
/// 448 + 448 + 104; 4096 rows in panels of at most 4092 rows of 6 is 2052 + 2044, not 4092 + 4).
fn balanced(total: usize, cap: usize, align: usize) -> usize {
    let round = |x: usize| x.div_ceil(align).max(1) * align;
    let (total, cap) = (total.max(1), round(cap));
    round(total.div_ceil(total.div_ceil(cap)))
}

/// Elements of the two buffers for a split: (packed A panel, per-thread B blocks + tiles).
pub(super) fn buffer_lens<T>(uk: &UKernel<T>, s: &Split) -> (usize, usize) {
    let a = s.mc * s.kc;
    let per = s.nc * s.kc + uk.mr * uk.nr;
    (a, per * s.parts)
}

/// Runs the loop nest on the terms and destinations in `bufs` (`first` / `later`: block origins
/// with the caller's beta and with beta = 1).
///
/// Order: rows in `mc` blocks; depth in `kc` blocks, packing `sum A` (all threads, by
/// micro-panels); columns in `parts` chunks, one per thread, each in `nc` blocks packing its own
/// `sum B`; then every `mr`-high micro-panel of A (L1) against every `nr`-wide micro-panel of B
/// (L2).
///
/// # Safety
/// Every term is a valid `m x k` (A) or `k x n` (B) operand, every destination a valid `m x n`
/// block whose elements are distinct, disjoint from the other destinations and from all terms,
/// and not accessed by anyone else during the call.
pub(super) unsafe fn run<T: Element>(
    uk: &UKernel<T>,
    s: Split,
    mode: Accumulate,
    bufs: &mut Buffers<T>,
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), KernelError> {
    let (a_len, b_len) = buffer_lens(uk, &s);
    bufs.a.ensure(a_len)?;
    bufs.b.ensure(b_len)?;
    let (a_terms, b_terms) = (&bufs.a_terms[..], &bufs.b_terms[..]);
    let abuf = SendPtr(bufs.a.ptr());
    let bbuf = SendPtr(bufs.b.ptr());
    let (mr, nr) = (uk.mr, uk.nr);
    let per = s.nc * s.kc + mr * nr;
    let blocks = k.div_ceil(s.kc);
    let mode = if blocks == 1 {
        Accumulate::Everywhere
    } else {
        mode
    };
    let acc = match mode {
        Accumulate::Everywhere => None,
        Accumulate::InDestination(i) => Some(bufs.first[i]),
        Accumulate::InTemp => {
            bufs.temp.ensure(m * n)?;
            Some(TileDst {
                ptr: bufs.temp.ptr(),
                rs: n as isize,
                cs: 1,
                gamma: T::ONE,
                beta: T::ZERO,
            })
        }
    };
    let acc_first = acc.map(|x| {
        [TileDst {
            gamma: T::ONE,
            beta: T::ZERO,
            ..x
        }]
    });
    let acc_later = acc.map(|x| {
        [TileDst {
            gamma: T::ONE,
            beta: T::ONE,
            ..x
        }]
    });
    let all_unit = bufs.first.iter().chain(&acc).all(|d| d.cs == 1);
    for ic in (0..m).step_by(s.mc) {
        let mc = s.mc.min(m - ic);
        let panels = mc.div_ceil(mr);
        for (blk, pc) in (0..k).step_by(s.kc).enumerate() {
            let kc = s.kc.min(k - pc);
            let last = blk + 1 == blocks;
            let (pre, dsts): (Option<&TileDst<T>>, &[TileDst<T>]) =
                match (&acc, &acc_first, &acc_later) {
                    (Some(x), Some(f), Some(l)) => match (blk, last) {
                        (_, true) => (Some(x), &bufs.first),
                        (0, false) => (None, f),
                        _ => (None, l),
                    },
                    _ if blk == 0 => (None, &bufs.first),
                    _ => (None, &bufs.later),
                };
            // Pack sum A: micro-panels split between the threads.
            let pack_part = |t: usize| {
                let (lo, hi) = (panels * t / s.parts, panels * (t + 1) / s.parts);
                let ab = abuf;
                // SAFETY: the block is inside every A term; panels lo..hi are this part's
                // disjoint share of the buffer sized by `buffer_lens`.
                timed(Phase::PackA, 0, || unsafe {
                    pack_a_for(uk.isa, a_terms, ic, mc, pc, kc, mr, lo..hi, ab.0)
                });
            };
            // Columns: chunk t packs its own B blocks and computes its own columns.
            let cols_part = |t: usize| {
                let lo = t * s.chunk;
                let hi = n.min(lo + s.chunk);
                let (ab, bb) = (abuf, bbuf);
                // SAFETY: part t owns `per` elements of the B buffer at t * per.
                let (bpack, tile) = unsafe {
                    let base = bb.0.add(t * per);
                    (base, base.add(s.nc * s.kc))
                };
                for jc in (lo..hi).step_by(s.nc) {
                    let nc = s.nc.min(hi - jc);
                    let all = 0..nc.div_ceil(nr);
                    // SAFETY: block inside every B term; bpack holds nc.div_ceil(nr)*nr*kc.
                    timed(Phase::PackB, 0, || unsafe {
                        pack_b_for(uk.isa, b_terms, pc, kc, jc, nc, nr, all.clone(), bpack)
                    });
                    // SAFETY: the packed blocks are complete; columns jc..jc+nc of every
                    // destination belong to this part alone.
                    timed(Phase::Micro, 0, || unsafe {
                        macro_kernel(
                            uk, kc, ab.0, bpack, tile, mc, nc, ic, jc, pre, dsts, all_unit,
                        )
                    });
                }
            };
            let (pack_part, cols_part) = (&pack_part, &cols_part);
            if s.parts == 1 {
                pack_part(0);
                cols_part(0);
            } else {
                rayon::scope(|sc| {
                    for t in 1..s.parts {
                        sc.spawn(move |_| pack_part(t));
                    }
                    pack_part(0);
                });
                rayon::scope(|sc| {
                    for t in 1..s.parts {
                        sc.spawn(move |_| cols_part(t));
                    }
                    cols_part(0);
                });
            }
        }
    }
    Ok(())
}

/// All micro-tiles of one packed `mc x kc` panel of A against one packed `kc x nc` block of B:
/// each micro-panel of A stays in L1 while the micro-panels of B stream from L2.
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
    pre: Option<&TileDst<T>>,
    dsts: &[TileDst<T>],
    all_unit: bool,
) {
    let (mr, nr) = (uk.mr, uk.nr);
    for ir in (0..mc).step_by(mr) {
        let rows = mr.min(mc - ir);
        // SAFETY: micro-panel ir / mr of the packed A panel.
        let ap = unsafe { apack.add(ir * kc) };
        for jr in (0..nc).step_by(nr) {
            let cols = nr.min(nc - jr);
            // SAFETY: micro-panel jr / nr of the packed B block.
            let bp = unsafe { bpack.add(jr * kc) };
            let (row, col) = (ic + ir, jc + jr);
            if rows == mr && cols == nr && all_unit {
                // SAFETY: full tile inside every destination, unit column strides.
                unsafe {
                    (uk.f)(
                        kc,
                        ap,
                        bp,
                        Out::Direct {
                            pre,
                            dsts,
                            row,
                            col,
                        },
                    )
                };
            } else {
                // SAFETY: scratch tile of mr * nr; then the rows x cols part is written back.
                unsafe {
                    (uk.f)(kc, ap, bp, Out::Tile(tile));
                    if let Some(x) = pre {
                        add_partial(tile, nr, rows, cols, x, row, col);
                    }
                    write_back(tile, nr, rows, cols, dsts, row, col);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::balanced;

    #[test]
    fn blocks_are_balanced_multiples_within_the_cap() {
        assert_eq!(balanced(1000, 448, 4), 336);
        assert_eq!(balanced(4096, 4092, 6), 2052);
        assert_eq!(balanced(896, 448, 4), 448);
        assert_eq!(balanced(100, 448, 4), 100);
        assert_eq!(balanced(5, 448, 6), 6);
        assert_eq!(balanced(0, 448, 6), 6);
        for total in 1..300 {
            for cap in [1, 3, 7, 16, 45, 96] {
                for align in [1, 4, 6, 16] {
                    let b = balanced(total, cap, align);
                    let capr = cap.div_ceil(align) * align;
                    let blocks = total.div_ceil(b);
                    assert!(
                        b.is_multiple_of(align) && b <= capr,
                        "{total} {cap} {align}: {b}"
                    );
                    // As few blocks as the cap allows, and no last block much smaller than the rest.
                    assert_eq!(blocks, total.div_ceil(capr), "{total} {cap} {align}: {b}");
                    assert!(
                        total - (blocks - 1) * b + blocks * align >= b,
                        "{total} {cap} {align}: {b}"
                    );
                }
            }
        }
    }
}
