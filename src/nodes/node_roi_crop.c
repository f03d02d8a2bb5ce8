/* node_roi_crop.c - the `roi_crop` node: cuts the packet's objects (boxes, or quadrilaterals with
 * a perspective warp) out of the frame into one batch tensor, on the frame's device, in one
 * launch. With var_width (text recognisers) every crop keeps its aspect ratio at a fixed height
 * and the batch is padded to the widest crop. Crop i belongs to object i of the packet. */
#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct crop_state {
  int h, w; /* w == 0: variable width */
  int max_w, min_batch_w;
  int width_multiple;     /* batch width rounded up to a multiple: fewer distinct model shapes */
  int gpu_batch_multiple; /* on the GPU, batch size rounded up by repeating crop 0: GPU
                             engines pay for every new input shape, the CPU does not */
  nodes_tensor_out out;   /* sample parameters, layout, dtype, tensor name */
} crop_state;

static vg_status crop_out(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  return nodes_tensor_out_params(params, "crops", field);
}

static const vg_param k_params[] = {
    VG_P_INT(crop_state, h, "height", 0, 4, 4096, "crop height", .required = true),
    VG_P_INT(crop_state, w, "width", 0, 0, 8192, "crop width; 0 = keep the aspect ratio"),
    VG_P_INT(crop_state, max_w, "max_width", 320, 4, 8192, "widest variable-width crop"),
    VG_P_INT(crop_state, min_batch_w, "min_batch_width", 0, 0, 8192,
             "narrowest batch (variable width; at most max_width)"),
    VG_P_INT(crop_state, width_multiple, "width_multiple", 1, 1, 1024,
             "batch width rounded up to a multiple of this"),
    VG_P_INT(crop_state, gpu_batch_multiple, "gpu_batch_multiple", 1, 1, 256,
             "on the GPU, number of crops rounded up to a multiple of this (repeating crop 0)"),
    VG_P_GROUP(crop_state, out, "tensor", nodes_tensor_out_keys, crop_out,
               NODES_TENSOR_OUT_DOC "; output defaults to 'crops'"),
    {0}};

static vg_status crop_init(vg_node *self, const vg_cnode *params, void **state) {
  crop_state *s = *state;
  if (s->min_batch_w > s->max_w) s->min_batch_w = s->max_w;
  return VG_OK;
}

static vg_status crop_tensor(vg_call *c, const crop_state *s, const vg_frame *f,
                             const vg_objects *objs, vg_tensor *t) {
  int nobj = (int)objs->count;
  /* rows past the objects repeat crop 0: consumers read the first nobj rows */
  int mult = vg_frame_device(f).kind == VG_DEVICE_CUDA ? s->gpu_batch_multiple : 1;
  int n = (nobj + mult - 1) / mult * mult;
  vg_roi *rois = calloc((size_t)(n ? n : 1), sizeof *rois);
  if (!rois) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for %d crops", n);
  for (int i = 0; i < n; i++) {
    const vg_object *o = &objs->items[i < nobj ? i : 0];
    rois[i].frame = 0;
    rois[i].is_quad = o->has_quad;
    rois[i].box = o->box;
    rois[i].quad = o->quad;
  }
  int w = s->w;
  vg_status st = VG_OK;
  if (w == 0) {
    int bmax = 0;
    int *widths = malloc(sizeof(int) * (size_t)(n ? n : 1));
    st = widths ? vg_crop_widths(f, 1, rois, n, s->h, s->max_w, widths, &bmax)
                : vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
    free(widths);
    w = bmax > s->min_batch_w ? bmax : s->min_batch_w;
    if (w < 1) w = s->min_batch_w > 0 ? s->min_batch_w : s->max_w;
    w = (w + s->width_multiple - 1) / s->width_multiple * s->width_multiple;
  }
  int64_t shape[4] = {n, 3, s->h, w};
  if (s->out.layout == VG_LAYOUT_NHWC) shape[1] = s->h, shape[2] = w, shape[3] = 3;
  if (st == VG_OK)
    st = vg_tensor_alloc(s->out.dtype, 4, shape, vg_frame_device(f), vg_node_pool(c->node), t);
  vg_crop_params cp = {.var_width = s->w == 0, .max_w = w};
  if (st == VG_OK && n > 0) {
    st = vg_crop(f, 1, rois, n, &cp, &s->out.tp, s->out.layout, t, NULL, NULL, c->stream);
    if (st != VG_OK) vg_tensor_release(t);
  }
  free(rois);
  return st;
}

static vg_status crop_one(vg_call *c, vg_node_io *io) {
  const crop_state *s = c->state;
  const vg_frame *f = vg_packet_frame(io->in[0]);
  if (!f) return vg_node_error(c->node, VG_ERR_INVALID_ARG, "packet has no picture");
  vg_tensor t;
  VG_TRY(crop_tensor(c, s, f, vg_packet_objects(io->in[0]), &t));
  vg_packet *out = NULL;
  vg_status st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) st = vg_packet_set_tensor(out, s->out.name, &t);
  vg_tensor_release(&t);
  return nodes_hand_over(io, out, st);
}

static vg_status crop_process(vg_call *c) {
  return nodes_per_frame(c, crop_one);
}

const vg_node_type vg_node_roi_crop = {
    .name = "roi_crop",
    .doc =
        "objects (boxes/quads) cut from the frame into one batch tensor (fixed or variable width)",
    .inputs = {{"in", VG_PORT_FRAME | VG_PORT_OBJECTS}},
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .params = k_params,
    .state_size = sizeof(crop_state),
    .init = crop_init,
    .process = crop_process,
};
