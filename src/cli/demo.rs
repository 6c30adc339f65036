//! `strass` without a subcommand (`cargo run --release`): the whole pipeline in one short run.
//!
//! 1. train a 2x2 scheme from seed 0 with the default protocol,
//! 2. verify it exactly (Brent equations) and compare it with the shipped `kernels/learned.json`,
//! 3. compile it into a plan and report its addition counts,
//! 4. multiply two random 4096 x 4096 `f32` matrices with it and with the plain leaf GEMM, side by
//!    side, and report times, levels and the error against an `f64` product.

use crate::kernel::{Engine, MatMut, MatRef};
use crate::scheme::{match_strassen, match_strassen_basis, Scheme};
use crate::train::{self, TrainSettings};
use crate::tune::measure::{interleaved, random_matrix, rel_error_frobenius};
use std::process::ExitCode;

/// Size of the demonstration product.
const N: usize = 4096;

/// Runs the demonstration; exits non-zero if training did not end in an exact scheme.
pub fn run() -> crate::Result<ExitCode> {
    println!("strass: train -> verify -> compile -> multiply\n");

    // 1. Train.
    let settings = TrainSettings {
        seed: 0,
        ..TrainSettings::anneal()
    };
    let mut out = train::run(&settings)?;
    let secs = out.record.wall_time_s;
    let attempts = out.record.attempts;
    let Some(learned) = train::output_scheme(&mut out, "learned") else {
        println!(
            "1. train   : protocol `{}`, seed 0: no exact scheme after {attempts} attempt(s) ({secs:.2} s)",
            settings.protocol
        );
        return Ok(ExitCode::FAILURE);
    };
    println!(
        "1. train   : protocol `{}`, seed 0: exact rank-{} scheme after {attempts} attempt(s) in {secs:.2} s",
        settings.protocol, learned.rank
    );

    // 2. Verify.
    let verdict = learned.verify();
    let shipped = Scheme::shipped("learned");
    let same_as_shipped = shipped
        .as_ref()
        .is_some_and(|s| s.u == learned.u && s.v == learned.v && s.w == learned.w);
    println!(
        "2. verify  : {} of {} Brent equations hold; {} nonzeros; {}; {} kernels/learned.json",
        verdict.total - verdict.failed_count,
        verdict.total,
        learned.nonzeros(),
        if match_strassen(&learned).is_some() {
            "Strassen's scheme up to slot order and signs"
        } else if match_strassen_basis(&learned).is_some() {
            "Strassen's scheme after an integer change of basis"
        } else {
            "not Strassen's up to slot order, signs and small basis changes"
        },
        if same_as_shipped {
            "identical to"
        } else {
            "differs from"
        },
    );

    // 3. Compile.
    let engine = Engine::new().with_scheme(&learned)?.threads(1);
    let plan = engine.plan();
    let (naive, cse) = (plan.additions_naive(), plan.additions_cse());
    println!(
        "3. compile : {} additions per level as written (U {}, V {}, W {}), {} after common-subexpression elimination",
        naive.total(),
        naive.u,
        naive.v,
        naive.w,
        cse.total()
    );

    // 4. Multiply.
    let a: Vec<f32> = random_matrix(N, N, 1);
    let b: Vec<f32> = random_matrix(N, N, 2);
    let mut c_fast = vec![0.0f32; N * N];
    let mut c_leaf = vec![0.0f32; N * N];
    let leaf_only = Engine::new()
        .with_scheme(&learned)?
        .threads(1)
        .max_levels(0);
    let levels = engine.levels_for::<f32>(N, N, N);
    let mut fast = || -> crate::Result<()> {
        engine.gemm(
            1.0,
            MatRef::row_major(&a, N, N)?,
            MatRef::row_major(&b, N, N)?,
            0.0,
            MatMut::row_major(&mut c_fast, N, N)?,
        )
    };
    let mut leaf = || -> crate::Result<()> {
        leaf_only.gemm(
            1.0,
            MatRef::row_major(&a, N, N)?,
            MatRef::row_major(&b, N, N)?,
            0.0,
            MatMut::row_major(&mut c_leaf, N, N)?,
        )
    };
    let t = interleaved(&mut [&mut fast, &mut leaf], 1, 3, |_| true)?;
    let (t_fast, t_leaf) = (t[0].median_wall(), t[1].median_wall());
    let reference = reference_product(&a, &b);
    println!(
        "4. multiply: {N} x {N} f32, 1 thread, median of 3: learned scheme ({levels} levels, cutoff {}) {:.3} s, \
         leaf GEMM alone {:.3} s, ratio {:.2}x; rel. error vs f64: {:.1e} (leaf alone {:.1e})",
        engine.cutoff_for::<f32>(),
        t_fast,
        t_leaf,
        t_leaf / t_fast,
        rel_error_frobenius(&c_fast, &reference),
        rel_error_frobenius(&c_leaf, &reference),
    );
    println!(
        "\nThis machine is shared, so these times are indicative; the benchmarks (`cargo bench`) \
         and bench-results/ hold the measured comparisons."
    );
    Ok(ExitCode::SUCCESS)
}

/// The product in `f64` with the classical algorithm (matrixmultiply's dgemm).
fn reference_product(a: &[f32], b: &[f32]) -> Vec<f64> {
    let a64: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
    let b64: Vec<f64> = b.iter().map(|&x| f64::from(x)).collect();
    let mut c = vec![0.0f64; N * N];
    // SAFETY: the three buffers hold N x N row-major matrices, matching the dimensions and
    // strides passed (row stride N, column stride 1), and `c` does not alias `a64` or `b64`.
    unsafe {
        matrixmultiply::dgemm(
            N,
            N,
            N,
            1.0,
            a64.as_ptr(),
            N as isize,
            1,
            b64.as_ptr(),
            N as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            N as isize,
            1,
        );
    }
    c
}
