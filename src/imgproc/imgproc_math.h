/* imgproc_math.h - the per-pixel formulas of imgproc, written once and compiled both into the
 * CPU twins (C) and the CUDA kernels (device code), so that both compute the same numbers:
 * sampling coordinates, bilinear/nearest taps, YUV <-> RGB (float and Q16 integer), overlay
 * coverage. Float arithmetic goes through VG_FMUL/VG_FADD, which are IEEE round-to-nearest
 * operations on both sides (no fused multiply-add on the GPU), so coordinates and therefore the
 * chosen source pixels agree bit for bit. */
#ifndef VIDGRAPH_IMGPROC_MATH_H
#define VIDGRAPH_IMGPROC_MATH_H

#include <math.h>
#include <stdint.h>

#include "imgproc/imgproc_internal.h"

#ifdef __CUDACC__
#define VG_IP_FN static __host__ __device__ __forceinline__
#else
#define VG_IP_FN static inline
#endif

#if defined(__CUDA_ARCH__)
#define VG_FMUL(a, b) __fmul_rn((a), (b))
#define VG_FADD(a, b) __fadd_rn((a), (b))
#define VG_FDIV(a, b) __fdiv_rn((a), (b))
#define VG_LD8(p) __ldg(p)
#else
#define VG_FMUL(a, b) ((float)(a) * (float)(b))
#define VG_FADD(a, b) ((float)(a) + (float)(b))
#define VG_FDIV(a, b) ((float)(a) / (float)(b))
#define VG_LD8(p) (*(p))
#endif

VG_IP_FN int vg_ip_clampi(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

VG_IP_FN float vg_ip_clampf(float v, float lo, float hi) {
  return fminf(fmaxf(v, lo), hi);
}

/* a + t * (b - a) */
VG_IP_FN float vg_ip_lerp(float a, float b, float t) {
  return VG_FADD(a, VG_FMUL(t, VG_FADD(b, -a)));
}

/* ----------------------------------------------------------------- coordinates */

/* Source pixel-centre coordinate of output pixel (u, v) of an item (see vg_ip_item). */
VG_IP_FN void vg_ip_map(const vg_ip_item *it, int u, int v, float *fx, float *fy) {
  float uc = VG_FADD((float)u, 0.5f), vc = VG_FADD((float)v, 0.5f);
  const float *m = it->m;
  if (!it->perspective) {
    *fx = VG_FADD(VG_FADD(m[0], VG_FMUL(uc, m[1])), -0.5f);
    *fy = VG_FADD(VG_FADD(m[2], VG_FMUL(vc, m[3])), -0.5f);
    return;
  }
  float X = VG_FADD(VG_FADD(VG_FMUL(m[0], uc), VG_FMUL(m[1], vc)), m[2]);
  float Y = VG_FADD(VG_FADD(VG_FMUL(m[3], uc), VG_FMUL(m[4], vc)), m[5]);
  float W = VG_FADD(VG_FADD(VG_FMUL(m[6], uc), VG_FMUL(m[7], vc)), m[8]);
  *fx = VG_FADD(VG_FDIV(X, W), -0.5f);
  *fy = VG_FADD(VG_FDIV(Y, W), -0.5f);
}

/* Bilinear taps on a w x h grid: columns x0, x1, rows y0, y1 (clamped to the grid: edge pixels
 * are replicated) and weights ax, ay of x1 and y1. */
typedef struct vg_ip_taps {
  int x0, x1, y0, y1;
  float ax, ay;
} vg_ip_taps;

VG_IP_FN vg_ip_taps vg_ip_bilinear_taps(float fx, float fy, int w, int h) {
  vg_ip_taps t;
  /* clamping first keeps the float->int conversion defined (NaN becomes -1) and does not change
   * the result: beyond the edge both taps land on the edge pixel */
  fx = vg_ip_clampf(fx, -1.f, (float)w);
  fy = vg_ip_clampf(fy, -1.f, (float)h);
  float xf = floorf(fx), yf = floorf(fy);
  t.ax = VG_FADD(fx, -xf);
  t.ay = VG_FADD(fy, -yf);
  int xi = (int)xf, yi = (int)yf;
  t.x0 = vg_ip_clampi(xi, 0, w - 1);
  t.x1 = vg_ip_clampi(xi + 1, 0, w - 1);
  t.y0 = vg_ip_clampi(yi, 0, h - 1);
  t.y1 = vg_ip_clampi(yi + 1, 0, h - 1);
  return t;
}

/* Nearest pixel of a pixel-centre coordinate: floor(f + 0.5), clamped. */
VG_IP_FN int vg_ip_nearest(float f, int n) {
  f = vg_ip_clampf(f, -1.f, (float)n);
  return vg_ip_clampi((int)floorf(VG_FADD(f, 0.5f)), 0, n - 1);
}

/* Bilinear value of channel `off` of a plane with `step` bytes per pixel. */
VG_IP_FN float vg_ip_bilinear(const uint8_t *base, int pitch, int step, int off,
                              const vg_ip_taps *t) {
  const uint8_t *r0 = base + (size_t)t->y0 * (size_t)pitch + off;
  const uint8_t *r1 = base + (size_t)t->y1 * (size_t)pitch + off;
  float p00 = (float)VG_LD8(r0 + t->x0 * step), p01 = (float)VG_LD8(r0 + t->x1 * step);
  float p10 = (float)VG_LD8(r1 + t->x0 * step), p11 = (float)VG_LD8(r1 + t->x1 * step);
  return vg_ip_lerp(vg_ip_lerp(p00, p01, t->ax), vg_ip_lerp(p10, p11, t->ax), t->ay);
}

/* ----------------------------------------------------------------- colour */

/* Float YUV -> RGB with cm = {ys, yoff, rv, gu, gv, bu}; results clamped to 0..255. */
VG_IP_FN void vg_ip_yuv_to_rgb_f(const float *cm, float y, float u, float v, float rgb[3]) {
  float yv = VG_FMUL(VG_FADD(y, -cm[1]), cm[0]);
  float uu = VG_FADD(u, -128.f), vv = VG_FADD(v, -128.f);
  rgb[0] = vg_ip_clampf(VG_FADD(yv, VG_FMUL(cm[2], vv)), 0.f, 255.f);
  rgb[1] = vg_ip_clampf(VG_FADD(VG_FADD(yv, VG_FMUL(cm[3], uu)), VG_FMUL(cm[4], vv)), 0.f, 255.f);
  rgb[2] = vg_ip_clampf(VG_FADD(yv, VG_FMUL(cm[5], uu)), 0.f, 255.f);
}

/* Rounds a Q16 value to an integer and clamps it to 0..255. The bias keeps the shifted value
 * non-negative so that the shift is a floor on every compiler. */
VG_IP_FN int vg_ip_q16_u8(int32_t q) {
  int32_t r = ((q + 32768 + (1024 << 16)) >> 16) - 1024;
  return vg_ip_clampi(r, 0, 255);
}

VG_IP_FN void vg_ip_yuv_to_rgb_i(const vg_ip_icoef *c, int y, int u, int v, int rgb[3]) {
  int32_t yv = c->ys * (y - c->yoff);
  rgb[0] = vg_ip_q16_u8(yv + c->rv * (v - 128));
  rgb[1] = vg_ip_q16_u8(yv + c->gu * (u - 128) + c->gv * (v - 128));
  rgb[2] = vg_ip_q16_u8(yv + c->bu * (u - 128));
}

/* Gray (full-range luma) of a Y sample: 0..255. */
VG_IP_FN int vg_ip_y_to_gray_i(const vg_ip_icoef *c, int y) {
  return vg_ip_q16_u8(c->ys * (y - c->yoff));
}

VG_IP_FN int vg_ip_rgb_to_y_i(const vg_ip_icoef *c, int r, int g, int b) {
  return vg_ip_q16_u8(c->yr * r + c->yg * g + c->yb * b + (c->yoff << 16));
}

VG_IP_FN void vg_ip_rgb_to_uv_i(const vg_ip_icoef *c, int r, int g, int b, int *u, int *v) {
  *u = vg_ip_q16_u8(c->ur * r + c->ug * g + c->ub * b + (128 << 16));
  *v = vg_ip_q16_u8(c->vr * r + c->vg * g + c->vb * b + (128 << 16));
}

/* ----------------------------------------------------------------- one sampled output pixel */

/* The RGB (0..255 float) of item `it` at output pixel (ox, oy) inside its content rectangle. */
VG_IP_FN void vg_ip_sample_rgb(const vg_ip_item *it, int interp, int ox, int oy, float rgb[3]) {
  float fx, fy;
  vg_ip_map(it, ox - it->dx0, oy - it->dy0, &fx, &fy);
  const vg_ip_src *s = &it->src;
  if (s->fmt == VG_PIX_NV12) {
    int cw = (s->w + 1) >> 1, ch = (s->h + 1) >> 1;
    float y, u, v;
    if (interp == VG_INTERP_NEAREST) {
      int xi = vg_ip_nearest(fx, s->w), yi = vg_ip_nearest(fy, s->h);
      const uint8_t *uv = s->p1 + (size_t)(yi >> 1) * (size_t)s->pitch1 + (size_t)(xi >> 1) * 2;
      y = (float)VG_LD8(s->p0 + (size_t)yi * (size_t)s->pitch0 + xi);
      u = (float)VG_LD8(uv);
      v = (float)VG_LD8(uv + 1);
    } else {
      vg_ip_taps t = vg_ip_bilinear_taps(fx, fy, s->w, s->h);
      /* chroma sample j sits at luma coordinate 2j + 0.5 (centred between its two pixels) */
      vg_ip_taps tc = vg_ip_bilinear_taps(VG_FADD(VG_FMUL(fx, 0.5f), -0.25f),
                                          VG_FADD(VG_FMUL(fy, 0.5f), -0.25f), cw, ch);
      y = vg_ip_bilinear(s->p0, s->pitch0, 1, 0, &t);
      u = vg_ip_bilinear(s->p1, s->pitch1, 2, 0, &tc);
      v = vg_ip_bilinear(s->p1, s->pitch1, 2, 1, &tc);
    }
    vg_ip_yuv_to_rgb_f(it->cm, y, u, v, rgb);
    return;
  }
  int step = s->fmt == VG_PIX_GRAY8 ? 1 : 3;
  float c[3];
  if (interp == VG_INTERP_NEAREST) {
    int xi = vg_ip_nearest(fx, s->w), yi = vg_ip_nearest(fy, s->h);
    const uint8_t *p = s->p0 + (size_t)yi * (size_t)s->pitch0 + (size_t)xi * step;
    for (int k = 0; k < step; k++)
      c[k] = (float)VG_LD8(p + k);
  } else {
    vg_ip_taps t = vg_ip_bilinear_taps(fx, fy, s->w, s->h);
    for (int k = 0; k < step; k++)
      c[k] = vg_ip_bilinear(s->p0, s->pitch0, step, k, &t);
  }
  if (s->fmt == VG_PIX_GRAY8) {
    rgb[0] = rgb[1] = rgb[2] = c[0];
  } else if (s->fmt == VG_PIX_BGR24) {
    rgb[0] = c[2], rgb[1] = c[1], rgb[2] = c[0];
  } else {
    rgb[0] = c[0], rgb[1] = c[1], rgb[2] = c[2];
  }
}

/* The three normalised output values (in output channel order) of pixel (ox, oy) of item it. */
VG_IP_FN void vg_ip_shade(const vg_ip_item *it, const vg_ip_out *o, int ox, int oy, float val[3]) {
  int u = ox - it->dx0, v = oy - it->dy0;
  if (u < 0 || v < 0 || u >= it->dw || v >= it->dh) {
    val[0] = o->pad[0], val[1] = o->pad[1], val[2] = o->pad[2];
    return;
  }
  float rgb[3];
  vg_ip_sample_rgb(it, o->interp, ox, oy, rgb);
  for (int c = 0; c < 3; c++) {
    float x = rgb[o->bgr ? 2 - c : c];
    val[c] = VG_FADD(VG_FMUL(x, o->mul[c]), o->add[c]);
  }
}

/* ----------------------------------------------------------------- colour conversion */

/* Converts the 2x2 block at block coordinates (bx, by) of item c (pixels outside the frame are
 * skipped). */
VG_IP_FN void vg_ip_convert_block(const vg_ip_conv *c, int bx, int by) {
  const vg_ip_src *s = &c->src, *d = &c->dst;
  int x0 = bx * 2, y0 = by * 2;
  uint8_t *dp0 = (uint8_t *)d->p0;
  if (s->fmt == VG_PIX_NV12) {
    const uint8_t *uvp = s->p1 + (size_t)by * (size_t)s->pitch1 + (size_t)bx * 2;
    int u = VG_LD8(uvp), v = VG_LD8(uvp + 1);
    for (int y = y0; y < y0 + 2 && y < s->h; y++) {
      for (int x = x0; x < x0 + 2 && x < s->w; x++) {
        int yy = VG_LD8(s->p0 + (size_t)y * (size_t)s->pitch0 + x);
        uint8_t *o = dp0 + (size_t)y * (size_t)d->pitch0;
        if (d->fmt == VG_PIX_GRAY8) {
          o[x] = (uint8_t)vg_ip_y_to_gray_i(&c->c, yy);
          continue;
        }
        int rgb[3];
        vg_ip_yuv_to_rgb_i(&c->c, yy, u, v, rgb);
        int sw = d->fmt == VG_PIX_BGR24;
        o[x * 3 + 0] = (uint8_t)rgb[sw ? 2 : 0];
        o[x * 3 + 1] = (uint8_t)rgb[1];
        o[x * 3 + 2] = (uint8_t)rgb[sw ? 0 : 2];
      }
    }
    return;
  }
  /* packed -> NV12 */
  int sum[3] = {0, 0, 0}, cnt = 0;
  for (int y = y0; y < y0 + 2 && y < s->h; y++) {
    for (int x = x0; x < x0 + 2 && x < s->w; x++) {
      const uint8_t *p = s->p0 + (size_t)y * (size_t)s->pitch0;
      int r, g, b;
      if (s->fmt == VG_PIX_GRAY8) {
        r = g = b = VG_LD8(p + x);
      } else {
        int sw = s->fmt == VG_PIX_BGR24;
        r = VG_LD8(p + x * 3 + (sw ? 2 : 0));
        g = VG_LD8(p + x * 3 + 1);
        b = VG_LD8(p + x * 3 + (sw ? 0 : 2));
      }
      dp0[(size_t)y * (size_t)d->pitch0 + x] = (uint8_t)vg_ip_rgb_to_y_i(&c->c, r, g, b);
      sum[0] += r, sum[1] += g, sum[2] += b;
      cnt++;
    }
  }
  int avg[3], u, v;
  for (int k = 0; k < 3; k++)
    avg[k] = (sum[k] + cnt / 2) / cnt;
  vg_ip_rgb_to_uv_i(&c->c, avg[0], avg[1], avg[2], &u, &v);
  uint8_t *uvo = (uint8_t *)d->p1 + (size_t)by * (size_t)d->pitch1 + (size_t)bx * 2;
  uvo[0] = (uint8_t)u;
  uvo[1] = (uint8_t)v;
}

/* ----------------------------------------------------------------- overlay coverage */

/* True when primitive p paints luma pixel (x, y) (which must be inside the frame). */
VG_IP_FN int vg_ip_covers(const vg_ip_prim *p, int x, int y) {
  if (x < p->x0 || y < p->y0 || x >= p->x1 || y >= p->y1) return 0;
  if (p->kind == VG_IP_PRIM_RECT) return 1;
  if (p->kind == VG_IP_PRIM_GLYPH) {
    int col = (x - p->gx) / p->gscale, row = (y - p->gy) / p->gscale;
    if (col < 0 || row < 0 || col >= 8 || row >= 16) return 0;
    return (p->bits[row] >> (7 - col)) & 1;
  }
  /* segment: distance from the pixel centre to the segment, compared with half the width */
  float qx = VG_FADD(VG_FADD((float)x, 0.5f), -p->ax);
  float qy = VG_FADD(VG_FADD((float)y, 0.5f), -p->ay);
  float t = VG_FMUL(VG_FADD(VG_FMUL(qx, p->dx), VG_FMUL(qy, p->dy)), p->inv_len2);
  t = vg_ip_clampf(t, 0.f, 1.f);
  float ex = VG_FADD(qx, -VG_FMUL(t, p->dx)), ey = VG_FADD(qy, -VG_FMUL(t, p->dy));
  return VG_FADD(VG_FMUL(ex, ex), VG_FMUL(ey, ey)) <= p->hw2;
}

/* Paints pixel (x, y) of p's frame with p's colour (NV12: the luma byte only). */
VG_IP_FN void vg_ip_paint_pixel(const vg_ip_prim *p, int x, int y) {
  uint8_t *px = p->py + (size_t)y * (size_t)p->pitch_y + (size_t)x * p->bpp;
  for (int c = 0; c < p->bpp; c++)
    px[c] = p->yuv[c];
}

/* The GPU overlay's work item: block number `local` (row-major over the 2x2 blocks of the
 * bounding box) of primitive k. Luma pixels covered by k and by no later primitive of the same
 * frame take k's colour; the block's chroma takes it when k covers one of the four pixels and
 * no later primitive covers any. Threads never write the same byte, whatever their order. */
VG_IP_FN void vg_ip_overlay_block(const vg_ip_prim *prims, int k, int64_t local) {
  const vg_ip_prim *p = &prims[k];
  int bx0 = p->x0 >> 1, by0 = p->y0 >> 1, nbx = ((p->x1 - 1) >> 1) - bx0 + 1;
  int bx = bx0 + (int)(local % nbx), by = by0 + (int)(local / nbx);
  int mine[4], later[4] = {0, 0, 0, 0};
  for (int q = 0; q < 4; q++) {
    int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
    mine[q] = x < p->fw && y < p->fh && vg_ip_covers(p, x, y);
  }
  if (!(mine[0] | mine[1] | mine[2] | mine[3])) return;
  for (int j = k + 1; j < p->frame_end; j++) {
    const vg_ip_prim *o = &prims[j];
    if (o->x1 <= 2 * bx || o->x0 > 2 * bx + 1 || o->y1 <= 2 * by || o->y0 > 2 * by + 1) continue;
    for (int q = 0; q < 4; q++) {
      int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
      if (!later[q] && x < p->fw && y < p->fh) later[q] = vg_ip_covers(o, x, y);
    }
  }
  for (int q = 0; q < 4; q++) {
    int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
    if (mine[q] && !later[q]) vg_ip_paint_pixel(p, x, y);
  }
  if (p->has_uv && !(later[0] | later[1] | later[2] | later[3])) {
    uint8_t *uv = p->puv + (size_t)by * (size_t)p->pitch_uv + (size_t)bx * 2;
    uv[0] = p->yuv[1];
    uv[1] = p->yuv[2];
  }
}

#endif
