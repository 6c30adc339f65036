//! # strass-mpi
//!
//! Matrix multiplication across MPI ranks with strass's engine as the local kernel:
//!
//! * [`caps`]: CAPS, the communication-avoiding parallel Strassen of Ballard, Demmel, Holtz,
//!   Lipshitz and Schwartz (SPAA 2012), on `P = 7^b 2^c` ranks: depth-first steps (all ranks
//!   together, one of the seven products at a time, to save memory) then breadth-first steps
//!   (the ranks split 7 ways, one product per group), then a local product on each rank (or,
//!   for `c > 0`, on each group of `2^c` ranks).
//! * [`summa`]: SUMMA on a 2D grid, for any `P`, as the classical reference.
//! * [`cost`]: the communication counts, lower bounds, memory model and the time model behind
//!   `--algorithm auto`.
//! * [`layout`]: where the elements live (row-cyclic for CAPS, 2D blocks for SUMMA) and the
//!   padding; [`io`]: one block file per rank; [`check`]: the distributed random-projection
//!   check; [`gen`]: reproducible test matrices.
//!
//! The binary `strass-mpi` (src/main.rs) drives these; see the README's "Across machines
//! (MPI)" section.
//!
//! ## As a library
//!
//! Each rank passes its local blocks of the padded operands in the algorithm's layout and gets
//! its block of C back (collective: every rank calls it):
//!
//! ```no_run
//! use mpi::traits::*;
//! use strass_mpi::{caps::Caps, cost::Schedule, layout};
//!
//! let universe = mpi::initialize().unwrap();
//! let world = universe.world();
//! let p = world.size() as usize; // 7^b
//! let sched = Schedule { dfs: 0, bfs: layout::log7(p).expect("a power of 7") };
//! let (m, k, n) = (1000, 700, 1300);
//! let (mp, kp, np) = layout::caps_padded(m, k, n, p, sched.levels());
//! // Row-cyclic: this rank's rows r, r + P, ... of the zero-padded A (mp x kp) and B (kp x np).
//! let a = vec![0.0f64; mp / p * kp];
//! let b = vec![0.0f64; kp / p * np];
//! let c = Caps::new(&world, sched).multiply(&a, &b, (mp, kp, np)).unwrap();
//! assert_eq!(c.len(), mp / p * np); // this rank's rows of C
//! ```

#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod caps;
pub mod check;
pub mod comm;
pub mod cost;
pub mod gen;
pub mod io;
pub mod layout;
pub mod mem;
pub mod strassen;
pub mod summa;

/// An element type: `f32` or `f64`, usable by strass's engine, by MPI and in block files.
pub trait Scalar: strass::Element + mpi::traits::Equivalence {
    /// Bytes per element.
    const BYTES: usize;
    /// Appends the little-endian bytes.
    fn put_le(&self, out: &mut Vec<u8>);
    /// Reads from exactly [`Scalar::BYTES`] little-endian bytes.
    fn get_le(b: &[u8]) -> Self;
}

impl Scalar for f64 {
    const BYTES: usize = 8;
    fn put_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get_le(b: &[u8]) -> Self {
        f64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
}

impl Scalar for f32 {
    const BYTES: usize = 4;
    fn put_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get_le(b: &[u8]) -> Self {
        f32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
}

/// `C = A B` on one rank's full row-major operands with strass's default engine.
pub fn local_mul<T: Scalar>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), String> {
    strass::strassen_mul(a, b, c, m, k, n).map_err(|e| format!("local product {m}x{k}x{n}: {e}"))
}

/// `C += A B` on one rank's full row-major operands with strass's default engine.
pub fn local_mul_add<T: Scalar>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), String> {
    let ctx = |e: &dyn std::fmt::Display| format!("local product {m}x{k}x{n}: {e}");
    let av = strass::MatRef::row_major(a, m, k).map_err(|e| ctx(&e))?;
    let bv = strass::MatRef::row_major(b, k, n).map_err(|e| ctx(&e))?;
    let cv = strass::MatMut::row_major(c, m, n).map_err(|e| ctx(&e))?;
    strass::api::default_engine()
        .gemm(T::ONE, av, bv, T::ONE, cv)
        .map_err(|e| ctx(&e))
}
