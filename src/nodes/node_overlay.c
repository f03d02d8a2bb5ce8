/* node_overlay.c - the `overlay` node: draws the packet's objects on a copy of the frame (the
 * input frame may be shared with other consumers): quads or boxes, and a label with what is
 * known (class label, track id, text). Runs on the frame's device (one overlay launch). */
#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DRAW 1024

typedef struct ovl_state {
  int thickness, scale;
  uint8_t color[3], text_color[3], text_bg[3], untracked[3];
  bool show_label, show_track, show_text, show_score, show_untracked;
} ovl_state;

static const char *const k_params[] = {
    "thickness",  "text_scale", "color",     "text_color", "text_background", "untracked_color",
    "show_label", "show_track", "show_text", "show_score", "show_untracked",  NULL};

static vg_status rgb_param(const vg_cnode *params, const char *key, uint8_t rgb[3]) {
  float v[3] = {rgb[0], rgb[1], rgb[2]};
  VG_TRY(nodes_floats(params, key, v, 3));
  for (int i = 0; i < 3; i++) {
    if (v[i] < 0 || v[i] > 255)
      return vg_cnode_error(vg_cnode_get(params, key), VG_ERR_PARSE, "colour values are 0..255");
    rgb[i] = (uint8_t)v[i];
  }
  return VG_OK;
}

static vg_status ovl_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  ovl_state s = {.color = {0, 230, 0},
                 .text_color = {0, 0, 0},
                 .text_bg = {0, 230, 0},
                 .untracked = {255, 200, 0}};
  int64_t th, sc;
  VG_TRY(vg_cfg_int_range(params, "thickness", false, 2, 1, VG_DRAW_MAX_THICKNESS, &th));
  VG_TRY(vg_cfg_int_range(params, "text_scale", false, 2, 1, VG_DRAW_MAX_SCALE, &sc));
  s.thickness = (int)th;
  s.scale = (int)sc;
  VG_TRY(rgb_param(params, "color", s.color));
  VG_TRY(rgb_param(params, "text_color", s.text_color));
  VG_TRY(rgb_param(params, "text_background", s.text_bg));
  VG_TRY(rgb_param(params, "untracked_color", s.untracked));
  VG_TRY(vg_cfg_bool(params, "show_label", false, true, &s.show_label));
  VG_TRY(vg_cfg_bool(params, "show_track", false, true, &s.show_track));
  VG_TRY(vg_cfg_bool(params, "show_text", false, true, &s.show_text));
  VG_TRY(vg_cfg_bool(params, "show_score", false, false, &s.show_score));
  VG_TRY(vg_cfg_bool(params, "show_untracked", false, true, &s.show_untracked));
  ovl_state *ps = malloc(sizeof *ps);
  if (!ps) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  *ps = s;
  *state = ps;
  return VG_OK;
}

/* "#12 KX52 RTU" style label of an object into buf ("" when there is nothing to say). */
static void label_of(const ovl_state *s, const vg_object *o, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  if (s->show_track && o->track_id >= 0)
    n += (size_t)snprintf(buf + n, cap - n, "#%lld ", (long long)o->track_id);
  if (s->show_text && o->text[0] && n < cap)
    n += (size_t)snprintf(buf + n, cap - n, "%s ", o->text);
  else if (s->show_label && o->label[0] && n < cap)
    n += (size_t)snprintf(buf + n, cap - n, "%s ", o->label);
  if (s->show_score && n < cap) n += (size_t)snprintf(buf + n, cap - n, "%.2f ", o->score);
  if (n > 0 && n <= cap) buf[n - 1] = '\0';
}

static vg_status ovl_one(vg_call *c, vg_node_io *io) {
  const ovl_state *s = c->state;
  const vg_frame *f = vg_packet_frame(io->in[0]);
  if (!f) return vg_node_error(c->node, VG_ERR_INVALID_ARG, "packet has no picture");
  const vg_objects *objs = vg_packet_objects(io->in[0]);
  vg_frame copy;
  VG_TRY(nodes_frame_copy(c->node, f, c->stream, &copy));
  size_t n = objs->count < MAX_DRAW / 2 ? objs->count : MAX_DRAW / 2;
  vg_draw_op *ops = malloc(sizeof *ops * (2 * n + 1));
  char(*labels)[VG_TEXT_MAX + 32] = malloc(sizeof *labels * (n + 1));
  vg_status st = ops && labels ? VG_OK : vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  int nops = 0;
  for (size_t i = 0; st == VG_OK && i < n; i++) {
    const vg_object *o = &objs->items[i];
    if (o->track_id < 0 && !s->show_untracked) continue;
    const uint8_t *col = o->track_id >= 0 ? s->color : s->untracked;
    ops[nops++] = o->has_quad ? vg_draw_quad(0, &o->quad, s->thickness, col[0], col[1], col[2])
                              : vg_draw_box(0, o->box, s->thickness, col[0], col[1], col[2]);
    label_of(s, o, labels[i], sizeof labels[i]);
    if (labels[i][0])
      ops[nops++] = vg_draw_label(0, o->box.x1, o->box.y1, labels[i], s->scale, s->text_color,
                                  o->track_id >= 0 ? s->text_bg : s->untracked);
  }
  if (st == VG_OK && nops > 0) st = vg_overlay(&copy, 1, ops, nops, c->stream);
  free(ops);
  free(labels);
  vg_packet *out = NULL;
  if (st == VG_OK) st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) vg_packet_set_frame(out, &copy);
  vg_frame_release(&copy);
  return nodes_hand_over(io, out, st);
}

static vg_status ovl_process(vg_call *c) {
  return nodes_per_frame(c, ovl_one);
}

const vg_node_type vg_node_overlay = {
    .name = "overlay",
    .doc = "draws objects (boxes/quads, track ids, texts) on a copy of the frame",
    .inputs = {{"in", VG_PORT_FRAME | VG_PORT_OBJECTS}},
    .outputs = {{"out", VG_PORT_FRAME | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .init = ovl_init,
    .process = ovl_process,
    .destroy = free,
};
