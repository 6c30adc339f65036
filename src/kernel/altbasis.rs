//! Running an alternative-basis scheme ([`AltBasis`]): transform A and B once, run the sparse
//! core recursively, transform the result once.
//!
//! With `L` levels of a `<2,2,2>` core, the largest core `m' x k' x n'` (each dimension rounded
//! down to a multiple of `2^L`) runs as:
//!
//! 1. `A~ = phi^(x)L (A')`, `B~ = psi^(x)L (B')` into workspace (one pass each): the `2^L x 2^L`
//!    grid of leaf blocks is mixed by `phi` (`psi`) at every level, each level's 2x2 sub-blocks
//!    being the entries of the scheme's `vec(A)` (row-major);
//! 2. `C~ = alpha core(A~, B~)`: the ordinary recursion ([`super::recurse`]) with the core's plan
//!    and exactly `L` levels (every block divides, so nothing is peeled inside);
//! 3. `C' = nu^(x)L (C~) + C'` (or overwritten when `beta == 0`) in one pass;
//! 4. the peeled remainders (`k - k'` columns of A, the last `n - n'` columns and `m - m'` rows
//!    of C) classically from the original A and B with leaf GEMMs, as the recursion peels.
//!
//! Because the maps are linear and applied per level, this equals running the composed scheme
//! `(U' phi, V' psi, nu W')` at every level, which [`AltBasis::new`] verified exactly.
//!
//! The transforms run on one thread; the recursion and the leaves use all of the engine's.

use super::leaf;
use super::profile::{timed, Phase};
use super::recurse::Ctx;
use super::view::{RawMut, RawRef};
use super::workspace::{padded, take};
use super::{Element, KernelError};
use crate::scheme::altbasis::AltBasis;

/// A basis map of one level's 2x2 blocks, as `f64`-free integer rows.
type Map = [[i64; 4]; 4];

/// The three maps of a `<2,2,2>` alternative basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Maps {
    phi: Map,
    psi: Map,
    nu: Map,
}

impl Maps {
    /// The maps of `b`, or an error unless it is `<2,2,2>`.
    pub fn of(b: &AltBasis) -> Result<Maps, KernelError> {
        if b.dims() != (2, 2, 2) {
            return Err(KernelError::Option(format!(
                "alternative basis {:?}: the kernel runs <2,2,2> alternative bases only",
                b.dims()
            )));
        }
        let conv = |x: &[Vec<i64>]| -> Map {
            let mut m = [[0i64; 4]; 4];
            for (i, row) in x.iter().enumerate() {
                for (j, &c) in row.iter().enumerate() {
                    m[i][j] = c;
                }
            }
            m
        };
        Ok(Maps {
            phi: conv(b.phi()),
            psi: conv(b.psi()),
            nu: conv(b.nu()),
        })
    }
}

/// The core `(m', k', n')` of an `m x k x n` product with `levels` levels.
pub(crate) fn core_dims(m: usize, k: usize, n: usize, levels: usize) -> (usize, usize, usize) {
    let r = |d: usize| (d >> levels) << levels;
    (r(m), r(k), r(n))
}

/// Workspace elements [`gemm`] needs: the three transformed matrices and the recursion's own.
pub(crate) fn ws_len<T>(ctx: &Ctx<'_>, m: usize, k: usize, n: usize, threads: usize) -> usize {
    let (mc, kc, nc) = core_dims(m, k, n, ctx.levels(m, k, n));
    padded::<T>(mc * kc)
        + padded::<T>(kc * nc)
        + padded::<T>(mc * nc)
        + ctx.ws_len::<T>(mc, kc, nc, 0, threads)
}

/// How a transform writes its destination.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Overwrite,
    Accumulate,
}

/// `dst = map^(x)L (src)` (or `dst += ...`): `src` and `dst` are `2^L bm x 2^L bn` views, their
/// `2^L x 2^L` grids of `bm x bn` blocks mixed by `map` at each of the `levels` levels (the
/// top level's sub-block indices are the most significant bits of the grid position).
///
/// # Safety
/// The views are valid, `dst`'s elements are distinct, disjoint from `src`, and nothing else
/// accesses them meanwhile.
unsafe fn transform<T: Element>(
    map: &Map,
    levels: usize,
    src: RawRef<T>,
    dst: RawMut<T>,
    write: Write,
) {
    let g = 1usize << levels;
    let (bm, bn) = (src.rows / g, src.cols / g);
    if bm == 0 || bn == 0 {
        return;
    }
    let blocks = g * g;
    // Chunk of columns gathered per block: keep the gather buffer small (in L1/L2).
    let ch = (16384 / blocks).clamp(1, 256).min(bn);
    let mut buf = vec![T::ZERO; blocks * ch];
    let coef: Vec<[T; 4]> = map
        .iter()
        .map(|row| [0, 1, 2, 3].map(|j| T::from_i64(row[j])))
        .collect();
    for y in 0..bm {
        let mut x0 = 0;
        while x0 < bn {
            let w = ch.min(bn - x0);
            // Gather: block (gr, gc) -> buf[(gr * g + gc) * ch ..][..w].
            for gr in 0..g {
                for gc in 0..g {
                    let slot = &mut buf[(gr * g + gc) * ch..][..w];
                    let r = (gr * bm + y) as isize;
                    let c0 = (gc * bn + x0) as isize;
                    for (x, v) in slot.iter_mut().enumerate() {
                        // SAFETY: (r, c0 + x) is inside src.
                        *v = unsafe { *src.ptr.offset(r * src.rs + (c0 + x as isize) * src.cs) };
                    }
                }
            }
            // One 2x2 mix per level and per group of four blocks differing in that level's bits.
            for d in 0..levels {
                let bit = levels - 1 - d;
                for gr in 0..g {
                    for gc in 0..g {
                        if (gr >> bit) & 1 == 1 || (gc >> bit) & 1 == 1 {
                            continue;
                        }
                        let idx = [
                            gr * g + gc,
                            gr * g + (gc | 1 << bit),
                            (gr | 1 << bit) * g + gc,
                            (gr | 1 << bit) * g + (gc | 1 << bit),
                        ];
                        for x in 0..w {
                            let v = idx.map(|i| buf[i * ch + x]);
                            for (o, c) in coef.iter().enumerate() {
                                buf[idx[o] * ch + x] =
                                    c[0] * v[0] + c[1] * v[1] + c[2] * v[2] + c[3] * v[3];
                            }
                        }
                    }
                }
            }
            // Scatter back.
            for gr in 0..g {
                for gc in 0..g {
                    let slot = &buf[(gr * g + gc) * ch..][..w];
                    let r = (gr * bm + y) as isize;
                    let c0 = (gc * bn + x0) as isize;
                    for (x, &v) in slot.iter().enumerate() {
                        // SAFETY: (r, c0 + x) is inside dst.
                        let p = unsafe { dst.ptr.offset(r * dst.rs + (c0 + x as isize) * dst.cs) };
                        // SAFETY: as above; dst is ours.
                        unsafe {
                            *p = match write {
                                Write::Overwrite => v,
                                Write::Accumulate => *p + v,
                            }
                        };
                    }
                }
            }
            x0 += w;
        }
    }
}

/// `C = alpha A B (+ C unless ow)` with the alternative basis `maps` (see the module
/// documentation); `ctx` holds the core's plan and the recursion's options, and the product
/// runs at least one level.
///
/// # Safety
/// As [`Ctx::gemm`]: the views are valid, C's elements are distinct and disjoint from A, B and
/// `ws`, nothing else accesses C meanwhile; `ws` holds at least [`ws_len`] elements.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm<T: Element>(
    ctx: &Ctx<'_>,
    maps: &Maps,
    alpha: T,
    a: RawRef<T>,
    b: RawRef<T>,
    ow: bool,
    c: RawMut<T>,
    ws: &mut [T],
    threads: usize,
) -> Result<(), KernelError> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let levels = ctx.levels(m, k, n);
    let (mc, kc, nc) = core_dims(m, k, n, levels);
    let core_ctx = Ctx {
        plans: ctx.plans,
        table: None,
        cutoff: ctx.cutoff,
        max_levels: levels,
        leaf: ctx.leaf,
        variant: ctx.variant,
        isa: ctx.isa,
    };
    let mut ws = ws;
    let a_buf = take(&mut ws, mc * kc)?.as_mut_ptr();
    let b_buf = take(&mut ws, kc * nc)?.as_mut_ptr();
    let c_buf = take(&mut ws, mc * nc)?.as_mut_ptr();
    let dense = |ptr: *mut T, rows: usize, cols: usize| RawMut {
        ptr,
        rows,
        cols,
        rs: cols as isize,
        cs: 1,
    };
    let (at, bt, ct) = (
        dense(a_buf, mc, kc),
        dense(b_buf, kc, nc),
        dense(c_buf, mc, nc),
    );
    let beta = if ow { T::ZERO } else { T::ONE };
    // SAFETY: (all below) the buffers are disjoint parts of the workspace; the pieces of C are
    // disjoint; forwarded contract otherwise.
    unsafe {
        timed(Phase::Operands, 0, || {
            transform(
                &maps.phi,
                levels,
                a.block(0, 0, mc, kc),
                at,
                Write::Overwrite,
            );
            transform(
                &maps.psi,
                levels,
                b.block(0, 0, kc, nc),
                bt,
                Write::Overwrite,
            );
        });
        core_ctx.gemm(0, alpha, at.as_ref(), bt.as_ref(), true, ct, ws, threads)?;
        let write = if ow {
            Write::Overwrite
        } else {
            Write::Accumulate
        };
        timed(Phase::Scatter, 0, || {
            transform(&maps.nu, levels, ct.as_ref(), c.block(0, 0, mc, nc), write)
        });
        let lg = |alpha, a, b, beta, c| {
            timed(Phase::Fringe, 0, || {
                leaf::gemm(ctx.leaf, alpha, a, b, beta, c, threads)
            })
        };
        if kc < k {
            lg(
                alpha,
                a.block(0, kc, mc, k - kc),
                b.block(kc, 0, k - kc, nc),
                T::ONE,
                c.block(0, 0, mc, nc),
            )?;
        }
        if nc < n {
            lg(
                alpha,
                a.block(0, 0, mc, k),
                b.block(0, nc, k, n - nc),
                beta,
                c.block(0, nc, mc, n - nc),
            )?;
        }
        if mc < m {
            lg(
                alpha,
                a.block(mc, 0, m - mc, k),
                b,
                beta,
                c.block(mc, 0, m - mc, n),
            )?;
        }
    }
    Ok(())
}
