/*
 * strass_blas.h: strass as a C BLAS library (libstrass_blas.so / libstrass_blas.a).
 *
 * Reference CBLAS cblas_sgemm / cblas_dgemm and Fortran-77 BLAS sgemm_ / dgemm_ (LP64: every
 * integer is an int), running on strass's engine. Invalid arguments print the reference
 * xerbla message to stderr and return with C untouched (no exit, unlike the reference
 * xerbla). See capi/src/lib.rs and the README ("From C") for the details.
 *
 * This header declares the CBLAS enumerations itself unless a cblas.h (which defines
 * CBLAS_H) was included first; the routines' declarations agree with the reference cblas.h.
 */
#ifndef STRASS_BLAS_H
#define STRASS_BLAS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CBLAS_H
typedef enum CBLAS_LAYOUT { CblasRowMajor = 101, CblasColMajor = 102 } CBLAS_LAYOUT;
typedef enum CBLAS_TRANSPOSE {
  CblasNoTrans = 111,
  CblasTrans = 112,
  CblasConjTrans = 113 /* the same as CblasTrans for real matrices */
} CBLAS_TRANSPOSE;
typedef CBLAS_LAYOUT CBLAS_ORDER;

/* C = alpha op(A) op(B) + beta C; op(A) is M x K, op(B) K x N, C M x N. */
void cblas_sgemm(CBLAS_LAYOUT layout, CBLAS_TRANSPOSE TransA, CBLAS_TRANSPOSE TransB,
                 const int M, const int N, const int K, const float alpha, const float *A,
                 const int lda, const float *B, const int ldb, const float beta, float *C,
                 const int ldc);
void cblas_dgemm(CBLAS_LAYOUT layout, CBLAS_TRANSPOSE TransA, CBLAS_TRANSPOSE TransB,
                 const int M, const int N, const int K, const double alpha, const double *A,
                 const int lda, const double *B, const int ldb, const double beta, double *C,
                 const int ldc);
#endif

/*
 * Fortran-77 SGEMM / DGEMM: column-major, every argument by reference. Fortran callers pass
 * trailing hidden string lengths for TRANSA and TRANSB; they are accepted and ignored.
 */
void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);

/* Calls that entered one of the four routines above since the library was loaded. */
uint64_t strass_blas_calls(void);

#ifdef __cplusplus
}
#endif

#endif /* STRASS_BLAS_H */
