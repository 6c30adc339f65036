//! `strass tune` and `strass bench` end to end, with the tuning file in a temporary directory.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;
use strass::tune::{self, TuneFile};

fn strass(tune_file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strass"))
        .args(args)
        .env(tune::ENV_VAR, tune_file)
        .output()
        .expect("run strass")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn tune_writes_a_file_the_kernel_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache").join("tune.json");
    let small = [
        "tune",
        "--budget-secs",
        "2",
        "--size",
        "64",
        "--cutoffs",
        "16,32",
        "--leaf",
        "matrixmultiply",
        "--threads",
        "1",
    ];
    let out = strass(&path, &[&small[..], &["--dtype", "f32"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("wrote"), "{}", text(&out.stdout));
    let f = TuneFile::load_for(&path, tune::this_machine()).unwrap();
    assert_eq!(f.entries.len(), 1);
    let e = &f.entries[0];
    assert_eq!(
        (e.dtype.as_str(), e.leaf.as_str(), e.threads, e.size),
        ("f32", "matrixmultiply", 1, 64)
    );
    // The winner is one of the candidates, and it is the fastest of them.
    assert!(!e.candidates.is_empty());
    assert!(e
        .candidates
        .iter()
        .any(|&(c, s)| c == e.cutoff && s == e.seconds));
    assert!(e.candidates.iter().all(|&(_, s)| s >= e.seconds && s > 0.0));

    // A second run for f64 keeps the f32 entry.
    let out = strass(&path, &[&small[..], &["--dtype", "f64"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = TuneFile::load_for(&path, tune::this_machine()).unwrap();
    assert_eq!(f.entries.len(), 2);

    // --show reports what the kernel will use.
    let out = strass(
        &path,
        &[
            "tune",
            "--show",
            "--leaf",
            "matrixmultiply",
            "--threads",
            "1",
        ],
    );
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("state: valid, 2 entries"), "{s}");
    let f32_cut = f
        .lookup("f32", strass::Leaf::MatrixMultiply, 1)
        .unwrap()
        .cutoff;
    assert!(
        s.contains(&format!(
            "kernel cutoff for f32 matrixmultiply 1t: {f32_cut}"
        )),
        "{s}"
    );
}

#[test]
fn corrupt_and_foreign_files_are_reported_once_and_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    std::fs::write(&path, "{ this is not json").unwrap();
    // --show asks the kernel's hook for every dtype x leaf x threads: one report in all.
    let out = strass(&path, &["tune", "--show"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("state: ignored"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("built-in default"));
    assert_eq!(
        text(&out.stderr).matches("ignoring tuning file").count(),
        1,
        "{}",
        text(&out.stderr)
    );

    let mut f = TuneFile::new(tune::this_machine().clone());
    f.machine.cpu_model = "A CPU from elsewhere".into();
    f.upsert(tune::TuneEntry {
        dtype: "f32".into(),
        leaf: "matrixmultiply".into(),
        threads: 1,
        cutoff: 64,
        size: 128,
        seconds: 1.0,
        candidates: vec![],
    });
    f.save(&path).unwrap();
    let out = strass(&path, &["tune", "--show"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("another machine"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stdout).contains("kernel cutoff for f32 matrixmultiply 1t: 64"));
    assert_eq!(text(&out.stderr).matches("ignoring tuning file").count(), 1);

    // Tuning over a file that is not a strass tuning file leaves it alone (it may be someone's
    // data; strass's own writes are atomic, so it never leaves a corrupt tuning file).
    std::fs::write(&path, "garbage").unwrap();
    let tune_args = common::QUICK_TUNE;
    let out = strass(&path, &tune_args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("will not overwrite"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "garbage");
    // Once it is removed, tune writes a valid file.
    std::fs::remove_file(&path).unwrap();
    let out = strass(&path, &tune_args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(TuneFile::load_for(&path, tune::this_machine()).is_ok());
}

#[test]
fn tune_respects_its_budget_with_automatic_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    let t0 = Instant::now();
    let out = strass(
        &path,
        &[
            "tune",
            "--budget-secs",
            "2",
            "--dtype",
            "f32",
            "--leaf",
            "matrixmultiply",
            "--threads",
            "1",
        ],
    );
    let secs = t0.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The budget bounds the search up to one round of products; allow a wide margin for a
    // loaded machine, but not an unbounded run.
    assert!(secs < 30.0, "took {secs} s");
    let f = TuneFile::load_for(&path, tune::this_machine()).unwrap();
    assert_eq!(f.entries.len(), 1);
    assert!(
        strass::tune::search::AUTO_SIZES.contains(&f.entries[0].size),
        "{:?}",
        f.entries[0]
    );
}

#[test]
fn bad_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    for args in [
        &["tune", "--budget-secs", "0"][..],
        &["tune", "--budget-secs", "nan"],
        &["tune", "--leaf", "mkl"],
        &["tune", "--dtype", "f16"],
        &["tune", "--threads", "0"],
        &["tune", "--size", "0"],
        &["tune", "--cutoffs", "16,x"],
        &["bench", "--size", "0"],
        &["bench", "--dtype", "i32"],
    ] {
        let out = strass(&path, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("error"), "{args:?}");
    }
    assert!(!path.exists());
}

#[test]
fn bench_prints_a_side_by_side_timing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    let out = strass(
        &path,
        &[
            "bench",
            "--size",
            "96",
            "--cutoff",
            "32",
            "--reps",
            "1",
            "--leaf",
            "matrixmultiply",
            "--dtype",
            "f64",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("strassen") && s.contains("matrixmultiply alone"),
        "{s}"
    );
    // The error line is a real, small number for f64.
    let err: f64 = s
        .lines()
        .find(|l| l.contains("rel. error"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("error line");
    assert!(err < 1e-12, "{s}");
}
