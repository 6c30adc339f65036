//! Linear combinations of strided matrices: the only arithmetic the recursion does besides the leaf
//! GEMM. This module knows nothing about Strassen: it computes
//!
//! * `combine`: `Y = (Y if acc) + sum_j c_j X_j` (one pass reads every `X_j` once, writes `Y` once),
//! * `scatter`: `Y_d = (Y_d if acc_d) + c_d X` for several `Y_d` (one pass reads `X` once),
//! * `scale`: `Y = beta Y` (`beta = 0` writes zeros without reading `Y`),
//!
//! with integer coefficients. `+1` and `-1` are applied as additions and subtractions, any other
//! coefficient as a fused multiply-add. The row kernels exist for AVX-512F and AVX2+FMA
//! (`std::arch`, chosen at run time with `is_x86_feature_detected!`) and as portable scalar code;
//! all three perform the same IEEE operations in the same order, so they agree bit for bit.
//!
//! The 2-D drivers walk rows when every operand has unit column stride, columns when every operand
//! has unit row stride, and elements otherwise; with several threads they split the rows (or
//! columns) among them, which changes no result.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod kernels;
mod portable;

pub use super::isa::Isa;
use super::view::{RawMut, RawRef};
use super::Element;
use std::any::TypeId;
use std::sync::OnceLock;

/// A coefficient, classified so that +-1 need no multiply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Coef<T> {
    /// `+x`.
    One,
    /// `-x`.
    MinusOne,
    /// `s * x` (fused with the addition).
    Scale(T),
}

impl<T: Element> Coef<T> {
    /// Classifies an integer coefficient.
    pub fn from_i64(c: i64) -> Self {
        match c {
            1 => Coef::One,
            -1 => Coef::MinusOne,
            c => Coef::Scale(T::from_i64(c)),
        }
    }
}

/// One source of a combination: a row pointer and its coefficient.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Src<T> {
    pub ptr: *const T,
    pub coef: Coef<T>,
}

/// One destination of a scatter: a row pointer, its coefficient, and whether to accumulate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dst<T> {
    pub ptr: *mut T,
    pub coef: Coef<T>,
    pub acc: bool,
}

/// Reinterprets a slice of `A` as a slice of `B`.
///
/// # Safety
/// `A` and `B` are the same type (checked by the caller with `TypeId`).
unsafe fn same<A, B>(x: &[A]) -> &[B] {
    // SAFETY: identical types have identical layouts.
    unsafe { &*(x as *const [A] as *const [B]) }
}

/// `dst[0..len] = (dst if acc) + sum_j c_j src_j[0..len]` (contiguous rows).
///
/// # Safety
/// `isa` is supported; all pointers valid for `len` elements; `dst` overlaps a source only
/// element for element.
pub(crate) unsafe fn row_combine<T: Element>(
    isa: Isa,
    len: usize,
    dst: *mut T,
    acc: bool,
    srcs: &[Src<T>],
    nt: bool,
) {
    // SAFETY: (whole body) the casts only happen when T is that exact type; the kernels get the
    // caller's guarantees.
    unsafe {
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            let (d, s): (*mut f32, &[Src<f32>]) = (dst as *mut f32, same(srcs));
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => avx512::f32::combine(len, d, acc, s, nt),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => avx2::f32::combine(len, d, acc, s, nt),
                _ => portable::combine(0, len, 1, d, acc, s),
            }
        } else if TypeId::of::<T>() == TypeId::of::<f64>() {
            let (d, s): (*mut f64, &[Src<f64>]) = (dst as *mut f64, same(srcs));
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => avx512::f64::combine(len, d, acc, s, nt),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => avx2::f64::combine(len, d, acc, s, nt),
                _ => portable::combine(0, len, 1, d, acc, s),
            }
        } else {
            unreachable_element::<T>()
        }
    }
}

/// `dst_d[0..len] = (dst_d if acc_d) + c_d src[0..len]` for every destination (contiguous rows).
///
/// # Safety
/// As for [`row_combine`]; destinations pairwise disjoint and disjoint from `src`.
pub(crate) unsafe fn row_scatter<T: Element>(isa: Isa, len: usize, src: *const T, dsts: &[Dst<T>]) {
    // SAFETY: (whole body) as in row_combine.
    unsafe {
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            let (x, d): (*const f32, &[Dst<f32>]) = (src as *const f32, same(dsts));
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => avx512::f32::scatter(len, x, d),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => avx2::f32::scatter(len, x, d),
                _ => portable::scatter(0, len, 1, x, d),
            }
        } else if TypeId::of::<T>() == TypeId::of::<f64>() {
            let (x, d): (*const f64, &[Dst<f64>]) = (src as *const f64, same(dsts));
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => avx512::f64::scatter(len, x, d),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => avx2::f64::scatter(len, x, d),
                _ => portable::scatter(0, len, 1, x, d),
            }
        } else {
            unreachable_element::<T>()
        }
    }
}

fn unreachable_element<T: Element>() {
    // Element is sealed to f32 and f64; this is never reached.
    debug_assert!(false, "unsupported element type {}", T::DTYPE);
}

/// Write-only destinations of at least this many bytes are written with non-temporal stores
/// (`STRASS_NT_BYTES`, default: never).
fn nt_bytes() -> usize {
    static NT: OnceLock<usize> = OnceLock::new();
    *NT.get_or_init(|| {
        std::env::var("STRASS_NT_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX)
    })
}

/// Orders this thread's non-temporal stores before everything after it.
fn store_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: sfence has no preconditions (SSE is part of x86_64).
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

/// At most this many operands go to one row-kernel call; longer combinations are split into
/// groups that continue the same left-to-right sum (so the result is unchanged).
const GROUP: usize = 32;

/// How a 2-D operation walks memory.
enum Walk {
    /// Rows are contiguous.
    Rows,
    /// Columns are contiguous (walk the transposed views).
    Cols,
    /// Neither: element by element.
    Elements,
}

fn walk(mut shapes: impl Iterator<Item = (usize, usize, isize, isize)> + Clone) -> Walk {
    if shapes.clone().all(|(_, c, _, cs)| c <= 1 || cs == 1) {
        Walk::Rows
    } else if shapes.all(|(r, _, rs, _)| r <= 1 || rs == 1) {
        Walk::Cols
    } else {
        Walk::Elements
    }
}

/// Runs `f(r0, r1)` over row ranges covering `0..rows`, on up to `threads` threads when the
/// operation is large enough to be worth it.
fn split_rows(rows: usize, cols: usize, threads: usize, f: impl Fn(usize, usize) + Sync) {
    const MIN_PAR: usize = 1 << 16;
    let parts = if threads > 1 && rows * cols >= MIN_PAR {
        threads.min(rows)
    } else {
        1
    };
    if parts <= 1 {
        f(0, rows);
        return;
    }
    let f = &f;
    rayon::scope(|s| {
        for p in 1..parts {
            s.spawn(move |_| f(rows * p / parts, rows * (p + 1) / parts));
        }
        f(0, rows / parts);
    });
}

/// `Y = (Y if acc) + sum_j c_j X_j`; all views have `Y`'s shape; `Y` overlaps an `X_j` only
/// element for element. No coefficient may be 0. An empty sum with `acc == false` writes zeros.
///
/// # Safety
/// The views are valid (checked or workspace memory) and nothing else accesses `Y` meanwhile.
pub(crate) unsafe fn combine<T: Element>(
    isa: Isa,
    y: RawMut<T>,
    acc: bool,
    xs: &[(RawRef<T>, i64)],
    threads: usize,
) {
    let shapes = std::iter::once((y.rows, y.cols, y.rs, y.cs))
        .chain(xs.iter().map(|(x, _)| (x.rows, x.cols, x.rs, x.cs)));
    let (y, transposed) = match walk(shapes) {
        Walk::Rows => (y, false),
        Walk::Cols => (y.t(), true),
        Walk::Elements => {
            // SAFETY: forwarded contract.
            unsafe { combine_elements(y, acc, xs) };
            return;
        }
    };
    let nt = !acc && y.rows * y.cols * std::mem::size_of::<T>() >= nt_bytes();
    split_rows(y.rows, y.cols, threads, |r0, r1| {
        let y = &y; // capture the whole (Sync) view, not its raw pointer field
        let mut buf = [Src {
            ptr: std::ptr::null::<T>(),
            coef: Coef::One,
        }; GROUP];
        for i in r0..r1 {
            let row = i as isize;
            // SAFETY: row i lies in every view; the caller guarantees validity.
            unsafe {
                let dst = y.ptr.offset(row * y.rs);
                if xs.is_empty() {
                    row_combine(isa, y.cols, dst, acc, &[], false);
                }
                for (g, group) in xs.chunks(GROUP).enumerate() {
                    for (slot, (x, c)) in buf.iter_mut().zip(group) {
                        let x = if transposed { x.t() } else { *x };
                        *slot = Src {
                            ptr: x.ptr.offset(row * x.rs),
                            coef: Coef::from_i64(*c),
                        };
                    }
                    row_combine(
                        isa,
                        y.cols,
                        dst,
                        acc || g > 0,
                        &buf[..group.len()],
                        nt && g == 0,
                    );
                }
            }
        }
        if nt {
            store_fence();
        }
    });
}

/// Element-by-element fallback for views without a common unit stride.
unsafe fn combine_elements<T: Element>(y: RawMut<T>, acc: bool, xs: &[(RawRef<T>, i64)]) {
    for i in 0..y.rows as isize {
        for j in 0..y.cols as isize {
            // SAFETY: (i, j) lies in every view.
            unsafe {
                let p = y.ptr.offset(i * y.rs + j * y.cs);
                let mut it = xs
                    .iter()
                    .map(|(x, c)| (*x.ptr.offset(i * x.rs + j * x.cs), Coef::<T>::from_i64(*c)));
                let mut v = if acc {
                    *p
                } else if let Some((x, c)) = it.next() {
                    to_native_first(c, x)
                } else {
                    T::ZERO
                };
                for (x, c) in it {
                    v = to_native_step(v, c, x);
                }
                *p = v;
            }
        }
    }
}

fn to_native_first<T: Element>(c: Coef<T>, x: T) -> T {
    match c {
        Coef::One => x,
        Coef::MinusOne => -x,
        Coef::Scale(s) => s * x,
    }
}

fn to_native_step<T: Element>(v: T, c: Coef<T>, x: T) -> T {
    match c {
        Coef::One => v + x,
        Coef::MinusOne => v - x,
        Coef::Scale(s) => fused(s, x, v),
    }
}

/// `s * x + v` with one rounding, as the SIMD kernels compute it.
fn fused<T: Element>(s: T, x: T, v: T) -> T {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        T::from_f64((s.to_f64() as f32).mul_add(x.to_f64() as f32, v.to_f64() as f32) as f64)
    } else {
        T::from_f64(s.to_f64().mul_add(x.to_f64(), v.to_f64()))
    }
}

/// `Y_d = (Y_d if acc_d) + c_d X` for every destination `(Y_d, c_d, acc_d)`; all views have `X`'s
/// shape and are pairwise disjoint.
///
/// # Safety
/// As for [`combine`].
pub(crate) unsafe fn scatter<T: Element>(
    isa: Isa,
    x: RawRef<T>,
    ys: &[(RawMut<T>, i64, bool)],
    threads: usize,
) {
    if ys.is_empty() {
        return;
    }
    let shapes = std::iter::once((x.rows, x.cols, x.rs, x.cs))
        .chain(ys.iter().map(|(y, _, _)| (y.rows, y.cols, y.rs, y.cs)));
    let (x, transposed) = match walk(shapes) {
        Walk::Rows => (x, false),
        Walk::Cols => (x.t(), true),
        Walk::Elements => {
            for &(y, c, acc) in ys {
                // SAFETY: forwarded contract; each destination is written once from X.
                unsafe { combine_elements(y, acc, &[(x, c)]) };
            }
            return;
        }
    };
    split_rows(x.rows, x.cols, threads, |r0, r1| {
        let x = &x; // capture the whole (Sync) view
        let mut buf = [Dst {
            ptr: std::ptr::null_mut::<T>(),
            coef: Coef::One,
            acc: false,
        }; GROUP];
        for i in r0..r1 {
            let row = i as isize;
            for group in ys.chunks(GROUP) {
                for (slot, (y, c, acc)) in buf.iter_mut().zip(group) {
                    let y = if transposed { y.t() } else { *y };
                    *slot = Dst {
                        ptr: y.ptr.wrapping_offset(row * y.rs),
                        coef: Coef::from_i64(*c),
                        acc: *acc,
                    };
                }
                // SAFETY: row i lies in every view; the caller guarantees validity.
                unsafe { row_scatter(isa, x.cols, x.ptr.offset(row * x.rs), &buf[..group.len()]) };
            }
        }
    });
}

/// `Y = beta Y`; with `beta == 0` writes zeros without reading `Y` (old NaNs do not survive).
///
/// # Safety
/// As for [`combine`].
pub(crate) unsafe fn scale<T: Element>(y: RawMut<T>, beta: T, threads: usize) {
    if beta == T::ONE {
        return;
    }
    let zero = beta == T::ZERO;
    let y = if y.cols > 1 && y.cs != 1 && (y.rows <= 1 || y.rs == 1) {
        y.t()
    } else {
        y
    };
    split_rows(y.rows, y.cols, threads, |r0, r1| {
        let y = &y; // capture the whole (Sync) view
        for i in r0 as isize..r1 as isize {
            for j in 0..y.cols as isize {
                // SAFETY: (i, j) lies in the view.
                unsafe {
                    let p = y.ptr.offset(i * y.rs + j * y.cs);
                    *p = if zero { T::ZERO } else { beta * *p };
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn check<T: Element>() {
        let mut seed = 7;
        let coefs = [1i64, -1, 2, -3, 1, 1, -1, 5];
        for isa in Isa::available() {
            for len in [0usize, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100] {
                for nsrc in 0..coefs.len() {
                    for acc in [false, true] {
                        let xs: Vec<Vec<T>> = (0..nsrc)
                            .map(|_| (0..len).map(|_| T::from_f64(lcg(&mut seed))).collect())
                            .collect();
                        let y0: Vec<T> = (0..len).map(|_| T::from_f64(lcg(&mut seed))).collect();
                        let srcs: Vec<Src<T>> = xs
                            .iter()
                            .zip(coefs)
                            .map(|(x, c)| Src {
                                ptr: x.as_ptr(),
                                coef: Coef::from_i64(c),
                            })
                            .collect();
                        let mut got = y0.clone();
                        let mut want = y0.clone();
                        // SAFETY: isa is available, all buffers hold len elements.
                        unsafe {
                            row_combine(isa, len, got.as_mut_ptr(), acc, &srcs, false);
                            row_combine(Isa::Portable, len, want.as_mut_ptr(), acc, &srcs, false);
                            let mut nt_got = y0.clone();
                            row_combine(isa, len, nt_got.as_mut_ptr(), acc, &srcs, true);
                            store_fence();
                            assert_eq!(nt_got, want, "{isa:?} streaming stores");
                        }
                        assert_eq!(got, want, "{isa:?} combine len {len} nsrc {nsrc} acc {acc}");
                        // Against plain arithmetic in f64 for a sanity check of the semantics.
                        for i in 0..len {
                            let mut v = if acc { y0[i].to_f64() } else { 0.0 };
                            for (x, c) in xs.iter().zip(coefs) {
                                v += c as f64 * x[i].to_f64();
                            }
                            assert!((v - got[i].to_f64()).abs() < 1e-4 * (1.0 + v.abs()));
                        }
                        // Scatter to nsrc destinations with mixed acc flags.
                        let mut gys: Vec<Vec<T>> = xs.clone();
                        let mut wys: Vec<Vec<T>> = xs.clone();
                        let mk = |ys: &mut Vec<Vec<T>>| -> Vec<Dst<T>> {
                            ys.iter_mut()
                                .zip(coefs)
                                .enumerate()
                                .map(|(d, (y, c))| Dst {
                                    ptr: y.as_mut_ptr(),
                                    coef: Coef::from_i64(c),
                                    acc: (d % 2 == 0) == acc,
                                })
                                .collect()
                        };
                        let (gd, wd) = (mk(&mut gys), mk(&mut wys));
                        // SAFETY: as above; destinations are distinct buffers.
                        unsafe {
                            row_scatter(isa, len, y0.as_ptr(), &gd);
                            row_scatter(Isa::Portable, len, y0.as_ptr(), &wd);
                        }
                        assert_eq!(gys, wys, "{isa:?} scatter len {len} nsrc {nsrc}");
                    }
                }
            }
        }
    }

    /// More operands than one row-kernel call takes: the groups continue the same sum.
    #[test]
    fn long_combinations_and_scatters_are_grouped_without_changing_the_result() {
        let (rows, cols, nsrc) = (3usize, 37usize, 2 * GROUP + 5);
        let mut seed = 11;
        let xs: Vec<Vec<f64>> = (0..nsrc)
            .map(|_| (0..rows * cols).map(|_| lcg(&mut seed)).collect())
            .collect();
        let coef = |j: usize| [1i64, -1, 3, -2][j % 4];
        let view = |x: &Vec<f64>| RawRef {
            ptr: x.as_ptr(),
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        };
        let terms: Vec<(RawRef<f64>, i64)> = xs
            .iter()
            .enumerate()
            .map(|(j, x)| (view(x), coef(j)))
            .collect();
        let mut y = vec![0.0f64; rows * cols];
        let yv = RawMut {
            ptr: y.as_mut_ptr(),
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        };
        // SAFETY: all views cover their own buffers.
        unsafe { combine(Isa::selected(), yv, false, &terms, 1) };
        for e in 0..rows * cols {
            let mut v = coef(0) as f64 * xs[0][e];
            for (j, x) in xs.iter().enumerate().skip(1) {
                let c = coef(j);
                v = match c {
                    1 => v + x[e],
                    -1 => v - x[e],
                    c => (c as f64).mul_add(x[e], v),
                };
            }
            assert_eq!(y[e].to_bits(), v.to_bits(), "element {e}");
        }
        let mut outs: Vec<Vec<f64>> = (0..nsrc).map(|_| vec![1.0; rows * cols]).collect();
        let dsts: Vec<(RawMut<f64>, i64, bool)> = outs
            .iter_mut()
            .enumerate()
            .map(|(j, o)| {
                (
                    RawMut {
                        ptr: o.as_mut_ptr(),
                        rows,
                        cols,
                        rs: cols as isize,
                        cs: 1,
                    },
                    coef(j),
                    j % 2 == 0,
                )
            })
            .collect();
        // SAFETY: as above; the destinations are distinct buffers.
        unsafe { scatter(Isa::selected(), view(&xs[0]), &dsts, 1) };
        for (j, o) in outs.iter().enumerate() {
            for e in 0..rows * cols {
                let c = coef(j) as f64;
                let want = if j % 2 == 0 {
                    c.mul_add(xs[0][e], 1.0)
                } else {
                    c * xs[0][e]
                };
                assert_eq!(o[e], want, "destination {j}, element {e}");
            }
        }
    }

    #[test]
    fn every_isa_matches_portable_bit_for_bit_f32() {
        check::<f32>();
    }

    #[test]
    fn every_isa_matches_portable_bit_for_bit_f64() {
        check::<f64>();
    }
}
