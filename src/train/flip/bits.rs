//! The flip-graph walk with coefficients in {-1, 0, 1}, factors as bitmasks.
//!
//! A factor is two masks, `p` (entries equal to +1) and `n` (entries equal to -1), so a sum of
//! two factors is a handful of bit operations and fails (leaves {-1, 0, 1}) exactly when the
//! two have a +1 or a -1 in the same entry. For each factor position (A, B, C) an index maps a
//! factor up to sign to the *bucket* of terms holding it; the buckets with two or more terms
//! (the ones a flip can use) are kept in a list, so a flip pair is drawn in constant time: a
//! bucket uniformly among those, then two of its terms. Reductions (a zero factor, or two terms
//! sharing two factors up to sign) are found through the same index.
//!
//! The search is a walk of flips. After `plateau_flips` flips without a reduction it takes a
//! *plus transition* (two terms become three, rank + 1: `a b c + a' b' c' = (a - a') b c +
//! a' (b - b') c + a' b' (c + c')`), but only while the rank is below `best + plus_cap`, where
//! `best` is the lowest rank reached so far (Arai, Ichikawa and Hukushima, ISSAC 2024, limit
//! plus transitions in this way). Otherwise, and after `plus_limit` plateaus without a new lowest
//! rank, the walk restarts from a scheme drawn from a pool of schemes reached at the lowest rank
//! (up to `pool_size` of them). Everything is drawn from one ChaCha8 stream seeded with the run's
//! seed, so a run is reproducible bit for bit.

use super::FlipWalk;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A factor in {-1, 0, 1}: bit `e` of `p` set means entry `e` is +1, of `n` means -1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct F {
    p: u32,
    n: u32,
}

impl F {
    fn nonzeros(self) -> u32 {
        (self.p | self.n).count_ones()
    }

    fn unit(e: usize) -> F {
        F { p: 1 << e, n: 0 }
    }

    fn is_zero(self) -> bool {
        self.p | self.n == 0
    }

    /// `self + s y` (`s` = +1 or -1), or `None` when an entry would leave {-1, 0, 1}.
    fn add(self, y: F, s: i8) -> Option<F> {
        let (yp, yn) = if s > 0 { (y.p, y.n) } else { (y.n, y.p) };
        if self.p & yp != 0 || self.n & yn != 0 {
            return None;
        }
        Some(F {
            p: (self.p & !yn) | (yp & !self.n),
            n: (self.n & !yp) | (yn & !self.p),
        })
    }

    /// The key of the factor up to sign (its lowest nonzero entry made +1) and the sign that
    /// maps the key back to the factor (0 for the zero factor).
    fn key(self) -> (u64, i8) {
        let nz = self.p | self.n;
        if nz == 0 {
            return (0, 0);
        }
        let low = nz & nz.wrapping_neg();
        if self.p & low != 0 {
            (((self.p as u64) << 32) | self.n as u64, 1)
        } else {
            (((self.n as u64) << 32) | self.p as u64, -1)
        }
    }

    fn coefficients(self, len: usize) -> Vec<i64> {
        (0..len)
            .map(|e| ((self.p >> e) & 1) as i64 - ((self.n >> e) & 1) as i64)
            .collect()
    }
}

/// A multiplicative hash for the 64-bit factor keys (deterministic, unlike the default).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ b as u64);
        }
    }

    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

const NONE: u32 = u32::MAX;

/// Factor (up to sign) -> bucket of the terms holding it, for one factor position.
#[derive(Clone, Default)]
struct Index {
    map: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    members: Vec<Vec<u32>>,
    key: Vec<u64>,
    /// Where the bucket sits in `multi`, or NONE.
    multi_at: Vec<u32>,
    free: Vec<u32>,
    /// Buckets with at least two terms.
    multi: Vec<u32>,
}

impl Index {
    /// Adds term `r` under `key`; returns (bucket, slot in the bucket).
    fn insert(&mut self, key: u64, r: u32) -> (u32, u32) {
        let b = match self.map.get(&key) {
            Some(&b) => b,
            None => {
                let b = match self.free.pop() {
                    Some(b) => b,
                    None => {
                        self.members.push(Vec::new());
                        self.key.push(0);
                        self.multi_at.push(NONE);
                        (self.members.len() - 1) as u32
                    }
                };
                self.key[b as usize] = key;
                self.map.insert(key, b);
                b
            }
        };
        let mem = &mut self.members[b as usize];
        mem.push(r);
        let slot = (mem.len() - 1) as u32;
        if mem.len() == 2 {
            self.multi_at[b as usize] = self.multi.len() as u32;
            self.multi.push(b);
        }
        (b, slot)
    }

    /// Removes the term at `slot` of bucket `b`; returns the term moved into that slot (if any).
    fn remove(&mut self, b: u32, slot: u32) -> Option<u32> {
        let bi = b as usize;
        let mem = &mut self.members[bi];
        mem.swap_remove(slot as usize);
        let moved = mem.get(slot as usize).copied();
        let len = mem.len();
        if len == 1 {
            let at = self.multi_at[bi] as usize;
            self.multi.swap_remove(at);
            if let Some(&o) = self.multi.get(at) {
                self.multi_at[o as usize] = at as u32;
            }
            self.multi_at[bi] = NONE;
        } else if len == 0 {
            self.map.remove(&self.key[bi]);
            self.free.push(b);
        }
        moved
    }
}

/// The walk's state: for each position (A, B, C) the factors of the terms, their keys up to
/// sign, signs, buckets and slots in the buckets.
#[derive(Clone)]
pub(crate) struct Walk {
    len: [usize; 3],
    f: [Vec<F>; 3],
    key: [Vec<u64>; 3],
    sgn: [Vec<i8>; 3],
    bucket: [Vec<u32>; 3],
    slot: [Vec<u32>; 3],
    idx: [Index; 3],
}

/// A flip taken: the terms changed and their old factors (position, term, factor).
pub(crate) struct Flipped {
    terms: [usize; 2],
    old: [(usize, usize, F); 2],
}

/// A uniform draw from `0..n` (`n >= 1`) by multiply-shift.
#[inline]
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((rng.next_u32() as u64 * n as u64) >> 32) as usize
}

impl Walk {
    /// The definition of `<m,k,n>`: one term per `(i, p, j)`.
    pub(crate) fn classical(m: usize, k: usize, n: usize) -> Walk {
        let mut w = Walk {
            len: [m * k, k * n, m * n],
            f: Default::default(),
            key: Default::default(),
            sgn: Default::default(),
            bucket: Default::default(),
            slot: Default::default(),
            idx: Default::default(),
        };
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    w.push([F::unit(i * k + p), F::unit(p * n + j), F::unit(i * n + j)]);
                }
            }
        }
        w
    }

    fn push(&mut self, x: [F; 3]) {
        let r = self.rank();
        for (t, &xt) in x.iter().enumerate() {
            self.f[t].push(xt);
            self.key[t].push(0);
            self.sgn[t].push(0);
            self.bucket[t].push(NONE);
            self.slot[t].push(NONE);
            self.link(t, r);
        }
    }

    fn link(&mut self, t: usize, r: usize) {
        let (key, s) = self.f[t][r].key();
        self.key[t][r] = key;
        self.sgn[t][r] = s;
        if s == 0 {
            self.bucket[t][r] = NONE;
            return;
        }
        let (b, slot) = self.idx[t].insert(key, r as u32);
        self.bucket[t][r] = b;
        self.slot[t][r] = slot;
    }

    fn unlink(&mut self, t: usize, r: usize) {
        let b = self.bucket[t][r];
        if b == NONE {
            return;
        }
        let slot = self.slot[t][r];
        if let Some(moved) = self.idx[t].remove(b, slot) {
            self.slot[t][moved as usize] = slot;
        }
        self.bucket[t][r] = NONE;
    }

    fn set(&mut self, t: usize, r: usize, x: F) {
        self.unlink(t, r);
        self.f[t][r] = x;
        self.link(t, r);
    }

    /// Removes term `r` (the last term takes its index), keeping the indices in `dirty`
    /// pointing at the same terms (and dropping `r` from it).
    fn remove(&mut self, r: usize, dirty: &mut Vec<usize>) {
        let last = self.rank() - 1;
        for t in 0..3 {
            self.unlink(t, r);
            if r != last {
                let b = self.bucket[t][last];
                if b != NONE {
                    let slot = self.slot[t][last];
                    self.idx[t].members[b as usize][slot as usize] = r as u32;
                }
            }
            self.f[t].swap_remove(r);
            self.key[t].swap_remove(r);
            self.sgn[t].swap_remove(r);
            self.bucket[t].swap_remove(r);
            self.slot[t].swap_remove(r);
        }
        dirty.retain(|&d| d != r);
        for d in dirty.iter_mut() {
            if *d == last {
                *d = r;
            }
        }
    }

    /// A term sharing two factors (up to sign) with term `d` whose third factors can be merged
    /// within {-1, 0, 1}: (other term, position of the third factor, merged factor).
    fn partner(&self, d: usize) -> Option<(usize, usize, F)> {
        for t in 0..3 {
            let b = self.bucket[t][d];
            if b == NONE {
                continue;
            }
            for &o in &self.idx[t].members[b as usize] {
                let o = o as usize;
                if o == d {
                    continue;
                }
                for u in [(t + 1) % 3, (t + 2) % 3] {
                    if self.key[u][d] != self.key[u][o] {
                        continue;
                    }
                    let third = 3 - t - u;
                    let s = self.sgn[t][d] * self.sgn[t][o] * self.sgn[u][d] * self.sgn[u][o];
                    if let Some(z) = self.f[third][d].add(self.f[third][o], s) {
                        return Some((o, third, z));
                    }
                }
            }
        }
        None
    }

    /// Buckets a flip can use, over the three positions.
    fn flippable(&self) -> usize {
        self.idx.iter().map(|x| x.multi.len()).sum()
    }
}

impl FlipWalk for Walk {
    type Flip = Flipped;
    fn nonzeros(&self) -> usize {
        self.f
            .iter()
            .map(|v| v.iter().map(|x| x.nonzeros() as usize).sum::<usize>())
            .sum()
    }
    fn flip_terms(f: &Flipped) -> [usize; 2] {
        f.terms
    }
    fn flip_nonzeros(&self, f: &Flipped) -> (usize, usize) {
        let before = f.old.iter().map(|o| o.2.nonzeros() as usize).sum();
        let after = f
            .old
            .iter()
            .map(|&(t, r, _)| self.f[t][r].nonzeros() as usize)
            .sum();
        (before, after)
    }
    fn rank(&self) -> usize {
        self.f[0].len()
    }
    /// Draws a flip pair in constant time and takes the flip. `None` when no two terms share a
    /// factor or the drawn flip would leave {-1, 0, 1}.
    fn try_flip(&mut self, rng: &mut ChaCha8Rng) -> Option<Flipped> {
        let total = self.flippable();
        if total == 0 {
            return None;
        }
        let mut x = below(rng, total);
        let mut t = 0;
        while x >= self.idx[t].multi.len() {
            x -= self.idx[t].multi.len();
            t += 1;
        }
        let mem = &self.idx[t].members[self.idx[t].multi[x] as usize];
        let a = below(rng, mem.len());
        let mut b = below(rng, mem.len() - 1);
        if b >= a {
            b += 1;
        }
        let (i, j) = (mem[a] as usize, mem[b] as usize);
        let bits = rng.next_u32();
        let lambda: i8 = if bits & 1 == 0 { 1 } else { -1 };
        let (p, q) = if bits & 2 == 0 {
            ((t + 1) % 3, (t + 2) % 3)
        } else {
            ((t + 2) % 3, (t + 1) % 3)
        };
        // With x_i = sigma x_j at position t and lambda = +-1, s = sigma lambda:
        // term i: P_i += s P_j; term j: Q_j -= lambda Q_i.
        let s = self.sgn[t][i] * self.sgn[t][j] * lambda;
        let pi = self.f[p][i].add(self.f[p][j], s)?;
        let qj = self.f[q][j].add(self.f[q][i], -lambda)?;
        let undo = Flipped {
            terms: [i, j],
            old: [(p, i, self.f[p][i]), (q, j, self.f[q][j])],
        };
        self.set(p, i, pi);
        self.set(q, j, qj);
        Some(undo)
    }
    /// Undoes a flip (that no reduction followed).
    fn undo(&mut self, f: &Flipped) {
        for &(t, r, x) in &f.old {
            self.set(t, r, x);
        }
    }
    fn has_zero(&self, d: usize) -> bool {
        (0..3).any(|t| self.sgn[t][d] == 0)
    }
    fn remove(&mut self, r: usize, dirty: &mut Vec<usize>) {
        Walk::remove(self, r, dirty)
    }
    fn merge(&mut self, d: usize, dirty: &mut Vec<usize>) -> bool {
        let Some((o, third, z)) = self.partner(d) else {
            return false;
        };
        self.set(third, d, z);
        self.remove(o, dirty);
        true
    }
    /// A plus transition on two random terms and a random order of positions:
    /// `a b c + a' b' c' = (a - a') b c + a' (b - b') c + a' b' (c + c')`. Returns false when a
    /// new factor would leave {-1, 0, 1} or be zero.
    fn try_plus(&mut self, rng: &mut ChaCha8Rng) -> bool {
        let rank = self.rank();
        if rank < 2 {
            return false;
        }
        let i = below(rng, rank);
        let j = (i + 1 + below(rng, rank - 1)) % rank;
        let ta = below(rng, 3);
        let (tb, tc) = ((ta + 1) % 3, (ta + 2) % 3);
        let (a, a2) = (self.f[ta][i], self.f[ta][j]);
        let (b, b2) = (self.f[tb][i], self.f[tb][j]);
        let (c, c2) = (self.f[tc][i], self.f[tc][j]);
        let (Some(da), Some(db), Some(sc)) = (a.add(a2, -1), b.add(b2, -1), c.add(c2, 1)) else {
            return false;
        };
        if da.is_zero() || db.is_zero() || sc.is_zero() {
            return false;
        }
        self.set(ta, i, da);
        self.set(tc, j, sc);
        let mut new = [F::default(); 3];
        new[ta] = a2;
        new[tb] = db;
        new[tc] = c;
        self.push(new);
        true
    }
    fn factor(&self, t: usize, r: usize) -> Vec<i64> {
        self.f[t][r].coefficients(self.len[t])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn val(x: F, e: usize) -> i64 {
        x.coefficients(32)[e]
    }

    #[test]
    fn masks_add_like_integers_or_refuse() {
        let all = [-1i64, 0, 1];
        for &a in &all {
            for &b in &all {
                for s in [1i8, -1] {
                    let mk = |c: i64| match c {
                        1 => F { p: 1, n: 0 },
                        -1 => F { p: 0, n: 1 },
                        _ => F::default(),
                    };
                    let z = a + s as i64 * b;
                    match mk(a).add(mk(b), s) {
                        Some(x) => assert_eq!(val(x, 0), z, "{a} + {s} * {b}"),
                        None => assert!(z.abs() > 1, "{a} + {s} * {b} refused"),
                    }
                }
            }
        }
        let x = F {
            p: 0b0110,
            n: 0b1000,
        };
        let (key, s) = x.key();
        assert_eq!(s, 1);
        let y = F {
            p: 0b1000,
            n: 0b0110,
        };
        assert_eq!(y.key(), (key, -1));
    }

    #[test]
    fn index_stays_consistent_and_flips_keep_the_scheme_exact() {
        let mut w = Walk::classical(3, 3, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut done = 0;
        let mut plus = 0;
        while done < 100_000 {
            if done % 5000 == 4999 && w.try_plus(&mut rng) {
                plus += 1;
            }
            if let Some(ch) = w.try_flip(&mut rng) {
                if done % 7 == 0 {
                    w.undo(&ch);
                } else {
                    w.reduce(&mut ch.terms.to_vec());
                }
                done += 1;
                if done % 1000 == 0 {
                    assert!(w.to_scheme(3, 3, 3).verify().is_valid(), "after {done}");
                    check_index(&w);
                }
            }
        }
        assert!(plus > 0);
        assert!(w.rank() < 27, "100000 flips found no reduction");
    }

    fn check_index(w: &Walk) {
        for t in 0..3 {
            let mut in_buckets = 0;
            for r in 0..w.rank() {
                let (key, s) = w.f[t][r].key();
                assert_eq!((w.key[t][r], w.sgn[t][r]), (key, s));
                let b = w.bucket[t][r];
                if s == 0 {
                    assert_eq!(b, NONE);
                    continue;
                }
                in_buckets += 1;
                assert_eq!(w.idx[t].key[b as usize], key);
                assert_eq!(w.idx[t].map[&key], b);
                assert_eq!(
                    w.idx[t].members[b as usize][w.slot[t][r] as usize],
                    r as u32
                );
            }
            let listed: usize = w.idx[t]
                .map
                .values()
                .map(|&b| w.idx[t].members[b as usize].len())
                .sum();
            assert_eq!(listed, in_buckets);
            let multi = w.idx[t]
                .map
                .values()
                .filter(|&&b| w.idx[t].members[b as usize].len() >= 2)
                .count();
            assert_eq!(multi, w.idx[t].multi.len());
            for (at, &b) in w.idx[t].multi.iter().enumerate() {
                assert_eq!(w.idx[t].multi_at[b as usize] as usize, at);
            }
        }
    }
}
