//! Times strass's default `strassen_mul`, its packed GEMM alone and OpenBLAS on the shapes
//! given, one thread, interleaved, and prints one JSON-like line per contender and shape:
//! `shape dtype contender median_seconds`.
//!
//! Usage: `strass-downstream f32|f64 REPS MxKxN...`

use std::time::Instant;
use strass::kernel::fused::{fused_gemm, DstView, FusedWorkspace, Output, SrcView};
use strass::kernel::Element;

fn fill<T: Element>(len: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run<T: Element>(reps: usize, (m, k, n): (usize, usize, usize), dtype: &str) {
    let a = fill::<T>(m * k, 1);
    let b = fill::<T>(k * n, 2);
    let mut c = vec![T::ZERO; m * n];
    let mut ws = FusedWorkspace::<T>::new();
    let names = ["openblas", "strassen_mul", "packed"];
    let mut times = vec![Vec::new(); names.len()];
    for rep in 0..=reps {
        for (i, name) in names.iter().enumerate() {
            let t = Instant::now();
            match *name {
                "openblas" => {
                    let op = |rows, cols| strass::blas::Operand {
                        rows,
                        cols,
                        rs: cols,
                        cs: 1,
                    };
                    strass::blas::gemm(
                        T::ONE,
                        &a,
                        op(m, k),
                        &b,
                        op(k, n),
                        T::ZERO,
                        &mut c,
                        op(m, n),
                    )
                    .expect("openblas");
                }
                "strassen_mul" => strass::strassen_mul(&a, &b, &mut c, m, k, n).expect("strass"),
                _ => {
                    let sa = [(T::ONE, SrcView::row_major(&a, m, k).unwrap())];
                    let sb = [(T::ONE, SrcView::row_major(&b, k, n).unwrap())];
                    let mut out = [Output::overwrite(
                        T::ONE,
                        DstView::row_major(&mut c, m, n).unwrap(),
                    )];
                    fused_gemm(&sa, &sb, &mut out, &mut ws).expect("packed");
                }
            }
            let dt = t.elapsed().as_secs_f64();
            if rep > 0 {
                times[i].push(dt);
            }
        }
    }
    for (name, t) in names.iter().zip(times) {
        println!("{m}x{k}x{n} {dtype} {name} {:.6}", median(t));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: strass-downstream f32|f64 REPS MxKxN...";
    let dtype = args.first().expect(usage).clone();
    let reps: usize = args.get(1).and_then(|r| r.parse().ok()).expect(usage);
    strass::blas::set_num_threads(1);
    for s in &args[2..] {
        let d: Vec<usize> = s.split('x').map(|x| x.parse().expect(usage)).collect();
        let shape = match d[..] {
            [n] => (n, n, n),
            [m, k, n] => (m, k, n),
            _ => panic!("{usage}"),
        };
        match dtype.as_str() {
            "f32" => run::<f32>(reps, shape, "f32"),
            "f64" => run::<f64>(reps, shape, "f64"),
            _ => panic!("{usage}"),
        }
    }
}
