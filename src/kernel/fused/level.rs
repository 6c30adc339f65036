//! One level of a compiled scheme ([`Plan`]) in which every product is one [`fused_gemm`] call:
//! the last recursion level of the kernel, with no temporary for `S_r`, `T_r` or `M_r`.

use super::{fused_gemm, DstView, FusedWorkspace, Output, SrcView};
use crate::kernel::{Element, KernelError};
use crate::plan::Plan;

/// `C = alpha A B + beta C` by one level of `plan` over the `m0 x k0 x n0` block grid, each
/// product `M_r = (sum_j u_rj A_j)(sum_l v_rl B_l)` computed by one [`fused_gemm`] call that
/// reads its A and B blocks while packing and adds `alpha w_ir M_r` to every C block `i` it
/// feeds. In product order, the first product to reach a C block applies `beta` to it (with
/// `beta == 0` the block is overwritten without being read); C blocks no product reaches are
/// scaled by `beta`.
///
/// `m`, `k` and `n` must be multiples of the plan's `m0`, `k0`, `n0` (else a shape error): the
/// caller peels the remainders, as the recursive kernel does. The result does not depend on the
/// workspace's thread count.
pub fn fused_level<T: Element>(
    plan: &Plan,
    alpha: T,
    a: SrcView<'_, T>,
    b: SrcView<'_, T>,
    beta: T,
    c: DstView<'_, T>,
    ws: &mut FusedWorkspace<T>,
) -> Result<(), KernelError> {
    let (m0, k0, n0) = plan.dims();
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k || c.rows != m || c.cols != n {
        return Err(KernelError::Shape(format!(
            "fused level: {}x{} * {}x{} -> {}x{} do not agree",
            a.rows, a.cols, b.rows, b.cols, c.rows, c.cols
        )));
    }
    if m % m0 != 0 || k % k0 != 0 || n % n0 != 0 {
        return Err(KernelError::Shape(format!(
            "fused level: {m}x{k}x{n} is not a multiple of the {} grid {m0}x{k0}x{n0}",
            plan.name()
        )));
    }
    let (mb, kb, nb) = (m / m0, k / k0, n / n0);
    let a_blk = |i: usize| SrcView {
        // Block (i / k0, i % k0) of A: inside A, offsets stay in isize (checked views).
        ptr: a
            .ptr
            .wrapping_offset(((i / k0) * mb) as isize * a.rs + ((i % k0) * kb) as isize * a.cs),
        rows: mb,
        cols: kb,
        ..a
    };
    let b_blk = |i: usize| SrcView {
        ptr: b
            .ptr
            .wrapping_offset(((i / n0) * kb) as isize * b.rs + ((i % n0) * nb) as isize * b.cs),
        rows: kb,
        cols: nb,
        ..b
    };
    let c_blk = |i: usize| DstView::<'_, T> {
        ptr: c
            .ptr
            .wrapping_offset(((i / n0) * mb) as isize * c.rs + ((i % n0) * nb) as isize * c.cs),
        rows: mb,
        cols: nb,
        rs: c.rs,
        cs: c.cs,
        _life: std::marker::PhantomData,
    };
    let d = plan.data();
    let mut fresh = vec![true; m0 * n0];
    let mut at = Vec::new();
    let mut bt = Vec::new();
    let mut outs = Vec::new();
    for r in 0..plan.rank() {
        if d.c_terms[r].is_empty() || d.a_terms[r].is_empty() || d.b_terms[r].is_empty() {
            continue; // a zero product: nothing to add, blocks stay fresh
        }
        at.clear();
        at.extend(
            d.a_terms[r]
                .iter()
                .map(|t| (T::from_i64(t.coeff), a_blk(t.block))),
        );
        bt.clear();
        bt.extend(
            d.b_terms[r]
                .iter()
                .map(|t| (T::from_i64(t.coeff), b_blk(t.block))),
        );
        outs.clear();
        outs.extend(d.c_terms[r].iter().map(|t| {
            let first = std::mem::replace(&mut fresh[t.block], false);
            Output {
                gamma: alpha * T::from_i64(t.coeff),
                beta: if first { beta } else { T::ONE },
                c: c_blk(t.block),
            }
        }));
        fused_gemm(&at, &bt, &mut outs, ws)?;
    }
    for (i, _) in fresh.iter().enumerate().filter(|(_, &f)| f) {
        super::scale(&mut c_blk(i), beta);
    }
    Ok(())
}
