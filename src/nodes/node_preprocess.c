/* node_preprocess.c - the `preprocess` node: the frame becomes a model input tensor in one fused
 * pass (resize or letterbox, colour, normalisation, layout, dtype) on the frame's device, and the
 * transform back to frame pixels goes into the packet for the decoders. */
#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pre_state {
  int w, h;
  vg_fit fit;
  nodes_tensor_out out; /* sample parameters, layout, dtype, tensor name */
} pre_state;

static const char *const k_params[] = {"width", "height", "fit",   "interp",    "bgr",
                                       "mean",  "std",    "scale", "pad_value", "layout",
                                       "dtype", "output", NULL};

static vg_status pre_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  pre_state s;
  memset(&s, 0, sizeof s);
  int64_t w, h;
  VG_TRY(vg_cfg_int_range(params, "width", true, 0, 8, VG_IMGPROC_MAX_SIDE, &w));
  VG_TRY(vg_cfg_int_range(params, "height", true, 0, 8, VG_IMGPROC_MAX_SIDE, &h));
  s.w = (int)w;
  s.h = (int)h;
  const char *fit;
  VG_TRY(vg_cfg_string(params, "fit", false, "letterbox", &fit));
  if (strcmp(fit, "letterbox") == 0)
    s.fit = VG_FIT_LETTERBOX;
  else if (strcmp(fit, "letterbox_tl") == 0)
    s.fit = VG_FIT_LETTERBOX_TL;
  else if (strcmp(fit, "stretch") == 0)
    s.fit = VG_FIT_STRETCH;
  else
    return vg_cnode_error(vg_cnode_get(params, "fit"), VG_ERR_PARSE,
                          "fit must be letterbox, letterbox_tl or stretch, got '%s'", fit);
  VG_TRY(nodes_tensor_out_params(params, "input", &s.out));
  pre_state *ps = malloc(sizeof *ps);
  if (!ps) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  *ps = s;
  *state = ps;
  return VG_OK;
}

static vg_status pre_one(vg_call *c, vg_node_io *io) {
  const pre_state *s = c->state;
  const vg_frame *f = vg_packet_frame(io->in[0]);
  if (!f) return vg_node_error(c->node, VG_ERR_INVALID_ARG, "packet has no picture");
  int64_t shape[4] = {1, 3, s->h, s->w};
  if (s->out.layout == VG_LAYOUT_NHWC) shape[1] = s->h, shape[2] = s->w, shape[3] = 3;
  vg_tensor t;
  VG_TRY(vg_tensor_alloc(s->out.dtype, 4, shape, vg_frame_device(f), vg_node_pool(c->node), &t));
  vg_xform xf;
  vg_status st = vg_preprocess(f, 1, s->fit, &s->out.tp, s->out.layout, &t, &xf, c->stream);
  vg_packet *out = NULL;
  if (st == VG_OK) st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) st = vg_packet_set_tensor(out, s->out.name, &t);
  if (st == VG_OK) st = vg_packet_set_xforms(out, &xf, 1);
  vg_tensor_release(&t);
  return nodes_hand_over(io, out, st);
}

static vg_status pre_process(vg_call *c) {
  return nodes_per_frame(c, pre_one);
}

const vg_node_type vg_node_preprocess = {
    .name = "preprocess",
    .doc = "frame -> model input tensor (letterbox/resize, colour, normalise, layout, dtype)",
    .inputs = {{"in", VG_PORT_FRAME}},
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .init = pre_init,
    .process = pre_process,
    .destroy = free,
};
