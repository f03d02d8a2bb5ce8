/* test_imgproc_common.h - helpers of the imgproc tests: a deterministic random generator,
 * frames with pitches larger than their rows (padding filled with garbage), tensor reads, and
 * independent reference formulas (colour matrices from Kr/Kb, bilinear/nearest sampling in
 * double precision) that the CPU twins are compared against. Written separately from
 * src/imgproc on purpose: nothing here includes the library's private headers. */
#ifndef VIDGRAPH_TEST_IMGPROC_COMMON_H
#define VIDGRAPH_TEST_IMGPROC_COMMON_H

#include "vg_test.h"
#include "vidgraph/vg_imgproc.h"

#include <math.h>

/* ----------------------------------------------------------------- random numbers */

static uint64_t t_rng = 0x9e3779b97f4a7c15ULL;
static inline uint32_t t_rand(void) {
  t_rng ^= t_rng << 13;
  t_rng ^= t_rng >> 7;
  t_rng ^= t_rng << 17;
  return (uint32_t)(t_rng >> 11);
}
static inline int t_randi(int lo, int hi) { /* inclusive */
  return lo + (int)(t_rand() % (uint32_t)(hi - lo + 1));
}
static inline float t_randf(float lo, float hi) {
  return lo + (hi - lo) * (float)(t_rand() % 1000001u) / 1000000.f;
}

/* ----------------------------------------------------------------- frames */

/* A host frame of fmt with pitch = row bytes + extra, random pixels, random garbage padding. */
static inline vg_frame t_frame(vg_pixfmt fmt, int w, int h, int extra) {
  vg_frame f;
  memset(&f, 0, sizeof f);
  f.format = fmt;
  f.width = w;
  f.height = h;
  f.nplanes = fmt == VG_PIX_NV12 ? 2 : 1;
  f.pts = INT64_MIN;
  size_t total = 0;
  for (int p = 0; p < f.nplanes; p++) {
    size_t wb = fmt == VG_PIX_NV12 ? (p == 0 ? (size_t)w : (size_t)((w + 1) / 2) * 2)
                                   : (size_t)w * (fmt == VG_PIX_GRAY8 ? 1 : 3);
    int rows = (fmt == VG_PIX_NV12 && p == 1) ? (h + 1) / 2 : h;
    f.pitch[p] = (int)wb + extra;
    f.plane_offset[p] = total;
    total += (size_t)f.pitch[p] * rows;
  }
  if (vg_buffer_alloc(vg_cpu(), total, NULL, &f.buffer) != VG_OK) abort();
  uint8_t *d = vg_buffer_data(f.buffer);
  for (size_t i = 0; i < total; i++)
    d[i] = (uint8_t)t_rand();
  return f;
}

static inline const uint8_t *t_px(const vg_frame *f, int plane, int x_bytes, int y) {
  return vg_frame_plane(f, plane) + (size_t)y * f->pitch[plane] + x_bytes;
}

/* ----------------------------------------------------------------- tensors */

static inline float t_tget(const vg_tensor *t, int64_t idx) {
  if (t->dtype == VG_DTYPE_F16) return vg_f16_to_f32(((uint16_t *)vg_tensor_data(t))[idx]);
  return ((float *)vg_tensor_data(t))[idx];
}

/* Value of item n, channel c, row y, column x of an NCHW or NHWC tensor. */
static inline float t_at(const vg_tensor *t, vg_layout l, int n, int c, int y, int x) {
  if (l == VG_LAYOUT_NCHW)
    return t_tget(t, ((n * t->shape[1] + c) * t->shape[2] + y) * t->shape[3] + x);
  return t_tget(t, ((n * t->shape[1] + y) * t->shape[2] + x) * t->shape[3] + c);
}

static inline vg_tensor t_tensor(vg_dtype dt, vg_layout l, int n, int h, int w) {
  int64_t shape[4] = {n, 3, h, w};
  if (l == VG_LAYOUT_NHWC) shape[1] = h, shape[2] = w, shape[3] = 3;
  vg_tensor t;
  if (vg_tensor_alloc(dt, 4, shape, vg_cpu(), NULL, &t) != VG_OK) abort();
  memset(vg_tensor_data(&t), 0xee, vg_tensor_nbytes(&t));
  return t;
}

/* ----------------------------------------------------------------- reference colour */

/* Textbook YUV -> RGB (double, unclamped) for a colorspace and range. */
static inline void t_yuv2rgb(vg_colorspace cs, bool full, double y, double u, double v,
                             double rgb[3]) {
  double kr = cs == VG_CS_BT709 ? 0.2126 : 0.299, kb = cs == VG_CS_BT709 ? 0.0722 : 0.114;
  double kg = 1 - kr - kb;
  double yy = full ? y : (y - 16) * 255.0 / 219.0;
  double pb = (u - 128) / (full ? 255.0 : 224.0), pr = (v - 128) / (full ? 255.0 : 224.0);
  /* E'R = Y + 2(1-Kr) Pr, E'B = Y + 2(1-Kb) Pb, E'G = (Y - Kr R - Kb B) / Kg, in 0..255 */
  double r = yy + 255.0 * 2 * (1 - kr) * pr, b = yy + 255.0 * 2 * (1 - kb) * pb;
  double g = (yy - kr * r - kb * b) / kg;
  rgb[0] = r, rgb[1] = g, rgb[2] = b;
}

static inline double t_clamp255(double v) {
  return v < 0 ? 0 : (v > 255 ? 255 : v);
}

/* ----------------------------------------------------------------- reference sampling */

/* How an output pixel maps to the source: affine region or homography (pixel-centre based). */
typedef struct t_map {
  int persp;
  double sx0, sy0, rx, ry; /* affine: f = s0 + (u + 0.5) * r - 0.5 */
  double H[9];             /* perspective: (X, Y, W) = H (uc, vc, 1); f = X/W - 0.5 */
  int dx, dy, dw, dh;      /* content rectangle in the output */
} t_map;

static inline double t_bilin(const vg_frame *f, int plane, int w, int h, int step, int off,
                             double fx, double fy) {
  if (fx < -1) fx = -1;
  if (fy < -1) fy = -1;
  if (fx > w) fx = w;
  if (fy > h) fy = h;
  int x0 = (int)floor(fx), y0 = (int)floor(fy);
  double ax = fx - x0, ay = fy - y0;
  int xs[2] = {x0 < 0 ? 0 : (x0 > w - 1 ? w - 1 : x0),
               x0 + 1 > w - 1 ? w - 1 : (x0 + 1 < 0 ? 0 : x0 + 1)};
  int ys[2] = {y0 < 0 ? 0 : (y0 > h - 1 ? h - 1 : y0),
               y0 + 1 > h - 1 ? h - 1 : (y0 + 1 < 0 ? 0 : y0 + 1)};
  double p[2][2];
  for (int j = 0; j < 2; j++)
    for (int i = 0; i < 2; i++)
      p[j][i] = t_px(f, plane, xs[i] * step + off, ys[j])[0];
  return (1 - ay) * ((1 - ax) * p[0][0] + ax * p[0][1]) + ay * ((1 - ax) * p[1][0] + ax * p[1][1]);
}

/* Nearest index candidates of a pixel-centre coordinate: one, or two when within eps of a tie. */
static inline int t_near(double f, int n, int cand[2]) {
  if (f < -1) f = -1;
  if (f > n) f = n;
  double g = f + 0.5;
  int a = (int)floor(g);
  int cnt = 1;
  cand[0] = a;
  if (g - a < 1e-3)
    cand[cnt++] = a - 1;
  else if (a + 1 - g < 1e-3)
    cand[cnt++] = a + 1;
  for (int i = 0; i < cnt; i++)
    cand[i] = cand[i] < 0 ? 0 : (cand[i] > n - 1 ? n - 1 : cand[i]);
  return cnt;
}

/* RGB (0..255) of frame f at pixel-centre coordinate (fx, fy) with textbook formulas.
 * Nearest: returns the candidates (up to 4) in rgbs and their count. */
static inline int t_sample(const vg_frame *f, double fx, double fy, bool nearest,
                           double rgbs[4][3]) {
  int W = f->width, H = f->height;
  if (!nearest) {
    if (f->format == VG_PIX_NV12) {
      int cw = (W + 1) / 2, ch = (H + 1) / 2;
      double cx = (fx + 0.5) / 2 - 0.5, cy = (fy + 0.5) / 2 - 0.5;
      double y = t_bilin(f, 0, W, H, 1, 0, fx, fy);
      double u = t_bilin(f, 1, cw, ch, 2, 0, cx, cy), v = t_bilin(f, 1, cw, ch, 2, 1, cx, cy);
      t_yuv2rgb(f->colorspace, f->full_range, y, u, v, rgbs[0]);
      for (int c = 0; c < 3; c++)
        rgbs[0][c] = t_clamp255(rgbs[0][c]);
    } else {
      int step = f->format == VG_PIX_GRAY8 ? 1 : 3;
      double c3[3];
      for (int c = 0; c < step; c++)
        c3[c] = t_bilin(f, 0, W, H, step, c, fx, fy);
      for (int c = 0; c < 3; c++)
        rgbs[0][c] = step == 1 ? c3[0] : c3[f->format == VG_PIX_BGR24 ? 2 - c : c];
    }
    return 1;
  }
  int xc[2], yc[2], nx = t_near(fx, W, xc), ny = t_near(fy, H, yc), k = 0;
  for (int j = 0; j < ny; j++) {
    for (int i = 0; i < nx; i++, k++) {
      int x = xc[i], y = yc[j];
      if (f->format == VG_PIX_NV12) {
        const uint8_t *uv = t_px(f, 1, (x / 2) * 2, y / 2);
        t_yuv2rgb(f->colorspace, f->full_range, t_px(f, 0, x, y)[0], uv[0], uv[1], rgbs[k]);
        for (int c = 0; c < 3; c++)
          rgbs[k][c] = t_clamp255(rgbs[k][c]);
      } else if (f->format == VG_PIX_GRAY8) {
        rgbs[k][0] = rgbs[k][1] = rgbs[k][2] = t_px(f, 0, x, y)[0];
      } else {
        const uint8_t *p = t_px(f, 0, x * 3, y);
        for (int c = 0; c < 3; c++)
          rgbs[k][c] = p[f->format == VG_PIX_BGR24 ? 2 - c : c];
      }
    }
  }
  return k;
}

/* Compares item n of out with the reference of map m over frame f. mean/stdv in 0..1 units in
 * output channel order, pad in pixel units. Returns the largest error found relative to
 * max(1, |expected|), reporting the first failure beyond tol. */
static inline double t_check_item(const vg_tensor *out, vg_layout l, int n, const vg_frame *f,
                                  const t_map *m, bool nearest, bool bgr, const double mean[3],
                                  const double stdv[3], double pad, double tol) {
  int H = (int)(l == VG_LAYOUT_NCHW ? out->shape[2] : out->shape[1]);
  int W = (int)(l == VG_LAYOUT_NCHW ? out->shape[3] : out->shape[2]);
  double worst = 0;
  for (int oy = 0; oy < H; oy++) {
    for (int ox = 0; ox < W; ox++) {
      int u = ox - m->dx, v = oy - m->dy, inside = u >= 0 && v >= 0 && u < m->dw && v < m->dh;
      double rgbs[4][3];
      int k = 1;
      if (inside) {
        double fx, fy;
        if (!m->persp) {
          fx = m->sx0 + (u + 0.5) * m->rx - 0.5, fy = m->sy0 + (v + 0.5) * m->ry - 0.5;
        } else {
          double uc = u + 0.5, vc = v + 0.5, w = m->H[6] * uc + m->H[7] * vc + m->H[8];
          fx = (m->H[0] * uc + m->H[1] * vc + m->H[2]) / w - 0.5;
          fy = (m->H[3] * uc + m->H[4] * vc + m->H[5]) / w - 0.5;
        }
        k = t_sample(f, fx, fy, nearest, rgbs);
      } else {
        rgbs[0][0] = rgbs[0][1] = rgbs[0][2] = pad;
      }
      double best = 1e30;
      for (int cand = 0; cand < k; cand++) {
        double e = 0;
        for (int c = 0; c < 3; c++) {
          double want = (rgbs[cand][bgr ? 2 - c : c] / 255.0 - mean[c]) / stdv[c];
          double got = t_at(out, l, n, c, oy, ox);
          double d = fabs(got - want) / (fabs(want) > 1 ? fabs(want) : 1);
          if (d > e) e = d;
        }
        if (e < best) best = e;
      }
      if (best > worst) worst = best;
      if (best > tol) {
        print_error("item %d pixel (%d,%d) %s: error %g > %g (got %g %g %g)\n", n, ox, oy,
                    inside ? "inside" : "padding", best, tol, t_at(out, l, n, 0, oy, ox),
                    t_at(out, l, n, 1, oy, ox), t_at(out, l, n, 2, oy, ox));
        return best;
      }
    }
  }
  return worst;
}

#endif
