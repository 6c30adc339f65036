//! CLI smoke tests of the training commands (tiny settings).

use std::process::Command;

fn strass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_strass"))
}

#[test]
fn train_writes_an_exact_scheme_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("learned.json");
    let rec = dir.path().join("run.json");
    let st = strass()
        .args(["train", "--seed", "3", "--epochs", "300", "--out"])
        .arg(&out)
        .arg("--record")
        .arg(&rec)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let s = strass::Scheme::load(&out).unwrap();
    assert!(s.verify().is_valid());
    assert_eq!(s.rank(), 7);
    assert_eq!(s.provenance()["source"], "training");
    assert_eq!(s.provenance()["settings"]["epochs"], 300);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rec).unwrap()).unwrap();
    assert_eq!(r["success"], true);
    // Bit for bit: the same command writes the same file.
    let out2 = dir.path().join("again.json");
    let st = strass()
        .args(["train", "--seed", "3", "--epochs", "300", "--out"])
        .arg(&out2)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn failed_train_exits_nonzero_even_with_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fb.json");
    let st = strass()
        .args([
            "train",
            "--slots",
            "6",
            "--target-rank",
            "6",
            "--epochs",
            "100",
            "--restarts",
            "1",
            "--fallback",
            "canonical",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1), "{st:?}");
    let s = strass::Scheme::load(&out).unwrap();
    assert_eq!(s.provenance()["source"], "fallback");
    let stdout = String::from_utf8_lossy(&st.stdout);
    assert!(stdout.contains("FALLBACK"), "{stdout}");
}

#[test]
fn paper_protocol_tiny_run_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let st = strass()
        .args([
            "train",
            "--protocol",
            "paper",
            "--epochs",
            "3",
            "--train-size",
            "100",
            "--test-size",
            "10",
            "--json",
            "--out",
        ])
        .arg(dir.path().join("p.json"))
        .output()
        .unwrap();
    // Three epochs cannot learn an exact scheme: exit 1, a record on stdout.
    assert_eq!(st.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(r["success"], false);
    assert_eq!(r["settings"]["batch_size"], 32);
    assert_eq!(r["train_loss"]["points"], 3);
    // Errors are reported, not panics.
    let st = strass()
        .args(["train", "--target-rank", "9"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    let st = strass()
        .args(["train", "--protocol", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
}

#[test]
fn the_shipped_learned_scheme_is_regenerated_bit_for_bit_by_the_readme_command() {
    // README: `cargo run --release -- train --seed 0 --out kernels/learned.json`.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("learned.json");
    let st = strass()
        .args(["train", "--seed", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let shipped = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/learned.json"))
        .expect("kernels/learned.json is shipped");
    assert!(
        std::fs::read(&out).unwrap() == shipped,
        "kernels/learned.json differs from what `strass train --seed 0` writes now; regenerate it"
    );
    let s = strass::Scheme::shipped("learned").expect("embedded by build.rs");
    assert_eq!(s.provenance()["source"], "training");
    assert_eq!(s.provenance()["seed"], 0);
}

#[test]
fn report_from_a_tiny_study() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let st = strass()
        .args([
            "study",
            "--quiet",
            "--seeds",
            "1",
            "--repeats",
            "2",
            "--batch-sizes",
            "16,64",
            "--epochs",
            "10",
            "--phase-epochs",
            "5",
            "--train-size",
            "64",
            "--out-dir",
        ])
        .arg(&study)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let report = dir.path().join("REPORT.md");
    let st = strass()
        .args(["report", "--seeds", "2", "--study-dir"])
        .arg(&study)
        .arg("--out")
        .arg(&report)
        .arg("--default-runs")
        .arg(dir.path().join("d.jsonl"))
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let text = std::fs::read_to_string(&report).unwrap();
    for needle in [
        "68%",
        "F = 15.34",
        "5039",
        "< 1e-5",
        "0/4 = 0.0%",
        "2/2 exact",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    // Without a study the report is an error, not a panic.
    let st = strass()
        .args(["report", "--seeds", "1", "--study-dir"])
        .arg(dir.path().join("nope"))
        .arg("--out")
        .arg(dir.path().join("R2.md"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
}
