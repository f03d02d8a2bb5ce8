/* overlay.c - drawing on NV12, RGB24, BGR24 and GRAY8 frames in place: box outlines, filled
 * rectangles, polygon outlines and text from the built-in 8x16 bitmap font (optionally on a filled
 * label background). Operations are turned into primitives (rectangles, thick segments, glyphs)
 * that the CPU twin paints in order and the CUDA kernel paints in one launch with the same result.
 */
#include "imgproc/imgproc_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef VG_HAVE_CUDA
#include "imgproc/cuda/imgproc_kernels.h"
#endif

#define MAX_PRIMS (1 << 20)

/* ----------------------------------------------------------------- ready-made operations */

static vg_draw_op op_init(vg_draw_kind kind, int frame, uint8_t r, uint8_t g, uint8_t b) {
  vg_draw_op op;
  memset(&op, 0, sizeof op);
  op.kind = kind;
  op.frame = frame;
  op.rgb[0] = r, op.rgb[1] = g, op.rgb[2] = b;
  op.thickness = 1;
  op.scale = 1;
  return op;
}

vg_draw_op vg_draw_box(int frame, vg_box box, int thickness, uint8_t r, uint8_t g, uint8_t b) {
  vg_draw_op op = op_init(VG_DRAW_BOX, frame, r, g, b);
  op.box = box;
  op.thickness = thickness;
  return op;
}

vg_draw_op vg_draw_fill(int frame, vg_box box, uint8_t r, uint8_t g, uint8_t b) {
  vg_draw_op op = op_init(VG_DRAW_FILL, frame, r, g, b);
  op.box = box;
  return op;
}

vg_draw_op vg_draw_quad(int frame, const vg_quad *q, int thickness, uint8_t r, uint8_t g,
                        uint8_t b) {
  vg_draw_op op = op_init(VG_DRAW_POLYGON, frame, r, g, b);
  op.thickness = thickness;
  op.npoints = 4;
  for (int k = 0; k < 4; k++)
    op.px[k] = q->x[k], op.py[k] = q->y[k];
  return op;
}

vg_draw_op vg_draw_text(int frame, float x, float y, const char *text, int scale, uint8_t r,
                        uint8_t g, uint8_t b) {
  vg_draw_op op = op_init(VG_DRAW_TEXT, frame, r, g, b);
  op.x = x, op.y = y;
  op.text = text;
  op.scale = scale;
  return op;
}

vg_draw_op vg_draw_label(int frame, float x, float y, const char *text, int scale,
                         const uint8_t rgb[3], const uint8_t bg_rgb[3]) {
  vg_draw_op op = vg_draw_text(frame, x, y, text, scale, rgb[0], rgb[1], rgb[2]);
  float above = y - (float)(VG_FONT_H * scale + scale);
  op.y = above >= (float)scale ? above : y + (float)scale;
  op.x = x + (float)scale;
  op.background = true;
  memcpy(op.bg_rgb, bg_rgb, 3);
  return op;
}

/* ----------------------------------------------------------------- operations -> primitives */

typedef struct prim_list {
  vg_ip_prim *items;
  int count, cap;
  const vg_frame *frame;
  uint8_t yuv[3];
} prim_list;

static int iround(float v) {
  return (int)floorf(fminf(fmaxf(v, -1e6f), 1e6f) + 0.5f);
}

static int clampi(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* A new primitive with bounding box [x0,x1) x [y0,y1) clipped to the frame; NULL when empty. */
static vg_ip_prim *add_prim(prim_list *l, int kind, int x0, int y0, int x1, int y1) {
  const vg_frame *f = l->frame;
  x0 = clampi(x0, 0, f->width), x1 = clampi(x1, 0, f->width);
  y0 = clampi(y0, 0, f->height), y1 = clampi(y1, 0, f->height);
  if (x0 >= x1 || y0 >= y1 || l->count >= l->cap) return NULL;
  vg_ip_prim *p = &l->items[l->count++];
  memset(p, 0, sizeof *p);
  p->py = vg_frame_plane(f, 0);
  p->pitch_y = f->pitch[0];
  p->has_uv = f->format == VG_PIX_NV12;
  p->bpp = f->format == VG_PIX_RGB24 || f->format == VG_PIX_BGR24 ? 3 : 1;
  if (p->has_uv) {
    p->puv = vg_frame_plane(f, 1);
    p->pitch_uv = f->pitch[1];
  }
  p->fw = f->width, p->fh = f->height;
  p->kind = kind;
  p->x0 = x0, p->y0 = y0, p->x1 = x1, p->y1 = y1;
  memcpy(p->yuv, l->yuv, 3);
  return p;
}

/* The bytes a colour is painted with on frame f: Y, U, V for NV12 (its colorspace and range),
 * the pixel's bytes for packed formats; GRAY8 takes the full-range luma of the colour. */
static void frame_colour(const vg_frame *f, const uint8_t rgb[3], uint8_t out[3]) {
  switch (f->format) {
  case VG_PIX_RGB24:
    memcpy(out, rgb, 3);
    break;
  case VG_PIX_BGR24:
    out[0] = rgb[2], out[1] = rgb[1], out[2] = rgb[0];
    break;
  case VG_PIX_GRAY8:
    vg_rgb_to_yuv(f->colorspace, true, rgb, out);
    out[1] = out[2] = out[0];
    break;
  default:
    vg_rgb_to_yuv(f->colorspace, f->full_range, rgb, out);
  }
}

static void add_segment(prim_list *l, float ax, float ay, float bx, float by, int thickness) {
  float hw = 0.5f * (float)thickness;
  int x0 = (int)floorf(fminf(ax, bx) - hw), x1 = (int)ceilf(fmaxf(ax, bx) + hw);
  int y0 = (int)floorf(fminf(ay, by) - hw), y1 = (int)ceilf(fmaxf(ay, by) + hw);
  vg_ip_prim *p = add_prim(l, VG_IP_PRIM_SEGMENT, x0, y0, x1, y1);
  if (!p) return;
  p->ax = ax, p->ay = ay, p->bx = bx, p->by = by;
  p->dx = bx - ax, p->dy = by - ay;
  float len2 = p->dx * p->dx + p->dy * p->dy;
  p->inv_len2 = len2 > 0.f ? 1.f / len2 : 0.f;
  p->hw2 = hw * hw;
}

static void add_text(prim_list *l, const vg_draw_op *op) {
  int s = op->scale, x = iround(op->x), y = iround(op->y);
  size_t len = strnlen(op->text, VG_DRAW_MAX_TEXT);
  if (op->background) {
    uint8_t keep[3];
    memcpy(keep, l->yuv, 3);
    frame_colour(l->frame, op->bg_rgb, l->yuv);
    add_prim(l, VG_IP_PRIM_RECT, x - s, y - s, x + (int)len * VG_FONT_W * s + s,
             y + VG_FONT_H * s + s);
    memcpy(l->yuv, keep, 3);
  }
  for (size_t k = 0; k < len; k++) {
    unsigned char c = (unsigned char)op->text[k];
    const uint8_t *bits = vg_font8x16[(c >= 32 && c < 127 ? c : '?') - 32];
    int blank = 1;
    for (int r = 0; r < 16; r++)
      blank &= bits[r] == 0;
    if (blank) continue;
    int gx = x + (int)k * VG_FONT_W * s;
    vg_ip_prim *p = add_prim(l, VG_IP_PRIM_GLYPH, gx, y, gx + VG_FONT_W * s, y + VG_FONT_H * s);
    if (!p) continue;
    p->gx = gx, p->gy = y, p->gscale = s;
    memcpy(p->bits, bits, 16);
  }
}

static void add_op(prim_list *l, const vg_draw_op *op) {
  frame_colour(l->frame, op->rgb, l->yuv);
  int t = op->thickness;
  if (op->kind == VG_DRAW_BOX || op->kind == VG_DRAW_FILL) {
    int x1 = iround(op->box.x1), y1 = iround(op->box.y1);
    int x2 = iround(op->box.x2), y2 = iround(op->box.y2);
    if (op->kind == VG_DRAW_FILL) {
      add_prim(l, VG_IP_PRIM_RECT, x1, y1, x2, y2);
    } else if (x2 > x1 && y2 > y1) {
      /* the four edges, kept inside the box when it is thinner than 2 * thickness */
      int ty = y2 - y1 < t ? y2 - y1 : t, tx = x2 - x1 < t ? x2 - x1 : t;
      add_prim(l, VG_IP_PRIM_RECT, x1, y1, x2, y1 + ty);
      add_prim(l, VG_IP_PRIM_RECT, x1, y2 - ty, x2, y2);
      add_prim(l, VG_IP_PRIM_RECT, x1, y1, x1 + tx, y2);
      add_prim(l, VG_IP_PRIM_RECT, x2 - tx, y1, x2, y2);
    }
  } else if (op->kind == VG_DRAW_POLYGON) {
    int n = op->npoints, segs = n == 2 ? 1 : n;
    for (int k = 0; k < segs; k++)
      add_segment(l, op->px[k], op->py[k], op->px[(k + 1) % n], op->py[(k + 1) % n], t);
  } else {
    add_text(l, op);
  }
}

static int prims_upper_bound(const vg_draw_op *op) {
  switch (op->kind) {
  case VG_DRAW_BOX:
    return 4;
  case VG_DRAW_FILL:
    return 1;
  case VG_DRAW_POLYGON:
    return op->npoints;
  default:
    return 1 + (int)strnlen(op->text, VG_DRAW_MAX_TEXT);
  }
}

static bool finite_coord(float v) {
  return isfinite(v) && fabsf(v) < 1e7f;
}

static vg_status check_op(const vg_draw_op *op, int i, int nframes) {
  if (op->frame < 0 || op->frame >= nframes)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d names frame %d of %d", i, op->frame,
                        nframes);
  switch (op->kind) {
  case VG_DRAW_BOX:
  case VG_DRAW_FILL:
    if (!finite_coord(op->box.x1) || !finite_coord(op->box.y1) || !finite_coord(op->box.x2) ||
        !finite_coord(op->box.y2))
      return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d has a non-finite box", i);
    break;
  case VG_DRAW_POLYGON:
    if (op->npoints < 2 || op->npoints > VG_DRAW_MAX_POINTS)
      return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d polygon has %d points (2..%d)", i,
                          op->npoints, VG_DRAW_MAX_POINTS);
    for (int k = 0; k < op->npoints; k++)
      if (!finite_coord(op->px[k]) || !finite_coord(op->py[k]))
        return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d point %d is not finite", i, k);
    break;
  case VG_DRAW_TEXT:
    if (!op->text) return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d text is NULL", i);
    if (op->scale < 1 || op->scale > VG_DRAW_MAX_SCALE)
      return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d text scale %d outside 1..%d", i,
                          op->scale, VG_DRAW_MAX_SCALE);
    if (!finite_coord(op->x) || !finite_coord(op->y))
      return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d text position is not finite", i);
    return VG_OK;
  default:
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d has unknown kind %d", i,
                        (int)op->kind);
  }
  if (op->kind != VG_DRAW_FILL && (op->thickness < 1 || op->thickness > VG_DRAW_MAX_THICKNESS))
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: op %d thickness %d outside 1..%d", i,
                        op->thickness, VG_DRAW_MAX_THICKNESS);
  return VG_OK;
}

/* Primitives of all ops, grouped by frame (op order kept within a frame). */
static vg_status build_prims(vg_frame *frames, int nframes, const vg_draw_op *ops, int nops,
                             prim_list *l) {
  int64_t bound = 0;
  for (int i = 0; i < nops; i++)
    bound += prims_upper_bound(&ops[i]);
  if (bound > MAX_PRIMS)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_overlay: %lld primitives in one call, more than %d",
                        (long long)bound, MAX_PRIMS);
  l->items = malloc((size_t)(bound > 0 ? bound : 1) * sizeof *l->items);
  int *order = malloc((size_t)nops * sizeof *order),
      *start = calloc((size_t)nframes + 1, sizeof *start);
  if (!l->items || !order || !start) {
    free(order), free(start);
    return vg_set_error(VG_ERR_NO_MEMORY, "vg_overlay: out of memory");
  }
  l->cap = (int)bound;
  for (int i = 0; i < nops; i++)
    start[ops[i].frame + 1]++;
  for (int f = 0; f < nframes; f++)
    start[f + 1] += start[f];
  for (int i = 0; i < nops; i++)
    order[start[ops[i].frame]++] = i; /* start[f] ends at f+1's */
  for (int f = 0, k = 0; f < nframes; f++) {
    int first = l->count;
    l->frame = &frames[f];
    for (; k < nops && ops[order[k]].frame == f; k++)
      add_op(l, &ops[order[k]]);
    for (int j = first; j < l->count; j++)
      l->items[j].frame_end = l->count;
  }
  free(order);
  free(start);
  return VG_OK;
}

/* ----------------------------------------------------------------- CPU twin and dispatch */

void vg_ip_overlay_cpu(const vg_ip_prim *prims, int n) {
  for (int i = 0; i < n; i++) {
    const vg_ip_prim *p = &prims[i];
    for (int y = p->y0; y < p->y1; y++)
      for (int x = p->x0; x < p->x1; x++)
        if (vg_ip_covers(p, x, y)) vg_ip_paint_pixel(p, x, y);
    if (!p->has_uv) continue;
    for (int by = p->y0 / 2; by <= (p->y1 - 1) / 2; by++) {
      for (int bx = p->x0 / 2; bx <= (p->x1 - 1) / 2; bx++) {
        int any = 0;
        for (int y = 2 * by; y < 2 * by + 2 && y < p->fh; y++)
          for (int x = 2 * bx; x < 2 * bx + 2 && x < p->fw; x++)
            any |= vg_ip_covers(p, x, y);
        if (!any) continue;
        uint8_t *uv = p->puv + (size_t)by * (size_t)p->pitch_uv + (size_t)bx * 2;
        uv[0] = p->yuv[1];
        uv[1] = p->yuv[2];
      }
    }
  }
}

void vg_ip_overlay_prefix(const vg_ip_prim *prims, int n, int64_t *prefix) {
  prefix[0] = 0;
  for (int k = 0; k < n; k++) {
    const vg_ip_prim *p = &prims[k];
    int64_t nbx = ((p->x1 - 1) >> 1) - (p->x0 >> 1) + 1;
    int64_t nby = ((p->y1 - 1) >> 1) - (p->y0 >> 1) + 1;
    prefix[k + 1] = prefix[k] + nbx * nby;
  }
}

vg_status vg_ip_overlay_emulate(const vg_ip_prim *prims, int n) {
  int64_t *prefix = malloc((size_t)(n + 1) * sizeof *prefix);
  if (!prefix) return vg_set_error(VG_ERR_NO_MEMORY, "vg_overlay: out of memory");
  vg_ip_overlay_prefix(prims, n, prefix);
  /* backwards: an algorithm that relied on the order of its work items would paint the earliest
   * primitive last here and fail the comparison with the in-order twin */
  for (int k = n - 1; k >= 0; k--)
    for (int64_t local = prefix[k + 1] - prefix[k] - 1; local >= 0; local--)
      vg_ip_overlay_block(prims, k, local);
  free(prefix);
  return VG_OK;
}

vg_status vg_ip_run_overlay(const vg_ip_prim *prims, int n, vg_device dev, vg_stream stream) {
  if (n == 0) return VG_OK;
  if (dev.kind == VG_DEVICE_CPU) {
    vg_ip_overlay_cpu(prims, n);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  return vg_ipk_overlay(prims, n, dev.ordinal, vg_stream_native(stream));
#else
  return vg_set_error(VG_ERR_UNSUPPORTED, "vg_overlay: frames on a CUDA device need a build with "
                                          "CUDA support");
#endif
}

vg_status vg_ip_overlay_build(vg_frame *frames, int nframes, const vg_draw_op *ops, int nops,
                              vg_ip_prim **prims, int *n) {
  *prims = NULL;
  *n = 0;
  if (!frames || nframes <= 0 || nframes > VG_IMGPROC_MAX_BATCH || nops < 0 ||
      nops > VG_IMGPROC_MAX_DRAW_OPS || (nops > 0 && !ops))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_overlay: need 1..%d frames and 0..%d ops (got %d and %d)",
                        VG_IMGPROC_MAX_BATCH, VG_IMGPROC_MAX_DRAW_OPS, nframes, nops);
  for (int i = 0; i < nframes; i++)
    VG_TRY(vg_ip_check_frame(&frames[i], "frame", i,
                             (1u << VG_PIX_NV12) | (1u << VG_PIX_RGB24) | (1u << VG_PIX_BGR24) |
                                 (1u << VG_PIX_GRAY8)));
  for (int i = 0; i < nops; i++)
    VG_TRY(check_op(&ops[i], i, nframes));
  if (nops == 0) return VG_OK;
  prim_list l;
  memset(&l, 0, sizeof l);
  vg_status st = build_prims(frames, nframes, ops, nops, &l);
  if (st != VG_OK) {
    free(l.items);
    return st;
  }
  *prims = l.items;
  *n = l.count;
  return VG_OK;
}

vg_status vg_overlay(vg_frame *frames, int nframes, const vg_draw_op *ops, int nops,
                     vg_stream stream) {
  vg_ip_prim *prims;
  int n;
  VG_TRY(vg_ip_overlay_build(frames, nframes, ops, nops, &prims, &n));
  vg_device dev;
  vg_status st = vg_ip_common_device(frames, nframes, NULL, &dev);
  if (st == VG_OK) st = vg_ip_check_stream(stream, dev);
  if (st == VG_OK) st = vg_ip_run_overlay(prims, n, dev, stream);
  free(prims);
  return st;
}
