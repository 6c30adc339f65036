//! The tuning file: round trip, lookup through `cutoff_for`, and broken or foreign files being
//! ignored (None, no panic). `cutoff_for` reads process-wide state (the path override), so every
//! check that goes through it lives in one test function.

use strass::machine::Machine;
use strass::tune::{self, TuneEntry, TuneError, TuneFile};
use strass::Leaf;

fn entry(dtype: &str, leaf: &str, threads: usize, cutoff: usize) -> TuneEntry {
    TuneEntry {
        dtype: dtype.into(),
        leaf: leaf.into(),
        threads,
        cutoff,
        size: 2048,
        seconds: 0.25,
        candidates: vec![(cutoff, 0.25), (2048, 0.3)],
    }
}

fn sample_file() -> TuneFile {
    let mut f = TuneFile::new(tune::this_machine().clone());
    f.upsert(entry("f32", "matrixmultiply", 1, 512));
    f.upsert(entry("f64", "matrixmultiply", 1, 256));
    f.upsert(entry("f32", "matrixmultiply", 2, 1024));
    f.upsert(entry("f32", "openblas", 1, 2048));
    f
}

#[test]
fn round_trip_through_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("tune.json");
    let f = sample_file();
    f.save(&path).unwrap();
    let back = TuneFile::load_for(&path, tune::this_machine()).unwrap();
    assert_eq!(back, f);
    assert_eq!(back.format, tune::FORMAT);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("tune.json")]);
}

#[test]
fn foreign_machine_is_refused_by_load_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    let mut f = sample_file();
    f.machine.cpu_model = "Some Other CPU 9000".into();
    f.save(&path).unwrap();
    // It parses as a file...
    assert!(TuneFile::load(&path).is_ok());
    // ...but is not for this machine.
    let e = TuneFile::load_for(&path, tune::this_machine()).unwrap_err();
    assert!(matches!(e, TuneError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("Some Other CPU 9000"));
    // The ISA and the machine's CPU count are part of the identity; the CPUs available to the
    // process (taskset, cgroups) are not.
    let mut f = sample_file();
    f.machine = tune::this_machine().clone();
    f.save(&path).unwrap();
    let mut m: Machine = tune::this_machine().clone();
    m.logical_cores += 7;
    assert!(TuneFile::load_for(&path, &m).is_ok());
    m.isa.push("made-up-isa".into());
    assert!(TuneFile::load_for(&path, &m).is_err());
    let mut m: Machine = tune::this_machine().clone();
    m.cpus = Some(m.cpus.unwrap_or(1) + 1);
    assert!(TuneFile::load_for(&path, &m).is_err());
}

#[test]
fn cutoff_for_uses_valid_files_and_ignores_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    tune::set_path_override(Some(path.clone()));
    assert_eq!(tune::active_path(), Some(path.clone()));
    let mm = Leaf::MatrixMultiply;

    // Missing file: no tuned cutoff, silently.
    assert_eq!(tune::cutoff_for("f32", mm, 1), None);

    // A valid file is used, exact thread count first, nearest otherwise.
    sample_file().save(&path).unwrap();
    assert_eq!(tune::cutoff_for("f32", mm, 1), Some(512));
    assert_eq!(tune::cutoff_for("f32", mm, 2), Some(1024));
    assert_eq!(tune::cutoff_for("f32", mm, 16), Some(1024));
    assert_eq!(tune::cutoff_for("f64", mm, 2), Some(256));
    #[cfg(feature = "openblas")]
    assert_eq!(tune::cutoff_for("f32", Leaf::OpenBlas, 1), Some(2048));
    #[cfg(feature = "openblas")]
    assert_eq!(tune::cutoff_for("f64", Leaf::OpenBlas, 1), None);

    // The engine takes the file's cutoffs as a policy, once, at construction.
    let e = strass::Engine::tuned().leaf(mm).threads(1);
    assert_eq!(e.cutoff_for::<f32>(), 512);
    assert_eq!(e.clone().threads(2).cutoff_for::<f32>(), 1024);
    assert!(e.policy_ref().source().is_some());
    assert_eq!(
        strass::Engine::new().leaf(mm).cutoff_for::<f32>(),
        strass::kernel::policy::builtin_cutoff("f32", mm)
    );

    // Rewriting the file is noticed (different length, and usually a newer mtime).
    let mut f = sample_file();
    f.upsert(entry("f32", "matrixmultiply", 1, 128));
    f.upsert(entry("f64", "matrixmultiply", 4, 64));
    f.save(&path).unwrap();
    assert_eq!(tune::cutoff_for("f32", mm, 1), Some(128));

    // Corrupt files of every kind: None, no panic.
    let good = std::fs::read_to_string(&path).unwrap();
    let broken = [
        String::new(),
        "not json at all".to_string(),
        good[..good.len() / 2].to_string(),
        good.replace(tune::FORMAT, "strass-tune/99"),
        good.replace("\"cutoff\": 128", "\"cutoff\": 0"),
        good.replace("\"cutoff\": 128", "\"cutoff\": \"big\""),
        "{\"format\": \"strass-tune/1\"}".to_string(),
        "[1, 2, 3]".to_string(),
    ];
    for text in &broken {
        std::fs::write(&path, text).unwrap();
        assert_eq!(tune::cutoff_for("f32", mm, 1), None, "file: {text:?}");
    }

    // A foreign file (another CPU): None.
    let mut f = sample_file();
    f.machine.cpu_model = "Another CPU".into();
    f.save(&path).unwrap();
    assert_eq!(tune::cutoff_for("f32", mm, 1), None);

    // A directory instead of a file: None.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert_eq!(tune::cutoff_for("f32", mm, 1), None);

    // Back to a valid file: used again.
    std::fs::remove_dir(&path).unwrap();
    sample_file().save(&path).unwrap();
    assert_eq!(tune::cutoff_for("f32", mm, 1), Some(512));

    // The environment variable is the fallback when no override is set.
    tune::set_path_override(None);
    if std::env::var_os(tune::ENV_VAR).is_none() {
        assert_eq!(tune::active_path(), tune::default_path());
    }
}

#[test]
fn machine_description_is_complete() {
    let m = Machine::detect();
    assert!(!m.cpu_model.is_empty());
    assert!(m.logical_cores >= 1);
    assert_eq!(m.date.len(), 10, "{}", m.date);
    let md = m.to_markdown();
    for key in ["cpu", "logical_cores", "isa", "openblas", "date"] {
        assert!(md.contains(&format!("| {key} |")), "{md}");
    }
    let csv = m.to_csv();
    assert!(csv.starts_with("key,value\n"));
    assert_eq!(csv.lines().count(), m.fields().len() + 1);
    assert!(m.summary().contains(&m.cpu_model));
    #[cfg(feature = "openblas")]
    {
        assert!(m.openblas_config.as_deref().unwrap().contains("OpenBLAS"));
        assert!(!m.openblas_core.as_deref().unwrap().is_empty());
    }
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        m.isa.contains(&"avx2".to_string()),
        is_x86_feature_detected!("avx2")
    );
}
