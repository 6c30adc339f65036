//! The kernel's alternative-basis path (`Engine::alt_basis`) against an f64 reference: shapes
//! that divide and that peel, 1-4 levels, f32 and f64, alpha/beta (NaN in C with beta = 0),
//! strided and transposed views, 1 and 2 threads, and its error beside plain Strassen's.

mod common;

use common::{bound_units, scheme, Lcg};
use strass::scheme::AltBasis;
use strass::{Element, Engine, Leaf, MatMut, MatRef, Variant};

/// One product; returns the max-norm error relative to `||A|| ||B|| k` (entries in [-1, 1]).
#[allow(clippy::too_many_arguments)]
fn run<T: Element>(
    engine: &Engine,
    (m, k, n): (usize, usize, usize),
    alpha: f64,
    beta: f64,
    transposed_a: bool,
    padded_c: usize,
    seed: u64,
) -> (f64, usize) {
    let mut rng = Lcg(seed);
    let a: Vec<T> = rng.vec(m * k);
    let b: Vec<T> = rng.vec(k * n);
    let ldc = n + padded_c;
    let mut c: Vec<T> = rng.vec(m * ldc);
    if beta == 0.0 {
        for x in c.iter_mut() {
            *x = T::from_f64(f64::NAN);
        }
    }
    let c0 = c.clone();
    // A stored column-major when `transposed_a` (the view is then a transpose).
    let av = if transposed_a {
        MatRef::col_major(&a, m, k).unwrap()
    } else {
        MatRef::row_major(&a, m, k).unwrap()
    };
    let at = |i: usize, p: usize| -> f64 {
        if transposed_a {
            a[p * m + i].to_f64()
        } else {
            a[i * k + p].to_f64()
        }
    };
    let bv = MatRef::row_major(&b, k, n).unwrap();
    let cv = MatMut::new(&mut c, m, n, ldc, 1).unwrap();
    engine
        .gemm(T::from_f64(alpha), av, bv, T::from_f64(beta), cv)
        .expect("alt-basis product");
    let want = common::reference(
        m,
        k,
        n,
        alpha,
        at,
        |p, j| b[p * n + j].to_f64(),
        beta,
        |i, j| {
            if beta == 0.0 {
                0.0
            } else {
                c0[i * ldc + j].to_f64()
            }
        },
    );
    let mut err = 0.0f64;
    for i in 0..m {
        for j in 0..ldc {
            let got = c[i * ldc + j].to_f64();
            if j >= n {
                assert_eq!(
                    got.to_bits(),
                    c0[i * ldc + j].to_f64().to_bits(),
                    "C's padding changed at ({i}, {j})"
                );
                continue;
            }
            assert!(got.is_finite(), "C[{i}][{j}] = {got}");
            err = err.max((got - want[i * n + j]).abs());
        }
    }
    (err, engine.levels_for::<T>(m, k, n))
}

fn alt(cutoff: usize, threads: usize) -> Engine {
    Engine::new()
        .alt_basis(&AltBasis::winograd_sparse())
        .unwrap()
        .cutoff(cutoff)
        .threads(threads)
}

/// The error bound of the composed scheme (Winograd's) at `levels`, with a factor 4 for the
/// transforms, plus the rounding of `alpha P + beta C0`.
fn tol<T: Element>(levels: usize, k: usize, alpha: f64, beta: f64) -> f64 {
    let s = AltBasis::winograd_sparse().composed();
    let u = T::UNIT_ROUNDOFF;
    4.0 * alpha.abs() * bound_units(&s, levels, k) * u
        + 4.0 * u * (alpha.abs() * k as f64 + beta.abs())
}

fn check<T: Element>(shape: (usize, usize, usize), cutoff: usize, want_levels: usize) {
    let cases = [
        (1.0, 0.0, false, 0, 1),
        (-0.5, 1.0, true, 3, 2),
        (2.0, -2.0, false, 5, 2),
        (1.0, 0.25, true, 0, 1),
    ];
    for (i, &(alpha, beta, tr, pad, threads)) in cases.iter().enumerate() {
        let e = alt(cutoff, threads);
        let (err, levels) = run::<T>(&e, shape, alpha, beta, tr, pad, 7 + i as u64);
        assert_eq!(levels, want_levels, "{shape:?} cutoff {cutoff}");
        let t = tol::<T>(levels, shape.1, alpha, beta);
        assert!(
            err <= t,
            "{} {shape:?} levels {levels} alpha {alpha} beta {beta} threads {threads}: error {err:e} > {t:e}",
            T::DTYPE
        );
    }
}

#[test]
fn divisible_shapes_match_the_reference() {
    check::<f64>((256, 256, 256), 32, 3);
    check::<f32>((256, 256, 256), 64, 2);
    check::<f64>((128, 64, 192), 16, 2);
    check::<f64>((64, 64, 64), 4, 4);
}

#[test]
fn peeled_shapes_match_the_reference() {
    check::<f64>((259, 263, 257), 32, 3);
    check::<f32>((301, 131, 203), 16, 3);
    check::<f64>((1031, 1029, 1027), 128, 3);
    check::<f32>((97, 45, 77), 8, 2);
}

#[test]
fn every_leaf_and_variant_runs_the_alt_basis() {
    let shape = (200, 136, 168);
    #[allow(unused_mut)]
    let mut engines = vec![
        alt(16, 1).leaf(Leaf::MatrixMultiply),
        alt(16, 1).variant(Variant::Packed),
        alt(16, 2).variant(Variant::Explicit),
    ];
    #[cfg(feature = "openblas")]
    engines.push(alt(16, 1).leaf(Leaf::OpenBlas));
    for e in &engines {
        let (err, levels) = run::<f64>(e, shape, 1.5, 1.0, false, 2, 11);
        assert_eq!(levels, 3);
        assert!(err <= tol::<f64>(levels, shape.1, 1.5, 1.0), "{err:e}");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let shape = (300, 260, 280);
    let mut rng = Lcg(5);
    let a: Vec<f64> = rng.vec(shape.0 * shape.1);
    let b: Vec<f64> = rng.vec(shape.1 * shape.2);
    let mut out = Vec::new();
    for p in [1, 2] {
        let mut c = vec![0.0; shape.0 * shape.2];
        alt(32, p)
            .gemm(
                1.0,
                MatRef::row_major(&a, shape.0, shape.1).unwrap(),
                MatRef::row_major(&b, shape.1, shape.2).unwrap(),
                0.0,
                MatMut::row_major(&mut c, shape.0, shape.2).unwrap(),
            )
            .unwrap();
        out.push(c);
    }
    assert!(out[0]
        .iter()
        .zip(&out[1])
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn no_level_is_the_plain_leaf_and_small_products_work() {
    // Below the cutoff: no level, no transform; the leaf alone.
    let (err, levels) = run::<f64>(&alt(512, 1), (100, 90, 80), 1.0, 0.0, false, 0, 3);
    assert_eq!(levels, 0);
    assert!(err <= 1e-12);
    // Empty and k = 0 products.
    for shape in [(0, 5, 5), (5, 0, 5), (5, 5, 0)] {
        run::<f64>(&alt(1, 1), shape, 1.0, 0.5, false, 0, 1);
    }
}

#[test]
fn error_beside_plain_strassen() {
    let shape = (512, 512, 512);
    let strassen = Engine::new()
        .with_scheme(&scheme("strassen"))
        .unwrap()
        .cutoff(64)
        .threads(1);
    let winograd = Engine::new()
        .with_scheme(&scheme("winograd"))
        .unwrap()
        .cutoff(64)
        .threads(1);
    let (es, ls) = run::<f64>(&strassen, shape, 1.0, 0.0, false, 0, 9);
    let (ew, _) = run::<f64>(&winograd, shape, 1.0, 0.0, false, 0, 9);
    let (ea, la) = run::<f64>(&alt(64, 1), shape, 1.0, 0.0, false, 0, 9);
    assert_eq!((ls, la), (3, 3));
    println!(
        "512^3 f64, 3 levels, max error: Strassen {es:.2e}, Winograd {ew:.2e}, alt basis {ea:.2e} ({:.2}x Strassen)",
        ea / es
    );
    assert!(ea <= tol::<f64>(3, 512, 1.0, 0.0));
}

#[test]
fn only_2x2x2_alt_bases_run() {
    // A <2,2,2> alternative basis is accepted; its composed scheme verifies exactly.
    let b = AltBasis::winograd_sparse();
    assert!(b.composed().verify().is_valid());
    assert!(Engine::new().alt_basis(&b).is_ok());
    // with_scheme afterwards returns to the plain path.
    let e = Engine::new()
        .alt_basis(&b)
        .unwrap()
        .with_scheme(&scheme("strassen"))
        .unwrap()
        .cutoff(16)
        .threads(1);
    let (err, _) = run::<f64>(&e, (64, 64, 64), 1.0, 0.0, false, 0, 2);
    assert!(err <= 1e-12);
}

/// A column-major C (the `nu` pass's strided path) gets the result a row-major C gets,
/// overwritten and accumulated: bit for bit when the shape divides (nothing but `nu` sees C's
/// layout), within rounding when it peels (the classical fringe products may order their sums
/// differently for another layout of C).
#[test]
fn column_major_c_matches_row_major_c() {
    let e = alt(16, 1);
    for &(m, k, n) in &[(64usize, 64usize, 64usize), (70, 66, 67)] {
        for beta in [0.0f64, 1.0] {
            let mut rng = Lcg(91 + m as u64);
            let a: Vec<f64> = rng.vec(m * k);
            let b: Vec<f64> = rng.vec(k * n);
            let c0: Vec<f64> = rng.vec(m * n);
            let mut rows = c0.clone();
            // The same matrix C0 stored column-major.
            let mut cols: Vec<f64> = (0..m * n).map(|x| c0[(x % m) * n + x / m]).collect();
            let (av, bv) = (
                MatRef::row_major(&a, m, k).unwrap(),
                MatRef::row_major(&b, k, n).unwrap(),
            );
            e.gemm(
                0.5,
                av,
                bv,
                beta,
                MatMut::new(&mut rows, m, n, n, 1).unwrap(),
            )
            .unwrap();
            e.gemm(
                0.5,
                av,
                bv,
                beta,
                MatMut::new(&mut cols, m, n, 1, m).unwrap(),
            )
            .unwrap();
            assert!(e.levels_for::<f64>(m, k, n) >= 2);
            for i in 0..m {
                for j in 0..n {
                    let (x, y) = (rows[i * n + j], cols[j * m + i]);
                    if m == 64 {
                        assert_eq!(
                            x.to_bits(),
                            y.to_bits(),
                            "{m}x{k}x{n} beta {beta} at ({i}, {j})"
                        );
                    } else {
                        assert!(
                            (x - y).abs() <= 1e-13,
                            "{m}x{k}x{n} beta {beta} at ({i}, {j}): {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}
