//! AdamW (Loshchilov and Hutter): Adam with decoupled weight decay.
//!
//! One step with gradient `g` at step `t` (counted from 1):
//! ```text
//! theta <- theta - lr * wd * theta                 (decoupled decay, before the Adam update)
//! m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
//! theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//! ```
//! This is the update PyTorch's `torch.optim.AdamW` performs.

/// AdamW hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator guard.
    pub eps: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            weight_decay: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// AdamW state for one parameter vector.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// Hyper-parameters (the learning rate may be changed between steps, e.g. by a schedule).
    pub config: AdamWConfig,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl AdamW {
    /// Fresh state (zero moments) for `n` parameters.
    pub fn new(config: AdamWConfig, n: usize) -> Self {
        AdamW {
            config,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Applies one update to `theta` with gradient `grad`.
    pub fn step(&mut self, theta: &mut [f64], grad: &[f64]) {
        assert_eq!(theta.len(), self.m.len(), "AdamW: parameter count changed");
        assert_eq!(grad.len(), self.m.len(), "AdamW: gradient length mismatch");
        self.t += 1;
        let c = self.config;
        let bc1 = 1.0 - c.beta1.powi(self.t.min(i32::MAX as u64) as i32);
        let bc2 = 1.0 - c.beta2.powi(self.t.min(i32::MAX as u64) as i32);
        let decay = 1.0 - c.lr * c.weight_decay;
        for i in 0..theta.len() {
            let g = grad[i];
            let m = c.beta1 * self.m[i] + (1.0 - c.beta1) * g;
            let v = c.beta2 * self.v[i] + (1.0 - c.beta2) * g * g;
            self.m[i] = m;
            self.v[i] = v;
            let mhat = m / bc1;
            let vhat = v / bc2;
            theta[i] = theta[i] * decay - c.lr * mhat / (vhat.sqrt() + c.eps);
        }
    }
}
