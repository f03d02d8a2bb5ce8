/* vg_test_nodes.h - the synthetic node types of the tests and runtime benchmarks (not in the
 * product's registry, nor in `vidgraph nodes`):
 *  - `test_source` emits numbered packets (a "value" tensor = 1000 * stream + frame, optionally a
 *    grey picture) on one or more streams;
 *  - `test_sum` computes value = (sum of its inputs' values) * mul + add (mod 1000003), with an
 *    optional delay and an injected failure, so that any DAG of them has a known answer;
 *  - `pass` forwards its input unchanged after an optional delay (on any device, never copies);
 *  - `stream_count` keeps per-stream state (the runtime's stream_state_size): value = packets of
 *    this stream so far, with global counters of its stream_init/stream_destroy calls.
 * vg_test_registry_create gives the built-in types plus these. Include it in one file per
 * program (everything is static). */
#ifndef VIDGRAPH_TEST_NODES_H
#define VIDGRAPH_TEST_NODES_H

#include <stdatomic.h>
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
  int64_t count;       /* frames per stream, 0 = endless */
  int64_t first_count; /* frames of the first stream when fewer (it ends early), 0 = count */
  int streams, first_stream, period_ms, width, height;
  bool eos, sequential;
  int64_t k; /* packets emitted */
  int eos_sent;
  int eos_due;      /* stream + 1 whose end-of-stream packet goes next, 0 = none */
  int64_t next_due; /* vg_now_ns of the next packet when paced */
} test_source;

VG_TEST_UNUSED static const vg_param k_source_params[] = {
    VG_P_INT64(test_source, count, "count", 10, 0, INT64_MAX / 2, "frames per stream; 0 = endless"),
    VG_P_INT(test_source, streams, "streams", 1, 1, 4096, "streams, emitted round-robin"),
    VG_P_INT(test_source, first_stream, "stream_id", 0, 0, 1 << 20, "id of the first stream"),
    VG_P_INT(test_source, period_ms, "period_ms", 0, 0, 60000, "pace: one packet every period"),
    VG_P_INT(test_source, width, "width", 0, 0, 8192, "grey picture width; 0 = no picture"),
    VG_P_INT(test_source, height, "height", 0, 0, 8192, "grey picture height"),
    VG_P_BOOL(test_source, eos, "eos", false, "send an end-of-stream packet per stream"),
    VG_P_INT64(test_source, first_count, "first_count", 0, 0, INT64_MAX / 2,
               "frames of the first stream when fewer than count (it ends early); 0 = count"),
    VG_P_BOOL(test_source, sequential, "sequential", false,
              "streams one after the other (each with its end-of-stream packet) instead of "
              "round-robin"),
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

/* Frames of the first stream (fewer than count when it ends early). */
VG_TEST_UNUSED static int64_t first_frames(const test_source *s) {
  return s->first_count > 0 && s->first_count < s->count && s->streams > 1 ? s->first_count
                                                                           : s->count;
}

/* Stream index and frame number of packet k; the number of packets is *total. Round-robin: all
 * streams while the first has frames, then the others; sequential: stream after stream. */
VG_TEST_UNUSED static void source_pos(const test_source *s, int64_t k, int *j, int64_t *fno,
                                      int64_t *total) {
  int64_t f = first_frames(s), full = f * s->streams;
  *total = full + (s->count - f) * (s->streams - 1);
  if (s->count > 0 && s->sequential) {
    *j = (int)(k < f ? 0 : 1 + (k - f) / s->count);
    *fno = k < f ? k : (k - f) % s->count;
  } else if (s->count == 0 || k < full || s->streams == 1) {
    *j = (int)(k % s->streams);
    *fno = k / s->streams;
  } else {
    *j = 1 + (int)((k - full) % (s->streams - 1));
    *fno = f + (k - full) / (s->streams - 1);
  }
}

VG_TEST_UNUSED static vg_status emit_eos(vg_call *c, int stream, int64_t fno) {
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_packet_set_stream(p, stream, fno);
  vg_packet_set_flags(p, VG_PACKET_EOS);
  c->io[0].out[0] = p;
  return VG_OK;
}

VG_TEST_UNUSED static vg_status test_source_process(vg_call *c) {
  test_source *s = c->state;
  if (s->eos_due) { /* a stream that ended before the others (first_count, sequential) */
    int j = s->eos_due - 1;
    s->eos_due = 0;
    s->eos_sent++;
    return emit_eos(c, s->first_stream + j, j == 0 ? first_frames(s) : s->count);
  }
  int j;
  int64_t fno, total;
  source_pos(s, s->k, &j, &fno, &total);
  bool done = s->count > 0 && s->k >= total;
  if (done && (!s->eos || s->eos_sent == s->streams)) return VG_ERR_EOF;
  if (done) /* one end-of-stream packet per stream still open */
    return emit_eos(c, s->first_stream + s->eos_sent++, s->count);
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_status st = pace(c->node, s);
  int stream = s->first_stream + j;
  if (st == VG_OK) st = add_payload(c->node, s, p, stream, fno);
  if (st != VG_OK) {
    vg_packet_unref(p);
    return st;
  }
  vg_packet_set_stream(p, stream, fno);
  vg_packet_set_pts(p, fno, vg_now_ns());
  s->k++;
  int64_t last = j == 0 ? first_frames(s) - 1 : s->count - 1;
  if (s->eos && fno == last && (s->sequential || (j == 0 && last < s->count - 1)))
    s->eos_due = j + 1;
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

/* ----------------------------------------------------------------------------- stream_count */

#define STREAM_COUNT_MAX 4096

/* Global tallies of stream_count (tests compare them before and after a run). */
VG_TEST_UNUSED static _Atomic int g_stream_inits, g_stream_destroys;
/* Packets each stream's block had counted when it was destroyed (by stream id), and how many
 * packets the node had handled in all when that happened (-1: not destroyed). */
VG_TEST_UNUSED static _Atomic long long g_stream_final[STREAM_COUNT_MAX];
VG_TEST_UNUSED static _Atomic long long g_stream_closed_at[STREAM_COUNT_MAX];

typedef struct stream_count {
  int fail_stream; /* stream_init fails on this stream; -1 = never */
  _Atomic long long handled;
} stream_count;

typedef struct stream_count_block {
  int stream_id;
  bool init_done;
  int64_t packets;
} stream_count_block;

VG_TEST_UNUSED static const vg_param k_stream_count_params[] = {
    VG_P_INT(stream_count, fail_stream, "fail_stream", -1, -1, 1 << 20,
             "stream_init fails on this stream; -1 = never"),
    {0}};

VG_TEST_UNUSED static void stream_count_reset(void) {
  for (int i = 0; i < STREAM_COUNT_MAX; i++) {
    atomic_store(&g_stream_final[i], -1);
    atomic_store(&g_stream_closed_at[i], -1);
  }
}

VG_TEST_UNUSED static vg_status stream_count_init_stream(vg_node *self, void *state, void *block,
                                                         int stream_id) {
  stream_count *s = state;
  stream_count_block *b = block;
  atomic_fetch_add(&g_stream_inits, 1);
  b->stream_id = stream_id;
  if (stream_id == s->fail_stream)
    return vg_set_error(VG_ERR_BACKEND, "stream_init failed on stream %d as asked", stream_id);
  b->init_done = true;
  return VG_OK;
}

VG_TEST_UNUSED static void stream_count_destroy_stream(vg_node *self, void *state, void *block) {
  stream_count *s = state;
  stream_count_block *b = block;
  atomic_fetch_add(&g_stream_destroys, 1);
  if (b->init_done && b->stream_id >= 0 && b->stream_id < STREAM_COUNT_MAX) {
    atomic_store(&g_stream_final[b->stream_id], b->packets);
    atomic_store(&g_stream_closed_at[b->stream_id], atomic_load(&s->handled));
  }
}

VG_TEST_UNUSED static vg_status stream_count_process(vg_call *c) {
  stream_count *s = c->state;
  for (int i = 0; i < c->n; i++) {
    stream_count_block *b = c->io[i].stream_state;
    vg_packet *in = c->io[i].in[0];
    if (!b || !b->init_done || b->stream_id != vg_packet_stream(in))
      return vg_set_error(VG_ERR_INTERNAL, "stream %d got the block of another stream",
                          vg_packet_stream(in));
    b->packets++;
    atomic_fetch_add(&s->handled, 1);
    vg_tensor t;
    int64_t shape[1] = {1};
    VG_TRY(vg_tensor_alloc(VG_DTYPE_I64, 1, shape, vg_cpu(), vg_node_pool(c->node), &t));
    *(int64_t *)vg_tensor_data(&t) = b->packets;
    vg_packet *p;
    vg_status st = vg_packet_derive(in, &p);
    if (st == VG_OK) st = vg_packet_set_tensor(p, "value", &t);
    vg_tensor_release(&t);
    if (st != VG_OK) {
      vg_packet_unref(p);
      return st;
    }
    c->io[i].out[0] = p;
  }
  return VG_OK;
}

VG_TEST_UNUSED static const vg_node_type vg_node_stream_count = {
    .name = "stream_count",
    .doc = "value = packets of this stream so far (per-stream state kept by the runtime)",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED,
    .params = k_stream_count_params,
    .state_size = sizeof(stream_count),
    .stream_state_size = sizeof(stream_count_block),
    .stream_init = stream_count_init_stream,
    .stream_destroy = stream_count_destroy_stream,
    .process = stream_count_process,
};

/* The built-in node types plus test_source, test_sum, pass and stream_count. */
VG_TEST_UNUSED static vg_status vg_test_registry_create(vg_registry **out) {
  VG_TRY(vg_registry_create(out));
  vg_status s = vg_nodes_register_builtin(*out);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_test_source);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_test_sum);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_pass);
  if (s == VG_OK) s = vg_registry_add(*out, &vg_node_stream_count);
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
