/* tiles.c - tile grids over large frames (tile size + overlap, optional global view) and the
 * preprocess of all tiles of a frame batch into one batch tensor in one sampling pass. */
#include "imgproc/imgproc_internal.h"

#include <math.h>
#include <stdlib.h>

/* Number of tiles along one axis and the start of tile i. */
static int axis_count(int len, int tile, int overlap) {
  if (len <= tile) return 1;
  int stride = tile - overlap;
  return 1 + (len - tile + stride - 1) / stride;
}

static int axis_pos(int len, int tile, int overlap, int i) {
  if (len <= tile) return 0;
  int p = i * (tile - overlap);
  return p < len - tile ? p : len - tile;
}

static vg_status check_tile_params(const vg_tile_params *tp) {
  if (!tp) return vg_set_error(VG_ERR_INVALID_ARG, "imgproc tiles: parameters are NULL");
  if (tp->tile_w <= 0 || tp->tile_h <= 0 || tp->tile_w > 32768 || tp->tile_h > 32768)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc tiles: tile size %dx%d outside 1..32768",
                        tp->tile_w, tp->tile_h);
  int m = tp->tile_w < tp->tile_h ? tp->tile_w : tp->tile_h;
  if (tp->overlap < 0 || tp->overlap >= m)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc tiles: overlap %d must be in 0..%d (less than the tile side)",
                        tp->overlap, m - 1);
  return VG_OK;
}

vg_status vg_tile_grid(int frame_w, int frame_h, const vg_tile_params *tp, vg_rect *rects, int cap,
                       int *count) {
  VG_TRY(check_tile_params(tp));
  if (frame_w <= 0 || frame_h <= 0 || frame_w > 32768 || frame_h > 32768)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc tiles: frame size %dx%d outside 1..32768",
                        frame_w, frame_h);
  if (!count || cap < 0 || (cap > 0 && !rects))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc tiles: bad output arguments");
  int nx = axis_count(frame_w, tp->tile_w, tp->overlap);
  int ny = axis_count(frame_h, tp->tile_h, tp->overlap);
  int k = 0;
  for (int j = 0; j < ny; j++) {
    for (int i = 0; i < nx; i++, k++) {
      if (k >= cap) continue;
      vg_rect r;
      r.x = axis_pos(frame_w, tp->tile_w, tp->overlap, i);
      r.y = axis_pos(frame_h, tp->tile_h, tp->overlap, j);
      r.w = frame_w < tp->tile_w ? frame_w : tp->tile_w;
      r.h = frame_h < tp->tile_h ? frame_h : tp->tile_h;
      rects[k] = r;
    }
  }
  if (tp->global_view) {
    if (k < cap) rects[k] = (vg_rect){0, 0, frame_w, frame_h};
    k++;
  }
  *count = k;
  return VG_OK;
}

static int clampi(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Items of one frame's tiles, from item index `first`. */
static void tile_items(const vg_frame *f, int fi, const vg_tile_params *tp, const vg_rect *rects,
                       int count, int out_w, int out_h, vg_ip_item *items, vg_xform *xforms,
                       int *item_frame, int first) {
  double s = fmin((double)out_w / tp->tile_w, (double)out_h / tp->tile_h);
  for (int k = 0; k < count; k++) {
    vg_ip_item *it = &items[first + k];
    vg_xform *xf = xforms ? &xforms[first + k] : NULL;
    const vg_rect *r = &rects[k];
    vg_ip_item_colour(it, f);
    if (item_frame) item_frame[first + k] = fi;
    if (tp->global_view && k == count - 1) {
      vg_ip_fit(it, 0, 0, f->width, f->height, out_w, out_h, VG_FIT_LETTERBOX, xf);
      continue;
    }
    int dw = clampi((int)lround(r->w * s), 1, out_w), dh = clampi((int)lround(r->h * s), 1, out_h);
    vg_ip_place(it, r->x, r->y, r->w, r->h, 0, 0, dw, dh, xf);
  }
}

vg_status vg_preprocess_tiles(const vg_frame *frames, int n, const vg_tile_params *tiles,
                              const vg_tensor_params *tp, vg_layout layout, vg_tensor *out,
                              vg_xform *xforms, int *item_frame, vg_stream stream) {
  if (!frames || n <= 0 || n > VG_IMGPROC_MAX_BATCH)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_preprocess_tiles: need 1..%d frames (got %d)",
                        VG_IMGPROC_MAX_BATCH, n);
  VG_TRY(check_tile_params(tiles));
  VG_TRY(vg_ip_check_tensor_params(tp, layout));
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    VG_TRY(vg_ip_check_frame(&frames[i], "frame", i, 0xfu));
    int c;
    VG_TRY(vg_tile_grid(frames[i].width, frames[i].height, tiles, NULL, 0, &c));
    total += c;
  }
  if (total > VG_IMGPROC_MAX_BATCH)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_preprocess_tiles: %lld tiles in one call, more than %d",
                        (long long)total, VG_IMGPROC_MAX_BATCH);
  int out_w, out_h;
  VG_TRY(vg_ip_check_out_tensor(out, total, layout, &out_w, &out_h));
  vg_device dev;
  VG_TRY(vg_ip_common_device(frames, n, out, &dev));
  VG_TRY(vg_ip_check_stream(stream, dev));

  vg_ip_item *items = calloc((size_t)total, sizeof *items);
  vg_rect *rects = calloc((size_t)total, sizeof *rects);
  vg_status st = VG_OK;
  if (!items || !rects) st = vg_set_error(VG_ERR_NO_MEMORY, "vg_preprocess_tiles: out of memory");
  for (int i = 0, first = 0; st == VG_OK && i < n; i++) {
    int c;
    st = vg_tile_grid(frames[i].width, frames[i].height, tiles, rects, (int)total, &c);
    if (st != VG_OK) break;
    tile_items(&frames[i], i, tiles, rects, c, out_w, out_h, items, xforms, item_frame, first);
    first += c;
  }
  if (st == VG_OK) {
    vg_ip_out o;
    vg_ip_out_init(&o, out, layout, tp, out_w, out_h);
    st = vg_ip_run_sample(items, (int)total, &o, dev, stream);
  }
  free(items);
  free(rects);
  return st;
}
