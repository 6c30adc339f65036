//! Strassen up to a basis change: the search finds the transformation, and the transformation it
//! returns really maps Strassen onto the scheme.

use strass::scheme::equiv::{basis_change, match_slots};
use strass::scheme::{match_strassen, match_strassen_basis};
use strass::Scheme;

fn check_match(s: &Scheme) {
    let m = match_strassen_basis(s).expect("Strassen up to a small basis change");
    let t = basis_change(&Scheme::strassen(), &m.x, &m.y, &m.z).unwrap();
    let mapped = m.slots.apply(&t).unwrap();
    assert_eq!(
        (
            mapped.u().to_vec(),
            mapped.v().to_vec(),
            mapped.w().to_vec()
        ),
        (s.u().to_vec(), s.v().to_vec(), s.w().to_vec())
    );
}

#[test]
fn winograd_and_the_learned_scheme_are_strassen_up_to_a_basis_change() {
    let w = Scheme::shipped("winograd").unwrap();
    assert!(
        match_strassen(&w).is_none(),
        "Winograd is not a mere reordering of Strassen"
    );
    check_match(&w);
    if let Some(l) = Scheme::shipped("learned") {
        check_match(&l);
    }
}

#[test]
fn a_transformed_strassen_is_found_and_a_broken_or_classical_scheme_is_not() {
    let x = vec![vec![1, 1], vec![0, 1]];
    let y = vec![vec![0, 1], vec![-1, 1]];
    let z = vec![vec![1, 0], vec![-1, 1]];
    let t = basis_change(&Scheme::strassen(), &x, &y, &z).unwrap();
    assert!(t.verify().is_valid());
    check_match(&t);
    assert!(match_slots(&t, &Scheme::strassen()).is_none());

    let broken = t.edited(|u, _, _| u[0][0] += 1).unwrap();
    assert!(match_strassen_basis(&broken).is_none());
    assert!(match_strassen_basis(&Scheme::shipped("classical").unwrap()).is_none());
}
