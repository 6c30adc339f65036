use strass::Scheme;

#[test]
fn shipped_literature_schemes_verify_and_a_wrong_one_does_not() {
    for name in ["classical", "strassen", "winograd"] {
        let s = Scheme::load(format!("kernels/{name}.json")).unwrap();
        assert!(s.verify().is_valid(), "{name}: {:?}", s.verify());
    }
    let mut s = Scheme::load("kernels/strassen.json").unwrap();
    s.w[0][0] = 0;
    assert!(!s.verify().is_valid());
}
