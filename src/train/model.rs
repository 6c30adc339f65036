//! The rank-R bilinear model `c = W((U a) * (V b))` for `<m,k,n>`, with hand-written forward and
//! backward passes vectorised over a minibatch, and the exact tensor objective.
//!
//! Parameters live in one flat `f64` vector `theta` (so the optimiser sees a single slice):
//! `U` (R x mk, row-major) first, then `V` (R x kn, row-major), then `W` (mn x R, row-major).
//! These are exactly the `u`, `v`, `w` arrays of a `strass-scheme/1` file, in floating point.
//!
//! Every reduction runs in a fixed order on one thread, so a given `theta` and batch always give
//! bit-identical losses and gradients.

use rand::Rng;
use rand_distr::StandardNormal;

/// The shape of a bilinear model: `C (m x n) = A (m x k) B (k x n)` with `rank` products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dims {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Number of products (slots).
    pub rank: usize,
}

impl Dims {
    /// `<2,2,2>` with `rank` slots.
    pub fn two_by_two(rank: usize) -> Self {
        Dims {
            m: 2,
            k: 2,
            n: 2,
            rank,
        }
    }
    /// Entries of A.
    pub fn a_len(&self) -> usize {
        self.m * self.k
    }
    /// Entries of B.
    pub fn b_len(&self) -> usize {
        self.k * self.n
    }
    /// Entries of C.
    pub fn c_len(&self) -> usize {
        self.m * self.n
    }
    /// Number of parameters, `R (mk + kn) + mn R`.
    pub fn num_params(&self) -> usize {
        self.rank * (self.a_len() + self.b_len() + self.c_len())
    }
    /// Offsets of U, V and W in `theta`.
    fn offsets(&self) -> (usize, usize, usize) {
        let ou = 0;
        let ov = self.rank * self.a_len();
        let ow = ov + self.rank * self.b_len();
        (ou, ov, ow)
    }
    /// The same shape with another rank.
    pub fn with_rank(&self, rank: usize) -> Self {
        Dims { rank, ..*self }
    }
}

/// Splits a flat parameter (or gradient) vector into its U, V and W parts.
pub fn split<'a>(dims: &Dims, theta: &'a [f64]) -> (&'a [f64], &'a [f64], &'a [f64]) {
    let (_, ov, ow) = dims.offsets();
    let (u, rest) = theta.split_at(ov);
    let (v, w) = rest.split_at(ow - ov);
    (u, v, w)
}

/// Mutable version of [`split`].
pub fn split_mut<'a>(
    dims: &Dims,
    theta: &'a mut [f64],
) -> (&'a mut [f64], &'a mut [f64], &'a mut [f64]) {
    let (_, ov, ow) = dims.offsets();
    let (u, rest) = theta.split_at_mut(ov);
    let (v, w) = rest.split_at_mut(ow - ov);
    (u, v, w)
}

/// The matrix-multiplication tensor of `<m,k,n>` as a dense `(mk) x (kn) x (mn)` array
/// (index `(ia * kn + ib) * mn + ic`), with the index conventions of the scheme verifier.
pub fn matmul_tensor(d: &Dims) -> Vec<f64> {
    let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
    let mut t = vec![0.0; am * bm * cm];
    for i in 0..d.m {
        for p in 0..d.k {
            for j in 0..d.n {
                let ia = i * d.k + p;
                let ib = p * d.n + j;
                let ic = i * d.n + j;
                t[(ia * bm + ib) * cm + ic] = 1.0;
            }
        }
    }
    t
}

/// A rank-R bilinear model with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Shape.
    pub dims: Dims,
    /// Flat parameters: U, V, W (see the module documentation).
    pub theta: Vec<f64>,
}

/// Scratch buffers for [`Model::batch_loss_grad`], reused across steps.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    p: Vec<f64>,
    q: Vec<f64>,
    h: Vec<f64>,
    e: Vec<f64>,
}

/// Sum of `x[s] * y[s]` in a fixed order with four interleaved partial sums (vectorisable and
/// deterministic).
#[inline]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let o = 4 * c;
        for l in 0..4 {
            acc[l] += x[o + l] * y[o + l];
        }
    }
    let mut tail = 0.0;
    for s in 4 * chunks..n {
        tail += x[s] * y[s];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `out[s] = sum_j coef[j] * x[j][s]` for a feature-major block `x` (rows of length `bsz`).
#[inline]
fn combine(out: &mut [f64], coef: &[f64], x: &[f64], bsz: usize) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for (j, &c) in coef.iter().enumerate() {
        if c == 0.0 {
            continue;
        }
        let row = &x[j * bsz..(j + 1) * bsz];
        for (o, &xv) in out.iter_mut().zip(row) {
            *o += c * xv;
        }
    }
}

impl Model {
    /// A model with every parameter drawn from N(0, scale^2). With `symmetric`, V is set equal
    /// to U (requires `mk == kn`).
    pub fn random<R: Rng>(dims: Dims, scale: f64, symmetric: bool, rng: &mut R) -> Self {
        let mut theta: Vec<f64> = (0..dims.num_params())
            .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
            .collect();
        if symmetric && dims.a_len() == dims.b_len() {
            let (u, v, _) = split_mut(&dims, &mut theta);
            v.copy_from_slice(u);
        }
        Model { dims, theta }
    }

    /// Computes C for one pair, `a` (mk) and `b` (kn) row-major; writes `c` (mn).
    pub fn predict(&self, a: &[f64], b: &[f64], c: &mut [f64]) {
        let d = &self.dims;
        let (u, v, w) = split(d, &self.theta);
        let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
        let h: Vec<f64> = (0..d.rank)
            .map(|r| {
                let p: f64 = (0..am).map(|j| u[r * am + j] * a[j]).sum();
                let q: f64 = (0..bm).map(|j| v[r * bm + j] * b[j]).sum();
                p * q
            })
            .collect();
        for i in 0..cm {
            c[i] = (0..d.rank).map(|r| w[i * d.rank + r] * h[r]).sum();
        }
    }

    /// MSE loss on a feature-major batch (`a`: mk rows of `bsz`, `b`: kn rows, `c`: mn rows of
    /// targets), the mean over the batch and over the mn entries of C. When `grad` is given,
    /// the gradient of that loss is written into it (overwritten, same layout as `theta`).
    pub fn batch_loss_grad(
        &self,
        a: &[f64],
        b: &[f64],
        c: &[f64],
        bsz: usize,
        grad: Option<&mut [f64]>,
        ws: &mut Workspace,
    ) -> f64 {
        let d = &self.dims;
        let (r_n, am, bm, cm) = (d.rank, d.a_len(), d.b_len(), d.c_len());
        let (u, v, w) = split(d, &self.theta);
        ws.p.resize(r_n * bsz, 0.0);
        ws.q.resize(r_n * bsz, 0.0);
        ws.h.resize(r_n * bsz, 0.0);
        ws.e.resize(cm * bsz, 0.0);
        // Forward: p = U a, q = V b, h = p * q (all R x bsz).
        for r in 0..r_n {
            combine(
                &mut ws.p[r * bsz..(r + 1) * bsz],
                &u[r * am..(r + 1) * am],
                a,
                bsz,
            );
            combine(
                &mut ws.q[r * bsz..(r + 1) * bsz],
                &v[r * bm..(r + 1) * bm],
                b,
                bsz,
            );
            let (p, q) = (&ws.p[r * bsz..(r + 1) * bsz], &ws.q[r * bsz..(r + 1) * bsz]);
            for ((h, &p), &q) in ws.h[r * bsz..(r + 1) * bsz].iter_mut().zip(p).zip(q) {
                *h = p * q;
            }
        }
        // e = W h - c (mn x bsz); loss = mean e^2.
        let mut sse = 0.0;
        for i in 0..cm {
            let e = &mut ws.e[i * bsz..(i + 1) * bsz];
            combine(e, &w[i * r_n..(i + 1) * r_n], &ws.h, bsz);
            for (ev, &cv) in e.iter_mut().zip(&c[i * bsz..(i + 1) * bsz]) {
                *ev -= cv;
            }
            sse += dot(e, e);
        }
        let scale = 1.0 / (bsz * cm) as f64;
        let loss = sse * scale;
        let Some(grad) = grad else {
            return loss;
        };
        // Backward. dL/de = 2 e / (bsz mn).
        let g = 2.0 * scale;
        let (gu, gv, gw) = split_mut(d, grad);
        for i in 0..cm {
            let e = &ws.e[i * bsz..(i + 1) * bsz];
            for r in 0..r_n {
                gw[i * r_n + r] = g * dot(e, &ws.h[r * bsz..(r + 1) * bsz]);
            }
        }
        // dh = W^T e (reuse h's buffer: h is no longer needed once dW is done).
        for r in 0..r_n {
            let wcol: Vec<f64> = (0..cm).map(|i| w[i * r_n + r]).collect();
            let dh = &mut ws.h[r * bsz..(r + 1) * bsz];
            combine(dh, &wcol, &ws.e, bsz);
            // dp = dh * q, dq = dh * p, stored in place of p and q.
            let p = &mut ws.p[r * bsz..(r + 1) * bsz];
            let q = &mut ws.q[r * bsz..(r + 1) * bsz];
            for ((pv, qv), &hv) in p.iter_mut().zip(q.iter_mut()).zip(dh.iter()) {
                let (pp, qq) = (*pv, *qv);
                *pv = hv * qq;
                *qv = hv * pp;
            }
            for j in 0..am {
                gu[r * am + j] = g * dot(p, &a[j * bsz..(j + 1) * bsz]);
            }
            for j in 0..bm {
                gv[r * bm + j] = g * dot(q, &b[j * bsz..(j + 1) * bsz]);
            }
        }
        loss
    }

    /// The exact tensor objective `||T - sum_r u_r (x) v_r (x) w_r||^2` (sum of squares over all
    /// `(mk)(kn)(mn)` entries). For A, B with independent N(0,1) entries this is `mn` times the
    /// expected per-entry MSE, so it is the population version of the data loss. When `grad`
    /// is given, its gradient is written into it.
    pub fn tensor_loss_grad(&self, target: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let mut resid = Vec::new();
        self.tensor_loss_grad_ws(target, grad, &mut resid)
    }

    /// [`Model::tensor_loss_grad`] with a caller-provided residual buffer.
    pub fn tensor_loss_grad_ws(
        &self,
        target: &[f64],
        grad: Option<&mut [f64]>,
        resid: &mut Vec<f64>,
    ) -> f64 {
        let d = &self.dims;
        let (r_n, am, bm, cm) = (d.rank, d.a_len(), d.b_len(), d.c_len());
        let (u, v, w) = split(d, &self.theta);
        resid.clear();
        resid.extend_from_slice(target);
        // resid = T - sum_r u_r v_r w_r
        for r in 0..r_n {
            for ia in 0..am {
                let ua = u[r * am + ia];
                if ua == 0.0 {
                    continue;
                }
                for ib in 0..bm {
                    let uv = ua * v[r * bm + ib];
                    if uv == 0.0 {
                        continue;
                    }
                    let row = &mut resid[(ia * bm + ib) * cm..(ia * bm + ib + 1) * cm];
                    for (ic, x) in row.iter_mut().enumerate() {
                        *x -= uv * w[ic * r_n + r];
                    }
                }
            }
        }
        let loss: f64 = resid.iter().map(|x| x * x).sum();
        let Some(grad) = grad else {
            return loss;
        };
        let (gu, gv, gw) = split_mut(d, grad);
        gu.iter_mut().for_each(|x| *x = 0.0);
        gv.iter_mut().for_each(|x| *x = 0.0);
        gw.iter_mut().for_each(|x| *x = 0.0);
        // dL/d(u v w entry) = -2 resid.
        for r in 0..r_n {
            for ia in 0..am {
                let ua = u[r * am + ia];
                for ib in 0..bm {
                    let vb = v[r * bm + ib];
                    let row = &resid[(ia * bm + ib) * cm..(ia * bm + ib + 1) * cm];
                    // s = sum_ic resid * w
                    let mut s = 0.0;
                    for (ic, &x) in row.iter().enumerate() {
                        let wv = w[ic * r_n + r];
                        s += x * wv;
                        gw[ic * r_n + r] -= 2.0 * x * ua * vb;
                    }
                    gu[r * am + ia] -= 2.0 * s * vb;
                    gv[r * bm + ib] -= 2.0 * s * ua;
                }
            }
        }
        loss
    }

    /// Importance of each slot: the Frobenius norm of its rank-one tensor,
    /// `||u_r|| * ||v_r|| * ||w_r||` (invariant under the rescaling gauge).
    pub fn slot_importance(&self) -> Vec<f64> {
        let d = &self.dims;
        let (u, v, w) = split(d, &self.theta);
        let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
        (0..d.rank)
            .map(|r| {
                let nu = u[r * am..(r + 1) * am].iter().map(|x| x * x).sum::<f64>();
                let nv = v[r * bm..(r + 1) * bm].iter().map(|x| x * x).sum::<f64>();
                let nw = (0..cm).map(|i| w[i * d.rank + r].powi(2)).sum::<f64>();
                (nu * nv * nw).sqrt()
            })
            .collect()
    }

    /// Keeps only the given slots, in the given order.
    pub fn select_slots(&self, keep: &[usize]) -> Model {
        let d = &self.dims;
        let nd = d.with_rank(keep.len());
        let (u, v, w) = split(d, &self.theta);
        let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
        let mut theta = Vec::with_capacity(nd.num_params());
        for &r in keep {
            theta.extend_from_slice(&u[r * am..(r + 1) * am]);
        }
        for &r in keep {
            theta.extend_from_slice(&v[r * bm..(r + 1) * bm]);
        }
        for i in 0..cm {
            for &r in keep {
                theta.push(w[i * d.rank + r]);
            }
        }
        Model { dims: nd, theta }
    }

    /// Rescales slot `r` by `(alpha, beta, 1/(alpha beta))` on (u, v, w): the product is unchanged.
    pub fn rescale_slot(&mut self, r: usize, alpha: f64, beta: f64) {
        let d = self.dims;
        let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
        let (u, v, w) = split_mut(&d, &mut self.theta);
        u[r * am..(r + 1) * am].iter_mut().for_each(|x| *x *= alpha);
        v[r * bm..(r + 1) * bm].iter_mut().for_each(|x| *x *= beta);
        let g = 1.0 / (alpha * beta);
        for i in 0..cm {
            w[i * d.rank + r] *= g;
        }
    }

    /// Gauge balancing: rescales every slot so that the largest absolute entries of u_r, v_r
    /// and w_r are equal (to the cube root of their product). Slots with a zero factor are left
    /// as they are. The computed function is unchanged (up to rounding).
    pub fn balance_max(&mut self) {
        let d = self.dims;
        let (am, bm, cm) = (d.a_len(), d.b_len(), d.c_len());
        for r in 0..d.rank {
            let (u, v, w) = split(&d, &self.theta);
            let mu = u[r * am..(r + 1) * am]
                .iter()
                .fold(0.0f64, |m, x| m.max(x.abs()));
            let mv = v[r * bm..(r + 1) * bm]
                .iter()
                .fold(0.0f64, |m, x| m.max(x.abs()));
            let mw = (0..cm).fold(0.0f64, |m, i| m.max(w[i * d.rank + r].abs()));
            if mu == 0.0 || mv == 0.0 || mw == 0.0 {
                continue;
            }
            let g = (mu * mv * mw).cbrt();
            self.rescale_slot(r, g / mu, g / mv);
        }
    }
}
