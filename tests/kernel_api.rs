//! The kernel's API contract: errors (never panics) for bad shapes and options, special values,
//! empty matrices, beta = 0, thread safety, independence of the thread count, the workspace size,
//! and the plan's addition counts.

mod common;

use common::{classical, kron, scheme, Lcg, MulExt};
use strass::kernel::KernelError;
use strass::plan::Plan;
use strass::{strassen_mul, Engine, Error, Leaf, MatMut, MatRef};

fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    common::reference(
        m,
        k,
        n,
        1.0,
        |i, p| a[i * k + p],
        |p, j| b[p * n + j],
        0.0,
        |_, _| 0.0,
    )
}

fn is_shape(e: &Error) -> bool {
    matches!(e, Error::Kernel(KernelError::Shape(_)))
}

fn is_option(e: &Error) -> bool {
    matches!(e, Error::Kernel(KernelError::Option(_)))
}

#[test]
fn strassen_mul_computes_the_product() {
    let mut rng = Lcg(1);
    for (m, k, n) in [
        (0, 0, 0),
        (1, 1, 1),
        (3, 0, 2),
        (130, 70, 190),
        (600, 600, 600),
        (1030, 513, 517),
    ] {
        let a = rng.vec::<f64>(m * k);
        let b = rng.vec::<f64>(k * n);
        let mut c = vec![f64::NAN; m * n];
        strassen_mul(&a, &b, &mut c, m, k, n).unwrap();
        let want = naive(&a, &b, m, k, n);
        for (x, y) in c.iter().zip(&want) {
            assert!(
                (x - y).abs() <= 1e-11 * (k as f64 + 1.0),
                "{m}x{k}x{n}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn slice_lengths_that_do_not_match_are_errors() {
    let a = vec![0.0f32; 6];
    let b = vec![0.0f32; 6];
    let mut c = vec![0.0f32; 4];
    assert!(strassen_mul(&a, &b, &mut c, 2, 3, 2).is_ok());
    for (m, k, n) in [(2, 3, 3), (3, 2, 2), (2, 2, 2), (1, 3, 2)] {
        let e = strassen_mul(&a, &b, &mut c, m, k, n).unwrap_err();
        assert!(is_shape(&e), "{m}x{k}x{n}: {e}");
    }
    // Engine: inner dimensions that disagree.
    let e = Engine::new()
        .gemm(
            1.0,
            MatRef::row_major(&a, 2, 3).unwrap(),
            MatRef::row_major(&b, 2, 3).unwrap(),
            0.0,
            MatMut::row_major(&mut c, 2, 2).unwrap(),
        )
        .unwrap_err();
    assert!(is_shape(&e), "{e}");
    // Views that do not fit their slices.
    assert!(MatRef::new(&a, 3, 3, 3, 1).is_err());
    assert!(MatRef::new(&a, 2, 3, 3, 1).is_ok());
    assert!(MatRef::new(&a, 2, 2, 5, 1).is_err());
    assert!(MatRef::new(&a, 2, 2, 4, 1).is_ok());
}

#[test]
fn dimension_products_that_overflow_are_errors() {
    let mut c: Vec<f64> = vec![];
    let big = usize::MAX / 2 + 1;
    let e = strassen_mul::<f64>(&[], &[], &mut c, big, 4, 0).unwrap_err();
    assert!(is_shape(&e), "{e}");
    let e = strassen_mul::<f64>(&[], &[], &mut c, 3, big, 3).unwrap_err();
    assert!(is_shape(&e), "{e}");
    // Broadcast views (stride 0) can describe huge matrices in one element.
    let one = [1.0f64];
    let a = MatRef::new(&one, 1 << 40, 1 << 40, 0, 0).unwrap();
    let b = MatRef::new(&one, 1 << 40, 1, 0, 0).unwrap();
    let mut out = vec![0.0f64; 1];
    let cm = MatMut::new(&mut out, 1 << 40, 1, 0, 0);
    assert!(
        cm.is_err(),
        "a view whose elements share memory must be refused"
    );
    let cm = MatMut::new(&mut out, 1, 1, 1, 1).unwrap();
    assert!(Engine::new().gemm(1.0, a, b, 0.0, cm).is_err());
    let a = MatRef::new(&one, 1 << 22, 1 << 22, 0, 0).unwrap();
    let b = MatRef::new(&one, 1 << 22, 1 << 22, 0, 0).unwrap();
    let mut tiny = vec![0.0f64; 1];
    let cm = MatMut::new(&mut tiny, 1, 1, 1, 1).unwrap();
    // m k n = 2^66 overflows.
    let e = Engine::new().gemm(
        1.0,
        a.submatrix(0, 0, 1 << 22, 1 << 22).unwrap(),
        b,
        0.0,
        cm,
    );
    assert!(e.is_err());
    let e = Engine::new()
        .workspace_bytes::<f64>(1 << 22, 1 << 22, 1 << 22)
        .unwrap_err();
    assert!(is_shape(&e), "{e}");
}

#[test]
fn c_views_whose_elements_share_memory_are_refused() {
    let mut buf = vec![0.0f32; 16];
    assert!(MatMut::new(&mut buf, 2, 2, 1, 1).is_err());
    assert!(MatMut::new(&mut buf, 3, 3, 2, 1).is_err());
    assert!(MatMut::new(&mut buf, 2, 2, 0, 1).is_err());
    assert!(MatMut::new(&mut buf, 4, 4, 4, 1).is_ok());
    assert!(MatMut::new(&mut buf, 4, 4, 1, 4).is_ok());
    assert!(MatMut::new(&mut buf, 2, 3, 2, 6).is_ok());
    assert!(MatMut::new(&mut buf, 1, 16, 0, 1).is_ok());
    assert!(MatMut::new(&mut buf, 16, 1, 1, 0).is_ok());
    // Overlap of C with A or B cannot be expressed in safe Rust (C is a unique borrow); the
    // engine still compares address ranges before writing.
}

#[test]
fn unverified_schemes_are_refused() {
    let s = scheme("strassen").edited(|_, _, w| w[0][0] = 0).unwrap();
    let e = Engine::new().with_scheme(&s).unwrap_err();
    assert!(matches!(e, Error::Scheme(_)), "{e}");
    assert!(Plan::compile(&s).is_err());
}

#[test]
fn bad_options_are_errors_at_gemm() {
    let a = vec![1.0f64; 4];
    let mut c = vec![0.0f64; 4];
    let g = |e: Engine, c: &mut Vec<f64>| e.mul(1.0, &a, &a, 0.0, c, (2, 2, 2));
    assert!(is_option(&g(Engine::new().cutoff(0), &mut c).unwrap_err()));
    assert!(is_option(&g(Engine::new().threads(0), &mut c).unwrap_err()));
    assert!(is_option(
        &g(
            Engine::new().threads(strass::kernel::MAX_THREADS + 1),
            &mut c
        )
        .unwrap_err()
    ));
    assert!(g(Engine::new().cutoff(1).threads(2).max_levels(0), &mut c).is_ok());
    assert_eq!(c, vec![2.0; 4]);
}

#[test]
fn beta_zero_ignores_nan_in_c_and_other_betas_scale_it() {
    let mut rng = Lcg(2);
    let (m, k, n) = (67, 45, 89);
    let a = rng.vec::<f64>(m * k);
    let b = rng.vec::<f64>(k * n);
    let want = naive(&a, &b, m, k, n);
    for (cutoff, p, leaf) in [
        (8, 1, Leaf::MatrixMultiply),
        (8, 2, Leaf::MatrixMultiply),
        (1000, 1, Leaf::MatrixMultiply),
        (8, 1, Leaf::Fused),
        (8, 2, Leaf::Fused),
        (1000, 2, Leaf::Fused),
    ] {
        let e = Engine::new().cutoff(cutoff).threads(p).leaf(leaf);
        let mut c = vec![f64::NAN; m * n];
        e.mul(1.0, &a, &b, 0.0, &mut c, (m, k, n)).unwrap();
        assert!(
            c.iter().all(|x| x.is_finite()),
            "NaN leaked from C with beta = 0"
        );
        let mut c2 = vec![1.5; m * n];
        e.mul(2.0, &a, &b, -1.0, &mut c2, (m, k, n)).unwrap();
        for (x, y) in c2.iter().zip(&want) {
            assert!((x - (2.0 * y - 1.5)).abs() < 1e-12);
        }
    }
}

#[test]
fn alpha_zero_and_k_zero_do_not_read_a_and_b() {
    let (m, k, n) = (40, 40, 40);
    let a = vec![f64::NAN; m * k];
    let b = vec![f64::INFINITY; k * n];
    let mut c = vec![3.0; m * n];
    Engine::new()
        .cutoff(4)
        .mul(0.0, &a, &b, 2.0, &mut c, (m, k, n))
        .unwrap();
    assert!(c.iter().all(|&x| x == 6.0));
    let mut c = vec![f64::NAN; m * n];
    Engine::new()
        .mul(1.0, &[], &[], 0.0, &mut c, (m, 0, n))
        .unwrap();
    assert!(c.iter().all(|&x| x == 0.0), "k = 0, beta = 0 gives zeros");
}

#[test]
fn empty_matrices_are_fine() {
    for (m, k, n) in [(0, 5, 7), (5, 0, 7), (5, 7, 0), (0, 0, 0)] {
        let a = vec![1.0f32; m * k];
        let b = vec![1.0f32; k * n];
        let mut c = vec![f32::NAN; m * n];
        strassen_mul(&a, &b, &mut c, m, k, n).unwrap();
        assert!(c.iter().all(|&x| x == 0.0));
    }
}

/// What a fast scheme does with Inf and NaN, documented by example (one Strassen level on 4x4,
/// A has +Inf at (0,0), everything else 1):
/// * the classical product gives +Inf in row 0 and 4 elsewhere;
/// * Strassen gives NaN in C[0][0..2] (M1 - M5 = Inf - Inf), and spreads non-finite values to
///   C[2][2..4] (M1 also feeds C22), where the classical product is finite.
#[test]
fn inf_and_nan_spread_differently_than_in_the_classical_product() {
    let n = 4;
    let mut a = vec![1.0f64; n * n];
    a[0] = f64::INFINITY;
    let b = vec![1.0f64; n * n];
    let mut classical_c = vec![0.0; n * n];
    Engine::new()
        .max_levels(0)
        .mul(1.0, &a, &b, 0.0, &mut classical_c, (n, n, n))
        .unwrap();
    assert!(classical_c[..n].iter().all(|&x| x == f64::INFINITY));
    assert!(classical_c[n..].iter().all(|&x| x == 4.0));
    let mut c = vec![0.0; n * n];
    let e = Engine::new()
        .with_scheme(&scheme("strassen"))
        .unwrap()
        .cutoff(2)
        .max_levels(1)
        .threads(1);
    e.mul(1.0, &a, &b, 0.0, &mut c, (n, n, n)).unwrap();
    assert!(
        c[0].is_nan() && c[1].is_nan(),
        "Inf - Inf in C11: {:?}",
        &c[..n]
    );
    assert!(
        c[2 * n + 2..3 * n].iter().all(|x| !x.is_finite()),
        "C22 gets M1's Inf: {:?}",
        &c[2 * n..3 * n]
    );
    assert!(
        c[2 * n..2 * n + 2].iter().all(|&x| x == 4.0),
        "C21 stays finite: {:?}",
        &c[2 * n..3 * n]
    );
    // Finite inputs stay finite; a NaN in B spreads like the Inf above.
    let mut b2 = b.clone();
    b2[0] = f64::NAN;
    let mut c2 = vec![0.0; n * n];
    e.mul(1.0, &vec![1.0; n * n], &b2, 0.0, &mut c2, (n, n, n))
        .unwrap();
    assert!(
        c2.iter().filter(|x| x.is_nan()).count() > n,
        "a NaN in B reaches more than its column"
    );
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    let mut rng = Lcg(3);
    for s in [scheme("strassen"), scheme("winograd"), classical(2, 3, 4)] {
        let (m, k, n) = (257, 301, 263);
        let a = rng.vec::<f32>(m * k);
        let b = rng.vec::<f32>(k * n);
        let mut results: Vec<Vec<f32>> = Vec::new();
        for (p, leaf) in [1, 2, 3, 4, 7]
            .into_iter()
            .flat_map(|p| [(p, Leaf::MatrixMultiply), (p, Leaf::Fused)])
        {
            let mut c = vec![0.0f32; m * n];
            let e = Engine::new()
                .with_scheme(&s)
                .unwrap()
                .cutoff(12)
                .threads(p)
                .leaf(leaf);
            assert!(e.levels_for::<f32>(m, k, n) >= 2);
            e.mul(1.0, &a, &b, 0.0, &mut c, (m, k, n)).unwrap();
            results.push(c);
        }
        // Per leaf (even indices: matrixmultiply, odd: fused), every p gives the same bits.
        for (i, r) in results.iter().enumerate().skip(2) {
            assert!(
                r.iter()
                    .zip(&results[i % 2])
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{} ({}): result depends on p",
                s.name(),
                if i % 2 == 0 {
                    "matrixmultiply"
                } else {
                    "fused"
                }
            );
        }
    }
}

#[test]
fn one_engine_is_safe_to_use_from_several_threads_at_once() {
    let engine = Engine::new().cutoff(16).threads(2);
    let mut rng = Lcg(4);
    let (m, k, n) = (150, 170, 130);
    let a = rng.vec::<f64>(m * k);
    let b = rng.vec::<f64>(k * n);
    let mut want = vec![0.0; m * n];
    engine.mul(1.0, &a, &b, 0.0, &mut want, (m, k, n)).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..5 {
                    let mut c = vec![0.0; m * n];
                    engine.mul(1.0, &a, &b, 0.0, &mut c, (m, k, n)).unwrap();
                    assert_eq!(c, want);
                    let mut c2 = vec![0.0; m * n];
                    strassen_mul(&a, &b, &mut c2, m, k, n).unwrap();
                    assert!(c2.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-10));
                }
            });
        }
    });
}

#[test]
fn single_thread_workspace_stays_within_the_size_of_c() {
    for s in [scheme("strassen"), scheme("winograd")] {
        for n in [64usize, 100, 255, 512, 1000, 4096, 8192, 8191] {
            for cutoff in [8, 32, 128] {
                let e = Engine::new()
                    .with_scheme(&s)
                    .unwrap()
                    .cutoff(cutoff)
                    .threads(1);
                let ws = e.workspace_bytes::<f32>(n, n, n).unwrap();
                assert!(
                    ws <= n * n * 4,
                    "{} n={n} cutoff={cutoff}: workspace {ws} > C {}",
                    s.name(),
                    n * n * 4
                );
            }
        }
    }
    // Two threads at the top of an 8192 Strassen product: about 2.5x C (documented figure).
    let e = Engine::new().cutoff(512).threads(2);
    let ws = e.workspace_bytes::<f32>(8192, 8192, 8192).unwrap();
    assert!(ws <= 8192 * 8192 * 4 * 3, "{ws}");
}

#[test]
fn levels_follow_the_cutoff_and_the_level_limit() {
    let e = Engine::new().cutoff(1024);
    assert_eq!(e.levels_for::<f32>(8192, 8192, 8192), 3);
    assert_eq!(e.levels_for::<f32>(8191, 8192, 8192), 2);
    assert_eq!(e.levels_for::<f32>(2047, 2047, 2047), 0);
    assert_eq!(e.levels_for::<f32>(8192, 100, 8192), 0);
    assert_eq!(
        e.clone().max_levels(1).levels_for::<f64>(8192, 8192, 8192),
        1
    );
    let k = Engine::new()
        .with_scheme(&kron(&scheme("strassen"), &scheme("strassen")))
        .unwrap()
        .cutoff(100);
    assert_eq!(k.levels_for::<f64>(1600, 1600, 1600), 2);
}

#[test]
fn plan_addition_counts() {
    let counts = |s| {
        let p = Plan::compile(&s).unwrap();
        (p.additions_naive().total(), p.additions_cse().total())
    };
    assert_eq!(counts(scheme("strassen")), (18, 18));
    assert_eq!(counts(scheme("winograd")), (24, 15));
    assert_eq!(counts(scheme("classical")), (4, 4));
    // The error-growth factors the documented bound uses (Higham's 12 for Strassen).
    assert_eq!(common::growth(&scheme("strassen")), 12.0);
    assert_eq!(common::growth(&scheme("winograd")), 18.0);
    assert_eq!(common::growth(&classical(2, 3, 4)), 3.0);
    let p = Plan::compile(&scheme("strassen")).unwrap();
    assert_eq!(p.rank(), 7);
    assert!((p.flop_ratio() - 8.0 / 7.0).abs() < 1e-12);
    // Every product goes either straight into C or into one temporary per step; two of
    // Strassen's seven products (those feeding one C block) need no copy at all.
    let sched = p.schedule(true);
    assert_eq!(sched.steps.len(), 7);
    assert_eq!(
        sched.steps.iter().filter(|s| s.scatter.is_empty()).count(),
        2
    );
}

#[cfg(feature = "openblas")]
#[test]
fn openblas_leaf_matches_and_refuses_operands_without_a_unit_stride() {
    use strass::Leaf;
    let mut rng = Lcg(5);
    let (m, k, n) = (131, 77, 203);
    let a = rng.vec::<f64>(m * k);
    let b = rng.vec::<f64>(k * n);
    let want = naive(&a, &b, m, k, n);
    // B stored transposed (n x k row-major) and viewed through `t`.
    let bt: Vec<f64> = (0..n * k).map(|x| b[(x % k) * n + x / k]).collect();
    for p in [1, 2] {
        let e = Engine::new().leaf(Leaf::OpenBlas).cutoff(16).threads(p);
        let mut c = vec![f64::NAN; m * n];
        e.gemm(
            1.0,
            MatRef::row_major(&a, m, k).unwrap(),
            MatRef::row_major(&bt, n, k).unwrap().t(),
            0.0,
            MatMut::row_major(&mut c, m, n).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-11);
        }
        let mut c = vec![0.0; m * n];
        e.mul(1.0, &a, &b, 0.0, &mut c, (m, k, n)).unwrap();
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-11);
        }
    }
    let strided = MatRef::new(&a, m / 2, k / 2, 2 * k, 2).unwrap();
    let bb = MatRef::new(&b, k / 2, n, n, 1).unwrap();
    let mut c = vec![0.0; (m / 2) * n];
    let e = Engine::new()
        .leaf(Leaf::OpenBlas)
        .gemm(
            1.0,
            strided,
            bb,
            0.0,
            MatMut::row_major(&mut c, m / 2, n).unwrap(),
        )
        .unwrap_err();
    assert!(is_shape(&e), "{e}");
}

#[test]
fn the_workspace_is_kept_between_calls_and_can_be_released() {
    let e = Engine::new().cutoff(16).threads(1);
    let n = 128;
    let a = vec![1.0f32; n * n];
    let mut c = vec![0.0f32; n * n];
    assert_eq!(e.retained_workspace_bytes(), 0);
    e.mul(1.0, &a, &a, 0.0, &mut c, (n, n, n)).unwrap();
    assert!(c.iter().all(|&x| x == n as f32));
    let held = e.retained_workspace_bytes();
    assert!(held >= e.workspace_bytes::<f32>(n, n, n).unwrap() && held > 0);
    // A reused (dirty) workspace gives the same result.
    let mut c2 = vec![f32::NAN; n * n];
    e.clone().mul(1.0, &a, &a, 0.0, &mut c2, (n, n, n)).unwrap();
    assert_eq!(c, c2);
    e.release_workspace();
    assert_eq!(e.retained_workspace_bytes(), 0);
}

#[test]
fn pinned_threads_give_the_same_result() {
    let mut rng = Lcg(6);
    let (m, k, n) = (96, 80, 112);
    let a = rng.vec::<f64>(m * k);
    let b = rng.vec::<f64>(k * n);
    let mut c1 = vec![0.0; m * n];
    let mut c2 = vec![0.0; m * n];
    Engine::new()
        .cutoff(8)
        .threads(1)
        .mul(1.0, &a, &b, 0.0, &mut c1, (m, k, n))
        .unwrap();
    Engine::new()
        .cutoff(8)
        .threads(2)
        .pin_threads(true)
        .mul(1.0, &a, &b, 0.0, &mut c2, (m, k, n))
        .unwrap();
    assert_eq!(c1, c2);
}
