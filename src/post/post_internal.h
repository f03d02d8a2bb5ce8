/* post_internal.h - helpers shared by the post layer's files: reading elements of host tensors of
 * any strides and float dtype, checking shapes, growing arrays. Private to src/post. */
#ifndef VIDGRAPH_POST_INTERNAL_H
#define VIDGRAPH_POST_INTERNAL_H

#include "vidgraph/vg_post.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Element at `off` elements from the tensor start, as float (f32, f16, i32, i64, u8). */
static inline float post_get(const vg_tensor *t, int64_t off) {
  const char *base = (const char *)vg_tensor_data(t);
  switch (t->dtype) {
  case VG_DTYPE_F32:
    return ((const float *)base)[off];
  case VG_DTYPE_F16:
    return vg_f16_to_f32(((const uint16_t *)base)[off]);
  case VG_DTYPE_I32:
    return (float)((const int32_t *)base)[off];
  case VG_DTYPE_I64:
    return (float)((const int64_t *)base)[off];
  case VG_DTYPE_U8:
    return (float)((const uint8_t *)base)[off];
  default:
    return 0.f;
  }
}

/* Checks that t is a host tensor with data of an accepted dtype (float_only: f32/f16). `what`
 * names the tensor in messages. */
vg_status post_check_host(const vg_tensor *t, const char *what, bool float_only);

/* Sets out[] to the shape of t as a string "[1,3,640,640]". */
const char *post_shape_str(const vg_tensor *t, char *buf, size_t cap);

/* Class filter test of YOLO params. */
static inline bool post_class_allowed(const vg_yolo_params *p, int c) {
  if (p->nclass_filter <= 0) return true;
  for (int i = 0; i < p->nclass_filter; i++)
    if (p->class_filter[i] == c) return true;
  return false;
}

/* Fills label of o from labels (when present). */
void post_set_label(vg_object *o, const vg_labels *labels, int class_id);

/* A YOLO candidate before NMS: model-coordinate box, score, class, anchor index. */
typedef struct post_cand {
  vg_box box;
  float score;
  int class_id;
  int index;
} post_cand;

/* Sorts candidates by score descending, ties by index ascending. */
void post_sort_cands(post_cand *c, size_t n);

/* ----- text decoders (ctc.c, dbnet.c), shared with their CUDA entry points */

/* Checks a recogniser output against the dictionary (host: also that it is a host tensor). */
vg_status post_ctc_check(const vg_tensor *t, const vg_ctc_dict *d, bool host);
/* The text of kept classes cls[0..kept) (truncated at whole characters to fit cap) and the score
 * conf / kept (0 when none). */
void post_ctc_text(const vg_ctc_dict *d, const int32_t *cls, int kept, double conf, char *text,
                   size_t cap, float *score);

/* A DBNet map as the decoders see it: image b's pixel (x, y) is element base + y*sy + x*sx. */
typedef struct post_db_map {
  const vg_tensor *t;
  int64_t base, sy, sx;
  int w, h;
} post_db_map;

/* Checks shape, batch index and sides (host: also that it is a host tensor) and fills m. */
vg_status post_dbnet_check_map(const vg_tensor *t, int b, bool host, post_db_map *m);
/* Checks the params and the transform (NULL: identity, written to *id and returned in *xf). */
vg_status post_dbnet_check_args(const vg_dbnet_params *p, const vg_xform **xf, vg_xform *id);
/* A final map-coordinate rectangle (x, y pairs, PP-OCR order) to a frame quad object appended to
 * objs (dropped when a side is 3 pixels or less after rounding). */
vg_status post_dbnet_emit(const double q[8], float score, const vg_xform *xf, int fw, int fh,
                          vg_objects *objs);
/* PP-OCR's sorted_boxes on objects [0, n). */
void post_dbnet_reading_order(vg_object *o, size_t n);

#endif

/* Runs the anchor decoders (V5/V8) on image b: threshold, class filter, top-k, NMS. *kept gets a
 * malloc'd array of the kept candidates in model coordinates (kept order). layout/nc/nm resolved
 * (nm: mask coefficients after the class scores). */
vg_status post_yolo_run(const vg_tensor *out, int b, const vg_yolo_params *p, int nm,
                        post_cand **kept, size_t *nkept, vg_yolo_layout *layout, int *nc);

/* Element offset of channel c of anchor i of image b in a V5/V8 head. */
static inline int64_t post_yolo_off(const vg_tensor *t, vg_yolo_layout l, int b, int64_t i,
                                    int64_t c) {
  if (l == VG_YOLO_V8) return b * t->strides[0] + c * t->strides[1] + i * t->strides[2];
  return b * t->strides[0] + i * t->strides[1] + c * t->strides[2];
}

/* A candidate as an object in frame coordinates. */
vg_object post_cand_to_object(const post_cand *c, const vg_yolo_params *p, const vg_xform *xf);

/* Checks the common YOLO params (thresholds, top_k, max_det). */
vg_status post_yolo_check_params(const vg_yolo_params *p);
