//! Performance commands: `strass tune` (find the best cutoff for this machine within a time
//! budget and store it in the tuning file) and `strass bench` (a quick side-by-side timing).

use crate::kernel::{Element, Engine, Leaf, MatMut, MatRef};
use crate::tune::measure::{self, gemm_flops, Timings};
use crate::tune::search::{self, Event, Job, Options};
use crate::tune::{self, leaf_name, parse_leaf, TuneFile};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Performance commands (tune, bench).
#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// Find the best recursion cutoff per dtype, leaf and thread count on this machine, within a
    /// time budget, and store it in the tuning file that strassen_mul reads.
    Tune(TuneArgs),
    /// Time strassen_mul against its leaf GEMM alone (and OpenBLAS, with the `openblas` feature)
    /// on square matrices, side by side, interleaved, medians.
    Bench(BenchArgs),
}

/// Options of `strass tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Total time budget in seconds (the search overruns it by at most one round of products).
    #[arg(long, default_value_t = 120.0)]
    pub budget_secs: f64,
    /// Element types: comma-separated f32, f64, or `all`.
    #[arg(long, default_value = "all")]
    pub dtype: String,
    /// Leaf GEMMs: comma-separated openblas, fused, matrixmultiply, or `all` (those built in).
    #[arg(long, default_value = "all")]
    pub leaf: String,
    /// Thread counts: comma-separated numbers or `all` (every core).
    #[arg(long, default_value = "1,all")]
    pub threads: String,
    /// Square size to time (default: the largest of 4096..256 whose products fit the budget).
    #[arg(long)]
    pub size: Option<usize>,
    /// Candidate cutoffs, comma-separated (default 128,256,...,4096).
    #[arg(long)]
    pub cutoffs: Option<String>,
    /// Repetitions per candidate at most (median taken).
    #[arg(long, default_value_t = 7)]
    pub reps: usize,
    /// The tuning file (default: $STRASS_TUNE_FILE, else <cache dir>/strass/tune.json).
    #[arg(long)]
    pub tune_file: Option<PathBuf>,
    /// Only show the tuning file in force and the cutoffs the kernel would take from it.
    #[arg(long)]
    pub show: bool,
}

/// Options of `strass bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Square matrix size.
    #[arg(long, default_value_t = 1024)]
    pub size: usize,
    /// Element type: f32 or f64.
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Leaf GEMM: openblas, fused or matrixmultiply (default: openblas when built in, else
    /// fused).
    #[arg(long)]
    pub leaf: Option<String>,
    /// Threads (a number or `all`).
    #[arg(long, default_value = "1")]
    pub threads: String,
    /// Recursion cutoff (default: the tuning file's, else the kernel's built-in default).
    #[arg(long)]
    pub cutoff: Option<usize>,
    /// Timed repetitions per contender (median reported).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// The tuning file to read (default: $STRASS_TUNE_FILE, else <cache dir>/strass/tune.json).
    #[arg(long)]
    pub tune_file: Option<PathBuf>,
}

/// Runs one of these commands.
pub fn run(cmd: PerfCommand) -> crate::Result<ExitCode> {
    match cmd {
        PerfCommand::Tune(args) => run_tune(args),
        PerfCommand::Bench(args) => run_bench(args),
    }
}

/// Seconds with 4 significant digits.
fn sig(s: f64) -> String {
    if !(s.is_finite() && s > 0.0) {
        return format!("{s}");
    }
    let decimals = (3 - s.log10().floor() as i32).clamp(0, 12) as usize;
    format!("{s:.decimals$}")
}

/// Largest `--budget-secs` (one week).
const MAX_BUDGET_SECS: f64 = 7.0 * 86400.0;

/// Largest `--size` (`bench`, `tune`): 65536, i.e. 32 GiB per f64 matrix.
pub const MAX_SIZE: usize = 1 << 16;

/// Refuses a `--size` that is 0, beyond [`MAX_SIZE`], or whose `n * n * bytes_per_entry` bytes
/// cannot be allocated (tried, then released), with a message instead of an allocation abort.
fn check_size(n: usize, bytes_per_entry: usize) -> crate::Result<()> {
    if n == 0 || n > MAX_SIZE {
        return Err(crate::Error::Config(format!(
            "--size must be between 1 and {MAX_SIZE}, not {n}"
        )));
    }
    let bytes = n * n * bytes_per_entry;
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| {
        crate::Error::Config(format!(
            "--size {n} needs about {:.1} GiB of memory, which cannot be allocated",
            bytes as f64 / (1u64 << 30) as f64
        ))
    })?;
    Ok(())
}

fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Splits a comma-separated option, expanding `all` with `all_items`.
fn list<T: PartialEq + Clone>(
    s: &str,
    what: &str,
    all_items: &[T],
    parse: impl Fn(&str) -> Result<T, String>,
) -> crate::Result<Vec<T>> {
    let mut out: Vec<T> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let items = if part.eq_ignore_ascii_case("all") {
            all_items.to_vec()
        } else {
            vec![parse(part).map_err(|e| crate::Error::Config(format!("--{what}: {e}")))?]
        };
        for it in items {
            if !out.contains(&it) {
                out.push(it);
            }
        }
    }
    if out.is_empty() {
        return Err(crate::Error::Config(format!("--{what}: empty list")));
    }
    Ok(out)
}

fn parse_dtype(s: &str) -> Result<&'static str, String> {
    match s {
        "f32" => Ok("f32"),
        "f64" => Ok("f64"),
        other => Err(format!("unknown dtype `{other}` (expected f32 or f64)")),
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(all_cores());
    }
    match s.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("`{s}` is not a positive thread count or `all`")),
        Ok(n) => Ok(n),
    }
}

fn built_in_leaves() -> Vec<Leaf> {
    #[allow(unused_mut)]
    let mut v = vec![Leaf::Fused, Leaf::MatrixMultiply];
    #[cfg(feature = "openblas")]
    v.insert(0, Leaf::OpenBlas);
    v
}

fn run_tune(args: TuneArgs) -> crate::Result<ExitCode> {
    let path = match args.tune_file.clone().or_else(tune::active_path) {
        Some(p) => p,
        None => {
            return Err(crate::Error::Config(
                "no cache directory on this platform: give --tune-file or STRASS_TUNE_FILE".into(),
            ))
        }
    };
    tune::set_path_override(Some(path.clone()));
    let dtypes = list(&args.dtype, "dtype", &["f32", "f64"], parse_dtype)?;
    let leaves = list(&args.leaf, "leaf", &built_in_leaves(), parse_leaf)?;
    let threads = list(&args.threads, "threads", &[1, all_cores()], parse_threads)?;
    if args.show {
        return show(&path, &dtypes, &leaves, &threads);
    }
    if !(args.budget_secs.is_finite()
        && args.budget_secs > 0.0
        && args.budget_secs <= MAX_BUDGET_SECS)
    {
        return Err(crate::Error::Config(format!(
            "--budget-secs must be a positive number of seconds up to {MAX_BUDGET_SECS}, not {:?}",
            args.budget_secs
        )));
    }
    let cutoffs = match &args.cutoffs {
        None => None,
        Some(s) => Some(list(s, "cutoffs", &[], |p| {
            p.parse::<usize>()
                .ok()
                .filter(|&c| c >= tune::MIN_CUTOFF)
                .ok_or_else(|| format!("`{p}` is not a cutoff of at least {}", tune::MIN_CUTOFF))
        })?),
    };
    if let Some(n) = args.size {
        // Four f64 matrices: A, B and two results.
        check_size(n, 4 * 8)?;
    }
    let mut jobs = Vec::new();
    for &dtype in &dtypes {
        for &leaf in &leaves {
            for &t in &threads {
                jobs.push(Job {
                    dtype,
                    leaf,
                    threads: t,
                });
            }
        }
    }
    let opts = Options {
        budget: Duration::from_secs_f64(args.budget_secs),
        size: args.size,
        cutoffs,
        max_reps: args.reps.max(1),
        ..Options::default()
    };
    let machine = tune::this_machine().clone();
    // Keep the other entries of a valid file for this machine; replace anything else.
    let mut file = match TuneFile::load_for(&path, &machine) {
        Ok(f) => f,
        Err(tune::TuneError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            TuneFile::new(machine.clone())
        }
        // A strass tuning file for another machine or version is replaced; anything else (a
        // file that is not a strass tuning file, a FIFO, a device) is left alone.
        Err(e @ (tune::TuneError::Foreign { .. } | tune::TuneError::Invalid { .. })) => {
            eprintln!("strass: replacing the tuning file: {e}");
            TuneFile::new(machine.clone())
        }
        Err(e @ tune::TuneError::Format { .. }) if e.is_other_strass_version() => {
            eprintln!("strass: replacing the tuning file: {e}");
            TuneFile::new(machine.clone())
        }
        Err(e) => {
            return Err(crate::Error::Config(format!(
                "{e}; it is not a strass tuning file, so `tune` will not overwrite it (remove it \
                 or choose another --tune-file)"
            )))
        }
    };
    // The output must be writable before any time is spent measuring.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    }
    crate::fsio::check_writable(&path).map_err(|e| crate::Error::io(&path, e))?;
    file.machine = machine;

    let bar = ProgressBar::new((jobs.len() * opts.max_reps) as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} rounds  {msg}")
            .map_err(|e| crate::Error::Config(e.to_string()))?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut job_index = 0usize;
    let mut label = String::new();
    let max = opts.max_reps as u64;
    let entries = search::search(&jobs, &opts, &mut |ev| match ev {
        Event::JobStart { job, size, cutoffs } => {
            label = format!(
                "{} {} {}t n={size} cutoffs {:?}",
                job.dtype,
                leaf_name(job.leaf),
                job.threads,
                cutoffs
            );
            bar.set_message(label.clone());
            bar.set_position(job_index as u64 * max);
        }
        Event::Round { done, .. } => {
            bar.set_position(job_index as u64 * max + done as u64);
        }
        Event::JobDone(e) => {
            let line = format!(
                "{} {:>14} {}t: cutoff {:>5} ({} s at n={}; candidates {})",
                e.dtype,
                e.leaf,
                e.threads,
                e.cutoff,
                sig(e.seconds),
                e.size,
                e.candidates
                    .iter()
                    .map(|(c, s)| format!("{c}: {}", sig(*s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // Printed whether or not the bar is drawn (it is hidden when stderr is no terminal).
            bar.suspend(|| println!("{line}"));
            job_index += 1;
            bar.set_position(job_index as u64 * max);
        }
    })?;
    bar.finish_and_clear();
    for e in entries {
        file.upsert(e);
    }
    file.save(&path)?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `strass tune --show`: the file in force, its state, and what the kernel would take from it.
fn show(
    path: &std::path::Path,
    dtypes: &[&'static str],
    leaves: &[Leaf],
    threads: &[usize],
) -> crate::Result<ExitCode> {
    println!("tuning file: {}", path.display());
    match TuneFile::load_for(path, tune::this_machine()) {
        Ok(f) => {
            println!("state: valid, {} entries", f.entries.len());
            for e in &f.entries {
                println!(
                    "  {} {:>14} {}t: cutoff {} (timed at n={}, {} s)",
                    e.dtype,
                    e.leaf,
                    e.threads,
                    e.cutoff,
                    e.size,
                    sig(e.seconds)
                );
            }
        }
        Err(tune::TuneError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            println!("state: missing (the kernel uses its built-in default)")
        }
        Err(e) => println!("state: ignored: {e}"),
    }
    for &d in dtypes {
        for &l in leaves {
            for &t in threads {
                let c = tune::cutoff_for(d, l, t);
                println!(
                    "kernel cutoff for {d} {} {t}t: {}",
                    leaf_name(l),
                    c.map_or_else(|| "built-in default".to_string(), |c| c.to_string())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_bench(args: BenchArgs) -> crate::Result<ExitCode> {
    if let Some(p) = &args.tune_file {
        tune::set_path_override(Some(p.clone()));
    }
    let leaf = match &args.leaf {
        Some(s) => parse_leaf(s).map_err(|e| crate::Error::Config(format!("--leaf: {e}")))?,
        None => built_in_leaves()[0],
    };
    let threads = parse_threads(&args.threads)
        .map_err(|e| crate::Error::Config(format!("--threads: {e}")))?;
    // Four f64 matrices at most: A, B and two results.
    check_size(args.size, 4 * 8)?;
    match parse_dtype(&args.dtype).map_err(|e| crate::Error::Config(format!("--dtype: {e}")))? {
        "f32" => bench_typed::<f32>(&args, leaf, threads),
        _ => bench_typed::<f64>(&args, leaf, threads),
    }
}

fn bench_typed<T: Element>(
    args: &BenchArgs,
    leaf: Leaf,
    threads: usize,
) -> crate::Result<ExitCode> {
    let n = args.size;
    let a = measure::random_matrix::<T>(n, n, 1);
    let b = measure::random_matrix::<T>(n, n, 2);
    let mut strassen = Engine::new().leaf(leaf).threads(threads);
    let source = if let Some(c) = args.cutoff {
        strassen = strassen.cutoff(c);
        "--cutoff"
    } else if tune::cutoff_for(T::DTYPE, leaf, threads).is_some() {
        "tuning file"
    } else {
        "built-in default"
    };
    let cutoff = strassen.cutoff_for::<T>();
    let plain = Engine::new().leaf(leaf).threads(threads).cutoff(usize::MAX);
    let levels = strassen.levels_for::<T>(n, n, n);
    let mut c1 = vec![T::ZERO; n * n];
    let mut c2 = vec![T::ZERO; n * n];
    let run = |e: &Engine, c: &mut [T]| -> crate::Result<()> {
        e.gemm(
            T::ONE,
            MatRef::row_major(&a, n, n)?,
            MatRef::row_major(&b, n, n)?,
            T::ZERO,
            MatMut::row_major(c, n, n)?,
        )
    };
    let mut f1 = || run(&strassen, &mut c1);
    let mut f2 = || run(&plain, &mut c2);
    #[allow(unused_mut)]
    let mut contenders: Vec<(String, &mut dyn FnMut() -> crate::Result<()>)> = vec![
        (format!("strassen ({levels} levels)"), &mut f1),
        (format!("{} alone", leaf_name(leaf)), &mut f2),
    ];
    #[cfg(feature = "openblas")]
    let mut c3 = vec![T::ZERO; n * n];
    #[cfg(feature = "openblas")]
    let mut f3 = || -> crate::Result<()> {
        crate::blas::set_num_threads(threads);
        let op = crate::blas::Operand {
            rows: n,
            cols: n,
            rs: n,
            cs: 1,
        };
        Ok(crate::blas::gemm(
            T::ONE,
            &a,
            op,
            &b,
            op,
            T::ZERO,
            &mut c3,
            op,
        )?)
    };
    #[cfg(feature = "openblas")]
    if leaf != Leaf::OpenBlas {
        contenders.push(("openblas".into(), &mut f3));
    }
    let names: Vec<String> = contenders.iter().map(|c| c.0.clone()).collect();
    let mut fs: Vec<&mut dyn FnMut() -> crate::Result<()>> =
        contenders.into_iter().map(|c| c.1).collect();
    let timings: Vec<Timings> = measure::interleaved(&mut fs, 1, args.reps.max(1), |_| true)?;
    drop(fs);
    let err = measure::rel_error_residual(&a, &b, &c1, n, n, n, 5);
    println!("machine: {}", crate::tune::this_machine().summary());
    println!(
        "{} n={n} leaf={} threads={threads} cutoff={cutoff} ({source}) reps={} (medians)",
        T::DTYPE,
        leaf_name(leaf),
        args.reps.max(1)
    );
    let base = timings[0].median_wall();
    for (name, t) in names.iter().zip(&timings) {
        let s = t.median_wall();
        println!(
            "  {name:<24} {:>10} s  {:>7.1} GFLOP/s  cpu/wall {:>4}  strassen speedup {:.3}x",
            sig(s),
            gemm_flops(n, n, n) / s / 1e9,
            {
                let p = t.parallelism();
                if p.is_finite() {
                    format!("{p:.2}")
                } else {
                    "-".into()
                }
            },
            s / base
        );
    }
    println!("  strassen rel. error (||(C-AB)x||/||ABx||): {err:.3e}");
    Ok(ExitCode::SUCCESS)
}
