//! Exact verification: what it accepts, what it rejects, and how it reports failures.

use strass::scheme::equiv::basis_change;
use strass::scheme::{kron, SchemeError};
use strass::Scheme;

#[test]
fn every_single_coefficient_change_of_strassen_is_rejected() {
    let s = Scheme::strassen();
    let mut rejected = 0;
    let mut changes = 0;
    // 7*4 (U) + 7*4 (V) + 4*7 (W) = 84 coefficients, each changed to the two other values
    // in {-1, 0, 1}.
    for which in 0..3 {
        let (rows, cols) = match which {
            0 | 1 => (7, 4),
            _ => (4, 7),
        };
        for i in 0..rows {
            for j in 0..cols {
                let orig = [&s.u(), &s.v(), &s.w()][which][i][j];
                for new in [-1i64, 0, 1] {
                    if new == orig {
                        continue;
                    }
                    let t = s.edited(|u, v, w| [u, v, w][which][i][j] = new).unwrap();
                    changes += 1;
                    let v = t.verify();
                    if !v.is_valid() {
                        rejected += 1;
                        assert!(v.failed_count >= 1 && !v.failed.is_empty());
                    }
                }
            }
        }
    }
    assert_eq!(changes, 168);
    assert_eq!(rejected, 168);
}

#[test]
fn failures_are_counted_and_the_first_few_named_by_index() {
    // Drop product 0 (M1 = (a00+a11)(b00+b11)) from c11: every term of M1 is now missing there.
    let s = Scheme::strassen().edited(|_, _, w| w[3][0] = 0).unwrap();
    let v = s.verify();
    assert_eq!(v.total, 64);
    // M1's terms a_ip b_qj with (i,p),(q,j) in {(0,0),(1,1)}: 4 equations for c(1,1).
    assert_eq!(v.failed_count, 4);
    let got: Vec<_> = v
        .failed
        .iter()
        .map(|f| (f.a, f.b, f.c, f.got, f.expected))
        .collect();
    assert_eq!(
        got,
        [
            ((0, 0), (0, 0), (1, 1), Some(-1), 0),
            ((0, 0), (1, 1), (1, 1), Some(-1), 0),
            ((1, 1), (0, 0), (1, 1), Some(-1), 0),
            ((1, 1), (1, 1), (1, 1), Some(0), 1),
        ]
    );
    match s.ensure_valid() {
        Err(e @ SchemeError::Invalid { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("4 of 64 Brent equations fail"), "{msg}");
            assert!(msg.contains("a(1, 1) b(1, 1) c(1, 1)"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // A badly broken scheme keeps only the first 8, but counts all.
    let z = Scheme::strassen()
        .edited(|_, _, w| w.iter_mut().flatten().for_each(|x| *x = 0))
        .unwrap();
    let v = z.verify();
    assert_eq!(v.failed_count, 8); // the 8 ones of the matrix multiplication tensor
    let z = z
        .edited(|u, v, w| {
            for x in u.iter_mut().chain(v).chain(w).flatten() {
                *x = 1;
            }
        })
        .unwrap();
    let v = z.verify();
    assert_eq!(v.failed_count, 64);
    assert_eq!(v.failed.len(), strass::scheme::verify::MAX_REPORTED);
}

#[test]
fn huge_coefficients_do_not_overflow_silently() {
    // Coefficients at the limit, rank large enough that an i64 sum would overflow, still give a
    // correct exact answer (i128) and never panic.
    let big = strass::scheme::MAX_COEFF;
    let s = Scheme::classical(2, 2, 2)
        .unwrap()
        .edited(|u, v, w| {
            u[0][0] = big;
            v[0][0] = big;
            w[0][0] = big;
        })
        .unwrap();
    let v = s.verify();
    assert!(!v.is_valid());
    assert_eq!(v.failed[0].got, Some((big as i128).pow(3)));
}

#[test]
fn coefficients_outside_minus_one_to_one_verify() {
    // A basis change with unimodular X, Y, Z gives entries such as 2 and -3 and stays exact.
    let s = Scheme::strassen();
    let x = vec![vec![1, 2], vec![0, 1]];
    let y = vec![vec![1, 0], vec![-3, 1]];
    let z = vec![vec![2, 3], vec![1, 2]];
    let t = basis_change(&s, &x, &y, &z).unwrap();
    let max = t
        .u()
        .iter()
        .chain(t.v())
        .chain(t.w())
        .flatten()
        .map(|c| c.abs())
        .max()
        .unwrap();
    assert!(max >= 3, "max |coefficient| {max}");
    assert!(t.verify().is_valid());
    // Through the file format and back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    t.save(&path).unwrap();
    let back = Scheme::load_verified(&path).unwrap();
    assert_eq!(back, t);
    // One coefficient off by one breaks it.
    let bad = t.edited(|u, _, _| u[0][0] += 1).unwrap();
    assert!(!bad.verify().is_valid());
    assert!(matches!(
        bad.ensure_valid(),
        Err(SchemeError::Invalid { .. })
    ));
}

#[test]
fn non_square_schemes_verify() {
    for (m, k, n) in [(2, 3, 4), (1, 1, 1), (3, 1, 2), (1, 5, 1)] {
        let c = Scheme::classical(m, k, n).unwrap();
        assert_eq!(c.rank(), m * k * n);
        assert!(c.verify().is_valid(), "<{m},{k},{n}>");
        let bad = c.edited(|_, _, w| w[0][0] = 0).unwrap();
        assert!(!bad.verify().is_valid(), "<{m},{k},{n}>");
    }
    let sc = kron(&Scheme::strassen(), &Scheme::classical(1, 2, 3).unwrap()).unwrap();
    assert_eq!((sc.m(), sc.k(), sc.n(), sc.rank()), (2, 4, 6, 42));
    assert!(sc.verify().is_valid());
    // Two rows of C's coefficients exchanged (as a transposed reading of C would do) is caught.
    let c = Scheme::classical(2, 3, 4).unwrap();
    let swapped = c.edited(|_, _, w| w.swap(1, 4)).unwrap();
    assert!(!swapped.verify().is_valid());
}
