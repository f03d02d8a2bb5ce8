/* sched_internal.h - what the scheduler's four files share. The scheduler is cut at its seams:
 *   sched_flow.c     trips: admission, in-degree counting, ordering, ready rings, completion
 *   sched_batch.c    policy: which ready instances a worker takes (batching, max_wait_ms) and
 *                    how an instance is routed (run, pass through, interval skip)
 *   sched_exec.c     calling a node: inputs moved across devices (copies counted), CUDA events
 *   sched_workers.c  threads: pool workers, CUDA stream workers, source threads, ending a run
 *   sched_streams.c  streams: slots opened and closed, the nodes' per-stream state
 *
 * Lock convention (one rule for the whole scheduler): functions with the suffix _locked, and
 * every vg__trip_*, vg__route, vg__pick and vg__defer_ev, are called with the run lock held and
 * return with it held. The vg__exec_* functions, which call node code, are called without the
 * lock and return without it; they take it only to publish their results. */
#ifndef VIDGRAPH_SCHED_INTERNAL_H
#define VIDGRAPH_SCHED_INTERNAL_H

#include "graph_internal.h"

/* An event decided under the lock and delivered after it is released. */
typedef struct pending_ev {
  int node;
  vg_node_state state;
  int stream_id;
  int64_t frame_no;
  bool skipped, dropped;
  char msg[160];
} pending_ev;

/* What a worker thread carries: its deferred events, the flow worklist and the buffers of the
 * task it runs. */
typedef struct wctx {
  worker *w;
  vg_run *r;
  pending_ev *evs;
  int nevs, cap;
  trip *wl_head, *wl_tail; /* flow steps to do (sched_flow.c), linked through the instances */
  int wl_head_i, wl_tail_i;
  trip **items;      /* trips of the task being run */
  vg_node_io *io;    /* their inputs and outputs */
  vg_packet **moved; /* [items * VG_MAX_PORTS] inputs copied to the node's device */
  int items_cap;
} wctx;

/* A task a pool worker picked: node, and how many trips of c->items it covers. */
typedef struct task {
  int node; /* -1: none */
  int n;
} task;

/* How an instance whose inputs are all there goes on (sched_batch.c). */
typedef enum route {
  ROUTE_RUN,  /* into the node's ready ring */
  ROUTE_PASS, /* passed through unmarked: a skipped or end-of-stream packet the node ignores */
  ROUTE_SKIP, /* passed through marked skipped: a frame its interval leaves out */
} route;

static inline bool vg__terminal(uint8_t st) {
  return st == I_DONE || st == I_DEAD;
}

/* ----------------------------------------------------------------------------- windows */

/* How many trips source node src may have in flight: queue_size for each of its streams open
 * now (a source with several inputs gets a window per input, so that cross-stream batches can
 * fill), queue_size before its first frame. VG_SOURCE_WINDOW=shared brings back the one window
 * per source node of before, for the ledger (docs/PERF.md). */
static inline int vg__src_window(const vg_run *r, const vg_node *src) {
  if (r->shared_window) return r->g->settings.queue_size;
  return r->g->settings.queue_size * (src->src_streams > 1 ? src->src_streams : 1);
}

/* ----------------------------------------------------------------------------- ready rings */

static inline void vg__ring_push(trip_ring *q, trip *t) {
  VG_ASSERT(q->count < q->cap);
  q->items[(q->head + q->count++) % q->cap] = t;
}

static inline trip *vg__ring_pop(trip_ring *q) {
  trip *t = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  return t;
}

static inline trip *vg__ring_at(const trip_ring *q, int i) {
  return q->items[(q->head + i) % q->cap];
}

/* ----------------------------------------------------------------------------- sched_flow.c */

/* A source produced outs (owned): start a trip for them and let it flow. */
void vg__trip_admit(wctx *c, int src, vg_packet **outs);
/* Node i of trip t ran: publishes its outputs (owned, entries may be NULL) and lets them flow. */
void vg__trip_complete(wctx *c, trip *t, int i, vg_packet **outs);
/* Node i will not run for trip t (its call failed or was dropped): so neither will downstream. */
void vg__trip_kill(wctx *c, trip *t, int i, const char *reason);
/* The packet on input port p of node i in trip t (NULL when unconnected). */
vg_packet *vg__trip_input(const vg_run *r, const trip *t, int i, int p);

/* ----------------------------------------------------------------------------- sched_batch.c */

route vg__route(const vg_run *r, const trip *t, int i);
/* The next ready task for this pool worker's device (trips in c->items, marked running), or
 * node -1; *deadline is lowered to when a waiting partial batch is due. */
task vg__pick(wctx *c, int64_t *deadline);

/* ----------------------------------------------------------------------------- sched_exec.c */

vg_status vg__exec_reserve(wctx *c, int n);
/* Calls source i once and admits what it emitted. */
void vg__exec_source(wctx *c, int i);
/* Calls node i on the trips c->items[0..n) and completes (or kills) them. */
void vg__exec_task(wctx *c, int i, int n);

/* ----------------------------------------------------------------------------- sched_workers.c */

void vg__defer_ev(wctx *c, int node, vg_node_state st, int stream_id, int64_t frame_no,
                  bool skipped, bool dropped, const char *msg);
void vg__fail_run_locked(vg_run *r, vg_status s, const char *msg);

#endif
