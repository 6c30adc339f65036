//! Training data: random pairs (A, B) with their products C = A B.
//!
//! The training set (default 2048 pairs) and the test set (default 512 pairs) are drawn once,
//! from their own ChaCha8 streams of the run's data seed, so that every epoch sees the same
//! training pairs. Entries are N(0,1) or uniform on [-1, 1]. A pair is stored row-major:
//! `a` (m*k), then `b` (k*n), then `c` (m*n).
//!
//! An epoch visits the training set once in a fresh random order (from the run's shuffle
//! stream), in minibatches of `B` pairs. When `B` does not divide the set, the last batch of the
//! epoch is the smaller remainder and is used as it is (its loss is the mean over its own
//! pairs): no pair is dropped or visited twice.

use super::model::Dims;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The distribution of the entries of A and B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Distr {
    /// Standard normal.
    #[default]
    Normal,
    /// Uniform on [-1, 1].
    Uniform,
}

impl std::str::FromStr for Distr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "normal" => Ok(Distr::Normal),
            "uniform" => Ok(Distr::Uniform),
            _ => Err(format!("unknown distribution `{s}` (normal, uniform)")),
        }
    }
}

/// A set of (A, B, C) pairs, stored pair after pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Shape of the products (the rank is irrelevant here).
    pub dims: Dims,
    /// Number of pairs.
    pub len: usize,
    /// `len` records of `mk + kn + mn` values.
    pub data: Vec<f64>,
}

impl Dataset {
    /// Draws `len` pairs from `rng`.
    pub fn random(dims: Dims, len: usize, distr: Distr, rng: &mut ChaCha8Rng) -> Self {
        let (am, bm, cm) = (dims.a_len(), dims.b_len(), dims.c_len());
        let rec = am + bm + cm;
        let mut data = vec![0.0; len * rec];
        let unif = Uniform::new_inclusive(-1.0f64, 1.0);
        for s in 0..len {
            let r = &mut data[s * rec..(s + 1) * rec];
            for x in r[..am + bm].iter_mut() {
                *x = match distr {
                    Distr::Normal => rng.sample::<f64, _>(StandardNormal),
                    Distr::Uniform => unif.sample(rng),
                };
            }
            let (ab, c) = r.split_at_mut(am + bm);
            let (a, b) = ab.split_at(am);
            for i in 0..dims.m {
                for j in 0..dims.n {
                    c[i * dims.n + j] = (0..dims.k)
                        .map(|p| a[i * dims.k + p] * b[p * dims.n + j])
                        .sum();
                }
            }
        }
        Dataset { dims, len, data }
    }

    /// Record length.
    fn rec(&self) -> usize {
        self.dims.a_len() + self.dims.b_len() + self.dims.c_len()
    }

    /// Copies the pairs `idx` into feature-major buffers (`a`: mk rows of `idx.len()`, etc.).
    pub fn gather(&self, idx: &[usize], batch: &mut Batch) {
        let (am, bm, cm) = (self.dims.a_len(), self.dims.b_len(), self.dims.c_len());
        let bsz = idx.len();
        let rec = self.rec();
        batch.len = bsz;
        batch.a.resize(am * bsz, 0.0);
        batch.b.resize(bm * bsz, 0.0);
        batch.c.resize(cm * bsz, 0.0);
        for (s, &i) in idx.iter().enumerate() {
            let r = &self.data[i * rec..(i + 1) * rec];
            for (j, &x) in r[..am].iter().enumerate() {
                batch.a[j * bsz + s] = x;
            }
            for (j, &x) in r[am..am + bm].iter().enumerate() {
                batch.b[j * bsz + s] = x;
            }
            for (j, &x) in r[am + bm..am + bm + cm].iter().enumerate() {
                batch.c[j * bsz + s] = x;
            }
        }
    }

    /// The whole set as one feature-major batch.
    pub fn as_batch(&self) -> Batch {
        let idx: Vec<usize> = (0..self.len).collect();
        let mut b = Batch::default();
        self.gather(&idx, &mut b);
        b
    }
}

/// A feature-major minibatch: row `j` of `a` holds entry `j` of A for every pair.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    /// Number of pairs.
    pub len: usize,
    /// mk rows of `len`.
    pub a: Vec<f64>,
    /// kn rows of `len`.
    pub b: Vec<f64>,
    /// mn rows of `len` (targets).
    pub c: Vec<f64>,
}

/// The minibatches of one epoch: a random permutation of `0..len` cut into chunks of `bsz`
/// (the last chunk may be shorter).
pub fn epoch_order(len: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..len).collect();
    idx.shuffle(rng);
    idx
}
