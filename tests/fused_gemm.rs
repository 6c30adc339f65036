//! The fused (Strassen-reloaded) packed GEMM against a naive f64 product: odd shapes and edge
//! tiles, several terms with integer coefficients, strided and transposed operands, f32 and f64,
//! every instruction set this CPU supports plus the portable one, NaN not leaking from old C,
//! results independent of the thread count, and the errors.
//!
//! Data are small integers, so every sum and product is exact in f32 and f64 and the tests
//! demand exact equality: any wrong index, missed term or lost tile shows.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strass::kernel::fused::{
    fused_gemm, Blocking, DstView, FusedConfig, FusedWorkspace, Isa, Output, SrcView,
};
use strass::kernel::{Element, KernelError};

/// A dense matrix stored with arbitrary strides inside a buffer (with padding and an offset).
#[derive(Clone)]
struct Strided<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    ColMajor,
    /// Row-major with a padded row stride.
    Padded,
    /// Column stride 2 (non-unit in both dimensions).
    Sparse,
}

const LAYOUTS: [Layout; 4] = [
    Layout::RowMajor,
    Layout::ColMajor,
    Layout::Padded,
    Layout::Sparse,
];

impl<T: Element> Strided<T> {
    fn new(rows: usize, cols: usize, layout: Layout, rng: &mut ChaCha8Rng) -> Self {
        let (rs, cs) = match layout {
            Layout::RowMajor => (cols, 1),
            Layout::ColMajor => (1, rows),
            Layout::Padded => (cols + 3, 1),
            Layout::Sparse => (2 * cols + 1, 2),
        };
        let len = if rows == 0 || cols == 0 {
            1
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        };
        // Fill padding with a marker so a read outside the view would show up as a wrong value.
        let data = (0..len)
            .map(|_| T::from_i64(rng.gen_range(-4..=4)))
            .collect();
        Strided {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.rs + j * self.cs].to_f64()
    }

    fn src(&self) -> SrcView<'_, T> {
        SrcView::new(&self.data, self.rows, self.cols, self.rs, self.cs).unwrap()
    }

    fn dst(&mut self) -> DstView<'_, T> {
        DstView::new(&mut self.data, self.rows, self.cols, self.rs, self.cs).unwrap()
    }

    /// Every element outside the view, to check that nothing outside was written.
    fn outside(&self) -> Vec<(usize, T)> {
        let mut inside = vec![false; self.data.len()];
        for i in 0..self.rows {
            for j in 0..self.cols {
                inside[i * self.rs + j * self.cs] = true;
            }
        }
        inside
            .iter()
            .enumerate()
            .filter(|(_, &x)| !x)
            .map(|(p, _)| (p, self.data[p]))
            .collect()
    }
}

/// The naive product in f64: `gamma (sum alpha_j A_j)(sum beta_l B_l) + beta C_old`.
fn reference<T: Element>(
    a: &[(i64, Strided<T>)],
    b: &[(i64, Strided<T>)],
    gamma: f64,
    beta: f64,
    c_old: &Strided<T>,
) -> Vec<f64> {
    let (m, k, n) = (a[0].1.rows, a[0].1.cols, b[0].1.cols);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                let x: f64 = a.iter().map(|(c, t)| *c as f64 * t.get(i, p)).sum();
                let y: f64 = b.iter().map(|(c, t)| *c as f64 * t.get(p, j)).sum();
                s += x * y;
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                beta * c_old.get(i, j)
            };
            out[i * n + j] = gamma * s + old;
        }
    }
    out
}

struct Case {
    m: usize,
    k: usize,
    n: usize,
    a_coefs: Vec<i64>,
    b_coefs: Vec<i64>,
    /// (gamma, beta, layout of C, NaN-filled) per destination.
    outs: Vec<(i64, f64, Layout, bool)>,
    a_layout: Layout,
    b_layout: Layout,
}

/// Runs one case with a given workspace and checks exact equality with the reference, and that
/// nothing outside any destination view changed.
fn check<T: Element>(case: &Case, ws: &mut FusedWorkspace<T>, rng: &mut ChaCha8Rng) {
    let a: Vec<(i64, Strided<T>)> = case
        .a_coefs
        .iter()
        .map(|&c| (c, Strided::new(case.m, case.k, case.a_layout, rng)))
        .collect();
    let b: Vec<(i64, Strided<T>)> = case
        .b_coefs
        .iter()
        .map(|&c| (c, Strided::new(case.k, case.n, case.b_layout, rng)))
        .collect();
    let mut cs: Vec<Strided<T>> = case
        .outs
        .iter()
        .map(|&(_, _, layout, nan)| {
            let mut c = Strided::new(case.m, case.n, layout, rng);
            if nan {
                for x in c.data.iter_mut() {
                    *x = T::from_f64(f64::NAN);
                }
            }
            c
        })
        .collect();
    let expect: Vec<Vec<f64>> = case
        .outs
        .iter()
        .zip(&cs)
        .map(|(&(g, beta, _, _), c)| reference(&a, &b, g as f64, beta, c))
        .collect();
    let outside: Vec<_> = cs.iter().map(|c| c.outside()).collect();
    {
        let at: Vec<_> = a.iter().map(|(c, m)| (T::from_i64(*c), m.src())).collect();
        let bt: Vec<_> = b.iter().map(|(c, m)| (T::from_i64(*c), m.src())).collect();
        let mut outs: Vec<Output<'_, T>> = case
            .outs
            .iter()
            .zip(cs.iter_mut())
            .map(|(&(g, beta, _, _), c)| Output {
                gamma: T::from_i64(g),
                beta: T::from_f64(beta),
                c: c.dst(),
            })
            .collect();
        fused_gemm(&at, &bt, &mut outs, ws).unwrap();
    }
    for (o, ((c, want), out)) in cs.iter().zip(&expect).zip(&outside).enumerate() {
        for i in 0..case.m {
            for j in 0..case.n {
                let got = c.get(i, j);
                assert_eq!(
                    got,
                    want[i * case.n + j],
                    "{} {:?} {}x{}x{} output {o} at ({i},{j}), a {:?} b {:?}",
                    T::DTYPE,
                    ws.isa(),
                    case.m,
                    case.k,
                    case.n,
                    case.a_coefs,
                    case.b_coefs
                );
            }
        }
        for &(p, v) in out {
            assert!(
                c.data[p] == v || (c.data[p].to_f64().is_nan() && v.to_f64().is_nan()),
                "element outside output {o} changed at {p}"
            );
        }
    }
}

/// One workspace per instruction set (forced, so every path this CPU supports runs, plus the
/// portable one). With `small_blocks`, blocks of a few micro-tiles and a depth of 5, so that
/// small shapes cross many block edges, each twice: with the partial-product temporary allowed
/// and with it disabled (so all three accumulation modes run).
fn workspaces<T: Element>(small_blocks: bool) -> Vec<FusedWorkspace<T>> {
    let mut out = Vec::new();
    for isa in Isa::available() {
        let cfg = FusedConfig {
            isa: Some(isa),
            ..FusedConfig::default()
        };
        let ws = FusedWorkspace::<T>::with_config(cfg).unwrap();
        assert_eq!(ws.isa(), isa);
        if !small_blocks {
            out.push(ws);
            continue;
        }
        let (mr, nr) = ws.micro_tile();
        for max_temp_bytes in [usize::MAX, 0] {
            let blocking = Some(Blocking {
                mc: 2 * mr,
                kc: 5,
                nc: nr + 1,
            });
            out.push(
                FusedWorkspace::with_config(FusedConfig {
                    blocking,
                    max_temp_bytes,
                    ..cfg
                })
                .unwrap(),
            );
        }
    }
    out
}

/// Sizes around every micro-tile edge (1..70).
const DIMS: [usize; 16] = [1, 2, 3, 5, 6, 7, 8, 9, 15, 16, 17, 24, 33, 47, 49, 70];

fn odd_shapes<T: Element>(small_blocks: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut wss = workspaces::<T>(small_blocks);
    for ws in wss.iter_mut() {
        for _ in 0..60 {
            let pick = |r: &mut ChaCha8Rng| DIMS[r.gen_range(0..DIMS.len())];
            let case = Case {
                m: pick(&mut rng),
                k: pick(&mut rng),
                n: pick(&mut rng),
                a_coefs: vec![1],
                b_coefs: vec![1],
                outs: vec![(1, 0.0, Layout::RowMajor, true)],
                a_layout: Layout::RowMajor,
                b_layout: Layout::RowMajor,
            };
            check(&case, ws, &mut rng);
        }
    }
}

#[test]
fn odd_shapes_f64() {
    odd_shapes::<f64>(false);
    odd_shapes::<f64>(true);
}

#[test]
fn odd_shapes_f32() {
    odd_shapes::<f32>(false);
    odd_shapes::<f32>(true);
}

/// Strassen-like and wider combinations: 1-3 terms with coefficients 1, -1, 2, -3, up to three
/// destinations with overwrite, accumulate and a general beta, every layout of every operand.
fn terms_and_layouts<T: Element>() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let coefs = [1i64, -1, 2, -3];
    for (w, ws) in workspaces::<T>(true).iter_mut().enumerate() {
        for it in 0..48 {
            let pick = |r: &mut ChaCha8Rng| DIMS[r.gen_range(0..DIMS.len())];
            let nterms = |r: &mut ChaCha8Rng| r.gen_range(1..=3usize);
            let na = nterms(&mut rng);
            let nb = nterms(&mut rng);
            let nout = nterms(&mut rng);
            let lay = |i: usize| LAYOUTS[(i + w) % LAYOUTS.len()];
            let case = Case {
                m: pick(&mut rng),
                k: pick(&mut rng),
                n: pick(&mut rng),
                a_coefs: (0..na).map(|_| coefs[rng.gen_range(0..4)]).collect(),
                b_coefs: (0..nb).map(|_| coefs[rng.gen_range(0..4)]).collect(),
                outs: (0..nout)
                    .map(|o| {
                        let beta = [0.0, 1.0, 0.5, -2.0][(it + o) % 4];
                        let layout = if it % 3 == 0 {
                            lay(it / 3)
                        } else {
                            lay(it + o)
                        };
                        (coefs[rng.gen_range(0..4)], beta, layout, beta == 0.0)
                    })
                    .collect(),
                a_layout: lay(it),
                b_layout: lay(it / 4),
            };
            check(&case, ws, &mut rng);
        }
    }
}

#[test]
fn terms_and_layouts_f64() {
    terms_and_layouts::<f64>();
}

#[test]
fn terms_and_layouts_f32() {
    terms_and_layouts::<f32>();
}

/// Sizes past the default blocks (several kc and nc blocks with the real blocking; several mc
/// blocks are covered by the small-blocking workspaces).
#[test]
fn default_blocking_multiple_blocks() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for ws in workspaces::<f64>(false).iter_mut() {
        let bl = ws.blocking();
        let case = Case {
            m: 29,
            k: 2 * bl.kc + 3,
            n: bl.nc + 13,
            a_coefs: vec![1, -1],
            b_coefs: vec![2, 1],
            outs: vec![
                (1, 0.0, Layout::RowMajor, true),
                (-1, 1.0, Layout::Padded, false),
            ],
            a_layout: Layout::RowMajor,
            b_layout: Layout::RowMajor,
        };
        check(&case, ws, &mut rng);
    }
}

/// Real-valued data: the result is within a classical GEMM error bound of the f64 product.
#[test]
fn real_data_within_gemm_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (m, k, n) = (37, 301, 45);
    let gen = |r: &mut ChaCha8Rng, len: usize| -> Vec<f32> {
        (0..len).map(|_| r.gen_range(-1.0..1.0)).collect()
    };
    let (a1, a2, b1) = (
        gen(&mut rng, m * k),
        gen(&mut rng, m * k),
        gen(&mut rng, k * n),
    );
    for ws in workspaces::<f32>(false).iter_mut() {
        let mut c = vec![0.0f32; m * n];
        let a = [
            (1.0, SrcView::row_major(&a1, m, k).unwrap()),
            (-1.0, SrcView::row_major(&a2, m, k).unwrap()),
        ];
        let b = [(1.0, SrcView::row_major(&b1, k, n).unwrap())];
        let mut out = [Output::overwrite(
            1.0,
            DstView::row_major(&mut c, m, n).unwrap(),
        )];
        fused_gemm(&a, &b, &mut out, ws).unwrap();
        for i in 0..m {
            for j in 0..n {
                let (mut s, mut abs) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let x = a1[i * k + p] as f64 - a2[i * k + p] as f64;
                    s += x * b1[p * n + j] as f64;
                    abs += x.abs() * (b1[p * n + j] as f64).abs();
                }
                // |fl(S) - S| <= u |S| for the one-addition sum, then gamma_k for the dot product.
                let u = f32::EPSILON as f64 / 2.0;
                let bound = ((k + 2) as f64 * u) * abs * 1.01;
                assert!(
                    (c[i * n + j] as f64 - s).abs() <= bound,
                    "{:?} ({i},{j})",
                    ws.isa()
                );
            }
        }
    }
}

/// With p threads the result is bit-for-bit the one thread's (real data, so rounding shows),
/// in every accumulation mode (one output; an overwritten output holding the partial product;
/// all outputs accumulating, with and without the temporary).
#[test]
fn thread_count_does_not_change_bits() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (m, k, n) = (203, 150, 131);
    let a: Vec<f64> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let b: Vec<f64> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let c0: Vec<f64> = (0..m * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let modes: [(&[f64], usize); 4] = [
        (&[0.0], 0),
        (&[1.0, 0.0], 0),
        (&[1.0, -0.5], usize::MAX),
        (&[1.0, -0.5], 0),
    ];
    for isa in Isa::available() {
        for (betas, max_temp_bytes) in modes {
            let run = |threads: usize| {
                let mut ws = FusedWorkspace::<f64>::with_config(FusedConfig {
                    isa: Some(isa),
                    threads,
                    blocking: Some(Blocking {
                        mc: 48,
                        kc: 64,
                        nc: 96,
                    }),
                    max_temp_bytes,
                })
                .unwrap();
                let mut cs = vec![c0.clone(); betas.len()];
                let at = [(1.0, SrcView::row_major(&a, m, k).unwrap())];
                let bt = [
                    (0.5, SrcView::row_major(&b, k, n).unwrap()),
                    (3.0, SrcView::new(&b, k, n, n, 1).unwrap()),
                ];
                let mut out: Vec<Output<'_, f64>> = cs
                    .iter_mut()
                    .zip(betas)
                    .map(|(c, &beta)| Output {
                        gamma: 0.3,
                        beta,
                        c: DstView::row_major(c, m, n).unwrap(),
                    })
                    .collect();
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| fused_gemm(&at, &bt, &mut out, &mut ws))
                    .unwrap();
                drop(out);
                cs
            };
            let one = run(1);
            for p in [2, 3] {
                assert!(
                    one == run(p),
                    "{isa:?} {betas:?}: {p} threads differ from 1"
                );
            }
        }
    }
}

/// Overwriting outputs never read old contents: NaN and Inf in C do not leak; k = 0 overwrites
/// with zeros and scales accumulating outputs.
#[test]
fn overwrite_ignores_old_nan_and_k_zero() {
    let a = vec![1.0f64; 6];
    let b = vec![2.0f64; 6];
    for ws in workspaces::<f64>(false).iter_mut() {
        let mut c1 = vec![f64::NAN; 4];
        let mut c2 = vec![f64::INFINITY; 4];
        let mut out = [
            Output::overwrite(1.0, DstView::row_major(&mut c1, 2, 2).unwrap()),
            Output::overwrite(-1.0, DstView::row_major(&mut c2, 2, 2).unwrap()),
        ];
        let at = [(1.0, SrcView::row_major(&a, 2, 3).unwrap())];
        let bt = [(1.0, SrcView::row_major(&b, 3, 2).unwrap())];
        fused_gemm(&at, &bt, &mut out, ws).unwrap();
        assert_eq!(c1, vec![6.0; 4]);
        assert_eq!(c2, vec![-6.0; 4]);

        let mut c3 = vec![f64::NAN; 4];
        let mut c4 = vec![3.0; 4];
        let mut out = [
            Output::overwrite(1.0, DstView::row_major(&mut c3, 2, 2).unwrap()),
            Output {
                gamma: 1.0,
                beta: 2.0,
                c: DstView::row_major(&mut c4, 2, 2).unwrap(),
            },
        ];
        let at = [(1.0, SrcView::new(&a, 2, 0, 0, 1).unwrap())];
        let bt = [(1.0, SrcView::new(&b, 0, 2, 2, 1).unwrap())];
        fused_gemm(&at, &bt, &mut out, ws).unwrap();
        assert_eq!(c3, vec![0.0; 4]);
        assert_eq!(c4, vec![6.0; 4]);
    }
}

#[test]
fn errors_not_panics() {
    let a = vec![1.0f64; 12];
    let mut c = vec![0.0f64; 12];
    let mut ws = FusedWorkspace::<f64>::new();
    let shape =
        |r: Result<(), KernelError>| assert!(matches!(r, Err(KernelError::Shape(_))), "{r:?}");
    // Views that do not fit, or that write an element twice.
    assert!(SrcView::new(&a, 4, 4, 4, 1).is_err());
    assert!(SrcView::row_major(&a, 5, 2).is_err());
    assert!(SrcView::new(&a, usize::MAX, 2, usize::MAX, 1).is_err());
    assert!(DstView::new(&mut c, 3, 3, 0, 1).is_err());
    assert!(DstView::new(&mut c, 3, 3, 1, 1).is_err());
    // No terms; disagreeing shapes.
    let v = SrcView::row_major(&a, 3, 4).unwrap();
    let w = SrcView::row_major(&a, 4, 3).unwrap();
    let mut out = [Output::overwrite(
        1.0,
        DstView::row_major(&mut c, 3, 4).unwrap(),
    )];
    shape(fused_gemm(&[], &[(1.0, w)], &mut out, &mut ws));
    shape(fused_gemm(&[(1.0, v)], &[], &mut out, &mut ws));
    shape(fused_gemm(
        &[(1.0, v), (1.0, w)],
        &[(1.0, w)],
        &mut out,
        &mut ws,
    ));
    shape(fused_gemm(
        &[(1.0, v)],
        &[(1.0, w), (1.0, v)],
        &mut out,
        &mut ws,
    ));
    shape(fused_gemm(&[(1.0, v)], &[(1.0, w)], &mut out, &mut ws)); // C must be 3x3
                                                                    // Bad options.
    let bad = |cfg: FusedConfig| FusedWorkspace::<f32>::with_config(cfg).is_err();
    assert!(bad(FusedConfig {
        threads: 0,
        ..FusedConfig::default()
    }));
    assert!(bad(FusedConfig {
        blocking: Some(Blocking {
            mc: 0,
            kc: 8,
            nc: 8
        }),
        ..FusedConfig::default()
    }));
    for isa in [Isa::Avx512, Isa::Avx2] {
        let cfg = FusedConfig {
            isa: Some(isa),
            ..FusedConfig::default()
        };
        assert_eq!(
            FusedWorkspace::<f64>::with_config(cfg).is_ok(),
            isa.supported()
        );
    }
}
