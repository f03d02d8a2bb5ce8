/* node_tiles.c - the `tiles` node: a large frame becomes one batch tensor of overlapping tiles
 * (plus, optionally, the whole frame letterboxed as a "global view", last), in one sampling pass
 * on the frame's device (vg_preprocess_tiles). The packet gets one transform per batch item, so
 * that a decoder maps the detections of item i back to the frame with transform i.
 *
 * A batching type: a call with several frames preprocesses all their tiles in one launch into
 * one tensor, and each frame's packet gets a view of its own items. */
#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tiles_state {
  vg_tile_params tiles;
  int w, h;             /* model input */
  nodes_tensor_out out; /* sample parameters, layout, dtype, tensor name */
} tiles_state;

static const char *const k_params[] = {"tile_size", "overlap", "global_view", "width",  "height",
                                       "interp",    "bgr",     "mean",        "std",    "scale",
                                       "pad_value", "layout",  "dtype",       "output", NULL};

/* tile_size: one number (square tiles) or [w, h]. */
static vg_status read_tile_size(const vg_cnode *params, int *w, int *h) {
  const vg_cnode *n = vg_cnode_get(params, "tile_size");
  if (!n) {
    *w = *h = 640;
    return VG_OK;
  }
  int64_t v[2];
  if (vg_cnode_get_kind(n) == VG_CNODE_SEQ) {
    if (vg_cnode_len(n) != 2)
      return vg_cnode_error(n, VG_ERR_PARSE, "tile_size: expected a number or [width, height]");
    for (int i = 0; i < 2; i++)
      if (vg_cnode_as_int(vg_cnode_at(n, (size_t)i), &v[i]) != VG_OK)
        return vg_cnode_error(vg_cnode_at(n, (size_t)i), VG_ERR_PARSE,
                              "tile_size: expected an integer");
  } else {
    VG_TRY(vg_cfg_int(params, "tile_size", true, 0, &v[0]));
    v[1] = v[0];
  }
  for (int i = 0; i < 2; i++)
    if (v[i] < 16 || v[i] > VG_IMGPROC_MAX_SIDE)
      return vg_cnode_error(n, VG_ERR_PARSE, "tile_size %lld is outside 16..%d", (long long)v[i],
                            VG_IMGPROC_MAX_SIDE);
  *w = (int)v[0];
  *h = (int)v[1];
  return VG_OK;
}

static vg_status tiles_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  tiles_state s;
  memset(&s, 0, sizeof s);
  VG_TRY(read_tile_size(params, &s.tiles.tile_w, &s.tiles.tile_h));
  int side = s.tiles.tile_w < s.tiles.tile_h ? s.tiles.tile_w : s.tiles.tile_h;
  int64_t v;
  VG_TRY(vg_cfg_int_range(params, "overlap", false, side / 8, 0, side - 1, &v));
  s.tiles.overlap = (int)v;
  VG_TRY(vg_cfg_bool(params, "global_view", false, true, &s.tiles.global_view));
  VG_TRY(vg_cfg_int_range(params, "width", false, s.tiles.tile_w, 8, VG_IMGPROC_MAX_SIDE, &v));
  s.w = (int)v;
  VG_TRY(vg_cfg_int_range(params, "height", false, s.tiles.tile_h, 8, VG_IMGPROC_MAX_SIDE, &v));
  s.h = (int)v;
  VG_TRY(nodes_tensor_out_params(params, "input", &s.out));
  tiles_state *ps = malloc(sizeof *ps);
  if (!ps) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  *ps = s;
  *state = ps;
  return VG_OK;
}

/* Hands frame i's items [first, first + count) of the batch to its output packet. */
static vg_status emit(vg_node_io *io, const tiles_state *s, const vg_tensor *all,
                      const vg_xform *xf, int first, int count) {
  vg_tensor view;
  VG_TRY(vg_tensor_slice(all, 0, first, count, &view));
  vg_packet *out = NULL;
  vg_status st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) st = vg_packet_set_tensor(out, s->out.name, &view);
  if (st == VG_OK) st = vg_packet_set_xforms(out, xf + first, count);
  vg_tensor_release(&view);
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  io->out[0] = out;
  return VG_OK;
}

typedef struct tiles_batch {
  vg_frame *frames;
  int *first, *count;
  vg_xform *xf;
  int total;
} tiles_batch;

static void batch_free(tiles_batch *b) {
  free(b->frames);
  free(b->first);
  free(b->count);
  free(b->xf);
}

/* Frames of the call and their tile counts. */
static vg_status batch_plan(vg_call *c, const tiles_state *s, tiles_batch *b) {
  b->frames = calloc((size_t)c->n, sizeof *b->frames);
  b->first = calloc((size_t)c->n, sizeof *b->first);
  b->count = calloc((size_t)c->n, sizeof *b->count);
  if (!b->frames || !b->first || !b->count) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (int i = 0; i < c->n; i++) {
    const vg_frame *f = vg_packet_frame(c->io[i].in[0]);
    if (!f)
      return vg_set_error(VG_ERR_INVALID_ARG, "stream %d frame %lld has no picture",
                          vg_packet_stream(c->io[i].in[0]),
                          (long long)vg_packet_frame_no(c->io[i].in[0]));
    b->frames[i] = *f; /* borrowed: the packets keep the pixels alive */
    VG_TRY(vg_tile_grid(f->width, f->height, &s->tiles, NULL, 0, &b->count[i]));
    b->first[i] = b->total;
    b->total += b->count[i];
    if (b->total > VG_IMGPROC_MAX_BATCH)
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "%d tiles in one call (more than %d): use larger tiles or a smaller "
                          "max_batch",
                          b->total, VG_IMGPROC_MAX_BATCH);
  }
  b->xf = calloc((size_t)b->total, sizeof *b->xf);
  if (!b->xf) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  return VG_OK;
}

static vg_status tiles_process(vg_call *c) {
  const tiles_state *s = c->state;
  tiles_batch b = {0};
  vg_status st = batch_plan(c, s, &b);
  vg_tensor all = {0};
  if (st == VG_OK) {
    int64_t shape[4] = {b.total, 3, s->h, s->w};
    if (s->out.layout == VG_LAYOUT_NHWC) shape[1] = s->h, shape[2] = s->w, shape[3] = 3;
    st = vg_tensor_alloc(s->out.dtype, 4, shape, vg_frame_device(&b.frames[0]),
                         vg_node_pool(c->node), &all);
  }
  if (st == VG_OK)
    st = vg_preprocess_tiles(b.frames, c->n, &s->tiles, &s->out.tp, s->out.layout, &all, b.xf, NULL,
                             c->stream);
  for (int i = 0; st == VG_OK && i < c->n; i++)
    st = emit(&c->io[i], s, &all, b.xf, b.first[i], b.count[i]);
  vg_tensor_release(&all);
  batch_free(&b);
  return st;
}

const vg_node_type vg_node_tiles = {
    .name = "tiles",
    .doc = "frame -> batch tensor of overlapping tiles (+ global view) with one transform each",
    .inputs = {{"in", VG_PORT_FRAME}},
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .flags = VG_NODE_BATCHING,
    .init = tiles_init,
    .process = tiles_process,
    .destroy = free,
};
