/* vg_imgproc.h - image kernels of vidgraph: fused preprocess (resize/letterbox + colour +
 * normalise + layout + dtype), tiles, ROI crops (boxes and perspective quads), overlay drawing
 * and colour conversion. Every operation takes a batch.
 *
 * Where the work runs follows the data: when the frames and the output live in CUDA memory the
 * call enqueues one kernel on `stream` (no host copy, no synchronisation; the results are ready
 * when the stream reaches that point); when they live in host memory the CPU twin runs at once.
 * Frames and outputs on different devices are an error that names both. The CPU twins are the
 * reference implementation: the GPU kernels compute the same formulas (see docs/ARCHITECTURE.md,
 * "imgproc", for the sampling and colour conventions).
 *
 * Output tensors are allocated by the caller (contiguous, on the frames' device):
 *   NCHW: [N, 3, H, W]   NHWC: [N, H, W, 3]   dtype f32 or f16.
 * Pixel values are sampled in 0..255 and written as value * mul[c] + add[c] (see vg_norm). */
#ifndef VIDGRAPH_VG_IMGPROC_H
#define VIDGRAPH_VG_IMGPROC_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* Bounds of one call (bigger requests are refused with VG_ERR_INVALID_ARG). */
#define VG_IMGPROC_MAX_BATCH 4096     /* frames, tiles or crops per call */
#define VG_IMGPROC_MAX_SIDE 16384     /* output width or height */
#define VG_IMGPROC_MAX_DRAW_OPS 65536 /* overlay operations per call */

/* ===================================================================== common parameters */

typedef enum vg_interp { VG_INTERP_BILINEAR = 0, VG_INTERP_NEAREST = 1 } vg_interp;

typedef enum vg_layout { VG_LAYOUT_NCHW = 0, VG_LAYOUT_NHWC = 1 } vg_layout;

typedef enum vg_fit {
  VG_FIT_STRETCH = 0,      /* fill the output, aspect ratio not kept */
  VG_FIT_LETTERBOX = 1,    /* keep aspect, centre, pad the rest */
  VG_FIT_LETTERBOX_TL = 2, /* keep aspect, top-left, pad right and bottom */
} vg_fit;

/* Per-channel normalisation of a 0..255 sample v in output channel order: v * mul[c] + add[c]. */
typedef struct vg_norm {
  float mul[3], add[3];
} vg_norm;

/* v / 255 (the YOLO convention). */
vg_norm vg_norm_unit(void);
/* (v / 255 - mean[c]) / std[c], with mean and std in 0..1 units and given in output channel
 * order (PP-OCR recognition: mean 0.5, std 0.5). */
vg_norm vg_norm_mean_std(const float mean[3], const float std[3]);
/* v unchanged (0..255). */
vg_norm vg_norm_identity(void);

/* How samples become tensor values: shared by preprocess, tiles and crops. */
typedef struct vg_tensor_params {
  vg_interp interp;
  bool bgr;        /* channel order B, G, R instead of R, G, B */
  vg_norm norm;    /* applied to samples and to the padding */
  float pad_value; /* padding in 0..255 pixel units before normalisation (YOLO: 114; PP-OCR's
                      zero padding after (v/255-0.5)/0.5 is 127.5) */
} vg_tensor_params;

/* Bilinear, RGB, v/255, pad 114. */
vg_tensor_params vg_tensor_params_default(void);

/* ===================================================================== fused preprocess */

/* Resizes each of n frames (NV12, RGB24, BGR24 or GRAY8; sizes and pitches may differ) into item
 * i of `out` (NCHW or NHWC, f32 or f16, H and W taken from its shape) with `fit`, converting the
 * colour with each frame's colorspace and range, in one kernel launch and no intermediate image.
 * xforms (NULL or n entries) receives, per frame, the transform from frame to model pixels. */
vg_status vg_preprocess(const vg_frame *frames, int n, vg_fit fit, const vg_tensor_params *tp,
                        vg_layout layout, vg_tensor *out, vg_xform *xforms, vg_stream stream);

/* ===================================================================== tiles */

typedef struct vg_rect {
  int x, y, w, h;
} vg_rect;

typedef struct vg_tile_params {
  int tile_w, tile_h; /* source region of one tile, in frame pixels */
  int overlap;        /* pixels shared by neighbouring tiles, 0 <= overlap < min(tile_w, tile_h) */
  bool global_view;   /* also one item with the whole frame letterboxed (centred) */
} vg_tile_params;

/* The tile grid of a frame_w x frame_h frame: tiles of tile_w x tile_h, stride tile - overlap,
 * row-major; the last column/row is moved left/up to end at the frame edge; a frame smaller than
 * a tile gives a clipped tile. With global_view the whole frame {0,0,frame_w,frame_h} is
 * appended last. Writes at most cap rects; *count is the full count (call with cap 0 to size). */
vg_status vg_tile_grid(int frame_w, int frame_h, const vg_tile_params *tp, vg_rect *rects, int cap,
                       int *count);

/* Cuts every frame into its tile grid and preprocesses all tiles into `out` in one launch.
 * out's batch must be the sum of the frames' tile counts (frame 0's tiles first). Each tile is
 * scaled by s = min(out_w / tile_w, out_h / tile_h) (1 when the model input equals the tile)
 * and placed top-left; the global view is letterboxed. xforms (NULL or one per item) map item
 * pixels back to the frame; item_frame (NULL or one per item) receives the frame index. */
vg_status vg_preprocess_tiles(const vg_frame *frames, int n, const vg_tile_params *tiles,
                              const vg_tensor_params *tp, vg_layout layout, vg_tensor *out,
                              vg_xform *xforms, int *item_frame, vg_stream stream);

/* ===================================================================== ROI crops */

typedef struct vg_roi {
  int frame;    /* index into the frames array */
  bool is_quad; /* quad (perspective warp) instead of box */
  vg_box box;   /* axis-aligned, frame pixels, x2/y2 exclusive; clipped to the frame */
  vg_quad quad; /* points clockwise from top-left; sampled with edge replication */
} vg_roi;

typedef struct vg_crop_params {
  bool var_width; /* false: every crop stretched to the tensor's W x H.
                     true: height H, width = min(max_w, ceil(H * aspect)) (aspect = width/height
                     of the box, or of the quad: max of opposite side lengths), left-aligned,
                     the rest of the row padded */
  int max_w;      /* var_width cap (> 0) */
} vg_crop_params;

/* Widths that crops would use with var_width (out_h rows, capped at max_w) and their maximum,
 * so that the caller can allocate [N, 3, out_h, max] before vg_crop. Checks each roi as vg_crop
 * does except the frame index (frames may be NULL: then boxes are not clipped). n may be 0 (a
 * frame without objects): then *batch_max is 0. */
vg_status vg_crop_widths(const vg_frame *frames, int nframes, const vg_roi *rois, int n, int out_h,
                         int max_w, int *widths, int *batch_max);

/* Crops n ROIs from NV12 (or RGB24/BGR24/GRAY8) frames into item i of `out` in one launch.
 * A box is clipped to its frame; a box that is empty after clipping, a quad with non-finite
 * points, a quad whose bounding box misses the frame or with zero area are errors naming the
 * roi. used_w (NULL or n) receives each crop's width in the tensor (W when !var_width);
 * xforms (NULL or n) the crop-to-frame transform of box crops (identity for quads, which are
 * not affine). n may be 0 (a frame without objects, `out` then has N = 0): arguments are checked
 * and nothing is launched. */
vg_status vg_crop(const vg_frame *frames, int nframes, const vg_roi *rois, int n,
                  const vg_crop_params *cp, const vg_tensor_params *tp, vg_layout layout,
                  vg_tensor *out, int *used_w, vg_xform *xforms, vg_stream stream);

/* ===================================================================== overlay */

typedef enum vg_draw_kind {
  VG_DRAW_BOX = 0,     /* outline of `box`, `thickness` pixels inside the box */
  VG_DRAW_FILL = 1,    /* filled `box` */
  VG_DRAW_POLYGON = 2, /* closed outline through npoints points, `thickness` pixels wide */
  VG_DRAW_TEXT = 3,    /* `text` with its top-left at (x, y), 8x16 glyphs times `scale`,
                          optionally on a filled background (a label) */
} vg_draw_kind;

#define VG_DRAW_MAX_POINTS 16
#define VG_DRAW_MAX_TEXT 256
#define VG_DRAW_MAX_THICKNESS 64
#define VG_DRAW_MAX_SCALE 16
#define VG_FONT_W 8
#define VG_FONT_H 16

typedef struct vg_draw_op {
  vg_draw_kind kind;
  int frame;      /* index into the frames array */
  uint8_t rgb[3]; /* colour; on NV12 converted to YUV with the frame's colorspace and range */
  vg_box box;     /* BOX, FILL (rounded to whole pixels, clipped) */
  int thickness;  /* BOX, POLYGON: 1..VG_DRAW_MAX_THICKNESS */
  int npoints;    /* POLYGON: 2..VG_DRAW_MAX_POINTS */
  float px[VG_DRAW_MAX_POINTS], py[VG_DRAW_MAX_POINTS];
  float x, y;       /* TEXT: top-left */
  const char *text; /* TEXT: printable ASCII (others drawn as '?'), at most
                       VG_DRAW_MAX_TEXT bytes are drawn */
  int scale;        /* TEXT: 1..VG_DRAW_MAX_SCALE */
  bool background;  /* TEXT: fill the text's rectangle (+1 pixel margin * scale) first */
  uint8_t bg_rgb[3];
} vg_draw_op;

/* Ready-made operations (fields not named are zero). */
vg_draw_op vg_draw_box(int frame, vg_box box, int thickness, uint8_t r, uint8_t g, uint8_t b);
vg_draw_op vg_draw_fill(int frame, vg_box box, uint8_t r, uint8_t g, uint8_t b);
vg_draw_op vg_draw_quad(int frame, const vg_quad *q, int thickness, uint8_t r, uint8_t g,
                        uint8_t b);
vg_draw_op vg_draw_text(int frame, float x, float y, const char *text, int scale, uint8_t r,
                        uint8_t g, uint8_t b);
/* Text on a filled background placed just above (x, y) (or below it when there is no room):
 * the usual detection label. */
vg_draw_op vg_draw_label(int frame, float x, float y, const char *text, int scale,
                         const uint8_t rgb[3], const uint8_t bg_rgb[3]);

/* Draws ops in order on frames in place (device: one launch; host: the CPU twin). Later ops
 * cover earlier ones. NV12: luma is painted per covered pixel; each 2x2 chroma sample takes the
 * colour of the last op that covers any of its four luma pixels. RGB24/BGR24: every covered pixel
 * takes the colour; GRAY8: its full-range luma (the frame's colorspace). Frames of one call may
 * differ in format. Everything is clipped to the frame. */
vg_status vg_overlay(vg_frame *frames, int nframes, const vg_draw_op *ops, int nops,
                     vg_stream stream);

/* ===================================================================== colour conversion */

/* Converts src[i] into dst[i] (same size, formats allocated by the caller). Supported:
 * NV12 -> RGB24/BGR24/GRAY8 (src's colorspace and range) and RGB24/BGR24/GRAY8 -> NV12 (dst's
 * colorspace and range). Integer fixed-point arithmetic, identical on CPU and GPU; NV12 chroma
 * is replicated over its 2x2 block on the way out and averaged over it on the way in. */
vg_status vg_convert_color(const vg_frame *src, vg_frame *dst, int n, vg_stream stream);

/* One colour as Y, U, V bytes for a colorspace and range (the overlay's conversion). */
void vg_rgb_to_yuv(vg_colorspace cs, bool full_range, const uint8_t rgb[3], uint8_t yuv[3]);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
