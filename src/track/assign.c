/* assign.c - optimal assignment for the tracker: the Hungarian method (shortest augmenting paths
 * with potentials, O(n^3)) on the cost matrix extended the way lapjv's cost_limit does, so that
 * a track and a detection are paired only when that beats leaving both unmatched. */
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

vg_status vg_assign(const double *cost, int rows, int cols, double gate, int *row_match) {
  if (rows < 0 || cols < 0 || rows > ASSIGN_MAX || cols > ASSIGN_MAX)
    return vg_set_error(VG_ERR_INVALID_ARG, "assignment: %d x %d is outside 0..%d", rows, cols,
                        ASSIGN_MAX);
  if (!(gate >= 0) || !isfinite(gate))
    return vg_set_error(VG_ERR_INVALID_ARG, "assignment: gate %g is not a finite cost", gate);
  for (int i = 0; i < rows; i++)
    row_match[i] = -1;
  if (rows == 0 || cols == 0) return VG_OK;
  /* extended matrix: [C | row-unmatched diag] over [col-unmatched diag | 0] */
  int n = rows + cols;
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
      if (i < rows && j < cols) {
        c = cost[(size_t)i * cols + j];
        c = (isfinite(c) && c <= gate) ? c : big;
      } else if (i < rows) {
        c = (j - cols == i) ? half : big;
      } else if (j < cols) {
        c = (i - rows == j) ? half : big;
      } else {
        c = 0;
      }
      a[(size_t)i * n + j] = c;
    }
  vg_status s = hungarian(a, n, col);
  if (s == VG_OK)
    for (int i = 0; i < rows; i++) {
      int j = col[i];
      row_match[i] = (j < cols && a[(size_t)i * n + j] < big) ? j : -1;
    }
  free(a);
  free(col);
  return s;
}
