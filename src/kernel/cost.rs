//! The cost model an [`Engine`](super::Engine) with several candidate schemes uses to choose, at
//! every node of the recursion, one scheme's level or the leaf GEMM.
//!
//! # The rule
//! An engine carries candidate plans ([`Engine::with_schemes`](super::Engine::with_schemes),
//! [`Engine::learned_schemes`](super::Engine::learned_schemes)). At a node `m x k x n` the
//! candidates whose level the cutoff rule allows ([`super::policy::level_allowed`]: every block at
//! least `cutoff`, fewer than `max_levels` levels above) compete with the leaf GEMM on the whole
//! product, and the smallest estimated time wins (ties, within a relative [`TIE_MARGIN`]: the
//! leaf, then the earlier candidate):
//!
//! ```text
//! leaf(m, k, n)  = CALL_OVERHEAD + 2 m k n / (rate(dtype, leaf) * e(m) e(k) e(n))
//! e(d)           = d / (d + HALF_RATE_DIM)
//! level(plan)    = rank * best(mb, kb, nb)                 the products, each decided the same way
//!                + addition_bytes(plan, mb, kb, nb) / BANDWIDTH
//!                + leaf(peeled remainders)                 what does not divide: m - m0 mb, ...
//! best(m, k, n)  = min(leaf(m, k, n), level(plan) for every allowed plan)
//! ```
//!
//! with `mb = m / m0` etc. (integer division). The addition traffic of a level, in blocks of
//! `mb x kb` (A side), `kb x nb` (B side) and `mb x nb` (C side) elements of `size_of::<T>()`
//! bytes, follows what the kernel does:
//! * a level whose products recurse or go to a classical leaf forms each `S_r` with more than
//!   one term explicitly (read its terms, write it once: `|u_r| + 1` passes; a single term costs
//!   nothing), the same for `T_r`, and spends the schedule's C passes
//!   ([`Schedule::c_passes`](crate::plan::Schedule::c_passes), the overwrite schedule);
//! * the last level with the packed GEMM ([`Leaf::Fused`]) forms the sums while packing, so it
//!   pays only the extra term reads (`|u_r| - 1`, `|v_r| - 1`) and a read and a write of C for
//!   every output beyond a product's first (`2 (|w_r| - 1)`).
//!
//! Threads are not modelled (a level's gain is a ratio of times, which the thread count scales
//! alike), nor caches beyond the efficiency `e(d)` of small dimensions.
//!
//! A level's products are priced both ways, as leaf products (with the packed GEMM, the level's
//! additions then fused) and as levels again (their own best, the level's additions explicit),
//! and the cheaper counts. The decision is a dynamic program over the node shapes reachable from
//! the root (quotients of `m`, `k`, `n` by products of the grids' dimensions, a few dozen for
//! realistic cutoffs), computed once per call before the recursion starts. All nodes at one
//! depth have the same shape, so the result is one plan per depth (the chain), which every node
//! looks up: the workspace sizing, the recursion and the thread split follow the same choices.
//!
//! # Constants
//! The named constants are the defaults of [`CostModel`]; the lead can calibrate them by
//! measurement and set them with [`Engine::cost_model`](super::Engine::cost_model).
//! [`BANDWIDTH`] and [`HALF_RATE_DIM`] were fitted to the measurements behind the built-in
//! cutoffs ([`super::policy::builtin_cutoff`]): with them one fused Strassen level breaks even
//! on 2048^3 in f32 (1024-blocks, measured: -3% to +3%) and gains about 6% on 4096^3 (measured
//! 5-10%), and in f64 gains about 2% with 1024-blocks (measured 2-8%).

use super::policy::level_allowed;
use super::Leaf;
use crate::plan::Plan;
use std::collections::HashMap;
use std::sync::Arc;

/// Default f32 leaf GEMM rate, flop/s: OpenBLAS sgemm on 8192^3 here takes 5.5 s (about
/// 200 GFLOP/s) and the packed GEMM alone runs at 1.04x of it (`DESIGN.md`, measured 2026-12-02).
pub const GEMM_FLOPS_F32: f64 = 200e9;
/// Default f64 leaf GEMM rate, flop/s: OpenBLAS dgemm on 8192^3 takes about 11.8 s (93 GFLOP/s).
pub const GEMM_FLOPS_F64: f64 = 90e9;
/// Default memory bandwidth the additions run at, bytes/s (effective, one core; fitted, see the
/// module documentation).
pub const BANDWIDTH: f64 = 8e9;
/// A dimension `d` of a leaf product runs at `d / (d + HALF_RATE_DIM)` of the peak rate (thin
/// and small products are slower: packing, edges, fewer reuses of a panel).
pub const HALF_RATE_DIM: f64 = 8.0;
/// Fixed time of one leaf call, seconds.
pub const CALL_OVERHEAD: f64 = 2e-6;
/// matrixmultiply's rate relative to the packed GEMM (0.78x of OpenBLAS at 8192 in f32 against
/// the packed GEMM's 1.04x, `DESIGN.md`).
pub const MATRIXMULTIPLY_RATE: f64 = 0.75;

/// The constants of the model (see the module documentation for the formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// Leaf GEMM rate in f32, flop/s ([`GEMM_FLOPS_F32`]).
    pub gemm_flops_f32: f64,
    /// Leaf GEMM rate in f64, flop/s ([`GEMM_FLOPS_F64`]).
    pub gemm_flops_f64: f64,
    /// Bandwidth of the additions, bytes/s ([`BANDWIDTH`]); `f64::INFINITY` makes additions free.
    pub bandwidth: f64,
    /// Half-rate dimension of a leaf product ([`HALF_RATE_DIM`]).
    pub half_rate_dim: f64,
    /// Seconds per leaf call ([`CALL_OVERHEAD`]).
    pub call_overhead: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            gemm_flops_f32: GEMM_FLOPS_F32,
            gemm_flops_f64: GEMM_FLOPS_F64,
            bandwidth: BANDWIDTH,
            half_rate_dim: HALF_RATE_DIM,
            call_overhead: CALL_OVERHEAD,
        }
    }
}

/// Bytes of an element of `dtype` (`"f32"` or `"f64"`).
fn elem_bytes(dtype: &str) -> f64 {
    if dtype == "f64" {
        8.0
    } else {
        4.0
    }
}

impl CostModel {
    /// Checks that every constant is a positive number (the bandwidth may be infinite).
    pub fn validate(&self) -> Result<(), String> {
        let finite = [
            ("gemm_flops_f32", self.gemm_flops_f32),
            ("gemm_flops_f64", self.gemm_flops_f64),
        ];
        for (name, x) in finite {
            if !(x.is_finite() && x > 0.0) {
                return Err(format!(
                    "cost model: {name} = {x} must be positive and finite"
                ));
            }
        }
        if self.bandwidth.is_nan() || self.bandwidth <= 0.0 {
            return Err(format!(
                "cost model: bandwidth = {} must be positive",
                self.bandwidth
            ));
        }
        for (name, x) in [
            ("half_rate_dim", self.half_rate_dim),
            ("call_overhead", self.call_overhead),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(format!(
                    "cost model: {name} = {x} must be non-negative and finite"
                ));
            }
        }
        Ok(())
    }

    /// Estimated seconds of one leaf GEMM `m x k x n` (0 for an empty product).
    pub fn leaf_seconds(&self, dtype: &str, leaf: Leaf, m: usize, k: usize, n: usize) -> f64 {
        if m == 0 || k == 0 || n == 0 {
            return 0.0;
        }
        let peak = if dtype == "f64" {
            self.gemm_flops_f64
        } else {
            self.gemm_flops_f32
        };
        let lib = match leaf {
            Leaf::MatrixMultiply => MATRIXMULTIPLY_RATE,
            _ => 1.0,
        };
        let e = |d: usize| d as f64 / (d as f64 + self.half_rate_dim);
        let rate = peak * lib * e(m) * e(k) * e(n);
        self.call_overhead + 2.0 * m as f64 * k as f64 * n as f64 / rate
    }

    /// Bytes one level of `plan` with blocks `mb x kb x nb` moves for its additions; `fused` is
    /// true for the last level with the packed GEMM (the sums formed while packing).
    pub fn addition_bytes(
        &self,
        dtype: &str,
        plan: &Plan,
        (mb, kb, nb): (usize, usize, usize),
        fused: bool,
    ) -> f64 {
        let d = plan.data();
        let (a_blk, b_blk, c_blk) = ((mb * kb) as f64, (kb * nb) as f64, (mb * nb) as f64);
        let passes = |len: usize| if len > 1 { len + 1 } else { 0 };
        let (a, b, c) = if fused {
            let extra = |t: &[crate::plan::Term]| t.len().saturating_sub(1);
            (
                d.a_terms.iter().map(|t| extra(t)).sum::<usize>(),
                d.b_terms.iter().map(|t| extra(t)).sum::<usize>(),
                2 * d.c_terms.iter().map(|t| extra(t)).sum::<usize>(),
            )
        } else {
            (
                d.a_terms.iter().map(|t| passes(t.len())).sum::<usize>(),
                d.b_terms.iter().map(|t| passes(t.len())).sum::<usize>(),
                plan.schedule(true).c_passes,
            )
        };
        elem_bytes(dtype) * (a as f64 * a_blk + b as f64 * b_blk + c as f64 * c_blk)
    }

    /// Estimated seconds of the leaf GEMMs on the remainders of `m x k x n` that a level with
    /// grid `(m0, k0, n0)` does not cover (the kernel's dynamic peeling).
    pub fn peel_seconds(
        &self,
        dtype: &str,
        leaf: Leaf,
        (m0, k0, n0): (usize, usize, usize),
        (m, k, n): (usize, usize, usize),
    ) -> f64 {
        let (mc, kc, nc) = (m / m0 * m0, k / k0 * k0, n / n0 * n0);
        self.leaf_seconds(dtype, leaf, mc, k - kc, nc)
            + self.leaf_seconds(dtype, leaf, mc, k, n - nc)
            + self.leaf_seconds(dtype, leaf, m - mc, k, n)
    }

    /// Estimated seconds of one level of `plan` on `m x k x n` whose products each take
    /// `child_seconds`; `child_is_leaf` says whether they are leaf products (then the packed GEMM
    /// fuses the additions).
    #[allow(clippy::too_many_arguments)]
    pub fn level_seconds(
        &self,
        dtype: &str,
        leaf: Leaf,
        plan: &Plan,
        (m, k, n): (usize, usize, usize),
        child_seconds: f64,
        child_is_leaf: bool,
    ) -> f64 {
        let (m0, k0, n0) = plan.dims();
        let blocks = (m / m0, k / k0, n / n0);
        let fused = child_is_leaf && leaf == Leaf::Fused;
        plan.rank() as f64 * child_seconds
            + self.addition_bytes(dtype, plan, blocks, fused) / self.bandwidth
            + self.peel_seconds(dtype, leaf, (m0, k0, n0), (m, k, n))
    }
}

/// A level must beat the best choice so far by more than this relative margin, so that ties
/// (a classical scheme against the leaf, `<2,2,4;14>` against two Strassen levels) do not
/// depend on the rounding of the estimates: they go to the leaf, then to the earlier candidate.
pub const TIE_MARGIN: f64 = 1e-9;

/// The levels the model chose for one root: the plan and the shape of each level, top first.
///
/// All nodes at one depth of the recursion have the same shape (the children of a node all
/// have its block shape, and the peeled remainders go to the leaf directly), so one plan per
/// depth describes the whole tree.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Table {
    /// `(shape, candidate index)` per depth.
    levels: Vec<((usize, usize, usize), usize)>,
    /// The estimated seconds of the root with these choices.
    pub seconds: f64,
}

impl Table {
    /// The candidate whose level the node `m x k x n` at `depth` runs, or `None` for the leaf.
    /// A node whose shape differs from the chain's at that depth cannot occur in the recursion;
    /// it would get the leaf (which computes it correctly).
    pub fn get(&self, m: usize, k: usize, n: usize, depth: usize) -> Option<usize> {
        match self.levels.get(depth) {
            Some(&(sh, i)) if sh == (m, k, n) => Some(i),
            _ => None,
        }
    }
}

/// The best level for a node shape: its estimated seconds, the candidate, and whether its
/// products recurse (`true`) or are leaf products (`false`).
type Best = Option<(f64, usize, bool)>;

/// Everything the dynamic program needs besides the shape.
pub(crate) struct Chooser<'a> {
    pub model: &'a CostModel,
    pub plans: &'a [Arc<Plan>],
    pub dtype: &'a str,
    pub leaf: Leaf,
    pub cutoff: usize,
    pub max_levels: usize,
}

impl Chooser<'_> {
    /// Decides the levels of the root `m x k x n` (see the module documentation): bottom-up,
    /// the cheapest level for every reachable node shape, each level priced with its products
    /// either as leaves (fused with the packed GEMM) or as levels again; top-down, the chain.
    pub fn table(&self, m: usize, k: usize, n: usize) -> Table {
        let mut memo = HashMap::new();
        let left = levels_left(self.max_levels, 0);
        let leaf = self.model.leaf_seconds(self.dtype, self.leaf, m, k, n);
        let mut t = Table {
            levels: Vec::new(),
            seconds: leaf,
        };
        let mut best = match self.best_level(m, k, n, left, &mut memo) {
            Some(b) if b.0 < leaf * (1.0 - TIE_MARGIN) => Some(b),
            _ => None,
        };
        if let Some(b) = best {
            t.seconds = b.0;
        }
        let (mut sh, mut left) = ((m, k, n), left);
        while let Some((_, i, recurse)) = best {
            t.levels.push((sh, i));
            let (m0, k0, n0) = self.plans[i].dims();
            sh = (sh.0 / m0, sh.1 / k0, sh.2 / n0);
            left = child_left(left);
            best = if recurse {
                self.best_level(sh.0, sh.1, sh.2, left, &mut memo)
            } else {
                None
            };
        }
        t
    }

    /// The cheapest level of any allowed candidate on `m x k x n` with `left` levels allowed,
    /// or `None` when none is allowed.
    fn best_level(
        &self,
        m: usize,
        k: usize,
        n: usize,
        left: usize,
        memo: &mut HashMap<(usize, usize, usize, usize), Best>,
    ) -> Best {
        if let Some(b) = memo.get(&(m, k, n, left)) {
            return *b;
        }
        let mut best: Best = None;
        if left > 0 && m > 0 && k > 0 && n > 0 {
            for (i, plan) in self.plans.iter().enumerate() {
                if !level_allowed(plan, self.cutoff, m, k, n) {
                    continue;
                }
                let (m0, k0, n0) = plan.dims();
                let (mb, kb, nb) = (m / m0, k / k0, n / n0);
                let as_leaves = self.model.level_seconds(
                    self.dtype,
                    self.leaf,
                    plan,
                    (m, k, n),
                    self.model.leaf_seconds(self.dtype, self.leaf, mb, kb, nb),
                    true,
                );
                let mut option = (as_leaves, false);
                if let Some((child, _, _)) = self.best_level(mb, kb, nb, child_left(left), memo) {
                    let as_levels = self.model.level_seconds(
                        self.dtype,
                        self.leaf,
                        plan,
                        (m, k, n),
                        child,
                        false,
                    );
                    if as_levels < as_leaves * (1.0 - TIE_MARGIN) {
                        option = (as_levels, true);
                    }
                }
                if best.is_none_or(|b| option.0 < b.0 * (1.0 - TIE_MARGIN)) {
                    best = Some((option.0, i, option.1));
                }
            }
        }
        memo.insert((m, k, n, left), best);
        best
    }
}

/// Levels allowed at `depth`: `usize::MAX` for no limit.
fn levels_left(max_levels: usize, depth: usize) -> usize {
    if max_levels == usize::MAX {
        usize::MAX
    } else {
        max_levels.saturating_sub(depth)
    }
}

/// Levels allowed below a node with `left` allowed at it.
fn child_left(left: usize) -> usize {
    if left == usize::MAX {
        usize::MAX
    } else {
        left.saturating_sub(1)
    }
}

/// One level of the recursion as an engine runs it (see
/// [`Engine::level_choices`](super::Engine::level_choices)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelChoice {
    /// The scheme's name (an orientation of a shipped scheme is named `name@MxKxN`).
    pub scheme: String,
    /// The scheme's block grid `(m0, k0, n0)`.
    pub grid: (usize, usize, usize),
    /// Rank of the scheme.
    pub rank: usize,
    /// The product shape the level splits.
    pub shape: (usize, usize, usize),
}

impl std::fmt::Display for LevelChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (m0, k0, n0) = self.grid;
        let (m, k, n) = self.shape;
        write!(
            f,
            "{m}x{k}x{n}: {} <{m0},{k0},{n0};{}>",
            self.scheme, self.rank
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans(names: &[&str]) -> Vec<Arc<Plan>> {
        names
            .iter()
            .map(|n| Arc::new(Plan::shipped(n).unwrap()))
            .collect()
    }

    fn chooser<'a>(model: &'a CostModel, plans: &'a [Arc<Plan>], cutoff: usize) -> Chooser<'a> {
        Chooser {
            model,
            plans,
            dtype: "f32",
            leaf: Leaf::Fused,
            cutoff,
            max_levels: usize::MAX,
        }
    }

    #[test]
    fn leaf_time_is_flops_over_rate_plus_overhead() {
        let m = CostModel {
            half_rate_dim: 0.0,
            ..CostModel::default()
        };
        let t = m.leaf_seconds("f32", Leaf::Fused, 1000, 1000, 1000);
        assert!((t - (CALL_OVERHEAD + 2e9 / GEMM_FLOPS_F32)).abs() < 1e-12);
        let t64 = m.leaf_seconds("f64", Leaf::Fused, 1000, 1000, 1000);
        assert!((t64 - (CALL_OVERHEAD + 2e9 / GEMM_FLOPS_F64)).abs() < 1e-12);
        assert_eq!(m.leaf_seconds("f32", Leaf::Fused, 0, 5, 5), 0.0);
        // Small dimensions run slower per flop.
        let d = CostModel::default();
        let per_flop = |s: usize| d.leaf_seconds("f32", Leaf::Fused, s, s, s) / (s * s * s) as f64;
        assert!(per_flop(32) > per_flop(1024));
    }

    #[test]
    fn strassen_addition_bytes_count_the_terms() {
        let m = CostModel::default();
        let p = Plan::shipped("strassen").unwrap();
        // Explicit: S of M1, M2, M5, M6, M7 and T of M1, M3, M4, M6, M7 have two terms (3 passes
        // each); plus the overwrite schedule's C passes.
        let c = p.schedule(true).c_passes as f64;
        let b = m.addition_bytes("f32", &p, (10, 10, 10), false);
        assert_eq!(b, 4.0 * 100.0 * (15.0 + 15.0 + c));
        // Fused: 5 extra A reads, 5 extra B reads, 5 extra outputs (12 C terms over 7 products).
        let f = m.addition_bytes("f64", &p, (10, 20, 30), true);
        assert_eq!(f, 8.0 * (5.0 * 200.0 + 5.0 * 600.0 + 10.0 * 300.0));
    }

    #[test]
    fn peel_costs_nothing_when_the_grid_divides() {
        let m = CostModel::default();
        assert_eq!(
            m.peel_seconds("f32", Leaf::Fused, (3, 3, 3), (81, 27, 9)),
            0.0
        );
        assert!(m.peel_seconds("f32", Leaf::Fused, (3, 3, 3), (82, 27, 9)) > 0.0);
    }

    #[test]
    fn a_cube_divisible_by_3_picks_333_when_its_level_pays_more() {
        let free = CostModel {
            bandwidth: f64::INFINITY,
            ..CostModel::default()
        };
        let ps = plans(&["strassen", "learned-333-23"]);
        // 6144 = 3 * 2048 with cutoff 2048: one level of either (Strassen's blocks 3072 cannot
        // split again), and 27/23 beats 8/7 when additions are free.
        let t = chooser(&free, &ps, 2048).table(6144, 6144, 6144);
        assert_eq!(t.get(6144, 6144, 6144, 0), Some(1));
        assert_eq!(t.get(2048, 2048, 2048, 1), None);
        // One level allowed on 729^3: <3,3,3;23>.
        let mut c = chooser(&free, &ps, 16);
        c.max_levels = 1;
        let t = c.table(729, 729, 729);
        assert_eq!(t.get(729, 729, 729, 0), Some(1));
        // A power of two: two Strassen levels (8/7 squared) beat one <3,3,3> level on 1024^3.
        let t = chooser(&free, &ps, 256).table(1024, 1024, 1024);
        assert_eq!(t.get(1024, 1024, 1024, 0), Some(0));
        assert_eq!(t.get(512, 512, 512, 1), Some(0));
        // With the default (finite) bandwidth the sparser Strassen level wins on 6144^3 f32:
        // <3,3,3;23>'s extra term traffic costs more than its extra 2.6% of products saves.
        let d = CostModel::default();
        let t = chooser(&d, &ps, 2048).table(6144, 6144, 6144);
        assert_eq!(t.get(6144, 6144, 6144, 0), Some(0));
    }

    #[test]
    fn small_products_and_expensive_additions_pick_the_leaf() {
        let ps = plans(&["strassen", "learned-333-23"]);
        let d = CostModel::default();
        // The cutoff allows a level on 192^3, but the additions cost more than the level saves.
        let t = chooser(&d, &ps, 16).table(192, 192, 192);
        assert_eq!(t.get(192, 192, 192, 0), None);
        let slow = CostModel {
            bandwidth: 1.0,
            ..CostModel::default()
        };
        let t = chooser(&slow, &ps, 16).table(8192, 8192, 8192);
        assert_eq!(t.get(8192, 8192, 8192, 0), None);
        // No candidate allowed by the cutoff: the leaf, whatever the model.
        let free = CostModel {
            bandwidth: f64::INFINITY,
            ..CostModel::default()
        };
        let t = chooser(&free, &ps, 4096).table(8191, 8192, 8192);
        assert_eq!(t.get(8191, 8192, 8192, 0), None);
    }

    #[test]
    fn the_decision_is_the_minimum_of_the_formulas() {
        // Cutoff 2000 on 6000^3 allows one level of Strassen (blocks 3000) or <3,3,3> (2000),
        // not of <2,3,4> (1500 columns), and no second level: the choice is the minimum of
        // three formulas.
        for model in [
            CostModel::default(),
            CostModel {
                bandwidth: 2e10,
                ..CostModel::default()
            },
        ] {
            let ps = plans(&["strassen", "learned-333-23", "learned-234-20"]);
            let (m, k, n) = (6000, 6000, 6000);
            let t = chooser(&model, &ps, 2000).table(m, k, n);
            let mut want = (None, model.leaf_seconds("f32", Leaf::Fused, m, k, n));
            for (i, p) in ps.iter().enumerate() {
                if !level_allowed(p, 2000, m, k, n) {
                    assert_eq!(i, 2);
                    continue;
                }
                let (m0, k0, n0) = p.dims();
                let child = model.leaf_seconds("f32", Leaf::Fused, m / m0, k / k0, n / n0);
                let s = model.level_seconds("f32", Leaf::Fused, p, (m, k, n), child, true);
                if s < want.1 {
                    want = (Some(i), s);
                }
            }
            assert_eq!((t.get(m, k, n, 0), t.seconds), want);
            assert!(want.0.is_some());
        }
    }

    #[test]
    fn a_level_whose_products_are_fused_can_beat_a_cheaper_looking_child_level() {
        // f64 4096^3, cutoff 1024: a second Strassen level on 2048^3 is (just) cheaper than the
        // leaf there, but makes the first level's additions explicit; one fused level wins.
        let model = CostModel::default();
        let ps = plans(&["strassen"]);
        let mut c = chooser(&model, &ps, 1024);
        c.dtype = "f64";
        let t = c.table(4096, 4096, 4096);
        let leaf = |d: usize| model.leaf_seconds("f64", Leaf::Fused, d, d, d);
        let level = |d: usize, child: f64, fused: bool| {
            model.level_seconds("f64", Leaf::Fused, &ps[0], (d, d, d), child, fused)
        };
        let one = level(4096, leaf(2048), true);
        let child = level(2048, leaf(1024), true);
        let two = level(4096, child, false);
        assert!(child < leaf(2048));
        assert_eq!(t.seconds, one.min(two));
        assert_eq!(t.get(2048, 2048, 2048, 1).is_some(), two < one);
    }

    #[test]
    fn max_levels_bounds_the_depth_and_keys_the_table() {
        let model = CostModel {
            bandwidth: f64::INFINITY,
            ..CostModel::default()
        };
        let ps = plans(&["strassen"]);
        let mut c = chooser(&model, &ps, 16);
        c.max_levels = 2;
        let t = c.table(4096, 4096, 4096);
        assert_eq!(t.get(4096, 4096, 4096, 0), Some(0));
        assert_eq!(t.get(2048, 2048, 2048, 1), Some(0));
        assert_eq!(t.get(1024, 1024, 1024, 2), None);
        // A shape that is not the chain's at its depth gets the leaf.
        assert_eq!(t.get(2048, 2048, 2048, 0), None);
    }

    #[test]
    fn invalid_constants_are_refused() {
        assert!(CostModel::default().validate().is_ok());
        let bad = CostModel {
            gemm_flops_f32: 0.0,
            ..CostModel::default()
        };
        assert!(bad.validate().is_err());
        let bad = CostModel {
            bandwidth: f64::NAN,
            ..CostModel::default()
        };
        assert!(bad.validate().is_err());
        let free = CostModel {
            bandwidth: f64::INFINITY,
            ..CostModel::default()
        };
        assert!(free.validate().is_ok());
    }
}
