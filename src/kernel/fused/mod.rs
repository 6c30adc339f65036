//! A BLIS-style packed GEMM whose packing fuses the additions of a fast-matmul product
//! ("Strassen reloaded", ABC variant): [`fused_gemm`] computes, for every output `i`,
//!
//! ```text
//! C_i = gamma_i * (sum_j alpha_j A_j) (sum_l beta_l B_l) + beta_i * C_i
//! ```
//!
//! in one pass over the operands: packing a block of A reads every `A_j` and writes the
//! combination `sum_j alpha_j A_j` into the packed buffer (likewise for B), and the micro-kernel
//! computes each `mr x nr` tile of the product once, in registers, then adds `gamma_i * tile` to
//! every destination. With `beta_i == 0` the old contents of `C_i` are never read (old NaNs do
//! not leak). It is the last recursion level of a fast scheme: one call per product `M_r`;
//! the kernel's `Leaf::Fused` runs a whole level of a compiled plan that way.
//!
//! Layers (BLIS split): `frame` (loops, blocking, threads) knows nothing about SIMD; `pack`
//! forms the linear combinations; `ukr` / `x86` hold the micro-kernels (AVX-512F, AVX2+FMA and a
//! portable one), chosen at run time with `is_x86_feature_detected!`, each knowing nothing about
//! Strassen.
//!
//! ```
//! use strass::kernel::fused::{fused_gemm, FusedWorkspace, Output, SrcView, DstView};
//! // C1 = (A1 + A2)(B1 - B2), C2 = -(A1 + A2)(B1 - B2) + C2, all 2x2 row-major.
//! let (a1, a2) = ([1.0, 2.0, 3.0, 4.0], [1.0; 4]);
//! let (b1, b2) = ([1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]);
//! let (mut c1, mut c2) = ([f64::NAN; 4], [10.0; 4]);
//! let a = [(1.0, SrcView::row_major(&a1, 2, 2)?), (1.0, SrcView::row_major(&a2, 2, 2)?)];
//! let b = [(1.0, SrcView::row_major(&b1, 2, 2)?), (-1.0, SrcView::row_major(&b2, 2, 2)?)];
//! let mut c = [
//!     Output::overwrite(1.0, DstView::row_major(&mut c1, 2, 2)?),
//!     Output::accumulate(-1.0, DstView::row_major(&mut c2, 2, 2)?),
//! ];
//! fused_gemm(&a, &b, &mut c, &mut FusedWorkspace::new())?;
//! assert_eq!(c1, [2.0, 1.0, 4.0, 1.0]);
//! assert_eq!(c2, [8.0, 9.0, 6.0, 9.0]);
//! # Ok::<(), strass::kernel::KernelError>(())
//! ```

mod frame;
mod pack;
pub mod probe;
mod ukr;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use frame::Blocking;

pub use super::isa::Isa;
use super::{Element, KernelError};
use frame::Accumulate;
use pack::Term;
use std::marker::PhantomData;
use ukr::{TileDst, UKernel};

/// Checks that a `rows x cols` view with these strides, starting at `data[0]`, fits in `len`.
fn check_extent(
    len: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
) -> Result<(), KernelError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|x| (cols - 1).checked_mul(cs).and_then(|y| x.checked_add(y)))
        .filter(|&l| l <= isize::MAX as usize / 2)
        .ok_or_else(|| {
            KernelError::Shape(format!(
                "{rows}x{cols} view with strides ({rs}, {cs}) overflows"
            ))
        })?;
    if last >= len {
        return Err(KernelError::Shape(format!(
            "{rows}x{cols} view with strides ({rs}, {cs}) needs {} elements, the slice has {len}",
            last + 1
        )));
    }
    Ok(())
}

fn contiguous_len(len: usize, rows: usize, cols: usize) -> Result<(), KernelError> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(KernelError::Shape(format!(
            "a contiguous {rows}x{cols} matrix needs rows * cols elements, the slice has {len}"
        ))),
    }
}

/// A read-only strided operand: element `(i, j)` at `ptr + i * rs + j * cs`.
#[derive(Debug)]
pub struct SrcView<'a, T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    _life: PhantomData<&'a [T]>,
}

// SAFETY: a SrcView is a shared borrow of `T`s (like `&[T]`), whether built from a slice or
// promised so by `from_raw`'s caller.
unsafe impl<T: Sync> Send for SrcView<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SrcView<'_, T> {}
// SAFETY: a DstView is an exclusive borrow of `T`s (like `&mut [T]`).
unsafe impl<T: Send> Send for DstView<'_, T> {}
// SAFETY: as above; `&DstView` gives no access to the elements.
unsafe impl<T: Sync> Sync for DstView<'_, T> {}

impl<T> Clone for SrcView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SrcView<'_, T> {}

impl<'a, T> SrcView<'a, T> {
    /// A `rows x cols` view of `data` with row stride `rs` and column stride `cs` (elements).
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, KernelError> {
        check_extent(data.len(), rows, cols, rs, cs)?;
        Ok(SrcView {
            ptr: data.as_ptr(),
            rows,
            cols,
            rs: rs as isize,
            cs: cs as isize,
            _life: PhantomData,
        })
    }

    /// A contiguous row-major view; `data.len()` must be `rows * cols`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        contiguous_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, cols, 1)
    }

    /// A view from a raw pointer and signed strides (for callers that have already checked
    /// their views, such as the recursive kernel).
    ///
    /// # Safety
    /// For the lifetime `'a`, every element `(i, j)`, `i < rows`, `j < cols`, at
    /// `ptr + i * rs + j * cs` is readable and not written by anyone.
    pub unsafe fn from_raw(ptr: *const T, rows: usize, cols: usize, rs: isize, cs: isize) -> Self {
        SrcView {
            ptr,
            rows,
            cols,
            rs,
            cs,
            _life: PhantomData,
        }
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        SrcView {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    fn term(&self, coef: T) -> Term<T> {
        Term {
            coef,
            ptr: self.ptr,
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// A mutable strided destination: element `(i, j)` at `ptr + i * rs + j * cs`; distinct
/// elements are distinct memory.
#[derive(Debug)]
pub struct DstView<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    _life: PhantomData<&'a mut [T]>,
}

impl<'a, T> DstView<'a, T> {
    /// A `rows x cols` view of `data` with row stride `rs` and column stride `cs` (elements).
    /// Views in which two elements share memory (for example a zero stride) are refused.
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, KernelError> {
        check_extent(data.len(), rows, cols, rs, cs)?;
        if !distinct(rows, cols, rs, cs) {
            return Err(KernelError::Shape(format!(
                "destination {rows}x{cols} with strides ({rs}, {cs}) writes some elements twice"
            )));
        }
        Ok(DstView {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            rs: rs as isize,
            cs: cs as isize,
            _life: PhantomData,
        })
    }

    /// A contiguous row-major view; `data.len()` must be `rows * cols`.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        contiguous_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, cols, 1)
    }

    /// A view from a raw pointer and signed strides.
    ///
    /// # Safety
    /// For the lifetime `'a`, every element `(i, j)` at `ptr + i * rs + j * cs` is valid for
    /// reads and writes, distinct elements are distinct memory, and nothing else (no other view
    /// passed to the same call, no other thread) accesses them.
    pub unsafe fn from_raw(ptr: *mut T, rows: usize, cols: usize, rs: isize, cs: isize) -> Self {
        DstView {
            ptr,
            rows,
            cols,
            rs,
            cs,
            _life: PhantomData,
        }
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        DstView {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// True when no two elements of a `rows x cols` view with these strides share memory (for
/// row-major-like or column-major-like layouts, with any padding).
/// Largest block size (`mc`, `kc`, `nc`) a [`FusedConfig`] may ask for.
pub const MAX_BLOCK: usize = 1 << 20;

/// Largest packed panel (`mc x kc` of A or `kc x nc` of B) a [`FusedConfig`] may ask for, in
/// bytes.
pub const MAX_PANEL_BYTES: usize = 1 << 30;

fn distinct(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        // An empty view has no elements to alias.
        return true;
    }
    if rows <= 1 || cols <= 1 {
        let (ext, s) = if rows <= 1 { (cols, cs) } else { (rows, rs) };
        return ext <= 1 || s >= 1;
    }
    let ((inner, n_inner), outer) = if cs <= rs {
        ((cs, cols), rs)
    } else {
        ((rs, rows), cs)
    };
    inner >= 1 && n_inner.checked_mul(inner).is_some_and(|span| outer >= span)
}

/// One destination of [`fused_gemm`]: `C = gamma * P + beta * C`; with `beta == 0` the old
/// contents of `C` are not read.
#[derive(Debug)]
pub struct Output<'a, T> {
    /// Scale of the product.
    pub gamma: T,
    /// Scale of the old contents (exactly 0: overwrite without reading).
    pub beta: T,
    /// The destination.
    pub c: DstView<'a, T>,
}

impl<'a, T: Element> Output<'a, T> {
    /// `C = gamma * P` (old contents ignored, NaNs included).
    pub fn overwrite(gamma: T, c: DstView<'a, T>) -> Self {
        Output {
            gamma,
            beta: T::ZERO,
            c,
        }
    }

    /// `C += gamma * P`.
    pub fn accumulate(gamma: T, c: DstView<'a, T>) -> Self {
        Output {
            gamma,
            beta: T::ONE,
            c,
        }
    }
}

/// Options of a [`FusedWorkspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FusedConfig {
    /// The micro-kernel's instruction set (`None`: the best this CPU supports).
    pub isa: Option<Isa>,
    /// Threads (1: the calling thread only; more: rayon tasks in the current pool).
    pub threads: usize,
    /// Cache blocking (`None`: the built-in choice for the type and instruction set).
    pub blocking: Option<Blocking>,
    /// Largest `m x n` temporary (bytes) the workspace may hold for the partial product of a
    /// call whose two or more outputs all accumulate (`beta != 0`); 0 disables it. See
    /// [`fused_gemm`] for when it is used.
    pub max_temp_bytes: usize,
}

impl Default for FusedConfig {
    fn default() -> Self {
        FusedConfig {
            isa: None,
            threads: 1,
            blocking: None,
            max_temp_bytes: DEFAULT_MAX_TEMP_BYTES,
        }
    }
}

/// Default of [`FusedConfig::max_temp_bytes`]: a 2048 x 2048 f64 block.
pub const DEFAULT_MAX_TEMP_BYTES: usize = 32 << 20;

/// The built-in blocking for a micro-kernel with tile `mr x nr` of `size`-byte elements on this
/// machine's caches ([`crate::kernel::cache::Caches::detect`]); see [`model_blocking`].
fn default_blocking(mr: usize, nr: usize, size: usize) -> Blocking {
    model_blocking(crate::kernel::cache::Caches::detect(), mr, nr, size)
}

/// Blocking from cache sizes by a simple analytical model (frame order: an `mr x kc`
/// micro-panel of A stays in L1 while `kc x nr` micro-panels of B stream from L2):
///
/// - `kc`: the A micro-panel fills half of the L1d (`kc = L1 / 2 / (mr * size)`), a multiple
///   of 8, in 64..=1024; f32 is capped at 448 because each depth block's dot products are summed
///   from zero, so f32 errors grow with `kc` (896 gave 1.5x larger errors than 384);
/// - `nc`: the packed `kc x nc` block of B fills the L2, a multiple of `nr`;
/// - `mc`: the packed `mc x kc` panel of A, shared by the threads, fills half of this core's
///   share of the L3 (of the L2 without an L3), a multiple of `mr`, at most 4096 rows.
///
/// On a Zen 3 (32 KiB L1d, 512 KiB L2) this gives f32 `kc` 448 / `nc` 288 and f64 336 / 192;
/// the BLIS-style rule that also keeps the B micro-panel in L1 gave f32 `kc` 168, 26% slower
/// at 2048^3 (`benches/blocking.rs`, 2026-12-07).
pub fn model_blocking(
    caches: &crate::kernel::cache::Caches,
    mr: usize,
    nr: usize,
    size: usize,
) -> Blocking {
    let cap = if size == 4 { 448 } else { 1024 };
    let kc = (caches.l1d.bytes / 2 / (mr * size)).clamp(64, cap) / 8 * 8;
    let nc = (caches.l2.bytes / (kc * size)).max(nr) / nr * nr;
    let outer = caches.l3.map_or(caches.l2.bytes, |l3| {
        l3.bytes / l3.sharing.max(1) * caches.l2.sharing.max(1)
    });
    let mc = ((outer / 2) / (kc * size)).clamp(mr, 4096) / mr * mr;
    Blocking { mc, kc, nc }
}

/// The packed buffers and options of [`fused_gemm`]. Create one per thread of the caller and
/// reuse it: after the first call of a given size no call allocates.
#[derive(Debug)]
pub struct FusedWorkspace<T> {
    uk: UKernel<T>,
    threads: usize,
    max_temp_bytes: usize,
    blocking: Blocking,
    bufs: frame::Buffers<T>,
}

impl<T: Element> Default for FusedWorkspace<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> FusedWorkspace<T> {
    /// The best micro-kernel for this CPU, one thread, built-in blocking; allocates lazily.
    pub fn new() -> Self {
        let uk = ukr::select::<T>(Isa::selected())
            .or_else(|| ukr::select::<T>(Isa::Portable))
            .expect("the portable micro-kernel is always available");
        let blocking = default_blocking(uk.mr, uk.nr, std::mem::size_of::<T>());
        FusedWorkspace {
            uk,
            threads: 1,
            max_temp_bytes: DEFAULT_MAX_TEMP_BYTES,
            blocking,
            bufs: frame::Buffers::default(),
        }
    }

    /// A workspace with these options; an instruction set this CPU lacks, zero threads or a
    /// zero block size is an error.
    pub fn with_config(cfg: FusedConfig) -> Result<Self, KernelError> {
        let isa = cfg.isa.unwrap_or_else(Isa::selected);
        let uk = ukr::select::<T>(isa).ok_or_else(|| {
            KernelError::Option(format!(
                "fused GEMM: this CPU cannot run the {isa:?} micro-kernels"
            ))
        })?;
        if cfg.threads == 0 {
            return Err(KernelError::Option(
                "fused GEMM: threads must be at least 1".into(),
            ));
        }
        let blocking = match cfg.blocking {
            Some(b) if b.mc == 0 || b.kc == 0 || b.nc == 0 => {
                return Err(KernelError::Option(format!(
                    "fused GEMM: zero block size in {b:?}"
                )))
            }
            Some(b)
                if [b.mc, b.kc, b.nc].iter().any(|&x| x > MAX_BLOCK)
                    || b.mc * b.kc * std::mem::size_of::<T>() > MAX_PANEL_BYTES
                    || b.kc * b.nc * std::mem::size_of::<T>() > MAX_PANEL_BYTES =>
            {
                return Err(KernelError::Option(format!(
                    "fused GEMM: block sizes {b:?} too large (each at most {MAX_BLOCK}, a packed \
                     panel at most {MAX_PANEL_BYTES} bytes)"
                )))
            }
            Some(b) => b,
            None => default_blocking(uk.mr, uk.nr, std::mem::size_of::<T>()),
        };
        Ok(FusedWorkspace {
            uk,
            threads: cfg.threads,
            max_temp_bytes: cfg.max_temp_bytes,
            blocking,
            bufs: frame::Buffers::default(),
        })
    }

    /// The micro-kernel's instruction set.
    pub fn isa(&self) -> Isa {
        self.uk.isa
    }

    /// The micro-tile `(mr, nr)`.
    pub fn micro_tile(&self) -> (usize, usize) {
        (self.uk.mr, self.uk.nr)
    }

    /// The cache blocking in use.
    pub fn blocking(&self) -> Blocking {
        self.blocking
    }

    /// Threads per call.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Sets the threads per call (at least 1).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// Allocates now what a call of `m x k` times `k x n` with `outputs` destinations needs, so
    /// that such calls do not allocate; allocation failure is an error.
    pub fn reserve(
        &mut self,
        m: usize,
        k: usize,
        n: usize,
        outputs: usize,
    ) -> Result<(), KernelError> {
        let s = frame::split(&self.uk, self.blocking, self.threads, m, k, n);
        let (a, b) = frame::buffer_lens(&self.uk, &s);
        self.bufs.b.ensure(b)?;
        self.bufs.a.ensure(a)?;
        if outputs >= 2 && temp_fits::<T>(m, n, self.max_temp_bytes) {
            self.bufs.temp.ensure(m * n)?;
        }
        for v in [&mut self.bufs.first, &mut self.bufs.later] {
            v.try_reserve(outputs).map_err(|_| KernelError::Alloc {
                bytes: outputs * std::mem::size_of::<TileDst<T>>(),
            })?;
        }
        Ok(())
    }

    /// Bytes currently held by the packed buffers.
    pub fn bytes(&self) -> usize {
        self.bufs.a.bytes() + self.bufs.b.bytes()
    }
}

/// For every output `i`: `C_i = gamma_i (sum_j alpha_j A_j)(sum_l beta_l B_l) + beta_i C_i`,
/// with each term given as `(coefficient, view)`.
///
/// All `A_j` are `m x k`, all `B_l` `k x n`, all `C_i` `m x n` (else a shape error; at least
/// one A and one B term are required). The sums are formed while packing and the product tile
/// is added to every destination from registers, so each operand is read once per packed block
/// and no temporary matrix exists. Results do not depend on the thread count. With `k == 0` the
/// product is zero: `C_i = beta_i C_i` (`beta_i == 0`: zero).
///
/// Floating point: sums are evaluated in `T`, in term order, then multiplied in `T` with FMAs
/// (SIMD paths); the product is scaled by `gamma_i` then added to `beta_i C_i`.
pub fn fused_gemm<T: Element>(
    a: &[(T, SrcView<'_, T>)],
    b: &[(T, SrcView<'_, T>)],
    c: &mut [Output<'_, T>],
    ws: &mut FusedWorkspace<T>,
) -> Result<(), KernelError> {
    let (Some(a0), Some(b0)) = (a.first(), b.first()) else {
        return Err(KernelError::Shape(
            "fused GEMM needs at least one A and one B term".into(),
        ));
    };
    let (m, k, n) = (a0.1.rows, a0.1.cols, b0.1.cols);
    if let Some((i, v)) = a
        .iter()
        .enumerate()
        .find(|(_, v)| (v.1.rows, v.1.cols) != (m, k))
    {
        return Err(KernelError::Shape(format!(
            "fused GEMM: A term {i} is {}x{}, A term 0 is {m}x{k}",
            v.1.rows, v.1.cols
        )));
    }
    if let Some((i, v)) = b
        .iter()
        .enumerate()
        .find(|(_, v)| (v.1.rows, v.1.cols) != (k, n))
    {
        return Err(KernelError::Shape(format!(
            "fused GEMM: B term {i} is {}x{}, expected {k}x{n}",
            v.1.rows, v.1.cols
        )));
    }
    if let Some((i, o)) = c
        .iter()
        .enumerate()
        .find(|(_, o)| (o.c.rows, o.c.cols) != (m, n))
    {
        return Err(KernelError::Shape(format!(
            "fused GEMM: output {i} is {}x{}, expected {m}x{n}",
            o.c.rows, o.c.cols
        )));
    }
    if m == 0 || n == 0 || c.is_empty() {
        return Ok(());
    }
    if k == 0 {
        for o in c.iter_mut() {
            scale(&mut o.c, o.beta);
        }
        return Ok(());
    }
    // Vectors run along C's rows: if every destination is column-major-like, compute the
    // transposed product C^T = (sum B^T)(sum A^T) instead (same operations, same bits).
    let transpose = c
        .iter()
        .all(|o| o.c.cs != 1 && (o.c.rs == 1 || o.c.rows == 1));
    let bufs = &mut ws.bufs;
    let (a, b, m, n) = if transpose {
        (b, a, n, m)
    } else {
        (a, b, m, n)
    };
    for (dst, src) in [(&mut bufs.a_terms, a), (&mut bufs.b_terms, b)] {
        dst.clear();
        dst.extend(
            src.iter()
                .map(|(coef, v)| if transpose { v.t() } else { *v }.term(*coef)),
        );
    }
    bufs.first.clear();
    bufs.later.clear();
    for o in c.iter() {
        let (rs, cs) = if transpose {
            (o.c.cs, o.c.rs)
        } else {
            (o.c.rs, o.c.cs)
        };
        let d = TileDst {
            ptr: o.c.ptr,
            rs,
            cs,
            gamma: o.gamma,
            beta: o.beta,
        };
        bufs.first.push(d);
        bufs.later.push(TileDst { beta: T::ONE, ..d });
    }
    let s = frame::split(&ws.uk, ws.blocking, ws.threads, m, k, n);
    let mode = if let Some(i) = bufs.first.iter().position(|d| d.beta == T::ZERO) {
        Accumulate::InDestination(i)
    } else if c.len() >= 2 && temp_fits::<T>(m, n, ws.max_temp_bytes) {
        Accumulate::InTemp
    } else {
        Accumulate::Everywhere
    };
    // SAFETY: every view was built from a checked slice borrow or promised valid by its
    // `from_raw` caller; sources are shared borrows and destinations exclusive ones (or promised
    // disjoint by `from_raw`), and all shapes agree (checked above).
    unsafe { frame::run(&ws.uk, s, mode, bufs, m, k, n) }
}

/// True when an `m x n` temporary of `T` fits in `limit` bytes.
fn temp_fits<T>(m: usize, n: usize, limit: usize) -> bool {
    m.checked_mul(n)
        .and_then(|e| e.checked_mul(std::mem::size_of::<T>()))
        .is_some_and(|b| b <= limit)
}

/// `C = beta C`, with `beta == 0` writing zeros without reading.
fn scale<T: Element>(c: &mut DstView<'_, T>, beta: T) {
    for i in 0..c.rows {
        for j in 0..c.cols {
            // SAFETY: (i, j) is inside the view (checked at construction or promised by
            // `from_raw`), which this call borrows exclusively.
            let x = unsafe { &mut *c.ptr.offset(i as isize * c.rs + j as isize * c.cs) };
            *x = if beta == T::ZERO { T::ZERO } else { beta * *x };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::model_blocking;
    use crate::kernel::cache::{CacheLevel, Caches};

    fn caches(l1: (usize, usize), l2: (usize, usize), l3: Option<(usize, usize)>) -> Caches {
        let lvl = |(bytes, ways): (usize, usize), sharing| CacheLevel {
            bytes,
            ways,
            line: 64,
            sharing,
        };
        Caches {
            l1d: lvl(l1, 1),
            l2: lvl(l2, 1),
            l3: l3.map(|x| lvl(x, 8)),
            source: "test",
        }
    }

    #[test]
    fn blocking_follows_the_caches() {
        // Zen 3: 32 KiB 8-way L1d, 512 KiB L2; AVX2 tiles 6 x 16 f32 and 6 x 8 f64.
        let zen3 = caches((32 << 10, 8), (512 << 10, 8), Some((32 << 20, 16)));
        let f32b = model_blocking(&zen3, 6, 16, 4);
        assert_eq!((f32b.kc, f32b.nc), (448, 288));
        // Half of the L3 share of one of the 8 CPUs sharing it.
        assert_eq!(f32b.mc, (2 << 20) / (448 * 4) / 6 * 6);
        let f64b = model_blocking(&zen3, 6, 8, 8);
        assert_eq!((f64b.kc, f64b.nc), (336, 192));
        // A larger L1 and L2 give larger blocks; a missing L3 shrinks mc to the L2's share.
        let big = caches((48 << 10, 12), (2 << 20, 16), None);
        let b = model_blocking(&big, 12, 16, 8);
        assert_eq!(b.kc, 256);
        assert_eq!(b.nc, (2 << 20) / (256 * 8) / 16 * 16);
        assert_eq!(b.mc, (1 << 20) / (256 * 8) / 12 * 12);
        for (c, mr, nr, size) in [(&zen3, 6, 16, 4), (&zen3, 6, 8, 8), (&big, 12, 32, 4)] {
            let b = model_blocking(c, mr, nr, size);
            assert!(mr * b.kc * size <= c.l1d.bytes / 2, "{b:?}");
            assert!(b.kc * b.nc * size <= c.l2.bytes, "{b:?}");
            assert!(
                b.kc.is_multiple_of(8) && b.nc.is_multiple_of(nr) && b.mc.is_multiple_of(mr),
                "{b:?}"
            );
        }
    }
}
