//! The recursive kernel: [`strassen_mul`] and the configurable [`Engine`].
//!
//! INTERFACE SKELETON: the names below are the public API other modules and the benches build
//! against; the kernel issue fills in the bodies (recursion, workspace, SIMD, leaves, threads).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// A floating-point element type the kernel supports (`f32`, `f64`).
pub trait Element:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialEq
    + PartialOrd
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// `"f32"` or `"f64"`.
    const DTYPE: &'static str;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Converts an integer scheme coefficient.
    fn from_i64(c: i64) -> Self;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! impl_element {
    ($t:ty, $name:literal) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_i64(c: i64) -> Self {
                c as $t
            }
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    };
}
impl_element!(f32, "f32");
impl_element!(f64, "f64");

/// The leaf GEMM the recursion ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Leaf {
    /// The `matrixmultiply` crate (pure Rust, default).
    MatrixMultiply,
    /// System OpenBLAS (`openblas` feature).
    #[cfg(feature = "openblas")]
    OpenBlas,
}

/// Errors from the kernel: bad shapes, strides, options, or allocation failure.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// Slice lengths, dimensions, or strides are inconsistent.
    #[error("shape error: {0}")]
    Shape(String),
    /// An option (cutoff, levels, threads, scheme) is invalid.
    #[error("invalid option: {0}")]
    Option(String),
    /// The workspace could not be allocated.
    #[error("cannot allocate a workspace of {bytes} bytes")]
    Alloc {
        /// Requested size.
        bytes: usize,
    },
}

/// A read-only strided matrix view.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

/// A mutable strided matrix view.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

/// The configurable engine (scheme, cutoff, levels, leaf, threads).
#[derive(Debug, Clone)]
pub struct Engine {
    _private: (),
}

/// C = A B for row-major contiguous A (m x k), B (k x n), C (m x n), with the shipped scheme.
pub fn strassen_mul<T: Element>(
    _a: &[T],
    _b: &[T],
    _c: &mut [T],
    _m: usize,
    _k: usize,
    _n: usize,
) -> Result<(), crate::Error> {
    Err(KernelError::Option("strassen_mul: not implemented yet".into()).into())
}

#[allow(dead_code)]
fn _use<T>(a: MatRef<'_, T>, b: MatMut<'_, T>) -> usize {
    a.data.len() + a.rows + a.cols + a.rs + a.cs + b.data.len() + b.rows + b.cols + b.rs + b.cs
}
