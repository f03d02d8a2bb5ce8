/* node_preprocess.c - the `preprocess` node: the frame becomes a model input tensor in one fused
 * pass (resize or letterbox, colour, normalisation, layout, dtype) on the frame's device, and the
 * transform back to frame pixels goes into the packet for the decoders. */
#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pre_state {
  int w, h;
  int fit; /* index in k_fit */
  vg_fit fit_value;
  nodes_tensor_out out; /* sample parameters, layout, dtype, tensor name */
} pre_state;

static const char *const k_fit[] = {"letterbox", "letterbox_tl", "stretch", NULL};
static const vg_fit k_fit_value[] = {VG_FIT_LETTERBOX, VG_FIT_LETTERBOX_TL, VG_FIT_STRETCH};

static vg_status pre_out(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  return nodes_tensor_out_params(params, "input", field);
}

static const vg_param k_params[] = {
    VG_P_INT(pre_state, w, "width", 0, 8, VG_IMGPROC_MAX_SIDE, "model input width",
             .required = true),
    VG_P_INT(pre_state, h, "height", 0, 8, VG_IMGPROC_MAX_SIDE, "model input height",
             .required = true),
    VG_P_ENUM(pre_state, fit, "fit", "letterbox", k_fit,
              "letterbox (centred), letterbox_tl (top-left) or stretch"),
    VG_P_GROUP(pre_state, out, "tensor", nodes_tensor_out_keys, pre_out,
               NODES_TENSOR_OUT_DOC "; output defaults to 'input'"),
    {0}};

static vg_status pre_init(vg_node *self, const vg_cnode *params, void **state) {
  pre_state *s = *state;
  s->fit_value = k_fit_value[s->fit];
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
  vg_status st = vg_preprocess(f, 1, s->fit_value, &s->out.tp, s->out.layout, &t, &xf, c->stream);
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
    .params = k_params,
    .state_size = sizeof(pre_state),
    .init = pre_init,
    .process = pre_process,
};
