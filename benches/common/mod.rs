//! Shared by the custom-harness benches (`table3`, `sweep`, `shapes`, `schemes`): environment
//! knobs, output location, and the contenders (OpenBLAS with the `openblas` feature, and the
//! engine).
#![allow(dead_code)] // each bench uses a different subset

use std::path::PathBuf;
#[cfg(feature = "openblas")]
use strass::blas;
use strass::tune::measure::{interleaved_paused, ResidualCheck, Timings};
use strass::{Element, Engine, Leaf, MatMut, MatRef};

/// An environment variable's value, unless unset or blank.
pub fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|s| !s.trim().is_empty())
}

/// Parses a comma-separated list of positive integers from an environment variable.
pub fn env_list(var: &str) -> Option<Vec<usize>> {
    let s = std::env::var(var).ok()?;
    let v: Vec<usize> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.parse::<usize>() {
            Ok(x) if x > 0 => x,
            _ => panic!("{var}: `{p}` is not a positive integer"),
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

/// A positive number from an environment variable, or `default`.
pub fn env_num<N: std::str::FromStr>(var: &str, default: N) -> N {
    match std::env::var(var) {
        Ok(s) if !s.trim().is_empty() => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}: `{s}` is not a number")),
        _ => default,
    }
}

/// The sizes to run: `STRASS_BENCH_SIZES` or the defaults; `true` when they are the defaults
/// (a full run, whose results go to `bench-results/`).
pub fn sizes(defaults: &[usize]) -> (Vec<usize>, bool) {
    match env_list("STRASS_BENCH_SIZES") {
        Some(v) => {
            let full = v == defaults;
            (v, full)
        }
        None => (defaults.to_vec(), true),
    }
}

/// Where results go: `STRASS_BENCH_OUT`, else `bench-results/` for a full run and
/// `target/bench-results-quick/` for a quick one (so a quick run never overwrites the
/// committed results).
pub fn out_dir(full: bool) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = match std::env::var_os("STRASS_BENCH_OUT") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ if full => root.join("bench-results"),
        _ => root.join("target").join("bench-results-quick"),
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Writes a file, announcing it.
pub fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("wrote {}", path.display());
}

/// All logical cores.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Leaf name as in the results.
pub fn leaf_name(leaf: Leaf) -> &'static str {
    strass::tune::leaf_name(leaf)
}

/// The engine a bench uses for this dtype, leaf and threads, cloned from `base` (clones share
/// one cached workspace), and where its cutoff comes from: `STRASS_BENCH_CUTOFF` if set, else
/// the engine's own choice (the tuning file's cutoff, else the kernel's built-in default).
pub fn bench_engine<T: Element>(
    base: &Engine,
    leaf: Leaf,
    threads: usize,
) -> (Engine, &'static str) {
    let e = base.clone().leaf(leaf).threads(threads);
    if let Some(c) = env_list("STRASS_BENCH_CUTOFF").and_then(|v| v.first().copied()) {
        return (e.cutoff(c), "STRASS_BENCH_CUTOFF");
    }
    let from = if strass::tune::cutoff_for(T::DTYPE, leaf, threads).is_some() {
        "tuning file"
    } else {
        "built-in default"
    };
    (e, from)
}

/// Parses `n` or `MxKxN` items, comma-separated (the value of environment variable `var`).
pub fn parse_shapes(var: &str, s: &str) -> Vec<(usize, usize, usize)> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let d: Vec<usize> = p
                .split('x')
                .map(|x| {
                    x.trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("{var}: bad shape `{p}`"))
                })
                .collect();
            match d[..] {
                [n] => (n, n, n),
                [m, k, n] => (m, k, n),
                _ => panic!("{var}: `{p}` is not n or MxKxN"),
            }
        })
        .collect()
}

/// The 1, 5 and 15 minute load averages, as text.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One contender of a cell: a call that writes its product into the cell's shared C.
pub type Run<'a> = Box<dyn FnMut() -> Result<(), String> + 'a>;

/// The untimed pause after every contender's call in a cell on `threads` threads:
/// `STRASS_BENCH_PAUSE_MS` milliseconds if set, else 200 ms on more than one thread (longer than
/// OpenBLAS's worker threads spin after a call before they sleep: 2^28 cycles by default, about
/// 0.1 s) and none on one thread.
pub fn pause_for(threads: usize) -> std::time::Duration {
    let ms = env_num(
        "STRASS_BENCH_PAUSE_MS",
        if threads > 1 { 200u64 } else { 0 },
    );
    std::time::Duration::from_millis(ms)
}

/// Times the contenders interleaved (`warmup` untimed rounds, then `reps` timed rounds, with an
/// untimed `pause` after every call), then runs each once more and measures the relative error
/// of what it wrote into `c` with `check`. `what` names the cell in a panic message.
pub fn time_and_check<T: Element>(
    runs: &mut [Run<'_>],
    warmup: usize,
    reps: usize,
    pause: std::time::Duration,
    check: &ResidualCheck,
    c: &std::cell::RefCell<&mut Vec<T>>,
    what: &str,
) -> (Vec<Timings>, Vec<f64>) {
    let mut refs: Vec<&mut dyn FnMut() -> Result<(), String>> = runs
        .iter_mut()
        .map(|r| &mut **r as &mut dyn FnMut() -> Result<(), String>)
        .collect();
    let timings = interleaved_paused(&mut refs, warmup, reps, pause, |_| true)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut errors = Vec::new();
    for r in refs.iter_mut() {
        r().unwrap_or_else(|e| panic!("{what}: {e}"));
        errors.push(check.error(&c.borrow()));
    }
    (timings, errors)
}

/// `C = A B` (`m x k` times `k x n`, row-major) with the engine.
pub fn engine_gemm<T: Element>(
    e: &Engine,
    a: &[T],
    b: &[T],
    c: &mut [T],
    sh: (usize, usize, usize),
) -> Result<(), String> {
    let (m, k, n) = sh;
    e.gemm(
        T::ONE,
        MatRef::row_major(a, m, k).map_err(|e| e.to_string())?,
        MatRef::row_major(b, k, n).map_err(|e| e.to_string())?,
        T::ZERO,
        MatMut::row_major(c, m, n).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}

/// `C = A B` (`m x k` times `k x n`, row-major) on OpenBLAS with `p` threads.
#[cfg(feature = "openblas")]
pub fn openblas_gemm<T: Element>(
    sh: (usize, usize, usize),
    p: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
) -> Result<(), String> {
    let (m, k, n) = sh;
    let op = |rows, cols| blas::Operand {
        rows,
        cols,
        rs: cols,
        cs: 1,
    };
    blas::set_num_threads(p);
    blas::gemm(T::ONE, a, op(m, k), b, op(k, n), T::ZERO, c, op(m, n)).map_err(|e| e.to_string())
}

/// `C = A B` (n x n, row-major) on OpenBLAS with `threads` threads.
#[cfg(feature = "openblas")]
pub fn openblas_mul<T: Element>(
    threads: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    n: usize,
) -> Result<(), strass::Error> {
    blas::set_num_threads(threads);
    let op = blas::Operand {
        rows: n,
        cols: n,
        rs: n,
        cs: 1,
    };
    Ok(blas::gemm(T::ONE, a, op, b, op, T::ZERO, c, op)?)
}

/// `C = A B` (n x n, row-major) with the engine. OpenBLAS is set to `threads` threads first, as
/// a caller asking for that many threads would have it; what the engine does with OpenBLAS's
/// thread count inside its recursion is the engine's business (and shows in cpu/wall).
#[cfg(feature = "openblas")]
pub fn engine_mul<T: Element>(
    e: &Engine,
    threads: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    n: usize,
) -> Result<(), strass::Error> {
    blas::set_num_threads(threads);
    e.gemm(
        T::ONE,
        MatRef::row_major(a, n, n)?,
        MatRef::row_major(b, n, n)?,
        T::ZERO,
        MatMut::row_major(c, n, n)?,
    )
}

/// Seconds as text with 4 significant digits (at least 1 decimal).
pub fn secs(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        return format!("{s}");
    }
    let decimals = (3 - s.log10().floor() as i32).clamp(1, 9) as usize;
    format!("{s:.decimals$}")
}

/// A ratio such as cpu/wall with 2 decimals, or `-` when unknown.
pub fn ratio2(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "-".into()
    }
}

/// The command line that reproduces a run, with the environment knobs that were set.
pub fn command_line(bench: &str) -> String {
    let mut env: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("STRASS_") || k.starts_with("OPENBLAS_"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.sort();
    env.push(format!("cargo bench --features openblas --bench {bench}"));
    env.join(" ")
}

/// Runs OpenBLAS and the engine (every leaf, 1 and all threads) on 512 x 512 products for about
/// `seconds`, untimed, so that first-call effects (library initialisation, thread start-up,
/// clock ramp-up) do not land in the first timed round.
#[cfg(feature = "openblas")]
pub fn warm_up(seconds: f64) {
    let n = 512;
    let a = strass::tune::measure::random_matrix::<f64>(n, n, 3);
    let b = strass::tune::measure::random_matrix::<f64>(n, n, 4);
    let mut c = vec![0.0f64; n * n];
    let t0 = std::time::Instant::now();
    let base = Engine::new().cutoff(128);
    let engines: Vec<(Engine, usize)> = [1, all_cores()]
        .into_iter()
        .flat_map(|p| {
            let bp = base.clone().threads(p);
            [Leaf::OpenBlas, Leaf::Fused, Leaf::MatrixMultiply].map(|l| (bp.clone().leaf(l), p))
        })
        .collect();
    while t0.elapsed().as_secs_f64() < seconds {
        for (e, p) in &engines {
            openblas_mul(*p, &a, &b, &mut c, n).expect("warm-up: OpenBLAS");
            engine_mul(e, *p, &a, &b, &mut c, n).expect("warm-up: engine");
        }
    }
}

/// `cblas_sgemm` / `cblas_dgemm`: layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc.
type CblasGemm<R> = unsafe extern "C" fn(
    i32,
    i32,
    i32,
    i32,
    i32,
    i32,
    R,
    *const R,
    i32,
    *const R,
    i32,
    R,
    *mut R,
    i32,
);

/// `C = A B` through a CBLAS gemm, row-major, no transposes, contiguous operands.
///
/// # Safety
/// `a`, `b` and `c` point to `m*k`, `k*n` and `m*n` elements; `f` is a CBLAS `?gemm`.
unsafe fn row_major_gemm<R: From<u8>>(
    f: CblasGemm<R>,
    (m, k, n): (i32, i32, i32),
    a: *const R,
    b: *const R,
    c: *mut R,
) {
    let (row_major, no_trans) = (101, 111);
    // SAFETY: as the caller promises.
    unsafe {
        f(
            row_major,
            no_trans,
            no_trans,
            m,
            n,
            k,
            R::from(1),
            a,
            k,
            b,
            n,
            R::from(0),
            c,
            n,
        )
    }
}

/// BLIS (Debian: `libblis-dev`), an anchor beside OpenBLAS. Loaded at run time with `dlopen`
/// (`RTLD_LOCAL`), so its CBLAS symbols never clash with OpenBLAS's; `STRASS_BENCH_BLIS` names
/// another library file.
pub struct Blis {
    sgemm: CblasGemm<f32>,
    dgemm: CblasGemm<f64>,
    set_threads: unsafe extern "C" fn(i64),
    /// BLIS's version and the configuration (sub-architecture) it picked on this CPU.
    pub description: String,
}

impl Blis {
    /// Loads BLIS, or says why it cannot.
    pub fn load() -> Result<Blis, String> {
        let path = env("STRASS_BENCH_BLIS").unwrap_or_else(|| "libblis.so.4".into());
        let cpath = std::ffi::CString::new(path.clone()).map_err(|e| e.to_string())?;
        // SAFETY: dlopen gets a NUL-terminated path; loading BLIS runs only its initialisers.
        let h = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if h.is_null() {
            return Err(format!(
                "cannot load {path} (Debian: apt-get install libblis-dev)"
            ));
        }
        let sym = |name: &std::ffi::CStr| {
            // SAFETY: h is a live handle from dlopen; name is NUL-terminated.
            let p = unsafe { libc::dlsym(h, name.as_ptr()) };
            if p.is_null() {
                Err(format!("{path} has no {name:?}"))
            } else {
                Ok(p)
            }
        };
        let (s, d, t) = (
            sym(c"cblas_sgemm")?,
            sym(c"cblas_dgemm")?,
            sym(c"bli_thread_set_num_threads")?,
        );
        let (ver, arch_id, arch_str) = (
            sym(c"bli_info_get_version_str")?,
            sym(c"bli_arch_query_id")?,
            sym(c"bli_arch_string")?,
        );
        // SAFETY: the symbols are BLIS's functions with these C signatures (cblas.h, blis.h:
        // dim_t and arch_t are int64_t and a C enum); they return static strings.
        unsafe {
            let ver: unsafe extern "C" fn() -> *const libc::c_char = std::mem::transmute(ver);
            let arch_id: unsafe extern "C" fn() -> i32 = std::mem::transmute(arch_id);
            let arch_str: unsafe extern "C" fn(i32) -> *const libc::c_char =
                std::mem::transmute(arch_str);
            let text =
                |p: *const libc::c_char| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
            let description = format!(
                "BLIS {} ({path}), configuration {}",
                text(ver()),
                text(arch_str(arch_id()))
            );
            Ok(Blis {
                sgemm: std::mem::transmute::<*mut libc::c_void, CblasGemm<f32>>(s),
                dgemm: std::mem::transmute::<*mut libc::c_void, CblasGemm<f64>>(d),
                set_threads: std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn(i64)>(t),
                description,
            })
        }
    }

    /// `C = A B` (`m x k` times `k x n`, row-major) on BLIS with `p` threads.
    pub fn gemm<T: Element>(
        &self,
        sh: (usize, usize, usize),
        p: usize,
        a: &[T],
        b: &[T],
        c: &mut [T],
    ) -> Result<(), String> {
        let (m, k, n) = sh;
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
        let int = |x: usize| i32::try_from(x).map_err(|_| format!("{x} does not fit a C int"));
        let (mi, ki, ni) = (int(m)?, int(k)?, int(n)?);
        // SAFETY: the slices hold the row-major operands with leading dimensions k, n and n
        // (checked above); T is f32 exactly when DTYPE is "f32" (Element is sealed to f32 and
        // f64), so the casts only rename the element type.
        unsafe {
            (self.set_threads)(p as i64);
            if T::DTYPE == "f32" {
                row_major_gemm(
                    self.sgemm,
                    (mi, ki, ni),
                    a.as_ptr().cast(),
                    b.as_ptr().cast(),
                    c.as_mut_ptr().cast(),
                );
            } else {
                row_major_gemm(
                    self.dgemm,
                    (mi, ki, ni),
                    a.as_ptr().cast(),
                    b.as_ptr().cast(),
                    c.as_mut_ptr().cast(),
                );
            }
        }
        Ok(())
    }
}
