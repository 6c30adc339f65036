//! Micro-kernels: the narrow, per-ISA part of the fused GEMM.
//!
//! A micro-kernel multiplies one packed `MR x kc` panel of A (row-major: row `r` is the `kc`
//! values at `a + r * kc`) with one packed `kc x NR` panel of B (row-major: `NR` values per `k`)
//! into an `MR x NR`
//! tile held in registers, then either adds the tile into every destination directly (full tile,
//! unit column stride) or stores it row-major into a scratch tile for the caller's scalar
//! write-back. It knows nothing about Strassen: the destinations are just a list of
//! `(pointer, strides, gamma, beta)`.
//!
//! Write-back arithmetic is `gamma * t` (`beta == 0`, C not read), `c + gamma * t` (`beta == 1`)
//! or `beta * c + gamma * t`, always as separate multiplies and adds (never an FMA), so the SIMD
//! and the scalar write-back give the same bits and the result does not depend on which tiles
//! happen to be edge tiles (and so not on the thread count).

use super::Isa;
use crate::kernel::Element;
use std::any::TypeId;

/// One destination of a tile: the origin of the destination block and what to do with it.
#[derive(Debug)]
pub(super) struct TileDst<T> {
    /// Element `(0, 0)` of the destination block (tile offsets are added by the kernel).
    pub ptr: *mut T,
    /// Row stride in elements.
    pub rs: isize,
    /// Column stride in elements.
    pub cs: isize,
    /// Scale of the product.
    pub gamma: T,
    /// Scale of the old contents; exactly 0 means "not read".
    pub beta: T,
}

impl<T: Copy> Clone for TileDst<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Copy> Copy for TileDst<T> {}

// SAFETY: the frame hands different threads disjoint row ranges of every destination, so no
// element behind `ptr` is written by two threads; the pointer itself is only read.
unsafe impl<T: Send> Send for TileDst<T> {}
// SAFETY: as above: shared `&TileDst` only yields the pointer, writes go to disjoint rows.
unsafe impl<T: Send> Sync for TileDst<T> {}

/// Where a micro-kernel puts its tile.
pub(super) enum Out<'a, T> {
    /// Add the full `MR x NR` tile at `(row, col)` of every destination; all have `cs == 1`.
    Direct {
        /// First add the tile at `(row, col)` of this partial product (`cs == 1`) to the
        /// accumulators (it may be one of the destinations: it is read before any write).
        pre: Option<&'a TileDst<T>>,
        /// The destinations.
        dsts: &'a [TileDst<T>],
        /// Tile row offset inside the destination blocks.
        row: usize,
        /// Tile column offset inside the destination blocks.
        col: usize,
    },
    /// Store the tile row-major (row stride `NR`) into this `MR * NR` scratch buffer.
    Tile(*mut T),
}

/// A micro-kernel entry point.
///
/// # Safety
/// `a` points to `MR * kc` readable elements (row-major `MR x kc`), `b` to `kc * NR`; for [`Out::Direct`] every
/// destination tile is valid for reads and writes and has unit column stride, for [`Out::Tile`]
/// the buffer holds `MR * NR` writable elements.
pub(super) type UkrFn<T> = unsafe fn(usize, *const T, *const T, Out<'_, T>);

/// A selected micro-kernel with its tile shape.
#[derive(Clone, Copy)]
pub(super) struct UKernel<T> {
    /// Rows of the tile (values of A broadcast per `k`).
    pub mr: usize,
    /// Columns of the tile (vector lanes of B per `k`).
    pub nr: usize,
    /// The instruction set it uses.
    pub isa: Isa,
    /// The kernel.
    pub f: UkrFn<T>,
}

impl<T> std::fmt::Debug for UKernel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UKernel({:?}, {}x{})", self.isa, self.mr, self.nr)
    }
}

/// The micro-kernel for `T` on `isa`, or `None` when this CPU cannot run it.
pub(super) fn select<T: Element>(isa: Isa) -> Option<UKernel<T>> {
    if !isa.supported() {
        return None;
    }
    match isa {
        Isa::Portable => Some(UKernel {
            mr: PORTABLE_MR,
            nr: PORTABLE_NR,
            isa,
            f: portable::<T>,
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx2 => {
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                let k: UKernel<f32> = super::x86::kernel_f32(isa);
                // SAFETY: T is f32 (TypeId checked), so UKernel<f32> and UKernel<T> are one type.
                Some(unsafe { std::mem::transmute_copy::<UKernel<f32>, UKernel<T>>(&k) })
            } else if TypeId::of::<T>() == TypeId::of::<f64>() {
                let k: UKernel<f64> = super::x86::kernel_f64(isa);
                // SAFETY: T is f64 (TypeId checked), so UKernel<f64> and UKernel<T> are one type.
                Some(unsafe { std::mem::transmute_copy::<UKernel<f64>, UKernel<T>>(&k) })
            } else {
                None
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        _ => None,
    }
}

const PORTABLE_MR: usize = 4;
const PORTABLE_NR: usize = 8;

/// Portable micro-kernel: plain multiplies and adds on a `4 x 8` tile of scalars (the compiler
/// vectorises what the baseline target allows).
///
/// # Safety
/// See [`UkrFn`].
unsafe fn portable<T: Element>(kc: usize, a: *const T, b: *const T, out: Out<'_, T>) {
    const MR: usize = PORTABLE_MR;
    const NR: usize = PORTABLE_NR;
    let mut acc = [[T::ZERO; NR]; MR];
    // SAFETY: the micro-panels hold MR x kc and kc x NR elements (caller's contract).
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, MR * kc),
            std::slice::from_raw_parts(b as *const [T; NR], kc),
        )
    };
    for (p, bp) in b.iter().enumerate() {
        for (r, accr) in acc.iter_mut().enumerate() {
            let ar = a[r * kc + p];
            for (x, &bc) in accr.iter_mut().zip(bp) {
                *x += ar * bc;
            }
        }
    }
    match out {
        Out::Tile(t) => {
            for (r, row) in acc.iter().enumerate() {
                // SAFETY: the scratch tile holds MR * NR elements (caller's contract).
                unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), t.add(r * NR), NR) };
            }
        }
        Out::Direct {
            pre,
            dsts,
            row,
            col,
        } => {
            if let Some(x) = pre {
                for (r, accr) in acc.iter_mut().enumerate() {
                    // SAFETY: full tile at (row, col) of the partial product, unit column stride.
                    let xr = unsafe {
                        std::slice::from_raw_parts(
                            x.ptr.offset((row + r) as isize * x.rs + col as isize),
                            NR,
                        )
                    };
                    for (a, &x) in accr.iter_mut().zip(xr) {
                        *a += x;
                    }
                }
            }
            for d in dsts {
                for (r, accr) in acc.iter().enumerate() {
                    // SAFETY: the full tile at (row, col) is inside the destination and has unit
                    // column stride (caller's contract).
                    let c = unsafe {
                        std::slice::from_raw_parts_mut(
                            d.ptr.offset((row + r) as isize * d.rs + col as isize),
                            NR,
                        )
                    };
                    update_row(c, accr, d.gamma, d.beta);
                }
            }
        }
    }
}

/// Scalar write-back of one tile row: `c = beta c + gamma t` with `beta == 0` not reading `c`.
#[inline(always)]
pub(super) fn update_row<T: Element>(c: &mut [T], t: &[T], gamma: T, beta: T) {
    if beta == T::ZERO {
        for (c, &t) in c.iter_mut().zip(t) {
            *c = gamma * t;
        }
    } else if beta == T::ONE {
        for (c, &t) in c.iter_mut().zip(t) {
            *c += gamma * t;
        }
    } else {
        for (c, &t) in c.iter_mut().zip(t) {
            *c = beta * *c + gamma * t;
        }
    }
}

/// Adds the `rows x cols` block at `(row, col)` of a partial product to the top-left of a
/// row-major scratch tile with row stride `nr`.
///
/// # Safety
/// `tile` holds `rows` rows of `nr >= cols` elements; the block of `x` is valid for reads.
pub(super) unsafe fn add_partial<T: Element>(
    tile: *mut T,
    nr: usize,
    rows: usize,
    cols: usize,
    x: &TileDst<T>,
    row: usize,
    col: usize,
) {
    for r in 0..rows {
        for j in 0..cols {
            // SAFETY: inside the scratch tile and inside the partial product (caller's contract).
            unsafe {
                *tile.add(r * nr + j) += *x
                    .ptr
                    .offset((row + r) as isize * x.rs + (col + j) as isize * x.cs)
            };
        }
    }
}

/// Scalar write-back of the top-left `rows x cols` of a row-major `MR x nr` scratch tile into
/// every destination at `(row, col)`, any strides.
///
/// # Safety
/// `tile` holds `rows` rows of `nr` elements; the `rows x cols` block at `(row, col)` of every
/// destination is valid for reads and writes.
pub(super) unsafe fn write_back<T: Element>(
    tile: *const T,
    nr: usize,
    rows: usize,
    cols: usize,
    dsts: &[TileDst<T>],
    row: usize,
    col: usize,
) {
    for d in dsts {
        for r in 0..rows {
            // SAFETY: row r of the scratch tile has nr >= cols elements.
            let t = unsafe { std::slice::from_raw_parts(tile.add(r * nr), cols) };
            // SAFETY: (row + r, col) is inside the destination (caller's contract).
            let base = unsafe {
                d.ptr
                    .offset((row + r) as isize * d.rs + col as isize * d.cs)
            };
            if d.cs == 1 {
                // SAFETY: unit column stride: the row segment is contiguous and inside.
                let c = unsafe { std::slice::from_raw_parts_mut(base, cols) };
                update_row(c, t, d.gamma, d.beta);
            } else {
                for (j, &tj) in t.iter().enumerate() {
                    // SAFETY: element (row + r, col + j) with j < cols is inside.
                    let c = unsafe { &mut *base.offset(j as isize * d.cs) };
                    update_row(std::slice::from_mut(c), &[tj], d.gamma, d.beta);
                }
            }
        }
    }
}
