//! Communication, memory and time formulas: what CAPS and SUMMA send, the lower bounds they
//! are measured against, the memory a CAPS schedule needs, and the cost model behind
//! `--algorithm auto`.
//!
//! All counts are per rank, in elements (multiply by the element size for bytes), on the
//! padded dimensions `m', k', n'` of [`crate::layout`].
//!
//! **CAPS** with `d` DFS steps then `b` BFS steps on `P = 7^b q` ranks. BFS step `j` (0-based)
//! works on sub-problems `M_j x K_j x N_j = (m', k', n') / 2^(d+j)` in groups of
//! `p_j = P / 7^j` ranks, and runs `7^d` times (once per DFS branch). In it a rank keeps one
//! of the seven shares of each of S_1..S_7 and T_1..T_7 and sends the six others, and on the
//! way back sends six of its seven row chunks of its product; each share is `1/(4 p_j)` of the
//! matrix. So
//!
//! `W_caps = sum_{j<b} 7^d * 6 * (M_j K_j + K_j N_j + M_j N_j) / (4 p_j)` elements,
//!
//! plus, when `P = 7^b q` with `q > 1` ranks per leaf, the leaf all-gather of B,
//! `7^d (q - 1) (K_l / q) N_l` with `(K_l, N_l) = (k', n') / 2^(d+b)`. For `q = 1` this
//! is, for square `n` and `d = 0`, `Theta(n^2 / P^(2/w))`, `w = log2 7`: the
//! memory-independent lower bound for Strassen (Ballard, Demmel, Holtz, Lipshitz, Schwartz,
//! SPAA 2012), and with DFS steps it follows the memory-dependent one. `strass-mpi` counts what
//! it actually sends and reports both; they agree exactly (the counter wraps every send).
//!
//! **SUMMA** on a `pr x pc` grid with ring broadcasts (every rank but the last of the ring
//! forwards each panel once):
//!
//! `W_summa = (m'/pr) k' (pc-1)/pc + k' (n'/pc) (pr-1)/pr` elements,
//!
//! the 2D cost, within a constant of the classical lower bound `mnk / (P sqrt(M))` when the
//! memory is `M = Theta(mn/P)`.
//!
//! **Lower bounds** ([`lower_bound_words`]), stated as in the papers, without their constant
//! factors (so they are orders of magnitude to compare shapes of curves, not exact minima), with
//! `n = (mnk)^(1/3)` for rectangles and `M` the memory per rank in elements:
//! classical `max(n^3 / (P sqrt(M)), n^2 / P^(2/3))`, Strassen
//! `max(n^w / (P M^(w/2 - 1)), n^2 / P^(2/w))`.

use serde::Serialize;

/// `log2 7`, Strassen's exponent.
pub const OMEGA: f64 = 2.807_354_922_057_604;

/// A CAPS schedule: `dfs` depth-first steps (all ranks together, one product at a time), then
/// `bfs` breadth-first steps (the ranks split 7 ways), then the local product on each rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// Depth-first steps, taken first.
    pub dfs: u32,
    /// Breadth-first steps (`P = 7^bfs q`, `q` ranks per leaf).
    pub bfs: u32,
}

impl Schedule {
    /// All steps across ranks.
    pub fn levels(&self) -> u32 {
        self.dfs + self.bfs
    }
}

/// Elements one rank sends in CAPS (see the module doc), for padded dimensions.
pub fn caps_words(mp: usize, kp: usize, np: usize, p: usize, s: Schedule) -> u128 {
    let mut w = 0u128;
    let rep = 7u128.pow(s.dfs);
    for j in 0..s.bfs {
        let sh = s.dfs + j;
        let (mj, kj, nj) = ((mp >> sh) as u128, (kp >> sh) as u128, (np >> sh) as u128);
        let pj = (p / 7usize.pow(j)) as u128;
        w += rep * 6 * (mj * kj + kj * nj + mj * nj) / (4 * pj);
    }
    let q = (p / 7usize.pow(s.bfs)) as u128;
    let l = s.levels();
    let (kl, nl) = ((kp >> l) as u128, (np >> l) as u128);
    w + rep * (q - 1) * (kl / q) * nl
}

/// Elements one rank sends in SUMMA (see the module doc), for padded dimensions.
pub fn summa_words(mp: usize, kp: usize, np: usize, pr: usize, pc: usize) -> u128 {
    let (mp, kp, np) = (mp as u128, kp as u128, np as u128);
    let (pr, pc) = (pr as u128, pc as u128);
    (mp / pr) * kp * (pc - 1) / pc + kp * (np / pc) * (pr - 1) / pr
}

/// Peak elements of the buffers a CAPS rank holds (its padded shares of A, B and C and every
/// intermediate, in the order [`crate::caps`] allocates and frees them; the local engine's own
/// workspace is not included).
pub fn caps_memory(mp: usize, kp: usize, np: usize, p: usize, s: Schedule) -> u128 {
    let a = (mp / p * kp) as u128;
    let b = (kp / p * np) as u128;
    let q = p / 7usize.pow(s.bfs);
    a + b + caps_peak(mp / p, kp, kp / p, np, s.dfs, s.bfs, q)
}

/// Peak elements allocated by one CAPS call on local shares `am x ak` (A) and `bk x bn` (B)
/// (the group size only enters through the share sizes), its output included.
fn caps_peak(am: usize, ak: usize, bk: usize, bn: usize, dfs: u32, bfs: u32, q: usize) -> u128 {
    if dfs == 0 && bfs == 0 {
        if q == 1 {
            return (am * bn) as u128;
        }
        // The gathered chunks and all of B, then all of B and C.
        let full = (q * bk * bn) as u128;
        return (2 * full).max(full + (am * bn) as u128);
    }
    let (sa, sb, sc) = (
        (am * ak / 4) as u128,
        (bk * bn / 4) as u128,
        (am * bn / 4) as u128,
    );
    if dfs > 0 {
        let sub = caps_peak(am / 2, ak / 2, bk / 2, bn / 2, dfs - 1, bfs, q);
        4 * sc + sa + sb + sub
    } else {
        let sub = caps_peak(7 * am / 2, ak / 2, 7 * bk / 2, bn / 2, 0, bfs - 1, q);
        (14 * sa)
            .max(7 * sa + 14 * sb)
            .max(7 * sa + 7 * sb + sub)
            .max(14 * sc)
    }
}

/// Peak elements of the buffers a SUMMA rank holds: its padded blocks of A, B, C and one
/// panel of each of A and B.
pub fn summa_memory(mp: usize, kp: usize, np: usize, pr: usize, pc: usize) -> u128 {
    let (bm, bn) = ((mp / pr) as u128, (np / pc) as u128);
    let w = (kp / crate::layout::lcm(pr, pc)) as u128;
    bm * (kp / pc) as u128 + (kp / pr) as u128 * bn + bm * bn + bm * w + w * bn
}

/// The lower bound (order of magnitude, see the module doc) on elements sent per rank; 0 for
/// one rank, which needs no communication.
pub fn lower_bound_words(m: usize, k: usize, n: usize, p: usize, mem: f64, strassen: bool) -> f64 {
    if p <= 1 {
        return 0.0;
    }
    let nn = ((m as f64) * (k as f64) * (n as f64)).cbrt();
    let p = p as f64;
    if strassen {
        let dep = nn.powf(OMEGA) / (p * mem.powf(OMEGA / 2.0 - 1.0));
        dep.max(nn * nn / p.powf(2.0 / OMEGA))
    } else {
        let dep = nn.powi(3) / (p * mem.sqrt());
        dep.max(nn * nn / p.powf(2.0 / 3.0))
    }
}

/// The fewest DFS steps whose CAPS schedule fits `limit_bytes` per rank (`None` if none with
/// at most `max_dfs` does).
#[allow(clippy::too_many_arguments)]
pub fn choose_schedule(
    m: usize,
    k: usize,
    n: usize,
    p: usize,
    elem: usize,
    limit_bytes: u128,
    max_dfs: u32,
) -> Option<(Schedule, u128)> {
    let (bfs, _) = crate::layout::caps_split(p)?;
    (0..=max_dfs).find_map(|dfs| {
        let s = Schedule { dfs, bfs };
        let (mp, kp, np) = crate::layout::caps_padded(m, k, n, p, s.levels());
        let bytes = caps_memory(mp, kp, np, p, s) * elem as u128;
        (bytes <= limit_bytes).then_some((s, bytes))
    })
}

/// The machine model of `--algorithm auto`: time = flops / rate + bytes / bandwidth +
/// messages * latency, per rank, summed over the algorithm's phases (no overlap assumed).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Machine {
    /// Local multiplication speed of one rank, flop/s (classical-equivalent).
    pub flops: f64,
    /// Bytes per second one rank can send.
    pub bandwidth: f64,
    /// Seconds per message.
    pub latency: f64,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            flops: 20e9,
            bandwidth: 5e9,
            latency: 2e-6,
        }
    }
}

/// Modelled seconds of CAPS (padded dims, schedule `s`): the leaf products
/// (`7^l` of size `(m'k'n')/8^l` spread over `P` ranks), the quadrant additions (12 nonzero
/// coefficients in each of U, V, W of Strassen's scheme, per sub-problem), the BFS exchanges
/// ([`caps_words`], 18 messages per BFS step and DFS branch, `q - 1` per leaf all-gather).
pub fn caps_time(
    mp: usize,
    kp: usize,
    np: usize,
    p: usize,
    s: Schedule,
    mc: &Machine,
    elem: usize,
) -> f64 {
    let l = s.levels();
    let (m, k, n) = (mp as f64, kp as f64, np as f64);
    let leaf = 2.0 * m * k * n * (7.0f64 / 8.0).powi(l as i32) / p as f64;
    let mut adds = 0.0;
    for lev in 0..l {
        let f = 0.25 / 4f64.powi(lev as i32);
        adds += 7f64.powi(lev as i32) / p as f64 * 12.0 * f * (m * k + k * n + m * n);
    }
    let words = caps_words(mp, kp, np, p, s) as f64;
    let q = p / 7usize.pow(s.bfs);
    let msgs = 7f64.powi(s.dfs as i32) * (18.0 * s.bfs as f64 + (q - 1) as f64);
    (leaf + adds) / mc.flops + words * elem as f64 / mc.bandwidth + msgs * mc.latency
}

/// Modelled seconds of SUMMA (padded dims): `2m'k'n'/P` flops, [`summa_words`], and per panel a
/// ring broadcast in each grid direction (`pr - 1 + pc - 1` hops of latency).
pub fn summa_time(
    mp: usize,
    kp: usize,
    np: usize,
    pr: usize,
    pc: usize,
    mc: &Machine,
    elem: usize,
) -> f64 {
    let p = (pr * pc) as f64;
    let flops = 2.0 * mp as f64 * kp as f64 * np as f64 / p;
    let words = summa_words(mp, kp, np, pr, pc) as f64;
    let panels = crate::layout::lcm(pr, pc) as f64;
    flops / mc.flops
        + words * elem as f64 / mc.bandwidth
        + panels * (pr + pc - 2) as f64 * mc.latency
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_words_by_hand() {
        // One BFS step on 7 ranks, 14^3: each S, T, M share is 7*7/7 = 7 elements, six sent each.
        let s = Schedule { dfs: 0, bfs: 1 };
        assert_eq!(caps_words(14, 14, 14, 7, s), 6 * 3 * 7);
        // A DFS step first runs the BFS step 7 times on half the size.
        let s2 = Schedule { dfs: 1, bfs: 1 };
        assert_eq!(caps_words(28, 28, 28, 7, s2), 7 * 6 * 3 * 7);
        assert_eq!(caps_words(100, 100, 100, 1, Schedule { dfs: 3, bfs: 0 }), 0);
        // Two ranks per leaf, no BFS step: each sends its half of B once.
        assert_eq!(
            caps_words(8, 10, 12, 2, Schedule { dfs: 0, bfs: 0 }),
            10 / 2 * 12
        );
        // 14 ranks: one BFS step (on 14 ranks, shares of 1/(4*14)), then leaves of 2 ranks
        // all-gathering half of a 14 x 14 B.
        let s3 = Schedule { dfs: 0, bfs: 1 };
        assert_eq!(
            caps_words(28, 28, 28, 14, s3),
            6 * 3 * 28 * 28 / 56 + 7 * 14
        );
    }

    #[test]
    fn caps_words_scale_like_the_lower_bound() {
        // d = 0: W ~ n^2 / P^(2/w); going from P = 7 to 49 at fixed n divides W by ~7^(2/w) * (7/4)^-1...
        // precisely: each extra BFS step adds a term 7/4 times the previous one (relative to p).
        let n = 7 * 7 * 64;
        let w1 = caps_words(n, n, n, 7, Schedule { dfs: 0, bfs: 1 }) as f64;
        let w2 = caps_words(n, n, n, 49, Schedule { dfs: 0, bfs: 2 }) as f64;
        let ratio = w2 / w1;
        assert!((ratio - (1.0 + 7.0 / 4.0) / 7.0).abs() < 1e-12, "{ratio}");
        let lb = lower_bound_words(n, n, n, 49, f64::INFINITY, true);
        assert!(w2 / lb > 0.1 && w2 / lb < 10.0, "{}", w2 / lb);
    }

    #[test]
    fn summa_words_by_hand() {
        assert_eq!(summa_words(10, 12, 14, 1, 1), 0);
        // 2x2 grid: a rank forwards half of its A row block and half of its B column block.
        assert_eq!(summa_words(8, 8, 8, 2, 2), 4 * 8 / 2 + 8 * 4 / 2);
    }

    #[test]
    fn memory_grows_7_4_per_bfs_step_and_dfs_saves_it() {
        let n = 49 * 16;
        let m1 = caps_memory(n, n, n, 49, Schedule { dfs: 0, bfs: 2 });
        let m2 = caps_memory(n, n, n, 49, Schedule { dfs: 1, bfs: 2 });
        assert!(m2 < m1, "{m2} {m1}");
        // Serial, no steps: A, B, C.
        assert_eq!(
            caps_memory(10, 20, 30, 1, Schedule { dfs: 0, bfs: 0 }),
            200 + 600 + 300
        );
        let lim = m2 * 8;
        let (s, bytes) = choose_schedule(n, n, n, 49, 8, lim, 8).unwrap();
        assert_eq!(s, Schedule { dfs: 1, bfs: 2 });
        assert!(bytes <= lim);
        assert!(choose_schedule(n, n, n, 49, 8, 1000, 8).is_none());
        assert!(choose_schedule(n, n, n, 42, 8, u128::MAX, 8).is_none());
        // q = 2 ranks per leaf: 2 x 20 x 30 of A and 10 x 30 of B each, then B gathered (2 x 300),
        // then B and C: max(1200, 600 + 60) on top of A and B.
        assert_eq!(
            caps_memory(4, 20, 30, 2, Schedule { dfs: 0, bfs: 0 }),
            40 + 300 + 1200
        );
    }

    #[test]
    fn model_prefers_caps_on_large_and_summa_on_heavily_padded_problems() {
        let mc = Machine::default();
        let big = 49 * 256;
        let s = Schedule { dfs: 0, bfs: 2 };
        assert!(caps_time(big, big, big, 49, s, &mc, 8) < summa_time(big, big, big, 7, 7, &mc, 8));
        // 200^3 on 49 ranks: CAPS pads to 392 x 392 x 200, SUMMA to 203^3 (latency left out:
        // with it SUMMA's 7 panels x 12 ring hops would decide alone at this size).
        let mc0 = Machine { latency: 0.0, ..mc };
        let (mp, kp, np) = crate::layout::caps_padded(200, 200, 200, 49, 2);
        assert_eq!((mp, kp, np), (392, 392, 200));
        let (sm, sk, sn) = crate::layout::summa_padded(200, 200, 200, 7, 7);
        assert!(caps_time(mp, kp, np, 49, s, &mc0, 8) > summa_time(sm, sk, sn, 7, 7, &mc0, 8));
    }
}
