/* post_text.h - the text decoders' arithmetic shared by the CPU twins (src/post/ctc.c, dbnet.c,
 * geom.c) and the CUDA kernels (src/post/cuda/post_ctc.cu, post_dbnet.cu), written once so that
 * both sides compute bit-identical results: double arithmetic goes through the _rn intrinsics on
 * the device (never fused into FMAs), exp is our own polynomial (not libm's), sums run in a fixed
 * order (CTC: 32 lanes then a fixed tree; DBNet box scores: 64-bit fixed point, so the order does
 * not matter), and the convex hull of a region is built from its per-row extremes in one way.
 * Also the C interface of those kernels (pk_ctc_*, pk_dbnet_*). */
#ifndef VIDGRAPH_POST_TEXT_H
#define VIDGRAPH_POST_TEXT_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__CUDA_ARCH__)
#include <math.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define PT_HD __host__ __device__ __forceinline__
#else
#define PT_HD static inline
#endif

#if defined(__CUDA_ARCH__)
#define PT_DMUL(a, b) __dmul_rn((a), (b))
#define PT_DADD(a, b) __dadd_rn((a), (b))
#define PT_DSUB(a, b) __dsub_rn((a), (b))
#define PT_DDIV(a, b) __ddiv_rn((a), (b))
#define PT_DSQRT(a) __dsqrt_rn(a)
#define PT_LLRINT(a) __double2ll_rn(a)
#else
#define PT_DMUL(a, b) ((a) * (b))
#define PT_DADD(a, b) ((a) + (b))
#define PT_DSUB(a, b) ((a) - (b))
#define PT_DDIV(a, b) ((a) / (b))
#define PT_DSQRT(a) sqrt(a)
#define PT_LLRINT(a) llrint(a)
#endif

/* ================================================================== CTC greedy decoding */

/* Sums over the classes of one time step run in PT_CTC_LANES interleaved partial sums (lane l
 * takes classes l, l + 32, ... in order), then lanes l and l + off are added for off = 16, 8, 4,
 * 2, 1: a warp does exactly this with shuffles, the CPU with two loops. */
#define PT_CTC_LANES 32

/* exp(x) for the softmax of logits: Cody-Waite reduction by ln 2 and a degree-13 Taylor
 * polynomial (|r| <= 0.35: error below 1 ulp of the result's 2^-52 scale), then 2^k by exact
 * scaling. NaN in, NaN out; x < -745 gives 0, x > 709 gives +inf. */
PT_HD double pt_exp(double x) {
  if (x != x) return x;
  if (x < -745.0) return 0.0;
  if (x > 709.0) return 1.0 / 0.0;
  double k = PT_DMUL(x, 1.4426950408889634); /* x / ln 2 */
  k = k < 0 ? -(double)(int64_t)(0.5 - k) : (double)(int64_t)(k + 0.5);
  double r = PT_DSUB(PT_DSUB(x, PT_DMUL(k, 6.93147180369123816490e-01)),
                     PT_DMUL(k, 1.90821492927058770002e-10));
  double p = 1.0 / 6227020800.0; /* 1/13!, then Horner down to 1/0! */
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 479001600.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 39916800.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 3628800.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 362880.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 40320.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 5040.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 720.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 120.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 24.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0 / 6.0);
  p = PT_DADD(PT_DMUL(p, r), 0.5);
  p = PT_DADD(PT_DMUL(p, r), 1.0);
  p = PT_DADD(PT_DMUL(p, r), 1.0);
  /* scale by 2^k in two exact steps (k can be -1075..1023) */
  int ki = (int)k, k1 = ki / 2, k2 = ki - k1;
  union {
    double d;
    uint64_t u;
  } s1, s2;
  s1.u = (uint64_t)(k1 + 1023) << 52;
  s2.u = (uint64_t)(k2 + 1023) << 52;
  return PT_DMUL(PT_DMUL(p, s1.d), s2.d);
}

/* One time step's result (the device fills these for every row; the CPU twin the same way). */
typedef struct pt_ctc_row {
  int32_t best;  /* argmax class: first of the maxima; NaN never wins except at class 0 */
  float best_v;  /* its value */
  int32_t probs; /* 1 when every value is in [0, 1] and they sum to 1 +- 0.01 */
  int32_t pad_;
  double expsum; /* sum of exp(v - best_v) over the classes (for logits) */
} pt_ctc_row;

/* Combines the per-lane partial sums in place into part[0] (the fixed tree). */
PT_HD double pt_ctc_tree(double *part) {
  for (int off = PT_CTC_LANES / 2; off >= 1; off /= 2)
    for (int l = 0; l < off; l++)
      part[l] = PT_DADD(part[l], part[l + off]);
  return part[0];
}

/* Argmax step of one lane / of the sequential CPU loop: takes (v, c) when better. */
PT_HD void pt_argmax_take(float v, int32_t c, float *bv, int32_t *best) {
  if (*best < 0 ? !(v != v) : v > *bv) *bv = v, *best = c;
}

/* Merges two lanes' argmax results: the greater value, ties to the lower class. */
PT_HD void pt_argmax_merge(float v, int32_t c, float *bv, int32_t *best) {
  if (c < 0) return;
  if (*best < 0 || v > *bv || (v == *bv && c < *best)) *bv = v, *best = c;
}

/* Per-sample pass over the rows of one sample (T steps): collapse repeats, drop blanks, and the
 * probability of each kept step. logits: apply the softmax (p = 1 / expsum). Writes the kept
 * classes and probabilities and returns their count; *conf gets the sum of the kept
 * probabilities, added in step order. */
PT_HD int pt_ctc_collapse(const pt_ctc_row *rows, int T, int logits, int32_t *cls, float *prob,
                          double *conf) {
  int kept = 0;
  int32_t prev = -1;
  double sum = 0;
  for (int s = 0; s < T; s++) {
    int32_t best = rows[s].best;
    int keep = best != 0 && best != prev;
    prev = best;
    if (!keep) continue;
    float p = logits ? (float)PT_DDIV(1.0, rows[s].expsum) : rows[s].best_v;
    sum = PT_DADD(sum, (double)p);
    cls[kept] = best;
    prob[kept] = p;
    kept++;
  }
  *conf = sum;
  return kept;
}

/* What one sample's decoding leaves for the host: count, the sum of probabilities, and (in
 * separate arrays of T entries per sample) the kept classes and probabilities. */
typedef struct pt_ctc_sample {
  int32_t kept;
  int32_t logits;
  double conf;
} pt_ctc_sample;

typedef struct pt_ctc_args {
  const void *data; /* device pointer to element [0, 0, 0] */
  int f16;
  int64_t stride_n, stride_t, stride_c; /* elements */
  int n, t, c;
  int input; /* vg_ctc_input: 0 auto, 1 probs, 2 logits */
} pt_ctc_args;

typedef struct pt_ctc_ws pt_ctc_ws;
pt_ctc_ws *pt_ctc_ws_create(int device);
void pt_ctc_ws_destroy(pt_ctc_ws *w);
/* Bytes of the host result of n samples of t steps: pt_ctc_sample[n], then int32 classes
 * [n * t], then float probabilities [n * t] (sample i's kept entries at i * t). */
PT_HD size_t pt_ctc_host_bytes(int n, int t) {
  return (size_t)n * sizeof(pt_ctc_sample) + (size_t)n * (size_t)t * (sizeof(int32_t) + 4);
}
/* Decodes all samples on `stream` and copies the compact result into host (room for
 * pt_ctc_host_bytes). Returns 0 or a cudaError_t value; err gets a message. */
int pt_ctc_run(pt_ctc_ws *w, const pt_ctc_args *a, void *stream, void *host, char *err,
               size_t errcap);

/* ================================================================== DBNet geometry */

typedef struct pt_pt {
  double x, y;
} pt_pt;

PT_HD double pt_cross3(const pt_pt *o, const pt_pt *a, const pt_pt *b) {
  return PT_DSUB(PT_DMUL(PT_DSUB(a->x, o->x), PT_DSUB(b->y, o->y)),
                 PT_DMUL(PT_DSUB(a->y, o->y), PT_DSUB(b->x, o->x)));
}

/* Andrew's monotone chain over n points sorted lexicographically (by x then y, or by y then x:
 * any strict order along a direction), keeping strictly convex turns. hull needs room for 2n+1.
 * Then the hull is rotated to start at its smallest (x, y) point, so that the result does not
 * depend on which order was used: counter-clockwise in a y-up frame, collinear points dropped. */
PT_HD int pt_hull_sorted(const pt_pt *p, int n, pt_pt *hull) {
  if (n <= 0) return 0;
  int k = 0;
  for (int i = 0; i < n; i++) { /* first chain */
    while (k >= 2 && pt_cross3(&hull[k - 2], &hull[k - 1], &p[i]) <= 0)
      k--;
    hull[k++] = p[i];
  }
  for (int i = n - 1, t = k + 1; i-- > 0;) { /* second chain */
    while (k >= t && pt_cross3(&hull[k - 2], &hull[k - 1], &p[i]) <= 0)
      k--;
    hull[k++] = p[i];
  }
  if (k > 1) k--; /* the last point repeats the first */
  if (k == 2 && hull[0].x == hull[1].x && hull[0].y == hull[1].y) k = 1;
  int s = 0;
  for (int i = 1; i < k; i++)
    if (hull[i].x < hull[s].x || (hull[i].x == hull[s].x && hull[i].y < hull[s].y)) s = i;
  if (s > 0) { /* rotate left by s, in place (the spare room after k holds the head) */
    for (int i = 0; i < s; i++)
      hull[k + i] = hull[i];
    for (int i = 0; i < k; i++)
      hull[i] = hull[i + s];
  }
  return k;
}

/* Sorts a few points by (x, y) (insertion sort: the same order as any sort, values being equal
 * only when the points are). */
PT_HD void pt_sort_xy(pt_pt *p, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && (p[j].x < p[j - 1].x || (p[j].x == p[j - 1].x && p[j].y < p[j - 1].y));
         j--) {
      pt_pt t = p[j];
      p[j] = p[j - 1], p[j - 1] = t;
    }
}

/* Hull of a region given by its per-row extreme x (rows ylo..ylo+nrows-1; rmin <= rmax): the
 * points (rmin, y) and, when different, (rmax, y), which are already sorted by (y, x). pts needs
 * room for 2 nrows, hull for 4 nrows + 1. */
PT_HD int pt_hull_rows(const int32_t *rmin, const int32_t *rmax, int ylo, int nrows, pt_pt *pts,
                       pt_pt *hull) {
  int n = 0;
  for (int r = 0; r < nrows; r++) {
    pt_pt a = {(double)rmin[r], (double)(ylo + r)};
    pts[n++] = a;
    if (rmax[r] != rmin[r]) {
      pt_pt b = {(double)rmax[r], (double)(ylo + r)};
      pts[n++] = b;
    }
  }
  return pt_hull_sorted(pts, n, hull);
}

PT_HD double pt_len(double dx, double dy) {
  return PT_DSQRT(PT_DADD(PT_DMUL(dx, dx), PT_DMUL(dy, dy)));
}

PT_HD double pt_dotv(pt_pt a, double ex, double ey) {
  return PT_DADD(PT_DMUL(a.x, ex), PT_DMUL(a.y, ey));
}

/* Rectangle of hull edge i from the caliper indices (l: min along e, r: max along e, t: max
 * along the inward normal). */
PT_HD void pt_edge_rect(const pt_pt *h, int m, int i, int l, int r, int t, pt_pt out[4],
                        double *area) {
  pt_pt a = h[i], b = h[(i + 1) % m];
  double len = pt_len(PT_DSUB(b.x, a.x), PT_DSUB(b.y, a.y));
  double ex = PT_DDIV(PT_DSUB(b.x, a.x), len), ey = PT_DDIV(PT_DSUB(b.y, a.y), len), nx = -ey,
         ny = ex;
  double lo = PT_DADD(PT_DMUL(PT_DSUB(h[l].x, a.x), ex), PT_DMUL(PT_DSUB(h[l].y, a.y), ey));
  double hi = PT_DADD(PT_DMUL(PT_DSUB(h[r].x, a.x), ex), PT_DMUL(PT_DSUB(h[r].y, a.y), ey));
  double ht = PT_DADD(PT_DMUL(PT_DSUB(h[t].x, a.x), nx), PT_DMUL(PT_DSUB(h[t].y, a.y), ny));
  *area = PT_DMUL(PT_DSUB(hi, lo), ht);
  out[0].x = PT_DADD(a.x, PT_DMUL(ex, lo)), out[0].y = PT_DADD(a.y, PT_DMUL(ey, lo));
  out[1].x = PT_DADD(a.x, PT_DMUL(ex, hi)), out[1].y = PT_DADD(a.y, PT_DMUL(ey, hi));
  out[2].x = PT_DADD(out[1].x, PT_DMUL(nx, ht)), out[2].y = PT_DADD(out[1].y, PT_DMUL(ny, ht));
  out[3].x = PT_DADD(out[0].x, PT_DMUL(nx, ht)), out[3].y = PT_DADD(out[0].y, PT_DMUL(ny, ht));
}

/* Minimum-area enclosing rectangle of a convex hull of m >= 1 points (rotating calipers; the
 * first edge of least area wins, 1e-9 slack). */
PT_HD void pt_min_rect_hull(const pt_pt *h, int m, pt_pt rect[4]) {
  if (m <= 2) {
    pt_pt a = h[0], b = h[m == 2 ? 1 : 0];
    rect[0] = a, rect[1] = b, rect[2] = b, rect[3] = a;
    return;
  }
  /* hull is counter-clockwise in a y-up frame, so the inward normal of edge a -> b is (-ey, ex) */
  int l = 0, r = 0, t = 0;
  double best = 1.0 / 0.0;
  for (int i = 0; i < m; i++) {
    pt_pt a = h[i], b = h[(i + 1) % m];
    double len = pt_len(PT_DSUB(b.x, a.x), PT_DSUB(b.y, a.y));
    double ex = PT_DDIV(PT_DSUB(b.x, a.x), len), ey = PT_DDIV(PT_DSUB(b.y, a.y), len);
    if (i == 0) { /* initial caliper positions by a scan */
      for (int k = 1; k < m; k++) {
        if (pt_dotv(h[k], ex, ey) > pt_dotv(h[r], ex, ey)) r = k;
        if (pt_dotv(h[k], ex, ey) < pt_dotv(h[l], ex, ey)) l = k;
        if (pt_dotv(h[k], -ey, ex) > pt_dotv(h[t], -ey, ex)) t = k;
      }
    } else { /* calipers only move forward */
      for (int s = 0; s < m && pt_dotv(h[(r + 1) % m], ex, ey) >= pt_dotv(h[r], ex, ey); s++)
        r = (r + 1) % m;
      for (int s = 0; s < m && pt_dotv(h[(t + 1) % m], -ey, ex) >= pt_dotv(h[t], -ey, ex); s++)
        t = (t + 1) % m;
      for (int s = 0; s < m && pt_dotv(h[(l + 1) % m], ex, ey) <= pt_dotv(h[l], ex, ey); s++)
        l = (l + 1) % m;
    }
    pt_pt cand[4];
    double area;
    pt_edge_rect(h, m, i, l, r, t, cand, &area);
    if (area < PT_DSUB(best, 1e-9)) {
      best = area;
      for (int k = 0; k < 4; k++)
        rect[k] = cand[k];
    }
  }
}

/* PP-OCR's get_mini_boxes order: top-left, top-right, bottom-right, bottom-left (a stable sort
 * by x, like Python's sorted, then by y within each pair). */
PT_HD void pt_order_ppocr(const pt_pt in[4], pt_pt out[4]) {
  pt_pt p[4] = {in[0], in[1], in[2], in[3]};
  for (int i = 1; i < 4; i++)
    for (int j = i; j > 0 && p[j].x < p[j - 1].x; j--) {
      pt_pt t = p[j];
      p[j] = p[j - 1], p[j - 1] = t;
    }
  pt_pt tl, bl, tr, br;
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

PT_HD double pt_side(const pt_pt *a, const pt_pt *b) {
  return pt_len(PT_DSUB(a->x, b->x), PT_DSUB(a->y, b->y));
}

/* Ordered min-area rectangle of a hull; returns its shorter side. */
PT_HD double pt_mini_box(const pt_pt *hull, int m, pt_pt out[4]) {
  pt_pt r[4];
  pt_min_rect_hull(hull, m, r);
  pt_order_ppocr(r, out);
  double a = pt_side(&out[0], &out[1]), b = pt_side(&out[0], &out[3]);
  return a < b ? a : b;
}

/* Grows the rectangle q (PP-OCR order) by area * ratio / perimeter on every side. */
PT_HD void pt_unclip(const pt_pt q[4], double ratio, pt_pt out[4]) {
  double w = pt_side(&q[0], &q[1]), h = pt_side(&q[0], &q[3]);
  double d =
      w > 0 && h > 0 ? PT_DDIV(PT_DMUL(PT_DMUL(w, h), ratio), PT_DMUL(2.0, PT_DADD(w, h))) : 0;
  double ux = w > 0 ? PT_DDIV(PT_DSUB(q[1].x, q[0].x), w) : 1;
  double uy = w > 0 ? PT_DDIV(PT_DSUB(q[1].y, q[0].y), w) : 0;
  double vx = h > 0 ? PT_DDIV(PT_DSUB(q[3].x, q[0].x), h) : -uy;
  double vy = h > 0 ? PT_DDIV(PT_DSUB(q[3].y, q[0].y), h) : ux;
  const double su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
  for (int i = 0; i < 4; i++) {
    out[i].x = PT_DADD(q[i].x, PT_DMUL(d, PT_DADD(PT_DMUL(su[i], ux), PT_DMUL(sv[i], vx))));
    out[i].y = PT_DADD(q[i].y, PT_DMUL(d, PT_DADD(PT_DMUL(su[i], uy), PT_DMUL(sv[i], vy))));
  }
}

/* The pixel window and the integer corners of PP-OCR's box_score_fast for quad q on a w x h
 * map: pixels x0..x1, y0..y1; qi = the corners truncated towards zero. */
typedef struct pt_scorebox {
  int x0, x1, y0, y1;
  double qi[4][2];
} pt_scorebox;

PT_HD double pt_clampd(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

PT_HD void pt_score_box(const pt_pt q[4], int w, int h, pt_scorebox *sb) {
  double xmn = q[0].x, xmx = q[0].x, ymn = q[0].y, ymx = q[0].y;
  for (int i = 1; i < 4; i++) {
    xmn = q[i].x < xmn ? q[i].x : xmn, xmx = q[i].x > xmx ? q[i].x : xmx;
    ymn = q[i].y < ymn ? q[i].y : ymn, ymx = q[i].y > ymx ? q[i].y : ymx;
  }
  sb->x0 = (int)pt_clampd(floor(xmn), 0, w - 1), sb->x1 = (int)pt_clampd(ceil(xmx), 0, w - 1);
  sb->y0 = (int)pt_clampd(floor(ymn), 0, h - 1), sb->y1 = (int)pt_clampd(ceil(ymx), 0, h - 1);
  for (int i = 0; i < 4; i++)
    sb->qi[i][0] = trunc(q[i].x), sb->qi[i][1] = trunc(q[i].y);
}

/* Whether pixel (x, y) counts for the box score: not strictly on both sides of the quad's edges
 * (edges included). */
PT_HD int pt_score_inside(const pt_scorebox *sb, int x, int y) {
  int pos = 0, neg = 0;
  for (int i = 0; i < 4; i++) {
    const double *a = sb->qi[i], *b = sb->qi[(i + 1) % 4];
    double c = PT_DSUB(PT_DMUL(PT_DSUB(b[0], a[0]), PT_DSUB((double)y, a[1])),
                       PT_DMUL(PT_DSUB(b[1], a[1]), PT_DSUB((double)x, a[0])));
    pos += c > 1e-9, neg += c < -1e-9;
  }
  return !(pos && neg);
}

/* Box scores are sums of map values in 64-bit fixed point (32 fraction bits), which any order
 * adds up identically. Values are clamped to [-4, 4] (NaN counts as -4) so that 2^28 pixels
 * cannot overflow. */
#define PT_FIX_ONE 4294967296.0
PT_HD int64_t pt_score_fix(float v) {
  double d = (double)v;
  if (!(d >= -4.0)) d = -4.0;
  if (d > 4.0) d = 4.0;
  return (int64_t)PT_LLRINT(PT_DMUL(d, PT_FIX_ONE));
}

PT_HD float pt_score_mean(int64_t sum, int64_t cnt) {
  if (cnt <= 0) return 0.f;
  return (float)PT_DDIV(PT_DDIV((double)sum, PT_FIX_ONE), (double)cnt);
}

/* What comes back per kept region: the final rectangle in map coordinates (PP-OCR order) and
 * the box score. */
typedef struct pt_db_box {
  pt_pt q[4];
  float score;
  int32_t region; /* index of the region in raster order of its first pixel */
} pt_db_box;

typedef struct pt_db_args {
  const void *data; /* device pointer to pixel (0, 0) of the image */
  int f16;
  int64_t sy, sx; /* elements */
  int w, h;
  float thresh, box_thresh, min_size;
  double unclip_ratio;
  int max_candidates;
} pt_db_args;

typedef struct pt_db_ws pt_db_ws;
pt_db_ws *pt_db_ws_create(int device);
void pt_db_ws_destroy(pt_db_ws *w);
/* Decodes one map on `stream`: threshold, 8-connected labelling, per-row extremes of the first
 * max_candidates regions, hulls, rectangles, scores and unclip, all on the device; then copies
 * the kept boxes (region order) to the host buffer *out (grown with realloc, capacity *cap) and
 * sets *nout and *nregions (regions seen, capped at max_candidates). Returns 0 or a cudaError_t
 * value (-1: host out of memory); err gets a message. */
int pt_db_run(pt_db_ws *w, const pt_db_args *a, void *stream, pt_db_box **out, size_t *cap,
              int *nout, int *nregions, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
