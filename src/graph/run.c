/* run.c - runs: the per-run context (node instances and their state, memory pools, metrics,
 * cancel token, workers), their lifecycle (create, feed, start, wait, cancel, stop, destroy)
 * and what a node can ask about itself. Nothing here is global: two runs never share state. */
#include "graph_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FED 4096
#define HOST_POOL_CACHE (256u << 20)
#define DEVICE_POOL_CACHE (1024u << 20)

const char *vg_node_state_name(vg_node_state s) {
  static const char *const names[] = {"pending", "running", "succeeded", "failed", "canceled"};
  return (unsigned)s < 5 ? names[s] : "unknown";
}

const char *vg_run_state_name(vg_run_state s) {
  static const char *const names[] = {"created", "running", "succeeded", "failed", "canceled"};
  return (unsigned)s < 5 ? names[s] : "unknown";
}

/* ----------------------------------------------------------------------------- node access */

const char *vg_node_id(const vg_node *n) {
  return n->g->id;
}
const char *vg_node_type_name(const vg_node *n) {
  return n->g->type->name;
}
vg_device vg_node_device(const vg_node *n) {
  return n->g->device;
}
vg_pool *vg_node_pool(const vg_node *n) {
  return n->pool;
}
int vg_node_max_batch(const vg_node *n) {
  return n->g->max_batch;
}
bool vg_node_canceled(const vg_node *n) {
  return atomic_load(&n->run->cancel);
}

vg_packet *vg_node_next_fed(vg_node *n) {
  if (n->fed.next >= n->fed.n) return NULL;
  vg_packet *p = n->fed.items[n->fed.next];
  n->fed.items[n->fed.next++] = NULL;
  return p;
}

void vg_node_set_result(vg_node *n, vg_packet *p) {
  vg_packet *old;
  vg_packet_ref(p);
  pthread_mutex_lock(&n->run->mu);
  old = n->result;
  n->result = p;
  pthread_mutex_unlock(&n->run->mu);
  vg_packet_unref(old);
}

bool vg_node_deliver(vg_node *n, vg_packet *p) {
  if (!n->cb) return false;
  n->cb(n->cb_user, n->g->id, p);
  return true;
}

void vg_node_stat_add(vg_node *n, int stat, uint64_t v) {
  if (n && stat >= 0 && stat < VG_STAT_NODE0 + VG_NODE_MAX_STATS)
    atomic_fetch_add(&n->stats[stat], v);
}

uint64_t vg_node_stat_get(const vg_node *n, int stat) {
  if (!n || stat < 0 || stat >= VG_STAT_NODE0 + VG_NODE_MAX_STATS) return 0;
  return atomic_load(&((vg_node *)n)->stats[stat]);
}

vg_status vg_node_error(const vg_node *n, vg_status s, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  (void)n;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return vg_set_error(s, "%s", msg);
}

/* ----------------------------------------------------------------------------- events */

void vg__emit(vg_run *r, int node, vg_node_state st, int stream_id, int64_t frame_no,
              int64_t dur_ns, bool skipped, bool dropped, const char *msg, const vg_packet *out) {
  if (!r->opt.on_event) return;
  const gnode *n = &r->g->nodes[node];
  vg_node_event ev = {.node_id = n->id,
                      .node_type = n->type->name,
                      .node_index = node,
                      .state = st,
                      .stream_id = stream_id,
                      .frame_no = frame_no,
                      .t_ns = vg_now_ns(),
                      .duration_ns = dur_ns,
                      .skipped = skipped,
                      .dropped = dropped,
                      .message = msg,
                      .output = out};
  r->opt.on_event(r->opt.event_user, &ev);
}

/* ----------------------------------------------------------------------------- pools */

static void add_pool_stats(vg_pool *p, vg_pool_stats *sum) {
  if (!p) return;
  vg_pool_stats st;
  vg_pool_get_stats(p, &st);
  sum->bytes_in_use += st.bytes_in_use;
  sum->bytes_cached += st.bytes_cached;
  sum->peak_bytes += st.peak_bytes;
  sum->allocations += st.allocations;
  sum->requests += st.requests;
  sum->hits += st.hits;
  sum->frees_to_system += st.frees_to_system;
}

void vg_run_get_pool_stats(vg_run *r, vg_pool_stats *host, vg_pool_stats *device) {
  memset(host, 0, sizeof *host);
  memset(device, 0, sizeof *device);
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  add_pool_stats(r->host_pool, host);
  for (int d = 0; d < 16; d++)
    add_pool_stats(r->dev_pools[d], device);
  pthread_mutex_unlock(&r->mu);
}

vg_status vg__node_pool_for(vg_run *r, vg_device dev, vg_pool **out) {
  *out = NULL;
  if (dev.kind == VG_DEVICE_CPU) {
    *out = r->host_pool;
    return VG_OK;
  }
  if (dev.ordinal < 0 || dev.ordinal >= 16)
    return vg_set_error(VG_ERR_INVALID_ARG, "CUDA device %d out of range", dev.ordinal);
  pthread_mutex_lock(&r->mu);
  vg_status s = VG_OK;
  if (!r->dev_pools[dev.ordinal])
    s = vg_pool_create(VG_POOL_DEVICE, dev, DEVICE_POOL_CACHE, &r->dev_pools[dev.ordinal]);
  *out = r->dev_pools[dev.ordinal];
  pthread_mutex_unlock(&r->mu);
  return s;
}

/* ----------------------------------------------------------------------------- create */

static void destroy_nodes(vg_run *r) {
  for (int k = r->nnodes - 1; k >= 0; k--) {
    vg_node *n = &r->nodes[r->g->topo[k]];
    if (n->inited) vg__node_state_destroy(n->g->type, n->state);
    n->inited = false;
    n->state = NULL;
  }
  for (int i = 0; i < r->nnodes; i++) {
    vg_node *n = &r->nodes[i];
    for (int k = n->fed.next; k < n->fed.n; k++)
      vg_packet_unref(n->fed.items[k]);
    free(n->fed.items);
    vg_packet_unref(n->result);
    free(n->ready.items);
    vg_latency_destroy(n->lat);
    vg_latency_destroy(n->wait);
  }
}

static vg_status init_node(vg_run *r, int i) {
  vg_node *n = &r->nodes[i];
  const gnode *g = &r->g->nodes[i];
  n->run = r;
  n->index = i;
  n->g = g;
  VG_TRY(vg__ring_fit(r, i));
  VG_TRY(vg_latency_create(&n->lat));
  VG_TRY(vg_latency_create(&n->wait));
  VG_TRY(vg__node_pool_for(r, g->device, &n->pool));
  return VG_OK;
}

static vg_status init_nodes(vg_run *r) {
  for (int i = 0; i < r->nnodes; i++)
    VG_TRY(init_node(r, i));
  for (int k = 0; k < r->nnodes; k++) {
    int i = r->g->topo[k];
    vg_node *n = &r->nodes[i];
    vg_status s = vg__node_state_create(n, n->g->type, n->g->params, &n->state);
    if (s != VG_OK) return vg__node_error_prefix(r->g, i, s);
    n->inited = true;
  }
  return VG_OK;
}

static int default_workers(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 1 ? (int)n - 1 : 1;
}

vg_status vg_run_create(const vg_graph *g, const vg_run_options *opt, vg_run **out) {
  *out = NULL;
  if (!g) return vg_set_error(VG_ERR_INVALID_ARG, "vg_run_create: no graph");
  vg_run *r = calloc(1, sizeof *r);
  if (!r) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a run");
  r->g = g;
  if (opt) r->opt = *opt;
  r->nnodes = g->nnodes;
  pthread_mutex_init(&r->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r->work_cv, &ca);
  pthread_cond_init(&r->done_cv, &ca);
  pthread_condattr_destroy(&ca);
  atomic_init(&r->cancel, false);
  r->ncpu_workers = r->opt.workers > 0        ? r->opt.workers
                    : g->settings.workers > 0 ? g->settings.workers
                                              : default_workers();
  if (r->ncpu_workers > 256) r->ncpu_workers = 256;
  r->cuda_streams = r->opt.cuda_streams > 0 ? r->opt.cuda_streams : g->settings.cuda_streams;
  if (r->cuda_streams > 16) r->cuda_streams = 16;
  const char *win = getenv("VG_SOURCE_WINDOW");
  r->shared_window = win && strcmp(win, "shared") == 0;
  r->nodes = calloc((size_t)g->nnodes, sizeof *r->nodes);
  vg_status s = r->nodes ? vg_latency_create(&r->frame_lat)
                         : vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a run");
  if (s == VG_OK)
    s = r->nodes ? vg_pool_create(VG_POOL_HOST, vg_cpu(), HOST_POOL_CACHE, &r->host_pool)
                 : vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a run");
  if (s == VG_OK) s = init_nodes(r);
  if (s != VG_OK) {
    vg_run_destroy(r);
    return s;
  }
  *out = r;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- before start */

static vg_node *node_by_id(vg_run *r, const char *id, const char *what) {
  int i = vg_graph_find_node(r->g, id);
  if (i < 0) {
    vg_set_error(VG_ERR_NOT_FOUND, "%s: the graph has no node '%s'", what, id ? id : "(null)");
    return NULL;
  }
  return &r->nodes[i];
}

vg_status vg_run_feed(vg_run *r, const char *node_id, vg_packet *p) {
  vg_node *n = node_by_id(r, node_id, "vg_run_feed");
  if (!n) return vg_last_status();
  if (r->state != VG_RUN_CREATED)
    return vg_set_error(VG_ERR_STATE, "vg_run_feed('%s'): the run has started", node_id);
  if (!p) return vg_set_error(VG_ERR_INVALID_ARG, "vg_run_feed('%s'): no packet", node_id);
  if (n->fed.n == MAX_FED)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_run_feed('%s'): more than %d packets", node_id,
                        MAX_FED);
  if (n->fed.n % 64 == 0) {
    vg_packet **items = realloc(n->fed.items, (size_t)(n->fed.n + 64) * sizeof *items);
    if (!items) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory feeding '%s'", node_id);
    n->fed.items = items;
  }
  n->fed.items[n->fed.n++] = vg_packet_ref(p);
  return VG_OK;
}

vg_status vg_run_on_packet(vg_run *r, const char *node_id, vg_packet_fn fn, void *user) {
  vg_node *n = node_by_id(r, node_id, "vg_run_on_packet");
  if (!n) return vg_last_status();
  if (r->state != VG_RUN_CREATED)
    return vg_set_error(VG_ERR_STATE, "vg_run_on_packet('%s'): the run has started", node_id);
  n->cb = fn;
  n->cb_user = user;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- start, end */

static vg_status start_worker(vg_run *r, vg_device dev, int source) {
  worker *w = &r->workers[r->nworkers];
  w->run = r;
  w->device = dev;
  w->source = source;
  if (dev.kind == VG_DEVICE_CUDA) VG_TRY(vg_stream_create(dev, &w->stream));
  if (dev.kind == VG_DEVICE_CPU && r->first_cuda >= 0)
    VG_TRY(vg_stream_create(vg_cuda(r->first_cuda), &w->copy_stream));
  if (pthread_create(&w->thread, NULL, vg__worker_main, w) != 0) {
    vg_stream_destroy(w->stream);
    vg_stream_destroy(w->copy_stream);
    w->stream = w->copy_stream = NULL;
    return vg_set_error(VG_ERR_INTERNAL, "cannot start a worker thread");
  }
  w->started = true;
  r->nworkers++;
  return VG_OK;
}

vg_status vg_run_start(vg_run *r) {
  if (r->state != VG_RUN_CREATED)
    return vg_set_error(VG_ERR_STATE, "vg_run_start: the run was already started");
  bool cuda[16] = {false};
  int ncuda = 0;
  r->first_cuda = -1;
  for (int i = 0; i < r->nnodes; i++) {
    vg_device d = r->g->nodes[i].device;
    if (d.kind == VG_DEVICE_CUDA && d.ordinal < 16 && !cuda[d.ordinal]) {
      cuda[d.ordinal] = true;
      ncuda++;
      if (r->first_cuda < 0) r->first_cuda = d.ordinal;
    }
  }
  int nthreads = r->ncpu_workers + ncuda * r->cuda_streams + r->g->nsources;
  r->workers = calloc((size_t)nthreads, sizeof *r->workers);
  if (!r->workers) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory starting a run");
  pthread_mutex_lock(&r->mu);
  r->state = VG_RUN_RUNNING;
  r->t_start_ns = vg_now_ns();
  pthread_mutex_unlock(&r->mu);
  vg_status s = VG_OK;
  for (int k = 0; k < r->ncpu_workers && s == VG_OK; k++)
    s = start_worker(r, vg_cpu(), -1);
  for (int d = 0; d < 16 && s == VG_OK; d++)
    for (int k = 0; cuda[d] && k < r->cuda_streams && s == VG_OK; k++)
      s = start_worker(r, vg_cuda(d), -1);
  for (int p = 0; p < r->g->nsources && s == VG_OK; p++) {
    int src = r->g->plans[p].source;
    s = start_worker(r, r->g->nodes[src].device, src);
  }
  if (s != VG_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    pthread_mutex_lock(&r->mu);
    if (r->status == VG_OK) {
      r->status = s;
      snprintf(r->error, sizeof r->error, "%s", msg);
    }
    atomic_store(&r->cancel, true);
    pthread_cond_broadcast(&r->work_cv);
    if (r->nworkers == 0) { /* nobody to end the run */
      r->state = VG_RUN_FAILED;
      r->ended = true;
      r->t_end_ns = vg_now_ns();
    }
    pthread_mutex_unlock(&r->mu);
    return vg_set_error(s, "%s", msg);
  }
  return VG_OK;
}

static vg_status final_status(vg_run *r) {
  if (r->state == VG_RUN_SUCCEEDED) return VG_OK;
  if (r->state == VG_RUN_CANCELED) return vg_set_error(VG_ERR_CANCELED, "the run was canceled");
  return vg_set_error(r->status == VG_OK ? VG_ERR_INTERNAL : r->status, "%s", r->error);
}

vg_status vg_run_wait(vg_run *r, int timeout_ms) {
  pthread_mutex_lock(&r->mu);
  if (r->state == VG_RUN_CREATED) {
    pthread_mutex_unlock(&r->mu);
    return vg_set_error(VG_ERR_STATE, "vg_run_wait: the run was not started");
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (timeout_ms >= 0) {
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
  }
  while (!r->ended) {
    if (timeout_ms < 0) {
      pthread_cond_wait(&r->done_cv, &r->mu);
    } else if (pthread_cond_timedwait(&r->done_cv, &r->mu, &ts) != 0 && !r->ended) {
      pthread_mutex_unlock(&r->mu);
      return vg_set_error(VG_ERR_TIMEOUT, "the run did not end within %d ms", timeout_ms);
    }
  }
  vg_status s = final_status(r);
  pthread_mutex_unlock(&r->mu);
  return s;
}

void vg_run_cancel(vg_run *r) {
  pthread_mutex_lock(&r->mu);
  if (!r->ended && r->status == VG_OK) {
    r->status = VG_ERR_CANCELED;
    snprintf(r->error, sizeof r->error, "the run was canceled");
  }
  atomic_store(&r->cancel, true);
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->mu);
}

void vg_run_stop(vg_run *r) {
  pthread_mutex_lock(&r->mu);
  r->stop = true;
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->mu);
}

vg_run_state vg_run_get_state(vg_run *r) {
  pthread_mutex_lock(&r->mu);
  vg_run_state s = r->state;
  pthread_mutex_unlock(&r->mu);
  return s;
}

vg_status vg_run_output(vg_run *r, const char *node_id, vg_packet **out) {
  *out = NULL;
  vg_node *n = node_by_id(r, node_id, "vg_run_output");
  if (!n) return vg_last_status();
  pthread_mutex_lock(&r->mu);
  *out = vg_packet_ref(n->result);
  pthread_mutex_unlock(&r->mu);
  if (!*out) return vg_set_error(VG_ERR_NOT_FOUND, "node '%s' kept no output", node_id);
  return VG_OK;
}

void vg_run_destroy(vg_run *r) {
  if (!r) return;
  if (r->state == VG_RUN_RUNNING) vg_run_cancel(r);
  for (int k = 0; k < r->nworkers; k++)
    if (r->workers[k].started) pthread_join(r->workers[k].thread, NULL);
  for (int k = 0; k < r->nworkers; k++) {
    vg_stream_destroy(r->workers[k].stream);
    vg_stream_destroy(r->workers[k].copy_stream);
  }
  free(r->workers);
  vg__run_teardown_frames(r); /* frames left when workers never ran */
  vg__streams_free(r);        /* per-stream state goes before the nodes' own */
  if (r->nodes) destroy_nodes(r);
  free(r->nodes);
  vg_latency_destroy(r->frame_lat);
  vg_pool_unref(r->host_pool);
  for (int d = 0; d < 16; d++)
    vg_pool_unref(r->dev_pools[d]);
  pthread_cond_destroy(&r->work_cv);
  pthread_cond_destroy(&r->done_cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

vg_status vg_run_once(const vg_graph *g, const vg_run_options *opt, const char *const *ids,
                      vg_packet *const *packets, int n, int timeout_ms, vg_run **out_run) {
  vg_run *r;
  *out_run = NULL;
  VG_TRY(vg_run_create(g, opt, &r));
  *out_run = r;
  for (int i = 0; i < n; i++)
    VG_TRY(vg_run_feed(r, ids[i], packets[i]));
  VG_TRY(vg_run_start(r));
  vg_status s = vg_run_wait(r, timeout_ms);
  if (s == VG_ERR_TIMEOUT) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    vg_run_cancel(r);
    vg_run_wait(r, -1);
    return vg_set_error(VG_ERR_TIMEOUT, "%s (canceled)", msg);
  }
  return s;
}
