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
  int tile[2]; /* tile_size */
  int overlap;
  bool global_view;
  vg_tile_params tiles;
  int w, h;             /* model input */
  nodes_tensor_out out; /* sample parameters, layout, dtype, tensor name */
} tiles_state;

/* tile_size: one number (square tiles) or [w, h]. */
static vg_status read_tile_size(vg_node *self, const vg_cnode *params, const vg_param *p,
                                void *field) {
  const vg_cnode *n = vg_cnode_get(params, p->name);
  int *wh = field;
  wh[0] = wh[1] = 640;
  if (!n) return VG_OK;
  int64_t v[2];
  if (vg_cnode_get_kind(n) == VG_CNODE_SEQ) {
    if (vg_cnode_len(n) != 2)
      return vg_cnode_error(n, VG_ERR_PARSE, "tile_size: expected a number or [width, height]");
    for (int i = 0; i < 2; i++)
      if (vg_cnode_as_int(vg_cnode_at(n, (size_t)i), &v[i]) != VG_OK)
        return vg_cnode_error(vg_cnode_at(n, (size_t)i), VG_ERR_PARSE,
                              "tile_size: expected an integer");
  } else {
    VG_TRY(vg_cnode_as_int(n, &v[0]));
    v[1] = v[0];
  }
  for (int i = 0; i < 2; i++)
    if (v[i] < 16 || v[i] > VG_IMGPROC_MAX_SIDE)
      return vg_cnode_error(n, VG_ERR_PARSE, "tile_size %lld is outside 16..%d", (long long)v[i],
                            VG_IMGPROC_MAX_SIDE);
  wh[0] = (int)v[0];
  wh[1] = (int)v[1];
  return VG_OK;
}

static vg_status tiles_out(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  return nodes_tensor_out_params(params, "input", field);
}

static const vg_param k_params[] = {
    VG_P_CUSTOM(tiles_state, tile, "tile_size", read_tile_size,
                "tile side, or [width, height], 16..16384; default 640"),
    VG_P_INT(tiles_state, overlap, "overlap", -1, -1, VG_IMGPROC_MAX_SIDE,
             "pixels shared by neighbouring tiles, below the tile side; -1 = side / 8"),
    VG_P_BOOL(tiles_state, global_view, "global_view", true, "add the whole frame as last item"),
    VG_P_INT(tiles_state, w, "width", 0, 0, VG_IMGPROC_MAX_SIDE,
             "model input width (8..); 0 = the tile width"),
    VG_P_INT(tiles_state, h, "height", 0, 0, VG_IMGPROC_MAX_SIDE,
             "model input height (8..); 0 = the tile height"),
    VG_P_GROUP(tiles_state, out, "tensor", nodes_tensor_out_keys, tiles_out,
               NODES_TENSOR_OUT_DOC "; output defaults to 'input'"),
    {0}};

static vg_status side_param(const vg_cnode *params, const char *key, int *v, int lo, int hi) {
  if (*v >= lo && *v <= hi) return VG_OK;
  return vg_cnode_error(vg_cnode_get(params, key), VG_ERR_PARSE, "%s = %d is outside %d..%d", key,
                        *v, lo, hi);
}

static vg_status tiles_init(vg_node *self, const vg_cnode *params, void **state) {
  tiles_state *s = *state;
  s->tiles.tile_w = s->tile[0];
  s->tiles.tile_h = s->tile[1];
  int side = s->tile[0] < s->tile[1] ? s->tile[0] : s->tile[1];
  if (s->overlap < 0 && !vg_cnode_get(params, "overlap")) s->overlap = side / 8;
  VG_TRY(side_param(params, "overlap", &s->overlap, 0, side - 1));
  s->tiles.overlap = s->overlap;
  s->tiles.global_view = s->global_view;
  if (s->w == 0 && !vg_cnode_get(params, "width")) s->w = s->tile[0];
  if (s->h == 0 && !vg_cnode_get(params, "height")) s->h = s->tile[1];
  VG_TRY(side_param(params, "width", &s->w, 8, VG_IMGPROC_MAX_SIDE));
  return side_param(params, "height", &s->h, 8, VG_IMGPROC_MAX_SIDE);
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
    .params = k_params,
    .state_size = sizeof(tiles_state),
    .init = tiles_init,
    .process = tiles_process,
};
