//! `strass-mpi`: one distributed product, one JSON line on rank 0. See the README's "Across
//! machines (MPI)" section and `strass-mpi --help`.

#![deny(unsafe_code)]

use clap::{Parser, ValueEnum};
use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use strass_mpi::caps::Caps;
use strass_mpi::check::{norms, projection_error, Part};
use strass_mpi::cost::{self, Machine, Schedule};
use strass_mpi::io::{self, BlockHeader};
use strass_mpi::layout::{self, Layout};
use strass_mpi::mem::{self, Tracked};
use strass_mpi::summa::Summa;
use strass_mpi::{comm, Scalar};

/// Exit code for bad arguments, shapes or options (the same on every rank).
const EXIT_USAGE: i32 = 2;
/// Exit code for a failure while running (I/O, a local error).
const EXIT_RUN: i32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Dtype {
    F64,
    F32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Algorithm {
    /// Communication-avoiding parallel Strassen (P = 7^b 2^c).
    Caps,
    /// SUMMA on the most square grid (any P).
    Summa,
    /// The one the cost model predicts faster (CAPS only when P = 7^b 2^c).
    Auto,
}

/// C = A B across MPI ranks (CAPS or SUMMA, strass's engine on each rank). Run under mpirun
/// or srun; prints one JSON line on rank 0.
#[derive(Debug, Parser, Serialize)]
#[command(name = "strass-mpi", version)]
struct Cli {
    /// Rows of A and C.
    #[arg(long)]
    m: usize,
    /// Columns of A, rows of B.
    #[arg(long)]
    k: usize,
    /// Columns of B and C.
    #[arg(long)]
    n: usize,
    /// Element type.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// Algorithm.
    #[arg(long, value_enum, default_value = "auto")]
    algorithm: Algorithm,
    /// Check the product by random projection (max_rel_err in the output).
    #[arg(long)]
    check: bool,
    /// Seed of the generated A, B (and the check vector).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Bytes of matrix buffers allowed per rank (suffixes K, M, G, T: powers of 1024). CAPS
    /// takes the fewest DFS steps that fit. Default: 80% of MemAvailable divided by the ranks on
    /// the node (smallest over the nodes).
    #[arg(long, value_parser = parse_bytes)]
    memory_limit: Option<u64>,
    /// Extra DFS steps CAPS may take at most to fit the memory limit.
    #[arg(long, default_value_t = 8)]
    max_dfs: u32,
    /// Repetitions of the multiplication; `seconds` is their median.
    #[arg(long, default_value_t = 1)]
    reps: usize,
    /// Threads of strass's engine per rank (sets STRASS_NUM_THREADS).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Read A and B from block files PREFIX.a.rank<R>.smb, PREFIX.b.rank<R>.smb (written by
    /// --save with the same ranks, algorithm and shape) instead of generating them.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Write A, B and C as block files PREFIX.{a,b,c}.rank<R>.smb (all ranks or none).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Cost model for auto: local speed of one rank, GFLOP/s.
    #[arg(long, default_value_t = 20.0)]
    model_gflops: f64,
    /// Cost model for auto: bandwidth per rank, GB/s.
    #[arg(long, default_value_t = 5.0)]
    model_gbps: f64,
    /// Cost model for auto: latency per message, microseconds.
    #[arg(long, default_value_t = 2.0)]
    model_latency_us: f64,
    /// Testing: add 1 to C(0,0) before the check (the check must then fail).
    #[arg(long, hide = true)]
    perturb: bool,
    /// Testing: this rank exits with status 3 (without finalising MPI) in the middle of the
    /// multiplication, at its second send; with one rank, just before it.
    #[arg(long, hide = true)]
    fail_rank: Option<usize>,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mul: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown suffix {c:?} (K, M, G, T)")),
            };
            (&s[..i], mul)
        }
        _ => (s, 1),
    };
    let x: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a byte count like 512M or 2G"))?;
    if !(x.is_finite() && x > 0.0) {
        return Err(format!("{s:?}: need a positive size"));
    }
    Ok((x * mul as f64) as u64)
}

/// What rank 0 prints.
#[derive(Debug, Serialize)]
struct Report {
    ranks: usize,
    m: usize,
    k: usize,
    n: usize,
    dtype: Dtype,
    algorithm: &'static str,
    schedule: Option<Schedule>,
    grid: Option<(usize, usize)>,
    padded: (usize, usize, usize),
    seconds: f64,
    gflops: f64,
    bytes_sent_max: u64,
    messages_max: u64,
    bytes_theory: u128,
    bytes_lower_bound: f64,
    memory_peak_max: u64,
    memory_model: u128,
    memory_limit: u64,
    rss_peak_max: Option<u64>,
    model_seconds: f64,
    max_rel_err: Option<f64>,
    input_checksum: f64,
    seed: u64,
    threads: usize,
    reps: usize,
}

/// The resolved plan, identical on every rank.
#[derive(Debug, Clone, Copy)]
enum Plan {
    Caps {
        sched: Schedule,
        padded: (usize, usize, usize),
        mem: u128,
    },
    Summa {
        pr: usize,
        pc: usize,
        padded: (usize, usize, usize),
        mem: u128,
    },
}

fn main() {
    let code = {
        let Some(universe) = mpi::initialize() else {
            eprintln!("strass-mpi: MPI was already initialised");
            std::process::exit(EXIT_RUN);
        };
        let world = universe.world();
        install_panic_hook(world.rank());
        run(&world)
        // `universe` drops here: MPI_Finalize on every rank before the exit code.
    };
    std::process::exit(code);
}

/// A panic prints one line and aborts the whole job (MPI_Abort), so no rank waits forever.
fn install_panic_hook(rank: i32) {
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("strass-mpi: rank {rank}: internal error: {info}");
        SimpleCommunicator::world().abort(70);
    }));
}

fn all_max(world: &SimpleCommunicator, x: u64) -> u64 {
    let mut y = 0u64;
    world.all_reduce_into(&x, &mut y, SystemOperation::max());
    y
}

fn all_min(world: &SimpleCommunicator, x: u64) -> u64 {
    let mut y = 0u64;
    world.all_reduce_into(&x, &mut y, SystemOperation::min());
    y
}

/// True on every rank if `ok` is true on every rank.
fn all_ok(world: &SimpleCommunicator, ok: bool) -> bool {
    all_min(world, ok as u64) == 1
}

fn run(world: &SimpleCommunicator) -> i32 {
    let rank = world.rank() as usize;
    let size = world.size() as usize;
    // 1. Parse on every rank; agree on the outcome.
    let parsed = Cli::try_parse();
    let status: u64 = match &parsed {
        Ok(_) => 0,
        Err(e) if !e.use_stderr() => 1, // --help, --version
        Err(_) => 2,
    };
    let worst = all_max(world, status);
    if worst > 0 {
        // The lowest rank with the worst outcome speaks for all.
        let speaker = all_min(
            world,
            if status == worst {
                rank as u64
            } else {
                u64::MAX
            },
        );
        if speaker == rank as u64 {
            if let Err(e) = &parsed {
                let _ = e.print();
            }
        }
        return if worst == 1 { 0 } else { EXIT_USAGE };
    }
    let cli = parsed.expect("checked above");
    // 2. Every rank must have rank 0's arguments.
    let mine = serde_json::to_vec(&cli).expect("arguments serialise");
    let mut len = mine.len() as u64;
    world.process_at_rank(0).broadcast_into(&mut len);
    let mut root = vec![0u8; len as usize];
    if rank == 0 {
        root.copy_from_slice(&mine);
    }
    world.process_at_rank(0).broadcast_into(&mut root[..]);
    let differs = root != mine;
    let first = all_min(world, if differs { rank as u64 } else { u64::MAX });
    if first != u64::MAX {
        if first == rank as u64 {
            eprintln!(
                "strass-mpi: error: rank {rank} was started with different arguments than rank 0\n  rank 0:    {}\n  rank {rank}: {}",
                String::from_utf8_lossy(&root),
                String::from_utf8_lossy(&mine)
            );
        }
        return EXIT_USAGE;
    }
    // 3. Validate and plan (deterministic from the agreed arguments and size).
    let limit = match cli.memory_limit {
        Some(l) => l,
        None => all_min(world, default_memory_limit(size)),
    };
    let plan = match make_plan(&cli, size, limit) {
        Ok(p) => p,
        Err(e) => {
            if rank == 0 {
                eprintln!("strass-mpi: error: {e}");
            }
            return EXIT_USAGE;
        }
    };
    std::env::set_var("STRASS_NUM_THREADS", cli.threads.to_string());
    match cli.dtype {
        Dtype::F64 => execute::<f64>(world, &cli, plan, limit),
        Dtype::F32 => execute::<f32>(world, &cli, plan, limit),
    }
}

fn default_memory_limit(size: usize) -> u64 {
    let local = std::env::var("OMPI_COMM_WORLD_LOCAL_SIZE")
        .or_else(|_| std::env::var("SLURM_NTASKS_PER_NODE"))
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(size as u64)
        .max(1);
    let avail_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(1 << 20);
    avail_kb * 1024 / 10 * 8 / local
}

fn make_plan(cli: &Cli, p: usize, limit: u64) -> Result<Plan, String> {
    let (m, k, n) = (cli.m, cli.k, cli.n);
    if m == 0 || k == 0 || n == 0 {
        return Err(format!(
            "the shape {m}x{k}x{n} has a zero dimension: --m, --k and --n must be at least 1"
        ));
    }
    if cli.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    if cli.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    if let Some(r) = cli.fail_rank {
        if r >= p {
            return Err(format!("--fail-rank {r}: there are only {p} ranks"));
        }
    }
    let elem = match cli.dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
    };
    let mc = Machine {
        flops: cli.model_gflops * 1e9,
        bandwidth: cli.model_gbps * 1e9,
        latency: cli.model_latency_us * 1e-6,
    };
    if !(mc.flops > 0.0 && mc.bandwidth > 0.0 && mc.latency >= 0.0) {
        return Err("the --model-* options must be positive".into());
    }
    let caps = || -> Result<Plan, String> {
        let Some((bfs, _)) = layout::caps_split(p) else {
            return Err(format!(
                "CAPS needs 7^b 2^c ranks (1, 2, 4, 7, 14, 28, 49, 98, 343, 2401, ...), not {p}; use --algorithm summa or auto"
            ));
        };
        match cost::choose_schedule(m, k, n, p, elem, limit as u128, cli.max_dfs) {
            Some((sched, bytes)) => Ok(Plan::Caps {
                sched,
                padded: layout::caps_padded(m, k, n, p, sched.levels()),
                mem: bytes,
            }),
            None => {
                let (best, d) = (0..=cli.max_dfs)
                    .map(|dfs| {
                        let s = Schedule { dfs, bfs };
                        let (mp, kp, np) = layout::caps_padded(m, k, n, p, s.levels());
                        (cost::caps_memory(mp, kp, np, p, s) * elem as u128, dfs)
                    })
                    .min()
                    .expect("at least one schedule");
                Err(format!(
                    "CAPS does not fit the memory limit of {limit} bytes per rank: the least it needs is {best} bytes, with {d} DFS steps (of at most --max-dfs {})",
                    cli.max_dfs
                ))
            }
        }
    };
    let summa = || -> Result<Plan, String> {
        let (pr, pc) = layout::grid_shape(p);
        let padded = layout::summa_padded(m, k, n, pr, pc);
        let mem = cost::summa_memory(padded.0, padded.1, padded.2, pr, pc) * elem as u128;
        if mem > limit as u128 {
            return Err(format!(
                "SUMMA on a {pr}x{pc} grid needs {mem} bytes per rank, over the memory limit of {limit}"
            ));
        }
        Ok(Plan::Summa {
            pr,
            pc,
            padded,
            mem,
        })
    };
    match cli.algorithm {
        Algorithm::Caps => caps(),
        Algorithm::Summa => summa(),
        Algorithm::Auto => match (caps(), summa()) {
            (Ok(c), Ok(s)) => Ok(
                if model_seconds(&c, p, &mc, elem) <= model_seconds(&s, p, &mc, elem) {
                    c
                } else {
                    s
                },
            ),
            (Ok(c), Err(_)) => Ok(c),
            (Err(_), Ok(s)) => Ok(s),
            (Err(c), Err(s)) => Err(format!("no algorithm applies: {c}; {s}")),
        },
    }
}

fn model_seconds(plan: &Plan, p: usize, mc: &Machine, elem: usize) -> f64 {
    match *plan {
        Plan::Caps { sched, padded, .. } => {
            cost::caps_time(padded.0, padded.1, padded.2, p, sched, mc, elem)
        }
        Plan::Summa { pr, pc, padded, .. } => {
            cost::summa_time(padded.0, padded.1, padded.2, pr, pc, mc, elem)
        }
    }
}

/// The layouts of A, B, C and their padded local block sizes `(rows, cols)`.
fn layouts(plan: &Plan, p: usize) -> [(Layout, usize, usize); 3] {
    match *plan {
        Plan::Caps {
            padded: (mp, kp, np),
            ..
        } => {
            let l = Layout::RowCyclic { p };
            [(l, mp / p, kp), (l, kp / p, np), (l, mp / p, np)]
        }
        Plan::Summa {
            pr,
            pc,
            padded: (mp, kp, np),
            ..
        } => [
            (Layout::grid(pr, pc, mp, kp), mp / pr, kp / pc),
            (Layout::grid(pr, pc, kp, np), kp / pr, np / pc),
            (Layout::grid(pr, pc, mp, np), mp / pr, np / pc),
        ],
    }
}

/// This rank's padded local block of generated matrix `id` (`rows x cols` logical).
fn generate<T: Scalar>(
    seed: u64,
    id: u64,
    (lay, lr, lc): (Layout, usize, usize),
    rank: usize,
    rows: usize,
    cols: usize,
) -> Tracked<T> {
    let mut x = Tracked::zeros(lr * lc);
    let (r0, rstep, nr, c0, nc) = lay.local_part(rank, rows, cols);
    for s in 0..nr {
        for t in 0..nc {
            let v = strass_mpi::gen::entry(seed, id, (r0 + s * rstep) as u64, (c0 + t) as u64);
            x[s * lc + t] = T::from_f64(v);
        }
    }
    x
}

fn load<T: Scalar>(
    prefix: &Path,
    (lay, lr, lc): (Layout, usize, usize),
    rank: usize,
    rows: usize,
    cols: usize,
) -> Result<Tracked<T>, String> {
    let path = io::block_path(prefix, rank);
    let (h, data) = io::read_block::<T>(&path, &lay, rank)?;
    if (h.rows, h.cols) != (rows, cols) {
        return Err(format!(
            "{}: holds a {}x{} matrix, this run needs {rows}x{cols}",
            path.display(),
            h.rows,
            h.cols
        ));
    }
    let (_, _, nr, _, nc) = lay.local_part(rank, rows, cols);
    Ok(Tracked::new(layout::pad(&data, nr, nc, lr, lc)))
}

fn with_suffix(prefix: &Path, s: &str) -> PathBuf {
    let mut p = prefix.as_os_str().to_owned();
    p.push(s);
    PathBuf::from(p)
}

fn execute<T: Scalar>(world: &SimpleCommunicator, cli: &Cli, plan: Plan, limit: u64) -> i32 {
    let rank = world.rank() as usize;
    let p = world.size() as usize;
    let (m, k, n) = (cli.m, cli.k, cli.n);
    let lays = layouts(&plan, p);
    // Inputs: generated, or loaded (every rank must succeed).
    let inputs = match &cli.load {
        None => Ok((
            generate::<T>(cli.seed, 0, lays[0], rank, m, k),
            generate::<T>(cli.seed, 1, lays[1], rank, k, n),
        )),
        Some(prefix) => load::<T>(&with_suffix(prefix, ".a"), lays[0], rank, m, k).and_then(|a| {
            Ok((
                a,
                load::<T>(&with_suffix(prefix, ".b"), lays[1], rank, k, n)?,
            ))
        }),
    };
    let ok = all_ok(world, inputs.is_ok());
    let (a, b) = match inputs {
        Ok(ab) if ok => ab,
        Ok(_) => return EXIT_RUN,
        Err(e) => {
            eprintln!("strass-mpi: rank {rank}: error: {e}");
            return EXIT_RUN;
        }
    };
    fn part<'x, T>(
        data: &'x [T],
        l: (Layout, usize, usize),
        rank: usize,
        rows: usize,
        cols: usize,
    ) -> Part<'x, T> {
        Part {
            data,
            ld: l.2,
            layout: l.0,
            rows,
            cols,
            rank,
        }
    }
    let part = |data, i: usize, rows, cols| part(data, lays[i], rank, rows, cols);
    let checksum = norms(world, &part(&a, 0, m, k)).1 + norms(world, &part(&b, 1, k, n)).1;
    // The multiplication.
    let (padded, theory, lower, mem_model, sched, grid) = match plan {
        Plan::Caps { sched, padded, mem } => (
            padded,
            cost::caps_words(padded.0, padded.1, padded.2, p, sched),
            true,
            mem,
            Some(sched),
            None,
        ),
        Plan::Summa {
            pr,
            pc,
            padded,
            mem,
        } => (
            padded,
            cost::summa_words(padded.0, padded.1, padded.2, pr, pc),
            false,
            mem,
            None,
            Some((pr, pc)),
        ),
    };
    enum Alg {
        Caps(Caps),
        Summa(Summa),
    }
    let alg = match plan {
        Plan::Caps { sched, .. } => Alg::Caps(Caps::new(world, sched)),
        Plan::Summa { pr, pc, .. } => Alg::Summa(Summa::new(world, pr, pc)),
    };
    if cli.fail_rank == Some(rank) {
        if p == 1 {
            eprintln!("strass-mpi: rank {rank}: exiting on purpose (--fail-rank)");
            std::process::exit(3);
        }
        // In the middle of the first exchange or broadcast (its second send).
        comm::exit_before_send(1);
    }
    // Start the engine (thread pool, tuning file) outside the timed region.
    let mut one = [T::ZERO];
    if let Err(e) = strass_mpi::local_mul(&[T::ONE], &[T::ONE], &mut one, 1, 1, 1) {
        eprintln!("strass-mpi: rank {rank}: error: {e}");
        world.abort(EXIT_RUN);
    }
    let mut times = Vec::with_capacity(cli.reps);
    let mut last = None;
    for _ in 0..cli.reps {
        drop(last.take());
        comm::reset_counters();
        mem::reset_peak();
        world.barrier();
        let t0 = mpi::time();
        let result = match &alg {
            Alg::Caps(c) => c.multiply(&a, &b, padded),
            Alg::Summa(s) => s.multiply(&a, &b, padded),
        };
        match result {
            Ok(c) => last = Some(c),
            Err(e) => {
                // The other ranks may be inside a collective step: end the whole job.
                eprintln!("strass-mpi: rank {rank}: error: {e}");
                world.abort(EXIT_RUN);
            }
        }
        world.barrier();
        times.push(mpi::time() - t0);
    }
    let mut c = last.expect("at least one repetition");
    times.sort_by(f64::total_cmp);
    // Every rank's times agree up to the barriers; rank 0's median is reported.
    let seconds = times[times.len() / 2];
    // Counters and the memory peak are those of the last repetition (all repetitions are equal).
    let bytes = comm::bytes_sent();
    let msgs = comm::messages_sent();
    let peak = mem::peak();
    if cli.perturb && rank == 0 {
        c[0] += T::ONE;
    }
    let err = cli.check.then(|| {
        projection_error(
            world,
            &part(&a, 0, m, k),
            &part(&b, 1, k, n),
            &part(&c, 2, m, n),
            cli.seed,
        )
    });
    // Output files: all ranks write temporaries, then all rename or all discard.
    if let Some(prefix) = &cli.save {
        let mut temps = Vec::new();
        let mut res = Ok(());
        for (i, (name, data, rows, cols)) in [("a", &a, m, k), ("b", &b, k, n), ("c", &c, m, n)]
            .into_iter()
            .enumerate()
        {
            let (lay, _, ld) = lays[i];
            let (_, _, nr, _, nc) = lay.local_part(rank, rows, cols);
            let logical = layout::unpad(data, ld, nr, nc);
            let h = BlockHeader {
                rows,
                cols,
                layout: lay,
                rank,
            };
            let path = io::block_path(&with_suffix(prefix, &format!(".{name}")), rank);
            match io::write_temp(&path, &h, &logical) {
                Ok(t) => temps.push((t, path)),
                Err(e) => {
                    res = Err(format!("{}: {e}", path.display()));
                    break;
                }
            }
        }
        let ok = all_ok(world, res.is_ok());
        if !ok {
            temps.iter().for_each(|(t, _)| io::discard(t));
            if let Err(e) = res {
                eprintln!("strass-mpi: rank {rank}: error: {e}");
            }
            return EXIT_RUN;
        }
        let renamed: Result<(), String> = temps.iter().try_for_each(|(t, path)| {
            io::commit(t, path).map_err(|e| format!("{}: {e}", path.display()))
        });
        if !all_ok(world, renamed.is_ok()) {
            // Remove this rank's files, old or new, so that no mixed set stays behind.
            for (t, path) in &temps {
                io::discard(t);
                io::discard(path);
            }
            if let Err(e) = renamed {
                eprintln!("strass-mpi: rank {rank}: error: {e}");
            }
            return EXIT_RUN;
        }
    }
    let rss = mem::rss_peak();
    let rss_max = all_max(world, rss.unwrap_or(0));
    let all_rss = all_ok(world, rss.is_some());
    let bytes_max = all_max(world, bytes);
    let msgs_max = all_max(world, msgs);
    let peak_max = all_max(world, peak);
    if rank == 0 {
        let elem = T::BYTES;
        let mc = Machine {
            flops: cli.model_gflops * 1e9,
            bandwidth: cli.model_gbps * 1e9,
            latency: cli.model_latency_us * 1e-6,
        };
        let mem_words = limit as f64 / elem as f64;
        let report = Report {
            ranks: p,
            m,
            k,
            n,
            dtype: cli.dtype,
            algorithm: if sched.is_some() { "caps" } else { "summa" },
            schedule: sched,
            grid,
            padded,
            seconds,
            gflops: 2.0 * m as f64 * k as f64 * n as f64 / seconds / 1e9,
            bytes_sent_max: bytes_max,
            messages_max: msgs_max,
            bytes_theory: theory * elem as u128,
            bytes_lower_bound: cost::lower_bound_words(m, k, n, p, mem_words, lower) * elem as f64,
            memory_peak_max: peak_max,
            memory_model: mem_model,
            memory_limit: limit,
            rss_peak_max: all_rss.then_some(rss_max),
            model_seconds: model_seconds(&plan, p, &mc, elem),
            max_rel_err: err,
            input_checksum: checksum,
            seed: cli.seed,
            threads: cli.threads,
            reps: cli.reps,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("512"), Ok(512));
        assert_eq!(parse_bytes("4K"), Ok(4096));
        assert_eq!(parse_bytes("1.5m"), Ok(3 << 19));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert!(parse_bytes("2X").unwrap_err().contains("suffix"));
        assert!(parse_bytes("-1G").is_err());
        assert!(parse_bytes("G").is_err());
        assert!(parse_bytes("").is_err());
    }

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("strass-mpi").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn plans() {
        let big = u64::MAX;
        let c = cli(&["--m", "700", "--k", "700", "--n", "700"]);
        // auto on 4 ranks: only SUMMA applies.
        assert!(matches!(
            make_plan(&c, 4, big),
            Ok(Plan::Summa { pr: 2, pc: 2, .. })
        ));
        // auto on 7 ranks, large problem: CAPS by the model's defaults.
        let c7 = cli(&["--m", "7000", "--k", "7000", "--n", "7000"]);
        assert!(matches!(make_plan(&c7, 7, big), Ok(Plan::Caps { .. })));
        let cc = cli(&[
            "--m",
            "700",
            "--k",
            "700",
            "--n",
            "700",
            "--algorithm",
            "caps",
        ]);
        assert!(make_plan(&cc, 6, big).unwrap_err().contains("7^b 2^c"));
        assert!(matches!(
            make_plan(&cc, 14, big),
            Ok(Plan::Caps {
                sched: Schedule { dfs: 0, bfs: 1 },
                ..
            })
        ));
        match make_plan(&cc, 7, big) {
            Ok(Plan::Caps { sched, padded, .. }) => {
                assert_eq!(sched, Schedule { dfs: 0, bfs: 1 });
                assert_eq!(padded, (700, 700, 700));
            }
            other => panic!("{other:?}"),
        }
        let z = cli(&["--m", "0", "--k", "7", "--n", "7"]);
        assert!(make_plan(&z, 1, big)
            .unwrap_err()
            .contains("zero dimension"));
        assert!(make_plan(&cc, 7, 1000)
            .unwrap_err()
            .contains("memory limit"));
    }
}
