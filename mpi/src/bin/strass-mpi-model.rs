//! `strass-mpi-model`: the cost model of `strass_mpi::cost` evaluated for rank counts and sizes
//! that do not fit one machine (no MPI needed). Prints CSV: for each P and n, the modelled
//! seconds of CAPS (the fewest DFS steps that fit the memory per rank) and SUMMA, their
//! compute / bandwidth / latency parts, bytes sent per rank and memory per rank.
//!
//! `strass-mpi-model --gflops G --gbps B --latency-us L --memory-gib M --ranks 49,343,2401 --sizes 38416,76832`

#![deny(unsafe_code)]

use clap::Parser;
use strass_mpi::cost::{self, Machine, Schedule};
use strass_mpi::layout;

/// The CAPS / SUMMA cost model for many ranks (CSV on stdout).
#[derive(Parser)]
#[command(name = "strass-mpi-model")]
struct Args {
    /// Local multiplication speed per rank, GFLOP/s (classical-equivalent; measure it with a
    /// one-rank strass-mpi run).
    #[arg(long)]
    gflops: f64,
    /// Network bandwidth per rank, GB/s.
    #[arg(long, default_value_t = 5.0)]
    gbps: f64,
    /// Latency per message, microseconds.
    #[arg(long, default_value_t = 2.0)]
    latency_us: f64,
    /// Memory per rank for matrix buffers, GiB.
    #[arg(long, default_value_t = 4.0)]
    memory_gib: f64,
    /// Rank counts (powers of 7 for CAPS; SUMMA uses the most square grid).
    #[arg(long, value_delimiter = ',', default_value = "49,343,2401")]
    ranks: Vec<usize>,
    /// Square sizes n.
    #[arg(long, value_delimiter = ',', default_value = "38416,76832")]
    sizes: Vec<usize>,
}

fn main() {
    let a = Args::parse();
    let mc = Machine {
        flops: a.gflops * 1e9,
        bandwidth: a.gbps * 1e9,
        latency: a.latency_us * 1e-6,
    };
    let zero_bw = Machine {
        bandwidth: f64::INFINITY,
        latency: 0.0,
        ..mc
    };
    let limit = (a.memory_gib * (1u64 << 30) as f64) as u128;
    println!("algorithm,ranks,n,dfs,bfs,seconds,compute_seconds,comm_seconds,bytes_per_rank,memory_per_rank,gflops_total");
    for &p in &a.ranks {
        for &n in &a.sizes {
            let flops = 2.0 * (n as f64).powi(3);
            if let Some((s, mem)) = cost::choose_schedule(n, n, n, p, 8, limit, 12) {
                let (mp, kp, np) = layout::caps_padded(n, n, n, p, s.levels());
                let t = cost::caps_time(mp, kp, np, p, s, &mc, 8);
                let tc = cost::caps_time(mp, kp, np, p, s, &zero_bw, 8);
                let w = cost::caps_words(mp, kp, np, p, s) * 8;
                row("caps", p, n, Some(s), t, tc, w, mem, flops);
            }
            let (pr, pc) = layout::grid_shape(p);
            let (mp, kp, np) = layout::summa_padded(n, n, n, pr, pc);
            let mem = cost::summa_memory(mp, kp, np, pr, pc) * 8;
            if mem <= limit {
                let t = cost::summa_time(mp, kp, np, pr, pc, &mc, 8);
                let tc = cost::summa_time(mp, kp, np, pr, pc, &zero_bw, 8);
                let w = cost::summa_words(mp, kp, np, pr, pc) * 8;
                row("summa", p, n, None, t, tc, w, mem, flops);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    alg: &str,
    p: usize,
    n: usize,
    s: Option<Schedule>,
    t: f64,
    tc: f64,
    w: u128,
    mem: u128,
    flops: f64,
) {
    let (d, b) = s.map_or((String::new(), String::new()), |s| {
        (s.dfs.to_string(), s.bfs.to_string())
    });
    println!(
        "{alg},{p},{n},{d},{b},{t:.6},{tc:.6},{:.6},{w},{mem},{:.1}",
        t - tc,
        flops / t / 1e9
    );
}
