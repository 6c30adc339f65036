//! Alternative-basis schemes (`strass::scheme::altbasis`): exact verification of the shipped
//! alt basis, the sparsest-basis search on Strassen and Winograd, refused mutations and shapes.

use strass::plan::Plan;
use strass::scheme::altbasis::scheme_additions;
use strass::scheme::{sparsest_basis, AltBasis, SchemeError};
use strass::Scheme;

/// Edits the three basis maps of an alt basis (for the shape tests).
type MapEdit = Box<dyn Fn(&mut Vec<Vec<i64>>, &mut Vec<Vec<i64>>, &mut Vec<Vec<i64>>)>;

fn rebuild(
    alt: &AltBasis,
    edit: impl FnOnce(
        &mut Vec<Vec<i64>>,
        &mut Vec<Vec<i64>>,
        &mut Vec<Vec<i64>>,
        &mut Vec<Vec<i64>>,
        &mut Vec<Vec<i64>>,
        &mut Vec<Vec<i64>>,
    ),
) -> Result<AltBasis, SchemeError> {
    let (mut phi, mut psi, mut nu) = (alt.phi().to_vec(), alt.psi().to_vec(), alt.nu().to_vec());
    let mut parts = None;
    let core = alt.core().edited(|u, v, w| {
        let (mut u2, mut v2, mut w2) = (u.clone(), v.clone(), w.clone());
        parts = Some(());
        edit(&mut u2, &mut v2, &mut w2, &mut phi, &mut psi, &mut nu);
        *u = u2;
        *v = v2;
        *w = w2;
    })?;
    assert!(parts.is_some());
    AltBasis::new(core, phi, psi, nu)
}

#[test]
fn shipped_alt_basis_is_exact_and_sparse() {
    let alt = AltBasis::winograd_sparse();
    let composed = alt.composed();
    assert!(composed.verify().is_valid());
    composed.ensure_valid().unwrap();
    Plan::compile(&composed).unwrap();
    // The core alone is not Winograd's scheme and not a valid scheme.
    assert!(!alt.core().verify().is_valid());
    let a = alt.additions();
    assert_eq!(a.core(), 12, "{a:?}");
    assert_eq!((a.core_u, a.core_v, a.core_w), (3, 3, 6));
    assert_eq!(a.transforms(), 6);
    // Composing reproduces Winograd's scheme exactly (single-side changes cancel).
    let w = Scheme::shipped("winograd").unwrap();
    assert_eq!(
        (composed.u(), composed.v(), composed.w()),
        (w.u(), w.v(), w.w())
    );
    assert_eq!(scheme_additions(&w), 24);
    assert_eq!(scheme_additions(&Scheme::strassen()), 18);
}

#[test]
fn search_finds_the_shipped_minimum() {
    let t = std::time::Instant::now();
    for name in ["strassen", "winograd"] {
        let s = Scheme::shipped(name).unwrap();
        let r = sparsest_basis(&s).unwrap();
        r.alt.composed().ensure_valid().unwrap();
        let a = r.alt.additions();
        println!(
            "{name}: plain {} additions/level; alt-basis core {} (U' {} + V' {} + W' {}), transforms {} (phi {} psi {} nu {}); sides {:?}",
            scheme_additions(&s),
            a.core(),
            a.core_u,
            a.core_v,
            a.core_w,
            a.transforms(),
            a.phi,
            a.psi,
            a.nu,
            r.sides
        );
        for side in &r.sides {
            assert!(side.nnz_after <= side.nnz_before);
        }
        if name == "winograd" {
            let shipped = AltBasis::winograd_sparse();
            assert_eq!(shipped.additions().core(), a.core());
            assert_eq!(shipped.additions(), a);
            assert_eq!(shipped.core().u(), r.alt.core().u());
            assert_eq!(shipped.core().v(), r.alt.core().v());
            assert_eq!(shipped.core().w(), r.alt.core().w());
            assert_eq!(
                (shipped.phi(), shipped.psi(), shipped.nu()),
                (r.alt.phi(), r.alt.psi(), r.alt.nu())
            );
        }
    }
    let el = t.elapsed();
    println!("search time for both schemes: {el:?}");
    assert!(el.as_secs() < 10, "{el:?}");
}

#[test]
fn search_refuses_invalid_and_large_schemes() {
    let bad = Scheme::strassen().edited(|u, _, _| u[0][0] = 0).unwrap();
    assert!(matches!(
        sparsest_basis(&bad),
        Err(SchemeError::Invalid { .. })
    ));
    let big = Scheme::shipped("learned-233-15").unwrap();
    let e = sparsest_basis(&big).unwrap_err().to_string();
    assert!(e.contains("exceeds the searchable"), "{e}");
}

#[test]
fn every_single_mutation_is_refused() {
    let alt = AltBasis::winograd_sparse();
    let mut refused = 0;
    // Flip every coefficient of every matrix in turn (0 -> 1, x -> -x).
    for which in 0..6 {
        let rows = match which {
            0 => alt.core().u().len(),
            1 => alt.core().v().len(),
            2 => alt.core().w().len(),
            3 => alt.phi().len(),
            4 => alt.psi().len(),
            _ => alt.nu().len(),
        };
        let cols = match which {
            0 => alt.core().u()[0].len(),
            1 => alt.core().v()[0].len(),
            2 => alt.core().w()[0].len(),
            _ => 4,
        };
        for i in 0..rows {
            for j in 0..cols {
                let flip = |x: &mut i64| *x = if *x == 0 { 1 } else { -*x };
                let r = rebuild(&alt, |u, v, w, phi, psi, nu| {
                    let m = [u, v, w, phi, psi, nu];
                    let target = m.into_iter().nth(which).unwrap();
                    flip(&mut target[i][j]);
                });
                match r {
                    Err(SchemeError::Invalid { .. }) => refused += 1,
                    other => panic!("mutation {which} [{i}][{j}] accepted: {other:?}"),
                }
            }
        }
    }
    assert_eq!(refused, 28 * 3 + 3 * 16);
}

#[test]
fn bad_shapes_are_errors() {
    let alt = AltBasis::winograd_sparse();
    let cases: Vec<(&str, MapEdit)> = vec![
        (
            "phi",
            Box::new(|p, _, _| {
                p.pop();
            }),
        ),
        ("psi[2]", Box::new(|_, p, _| p[2].push(0))),
        ("nu", Box::new(|_, _, n| n.push(vec![0; 4]))),
        ("nu[0][1]", Box::new(|_, _, n| n[0][1] = i64::MAX)),
    ];
    for (what, edit) in cases {
        let e = rebuild(&alt, |_, _, _, phi, psi, nu| edit(phi, psi, nu))
            .unwrap_err()
            .to_string();
        assert!(e.contains(what), "{what}: {e}");
    }
    // A core of the wrong shape is refused by `Scheme::edited` already.
    assert!(alt.core().edited(|u, _, _| u[0].push(1)).is_err());
    // Maps of the right shape for another <m,k,n> do not fit this core.
    let e = AltBasis::new(
        alt.core().clone(),
        vec![vec![1; 9]; 9],
        alt.psi().to_vec(),
        alt.nu().to_vec(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("phi"), "{e}");
}
