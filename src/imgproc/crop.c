/* crop.c - batched ROI crops: axis-aligned boxes (clipped, resized) and quadrilaterals
 * (perspective warp, for rotated text) into a fixed-size batch tensor, or a fixed-height tensor
 * with each crop's width from its aspect ratio (capped), left-aligned and padded to the batch
 * width, as text recognisers take them. One sampling pass (one launch on the GPU). */
#include "imgproc/imgproc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The region a roi samples, checked: a clipped box, or a quad with its side lengths. */
typedef struct roi_geom {
  double x1, y1, x2, y2; /* box after clipping */
  double qw, qh;         /* quad width and height */
} roi_geom;

static double dist(double ax, double ay, double bx, double by) {
  return hypot(bx - ax, by - ay);
}

static vg_status check_box(const vg_roi *r, int i, const vg_frame *f, roi_geom *g) {
  const vg_box *b = &r->box;
  if (!isfinite(b->x1) || !isfinite(b->y1) || !isfinite(b->x2) || !isfinite(b->y2))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc crop: roi %d has a non-finite box", i);
  g->x1 = b->x1, g->y1 = b->y1, g->x2 = b->x2, g->y2 = b->y2;
  if (f) {
    g->x1 = fmax(g->x1, 0.0), g->y1 = fmax(g->y1, 0.0);
    g->x2 = fmin(g->x2, (double)f->width), g->y2 = fmin(g->y2, (double)f->height);
  }
  if (!(g->x2 - g->x1 >= 0.01) || !(g->y2 - g->y1 >= 0.01))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc crop: roi %d box (%.1f,%.1f)-(%.1f,%.1f) is empty%s", i, b->x1,
                        b->y1, b->x2, b->y2, f ? " after clipping to its frame" : "");
  return VG_OK;
}

static vg_status check_quad(const vg_roi *r, int i, const vg_frame *f, roi_geom *g) {
  const vg_quad *q = &r->quad;
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY, area = 0;
  for (int k = 0; k < 4; k++) {
    if (!isfinite(q->x[k]) || !isfinite(q->y[k]))
      return vg_set_error(VG_ERR_INVALID_ARG, "imgproc crop: roi %d has a non-finite quad point",
                          i);
    minx = fmin(minx, q->x[k]), maxx = fmax(maxx, q->x[k]);
    miny = fmin(miny, q->y[k]), maxy = fmax(maxy, q->y[k]);
    int n = (k + 1) % 4;
    area += (double)q->x[k] * q->y[n] - (double)q->x[n] * q->y[k];
  }
  if (f && (maxx <= 0 || maxy <= 0 || minx >= f->width || miny >= f->height))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc crop: roi %d quad (bounding box %.1f,%.1f-%.1f,%.1f) lies "
                        "outside its %dx%d frame",
                        i, minx, miny, maxx, maxy, f->width, f->height);
  g->qw = fmax(dist(q->x[0], q->y[0], q->x[1], q->y[1]), dist(q->x[3], q->y[3], q->x[2], q->y[2]));
  g->qh = fmax(dist(q->x[0], q->y[0], q->x[3], q->y[3]), dist(q->x[1], q->y[1], q->x[2], q->y[2]));
  if (fabs(area) < 0.02 || g->qw < 0.01 || g->qh < 0.01)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc crop: roi %d quad has (almost) zero area", i);
  return VG_OK;
}

static vg_status roi_geometry(const vg_frame *frames, int nframes, const vg_roi *r, int i,
                              roi_geom *g) {
  const vg_frame *f = NULL;
  if (frames) {
    if (r->frame < 0 || r->frame >= nframes)
      return vg_set_error(VG_ERR_INVALID_ARG, "imgproc crop: roi %d names frame %d of %d", i,
                          r->frame, nframes);
    f = &frames[r->frame];
  }
  return r->is_quad ? check_quad(r, i, f, g) : check_box(r, i, f, g);
}

static int var_width(const roi_geom *g, bool quad, int out_h, int max_w) {
  double aspect = quad ? g->qw / g->qh : (g->x2 - g->x1) / (g->y2 - g->y1);
  double w = ceil(out_h * aspect - 1e-6);
  if (w < 1) w = 1;
  return w > max_w ? max_w : (int)w;
}

vg_status vg_crop_widths(const vg_frame *frames, int nframes, const vg_roi *rois, int n, int out_h,
                         int max_w, int *widths, int *batch_max) {
  if (n < 0 || n > VG_IMGPROC_MAX_BATCH || (n > 0 && !rois))
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_crop_widths: need 0..%d rois (got %d%s)",
                        VG_IMGPROC_MAX_BATCH, n, n > 0 && !rois ? ", array NULL" : "");
  if (out_h <= 0 || out_h > VG_IMGPROC_MAX_SIDE || max_w <= 0 || max_w > VG_IMGPROC_MAX_SIDE)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_crop_widths: height %d and max width %d must be "
                        "in 1..%d",
                        out_h, max_w, VG_IMGPROC_MAX_SIDE);
  int m = 0; /* 0 rois (a frame without objects) is an empty batch of width 0 */
  for (int i = 0; i < n; i++) {
    roi_geom g;
    VG_TRY(roi_geometry(frames, nframes, &rois[i], i, &g));
    int w = var_width(&g, rois[i].is_quad, out_h, max_w);
    if (widths) widths[i] = w;
    if (w > m) m = w;
  }
  if (batch_max) *batch_max = m;
  return VG_OK;
}

/* Homography taking output pixel-centre coordinates (uc, vc) in [0,w] x [0,h] to the quad
 * (p0 at (0,0), p1 at (w,0), p2 at (w,h), p3 at (0,h)). Unit square to quad after Heckbert. */
static void quad_item(vg_ip_item *it, const vg_quad *q, int w, int h) {
  double x0 = q->x[0], x1 = q->x[1], x2 = q->x[2], x3 = q->x[3];
  double y0 = q->y[0], y1 = q->y[1], y2 = q->y[2], y3 = q->y[3];
  double sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
  double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
  double den = dx1 * dy2 - dx2 * dy1, g = 0, hh = 0;
  if (fabs(den) > 1e-12) {
    g = (sx * dy2 - dx2 * sy) / den;
    hh = (dx1 * sy - sx * dy1) / den;
  }
  double m[9] = {(x1 - x0 + g * x1) / w,
                 (x3 - x0 + hh * x3) / h,
                 x0,
                 (y1 - y0 + g * y1) / w,
                 (y3 - y0 + hh * y3) / h,
                 y0,
                 g / w,
                 hh / h,
                 1.0};
  it->perspective = 1;
  it->dx0 = 0, it->dy0 = 0, it->dw = w, it->dh = h;
  for (int k = 0; k < 9; k++)
    it->m[k] = (float)m[k];
}

static vg_status check_crop_args(const vg_frame *frames, int nframes, const vg_roi *rois, int n,
                                 const vg_crop_params *cp) {
  if (!frames || nframes <= 0 || nframes > VG_IMGPROC_MAX_BATCH || n < 0 ||
      n > VG_IMGPROC_MAX_BATCH || (n > 0 && !rois))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_crop: need 1..%d frames and 0..%d rois (got %d and %d%s)",
                        VG_IMGPROC_MAX_BATCH, VG_IMGPROC_MAX_BATCH, nframes, n,
                        n > 0 && !rois ? ", roi array NULL" : "");
  if (!cp) return vg_set_error(VG_ERR_INVALID_ARG, "vg_crop: crop parameters are NULL");
  if (cp->var_width && (cp->max_w <= 0 || cp->max_w > VG_IMGPROC_MAX_SIDE))
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_crop: max_w %d outside 1..%d", cp->max_w,
                        VG_IMGPROC_MAX_SIDE);
  for (int i = 0; i < nframes; i++)
    VG_TRY(vg_ip_check_frame(&frames[i], "frame", i, 0xfu));
  return VG_OK;
}

/* Builds item i; *used is its width in the output. */
static vg_status crop_item(const vg_frame *frames, int nframes, const vg_roi *r, int i,
                           const vg_crop_params *cp, int out_w, int out_h, vg_ip_item *it,
                           int *used, vg_xform *xf) {
  roi_geom g;
  VG_TRY(roi_geometry(frames, nframes, r, i, &g));
  int w = cp->var_width ? var_width(&g, r->is_quad, out_h, cp->max_w) : out_w;
  if (w > out_w)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_crop: roi %d needs width %d but the output tensor is %d wide (size "
                        "it with vg_crop_widths)",
                        i, w, out_w);
  vg_ip_item_colour(it, &frames[r->frame]);
  if (r->is_quad) {
    quad_item(it, &r->quad, w, out_h);
    if (xf) *xf = vg_xform_identity();
  } else {
    vg_ip_place(it, g.x1, g.y1, g.x2 - g.x1, g.y2 - g.y1, 0, 0, w, out_h, xf);
  }
  *used = w;
  return VG_OK;
}

vg_status vg_crop(const vg_frame *frames, int nframes, const vg_roi *rois, int n,
                  const vg_crop_params *cp, const vg_tensor_params *tp, vg_layout layout,
                  vg_tensor *out, int *used_w, vg_xform *xforms, vg_stream stream) {
  VG_TRY(check_crop_args(frames, nframes, rois, n, cp));
  VG_TRY(vg_ip_check_tensor_params(tp, layout));
  int out_w, out_h;
  VG_TRY(vg_ip_check_out_tensor(out, n, layout, &out_w, &out_h));
  vg_device dev;
  VG_TRY(vg_ip_common_device(frames, nframes, out, &dev));
  VG_TRY(vg_ip_check_stream(stream, dev));
  if (n == 0) return VG_OK; /* a frame without objects: an empty batch, nothing to launch */
  vg_ip_item *items = calloc((size_t)n, sizeof *items);
  if (!items) return vg_set_error(VG_ERR_NO_MEMORY, "vg_crop: out of memory");
  vg_status st = VG_OK;
  for (int i = 0; i < n && st == VG_OK; i++) {
    int w = 0;
    st = crop_item(frames, nframes, &rois[i], i, cp, out_w, out_h, &items[i], &w,
                   xforms ? &xforms[i] : NULL);
    if (st == VG_OK && used_w) used_w[i] = w;
  }
  if (st == VG_OK) {
    vg_ip_out o;
    vg_ip_out_init(&o, out, layout, tp, out_w, out_h);
    st = vg_ip_run_sample(items, n, &o, dev, stream);
  }
  free(items);
  return st;
}
