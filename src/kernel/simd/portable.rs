//! Portable scalar kernels: the reference every SIMD path must match bit for bit (same operations
//! in the same order: `+x`, `-x`, and a fused multiply-add for other coefficients).

use super::{Coef, Dst, Src};
use std::ops::{Add, Neg, Sub};

/// The scalar operations the kernels need.
pub(crate) trait Scalar:
    Copy + Add<Output = Self> + Sub<Output = Self> + Neg<Output = Self>
{
    /// `a * b + c` with one rounding.
    fn fma(a: Self, b: Self, c: Self) -> Self;
    /// `a * b`.
    fn mul(a: Self, b: Self) -> Self;
    /// Zero.
    const ZERO: Self;
}

macro_rules! impl_scalar {
    ($t:ty) => {
        impl Scalar for $t {
            #[inline(always)]
            fn fma(a: $t, b: $t, c: $t) -> $t {
                a.mul_add(b, c)
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a * b
            }
            const ZERO: $t = 0.0;
        }
    };
}
impl_scalar!(f32);
impl_scalar!(f64);

/// `c * x` (for the first term of a sum).
#[inline(always)]
pub(crate) fn first<T: Scalar>(c: Coef<T>, x: T) -> T {
    match c {
        Coef::One => x,
        Coef::MinusOne => -x,
        Coef::Scale(s) => T::mul(s, x),
    }
}

/// `v + c * x`.
#[inline(always)]
pub(crate) fn step<T: Scalar>(v: T, c: Coef<T>, x: T) -> T {
    match c {
        Coef::One => v + x,
        Coef::MinusOne => v - x,
        Coef::Scale(s) => T::fma(s, x, v),
    }
}

/// `dst[i] = (dst[i] if acc) + sum_j c_j src_j[i]` for `i` in `from..len`, element `i` of operand
/// `p` at `p + i * stride`.
///
/// # Safety
/// Every pointer must be valid for `len` elements at that stride; `dst` may not overlap a source
/// except at the same element.
pub(crate) unsafe fn combine<T: Scalar>(
    from: usize,
    len: usize,
    stride: isize,
    dst: *mut T,
    acc: bool,
    srcs: &[Src<T>],
) {
    for i in from..len {
        let o = i as isize * stride;
        // SAFETY: in bounds by the caller's contract.
        unsafe {
            let (mut v, rest) = if acc {
                (*dst.offset(o), srcs)
            } else if let Some((s, rest)) = srcs.split_first() {
                (first(s.coef, *s.ptr.offset(o)), rest)
            } else {
                (T::ZERO, srcs)
            };
            for s in rest {
                v = step(v, s.coef, *s.ptr.offset(o));
            }
            *dst.offset(o) = v;
        }
    }
}

/// `dst_d[i] = (dst_d[i] if acc_d) + c_d src[i]` for every destination, `i` in `from..len`.
///
/// # Safety
/// As for [`combine`]; the destinations are pairwise disjoint.
pub(crate) unsafe fn scatter<T: Scalar>(
    from: usize,
    len: usize,
    stride: isize,
    src: *const T,
    dsts: &[Dst<T>],
) {
    for i in from..len {
        let o = i as isize * stride;
        // SAFETY: in bounds by the caller's contract.
        unsafe {
            let x = *src.offset(o);
            for d in dsts {
                let p = d.ptr.offset(o);
                *p = if d.acc {
                    step(*p, d.coef, x)
                } else {
                    first(d.coef, x)
                };
            }
        }
    }
}
