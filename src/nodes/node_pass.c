/* node_pass.c - pass-through: forwards its input unchanged, optionally after a delay (sleeping
 * in slices that poll the cancel token). Useful to shape test graphs and to stand in for a
 * node that is not there yet. Runs on any device and never copies. */
#include "vidgraph/vg_graph.h"

#include <stddef.h>

typedef struct pass_state {
  int delay_ms;
} pass_state;

static const vg_param k_params[] = {
    VG_P_INT(pass_state, delay_ms, "delay_ms", 0, 0, 600000, "wait this long before forwarding"),
    {0}};

static vg_status pass_process(vg_call *c) {
  pass_state *s = c->state;
  int64_t end = vg_now_ns() + (int64_t)s->delay_ms * 1000000;
  while (s->delay_ms > 0 && vg_now_ns() < end) {
    if (vg_node_canceled(c->node)) return vg_set_error(VG_ERR_CANCELED, "canceled");
    int64_t left_ms = (end - vg_now_ns()) / 1000000;
    vg_sleep_ms(left_ms > 10 ? 10 : left_ms > 0 ? (unsigned)left_ms : 1);
  }
  for (int i = 0; i < c->n; i++)
    c->io[i].out[0] = vg_packet_ref(c->io[i].in[0]);
  return VG_OK;
}

const vg_node_type vg_node_pass = {
    .name = "pass",
    .doc = "forwards its input unchanged, after params.delay_ms (default 0)",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CPU,
    .params = k_params,
    .state_size = sizeof(pass_state),
    .process = pass_process,
};
