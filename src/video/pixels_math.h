/* pixels_math.h - the Y'CbCr -> R'G'B' arithmetic of the video layer in one place, shared by the
 * host conversion (pixels.c, vgv_to_rgb24) and its CUDA twin (cuda/video_rgb.cu, the input of
 * nvJPEG), so both give the same bytes. Q16 fixed point, BT.601 or BT.709, limited or full
 * range. */
#ifndef VIDGRAPH_VIDEO_PIXELS_MATH_H
#define VIDGRAPH_VIDEO_PIXELS_MATH_H

#include <stdint.h>

#if defined(__CUDACC__)
#define VGV_HD __host__ __device__
#else
#define VGV_HD
#endif

/* Coefficients (x 2^16): yk scales luma after subtracting yoff; k = cr->r, cb->g, cr->g, cb->b. */
typedef struct vgv_yuv_coefs {
  int yk, yoff;
  int k[4];
} vgv_yuv_coefs;

static inline VGV_HD uint8_t vgv_clamp8(int v) {
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* One pixel: luma y, chroma cb/cr (0..255) -> o[0..2] = R, G, B. */
static inline VGV_HD void vgv_yuv_to_rgb(const vgv_yuv_coefs *c, int y, int cb, int cr,
                                         uint8_t *o) {
  int yy = (y - c->yoff) * c->yk;
  cb -= 128;
  cr -= 128;
  o[0] = vgv_clamp8((yy + c->k[0] * cr + 32768) >> 16);
  o[1] = vgv_clamp8((yy - c->k[1] * cb - c->k[2] * cr + 32768) >> 16);
  o[2] = vgv_clamp8((yy + c->k[3] * cb + 32768) >> 16);
}

#endif
