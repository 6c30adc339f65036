//! Where a product's time goes: timed phases of the recursion and of the packed GEMM, per
//! recursion depth, for the time breakdown in `bench-results/profile.md`.
//!
//! With the `profile` cargo feature, the kernel wraps each phase below in a clock read and adds
//! the elapsed time to a process-wide counter; without it, [`timed`] is the bare call and the
//! counters stay empty ([`enabled`] says which build this is). Clock reads happen per block
//! operation (a leaf product, one operand sum, one scatter, one packed panel), never per element,
//! so a profiling build runs within a few percent of a normal one.
//!
//! Phases nest: a [`Phase::Product`] or [`Phase::Leaf`] call contains the packed GEMM's own
//! [`Phase::PackA`], [`Phase::PackB`] and [`Phase::Micro`] time (recorded at depth 0, since the
//! packed GEMM does not know its depth). With `p > 1` threads the counters add the threads'
//! times, so a breakdown is meant for one-thread runs.

use std::time::Duration;

/// A phase of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// A whole product that does not recurse (the top call or a block below the cutoff).
    Leaf,
    /// One product of the last level through the leaf's product contract (sums in the packing
    /// for the packed GEMM; temporaries for the other leaves).
    Product,
    /// Forming an operand sum `S_r` or `T_r` of an upper level (one pass writing a block).
    Operands,
    /// Adding a product into the further C blocks it feeds (upper levels).
    Scatter,
    /// Zeroing C blocks that the schedule only accumulates into.
    Zero,
    /// The peeled remainders of a level whose dimensions do not divide (leaf GEMMs).
    Fringe,
    /// Packed GEMM: packing (and summing) a panel of A.
    PackA,
    /// Packed GEMM: packing (and summing) a block of B.
    PackB,
    /// Packed GEMM: the micro-kernels over one packed panel and block, C updates included.
    Micro,
}

/// Every phase, in report order: the six of the recursion (disjoint), then the three of the
/// packed GEMM (nested inside them).
pub const PHASES: [Phase; 9] = [
    Phase::Leaf,
    Phase::Product,
    Phase::Operands,
    Phase::Scatter,
    Phase::Zero,
    Phase::Fringe,
    Phase::PackA,
    Phase::PackB,
    Phase::Micro,
];

/// Depths counted separately (deeper ones are added to the last).
pub const MAX_DEPTH: usize = 8;

/// Time and number of calls of one phase at one depth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// The phase.
    pub phase: Phase,
    /// Recursion depth (0: the top call).
    pub depth: usize,
    /// Total time.
    pub time: Duration,
    /// Number of timed calls.
    pub calls: u64,
}

/// True in a build with the `profile` feature (the counters are live).
pub const fn enabled() -> bool {
    cfg!(feature = "profile")
}

#[cfg(feature = "profile")]
mod counters {
    use super::{Phase, MAX_DEPTH, PHASES};
    use std::sync::atomic::{AtomicU64, Ordering};

    const N: usize = PHASES.len() * MAX_DEPTH;
    static NANOS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
    static CALLS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

    fn slot(phase: Phase, depth: usize) -> usize {
        let p = PHASES.iter().position(|&x| x == phase).unwrap_or(0);
        p * MAX_DEPTH + depth.min(MAX_DEPTH - 1)
    }

    pub fn add(phase: Phase, depth: usize, nanos: u64) {
        let i = slot(phase, depth);
        NANOS[i].fetch_add(nanos, Ordering::Relaxed);
        CALLS[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(phase: Phase, depth: usize) -> (u64, u64) {
        let i = slot(phase, depth);
        (
            NANOS[i].load(Ordering::Relaxed),
            CALLS[i].load(Ordering::Relaxed),
        )
    }

    pub fn reset() {
        for x in NANOS.iter().chain(CALLS.iter()) {
            x.store(0, Ordering::Relaxed);
        }
    }
}

/// Runs `f`, adding its time to `phase` at `depth` in a profiling build.
#[inline(always)]
pub(crate) fn timed<R>(phase: Phase, depth: usize, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "profile")]
    {
        let t = std::time::Instant::now();
        let r = f();
        let nanos = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counters::add(phase, depth, nanos);
        r
    }
    #[cfg(not(feature = "profile"))]
    {
        let _ = (phase, depth);
        f()
    }
}

/// Clears the counters.
pub fn reset() {
    #[cfg(feature = "profile")]
    counters::reset();
}

/// The non-empty counters, in [`PHASES`] order then by depth (empty without the feature).
pub fn snapshot() -> Vec<Entry> {
    #[cfg(feature = "profile")]
    {
        let mut v = Vec::new();
        for &phase in &PHASES {
            for depth in 0..MAX_DEPTH {
                let (nanos, calls) = counters::read(phase, depth);
                if calls > 0 {
                    v.push(Entry {
                        phase,
                        depth,
                        time: Duration::from_nanos(nanos),
                        calls,
                    });
                }
            }
        }
        v
    }
    #[cfg(not(feature = "profile"))]
    Vec::new()
}

#[cfg(all(test, feature = "profile"))]
mod tests {
    use super::*;

    #[test]
    fn timed_phases_are_counted_per_depth() {
        // Other tests in this process may add counts meanwhile; look only at a depth the
        // kernel never reaches in tests, and compare before and after.
        let depth = MAX_DEPTH - 1;
        let before = snapshot()
            .into_iter()
            .find(|e| e.phase == Phase::Zero && e.depth == depth)
            .map_or(0, |e| e.calls);
        let x = timed(Phase::Zero, depth + 5, || {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(x, 7);
        let e = snapshot()
            .into_iter()
            .find(|e| e.phase == Phase::Zero && e.depth == depth)
            .expect("the timed call is recorded");
        assert_eq!(e.calls, before + 1);
        assert!(e.time >= Duration::from_millis(2));
    }
}

/// Bytes per second of the kernel's own operand sum, `S = X + Y` for two `n x n` blocks of a
/// `2n`-wide row-major matrix into a dense `n x n` buffer (as an upper recursion level forms its
/// `S_r`), one thread, best of `reps` after one untimed pass. Counted bytes: the two blocks read
/// and `S` written. For cost models; allocates `5 n^2` elements.
pub fn sum_bandwidth<T: super::Element>(n: usize, reps: usize) -> f64 {
    use super::view::{RawMut, RawRef};
    let n = n.max(1);
    let big = vec![T::ONE; 4 * n * n];
    let mut s = vec![T::ZERO; n * n];
    let block = |off: usize| RawRef {
        ptr: big.as_ptr().wrapping_add(off),
        rows: n,
        cols: n,
        rs: 2 * n as isize,
        cs: 1,
    };
    let (x, y) = (block(0), block(2 * n * n + n));
    let dst = RawMut {
        ptr: s.as_mut_ptr(),
        rows: n,
        cols: n,
        rs: n as isize,
        cs: 1,
    };
    let mut best = f64::INFINITY;
    for i in 0..=reps.max(1) {
        let t = std::time::Instant::now();
        // SAFETY: x and y are disjoint n x n blocks inside `big` (rows of 2n, offsets 0 and
        // 2n^2 + n); `dst` is all of `s`, which nothing else accesses.
        unsafe { super::simd::combine(super::Isa::selected(), dst, false, &[(x, 1), (y, 1)], 1) };
        if i > 0 {
            best = best.min(t.elapsed().as_secs_f64());
        }
    }
    std::hint::black_box(&s);
    3.0 * (n * n * std::mem::size_of::<T>()) as f64 / best
}
