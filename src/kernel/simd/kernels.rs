//! The one SIMD kernel body, instantiated per instruction set and element type by
//! [`lincomb_kernels!`]. Operations and their order match `portable.rs` exactly.

/// Expands to `combine` and `scatter` for one vector type. Arguments: the `target_feature`
/// string, the element type, the vector type, lanes, and the intrinsics for unaligned load and
/// store, broadcast, add, sub, mul and fused multiply-add.
macro_rules! lincomb_kernels {
    ($feat:literal, $T:ty, $V:ty, $L:expr, $loadu:ident, $storeu:ident, $stream:ident, $set1:ident, $add:ident, $sub:ident, $mul:ident, $fmadd:ident) => {
        use crate::kernel::simd::portable;
        use crate::kernel::simd::{Coef, Dst, Src};

        macro_rules! first_v {
            ($c:expr, $x:expr) => {
                match $c {
                    Coef::One => $x,
                    Coef::MinusOne => $sub($set1(-0.0), $x),
                    Coef::Scale(s) => $mul($set1(s), $x),
                }
            };
        }
        macro_rules! step_v {
            ($v:expr, $c:expr, $x:expr) => {
                match $c {
                    Coef::One => $add($v, $x),
                    Coef::MinusOne => $sub($v, $x),
                    Coef::Scale(s) => $fmadd($set1(s), $x, $v),
                }
            };
        }

        /// `dst = (dst if acc) + sum_j c_j src_j` over `len` contiguous elements. With `nt`, a
        /// write-only `dst` aligned to a whole vector is written with non-temporal stores (the
        /// caller issues the store fence).
        ///
        /// # Safety
        /// The CPU supports the target feature; every pointer is valid for `len` elements; `dst`
        /// overlaps a source only element for element.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn combine(
            len: usize,
            dst: *mut $T,
            acc: bool,
            srcs: &[Src<$T>],
            nt: bool,
        ) {
            const L: usize = $L;
            let mut i = 0;
            macro_rules! body {
                ($store:ident) => {
                    while i + 2 * L <= len {
                        let (mut v0, mut v1, rest) = if acc {
                            ($loadu(dst.add(i)), $loadu(dst.add(i + L)), srcs)
                        } else {
                            let s = &srcs[0];
                            let (x0, x1) = ($loadu(s.ptr.add(i)), $loadu(s.ptr.add(i + L)));
                            (first_v!(s.coef, x0), first_v!(s.coef, x1), &srcs[1..])
                        };
                        for s in rest {
                            let (x0, x1) = ($loadu(s.ptr.add(i)), $loadu(s.ptr.add(i + L)));
                            v0 = step_v!(v0, s.coef, x0);
                            v1 = step_v!(v1, s.coef, x1);
                        }
                        $store(dst.add(i), v0);
                        $store(dst.add(i + L), v1);
                        i += 2 * L;
                    }
                    while i + L <= len {
                        let (mut v0, rest) = if acc {
                            ($loadu(dst.add(i)), srcs)
                        } else {
                            let s = &srcs[0];
                            (first_v!(s.coef, $loadu(s.ptr.add(i))), &srcs[1..])
                        };
                        for s in rest {
                            v0 = step_v!(v0, s.coef, $loadu(s.ptr.add(i)));
                        }
                        $store(dst.add(i), v0);
                        i += L;
                    }
                };
            }
            // SAFETY: (whole body) every access is at an index below `len`; streaming stores
            // only go to vector-aligned addresses.
            unsafe {
                if srcs.is_empty() {
                    return portable::combine(0, len, 1, dst, acc, srcs);
                }
                if nt && !acc && (dst as usize) % std::mem::size_of::<$V>() == 0 {
                    body!($stream);
                } else {
                    body!($storeu);
                }
                portable::combine(i, len, 1, dst, acc, srcs);
            }
        }

        /// `dst_d = (dst_d if acc_d) + c_d src` for every destination, over `len` contiguous
        /// elements, reading `src` once.
        ///
        /// # Safety
        /// As for `combine`; destinations are pairwise disjoint and disjoint from `src`.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn scatter(len: usize, src: *const $T, dsts: &[Dst<$T>]) {
            const L: usize = $L;
            let mut i = 0;
            // SAFETY: (whole body) every access is at an index below `len`.
            unsafe {
                while i + 2 * L <= len {
                    let (x0, x1) = ($loadu(src.add(i)), $loadu(src.add(i + L)));
                    for d in dsts {
                        let p = d.ptr.add(i);
                        let (y0, y1) = if d.acc {
                            (
                                step_v!($loadu(p), d.coef, x0),
                                step_v!($loadu(p.add(L)), d.coef, x1),
                            )
                        } else {
                            (first_v!(d.coef, x0), first_v!(d.coef, x1))
                        };
                        $storeu(p, y0);
                        $storeu(p.add(L), y1);
                    }
                    i += 2 * L;
                }
                portable::scatter(i, len, 1, src, dsts);
            }
        }
    };
}

pub(crate) use lincomb_kernels;
