/* test_graph_sched.c - scheduling correctness: chains, diamonds, fan-out/fan-in and random DAGs
 * of test_sum nodes against a sequential reference computed here; ordered vs parallel-safe
 * nodes; real parallelism; backpressure; batching across streams with max_batch and
 * max_wait_ms; interval: N with a tracker-like node seeing the skipped frames. */
#include "vg_test.h"

#include <pthread.h>
#include <stdatomic.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

#define MOD 1000003
#define MAX_SINKS 32
#define MAX_STREAMS 8
#define MAX_FRAMES 64

/* ----------------------------------------------------------------------------- collection */

/* What the callback sinks received: value per (sink, stream, frame), and order checks. */
typedef struct collect {
  pthread_mutex_t mu;
  char ids[MAX_SINKS][64];
  int nsinks;
  int64_t value[MAX_SINKS][MAX_STREAMS][MAX_FRAMES];
  int hits[MAX_SINKS][MAX_STREAMS][MAX_FRAMES];
  int64_t last_frame[MAX_SINKS][MAX_STREAMS];
  int out_of_order;
  int total;
  bool skipped[MAX_SINKS][MAX_STREAMS][MAX_FRAMES];
} collect;

static void collect_init(collect *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  for (int s = 0; s < MAX_SINKS; s++)
    for (int k = 0; k < MAX_STREAMS; k++)
      c->last_frame[s][k] = -1;
}

static int sink_index(collect *c, const char *id) {
  for (int i = 0; i < c->nsinks; i++)
    if (strcmp(c->ids[i], id) == 0) return i;
  snprintf(c->ids[c->nsinks], 64, "%s", id);
  return c->nsinks++;
}

static void on_packet(void *user, const char *node_id, vg_packet *p) {
  collect *c = user;
  if (vg_packet_flags(p) & VG_PACKET_EOS) return;
  pthread_mutex_lock(&c->mu);
  int s = sink_index(c, node_id);
  int st = vg_packet_stream(p);
  int64_t f = vg_packet_frame_no(p);
  assert_true(st >= 0 && st < MAX_STREAMS && f >= 0 && f < MAX_FRAMES);
  const vg_tensor *t = vg_packet_tensor(p, "value");
  c->value[s][st][f] = t ? *(const int64_t *)vg_tensor_data(t) : -1;
  c->hits[s][st][f]++;
  c->skipped[s][st][f] = vg_packet_flags(p) & VG_PACKET_SKIPPED;
  if (f <= c->last_frame[s][st]) c->out_of_order++;
  c->last_frame[s][st] = f;
  c->total++;
  pthread_mutex_unlock(&c->mu);
}

/* Runs g with every callback_sink wired to c; returns the run (finished) for summaries. */
static vg_status run_collect(const vg_graph *g, int workers, collect *c, vg_run **out) {
  vg_run_options opt = {.workers = workers};
  vg_run *r;
  VG_TRY(vg_run_create(g, &opt, &r));
  *out = r;
  for (int i = 0; i < vg_graph_node_count(g); i++)
    if (strcmp(vg_graph_node_type(g, i)->name, "callback_sink") == 0)
      VG_TRY(vg_run_on_packet(r, vg_graph_node_id(g, i), on_packet, c));
  VG_TRY(vg_run_start(r));
  return vg_run_wait(r, 60000);
}

static vg_graph *load(const char *yaml, const vg_registry *reg) {
  vg_graph *g = NULL;
  vg_status s =
      vg_graph_load_string(yaml, "test.yaml", NULL, 0, reg ? reg : vg_test_registry(), &g);
  if (s != VG_OK) fail_msg("load: %s", vg_last_error());
  return g;
}

static int64_t src_value(int stream, int frame) {
  return 1000 * (int64_t)stream + frame;
}

static int64_t affine(int64_t v, int64_t mul, int64_t add) {
  return (((v % MOD + MOD) % MOD * mul + add) % MOD + MOD) % MOD;
}

/* ----------------------------------------------------------------------------- fixed shapes */

static void test_chain(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 20, streams: 2}}\n"
                     "  - {id: a, type: test_sum, params: {mul: 2, add: 1}}\n"
                     "  - {id: b, type: test_sum, params: {mul: 3}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> a.in0, a -> b.in0, b -> out]\n",
                     NULL);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 3, &c, &r));
  int s = sink_index(&c, "out");
  for (int st = 0; st < 2; st++)
    for (int f = 0; f < 20; f++) {
      assert_int_equal(c.hits[s][st][f], 1);
      assert_int_equal(c.value[s][st][f], affine(affine(src_value(st, f), 2, 1), 3, 0));
    }
  assert_int_equal(c.total, 40);
  assert_int_equal(c.out_of_order, 0); /* callback_sink is ordered per stream */
  vg_run_summary sum;
  VG_ASSERT_OK(vg_run_get_summary(r, &sum));
  assert_int_equal(sum.frames_in, 40);
  assert_int_equal(sum.frames_done, 40);
  assert_int_equal(sum.nodes[1].frames, 40);
  assert_int_equal(sum.frame_copies_to_host, 0);
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_diamond_and_fan(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 16}}\n"
                     "  - {id: a, type: test_sum, params: {mul: 2, delay_ms: 2}}\n"
                     "  - {id: b, type: test_sum, params: {mul: 5, add: 7}}\n"
                     "  - {id: c, type: test_sum, params: {mul: -3, add: 2, delay_ms: 1}}\n"
                     "  - {id: d, type: test_sum, params: {add: 11}}\n"
                     "  - {id: join, type: test_sum}\n"
                     "  - {id: out_d, type: callback_sink}\n"
                     "  - {id: out_j, type: callback_sink}\n"
                     "  - {id: out_a, type: callback_sink}\n"
                     "edges:\n"
                     "  - src -> a.in0\n"
                     "  - src -> b.in0\n"
                     "  - src -> c.in0\n"
                     "  - {from: a.out, to: d.in0}\n" /* diamond a,b -> d */
                     "  - {from: b.out, to: d.in1}\n"
                     "  - a.out -> join.in0\n" /* fan-in of 4 */
                     "  - b.out -> join.in1\n"
                     "  - c.out -> join.in2\n"
                     "  - src.out -> join.in3\n"
                     "  - d -> out_d\n"
                     "  - join -> out_j\n"
                     "  - a -> out_a\n",
                     NULL);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 4, &c, &r));
  int sd = sink_index(&c, "out_d"), sj = sink_index(&c, "out_j"), sa = sink_index(&c, "out_a");
  for (int f = 0; f < 16; f++) {
    int64_t v = src_value(0, f), a = affine(v, 2, 0), b = affine(v, 5, 7), cc = affine(v, -3, 2);
    assert_int_equal(c.value[sd][0][f], affine(a + b, 1, 11));
    assert_int_equal(c.value[sj][0][f], affine(a + b + cc + v, 1, 0));
    assert_int_equal(c.value[sa][0][f], a);
    assert_int_equal(c.hits[sd][0][f] + c.hits[sj][0][f] + c.hits[sa][0][f], 3);
  }
  assert_int_equal(c.out_of_order, 0);
  vg_run_destroy(r);
  vg_graph_free(g);
}

/* ----------------------------------------------------------------------------- random DAGs */

typedef struct rdag {
  int n; /* node 0 is the source */
  int preds[16][4], npreds[16];
  int mul[16], add[16];
} rdag;

static void make_dag(rdag *d, unsigned seed) {
  srand(seed);
  d->n = 3 + rand() % 12;
  for (int i = 1; i < d->n; i++) {
    int max = i < 4 ? i : 4;
    d->npreds[i] = 1 + rand() % max;
    for (int k = 0; k < d->npreds[i]; k++) {
      int p;
      bool dup;
      do {
        p = rand() % i;
        dup = false;
        for (int j = 0; j < k; j++)
          dup |= d->preds[i][j] == p;
      } while (dup);
      d->preds[i][k] = p;
    }
    d->mul[i] = rand() % 7 - 3;
    d->add[i] = rand() % 100;
  }
}

static char *dag_yaml(const rdag *d, int count, int streams) {
  size_t cap = 16384, len = 0;
  char *y = malloc(cap);
  len += (size_t)snprintf(y + len, cap - len,
                          "nodes:\n  - {id: n0, type: test_source, params: "
                          "{count: %d, streams: %d}}\n",
                          count, streams);
  for (int i = 1; i < d->n; i++) {
    len += (size_t)snprintf(y + len, cap - len,
                            "  - {id: n%d, type: test_sum, params: {mul: %d, "
                            "add: %d, delay_ms: %d}}\n",
                            i, d->mul[i], d->add[i], rand() % 3);
    len += (size_t)snprintf(y + len, cap - len, "  - {id: k%d, type: callback_sink}\n", i);
  }
  len += (size_t)snprintf(y + len, cap - len, "edges:\n");
  for (int i = 1; i < d->n; i++) {
    for (int k = 0; k < d->npreds[i]; k++)
      len +=
          (size_t)snprintf(y + len, cap - len, "  - n%d.out -> n%d.in%d\n", d->preds[i][k], i, k);
    len += (size_t)snprintf(y + len, cap - len, "  - n%d -> k%d\n", i, i);
  }
  return y;
}

static void test_random_dags(void **state) {
  (void)state;
  for (unsigned seed = 1; seed <= 12; seed++) {
    rdag d;
    memset(&d, 0, sizeof d);
    make_dag(&d, seed);
    int count = 6, streams = 2;
    char *yaml = dag_yaml(&d, count, streams);
    vg_graph *g = load(yaml, NULL);
    collect *c = malloc(sizeof *c);
    collect_init(c);
    vg_run *r;
    VG_ASSERT_OK(run_collect(g, 1 + (int)seed % 4, c, &r));
    for (int st = 0; st < streams; st++)
      for (int f = 0; f < count; f++) {
        int64_t ref[16];
        ref[0] = src_value(st, f);
        for (int i = 1; i < d.n; i++) { /* the sequential reference */
          int64_t acc = 0;
          for (int k = 0; k < d.npreds[i]; k++)
            acc = (acc + ref[d.preds[i][k]]) % MOD;
          ref[i] = affine(acc, d.mul[i], d.add[i]);
          char id[16];
          snprintf(id, sizeof id, "k%d", i);
          int s = sink_index(c, id);
          if (c->hits[s][st][f] != 1 || c->value[s][st][f] != ref[i])
            fail_msg("seed %u node n%d stream %d frame %d: got %lld (%d hits), want %lld", seed, i,
                     st, f, (long long)c->value[s][st][f], c->hits[s][st][f], (long long)ref[i]);
        }
      }
    assert_int_equal(c->out_of_order, 0);
    vg_run_destroy(r);
    vg_graph_free(g);
    free(c);
    free(yaml);
  }
}

/* ----------------------------------------------------------------------------- probe nodes */

/* A node that records how many calls overlap and the order of frames per stream. */
typedef struct probe {
  atomic_int active, max_active, calls;
  int delay_ms;
  pthread_mutex_t mu;
  int64_t last[MAX_STREAMS];
  int out_of_order;
  int batches[256], nbatches;
  int batch_streams[256]; /* bitmask of streams per batch */
  bool seen_skipped[MAX_FRAMES];
  int seen[MAX_FRAMES];
} probe;

static probe g_probes[4]; /* test-only: lets the test read what probe nodes saw */

static vg_status probe_init(vg_node *self, const vg_cnode *params, void **state) {
  int64_t slot, delay;
  VG_TRY(vg_cfg_int_range(params, "slot", true, 0, 0, 3, &slot));
  VG_TRY(vg_cfg_int_range(params, "delay_ms", false, 0, 0, 1000, &delay));
  probe *p = &g_probes[slot];
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  p->delay_ms = (int)delay;
  for (int k = 0; k < MAX_STREAMS; k++)
    p->last[k] = -1;
  *state = p;
  return VG_OK;
}

static vg_status probe_process(vg_call *c) {
  probe *p = c->state;
  int now = atomic_fetch_add(&p->active, 1) + 1;
  int prev = atomic_load(&p->max_active);
  while (now > prev && !atomic_compare_exchange_weak(&p->max_active, &prev, now)) {
  }
  atomic_fetch_add(&p->calls, 1);
  if (p->delay_ms) vg_sleep_ms((unsigned)p->delay_ms);
  pthread_mutex_lock(&p->mu);
  int mask = 0;
  for (int i = 0; i < c->n; i++) {
    vg_packet *in = c->io[i].in[0];
    int st = vg_packet_stream(in);
    int64_t f = vg_packet_frame_no(in);
    if (f <= p->last[st]) p->out_of_order++;
    p->last[st] = f;
    mask |= 1 << st;
    if (f < MAX_FRAMES) {
      p->seen[f]++;
      p->seen_skipped[f] = vg_packet_flags(in) & VG_PACKET_SKIPPED;
    }
    /* output: value + 1, so downstream can check one output per input */
    const vg_tensor *t = vg_packet_tensor(in, "value");
    vg_packet *o;
    VG_TRY(vg_packet_derive(in, &o));
    if (t) {
      vg_tensor nt;
      int64_t shape[1] = {1};
      VG_TRY(vg_tensor_alloc(VG_DTYPE_I64, 1, shape, vg_cpu(), NULL, &nt));
      *(int64_t *)vg_tensor_data(&nt) = *(const int64_t *)vg_tensor_data(t) + 1;
      vg_packet_set_tensor(o, "value", &nt);
      vg_tensor_release(&nt);
    }
    c->io[i].out[0] = o;
  }
  if (p->nbatches < 256) {
    p->batch_streams[p->nbatches] = mask;
    p->batches[p->nbatches++] = c->n;
  }
  pthread_mutex_unlock(&p->mu);
  atomic_fetch_sub(&p->active, 1);
  return VG_OK;
}

static const vg_node_type probe_parallel = {
    .name = "probe_parallel",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .init = probe_init,
    .process = probe_process,
};
static const vg_node_type probe_ordered = {
    .name = "probe_ordered",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED,
    .init = probe_init,
    .process = probe_process,
};
static const vg_node_type probe_batch = {
    .name = "probe_batch",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .flags = VG_NODE_BATCHING,
    .max_in_flight = 1,
    .init = probe_init,
    .process = probe_process,
};

/* A source that emits frame 0, then waits (bounded) until probe slot 0 has run once before
 * emitting frame 1: a batch of frame 0 can then only start through max_wait_ms. */
typedef struct gate {
  int k;
} gate;
static vg_status gate_init(vg_node *self, const vg_cnode *params, void **state) {
  *state = calloc(1, sizeof(gate));
  return *state ? VG_OK : VG_ERR_NO_MEMORY;
}
static vg_status gate_process(vg_call *c) {
  gate *gt = c->state;
  if (gt->k == 2) return VG_ERR_EOF;
  if (gt->k == 1) {
    int64_t until = vg_now_ns() + 5000000000LL;
    while (atomic_load(&g_probes[0].calls) == 0) {
      if (vg_now_ns() > until)
        return vg_set_error(VG_ERR_TIMEOUT,
                            "gate: frame 0 was never processed (max_wait_ms ignored)");
      if (vg_node_canceled(c->node)) return VG_ERR_CANCELED;
      vg_sleep_ms(1);
    }
  }
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_packet_set_stream(p, 0, gt->k++);
  c->io[0].out[0] = p;
  return VG_OK;
}
static const vg_node_type gate_source = {
    .name = "gate_source",
    .outputs = {{"out", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU,
    .flags = VG_NODE_SOURCE,
    .init = gate_init,
    .process = gate_process,
    .destroy = free,
};

static vg_registry *probe_registry(void) {
  vg_registry *reg;
  VG_ASSERT_OK(vg_test_registry_create(&reg));
  VG_ASSERT_OK(vg_registry_add(reg, &probe_parallel));
  VG_ASSERT_OK(vg_registry_add(reg, &probe_ordered));
  VG_ASSERT_OK(vg_registry_add(reg, &probe_batch));
  VG_ASSERT_OK(vg_registry_add(reg, &gate_source));
  return reg;
}

/* ----------------------------------------------------------------------------- behaviours */

static void test_ordered_vs_parallel(void **state) {
  (void)state;
  vg_registry *reg = probe_registry();
  vg_graph *g = load("settings: {queue_size: 8}\n"
                     "nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 24, streams: 2}}\n"
                     "  - {id: par, type: probe_parallel, params: {slot: 0, delay_ms: 15}}\n"
                     "  - {id: ord, type: probe_ordered, params: {slot: 1, delay_ms: 2}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> par, par -> ord, ord -> out]\n",
                     reg);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 4, &c, &r));
  assert_true(atomic_load(&g_probes[0].max_active) >= 2);    /* parallel-safe: overlapping calls */
  assert_int_equal(atomic_load(&g_probes[1].max_active), 1); /* ordered: one at a time */
  assert_int_equal(g_probes[1].out_of_order, 0);
  assert_int_equal(atomic_load(&g_probes[1].calls), 48);
  assert_int_equal(c.total, 48);
  assert_int_equal(c.out_of_order, 0);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

/* Structural check, not a performance claim: two independent 100 ms nodes with two workers
 * must overlap (wall < 1.5 x one node). */
static void test_real_parallelism(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 1}}\n"
                     "  - {id: a, type: pass, params: {delay_ms: 100}}\n"
                     "  - {id: b, type: pass, params: {delay_ms: 100}}\n"
                     "edges: [src -> a, src -> b]\n",
                     NULL);
  vg_run_options opt = {.workers = 2};
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, &opt, &r));
  int64_t t0 = vg_now_ns();
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 10000));
  double ms = (double)(vg_now_ns() - t0) / 1e6;
  if (ms >= 150.0) fail_msg("two 100 ms nodes took %.1f ms with 2 workers", ms);
  assert_true(ms >= 99.0);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static atomic_long g_max_live;
static void live_probe(void *user, const char *id, vg_packet *p) {
  long live = vg_packet_live_count();
  long prev = atomic_load(&g_max_live);
  while (live > prev && !atomic_compare_exchange_weak(&g_max_live, &prev, live)) {
  }
  vg_sleep_ms(2); /* a slow sink */
}

static void test_backpressure(void **state) {
  (void)state;
  const int queue = 4, workers = 3;
  vg_graph *g =
      load("settings: {queue_size: 4}\n"
           "nodes:\n"
           "  - {id: src, type: test_source, params: {count: 150, width: 64, height: 32}}\n"
           "  - {id: a, type: test_sum}\n"
           "  - {id: b, type: pass}\n"
           "  - {id: slow, type: callback_sink}\n"
           "edges: [src -> a.in0, a -> b, b -> slow]\n",
           NULL);
  long base = vg_packet_live_count();
  atomic_store(&g_max_live, 0);
  vg_run_options opt = {.workers = workers};
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, &opt, &r));
  VG_ASSERT_OK(vg_run_on_packet(r, "slow", live_probe, NULL));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 60000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  int nnodes = vg_graph_node_count(g);
  long bound = (long)queue * nnodes + workers;
  if ((long)s.peak_packets_held > bound || atomic_load(&g_max_live) - base > bound)
    fail_msg("packets held %llu / alive %ld exceed %ld", (unsigned long long)s.peak_packets_held,
             atomic_load(&g_max_live) - base, bound);
  assert_true(s.peak_frames_in_flight <= (uint64_t)queue);
  assert_int_equal(s.frames_done, 150);
  /* the slow node is the bottleneck: frames waited for it, never more than the queue allows,
   * and nothing waits or runs once the run is over */
  for (int k = 0; k < s.nnodes; k++) {
    assert_int_equal(s.nodes[k].queued, 0);
    assert_int_equal(s.nodes[k].running, 0);
    assert_true(s.nodes[k].queued_peak <= queue);
    if (strcmp(s.nodes[k].id, "slow") == 0) assert_true(s.nodes[k].queued_peak >= 1);
  }
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  assert_int_equal(vg_packet_live_count(), base);
  vg_graph_free(g);
}

static void test_batching_across_streams(void **state) {
  (void)state;
  vg_registry *reg = probe_registry();
  vg_graph *g =
      load("nodes:\n"
           "  - {id: cam0, type: test_source, params: {count: 20, stream_id: 0}}\n"
           "  - {id: cam1, type: test_source, params: {count: 20, stream_id: 1}}\n"
           "  - {id: det, type: probe_batch, max_batch: 2, max_wait_ms: 3000, params: {slot: 0}}\n"
           "  - {id: out, type: callback_sink}\n"
           "edges: [cam0 -> det, cam1 -> det, det -> out]\n", /* one port merges two sources */
           reg);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 3, &c, &r));
  probe *p = &g_probes[0];
  int items = 0, full = 0;
  for (int b = 0; b < p->nbatches; b++) {
    assert_true(p->batches[b] >= 1 && p->batches[b] <= 2);
    items += p->batches[b];
    full += p->batches[b] == 2;
  }
  assert_int_equal(items, 40);
  assert_true(full >= 19);
  int s = sink_index(&c, "out");
  for (int st = 0; st < 2; st++) /* one output per input packet, each its own value + 1 */
    for (int f = 0; f < 20; f++) {
      assert_int_equal(c.hits[s][st][f], 1);
      assert_int_equal(c.value[s][st][f], src_value(st, f) + 1);
    }
  vg_run_summary sum;
  VG_ASSERT_OK(vg_run_get_summary(r, &sum));
  assert_true(sum.nodes[2].mean_batch > 1.9);
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

/* One source node with several inputs (as `vidgraph run` makes of several --input): the window
 * of frames in flight is queue_size per stream, so a batching node sees batches of up to
 * max_batch frames of different streams. With one window for the whole source (before), a
 * queue_size of 2 capped every batch at 2, whatever the number of streams. */
static void test_window_per_stream(void **state) {
  (void)state;
  vg_registry *reg = probe_registry();
  vg_graph *g =
      load("settings: {queue_size: 2}\n"
           "nodes:\n"
           "  - {id: cams, type: test_source, params: {count: 12, streams: 8}}\n"
           "  - {id: det, type: probe_batch, max_batch: 8, max_wait_ms: 3000, params: {slot: 0}}\n"
           "  - {id: out, type: callback_sink}\n"
           "edges: [cams -> det, det -> out]\n",
           reg);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 2, &c, &r));
  probe *p = &g_probes[0];
  int items = 0, eights = 0;
  for (int b = 0; b < p->nbatches; b++) {
    assert_true(p->batches[b] >= 1 && p->batches[b] <= 8);
    items += p->batches[b];
    eights += p->batches[b] == 8;
  }
  assert_int_equal(items, 96);
  if (eights < 6) fail_msg("%d of %d batches were full (8 frames); want most", eights, p->nbatches);
  int s = sink_index(&c, "out");
  for (int st = 0; st < 8; st++) /* every frame of every stream once, with its own value */
    for (int f = 0; f < 12; f++) {
      assert_int_equal(c.hits[s][st][f], 1);
      assert_int_equal(c.value[s][st][f], src_value(st, f) + 1);
    }
  vg_run_summary sum;
  VG_ASSERT_OK(vg_run_get_summary(r, &sum));
  /* bounded by 2 per stream, and more than one window's worth was used */
  if (sum.peak_frames_in_flight > 16 || sum.peak_frames_in_flight <= 2)
    fail_msg("peak frames in flight %llu, want 3..16", (unsigned long long)sum.peak_frames_in_flight);
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

static void test_batch_max_wait(void **state) {
  (void)state;
  vg_registry *reg = probe_registry();
  vg_graph *g =
      load("nodes:\n"
           "  - {id: gate, type: gate_source}\n"
           "  - {id: det, type: probe_batch, max_batch: 4, max_wait_ms: 30, params: {slot: 0}}\n"
           "edges: [gate -> det]\n",
           reg);
  vg_run *r;
  VG_ASSERT_OK(vg_run_once(g, NULL, NULL, NULL, 0, 20000, &r));
  assert_int_equal(g_probes[0].nbatches, 2);
  assert_int_equal(g_probes[0].batches[0], 1);
  assert_int_equal(g_probes[0].batches[1], 1);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

static void test_interval(void **state) {
  (void)state;
  vg_registry *reg = probe_registry();
  vg_graph *g = load("nodes:\n"
                     "  - {id: src, type: test_source, params: {count: 12}}\n"
                     "  - {id: det, type: probe_parallel, interval: 3, params: {slot: 0}}\n"
                     "  - {id: decode, type: pass}\n"
                     "  - {id: track, type: probe_ordered, params: {slot: 1}}\n"
                     "  - {id: out, type: callback_sink}\n"
                     "edges: [src -> det, det -> decode, decode -> track, track -> out]\n",
                     reg);
  collect c;
  collect_init(&c);
  vg_run *r;
  VG_ASSERT_OK(run_collect(g, 2, &c, &r));
  assert_int_equal(atomic_load(&g_probes[0].calls), 4);
  for (int f = 0; f < 12; f++) {
    assert_int_equal(g_probes[0].seen[f], f % 3 == 0);
    assert_int_equal(g_probes[1].seen[f], 1); /* the tracker sees every frame */
    assert_int_equal(g_probes[1].seen_skipped[f], f % 3 != 0);
    int s = sink_index(&c, "out");
    /* processed frames got +1 from det and +1 from track; skipped ones only from track */
    assert_int_equal(c.value[s][0][f], src_value(0, f) + (f % 3 == 0 ? 2 : 1));
  }
  vg_run_summary sum;
  VG_ASSERT_OK(vg_run_get_summary(r, &sum));
  assert_int_equal(sum.nodes[1].skipped, 8);
  assert_int_equal(sum.nodes[1].frames, 4);
  assert_int_equal(sum.nodes[2].frames, 4); /* pass runs on processed frames only */
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_diamond_and_fan),
      cmocka_unit_test(test_random_dags),
      cmocka_unit_test(test_ordered_vs_parallel),
      cmocka_unit_test(test_real_parallelism),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_batching_across_streams),
      cmocka_unit_test(test_window_per_stream),
      cmocka_unit_test(test_batch_max_wait),
      cmocka_unit_test(test_interval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
