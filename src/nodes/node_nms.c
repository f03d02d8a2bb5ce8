/* node_nms.c - the `nms` node: greedy non-maximum suppression over the packet's objects (score
 * descending, ties by list order), per class or class-agnostic, keeping at most max_det. For
 * detections from decoders without NMS or from several sources merged into one list. */
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"

#include <stddef.h>

typedef struct nms_state {
  float iou;
  bool agnostic;
  int max_det;
} nms_state;

static const vg_param k_params[] = {
    VG_P_FLOAT(nms_state, iou, "iou_threshold", 0.45, 0, 1, "boxes overlapping more are removed"),
    VG_P_BOOL(nms_state, agnostic, "class_agnostic", false, "suppress across classes"),
    VG_P_INT(nms_state, max_det, "max_det", 300, 1, 1000000, "objects kept at most"),
    {0}};

static vg_status nms_process(vg_call *c) {
  const nms_state *s = c->state;
  for (int i = 0; i < c->n; i++) {
    vg_packet *out;
    vg_objects *list;
    VG_TRY(vg_packet_derive(c->io[i].in[0], &out));
    vg_status st = vg_packet_objects_edit(out, &list);
    if (st == VG_OK) st = vg_nms_objects(list, s->iou, s->agnostic, (size_t)s->max_det);
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
    .params = k_params,
    .state_size = sizeof(nms_state),
    .process = nms_process,
};
