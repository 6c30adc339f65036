//! The `strass verify` and `strass import` commands: output and exit status.

use std::path::Path;
use std::process::{Command, Output};

fn strass(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strass"))
        .args(args)
        .output()
        .expect("runs strass")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every kernels/*.json, as the shell would expand `kernels/*.json`.
fn shipped_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("kernels")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn verify_shipped_kernels_exits_zero_with_a_table() {
    let files = shipped_files();
    let args: Vec<&str> = ["verify"]
        .into_iter()
        .chain(files.iter().map(|s| s.as_str()))
        .collect();
    let o = strass(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("kernels/strassen.json: strassen <2,2,2;7>, 36 nonzeros"),
        "{out}"
    );
    assert!(
        out.contains("kernels/classical.json: classical <2,2,2;8>, 24 nonzeros"),
        "{out}"
    );
    assert!(out.contains("valid (all 64 Brent equations hold)"), "{out}");
    assert!(out.contains("Strassen's scheme: Strassen slot t = this slot [0, 1, 2, 3, 4, 5, 6]"));
    assert!(out.contains("64x64x64"), "{out}");
    assert!(out.contains(&format!(
        "{} file(s): {} valid, 0 invalid, 0 malformed",
        files.len(),
        files.len()
    )));
    assert!(!out.contains("INVALID"));
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.display().to_string()
}

#[test]
fn one_wrong_coefficient_exits_one_and_names_failing_equations() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string("kernels/strassen.json").unwrap();
    // c(0,0) row: [1, 0, 0, 1, -1, 0, 1] -> drop M1.
    let bad = good.replacen("[1, 0, 0, 1, -1, 0, 1]", "[0, 0, 0, 1, -1, 0, 1]", 1);
    assert_ne!(good, bad);
    let f = write(dir.path(), "wrong.json", &bad);
    let o = strass(&["verify", "kernels/strassen.json", &f]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains("INVALID: 4 of 64 Brent equations fail"),
        "{out}"
    );
    assert!(
        out.contains("a(0, 0) b(0, 0) c(0, 0): sum_r u*v*w = 0, expected 1"),
        "{out}"
    );
    assert!(
        out.contains("2 file(s): 1 valid, 1 invalid, 0 malformed"),
        "{out}"
    );
    // The invalid scheme's expansion error is of order one.
    assert!(
        out.contains("not Strassen's up to slot order and signs"),
        "{out}"
    );
}

#[test]
fn a_malformed_file_exits_non_zero_with_a_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string("kernels/strassen.json").unwrap();
    for (name, contents, reason) in [
        ("trunc.json", &good[..good.len() / 2], "malformed JSON"),
        (
            "frac.json",
            &good.replacen("[1, 0, 0, 1]", "[0.5, 0, 0, 1]", 1),
            "field `u[0][0]`: fractional coefficient 0.5",
        ),
        (
            "fmt.json",
            &good.replace("strass-scheme/1", "strass-scheme/9"),
            "field `format`: unknown format",
        ),
    ] {
        let f = write(dir.path(), name, contents);
        let o = strass(&["verify", "kernels/classical.json", &f]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {out}\n{err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {err}");
        assert!(
            lines[0].contains(name) && lines[0].contains(reason),
            "{name}: {err}"
        );
        // The valid file is still reported.
        assert!(out.contains("kernels/classical.json: classical"), "{out}");
    }
    let o = strass(&["verify", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no/such/file.json: cannot read"));
}

#[test]
fn verify_json_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "broken.json",
        "{\"format\": \"strass-scheme/1\"}",
    );
    let o = strass(&[
        "verify",
        "--json",
        "--max-size",
        "8",
        "kernels/winograd.json",
        &f,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["status"], "valid");
    let s = &arr[0]["scheme"];
    assert_eq!(
        (s["m"].as_u64(), s["rank"].as_u64(), s["nonzeros"].as_u64()),
        (Some(2), Some(7), Some(42))
    );
    assert_eq!(s["verdict"]["failed_count"], 0);
    assert!(s["strassen_match"].is_null());
    let sizes: Vec<u64> = s["expansion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["m"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [2, 4, 8]);
    assert!(s["expansion"][2]["rel_error"].as_f64().unwrap() < 1e-14);
    assert_eq!(arr[1]["status"], "malformed");
    assert!(arr[1]["error"]
        .as_str()
        .unwrap()
        .contains("field `m`: missing"));
}

#[test]
fn import_converts_verifies_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hk.json");
    let o = strass(&[
        "import",
        "tests/scheme_data/fast-matmul/hk323-15-94",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("<3,2,3;15>, 94 nonzeros, exact (all 324 Brent equations hold)"),
        "{stdout}"
    );
    // The written file verifies with `strass verify`.
    let o = strass(&["verify", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // AlphaTensor, with --key.
    let at = dir.path().join("at.json");
    let o = strass(&[
        "import",
        "tests/scheme_data/alphatensor/factorizations_r-subset.npz",
        "--key",
        "3,3,3",
        "--out",
        at.to_str().unwrap(),
        "--name",
        "at333",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let s = strass::Scheme::load_verified(&at).unwrap();
    assert_eq!((s.name(), s.rank()), ("at333", 23));
}

#[test]
fn import_refuses_what_it_cannot_convert_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.json");
    let outs = out.to_str().unwrap();
    for (file, key, reason) in [
        (
            "tests/scheme_data/fast-matmul/bini322-10-52-approx",
            None,
            "approximate",
        ),
        (
            "tests/scheme_data/fast-matmul/grey424-26-257",
            None,
            "non-integer",
        ),
        (
            "tests/scheme_data/alphatensor/factorizations_r-subset.npz",
            None,
            "choose one with --key",
        ),
        (
            "tests/scheme_data/alphatensor/factorizations_r-subset.npz",
            Some("2,2,3"),
            "pickled",
        ),
    ] {
        let mut args = vec!["import", file, "--out", outs];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        let o = strass(&args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(reason), "{file}: {err}");
        assert!(!out.exists(), "{file}: nothing may be written");
    }
    // A well-formed but wrong file: exit 1, failing equations named, nothing written.
    let wrong = dir.path().join("wrong");
    let good = std::fs::read_to_string("tests/scheme_data/fast-matmul/strassen").unwrap();
    std::fs::write(&wrong, good.replacen("1 0 1 0 1 -1 0", "1 0 1 0 1 1 0", 1)).unwrap();
    let o = strass(&["import", wrong.to_str().unwrap(), "--out", outs]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("NOT an exact scheme") && err.contains("Brent equations fail"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Strassen's scheme as a FastMatrixMultiplication JSON file (w indexed by C^T), by hand.
const STRASSEN_PERMINOV: &str = r#"{"n": [2, 2, 2], "m": 7, "z2": false,
    "u": [[1,0,0,1],[0,0,1,1],[1,0,0,0],[0,0,0,1],[1,1,0,0],[-1,0,1,0],[0,1,0,-1]],
    "v": [[1,0,0,1],[1,0,0,0],[0,1,0,-1],[-1,0,1,0],[0,0,0,1],[1,1,0,0],[0,0,1,1]],
    "w": [[1,0,0,1],[0,1,0,-1],[0,0,1,1],[1,1,0,0],[-1,0,1,0],[0,0,0,1],[1,0,0,0]]}"#;

/// Strassen's scheme as a flips `.exp` file (cki is C[i][k]), by hand.
const STRASSEN_EXP: &str = "(a11+a22)*(b11+b22)*(c11+c22)\n(a21+a22)*b11*(c12-c22)\n\
    a11*(b12-b22)*(c21+c22)\na22*(-b11+b21)*(c11+c12)\n(a11+a12)*b22*(-c11+c21)\n\
    (-a11+a21)*(b11+b12)*c22\n(a12-a22)*(b21+b22)*c11\n";

#[test]
fn import_reads_perminov_json_and_flips_exp() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let outs = out.to_str().unwrap();
    // By extension, by content (no extension) and with --format.
    let json = dir.path().join("2x2x2_m7_ZT.json");
    std::fs::write(&json, STRASSEN_PERMINOV).unwrap();
    let json_noext = dir.path().join("strassen-json");
    std::fs::write(&json_noext, STRASSEN_PERMINOV).unwrap();
    let exp = dir.path().join("222-7-mod0.exp");
    std::fs::write(&exp, STRASSEN_EXP).unwrap();
    let exp_noext = dir.path().join("strassen-exp");
    std::fs::write(&exp_noext, STRASSEN_EXP).unwrap();
    let txt = dir.path().join("strassen.txt");
    std::fs::write(&txt, STRASSEN_EXP).unwrap();
    for (file, format) in [
        (&json, None),
        (&json_noext, None),
        (&exp, None),
        (&exp_noext, None),
        (&txt, Some("flips")),
        (&json_noext, Some("perminov")),
    ] {
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["import", file.to_str().unwrap(), "--out", outs];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let o = strass(&args);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{file:?}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("<2,2,2;7>, 36 nonzeros, exact (all 64 Brent equations hold)"),
            "{stdout}"
        );
        let s = strass::Scheme::load_verified(&out).unwrap();
        assert!(strass::scheme::match_strassen(&s).is_some());
    }
    // The wrong format is refused with the parser's reason; nothing is written.
    let _ = std::fs::remove_file(&out);
    let o = strass(&[
        "import",
        exp.to_str().unwrap(),
        "--out",
        outs,
        "--format",
        "perminov",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    assert!(!out.exists());
}

#[test]
fn import_refuses_wrong_or_malformed_catalogue_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let outs = out.to_str().unwrap();
    // A wrong coefficient: exit 1, failing equations named, and the mod2 note for such names.
    let exp = dir.path().join("222-7-mod2.exp");
    std::fs::write(&exp, STRASSEN_EXP.replacen("(a12-a22)", "(a12+a22)", 1)).unwrap();
    let o = strass(&["import", exp.to_str().unwrap(), "--out", outs]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("NOT an exact scheme"), "{err}");
    assert!(err.contains("modulo 2"), "{err}");
    assert!(!out.exists());
    let json = dir.path().join("bad.json");
    std::fs::write(
        &json,
        STRASSEN_PERMINOV.replacen("[0,1,0,-1]]", "[0,1,0,1]]", 1),
    )
    .unwrap();
    let o = strass(&["import", json.to_str().unwrap(), "--out", outs]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(!out.exists());
    // Malformed: exit 2 with the reason.
    for (name, content, reason) in [
        (
            "d.json",
            STRASSEN_PERMINOV.replacen("[2, 2, 2]", "[2, 2, 3]", 1),
            "expected 6",
        ),
        (
            "e.exp",
            "a11*b11*z11\n".to_string(),
            "unknown variable `z11`",
        ),
        ("f.exp", String::new(), "empty file"),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, content).unwrap();
        let o = strass(&["import", f.to_str().unwrap(), "--out", outs]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(reason), "{name}: {err}");
        assert!(!out.exists());
    }
}

/// Strassen's scheme with product 3 rescaled to `(2 u_3, v_3 / 2, w_3 * c)`, as a
/// `strass-scheme/2` file.
fn rescaled_strassen(c: (i64, i64)) -> String {
    use strass::scheme::{Rational, RationalScheme};
    let s = RationalScheme::from(strass::Scheme::strassen());
    let mut u = s.u().to_vec();
    let mut v = s.v().to_vec();
    let mut w = s.w().to_vec();
    u[3].iter_mut()
        .for_each(|x| *x *= Rational::from_integer(2));
    v[3].iter_mut()
        .for_each(|x| *x /= Rational::from_integer(2));
    w.iter_mut()
        .for_each(|row| row[3] *= Rational::new(c.0, c.1));
    let q = RationalScheme::new("strassen-q", (2, 2, 2), u, v, w, serde_json::json!({})).unwrap();
    q.to_json_string()
}

#[test]
fn rational_files_are_verified_over_q() {
    let dir = tempfile::tempdir().unwrap();
    let good = rescaled_strassen((1, 1));
    assert!(
        good.contains("strass-scheme/2") && good.contains("\"1/2\""),
        "{good}"
    );
    let f = write(dir.path(), "q.json", &good);
    let o = strass(&["verify", &f]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("rational coefficients"), "{out}");
    assert!(
        out.contains("valid over Q (all 64 Brent equations hold"),
        "{out}"
    );
    assert!(
        out.contains("integral:   yes, after rescaling products [3]"),
        "{out}"
    );

    // w_3 scaled by 1/3 instead of 1: wrong, and named exactly.
    let bad = write(dir.path(), "bad.json", &rescaled_strassen((1, 3)));
    let o = strass(&["verify", &bad]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("INVALID over Q"), "{out}");
    assert!(out.contains("/3, expected"), "{out}");

    // Machine-readable.
    let o = strass(&["verify", "--json", &f, &bad]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["status"], "valid");
    assert_eq!(v[0]["rational"]["over_q"], true);
    assert_eq!(v[1]["status"], "invalid");

    // A malformed fraction is a one-line reason and exit status 2.
    let junk = write(
        dir.path(),
        "junk.json",
        &good.replacen("\"1/2\"", "\"2/4\"", 1),
    );
    let o = strass(&["verify", &junk]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("not in lowest terms"), "{err}");
}

/// The classical 2x2 product with `a11 b11` split into two products `(a11 / 2) b11`: rank 9,
/// exact over Q, and no per-product rescaling makes it integral. As PLinOpt `.sms` texts.
fn split_classical_sms() -> [String; 3] {
    // Products: (i, k, j) for a_ik b_kj -> c_ij, the first one twice at half weight.
    let mut prods = vec![(0, 0, 0), (0, 0, 0)];
    for (i, k, j) in [
        (0, 1, 0),
        (0, 0, 1),
        (0, 1, 1),
        (1, 0, 0),
        (1, 1, 0),
        (1, 0, 1),
        (1, 1, 1),
    ] {
        prods.push((i, k, j));
    }
    let (mut l, mut r, mut p) = (
        "9 4 R\n".to_string(),
        "9 4 R\n".to_string(),
        "4 9 R\n".to_string(),
    );
    for (x, &(i, k, j)) in prods.iter().enumerate() {
        let half = if x < 2 { "1/2" } else { "1" };
        l += &format!("{} {} {half}\n", x + 1, i * 2 + k + 1);
        r += &format!("{} {} 1\n", x + 1, k * 2 + j + 1);
        p += &format!("{} {} 1\n", i * 2 + j + 1, x + 1);
    }
    [l, r, p]
}

#[test]
fn import_plinopt_sms_keeps_rational_schemes_exact() {
    let dir = tempfile::tempdir().unwrap();
    let [l, r, p] = split_classical_sms();
    let write = |stem: &str, l: &str, r: &str, p: &str| {
        for (x, t) in [("L", l), ("R", r), ("P", p)] {
            std::fs::write(dir.path().join(format!("{stem}_{x}.sms")), t).unwrap();
        }
        dir.path().join(format!("{stem}_L.sms"))
    };
    let out = dir.path().join("split.json");
    let lf = write("split", &l, &r, &p);
    let o = strass(&[
        "import",
        lf.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (so, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}\n{err}");
    assert!(
        so.contains("exact over Q") && so.contains("strass-scheme/2"),
        "{so}"
    );
    let saved = std::fs::read_to_string(&out).unwrap();
    assert!(
        saved.contains("strass-scheme/2") && saved.contains("\"1/2\""),
        "{saved}"
    );
    let o = strass(&["verify", out.to_str().unwrap()]);
    let (so, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}\n{err}");
    // One half changed to a third: not exact, nothing written.
    let out2 = dir.path().join("wrong.json");
    let lf = write("wrong", &l.replacen("1/2", "1/3", 1), &r, &p);
    let o = strass(&[
        "import",
        lf.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("NOT an exact scheme over Q"), "{err}");
    assert!(!out2.exists());
    // A missing sibling file is a read error (exit 2), naming it.
    std::fs::remove_file(dir.path().join("wrong_P.sms")).unwrap();
    let o = strass(&[
        "import",
        lf.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("wrong_P.sms"), "{err}");
}
