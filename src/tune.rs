//! The per-machine cutoff file written by `strass tune`, read into engine policies.
//!
//! [`policy`] turns the file into an engine [`Policy`] (read once, by [`Engine::tuned`] and so by
//! `strassen_mul`); the kernel itself never reads the file. [`cutoff_for`] looks one entry up
//! for reports (`strass tune --show`, the benches). The file lives at
//! (first match wins):
//!
//! 1. the path given by [`set_path_override`] (the CLI's `--tune-file`),
//! 2. the environment variable `STRASS_TUNE_FILE` (when non-empty),
//! 3. `<user cache dir>/strass/tune.json` (e.g. `~/.cache/strass/tune.json` on Linux).
//!
//! Format `strass-tune/1` (JSON):
//!
//! ```json
//! {
//!   "format": "strass-tune/1",
//!   "machine": { "cpu_model": "...", "logical_cores": 2, "isa": ["avx512f", ...], ... },
//!   "entries": [
//!     { "dtype": "f32", "leaf": "openblas", "threads": 1, "cutoff": 1024,
//!       "size": 2048, "seconds": 0.051, "candidates": [[2048, 0.058], [1024, 0.051], ...] }
//!   ]
//! }
//! ```
//!
//! A file that cannot be read or parsed, has another format, or was made on another machine
//! (different [`Machine::identity`]) is reported once on stderr and ignored: [`cutoff_for`]
//! then returns `None`. A missing file is normal and silent.

pub mod measure;
pub mod search;

use crate::kernel::{Engine, Leaf, Policy, PolicyEntry};
use crate::machine::Machine;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

/// The format tag of tuning files this version reads and writes.
pub const FORMAT: &str = "strass-tune/1";

/// The prefix every version of the tuning format has.
pub const FORMAT_FAMILY: &str = "strass-tune/";
/// The environment variable that overrides the tuning file's path.
pub const ENV_VAR: &str = "STRASS_TUNE_FILE";

/// Why a tuning file was not used.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("{}: not a strass tuning file: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The file has another format tag or version.
    #[error("{}: format {found:?}, this strass reads {FORMAT:?}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The format tag found.
        found: String,
    },
    /// The file was made on another machine.
    #[error("{}: made on another machine ({theirs}); this one is {ours}", path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// The file's machine identity.
        theirs: String,
        /// This machine's identity.
        ours: String,
    },
    /// An entry has an impossible value (zero cutoff or threads, unknown dtype).
    #[error("{}: entry {index}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Index of the entry in `entries`.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl TuneError {
    /// True for a [`TuneError::Format`] whose format tag is another version of strass's
    /// tuning format (`strass-tune/...`), i.e. a file strass itself wrote.
    pub fn is_other_strass_version(&self) -> bool {
        matches!(self, TuneError::Format { found, .. } if found.starts_with(FORMAT_FAMILY))
    }
}

impl From<TuneError> for crate::Error {
    fn from(e: TuneError) -> Self {
        match e {
            TuneError::Io { path, source } => crate::Error::Io { path, source },
            other => crate::Error::Config(other.to_string()),
        }
    }
}

/// Smallest cutoff a tuning file may hold: below it the recursion spends its time in additions
/// and tiny products (a cutoff of 1 makes a 600 x 600 product about 1000 times slower).
pub const MIN_CUTOFF: usize = 16;

/// The name of a leaf in tuning files and results: `"matrixmultiply"`, `"openblas"` or `"fused"`.
pub fn leaf_name(leaf: Leaf) -> &'static str {
    match leaf {
        Leaf::MatrixMultiply => "matrixmultiply",
        #[cfg(feature = "openblas")]
        Leaf::OpenBlas => "openblas",
        Leaf::Fused => "fused",
    }
}

/// Parses a leaf name as written by [`leaf_name`] (case-insensitive; `mm` is accepted too).
/// `openblas` is an error in a build without the `openblas` feature.
pub fn parse_leaf(s: &str) -> Result<Leaf, String> {
    match s.to_ascii_lowercase().as_str() {
        "matrixmultiply" | "mm" => Ok(Leaf::MatrixMultiply),
        "fused" => Ok(Leaf::Fused),
        #[cfg(feature = "openblas")]
        "openblas" => Ok(Leaf::OpenBlas),
        #[cfg(not(feature = "openblas"))]
        "openblas" => Err("leaf `openblas` needs a build with `--features openblas`".into()),
        other => Err(format!(
            "unknown leaf `{other}` (expected matrixmultiply, openblas or fused)"
        )),
    }
}

/// One tuned cutoff.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TuneEntry {
    /// `"f32"` or `"f64"`.
    pub dtype: String,
    /// Leaf name ([`leaf_name`]); kept as text so a file from a build with other leaves parses.
    pub leaf: String,
    /// Threads the engine ran with.
    pub threads: usize,
    /// The best cutoff found.
    pub cutoff: usize,
    /// The square matrix size the candidates were timed on.
    pub size: usize,
    /// Median seconds of one multiplication at the best cutoff.
    pub seconds: f64,
    /// Every candidate measured: `(cutoff, median seconds)`.
    #[serde(default)]
    pub candidates: Vec<(usize, f64)>,
}

/// A tuning file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TuneFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The machine the entries were measured on.
    pub machine: Machine,
    /// The tuned cutoffs, at most one per (dtype, leaf, threads).
    pub entries: Vec<TuneEntry>,
}

impl TuneFile {
    /// An empty file for this machine.
    pub fn new(machine: Machine) -> TuneFile {
        TuneFile {
            format: FORMAT.into(),
            machine,
            entries: Vec::new(),
        }
    }

    /// Parses a tuning file's text and checks its format and entries (not its machine).
    pub fn parse(text: &str, path: &Path) -> Result<TuneFile, TuneError> {
        // Check the format tag before the shape, so a future version is named as such.
        let value = crate::scheme::format::parse_json_strict(text).map_err(|message| {
            TuneError::Corrupt {
                path: path.into(),
                message,
            }
        })?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(TuneError::Format {
                    path: path.into(),
                    found: other.into(),
                })
            }
            None => {
                return Err(TuneError::Corrupt {
                    path: path.into(),
                    message: "no \"format\" field".into(),
                })
            }
        }
        let file: TuneFile = serde_json::from_value(value).map_err(|e| TuneError::Corrupt {
            path: path.into(),
            message: e.to_string(),
        })?;
        for (index, e) in file.entries.iter().enumerate() {
            let bad = |message: String| TuneError::Invalid {
                path: path.into(),
                index,
                message,
            };
            if e.dtype != "f32" && e.dtype != "f64" {
                return Err(bad(format!("unknown dtype {:?}", e.dtype)));
            }
            if e.cutoff < MIN_CUTOFF {
                return Err(bad(format!(
                    "cutoff {} is below the minimum of {MIN_CUTOFF} (recursing to blocks that \
                     small is orders of magnitude slower)",
                    e.cutoff
                )));
            }
            if e.threads == 0 {
                return Err(bad("threads 0".into()));
            }
        }
        Ok(file)
    }

    /// Reads and parses a tuning file (not checking its machine; see [`TuneFile::load_for`]).
    pub fn load(path: &Path) -> Result<TuneFile, TuneError> {
        let text =
            crate::fsio::read_bounded(path, crate::fsio::MAX_TUNE_FILE).map_err(|source| {
                TuneError::Io {
                    path: path.into(),
                    source,
                }
            })?;
        TuneFile::parse(&text, path)
    }

    /// Reads a tuning file and checks that it was made on a machine with `machine`'s identity.
    pub fn load_for(path: &Path, machine: &Machine) -> Result<TuneFile, TuneError> {
        let file = TuneFile::load(path)?;
        file.check_machine(machine, path)?;
        Ok(file)
    }

    /// `Err(Foreign)` unless this file's machine has `machine`'s identity.
    pub fn check_machine(&self, machine: &Machine, path: &Path) -> Result<(), TuneError> {
        let (theirs, ours) = (self.machine.identity(), machine.identity());
        if theirs == ours {
            Ok(())
        } else {
            Err(TuneError::Foreign {
                path: path.into(),
                theirs,
                ours,
            })
        }
    }

    /// Writes the file (creating its directory; via a temporary file and a rename, so a reader
    /// never sees half a file).
    pub fn save(&self, path: &Path) -> Result<(), TuneError> {
        let io = |source| TuneError::Io {
            path: path.into(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| TuneError::Corrupt {
            path: path.into(),
            message: e.to_string(),
        })?;
        crate::fsio::write_atomic(path, (text + "\n").as_bytes()).map_err(io)
    }

    /// Inserts an entry, replacing the one with the same (dtype, leaf, threads).
    pub fn upsert(&mut self, entry: TuneEntry) {
        self.entries.retain(|e| {
            !(e.dtype == entry.dtype && e.leaf == entry.leaf && e.threads == entry.threads)
        });
        self.entries.push(entry);
        self.entries
            .sort_by(|a, b| (&a.dtype, &a.leaf, a.threads).cmp(&(&b.dtype, &b.leaf, b.threads)));
    }

    /// The entry for this dtype and leaf whose thread count is `threads`, or else the nearest
    /// one (the smaller on a tie); `None` when the file has nothing for this dtype and leaf.
    pub fn lookup(&self, dtype: &str, leaf: Leaf, threads: usize) -> Option<&TuneEntry> {
        let name = leaf_name(leaf);
        self.entries
            .iter()
            .filter(|e| e.dtype == dtype && e.leaf == name)
            .min_by_key(|e| (e.threads.abs_diff(threads), e.threads))
    }
}

/// The path set by [`set_path_override`].
static OVERRIDE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Makes [`cutoff_for`] and [`active_path`] use `path` (the CLI's `--tune-file`); `None` goes
/// back to the environment variable and the default location.
pub fn set_path_override(path: Option<PathBuf>) {
    *OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = path;
}

/// The default location, `<user cache dir>/strass/tune.json`, if the platform has a cache dir.
pub fn default_path() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("strass").join("tune.json"))
}

#[cfg(feature = "cli")]
fn cache_dir() -> Option<PathBuf> {
    dirs::cache_dir()
}

/// Without the `cli` feature (and its `dirs` dependency): `$XDG_CACHE_HOME`, else
/// `$HOME/.cache` (what `dirs` answers on Linux).
#[cfg(not(feature = "cli"))]
fn cache_dir() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(abs)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(abs)
                .map(|h| h.join(".cache"))
        })
}

/// The tuning file in force: the override, else `$STRASS_TUNE_FILE`, else [`default_path`].
pub fn active_path() -> Option<PathBuf> {
    if let Some(p) = OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        return Some(p);
    }
    match std::env::var_os(ENV_VAR) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => default_path(),
    }
}

/// This machine, detected once per process.
pub fn this_machine() -> &'static Machine {
    static MACHINE: OnceLock<Machine> = OnceLock::new();
    MACHINE.get_or_init(Machine::detect)
}

/// What [`cutoff_for`] last loaded: the file's path and version, and the result.
struct Cached {
    path: PathBuf,
    stamp: Option<Stamp>,
    file: Option<TuneFile>,
}

static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// Modification time, length and (on Unix) inode: enough to notice a rewrite, including
/// [`TuneFile::save`]'s rename, which always makes a new inode.
type Stamp = (SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.modified().ok()?, m.len(), ino))
}

/// The tuned cutoff for this dtype, leaf and thread count, if a valid tuning file for this
/// machine has one (see [`TuneFile::lookup`] for the thread-count matching). Never fails: a
/// broken or foreign file is reported once on stderr (per version of the file) and ignored.
///
/// The file is parsed once and re-read only when its path, modification time, size or inode
/// changes, so a call costs a `stat`.
pub fn cutoff_for(dtype: &str, leaf: Leaf, threads: usize) -> Option<usize> {
    let path = active_path()?;
    let st = stamp(&path);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let fresh = matches!(&*cache, Some(c) if c.path == path && c.stamp == st);
    if !fresh {
        let file = match st {
            // Missing (or unreadable metadata): the normal case without tuning, silent.
            None => None,
            Some(_) => match TuneFile::load_for(&path, this_machine()) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("strass: ignoring tuning file: {e}");
                    None
                }
            },
        };
        *cache = Some(Cached {
            path,
            stamp: st,
            file,
        });
    }
    cache
        .as_ref()
        .and_then(|c| c.file.as_ref())
        .and_then(|f| f.lookup(dtype, leaf, threads))
        .map(|e| e.cutoff)
}

/// The tuning file's cutoffs as an engine [`Policy`], loaded now from [`active_path`] (a missing
/// file gives the built-in policy silently; a broken or foreign one is reported on stderr and
/// ignored). Engines resolve the policy without further I/O.
pub fn policy() -> Policy {
    let Some(path) = active_path() else {
        return Policy::builtin();
    };
    if std::fs::metadata(&path).is_err() {
        return Policy::builtin();
    }
    let file = match TuneFile::load_for(&path, this_machine()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("strass: ignoring tuning file: {e}");
            return Policy::builtin();
        }
    };
    let mut p = Policy::builtin().with_source(path.display().to_string());
    for e in &file.entries {
        let dtype = match e.dtype.as_str() {
            "f32" => "f32",
            "f64" => "f64",
            _ => continue,
        };
        let Ok(leaf) = parse_leaf(&e.leaf) else {
            continue;
        };
        let entry = PolicyEntry {
            dtype,
            leaf,
            threads: e.threads,
            cutoff: e.cutoff,
        };
        p = match p.clone().with_entry(entry) {
            Ok(q) => q,
            Err(msg) => {
                eprintln!("strass: ignoring an entry of {}: {msg}", path.display());
                p
            }
        };
    }
    p
}

impl Engine {
    /// [`Engine::new`] with the tuning file's cutoffs ([`policy`]): what [`crate::strassen_mul`]
    /// uses.
    pub fn tuned() -> Engine {
        Engine::new().policy(policy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dtype: &str, threads: usize, cutoff: usize) -> TuneEntry {
        TuneEntry {
            dtype: dtype.into(),
            leaf: "matrixmultiply".into(),
            threads,
            cutoff,
            size: 1024,
            seconds: 0.5,
            candidates: vec![(cutoff, 0.5), (cutoff * 2, 0.6)],
        }
    }

    #[test]
    fn lookup_prefers_exact_then_nearest_threads() {
        let mut f = TuneFile::new(Machine::detect());
        f.upsert(entry("f32", 1, 256));
        f.upsert(entry("f32", 4, 1024));
        f.upsert(entry("f64", 2, 512));
        let mm = Leaf::MatrixMultiply;
        assert_eq!(f.lookup("f32", mm, 1).unwrap().cutoff, 256);
        assert_eq!(f.lookup("f32", mm, 4).unwrap().cutoff, 1024);
        assert_eq!(f.lookup("f32", mm, 2).unwrap().cutoff, 256); // tie 1 vs 3 away -> 1
        assert_eq!(f.lookup("f32", mm, 3).unwrap().cutoff, 1024);
        assert_eq!(f.lookup("f64", mm, 8).unwrap().cutoff, 512);
        // Replacing keeps one entry per key.
        f.upsert(entry("f32", 1, 128));
        assert_eq!(f.entries.len(), 3);
        assert_eq!(f.lookup("f32", mm, 1).unwrap().cutoff, 128);
    }

    #[test]
    fn parse_rejects_bad_entries_and_formats() {
        let p = Path::new("x.json");
        let mut f = TuneFile::new(Machine::detect());
        f.upsert(entry("f32", 1, 256));
        let good = serde_json::to_string(&f).unwrap();
        assert_eq!(TuneFile::parse(&good, p).unwrap(), f);
        let e = TuneFile::parse(&good.replace("\"cutoff\":256", "\"cutoff\":0"), p);
        assert!(
            matches!(e, Err(TuneError::Invalid { index: 0, .. })),
            "{e:?}"
        );
        let e = TuneFile::parse(&good.replace(FORMAT, "strass-tune/2"), p);
        assert!(matches!(e, Err(TuneError::Format { .. })), "{e:?}");
        let e = TuneFile::parse("{\"entries\": []}", p);
        assert!(matches!(e, Err(TuneError::Corrupt { .. })), "{e:?}");
        let e = TuneFile::parse(&good[..good.len() / 2], p);
        assert!(matches!(e, Err(TuneError::Corrupt { .. })), "{e:?}");
    }

    #[test]
    fn leaf_names_round_trip() {
        assert_eq!(
            parse_leaf(leaf_name(Leaf::MatrixMultiply)),
            Ok(Leaf::MatrixMultiply)
        );
        #[cfg(feature = "openblas")]
        assert_eq!(parse_leaf("OpenBLAS"), Ok(Leaf::OpenBlas));
        assert!(parse_leaf("mkl").is_err());
    }
}
