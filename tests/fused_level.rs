//! One level of a compiled scheme from fused calls (`fused_level`) against a naive f64 product:
//! every shipped scheme, a non-square classical scheme and Strassen (x) Strassen, alpha and beta,
//! strided operands, old NaNs in an overwritten C, and the shape errors. Integer data make every
//! result exact, so equality is required.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strass::kernel::fused::{
    fused_level, Blocking, DstView, FusedConfig, FusedWorkspace, Isa, SrcView,
};
use strass::kernel::KernelError;
use strass::plan::Plan;
use strass::scheme::{kron, Scheme};

fn ints(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.gen_range(-3..=3) as f64).collect()
}

fn plans() -> Vec<Plan> {
    let mut out: Vec<Plan> = ["strassen", "winograd", "classical", "learned"]
        .iter()
        .filter_map(|n| Plan::shipped(n))
        .collect();
    assert!(out.len() >= 3, "shipped plans missing");
    out.push(Plan::compile(&Scheme::classical(2, 3, 1).unwrap()).unwrap());
    let s = Scheme::shipped("strassen").unwrap();
    out.push(Plan::compile(&kron(&s, &s).unwrap()).unwrap());
    out
}

#[test]
fn every_plan_matches_the_naive_product() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for plan in plans() {
        let (m0, k0, n0) = plan.dims();
        for isa in Isa::all_supported() {
            for (alpha, beta) in [(1.0, 0.0), (-2.0, 1.0), (3.0, 0.5)] {
                let (m, k, n) = (m0 * 13, k0 * 9, n0 * 11);
                // A row-major with padding, B column-major, C row-major inside a wider buffer.
                let (lda, ldc) = (k + 2, n + 5);
                let a = ints(&mut rng, m * lda);
                let b = ints(&mut rng, k * n);
                let mut c = ints(&mut rng, m * ldc);
                if beta == 0.0 {
                    c.iter_mut().for_each(|x| *x = f64::NAN);
                }
                let mut want = c.clone();
                for i in 0..m {
                    for j in 0..n {
                        let s: f64 = (0..k).map(|p| a[i * lda + p] * b[p + j * k]).sum();
                        let old = if beta == 0.0 {
                            0.0
                        } else {
                            beta * c[i * ldc + j]
                        };
                        want[i * ldc + j] = alpha * s + old;
                    }
                }
                let mut ws = FusedWorkspace::<f64>::with_config(FusedConfig {
                    isa: Some(isa),
                    blocking: Some(Blocking {
                        mc: 16,
                        kc: 4,
                        nc: 40,
                    }),
                    ..FusedConfig::default()
                })
                .unwrap();
                let av = SrcView::new(&a, m, k, lda, 1).unwrap();
                let bv = SrcView::new(&b, k, n, 1, k).unwrap();
                let cv = DstView::new(&mut c, m, n, ldc, 1).unwrap();
                fused_level(&plan, alpha, av, bv, beta, cv, &mut ws).unwrap();
                for i in 0..m {
                    for j in 0..ldc {
                        let (got, w) = (c[i * ldc + j], want[i * ldc + j]);
                        assert!(
                            got == w || (j >= n && got.is_nan() && w.is_nan()),
                            "{} {isa:?} alpha {alpha} beta {beta} at ({i},{j}): {got} vs {w}",
                            plan.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn shapes_off_the_grid_are_errors() {
    let plan = Plan::shipped("strassen").unwrap();
    let a = vec![1.0f32; 6 * 4];
    let b = vec![1.0f32; 4 * 4];
    let mut c = vec![0.0f32; 6 * 4];
    let mut ws = FusedWorkspace::<f32>::new();
    let r = fused_level(
        &plan,
        1.0,
        SrcView::row_major(&a, 6, 4).unwrap(),
        SrcView::row_major(&b, 4, 4).unwrap(),
        0.0,
        DstView::row_major(&mut c, 6, 4).unwrap(),
        &mut ws,
    );
    assert!(r.is_ok(), "{r:?}");
    let mut c = vec![0.0f32; 5 * 4];
    let a = vec![1.0f32; 5 * 4];
    let r = fused_level(
        &plan,
        1.0,
        SrcView::row_major(&a, 5, 4).unwrap(),
        SrcView::row_major(&b, 4, 4).unwrap(),
        0.0,
        DstView::row_major(&mut c, 5, 4).unwrap(),
        &mut ws,
    );
    assert!(matches!(r, Err(KernelError::Shape(_))), "{r:?}");
    let r = fused_level(
        &plan,
        1.0,
        SrcView::row_major(&a, 5, 4).unwrap(),
        SrcView::row_major(&a, 5, 4).unwrap(),
        0.0,
        DstView::row_major(&mut c, 5, 4).unwrap(),
        &mut ws,
    );
    assert!(matches!(r, Err(KernelError::Shape(_))), "{r:?}");
}
