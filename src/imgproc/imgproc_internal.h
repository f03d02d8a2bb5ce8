/* imgproc_internal.h - private types of the imgproc layer shared by the C API, the CPU twins
 * and the CUDA kernels (src/imgproc/cuda/imgproc_*.cu): per-item descriptors and the entry points
 * of both implementations. Plain C structs, valid in C11 and CUDA C++. */
#ifndef VIDGRAPH_IMGPROC_INTERNAL_H
#define VIDGRAPH_IMGPROC_INTERNAL_H

#include "vidgraph/vg_core.h"
#include "vidgraph/vg_imgproc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- sampling (preprocess, tiles,
 * crops): every output item is a picture sampled from one source frame region */

/* One source picture: NV12 (p0 = Y, p1 = interleaved UV) or packed RGB24/BGR24/GRAY8 (p0). */
typedef struct vg_ip_src {
  const uint8_t *p0, *p1;
  int pitch0, pitch1;
  int w, h;
  int fmt; /* vg_pixfmt */
  int pad_;
} vg_ip_src;

/* One output item. Output pixel (ox, oy) inside the content rectangle [dx0, dx0+dw) x
 * [dy0, dy0+dh) samples the source at the pixel-centre coordinate (fx, fy):
 *   affine:      fx = m[0] + (u + 0.5) * m[1] - 0.5,  fy = m[2] + (v + 0.5) * m[3] - 0.5
 *   perspective: X = (m0 uc + m1 vc + m2) / (m6 uc + m7 vc + m8), Y likewise with m3..m5,
 *                uc = u + 0.5, vc = v + 0.5, fx = X - 0.5, fy = Y - 0.5
 * with u = ox - dx0, v = oy - dy0. Pixels outside the rectangle get the padding value. */
typedef struct vg_ip_item {
  vg_ip_src src;
  float cm[6]; /* NV12 -> RGB in float: ys, yoff, rv, gu, gv, bu */
  int dx0, dy0, dw, dh;
  int perspective;
  int pad_;
  float m[9];
} vg_ip_item;

/* The output tensor and how values are written. */
typedef struct vg_ip_out {
  void *data;
  int64_t item_stride; /* elements per batch item (3 * out_w * out_h) */
  int out_w, out_h;
  int f16;    /* 1: f16, 0: f32 */
  int nhwc;   /* 1: NHWC, 0: NCHW */
  int interp; /* vg_interp */
  int bgr;
  float mul[3], add[3];
  float pad[3]; /* padding value already normalised, per output channel */
} vg_ip_out;

/* CPU twin of the sampling kernel: fills items [0, n) of out. */
void vg_ip_sample_cpu(const vg_ip_item *items, int n, const vg_ip_out *out);
/* Runs on the CPU twin or enqueues the kernel, by dev. */
vg_status vg_ip_run_sample(const vg_ip_item *items, int n, const vg_ip_out *out, vg_device dev,
                           vg_stream stream);

/* ----------------------------------------------------------------- colour conversion */

/* Q16 fixed-point coefficients. YUV -> RGB: c = (ys*(Y-yoff) + rv*(V-128) ...) / 65536.
 * RGB -> YUV: Y = (yr R + yg G + yb B) / 65536 + yoff, U = (ur R + ug G + ub B) / 65536 + 128. */
typedef struct vg_ip_icoef {
  int32_t ys, yoff, rv, gu, gv, bu;
  int32_t yr, yg, yb, ur, ug, ub, vr, vg, vb;
} vg_ip_icoef;

typedef struct vg_ip_conv {
  vg_ip_src src;
  vg_ip_src dst; /* p0/p1 written */
  vg_ip_icoef c;
} vg_ip_conv;

void vg_ip_convert_cpu(const vg_ip_conv *items, int n);
vg_status vg_ip_run_convert(const vg_ip_conv *items, int n, vg_device dev, vg_stream stream);

/* Q16 and float coefficients of a colorspace and range. */
void vg_ip_coef_int(vg_colorspace cs, bool full_range, vg_ip_icoef *c);
void vg_ip_coef_float(vg_colorspace cs, bool full_range, float cm[6]);

/* ----------------------------------------------------------------- overlay */

enum { VG_IP_PRIM_RECT = 0, VG_IP_PRIM_SEGMENT = 1, VG_IP_PRIM_GLYPH = 2 };

/* One primitive on one frame: NV12 (py = Y plane, puv = interleaved UV, colour = Y, U, V) or
 * packed RGB24/BGR24/GRAY8 (py = the plane, bpp bytes per pixel, colour = the pixel's bytes in
 * memory order, puv unused). [x0,x1) x [y0,y1) is its bounding box clipped to the frame
 * (non-empty); prims of one frame are consecutive and `frame_end` is one past the last of them. */
typedef struct vg_ip_prim {
  uint8_t *py, *puv;
  int pitch_y, pitch_uv;
  int fw, fh;
  int kind;
  int x0, y0, x1, y1;
  int frame_end;
  float ax, ay, bx, by; /* segment end points (pixel-centre units: centre of pixel i is i+0.5) */
  float dx, dy, inv_len2, hw2; /* b - a, 1/|b-a|^2 (0 for a point), half width squared */
  int gx, gy, gscale;
  uint8_t bits[16]; /* glyph rows, bit 7 = leftmost */
  uint8_t yuv[3];   /* NV12: Y, U, V; packed: the pixel's bytes (bpp of them) */
  uint8_t bpp;      /* bytes per pixel in py: 1 (NV12 luma, GRAY8) or 3 (RGB24, BGR24) */
  uint8_t has_uv;   /* NV12: the 2x2 chroma samples are painted too */
  uint8_t pad_[3];
} vg_ip_prim;

void vg_ip_overlay_cpu(const vg_ip_prim *prims, int n);
/* prefix[k] = number of 2x2 blocks of prims [0, k) (n + 1 entries): the GPU work split. */
void vg_ip_overlay_prefix(const vg_ip_prim *prims, int n, int64_t *prefix);
/* Runs the GPU kernel's per-block algorithm (vg_ip_overlay_block) on the host, sequentially in
 * reverse order: lets the CPU tests check that it paints exactly what the in-order twin paints
 * whatever the order of the work items. */
vg_status vg_ip_overlay_emulate(const vg_ip_prim *prims, int n);
/* The primitives vg_overlay would draw (checked ops; *prims is malloc'd, free it). */
vg_status vg_ip_overlay_build(vg_frame *frames, int nframes, const vg_draw_op *ops, int nops,
                              vg_ip_prim **prims, int *n);
vg_status vg_ip_run_overlay(const vg_ip_prim *prims, int n, vg_device dev, vg_stream stream);

extern const uint8_t vg_font8x16[95][16];

/* ----------------------------------------------------------------- argument checks */

/* A frame that the kernels can read (or write) without going out of its buffer. `what` and idx
 * name it in messages ("frame 3"). allow_mask: bit per vg_pixfmt accepted. */
vg_status vg_ip_check_frame(const vg_frame *f, const char *what, int idx, unsigned allow_mask);
/* The device of all frames (and of `t` when not NULL); mismatches are errors naming both. */
vg_status vg_ip_common_device(const vg_frame *frames, int n, const vg_tensor *t, vg_device *dev);
/* A contiguous f32/f16 tensor [n,3,H,W] (NCHW) or [n,H,W,3] (NHWC) with data. */
vg_status vg_ip_check_out_tensor(const vg_tensor *t, int64_t n, vg_layout layout, int *out_w,
                                 int *out_h);
vg_status vg_ip_check_tensor_params(const vg_tensor_params *tp, vg_layout layout);
/* The stream is NULL or on dev. */
vg_status vg_ip_check_stream(vg_stream s, vg_device dev);
/* Fills everything of vg_ip_out from the tensor and parameters. */
void vg_ip_out_init(vg_ip_out *o, const vg_tensor *t, vg_layout layout, const vg_tensor_params *tp,
                    int out_w, int out_h);
/* The source descriptor of a checked frame (colour coefficients go into cm when NV12). */
void vg_ip_src_init(vg_ip_src *s, const vg_frame *f);
void vg_ip_item_colour(vg_ip_item *it, const vg_frame *f);
/* Makes `it` an affine item that maps the source region (sx0, sy0, sw, sh) onto the output
 * rectangle (dx0, dy0, dw, dh), and xf (when not NULL) the matching transform. */
void vg_ip_place(vg_ip_item *it, double sx0, double sy0, double sw, double sh, int dx0, int dy0,
                 int dw, int dh, vg_xform *xf);
/* Places the region into an out_w x out_h output with fit. */
void vg_ip_fit(vg_ip_item *it, double sx0, double sy0, double sw, double sh, int out_w, int out_h,
               vg_fit fit, vg_xform *xf);

#ifdef __cplusplus
}
#endif
#endif
