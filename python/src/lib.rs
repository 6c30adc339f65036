//! `strass._strass`: the extension module behind the Python package `strass`.
//!
//! The Python layer (`strass/__init__.py`) checks dtypes and shapes and hands over operands
//! whose strides are non-negative multiples of the element size (copying only arrays that are
//! not: negative or misaligned strides); this module multiplies them on strass's engine with
//! the GIL released. The engine is [`strass::api::default_engine`] (the one `strass::dgemm`
//! uses), or a clone of it with another thread count, through [`Engine::gemm`]; no second
//! implementation.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use numpy::{PyArrayMethods, PyReadonlyArray2, PyReadwriteArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;
use strass::kernel::{KernelError, MAX_THREADS};
use strass::{Element, Engine, MatMut, MatRef};

/// The thread count `set_num_threads` chose (`None`: the default engine's).
static THREADS: Mutex<Option<usize>> = Mutex::new(None);
/// Engines with a thread count other than the default one, kept so their thread pools live
/// between calls (clones of the default engine: they share its plans and workspace cache).
static ENGINES: Mutex<Vec<(usize, Engine)>> = Mutex::new(Vec::new());

/// The engine for `threads` (`None`: the `set_num_threads` choice, else the default engine).
fn engine(threads: Option<usize>) -> Engine {
    let threads = threads.or(*THREADS.lock().unwrap_or_else(|e| e.into_inner()));
    let base = strass::api::default_engine();
    let Some(p) = threads else {
        return base.clone();
    };
    let mut cache = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, e)) = cache.iter().find(|(q, _)| *q == p) {
        return e.clone();
    }
    let e = base.clone().threads(p);
    cache.push((p, e.clone()));
    e
}

/// Checks a thread count from Python.
fn thread_count(n: i64) -> PyResult<usize> {
    if n >= 1 && n <= MAX_THREADS as i64 {
        Ok(n as usize)
    } else {
        Err(PyValueError::new_err(format!(
            "threads must be between 1 and {MAX_THREADS}, got {n}"
        )))
    }
}

/// A strided operand as raw parts: element `(i, j)` at `ptr + i*rs + j*cs`, strides in
/// elements and non-negative.
#[derive(Clone, Copy)]
struct Raw<T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

// SAFETY: a `Raw` only carries the address of an array that the caller keeps borrowed (through
// rust-numpy's borrow guards) for as long as the computation that receives it runs.
unsafe impl<T: Send> Send for Raw<T> {}

impl<T> Raw<T> {
    /// Elements from `ptr` to the last element, inclusive (0 for an empty view).
    fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
        }
    }
}

/// The raw parts of a 2-D array; refuses negative or misaligned strides (the Python layer
/// never passes them).
fn raw<T>(ptr: *mut T, shape: &[usize], strides: &[isize], name: &str) -> PyResult<Raw<T>> {
    let size = std::mem::size_of::<T>() as isize;
    let elem = |s: isize| {
        (s >= 0 && s % size == 0)
            .then_some((s / size) as usize)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{name}: byte strides {strides:?} are not non-negative multiples of {size}"
                ))
            })
    };
    Ok(Raw {
        ptr,
        rows: shape[0],
        cols: shape[1],
        rs: elem(strides[0])?,
        cs: elem(strides[1])?,
    })
}

/// The `span` elements of `x` as a slice (empty for an empty view, whatever the pointer).
///
/// # Safety
/// Those elements are valid to read for `'a`.
unsafe fn slice<'a, T>(x: Raw<T>) -> &'a [T] {
    match x.span() {
        0 => &[],
        // SAFETY: the caller's contract.
        n => unsafe { std::slice::from_raw_parts(x.ptr, n) },
    }
}

/// [`slice`], mutable.
///
/// # Safety
/// Those elements are valid to write for `'a` and not accessed otherwise meanwhile.
unsafe fn slice_mut<'a, T>(x: Raw<T>) -> &'a mut [T] {
    match x.span() {
        0 => &mut [],
        // SAFETY: the caller's contract.
        n => unsafe { std::slice::from_raw_parts_mut(x.ptr, n) },
    }
}

/// Maps an engine error to a Python exception.
fn py_err(e: strass::Error) -> PyErr {
    match e {
        strass::Error::Kernel(KernelError::Shape(s)) => PyValueError::new_err(s),
        strass::Error::Kernel(KernelError::Alloc { bytes }) => {
            PyMemoryError::new_err(format!("strass: cannot allocate {bytes} bytes"))
        }
        e => PyRuntimeError::new_err(format!("strass: {e}")),
    }
}

/// `C = A B` on the engine for `threads` (see [`engine`]); if the recursion's workspace
/// cannot be allocated, the product runs as one packed GEMM (as `strass::dgemm` does).
///
/// # Safety
/// The views address valid memory of the arrays (A, B readable, C writable) for the whole call,
/// C's elements are distinct and disjoint from A and B, and nothing else writes to them.
unsafe fn gemm<T: Element>(
    a: Raw<T>,
    b: Raw<T>,
    c: Raw<T>,
    threads: Option<usize>,
) -> Result<(), strass::Error> {
    // SAFETY: the caller's contract: `span` elements from each pointer are the array's memory,
    // C's not accessed otherwise.
    let (ad, bd, cd) = unsafe { (slice(a), slice(b), slice_mut(c)) };
    let av = MatRef::new(ad, a.rows, a.cols, a.rs, a.cs)?;
    let bv = MatRef::new(bd, b.rows, b.cols, b.rs, b.cs)?;
    let eng = engine(threads);
    match eng.gemm(
        T::ONE,
        av,
        bv,
        T::ZERO,
        MatMut::new(cd, c.rows, c.cols, c.rs, c.cs)?,
    ) {
        Err(strass::Error::Kernel(KernelError::Alloc { .. })) => {
            // SAFETY: as above; the failed call wrote nothing (the engine writes C only after
            // its workspace is allocated), and the first views are no longer used.
            let cv = MatMut::new(unsafe { slice_mut(c) }, c.rows, c.cols, c.rs, c.cs)?;
            eng.max_levels(0).gemm(T::ONE, av, bv, T::ZERO, cv)
        }
        r => r,
    }
}

macro_rules! gemm_fn {
    ($name:ident, $t:ty) => {
        #[doc = concat!("`c[...] = a @ b` for ", stringify!($t), " arrays (`c` is `a.shape[0] x b.shape[1]`,")]
        /// not overlapping `a` or `b`, with distinct elements), the GIL released meanwhile.
        /// `threads`: `None` for the current setting.
        #[pyfunction]
        #[pyo3(signature = (a, b, c, threads=None))]
        fn $name<'py>(
            py: Python<'py>,
            a: PyReadonlyArray2<'py, $t>,
            b: PyReadonlyArray2<'py, $t>,
            c: PyReadwriteArray2<'py, $t>,
            threads: Option<i64>,
        ) -> PyResult<()> {
            let threads = threads.map(thread_count).transpose()?;
            let ra = raw(a.data() as *mut $t, a.shape(), a.strides(), "a")?;
            let rb = raw(b.data() as *mut $t, b.shape(), b.strides(), "b")?;
            let rc = raw(c.data(), c.shape(), c.strides(), "c")?;
            if ra.cols != rb.rows || rc.rows != ra.rows || rc.cols != rb.cols {
                return Err(PyValueError::new_err(format!(
                    "shapes {:?} @ {:?} -> {:?} do not match",
                    a.shape(),
                    b.shape(),
                    c.shape()
                )));
            }
            // The borrow guards `a`, `b` and `c` stay alive until the computation is done.
            let r = py.detach(move || {
                // SAFETY: the arrays stay borrowed (a, b read-only, c exclusively: rust-numpy
                // refuses a c that overlaps a or b) while the GIL is released.
                unsafe { gemm(ra, rb, rc, threads) }
            });
            r.map_err(py_err)
        }
    };
}

gemm_fn!(gemm_f32, f32);
gemm_fn!(gemm_f64, f64);

/// Sets the number of threads `matmul` uses by default (`None`: back to the default,
/// `STRASS_NUM_THREADS` or all cores).
#[pyfunction]
#[pyo3(signature = (n))]
fn set_num_threads(n: Option<i64>) -> PyResult<()> {
    let n = n.map(thread_count).transpose()?;
    *THREADS.lock().unwrap_or_else(|e| e.into_inner()) = n;
    Ok(())
}

/// The number of threads `matmul` uses by default.
#[pyfunction]
fn get_num_threads() -> PyResult<usize> {
    match *THREADS.lock().unwrap_or_else(|e| e.into_inner()) {
        Some(p) => Ok(p),
        None => strass::api::default_engine().thread_count().map_err(py_err),
    }
}

/// The recursion levels the default engine uses for an `m x k` by `k x n` product of the
/// dtype (`double`: float64, else float32); 0 means a single packed GEMM.
#[pyfunction]
fn levels(m: usize, k: usize, n: usize, double: bool) -> usize {
    let e = strass::api::default_engine();
    if double {
        e.levels_for::<f64>(m, k, n)
    } else {
        e.levels_for::<f32>(m, k, n)
    }
}

/// The module `strass._strass`.
#[pymodule]
fn _strass(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gemm_f32, m)?)?;
    m.add_function(wrap_pyfunction!(gemm_f64, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(levels, m)?)?;
    m.add("MAX_THREADS", MAX_THREADS)?;
    Ok(())
}
