//! Measurement helpers shared by `strass tune`, `strass bench` and the `table3`/`sweep` benches:
//! seeded random operands, interleaved timing with medians and CPU-time accounting, and honest
//! accuracy figures.

use crate::kernel::Element;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// A square-ish `rows x cols` row-major matrix with entries uniform in [-1, 1), from `seed`.
pub fn random_matrix<T: Element>(rows: usize, cols: usize, seed: u64) -> Vec<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows * cols)
        .map(|_| T::from_f64(rng.gen_range(-1.0..1.0)))
        .collect()
}

/// The median of the values (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = v.len() / 2;
    if v.len() % 2 == 1 {
        v[h]
    } else {
        0.5 * (v[h - 1] + v[h])
    }
}

/// CPU time (user + system) used so far by this process, all threads, in seconds; `None` where
/// `/proc/self/stat` is not available. Resolution: one clock tick (1/100 s on Linux).
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture the crate targets.
    Some((utime + stime) / 100.0)
}

/// One timed call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Wall-clock seconds.
    pub wall: f64,
    /// Process CPU seconds over the call (NaN where unavailable).
    pub cpu: f64,
}

/// Times one call of `f`.
pub fn time_once<E>(f: &mut dyn FnMut() -> Result<(), E>) -> Result<Sample, E> {
    let c0 = process_cpu_seconds();
    let t0 = Instant::now();
    f()?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, process_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    Ok(Sample { wall, cpu })
}

/// The samples of one contender and their summary.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Every timed call, in order.
    pub samples: Vec<Sample>,
}

impl Timings {
    /// Median wall-clock seconds.
    pub fn median_wall(&self) -> f64 {
        median(&self.samples.iter().map(|s| s.wall).collect::<Vec<_>>())
    }

    /// Median of CPU seconds / wall seconds per call: about 1 on one thread, p when p threads
    /// are busy (NaN where CPU time is unavailable or the calls were too short to tell).
    pub fn parallelism(&self) -> f64 {
        let r: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.wall >= 0.05 && s.cpu.is_finite())
            .map(|s| s.cpu / s.wall)
            .collect();
        median(&r)
    }

    /// Smallest and largest wall-clock seconds, to show the spread.
    pub fn range(&self) -> (f64, f64) {
        self.samples
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), s| {
                (lo.min(s.wall), hi.max(s.wall))
            })
    }
}

/// Runs the contenders in turn, `warmup` untimed rounds then `reps` timed rounds
/// (A B C A B C ...), so slow drift of the machine hits all of them alike. `before_round` is
/// called before each timed round with its index and may stop the run early by returning
/// `false` (a time budget); at least one timed round always runs.
pub fn interleaved<E>(
    contenders: &mut [&mut dyn FnMut() -> Result<(), E>],
    warmup: usize,
    reps: usize,
    before_round: impl FnMut(usize) -> bool,
) -> Result<Vec<Timings>, E> {
    interleaved_paused(contenders, warmup, reps, Duration::ZERO, before_round)
}

/// [`interleaved`] with an untimed `pause` after every call, so that what a contender leaves
/// running does not run during the next one's timing: OpenBLAS's worker threads keep spinning
/// for a while after a multi-threaded call before they sleep, and on a machine with few cores
/// they take CPU time from whatever runs next.
pub fn interleaved_paused<E>(
    contenders: &mut [&mut dyn FnMut() -> Result<(), E>],
    warmup: usize,
    reps: usize,
    pause: Duration,
    mut before_round: impl FnMut(usize) -> bool,
) -> Result<Vec<Timings>, E> {
    let rest = || {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    };
    for _ in 0..warmup {
        for f in contenders.iter_mut() {
            f()?;
            rest();
        }
    }
    let mut out = vec![Timings::default(); contenders.len()];
    for round in 0..reps.max(1) {
        if round > 0 && !before_round(round) {
            break;
        }
        for (f, t) in contenders.iter_mut().zip(out.iter_mut()) {
            t.samples.push(time_once(*f)?);
            rest();
        }
    }
    Ok(out)
}

/// `||X - R||_F / ||R||_F` for a result `x` against a reference `r` of the same length
/// (0 when both are zero; infinite when only the reference is zero).
pub fn rel_error_frobenius<T: Element>(x: &[T], r: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(r) {
        let d = a.to_f64() - b;
        num += d * d;
        den += b * b;
    }
    ratio(num.sqrt(), den.sqrt())
}

fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        if num == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        num / den
    }
}

/// A double-double number `hi + lo` (about 106 bits of significand).
#[derive(Debug, Clone, Copy, Default)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl Dd {
    /// Adds the exact product `a * b` (error-free through a fused multiply-add).
    #[inline]
    fn add_prod(self, a: f64, b: f64) -> Dd {
        let p = a * b;
        let pe = a.mul_add(b, -p); // exact: a*b = p + pe
        let s = self.hi + p;
        let bb = s - self.hi;
        let se = (self.hi - (s - bb)) + (p - bb); // exact: hi + p = s + se
        let lo = self.lo + pe + se;
        let hi = s + lo;
        Dd {
            hi,
            lo: lo - (hi - s),
        }
    }
}

/// `y = M x` for a row-major `rows x cols` matrix, each entry accumulated in double-double
/// from double-double `x` (both parts), and returned as double-double.
fn matvec_dd<T: Element>(m: &[T], rows: usize, cols: usize, x: &[Dd]) -> Vec<Dd> {
    (0..rows)
        .map(|i| {
            let row = &m[i * cols..(i + 1) * cols];
            row.iter().zip(x).fold(Dd::default(), |acc, (&a, xv)| {
                let a = a.to_f64();
                acc.add_prod(a, xv.hi).add_prod(a, xv.lo)
            })
        })
        .collect()
}

/// A randomized check of products `C ~ A B`: `||(C - A B) x|| / ||A B x||` for a Gaussian
/// vector `x` (seeded), every product computed in double-double so the figure measures C's
/// error, not the check's. For an m x n error matrix E, `E ||E x||^2 = ||E||_F^2` for standard
/// normal x, so this estimates the same Frobenius ratio as [`rel_error_frobenius`] against an
/// exact reference, in O(mk + kn + mn) work. `A B x` is computed once, at construction.
#[derive(Debug, Clone)]
pub struct ResidualCheck {
    x: Vec<Dd>,
    abx: Vec<Dd>,
    m: usize,
    n: usize,
}

impl ResidualCheck {
    /// Prepares the check for `A` (m x k) and `B` (k x n), row-major.
    pub fn new<T: Element>(a: &[T], b: &[T], m: usize, k: usize, n: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<Dd> = (0..n)
            .map(|_| Dd {
                hi: rng.sample(rand_distr::StandardNormal),
                lo: 0.0,
            })
            .collect();
        let bx = matvec_dd(b, k, n, &x);
        let abx = matvec_dd(a, m, k, &bx);
        ResidualCheck { x, abx, m, n }
    }

    /// The relative error estimate for a result `c` (m x n, row-major).
    pub fn error<T: Element>(&self, c: &[T]) -> f64 {
        let cx = matvec_dd(c, self.m, self.n, &self.x);
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (p, q) in cx.iter().zip(&self.abx) {
            let d = (p.hi - q.hi) + (p.lo - q.lo);
            num += d * d;
            den += q.hi * q.hi;
        }
        ratio(num.sqrt(), den.sqrt())
    }
}

/// [`ResidualCheck`] for one result: an estimate of `||C - A B||_F / ||A B||_F`.
pub fn rel_error_residual<T: Element>(
    a: &[T],
    b: &[T],
    c: &[T],
    m: usize,
    k: usize,
    n: usize,
    seed: u64,
) -> f64 {
    ResidualCheck::new(a, b, m, k, n, seed).error(c)
}

/// Floating-point operations of a classical `m x k` by `k x n` product (2 m k n), the usual
/// yardstick for GFLOP/s even when a fast scheme does fewer.
pub fn gemm_flops(m: usize, k: usize, n: usize) -> f64 {
    2.0 * m as f64 * k as f64 * n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    fn classical(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for l in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + l] * b[l * n + j];
                }
            }
        }
        c
    }

    #[test]
    fn residual_estimate_tracks_the_true_error() {
        let (m, k, n) = (40, 30, 50);
        let a: Vec<f64> = random_matrix(m, k, 1);
        let b: Vec<f64> = random_matrix(k, n, 2);
        let exact = classical(&a, &b, m, k, n);
        // The f64 classical product is accurate to ~1e-16: the check must say so, not report
        // its own rounding.
        assert!(rel_error_residual(&a, &b, &exact, m, k, n, 7) < 1e-14);
        // A known relative perturbation of size 1e-6 is measured as such (within a factor 3).
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let noisy: Vec<f64> = exact
            .iter()
            .map(|&v| v + 1e-6 * v.abs().max(1.0) * rng.gen_range(-1.0..1.0))
            .collect();
        let truth = rel_error_frobenius(&noisy, &exact);
        let est = rel_error_residual(&a, &b, &noisy, m, k, n, 7);
        assert!(est > truth / 3.0 && est < truth * 3.0, "{est} vs {truth}");
        // f32 inputs/outputs: the rounding of C to f32 is seen.
        let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let a64: Vec<f64> = a32.iter().map(|&v| v as f64).collect();
        let b64: Vec<f64> = b32.iter().map(|&v| v as f64).collect();
        let c32: Vec<f32> = classical(&a64, &b64, m, k, n)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let e = rel_error_residual(&a32, &b32, &c32, m, k, n, 3);
        assert!(e > 1e-9 && e < 1e-6, "{e}");
    }

    #[test]
    fn interleaving_order_and_budget() {
        let log = std::cell::RefCell::new(Vec::new());
        let mut a = || -> Result<(), ()> {
            log.borrow_mut().push('a');
            Ok(())
        };
        let mut b = || -> Result<(), ()> {
            log.borrow_mut().push('b');
            Ok(())
        };
        let t = interleaved(&mut [&mut a, &mut b], 1, 3, |round| round < 2).unwrap();
        assert_eq!(log.borrow().iter().collect::<String>(), "ababab");
        assert_eq!(t[0].samples.len(), 2);
        assert_eq!(t[1].samples.len(), 2);
        // With a pause: the same order, each of the eight calls followed by the pause, and none
        // of the pause inside a sample.
        log.borrow_mut().clear();
        let pause = Duration::from_millis(15);
        let t0 = Instant::now();
        let t = interleaved_paused(&mut [&mut a, &mut b], 1, 3, pause, |_| true).unwrap();
        let total = t0.elapsed();
        assert_eq!(log.borrow().iter().collect::<String>(), "abababab");
        assert!(total >= pause * 8, "{total:?}");
        let timed: f64 = t.iter().flat_map(|x| &x.samples).map(|s| s.wall).sum();
        assert!(timed < (pause * 8).as_secs_f64() / 2.0, "{timed}");
        // A failing contender stops the run with its error.
        let mut bad = || -> Result<(), u8> { Err(7) };
        assert_eq!(
            interleaved_paused(&mut [&mut bad], 0, 2, pause, |_| true).err(),
            Some(7)
        );
    }

    #[test]
    fn cpu_time_advances_with_work() {
        let Some(c0) = process_cpu_seconds() else {
            return; // no /proc: nothing to check
        };
        // Spin until the process has used 0.05 s of CPU (or 20 s of wall time on a starved
        // machine); the counter must move.
        let t0 = Instant::now();
        let mut x = 0u64;
        let mut c1 = c0;
        while c1 - c0 < 0.05 && t0.elapsed().as_secs_f64() < 20.0 {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            c1 = process_cpu_seconds().unwrap();
        }
        std::hint::black_box(x);
        assert!(c1 - c0 >= 0.05, "{c0} -> {c1}");
    }
}
