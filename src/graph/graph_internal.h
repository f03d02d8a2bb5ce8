/* graph_internal.h - private structures of the graph layer shared by spec.c (the validated
 * graph), run.c (runs and nodes), the scheduler (sched_*.c) and summary.c. */
#ifndef VIDGRAPH_GRAPH_INTERNAL_H
#define VIDGRAPH_GRAPH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "vidgraph/vg_graph.h"

#define VG_ID_MAX 64
#define VG_MAX_NODES 1024

/* ----------------------------------------------------------------------------- graph */

typedef struct gedge {
  int from, from_port, to, to_port;
  const vg_cnode *where;
} gedge;

typedef struct gnode {
  char id[VG_ID_MAX];
  const vg_node_type *type;
  const vg_cnode *where;  /* the node's map in the spec */
  const vg_cnode *params; /* NULL when the spec has none */
  vg_device device;
  char fallback[160];
  vg_on_error on_error;
  int interval;
  int max_batch, max_wait_ms, max_in_flight;
  bool ordered, batching, source, sees_skipped;
  int nin, nout;
  unsigned in_types[VG_MAX_PORTS];
  unsigned out_types[VG_MAX_PORTS]; /* after VG_PORT_FORWARD inference */
  int *out_edges, nout_edges;       /* edge indices */
  int *in_edges, nin_edges;
  int var_base; /* index of output port 0 in a trip's variable store */
} gnode;

/* What a trip of one source touches: reached nodes, their in-degree, which edge feeds each
 * input port. */
typedef struct gplan {
  int source;
  int nreached;
  bool *reached;  /* [nnodes] */
  int *indeg;     /* [nnodes] live incoming edges */
  int *port_edge; /* [nnodes * VG_MAX_PORTS] edge feeding (node, port), -1 when none */
  bool *live;     /* [nedges] producer reached */
} gplan;

typedef struct gsettings {
  int workers, cuda_streams, queue_size, max_batch, max_wait_ms;
} gsettings;

struct vg_graph {
  vg_config *doc;
  gnode *nodes;
  int nnodes;
  gedge *edges;
  int nedges;
  int *topo; /* node indices in topological order */
  int nvars;
  gsettings settings;
  gplan *plans; /* one per source */
  int nsources;
  int *plan_of; /* [nnodes] plan index of a source node, -1 otherwise */
};

/* ----------------------------------------------------------------------------- runs */

typedef struct trip trip;

/* The per-stream state blocks of one stream, one per node (NULL for nodes without
 * stream_state_size, or that have not run for the stream yet). Allocated when the stream opens,
 * kept at a stable address (trips point at it), retired when the stream closes. */
typedef struct stream_states {
  struct stream_states *next; /* in the run's list of retired sets */
  int stream_id;
  void *of[]; /* [nnodes] */
} stream_states;

/* State of one node in one trip. */
enum { I_UNREACHED = 0, I_PENDING, I_WAIT_ORDER, I_READY, I_RUNNING, I_DONE, I_DEAD };

/* A flow step queued for an instance in a worker's worklist (sched_flow.c). */
enum { STEP_NONE = 0, STEP_READY, STEP_KILL };

typedef struct inst {
  uint8_t state;
  uint8_t step;        /* queued flow step, STEP_NONE when not queued */
  int16_t indeg;       /* live inputs still to come */
  int32_t step_from;   /* STEP_KILL: the dead producer that killed this instance */
  int32_t step_next_i; /* the worklist's next entry: node ... */
  trip *step_next;     /* ... of this trip (NULL: last entry) */
  int64_t t_ready_ns;
} inst;

/* One packet's trip through the graph: what a source emitted once (one frame of one stream, or
 * its end-of-stream marker) and the sub-graph of that source's plan it travels. */
struct trip {
  int plan;
  int stream_slot;
  int stream_id;
  stream_states *ss; /* its stream's per-stream state (the slot's) */
  int64_t frame_no, seq;
  int refs; /* reached instances not yet done or dead, plus queued flow steps naming this trip */
  bool dropped;
  bool eos;            /* an end-of-stream packet: flows like a frame, not counted as one */
  inst *inst;          /* [nnodes] */
  vg_packet **vars;    /* [nvars] */
  int *var_uses;       /* [nvars] consumers still to read the variable */
  vg_event *events;    /* [nnodes] recorded after a node ran on a CUDA stream; NULL otherwise */
  trip *snext, *sprev; /* trips of the same stream in flight, by seq */
  int64_t t0_ns;       /* capture (or admission) time of its frame: end-to-end latency */
};

/* A stream open in a run: its trips in flight by seq, and its per-stream state. Slots are
 * reused once a stream closed (used = false). */
typedef struct stream_slot {
  int stream_id;
  bool used;
  bool ended; /* its end-of-stream packet was admitted */
  int64_t next_seq;
  int source; /* node index of the source whose packet opened it */
  trip *head, *tail;
  stream_states *ss;
} stream_slot;

/* A ring of trips waiting for one node. */
typedef struct trip_ring {
  trip **items;
  int cap, head, count;
} trip_ring;

typedef struct fed_list {
  vg_packet **items;
  int n, next;
} fed_list;

struct vg_node {
  vg_run *run;
  int index;
  const gnode *g;
  void *state;
  bool inited;
  vg_pool *pool;
  fed_list fed;
  vg_packet *result;
  vg_packet_fn cb;
  void *cb_user;
  /* scheduling (run lock) */
  trip_ring ready;
  int ready_peak; /* most instances waiting in `ready` at once */
  int running;
  bool src_busy, src_eof;
  int inflight;    /* trips of this source in flight */
  int src_streams; /* streams of this source open now: its window is queue_size per stream */
  /* metrics (run lock or atomics) */
  vg_latency *lat, *wait;
  atomic_ullong stats[VG_STAT_NODE0 + VG_NODE_MAX_STATS]; /* vg_node_stat_add */
  uint64_t frames, calls, errors, dropped, filtered, skipped, batch_items;
  char last_error[256];
};

typedef struct worker {
  vg_run *run;
  pthread_t thread;
  bool started;
  vg_device device;
  vg_stream stream;      /* CUDA workers: the stream their nodes enqueue on */
  vg_stream copy_stream; /* CPU workers of a graph that uses CUDA: for copies to the host */
  int source;            /* node index of the source this thread pumps; -1 for pool workers */
} worker;

struct vg_run {
  const vg_graph *g;
  vg_run_options opt;
  vg_node *nodes;
  int nnodes;
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* workers: something may be ready */
  pthread_cond_t done_cv; /* waiters: the run ended */
  vg_run_state state;
  vg_status status;
  char error[512];
  atomic_bool cancel;
  bool stop, finishing, ended;
  worker *workers;
  int nworkers, ncpu_workers, cuda_streams;
  bool shared_window; /* VG_SOURCE_WINDOW=shared (ledger): one queue_size per source node */
  int first_cuda; /* lowest CUDA ordinal a node uses, -1 when none */
  int running_tasks;
  stream_slot *streams;
  int nstreams;           /* slots allocated (used or free) */
  int nopen;              /* slots used: at most VG_GRAPH_MAX_STREAMS */
  stream_states *retired; /* closed streams whose state blocks are still to destroy */
  atomic_int nretired;    /* length of that list (read without the lock) */
  int frames_in_flight;
  vg_pool *host_pool;
  vg_pool *dev_pools[16];
  int64_t t_start_ns, t_end_ns;
  uint64_t frames_in, frames_done, frames_dropped;
  vg_latency *frame_lat; /* end to end per completed frame: capture -> last node done */
  uint64_t peak_frames, packets_held, peak_packets;
  atomic_ullong copies_to_device, copies_to_host, frame_copies_to_host, copy_bytes;
};

/* sched_workers.c: the thread function of every worker (source threads, CPU pool, CUDA streams) */
void *vg__worker_main(void *arg);
/* sched_flow.c: frees every trip still in flight (lock held, or no worker running) */
void vg__run_teardown_frames(vg_run *r);

/* sched_streams.c: per-stream slots and the nodes' per-stream state */
/* The slot of stream_id, opened on the stream's first packet; -1 with the error set (too many
 * streams, out of memory). Lock held. */
int vg__stream_open_locked(vg_run *r, int stream_id, int source);
/* Grows node i's ready ring to the windows of the sources that reach it. Lock held (or init). */
vg_status vg__ring_fit(vg_run *r, int i);
/* After trip t of slot s left the graph: a stream whose end-of-stream packet has gone through
 * closes (its state blocks are queued for vg__streams_reap). Lock held. */
void vg__stream_trip_gone_locked(vg_run *r, int s, bool eos);
/* Closes every open stream that has no trip in flight (the end of a run). Lock held. */
void vg__streams_close_idle_locked(vg_run *r);
/* Destroys the state blocks of closed streams (nodes' stream_destroy). Lock NOT held. */
void vg__streams_reap(vg_run *r);
/* The state block of node i for the stream of trip t, created (and stream_init run) on the
 * node's first call for the stream. Lock NOT held; only the caller runs node i on that stream. */
vg_status vg__stream_state(vg_run *r, int i, trip *t, void **out);
/* Teardown: closes and destroys every stream's state and frees the slots (no worker runs). */
void vg__streams_free(vg_run *r);

/* params.c */
vg_status vg__params_check_table(const vg_node_type *t);
/* Allocates and fills the state of a node (or runs a legacy init); on failure everything is
 * released (destroy included) and *state is NULL. */
vg_status vg__node_state_create(vg_node *self, const vg_node_type *t, const vg_cnode *params,
                                void **state);
void vg__node_state_destroy(const vg_node_type *t, void *state);
/* Rewrites the current error as "file:line:col: path: node 'id' (type): message" (the node's
 * own position when the message has none). Returns s. */
vg_status vg__node_error_prefix(const vg_graph *g, int node, vg_status s);

/* run.c */
vg_status vg__node_pool_for(vg_run *r, vg_device dev, vg_pool **out);
void vg__emit(vg_run *r, int node, vg_node_state st, int stream_id, int64_t frame_no,
              int64_t dur_ns, bool skipped, bool dropped, const char *msg, const vg_packet *out);

#endif
