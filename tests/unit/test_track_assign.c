/* track: the gated optimal assignment against exhaustive search on small random matrices. */
#include "vg_test.h"
#include "vidgraph/vg_track.h"

static unsigned rng_state = 99;
static double rnd01(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (double)((rng_state >> 8) & 0xffffff) / 16777216.0;
}

/* Objective of a partial assignment: matched costs + gate/2 for every free row and column. */
static double objective(const double *c, int r, int k, double gate, const int *m) {
  double s = 0;
  int used = 0;
  for (int i = 0; i < r; i++) {
    if (m[i] < 0) {
      s += gate / 2;
      continue;
    }
    s += c[i * k + m[i]];
    used++;
  }
  return s + (k - used) * gate / 2;
}

/* Exhaustive: every row takes a free column with cost <= gate, or none. */
static void best_rec(const double *c, int r, int k, double gate, int i, int *m, char *used,
                     double *best) {
  if (i == r) {
    double o = objective(c, r, k, gate, m);
    if (o < *best) *best = o;
    return;
  }
  m[i] = -1;
  best_rec(c, r, k, gate, i + 1, m, used, best);
  for (int j = 0; j < k; j++) {
    if (used[j] || c[i * k + j] > gate) continue;
    used[j] = 1, m[i] = j;
    best_rec(c, r, k, gate, i + 1, m, used, best);
    used[j] = 0, m[i] = -1;
  }
}

/* vg_assign on c (r x k, at most 7 x 7): a valid matching (distinct columns, gate respected)
 * whose objective is the exhaustive optimum. */
static void check_optimal(const double *c, int r, int k, double gate, const char *what, int trial) {
  int m[7], mm[7];
  char used[7] = {0};
  VG_ASSERT_OK(vg_assign(c, r, k, gate, m));
  for (int i = 0; i < r; i++) {
    if (m[i] < 0) continue;
    assert_true(m[i] >= 0 && m[i] < k && c[i * k + m[i]] <= gate);
    for (int j = 0; j < i; j++)
      assert_true(m[j] != m[i]);
  }
  double best = 1e18;
  best_rec(c, r, k, gate, 0, mm, used, &best);
  double got = objective(c, r, k, gate, m);
  if (got > best + 1e-9)
    fail_msg("%s trial %d (%dx%d): objective %f, optimum %f", what, trial, r, k, got, best);
}

static void test_assign_vs_exhaustive(void **st) {
  for (int trial = 0; trial < 500; trial++) {
    int r = 1 + (int)(rnd01() * 6), k = 1 + (int)(rnd01() * 6);
    double c[36], gate = 0.2 + 0.7 * rnd01();
    for (int i = 0; i < r * k; i++)
      c[i] = rnd01();
    check_optimal(c, r, k, gate, "dense", trial);
  }
}

/* Sparse matrices (most pairs above the gate, so the problem falls apart into components that
 * are solved one by one) against exhaustive search. */
static void test_assign_sparse_vs_exhaustive(void **st) {
  for (int trial = 0; trial < 400; trial++) {
    int r = 1 + (int)(rnd01() * 7), k = 1 + (int)(rnd01() * 7);
    double c[49], gate = 0.3 + 0.5 * rnd01(), dens = 0.1 + 0.4 * rnd01();
    for (int i = 0; i < r * k; i++)
      c[i] = rnd01() < dens ? rnd01() * gate : gate + 0.01 + rnd01(); /* some exactly feasible */
    check_optimal(c, r, k, gate, "sparse", trial);
  }
}

/* A crowded frame: 100 independent clusters of 3 tracks x 3 detections (as in a 4K frame of
 * several hundred boxes), shuffled into a 300 x 300 matrix. The optimum is the sum of the
 * clusters' optima (exhaustive each); vg_assign must reach it. */
static void test_assign_many_clusters(void **st) {
  enum { NB = 100, B = 3, N = NB * B };
  double *c = malloc(sizeof(double) * N * N);
  int prow[N], pcol[N], m[N];
  assert_non_null(c);
  for (int i = 0; i < N; i++)
    prow[i] = pcol[i] = i;
  for (int i = N - 1; i > 0; i--) { /* shuffled placement of the clusters' rows and columns */
    int a = (int)(rnd01() * (i + 1)), b = (int)(rnd01() * (i + 1)), t;
    t = prow[i], prow[i] = prow[a], prow[a] = t;
    t = pcol[i], pcol[i] = pcol[b], pcol[b] = t;
  }
  double gate = 0.7, want = 0;
  for (int i = 0; i < N * N; i++)
    c[i] = 1.5; /* above the gate: different clusters never overlap */
  for (int blk = 0; blk < NB; blk++) {
    double bc[B * B];
    for (int i = 0; i < B * B; i++)
      bc[i] = rnd01() < 0.7 ? rnd01() * 0.9 : 1.5;
    for (int i = 0; i < B; i++)
      for (int j = 0; j < B; j++)
        c[(size_t)prow[blk * B + i] * N + pcol[blk * B + j]] = bc[i * B + j];
    int mm[B];
    char used[B] = {0};
    double best = 1e18;
    best_rec(bc, B, B, gate, 0, mm, used, &best);
    want += best;
  }
  VG_ASSERT_OK(vg_assign(c, N, N, gate, m));
  double got = objective(c, N, N, gate, m);
  if (got > want + 1e-6) fail_msg("300 x 300 in clusters: objective %f, optimum %f", got, want);
  free(c);
}

static void test_assign_edges(void **st) {
  int m[3];
  VG_ASSERT_OK(vg_assign(NULL, 0, 5, 0.5, m));
  double c[3] = {0.9, 0.95, 0.99};
  VG_ASSERT_OK(vg_assign(c, 3, 1, 0.5, m)); /* all above the gate: nothing matched */
  assert_int_equal(m[0], -1), assert_int_equal(m[1], -1), assert_int_equal(m[2], -1);
  assert_int_equal(vg_assign(c, 3, 1, -1, m), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_assign(c, 5000, 1, 0.5, m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("5000 x 1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_assign_vs_exhaustive),
      cmocka_unit_test(test_assign_sparse_vs_exhaustive),
      cmocka_unit_test(test_assign_many_clusters),
      cmocka_unit_test(test_assign_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
