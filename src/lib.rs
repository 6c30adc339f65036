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
//! * [`kernel`]: [`strassen_mul`] and the configurable [`Engine`].
//! * [`train`]: learns bilinear schemes from random matrix products.
//! * `blas` (feature `openblas`): the system OpenBLAS, as leaf GEMM and baseline.
//! * [`tune`]: the per-machine cutoff file written by `strass tune`.
//! * [`machine`]: the machine description recorded with every benchmark result.
//! * [`cli`]: the `strass` command.

#[cfg(feature = "openblas")]
pub mod blas;
pub mod cli;
pub mod error;
pub mod fsio;
pub mod kernel;
pub mod machine;
pub mod plan;
pub mod scheme;
pub mod train;
pub mod tune;

pub use error::{Error, Result};
pub use kernel::{strassen_mul, Element, Engine, Leaf, MatMut, MatRef};
pub use scheme::Scheme;
