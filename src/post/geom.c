/* geom.c - plane geometry for the text detector: convex hull (monotone chain), minimum-area
 * rotated rectangle by rotating calipers, and PP-OCR's corner ordering. */
#include "post_internal.h"
#include "post_geom.h"

#include <math.h>

static double cross3(const post_pt *o, const post_pt *a, const post_pt *b) {
  return (a->x - o->x) * (b->y - o->y) - (a->y - o->y) * (b->x - o->x);
}

static int cmp_pt(const void *pa, const void *pb) {
  const post_pt *a = pa, *b = pb;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->y != b->y) return a->y < b->y ? -1 : 1;
  return 0;
}

size_t post_convex_hull(post_pt *p, size_t n, post_pt *hull) {
  if (n == 0) return 0;
  qsort(p, n, sizeof *p, cmp_pt);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) { /* lower hull */
    while (k >= 2 && cross3(&hull[k - 2], &hull[k - 1], &p[i]) <= 0)
      k--;
    hull[k++] = p[i];
  }
  for (size_t i = n - 1, t = k + 1; i-- > 0;) { /* upper hull */
    while (k >= t && cross3(&hull[k - 2], &hull[k - 1], &p[i]) <= 0)
      k--;
    hull[k++] = p[i];
  }
  if (k > 1) k--; /* the last point repeats the first */
  if (k == 2 && hull[0].x == hull[1].x && hull[0].y == hull[1].y) k = 1;
  return k;
}

static double dotv(post_pt a, double ex, double ey) {
  return a.x * ex + a.y * ey;
}

/* Rectangle of hull edge i from the caliper indices (l: min along e, r: max along e, t: max
 * along the inward normal). */
static void edge_rect(const post_pt *h, size_t m, size_t i, size_t l, size_t r, size_t t,
                      post_pt out[4], double *area) {
  post_pt a = h[i], b = h[(i + 1) % m];
  double len = hypot(b.x - a.x, b.y - a.y);
  double ex = (b.x - a.x) / len, ey = (b.y - a.y) / len, nx = -ey, ny = ex;
  double lo = (h[l].x - a.x) * ex + (h[l].y - a.y) * ey;
  double hi = (h[r].x - a.x) * ex + (h[r].y - a.y) * ey;
  double ht = (h[t].x - a.x) * nx + (h[t].y - a.y) * ny;
  *area = (hi - lo) * ht;
  out[0] = (post_pt){a.x + ex * lo, a.y + ey * lo};
  out[1] = (post_pt){a.x + ex * hi, a.y + ey * hi};
  out[2] = (post_pt){out[1].x + nx * ht, out[1].y + ny * ht};
  out[3] = (post_pt){out[0].x + nx * ht, out[0].y + ny * ht};
}

void post_min_rect_hull(const post_pt *h, size_t m, post_pt rect[4]) {
  if (m <= 2) {
    post_pt a = h[0], b = h[m == 2 ? 1 : 0];
    rect[0] = a, rect[1] = b, rect[2] = b, rect[3] = a;
    return;
  }
  /* hull is counter-clockwise in a y-up frame (monotone chain), so the inward normal of edge
   * (a -> b) is (-ey, ex). */
  size_t l = 0, r = 0, t = 0;
  double best = INFINITY;
  for (size_t i = 0; i < m; i++) {
    post_pt a = h[i], b = h[(i + 1) % m];
    double len = hypot(b.x - a.x, b.y - a.y);
    double ex = (b.x - a.x) / len, ey = (b.y - a.y) / len;
    if (i == 0) { /* initial caliper positions by a scan */
      for (size_t k = 1; k < m; k++) {
        if (dotv(h[k], ex, ey) > dotv(h[r], ex, ey)) r = k;
        if (dotv(h[k], ex, ey) < dotv(h[l], ex, ey)) l = k;
        if (dotv(h[k], -ey, ex) > dotv(h[t], -ey, ex)) t = k;
      }
    } else { /* calipers only move forward */
      for (size_t s = 0; s < m && dotv(h[(r + 1) % m], ex, ey) >= dotv(h[r], ex, ey); s++)
        r = (r + 1) % m;
      for (size_t s = 0; s < m && dotv(h[(t + 1) % m], -ey, ex) >= dotv(h[t], -ey, ex); s++)
        t = (t + 1) % m;
      for (size_t s = 0; s < m && dotv(h[(l + 1) % m], ex, ey) <= dotv(h[l], ex, ey); s++)
        l = (l + 1) % m;
    }
    post_pt cand[4];
    double area;
    edge_rect(h, m, i, l, r, t, cand, &area);
    if (area < best - 1e-9) {
      best = area;
      memcpy(rect, cand, sizeof cand);
    }
  }
}

void post_order_ppocr(const post_pt in[4], post_pt out[4]) {
  post_pt p[4];
  memcpy(p, in, sizeof p);
  for (int i = 1; i < 4; i++) /* stable insertion sort by x, like Python's sorted */
    for (int j = i; j > 0 && p[j].x < p[j - 1].x; j--) {
      post_pt t = p[j];
      p[j] = p[j - 1], p[j - 1] = t;
    }
  post_pt tl, bl, tr, br;
  if (p[1].y > p[0].y)
    tl = p[0], bl = p[1];
  else
    tl = p[1], bl = p[0];
  if (p[3].y > p[2].y)
    tr = p[2], br = p[3];
  else
    tr = p[3], br = p[2];
  out[0] = tl, out[1] = tr, out[2] = br, out[3] = bl;
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
  if (n > (SIZE_MAX / 2) / sizeof(post_pt))
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
  if (w) *w = (float)hypot(o[1].x - o[0].x, o[1].y - o[0].y);
  if (h) *h = (float)hypot(o[3].x - o[0].x, o[3].y - o[0].y);
  free(p);
  free(hull);
  return VG_OK;
}
