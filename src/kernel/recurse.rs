//! The recursive driver: splits strided views by the plan's block grid, peels what does not
//! divide, runs the plan's schedule with temporaries from the workspace, and ends in leaf GEMMs.
//! It knows nothing about SIMD (it calls [`simd`](super::simd)'s linear combinations) and nothing
//! about particular schemes (it follows the [`Plan`]).
//!
//! # Shapes
//! A level applies to an `m x k x n` product when every block of the scheme's `<m0,k0,n0>` grid
//! would be at least `cutoff` in each dimension (`m / m0, k / k0, n / n0 >= cutoff`) and fewer than
//! `max_levels` levels are above it. The largest divisible core `(m0 mb) x (k0 kb) x (n0 nb)` runs
//! through the level; the thin remainders are fixed up classically with leaf GEMMs (dynamic
//! peeling): `C11 += A12 B21` for the leftover k, then the leftover columns and rows of C.
//!
//! # Threads
//! With `p > 1` threads a level runs its products breadth-first: the steps that do not
//! accumulate into C through the leaf (phase 1) go to `p` workers, each with its own slice of the
//! workspace and taking the next step when it finishes one, as many as make a multiple of `p`;
//! the leftover steps then run one after another on all `p` threads (their own levels again breadth-first, or
//! their leaves split into slabs). Scatters follow in schedule order; then the accumulating steps
//! (phase 2), grouped into chains per C block, are dealt out the same way. Every floating-point
//! operation happens with the same operands in the same order as on one thread, so the result
//! does not depend on `p`.
//!
//! # Workspace
//! One thread: each level takes one temporary for S (`mb x kb`), one for T (`kb x nb`) and, if the
//! schedule needs it, one for a product (`mb x nb`), then hands the rest to the level below. For a
//! square `n x n` product with a 2x2 scheme that is `3 (n/2)^2 (1 + 1/4 + 1/16 + ...) < n^2`
//! elements: less than C. With `p` threads a level keeps one product temporary per
//! temporary-bound step and gives each worker its own one-thread workspace; for Strassen with
//! `p = 2` at the top that is about `2 (n/2)^2 + 2 (3 (n/2)^2 + (n/2)^2) = 2.5 n^2` elements.

use super::cost::Table;
use super::leaf;
use super::policy::level_allowed;
use super::profile::{timed, Phase};
use super::simd::{self, Isa};
use super::view::{RawMut, RawRef};
use super::workspace::{padded, take};
use super::{Element, KernelError, Leaf, Variant};
use crate::plan::{Dest, Plan, Schedule, Step, Term};
use rayon::prelude::*;
use std::sync::Arc;

/// Everything one product call needs besides its operands.
pub(crate) struct Ctx<'p> {
    /// The candidate plans (at least one).
    pub plans: &'p [Arc<Plan>],
    /// The cost model's choice per node (see [`super::cost`]); `None`: the cutoff rule with
    /// `plans[0]` at every level.
    pub table: Option<Table>,
    pub cutoff: usize,
    pub max_levels: usize,
    pub leaf: Leaf,
    /// How the last level forms its operands and outputs.
    pub variant: Variant,
    pub isa: Isa,
}

/// The block views of one level.
#[derive(Clone, Copy)]
struct Blocks<T> {
    a: RawRef<T>,
    b: RawRef<T>,
    c: RawMut<T>,
    mb: usize,
    kb: usize,
    nb: usize,
    k0: usize,
    n0: usize,
}

impl<T> Blocks<T> {
    fn a(&self, i: usize) -> RawRef<T> {
        self.a.block(
            (i / self.k0) * self.mb,
            (i % self.k0) * self.kb,
            self.mb,
            self.kb,
        )
    }
    fn b(&self, i: usize) -> RawRef<T> {
        self.b.block(
            (i / self.n0) * self.kb,
            (i % self.n0) * self.nb,
            self.kb,
            self.nb,
        )
    }
    fn c(&self, i: usize) -> RawMut<T> {
        self.c.block(
            (i / self.n0) * self.mb,
            (i % self.n0) * self.nb,
            self.mb,
            self.nb,
        )
    }
}

/// Calls `f` with the (non-empty) `terms` mapped to views, without allocating for up to 16 terms.
fn with_views<V: Copy, R>(
    terms: &[Term],
    view: impl Fn(usize) -> V,
    f: impl FnOnce(&[(V, i64)]) -> R,
) -> R {
    const STACK: usize = 16;
    if terms.len() <= STACK {
        let mut arr = [(view(terms[0].block), 0i64); STACK];
        for (slot, t) in arr.iter_mut().zip(terms) {
            *slot = (view(t.block), t.coeff);
        }
        f(&arr[..terms.len()])
    } else {
        let v: Vec<(V, i64)> = terms.iter().map(|t| (view(t.block), t.coeff)).collect();
        f(&v)
    }
}

impl Ctx<'_> {
    /// The plan whose level an `m x k x n` product at `depth` runs, or `None` for the leaf. The
    /// children of a node all have the same shape and depth, so they all make the same choice.
    pub fn plan_at(&self, m: usize, k: usize, n: usize, depth: usize) -> Option<&Plan> {
        if depth >= self.max_levels || m == 0 || k == 0 || n == 0 {
            return None;
        }
        match &self.table {
            None => {
                let p = &*self.plans[0];
                level_allowed(p, self.cutoff, m, k, n).then_some(p)
            }
            Some(t) => t.get(m, k, n, depth).map(|i| &*self.plans[i]),
        }
    }

    /// Whether an `m x k x n` product at `depth` runs one more level.
    pub fn recurses(&self, m: usize, k: usize, n: usize, depth: usize) -> bool {
        self.plan_at(m, k, n, depth).is_some()
    }

    /// The plans of the levels an `m x k x n` product runs, with the shape each one splits.
    pub fn chain(&self, m: usize, k: usize, n: usize) -> Vec<(&Plan, (usize, usize, usize))> {
        let (mut m, mut k, mut n) = (m, k, n);
        let mut out = Vec::new();
        while let Some(p) = self.plan_at(m, k, n, out.len()) {
            out.push((p, (m, k, n)));
            let (m0, k0, n0) = p.dims();
            (m, k, n) = (m / m0, k / k0, n / n0);
        }
        out
    }

    /// How many levels an `m x k x n` product runs.
    pub fn levels(&self, m: usize, k: usize, n: usize) -> usize {
        self.chain(m, k, n).len()
    }

    /// Workspace elements an `m x k x n` product at `depth` needs on `threads` threads.
    pub fn ws_len<T>(&self, m: usize, k: usize, n: usize, depth: usize, threads: usize) -> usize {
        let Some(plan) = self.plan_at(m, k, n, depth) else {
            return 0;
        };
        let (m0, k0, n0) = plan.dims();
        let (mb, kb, nb) = (m / m0, k / k0, n / n0);
        if self.product_level_at(mb, kb, nb, depth) {
            let tmp = if self.variant == Variant::Packed && needs_temp(plan) {
                padded::<T>(mb * nb)
            } else {
                0
            };
            return leaf::product_ws_len::<T>(self.leaf, mb, kb, nb) + tmp;
        }
        let st = padded::<T>(mb * kb) + padded::<T>(kb * nb);
        let seq_child = self.ws_len::<T>(mb, kb, nb, depth + 1, 1);
        if threads <= 1 {
            let tmp = if needs_temp(plan) {
                padded::<T>(mb * nb)
            } else {
                0
            };
            return st + tmp + seq_child;
        }
        let temps = padded::<T>(max_temps(plan) * padded::<T>(mb * nb));
        let worker = st + seq_child;
        let coop = st + self.ws_len::<T>(mb, kb, nb, depth + 1, threads);
        temps + (threads * worker).max(coop)
    }

    /// `C = alpha A B (+ C unless ow)`: one node of the recursion.
    ///
    /// # Safety
    /// The views are valid, C's elements are distinct and disjoint from A, B and `ws`, and nothing
    /// else accesses C meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm<T: Element>(
        &self,
        depth: usize,
        alpha: T,
        a: RawRef<T>,
        b: RawRef<T>,
        ow: bool,
        c: RawMut<T>,
        ws: &mut [T],
        threads: usize,
    ) -> Result<(), KernelError> {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let beta = if ow { T::ZERO } else { T::ONE };
        if m == 0 || n == 0 {
            return Ok(());
        }
        if k == 0 {
            if ow {
                // SAFETY: forwarded contract.
                unsafe { simd::scale(c, T::ZERO, threads) };
            }
            return Ok(());
        }
        let Some(plan) = self.plan_at(m, k, n, depth) else {
            // SAFETY: forwarded contract.
            return timed(Phase::Leaf, depth, || unsafe {
                leaf::gemm(self.leaf, alpha, a, b, beta, c, threads)
            });
        };
        let (m0, k0, n0) = plan.dims();
        let (mb, kb, nb) = (m / m0, k / k0, n / n0);
        let (mc, kc, nc) = (mb * m0, kb * k0, nb * n0);
        let blk = Blocks {
            a: a.block(0, 0, mc, kc),
            b: b.block(0, 0, kc, nc),
            c: c.block(0, 0, mc, nc),
            mb,
            kb,
            nb,
            k0,
            n0,
        };
        // SAFETY: (all calls below) forwarded contract; the peeled pieces of C are disjoint.
        unsafe {
            if self.product_level_at(mb, kb, nb, depth) {
                self.product_level(plan, depth, alpha, &blk, ow, ws, threads)?;
            } else {
                self.level(plan, depth, alpha, &blk, ow, ws, threads)?;
            }
            if kc < k {
                timed(Phase::Fringe, depth, || {
                    leaf::gemm(
                        self.leaf,
                        alpha,
                        a.block(0, kc, mc, k - kc),
                        b.block(kc, 0, k - kc, nc),
                        T::ONE,
                        blk.c,
                        threads,
                    )
                })?;
            }
            if nc < n {
                timed(Phase::Fringe, depth, || {
                    leaf::gemm(
                        self.leaf,
                        alpha,
                        a.block(0, 0, mc, k),
                        b.block(0, nc, k, n - nc),
                        beta,
                        c.block(0, nc, mc, n - nc),
                        threads,
                    )
                })?;
            }
            if mc < m {
                timed(Phase::Fringe, depth, || {
                    leaf::gemm(
                        self.leaf,
                        alpha,
                        a.block(mc, 0, m - mc, k),
                        b,
                        beta,
                        c.block(mc, 0, m - mc, n),
                        threads,
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Whether this level (children `mb x kb x nb`) runs as a product level
    /// ([`Ctx::product_level`]): it is the last one (its products go to the leaf) and the variant
    /// is not [`Variant::Explicit`].
    fn product_level_at(&self, mb: usize, kb: usize, nb: usize, depth: usize) -> bool {
        self.variant != Variant::Explicit && !self.recurses(mb, kb, nb, depth + 1)
    }

    /// The last level: one call of the leaf's product contract ([`leaf::product`]) per product,
    /// in schedule order, with the product's A and B blocks as operand terms. With
    /// [`Variant::MultiOutput`] every C block the product feeds is an output (overwritten where
    /// the schedule writes the block first); with [`Variant::Packed`] only the schedule's
    /// destination (a C block or a temporary) is, and a scatter pass adds it to the others. The
    /// products run one after another, each on all `threads` threads.
    #[allow(clippy::too_many_arguments)]
    unsafe fn product_level<T: Element>(
        &self,
        plan: &Plan,
        depth: usize,
        alpha: T,
        blk: &Blocks<T>,
        ow: bool,
        ws: &mut [T],
        threads: usize,
    ) -> Result<(), KernelError> {
        let sched = plan.schedule(ow);
        for &z in &sched.zero_blocks {
            // SAFETY: a block of C.
            timed(Phase::Zero, depth, || unsafe {
                simd::scale(blk.c(z), T::ZERO, threads)
            });
        }
        let data = plan.data();
        let packed = self.variant == Variant::Packed;
        let mut ws = ws;
        let m_buf = if packed && needs_temp(plan) {
            take(&mut ws, blk.mb * blk.nb)?.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        let mut outs: Vec<leaf::Out<T>> = Vec::new();
        for step in &sched.steps {
            let r = step.product;
            outs.clear();
            if packed {
                outs.push(match step.dest {
                    Dest::Block {
                        block,
                        coeff,
                        fresh,
                    } => leaf::Out {
                        c: blk.c(block),
                        coeff,
                        overwrite: fresh,
                    },
                    Dest::Temp => leaf::Out {
                        c: leaf::temp_like(m_buf, blk.c(0)),
                        coeff: 1,
                        overwrite: true,
                    },
                });
            } else {
                let fresh = |block: usize| match step.dest {
                    Dest::Block {
                        block: b, fresh, ..
                    } if b == block => fresh,
                    _ => step.scatter.iter().any(|s| s.block == block && s.fresh),
                };
                outs.extend(data.c_terms[r].iter().map(|t| leaf::Out {
                    c: blk.c(t.block),
                    coeff: t.coeff,
                    overwrite: fresh(t.block),
                }));
            }
            // SAFETY: the sources are blocks of A and B, the outputs distinct blocks of C, the
            // workspace is ours.
            unsafe {
                with_views(
                    &data.a_terms[r],
                    |i| blk.a(i),
                    |a| {
                        with_views(
                            &data.b_terms[r],
                            |i| blk.b(i),
                            |b| {
                                timed(Phase::Product, depth + 1, || {
                                    leaf::product(
                                        self.leaf, self.isa, alpha, a, b, &outs, ws, threads,
                                    )
                                })
                            },
                        )
                    },
                )?
            };
            if packed {
                // SAFETY: forwarded contract; m_buf holds the temporary if the step has one.
                unsafe { self.scatter(depth, blk, step, m_buf, threads) };
            }
        }
        Ok(())
    }

    /// One level of `plan` over the divisible core.
    #[allow(clippy::too_many_arguments)]
    unsafe fn level<T: Element>(
        &self,
        plan: &Plan,
        depth: usize,
        alpha: T,
        blk: &Blocks<T>,
        ow: bool,
        ws: &mut [T],
        threads: usize,
    ) -> Result<(), KernelError> {
        let sched = plan.schedule(ow);
        for &z in &sched.zero_blocks {
            // SAFETY: a block of C.
            timed(Phase::Zero, depth, || unsafe {
                simd::scale(blk.c(z), T::ZERO, threads)
            });
        }
        if threads > 1 {
            // SAFETY: forwarded contract.
            return unsafe { self.level_par(plan, depth, alpha, blk, sched, ws, threads) };
        }
        let (mb, kb, nb) = (blk.mb, blk.kb, blk.nb);
        let mut ws = ws;
        let s_buf = take(&mut ws, mb * kb)?.as_mut_ptr();
        let t_buf = take(&mut ws, kb * nb)?.as_mut_ptr();
        let m_buf = if needs_temp(plan) {
            take(&mut ws, mb * nb)?.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        for step in &sched.steps {
            // SAFETY: forwarded contract; the buffers are disjoint parts of the workspace.
            unsafe {
                self.compute(plan, depth, alpha, blk, step, s_buf, t_buf, m_buf, ws, 1)?;
                self.scatter(depth, blk, step, m_buf, 1);
            }
        }
        Ok(())
    }

    /// Phase 1 and phase 2 of a level on `threads` threads (see the module documentation).
    #[allow(clippy::too_many_arguments)]
    unsafe fn level_par<T: Element>(
        &self,
        plan: &Plan,
        depth: usize,
        alpha: T,
        blk: &Blocks<T>,
        sched: &Schedule,
        ws: &mut [T],
        p: usize,
    ) -> Result<(), KernelError> {
        let (mb, kb, nb) = (blk.mb, blk.kb, blk.nb);
        let m_len = padded::<T>(mb * nb);
        let mut ws = ws;
        let temps = take(&mut ws, max_temps(plan) * m_len)?.as_mut_ptr();
        // The temporary of step i of phase 1 (if its destination is a temporary).
        let phase1 = &sched.steps[..sched.phase2_start];
        let mut temp_of = Vec::with_capacity(phase1.len());
        let mut next = 0;
        for s in phase1 {
            if s.dest == Dest::Temp {
                temp_of.push(temps.wrapping_add(next * m_len));
                next += 1;
            } else {
                temp_of.push(std::ptr::null_mut());
            }
        }
        let temp_of: Vec<SendPtr<T>> = temp_of.into_iter().map(SendPtr).collect();
        let worker_len = padded::<T>(mb * kb)
            + padded::<T>(kb * nb)
            + self.ws_len::<T>(mb, kb, nb, depth + 1, 1);

        // Phase 1: products into fresh C blocks or temporaries.
        let tasks1: Vec<Vec<&Step>> = phase1.iter().map(|s| vec![s]).collect();
        let temp_for = |s: &Step| -> *mut T {
            let i = phase1.iter().position(|x| std::ptr::eq(x, s)).unwrap_or(0);
            temp_of[i].0
        };
        // SAFETY: forwarded contract.
        unsafe {
            self.deal(
                plan, depth, alpha, blk, &tasks1, &temp_for, ws, worker_len, p,
            )?
        };
        for (i, step) in phase1.iter().enumerate() {
            // SAFETY: forwarded contract.
            unsafe { self.scatter(depth, blk, step, temp_of[i].0, p) };
        }

        // Phase 2: accumulating products, one chain per C block.
        let mut chains: Vec<Vec<&Step>> = Vec::new();
        for s in &sched.steps[sched.phase2_start..] {
            let Dest::Block { block, .. } = s.dest else {
                return Err(KernelError::Internal(
                    "phase-2 step without a C block".into(),
                ));
            };
            match chains
                .iter_mut()
                .find(|ch| matches!(ch[0].dest, Dest::Block { block: b, .. } if b == block))
            {
                Some(ch) => ch.push(s),
                None => chains.push(vec![s]),
            }
        }
        // SAFETY: forwarded contract.
        unsafe {
            self.deal(
                plan,
                depth,
                alpha,
                blk,
                &chains,
                &|_| std::ptr::null_mut(),
                ws,
                worker_len,
                p,
            )
        }
    }

    /// Runs task lists (each a chain of steps run in order, without scatters): the largest multiple
    /// of `p` of them on `p` workers (each takes the next task when it finishes one), the rest one
    /// by one on all `p` threads.
    #[allow(clippy::too_many_arguments)]
    unsafe fn deal<T: Element>(
        &self,
        plan: &Plan,
        depth: usize,
        alpha: T,
        blk: &Blocks<T>,
        tasks: &[Vec<&Step>],
        temp_for: &(dyn Fn(&Step) -> *mut T + Sync),
        ws: &mut [T],
        worker_len: usize,
        p: usize,
    ) -> Result<(), KernelError> {
        let (mb, kb, nb) = (blk.mb, blk.kb, blk.nb);
        let q = tasks.len() / p * p;
        if q > 0 {
            if ws.len() < p * worker_len {
                return Err(KernelError::Internal(
                    "workspace too small for the workers".into(),
                ));
            }
            // Workers take the next task as they finish one (no worker waits for a slow one; which
            // worker runs a task does not change its result).
            let next = std::sync::atomic::AtomicUsize::new(0);
            ws[..p * worker_len]
                .par_chunks_mut(worker_len.max(1))
                .try_for_each(|mut buf| {
                    let s_buf = take(&mut buf, mb * kb)?.as_mut_ptr();
                    let t_buf = take(&mut buf, kb * nb)?.as_mut_ptr();
                    while let Some(chain) =
                        tasks[..q].get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        for &step in chain {
                            // SAFETY: forwarded contract; each worker has its own buffers and its
                            // steps write C blocks or temporaries no other concurrent step touches.
                            unsafe {
                                self.compute(
                                    plan,
                                    depth,
                                    alpha,
                                    blk,
                                    step,
                                    s_buf,
                                    t_buf,
                                    temp_for(step),
                                    buf,
                                    1,
                                )?
                            };
                        }
                    }
                    Ok::<(), KernelError>(())
                })?;
        }
        for chain in &tasks[q..] {
            let mut buf: &mut [T] = ws;
            let s_buf = take(&mut buf, mb * kb)?.as_mut_ptr();
            let t_buf = take(&mut buf, kb * nb)?.as_mut_ptr();
            for &step in chain {
                // SAFETY: forwarded contract.
                unsafe {
                    self.compute(
                        plan,
                        depth,
                        alpha,
                        blk,
                        step,
                        s_buf,
                        t_buf,
                        temp_for(step),
                        buf,
                        p,
                    )?
                };
            }
        }
        Ok(())
    }

    /// Forms S and T (unless they are single blocks) and computes the product into the step's
    /// destination.
    #[allow(clippy::too_many_arguments)]
    unsafe fn compute<T: Element>(
        &self,
        plan: &Plan,
        depth: usize,
        alpha: T,
        blk: &Blocks<T>,
        step: &Step,
        s_buf: *mut T,
        t_buf: *mut T,
        m_buf: *mut T,
        ws: &mut [T],
        threads: usize,
    ) -> Result<(), KernelError> {
        let data = plan.data();
        let r = step.product;
        // SAFETY: (both) s_buf / t_buf hold mb*kb / kb*nb elements of workspace.
        let (s, sa) = timed(Phase::Operands, depth, || unsafe {
            self.operand(&data.a_terms[r], |i| blk.a(i), s_buf, threads)
        });
        // SAFETY: t_buf holds kb*nb elements of workspace.
        let (t, sb) = timed(Phase::Operands, depth, || unsafe {
            self.operand(&data.b_terms[r], |i| blk.b(i), t_buf, threads)
        });
        let f = sa * sb;
        let (coef, ow, dst) = match step.dest {
            Dest::Block {
                block,
                coeff,
                fresh,
            } => (f * coeff, fresh, blk.c(block)),
            Dest::Temp => (f, true, leaf::temp_like(m_buf, blk.c(0))),
        };
        let alpha = if coef == 1 {
            alpha
        } else {
            alpha * T::from_i64(coef)
        };
        // SAFETY: forwarded contract; dst is a C block or a temporary.
        unsafe { self.gemm(depth + 1, alpha, s, t, ow, dst, ws, threads) }
    }

    /// S (or T): a single block with its coefficient folded into alpha, or a fused linear
    /// combination written once into `buf` ([`leaf::operand`]).
    unsafe fn operand<T: Element>(
        &self,
        terms: &[Term],
        block: impl Fn(usize) -> RawRef<T>,
        buf: *mut T,
        threads: usize,
    ) -> (RawRef<T>, i64) {
        // SAFETY: buf holds one block of workspace; the sources are blocks of A or B.
        with_views(terms, block, |xs| unsafe {
            leaf::operand(self.isa, xs, buf, threads)
        })
    }

    /// Copies a step's product from its destination into the other C blocks it feeds.
    unsafe fn scatter<T: Element>(
        &self,
        depth: usize,
        blk: &Blocks<T>,
        step: &Step,
        m_buf: *mut T,
        threads: usize,
    ) {
        if step.scatter.is_empty() {
            return;
        }
        let src = match step.dest {
            Dest::Block { block, .. } => blk.c(block),
            Dest::Temp => leaf::temp_like(m_buf, blk.c(0)),
        }
        .as_ref();
        const STACK: usize = 16;
        let dst = |s: &crate::plan::Scatter| (blk.c(s.block), s.coeff, !s.fresh);
        if step.scatter.len() <= STACK {
            let first = dst(&step.scatter[0]);
            let mut arr = [first; STACK];
            for (slot, s) in arr.iter_mut().zip(&step.scatter) {
                *slot = dst(s);
            }
            // SAFETY: forwarded contract; the targets are distinct C blocks.
            timed(Phase::Scatter, depth, || unsafe {
                simd::scatter(self.isa, src, &arr[..step.scatter.len()], threads)
            });
        } else {
            let v: Vec<_> = step.scatter.iter().map(dst).collect();
            // SAFETY: as above.
            timed(Phase::Scatter, depth, || unsafe {
                simd::scatter(self.isa, src, &v, threads)
            });
        }
    }
}

/// Whether a level of `plan` needs a product temporary on one thread.
fn needs_temp(plan: &Plan) -> bool {
    max_temps(plan) > 0
}

/// The most product temporaries either schedule of `plan` uses.
fn max_temps(plan: &Plan) -> usize {
    plan.schedule(true).temps.max(plan.schedule(false).temps)
}

/// A raw pointer that may cross threads (it points into the workspace; tasks use disjoint parts).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: see the type's documentation.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendPtr<T> {}
