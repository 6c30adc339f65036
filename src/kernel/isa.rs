//! The one instruction-set choice of the kernel: the linear combinations (`simd`) and the packed
//! GEMM (`fused`) both run on the [`Isa`] that [`Isa::selected`] returns, detected once per
//! process with `is_x86_feature_detected!`.
//!
//! `STRASS_SIMD` (`avx512`, `avx2` or `portable`, read once) asks for a lower instruction set
//! than the best one, e.g. to compare code paths; a value the CPU cannot run, or an unknown one,
//! is reported once on stderr and the best supported set is used instead. Every instruction set
//! gives the same bits for the additions; the packed GEMM's micro-tiles differ in shape, not in
//! the order of a dot product's terms within a depth block.

use std::sync::OnceLock;

/// An instruction set of the kernel's SIMD routines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F: 32 zmm registers (packed-GEMM tile 12 x 32 f32 / 12 x 16 f64).
    Avx512,
    /// AVX2 with FMA: 16 ymm registers (tile 6 x 16 f32 / 6 x 8 f64).
    Avx2,
    /// Plain Rust, any CPU (tile 4 x 8).
    Portable,
}

impl Isa {
    /// True when this CPU can run this instruction set.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every instruction set this CPU supports, best first (always ends with `Portable`).
    pub fn available() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2, Isa::Portable]
            .into_iter()
            .filter(|i| i.supported())
            .collect()
    }

    /// The best instruction set this CPU supports (ignores `STRASS_SIMD`).
    pub fn detect() -> Isa {
        Isa::available()[0]
    }

    /// The instruction set the kernel uses: [`Isa::detect`], or the one `STRASS_SIMD` asks for
    /// when the CPU supports it. Decided once per process.
    pub fn selected() -> Isa {
        static SEL: OnceLock<Isa> = OnceLock::new();
        *SEL.get_or_init(|| {
            let best = Isa::detect();
            let Ok(want) = std::env::var("STRASS_SIMD") else {
                return best;
            };
            match Isa::parse(want.trim()) {
                Some(w) if w.supported() => w,
                Some(w) => {
                    eprintln!(
                        "strass: STRASS_SIMD={want}: this CPU cannot run {}; using {}",
                        w.name(),
                        best.name()
                    );
                    best
                }
                None if want.trim().is_empty() => best,
                None => {
                    eprintln!(
                        "strass: STRASS_SIMD={want:?} is not avx512, avx2 or portable; using {}",
                        best.name()
                    );
                    best
                }
            }
        })
    }

    /// `"avx512"`, `"avx2"` or `"portable"` (the `STRASS_SIMD` spelling).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// Parses a name as written by [`Isa::name`] (case-insensitive; `avx2+fma` is accepted).
    pub fn parse(s: &str) -> Option<Isa> {
        match s.to_ascii_lowercase().as_str() {
            "avx512" | "avx512f" | "avx-512" => Some(Isa::Avx512),
            "avx2" | "avx2+fma" => Some(Isa::Avx2),
            "portable" | "scalar" => Some(Isa::Portable),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Isa;

    #[test]
    fn names_round_trip_and_portable_is_always_there() {
        for i in [Isa::Avx512, Isa::Avx2, Isa::Portable] {
            assert_eq!(Isa::parse(i.name()), Some(i));
        }
        assert_eq!(Isa::parse("mmx"), None);
        assert_eq!(Isa::available().last(), Some(&Isa::Portable));
        assert!(Isa::selected().supported());
    }
}
