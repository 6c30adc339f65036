//! Scheme commands: `strass verify FILE...` and `strass import FILE --out OUT.json`.
//!
//! Exit status of `verify`: 0 when every file is a well-formed, exactly valid scheme; 1 when
//! some file is a well-formed scheme that fails the Brent equations; 2 when some file cannot be
//! read or parsed (each such file gets a one-line reason on standard error).
//!
//! `verify` reads `strass-scheme/1` and `/2` files. A scheme with fractional coefficients is
//! verified exactly over Q (rational arithmetic) and reported with whether per-product rescaling
//! gives an integral form; only integral schemes are compiled into the kernel, so the numeric
//! expansion and structure checks are done for integral schemes only.

use crate::scheme::{
    equivalent, expansion_errors, import, match_strassen, match_strassen_basis, shipped_names,
    BasisMatch, ExpansionError, RationalScheme, RationalVerdict, StrassenMatch, Verdict,
};
use crate::Scheme;
use clap::Subcommand;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Scheme commands (verify, import).
#[derive(Debug, Subcommand)]
pub enum SchemeCommand {
    /// Verify scheme files exactly (Brent equations) and report shape, rank, nonzeros, the
    /// structural match with Strassen, and the numeric expansion error per recursion level.
    /// Exit status: 0 all valid, 1 some scheme invalid, 2 some file malformed or unreadable.
    Verify {
        /// `strass-scheme/1` or `/2` JSON files, e.g. `kernels/*.json` (fractions are checked
        /// exactly over Q).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Machine-readable output: one JSON array with an object per file.
        #[arg(long)]
        json: bool,
        /// Largest matrix side for the numeric expansion (recursion down to 1x1 blocks; at most
        /// 512, a few seconds per scheme).
        #[arg(long, default_value_t = 64, value_parser = parse_max_size)]
        max_size: usize,
        /// Seed of the random matrices of the numeric expansion.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Convert a published scheme (fast-matmul text file, AlphaTensor .npz with --key,
    /// FastMatrixMultiplication .json, flips .exp, or PLinOpt _L.sms) to `strass-scheme/1`
    /// (`/2` for a PLinOpt scheme that stays rational), verify it exactly, and write it only if
    /// it is valid.
    Import {
        /// The file to import: fast-matmul text (e.g. `strassen`, `grey323-15-89`), an
        /// AlphaTensor `factorizations_r.npz`, a FastMatrixMultiplication JSON scheme (e.g.
        /// `3x3x3_m23_ZT.json`), a flips `.exp` file (e.g. `334-29-mod0.exp`) or the `_L.sms`
        /// file of a PLinOpt scheme (e.g. `4x4x4_48_rational_L.sms`, with its `_R` and `_P`
        /// files beside it).
        file: PathBuf,
        /// The input format; `auto` goes by the extension (`.npz`, `.json`, `.exp`, `.sms`), then by
        /// the content (a JSON object, or a line such as `(a11+a12)*b21*c11`), and falls back
        /// to fast-matmul text.
        #[arg(long, value_enum, default_value_t = ImportFormat::Auto)]
        format: ImportFormat,
        /// Where to write the `strass-scheme/1` JSON.
        #[arg(long)]
        out: PathBuf,
        /// For .npz archives: which scheme, as `m,k,n` (e.g. `2,2,2`).
        #[arg(long)]
        key: Option<String>,
        /// Name to record in the file (default: derived from the input).
        #[arg(long)]
        name: Option<String>,
    },
}

/// Input formats of `strass import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// Detect from the extension, then the content.
    Auto,
    /// fast-matmul text (three blocks U, V, W separated by `#` lines).
    FastMatmul,
    /// AlphaTensor `factorizations_r.npz` (needs --key).
    Alphatensor,
    /// FastMatrixMultiplication (Perminov) JSON: `"n": [m,k,n]`, `"m": rank`, `u`, `v`, `w`.
    Perminov,
    /// flips `.exp`: one product `(..a..)*(..b..)*(..c..)` per line, c-index transposed.
    Flips,
    /// PLinOpt `.sms`: give `PREFIX_L.sms`; `PREFIX_R.sms` and `PREFIX_P.sms` are read beside it.
    /// Rational coefficients are kept (written as `strass-scheme/2` unless a per-product
    /// rescaling makes them integral).
    Plinopt,
}

/// The format of `file` when `--format auto`: by extension, then by content.
fn detect_format(file: &Path) -> crate::Result<ImportFormat> {
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("npz") => return Ok(ImportFormat::Alphatensor),
        Some("json") => return Ok(ImportFormat::Perminov),
        Some("exp") => return Ok(ImportFormat::Flips),
        Some("sms") => return Ok(ImportFormat::Plinopt),
        _ => {}
    }
    let text = crate::scheme::read_scheme_text(file)?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    Ok(match first {
        Some(l) if l.starts_with('{') => ImportFormat::Perminov,
        Some(l) if l.contains('*') && l.contains('a') && l.contains('b') && l.contains('c') => {
            ImportFormat::Flips
        }
        _ => ImportFormat::FastMatmul,
    })
}

/// Runs one of these commands.
pub fn run(cmd: SchemeCommand) -> crate::Result<ExitCode> {
    match cmd {
        SchemeCommand::Verify {
            files,
            json,
            max_size,
            seed,
        } => verify(&files, json, max_size, seed),
        SchemeCommand::Import {
            file,
            format,
            out,
            key,
            name,
        } => import_file(&file, format, &out, key.as_deref(), name.as_deref()),
    }
}

/// What `strass verify` found about one file.
#[derive(Debug, Serialize)]
struct FileReport {
    file: String,
    /// `valid`, `invalid` or `malformed`.
    status: &'static str,
    /// Why the file could not be loaded (malformed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<SchemeReport>,
    /// A scheme with fractional coefficients (then `scheme` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    rational: Option<RationalReport>,
}

/// What `strass verify` found about a scheme with fractional coefficients.
#[derive(Debug, Serialize)]
struct RationalReport {
    name: String,
    m: usize,
    k: usize,
    n: usize,
    rank: usize,
    nonzeros: usize,
    /// Always `true`: the Brent equations were evaluated exactly over Q.
    over_q: bool,
    verdict: RationalVerdict,
    /// The products rescaled to reach an integral form, if one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    integral_rescaled: Option<Vec<usize>>,
    /// Why there is no integral form by per-product rescaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    integral_note: Option<String>,
}

fn report_rational(s: &RationalScheme) -> RationalReport {
    let (integral_rescaled, integral_note) = match s.to_integral() {
        Ok(i) => (
            Some(
                i.provenance
                    .get("rescaled_products")
                    .and_then(|x| serde_json::from_value(x.clone()).ok())
                    .unwrap_or_default(),
            ),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    RationalReport {
        name: s.name().to_string(),
        m: s.m(),
        k: s.k(),
        n: s.n(),
        rank: s.rank(),
        nonzeros: s.nonzeros(),
        over_q: true,
        verdict: s.verify(),
        integral_rescaled,
        integral_note,
    }
}

fn print_rational(file: &str, s: &RationalReport) {
    println!(
        "{file}: {} <{},{},{};{}>, {} nonzeros, rational coefficients",
        s.name, s.m, s.k, s.n, s.rank, s.nonzeros
    );
    let v = &s.verdict;
    if v.is_valid() {
        println!(
            "  exact:      valid over Q (all {} Brent equations hold in exact rational arithmetic)",
            v.total
        );
    } else {
        println!(
            "  exact:      INVALID over Q: {} of {} Brent equations fail; first {}:",
            v.failed_count,
            v.total,
            v.failed.len()
        );
        for f in &v.failed {
            println!("    {f}");
        }
    }
    match (&s.integral_rescaled, &s.integral_note) {
        (Some(r), _) => println!(
            "  integral:   yes, after rescaling products {r:?} (a u_r, b v_r, w_r / (a b)); \
             RationalScheme::to_integral gives the integer scheme the kernel can compile"
        ),
        (None, Some(note)) => println!("  integral:   no ({note})"),
        (None, None) => {}
    }
    println!(
        "  kernel:     rational schemes are verified, not compiled (no structure or expansion check)"
    );
}

#[derive(Debug, Serialize)]
struct SchemeReport {
    name: String,
    m: usize,
    k: usize,
    n: usize,
    rank: usize,
    nonzeros: usize,
    verdict: Verdict,
    /// Slot permutation and signs onto Strassen, if it is Strassen up to those.
    strassen_match: Option<StrassenMatch>,
    /// A small integer basis change (X, Y, Z) and slot match mapping Strassen onto this scheme
    /// (only searched when there is no plain slot match).
    strassen_basis_match: Option<BasisMatch>,
    /// Shipped schemes equal to this one up to slot order and sign gauge.
    same_as_shipped: Vec<String>,
    expansion: Vec<ExpansionError>,
    /// Why there is no expansion table (e.g. a block larger than --max-size).
    #[serde(skip_serializing_if = "Option::is_none")]
    expansion_note: Option<String>,
}

/// Largest `verify --max-size`: the expansion costs about `max_size^2.8` operations per scheme,
/// a few seconds at 512.
pub const MAX_EXPANSION_SIZE: usize = 512;

fn parse_max_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_EXPANSION_SIZE).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}`: expected a size between 1 and {MAX_EXPANSION_SIZE}"
        )),
    }
}

fn report_scheme(s: &Scheme, max_size: usize, seed: u64) -> SchemeReport {
    let verdict = s.verify();
    let verdict_valid = verdict.is_valid();
    let same_as_shipped = shipped_names()
        .iter()
        .filter_map(|&n| {
            Scheme::shipped(n)
                .filter(|t| equivalent(s, t))
                .map(|_| n.to_string())
        })
        .collect();
    let (expansion, expansion_note) = match expansion_errors(s, max_size, seed) {
        Ok(e) => (e, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    SchemeReport {
        name: s.name.clone(),
        m: s.m,
        k: s.k,
        n: s.n,
        rank: s.rank,
        nonzeros: s.nonzeros(),
        verdict,
        strassen_match: match_strassen(s),
        strassen_basis_match: if verdict_valid && match_strassen(s).is_none() {
            match_strassen_basis(s)
        } else {
            None
        },
        same_as_shipped,
        expansion,
        expansion_note,
    }
}

/// `x` in scientific notation with a two-digit signed exponent, e.g. `5.54e-15`, `1.09e+00`.
fn sci(x: f64) -> String {
    let s = format!("{x:.2e}");
    match s.split_once('e') {
        Some((mant, exp)) => {
            let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
            format!("{mant}e{sign}{digits:0>2}")
        }
        None => s, // inf, NaN
    }
}

fn print_human(r: &FileReport, seed: u64) {
    let Some(s) = &r.scheme else {
        return;
    };
    println!(
        "{}: {} <{},{},{};{}>, {} nonzeros",
        r.file, s.name, s.m, s.k, s.n, s.rank, s.nonzeros
    );
    let v = &s.verdict;
    if v.is_valid() {
        println!("  exact:      valid (all {} Brent equations hold)", v.total);
    } else {
        println!(
            "  exact:      INVALID: {} of {} Brent equations fail; first {}:",
            v.failed_count,
            v.total,
            v.failed.len()
        );
        for f in &v.failed {
            println!("    {f}");
        }
    }
    let strassen = match &s.strassen_match {
        Some(m) => {
            let signs: Vec<String> = m
                .signs
                .iter()
                .map(|&(a, b, c)| {
                    let ch = |x: i8| if x > 0 { '+' } else { '-' };
                    format!("{}{}{}", ch(a), ch(b), ch(c))
                })
                .collect();
            format!(
                "Strassen's scheme: Strassen slot t = this slot {:?}, signs (u,v,w) {}",
                m.perm,
                signs.join(" ")
            )
        }
        None if (s.m, s.k, s.n, s.rank) == (2, 2, 2, 7) => match &s.strassen_basis_match {
            Some(b) => format!(
                "Strassen's scheme after the basis change X = {:?}, Y = {:?}, Z = {:?} \
                 (X^-T U Y^T, Y^-T V Z^T, X W Z^-1), then slot order and signs",
                b.x, b.y, b.z
            ),
            None => "not Strassen's up to slot order and signs, nor up to a basis change with \
                     entries in {-1,0,1}"
                .to_string(),
        },
        None => "not <2,2,2;7>".to_string(),
    };
    println!("  structure:  {strassen}");
    if !s.same_as_shipped.is_empty() {
        println!(
            "  equal up to slot order and signs to shipped: {}",
            s.same_as_shipped.join(", ")
        );
    }
    if let Some(note) = &s.expansion_note {
        println!("  expansion:  none ({note})");
    } else {
        println!("  expansion (random N(0,1) operands, seed {seed}, scheme applied down to 1x1):");
        println!(
            "    {:>14}  {:>6}  {:>10}",
            "m x k x n", "levels", "rel. error"
        );
        for e in &s.expansion {
            println!(
                "    {:>14}  {:>6}  {:>10}",
                format!("{}x{}x{}", e.m, e.k, e.n),
                e.levels,
                sci(e.rel_error)
            );
        }
    }
}

fn verify(files: &[PathBuf], json: bool, max_size: usize, seed: u64) -> crate::Result<ExitCode> {
    let mut reports = Vec::new();
    let (mut invalid, mut malformed) = (0, 0);
    for (i, f) in files.iter().enumerate() {
        let file = f.display().to_string();
        let loaded = RationalScheme::load(f).and_then(|r| {
            if r.is_integral() {
                // No product needs rescaling: exactly the scheme `Scheme::load` reads.
                r.to_integral().map(Ok)
            } else {
                Ok(Err(r))
            }
        });
        let r = match loaded {
            Err(e) => {
                malformed += 1;
                let msg = e.to_string().replace('\n', " ");
                if !json {
                    eprintln!("strass: malformed: {msg}");
                }
                FileReport {
                    file,
                    status: "malformed",
                    error: Some(msg),
                    scheme: None,
                    rational: None,
                }
            }
            Ok(Err(q)) => {
                let rep = report_rational(&q);
                let valid = rep.verdict.is_valid();
                invalid += usize::from(!valid);
                FileReport {
                    file,
                    status: if valid { "valid" } else { "invalid" },
                    error: None,
                    scheme: None,
                    rational: Some(rep),
                }
            }
            Ok(Ok(s)) => {
                let rep = report_scheme(&s, max_size, seed);
                let valid = rep.verdict.is_valid();
                invalid += usize::from(!valid);
                FileReport {
                    file,
                    status: if valid { "valid" } else { "invalid" },
                    error: None,
                    scheme: Some(rep),
                    rational: None,
                }
            }
        };
        if !json {
            if i > 0 && (r.scheme.is_some() || r.rational.is_some()) {
                println!();
            }
            match &r.rational {
                Some(q) => print_rational(&r.file, q),
                None => print_human(&r, seed),
            }
        }
        reports.push(r);
    }
    if json {
        let text = serde_json::to_string_pretty(&reports)
            .map_err(|e| crate::Error::Config(format!("cannot serialise the report: {e}")))?;
        println!("{text}");
    } else if files.len() > 1 {
        println!(
            "\n{} file(s): {} valid, {invalid} invalid, {malformed} malformed",
            files.len(),
            files.len() - invalid - malformed
        );
    }
    Ok(if malformed > 0 {
        ExitCode::from(2)
    } else if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn import_file(
    file: &Path,
    format: ImportFormat,
    out: &Path,
    key: Option<&str>,
    name: Option<&str>,
) -> crate::Result<ExitCode> {
    let format = match format {
        ImportFormat::Auto => detect_format(file)?,
        f => f,
    };
    if format == ImportFormat::Plinopt {
        if key.is_some() {
            return Err(crate::Error::Config(
                "--key applies only to .npz archives".into(),
            ));
        }
        return import_rational(file, out, name);
    }
    let is_npz = format == ImportFormat::Alphatensor;
    let mut s = match (is_npz, key) {
        (true, Some(key)) => import::alphatensor(file, key)?,
        (true, None) => {
            let keys = import::alphatensor_keys(file)?;
            return Err(crate::Error::Config(format!(
                "{}: an AlphaTensor archive holds {} schemes; choose one with --key m,k,n (e.g. {})",
                file.display(),
                keys.len(),
                keys.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        (false, Some(_)) => {
            return Err(crate::Error::Config(
                "--key applies only to .npz archives".into(),
            ))
        }
        (false, None) => match format {
            ImportFormat::Perminov => import::perminov(file)?,
            ImportFormat::Flips => import::flips_exp(file)?,
            _ => import::fast_matmul(file)?,
        },
    };
    if let Some(n) = name {
        s.name = n.to_string();
    }
    let v = s.verify();
    if !v.is_valid() {
        eprintln!(
            "strass: {}: imported <{},{},{};{}> is NOT an exact scheme: {} of {} Brent equations fail; first:",
            file.display(),
            s.m,
            s.k,
            s.n,
            s.rank,
            v.failed_count,
            v.total
        );
        for f in &v.failed {
            eprintln!("    {f}");
        }
        if let Some(w) = s.provenance.get("warning").and_then(|w| w.as_str()) {
            eprintln!("strass: note: {w}");
        }
        eprintln!("strass: nothing written to {}", out.display());
        return Ok(ExitCode::from(1));
    }
    s.save(out)?;
    let rescaled = s
        .provenance
        .get("rescaled_products")
        .and_then(|x| x.as_array())
        .map_or(0, |a| a.len());
    println!(
        "{}: {} <{},{},{};{}>, {} nonzeros, exact (all {} Brent equations hold){} -> {}",
        file.display(),
        s.name,
        s.m,
        s.k,
        s.n,
        s.rank,
        s.nonzeros(),
        v.total,
        if rescaled > 0 {
            format!(", {rescaled} products rescaled to integers")
        } else {
            String::new()
        },
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `strass import` of a PLinOpt scheme: verified exactly over Q, then written as
/// `strass-scheme/1` when a per-product rescaling makes it integral (so it can be compiled),
/// else as `strass-scheme/2` (verifiable, not compiled).
fn import_rational(file: &Path, out: &Path, name: Option<&str>) -> crate::Result<ExitCode> {
    let mut s = import::plinopt_sms(file)?;
    if let Some(n) = name {
        s.set_name(n);
    }
    let (m, k, n) = s.dims();
    let v = s.verify();
    if !v.is_valid() {
        eprintln!(
            "strass: {}: imported <{m},{k},{n};{}> is NOT an exact scheme over Q: {} of {} Brent equations fail; first:",
            file.display(),
            s.rank(),
            v.failed_count,
            v.total
        );
        for f in &v.failed {
            eprintln!("    {f}");
        }
        eprintln!("strass: nothing written to {}", out.display());
        return Ok(ExitCode::from(1));
    }
    let kind = match s.to_integral() {
        Ok(int) => {
            int.save(out)?;
            "integral after per-product rescaling, strass-scheme/1"
        }
        Err(_) => {
            s.save(out)?;
            "rational coefficients, strass-scheme/2 (verifiable, not compiled)"
        }
    };
    println!(
        "{}: {} <{m},{k},{n};{}>, {} nonzeros, exact over Q (all {} Brent equations hold), {kind} -> {}",
        file.display(),
        s.name(),
        s.rank(),
        s.nonzeros(),
        v.total,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
