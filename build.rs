//! Verifies every scheme in `kernels/` exactly and embeds it in the crate.
//!
//! Each `kernels/*.json` is parsed with the library's own parser (`src/scheme/format.rs`) and
//! checked with the library's own Brent-equation check (`src/scheme/brent.rs`); both files are
//! included here by path. A malformed or invalid file stops the build with a message naming the
//! file, the problem and, for an invalid scheme, how many equations fail and the first few.
//! Valid files are embedded with `include_str!` into `$OUT_DIR/shipped.rs`, and compiled by the
//! library's own plan compiler (`src/plan/compile.rs`, included by path) into
//! `$OUT_DIR/shipped_plans.rs`: the kernel's addition schedules as Rust literals.

#[allow(dead_code)]
#[path = "src/scheme/brent.rs"]
mod brent;
#[allow(dead_code)]
#[path = "src/scheme/format.rs"]
mod format;
#[allow(dead_code)]
#[path = "src/plan/compile.rs"]
mod plan_compile;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn check_file(path: &Path) -> Result<format::Parsed, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let p = format::parse(&text).map_err(|e| match e {
        format::ParseError::Json(d) => format!("malformed JSON: {d}"),
        format::ParseError::Field(f) => format!("field `{}`: {}", f.field, f.problem),
    })?;
    let v = brent::check((p.m, p.k, p.n), &p.u, &p.v, &p.w, 5);
    if v.failed_count > 0 {
        let mut msg = format!(
            "not a valid <{},{},{}> scheme: {} of {} Brent equations fail; first:",
            p.m, p.k, p.n, v.failed_count, v.total
        );
        for f in &v.first {
            let _ = write!(
                msg,
                "\n    a({},{}) b({},{}) c({},{}): got {}, expected {}",
                f.ia / p.k,
                f.ia % p.k,
                f.ib / p.n,
                f.ib % p.n,
                f.ic / p.n,
                f.ic % p.n,
                f.got.map_or("overflow".to_string(), |g| g.to_string()),
                f.expected
            );
        }
        return Err(msg);
    }
    Ok(p)
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dir = root.join("kernels");
    println!("cargo:rerun-if-changed=kernels");
    println!("cargo:rerun-if-changed=src/scheme/brent.rs");
    println!("cargo:rerun-if-changed=src/scheme/format.rs");
    println!("cargo:rerun-if-changed=src/plan/compile.rs");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    // By name (the file stem), so that `shipped_names()` is sorted: `learned` before `learned-333-23`.
    files.sort_by(|a, b| a.file_stem().cmp(&b.file_stem()));
    let mut failures = Vec::new();
    let mut names = Vec::new();
    let mut texts = Vec::new();
    let mut plans = Vec::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match check_file(f) {
            Ok(p) => {
                let plan = match plan_compile::compile((p.m, p.k, p.n), &p.u, &p.v, &p.w) {
                    Ok(plan) => plan,
                    Err(msg) => {
                        failures.push(format!("kernels/{stem}.json: {msg}"));
                        continue;
                    }
                };
                // Debug output of PlanData is Rust syntax once every Vec literal is a `vec!`.
                plans.push(format!(
                    "        {stem:?} => Some({}),",
                    format!("{plan:?}").replace('[', "vec![")
                ));
                names.push(format!("{stem:?}"));
                texts.push(format!("include_str!({:?})", f.display().to_string()));
            }
            Err(msg) => failures.push(format!("kernels/{stem}.json: {msg}")),
        }
    }
    if !failures.is_empty() {
        eprintln!(
            "error: {} shipped scheme file(s) in kernels/ are malformed or invalid:",
            failures.len()
        );
        for f in &failures {
            eprintln!("  {f}");
        }
        std::process::exit(1);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("shipped.rs");
    let code = format!(
        "/// File stems of the shipped schemes, sorted.\nstatic SHIPPED_NAMES: &[&str] = &[{}];\n/// Their JSON texts, in the same order.\nstatic SHIPPED_TEXTS: &[&str] = &[{}];\n",
        names.join(", "),
        texts.join(", ")
    );
    if let Err(e) = std::fs::write(&out, code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("shipped_plans.rs");
    let code = format!(
        "/// The compiled plan of shipped scheme `name`, if there is one.\npub(super) fn shipped_plan_data(name: &str) -> Option<PlanData> {{\n    match name {{\n{}\n        _ => None,\n    }}\n}}\n",
        plans.join("\n")
    );
    if let Err(e) = std::fs::write(&out, code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
