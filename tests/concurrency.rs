//! Many threads sharing one `Engine` (and the global `strassen_mul`) multiply at once; every
//! result is compared with a classical reference.

mod common;

use common::{reference, Lcg, MulExt};
use std::sync::Arc;
use strass::{Engine, Leaf};

const THREADS: usize = 8;
const CALLS: usize = 12;

fn max_rel_error(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / scale)
        .fold(0.0, f64::max)
}

/// Shapes that recurse (cutoff 32) with odd sizes, so peeling and the workspace are exercised.
fn shape(t: usize, i: usize) -> (usize, usize, usize) {
    let s = [
        (65, 70, 67),
        (128, 96, 64),
        (97, 131, 33),
        (64, 64, 64),
        (150, 41, 77),
    ];
    s[(t + i) % s.len()]
}

fn run_shared(engine: Arc<Engine>, use_global: bool) {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let mut rng = Lcg(1000 + t as u64);
                for i in 0..CALLS {
                    let (m, k, n) = shape(t, i);
                    let a: Vec<f64> = rng.vec(m * k);
                    let b: Vec<f64> = rng.vec(k * n);
                    let mut c = vec![f64::NAN; m * n];
                    if use_global && i % 2 == 1 {
                        strass::strassen_mul(&a, &b, &mut c, m, k, n).unwrap();
                    } else {
                        engine.mul(1.0, &a, &b, 0.0, &mut c, (m, k, n)).unwrap();
                    }
                    let want = reference(
                        m,
                        k,
                        n,
                        1.0,
                        |i, p| a[i * k + p],
                        |p, j| b[p * n + j],
                        0.0,
                        |_, _| 0.0,
                    );
                    let err = max_rel_error(&c, &want);
                    assert!(
                        err < 1e-10,
                        "thread {t} call {i} <{m},{k},{n}>: error {err:e}"
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a worker thread failed");
    }
}

#[test]
fn threads_sharing_one_engine_get_correct_results() {
    let engine = Arc::new(
        Engine::new()
            .cutoff(32)
            .threads(2)
            .leaf(Leaf::MatrixMultiply),
    );
    run_shared(engine, true);
}

#[test]
fn threads_sharing_one_fused_engine_get_correct_results() {
    let engine = Arc::new(Engine::new().cutoff(32).threads(1).leaf(Leaf::Fused));
    run_shared(engine, false);
}
