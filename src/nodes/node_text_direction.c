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
  char input[VG_TENSOR_NAME_MAX];
  float threshold;
} dir_state;

static const char *const k_params[] = {"input", "threshold", NULL};

static vg_status dir_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  const char *in;
  double th;
  VG_TRY(vg_cfg_string(params, "input", false, "output", &in));
  VG_TRY(vg_cfg_double_range(params, "threshold", false, 0.9, 0, 1, &th));
  dir_state *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  snprintf(s->input, sizeof s->input, "%s", in);
  s->threshold = (float)th;
  *state = s;
  return VG_OK;
}

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
    .init = dir_init,
    .process = dir_process,
    .destroy = free,
};
