/* node_io.c - the one-shot boundary nodes: `input` emits the packets the caller fed with
 * vg_run_feed (then ends), `output` keeps the last packet it received for vg_run_output. */
#include "vidgraph/vg_graph.h"

static vg_status input_process(vg_call *c) {
  vg_packet *p = vg_node_next_fed(c->node);
  if (!p) return VG_ERR_EOF;
  c->io[0].out[0] = p;
  return VG_OK;
}

const vg_node_type vg_node_input = {
    .name = "input",
    .doc = "emits the packets fed to the run with vg_run_feed, in order, then ends",
    .outputs = {{"out", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_SOURCE,
    .process = input_process,
};

static vg_status output_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    vg_node_set_result(c->node, c->io[i].in[0]);
  return VG_OK;
}

const vg_node_type vg_node_output = {
    .name = "output",
    .doc = "keeps the last packet it receives, for vg_run_output (one-shot runs)",
    .inputs = {{"in", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED,
    .process = output_process,
};
