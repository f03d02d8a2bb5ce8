/* test_graph_run.c - run lifecycle: cancel (from a callback, from another thread, by destroy),
 * failure propagation (on_error: fail names the node; on_error: drop counts and goes on), no
 * leaked packets afterwards, bounded waits, graceful stop, two concurrent runs isolated, node
 * state events, one-shot runs with input/output nodes, the JSON summary and the end-to-end frame
 * latency it reports. */
#include "vg_test.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

static vg_graph *load(const char *yaml) {
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "run.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  return g;
}

typedef struct counter {
  atomic_int n;
  vg_run *run;
  int cancel_at;
  int64_t sum;
  atomic_int eos;
} counter;

static void count_cb(void *user, const char *id, vg_packet *p) {
  counter *c = user;
  if (vg_packet_flags(p) & VG_PACKET_EOS) {
    atomic_fetch_add(&c->eos, 1);
    return;
  }
  int n = atomic_fetch_add(&c->n, 1) + 1;
  const vg_tensor *t = vg_packet_tensor(p, "value");
  if (t) c->sum += *(const int64_t *)vg_tensor_data(t); /* ordered sink: one call at a time */
  if (c->cancel_at && n == c->cancel_at) vg_run_cancel(c->run);
}

static const char *k_endless =
    "settings: {queue_size: 4}\n"
    "nodes:\n"
    "  - {id: src, type: test_source, params: {count: 0, width: 32, height: 16}}\n"
    "  - {id: a, type: test_sum}\n"
    "  - {id: slow, type: pass, params: {delay_ms: 3}}\n"
    "  - {id: out, type: callback_sink}\n"
    "edges: [src -> a.in0, a -> slow, slow -> out]\n";

static void test_cancel_from_callback(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  vg_graph *g = load(k_endless);
  vg_run *r;
  counter c = {.cancel_at = 20};
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  c.run = r;
  VG_ASSERT_OK(vg_run_on_packet(r, "out", count_cb, &c));
  VG_ASSERT_OK(vg_run_start(r));
  assert_int_equal(vg_run_wait(r, 30000), VG_ERR_CANCELED);
  assert_int_equal(vg_run_get_state(r), VG_RUN_CANCELED);
  int seen = atomic_load(&c.n);
  assert_true(seen >= 20 && seen <= 20 + 4); /* dispatch stopped at once; in-flight calls ended */
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_int_equal(s.state, VG_RUN_CANCELED);
  assert_int_equal(s.status, VG_ERR_CANCELED);
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(vg_packet_live_count(), base);
}

static void test_cancel_by_destroy_and_timeout(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  vg_graph *g = load(k_endless);
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  assert_int_equal(vg_run_wait(r, 0), VG_ERR_STATE); /* not started */
  VG_ASSERT_OK(vg_run_start(r));
  assert_int_equal(vg_run_start(r), VG_ERR_STATE);
  assert_int_equal(vg_run_wait(r, 30), VG_ERR_TIMEOUT); /* every wait is bounded */
  VG_ASSERT_MSG_HAS("did not end within 30 ms");
  assert_int_equal(vg_run_get_state(r), VG_RUN_RUNNING);
  vg_run_destroy(r); /* cancels, joins, frees */
  /* a run created and never started */
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(vg_packet_live_count(), base);
}

static void *cancel_later(void *arg) {
  vg_sleep_ms(50);
  vg_run_cancel(arg);
  return NULL;
}

static void test_cancel_from_thread(void **state) {
  (void)state;
  vg_graph *g = load(k_endless);
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  pthread_t t;
  pthread_create(&t, NULL, cancel_later, r);
  assert_int_equal(vg_run_wait(r, -1), VG_ERR_CANCELED);
  pthread_join(t, NULL);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_stop_is_graceful(void **state) {
  (void)state;
  char path[] = "/tmp/vg_graph_stop_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n"
           "  - {id: src, type: test_source, params: {count: 0, period_ms: 2}}\n"
           "  - {id: out, type: json_sink, params: {path: '%s', flush: false}}\n"
           "edges: [src -> out]\n",
           path);
  vg_graph *g = load(yaml);
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  vg_sleep_ms(60);
  vg_run_stop(r);
  VG_ASSERT_OK(vg_run_wait(r, 10000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_true(s.frames_done > 0);
  assert_int_equal(s.frames_done, s.frames_in); /* frames in flight finished */
  /* every finished frame has its latency (entering the graph -> its last node) */
  assert_int_equal(s.frame_latency.count, s.frames_done);
  assert_true(s.frame_latency.p50_ms >= 0 && s.frame_latency.p99_ms >= s.frame_latency.p50_ms);
  char *js = vg_run_summary_json(&s);
  assert_non_null(strstr(js, "\"frame_latency\":{\"count\":"));
  free(js);
  vg_run_destroy(r);
  /* the sink was flushed: one line per frame */
  FILE *f = fopen(path, "r");
  char line[512];
  uint64_t lines = 0;
  while (fgets(line, sizeof line, f))
    lines++;
  fclose(f);
  unlink(path);
  assert_int_equal(lines, s.frames_done);
  vg_run_summary_free(&s);
  vg_graph_free(g);
}

static void test_failure_fails_run(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 50}}\n"
                     "  - {id: bad, type: test_sum, params: {fail_on_frame: 5}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> bad.in0, bad -> out]\n");
  vg_run *r;
  counter c = {0};
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_on_packet(r, "out", count_cb, &c));
  VG_ASSERT_OK(vg_run_start(r));
  assert_int_equal(vg_run_wait(r, 30000), VG_ERR_BACKEND);
  VG_ASSERT_MSG_HAS("node 'bad' (test_sum): failing on frame 5");
  assert_int_equal(vg_run_get_state(r), VG_RUN_FAILED);
  assert_true(atomic_load(&c.n) < 50);
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_int_equal(s.status, VG_ERR_BACKEND);
  assert_non_null(strstr(s.error, "node 'bad'"));
  assert_int_equal(s.nodes[1].errors, 1);
  assert_non_null(strstr(s.nodes[1].last_error, "frame 5"));
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(vg_packet_live_count(), base);
}

static void test_failure_drops_frame(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  /* a diamond: the failing branch drops frame 5, so the join skips it too */
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 10}}\n"
                     "  - {id: bad, type: test_sum, on_error: drop, params: {fail_on_frame: 5}}\n"
                     "  - {id: good, type: test_sum, params: {mul: 2}}\n"
                     "  - {id: join, type: test_sum}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "  - {id: side, type: callback_sink}\n"
                     "edges: [src -> bad.in0, src -> good.in0, bad -> join.in0, good -> join.in1,\n"
                     "        join -> out, good -> side]\n");
  vg_run *r;
  counter c = {0}, side = {0};
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_on_packet(r, "out", count_cb, &c));
  VG_ASSERT_OK(vg_run_on_packet(r, "side", count_cb, &side));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 30000));
  assert_int_equal(atomic_load(&c.n), 9);
  assert_int_equal(atomic_load(&side.n), 10); /* the other branch still ran for frame 5 */
  int64_t want = 0;
  for (int f = 0; f < 10; f++)
    if (f != 5) want += 3 * f;
  assert_int_equal(c.sum, want);
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_int_equal(s.state, VG_RUN_SUCCEEDED);
  assert_int_equal(s.nodes[1].dropped, 1);
  assert_int_equal(s.nodes[1].errors, 1);
  assert_non_null(strstr(s.nodes[1].last_error, "failing on frame 5"));
  assert_int_equal(s.frames_dropped, 1);
  assert_int_equal(s.frames_done, 9);
  assert_int_equal(s.nodes[3].frames, 9);
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(vg_packet_live_count(), base);
}

/* ----------------------------------------------------------------------------- isolation */

typedef struct job {
  const vg_graph *g;
  counter c;
  vg_status status;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  vg_run *r;
  vg_run_options opt = {.workers = 2};
  j->status = vg_run_create(j->g, &opt, &r);
  if (j->status != VG_OK) return NULL;
  vg_run_on_packet(r, "out", count_cb, &j->c);
  j->status = vg_run_start(r);
  if (j->status == VG_OK) j->status = vg_run_wait(r, 60000);
  vg_run_destroy(r);
  return NULL;
}

static void test_concurrent_runs_isolated(void **state) {
  (void)state;
  const char *yaml = "nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 40, streams: 2}}\n"
                     "  - {id: a, type: test_sum, params: {mul: 3, delay_ms: 1}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> a.in0, a -> out]\n";
  vg_graph *g1 = load(yaml), *g2;
  const char *sets[] = {"nodes.a.params.mul=5"};
  VG_ASSERT_OK(vg_graph_load_string(yaml, "run.yaml", sets, 1, vg_test_registry(), &g2));
  job jobs[3] = {{.g = g1}, {.g = g1}, {.g = g2}}; /* two runs of one graph, one of another */
  pthread_t t[3];
  for (int k = 0; k < 3; k++)
    pthread_create(&t[k], NULL, run_job, &jobs[k]);
  for (int k = 0; k < 3; k++)
    pthread_join(t[k], NULL);
  int64_t base = 0;
  for (int st = 0; st < 2; st++)
    for (int f = 0; f < 40; f++)
      base += 1000 * st + f;
  for (int k = 0; k < 3; k++) {
    VG_ASSERT_OK(jobs[k].status);
    assert_int_equal(atomic_load(&jobs[k].c.n), 80);
    assert_int_equal(jobs[k].c.sum, base * (k == 2 ? 5 : 3));
  }
  vg_graph_free(g1);
  vg_graph_free(g2);
}

/* ----------------------------------------------------------------------------- events */

typedef struct ev_log {
  pthread_mutex_t mu;
  int by_state[5];
  int order_errors;
  vg_node_state last[8][8]; /* node x frame */
  int skipped;
} ev_log;

static void on_event(void *user, const vg_node_event *ev) {
  ev_log *l = user;
  pthread_mutex_lock(&l->mu);
  l->by_state[ev->state]++;
  l->skipped += ev->skipped;
  if (ev->node_index < 8 && ev->frame_no >= 0 && ev->frame_no < 8) {
    vg_node_state prev = l->last[ev->node_index][ev->frame_no];
    /* Pending (0) -> Running -> terminal; sources have no Pending */
    if (ev->state == VG_NODE_RUNNING && prev != VG_NODE_PENDING) l->order_errors++;
    if (ev->state == VG_NODE_SUCCEEDED && ev->duration_ns < 0) l->order_errors++;
    l->last[ev->node_index][ev->frame_no] = ev->state;
  }
  pthread_mutex_unlock(&l->mu);
}

static void test_events(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 6}}\n"
                     "  - {id: a, type: test_sum, interval: 2}\n"
                     "  - {id: b, type: test_sum, on_error: drop, params: {fail_on_frame: 2}}\n"
                     "  - {id: c, type: pass}\n"
                     "edges: [src -> a.in0, a -> b.in0, b -> c]\n");
  ev_log l;
  memset(&l, 0, sizeof l);
  pthread_mutex_init(&l.mu, NULL);
  vg_run_options opt = {.on_event = on_event, .event_user = &l};
  vg_run *r;
  VG_ASSERT_OK(vg_run_once(g, &opt, NULL, NULL, 0, 30000, &r));
  /* 6 frames x 3 non-source nodes pending. a skips frames 1, 3, 5 and b, c pass those on
   * without running (9 skipped). b fails on frame 2 (dropped), so c is canceled for it. */
  assert_int_equal(l.by_state[VG_NODE_PENDING], 18);
  assert_int_equal(l.skipped, 9);
  assert_int_equal(l.by_state[VG_NODE_FAILED], 1);
  assert_int_equal(l.by_state[VG_NODE_CANCELED], 1);
  /* running: a 3 (0, 2, 4), b 3, c 2 (0, 4); succeeded: src 6 + a 6 + b 5 + c 5 */
  assert_int_equal(l.by_state[VG_NODE_RUNNING], 8);
  assert_int_equal(l.by_state[VG_NODE_SUCCEEDED], 22);
  assert_int_equal(l.order_errors, 0);
  vg_run_destroy(r);
  vg_graph_free(g);
}

/* ----------------------------------------------------------------------------- one-shot */

static void test_one_shot(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: x, type: input}\n"
                     "  - {id: y, type: input}\n"
                     "  - {id: a, type: test_sum, params: {mul: 2, add: 1}}\n"
                     "  - {id: res, type: output}\n"
                     "  - {id: res_y, type: output}\n"
                     "edges: [x -> a.in0, a -> res, y -> res_y]\n");
  vg_packet *p, *q;
  VG_ASSERT_OK(vg_packet_new(&p));
  VG_ASSERT_OK(vg_packet_new(&q));
  vg_tensor t;
  int64_t shape[1] = {1};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I64, 1, shape, vg_cpu(), NULL, &t));
  *(int64_t *)vg_tensor_data(&t) = 20;
  VG_ASSERT_OK(vg_packet_set_tensor(p, "value", &t));
  vg_tensor_release(&t);
  vg_packet_set_stream(q, 3, 7);
  const char *ids[] = {"x", "y"};
  vg_packet *ins[] = {p, q};
  vg_run *r;
  VG_ASSERT_OK(vg_run_once(g, NULL, ids, ins, 2, 10000, &r));
  vg_packet *out;
  VG_ASSERT_OK(vg_run_output(r, "res", &out));
  assert_int_equal(*(const int64_t *)vg_tensor_data(vg_packet_tensor(out, "value")), 41);
  vg_packet_unref(out);
  VG_ASSERT_OK(vg_run_output(r, "res_y", &out));
  assert_ptr_equal(out, q); /* passed through by reference */
  assert_int_equal(vg_packet_frame_no(out), 7);
  vg_packet_unref(out);
  assert_int_equal(vg_run_output(r, "a", &out), VG_ERR_NOT_FOUND);
  assert_int_equal(vg_run_output(r, "zz", &out), VG_ERR_NOT_FOUND);
  assert_int_equal(vg_run_feed(r, "x", p), VG_ERR_STATE);
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  char *json = vg_run_summary_json(&s);
  assert_non_null(json);
  json_error_t err;
  json_t *j = json_loads(json, 0, &err);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "state")), "succeeded");
  assert_int_equal(json_integer_value(json_object_get(j, "frames_done")), 2);
  json_t *nodes = json_object_get(j, "nodes");
  assert_int_equal(json_array_size(nodes), 5);
  json_t *a = json_array_get(nodes, 2);
  assert_string_equal(json_string_value(json_object_get(a, "id")), "a");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "latency"), "count")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "frame_copies_to_host")), 0);
  json_decref(j);
  free(json);
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_packet_unref(p);
  vg_packet_unref(q);
  vg_graph_free(g);
}

static void test_eos_packets(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 3, streams: 2, eos: true}}\n"
                     "  - {id: a, type: test_sum}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> a.in0, a -> out]\n");
  vg_run *r;
  counter c = {0};
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_on_packet(r, "out", count_cb, &c));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 10000));
  assert_int_equal(atomic_load(&c.n), 6);
  assert_int_equal(atomic_load(&c.eos), 2); /* test_sum passed them on without running */
  vg_run_destroy(r);
  vg_graph_free(g);
}

/* Every completed frame adds one end-to-end latency sample (capture -> last node done); a pass
 * node sleeping 4 ms on the way makes every sample at least that long. */
static void test_frame_latency(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 5, streams: 2}}\n"
                     "  - {id: slow, type: pass, params: {delay_ms: 4}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> slow, slow -> out]\n");
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 10000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_int_equal(s.frames_done, 10);
  assert_int_equal(s.frame_latency.count, 10);
  assert_true(s.frame_latency.min_ms >= 4.0);
  assert_true(s.frame_latency.p50_ms <= s.frame_latency.p99_ms);
  assert_true(s.frame_latency.p99_ms <= s.frame_latency.max_ms);
  char *json = vg_run_summary_json(&s);
  assert_non_null(json);
  json_t *j = json_loads(json, 0, NULL);
  assert_non_null(j);
  json_t *fl = json_object_get(j, "frame_latency");
  assert_int_equal(json_integer_value(json_object_get(fl, "count")), 10);
  assert_true(json_real_value(json_object_get(fl, "p50_ms")) >= 4.0);
  json_decref(j);
  free(json);
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cancel_from_callback),
      cmocka_unit_test(test_cancel_by_destroy_and_timeout),
      cmocka_unit_test(test_cancel_from_thread),
      cmocka_unit_test(test_stop_is_graceful),
      cmocka_unit_test(test_failure_fails_run),
      cmocka_unit_test(test_failure_drops_frame),
      cmocka_unit_test(test_concurrent_runs_isolated),
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_one_shot),
      cmocka_unit_test(test_eos_packets),
      cmocka_unit_test(test_frame_latency),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
