//! The schemes compiled into the crate from kernels/, and their numeric expansion.

use strass::scheme::{expansion_errors, shipped_names};
use strass::Scheme;

#[test]
fn every_shipped_scheme_is_embedded_and_verifies() {
    let names = shipped_names();
    for required in ["classical", "strassen", "winograd"] {
        assert!(
            names.contains(&required),
            "{required} missing from {names:?}"
        );
    }
    // Every kernels/*.json file is embedded, and matches the file on disk.
    let mut on_disk: Vec<String> = std::fs::read_dir("kernels")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(names, on_disk.as_slice());
    for name in names {
        let s = Scheme::shipped(name).unwrap();
        let v = s.verify();
        assert!(v.is_valid(), "{name}: {v:?}");
        let from_disk = Scheme::load(format!("kernels/{name}.json")).unwrap();
        assert_eq!(s, from_disk);
    }
    assert!(Scheme::shipped("no-such-scheme").is_none());
    let s = Scheme::strassen();
    assert_eq!((s.m(), s.k(), s.n(), s.rank()), (2, 2, 2, 7));
}

#[test]
fn expansion_of_valid_schemes_is_accurate_at_every_level() {
    for name in ["classical", "strassen", "winograd"] {
        let s = Scheme::shipped(name).unwrap();
        let e = expansion_errors(&s, 64, 7).unwrap();
        let sizes: Vec<usize> = e.iter().map(|x| x.m).collect();
        assert_eq!(sizes, [2, 4, 8, 16, 32, 64], "{name}");
        for (i, x) in e.iter().enumerate() {
            assert_eq!(x.levels, i + 1);
            assert_eq!((x.k, x.n), (x.m, x.m));
            assert!(x.rel_error < 1e-13, "{name} {x:?}");
        }
        // Deterministic from the seed, different for another seed.
        assert_eq!(e, expansion_errors(&s, 64, 7).unwrap());
        assert_ne!(e, expansion_errors(&s, 64, 8).unwrap());
    }
}

#[test]
fn expansion_exposes_an_invalid_scheme_and_handles_non_square_blocks() {
    let s = Scheme::strassen().edited(|_, _, w| w[3][5] = 0).unwrap();
    for x in expansion_errors(&s, 16, 1).unwrap() {
        assert!(x.rel_error > 1e-2, "{x:?}");
    }
    // <2,3,4>: sizes grow as 2^L x 3^L x 4^L while the largest stays <= max_size.
    let c = Scheme::classical(2, 3, 4).unwrap();
    let e = expansion_errors(&c, 64, 3).unwrap();
    let dims: Vec<_> = e.iter().map(|x| (x.m, x.k, x.n, x.levels)).collect();
    assert_eq!(dims, [(2, 3, 4, 1), (4, 9, 16, 2), (8, 27, 64, 3)]);
    assert!(e.iter().all(|x| x.rel_error < 1e-13));
    // max_size below one block is an error, not an empty table.
    assert!(expansion_errors(&c, 3, 0).is_err());
}
