/* node_text_direction.c - the `text_direction` node: reads PP-OCR's 180-degree direction
 * classifier output [N, 2] for the packet's N text objects and turns the quads of upside-down
 * text around (a 180-degree turn of a quad crop is the same quad starting at the opposite
 * corner), so that the recogniser's crops come out upright. Without the tensor (the optional
 * classifier is disabled, or there were no crops) the packet passes unchanged. */
#include "node_util.h"
#include "vidgraph/vg_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dir_state {
  const char *input;
  float threshold;
} dir_state;

static const vg_param k_params[] = {
    VG_P_STRING(dir_state, input, "input", "output", "tensor of the classifier, [N, 2]"),
    VG_P_FLOAT(dir_state, threshold, "threshold", 0.9, 0, 1,
               "minimum score of 'upside down' to turn a quad"),
    {0}};

/* Quad of the same region seen upside down: points start at the opposite corner. */
static void turn_quad(vg_quad *q) {
  vg_quad r;
  for (int k = 0; k < 4; k++) {
    r.x[k] = q->x[(k + 2) % 4];
    r.y[k] = q->y[(k + 2) % 4];
  }
  *q = r;
}

static vg_status dir_one(vg_call *c, vg_node_io *io) {
  const dir_state *s = c->state;
  const vg_tensor *t = vg_packet_tensor(io->in[0], s->input);
  const vg_objects *in = vg_packet_objects(io->in[0]);
  vg_packet *out;
  VG_TRY(vg_packet_derive(io->in[0], &out));
  vg_status st = VG_OK;
  if (t && in->count > 0) {
    if (t->ndim != 2 || t->shape[0] < (int64_t)in->count || t->shape[1] != 2) {
      char sh[64];
      st = vg_node_error(c->node, VG_ERR_INVALID_ARG,
                         "tensor '%s' is %s, expected [%zu (or more), 2]: one row per text object",
                         s->input, vg_tensor_str(t, sh, sizeof sh), in->count);
    }
    vg_objects *objs = NULL;
    if (st == VG_OK) st = vg_packet_objects_edit(out, &objs);
    for (size_t i = 0; st == VG_OK && i < objs->count; i++) {
      bool rotate;
      float score;
      st = vg_textdir_decode(t, (int)i, s->threshold, &rotate, &score);
      if (st == VG_OK && rotate && objs->items[i].has_quad) turn_quad(&objs->items[i].quad);
    }
  }
  if (t) vg_packet_remove_tensor(out, s->input);
  return nodes_hand_over(io, out, st);
}

static vg_status dir_process(vg_call *c) {
  return nodes_per_frame(c, dir_one);
}

const vg_node_type vg_node_text_direction = {
    .name = "text_direction",
    .doc = "PP-OCR 180-degree direction classifier output -> upright text quads",
    .inputs = {{"in", VG_PORT_OBJECTS | VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .params = k_params,
    .state_size = sizeof(dir_state),
    .process = dir_process,
};
