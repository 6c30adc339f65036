//! Compiles a verified [`Scheme`] into a [`Plan`]: the addition schedule the recursive kernel
//! executes at every level.
//!
//! The compiler itself lives in `compile.rs` (plain `std`, no crate dependencies); see its module
//! documentation for the scheduling rules. A plan records, per product, the terms of `S_r` (A
//! blocks) and `T_r` (B blocks), the C blocks it feeds, and two schedules: one for a C that is
//! overwritten (beta = 0) and one for a C that is accumulated into (beta = 1).
//!
//! Shipped schemes are compiled by `build.rs` (which includes `compile.rs` by path) into Rust
//! literals, so [`Plan::shipped`] does no scheduling work at run time; schemes loaded at run time
//! go through [`Plan::compile`]. Both produce the same [`Plan`] type.
//!
//! It also reports the scheme's addition counts, written out term by term and after greedy
//! common-subexpression elimination (CSE). Strassen's scheme needs 18 additions either way;
//! Winograd's variant needs 24 term by term and 15 after CSE. The kernel executes the
//! term-by-term form as fused linear combinations (one pass reads all operand blocks and writes
//! once), which moves less memory than materialising the shared subexpressions.

mod compile;

/// The shipped schemes' plans, compiled by `build.rs` with the same compiler.
mod shipped {
    use super::compile::Dest::{Block, Temp};
    use super::compile::{Additions, PlanData, Scatter, Schedule, Step, Term};
    include!(concat!(env!("OUT_DIR"), "/shipped_plans.rs"));
}

pub use compile::{additions_cse, Additions, Dest, PlanData, Scatter, Schedule, Step, Term};

use crate::scheme::Scheme;

/// A compiled scheme: what the recursive kernel runs at each level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    name: String,
    data: PlanData,
}

impl Plan {
    /// Compiles a scheme. The scheme must be exact: this checks it (Brent equations) and refuses
    /// an invalid one.
    pub fn compile(s: &Scheme) -> Result<Plan, crate::Error> {
        s.ensure_valid()?;
        Plan::try_compile(s)
    }

    /// Compiles a scheme without verifying it; refuses a shape the compiler cannot turn into a
    /// plan (see [`compile::check_shape`]).
    fn try_compile(s: &Scheme) -> Result<Plan, crate::Error> {
        let data = compile::compile((s.m, s.k, s.n), &s.u, &s.v, &s.w)
            .map_err(|e| crate::scheme::SchemeError::Argument(format!("{}: {e}", s.name)))?;
        Ok(Plan {
            name: s.name.clone(),
            data,
        })
    }

    /// The plan of shipped scheme `kernels/<name>.json`, compiled at build time (`None` if there
    /// is no such scheme).
    pub fn shipped(name: &str) -> Option<Plan> {
        shipped::shipped_plan_data(name).map(|data| Plan {
            name: name.to_string(),
            data,
        })
    }

    /// Compiles a scheme the caller has already verified (the kernel's fallback to the built-in
    /// Strassen scheme). Every [`Scheme`] is well-formed (its constructors check the shape), so
    /// the compiler's shape check cannot fail here.
    pub(crate) fn compile_unchecked(s: &Scheme) -> Plan {
        Plan::try_compile(s).expect("every Scheme is well-formed")
    }

    /// Compiles the core of an alternative-basis scheme
    /// ([`crate::scheme::altbasis::AltBasis::core`]), which is not a valid scheme by itself: its
    /// composed scheme was verified exactly when the `AltBasis` was built.
    pub(crate) fn compile_core(core: &Scheme) -> Result<Plan, crate::Error> {
        Plan::try_compile(core)
    }

    /// The scheme's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The block grid `(m, k, n)` one level splits A, B and C into.
    pub fn dims(&self) -> (usize, usize, usize) {
        self.data.dims
    }

    /// The number of products per level.
    pub fn rank(&self) -> usize {
        self.data.rank
    }

    /// Everything the compiler produced.
    pub fn data(&self) -> &PlanData {
        &self.data
    }

    /// The schedule for an overwritten (`beta = 0`) or accumulated (`beta = 1`) C.
    pub fn schedule(&self, overwrite: bool) -> &Schedule {
        if overwrite {
            &self.data.overwrite
        } else {
            &self.data.accumulate
        }
    }

    /// Additions per level written out term by term (Strassen: 18, Winograd: 24).
    pub fn additions_naive(&self) -> Additions {
        self.data.additions_naive
    }

    /// Additions per level after greedy common-subexpression elimination (Winograd: 15).
    pub fn additions_cse(&self) -> Additions {
        self.data.additions_cse
    }

    /// Memory passes over one block (block reads plus block writes) one level spends on
    /// additions with C overwritten: forming the S_r and T_r, plus the C side.
    pub fn memory_passes(&self) -> usize {
        self.data.st_passes + self.data.overwrite.c_passes
    }

    /// True when a level actually shrinks the problem (some dimension of the grid is at least 2).
    pub fn splits(&self) -> bool {
        let (m, k, n) = self.data.dims;
        m.max(k).max(n) >= 2
    }

    /// Speed-up of one level from the multiplication count alone: `m k n / rank`.
    pub fn flop_ratio(&self) -> f64 {
        let (m, k, n) = self.data.dims;
        (m * k * n) as f64 / self.data.rank.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_time_plans_equal_run_time_plans() {
        for name in crate::scheme::shipped_names() {
            let s = Scheme::shipped(name).unwrap();
            let built = Plan::shipped(name).unwrap();
            assert_eq!(built, Plan::compile(&s).unwrap(), "{name}");
        }
        assert!(Plan::shipped("no-such-scheme").is_none());
    }
}
