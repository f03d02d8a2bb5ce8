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
  float rgb[4][3]; /* color, text_color, text_background, untracked_color as read */
  uint8_t color[3], text_color[3], text_bg[3], untracked[3];
  bool show_label, show_track, show_text, show_score, show_untracked;
} ovl_state;

static const vg_param k_params[] = {
    VG_P_INT(ovl_state, thickness, "thickness", 2, 1, VG_DRAW_MAX_THICKNESS, "line width"),
    VG_P_INT(ovl_state, scale, "text_scale", 2, 1, VG_DRAW_MAX_SCALE, "label font scale"),
    VG_P_FLOATS(ovl_state, rgb[0], "color", 3, "0, 230, 0", 0, 255, "RGB of tracked objects"),
    VG_P_FLOATS(ovl_state, rgb[1], "text_color", 3, "0, 0, 0", 0, 255, "RGB of label text"),
    VG_P_FLOATS(ovl_state, rgb[2], "text_background", 3, "0, 230, 0", 0, 255,
                "RGB behind label text"),
    VG_P_FLOATS(ovl_state, rgb[3], "untracked_color", 3, "255, 200, 0", 0, 255,
                "RGB of objects without a track"),
    VG_P_BOOL(ovl_state, show_label, "show_label", true, "class label (when no text)"),
    VG_P_BOOL(ovl_state, show_track, "show_track", true, "#track id"),
    VG_P_BOOL(ovl_state, show_text, "show_text", true, "read text"),
    VG_P_BOOL(ovl_state, show_score, "show_score", false, "detection score"),
    VG_P_BOOL(ovl_state, show_untracked, "show_untracked", true, "draw objects without a track"),
    {0}};

static vg_status ovl_init(vg_node *self, const vg_cnode *params, void **state) {
  ovl_state *s = *state;
  uint8_t *dst[4] = {s->color, s->text_color, s->text_bg, s->untracked};
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 3; i++)
      dst[k][i] = (uint8_t)s->rgb[k][i];
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
    .params = k_params,
    .state_size = sizeof(ovl_state),
    .init = ovl_init,
    .process = ovl_process,
};
