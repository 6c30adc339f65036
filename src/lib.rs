//! # strass
//!
//! Learned fast matrix multiplication. The crate follows one pipeline, and its modules are laid
//! out in the same order:
//!
//! ```text
//! train (train/) -> kernels/*.json -> Scheme (scheme/) -> Plan (plan/) -> recursive kernel (kernel/) -> benches/
//! ```
//!
//! * [`scheme`]: the `strass-scheme/1` file format, exact verification (Brent equations),
//!   equivalence tools, Kronecker products, import of published formats.
//! * [`plan`]: compiles a verified scheme into an addition schedule.
//! * [`kernel`]: the configurable [`Engine`]: recursion, leaves, SIMD, policy.
//! * [`api`]: the drop-in entry points [`strassen_mul`], [`sgemm`], [`dgemm`] and the
//!   `ndarray` / `faer` adapters (features of the same names).
//! * [`train`]: learns bilinear schemes from random matrix products.
//! * `blas` (feature `openblas`, in `kernel`): the system OpenBLAS, as leaf GEMM and baseline.
//! * [`tune`]: the per-machine cutoff file written by `strass tune`.
//! * [`machine`]: the machine description recorded with every benchmark result.
//! * [`fsio`]: the atomic write and the bounded read every strass file goes through.
//! * `cli` (feature `cli`, on by default): the `strass` command.
//!
//! ## Features
//!
//! * `cli` (default): the `strass` command and what only it needs: the [`train`] module
//!   (training, studies, reports), the AlphaTensor `.npz` import, and the clap, indicatif,
//!   plotters, statrs, npyz and dirs dependencies. Without it (`default-features = false`) the
//!   crate is the multiplication library: schemes, verification, plans, the kernel, tuning-file
//!   reading.
//! * `openblas`: the system OpenBLAS as leaf GEMM and benchmark baseline.
//! * `ndarray`, `faer`: adapters for those crates' matrix views ([`api`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod api;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod fsio;
pub mod kernel;
pub mod machine;
pub mod plan;
pub mod scheme;
#[cfg(feature = "cli")]
pub mod train;
pub mod tune;

pub use api::{dgemm, sgemm, strassen_mul, try_dgemm, try_sgemm};
pub use error::{Error, Result};
#[cfg(feature = "openblas")]
pub use kernel::blas;
pub use kernel::{Element, Engine, Leaf, MatMut, MatRef, Policy, Variant};
pub use scheme::{RationalScheme, Scheme};
