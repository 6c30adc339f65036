//! Statistics, studies and diagnostics of the training module.

use strass::train::diagnostics::{
    all_permutations, fragility, model_of_scheme, permutations, symmetric_eigenvalues,
};
use strass::train::stats::{median, one_way_anova, wilson, Z95};
use strass::train::study::{run_study, summarise, write_outputs, StudyConfig};
use strass::Scheme;

#[test]
fn anova_matches_a_hand_worked_example() {
    // Group means 5, 7, 9; grand mean 7. SS_between = 3 (4 + 0 + 4) = 24, SS_within = 2+2+2 = 6,
    // df = (2, 6), F = (24/2) / (6/6) = 12, eta^2 = 24/30 = 0.8. For F(2, d2) the upper tail is
    // (1 + 2F/d2)^(-d2/2) = 5^-3 = 0.008.
    let a = one_way_anova(&[
        vec![4.0, 5.0, 6.0],
        vec![6.0, 7.0, 8.0],
        vec![8.0, 9.0, 10.0],
    ])
    .unwrap();
    assert_eq!((a.df_between, a.df_within), (2, 6));
    assert!((a.ss_between - 24.0).abs() < 1e-12);
    assert!((a.ss_within - 6.0).abs() < 1e-12);
    assert!((a.f - 12.0).abs() < 1e-12);
    assert!((a.p - 0.008).abs() < 1e-9, "p = {}", a.p);
    assert!((a.eta_squared - 0.8).abs() < 1e-12);
}

#[test]
fn anova_matches_a_textbook_table() {
    // A common textbook example (three fertilisers, 6 plots each):
    // group means 5, 9, 10; SS_between = 84, SS_within = 68, F(2,15) = 42 / 4.5333 = 9.2647.
    let g = vec![
        vec![6.0, 8.0, 4.0, 5.0, 3.0, 4.0],
        vec![8.0, 12.0, 9.0, 11.0, 6.0, 8.0],
        vec![13.0, 9.0, 11.0, 8.0, 7.0, 12.0],
    ];
    let a = one_way_anova(&g).unwrap();
    assert!((a.ss_between - 84.0).abs() < 1e-9);
    assert!((a.ss_within - 68.0).abs() < 1e-9);
    assert!((a.f - 9.264_705_882_352_942).abs() < 1e-9, "F = {}", a.f);
    // Published p-value of this table: 0.0024 (two significant digits).
    assert!((a.p - 0.0024).abs() < 5e-5, "p = {}", a.p);
    // Degenerate inputs.
    assert!(one_way_anova(&[vec![1.0, 2.0]]).is_none());
    let flat = one_way_anova(&[vec![0.0, 0.0], vec![0.0, 0.0]]).unwrap();
    assert!(flat.f.is_nan() && flat.p.is_nan());
    let separated = one_way_anova(&[vec![0.0, 0.0], vec![1.0, 1.0]]).unwrap();
    assert!(separated.f.is_infinite() && separated.p == 0.0);
}

#[test]
fn wilson_interval_known_values() {
    // 68 of 100, by hand: z^2 = 3.8415, centre = (0.68 + 0.019207) / 1.038415 = 0.673340,
    // half width = 1.96 / 1.038415 * sqrt(0.68*0.32/100 + 3.8415/40000) = 0.089970,
    // so the Wilson 95% interval is [0.58337, 0.76331].
    let p = wilson(68, 100, Z95);
    assert!((p.lo - 0.58337).abs() < 2e-5, "{p:?}");
    assert!((p.hi - 0.76331).abs() < 2e-5, "{p:?}");
    // 0 of 15: the upper end is (z^2/n) / (1 + z^2/n) = 0.25610 / 1.25610 = 0.2039.
    let p = wilson(0, 15, Z95);
    assert_eq!(p.lo, 0.0);
    assert!((p.hi - 0.2039).abs() < 1e-4, "{p:?}");
    assert!(wilson(0, 0, Z95).rate.is_nan());
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
}

#[test]
fn jacobi_eigenvalues_of_a_known_matrix() {
    // [[2,1,0],[1,2,0],[0,0,5]] has eigenvalues 1, 3, 5.
    let ev = symmetric_eigenvalues(&[2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0], 3);
    for (got, want) in ev.iter().zip([1.0, 3.0, 5.0]) {
        assert!((got - want).abs() < 1e-12, "{ev:?}");
    }
}

#[test]
fn permutations_of_strassen() {
    let perms = all_permutations(4);
    assert_eq!(perms.len(), 24);
    let mut sorted = perms.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 24);
    assert_eq!(perms[0], vec![0, 1, 2, 3]);
    let [joint, w_only] = permutations(&Scheme::strassen(), 1).unwrap();
    assert_eq!(joint.permutations, 5040);
    // Reordering whole products never changes what a scheme computes.
    assert_eq!(joint.non_identity_exact, 5039);
    assert!(joint.rel_error_max < 1e-12);
    assert!(w_only.identity_exact);
    assert_eq!(w_only.non_identity_exact + w_only.non_identity_failed, 5039);
    assert!(w_only.rel_error_min > 0.1);
}

#[test]
fn fragility_of_an_exact_integer_scheme() {
    let m = model_of_scheme(&Scheme::strassen());
    let rows = fragility(&m, &[1e-3, 0.4], 20, 0);
    assert_eq!(rows[0].plain.successes, 20);
    // Noise of 0.4 pushes some of 84 coefficients past 0.5.
    assert!(rows[1].plain.successes < 20);
}

#[test]
fn a_tiny_study_writes_its_outputs() {
    let mut cfg = StudyConfig::protocol_b();
    cfg.batch_sizes = vec![16, 64];
    cfg.seeds = vec![0, 1];
    cfg.repeats = 2;
    cfg.base.epochs = 20;
    cfg.base.train_size = 128;
    cfg.base.test_size = 32;
    cfg.phase_epochs = vec![10, 20];
    cfg.threads = 2;
    let result = run_study(&cfg, false).unwrap();
    assert_eq!(result.records.len(), 8);
    // Grid order, whatever the threads did.
    assert_eq!(result.records[0].settings.batch_size, 16);
    assert_eq!(result.records[7].settings.batch_size, 64);
    assert_eq!(result.records[1].settings.repeat, 1);
    let summary = summarise(&result);
    assert_eq!(summary.per_batch.len(), 2);
    assert_eq!(summary.phase.len(), 4);
    assert!(summary.anova_delta.is_some());
    let dir = tempfile::tempdir().unwrap();
    write_outputs(dir.path(), &result, &summary, "test").unwrap();
    for f in [
        "runs.jsonl",
        "success.csv",
        "phase.csv",
        "phase.svg",
        "summary.json",
        "summary.md",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let runs = std::fs::read_to_string(dir.path().join("runs.jsonl")).unwrap();
    assert_eq!(runs.lines().count(), 8);
    let svg = std::fs::read_to_string(dir.path().join("phase.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("batch size"));
}

#[test]
fn gradient_noise_shrinks_with_the_batch_size() {
    use rand::SeedableRng;
    use strass::train::data::{Dataset, Distr};
    use strass::train::diagnostics::kappa;
    use strass::train::model::{Dims, Model};
    let dims = Dims::two_by_two(8);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let model = Model::random(dims, 0.5, false, &mut rng);
    let data = Dataset::random(dims, 256, Distr::Normal, &mut rng);
    let rows = kappa(&model, &data, &[4, 32], 300, 0);
    assert_eq!(rows.len(), 2);
    // Sampling without replacement: Var(mean of B) is about Var(one) / B.
    let ratio = rows[0].sigma2 / rows[1].sigma2;
    assert!(ratio > 4.0 && ratio < 16.0, "ratio {ratio}");
    // 96 parameters, at most 64 tensor directions: at least 32 directions carry no noise.
    assert!(rows[0].null_dims >= 32, "{:?}", rows[0]);
    assert!(rows[0].condition.is_infinite() || rows[0].condition > 1e12);
    assert!(rows[0].condition_nonnull.is_finite());
}
