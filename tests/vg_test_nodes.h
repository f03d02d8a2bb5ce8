/* vg_test_nodes.h - the synthetic node types of the tests and runtime benchmarks (not in the
 * product's registry, nor in `vidgraph nodes`):
 *  - `test_source` emits numbered packets (a "value" tensor = 1000 * stream + frame, optionally a
 *    grey picture) on one or more streams;
 *  - `test_sum` computes value = (sum of its inputs' values) * mul + add (mod 1000003), with an
 *    optional delay and an injected failure, so that any DAG of them has a known answer;
 *  - `pass` forwards its input unchanged after an optional delay (on any device, never copies).
 * vg_test_registry_create gives the built-in types plus these. Include it in one file per
 * program (everything is static). */
#ifndef VIDGRAPH_TEST_NODES_H
#define VIDGRAPH_TEST_NODES_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_nodes.h"

#define VG_TEST_UNUSED __attribute__((unused))

#define TEST_MOD 1000003

/* ----------------------------------------------------------------------------- test_source */

typedef struct test_source {
  int64_t count; /* frames per stream, 0 = endless */
  int streams, first_stream, period_ms, width, height;
  bool eos;
  int64_t k; /* packets emitted (round-robin over streams) */
  int eos_sent;
  int64_t next_due; /* vg_now_ns of the next packet when paced */
} test_source;

VG_TEST_UNUSED static const vg_param k_source_params[] = {
    VG_P_INT64(test_source, count, "count", 10, 0, INT64_MAX / 2, "frames per stream; 0 = endless"),
    VG_P_INT(test_source, streams, "streams", 1, 1, 64, "streams, emitted round-robin"),
    VG_P_INT(test_source, first_stream, "stream_id", 0, 0, 1 << 20, "id of the first stream"),
    VG_P_INT(test_source, period_ms, "period_ms", 0, 0, 60000, "pace: one packet every period"),
    VG_P_INT(test_source, width, "width", 0, 0, 8192, "grey picture width; 0 = no picture"),
    VG_P_INT(test_source, height, "height", 0, 0, 8192, "grey picture height"),
    VG_P_BOOL(test_source, eos, "eos", false, "send an end-of-stream packet per stream"),
    {0}};

/* Sleeps until the next packet is due, in slices that poll the cancel token. */
VG_TEST_UNUSED static vg_status pace(vg_node *node, test_source *s) {
  if (s->period_ms <= 0) return VG_OK;
  int64_t now = vg_now_ns();
  if (s->next_due == 0) s->next_due = now;
  while (now < s->next_due) {
    if (vg_node_canceled(node)) return vg_set_error(VG_ERR_CANCELED, "canceled");
    int64_t left = (s->next_due - now) / 1000000;
    vg_sleep_ms(left > 10 ? 10 : left > 0 ? (unsigned)left : 1);
    now = vg_now_ns();
  }
  s->next_due += (int64_t)s->period_ms * 1000000;
  return VG_OK;
}

VG_TEST_UNUSED static vg_status add_payload(vg_node *node, test_source *s, vg_packet *p, int stream,
                                            int64_t fno) {
  vg_tensor t;
  int64_t shape[1] = {1};
  VG_TRY(vg_tensor_alloc(VG_DTYPE_I64, 1, shape, vg_cpu(), vg_node_pool(node), &t));
  *(int64_t *)vg_tensor_data(&t) = 1000 * (int64_t)stream + fno;
  vg_status st = vg_packet_set_tensor(p, "value", &t);
  vg_tensor_release(&t);
  if (st != VG_OK || s->width == 0 || s->height == 0) return st;
  vg_frame f;
  VG_TRY(vg_frame_alloc(VG_PIX_GRAY8, s->width, s->height, vg_cpu(), vg_node_pool(node), 0, &f));
  for (int y = 0; y < f.height; y++)
    memset(vg_frame_plane(&f, 0) + (size_t)y * f.pitch[0], (int)((fno + stream) & 255),
           (size_t)f.width);
  f.stream_id = stream;
  f.frame_no = fno;
  f.t_capture_ns = vg_now_ns();
  vg_packet_set_frame(p, &f);
  vg_frame_release(&f);
  return VG_OK;
}

VG_TEST_UNUSED static vg_status test_source_process(vg_call *c) {
  test_source *s = c->state;
  bool done = s->count > 0 && s->k >= s->count * s->streams;
  if (done && (!s->eos || s->eos_sent == s->streams)) return VG_ERR_EOF;
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  if (done) { /* one end-of-stream packet per stream */
    int stream = s->first_stream + s->eos_sent++;
    vg_packet_set_stream(p, stream, s->count);
    vg_packet_set_flags(p, VG_PACKET_EOS);
    c->io[0].out[0] = p;
    return VG_OK;
  }
  vg_status st = pace(c->node, s);
  int stream = s->first_stream + (int)(s->k % s->streams);
  int64_t fno = s->k / s->streams;
  if (st == VG_OK) st = add_payload(c->node, s, p, stream, fno);
  if (st != VG_OK) {
    vg_packet_unref(p);
    return st;
  }
  vg_packet_set_stream(p, stream, fno);
  vg_packet_set_pts(p, fno, vg_now_ns());
  s->k++;
  c->io[0].out[0] = p;
  return VG_OK;
}

VG_TEST_UNUSED static const vg_node_type vg_node_test_source = {
    .name = "test_source",
    .doc = "emits params.count numbered packets per stream (tensor 'value' = 1000*stream + frame)",
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FRAME}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_SOURCE,
    .params = k_source_params,
    .state_size = sizeof(test_source),
    .process = test_source_process,
};

/* ----------------------------------------------------------------------------- test_sum */

typedef struct test_sum {
  int64_t mul, add, fail_on_frame;
  int delay_ms;
} test_sum;

VG_TEST_UNUSED static const vg_param k_sum_params[] = {
    VG_P_INT64(test_sum, mul, "mul", 1, -1000, 1000, "multiplier"),
    VG_P_INT64(test_sum, add, "add", 0, -1000000, 1000000, "addend"),
    VG_P_INT(test_sum, delay_ms, "delay_ms", 0, 0, 60000, "sleep per call"),
    VG_P_INT64(test_sum, fail_on_frame, "fail_on_frame", -1, -1, INT64_MAX,
               "fail on this frame number; -1 = never"),
    {0}};

VG_TEST_UNUSED static vg_status read_value(vg_call *c, const vg_packet *p, int64_t *v) {
  const vg_tensor *t = vg_packet_tensor(p, "value");
  if (!t || t->dtype != VG_DTYPE_I64 || vg_tensor_numel(t) != 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "input packet has no i64 tensor 'value'");
  *v = *(const int64_t *)vg_tensor_data(t);
  return VG_OK;
}

VG_TEST_UNUSED static vg_status sum_one(vg_call *c, test_sum *s, vg_node_io *io) {
  int64_t acc = 0, v = 0;
  for (int p = 0; p < VG_MAX_PORTS; p++) {
    if (!io->in[p]) continue;
    VG_TRY(read_value(c, io->in[p], &v));
    acc = (acc + v % TEST_MOD + TEST_MOD) % TEST_MOD;
  }
  if (s->fail_on_frame >= 0 && vg_packet_frame_no(io->in[0]) == s->fail_on_frame)
    return vg_set_error(VG_ERR_BACKEND, "failing on frame %lld as asked (fail_on_frame)",
                        (long long)s->fail_on_frame);
  int64_t out = ((acc * s->mul + s->add) % TEST_MOD + TEST_MOD) % TEST_MOD;
  vg_tensor t;
  int64_t shape[1] = {1};
  VG_TRY(vg_tensor_alloc(VG_DTYPE_I64, 1, shape, vg_cpu(), vg_node_pool(c->node), &t));
  *(int64_t *)vg_tensor_data(&t) = out;
  vg_packet *p;
  vg_status st = vg_packet_derive(io->in[0], &p);
  if (st == VG_OK) st = vg_packet_set_tensor(p, "value", &t);
  vg_tensor_release(&t);
  if (st != VG_OK) {
    vg_packet_unref(p);
    return st;
  }
  io->out[0] = p;
  return VG_OK;
}

VG_TEST_UNUSED static vg_status test_sum_process(vg_call *c) {
  test_sum *s = c->state;
  int64_t end = vg_now_ns() + (int64_t)s->delay_ms * 1000000;
  while (vg_now_ns() < end && !vg_node_canceled(c->node))
    vg_sleep_ms(1);
  for (int i = 0; i < c->n; i++)
    VG_TRY(sum_one(c, s, &c->io[i]));
  return VG_OK;
}

VG_TEST_UNUSED static const vg_node_type vg_node_test_sum = {
    .name = "test_sum",
    .doc = "value = (sum of the inputs' 'value' tensors) * mul + add (mod 1000003); for tests",
    .inputs = {{"in0", VG_PORT_TENSOR},
               {"in1", VG_PORT_TENSOR, true},
               {"in2", VG_PORT_TENSOR, true},
               {"in3", VG_PORT_TENSOR, true}},
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .params = k_sum_params,
    .state_size = sizeof(test_sum),
    .process = test_sum_process,
};

/* ----------------------------------------------------------------------------- pass */

typedef struct pass_state {
  int delay_ms;
} pass_state;

VG_TEST_UNUSED static const vg_param k_params[] = {
    VG_P_INT(pass_state, delay_ms, "delay_ms", 0, 0, 600000, "wait this long before forwarding"),
    {0}};

VG_TEST_UNUSED static vg_status pass_process(vg_call *c) {
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

VG_TEST_UNUSED static const vg_node_type vg_node_pass = {
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

/* The built-in node types plus test_source, test_sum and pass. */
VG_TEST_UNUSED static vg_status vg_test_registry_create(vg_registry **out) {
  VG_TRY(vg_registry_create(out));
  vg_status s = vg_nodes_register_builtin(*out);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_test_source);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_test_sum);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_pass);
  if (s != VG_OK) {
    vg_registry_free(*out);
    *out = NULL;
  }
  return s;
}

/* One registry of vg_test_registry_create for the whole test program (created on first use,
 * kept to the end: still reachable, so not a leak). */
VG_TEST_UNUSED static const vg_registry *vg_test_registry(void) {
  static vg_registry *reg;
  if (!reg && vg_test_registry_create(&reg) != VG_OK) {
    fprintf(stderr, "test registry: %s\n", vg_last_error());
    abort();
  }
  return reg;
}

#endif
