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
    assert_eq!(s.rank, 7);
    assert_eq!(s.provenance["source"], "training");
    assert_eq!(s.provenance["settings"]["epochs"], 300);
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
    assert_eq!(s.provenance["source"], "fallback");
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
