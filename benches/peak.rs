//! The core's FMA peak beside the packed GEMM's micro-kernel in its L1-resident loop.
//!
//! For each instruction set this CPU runs (AVX-512, AVX2+FMA) and each dtype: the best of
//! `STRASS_BENCH_REPS` (default 15) timings of an FMA-only loop (twelve independent vector
//! accumulators) and of the micro-kernel on one packed A and one packed B micro-panel of depth
//! `kc` (the built-in `kc` of the packed GEMM on this machine, and 256; `STRASS_BENCH_KCS=64,128`
//! picks others), as GFLOP/s and as a
//! share of the peak. `cargo bench --bench peak`; `STRASS_BENCH_QUICK=1` runs short loops.
//! The full run writes `bench-results/peak.md` with the machine description.

mod common;

use std::fmt::Write as _;
use strass::kernel::cache::Caches;
use strass::kernel::fused::probe::{fma_peak_flops, micro_kernel_flops};
use strass::kernel::fused::{FusedWorkspace, Isa};
use strass::kernel::Element;
use strass::machine::Machine;

fn rows<T: Element>(isa: Isa, dtype: &str, quick: bool, reps: usize, out: &mut String) {
    let iters = if quick { 1 << 16 } else { 1 << 24 };
    let single = dtype == "f32";
    let Some(_) = fma_peak_flops(isa, single, 1) else {
        return;
    };
    let kc_default = FusedWorkspace::<T>::new().blocking().kc;
    let kcs = common::env_list("STRASS_BENCH_KCS").unwrap_or(if kc_default == 256 {
        vec![256]
    } else {
        vec![kc_default, 256]
    });
    for kc in kcs {
        let calls = if quick { 200 } else { (1 << 31) / (kc * 200) };
        let mut tile = (0, 0);
        // Peak and micro-kernel alternate, so a slow spell of the shared machine hits both.
        let (mut peak, mut rate) = (0.0f64, 0.0f64);
        for _ in 0..reps {
            peak = peak.max(fma_peak_flops(isa, single, iters).unwrap_or(0.0));
            let (r, t) = micro_kernel_flops::<T>(isa, kc, calls).expect("micro-kernel");
            tile = t;
            rate = rate.max(r);
        }
        let line = format!(
            "| {} | {dtype} | {}x{} | {kc} | {:.1} | {:.1} | {:.1}% |",
            isa.name(),
            tile.0,
            tile.1,
            peak / 1e9,
            rate / 1e9,
            100.0 * rate / peak
        );
        println!("{line}");
        writeln!(out, "{line}").unwrap();
    }
}

fn main() {
    let quick = common::env("STRASS_BENCH_QUICK").is_some();
    let reps = common::env_num("STRASS_BENCH_REPS", 15usize).max(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = String::new();
    writeln!(out, "# FMA peak and the micro-kernel's L1-resident loop\n").unwrap();
    writeln!(out, "{}", Machine::detect().to_markdown()).unwrap();
    writeln!(out, "Caches: {}\n", Caches::detect().summary()).unwrap();
    writeln!(out, "Load average at the start: {}\n", load.trim()).unwrap();
    writeln!(
        out,
        "`cargo bench --bench peak`, best of {reps}, one thread. Peak: an FMA-only loop with \
         twelve independent accumulators. Micro-kernel: repeated calls on one packed A and one \
         packed B micro-panel of depth kc (both in L1), tile stored to a scratch buffer.\n"
    )
    .unwrap();
    writeln!(
        out,
        "| ISA | dtype | tile | kc | peak GFLOP/s | micro-kernel GFLOP/s | of peak |\n| --- | --- | --- | ---: | ---: | ---: | ---: |"
    )
    .unwrap();
    for isa in Isa::available() {
        rows::<f32>(isa, "f32", quick, reps, &mut out);
        rows::<f64>(isa, "f64", quick, reps, &mut out);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    writeln!(out, "\nLoad average at the end: {}", load.trim()).unwrap();
    let dir = common::out_dir(!quick && std::env::var_os("STRASS_BENCH_REPS").is_none());
    common::write(&dir.join("peak.md"), &out);
}
