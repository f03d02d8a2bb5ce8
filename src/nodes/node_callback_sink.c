/* node_callback_sink.c - hands every packet to an in-process callback (vg_run_on_packet), e.g.
 * the server's event stream. Packets of each stream arrive in order, one call at a time. */
#include "vidgraph/vg_graph.h"

static vg_status callback_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    vg_node_deliver(c->node, c->io[i].in[0]);
  return VG_OK;
}

const vg_node_type vg_node_callback_sink = {
    .name = "callback_sink",
    .doc =
        "calls the run's callback for this node with every packet (skipped and end-of-stream too)",
    .inputs = {{"in", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED | VG_NODE_SEES_EOS,
    .max_in_flight = 1,
    .process = callback_process,
};
