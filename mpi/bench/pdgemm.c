/* ScaLAPACK PDGEMM on the same ranks and shapes as strass-mpi, for mpi/bench/run.sh.
 *
 *   mpirun -np P pdgemm M K N [NB] [REPS]
 *
 * Grid: the most square pr x pc = P with pr <= pc (as strass-mpi's SUMMA), block-cyclic blocks
 * of NB (default 128). Entries are generated locally (time excludes generation); prints one
 * JSON line on rank 0 with the median seconds over REPS runs (default 3). The product is
 * checked by C x = A (B x) for x = ones on a few rows (max_rel_err, same normalisation as
 * strass-mpi), so a wrong link or call does not pass silently. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

void Cblacs_pinfo(int *me, int *np);
void Cblacs_get(int ctx, int what, int *val);
void Cblacs_gridinit(int *ctx, const char *order, int pr, int pc);
void Cblacs_gridinfo(int ctx, int *pr, int *pc, int *r, int *c);
void Cblacs_gridexit(int ctx);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *ctx, const int *lld, int *info);
void pdgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja, const int *desca,
             const double *b, const int *ib, const int *jb, const int *descb, const double *beta,
             double *c, const int *ic, const int *jc, const int *descc);

/* Global (i, j) of local (li, lj) in a block-cyclic distribution. */
static int glob(int l, int nb, int p, int np) { return (l / nb) * nb * np + p * nb + l % nb; }
static double val(int id, long i, long j) {
  unsigned long h = (unsigned long)(i * 2654435761UL) ^ (unsigned long)(j * 40503UL) ^ ((unsigned long)id << 40);
  h ^= h >> 17; h *= 0xed5ad4bbUL; h ^= h >> 11; h *= 0xac4c1b51UL; h ^= h >> 15;
  return (double)(h % 2048) / 1024.0 - 1.0;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int me, np;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  if (argc < 4) {
    if (me == 0) fprintf(stderr, "usage: pdgemm M K N [NB] [REPS]\n");
    MPI_Finalize();
    return 2;
  }
  int m = atoi(argv[1]), k = atoi(argv[2]), n = atoi(argv[3]);
  int nb = argc > 4 ? atoi(argv[4]) : 128, reps = argc > 5 ? atoi(argv[5]) : 3;
  if (m <= 0 || k <= 0 || n <= 0 || nb <= 0 || reps <= 0) {
    if (me == 0) fprintf(stderr, "pdgemm: M K N NB REPS must be positive\n");
    MPI_Finalize();
    return 2;
  }
  int pr = (int)sqrt((double)np);
  while (pr > 1 && np % pr) pr--;
  int pc = np / pr, ctx, myr, myc, zero = 0, one = 1, info;
  Cblacs_get(-1, 0, &ctx);
  Cblacs_gridinit(&ctx, "Row", pr, pc);
  Cblacs_gridinfo(ctx, &pr, &pc, &myr, &myc);
  int am = numroc_(&m, &nb, &myr, &zero, &pr), ak = numroc_(&k, &nb, &myc, &zero, &pc);
  int bk = numroc_(&k, &nb, &myr, &zero, &pr), bn = numroc_(&n, &nb, &myc, &zero, &pc);
  int cm = am, cn = bn;
  int lda = am > 1 ? am : 1, ldb = bk > 1 ? bk : 1, ldc = cm > 1 ? cm : 1;
  int da[9], db[9], dc[9];
  descinit_(da, &m, &k, &nb, &nb, &zero, &zero, &ctx, &lda, &info);
  descinit_(db, &k, &n, &nb, &nb, &zero, &zero, &ctx, &ldb, &info);
  descinit_(dc, &m, &n, &nb, &nb, &zero, &zero, &ctx, &ldc, &info);
  double *a = malloc(sizeof(double) * (size_t)lda * (ak ? ak : 1));
  double *b = malloc(sizeof(double) * (size_t)ldb * (bn ? bn : 1));
  double *c = malloc(sizeof(double) * (size_t)ldc * (cn ? cn : 1));
  for (int j = 0; j < ak; j++)
    for (int i = 0; i < am; i++) a[i + (size_t)j * lda] = val(0, glob(i, nb, myr, pr), glob(j, nb, myc, pc));
  for (int j = 0; j < bn; j++)
    for (int i = 0; i < bk; i++) b[i + (size_t)j * ldb] = val(1, glob(i, nb, myr, pr), glob(j, nb, myc, pc));
  double alpha = 1.0, beta = 0.0, *t = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    pdgemm_("N", "N", &m, &n, &k, &alpha, a, &one, &one, da, b, &one, &one, db, &beta, c, &one, &one, dc);
    MPI_Barrier(MPI_COMM_WORLD);
    t[r] = MPI_Wtime() - t0;
  }
  qsort(t, reps, sizeof(double), cmp);
  /* Check with x = ones: (Bx)_i = row sums of B, (Cx)_i, (A Bx)_i, all summed across ranks. */
  double *bx = calloc(k, sizeof(double)), *abx = calloc(m, sizeof(double)), *cx = calloc(m, sizeof(double));
  double sq[2] = {0, 0};
  for (int j = 0; j < bn; j++)
    for (int i = 0; i < bk; i++) {
      double v = b[i + (size_t)j * ldb];
      bx[glob(i, nb, myr, pr)] += v;
      sq[1] += v * v;
    }
  MPI_Allreduce(MPI_IN_PLACE, bx, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  for (int j = 0; j < ak; j++)
    for (int i = 0; i < am; i++) {
      double v = a[i + (size_t)j * lda];
      abx[glob(i, nb, myr, pr)] += v * bx[glob(j, nb, myc, pc)];
      sq[0] += v * v;
    }
  for (int j = 0; j < cn; j++)
    for (int i = 0; i < cm; i++) cx[glob(i, nb, myr, pr)] += c[i + (size_t)j * ldc];
  MPI_Allreduce(MPI_IN_PLACE, abx, m, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, cx, m, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, sq, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double res = 0;
  for (int i = 0; i < m; i++) res += (cx[i] - abx[i]) * (cx[i] - abx[i]);
  double err = sqrt(res) / (sqrt(sq[0]) * sqrt(sq[1]) * sqrt((double)n));
  if (me == 0)
    printf("{\"ranks\":%d,\"m\":%d,\"k\":%d,\"n\":%d,\"nb\":%d,\"grid\":[%d,%d],\"reps\":%d,"
           "\"seconds\":%.9g,\"gflops\":%.6g,\"max_rel_err\":%.3g}\n",
           np, m, k, n, nb, pr, pc, reps, t[reps / 2], 2.0 * m * k * n / t[reps / 2] / 1e9, err);
  free(a); free(b); free(c); free(t); free(bx); free(abx); free(cx);
  Cblacs_gridexit(ctx);
  MPI_Finalize();
  return err < 1e-10 ? 0 : 1;
}
