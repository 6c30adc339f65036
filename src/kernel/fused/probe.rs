//! Measurements of the core itself, for the peak-FMA comparison of `benches/peak.rs`: the FMA
//! throughput of a loop that does nothing else, and the throughput of the packed GEMM's
//! micro-kernel on micro-panels that stay in L1.

use super::frame::AlignedBuf;
use super::ukr::{select, Out};
use super::Isa;
use crate::kernel::{Element, KernelError};
use std::time::Instant;

/// Floating-point operations per second of an FMA-only loop on `isa` for `T` (`f32` when
/// `single`, else `f64`): twelve independent accumulator registers, `iters` iterations of
/// twelve vector FMAs each, timed once. `None` for the portable set (no FMA loop to run) or an
/// instruction set this CPU lacks.
pub fn fma_peak_flops(isa: Isa, single: bool, iters: u64) -> Option<f64> {
    if !isa.supported() || iters == 0 {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let lanes = match isa {
            Isa::Avx512 => 64,
            Isa::Avx2 => 32,
            Isa::Portable => return None,
        } / if single { 4 } else { 8 };
        let t = Instant::now();
        // SAFETY: the instruction set is supported (checked above).
        unsafe {
            match (isa, single) {
                (Isa::Avx512, true) => x86_peak::avx512_ps(iters),
                (Isa::Avx512, false) => x86_peak::avx512_pd(iters),
                (_, true) => x86_peak::avx2_ps(iters),
                (_, false) => x86_peak::avx2_pd(iters),
            }
        }
        let secs = t.elapsed().as_secs_f64();
        Some((iters * 12 * 2 * lanes) as f64 / secs)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Floating-point operations per second of the packed GEMM's micro-kernel for `T` on `isa`
/// with depth `kc`: `reps` calls on one packed A micro-panel and one packed B micro-panel
/// (both small enough for L1 at the usual depths), each storing its tile to a scratch tile.
/// Returns the rate and the micro-tile `(mr, nr)`.
pub fn micro_kernel_flops<T: Element>(
    isa: Isa,
    kc: usize,
    reps: usize,
) -> Result<(f64, (usize, usize)), KernelError> {
    let uk = select::<T>(isa).ok_or_else(|| {
        KernelError::Option(format!("this CPU cannot run the {isa:?} micro-kernels"))
    })?;
    if kc == 0 || reps == 0 {
        return Err(KernelError::Option("kc and reps must be at least 1".into()));
    }
    let (mr, nr) = (uk.mr, uk.nr);
    let mut a = AlignedBuf::<T>::default();
    let mut b = AlignedBuf::<T>::default();
    let mut tile = AlignedBuf::<T>::default();
    a.ensure(mr * kc)?;
    b.ensure(kc * nr)?;
    tile.ensure(mr * nr)?;
    let (ap, bp, tp) = (a.ptr(), b.ptr(), tile.ptr());
    for i in 0..mr * kc {
        // SAFETY: inside the buffer of mr * kc elements.
        unsafe { *ap.add(i) = T::from_f64(1.0 + (i % 7) as f64 * 1e-3) };
    }
    for i in 0..kc * nr {
        // SAFETY: inside the buffer of kc * nr elements.
        unsafe { *bp.add(i) = T::from_f64(1.0 - (i % 5) as f64 * 1e-3) };
    }
    let run = |n: usize| {
        for _ in 0..n {
            // SAFETY: the panels hold mr * kc and kc * nr elements and the tile mr * nr.
            unsafe { (uk.f)(kc, ap, bp, Out::Tile(tp)) };
        }
    };
    run(reps / 10 + 1);
    let t = Instant::now();
    run(reps);
    let secs = t.elapsed().as_secs_f64();
    // SAFETY: the tile was written by the calls; read one value so they are not dead code.
    std::hint::black_box(unsafe { *tp });
    Ok(((2 * mr * nr * kc * reps) as f64 / secs, (mr, nr)))
}

#[cfg(target_arch = "x86_64")]
mod x86_peak {
    /// Twelve independent FMA chains on `$reg` registers `4..15`, `iters` times.
    macro_rules! peak_loop {
        ($name:ident, $feat:literal, $fma:literal, $r:literal, [$($c:tt),*]) => {
            /// The FMA-only loop.
            ///
            /// # Safety
            /// The CPU supports the target features.
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name(iters: u64) {
                // SAFETY: register-only arithmetic on the clobbered registers and a counter.
                unsafe {
                    std::arch::asm!(
                        concat!("vxorps ", $r, "0, ", $r, "0, ", $r, "0"),
                        concat!("vxorps ", $r, "1, ", $r, "1, ", $r, "1"),
                        "2:",
                        concat!($fma, " ", $r, "4, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "5, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "6, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "7, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "8, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "9, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "10, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "11, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "12, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "13, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "14, ", $r, "0, ", $r, "1"),
                        concat!($fma, " ", $r, "15, ", $r, "0, ", $r, "1"),
                        "dec {n}",
                        "jnz 2b",
                        n = inout(reg) iters => _,
                        $(out($c) _,)*
                        options(nostack, nomem),
                    );
                }
            }
        };
    }
    /// Clobbers of the AVX2 loop.
    macro_rules! ymm_loop {
        ($name:ident, $fma:literal) => {
            peak_loop!(
                $name,
                "avx2,fma",
                $fma,
                "ymm",
                [
                    "ymm0", "ymm1", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10",
                    "ymm11", "ymm12", "ymm13", "ymm14", "ymm15"
                ]
            );
        };
    }
    /// Clobbers of the AVX-512 loop.
    macro_rules! zmm_loop {
        ($name:ident, $fma:literal) => {
            peak_loop!(
                $name,
                "avx512f",
                $fma,
                "zmm",
                [
                    "zmm0", "zmm1", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10",
                    "zmm11", "zmm12", "zmm13", "zmm14", "zmm15"
                ]
            );
        };
    }
    ymm_loop!(avx2_ps, "vfmadd231ps");
    ymm_loop!(avx2_pd, "vfmadd231pd");
    zmm_loop!(avx512_ps, "vfmadd231ps");
    zmm_loop!(avx512_pd, "vfmadd231pd");
}
