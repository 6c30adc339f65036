//! Training core: optimiser, gradients, reproducibility, grokking detector, failure honesty.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use strass::train::adamw::{AdamW, AdamWConfig};
use strass::train::data::{Dataset, Distr};
use strass::train::discretise::Rounding;
use strass::train::metrics::{detect_grokking, GrokkingRule};
use strass::train::model::{matmul_tensor, Dims, Model, Workspace};
use strass::train::{self, Fallback, Objective, TrainSettings};

#[test]
fn adamw_two_steps_match_hand_computation() {
    let cfg = AdamWConfig {
        lr: 0.1,
        weight_decay: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let mut opt = AdamW::new(cfg, 2);
    let mut theta = [1.0, -2.0];
    opt.step(&mut theta, &[0.5, -0.1]);
    // Step 1: m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps); decay 1 - lr*wd.
    let want0 = 1.0 * (1.0 - 0.001) - 0.1 * 0.5 / (0.5 + 1e-8);
    let want1 = -2.0 * (1.0 - 0.001) - 0.1 * -0.1 / (0.1 + 1e-8);
    assert!((theta[0] - want0).abs() < 1e-15, "{} vs {want0}", theta[0]);
    assert!((theta[1] - want1).abs() < 1e-15, "{} vs {want1}", theta[1]);
    assert!((theta[0] - 0.899000002).abs() < 1e-12);
    // Step 2, written out: m = 0.9 m1 + 0.1 g2, v = 0.999 v1 + 0.001 g2^2, bias corrections
    // 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999.
    opt.step(&mut theta, &[-0.3, 0.2]);
    let step2 = |th: f64, g1: f64, g2: f64| {
        let m = 0.9 * (0.1 * g1) + 0.1 * g2;
        let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
        th * (1.0 - 0.001) - 0.1 * (m / 0.19) / ((v / 0.001999).sqrt() + 1e-8)
    };
    let (w0, w1) = (step2(want0, 0.5, -0.3), step2(want1, -0.1, 0.2));
    assert!((theta[0] - w0).abs() < 1e-14, "{} vs {w0}", theta[0]);
    assert!((theta[1] - w1).abs() < 1e-14, "{} vs {w1}", theta[1]);
    // Independent value (a straight transcription of the PyTorch update, computed separately).
    assert!((theta[0] - 0.878_951_198_939_775_1).abs() < 1e-12);
    assert!((theta[1] + 1.932_712_360_378_488_8).abs() < 1e-12);
    assert_eq!(opt.steps(), 2);
}

fn finite_difference_check(model: &Model, loss: impl Fn(&Model) -> f64, grad: &[f64]) {
    let h = 1e-6;
    for (i, &g) in grad.iter().enumerate() {
        let mut plus = model.clone();
        plus.theta[i] += h;
        let mut minus = model.clone();
        minus.theta[i] -= h;
        let fd = (loss(&plus) - loss(&minus)) / (2.0 * h);
        let tol = 1e-6 * (1.0 + fd.abs());
        assert!(
            (fd - g).abs() < tol,
            "parameter {i}: analytic {g} vs finite difference {fd}"
        );
    }
}

#[test]
fn gradients_match_finite_differences_on_a_non_square_shape() {
    // <2,3,2> with 4 slots: every index convention of U, V, W is exercised.
    let dims = Dims {
        m: 2,
        k: 3,
        n: 2,
        rank: 4,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let model = Model::random(dims, 0.7, false, &mut rng);
    // 13 pairs: not a multiple of the 4-way unrolled reductions.
    let batch = Dataset::random(dims, 13, Distr::Normal, &mut rng).as_batch();
    let mut ws = Workspace::default();
    let mut grad = vec![0.0; model.theta.len()];
    let l = model.batch_loss_grad(
        &batch.a,
        &batch.b,
        &batch.c,
        batch.len,
        Some(&mut grad),
        &mut ws,
    );
    assert!(l > 0.0);
    let data_loss = |m: &Model| {
        let mut ws = Workspace::default();
        m.batch_loss_grad(&batch.a, &batch.b, &batch.c, batch.len, None, &mut ws)
    };
    finite_difference_check(&model, data_loss, &grad);

    let target = matmul_tensor(&dims);
    let mut tgrad = vec![0.0; model.theta.len()];
    model.tensor_loss_grad(&target, Some(&mut tgrad));
    finite_difference_check(&model, |m| m.tensor_loss_grad(&target, None), &tgrad);
}

#[test]
fn batch_loss_is_the_mse_of_predict() {
    let dims = Dims::two_by_two(3);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let model = Model::random(dims, 1.0, false, &mut rng);
    let data = Dataset::random(dims, 5, Distr::Uniform, &mut rng);
    let batch = data.as_batch();
    let mut ws = Workspace::default();
    let l = model.batch_loss_grad(&batch.a, &batch.b, &batch.c, batch.len, None, &mut ws);
    let mut sse = 0.0;
    for s in 0..5 {
        let r = &data.data[s * 12..(s + 1) * 12];
        let mut c = [0.0; 4];
        model.predict(&r[0..4], &r[4..8], &mut c);
        sse += (0..4).map(|i| (c[i] - r[8 + i]).powi(2)).sum::<f64>();
    }
    assert!((l - sse / 20.0).abs() < 1e-12 * (1.0 + l));
}

#[test]
fn tensor_loss_of_strassen_is_zero_and_of_a_broken_copy_is_not() {
    let s = train::canonical_strassen();
    let dims = Dims::two_by_two(7);
    let mut theta = Vec::new();
    theta.extend(s.u().iter().flatten().map(|&x| x as f64));
    theta.extend(s.v().iter().flatten().map(|&x| x as f64));
    theta.extend(s.w().iter().flatten().map(|&x| x as f64));
    let mut model = Model { dims, theta };
    let target = matmul_tensor(&dims);
    assert_eq!(model.tensor_loss(&target), 0.0);
    model.theta[0] = 0.0;
    assert!(model.tensor_loss(&target) >= 1.0);
}

fn tiny_paper() -> TrainSettings {
    let mut s = TrainSettings::paper();
    s.train_size = 64;
    s.test_size = 16;
    s.batch_size = 24; // 64 = 2*24 + 16: exercises the partial last batch
    s.epochs = 6;
    s.finetune_epochs = 2;
    s
}

#[test]
fn runs_are_bit_identical_from_a_seed() {
    for base in [tiny_paper(), {
        let mut s = TrainSettings::anneal();
        s.epochs = 200;
        s.restarts = 2;
        s
    }] {
        let mut a = base.clone();
        a.seed = 11;
        let x = train::run(&a).unwrap();
        let y = train::run(&a).unwrap();
        let bits = |m: &Model| m.theta.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x.trained.pruned), bits(&y.trained.pruned));
        assert_eq!(bits(&x.trained.full), bits(&y.trained.full));
        let curve_bits = |c: &[f64]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            curve_bits(&x.trained.train_curve),
            curve_bits(&y.trained.train_curve)
        );
        assert_eq!(
            curve_bits(&x.trained.test_curve),
            curve_bits(&y.trained.test_curve)
        );
        // Another seed, and another repeat of the same seed, give other runs.
        let mut b = a.clone();
        b.seed = 12;
        let z = train::run(&b).unwrap();
        assert_ne!(bits(&x.trained.full), bits(&z.trained.full));
        let mut c = a.clone();
        c.repeat = 1;
        let r = train::run(&c).unwrap();
        assert_ne!(bits(&x.trained.full), bits(&r.trained.full));
    }
}

#[test]
fn grokking_detector_on_synthetic_curves() {
    let rule = GrokkingRule::default();
    let n = 600;
    // Memorise at epoch 50, plateau of test loss 0.5 until epoch 300, then drop to 1e-4.
    let train: Vec<f64> = (0..n).map(|e| if e < 50 { 1.0 } else { 1e-8 }).collect();
    let test: Vec<f64> = (0..n)
        .map(|e| {
            if e < 300 {
                0.5
            } else if e < 310 {
                0.05
            } else {
                1e-4
            }
        })
        .collect();
    let ev = detect_grokking(&train, &test, &rule).expect("a grokking event");
    assert_eq!(ev.plateau_start, 50);
    assert_eq!(ev.plateau_len, 250);
    assert_eq!(ev.epoch, 310);

    // Plateau too short (99 epochs): none.
    let test_short: Vec<f64> = (0..n).map(|e| if e < 149 { 0.5 } else { 1e-4 }).collect();
    assert_eq!(detect_grokking(&train, &test_short, &rule), None);
    // Exactly 100 epochs: an event.
    let test_100: Vec<f64> = (0..n).map(|e| if e < 150 { 0.5 } else { 1e-4 }).collect();
    assert_eq!(
        detect_grokking(&train, &test_100, &rule).unwrap().epoch,
        150
    );
    // Long plateau but no drop: none.
    let flat = vec![0.5; n];
    assert_eq!(detect_grokking(&train, &flat, &rule), None);
    // Train and test fall together (ordinary learning): none.
    let together: Vec<f64> = (0..n).map(|e| 10f64.powf(-(e as f64) / 50.0)).collect();
    assert_eq!(detect_grokking(&together, &together, &rule), None);
    // A short first plateau does not hide a later qualifying one.
    let test2: Vec<f64> = (0..n)
        .map(|e| match e {
            0..=99 => 0.5,
            100..=119 => 0.09,
            120..=349 => 0.5,
            _ => 1e-3,
        })
        .collect();
    let ev2 = detect_grokking(&train, &test2, &rule).unwrap();
    assert_eq!((ev2.plateau_start, ev2.epoch), (120, 350));
}

#[test]
fn forced_failure_counts_as_failure_even_with_fallback() {
    // Rank 6 cannot compute the 2x2 product (its rank is 7): every run must fail.
    let mut s = TrainSettings::anneal();
    s.dims.rank = 6;
    s.target_rank = 6;
    s.epochs = 300;
    s.restarts = 2;
    s.fallback = Fallback::Canonical;
    let mut out = train::run(&s).unwrap();
    assert!(!out.record.exact);
    let scheme = train::output_scheme(&mut out, "learned").expect("fallback scheme");
    assert!(!out.record.success);
    assert!(out.record.fallback_used);
    assert_eq!(scheme.provenance()["source"], "fallback");
    assert!(scheme.verify().is_valid());
    // Without fallback nothing is written.
    s.fallback = Fallback::None;
    let mut out = train::run(&s).unwrap();
    assert!(train::output_scheme(&mut out, "learned").is_none());
    assert!(!out.record.success && !out.record.fallback_used);
}

#[test]
fn the_default_protocol_learns_an_exact_rank_7_scheme() {
    let mut s = TrainSettings::anneal();
    s.seed = 5;
    let mut out = train::run(&s).unwrap();
    assert_eq!(s.objective, Objective::Tensor);
    assert_eq!(s.rounding, Rounding::Balanced);
    assert!(out.record.success, "{:?}", out.record);
    let scheme = train::output_scheme(&mut out, "learned").unwrap();
    assert_eq!(scheme.rank(), 7);
    assert!(scheme.verify().is_valid());
    assert_eq!(scheme.provenance()["source"], "training");
    assert_eq!(scheme.provenance()["seed"], 5);
}

#[test]
fn bad_settings_are_errors() {
    let mut s = TrainSettings::paper();
    s.target_rank = 9;
    assert!(train::run(&s).is_err());
    let mut s = TrainSettings::paper();
    s.batch_size = 0;
    assert!(train::run(&s).is_err());
    let mut s = TrainSettings::paper();
    s.adamw.lr = f64::NAN;
    assert!(train::run(&s).is_err());
    assert!(TrainSettings::named("nope").is_err());
}
