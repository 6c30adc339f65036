//! AVX-512F kernels (16 x f32, 8 x f64 per vector).

/// f32.
pub(crate) mod f32 {
    use std::arch::x86_64::*;
    super::super::kernels::lincomb_kernels!(
        "avx512f",
        f32,
        __m512,
        16,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_stream_ps,
        _mm512_set1_ps,
        _mm512_add_ps,
        _mm512_sub_ps,
        _mm512_mul_ps,
        _mm512_fmadd_ps
    );
}

/// f64.
pub(crate) mod f64 {
    use std::arch::x86_64::*;
    super::super::kernels::lincomb_kernels!(
        "avx512f",
        f64,
        __m512d,
        8,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_stream_pd,
        _mm512_set1_pd,
        _mm512_add_pd,
        _mm512_sub_pd,
        _mm512_mul_pd,
        _mm512_fmadd_pd
    );
}
