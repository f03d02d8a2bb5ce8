/* post_kernels.h - the C interface of the post layer's CUDA kernels (src/post/cuda/post_*.cu) and the
 * arithmetic they share with the CPU twins in src/post, written once so that both sides round
 * identically (the CUDA side uses the _rn intrinsics, which are never fused into FMAs). */
#ifndef VIDGRAPH_POST_KERNELS_H
#define VIDGRAPH_POST_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define PK_HD __host__ __device__ __forceinline__
#else
#define PK_HD static inline
#endif

#if defined(__CUDA_ARCH__)
#define PK_MUL(a, b) __fmul_rn((a), (b))
#define PK_ADD(a, b) __fadd_rn((a), (b))
#define PK_SUB(a, b) __fsub_rn((a), (b))
#define PK_DIV(a, b) __fdiv_rn((a), (b))
#else
#define PK_MUL(a, b) ((a) * (b))
#define PK_ADD(a, b) ((a) + (b))
#define PK_SUB(a, b) ((a) - (b))
#define PK_DIV(a, b) ((a) / (b))
#endif

/* The preprocess transform as the kernels see it (same fields as vg_xform). */
typedef struct pk_xform {
  float scale_x, scale_y, pad_x, pad_y, off_x, off_y;
} pk_xform;

/* One detection crossing back to the host. */
typedef struct pk_det {
  float x1, y1, x2, y2, score;
  int32_t class_id;
  int32_t index; /* anchor index */
  int32_t pad_;
} pk_det;

/* IoU of two boxes given as x1, y1, x2, y2 (0 when either is empty). */
PK_HD float pk_iou(float ax1, float ay1, float ax2, float ay2, float bx1, float by1, float bx2,
                   float by2) {
  float iw = PK_SUB((ax2 < bx2 ? ax2 : bx2), (ax1 > bx1 ? ax1 : bx1));
  float ih = PK_SUB((ay2 < by2 ? ay2 : by2), (ay1 > by1 ? ay1 : by1));
  if (!(iw > 0.f) || !(ih > 0.f)) return 0.f;
  float inter = PK_MUL(iw, ih);
  float aa = PK_MUL(PK_SUB(ax2, ax1), PK_SUB(ay2, ay1));
  float ab = PK_MUL(PK_SUB(bx2, bx1), PK_SUB(by2, by1));
  float uni = PK_SUB(PK_ADD(aa, ab), inter);
  return uni > 0.f ? PK_DIV(inter, uni) : 0.f;
}

/* Corner box from centre and size. */
PK_HD void pk_cxcywh(float cx, float cy, float w, float h, float *x1, float *y1, float *x2,
                     float *y2) {
  float hw = PK_MUL(w, 0.5f), hh = PK_MUL(h, 0.5f);
  *x1 = PK_SUB(cx, hw);
  *y1 = PK_SUB(cy, hh);
  *x2 = PK_ADD(cx, hw);
  *y2 = PK_ADD(cy, hh);
}

/* Model coordinates to frame coordinates: (m - pad) / scale + off. */
PK_HD float pk_to_frame(float m, float pad, float scale, float off) {
  return PK_ADD(PK_DIV(PK_SUB(m, pad), scale), off);
}

/* Sort key of a candidate: image ascending, score descending, anchor index ascending. score must
 * be > 0 (so that its bits order like the value). */
PK_HD uint64_t pk_key(uint32_t image, uint32_t score_bits, uint32_t index) {
  return ((uint64_t)image << 56) | ((uint64_t)(~score_bits) << 24) | (uint64_t)(index & 0xffffffu);
}

/* ----------------------------------------------------------------- batched YOLO decode + NMS */

typedef struct pk_yolo_args {
  const void *data;                             /* device pointer to element [0,0,0] */
  int f16;                                      /* 1: half, 0: float */
  int64_t stride_b, stride_anchor, stride_chan; /* elements */
  int batch, anchors, num_classes;
  int objectness; /* 1 for v5 heads */
  float conf, iou;
  int agnostic, top_k, max_det;
  int nfilter;
  int filter[64];
} pk_yolo_args;

typedef struct pk_yolo_ws pk_yolo_ws;

/* Workspace on CUDA device `device`; NULL on allocation failure. */
pk_yolo_ws *pk_yolo_ws_create(int device);
void pk_yolo_ws_destroy(pk_yolo_ws *w);
/* Runs decode, sort, top-k, NMS and the transform for all images on `stream` (a cudaStream_t)
 * and copies the result to the host: counts[b] detections for image b in dets[b * max_det ...].
 * xf has `batch` entries (host). Returns 0 or a cudaError_t value; err gets a message. */
int pk_yolo_run(pk_yolo_ws *w, const pk_yolo_args *a, const pk_xform *xf, void *stream,
                pk_det *dets, int32_t *counts, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
