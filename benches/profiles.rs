//! Does strass's speed depend on the caller's build profile? Builds the downstream crate
//! `benches/downstream` (which depends on strass as a new user's crate would) in three release
//! profiles, runs the three binaries in turn, one thread, and compares.
//!
//! The profiles: cargo's default `release` (codegen-units 16, thin-local LTO), `fat`
//! (codegen-units 1, `lto = "fat"`) and `strass` (strass's own: codegen-units 4). Each binary
//! times OpenBLAS, the default `strassen_mul` (no tuning file) and the packed GEMM alone,
//! interleaved, one warm-up call each; the bench runs `STRASS_BENCH_REPS` rounds (default 3),
//! each round every profile once (the order rotating), and reports medians over the rounds. The
//! spread of a contender is `max / min - 1` over the profiles, of its time and of its time
//! relative to OpenBLAS in the same process (OpenBLAS is the same library in every binary, so its
//! own spread is the machine's noise). The bar: the three agree within 3%.
//!
//! `cargo bench --features openblas --bench profiles`. Knobs: `STRASS_BENCH_SHAPES` (`n` or
//! `MxKxN`, comma-separated), `STRASS_BENCH_PROFILES`, `STRASS_BENCH_REPS`,
//! `STRASS_BENCH_QUICK=1` (256^3, one round), `STRASS_DOWNSTREAM_TARGET` (the downstream
//! crate's target directory; default `target/downstream`). The full run writes
//! `bench-results/profiles.md` and `profiles.csv` with the machine description.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use strass::kernel::cache::Caches;
use strass::machine::Machine;
use strass::tune::measure::median;

const DEFAULT_SHAPES: &str = "1000,2048,4096,1000x4096x2048";
const DEFAULT_PROFILES: &str = "release,fat,strass";
const CONTENDERS: [&str; 3] = ["openblas", "strassen_mul", "packed"];

/// Builds the downstream crate in `profile` and returns its binary.
fn build(cargo: &str, manifest: &Path, target: &Path, profile: &str) -> PathBuf {
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--profile", profile, "--manifest-path"])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    assert!(
        status.success(),
        "building the downstream crate in profile {profile} failed"
    );
    let dir = if profile == "dev" { "debug" } else { profile };
    target.join(dir).join("strass-downstream")
}

/// Runs one binary on every shape and returns `(shape, contender) -> seconds`.
fn run(bin: &Path, dtype: &str, shapes: &[String]) -> BTreeMap<(String, String), f64> {
    let out = Command::new(bin)
        .arg(dtype)
        .arg("1")
        .args(shapes)
        .env("STRASS_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        // No tuning file: the default engine as a new user gets it.
        .env(
            "STRASS_TUNE_FILE",
            "/nonexistent/strass-profiles-bench.json",
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{} failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut times = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [shape, _dtype, name, secs] = f[..] else {
            panic!("unexpected line from {}: {line}", bin.display());
        };
        let secs: f64 = secs.parse().expect("seconds");
        times.insert((shape.to_string(), name.to_string()), secs);
    }
    times
}

fn spread(v: &[f64]) -> f64 {
    let max = v.iter().cloned().fold(f64::MIN, f64::max);
    let min = v.iter().cloned().fold(f64::MAX, f64::min);
    max / min - 1.0
}

fn main() {
    let quick = common::env("STRASS_BENCH_QUICK").is_some();
    let shapes_text = common::env("STRASS_BENCH_SHAPES").unwrap_or_else(|| {
        if quick {
            "256".into()
        } else {
            DEFAULT_SHAPES.into()
        }
    });
    let shapes: Vec<String> = common::parse_shapes("STRASS_BENCH_SHAPES", &shapes_text)
        .into_iter()
        .map(|(m, k, n)| format!("{m}x{k}x{n}"))
        .collect();
    let profiles_text =
        common::env("STRASS_BENCH_PROFILES").unwrap_or_else(|| DEFAULT_PROFILES.into());
    let profiles: Vec<&str> = profiles_text.split(',').map(str::trim).collect();
    let rounds = common::env_num("STRASS_BENCH_REPS", if quick { 1usize } else { 3 }).max(1);
    let full = !quick
        && shapes_text == DEFAULT_SHAPES
        && profiles_text == DEFAULT_PROFILES
        && std::env::var_os("STRASS_BENCH_REPS").is_none();

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("benches/downstream/Cargo.toml");
    let target = common::env("STRASS_DOWNSTREAM_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/downstream"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let bins: Vec<PathBuf> = profiles
        .iter()
        .map(|p| {
            eprintln!("building benches/downstream in profile {p}");
            build(&cargo, &manifest, &target, p)
        })
        .collect();

    let load_start = common::loadavg();
    // (dtype, profile index, shape, contender) -> seconds per round.
    let mut samples: BTreeMap<(String, usize, String, String), Vec<f64>> = BTreeMap::new();
    for round in 0..rounds {
        for j in 0..profiles.len() {
            let p = (round + j) % profiles.len();
            for dtype in ["f32", "f64"] {
                for ((shape, name), t) in run(&bins[p], dtype, &shapes) {
                    eprintln!(
                        "round {round} {} {dtype} {shape} {name} {t:.4} s",
                        profiles[p]
                    );
                    samples
                        .entry((dtype.to_string(), p, shape, name))
                        .or_default()
                        .push(t);
                }
            }
        }
    }
    let load_end = common::loadavg();
    let med = |dtype: &str, p: usize, shape: &str, name: &str| {
        median(&samples[&(dtype.to_string(), p, shape.to_string(), name.to_string())])
    };

    let mut md = String::new();
    let mut csv = String::from("dtype,shape,profile,contender,median_s,vs_openblas\n");
    writeln!(
        md,
        "# strass's speed under three build profiles of the caller\n"
    )
    .unwrap();
    writeln!(md, "{}", Machine::detect().to_markdown()).unwrap();
    writeln!(md, "Caches: {}\n", Caches::detect().summary()).unwrap();
    writeln!(
        md,
        "Command: `{}`  \nLoad average before: {load_start}; after: {load_end}\n",
        common::command_line("profiles")
    )
    .unwrap();
    writeln!(
        md,
        "The crate `benches/downstream` (strass as a path dependency, `default-features = false, \
         features = [\"openblas\"]`) built in the profiles {}; one thread \
         (`STRASS_NUM_THREADS=1`, `OPENBLAS_NUM_THREADS=1`), no tuning file. In each binary the \
         contenders alternate after one untimed call each; {rounds} round(s), every profile once \
         per round in rotating order; medians over the rounds. `x OB` = OpenBLAS time / \
         contender time in the same process. Spread = max / min - 1 over the profiles, of the \
         time and of `x OB` (OpenBLAS's own time spread is the machine's noise).\n",
        profiles.join(", ")
    )
    .unwrap();
    let mut head = String::from("| dtype | shape | contender |");
    let mut rule = String::from("| --- | --- | --- |");
    for p in &profiles {
        write!(head, " {p} s | {p} x OB |").unwrap();
        rule.push_str(" ---: | ---: |");
    }
    head.push_str(" time spread | x OB spread |");
    rule.push_str(" ---: | ---: |");
    writeln!(md, "{head}\n{rule}").unwrap();
    let mut worst = (0.0f64, String::new());
    for dtype in ["f32", "f64"] {
        for shape in &shapes {
            for name in CONTENDERS {
                let mut row = format!("| {dtype} | {shape} | {name} |");
                let (mut ts, mut rs) = (Vec::new(), Vec::new());
                for (p, profile) in profiles.iter().enumerate() {
                    let t = med(dtype, p, shape, name);
                    let r = med(dtype, p, shape, "openblas") / t;
                    write!(row, " {} | {r:.3} |", common::secs(t)).unwrap();
                    writeln!(csv, "{dtype},{shape},{profile},{name},{t:.6},{r:.4}").unwrap();
                    ts.push(t);
                    rs.push(r);
                }
                let (st, sr) = (spread(&ts), spread(&rs));
                if name != "openblas" && sr > worst.0 {
                    worst = (sr, format!("{name} {dtype} {shape}"));
                }
                let sr = if name == "openblas" {
                    "-".to_string()
                } else {
                    format!("{:.1}%", 100.0 * sr)
                };
                writeln!(row, " {:.1}% | {sr} |", 100.0 * st).unwrap();
                md.push_str(&row);
            }
        }
    }
    writeln!(
        md,
        "\nLargest spread of `x OB` over the profiles (strass contenders): {:.1}% ({}).",
        100.0 * worst.0,
        worst.1
    )
    .unwrap();
    print!("{md}");
    let dir = common::out_dir(full);
    common::write(&dir.join("profiles.md"), &md);
    common::write(&dir.join("profiles.csv"), &csv);
}
