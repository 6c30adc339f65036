//! The `ndarray` and `faer` adapters (features of the same names): products of views with odd
//! shapes and any strides (transposed, sliced, reversed), through the recursion (small cutoff)
//! and through the default engine, against an f64 reference.

mod common;

#[allow(dead_code)]
fn close(got: f64, want: f64, k: usize) -> bool {
    (got - want).abs() <= 64.0 * (k as f64 + 1.0) * f64::EPSILON * (1.0 + want.abs())
}

#[cfg(feature = "ndarray")]
mod nd {
    use super::{close, common::reference};
    use ndarray::{s, Array2};
    use strass::api::ndarray::{dot, gemm_with};
    use strass::Engine;

    fn mat(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let v = strass::tune::measure::random_matrix::<f64>(rows, cols, seed);
        Array2::from_shape_vec((rows, cols), v).unwrap()
    }

    #[test]
    fn views_of_any_strides_through_the_recursion() {
        let engine = Engine::new().cutoff(8).threads(2);
        for &(m, k, n) in &[(33, 29, 35), (64, 64, 64), (17, 40, 23)] {
            let a_big = mat(k + 3, 2 * m + 1, 1); // A = a_big^T sliced: column-major, offset
            let b = mat(k, n, 2);
            let a = a_big.slice(s![1..k + 1, ..;2]).reversed_axes(); // m+? x k
            let a = a.slice(s![..m, ..]);
            let b_rev = b.slice(s![..;-1, ..]); // rows reversed: negative stride
            let mut c = mat(m, n, 3);
            let c0 = c.clone();
            gemm_with(&engine, 0.5, &a, &b_rev, 2.0, &mut c.view_mut()).unwrap();
            let want = reference(
                m,
                k,
                n,
                0.5,
                |i, p| a[[i, p]],
                |p, j| b_rev[[p, j]],
                2.0,
                |i, j| c0[[i, j]],
            );
            for i in 0..m {
                for j in 0..n {
                    assert!(
                        close(c[[i, j]], want[i * n + j], k),
                        "{m}x{k}x{n} [{i},{j}]"
                    );
                }
            }
            assert!(engine.levels_for::<f64>(m, k, n) >= 1);
        }
    }

    #[test]
    fn dot_matches_ndarray_and_rejects_bad_shapes() {
        let (a, b) = (mat(19, 23, 4), mat(23, 11, 5));
        let c = dot(&a.view(), &b.t().t()).unwrap();
        let want = a.dot(&b);
        for (x, y) in c.iter().zip(want.iter()) {
            assert!(close(*x, *y, 23));
        }
        let e = dot(&a.view(), &a.view()).unwrap_err().to_string();
        assert!(e.contains("shape"), "{e}");
    }
}

#[cfg(feature = "faer")]
mod fa {
    use super::{close, common::reference};
    use faer::Mat;
    use strass::api::faer::{gemm_with, matmul};
    use strass::Engine;

    fn mat(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
        let v = strass::tune::measure::random_matrix::<f64>(rows, cols, seed);
        Mat::from_fn(rows, cols, |i, j| v[i * cols + j])
    }

    #[test]
    fn views_of_any_strides_through_the_recursion() {
        let engine = Engine::new().cutoff(8);
        for &(m, k, n) in &[(33, 29, 35), (40, 17, 64)] {
            let at = mat(k, m, 1); // A = at^T: row-major-like view of a column-major matrix
            let b = mat(k, n, 2);
            let a = at.transpose();
            let b_rev = b.as_ref().reverse_rows(); // negative row stride
            let mut c = mat(n, m, 3); // C = c^T: transposed destination
            let c0 = c.clone();
            gemm_with(&engine, -1.0, a, b_rev, 0.5, c.as_mut().transpose_mut()).unwrap();
            let want = reference(
                m,
                k,
                n,
                -1.0,
                |i, p| a[(i, p)],
                |p, j| b_rev[(p, j)],
                0.5,
                |i, j| c0[(j, i)],
            );
            for i in 0..m {
                for j in 0..n {
                    assert!(
                        close(c[(j, i)], want[i * n + j], k),
                        "{m}x{k}x{n} [{i},{j}]"
                    );
                }
            }
            assert!(engine.levels_for::<f64>(m, k, n) >= 1);
        }
    }

    #[test]
    fn matmul_matches_faer_and_rejects_bad_shapes() {
        let (a, b) = (mat(21, 13, 4), mat(13, 30, 5));
        let c = matmul(a.as_ref(), b.as_ref()).unwrap();
        let want = &a * &b;
        for i in 0..21 {
            for j in 0..30 {
                assert!(close(c[(i, j)], want[(i, j)], 13));
            }
        }
        assert!(matmul(a.as_ref(), a.as_ref()).is_err());
    }
}
