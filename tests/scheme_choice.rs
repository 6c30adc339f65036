//! The engine's per-level scheme choice (`Engine::with_schemes`, `Engine::learned_schemes`,
//! `strass::kernel::cost`).
//!
//! * Property tests: for every shipped scheme, an engine whose candidates are the scheme's
//!   orientations and Strassen's, with tiny cutoffs and a cost model under which every level
//!   that saves products pays (so several levels run with mixed schemes), on random shapes
//!   (non-divisible ones included), 1 and 2 threads, f32 and f64, alpha and beta, every leaf.
//!   Each result must lie within the error bound of the levels that ran (see
//!   [`chain_bound_units`]); the schemes must actually be chosen.
//! * The choice itself: what the cost model picks on shapes where the answer is known.

mod common;

use common::{additions, growth, Lcg, MulExt};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;
use strass::kernel::{CostModel, LevelChoice};
use strass::{Element, Engine, Leaf, Scheme};

/// A model under which a level costs exactly its products' flops: additions, call overheads
/// and small-size slowdowns are free, so every level that saves products pays.
fn free_model() -> CostModel {
    CostModel {
        bandwidth: f64::INFINITY,
        half_rate_dim: 0.0,
        call_overhead: 0.0,
        ..CostModel::default()
    }
}

fn leaves() -> Vec<Leaf> {
    let v = vec![Leaf::Fused, Leaf::MatrixMultiply];
    #[cfg(feature = "openblas")]
    let v = [v, vec![Leaf::OpenBlas]].concat();
    v
}

/// The error bound of a recursion whose levels used `chain`, in units of
/// `u ||A||_max ||B||_max`: `2 [ (prod_i g_i) (k_l^2 + (sum_i t_i) k_l) + k^2 ]`, with `g_i` the
/// growth factor and `t_i` the term-by-term additions of level `i`'s scheme and `k_l` the
/// leaf's inner dimension. With one scheme at every level this is at least
/// `common::bound_units` (which has `t` in place of `l t`); each level multiplies the bound of
/// the products below it by its growth factor and adds its own additions' roundings, and the
/// peeled remainders are classical (`k^2`).
fn chain_bound_units(chain: &[LevelChoice], schemes: &HashMap<String, Scheme>, k: usize) -> f64 {
    let mut g = 1.0;
    let mut t = 0.0;
    let mut kl = k as f64;
    for c in chain {
        let s = &schemes[&c.scheme];
        g *= growth(s);
        t += additions(s);
        kl = (kl / c.grid.1 as f64).ceil();
    }
    2.0 * (g * (kl * kl + t * kl) + (k * k) as f64)
}

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    beta: f64,
    cutoff: usize,
    threads: usize,
    seed: u64,
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(1usize),
        2 => prop::sample::select(vec![2usize, 3, 5, 7, 24, 36, 48, 72, 96, 144, 216, 243, 256]),
        6 => 2usize..260,
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        (dim(), dim(), dim()),
        prop::sample::select(vec![1.0, -1.0, 0.5, 3.0]),
        prop::sample::select(vec![0.0, 1.0, -2.0]),
        2usize..12,
        prop::sample::select(vec![1usize, 2]),
        any::<u64>(),
    )
        .prop_map(|((m, k, n), alpha, beta, cutoff, threads, seed)| Case {
            m,
            k,
            n,
            alpha,
            beta,
            cutoff,
            threads,
            seed,
        })
}

/// What the property runs saw: how often each scheme ran a level, and how many products ran
/// levels of two or more different schemes.
#[derive(Default)]
struct Seen {
    used: HashMap<String, usize>,
    mixed: usize,
}

#[allow(clippy::too_many_arguments)]
fn check<T: Element>(
    base: &Engine,
    schemes: &HashMap<String, Scheme>,
    leaf: Leaf,
    max_levels: usize,
    c: &Case,
    seen: &Mutex<Seen>,
) -> Result<(), TestCaseError> {
    let engine = base
        .clone()
        .leaf(leaf)
        .cutoff(c.cutoff)
        .max_levels(max_levels)
        .threads(c.threads);
    let (m, k, n) = (c.m, c.k, c.n);
    let mut rng = Lcg(c.seed);
    let a: Vec<T> = rng.vec(m * k);
    let b: Vec<T> = rng.vec(k * n);
    let mut cm: Vec<T> = if c.beta == 0.0 {
        // beta = 0 must ignore C's old contents, NaN included.
        vec![T::from_f64(f64::NAN); m * n]
    } else {
        rng.vec(m * n)
    };
    let c0: Vec<f64> = cm.iter().map(|x| x.to_f64()).collect();
    let want = common::reference(
        m,
        k,
        n,
        c.alpha,
        |i, p| a[i * k + p].to_f64(),
        |p, j| b[p * n + j].to_f64(),
        c.beta,
        |i, j| c0[i * n + j],
    );
    engine
        .mul(
            T::from_f64(c.alpha),
            &a,
            &b,
            T::from_f64(c.beta),
            &mut cm,
            (m, k, n),
        )
        .map_err(|e| TestCaseError::fail(format!("gemm failed: {e}")))?;
    let chain = engine.level_choices::<T>(m, k, n).unwrap();
    prop_assert_eq!(chain.len(), engine.levels_for::<T>(m, k, n));
    prop_assert!(chain.len() <= max_levels);
    for l in &chain {
        let (m0, k0, n0) = l.grid;
        let (lm, lk, ln) = l.shape;
        prop_assert!(
            lm / m0 >= c.cutoff && lk / k0 >= c.cutoff && ln / n0 >= c.cutoff,
            "{l} breaks cutoff {}",
            c.cutoff
        );
    }
    {
        let mut s = seen.lock().unwrap();
        let mut names: Vec<&str> = chain.iter().map(|l| l.scheme.as_str()).collect();
        for n in &names {
            *s.used.entry(n.to_string()).or_default() += 1;
        }
        names.sort();
        names.dedup();
        if names.len() > 1 {
            s.mixed += 1;
        }
    }
    let u = T::UNIT_ROUNDOFF;
    let c0max = if c.beta == 0.0 {
        0.0
    } else {
        c0.iter().fold(0.0f64, |x, y| x.max(y.abs()))
    };
    let tol = c.alpha.abs() * chain_bound_units(&chain, schemes, k) * u
        + 4.0 * u * (c.alpha.abs() * k as f64 + c.beta.abs() * c0max);
    let levels: Vec<String> = chain.iter().map(|l| l.to_string()).collect();
    for i in 0..m {
        for j in 0..n {
            let got = cm[i * n + j].to_f64();
            let err = (got - want[i * n + j]).abs();
            prop_assert!(
                err <= tol,
                "{m}x{k}x{n} {:?} {} levels {levels:?}: C[{i}][{j}] = {got}, want {}, error {err:e} > bound {tol:e}",
                leaf,
                T::DTYPE,
                want[i * n + j]
            );
        }
    }
    Ok(())
}

/// Candidates for `name`: its orientations first, then Strassen's scheme (unless `name` is a
/// 2x2 scheme itself).
fn candidates(name: &str, with_strassen: bool) -> Vec<Scheme> {
    let s = Scheme::shipped(name).unwrap();
    let mut v = strass::scheme::orientations(&s).unwrap();
    if with_strassen && s.dims() != (2, 2, 2) {
        v.push(Scheme::strassen());
    }
    v
}

fn by_name(list: &[Scheme]) -> HashMap<String, Scheme> {
    list.iter()
        .map(|s| (s.name().to_string(), s.clone()))
        .collect()
}

fn free_engine(list: &[Scheme]) -> Engine {
    Engine::new()
        .with_schemes(list)
        .unwrap()
        .cost_model(free_model())
}

/// Random products with the scheme's orientations and Strassen's as candidates, every leaf.
fn random_cases(name: &str, cases: u32) -> Seen {
    let list = candidates(name, true);
    let schemes = by_name(&list);
    let base = free_engine(&list);
    let seen = Mutex::new(Seen::default());
    for leaf in leaves() {
        let cfg = ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(cfg, |(c in case(), f64_type in any::<bool>())| {
            if f64_type {
                check::<f64>(&base, &schemes, leaf, 4, &c, &seen)?;
            } else {
                // f32 bounds grow past 1 with many levels; two levels keep the test meaningful.
                check::<f32>(&base, &schemes, leaf, 2, &c, &seen)?;
            }
        });
    }
    seen.into_inner().unwrap()
}

/// One fixed product on every leaf, 1 and 2 threads, f32 and f64, alpha and beta; returns what
/// ran.
fn fixed_case(
    base: &Engine,
    schemes: &HashMap<String, Scheme>,
    sh: (usize, usize, usize),
    cutoff: usize,
) -> Seen {
    let seen = Mutex::new(Seen::default());
    for leaf in leaves() {
        for (threads, alpha, beta) in [(1, 1.0, 0.0), (2, -0.5, 1.0), (2, 3.0, -2.0)] {
            let c = Case {
                m: sh.0,
                k: sh.1,
                n: sh.2,
                alpha,
                beta,
                cutoff,
                threads,
                seed: (sh.0 * 31 + sh.1 * 7 + sh.2 + threads) as u64,
            };
            let fail = |e: TestCaseError| panic!("{sh:?} {leaf:?}: {e}");
            check::<f64>(base, schemes, leaf, 4, &c, &seen).unwrap_or_else(fail);
            check::<f32>(base, schemes, leaf, 2, &c, &seen).unwrap_or_else(fail);
        }
    }
    seen.into_inner().unwrap()
}

/// Uses of the scheme `name` (any orientation) in `seen`.
fn uses(seen: &Seen, name: &str) -> usize {
    seen.used
        .iter()
        .filter(|(k, _)| k.split('@').next() == Some(name))
        .map(|(_, v)| v)
        .sum()
}

/// For one shipped scheme `<m0,k0,n0>`:
/// * random products (the scheme's orientations and Strassen's as candidates) within bound;
/// * `(m0^2 c) x (k0^2 c) x (n0^2 c)` with the orientations alone and cutoff `c = 2`: two
///   levels of the scheme, within bound;
/// * if `mixed`, `(2 m0 c) x (2 k0 c) x (2 n0 c)` with Strassen's also a candidate: one level
///   of each (the scheme saves more than Strassen's second level would), within bound.
fn scheme_levels_match(name: &str, cases: u32, mixed: bool) {
    random_cases(name, cases);
    let alone = candidates(name, false);
    let (m0, k0, n0) = alone[0].dims();
    let c = 2;
    let seen = fixed_case(
        &free_engine(&alone),
        &by_name(&alone),
        (m0 * m0 * c, k0 * k0 * c, n0 * n0 * c),
        c,
    );
    // 3 alpha/beta cases x 2 dtypes x leaves, two levels each.
    assert_eq!(
        uses(&seen, name),
        12 * leaves().len(),
        "{name}: {:?}",
        seen.used
    );
    if mixed {
        let with = candidates(name, true);
        let seen = fixed_case(
            &free_engine(&with),
            &by_name(&with),
            (2 * m0 * c, 2 * k0 * c, 2 * n0 * c),
            c,
        );
        assert_eq!(seen.mixed, 6 * leaves().len(), "{name}: {:?}", seen.used);
        assert_eq!(
            uses(&seen, name),
            6 * leaves().len(),
            "{name}: {:?}",
            seen.used
        );
    }
}

/// One test per shipped scheme beyond 2x2: `scheme_levels_match(name, cases, mixed)`.
macro_rules! scheme_test {
    ($($(#[doc = $why:literal])* $test:ident: $name:literal, $mixed:literal;)*) => {$(
        $(#[doc = $why])*
        #[test]
        fn $test() {
            scheme_levels_match($name, 24, $mixed);
        }
    )*};
}

scheme_test! {
    /// 12/11 < 8/7 and Strassen's level is allowed wherever <2,2,3>'s is, so with Strassen as
    /// a candidate the free model never mixes them.
    learned_223_11_levels_match_within_bound: "learned-223-11", false;
    learned_233_15_levels_match_within_bound: "learned-233-15", true;
    /// 16/14 = 8/7: a tie with a second Strassen level, so no mixing is asserted.
    learned_224_14_levels_match_within_bound: "learned-224-14", false;
    learned_333_23_levels_match_within_bound: "learned-333-23", true;
    learned_234_20_levels_match_within_bound: "learned-234-20", true;
    learned_244_26_levels_match_within_bound: "learned-244-26", true;
    learned_334_29_levels_match_within_bound: "learned-334-29", true;
}

#[test]
fn two_by_two_schemes_levels_match_within_bound() {
    for name in ["strassen", "winograd", "learned"] {
        scheme_levels_match(name, 16, false);
    }
}

#[test]
fn the_classical_scheme_is_never_chosen_but_products_stay_exact() {
    // No product saved: under the free model its level ties with the leaf, and ties go to the
    // leaf. The products are still checked against the reference.
    let seen = random_cases("classical", 12);
    assert!(seen.used.is_empty(), "{:?}", seen.used);
    let alone = candidates("classical", false);
    let seen = fixed_case(&free_engine(&alone), &by_name(&alone), (8, 8, 8), 2);
    assert!(seen.used.is_empty(), "{:?}", seen.used);
}

#[test]
fn the_learned_set_matches_within_bound_under_the_default_and_free_models() {
    let mut schemes: HashMap<String, Scheme> = HashMap::new();
    for name in strass::scheme::shipped_names() {
        for s in strass::scheme::orientations(&Scheme::shipped(name).unwrap()).unwrap() {
            schemes.insert(s.name().to_string(), s);
        }
    }
    for model in [CostModel::default(), free_model()] {
        let base = Engine::new().learned_schemes().cost_model(model);
        let seen = Mutex::new(Seen::default());
        let cfg = ProptestConfig {
            cases: 32,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(cfg, |(c in case(), f64_type in any::<bool>())| {
            if f64_type {
                check::<f64>(&base, &schemes, Leaf::Fused, 4, &c, &seen)?;
            } else {
                check::<f32>(&base, &schemes, Leaf::Fused, 2, &c, &seen)?;
            }
        });
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count_with_mixed_schemes() {
    let base = Engine::new()
        .learned_schemes()
        .cost_model(free_model())
        .cutoff(4);
    for leaf in leaves() {
        for &(m, k, n) in &[(96, 144, 72), (250, 181, 203), (216, 216, 216)] {
            let e1 = base.clone().leaf(leaf).threads(1);
            let e2 = base.clone().leaf(leaf).threads(2);
            let chain = e1.level_choices::<f64>(m, k, n).unwrap();
            assert!(chain.len() >= 2, "{m}x{k}x{n}: {chain:?}");
            assert_eq!(chain, e2.level_choices::<f64>(m, k, n).unwrap());
            let mut rng = Lcg(7);
            let a: Vec<f64> = rng.vec(m * k);
            let b: Vec<f64> = rng.vec(k * n);
            let mut c1 = vec![0.0f64; m * n];
            let mut c2 = vec![0.0f64; m * n];
            e1.mul(1.0, &a, &b, 0.0, &mut c1, (m, k, n)).unwrap();
            e2.mul(1.0, &a, &b, 0.0, &mut c2, (m, k, n)).unwrap();
            if leaf == Leaf::MatrixMultiply || leaf == Leaf::Fused {
                let same = c1.iter().zip(&c2).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{leaf:?} {m}x{k}x{n}: 1 and 2 threads differ");
            }
            assert!(e2.workspace_bytes::<f64>(m, k, n).unwrap() > 0);
        }
    }
}

// ---- the choice itself ----

/// Strassen's scheme and `<3,3,3;23>` as candidates, the free model, cutoff `c`.
fn strassen_and_333(c: usize) -> Engine {
    free_engine(&[
        Scheme::strassen(),
        Scheme::shipped("learned-333-23").unwrap(),
    ])
    .cutoff(c)
}

fn names(chain: &[LevelChoice]) -> Vec<&str> {
    chain.iter().map(|l| l.scheme.as_str()).collect()
}

#[test]
fn a_cube_divisible_by_3_picks_333_where_the_cutoff_allows_one_level() {
    // 6144 = 3 * 2048: with cutoff 2048 one level of either Strassen (blocks 3072) or <3,3,3>
    // (blocks 2048) fits; 27/23 saves more products than 8/7.
    let e = strassen_and_333(2048);
    let chain = e.level_choices::<f32>(6144, 6144, 6144).unwrap();
    assert_eq!(names(&chain), ["learned-333-23"]);
    assert_eq!(chain[0].grid, (3, 3, 3));
    // With the whole learned set, <2,3,3;15> (blocks 3072 x 2048 x 2048, 18/15) saves more still.
    let all = Engine::new()
        .learned_schemes()
        .cost_model(free_model())
        .cutoff(2048);
    let chain = all.level_choices::<f32>(6144, 6144, 6144).unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].rank, 15, "{chain:?}");
    // The same engine on a power of two: two Strassen-class levels.
    let chain = e.level_choices::<f32>(8192, 8192, 8192).unwrap();
    assert_eq!(chain.len(), 2);
    assert!(chain.iter().all(|l| l.grid == (2, 2, 2) && l.rank == 7));
}

#[test]
fn rectangular_products_pick_the_234_family_in_the_matching_orientation() {
    let e = Engine::new()
        .learned_schemes()
        .cost_model(free_model())
        .cutoff(1024);
    let chain = e.level_choices::<f64>(2048, 3072, 4096).unwrap();
    assert_eq!(names(&chain), ["learned-234-20"]);
    let chain = e.level_choices::<f64>(4096, 3072, 2048).unwrap();
    assert_eq!(names(&chain), ["learned-234-20@4x3x2"]);
    assert_eq!(chain[0].grid, (4, 3, 2));
    let chain = e.level_choices::<f64>(3072, 2048, 4096).unwrap();
    assert_eq!(chain[0].grid, (3, 2, 4));
}

#[test]
fn mixed_levels_appear_where_divisibility_asks_for_them() {
    // 12288 = 2 * 3 * 2048: one Strassen and one <3,3,3> level reach 2048-blocks exactly.
    let e = strassen_and_333(2048);
    let chain = e.level_choices::<f32>(12288, 12288, 12288).unwrap();
    let mut grids: Vec<_> = chain.iter().map(|l| l.grid).collect();
    grids.sort();
    assert_eq!(grids, [(2, 2, 2), (3, 3, 3)], "{chain:?}");
    // The learned set mixes Strassen's level with a <2,3,3> one there.
    let chain = Engine::new()
        .learned_schemes()
        .cost_model(free_model())
        .cutoff(2048)
        .level_choices::<f32>(12288, 12288, 12288)
        .unwrap();
    assert_eq!(chain.len(), 2);
    assert_ne!(chain[0].grid, chain[1].grid, "{chain:?}");
}

#[test]
fn shapes_where_no_level_pays_run_the_leaf() {
    let e = Engine::new().learned_schemes().cutoff(16);
    // The cutoff allows levels, the default model says the additions cost more than they save.
    assert!(e.level_choices::<f64>(192, 192, 192).unwrap().is_empty());
    assert_eq!(e.levels_for::<f64>(192, 192, 192), 0);
    assert_eq!(e.workspace_bytes::<f64>(192, 192, 192).unwrap(), 0);
    // No level allowed by the cutoff, whatever the model.
    let e = Engine::new()
        .learned_schemes()
        .cost_model(free_model())
        .cutoff(4096);
    assert!(e.level_choices::<f32>(8191, 8192, 8192).unwrap().is_empty());
    // Additions priced out: the leaf even where the cutoff allows three levels.
    let slow = CostModel {
        bandwidth: 1.0,
        ..CostModel::default()
    };
    let e = Engine::new()
        .learned_schemes()
        .cost_model(slow)
        .cutoff(1024);
    assert!(e.level_choices::<f32>(8192, 8192, 8192).unwrap().is_empty());
}

#[test]
fn the_default_engine_is_strassen_only_by_the_cutoff_rule() {
    let e = Engine::new().threads(1);
    assert_eq!(e.candidates().len(), 1);
    assert!(e.cost_model_ref().is_none());
    let c = e.cutoff_for::<f32>();
    for n in [c * 2 - 1, c * 2, c * 4, c * 4 + 3] {
        let chain = e.level_choices::<f32>(n, n, n).unwrap();
        assert_eq!(chain.len(), e.levels_for::<f32>(n, n, n));
        assert_eq!(
            chain.len(),
            if n >= 4 * c {
                2
            } else {
                usize::from(n >= 2 * c)
            }
        );
        assert!(chain.iter().all(|l| l.scheme == e.plan().name()));
    }
    // with_scheme goes back to one scheme and the cutoff rule.
    let back = Engine::new()
        .learned_schemes()
        .with_scheme(&Scheme::strassen())
        .unwrap();
    assert_eq!(back.candidates().len(), 1);
    assert!(back.cost_model_ref().is_none());
    // learned_schemes keeps the engine's default scheme first and adds every orientation.
    let l = Engine::new().learned_schemes();
    assert_eq!(l.candidates()[0].name(), Engine::new().plan().name());
    let dims: Vec<_> = l.candidates().iter().map(|p| p.dims()).collect();
    for d in [
        (2, 3, 4),
        (4, 3, 2),
        (3, 2, 4),
        (3, 3, 3),
        (4, 3, 3),
        (2, 2, 3),
        (3, 2, 2),
    ] {
        assert!(dims.contains(&d), "{d:?} missing");
    }
}

#[test]
fn bad_scheme_sets_and_models_are_refused() {
    assert!(Engine::new().with_schemes(&[]).is_err());
    let bad = Scheme::strassen().edited(|u, _, _| u[0][0] = 5).unwrap();
    assert!(Engine::new()
        .with_schemes(&[Scheme::strassen(), bad])
        .is_err());
    let e = Engine::new().learned_schemes().cost_model(CostModel {
        gemm_flops_f64: -1.0,
        ..CostModel::default()
    });
    let (a, b) = (vec![1.0f64; 4], vec![1.0f64; 4]);
    let mut c = vec![0.0f64; 4];
    let err = e.mul(1.0, &a, &b, 0.0, &mut c, (2, 2, 2)).unwrap_err();
    assert!(err.to_string().contains("gemm_flops_f64"), "{err}");
    assert!(e.level_choices::<f64>(2, 2, 2).is_err());
}

#[test]
fn print_the_choices_for_the_benchmark_shapes() {
    // Not an assertion about speed: prints what the default model picks (cargo test -- --nocapture)
    // and checks that every level it lists is one the cutoff allows.
    for e in [
        Engine::new().learned_schemes().threads(1),
        Engine::new().learned_schemes().threads(1).cutoff(512),
    ] {
        for (m, k, n) in [(6144, 6144, 6144), (3072, 4096, 6144), (2000, 3000, 4000)] {
            for f64_type in [false, true] {
                let (chain, c) = if f64_type {
                    (
                        e.level_choices::<f64>(m, k, n).unwrap(),
                        e.cutoff_for::<f64>(),
                    )
                } else {
                    (
                        e.level_choices::<f32>(m, k, n).unwrap(),
                        e.cutoff_for::<f32>(),
                    )
                };
                let shown: Vec<String> = chain.iter().map(|l| l.to_string()).collect();
                println!(
                    "{m}x{k}x{n} {} cutoff {c}: {}",
                    if f64_type { "f64" } else { "f32" },
                    if shown.is_empty() {
                        "leaf".into()
                    } else {
                        shown.join(" | ")
                    }
                );
                for l in &chain {
                    assert!(
                        l.shape.0 / l.grid.0 >= c
                            && l.shape.1 / l.grid.1 >= c
                            && l.shape.2 / l.grid.2 >= c
                    );
                }
            }
        }
    }
}
