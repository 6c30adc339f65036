//! Equivalence tools: slot permutation, sign gauge, canonical form, Strassen matching, basis
//! changes (the rest of the symmetry group) and Kronecker products.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strass::scheme::equiv::{basis_change, match_slots, permute_slots, sign_gauge};
use strass::scheme::{canonical_form, equivalent, kron, match_strassen};
use strass::Scheme;

const GAUGES: [(i8, i8, i8); 4] = [(1, 1, 1), (-1, -1, 1), (-1, 1, -1), (1, -1, -1)];

/// A random slot permutation and sign gauge of `s`.
fn scramble(s: &Scheme, rng: &mut ChaCha8Rng) -> Scheme {
    let mut perm: Vec<usize> = (0..s.rank()).collect();
    perm.shuffle(rng);
    let mut t = permute_slots(s, &perm).unwrap();
    for r in 0..s.rank() {
        t = sign_gauge(&t, r, GAUGES[rng.gen_range(0..4)]).unwrap();
    }
    t
}

#[test]
fn permutations_and_sign_gauges_of_strassen_stay_valid_and_equal() {
    let s = Scheme::strassen();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let canon = canonical_form(&s);
    assert!(canon.verify().is_valid());
    for _ in 0..200 {
        let t = scramble(&s, &mut rng);
        assert!(t.verify().is_valid());
        assert!(equivalent(&s, &t));
        let ct = canonical_form(&t);
        assert_eq!(
            (ct.u().to_vec(), ct.v().to_vec(), ct.w().to_vec()),
            (canon.u().to_vec(), canon.v().to_vec(), canon.w().to_vec())
        );
        // The match says exactly how to map t back onto Strassen.
        let mt = match_strassen(&t).expect("a scrambled Strassen is Strassen");
        let back = mt.apply(&t).unwrap();
        assert_eq!((back.u(), back.v(), back.w()), (s.u(), s.v(), s.w()));
    }
    // The identity match for Strassen itself.
    let id = match_strassen(&s).unwrap();
    assert_eq!(id.perm, (0..7).collect::<Vec<_>>());
    assert!(id.signs.iter().all(|&g| g == (1, 1, 1)));
}

#[test]
fn match_reports_the_permutation_that_was_applied() {
    let s = Scheme::strassen();
    let perm = [3, 6, 0, 1, 5, 2, 4];
    let t = sign_gauge(&permute_slots(&s, &perm).unwrap(), 2, (-1, 1, -1)).unwrap();
    // Slot t of Strassen is slot m.perm[t] of the scrambled scheme: the inverse permutation.
    let m = match_strassen(&t).unwrap();
    for (t_slot, &src) in m.perm.iter().enumerate() {
        assert_eq!(perm[src], t_slot);
    }
    assert_eq!(m.signs[perm[2]], (-1, 1, -1));
}

#[test]
fn non_equivalent_schemes_are_told_apart() {
    let s = Scheme::strassen();
    let w = Scheme::shipped("winograd").unwrap();
    let c = Scheme::shipped("classical").unwrap();
    // Winograd differs from Strassen by a basis change, not by slot order and signs.
    assert!(!equivalent(&s, &w));
    assert!(match_strassen(&w).is_none());
    assert!(match_strassen(&c).is_none());
    // A sign flip of one factor alone (product -1) is not a gauge and breaks the scheme.
    assert!(sign_gauge(&s, 0, (-1, 1, 1)).is_err());
    let broken = s
        .edited(|u, _, _| u[0].iter_mut().for_each(|x| *x = -*x))
        .unwrap();
    assert!(!broken.verify().is_valid());
    assert!(!equivalent(&s, &broken));
    assert!(match_strassen(&broken).is_none());
    // Bad permutations are errors.
    assert!(permute_slots(&s, &[0, 1, 2]).is_err());
    assert!(permute_slots(&s, &[0, 1, 2, 3, 4, 5, 5]).is_err());
    assert!(permute_slots(&s, &[0, 1, 2, 3, 4, 5, 7]).is_err());
    assert!(sign_gauge(&s, 7, (1, 1, 1)).is_err());
}

#[test]
fn canonical_form_is_a_normal_form_for_other_schemes_too() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for name in ["classical", "winograd"] {
        let s = Scheme::shipped(name).unwrap();
        for _ in 0..50 {
            let t = scramble(&s, &mut rng);
            assert!(equivalent(&s, &t));
            let m = match_slots(&t, &s).unwrap();
            let back = m.apply(&t).unwrap();
            assert_eq!((back.u(), back.v(), back.w()), (s.u(), s.v(), s.w()));
        }
    }
}

/// 2x2 integer matrices with determinant +-1 built from elementary shears with entries 2, -3.
fn unimodular_2x2() -> Vec<Vec<Vec<i64>>> {
    vec![
        vec![vec![1, 2], vec![0, 1]],
        vec![vec![-5, 2], vec![-3, 1]], // [[1,2],[0,1]] * [[1,0],[-3,1]]
        vec![vec![2, 3], vec![1, 2]],
        vec![vec![0, 1], vec![1, 0]],   // determinant -1
        vec![vec![-1, -3], vec![2, 5]], // determinant 1
    ]
}

#[test]
fn basis_changes_of_strassen_verify_exactly() {
    let s = Scheme::strassen();
    let mats = unimodular_2x2();
    let mut big_coefficients = 0;
    for x in &mats {
        for y in &mats {
            for z in &mats {
                let t = basis_change(&s, x, y, z).unwrap();
                let v = t.verify();
                assert!(v.is_valid(), "X={x:?} Y={y:?} Z={z:?}: {v:?}");
                if t.u()
                    .iter()
                    .chain(t.v())
                    .chain(t.w())
                    .flatten()
                    .any(|c| c.abs() >= 2)
                {
                    big_coefficients += 1;
                }
            }
        }
    }
    // Most transforms leave {-1,0,1}: these are valid schemes nobody hand-wrote.
    assert!(big_coefficients > 100, "{big_coefficients}");
    // The transform with entries 2 and -3 is not Strassen up to slot order and signs.
    let t = basis_change(&s, &mats[1], &mats[2], &mats[4]).unwrap();
    assert!(match_strassen(&t).is_none());
    assert!(t.verify().is_valid());
    // Non-unimodular or wrongly sized matrices are refused.
    assert!(basis_change(&s, &[vec![2, 0], vec![0, 1]], &mats[0], &mats[0]).is_err());
    assert!(basis_change(&s, &[vec![1]], &mats[0], &mats[0]).is_err());
}

#[test]
fn the_wrong_transform_convention_breaks_the_scheme() {
    // Guard against a test that cannot fail: transforming U with X instead of X^-T (keeping V
    // and W as basis_change does) must give an invalid scheme for a non-orthogonal X.
    let s = Scheme::strassen();
    let x = vec![vec![1i64, 2], vec![0, 1]];
    let id = vec![vec![1i64, 0], vec![0, 1]];
    let good = basis_change(&s, &x, &id, &id).unwrap();
    assert!(good.verify().is_valid());
    let bad = good
        .edited(|u, _, _| {
            for (ur, a) in u.iter_mut().zip(s.u()) {
                // X * U_r (row-major 2x2), with Y = I.
                *ur = vec![
                    x[0][0] * a[0] + x[0][1] * a[2],
                    x[0][0] * a[1] + x[0][1] * a[3],
                    x[1][0] * a[0] + x[1][1] * a[2],
                    x[1][0] * a[1] + x[1][1] * a[3],
                ];
            }
        })
        .unwrap();
    assert!(!bad.verify().is_valid());
}

#[test]
fn basis_changes_of_non_square_schemes_verify() {
    let s = Scheme::classical(2, 3, 2).unwrap();
    let x = vec![vec![2, 3], vec![1, 2]];
    let y = vec![vec![1, 2, 0], vec![0, 1, -3], vec![0, 0, 1]];
    let z = vec![vec![-5, 2], vec![-3, 1]];
    let t = basis_change(&s, &x, &y, &z).unwrap();
    assert!(t.verify().is_valid());
    assert!(t.u().iter().flatten().any(|c| c.abs() >= 2));
}

#[test]
fn kronecker_products_verify() {
    let s = Scheme::strassen();
    let ss = kron(&s, &s).unwrap();
    assert_eq!((ss.m(), ss.k(), ss.n(), ss.rank()), (4, 4, 4, 49));
    assert!(ss.verify().is_valid());
    let c234 = Scheme::classical(2, 3, 4).unwrap();
    assert_eq!(c234.rank(), 24);
    assert!(c234.verify().is_valid());
    let sc = kron(&s, &c234).unwrap();
    assert_eq!((sc.m(), sc.k(), sc.n(), sc.rank()), (4, 6, 8, 168));
    assert!(sc.verify().is_valid());
    let cs = kron(&c234, &s).unwrap();
    assert!(cs.verify().is_valid());
    // Kronecker with a broken factor is broken.
    let broken = s.edited(|_, v, _| v[4][3] = 0).unwrap();
    assert!(!kron(&broken, &s).unwrap().verify().is_valid());
    // Strassen (x) Strassen applied once equals Strassen applied twice: same expansion at 16.
    let e = strass::scheme::expansion_errors(&ss, 16, 2).unwrap();
    assert!(e.iter().all(|x| x.rel_error < 1e-13), "{e:?}");
}
