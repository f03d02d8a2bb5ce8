/* assign.c - optimal assignment for the tracker: the Hungarian method (shortest augmenting paths
 * with potentials, O(n^3)) on the cost matrix extended the way lapjv's cost_limit does, so that
 * a track and a detection are paired only when that beats leaving both unmatched.
 *
 * Solved per connected component of the pairs under the gate: a pair above it can never be
 * matched, so the optimum is the union of the components' optima. A crowded frame (300 tracks x
 * 300 detections: a 600 x 600 extended matrix, ~2e8 steps, ~95 ms per frame in the 4K tiles
 * benchmark) is mostly small components of a few boxes that overlap. */
#include "vidgraph/vg_track.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define ASSIGN_MAX 4096

/* Hungarian method on a square n x n matrix a (row-major); col_of_row gets the assignment. */
static vg_status hungarian(const double *a, int n, int *col_of_row) {
  double *u = calloc((size_t)n + 1, sizeof *u), *v = calloc((size_t)n + 1, sizeof *v);
  double *minv = malloc(((size_t)n + 1) * sizeof *minv);
  int *p = calloc((size_t)n + 1, sizeof *p), *way = calloc((size_t)n + 1, sizeof *way);
  char *used = malloc((size_t)n + 1);
  if (!u || !v || !minv || !p || !way || !used) {
    free(u), free(v), free(minv), free(p), free(way), free(used);
    return vg_set_error(VG_ERR_NO_MEMORY, "assignment: out of memory for %d x %d", n, n);
  }
  for (int i = 1; i <= n; i++) {
    p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= n; j++)
      minv[j] = INFINITY, used[j] = 0;
    do {
      used[j0] = 1;
      int i0 = p[j0], j1 = 0;
      double delta = INFINITY;
      for (int j = 1; j <= n; j++) {
        if (used[j]) continue;
        double cur = a[(size_t)(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= n; j++) {
        if (used[j])
          u[p[j]] += delta, v[j] -= delta;
        else
          minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  for (int j = 1; j <= n; j++)
    if (p[j]) col_of_row[p[j] - 1] = j - 1;
  free(u), free(v), free(minv), free(p), free(way), free(used);
  return VG_OK;
}

/* The extended problem of rows x cols (row-major, stride ld; rows/cols index lists) solved whole:
 * [C | row-unmatched diag] over [col-unmatched diag | 0]; row_match[r] (index into cols or -1). */
static vg_status assign_dense(const double *cost, int ld, const int *rows, int nr, const int *cols,
                              int nc, double gate, int *row_match) {
  int n = nr + nc;
  double big = 1e6 + gate * 4 + 1, half = gate / 2;
  double *a = malloc((size_t)n * (size_t)n * sizeof *a);
  int *col = malloc((size_t)n * sizeof *col);
  if (!a || !col) {
    free(a), free(col);
    return vg_set_error(VG_ERR_NO_MEMORY, "assignment: out of memory for %d x %d", n, n);
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double c;
      if (i < nr && j < nc) {
        c = cost[(size_t)rows[i] * (size_t)ld + (size_t)cols[j]];
        c = (isfinite(c) && c <= gate) ? c : big;
      } else if (i < nr) {
        c = (j - nc == i) ? half : big;
      } else if (j < nc) {
        c = (i - nr == j) ? half : big;
      } else {
        c = 0;
      }
      a[(size_t)i * n + j] = c;
    }
  vg_status s = hungarian(a, n, col);
  if (s == VG_OK)
    for (int i = 0; i < nr; i++) {
      int j = col[i];
      row_match[i] = (j < nc && a[(size_t)i * n + j] < big) ? j : -1;
    }
  free(a);
  free(col);
  return s;
}

static int find_root(int *parent, int x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

vg_status vg_assign(const double *cost, int rows, int cols, double gate, int *row_match) {
  if (rows < 0 || cols < 0 || rows > ASSIGN_MAX || cols > ASSIGN_MAX)
    return vg_set_error(VG_ERR_INVALID_ARG, "assignment: %d x %d is outside 0..%d", rows, cols,
                        ASSIGN_MAX);
  if (!(gate >= 0) || !isfinite(gate))
    return vg_set_error(VG_ERR_INVALID_ARG, "assignment: gate %g is not a finite cost", gate);
  for (int i = 0; i < rows; i++)
    row_match[i] = -1;
  if (rows == 0 || cols == 0) return VG_OK;
  /* VG_ASSIGN_DENSE=1: the whole matrix as one problem, as before (the ledger in docs/PERF.md) */
  const char *dense = getenv("VG_ASSIGN_DENSE");
  if (dense && dense[0] == '1') {
    int *ri = malloc((size_t)rows * sizeof *ri), *ci = malloc((size_t)cols * sizeof *ci);
    if (!ri || !ci) {
      free(ri), free(ci);
      return vg_set_error(VG_ERR_NO_MEMORY, "assignment: out of memory for %d x %d", rows, cols);
    }
    for (int i = 0; i < rows; i++)
      ri[i] = i;
    for (int j = 0; j < cols; j++)
      ci[j] = j;
    vg_status s = assign_dense(cost, cols, ri, rows, ci, cols, gate, row_match);
    free(ri), free(ci);
    return s;
  }
  /* components of the bipartite graph of pairs under the gate (union-find over rows, then
   * cols); node rows + j is column j */
  int n = rows + cols;
  int *parent = malloc((size_t)n * sizeof *parent), *order = malloc((size_t)n * sizeof *order);
  int *start = calloc((size_t)n + 1, sizeof *start), *sub = malloc((size_t)n * sizeof *sub);
  if (!parent || !order || !start || !sub) {
    free(parent), free(order), free(start), free(sub);
    return vg_set_error(VG_ERR_NO_MEMORY, "assignment: out of memory for %d x %d", rows, cols);
  }
  for (int i = 0; i < n; i++)
    parent[i] = i;
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) {
      double c = cost[(size_t)i * cols + j];
      if (!(isfinite(c) && c <= gate)) continue;
      int a = find_root(parent, i), b = find_root(parent, rows + j);
      if (a != b) parent[a] = b;
    }
  /* group the nodes by root (counting sort), rows before columns within a group */
  for (int i = 0; i < n; i++)
    start[find_root(parent, i) + 1]++;
  for (int i = 0; i < n; i++)
    start[i + 1] += start[i];
  int *fill = sub; /* next free slot per root, reusing sub as scratch */
  for (int i = 0; i < n; i++)
    fill[i] = start[i];
  for (int i = 0; i < n; i++)
    order[fill[find_root(parent, i)]++] = i;
  vg_status s = VG_OK;
  for (int r = 0; r < n && s == VG_OK; r++) {
    int b = start[r], e = start[r + 1];
    if (e - b < 2) continue; /* empty, or a row or column alone: unmatched */
    int nr = 0;
    while (b + nr < e && order[b + nr] < rows)
      nr++;
    int nc = e - b - nr;
    if (nr == 0 || nc == 0) continue;
    int *crow = &order[b], *ccol = &order[b + nr];
    for (int j = 0; j < nc; j++)
      ccol[j] -= rows;
    int *m = sub; /* the scratch is free again: nr <= n */
    s = assign_dense(cost, cols, crow, nr, ccol, nc, gate, m);
    for (int i = 0; s == VG_OK && i < nr; i++)
      row_match[crow[i]] = m[i] >= 0 ? ccol[m[i]] : -1;
  }
  free(parent), free(order), free(start), free(sub);
  return s;
}
