//! `STRASS_NUM_THREADS`: read by `Engine::new`, a bad value is reported by `gemm` (one test per
//! process, because it sets the environment).

use strass::kernel::KernelError;
use strass::{Engine, Error, MatMut, MatRef};

#[test]
fn strass_num_threads_is_read_and_a_bad_value_is_an_error() {
    let a = vec![1.0f32; 4];
    let mut c = vec![0.0f32; 4];
    std::env::set_var("STRASS_NUM_THREADS", "3");
    assert_eq!(Engine::new().thread_count().unwrap(), 3);
    for bad in ["0", "-1", "two"] {
        std::env::set_var("STRASS_NUM_THREADS", bad);
        let e = Engine::new()
            .gemm(
                1.0,
                MatRef::row_major(&a, 2, 2).unwrap(),
                MatRef::row_major(&a, 2, 2).unwrap(),
                0.0,
                MatMut::row_major(&mut c, 2, 2).unwrap(),
            )
            .unwrap_err();
        assert!(
            matches!(e, Error::Kernel(KernelError::Option(_))),
            "{bad}: {e}"
        );
        // An explicit thread count overrides the variable.
        assert!(Engine::new().threads(1).thread_count().is_ok());
    }
    std::env::remove_var("STRASS_NUM_THREADS");
    assert!(Engine::new().thread_count().unwrap() >= 1);
}
