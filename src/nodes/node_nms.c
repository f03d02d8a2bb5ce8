/* node_nms.c - the `nms` node: greedy non-maximum suppression over the packet's objects (score
 * descending, ties by list order), per class or class-agnostic, keeping at most max_det. For
 * detections from decoders without NMS or from several sources merged into one list. */
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"

#include <stdlib.h>

typedef struct nms_state {
  float iou;
  bool agnostic;
  size_t max_det;
} nms_state;

static const char *const k_params[] = {"iou_threshold", "class_agnostic", "max_det", NULL};

static vg_status nms_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  double iou;
  int64_t max_det;
  bool agnostic;
  VG_TRY(vg_cfg_double_range(params, "iou_threshold", false, 0.45, 0, 1, &iou));
  VG_TRY(vg_cfg_bool(params, "class_agnostic", false, false, &agnostic));
  VG_TRY(vg_cfg_int_range(params, "max_det", false, 300, 1, 1000000, &max_det));
  nms_state *s = malloc(sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  *s = (nms_state){(float)iou, agnostic, (size_t)max_det};
  *state = s;
  return VG_OK;
}

static vg_status nms_process(vg_call *c) {
  const nms_state *s = c->state;
  for (int i = 0; i < c->n; i++) {
    vg_packet *out;
    vg_objects *list;
    VG_TRY(vg_packet_derive(c->io[i].in[0], &out));
    vg_status st = vg_packet_objects_edit(out, &list);
    if (st == VG_OK) st = vg_nms_objects(list, s->iou, s->agnostic, s->max_det);
    if (st != VG_OK) {
      vg_packet_unref(out);
      return st;
    }
    c->io[i].out[0] = out;
  }
  return VG_OK;
}

const vg_node_type vg_node_nms = {
    .name = "nms",
    .doc = "non-maximum suppression over the packet's objects (per class or class-agnostic)",
    .inputs = {{"in", VG_PORT_OBJECTS}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .init = nms_init,
    .process = nms_process,
    .destroy = free,
};
