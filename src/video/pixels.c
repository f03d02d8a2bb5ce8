/* pixels.c - small host-side pixel helpers of the video layer: I420 -> NV12 interleaving and
 * NV12/BGR/GRAY -> RGB24 (for JPEG snapshots and the encoder's non-NV12 inputs), plus codec
 * names. The colour conversion is the plain BT.601/BT.709 matrix in fixed point (pixels_math.h,
 * shared with the CUDA twin that feeds nvJPEG). */
#include "video_internal.h"

#include <string.h>

const char *vgv_codec_long_name(vgv_codec c) {
  switch (c) {
  case VGV_CODEC_H264:
    return "H.264";
  case VGV_CODEC_HEVC:
    return "HEVC";
  case VGV_CODEC_AV1:
    return "AV1";
  case VGV_CODEC_VP9:
    return "VP9";
  default:
    return "other";
  }
}

void vgv_i420_to_nv12(const uint8_t *y, int ys, const uint8_t *u, int us, const uint8_t *v, int vs,
                      vg_frame *dst) {
  int w = dst->width, h = dst->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
  uint8_t *dy = vg_frame_plane(dst, 0), *duv = vg_frame_plane(dst, 1);
  for (int r = 0; r < h; r++)
    memcpy(dy + (size_t)r * dst->pitch[0], y + (size_t)r * ys, (size_t)w);
  for (int r = 0; r < ch; r++) {
    uint8_t *o = duv + (size_t)r * dst->pitch[1];
    const uint8_t *pu = u + (size_t)r * us, *pv = v + (size_t)r * vs;
    for (int x = 0; x < cw; x++) {
      o[2 * x] = pu[x];
      o[2 * x + 1] = pv[x];
    }
  }
}

void vgv_yuv_coefs_of(const vg_frame *f, vgv_yuv_coefs *c) {
  bool bt709 = f->colorspace == VG_CS_BT709;
  double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
  double ys = f->full_range ? 1.0 : 255.0 / 219.0, cs = f->full_range ? 1.0 : 255.0 / 224.0;
  c->yk = (int)(ys * 65536 + 0.5);
  c->yoff = f->full_range ? 0 : 16;
  c->k[0] = (int)(2 * (1 - kr) * cs * 65536 + 0.5);
  c->k[1] = (int)(2 * (1 - kb) * kb / kg * cs * 65536 + 0.5);
  c->k[2] = (int)(2 * (1 - kr) * kr / kg * cs * 65536 + 0.5);
  c->k[3] = (int)(2 * (1 - kb) * cs * 65536 + 0.5);
}

static void nv12_to_rgb24(const vg_frame *f, uint8_t *dst) {
  vgv_yuv_coefs c;
  vgv_yuv_coefs_of(f, &c);
  const uint8_t *py = vg_frame_plane(f, 0), *puv = vg_frame_plane(f, 1);
  for (int r = 0; r < f->height; r++) {
    const uint8_t *yr = py + (size_t)r * f->pitch[0], *cr = puv + (size_t)(r / 2) * f->pitch[1];
    uint8_t *o = dst + (size_t)r * f->width * 3;
    for (int x = 0; x < f->width; x++)
      vgv_yuv_to_rgb(&c, yr[x], cr[(x / 2) * 2], cr[(x / 2) * 2 + 1], o + 3 * x);
  }
}

void vgv_to_rgb24(const vg_frame *f, uint8_t *dst) {
  size_t row = (size_t)f->width * 3;
  const uint8_t *p = vg_frame_plane(f, 0);
  switch (f->format) {
  case VG_PIX_NV12:
    nv12_to_rgb24(f, dst);
    break;
  case VG_PIX_RGB24:
    for (int r = 0; r < f->height; r++)
      memcpy(dst + r * row, p + (size_t)r * f->pitch[0], row);
    break;
  case VG_PIX_BGR24:
    for (int r = 0; r < f->height; r++) {
      const uint8_t *s = p + (size_t)r * f->pitch[0];
      uint8_t *o = dst + r * row;
      for (int x = 0; x < f->width; x++) {
        o[3 * x] = s[3 * x + 2];
        o[3 * x + 1] = s[3 * x + 1];
        o[3 * x + 2] = s[3 * x];
      }
    }
    break;
  case VG_PIX_GRAY8:
    for (int r = 0; r < f->height; r++) {
      const uint8_t *s = p + (size_t)r * f->pitch[0];
      uint8_t *o = dst + r * row;
      for (int x = 0; x < f->width; x++)
        o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = s[x];
    }
    break;
  default:
    break;
  }
}
