/* node_tile_fuse.c - the `tile_fuse` node: merges the objects of up to eight views of one frame
 * (ports in0..in7, e.g. a global-view decoder and a tile decoder, or two detectors), already in
 * frame pixels, into one list with the duplicates removed by NMS or weighted box merging,
 * matched by IoU or intersection-over-smaller (vg_tiles_fuse). The output is in0's packet with
 * the fused list. (The tiles of one decoder are fused by yolo_decode itself, which still has
 * them apart: see node_yolo_decode.c.) */
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"

#include <stdlib.h>

#define FUSE_PORTS 8

static const char *const k_fuse_keys[] = {"method",         "match",   "threshold",
                                          "class_agnostic", "max_det", NULL};

static vg_status fuse_group(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  return vg_fuse_params_from_config(params, field);
}

static const char *const k_methods[] = {"nms", "wbm", NULL};
static const char *const k_matches[] = {"iou", "ios", NULL};

/* The fusion keys for the docs (vg_fuse_params_from_config reads them; test_graph_params checks
 * these defaults and ranges against it). */
static const vg_param k_fuse_table[] = {
    VG_P_ENUM(vg_fuse_params, method, "method", "nms", k_methods,
              "nms keeps the best box of duplicates, wbm merges them (score-weighted mean box)"),
    VG_P_ENUM(vg_fuse_params, match, "match", "ios", k_matches,
              "duplicates by IoU or by intersection over the smaller box (boxes cut at tile "
              "borders)"),
    VG_P_FLOAT(vg_fuse_params, threshold, "threshold", 0.5, 0, 1,
               "duplicates when the match value is above"),
    VG_P_BOOL(vg_fuse_params, class_agnostic, "class_agnostic", false,
              "boxes of different classes can be duplicates"),
    VG_P_INT(vg_fuse_params, max_det, "max_det", 1000, 1, 1000000, "objects kept per frame"),
    {0}};

static const vg_param k_params[] = {
    VG_P_GROUP(vg_fuse_params, method, "fuse", k_fuse_keys, fuse_group,
               "duplicate removal across the views (vg_fuse_params)", .sub = k_fuse_table),
    {0}};

static vg_status fuse_one(const vg_fuse_params *p, vg_node_io *io) {
  vg_objects views[FUSE_PORTS];
  int n = 0;
  for (int k = 0; k < FUSE_PORTS; k++)
    if (io->in[k]) views[n++] = *vg_packet_objects(io->in[k]); /* borrowed items */
  vg_objects fused = {0};
  vg_packet *out = NULL;
  vg_status st = vg_tiles_fuse(views, n, p, &fused);
  if (st == VG_OK) st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) st = vg_packet_set_objects(out, &fused);
  vg_objects_free(&fused);
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  io->out[0] = out;
  return VG_OK;
}

static vg_status fuse_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(fuse_one(c->state, &c->io[i]));
  return VG_OK;
}

const vg_node_type vg_node_tile_fuse = {
    .name = "tile_fuse",
    .doc = "fuses the objects of several views of one frame (in0..in7) into one list",
    .inputs = {{"in0", VG_PORT_OBJECTS},
               {"in1", VG_PORT_OBJECTS, true},
               {"in2", VG_PORT_OBJECTS, true},
               {"in3", VG_PORT_OBJECTS, true},
               {"in4", VG_PORT_OBJECTS, true},
               {"in5", VG_PORT_OBJECTS, true},
               {"in6", VG_PORT_OBJECTS, true},
               {"in7", VG_PORT_OBJECTS, true}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .params = k_params,
    .state_size = sizeof(vg_fuse_params),
    .process = fuse_process,
};
