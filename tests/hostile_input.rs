//! Hostile and careless input (issue 11): every case gives a clear error within seconds and
//! bounded memory, or works; no panic, no abort, no lost file.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use strass::scheme::import::alphatensor;
use strass::tune::{self, TuneFile};
use strass::Scheme;

fn strass(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strass"))
        .args(args)
        .output()
        .expect("run strass")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit status 1 or 2, one error line, no panic.
fn assert_clean_failure(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "{what}: status {:?}, stderr {err}",
        out.status
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(err.contains("error"), "{what}: {err}");
}

fn strassen_json() -> serde_json::Value {
    Scheme::strassen().to_json_value()
}

// ---- 1. No inconsistent Scheme can be built from outside the crate ----

#[test]
fn deserialize_checks_the_shape_like_load() {
    let good = strassen_json();
    let s: Scheme = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(s, Scheme::strassen());
    // A u row longer than m*k (what made gemm read past A).
    let mut long_u = good.clone();
    long_u["u"][0] = serde_json::json!([1, 0, 0, 1, 1]);
    // Zero dimension (what divided by zero in the recursion).
    let mut zero_m = good.clone();
    zero_m["m"] = 0.into();
    // A short w row (what made canonical_form and match_strassen panic).
    let mut short_w = good.clone();
    short_w["w"][0] = serde_json::json!([1, 0, 0]);
    for (what, v) in [("long u", long_u), ("m 0", zero_m), ("short w", short_w)] {
        let e = serde_json::from_value::<Scheme>(v).unwrap_err().to_string();
        assert!(e.contains("field"), "{what}: {e}");
    }
    // Scheme::new and Scheme::edited check the same things.
    let s = Scheme::strassen();
    assert!(s.edited(|_, _, w| w[0].truncate(3)).is_err());
    assert!(s.edited(|u, _, _| u[0].push(1)).is_err());
    assert!(Scheme::new(
        "x",
        (0, 2, 2),
        vec![],
        vec![],
        vec![],
        serde_json::Value::Null
    )
    .is_err());
    // A valid Scheme still round-trips through serde.
    let back: Scheme = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

// ---- 3. Verification cost is bounded ----

fn zero_scheme_json(d: usize) -> String {
    let row = |len: usize| format!("[{}]", vec!["0"; len].join(","));
    let rows = |n: usize, len: usize| format!("[{}]", vec![row(len); n].join(","));
    format!(
        r#"{{"format":"strass-scheme/1","name":"z","m":{d},"k":{d},"n":{d},"rank":1,"u":{},"v":{},"w":{}}}"#,
        rows(1, d * d),
        rows(1, d * d),
        rows(d * d, 1)
    )
}

#[test]
fn sparse_verification_is_fast_and_large_tensors_are_refused() {
    // <64,64,64;1> all zero: about 13 minutes with the dense check.
    let t = Instant::now();
    let s = Scheme::from_json_str(&zero_scheme_json(64), Path::new("z64")).unwrap();
    let v = s.verify();
    assert!(!v.is_valid());
    assert_eq!(
        v.failed_count,
        64 * 64 * 64,
        "the ones of the tensor are missing"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // Beyond the documented tensor limit: refused before anything is verified.
    let e = Scheme::from_json_str(&zero_scheme_json(128), Path::new("z128")).unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    // A dense scheme whose check would exceed MAX_VERIFY_TERMS is refused too.
    let (m, rank) = (16usize, 4096usize);
    let e = Scheme::new(
        "dense",
        (m, m, m),
        vec![vec![1; m * m]; rank],
        vec![vec![1; m * m]; rank],
        vec![vec![1; rank]; m * m],
        serde_json::Value::Null,
    )
    .unwrap_err();
    assert!(e.to_string().contains("verification"), "{e}");
}

#[test]
fn verify_max_size_is_bounded() {
    let out = strass(&["verify", "--max-size", "4096", "kernels/strassen.json"]);
    assert_clean_failure(&out, "--max-size 4096");
}

// ---- 2. AlphaTensor .npz limits ----

/// An .npy array: the given header dictionary and raw data bytes.
fn npy(header: &str, len_field: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    match len_field {
        None => {
            out.extend([1, 0]);
            out.extend((h.len() as u16).to_le_bytes());
        }
        Some(l) => {
            out.extend([2, 0]);
            out.extend(l.to_le_bytes());
        }
    }
    out.extend(h.as_bytes());
    out.extend(data);
    out
}

fn npz(path: &Path, key: &str, npy_bytes: &[u8]) {
    use npyz::zip::write::FileOptions;
    let f = std::fs::File::create(path).unwrap();
    let mut z = npyz::zip::ZipWriter::new(f);
    let opts = FileOptions::default().compression_method(npyz::zip::CompressionMethod::Deflated);
    z.start_file(format!("{key}.npy"), opts).unwrap();
    z.write_all(npy_bytes).unwrap();
    z.finish().unwrap();
}

/// Strassen in AlphaTensor's layout (C transposed), as i8 entries in C or Fortran order.
fn strassen_alphatensor(fortran: bool) -> Vec<u8> {
    let s = Scheme::strassen();
    let at = |f: usize, e: usize, r: usize| -> i64 {
        match f {
            0 => s.u()[r][e],
            1 => s.v()[r][e],
            _ => s.w()[(e % 2) * 2 + e / 2][r],
        }
    };
    let mut out = Vec::new();
    if fortran {
        for r in 0..7 {
            for e in 0..4 {
                for f in 0..3 {
                    out.push(at(f, e, r) as i8 as u8);
                }
            }
        }
    } else {
        for f in 0..3 {
            for e in 0..4 {
                for r in 0..7 {
                    out.push(at(f, e, r) as i8 as u8);
                }
            }
        }
    }
    out
}

#[test]
fn npz_forged_shapes_headers_and_bombs_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.npz");
    let t = Instant::now();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Size arithmetic that wraps (panicked before).
        (
            "2^62",
            npy(
                "{'descr': '|i1', 'fortran_order': False, 'shape': (3, 4, 4611686018427387904), }",
                None,
                &[0; 16],
            ),
        ),
        // A product of the shape that overflows u64.
        (
            "overflow",
            npy(
                "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
                None,
                &[0; 16],
            ),
        ),
        // A shape far larger than any scheme, over a compressed run of zeros (a zip bomb):
        // refused from the header, before anything is decoded.
        (
            "bomb",
            npy(
                "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4, 100000000), }",
                None,
                &vec![0; 16 << 20],
            ),
        ),
        // A header length of 0xFFFFFFFF (allocated 4 GiB before).
        ("header length", npy("{}", Some(u32::MAX), &[])),
    ];
    for (what, bytes) in cases {
        npz(&p, "2,2,2", &bytes);
        let e = alphatensor(&p, "2,2,2").unwrap_err().to_string();
        assert!(e.contains("2,2,2"), "{what}: {e}");
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // A zip bomb under a correct shape decodes only the bytes the shape implies.
    let mut data = strassen_alphatensor(false);
    data.extend(vec![0u8; 64 << 20]);
    npz(
        &p,
        "2,2,2",
        &npy(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (3, 4, 7), }",
            None,
            &data,
        ),
    );
    assert!(alphatensor(&p, "2,2,2").unwrap().verify().is_valid());
}

#[test]
fn npz_fortran_order_is_read_as_fortran_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.npz");
    npz(
        &p,
        "2,2,2",
        &npy(
            "{'descr': '|i1', 'fortran_order': True, 'shape': (3, 4, 7), }",
            None,
            &strassen_alphatensor(true),
        ),
    );
    let s = alphatensor(&p, "2,2,2").unwrap();
    assert!(s.verify().is_valid(), "{:?}", s.verify());
    assert!(strass::scheme::match_strassen(&s).is_some());
}

// ---- 4. Options never panic or abort ----

#[test]
fn absurd_options_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tune_file = dir.path().join("tune.json");
    let tf = tune_file.to_str().unwrap();
    for args in [
        &["tune", "--tune-file", tf, "--budget-secs", "1e300"][..],
        &["tune", "--tune-file", tf, "--size", "100000"],
        &["tune", "--tune-file", tf, "--cutoffs", "1"],
        &["bench", "--tune-file", tf, "--size", "100000"],
        &["bench", "--tune-file", tf, "--size", "4294967297"],
        &["train", "--dims", "4294967296,4294967296,1"],
        &["train", "--dims", "9223372036854775809,2,1"],
    ] {
        let out = strass(args);
        assert_clean_failure(&out, &format!("{args:?}"));
    }
    assert!(!tune_file.exists());
}

#[test]
fn output_into_a_closed_pipe_does_not_panic() {
    let files: Vec<String> = std::fs::read_dir("kernels")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strass"))
        .arg("verify")
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: the reader goes away before strass writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

#[test]
fn fused_config_and_empty_views() {
    use strass::kernel::fused::{Blocking, DstView, FusedConfig, FusedWorkspace, SrcView};
    let cfg = FusedConfig {
        blocking: Some(Blocking {
            mc: usize::MAX,
            kc: 256,
            nc: 1024,
        }),
        ..FusedConfig::default()
    };
    assert!(FusedWorkspace::<f64>::with_config(cfg).is_err());
    let mut empty: [f64; 0] = [];
    assert!(DstView::row_major(&mut empty, 50, 0).is_ok());
    assert!(DstView::row_major(&mut empty, 0, 50).is_ok());
    assert!(SrcView::row_major(&empty, 50, 0).is_ok());
    assert!(strass::MatMut::row_major(&mut empty, 50, 0).is_ok());
}

// ---- 5. No lost files ----

#[test]
fn train_checks_every_output_before_replacing_any() {
    let dir = tempfile::tempdir().unwrap();
    let important = dir.path().join("important.json");
    std::fs::write(&important, "precious").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strass"))
        .args(["train", "--seed", "3", "--epochs", "300", "--record"])
        .arg(dir.path().join("nonexistent").join("r.json"))
        .arg("--out")
        .arg(&important)
        .output()
        .unwrap();
    assert_clean_failure(&out, "train --record into a missing directory");
    assert_eq!(std::fs::read_to_string(&important).unwrap(), "precious");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files"
    );
}

#[test]
fn tune_refuses_to_overwrite_a_file_that_is_not_a_tuning_file() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious.json");
    let content = r#"{"format": "my-app/3", "data": [1, 2, 3]}"#;
    std::fs::write(&precious, content).unwrap();
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"data": 1}"#).unwrap();
    for p in [&precious, &other] {
        let out = strass(
            &[
                &common::QUICK_TUNE[..],
                &["--tune-file", p.to_str().unwrap()],
            ]
            .concat(),
        );
        assert_clean_failure(&out, "tune over a foreign file");
        assert!(text(&out.stderr).contains("not a strass tuning file"));
    }
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), content);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary files"
    );
}

#[test]
fn failed_saves_keep_the_old_file_and_leave_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let s = Scheme::strassen();
    // The target is a directory: the save fails and nothing is left behind.
    let target = dir.path().join("d.json");
    std::fs::create_dir(&target).unwrap();
    assert!(s.save(&target).is_err());
    assert!(TuneFile::new(tune::this_machine().clone())
        .save(&target)
        .is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A successful save replaces the file whole.
    let p = dir.path().join("s.json");
    std::fs::write(&p, "old").unwrap();
    s.save(&p).unwrap();
    assert_eq!(Scheme::load(&p).unwrap(), s);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

// ---- 6. Hostile tuning and scheme files ----

#[test]
fn tiny_cutoffs_in_a_tuning_file_are_refused() {
    let mut f = TuneFile::new(tune::this_machine().clone());
    f.upsert(tune::TuneEntry {
        dtype: "f64".into(),
        leaf: "matrixmultiply".into(),
        threads: 1,
        cutoff: 1,
        size: 600,
        seconds: 1.0,
        candidates: vec![(1, 1.0)],
    });
    let text = serde_json::to_string(&f).unwrap();
    let e = TuneFile::parse(&text, Path::new("t.json")).unwrap_err();
    assert!(e.to_string().contains("minimum"), "{e}");
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let t = Instant::now();
    assert!(TuneFile::load(&fifo).is_err());
    assert!(Scheme::load(&fifo).is_err());
    assert!(strass::scheme::import::fast_matmul(&fifo).is_err());
    // /dev/zero would be read until memory runs out.
    assert!(TuneFile::load(Path::new("/dev/zero")).is_err());
    assert!(Scheme::load("/dev/zero").is_err());
    assert!(t.elapsed() < Duration::from_secs(5));
    // The kernel's tuning lookup ignores a FIFO instead of blocking on it.
    let out = Command::new(env!("CARGO_BIN_EXE_strass"))
        .args(["bench", "--size", "64", "--reps", "1", "--dtype", "f64"])
        .env(tune::ENV_VAR, &fifo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn oversized_scheme_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.json");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(strass::fsio::MAX_SCHEME_FILE + 1).unwrap();
    let e = Scheme::load(&p).unwrap_err().to_string();
    assert!(e.contains("limit"), "{e}");
}

// ---- 7. Smaller ----

#[test]
fn duplicate_json_keys_are_refused() {
    let text = Scheme::strassen().to_json_string();
    let dup = text.replacen("\"m\": 2,", "\"m\": 2, \"m\": 3,", 1);
    assert_ne!(dup, text);
    let e = Scheme::from_json_str(&dup, Path::new("d.json")).unwrap_err();
    assert!(e.to_string().contains("duplicate key"), "{e}");
    // The same through `Deserialize` (which used to go through `serde_json::Value`: last wins),
    // and inside a coefficient matrix.
    let e = serde_json::from_str::<Scheme>(&dup).unwrap_err();
    assert!(e.to_string().contains("duplicate key"), "{e}");
    let nested = text.replacen("[1, 0, 0, 1]", "[{\"a\": 1, \"a\": 2}, 0, 0, 1]", 1);
    assert_ne!(nested, text);
    let e = Scheme::from_json_str(&nested, Path::new("d.json")).unwrap_err();
    assert!(e.to_string().contains("duplicate key"), "{e}");
    let f = TuneFile::new(tune::this_machine().clone());
    let t =
        serde_json::to_string(&f)
            .unwrap()
            .replacen("\"entries\"", "\"entries\":[],\"entries\"", 1);
    assert!(TuneFile::parse(&t, Path::new("t.json")).is_err());
}

#[test]
fn provenance_floats_survive_a_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    let mut s = Scheme::strassen();
    let xs: [f64; 5] = [
        0.1 + 0.2,
        1.0 / 3.0,
        2.2250738585072014e-308,
        9007199254740993.0,
        0.7003921568627451,
    ];
    s.set_provenance(serde_json::json!({ "source": "test", "x": xs }));
    s.save(&p).unwrap();
    let back = Scheme::load(&p).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        assert_eq!(
            back.provenance()["x"][i].as_f64().unwrap().to_bits(),
            x.to_bits()
        );
    }
    assert_eq!(back, s);
}
