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
//! * [`cli`]: the `strass` command.

pub mod api;
pub mod cli;
pub mod error;
pub mod kernel;
pub mod machine;
pub mod plan;
pub mod scheme;
pub mod train;
pub mod tune;

pub use api::{dgemm, sgemm, strassen_mul, try_dgemm, try_sgemm};
pub use error::{Error, Result};
#[cfg(feature = "openblas")]
pub use kernel::blas;
pub use kernel::{Element, Engine, Leaf, MatMut, MatRef, Policy};
pub use scheme::Scheme;
