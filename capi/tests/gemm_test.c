/*
 * Tests libstrass_blas's cblas_sgemm / cblas_dgemm / sgemm_ / dgemm_ against OpenBLAS.
 *
 * The routines under test are whatever the program's cblas_dgemm etc. resolve to: built with
 * -lstrass_blas they are strass's; built with -lblas (the system BLAS) and run with
 * LD_PRELOAD=libstrass_blas.so they must be strass's too. The program checks that first
 * through the strass_blas_calls counter (looked up with dlsym, so that the -lblas build links
 * without strass) and exits with status 3 if the calls do not reach strass.
 *
 * The reference is OpenBLAS loaded with dlopen("libopenblas.so.0") and dlsym on that handle,
 * which finds OpenBLAS's own definitions of the same names.
 *
 * Exit status: 0 all passed, 1 some check failed, 2 set-up failed, 3 calls do not reach strass.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strass_blas.h"

typedef uint64_t (*calls_fn)(void);
typedef void (*cblas_s_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                           int, float, float *, int);
typedef void (*cblas_d_fn)(int, int, int, int, int, int, double, const double *, int,
                           const double *, int, double, double *, int);
/* The Fortran routines as gfortran calls them: two trailing hidden string lengths. */
typedef void (*f77_s_fn)(const char *, const char *, const int *, const int *, const int *,
                         const float *, const float *, const int *, const float *, const int *,
                         const float *, float *, const int *, size_t, size_t);
typedef void (*f77_d_fn)(const char *, const char *, const int *, const int *, const int *,
                         const double *, const double *, const int *, const double *,
                         const int *, const double *, double *, const int *, size_t, size_t);

static calls_fn strass_calls;
static cblas_s_fn ref_cblas_sgemm;
static cblas_d_fn ref_cblas_dgemm;
static f77_s_fn ref_sgemm;
static f77_d_fn ref_dgemm;
static int failures;
static long checks;
static uint64_t compared; /* calls made to the routines under test by compare_* */

#define FAIL(...)                                                                            \
  do {                                                                                       \
    if (failures < 20) {                                                                     \
      fprintf(stderr, "FAIL: ");                                                             \
      fprintf(stderr, __VA_ARGS__);                                                          \
      fprintf(stderr, "\n");                                                                 \
    }                                                                                        \
    failures++;                                                                              \
  } while (0)

/* ---- stderr capture (the xerbla messages) ---- */
static FILE *cap_file;
static int cap_saved = -1;
static char cap_buf[8192];

static void capture_begin(void) {
  fflush(stderr);
  cap_file = tmpfile();
  if (!cap_file) {
    perror("tmpfile");
    exit(2);
  }
  cap_saved = dup(2);
  dup2(fileno(cap_file), 2);
}

static const char *capture_end(void) {
  fflush(stderr);
  dup2(cap_saved, 2);
  close(cap_saved);
  rewind(cap_file);
  size_t got = fread(cap_buf, 1, sizeof cap_buf - 1, cap_file);
  cap_buf[got] = 0;
  fclose(cap_file);
  return cap_buf;
}

/* ---- deterministic pseudo-random values in [-1, 1] ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

/*
 * One comparison for element type T: the routine under test and OpenBLAS on the same inputs
 * (A and B NaN-filled for strass when alpha == 0, C NaN-filled for both when beta == 0),
 * then every stored element of C within tolerance and C's padding untouched.
 */
#define DEFINE_COMPARE(T, P, EPS)                                                            \
  static void compare_##P(int layout, int ta, int tb, int m, int n, int k, T alpha, T beta,   \
                          int pad, int fortran) {                                            \
    int row = layout == CblasRowMajor;                                                       \
    /* Stored shapes: A is m x k (or k x m transposed), B k x n (or n x k), C m x n. */       \
    int ar = ta == CblasNoTrans ? m : k, ac = ta == CblasNoTrans ? k : m;                    \
    int br = tb == CblasNoTrans ? k : n, bc = tb == CblasNoTrans ? n : k;                    \
    int lda = (row ? ac : ar), ldb = (row ? bc : br), ldc = (row ? n : m);                   \
    lda = (lda < 1 ? 1 : lda) + pad;                                                         \
    ldb = (ldb < 1 ? 1 : ldb) + pad;                                                         \
    ldc = (ldc < 1 ? 1 : ldc) + pad;                                                         \
    size_t na = (size_t)lda * (size_t)(row ? ar : ac) + 1;                                   \
    size_t nb = (size_t)ldb * (size_t)(row ? br : bc) + 1;                                   \
    size_t nc = (size_t)ldc * (size_t)(row ? m : n) + 1;                                     \
    T *a = malloc(na * sizeof(T)), *b = malloc(nb * sizeof(T));                              \
    T *an = malloc(na * sizeof(T)), *bn = malloc(nb * sizeof(T));                            \
    T *c = malloc(nc * sizeof(T)), *cr = malloc(nc * sizeof(T));                             \
    for (size_t i = 0; i < na; i++) {                                                        \
      a[i] = (T)rnd();                                                                       \
      an[i] = alpha == 0 ? (T)NAN : a[i];                                                    \
    }                                                                                        \
    for (size_t i = 0; i < nb; i++) {                                                        \
      b[i] = (T)rnd();                                                                       \
      bn[i] = alpha == 0 ? (T)NAN : b[i];                                                    \
    }                                                                                        \
    for (size_t i = 0; i < nc; i++) cr[i] = c[i] = beta == 0 ? (T)NAN : (T)rnd();            \
    /* Padding (and one element past the end) holds a sentinel. */                          \
    int outer = row ? m : n, inner = row ? n : m;                                            \
    for (int o = 0; o < outer; o++)                                                          \
      for (int i = inner; i < ldc; i++) cr[(size_t)o * ldc + i] = c[(size_t)o * ldc + i] = 7; \
    cr[nc - 1] = c[nc - 1] = 7;                                                              \
    compared++;                                                                              \
    if (fortran) {                                                                           \
      /* Column-major only; row-major cases are skipped by the caller. */                  \
      const char tc[3] = {'N', 'T', 'C'};                                                   \
      char sa = tc[ta - CblasNoTrans], sb = tc[tb - CblasNoTrans];                          \
      /* As gfortran calls it: with the hidden string lengths. */                           \
      f77_##P##_fn f = (f77_##P##_fn)(void (*)(void))P##gemm_;                               \
      f(&sa, &sb, &m, &n, &k, &alpha, an, &lda, bn, &ldb, &beta, c, &ldc, 1, 1);             \
      ref_##P##gemm(&sa, &sb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, cr, &ldc, 1, 1);  \
    } else {                                                                                 \
      cblas_##P##gemm(layout, ta, tb, m, n, k, alpha, an, lda, bn, ldb, beta, c, ldc);       \
      ref_cblas_##P##gemm(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cr, ldc);    \
    }                                                                                        \
    double tol = 64.0 * EPS * (fabs((double)alpha) * k + fabs((double)beta) + 1.0);          \
    int bad = 0;                                                                             \
    for (int o = 0; o < outer && !bad; o++) {                                                \
      for (int i = 0; i < ldc && !bad; i++) {                                                \
        size_t at = (size_t)o * ldc + i;                                                     \
        double x = c[at], r = cr[at];                                                        \
        checks++;                                                                            \
        if (i >= inner) {                                                                    \
          if (x != 7) bad = 1;                                                               \
        } else if (isnan(x) || !(fabs(x - r) <= tol)) {                                      \
          bad = 1;                                                                           \
        }                                                                                    \
        if (bad)                                                                             \
          FAIL("%s%sgemm layout %d ta %d tb %d m %d n %d k %d alpha %g beta %g pad %d: "     \
               "C[%zu] = %g, OpenBLAS %g",                                                   \
               fortran ? "" : "cblas_", #P, layout, ta, tb, m, n, k, (double)alpha,          \
               (double)beta, pad, at, x, r);                                                 \
      }                                                                                      \
    }                                                                                        \
    if (c[nc - 1] != 7) FAIL("%sgemm wrote past the end of C", #P);                          \
    free(a);                                                                                 \
    free(b);                                                                                 \
    free(an);                                                                                \
    free(bn);                                                                                \
    free(c);                                                                                 \
    free(cr);                                                                                \
  }

DEFINE_COMPARE(float, s, 1.2e-7)
DEFINE_COMPARE(double, d, 2.3e-16)

/* Every layout x TransA x TransB x (m, n, k in {0, 1, big}) x (alpha, beta), both types. */
static void compare_all(int big) {
  const int dims[3] = {0, 1, big};
  const double ab[][2] = {{1, 0}, {0, 0}, {0, 1}, {0, -2}, {1, 1}, {-1.5, 0.5}};
  const int layouts[2] = {CblasRowMajor, CblasColMajor};
  int idx = 0;
  for (int l = 0; l < 2; l++)
    for (int ta = CblasNoTrans; ta <= CblasConjTrans; ta++)
      for (int tb = CblasNoTrans; tb <= CblasConjTrans; tb++)
        for (int im = 0; im < 3; im++)
          for (int in = 0; in < 3; in++)
            for (int ik = 0; ik < 3; ik++)
              for (size_t s = 0; s < sizeof ab / sizeof ab[0]; s++, idx++) {
                int m = dims[im], n = dims[in], k = dims[ik];
                /* Big cubes only with a couple of scalar pairs: they dominate the time. */
                if (im == 2 && in == 2 && ik == 2 && s != 0 && s != 5) continue;
                int pad = idx % 2 ? 3 : 0;
                compare_d(layouts[l], ta, tb, m, n, k, ab[s][0], ab[s][1], pad, 0);
                compare_s(layouts[l], ta, tb, m, n, k, (float)ab[s][0], (float)ab[s][1], pad, 0);
                if (layouts[l] == CblasColMajor) {
                  compare_d(layouts[l], ta, tb, m, n, k, ab[s][0], ab[s][1], 3 - pad, 1);
                  compare_s(layouts[l], ta, tb, m, n, k, (float)ab[s][0], (float)ab[s][1],
                            3 - pad, 1);
                }
              }
  /* A few non-square shapes, odd sizes. */
  const int shapes[][3] = {{257, 130, 311}, {300, 1, 300}, {1, 300, 1}, {2, 299, 301}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int l = 0; l < 2; l++) {
      compare_d(layouts[l], CblasTrans, CblasNoTrans, shapes[i][0], shapes[i][1], shapes[i][2],
                0.75, -0.25, 1, 0);
      compare_s(layouts[l], CblasNoTrans, CblasTrans, shapes[i][0], shapes[i][1], shapes[i][2],
                0.75f, 0, 2, 0);
    }
}

/* ---- invalid arguments: the message names the parameter, C is untouched ---- */
static void expect_message(const char *out, const char *routine, int info, const char *what) {
  char want[128];
  snprintf(want, sizeof want, " ** On entry to %s parameter number %2d had an illegal value\n",
           routine, info);
  checks++;
  if (!strstr(out, want)) FAIL("%s: expected \"%.*s\", got \"%s\"", what, (int)strlen(want) - 1, want, out);
}

static void invalid_cblas(int layout, int ta, int tb, int m, int n, int k, int lda, int ldb,
                          int ldc, int info) {
  double a[64], b[64], c[64];
  float as[64], bs[64], cs[64];
  for (int i = 0; i < 64; i++) a[i] = b[i] = as[i] = bs[i] = 1, c[i] = cs[i] = 5;
  char what[160];
  snprintf(what, sizeof what, "cblas layout %d ta %d tb %d m %d n %d k %d lda %d ldb %d ldc %d",
           layout, ta, tb, m, n, k, lda, ldb, ldc);
  capture_begin();
  cblas_dgemm(layout, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
  expect_message(capture_end(), "cblas_dgemm", info, what);
  capture_begin();
  cblas_sgemm(layout, ta, tb, m, n, k, 1.0f, as, lda, bs, ldb, 0.0f, cs, ldc);
  expect_message(capture_end(), "cblas_sgemm", info, what);
  for (int i = 0; i < 64; i++)
    if (c[i] != 5 || cs[i] != 5) {
      FAIL("%s: C was written", what);
      break;
    }
}

static void invalid_f77(char ta, char tb, int m, int n, int k, int lda, int ldb, int ldc,
                        int info) {
  double a[64], b[64], c[64], one = 1, zero = 0;
  float as[64], bs[64], cs[64], ones = 1, zeros = 0;
  for (int i = 0; i < 64; i++) a[i] = b[i] = as[i] = bs[i] = 1, c[i] = cs[i] = 5;
  char what[160];
  snprintf(what, sizeof what, "f77 ta %c tb %c m %d n %d k %d lda %d ldb %d ldc %d", ta, tb, m,
           n, k, lda, ldb, ldc);
  /* Called as gfortran does, with the hidden string lengths. */
  f77_d_fn d = (f77_d_fn)(void (*)(void))dgemm_;
  f77_s_fn s = (f77_s_fn)(void (*)(void))sgemm_;
  capture_begin();
  d(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc, 1, 1);
  expect_message(capture_end(), "DGEMM", info, what);
  capture_begin();
  s(&ta, &tb, &m, &n, &k, &ones, as, &lda, bs, &ldb, &zeros, cs, &ldc, 1, 1);
  expect_message(capture_end(), "SGEMM", info, what);
  for (int i = 0; i < 64; i++)
    if (c[i] != 5 || cs[i] != 5) {
      FAIL("%s: C was written", what);
      break;
    }
}

static void invalid_all(void) {
  const int R = CblasRowMajor, C = CblasColMajor, N = CblasNoTrans, T = CblasTrans;
  invalid_cblas(100, N, N, 2, 2, 2, 2, 2, 2, 1);
  invalid_cblas(C, 110, N, 2, 2, 2, 2, 2, 2, 2);
  invalid_cblas(R, N, 114, 2, 2, 2, 2, 2, 2, 3);
  invalid_cblas(C, 0, 0, 2, 2, 2, 2, 2, 2, 2);
  invalid_cblas(C, N, N, -1, 2, 2, 2, 2, 2, 4);
  invalid_cblas(C, N, N, 2, -1, 2, 2, 2, 2, 5);
  invalid_cblas(C, N, N, -1, -1, 2, 2, 2, 2, 4);
  invalid_cblas(R, N, N, -1, 2, 2, 2, 2, 2, 4);
  invalid_cblas(R, N, N, 2, -1, 2, 2, 2, 2, 5);
  invalid_cblas(R, N, N, -1, -1, 2, 2, 2, 2, 5); /* the reference checks N first here */
  invalid_cblas(C, N, N, 2, 2, -1, 2, 2, 2, 6);
  invalid_cblas(C, N, N, 3, 2, 2, 2, 2, 3, 9);  /* col-major A m x k: lda >= m */
  invalid_cblas(C, T, N, 2, 2, 3, 2, 3, 2, 9);  /* col-major A^T stored k x m: lda >= k */
  invalid_cblas(R, N, N, 2, 2, 3, 2, 2, 2, 9);  /* row-major A m x k: lda >= k */
  invalid_cblas(R, T, N, 3, 2, 2, 2, 2, 2, 9);  /* row-major A^T stored k x m: lda >= m */
  invalid_cblas(C, N, N, 2, 2, 3, 2, 2, 2, 11); /* col-major B k x n: ldb >= k */
  invalid_cblas(R, N, N, 2, 3, 2, 2, 2, 3, 11); /* row-major B k x n: ldb >= n */
  invalid_cblas(R, N, T, 2, 2, 3, 3, 2, 2, 11); /* row-major B^T stored n x k: ldb >= k */
  invalid_cblas(C, N, N, 3, 2, 2, 3, 2, 2, 14); /* col-major: ldc >= m */
  invalid_cblas(R, N, N, 2, 3, 2, 2, 3, 2, 14); /* row-major: ldc >= n */
  invalid_cblas(C, N, N, 0, 0, 0, 0, 1, 1, 9);  /* leading dimensions >= 1 even when empty */
  invalid_cblas(R, N, N, 2, 2, 3, 2, 1, 2, 11); /* row-major: ldb reported before lda */
  invalid_f77('X', 'N', 2, 2, 2, 2, 2, 2, 1);
  invalid_f77('n', '?', 2, 2, 2, 2, 2, 2, 2);
  invalid_f77('N', 'N', -1, 2, 2, 2, 2, 2, 3);
  invalid_f77('N', 'N', 2, -1, 2, 2, 2, 2, 4);
  invalid_f77('N', 'N', 2, 2, -3, 2, 2, 2, 5);
  invalid_f77('N', 'N', 3, 2, 2, 2, 2, 3, 8);
  invalid_f77('t', 'N', 2, 2, 3, 2, 3, 2, 8);
  invalid_f77('N', 'N', 2, 2, 3, 2, 2, 2, 10);
  invalid_f77('N', 'c', 2, 3, 2, 2, 2, 2, 10);
  invalid_f77('N', 'N', 3, 2, 2, 3, 2, 2, 13);
}

/* A valid call prints nothing. */
static void valid_is_silent(void) {
  double a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4];
  capture_begin();
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
  const char *out = capture_end();
  checks++;
  if (out[0]) FAIL("a valid call printed \"%s\"", out);
  if (c[0] != 1 || c[1] != 2 || c[2] != 3 || c[3] != 4) FAIL("A I != A");
}

int main(int argc, char **argv) {
  int big = argc > 1 ? atoi(argv[1]) : 300;
  strass_calls = (calls_fn)dlsym(RTLD_DEFAULT, "strass_blas_calls");
  /* Do the program's calls reach strass? */
  double one = 1, x = 2, y = 3, z = 0;
  uint64_t before = strass_calls ? strass_calls() : 0;
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, one, &x, 1, &y, 1, 0, &z, 1);
  if (!strass_calls || strass_calls() != before + 1 || z != 6) {
    fprintf(stderr, "cblas_dgemm does not reach strass (strass_blas_calls %s)\n",
            strass_calls ? "did not count the call" : "not found");
    return 3;
  }
  void *ob = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!ob) {
    fprintf(stderr, "dlopen libopenblas.so.0: %s\n", dlerror());
    return 2;
  }
  ref_cblas_sgemm = (cblas_s_fn)dlsym(ob, "cblas_sgemm");
  ref_cblas_dgemm = (cblas_d_fn)dlsym(ob, "cblas_dgemm");
  ref_sgemm = (f77_s_fn)dlsym(ob, "sgemm_");
  ref_dgemm = (f77_d_fn)dlsym(ob, "dgemm_");
  if (!ref_cblas_sgemm || !ref_cblas_dgemm || !ref_sgemm || !ref_dgemm ||
      (void *)ref_cblas_dgemm == (void *)cblas_dgemm) {
    fprintf(stderr, "OpenBLAS's own cblas_dgemm / dgemm_ not found\n");
    return 2;
  }
  valid_is_silent();
  invalid_all();
  uint64_t mid = strass_calls();
  compare_all(big);
  /* Every routine under test reached strass, and no call to OpenBLAS's handle did. */
  uint64_t strass_made = strass_calls() - mid;
  checks++;
  if (strass_made != compared)
    FAIL("%llu calls reached strass, expected %llu", (unsigned long long)strass_made,
         (unsigned long long)compared);
  printf("%ld checks, %d failures, %llu calls reached strass\n", checks, failures,
         (unsigned long long)strass_calls());
  return failures ? 1 : 0;
}
