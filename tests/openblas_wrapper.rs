//! The OpenBLAS wrapper (feature `openblas`): strided GEMM on row- and column-major operands.

#[cfg(feature = "openblas")]
#[test]
fn openblas_wrapper_handles_row_and_column_major_operands() {
    use strass::blas::{gemm, Operand};
    let (m, k, n) = (3, 4, 5);
    let a: Vec<f64> = (0..m * k).map(|x| x as f64 * 0.5 - 1.0).collect();
    let b: Vec<f64> = (0..k * n).map(|x| (x as f64).sin()).collect();
    let mut want = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            want[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    // A row-major, B row-major, C row-major.
    let mut c = vec![f64::NAN; m * n];
    gemm(
        1.0,
        &a,
        Operand {
            rows: m,
            cols: k,
            rs: k,
            cs: 1,
        },
        &b,
        Operand {
            rows: k,
            cols: n,
            rs: n,
            cs: 1,
        },
        0.0,
        &mut c,
        Operand {
            rows: m,
            cols: n,
            rs: n,
            cs: 1,
        },
    )
    .unwrap();
    for (x, y) in c.iter().zip(&want) {
        assert!((x - y).abs() < 1e-12);
    }
    // C column-major, A viewed column-major through its transpose's storage.
    let at: Vec<f64> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
    let mut c2 = vec![0.0; m * n];
    gemm(
        2.0,
        &at,
        Operand {
            rows: m,
            cols: k,
            rs: 1,
            cs: m,
        },
        &b,
        Operand {
            rows: k,
            cols: n,
            rs: n,
            cs: 1,
        },
        0.0,
        &mut c2,
        Operand {
            rows: m,
            cols: n,
            rs: 1,
            cs: m,
        },
    )
    .unwrap();
    for i in 0..m {
        for j in 0..n {
            assert!((c2[j * m + i] - 2.0 * want[i * n + j]).abs() < 1e-12);
        }
    }
    assert!(strass::blas::config().contains("OpenBLAS"));
}
