//! How an [`Engine`](super::Engine) decides, per product shape, how many recursion levels to run.
//!
//! # The rule
//! A level of the scheme `<m0,k0,n0>` runs on an `m x k x n` product when every block of its
//! grid is at least `cutoff` in each dimension (`m / m0, k / k0, n / n0 >= cutoff`) and fewer
//! than `max_levels` levels are above it; otherwise the product goes to the leaf GEMM whole.
//! Skinny and small products therefore run the leaf (by default strass's packed GEMM) directly.
//!
//! The cutoff is, first match wins: the engine's explicit [`Engine::cutoff`](super::Engine::cutoff);
//! an entry of the policy for the dtype, leaf and thread count (the nearest thread count of that
//! dtype and leaf; ties go to the smaller); the built-in default for the dtype and leaf
//! ([`builtin_cutoff`]). A policy is plain data: the engine resolves it without I/O, locks or
//! environment reads. [`Policy::builtin`] has no entries; the tuning file's entries come from
//! [`crate::tune::policy`], which [`crate::strassen_mul`] and [`Engine::tuned`](super::Engine::tuned)
//! use.
//!
//! With the built-in cutoff (no explicit cutoff, no policy entry) one more condition may apply:
//! [`builtin_upper_cutoff`]. A level above the last one forms its operand sums and scatters its
//! products in explicit passes over whole blocks, while the last level folds them into the
//! packing; so an upper level needs larger blocks to pay. Where the built-in table has an upper
//! cutoff, the deepest levels are dropped until every level above the last has blocks of at least
//! that size in each dimension ([`upper_levels`]).
//!
//! # Several schemes
//! The rule above is the whole decision for an engine with one scheme (the default). An engine
//! with candidate schemes ([`Engine::learned_schemes`](super::Engine::learned_schemes),
//! [`Engine::with_schemes`](super::Engine::with_schemes)) applies the same rule per candidate
//! ([`level_allowed`]) and lets the cost model of [`super::cost`] choose, per level, among the
//! allowed candidates and the leaf.

use super::Leaf;
use crate::plan::Plan;

/// The cutoff rule for one level of `plan` on an `m x k x n` product (the depth limit aside):
/// the plan splits and every block of its grid is at least `cutoff` in each dimension.
pub fn level_allowed(plan: &Plan, cutoff: usize, m: usize, k: usize, n: usize) -> bool {
    let (m0, k0, n0) = plan.dims();
    plan.splits() && m / m0 >= cutoff && k / k0 >= cutoff && n / n0 >= cutoff
}

/// How many of the levels of `chain` (top first: each level's plan and the shape it splits, as
/// the recursion runs them with one cutoff) to keep so that every level above the last has
/// blocks of at least `upper` in each dimension. The blocks shrink level by level, so the
/// deepest kept upper level decides.
pub fn upper_levels(chain: &[(&Plan, (usize, usize, usize))], upper: usize) -> usize {
    let mut keep = chain.len();
    while keep >= 2 {
        let (plan, (m, k, n)) = chain[keep - 2];
        if level_allowed(plan, upper, m, k, n) {
            break;
        }
        keep -= 1;
    }
    keep
}

/// One cutoff for a dtype, leaf and thread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyEntry {
    /// `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// The leaf GEMM.
    pub leaf: Leaf,
    /// Threads the cutoff was measured with.
    pub threads: usize,
    /// Blocks below this in any dimension go to the leaf.
    pub cutoff: usize,
}

/// The cutoffs an engine uses when none is set explicitly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    entries: Vec<PolicyEntry>,
    source: Option<String>,
}

/// Smallest cutoff a policy entry may carry (smaller blocks only lose to the leaf GEMM, and a
/// cutoff of 1 would recurse down to scalars).
pub const MIN_POLICY_CUTOFF: usize = 16;

impl Policy {
    /// The built-in cutoffs only (no entries).
    pub fn builtin() -> Policy {
        Policy::default()
    }

    /// Adds (or replaces) an entry; a cutoff below [`MIN_POLICY_CUTOFF`] or zero threads is
    /// refused with a message.
    pub fn with_entry(mut self, e: PolicyEntry) -> Result<Policy, String> {
        if e.cutoff < MIN_POLICY_CUTOFF {
            return Err(format!(
                "cutoff {} for {} / {:?} / {} threads is below the minimum {MIN_POLICY_CUTOFF}",
                e.cutoff, e.dtype, e.leaf, e.threads
            ));
        }
        if e.threads == 0 {
            return Err("a policy entry needs at least one thread".into());
        }
        self.entries
            .retain(|x| (x.dtype, x.leaf, x.threads) != (e.dtype, e.leaf, e.threads));
        self.entries.push(e);
        Ok(self)
    }

    /// Records where the entries came from (e.g. the tuning file's path).
    pub fn with_source(mut self, source: impl Into<String>) -> Policy {
        self.source = Some(source.into());
        self
    }

    /// Where the entries came from, if recorded.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The entries.
    pub fn entries(&self) -> &[PolicyEntry] {
        &self.entries
    }

    /// The entry used for this dtype, leaf and thread count, if any.
    pub fn entry(&self, dtype: &str, leaf: Leaf, threads: usize) -> Option<&PolicyEntry> {
        self.entries
            .iter()
            .filter(|e| e.dtype == dtype && e.leaf == leaf)
            .min_by_key(|e| (e.threads.abs_diff(threads), e.threads))
    }

    /// The cutoff for this dtype, leaf and thread count: the entry's, else [`builtin_cutoff`].
    pub fn cutoff(&self, dtype: &str, leaf: Leaf, threads: usize) -> usize {
        self.entry(dtype, leaf, threads)
            .map_or_else(|| builtin_cutoff(dtype, leaf), |e| e.cutoff)
    }

    /// The smallest block of a level above the last one, if any: [`builtin_upper_cutoff`] when
    /// the built-in cutoff applies (no entry for this dtype, leaf and thread count), else `None`
    /// (a measured cutoff alone decides).
    pub fn upper_cutoff(&self, dtype: &str, leaf: Leaf, threads: usize) -> Option<usize> {
        match self.entry(dtype, leaf, threads) {
            Some(_) => None,
            None => builtin_upper_cutoff(dtype, leaf, threads),
        }
    }
}

/// The built-in cutoff for a dtype and leaf. For the packed GEMM (the default leaf) they come
/// from the runs on the development machine (AMD EPYC, Zen 5, one and two threads) collected in
/// `bench-results/variants.md`: in f32, 1024-blocks (two levels at 4096, three at 8192) beat
/// 2048-blocks by 2.0% and 1.5% on average over four runs (one run of the four disagreeing at
/// each size); in f64, one level with 1024-blocks gained 2-8% over the packed GEMM alone on
/// 2048-4097 (`bench-results/shapes.md` of 2026-12-02), and deeper levels are limited by
/// [`builtin_upper_cutoff`]. The matrixmultiply and OpenBLAS values are from the sweep on the
/// earlier development machine (`bench-results/sweep.md`).
///
/// | leaf | f32 | f64 |
/// | --- | ---: | ---: |
/// | packed GEMM ([`Leaf::Fused`], default) | 1024 | 1024 |
/// | matrixmultiply | 1024 | 512 |
/// | OpenBLAS | 2048 | 1024 |
pub fn builtin_cutoff(dtype: &str, leaf: Leaf) -> usize {
    let f64 = dtype == "f64";
    match leaf {
        Leaf::Fused => 1024,
        Leaf::MatrixMultiply => {
            if f64 {
                512
            } else {
                1024
            }
        }
        #[cfg(feature = "openblas")]
        Leaf::OpenBlas => {
            if f64 {
                1024
            } else {
                2048
            }
        }
    }
}

/// The built-in smallest block of a level above the last one (see the module docs), for a
/// dtype, leaf and thread count; `None`: the cutoff alone decides. Only f64 on the packed GEMM
/// with one thread has one, 4096: at 8192^3 two levels (2048-blocks, one explicit level) beat
/// three (a second explicit level on 2048-blocks) in all four runs of `bench-results/variants.md`
/// (by 0.6-3.9%). On two threads, where an upper level runs its products in parallel, one level
/// at 4096 was 21% slower than two (`bench-results/sweep.md`), so there the cutoff alone decides.
pub fn builtin_upper_cutoff(dtype: &str, leaf: Leaf, threads: usize) -> Option<usize> {
    (leaf == Leaf::Fused && dtype == "f64" && threads == 1).then_some(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_thread_count_wins_and_ties_go_down() {
        let e = |threads, cutoff| PolicyEntry {
            dtype: "f32",
            leaf: Leaf::Fused,
            threads,
            cutoff,
        };
        let p = Policy::builtin()
            .with_entry(e(1, 512))
            .unwrap()
            .with_entry(e(4, 2048))
            .unwrap();
        assert_eq!(p.cutoff("f32", Leaf::Fused, 1), 512);
        assert_eq!(p.cutoff("f32", Leaf::Fused, 2), 512);
        assert_eq!(p.cutoff("f32", Leaf::Fused, 3), 2048);
        assert_eq!(p.cutoff("f32", Leaf::Fused, 64), 2048);
        assert_eq!(
            p.cutoff("f64", Leaf::Fused, 1),
            builtin_cutoff("f64", Leaf::Fused)
        );
        assert_eq!(
            p.cutoff("f32", Leaf::MatrixMultiply, 1),
            builtin_cutoff("f32", Leaf::MatrixMultiply)
        );
        assert!(Policy::builtin().with_entry(e(1, 1)).is_err());
        assert!(Policy::builtin().with_entry(e(0, 512)).is_err());
        // An entry for f64 turns the built-in upper cutoff off; without one it applies.
        let f = PolicyEntry {
            dtype: "f64",
            ..e(1, 512)
        };
        assert_eq!(
            Policy::builtin().upper_cutoff("f64", Leaf::Fused, 1),
            Some(4096)
        );
        let pf = Policy::builtin().with_entry(f).unwrap();
        assert_eq!(pf.upper_cutoff("f64", Leaf::Fused, 1), None);
    }

    #[test]
    fn upper_levels_drop_the_deepest_levels_until_upper_blocks_are_large() {
        let p = Plan::compile(&crate::scheme::Scheme::strassen()).unwrap();
        // Shapes the levels split, top first, as one cutoff of 1024 gives for 16384^3.
        let shapes = [16384, 8192, 4096, 2048].map(|s| (s, s, s));
        let chain: Vec<_> = shapes.iter().map(|&s| (&p, s)).collect();
        // The upper levels of 4 split 16384, 8192, 4096: blocks 8192, 4096, 2048.
        assert_eq!(upper_levels(&chain, 4096), 3);
        assert_eq!(upper_levels(&chain, 2048), 4);
        assert_eq!(upper_levels(&chain, 8192), 2);
        // One level has no upper level; none stays none.
        assert_eq!(upper_levels(&chain, 1 << 20), 1);
        assert_eq!(upper_levels(&chain[..1], 1 << 20), 1);
        assert_eq!(upper_levels(&[], 4096), 0);
        // A rectangular level: the smallest block dimension decides.
        let rect = [(&p, (16384, 8192, 16384)), (&p, (8192, 4096, 8192))];
        assert_eq!(upper_levels(&rect, 4096), 2);
        assert_eq!(upper_levels(&rect, 4097), 1);
        assert_eq!(builtin_upper_cutoff("f64", Leaf::Fused, 1), Some(4096));
        assert_eq!(builtin_upper_cutoff("f64", Leaf::Fused, 2), None);
        assert_eq!(builtin_upper_cutoff("f32", Leaf::Fused, 1), None);
        assert_eq!(builtin_upper_cutoff("f64", Leaf::MatrixMultiply, 1), None);
    }
}
