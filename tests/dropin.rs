//! The drop-in functions: `sgemm` / `dgemm` with matrixmultiply's signature (strides of either
//! sign, alpha, beta) and `strassen_mul`, against an f64 reference and against matrixmultiply.

mod common;

use common::reference;

/// A `rows x cols` matrix stored with strides `(rs, cs)` in a buffer, with the offset of element
/// (0, 0) so that negative strides stay inside it.
struct Strided {
    buf: Vec<f64>,
    off: isize,
    rs: isize,
    cs: isize,
}

impl Strided {
    fn new(rows: usize, cols: usize, layout: u8, seed: u64) -> Strided {
        let (r, c) = (rows as isize, cols as isize);
        // 0 row-major, 1 column-major, 2 padded row-major, 3 rows reversed, 4 both reversed,
        // 5 column-major with columns reversed.
        let (rs, cs) = match layout {
            0 => (c, 1),
            1 => (1, r),
            2 => (c + 3, 1),
            3 => (-c, 1),
            4 => (-c, -1),
            _ => (1, -r),
        };
        let len = ((r.max(1) - 1) * rs.abs() + (c.max(1) - 1) * cs.abs() + 1) as usize;
        let off = if rs < 0 { (r.max(1) - 1) * -rs } else { 0 }
            + if cs < 0 { (c.max(1) - 1) * -cs } else { 0 };
        let mut s = seed;
        let buf = (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect();
        Strided { buf, off, rs, cs }
    }
    fn at(&self, i: usize, j: usize) -> f64 {
        self.buf[(self.off + i as isize * self.rs + j as isize * self.cs) as usize]
    }
}

fn check_dgemm(m: usize, k: usize, n: usize, layouts: (u8, u8, u8), alpha: f64, beta: f64) {
    let a = Strided::new(m, k, layouts.0, 1);
    let b = Strided::new(k, n, layouts.1, 2);
    let mut c = Strided::new(m, n, layouts.2, 3);
    let c0 = Strided {
        buf: c.buf.clone(),
        off: c.off,
        rs: c.rs,
        cs: c.cs,
    };
    if beta == 0.0 {
        // C's old contents must not be read with beta = 0.
        c.buf.iter_mut().for_each(|x| *x = f64::NAN);
    }
    let want = reference(
        m,
        k,
        n,
        alpha,
        |i, p| a.at(i, p),
        |p, j| b.at(p, j),
        beta,
        |i, j| c0.at(i, j),
    );
    // SAFETY: the buffers hold every element the dimensions and strides address.
    unsafe {
        strass::try_dgemm(
            m,
            k,
            n,
            alpha,
            a.buf.as_ptr().offset(a.off),
            a.rs,
            a.cs,
            b.buf.as_ptr().offset(b.off),
            b.rs,
            b.cs,
            beta,
            c.buf.as_mut_ptr().offset(c.off),
            c.rs,
            c.cs,
        )
        .unwrap();
    }
    let scale = (k as f64).max(1.0) * 4.0 * f64::EPSILON * 64.0;
    for i in 0..m {
        for j in 0..n {
            let (got, w) = (c.at(i, j), want[i * n + j]);
            assert!(
                (got - w).abs() <= scale * (1.0 + w.abs()) * (1.0 + alpha.abs()),
                "{m}x{k}x{n} layouts {layouts:?} alpha {alpha} beta {beta}: C[{i},{j}] = {got}, want {w}"
            );
        }
    }
}

#[test]
fn dgemm_matches_the_reference_over_shapes_strides_alpha_beta() {
    for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (17, 1, 9), (33, 64, 31), (70, 45, 66)] {
        for layouts in [
            (0, 0, 0),
            (1, 1, 1),
            (2, 1, 0),
            (3, 0, 4),
            (4, 5, 3),
            (5, 4, 1),
        ] {
            for (alpha, beta) in [(1.0, 0.0), (-2.5, 0.0), (0.5, 1.0), (1.0, -3.0)] {
                check_dgemm(m, k, n, layouts, alpha, beta);
            }
        }
    }
}

#[test]
fn empty_and_zero_depth_products() {
    check_dgemm(0, 5, 4, (0, 0, 0), 1.0, 0.0);
    check_dgemm(4, 0, 5, (0, 0, 0), 1.0, 2.0);
    check_dgemm(4, 0, 5, (1, 1, 3), 1.0, 0.0);
    check_dgemm(4, 7, 0, (0, 0, 0), 1.0, 1.0);
}

#[test]
fn dgemm_through_the_recursion_passes_a_residual_check_on_odd_sizes() {
    // Large enough that the default engine runs a level (blocks >= the built-in cutoff), odd in
    // every dimension, C column-major and B transposed.
    let (m, k, n) = (2051, 2049, 2053);
    let e = strass::api::default_engine();
    assert!(
        e.levels_for::<f64>(m, k, n) >= 1,
        "the test must exercise the recursion"
    );
    let a = strass::tune::measure::random_matrix::<f64>(m, k, 5);
    let bt = strass::tune::measure::random_matrix::<f64>(n, k, 6); // B^T row-major
    let mut c = vec![f64::NAN; m * n]; // column-major
                                       // SAFETY: the slices hold the matrices the strides describe.
    unsafe {
        strass::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            bt.as_ptr(),
            1,
            k as isize,
            0.0,
            c.as_mut_ptr(),
            1,
            m as isize,
        );
    }
    // Back to row-major for the check.
    let b: Vec<f64> = (0..k * n).map(|x| bt[(x % n) * k + x / n]).collect();
    let c_rm: Vec<f64> = (0..m * n).map(|x| c[(x % n) * m + x / n]).collect();
    let err = strass::tune::measure::rel_error_residual(&a, &b, &c_rm, m, k, n, 7);
    assert!(err < 1e-13, "relative error {err}");
}

#[test]
fn sgemm_agrees_with_matrixmultiply() {
    let (m, k, n) = (37, 129, 65);
    let a = strass::tune::measure::random_matrix::<f32>(m, k, 8);
    let b = strass::tune::measure::random_matrix::<f32>(k, n, 9);
    let (mut c1, mut c2) = (vec![1.0f32; m * n], vec![1.0f32; m * n]);
    // SAFETY: contiguous row-major slices of the stated sizes.
    unsafe {
        strass::sgemm(
            m,
            k,
            n,
            0.5,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            2.0,
            c1.as_mut_ptr(),
            n as isize,
            1,
        );
        matrixmultiply::sgemm(
            m,
            k,
            n,
            0.5,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            2.0,
            c2.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    for (x, y) in c1.iter().zip(&c2) {
        assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn a_c_whose_elements_overlap_is_an_error_not_garbage() {
    let a = [1.0f64; 4];
    let b = [1.0f64; 4];
    let mut c = [0.0f64; 4];
    // Row stride 0 with two rows: C's rows share memory.
    // SAFETY: every addressed element lies in the arrays.
    let r = unsafe {
        strass::try_dgemm(
            2,
            2,
            2,
            1.0,
            a.as_ptr(),
            2,
            1,
            b.as_ptr(),
            2,
            1,
            0.0,
            c.as_mut_ptr(),
            0,
            1,
        )
    };
    let e = r.unwrap_err().to_string();
    assert!(e.contains("share memory"), "{e}");
    assert_eq!(c, [0.0; 4], "nothing may be written on error");
}

#[test]
fn strassen_mul_uses_the_packed_gemm_default_and_checks_lengths() {
    assert_eq!(
        strass::api::default_engine().leaf_kind(),
        strass::Leaf::Fused
    );
    let (m, k, n) = (5, 3, 4);
    let a: Vec<f64> = (0..m * k).map(|x| x as f64).collect();
    let b: Vec<f64> = (0..k * n).map(|x| (x as f64) - 3.0).collect();
    let mut c = vec![0.0; m * n];
    strass::strassen_mul(&a, &b, &mut c, m, k, n).unwrap();
    let want = reference(
        m,
        k,
        n,
        1.0,
        |i, p| a[i * k + p],
        |p, j| b[p * n + j],
        0.0,
        |_, _| 0.0,
    );
    assert_eq!(c, want);
    let e = strass::strassen_mul(&a[1..], &b, &mut c, m, k, n)
        .unwrap_err()
        .to_string();
    assert!(e.contains("A:"), "{e}");
}

#[test]
fn the_default_policy_runs_levels_only_where_blocks_are_large() {
    // No tuning file in the tests' environment (CI points STRASS_TUNE_FILE at a missing file);
    // Engine::new() is the built-in policy in any case.
    let e = strass::Engine::new().threads(1);
    let b32 = strass::kernel::policy::builtin_cutoff("f32", strass::Leaf::Fused);
    let b64 = strass::kernel::policy::builtin_cutoff("f64", strass::Leaf::Fused);
    assert_eq!(e.cutoff_for::<f32>(), b32);
    assert_eq!(e.levels_for::<f32>(2 * b32 - 1, 2 * b32, 2 * b32), 0);
    assert_eq!(e.levels_for::<f32>(2 * b32, 2 * b32, 2 * b32), 1);
    // f64 on one thread: a level above the last needs blocks of at least the upper cutoff.
    let up = strass::kernel::policy::builtin_upper_cutoff("f64", strass::Leaf::Fused, 1)
        .expect("an upper cutoff for f64");
    assert!(up > 2 * b64);
    assert_eq!(e.levels_for::<f64>(2 * b64, 2 * b64, 2 * b64), 1);
    assert_eq!(e.levels_for::<f64>(up, up, up), 1);
    assert_eq!(e.levels_for::<f64>(2 * up, 2 * up, 2 * up), 2);
    assert_eq!(e.levels_for::<f64>(4 * up, 4 * up, 4 * up), 3);
    // Not with an explicit cutoff, nor on two threads.
    assert_eq!(e.clone().cutoff(b64).levels_for::<f64>(up, up, up), 2);
    // A tuned (policy) cutoff for f64 decides alone too.
    let tuned = strass::Policy::builtin()
        .with_entry(strass::kernel::policy::PolicyEntry {
            dtype: "f64",
            leaf: strass::Leaf::Fused,
            threads: 1,
            cutoff: b64,
        })
        .unwrap();
    assert_eq!(e.clone().policy(tuned).levels_for::<f64>(up, up, up), 2);
    let e2 = strass::Engine::new().threads(2);
    assert_eq!(e2.levels_for::<f64>(up, up, up), 2);
    assert_eq!(e2.levels_for::<f64>(2 * up, 2 * up, 2 * up), 3);
    // Skinny products go to the packed GEMM whole.
    assert_eq!(e.levels_for::<f64>(8192, 100, 8192), 0);
    assert_eq!(e.levels_for::<f32>(64, 8192, 8192), 0);
}
