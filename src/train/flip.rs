//! Discrete search for low-rank schemes: random walks on the flip graph.
//!
//! A scheme is a sum of rank-one terms `a_r (x) b_r (x) c_r` (`a_r` = row r of U, `b_r` = row r
//! of V, `c_r` = column r of W) equal to the matrix-multiplication tensor. Two terms that share a
//! factor up to sign, `a_i = s a_j`, can be rewritten without changing the sum (a *flip*):
//!
//! ```text
//! a_i (x) b_i (x) c_i + a_j (x) b_j (x) c_j
//!   = a_i (x) (b_i + l s b_j) (x) c_i + a_j (x) b_j (x) (c_j - l c_i)     (l = +1 or -1)
//! ```
//!
//! (and likewise for the other factor positions and roles). A flip keeps the scheme exact. When a
//! flip makes a factor zero, or makes two terms share two factors (then they merge into one), the
//! rank drops: a *reduction*. A walk starts from the definition of the product (one term per
//! `(i, p, j)`, rank `m k n`), flips at random, takes every reduction, and stops at the target
//! rank. A walk that finds no reduction for `plateau_flips` flips takes a *plus transition*
//! (splits a random term in two, `a_i = (a_i - a_j) + a_j`, rank + 1, which creates a shared
//! factor with term j), up to `plus_limit` times without reaching a new lowest rank; then it
//! starts again from the definition, continuing the same random stream. All coefficients stay within `[-max_coeff,
//! max_coeff]` (a flip that would leave the range is not taken), so the result is an integer
//! scheme with small coefficients. The idea of flip graphs is Kauers and Moosbauer's; this is our
//! own implementation over the integers.
//!
//! Nothing here knows any published scheme: the start is the definition `c_ij = sum_p a_ip b_pj`
//! and every step is drawn from a ChaCha8 stream seeded with the run's seed. The walk's state is
//! exact at every step; the result is checked again with the Brent equations before it is
//! returned.
//!
//! Once at the target rank, a *polish* phase keeps flipping for `polish_flips` more steps at that
//! rank and keeps the scheme with the fewest nonzero coefficients (fewer additions, see
//! [`scheme_metrics`]); a flip that adds nonzeros is taken only with probability
//! `exp(-increase / polish_temperature)`.

use crate::scheme::Scheme;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

mod bits;

/// The longest factor the walk handles (entries of A, B or C): 32, e.g. 4 x 8 blocks.
pub const MAX_FACTOR_LEN: usize = 32;
/// The largest coefficient bound the walk handles (coefficients are packed in 4 bits).
pub const MAX_COEFF_LIMIT: i8 = 7;

/// Settings of a flip-graph walk. Everything that decides the result is here (the time limit is
/// not: it only decides whether a run ends before it succeeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlipSettings {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Stop when the rank is at most this.
    pub target_rank: usize,
    /// Seed of the random stream.
    pub seed: u64,
    /// Coefficient bound: every coefficient stays in `[-max_coeff, max_coeff]`.
    pub max_coeff: i8,
    /// Flips without a reduction after which the walk restarts from the definition.
    pub plateau_flips: u64,
    /// Flips at the target rank spent looking for fewer nonzeros.
    pub polish_flips: u64,
    /// Temperature of the polish phase (in nonzeros).
    pub polish_temperature: f64,
    /// Give up after this many flips in total (0: no limit other than the time limit).
    pub max_flips: u64,
    /// On a plateau, split a term in two (rank + 1, a *plus transition*) instead of restarting,
    /// up to this many times without a new lowest rank; then restart (0: always restart).
    pub plus_limit: u64,
    /// The implementation of the walk (records written before it existed are `legacy`).
    #[serde(
        default = "FlipEngine::legacy",
        skip_serializing_if = "FlipEngine::is_legacy"
    )]
    pub engine: FlipEngine,
    /// `bits` engine: plus transitions only while the rank is below the lowest rank reached
    /// plus this cap.
    #[serde(
        default = "default_plus_cap",
        skip_serializing_if = "is_default_plus_cap"
    )]
    pub plus_cap: u32,
    /// `bits` engine: schemes kept at the lowest rank reached, to restart from.
    #[serde(
        default = "default_pool_size",
        skip_serializing_if = "is_default_pool_size"
    )]
    pub pool_size: u32,
    /// What the polish phase minimises (records written before it existed: nonzeros).
    #[serde(default, skip_serializing_if = "PolishObjective::is_nonzeros")]
    pub polish_objective: PolishObjective,
}

/// With [`PolishObjective::Additions`], the schemes whose additions are counted: those with at
/// most this many nonzeros more than the fewest seen so far in the polish phase (counting is
/// about a hundred times dearer than a flip).
pub const ADDITIONS_SLACK: usize = 6;

/// What the polish phase (the walk at the target rank) minimises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PolishObjective {
    /// Nonzero coefficients of U, V and W (ties: the first reached).
    #[default]
    Nonzeros,
    /// Additions of one level after greedy common-subexpression elimination, as the plan
    /// compiler counts them ([`crate::plan::additions_cse`]; ties: fewer nonzeros). The walk is
    /// still guided by nonzeros; the additions are counted at every scheme within
    /// [`ADDITIONS_SLACK`] nonzeros of the fewest seen in the phase.
    Additions,
}

impl PolishObjective {
    fn is_nonzeros(&self) -> bool {
        *self == PolishObjective::Nonzeros
    }

    /// The name used on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            PolishObjective::Nonzeros => "nonzeros",
            PolishObjective::Additions => "additions",
        }
    }
}

/// The implementation of a flip walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FlipEngine {
    /// Coefficients in `[-max_coeff, max_coeff]` as bytes, partners found by scanning the terms,
    /// plateaus end in a split of one term or a restart from the definition (the first
    /// implementation; the shipped flip schemes in `kernels/` come from it).
    Legacy,
    /// Coefficients in {-1, 0, 1} as bitmasks, a hash from factor to terms, constant-time
    /// sampling of flip pairs, capped plus transitions and a pool of restart points (see the
    /// `bits` module). Needs `max_coeff = 1`.
    Bits,
}

impl FlipEngine {
    fn legacy() -> FlipEngine {
        FlipEngine::Legacy
    }

    fn is_legacy(&self) -> bool {
        *self == FlipEngine::Legacy
    }

    /// The name used on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            FlipEngine::Legacy => "legacy",
            FlipEngine::Bits => "bits",
        }
    }
}

fn default_plus_cap() -> u32 {
    2
}

fn default_pool_size() -> u32 {
    64
}

// Settings serialise without the fields a record written before them would lack (so the files
// the legacy engine wrote then are written again byte for byte).
fn is_default_plus_cap(c: &u32) -> bool {
    *c == default_plus_cap()
}

fn is_default_pool_size(p: &u32) -> bool {
    *p == default_pool_size()
}

impl FlipSettings {
    /// The defaults for `<m,k,n>` and a target rank.
    pub fn new(m: usize, k: usize, n: usize, target_rank: usize, seed: u64) -> Self {
        FlipSettings {
            m,
            k,
            n,
            target_rank,
            seed,
            max_coeff: 1,
            plateau_flips: 20_000,
            polish_flips: 200_000,
            polish_temperature: 0.5,
            max_flips: 0,
            plus_limit: 100,
            engine: FlipEngine::Bits,
            plus_cap: default_plus_cap(),
            pool_size: default_pool_size(),
            polish_objective: PolishObjective::Nonzeros,
        }
    }

    /// Checks the settings; the message says what is wrong.
    pub fn validate(&self) -> Result<(), super::TrainError> {
        let err = |s: String| Err(super::TrainError::Settings(s));
        let (m, k, n) = (self.m, self.k, self.n);
        if m == 0 || k == 0 || n == 0 {
            return err(format!("dimensions must be positive, got {m},{k},{n}"));
        }
        if m * k > MAX_FACTOR_LEN || k * n > MAX_FACTOR_LEN || m * n > MAX_FACTOR_LEN {
            return err(format!(
                "the flip method handles blocks of at most {MAX_FACTOR_LEN} entries (m*k, k*n, m*n); <{m},{k},{n}> has more"
            ));
        }
        if self.target_rank == 0 {
            return err("the target rank must be at least 1".into());
        }
        if !(1..=MAX_COEFF_LIMIT).contains(&self.max_coeff) {
            return err(format!(
                "the coefficient bound must be in 1..={MAX_COEFF_LIMIT}, got {}",
                self.max_coeff
            ));
        }
        if self.plateau_flips == 0 {
            return err("plateau flips must be at least 1".into());
        }
        if self.engine == FlipEngine::Bits && self.max_coeff != 1 {
            return err(format!(
                "the bits engine keeps coefficients in -1..=1; for a coefficient bound of {} use the legacy engine",
                self.max_coeff
            ));
        }
        if !(self.polish_temperature.is_finite() && self.polish_temperature >= 0.0) {
            return err("the polish temperature must be finite and non-negative".into());
        }
        Ok(())
    }
}

/// Progress of a walk, passed to the caller's callback now and then.
#[derive(Debug, Clone, Copy)]
pub struct FlipProgress {
    /// Flips so far.
    pub flips: u64,
    /// Current rank.
    pub rank: usize,
    /// Lowest rank reached so far.
    pub best_rank: usize,
    /// Restarts so far.
    pub restarts: u64,
    /// Seconds since the start.
    pub elapsed_s: f64,
}

/// What a walk produced.
#[derive(Debug, Clone)]
pub struct FlipOutcome {
    /// The exact scheme of rank at most the target (verified with the Brent equations), if the
    /// walk reached it.
    pub scheme: Option<Scheme>,
    /// Lowest rank reached.
    pub best_rank: usize,
    /// Flips in total (search and polish).
    pub flips: u64,
    /// Flips until the target rank was first reached.
    pub flips_to_target: Option<u64>,
    /// Restarts from the definition.
    pub restarts: u64,
    /// Nonzeros when the target was first reached (before polishing).
    pub nonzeros_unpolished: Option<usize>,
    /// True when the time limit ended the walk.
    pub timed_out: bool,
    /// Wall time in seconds.
    pub wall_time_s: f64,
    /// CPU time of the walk's thread in seconds (10 ms resolution; wall time where the CPU time
    /// cannot be read).
    pub cpu_time_s: f64,
}

type Factor = [i8; MAX_FACTOR_LEN];

/// CPU seconds used by the calling thread (user + system, from `/proc/thread-self/stat`, in
/// units of USER_HZ = 100 per second), or `None` where that file cannot be read.
pub fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The clock of the time limit: this thread's CPU time where available (so that a walk sharing
/// the machine is limited by the work it did), wall time otherwise.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu_seconds(),
        }
    }

    fn cpu_s(&self) -> f64 {
        match (self.cpu, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

/// A flip taken: the two terms changed and their old factors (position, term, factor).
struct Flipped {
    terms: [usize; 2],
    old: [(usize, usize, Factor); 2],
}

/// The walk's state: three factor lists (A, B, C) with their sign-normalised keys.
#[derive(Clone)]
struct Walk {
    len: [usize; 3],
    f: [Vec<Factor>; 3],
    key: [Vec<u128>; 3],
    sgn: [Vec<i8>; 3],
    bound: i8,
}

/// The key of a factor up to sign (first nonzero made positive), packed 4 bits per entry, and
/// that sign (0 for a zero factor).
fn key_of(x: &Factor, len: usize) -> (u128, i8) {
    let s = x[..len]
        .iter()
        .find(|&&c| c != 0)
        .map_or(0, |&c| c.signum());
    let mut key = 0u128;
    for &c in &x[..len] {
        key = (key << 4) | ((c * s) as u8 & 0xF) as u128;
    }
    (key, s)
}

/// `x + s y` on the first `len` entries, or `None` if a coefficient leaves `[-bound, bound]`.
fn combine(x: &Factor, y: &Factor, s: i8, len: usize, bound: i8) -> Option<Factor> {
    let mut z = *x;
    for (ze, &ye) in z[..len].iter_mut().zip(&y[..len]) {
        let c = *ze + s * ye;
        if c.abs() > bound {
            return None;
        }
        *ze = c;
    }
    Some(z)
}

impl Walk {
    fn classical(m: usize, k: usize, n: usize, bound: i8) -> Walk {
        let len = [m * k, k * n, m * n];
        let mut w = Walk {
            len,
            f: Default::default(),
            key: Default::default(),
            sgn: Default::default(),
            bound,
        };
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    let idx = [i * k + p, p * n + j, i * n + j];
                    for t in 0..3 {
                        let mut x = [0i8; MAX_FACTOR_LEN];
                        x[idx[t]] = 1;
                        let (key, s) = key_of(&x, len[t]);
                        w.f[t].push(x);
                        w.key[t].push(key);
                        w.sgn[t].push(s);
                    }
                }
            }
        }
        w
    }

    fn refresh(&mut self, t: usize, r: usize) {
        let (key, s) = key_of(&self.f[t][r], self.len[t]);
        self.key[t][r] = key;
        self.sgn[t][r] = s;
    }

    /// Removes term `r` (swap with the last), keeping the indices in `dirty` pointing at the same
    /// terms (and dropping `r` from it).
    fn remove(&mut self, r: usize, dirty: &mut Vec<usize>) {
        let last = self.rank() - 1;
        for t in 0..3 {
            self.f[t].swap_remove(r);
            self.key[t].swap_remove(r);
            self.sgn[t].swap_remove(r);
        }
        dirty.retain(|&d| d != r);
        for d in dirty.iter_mut() {
            if *d == last {
                *d = r;
            }
        }
    }
}

/// What the search and polish loops need of a walk's state (implemented by both engines).
trait FlipWalk: Clone {
    /// A flip taken, enough to undo it.
    type Flip;
    fn rank(&self) -> usize;
    fn nonzeros(&self) -> usize;
    fn try_flip(&mut self, rng: &mut ChaCha8Rng) -> Option<Self::Flip>;
    fn undo(&mut self, f: &Self::Flip);
    /// The two terms a flip changed.
    fn flip_terms(f: &Self::Flip) -> [usize; 2];
    /// Nonzeros of the changed factors before and after the flip.
    fn flip_nonzeros(&self, f: &Self::Flip) -> (usize, usize);
    /// True when a factor of term `d` is zero.
    fn has_zero(&self, d: usize) -> bool;
    /// Removes term `r` (the last term takes its index), keeping the indices in `dirty`
    /// pointing at the same terms (and dropping `r` from it).
    fn remove(&mut self, r: usize, dirty: &mut Vec<usize>);
    /// Merges term `d` with a term sharing two of its factors up to sign (which goes), if there
    /// is one whose merge stays in the coefficient range.
    fn merge(&mut self, d: usize, dirty: &mut Vec<usize>) -> bool;
    /// Takes every reduction involving the terms in `dirty`: zero factors and pairs sharing two
    /// factors up to sign (`dirty` is left empty). Returns how many terms were removed.
    fn reduce(&mut self, dirty: &mut Vec<usize>) -> usize {
        let mut removed = 0;
        while let Some(&d) = dirty.last() {
            if self.has_zero(d) {
                self.remove(d, dirty);
                removed += 1;
            } else if self.merge(d, dirty) {
                removed += 1;
            } else {
                dirty.pop();
            }
        }
        removed
    }
    fn try_plus(&mut self, rng: &mut ChaCha8Rng) -> bool;
    /// The coefficients of factor `t` (0: A, 1: B, 2: C) of term `r`.
    fn factor(&self, t: usize, r: usize) -> Vec<i64>;
    /// Additions of one level after greedy CSE (as the plan compiler counts them).
    fn additions_cse(&self, m: usize, k: usize, n: usize) -> usize {
        let rank = self.rank();
        let u: Vec<Vec<i64>> = (0..rank).map(|r| self.factor(0, r)).collect();
        let v: Vec<Vec<i64>> = (0..rank).map(|r| self.factor(1, r)).collect();
        let cols: Vec<Vec<i64>> = (0..rank).map(|r| self.factor(2, r)).collect();
        let w: Vec<Vec<i64>> = (0..m * n)
            .map(|i| (0..rank).map(|r| cols[r][i]).collect())
            .collect();
        crate::plan::additions_cse((m, k, n), &u, &v, &w)
            .expect("the walk keeps the shape of <m,k,n>")
            .total()
    }
    /// The state as a scheme (`<m,k,n>` as the walk was built for).
    fn to_scheme(&self, m: usize, k: usize, n: usize) -> Scheme {
        let rank = self.rank();
        let u = (0..rank).map(|r| self.factor(0, r)).collect();
        let v = (0..rank).map(|r| self.factor(1, r)).collect();
        let cols: Vec<Vec<i64>> = (0..rank).map(|r| self.factor(2, r)).collect();
        let w = (0..m * n)
            .map(|i| (0..rank).map(|r| cols[r][i]).collect())
            .collect();
        Scheme::new(
            "flip",
            (m, k, n),
            u,
            v,
            w,
            serde_json::json!({ "source": "training" }),
        )
        .expect("the walk keeps shapes and coefficients in range")
    }
}

impl FlipWalk for Walk {
    type Flip = Flipped;
    fn flip_terms(f: &Flipped) -> [usize; 2] {
        f.terms
    }
    fn flip_nonzeros(&self, f: &Flipped) -> (usize, usize) {
        let nz = |x: &Factor, t: usize| x[..self.len[t]].iter().filter(|&&c| c != 0).count();
        let before = f.old.iter().map(|(t, _, x)| nz(x, *t)).sum();
        let after = f.old.iter().map(|&(t, r, _)| nz(&self.f[t][r], t)).sum();
        (before, after)
    }
    fn rank(&self) -> usize {
        self.key[0].len()
    }
    fn nonzeros(&self) -> usize {
        (0..3)
            .map(|t| {
                self.f[t]
                    .iter()
                    .map(|x| x[..self.len[t]].iter().filter(|&&c| c != 0).count())
                    .sum::<usize>()
            })
            .sum()
    }
    /// Tries one random flip. Returns `None` when the drawn term has no partner or the flip would
    /// leave the coefficient range, else the terms changed.
    fn try_flip(&mut self, rng: &mut ChaCha8Rng) -> Option<Flipped> {
        let rank = self.rank();
        let i = rng.gen_range(0..rank);
        let t = rng.gen_range(0..3);
        let key = self.key[t][i];
        let keys = &self.key[t];
        let matches = keys.iter().filter(|&&x| x == key).count() - 1;
        if matches == 0 {
            return None;
        }
        let pick = rng.gen_range(0..matches);
        let j = (0..rank)
            .filter(|&r| r != i && keys[r] == key)
            .nth(pick)
            .expect("counted above");
        let lambda: i8 = if rng.gen_bool(0.5) { 1 } else { -1 };
        let s = self.sgn[t][i] * self.sgn[t][j] * lambda;
        let (p, q) = match (t, rng.gen_bool(0.5)) {
            (0, false) => (1, 2),
            (0, true) => (2, 1),
            (1, false) => (0, 2),
            (1, true) => (2, 0),
            (_, false) => (0, 1),
            (_, true) => (1, 0),
        };
        // With a_i = sigma a_j and lambda = +-1, s = sigma lambda:
        // term i: P_i += s P_j; term j: Q_j -= lambda Q_i.
        let pi = combine(&self.f[p][i], &self.f[p][j], s, self.len[p], self.bound)?;
        let qj = combine(
            &self.f[q][j],
            &self.f[q][i],
            -lambda,
            self.len[q],
            self.bound,
        )?;
        let undo = Flipped {
            terms: [i, j],
            old: [(p, i, self.f[p][i]), (q, j, self.f[q][j])],
        };
        self.f[p][i] = pi;
        self.refresh(p, i);
        self.f[q][j] = qj;
        self.refresh(q, j);
        Some(undo)
    }
    /// Undoes a flip (that no reduction followed).
    fn undo(&mut self, f: &Flipped) {
        for &(t, r, x) in &f.old {
            self.f[t][r] = x;
            self.refresh(t, r);
        }
    }
    fn has_zero(&self, d: usize) -> bool {
        (0..3).any(|t| self.sgn[t][d] == 0)
    }
    fn remove(&mut self, r: usize, dirty: &mut Vec<usize>) {
        Walk::remove(self, r, dirty)
    }
    fn merge(&mut self, d: usize, dirty: &mut Vec<usize>) -> bool {
        for other in 0..self.rank() {
            if other == d {
                continue;
            }
            let same: [bool; 3] = std::array::from_fn(|t| self.key[t][d] == self.key[t][other]);
            let count = same.iter().filter(|&&b| b).count();
            if count < 2 {
                continue;
            }
            let t3 = (0..3).find(|&t| !same[t]).unwrap_or(2);
            let (t1, t2) = match t3 {
                0 => (1, 2),
                1 => (0, 2),
                _ => (0, 1),
            };
            let s = self.sgn[t1][d] * self.sgn[t1][other] * self.sgn[t2][d] * self.sgn[t2][other];
            let Some(z) = combine(
                &self.f[t3][d],
                &self.f[t3][other],
                s,
                self.len[t3],
                self.bound,
            ) else {
                continue;
            };
            self.f[t3][d] = z;
            self.refresh(t3, d);
            self.remove(other, dirty);
            return true;
        }
        false
    }
    /// A plus transition: `a_i (x) b_i (x) c_i = (a_i - a_j) (x) b_i (x) c_i + a_j (x) b_i (x) c_i`
    /// for random terms `i != j` and a random factor position. Returns false when the drawn
    /// split would leave the coefficient range.
    fn try_plus(&mut self, rng: &mut ChaCha8Rng) -> bool {
        let rank = self.rank();
        if rank < 2 {
            return false;
        }
        let i = rng.gen_range(0..rank);
        let j = (i + rng.gen_range(1..rank)) % rank;
        let t = rng.gen_range(0..3);
        let Some(d) = combine(&self.f[t][i], &self.f[t][j], -1, self.len[t], self.bound) else {
            return false;
        };
        if d[..self.len[t]].iter().all(|&c| c == 0) {
            return false;
        }
        for tt in 0..3 {
            let x = if tt == t { self.f[t][j] } else { self.f[tt][i] };
            let (key, s) = key_of(&x, self.len[tt]);
            self.f[tt].push(x);
            self.key[tt].push(key);
            self.sgn[tt].push(s);
        }
        self.f[t][i] = d;
        self.refresh(t, i);
        true
    }
    fn factor(&self, t: usize, r: usize) -> Vec<i64> {
        self.f[t][r][..self.len[t]]
            .iter()
            .map(|&c| c as i64)
            .collect()
    }
}

/// How the search loop treats plateaus (the engines differ).
struct Escape {
    /// Consecutive refused flips that count as a plateau.
    misses: u64,
    /// Plus transitions only while rank < lowest + this.
    plus_cap: usize,
    /// Schemes kept at the lowest rank to restart from (0: restart from the definition).
    pool: usize,
}

/// Schemes reached at the lowest rank, up to a capacity; once full, each new one replaces a
/// random one with the probability that keeps the pool a uniform sample (reservoir sampling).
struct Pool<W> {
    rank: usize,
    schemes: Vec<W>,
    seen: u64,
}

impl<W: FlipWalk> Pool<W> {
    fn offer(&mut self, w: &W, cap: usize, rng: &mut ChaCha8Rng) {
        if cap == 0 {
            return;
        }
        if w.rank() < self.rank {
            self.rank = w.rank();
            self.schemes.clear();
            self.seen = 0;
        }
        if w.rank() != self.rank {
            return;
        }
        self.seen += 1;
        if self.schemes.len() < cap {
            self.schemes.push(w.clone());
        } else {
            let r = rng.gen_range(0..self.seen);
            if r < cap as u64 {
                self.schemes[r as usize] = w.clone();
            }
        }
    }
}

/// Runs one walk. `time_limit_s` (CPU seconds of this thread, see [`thread_cpu_seconds`]) ends
/// an unfinished search (a failure, `timed_out`); `progress` is called about every 2^22 steps.
pub fn run(
    s: &FlipSettings,
    time_limit_s: Option<f64>,
    progress: &mut dyn FnMut(&FlipProgress),
) -> Result<FlipOutcome, super::TrainError> {
    s.validate()?;
    match s.engine {
        FlipEngine::Legacy => search(
            Walk::classical(s.m, s.k, s.n, s.max_coeff),
            Escape {
                misses: 100_000,
                plus_cap: usize::MAX,
                pool: 0,
            },
            s,
            time_limit_s,
            progress,
        ),
        FlipEngine::Bits => search(
            bits::Walk::classical(s.m, s.k, s.n),
            Escape {
                misses: 10_000,
                plus_cap: s.plus_cap as usize,
                pool: s.pool_size as usize,
            },
            s,
            time_limit_s,
            progress,
        ),
    }
}

/// The search from `fresh` (the definition), then the polish and the exact check.
fn search<W: FlipWalk>(
    fresh: W,
    esc: Escape,
    s: &FlipSettings,
    time_limit_s: Option<f64>,
    progress: &mut dyn FnMut(&FlipProgress),
) -> Result<FlipOutcome, super::TrainError> {
    let start = Instant::now();
    let clock = Clock::start();
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let mut walk = fresh.clone();
    let mut flips = 0u64;
    let mut restarts = 0u64;
    let mut since_reduction = 0u64;
    let mut misses = 0u64;
    let mut best_rank = walk.rank();
    let mut timed_out = false;
    let mut plateaus_since_best = 0u64;
    let mut pool: Pool<W> = Pool {
        rank: best_rank,
        schemes: Vec::new(),
        seen: 0,
    };
    let report = |flips: u64, walk: &W, best_rank: usize, restarts: u64| FlipProgress {
        flips,
        rank: walk.rank(),
        best_rank,
        restarts,
        elapsed_s: start.elapsed().as_secs_f64(),
    };
    let mut counter = 0u64;
    let mut dirty = Vec::with_capacity(8);
    while walk.rank() > s.target_rank {
        counter += 1;
        if counter & 0xFFFF == 0 {
            if let Some(limit) = time_limit_s {
                if clock.cpu_s() > limit {
                    timed_out = true;
                    break;
                }
            }
            if counter & 0x3F_FFFF == 0 {
                progress(&report(flips, &walk, best_rank, restarts));
            }
        }
        if s.max_flips > 0 && flips >= s.max_flips {
            break;
        }
        if since_reduction >= s.plateau_flips || misses >= esc.misses {
            since_reduction = 0;
            misses = 0;
            plateaus_since_best += 1;
            let may_plus = walk.rank() < best_rank.saturating_add(esc.plus_cap);
            if may_plus && plateaus_since_best <= s.plus_limit {
                let mut tries = 0;
                while !walk.try_plus(&mut rng) && tries < 1000 {
                    tries += 1;
                }
                continue;
            }
            // Restart from a scheme at the lowest rank, or from the definition.
            walk = if pool.schemes.is_empty() {
                fresh.clone()
            } else {
                pool.schemes[rng.gen_range(0..pool.schemes.len())].clone()
            };
            restarts += 1;
            if plateaus_since_best > s.plus_limit {
                plateaus_since_best = 0;
            }
            continue;
        }
        match walk.try_flip(&mut rng) {
            None => misses += 1,
            Some(flip) => {
                misses = 0;
                flips += 1;
                since_reduction += 1;
                dirty.extend(W::flip_terms(&flip));
                if walk.reduce(&mut dirty) > 0 {
                    since_reduction = 0;
                    if walk.rank() < best_rank {
                        best_rank = walk.rank();
                        plateaus_since_best = 0;
                    }
                    if walk.rank() == best_rank {
                        pool.offer(&walk, esc.pool, &mut rng);
                    }
                }
            }
        }
    }
    let reached = walk.rank() <= s.target_rank;
    let flips_to_target = reached.then_some(flips);
    let nonzeros_unpolished = reached.then(|| walk.nonzeros());
    let mut scheme = None;
    if reached {
        let (best, polished) = polish(walk.clone(), s, &mut rng);
        flips += polished;
        best_rank = best_rank.min(best.rank());
        let sch = best.to_scheme(s.m, s.k, s.n);
        let verdict = sch.verify();
        if !verdict.is_valid() {
            return Err(super::TrainError::Settings(format!(
                "internal error: the flip walk produced a scheme failing {} of {} Brent equations",
                verdict.failed_count, verdict.total
            )));
        }
        scheme = Some(sch);
    }
    progress(&report(flips, &walk, best_rank, restarts));
    Ok(FlipOutcome {
        scheme,
        best_rank,
        flips,
        flips_to_target,
        restarts,
        nonzeros_unpolished,
        timed_out,
        wall_time_s: start.elapsed().as_secs_f64(),
        cpu_time_s: clock.cpu_s(),
    })
}

/// The polish phase: `polish_flips` flips at (or below) the reached rank, a walk guided by
/// nonzeros by simulated annealing at a fixed temperature (a flip adding `d` nonzeros is taken
/// with probability `exp(-d / polish_temperature)`). It keeps the best scheme seen by the
/// settings' [`PolishObjective`] (rank first). With [`PolishObjective::Additions`] the
/// additions are counted at every scheme within [`ADDITIONS_SLACK`] nonzeros of the fewest seen
/// in the phase. Returns the best scheme and the flips taken.
fn polish<W: FlipWalk>(mut walk: W, s: &FlipSettings, rng: &mut ChaCha8Rng) -> (W, u64) {
    let by_additions = s.polish_objective == PolishObjective::Additions;
    // (rank, additions after CSE or 0, nonzeros): lower is better.
    let score = |w: &W, nnz: usize| -> (usize, usize, usize) {
        let adds = if by_additions {
            w.additions_cse(s.m, s.k, s.n)
        } else {
            0
        };
        (w.rank(), adds, nnz)
    };
    let mut nnz = walk.nonzeros();
    let mut fewest = nnz;
    let mut best = walk.clone();
    let mut best_score = score(&walk, nnz);
    let mut done = 0u64;
    let mut misses = 0u64;
    let mut dirty = Vec::with_capacity(8);
    while done < s.polish_flips && misses < 100_000 {
        let Some(flip) = walk.try_flip(rng) else {
            misses += 1;
            continue;
        };
        misses = 0;
        done += 1;
        let (before, after) = walk.flip_nonzeros(&flip);
        dirty.extend(W::flip_terms(&flip));
        let reduced = walk.reduce(&mut dirty) > 0;
        if reduced {
            nnz = walk.nonzeros();
        } else {
            let new_nnz = nnz + after - before;
            let accept = new_nnz <= nnz
                || (s.polish_temperature > 0.0
                    && rng.gen_bool((-((new_nnz - nnz) as f64) / s.polish_temperature).exp()));
            if !accept {
                walk.undo(&flip);
                continue;
            }
            nnz = new_nnz;
        }
        fewest = fewest.min(nnz);
        let candidate = if by_additions {
            reduced || nnz <= fewest + ADDITIONS_SLACK
        } else {
            walk.rank() < best_score.0 || nnz < best_score.2
        };
        if candidate {
            let sc = score(&walk, nnz);
            if sc < best_score {
                best = walk.clone();
                best_score = sc;
            }
        }
    }
    (best, done)
}

/// What the kernel cares about in an exact scheme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SchemeMetrics {
    /// Nonzero coefficients in U, V and W.
    pub nonzeros: usize,
    /// Additions per level written out term by term.
    pub additions_naive: usize,
    /// Additions per level after greedy common-subexpression elimination.
    pub additions_cse: usize,
    /// Growth factor `max_i sum_r |w_ir| ||u_r||_1 ||v_r||_1` (a bound on the error growth per
    /// level, relative to the classical product's).
    pub growth: i64,
}

/// Nonzeros, additions (naive and after CSE, from the plan compiler) and growth factor of a
/// scheme.
pub fn scheme_metrics(s: &Scheme) -> SchemeMetrics {
    let plan = crate::plan::Plan::compile_unchecked(s);
    let l1 = |x: &[i64]| x.iter().map(|c| c.abs()).sum::<i64>();
    let growth =
        s.w.iter()
            .map(|wi| {
                wi.iter()
                    .enumerate()
                    .map(|(r, &c)| c.abs() * l1(&s.u[r]) * l1(&s.v[r]))
                    .sum::<i64>()
            })
            .max()
            .unwrap_or(0);
    SchemeMetrics {
        nonzeros: s.nonzeros(),
        additions_naive: plan.additions_naive().total(),
        additions_cse: plan.additions_cse().total(),
        growth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_is_the_exact_definition() {
        let w = Walk::classical(2, 3, 4, 1);
        assert_eq!(w.rank(), 24);
        let s = w.to_scheme(2, 3, 4);
        assert!(s.verify().is_valid());
        assert_eq!(s.nonzeros(), 3 * 24);
    }

    #[test]
    fn flips_keep_the_scheme_exact() {
        let mut w = Walk::classical(3, 3, 3, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut done = 0;
        while done < 100_000 {
            if let Some(ch) = w.try_flip(&mut rng) {
                if done % 7 == 0 {
                    // Undo restores the previous (exact) state.
                    w.undo(&ch);
                } else {
                    w.reduce(&mut ch.terms.to_vec());
                }
                done += 1;
                if done % 1000 == 0 {
                    assert!(
                        w.to_scheme(3, 3, 3).verify().is_valid(),
                        "after {done} flips"
                    );
                }
            }
        }
        assert!(w.rank() < 27, "100000 flips found no reduction");
    }

    #[test]
    fn strassen_rank_from_a_seed_is_exact_and_deterministic() {
        let s = FlipSettings::new(2, 2, 2, 7, 1);
        let a = run(&s, None, &mut |_| {}).unwrap();
        let b = run(&s, None, &mut |_| {}).unwrap();
        let sa = a.scheme.expect("reaches rank 7");
        assert!(sa.verify().is_valid());
        assert_eq!(sa.rank, 7);
        assert_eq!(Some(sa), b.scheme);
        let m = scheme_metrics(&Scheme::shipped("winograd").unwrap());
        assert_eq!(m.additions_cse, 15);
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut s = FlipSettings::new(2, 2, 2, 7, 1);
        s.max_coeff = 9;
        assert!(s.validate().is_err());
        let s = FlipSettings::new(6, 6, 6, 100, 1);
        assert!(s.validate().is_err());
        let s = FlipSettings::new(2, 2, 2, 0, 1);
        assert!(s.validate().is_err());
    }
}
