/* color.c - colour matrices (BT.601 / BT.709, limited / full range) in float and Q16 integer
 * form, NV12 <-> RGB24/BGR24/GRAY8 conversion of frame batches and its CPU twin. */
#include "imgproc/imgproc_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef VG_HAVE_CUDA
#include "imgproc/cuda/imgproc_kernels.h"
#endif

/* Kr, Kb of a colorspace. */
static void luma_weights(vg_colorspace cs, double *kr, double *kb) {
  if (cs == VG_CS_BT709) {
    *kr = 0.2126, *kb = 0.0722;
  } else {
    *kr = 0.299, *kb = 0.114;
  }
}

/* The exact (double) matrices: YUV -> RGB {ys, yoff, rv, gu, gv, bu} and RGB -> YUV rows. */
static void coef_double(vg_colorspace cs, bool full, double d[6], double f[9]) {
  double kr, kb;
  luma_weights(cs, &kr, &kb);
  double kg = 1.0 - kr - kb;
  double ys = full ? 1.0 : 255.0 / 219.0, cs_ = full ? 1.0 : 255.0 / 224.0;
  d[0] = ys;
  d[1] = full ? 0.0 : 16.0;
  d[2] = cs_ * 2.0 * (1.0 - kr);
  d[3] = -cs_ * 2.0 * (1.0 - kb) * kb / kg;
  d[4] = -cs_ * 2.0 * (1.0 - kr) * kr / kg;
  d[5] = cs_ * 2.0 * (1.0 - kb);
  double yk = full ? 1.0 : 219.0 / 255.0, ck = full ? 1.0 : 224.0 / 255.0;
  f[0] = yk * kr, f[1] = yk * kg, f[2] = yk * kb;
  f[3] = -ck * 0.5 * kr / (1.0 - kb), f[4] = -ck * 0.5 * kg / (1.0 - kb), f[5] = ck * 0.5;
  f[6] = ck * 0.5, f[7] = -ck * 0.5 * kg / (1.0 - kr), f[8] = -ck * 0.5 * kb / (1.0 - kr);
}

static int32_t q16(double v) {
  return (int32_t)lround(v * 65536.0);
}

void vg_ip_coef_int(vg_colorspace cs, bool full_range, vg_ip_icoef *c) {
  double d[6], f[9];
  coef_double(cs, full_range, d, f);
  c->ys = q16(d[0]);
  c->yoff = (int32_t)d[1];
  c->rv = q16(d[2]), c->gu = q16(d[3]), c->gv = q16(d[4]), c->bu = q16(d[5]);
  c->yr = q16(f[0]), c->yg = q16(f[1]), c->yb = q16(f[2]);
  c->ur = q16(f[3]), c->ug = q16(f[4]), c->ub = q16(f[5]);
  c->vr = q16(f[6]), c->vg = q16(f[7]), c->vb = q16(f[8]);
}

void vg_ip_coef_float(vg_colorspace cs, bool full_range, float cm[6]) {
  double d[6], f[9];
  coef_double(cs, full_range, d, f);
  for (int i = 0; i < 6; i++)
    cm[i] = (float)d[i];
}

void vg_rgb_to_yuv(vg_colorspace cs, bool full_range, const uint8_t rgb[3], uint8_t yuv[3]) {
  vg_ip_icoef c;
  vg_ip_coef_int(cs, full_range, &c);
  int u, v;
  yuv[0] = (uint8_t)vg_ip_rgb_to_y_i(&c, rgb[0], rgb[1], rgb[2]);
  vg_ip_rgb_to_uv_i(&c, rgb[0], rgb[1], rgb[2], &u, &v);
  yuv[1] = (uint8_t)u;
  yuv[2] = (uint8_t)v;
}

/* ----------------------------------------------------------------- CPU twin */

void vg_ip_convert_cpu(const vg_ip_conv *items, int n) {
  for (int i = 0; i < n; i++) {
    const vg_ip_conv *c = &items[i];
    int bw = (c->src.w + 1) / 2, bh = (c->src.h + 1) / 2;
    for (int by = 0; by < bh; by++)
      for (int bx = 0; bx < bw; bx++)
        vg_ip_convert_block(c, bx, by);
  }
}

vg_status vg_ip_run_convert(const vg_ip_conv *items, int n, vg_device dev, vg_stream stream) {
  if (dev.kind == VG_DEVICE_CPU) {
    vg_ip_convert_cpu(items, n);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  return vg_ipk_convert(items, n, dev.ordinal, vg_stream_native(stream));
#else
  return vg_set_error(VG_ERR_UNSUPPORTED, "imgproc: colour conversion on a CUDA device needs a "
                                          "build with CUDA");
#endif
}

/* ----------------------------------------------------------------- API */

static vg_status check_pair(const vg_frame *s, const vg_frame *d, int i) {
  VG_TRY(vg_ip_check_frame(s, "source frame", i, 0xfu));
  VG_TRY(vg_ip_check_frame(d, "destination frame", i, 0xfu));
  bool s_nv12 = s->format == VG_PIX_NV12, d_nv12 = d->format == VG_PIX_NV12;
  if (s_nv12 == d_nv12)
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "imgproc: conversion %d from %s to %s is not supported (one side must be "
                        "nv12, the other rgb24, bgr24 or gray8)",
                        i, vg_pixfmt_name(s->format), vg_pixfmt_name(d->format));
  if (s->width != d->width || s->height != d->height)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc: conversion %d from %dx%d to %dx%d: sizes must be equal", i,
                        s->width, s->height, d->width, d->height);
  if (vg_frame_plane(s, 0) == vg_frame_plane(d, 0))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: conversion %d is in place", i);
  return VG_OK;
}

vg_status vg_convert_color(const vg_frame *src, vg_frame *dst, int n, vg_stream stream) {
  if (!src || !dst || n <= 0 || n > VG_IMGPROC_MAX_BATCH)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_convert_color: need frames and a batch of 1..%d (got %d)",
                        VG_IMGPROC_MAX_BATCH, n);
  for (int i = 0; i < n; i++)
    VG_TRY(check_pair(&src[i], &dst[i], i));
  vg_device dev, ddev;
  VG_TRY(vg_ip_common_device(src, n, NULL, &dev));
  VG_TRY(vg_ip_common_device(dst, n, NULL, &ddev));
  if (!vg_device_eq(dev, ddev)) {
    char a[24], b[24];
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_convert_color: source frames are on %s, destination frames on %s",
                        vg_device_str(dev, a, sizeof a), vg_device_str(ddev, b, sizeof b));
  }
  VG_TRY(vg_ip_check_stream(stream, dev));
  vg_ip_conv *items = calloc((size_t)n, sizeof *items);
  if (!items) return vg_set_error(VG_ERR_NO_MEMORY, "vg_convert_color: out of memory");
  for (int i = 0; i < n; i++) {
    const vg_frame *yuv = src[i].format == VG_PIX_NV12 ? &src[i] : &dst[i];
    vg_ip_src_init(&items[i].src, &src[i]);
    vg_ip_src_init(&items[i].dst, &dst[i]);
    vg_ip_coef_int(yuv->colorspace, yuv->full_range, &items[i].c);
  }
  vg_status st = vg_ip_run_convert(items, n, dev, stream);
  free(items);
  return st;
}
