/* geom.c - plane geometry for the text detector: convex hull (monotone chain), minimum-area
 * rotated rectangle by rotating calipers, and PP-OCR's corner ordering; the arithmetic itself is
 * in post/cuda/post_text.h, shared with the CUDA decoder. */
#include "post_internal.h"
#include "post_geom.h"

#include <limits.h>
#include <math.h>

static int cmp_pt(const void *pa, const void *pb) {
  const post_pt *a = pa, *b = pb;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->y != b->y) return a->y < b->y ? -1 : 1;
  return 0;
}

size_t post_convex_hull(post_pt *p, size_t n, post_pt *hull) {
  if (n == 0) return 0;
  qsort(p, n, sizeof *p, cmp_pt);
  return (size_t)pt_hull_sorted(p, (int)n, hull);
}

void post_min_rect_hull(const post_pt *h, size_t m, post_pt rect[4]) {
  pt_min_rect_hull(h, (int)m, rect);
}

void post_order_ppocr(const post_pt in[4], post_pt out[4]) {
  pt_order_ppocr(in, out);
}

void post_order_clockwise(const post_pt in[4], post_pt out[4]) {
  int imin = 0, imax = 0;
  for (int i = 1; i < 4; i++) {
    if (in[i].x + in[i].y < in[imin].x + in[imin].y) imin = i;
    if (in[i].x + in[i].y > in[imax].x + in[imax].y) imax = i;
  }
  if (imin == imax) imax = (imin + 1) % 4;
  post_pt rest[2];
  int k = 0;
  for (int i = 0; i < 4; i++)
    if (i != imin && i != imax) rest[k++] = in[i];
  out[0] = in[imin];
  out[2] = in[imax];
  /* np.diff over (x, y) is y - x: top-right has the smaller one */
  bool first_tr = (rest[0].y - rest[0].x) <= (rest[1].y - rest[1].x);
  out[1] = first_tr ? rest[0] : rest[1];
  out[3] = first_tr ? rest[1] : rest[0];
}

vg_status vg_min_area_rect(const float *xs, const float *ys, size_t n, vg_quad *quad, float *w,
                           float *h) {
  if (!xs || !ys || n == 0 || !quad)
    return vg_set_error(VG_ERR_INVALID_ARG, "min_area_rect: no points");
  if (n > (size_t)(INT_MAX / 2))
    return vg_set_error(VG_ERR_INVALID_ARG, "min_area_rect: too many points");
  post_pt *p = malloc(n * sizeof *p), *hull = malloc((2 * n + 1) * sizeof *hull);
  if (!p || !hull) {
    free(p), free(hull);
    return vg_set_error(VG_ERR_NO_MEMORY, "min_area_rect: out of memory for %zu points", n);
  }
  for (size_t i = 0; i < n; i++)
    p[i] = (post_pt){xs[i], ys[i]};
  size_t m = post_convex_hull(p, n, hull);
  post_pt r[4], o[4];
  post_min_rect_hull(hull, m, r);
  post_order_ppocr(r, o);
  for (int i = 0; i < 4; i++)
    quad->x[i] = (float)o[i].x, quad->y[i] = (float)o[i].y;
  if (w) *w = (float)pt_side(&o[0], &o[1]);
  if (h) *h = (float)pt_side(&o[0], &o[3]);
  free(p);
  free(hull);
  return VG_OK;
}
