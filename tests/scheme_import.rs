//! Import of published formats: fast-matmul text files and AlphaTensor archives.

use std::path::Path;
use strass::scheme::import::{alphatensor, alphatensor_keys, fast_matmul, fast_matmul_from_str};
use strass::scheme::{match_strassen, SchemeError};
use strass::Scheme;

const FM: &str = "tests/scheme_data/fast-matmul";
const AT: &str = "tests/scheme_data/alphatensor/factorizations_r-subset.npz";

fn import_error(r: Result<Scheme, SchemeError>) -> String {
    match r {
        Err(e @ SchemeError::Import { .. }) => e.to_string(),
        other => panic!("expected an import error, got {other:?}"),
    }
}

#[test]
fn published_fast_matmul_schemes_import_and_verify() {
    for (file, dims, rank, nnz) in [
        ("strassen", (2, 2, 2), 7, 36),
        ("grey322-11-50", (3, 2, 2), 11, 50),
        ("hk323-15-94", (3, 2, 3), 15, 94),
        ("madan232-11-48", (2, 3, 2), 11, 48),
    ] {
        let s = fast_matmul(format!("{FM}/{file}")).unwrap();
        assert_eq!(
            ((s.m(), s.k(), s.n()), s.rank(), s.nonzeros()),
            (dims, rank, nnz),
            "{file}"
        );
        let v = s.verify();
        assert!(v.is_valid(), "{file}: {v:?}");
        assert_eq!(s.provenance()["source"], "import");
    }
    // fast-matmul's Strassen is ours, slot for slot.
    let s = fast_matmul(format!("{FM}/strassen")).unwrap();
    let m = match_strassen(&s).unwrap();
    assert_eq!(m.perm, (0..7).collect::<Vec<_>>());
}

#[test]
fn approximate_schemes_are_refused() {
    let msg = import_error(fast_matmul(format!("{FM}/bini322-10-52-approx")));
    assert!(
        msg.contains("symbolic coefficient `x`") && msg.contains("approximate"),
        "{msg}"
    );
}

#[test]
fn fractions_that_no_rescaling_removes_are_refused() {
    let msg = import_error(fast_matmul(format!("{FM}/grey424-26-257")));
    assert!(msg.contains("non-integer"), "{msg}");
    assert!(msg.contains("exact scheme over the rationals"), "{msg}");
}

#[test]
fn fractions_that_a_rescaling_removes_are_accepted_and_recorded() {
    // Strassen with product 0 written as (u/2) * (2v) * w and product 2 as (u/2)(v)(2w):
    // the importer rescales each product back to integers.
    let text = "# rescaled Strassen\n\
        1/2 0 1/2 0 1 -1 0\n0 0 0 0 1 0 1\n0 1 0 0 0 1 0\n1/2 1 0 1 0 0 -1\n#\n\
        2 1 0 -1 0 1 0\n0 0 1 0 0 1 0\n0 0 0 1 0 0 1\n2 0 -1 0 1 0 1\n#\n\
        1 0 0 1 -1 0 1\n0 0 2 0 1 0 0\n0 1 0 1 0 0 0\n1 -1 2 0 0 1 0\n";
    let s = fast_matmul_from_str(text, Path::new("rescaled")).unwrap();
    assert!(s.verify().is_valid());
    assert_eq!(
        s.provenance()["rescaled_products"],
        serde_json::json!([0, 2])
    );
    assert!(match_strassen(&s).is_some());
    // The same file with one fraction wrong is refused, and is not exact even over Q.
    let bad = text.replacen("1/2 0 1/2", "1/2 0 1/3", 1);
    let msg = import_error(fast_matmul_from_str(&bad, Path::new("bad")));
    assert!(
        msg.contains("not an exact scheme even over the rationals"),
        "{msg}"
    );
}

#[test]
fn eliminated_forms_and_malformed_files_are_refused() {
    let msg = import_error(fast_matmul(format!("{FM}/grey323-15-89")));
    assert!(
        msg.contains("expected 3 blocks") && msg.contains("found 6"),
        "{msg}"
    );
    for (text, want) in [
        ("1 0\n#\n1 0\n", "found 2"),
        ("1 0\n#\n1 0\n#\n1\n", "columns"),
        ("1 0 1\n1 1 0\n#\n1 0 0\n#\n1 1 1\n", "row counts"),
        ("1 a\n#\n1\n#\n1\n", "symbolic"),
        ("1 0.5\n#\n1 1\n#\n1 1\n", "not an integer or a fraction"),
        ("1 1/0\n#\n1 1\n#\n1 1\n", "malformed fraction"),
        ("1 99999999999\n#\n1 1\n#\n1 1\n", "absurdly large"),
        ("", "found 0"),
    ] {
        let msg = import_error(fast_matmul_from_str(text, Path::new("t")));
        assert!(msg.contains(want), "{text:?}: {msg}");
    }
    // A well-formed file that is not a valid scheme imports (verification is separate) and
    // fails verification.
    let s = fast_matmul_from_str("1 1\n#\n1 1\n#\n1 1\n", Path::new("t")).unwrap();
    assert_eq!((s.m(), s.k(), s.n(), s.rank()), (1, 1, 1, 2));
    assert!(!s.verify().is_valid());
}

#[test]
fn alphatensor_square_schemes_import_and_verify_with_c_transposed() {
    let keys = alphatensor_keys(AT).unwrap();
    assert_eq!(keys, ["2,2,2", "2,2,3", "3,3,3"]);
    for (key, rank) in [("2,2,2", 7), ("3,3,3", 23)] {
        let s = alphatensor(AT, key).unwrap();
        assert_eq!(s.rank(), rank);
        let v = s.verify();
        assert!(v.is_valid(), "{key}: {v:?}");
        // Without the transpose of C's index the 3x3 scheme is wrong: the transpose matters.
        if key == "3,3,3" {
            let mut w = s.w().to_vec();
            for i in 0..3 {
                for j in 0..3 {
                    w[i * 3 + j] = s.w()[j * 3 + i].clone();
                }
            }
            let (name, dims, u, v, _, prov) = s.clone().into_parts();
            let raw = strass::Scheme::new(name, dims, u, v, w, prov).unwrap();
            assert!(!raw.verify().is_valid());
        }
    }
}

#[test]
fn alphatensor_unreadable_or_missing_keys_are_refused() {
    let msg = import_error(alphatensor(AT, "2,2,3"));
    assert!(msg.contains("pickled"), "{msg}");
    let msg = import_error(alphatensor(AT, "4,4,4"));
    assert!(msg.contains("no key 4,4,4"), "{msg}");
    let msg = import_error(alphatensor(AT, "2x2x2"));
    assert!(msg.contains("m,k,n"), "{msg}");
    let msg = import_error(alphatensor(format!("{FM}/strassen"), "2,2,2"));
    assert!(msg.contains("not a readable .npz"), "{msg}");
}

/// Writes Strassen's scheme in AlphaTensor's layout (C transposed) as a float array whose
/// product 0 is written as (u/2)(2v)w and product 3 as (u/4)(v)(4w) when `exact`, or with
/// product 0 halved in U only (not exact) otherwise.
fn write_alphatensor_float(path: &Path, key: &str, exact: bool) {
    use npyz::WriterBuilder;
    let s = Scheme::strassen();
    let mut data = vec![0f64; 3 * 4 * 7];
    for r in 0..7 {
        let (fu, fv, fw) = match (r, exact) {
            (0, true) => (0.5, 2.0, 1.0),
            (3, true) => (0.25, 1.0, 4.0),
            (0, false) => (0.5, 1.0, 1.0),
            _ => (1.0, 1.0, 1.0),
        };
        for e in 0..4 {
            data[e * 7 + r] = s.u()[r][e] as f64 * fu;
            data[(4 + e) * 7 + r] = s.v()[r][e] as f64 * fv;
            // Their row t*2+s holds our C entry (s, t).
            let (si, t) = (e / 2, e % 2);
            data[(8 + t * 2 + si) * 7 + r] = s.w()[e][r] as f64 * fw;
        }
    }
    let mut npz = npyz::npz::NpzWriter::create(path).unwrap();
    let mut w = npz
        .array::<f64>(key, Default::default())
        .unwrap()
        .default_dtype()
        .shape(&[3, 4, 7])
        .begin_nd()
        .unwrap();
    w.extend(data).unwrap();
    w.finish().unwrap();
}

#[test]
fn alphatensor_float_arrays_with_removable_fractions_import() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.npz");
    write_alphatensor_float(&p, "2,2,2", true);
    let s = alphatensor(&p, "2,2,2").unwrap();
    assert!(s.verify().is_valid());
    assert_eq!(
        s.provenance()["rescaled_products"],
        serde_json::json!([0, 3])
    );
    let m = match_strassen(&s).unwrap();
    assert_eq!(m.perm, (0..7).collect::<Vec<_>>());
    // Not exact: refused, and said to be wrong even over the rationals.
    write_alphatensor_float(&p, "2,2,2", false);
    let msg = import_error(alphatensor(&p, "2,2,2"));
    assert!(
        msg.contains("not an exact scheme even over the rationals"),
        "{msg}"
    );
}
