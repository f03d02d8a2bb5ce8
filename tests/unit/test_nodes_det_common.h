/* test_nodes_det_common.h - helpers of the detection-node tests: one packet through
 * `input -> <type>(params) -> output`, and init errors that must name the node and a needle. */
#ifndef VIDGRAPH_TEST_NODES_DET_COMMON_H
#define VIDGRAPH_TEST_NODES_DET_COMMON_H

#include "vg_test.h"

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

/* Runs `in` (reference taken over) through a node of `type` with `params` (a YAML flow map);
 * returns the output packet, or NULL when the run failed (message in vg_last_error). */
static inline vg_packet *det_run_one(const char *type, const char *params, vg_packet *in) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: n, type: %s, device: cpu, params: %s}\n"
           "  - {id: out, type: output}\nedges: [in -> n, n -> out]\n",
           type, params);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "det.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  const char *ids[] = {"in"};
  vg_run *r = NULL;
  vg_packet *out = NULL;
  vg_status s = vg_run_once(g, NULL, ids, &in, 1, 20000, &r);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", vg_last_error());
  if (s == VG_OK) VG_ASSERT_OK(vg_run_output(r, "out", &out));
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_packet_unref(in);
  if (s != VG_OK) vg_set_error(s, "%s", msg);
  return out;
}

/* vg_run_create of `input -> <type>(params)` fails naming node 'n' (type) and needle. */
static inline void det_expect_init_error(const char *type, const char *params, const char *needle) {
  char yaml[2048], who[128];
  const char *port = "in";
  const vg_node_type *t = vg_registry_find(vg_test_registry(), type);
  if (t) port = t->inputs[0].name;
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n  - {id: n, type: %s, params: %s}\n"
           "edges: [in -> n.%s]\n",
           type, params, port);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "det.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r = NULL;
  if (vg_run_create(g, NULL, &r) == VG_OK) fail_msg("params %s were accepted", params);
  snprintf(who, sizeof who, "node 'n' (%s)", type);
  VG_ASSERT_MSG_HAS(who);
  VG_ASSERT_MSG_HAS(needle);
  vg_graph_free(g);
}

/* A packet of stream 1, frame 7 with the given objects (copied). */
static inline vg_packet *det_packet(const vg_object *objs, size_t n) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 1, 7);
  vg_objects list = {0};
  for (size_t i = 0; i < n; i++)
    VG_ASSERT_OK(vg_objects_push(&list, &objs[i]));
  VG_ASSERT_OK(vg_packet_set_objects(p, &list));
  return p;
}

static inline vg_object det_obj(float x1, float y1, float x2, float y2, int cls, float score) {
  vg_object o = vg_object_init();
  o.box = (vg_box){x1, y1, x2, y2};
  o.class_id = cls;
  o.score = score;
  return o;
}

#endif
