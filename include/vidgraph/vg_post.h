/* vg_post.h - the post-processing layer of vidgraph: turns raw model outputs into objects.
 *
 * YOLO detection and segmentation heads, non-maximum suppression (CPU, and batched decode+NMS on
 * CUDA), tile fusion, PP-OCR text detection (DBNet) and recognition (CTC) decoding, the text
 * direction classifier, and classification heads (softmax top-k, multi-head outputs).
 *
 * Conventions:
 *  - decoders read vg_tensor values (host memory, f32 or f16, any strides) and APPEND vg_object
 *    values to a vg_objects list, in frame coordinates through the vg_xform of the preprocess;
 *  - ordering rule of every NMS here: score descending, ties broken by the lower index (the anchor
 *    index for YOLO, the position in the input list otherwise); a box is suppressed when its IoU
 *    with a kept box is > iou_threshold (same class unless class-agnostic);
 *  - every *_params struct has a *_params_default() and a *_params_from_config() that reads a
 *    config map with the vg_cfg_* getters (errors name file:line:col and key). */
#ifndef VIDGRAPH_VG_POST_H
#define VIDGRAPH_VG_POST_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* ===================================================================== labels / dictionaries */

/* A list of UTF-8 lines loaded from a text file: class names or a CTC dictionary. One entry per
 * line; "\n" or "\r\n" line ends; the last line may lack its newline. Empty lines, NUL bytes,
 * invalid UTF-8 and lines longer than VG_LABELS_LINE_MAX bytes are errors naming file and line. */
typedef struct vg_labels vg_labels;

#define VG_LABELS_LINE_MAX 256
#define VG_LABELS_MAX_COUNT 200000
#define VG_LABELS_MAX_FILE_BYTES (16u << 20)

vg_status vg_labels_load(const char *path, vg_labels **out);
/* Same, from memory; name is used in messages in place of a file name. */
vg_status vg_labels_parse(const char *data, size_t len, const char *name, vg_labels **out);
void vg_labels_free(vg_labels *l);
size_t vg_labels_count(const vg_labels *l);
/* Entry i, or NULL when out of range (or l is NULL). */
const char *vg_labels_get(const vg_labels *l, size_t i);

/* ===================================================================== NMS */

/* Greedy NMS. Candidates are ordered by score descending (ties: lower index first); a candidate
 * is dropped when its IoU with an already kept one is > iou_threshold and (agnostic or same
 * class). classes may be NULL (all one class). Writes at most max_keep kept indices, in kept
 * order, to keep (room for max_keep) and their number to nkeep. */
vg_status vg_nms(const vg_box *boxes, const float *scores, const int *classes, size_t n,
                 float iou_threshold, bool agnostic, size_t max_keep, size_t *keep, size_t *nkeep);

/* NMS over a list of objects, in place: the list keeps the survivors in kept order. */
vg_status vg_nms_objects(vg_objects *objs, float iou_threshold, bool agnostic, size_t max_keep);

/* IoU exactly as the NMS (CPU and CUDA) computes it. */
float vg_nms_iou(const vg_box *a, const vg_box *b);

/* ===================================================================== YOLO */

typedef enum vg_yolo_layout {
  VG_YOLO_AUTO = 0, /* from the shape, see vg_yolo_detect_layout */
  VG_YOLO_V5,       /* [B, N, 5+nc(+nm)]: cx, cy, w, h, objectness, class scores (, mask coeffs) */
  VG_YOLO_V8,       /* [B, 4+nc(+nm), N]: cx, cy, w, h, class scores (, mask coeffs); v8/v11 */
  VG_YOLO_E2E       /* [B, N, 6]: x1, y1, x2, y2, score, class (NMS inside the model) */
} vg_yolo_layout;

const char *vg_yolo_layout_name(vg_yolo_layout l);
/* "auto", "v5", "v8" (also "v11"), "e2e". */
vg_status vg_yolo_layout_parse(const char *text, vg_yolo_layout *out);

#define VG_YOLO_MAX_CLASS_FILTER 64
#define VG_YOLO_MAX_TOP_K 32768

typedef struct vg_yolo_params {
  vg_yolo_layout layout; /* VG_YOLO_AUTO */
  int num_classes;       /* 0 = derived from the shape */
  int num_mask_coeffs;   /* 0 for detection models; 32 for YOLO -seg models */
  float conf_threshold;  /* 0.25; a candidate needs score > conf_threshold */
  float iou_threshold;   /* 0.45 */
  bool class_agnostic;   /* false: NMS per class */
  int top_k;             /* 30000: best candidates that enter NMS (1..VG_YOLO_MAX_TOP_K) */
  int max_det;           /* 300: detections kept per image */
  int nclass_filter;     /* > 0: keep only the classes listed in class_filter */
  int class_filter[VG_YOLO_MAX_CLASS_FILTER];
  const vg_labels *labels; /* borrowed, may be NULL: fills vg_object.label */
} vg_yolo_params;

void vg_yolo_params_default(vg_yolo_params *p);
/* Keys: layout, num_classes, num_mask_coeffs, conf_threshold, iou_threshold, class_agnostic,
 * top_k, max_det, classes (list of ints). Labels are loaded by the caller. */
vg_status vg_yolo_params_from_config(const vg_cnode *map, vg_yolo_params *p);

/* Resolves the layout and class count of a head output from its shape and p (layout, num_classes,
 * num_mask_coeffs). AUTO: 3-D [B, X, Y] with X < Y (and room for a class) is V8; else Y == 6 is
 * E2E unless num_classes == 1 or num_mask_coeffs > 0; otherwise V5. Fails with the shape in the
 * message when it cannot be a YOLO head. */
vg_status vg_yolo_detect_layout(const vg_tensor *out, const vg_yolo_params *p,
                                vg_yolo_layout *layout, int *num_classes);

/* Decodes image b of a YOLO head output (host memory, f32/f16) and appends its detections (after
 * NMS for V5/V8, after thresholds for E2E) to objs in frame coordinates through xf. */
vg_status vg_yolo_decode(const vg_tensor *out, int b, const vg_yolo_params *p, const vg_xform *xf,
                         vg_objects *objs);

/* End-to-end exports with separate outputs: boxes [B, N, 4] (x1, y1, x2, y2), scores [B, N],
 * classes [B, N] (f32/f16/i32/i64) and optionally num_dets [B] or [B, 1] (i32/i64; NULL = all N).
 */
vg_status vg_yolo_decode_e2e_split(const vg_tensor *boxes, const vg_tensor *scores,
                                   const vg_tensor *classes, const vg_tensor *num_dets, int b,
                                   const vg_yolo_params *p, const vg_xform *xf, vg_objects *objs);

/* ----- segmentation masks */

/* A binary mask in frame coordinates covering the rectangle [x, x+w) x [y, y+h) of the frame;
 * data holds w*h bytes, 255 inside the object and 0 outside. */
typedef struct vg_mask {
  int x, y, w, h;
  uint8_t *data;
} vg_mask;

/* A list of masks; {0} is a valid empty list. vg_object.mask_index indexes it. */
typedef struct vg_masks {
  vg_mask *items;
  size_t count, cap;
} vg_masks;

void vg_masks_clear(vg_masks *m); /* frees the pixels, keeps the list memory */
void vg_masks_free(vg_masks *m);

/* YOLO segmentation: out is the detection head with num_mask_coeffs (default 32 when 0) mask
 * coefficients after the class scores; protos is [B, nm, Hp, Wp] (the model input is 4x the
 * prototype size unless in_w/in_h > 0). Detections are appended to objs as vg_yolo_decode does;
 * each gets a mask, sigmoid(coeffs . protos) > 0.5 cropped to its box, sampled bilinearly at the
 * frame pixels of the box clipped to frame_w x frame_h; masks are appended to masks. */
vg_status vg_yolo_decode_seg(const vg_tensor *out, const vg_tensor *protos, int b,
                             const vg_yolo_params *p, const vg_xform *xf, int in_w, int in_h,
                             int frame_w, int frame_h, vg_objects *objs, vg_masks *masks);

/* ----- CUDA: batched decode + NMS on the device (V5/V8 layouts) */

/* Device workspace reused across calls (grows as needed). */
typedef struct vg_yolo_cuda vg_yolo_cuda;

vg_status vg_yolo_cuda_create(vg_device dev, vg_yolo_cuda **out);
void vg_yolo_cuda_destroy(vg_yolo_cuda *w);
/* Decodes all B images of a device-resident head output: thresholds, top-k, NMS and the transform
 * to frame coordinates run on the device; only the final detections are copied back (one small
 * copy). xf has B entries, objs has B lists (appended to). Results equal vg_yolo_decode's.
 * Without CUDA support: VG_ERR_UNSUPPORTED. Synchronises stream s before returning. */
vg_status vg_yolo_decode_cuda(vg_yolo_cuda *w, const vg_tensor *out, const vg_yolo_params *p,
                              const vg_xform *xf, vg_objects *objs, vg_stream s);

/* ===================================================================== tile fusion */

typedef enum vg_fuse_method {
  VG_FUSE_NMS = 0, /* keep the best of each duplicate group */
  VG_FUSE_WBM      /* weighted box merging: score-weighted mean box, best score */
} vg_fuse_method;

typedef enum vg_fuse_match {
  VG_MATCH_IOU = 0, /* intersection over union */
  VG_MATCH_IOS      /* intersection over the smaller box (catches boxes cut at tile borders) */
} vg_fuse_match;

typedef struct vg_fuse_params {
  vg_fuse_method method; /* VG_FUSE_NMS */
  vg_fuse_match match;   /* VG_MATCH_IOS */
  float threshold;       /* 0.5: duplicates when the match value is > threshold */
  bool class_agnostic;   /* false */
  int max_det;           /* 1000 */
} vg_fuse_params;

void vg_fuse_params_default(vg_fuse_params *p);
/* Keys: method (nms|wbm), match (iou|ios), threshold, class_agnostic, max_det. */
vg_status vg_fuse_params_from_config(const vg_cnode *map, vg_fuse_params *p);

/* Merges the detections of nviews views (tiles and the global view), each already in frame
 * coordinates (decoded with the tile's xform), into out (appended): candidates ordered by score
 * (ties: view order, then position), duplicates grouped with a kept one by p->match. */
vg_status vg_tiles_fuse(const vg_objects *views, int nviews, const vg_fuse_params *p,
                        vg_objects *out);

/* ===================================================================== text detection (DBNet) */

typedef struct vg_dbnet_params {
  float thresh;       /* 0.3: pixel is text when prob > thresh */
  float box_thresh;   /* 0.6: region kept when the mean prob inside its rectangle >= this */
  float unclip_ratio; /* 1.5: rectangle grown by area * ratio / perimeter on each side */
  float min_size;     /* 3: shorter side (map pixels) below which a region is dropped */
  int max_candidates; /* 1000: regions examined, largest first */
} vg_dbnet_params;

void vg_dbnet_params_default(vg_dbnet_params *p);
/* Keys: thresh, box_thresh, unclip_ratio, min_size, max_candidates. */
vg_status vg_dbnet_params_from_config(const vg_cnode *map, vg_dbnet_params *p);

/* Decodes image b of a PP-OCR DBNet probability map ([B, 1, H, W] or [H, W], f32/f16, map pixel =
 * model input pixel) into text quads appended to objs: has_quad, quad (clockwise from top-left,
 * frame coordinates through xf, clipped to frame_w x frame_h when > 0), box = the quad's bounds,
 * score = box score, class_id 0, label "text". */
vg_status vg_dbnet_decode(const vg_tensor *prob, int b, const vg_dbnet_params *p,
                          const vg_xform *xf, int frame_w, int frame_h, vg_objects *objs);

/* ----- CUDA: the whole decoding on the device (threshold, 8-connected labelling, per-region
 * rectangles, box scores, unclip); only the kept rectangles are copied back (one small copy).
 * Results equal vg_dbnet_decode's exactly (same arithmetic, src/post/cuda/post_text.h). */

/* Device workspace reused across calls (grows with the map size). */
typedef struct vg_dbnet_cuda vg_dbnet_cuda;

vg_status vg_dbnet_cuda_create(vg_device dev, vg_dbnet_cuda **out);
void vg_dbnet_cuda_destroy(vg_dbnet_cuda *w);
/* As vg_dbnet_decode, for a map in the workspace's CUDA memory; enqueues on stream s and
 * synchronises it before returning. Without CUDA support: VG_ERR_UNSUPPORTED. */
vg_status vg_dbnet_decode_cuda(vg_dbnet_cuda *w, const vg_tensor *prob, int b,
                               const vg_dbnet_params *p, const vg_xform *xf, int frame_w,
                               int frame_h, vg_objects *objs, vg_stream s);

/* ----- geometry used by the DBNet decoder (exposed for tests and other layers) */

/* Minimum-area rectangle of n points (rotating calipers over the convex hull). Writes its 4
 * corners ordered as PP-OCR does (top-left, top-right, bottom-right, bottom-left: clockwise in
 * image coordinates) and the side lengths (w along the first edge, h the other). n >= 1. */
vg_status vg_min_area_rect(const float *xs, const float *ys, size_t n, vg_quad *quad, float *w,
                           float *h);

/* ===================================================================== text recognition (CTC) */

/* A CTC dictionary: class 0 is the blank, classes 1..n the dictionary lines, class n+1 a space
 * when use_space (PP-OCR's convention: ppocr_keys_v1.txt has 6623 lines, the model 6625 classes).
 */
typedef struct vg_ctc_dict vg_ctc_dict;

vg_status vg_ctc_dict_load(const char *path, bool use_space, vg_ctc_dict **out);
vg_status vg_ctc_dict_parse(const char *data, size_t len, const char *name, bool use_space,
                            vg_ctc_dict **out);
void vg_ctc_dict_free(vg_ctc_dict *d);
/* Number of model classes the dictionary expects (n + 1 + use_space). */
size_t vg_ctc_dict_num_classes(const vg_ctc_dict *d);
/* Text of class c ("" for the blank, NULL when out of range). */
const char *vg_ctc_dict_get(const vg_ctc_dict *d, size_t c);

typedef enum vg_ctc_input {
  VG_CTC_AUTO = 0, /* probabilities when every row is in [0, 1] and sums to 1 +- 0.01 */
  VG_CTC_PROBS,
  VG_CTC_LOGITS /* a softmax is applied per time step */
} vg_ctc_input;

/* Greedy CTC decoding of sample n of [N, T, C]: best class per step, repeats merged, blanks
 * dropped. text gets the UTF-8 string (truncated at whole characters to fit cap); score the mean
 * of the max probabilities of the kept steps (0 when none). Checks C against the dictionary. */
vg_status vg_ctc_decode(const vg_tensor *probs, int n, const vg_ctc_dict *d, vg_ctc_input input,
                        char *text, size_t cap, float *score);

/* Decodes samples 0..count-1 into objs[i].text / text_score. */
vg_status vg_ctc_decode_objects(const vg_tensor *probs, const vg_ctc_dict *d, vg_ctc_input input,
                                vg_object *objs, size_t count);

/* Time steps (T) the decoders accept. */
#define VG_CTC_MAX_STEPS 4096

/* ----- CUDA: argmax, collapse and probabilities on the device; only the kept classes and their
 * probabilities come back (about 8 bytes per time step). Results equal vg_ctc_decode's exactly. */
typedef struct vg_ctc_cuda vg_ctc_cuda;

vg_status vg_ctc_cuda_create(vg_device dev, vg_ctc_cuda **out);
void vg_ctc_cuda_destroy(vg_ctc_cuda *w);
/* As vg_ctc_decode_objects, for a recogniser output in the workspace's CUDA memory; enqueues on
 * stream s and synchronises it before returning. Without CUDA support: VG_ERR_UNSUPPORTED. */
vg_status vg_ctc_decode_objects_cuda(vg_ctc_cuda *w, const vg_tensor *probs, const vg_ctc_dict *d,
                                     vg_ctc_input input, vg_object *objs, size_t count,
                                     vg_stream s);

/* Normalisation of recognised text before it is judged. PLATE: ASCII letters upper-cased,
 * full-width ASCII (U+FF01..U+FF5E) folded to ASCII, dash-like glyphs (U+2010..U+2015, U+2212,
 * U+2500/2501, U+30FC, U+4E00, U+FE58, U+FE63, U+FF0D, U+00AD) to '-', blanks (space, tab,
 * U+00A0, U+3000) to one space, a hyphen with spaces around it to the hyphen alone, separators
 * at the start or end dropped; other characters are kept. In place (never longer). */
typedef enum vg_text_norm { VG_TEXT_NORM_NONE = 0, VG_TEXT_NORM_PLATE = 1 } vg_text_norm;
void vg_text_normalize(char *text, vg_text_norm mode);
/* "none" or "plate"; anything else is VG_ERR_INVALID_ARG naming the choices. */
vg_status vg_text_norm_from_name(const char *name, vg_text_norm *out);
/* Characters of text other than separators (blanks and dash-like glyphs, as above): the length
 * of a plate ("MH 12 AB 1234" has 10). */
size_t vg_text_plate_length(const char *text);
/* Lower-case ASCII letters in text whose capital has another shape (all but c o s u v w x z,
 * which a recogniser may well read in lower case off an upper-case plate): "open 9-18h" has 4,
 * "KX52 RTu" none. Plates are written in capitals; shop signs and street signs often are not. */
size_t vg_text_distinct_lower(const char *text);

/* PP-OCR 180-degree direction classifier, output [N, 2] (label 0 = 0 deg, 1 = 180 deg): rotate is
 * true when label 1 wins with probability > threshold (PP-OCR: 0.9). score is the winner's. */
vg_status vg_textdir_decode(const vg_tensor *out, int n, float threshold, bool *rotate,
                            float *score);

/* ===================================================================== classification heads */

#define VG_CLS_MAX_TOPK 16

typedef enum vg_activation {
  VG_ACT_NONE = 0,
  VG_ACT_SOFTMAX,
  VG_ACT_SIGMOID,
  VG_ACT_TANH
} vg_activation;

vg_status vg_activation_parse(const char *text, vg_activation *out);

typedef struct vg_cls_result {
  int k;
  int class_ids[VG_CLS_MAX_TOPK];
  float scores[VG_CLS_MAX_TOPK];
} vg_cls_result;

/* Top-k of sample n of a [N, C] (or [C]) score tensor after the activation (NONE, SOFTMAX or
 * SIGMOID), best first, ties by the lower class. k is clamped to 1..min(C, VG_CLS_MAX_TOPK). */
vg_status vg_cls_topk(const vg_tensor *t, int n, vg_activation act, int k, vg_cls_result *out);

/* Writes the top-1 of r into obj (class_id, score, label from labels when present) and the top-k
 * scores into obj->attrs. */
void vg_cls_result_to_object(const vg_cls_result *r, const vg_labels *labels, vg_object *obj);

/* A multi-head classifier: head i reads `count` values from tensor `tensor` at offset `offset`
 * along the last axis of sample n, applies its activation, and writes them to consecutive
 * vg_object.attrs. The first head with primary set (or head 0) gives class_id/score/label. */
#define VG_CLS_MAX_HEADS 8
typedef struct vg_cls_head {
  int tensor, offset, count;
  vg_activation act;
  bool primary;
} vg_cls_head;

typedef struct vg_cls_heads {
  int nheads;
  vg_cls_head heads[VG_CLS_MAX_HEADS];
} vg_cls_heads;

/* heads: list of maps {tensor: 0, offset: 0, count: 8, activation: softmax, primary: true}. */
vg_status vg_cls_heads_from_config(const vg_cnode *seq, vg_cls_heads *h);
vg_status vg_cls_heads_apply(const vg_tensor *const *tensors, int ntensors, int n,
                             const vg_cls_heads *h, const vg_labels *labels, vg_object *obj);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
