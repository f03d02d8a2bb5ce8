/* node_text_detect_decode.c - the `text_detect_decode` node: PP-OCR DBNet probability map ->
 * text quadrilaterals (objects with has_quad) in frame coordinates, through the preprocess
 * transform of the packet. A map in CUDA memory is decoded on the device (vg_dbnet_decode_cuda:
 * only the rectangles come back), a host map by the CPU twin. */
#include "node_util.h"
#include "vidgraph/vg_post.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tdd_state {
  vg_dbnet_params p;
  const char *input;
  float min_width, min_height; /* frame pixels: smaller quads are dropped */
  int max_objects;
  float merge_gap;    /* > 0: merge quads of one text line closer than merge_gap * line height */
  nodes_ws_pool pool; /* vg_dbnet_cuda workspaces */
} tdd_state;

static vg_status tdd_ws_make(vg_device dev, void **ws) {
  return vg_dbnet_cuda_create(dev, (vg_dbnet_cuda **)ws);
}

static void tdd_ws_drop(void *ws) {
  vg_dbnet_cuda_destroy(ws);
}

static vg_status tdd_init(vg_node *self, const vg_cnode *params, void **state) {
  (void)self, (void)params;
  nodes_ws_pool_init(&((tdd_state *)*state)->pool);
  return VG_OK;
}

static void tdd_destroy(void *state) {
  nodes_ws_pool_free(&((tdd_state *)state)->pool, tdd_ws_drop);
}

/* Decodes image 0 of the map where it lives. */
static vg_status tdd_decode(vg_call *c, tdd_state *s, const vg_tensor *prob, const vg_xform *xf,
                            int fw, int fh, vg_objects *objs) {
  if (vg_tensor_device(prob).kind != VG_DEVICE_CUDA)
    return vg_dbnet_decode(prob, 0, &s->p, xf, fw, fh, objs);
  void *ws;
  VG_TRY(nodes_ws_take(&s->pool, vg_tensor_device(prob), tdd_ws_make, &ws));
  vg_status st = vg_dbnet_decode_cuda(ws, prob, 0, &s->p, xf, fw, fh, objs, c->stream);
  nodes_ws_give(&s->pool, ws);
  return st;
}

static const char *const k_dbnet_keys[] = {"thresh",   "box_thresh",     "unclip_ratio",
                                           "min_size", "max_candidates", NULL};

static vg_status dbnet_group(vg_node *self, const vg_cnode *params, const vg_param *p,
                             void *field) {
  if (!params) return vg_dbnet_params_default(field), VG_OK;
  return vg_dbnet_params_from_config(params, field);
}

/* The DBNet keys for the docs (vg_dbnet_params_from_config reads them; test_graph_params checks
 * these defaults and ranges against it). */
static const vg_param k_dbnet_table[] = {
    VG_P_FLOAT(vg_dbnet_params, thresh, "thresh", 0.3, 0, 1, "a pixel is text when prob > thresh"),
    VG_P_FLOAT(vg_dbnet_params, box_thresh, "box_thresh", 0.6, 0, 1,
               "a region is kept when the mean prob inside its rectangle is at least this"),
    VG_P_FLOAT(vg_dbnet_params, unclip_ratio, "unclip_ratio", 1.5, 0, 10,
               "rectangle grown by area * ratio / perimeter on each side"),
    VG_P_FLOAT(vg_dbnet_params, min_size, "min_size", 3, 0, 10000,
               "regions with a shorter side (map pixels) are dropped"),
    VG_P_INT(vg_dbnet_params, max_candidates, "max_candidates", 1000, 1, 100000,
             "regions examined, largest first"),
    {0}};

static const vg_param k_params[] = {
    VG_P_STRING(tdd_state, input, "input", "output", "tensor of the DBNet probability map"),
    VG_P_GROUP(tdd_state, p, "dbnet", k_dbnet_keys, dbnet_group,
               "PP-OCR post-processing (vg_dbnet_params)", .sub = k_dbnet_table),
    VG_P_FLOAT(tdd_state, min_width, "min_width", 0, 0, 1e6, "narrower quads are dropped (px)"),
    VG_P_FLOAT(tdd_state, min_height, "min_height", 0, 0, 1e6, "lower quads are dropped (px)"),
    VG_P_INT(tdd_state, max_objects, "max_objects", 256, 1, 100000, "texts kept per frame"),
    VG_P_FLOAT(tdd_state, merge_gap, "merge_gap", 0, 0, 20,
               "merge words of a line closer than this many line heights; 0 = off"),
    {0}};

static float side(const vg_quad *q, int a, int b) {
  float dx = q->x[b] - q->x[a], dy = q->y[b] - q->y[a];
  return sqrtf(dx * dx + dy * dy);
}

/* Line geometry of a quad: centre, height (mean of the two short sides) and the x extent. */
static void line_of(const vg_quad *q, float *cy, float *h, float *x1, float *x2) {
  *h = 0.5f * (side(q, 0, 3) + side(q, 1, 2));
  *cy = 0.25f * (q->y[0] + q->y[1] + q->y[2] + q->y[3]);
  *x1 = fminf(fminf(q->x[0], q->x[1]), fminf(q->x[2], q->x[3]));
  *x2 = fmaxf(fmaxf(q->x[0], q->x[1]), fmaxf(q->x[2], q->x[3]));
}

/* Words of one line (a plate "CD 5917" often comes out as two regions) become one quad: two
 * quads merge when their heights agree within 1.6x, their centres are within half a line height
 * vertically, and the horizontal gap is below merge_gap * height. Near-horizontal text only. */
static vg_status merge_lines(vg_objects *objs, size_t first, float merge_gap) {
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = first; i < objs->count && !merged; i++) {
      for (size_t j = first; j < objs->count && !merged; j++) {
        if (i == j) continue;
        vg_object *a = &objs->items[i], *b = &objs->items[j];
        float ay, ah, ax1, ax2, by, bh, bx1, bx2;
        line_of(&a->quad, &ay, &ah, &ax1, &ax2);
        line_of(&b->quad, &by, &bh, &bx1, &bx2);
        float hmin = fminf(ah, bh), hmax = fmaxf(ah, bh);
        if (hmin <= 0 || hmax > 1.6f * hmin || fabsf(ay - by) > 0.5f * hmin) continue;
        if (bx1 < ax1 || bx1 - ax2 > merge_gap * hmin) continue; /* b must start right of a */
        float xs[8], ys[8];
        for (int k = 0; k < 4; k++) {
          xs[k] = a->quad.x[k], ys[k] = a->quad.y[k];
          xs[4 + k] = b->quad.x[k], ys[4 + k] = b->quad.y[k];
        }
        float w, h;
        VG_TRY(vg_min_area_rect(xs, ys, 8, &a->quad, &w, &h));
        a->box.x1 = fminf(a->box.x1, b->box.x1);
        a->box.y1 = fminf(a->box.y1, b->box.y1);
        a->box.x2 = fmaxf(a->box.x2, b->box.x2);
        a->box.y2 = fmaxf(a->box.y2, b->box.y2);
        a->score = fmaxf(a->score, b->score);
        objs->items[j] = objs->items[--objs->count];
        merged = true;
      }
    }
  }
  return VG_OK;
}

static vg_status tdd_one(vg_call *c, vg_node_io *io) {
  tdd_state *s = c->state;
  const vg_tensor *prob = vg_packet_tensor(io->in[0], s->input);
  if (!prob) return vg_node_error(c->node, VG_ERR_NOT_FOUND, "packet has no tensor '%s'", s->input);
  int nx = 0;
  const vg_xform *xf = vg_packet_xforms(io->in[0], &nx);
  vg_xform id = vg_xform_identity();
  const vg_frame *f = vg_packet_frame(io->in[0]);
  vg_packet *out;
  VG_TRY(vg_packet_derive(io->in[0], &out));
  vg_objects *objs;
  vg_status st = vg_packet_objects_edit(out, &objs);
  size_t first = st == VG_OK ? objs->count : 0;
  if (st == VG_OK)
    st = tdd_decode(c, s, prob, nx > 0 ? &xf[0] : &id, f ? f->width : 0, f ? f->height : 0, objs);
  if (st == VG_OK && s->merge_gap > 0) st = merge_lines(objs, first, s->merge_gap);
  if (st == VG_OK) { /* size filter and cap, in place */
    size_t w = first;
    for (size_t i = first; i < objs->count; i++) {
      vg_object *o = &objs->items[i];
      float len = fmaxf(side(&o->quad, 0, 1), side(&o->quad, 3, 2));
      float hgt = fmaxf(side(&o->quad, 0, 3), side(&o->quad, 1, 2));
      if (len < s->min_width || hgt < s->min_height || (int)(w - first) >= s->max_objects) continue;
      o->stream_id = vg_packet_stream(io->in[0]);
      o->frame_no = vg_packet_frame_no(io->in[0]);
      objs->items[w++] = *o;
    }
    objs->count = w;
  }
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  vg_packet_remove_tensor(out, s->input); /* the map is consumed: do not carry it downstream */
  io->out[0] = out;
  return VG_OK;
}

static vg_status tdd_process(vg_call *c) {
  return nodes_per_frame(c, tdd_one);
}

const vg_node_type vg_node_text_detect_decode = {
    .name = "text_detect_decode",
    .doc = "PP-OCR DBNet probability map -> text quadrilaterals (objects)",
    .inputs = {{"in", VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA, /* on CUDA the map stays on the device */
    .preferred = VG_DEVICE_CUDA,
    .params = k_params,
    .state_size = sizeof(tdd_state),
    .init = tdd_init,
    .process = tdd_process,
    .destroy = tdd_destroy,
};
