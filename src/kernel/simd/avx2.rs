//! AVX2 + FMA kernels (8 x f32, 4 x f64 per vector).

/// f32.
pub(crate) mod f32 {
    use std::arch::x86_64::*;
    super::super::kernels::lincomb_kernels!(
        "avx2,fma",
        f32,
        __m256,
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_stream_ps,
        _mm256_set1_ps,
        _mm256_add_ps,
        _mm256_sub_ps,
        _mm256_mul_ps,
        _mm256_fmadd_ps
    );
}

/// f64.
pub(crate) mod f64 {
    use std::arch::x86_64::*;
    super::super::kernels::lincomb_kernels!(
        "avx2,fma",
        f64,
        __m256d,
        4,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_stream_pd,
        _mm256_set1_pd,
        _mm256_add_pd,
        _mm256_sub_pd,
        _mm256_mul_pd,
        _mm256_fmadd_pd
    );
}
