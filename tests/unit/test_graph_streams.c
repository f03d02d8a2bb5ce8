/* test_graph_streams.c - the per-stream state the scheduler keeps for ordered node types
 * (stream_state_size, stream_init, stream_destroy), driven through the real scheduler with the
 * `stream_count` test node: each stream gets its own block, counted in order; blocks are
 * destroyed when their stream ends (also a stream that ends before the others), at the end of a
 * run and at teardown, exactly once per stream_init, also after a failed stream_init; the one
 * limit (VG_GRAPH_MAX_STREAMS open at once) and its one message; tables refused at
 * registration. */
#include "vg_test.h"

#include <pthread.h>
#include <stdatomic.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

#define MAXS 8
#define MAXF 64

typedef struct collect {
  pthread_mutex_t mu;
  int64_t value[MAXS][MAXF];
  int packets[MAXS];
  int wrong; /* packets whose count is not frame_no + 1 */
} collect;

static void on_packet(void *user, const char *node_id, vg_packet *p) {
  collect *c = user;
  (void)node_id;
  if (vg_packet_flags(p) & VG_PACKET_EOS) return;
  int s = vg_packet_stream(p);
  int64_t f = vg_packet_frame_no(p);
  const vg_tensor *t = vg_packet_tensor(p, "value");
  int64_t v = t ? *(const int64_t *)vg_tensor_data(t) : -1;
  pthread_mutex_lock(&c->mu);
  if (s >= 0 && s < MAXS && f >= 0 && f < MAXF) {
    c->value[s][f] = v;
    c->packets[s]++;
  }
  if (v != f + 1) c->wrong++;
  pthread_mutex_unlock(&c->mu);
}

/* Loads "src -> c (stream_count) -> out (callback_sink)" with these params and settings. */
static vg_graph *load(const char *src_params, const char *count_params, const char *settings) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "settings: %s\n"
           "nodes:\n"
           "  - {id: src, type: test_source, params: %s}\n"
           "  - {id: c, type: stream_count, params: %s}\n"
           "  - {id: out, type: callback_sink}\n"
           "edges: [src -> c, c -> out]\n",
           settings, src_params, count_params);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "g.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  return g;
}

/* Runs g to its end with `workers` pool workers; *r is the finished run (caller destroys). */
static vg_status run(const vg_graph *g, int workers, collect *c, vg_run **r) {
  vg_run_options opt = {.workers = workers};
  VG_ASSERT_OK(vg_run_create(g, &opt, r));
  VG_ASSERT_OK(vg_run_on_packet(*r, "out", on_packet, c));
  VG_ASSERT_OK(vg_run_start(*r));
  return vg_run_wait(*r, 60000);
}

static void reset(collect *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  stream_count_reset();
}

/* ----------------------------------------------------------------------------- tests */

static void test_counts_per_stream(void **state) {
  (void)state;
  for (int eos = 0; eos < 2; eos++) {
    collect c;
    reset(&c);
    int inits = atomic_load(&g_stream_inits), destroys = atomic_load(&g_stream_destroys);
    vg_graph *g =
        load(eos ? "{streams: 4, count: 25, eos: true}" : "{streams: 4, count: 25}", "{}", "{}");
    vg_run *r;
    VG_ASSERT_OK(run(g, 3, &c, &r));
    assert_int_equal(c.wrong, 0);
    for (int s = 0; s < 4; s++) {
      assert_int_equal(c.packets[s], 25);
      assert_int_equal(c.value[s][24], 25);
      assert_int_equal(atomic_load(&g_stream_final[s]), 25); /* destroyed with 25 counted */
    }
    /* every stream closed by the end of the run (with or without end-of-stream packets) */
    assert_int_equal(atomic_load(&g_stream_inits) - inits, 4);
    assert_int_equal(atomic_load(&g_stream_destroys) - destroys, 4);
    vg_run_destroy(r);
    assert_int_equal(atomic_load(&g_stream_destroys) - destroys, 4);
    vg_graph_free(g);
  }
}

static void test_stream_ends_early(void **state) {
  (void)state;
  collect c;
  reset(&c);
  int destroys = atomic_load(&g_stream_destroys);
  /* stream 0 ends after 2 frames while 1 and 2 go on to 20; one pool worker and a window of 2
   * frames in flight, so its block is destroyed long before the others' last frames */
  vg_graph *g = load("{streams: 3, count: 20, first_count: 2, eos: true}", "{}", "{queue_size: 2}");
  vg_run *r;
  VG_ASSERT_OK(run(g, 1, &c, &r));
  assert_int_equal(c.wrong, 0);
  assert_int_equal(c.packets[0], 2);
  assert_int_equal(c.packets[1], 20);
  assert_int_equal(atomic_load(&g_stream_final[0]), 2);
  assert_int_equal(atomic_load(&g_stream_final[2]), 20);
  long long at = atomic_load(&g_stream_closed_at[0]);
  if (at < 0 || at > 12) fail_msg("stream 0 closed after %lld of 42 packets", at);
  assert_int_equal(atomic_load(&g_stream_destroys) - destroys, 3);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_closed_streams_free_their_slot(void **state) {
  (void)state;
  collect c;
  reset(&c);
  int inits = atomic_load(&g_stream_inits), destroys = atomic_load(&g_stream_destroys);
  /* more streams than can be open at once, one after the other: each closes at its end */
  char params[128];
  snprintf(params, sizeof params, "{streams: %d, count: 2, eos: true, sequential: true}",
           VG_GRAPH_MAX_STREAMS + 44);
  vg_graph *g = load(params, "{}", "{}");
  vg_run *r;
  VG_ASSERT_OK(run(g, 2, &c, &r));
  assert_int_equal(c.wrong, 0);
  assert_int_equal(atomic_load(&g_stream_inits) - inits, VG_GRAPH_MAX_STREAMS + 44);
  assert_int_equal(atomic_load(&g_stream_destroys) - destroys, VG_GRAPH_MAX_STREAMS + 44);
  for (int s = 0; s < VG_GRAPH_MAX_STREAMS + 44; s++)
    assert_int_equal(atomic_load(&g_stream_final[s]), 2);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_init_fails_on_stream_3(void **state) {
  (void)state;
  collect c;
  reset(&c);
  int inits = atomic_load(&g_stream_inits), destroys = atomic_load(&g_stream_destroys);
  vg_graph *g = load("{streams: 5, count: 4}", "{fail_stream: 3}", "{}");
  vg_run *r;
  assert_int_equal(run(g, 3, &c, &r), VG_ERR_BACKEND);
  assert_string_equal(vg_last_error(), "node 'c' (stream_count): stream_init failed on stream 3 "
                                       "as asked");
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_string_equal(s.error, "node 'c' (stream_count): stream_init failed on stream 3 as asked");
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  /* every block that was allocated was destroyed, the failed one included */
  int n = atomic_load(&g_stream_inits) - inits;
  assert_true(n >= 1);
  assert_int_equal(atomic_load(&g_stream_destroys) - destroys, n);
  assert_int_equal(atomic_load(&g_stream_final[3]), -1);
  vg_graph_free(g);

  /* on_error: drop: stream 3's frames are dropped (its init is tried, and undone, per frame) */
  reset(&c);
  inits = atomic_load(&g_stream_inits), destroys = atomic_load(&g_stream_destroys);
  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "nodes:\n"
           "  - {id: src, type: test_source, params: {streams: 5, count: 4}}\n"
           "  - {id: c, type: stream_count, params: {fail_stream: 3}, on_error: drop}\n"
           "  - {id: out, type: callback_sink}\n"
           "edges: [src -> c, c -> out]\n");
  VG_ASSERT_OK(vg_graph_load_string(yaml, "g.yaml", NULL, 0, vg_test_registry(), &g));
  VG_ASSERT_OK(run(g, 3, &c, &r));
  assert_int_equal(c.wrong, 0);
  assert_int_equal(c.packets[3], 0);
  assert_int_equal(c.packets[4], 4);
  assert_int_equal(atomic_load(&g_stream_inits) - inits, 4 + 4);
  assert_int_equal(atomic_load(&g_stream_destroys) - destroys, 4 + 4);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_stream_limit_message(void **state) {
  (void)state;
  collect c;
  reset(&c);
  int inits = atomic_load(&g_stream_inits), destroys = atomic_load(&g_stream_destroys);
  char params[128];
  snprintf(params, sizeof params, "{streams: %d, count: 1}", VG_GRAPH_MAX_STREAMS);
  vg_graph *g = load(params, "{}", "{}");
  vg_run *r;
  VG_ASSERT_OK(run(g, 2, &c, &r)); /* exactly the limit: fine */
  vg_run_destroy(r);
  vg_graph_free(g);

  snprintf(params, sizeof params, "{streams: %d, count: 1}", VG_GRAPH_MAX_STREAMS + 1);
  g = load(params, "{}", "{}");
  assert_int_equal(run(g, 2, &c, &r), VG_ERR_UNSUPPORTED);
  assert_string_equal(vg_last_error(),
                      "node 'src' (test_source): too many streams: stream 256 cannot open, 256 "
                      "are open in this run (the most, VG_GRAPH_MAX_STREAMS); a stream closes "
                      "after its end-of-stream packet");
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(atomic_load(&g_stream_destroys) - destroys,
                   atomic_load(&g_stream_inits) - inits);
}

static vg_status nop_process(vg_call *c) {
  (void)c;
  return VG_OK;
}

static void test_bad_types_refused(void **state) {
  (void)state;
  vg_registry *reg;
  VG_ASSERT_OK(vg_registry_create(&reg));
  vg_node_type unordered = {.name = "unordered",
                            .inputs = {{"in", VG_PORT_ANY}},
                            .devices = VG_DEVICES_CPU,
                            .preferred = VG_DEVICE_CPU,
                            .stream_state_size = 8,
                            .process = nop_process};
  assert_int_equal(vg_registry_add(reg, &unordered), VG_ERR_INVALID_ARG);
  assert_string_equal(
      vg_last_error(),
      "node type 'unordered': per-stream state needs an ordered type, not a source");
  vg_node_type hooks = unordered;
  hooks.name = "hooks";
  hooks.flags = VG_NODE_ORDERED;
  hooks.stream_state_size = 0;
  hooks.stream_destroy = stream_count_destroy_stream;
  assert_int_equal(vg_registry_add(reg, &hooks), VG_ERR_INVALID_ARG);
  assert_string_equal(vg_last_error(),
                      "node type 'hooks': stream_init/stream_destroy without stream_state_size");
  vg_registry_free(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counts_per_stream),
      cmocka_unit_test(test_stream_ends_early),
      cmocka_unit_test(test_closed_streams_free_their_slot),
      cmocka_unit_test(test_init_fails_on_stream_3),
      cmocka_unit_test(test_stream_limit_message),
      cmocka_unit_test(test_bad_types_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
