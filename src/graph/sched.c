/* sched.c - the scheduler and its executors. Every packet a source emits becomes a frame: the
 * sub-graph that source reaches, with one in-degree count and one state per node and a variable
 * store of (node, port) outputs released when their last consumer is done. Workers (CPU threads,
 * and on CUDA one thread per stream) take ready nodes from the ready rings under one run lock,
 * call them without the lock, then publish the outputs. Ordered nodes see each stream's frames in
 * order, batching nodes take up to max_batch ready frames (waiting at most max_wait_ms), interval
 * nodes pass frames through, and the number of frames in flight per source (queue_size) bounds
 * memory: a source runs only while its window has room. */
#include "graph_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_WAKE_MS 200 /* every wait is bounded: workers re-check at least this often */

/* Events decided under the lock and delivered after it is released. */
typedef struct pending_ev {
  int node;
  vg_node_state state;
  int stream_id;
  int64_t frame_no;
  bool skipped, dropped;
  char msg[160];
} pending_ev;

typedef struct wctx {
  worker *w;
  vg_run *r;
  pending_ev *evs;
  int nevs, cap;
  frame **items;     /* frames of the task being run */
  vg_node_io *io;    /* their inputs and outputs */
  vg_packet **moved; /* [items * VG_MAX_PORTS] inputs copied to the node's device */
  int items_cap;
} wctx;

static bool terminal(uint8_t st) {
  return st == I_DONE || st == I_DEAD;
}

static void defer_ev(wctx *c, int node, vg_node_state st, const frame *f, bool skipped,
                     bool dropped, const char *msg) {
  if (!c->r->opt.on_event) return;
  if (c->nevs == c->cap) {
    int cap = c->cap ? c->cap * 2 : 64;
    pending_ev *e = realloc(c->evs, (size_t)cap * sizeof *e);
    if (!e) return; /* events are best effort under memory pressure */
    c->evs = e;
    c->cap = cap;
  }
  pending_ev *e = &c->evs[c->nevs++];
  e->node = node;
  e->state = st;
  e->stream_id = f->stream_id;
  e->frame_no = f->frame_no;
  e->skipped = skipped;
  e->dropped = dropped;
  snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "");
}

static void flush_evs(wctx *c) {
  for (int i = 0; i < c->nevs; i++) {
    pending_ev *e = &c->evs[i];
    frame fake = {.stream_id = e->stream_id, .frame_no = e->frame_no};
    vg__emit(c->r, e->node, e->state, &fake, 0, e->skipped, e->dropped, e->msg[0] ? e->msg : NULL,
             NULL);
  }
  c->nevs = 0;
}

/* ----------------------------------------------------------------------------- ready rings */

static void ring_push(fring *q, frame *f) {
  VG_ASSERT(q->count < q->cap);
  q->items[(q->head + q->count++) % q->cap] = f;
}

static frame *ring_pop(fring *q) {
  frame *f = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  return f;
}

static frame *ring_at(const fring *q, int i) {
  return q->items[(q->head + i) % q->cap];
}

/* ----------------------------------------------------------------------------- run ending */

static void fail_run_locked(vg_run *r, vg_status s, const char *msg) {
  if (r->status == VG_OK || r->status == VG_ERR_CANCELED) {
    r->status = s == VG_OK ? VG_ERR_INTERNAL : s;
    snprintf(r->error, sizeof r->error, "%s", msg);
  }
  atomic_store(&r->cancel, true);
  pthread_cond_broadcast(&r->work_cv);
}

/* ----------------------------------------------------------------------------- frames */

static void var_release(vg_run *r, frame *f, int v) {
  if (f->vars[v] && --f->var_uses[v] == 0) {
    vg_packet_unref(f->vars[v]);
    f->vars[v] = NULL;
    r->packets_held--;
  }
}

static void frame_free(vg_run *r, frame *f) {
  const vg_graph *g = r->g;
  for (int v = 0; v < g->nvars; v++)
    if (f->vars[v]) {
      vg_packet_unref(f->vars[v]);
      r->packets_held--;
    }
  for (int i = 0; i < g->nnodes; i++)
    if (f->events[i]) vg_event_destroy(f->events[i]);
  free(f->inst);
  free(f->vars);
  free(f->var_uses);
  free(f->events);
  free(f);
}

static void frame_unlink(vg_run *r, frame *f) {
  stream_slot *s = &r->streams[f->stream_slot];
  if (f->sprev)
    f->sprev->snext = f->snext;
  else
    s->head = f->snext;
  if (f->snext)
    f->snext->sprev = f->sprev;
  else
    s->tail = f->sprev;
  vg_node *src = &r->nodes[r->g->plans[f->plan].source];
  src->inflight--;
  r->frames_in_flight--;
}

static void frame_done(vg_run *r, frame *f) {
  frame_unlink(r, f);
  if (f->eos)
    ; /* end-of-stream markers are not frames */
  else if (f->dropped)
    r->frames_dropped++;
  else
    r->frames_done++;
  frame_free(r, f);
  pthread_cond_broadcast(&r->work_cv); /* the source window has room again */
}

/* A consumer is done with its inputs (ran or died). */
static void release_inputs(vg_run *r, frame *f, int i) {
  const vg_graph *g = r->g;
  const gplan *pl = &g->plans[f->plan];
  for (int p = 0; p < g->nodes[i].nin; p++) {
    int e = pl->port_edge[i * VG_MAX_PORTS + p];
    if (e < 0) continue;
    const gedge *ed = &g->edges[e];
    if (f->inst[ed->from].state == I_DONE)
      var_release(r, f, g->nodes[ed->from].var_base + ed->from_port);
  }
}

static void make_ready(wctx *c, frame *f, int i);
static void kill_inst(wctx *c, frame *f, int i, const char *reason);

/* The first earlier frame of the stream that still has node i to run. */
static bool earlier_pending(frame *f, int i) {
  for (frame *g = f->sprev; g; g = g->sprev)
    if (g->inst[i].state != I_UNREACHED && !terminal(g->inst[i].state)) return true;
  return false;
}

/* After an instance of ordered node i ended in frame f: wake the next frame waiting for it. */
static void advance_order(wctx *c, frame *f, int i) {
  for (frame *g = f->snext; g; g = g->snext) {
    uint8_t st = g->inst[i].state;
    if (st == I_UNREACHED || terminal(st)) continue;
    if (st == I_WAIT_ORDER && !earlier_pending(g, i)) {
      g->inst[i].state = I_PENDING;
      make_ready(c, g, i);
    }
    return;
  }
}

static void inst_terminal(wctx *c, frame *f, int i) {
  f->remaining--;
  if (c->r->g->nodes[i].ordered) advance_order(c, f, i);
  if (f->remaining == 0) frame_done(c->r, f);
}

/* Publishes the outputs of node i (owned references, entries may be NULL) and propagates. */
static void complete_inst(wctx *c, frame *f, int i, vg_packet **outs) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *n = &g->nodes[i];
  const gplan *pl = &g->plans[f->plan];
  f->inst[i].state = I_DONE;
  bool filtered = false;
  for (int p = 0; p < n->nout; p++) {
    if (!outs[p]) continue;
    int uses = 0;
    for (int k = 0; k < n->nout_edges; k++) {
      const gedge *e = &g->edges[n->out_edges[k]];
      if (e->from_port == p && pl->live[n->out_edges[k]] && !terminal(f->inst[e->to].state)) uses++;
    }
    int v = n->var_base + p;
    if (uses == 0) {
      vg_packet_unref(outs[p]);
      continue;
    }
    f->vars[v] = outs[p];
    f->var_uses[v] = uses;
    if (++r->packets_held > r->peak_packets) r->peak_packets = r->packets_held;
  }
  for (int k = 0; k < n->nout_edges; k++) {
    int e = n->out_edges[k];
    const gedge *ed = &g->edges[e];
    if (!pl->live[e] || f->inst[ed->to].state != I_PENDING) continue;
    if (!outs[ed->from_port]) {
      char why[128];
      snprintf(why, sizeof why, "no input: '%s' sent nothing on '%s'", n->id,
               n->type->outputs[ed->from_port].name);
      filtered = true;
      kill_inst(c, f, ed->to, why);
    } else if (--f->inst[ed->to].indeg == 0) {
      make_ready(c, f, ed->to);
    }
  }
  if (filtered) {
    r->nodes[i].filtered++;
    f->dropped = true;
  }
  release_inputs(r, f, i);
  inst_terminal(c, f, i);
}

/* Node i will not run for frame f (an input will never come, or the node dropped the frame). */
static void kill_inst(wctx *c, frame *f, int i, const char *reason) {
  uint8_t st = f->inst[i].state;
  if (st == I_UNREACHED || terminal(st)) return;
  const vg_graph *g = c->r->g;
  const gnode *n = &g->nodes[i];
  const gplan *pl = &g->plans[f->plan];
  f->inst[i].state = I_DEAD;
  f->dropped = true;
  if (st != I_RUNNING) defer_ev(c, i, VG_NODE_CANCELED, f, false, false, reason);
  char why[128];
  snprintf(why, sizeof why, "upstream '%s' did not produce this frame", n->id);
  for (int k = 0; k < n->nout_edges; k++)
    if (pl->live[n->out_edges[k]]) kill_inst(c, f, g->edges[n->out_edges[k]].to, why);
  release_inputs(c->r, f, i);
  inst_terminal(c, f, i);
}

/* The packet on input port p of node i in frame f (NULL when unconnected). */
static vg_packet *input_of(const vg_run *r, const frame *f, int i, int p) {
  const vg_graph *g = r->g;
  int e = g->plans[f->plan].port_edge[i * VG_MAX_PORTS + p];
  if (e < 0) return NULL;
  const gedge *ed = &g->edges[e];
  return f->vars[g->nodes[ed->from].var_base + ed->from_port];
}

/* Passes the first input through to every output without calling the node: for frames an
 * interval skips (marked skipped) and for skipped or end-of-stream packets the node does not
 * want to see. */
static void pass_through(wctx *c, frame *f, int i, bool mark_skipped) {
  vg_run *r = c->r;
  const gnode *n = &r->g->nodes[i];
  vg_packet *in = NULL, *outs[VG_MAX_PORTS] = {0};
  for (int p = 0; p < n->nin && !in; p++)
    in = input_of(r, f, i, p);
  vg_packet *fwd = NULL;
  if (in && mark_skipped && n->nout > 0) {
    if (vg_packet_derive(in, &fwd) != VG_OK) {
      char msg[400];
      snprintf(msg, sizeof msg, "node '%s': %s", n->id, vg_last_error());
      fail_run_locked(r, VG_ERR_NO_MEMORY, msg);
      f->inst[i].state = I_READY; /* fall back to dispatch; the run is failing anyway */
      kill_inst(c, f, i, "out of memory");
      return;
    }
    vg_packet_set_flags(fwd, vg_packet_flags(in) | VG_PACKET_SKIPPED);
  } else if (in && n->nout > 0) {
    fwd = vg_packet_ref(in);
  }
  for (int p = 0; p < n->nout && fwd; p++)
    outs[p] = p == 0 ? fwd : vg_packet_ref(fwd);
  r->nodes[i].skipped += mark_skipped;
  defer_ev(c, i, VG_NODE_SUCCEEDED, f, true, false, mark_skipped ? "interval" : NULL);
  complete_inst(c, f, i, outs);
}

/* All inputs of node i in frame f are there. */
static void make_ready(wctx *c, frame *f, int i) {
  vg_run *r = c->r;
  const gnode *n = &r->g->nodes[i];
  if (n->ordered && earlier_pending(f, i)) {
    f->inst[i].state = I_WAIT_ORDER;
    return;
  }
  bool all_skipped = n->nin > 0, any_eos = false;
  for (int p = 0; p < n->nin; p++) {
    vg_packet *in = input_of(r, f, i, p);
    if (!in) continue;
    all_skipped = all_skipped && (vg_packet_flags(in) & VG_PACKET_SKIPPED);
    any_eos = any_eos || (vg_packet_flags(in) & VG_PACKET_EOS);
  }
  if (any_eos && !(n->type->flags & VG_NODE_SEES_EOS)) {
    pass_through(c, f, i, false);
    return;
  }
  if (!any_eos && all_skipped && !n->sees_skipped) {
    pass_through(c, f, i, false);
    return;
  }
  if (!any_eos && n->interval > 1 && f->seq % n->interval != 0) {
    pass_through(c, f, i, true);
    return;
  }
  f->inst[i].state = I_READY;
  f->inst[i].t_ready_ns = vg_now_ns();
  ring_push(&r->nodes[i].ready, f);
  pthread_cond_broadcast(&r->work_cv);
}

/* ----------------------------------------------------------------------------- admission */

static int stream_slot_of(vg_run *r, int stream_id) {
  for (int s = 0; s < r->nstreams; s++)
    if (r->streams[s].stream_id == stream_id) return s;
  if (r->nstreams == VG_MAX_STREAMS) return -1;
  if (r->nstreams % 64 == 0) {
    stream_slot *ns = realloc(r->streams, (size_t)(r->nstreams + 64) * sizeof *ns);
    if (!ns) return -1;
    r->streams = ns;
  }
  stream_slot *s = &r->streams[r->nstreams];
  memset(s, 0, sizeof *s);
  s->stream_id = stream_id;
  return r->nstreams++;
}

static frame *frame_alloc(const vg_graph *g) {
  frame *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->inst = calloc((size_t)g->nnodes, sizeof *f->inst);
  f->vars = calloc((size_t)g->nvars + 1, sizeof *f->vars);
  f->var_uses = calloc((size_t)g->nvars + 1, sizeof *f->var_uses);
  f->events = calloc((size_t)g->nnodes, sizeof *f->events);
  if (!f->inst || !f->vars || !f->var_uses || !f->events) {
    free(f->inst);
    free(f->vars);
    free(f->var_uses);
    free(f->events);
    free(f);
    return NULL;
  }
  return f;
}

/* A source produced outs (owned): start a frame for them. */
static void admit(wctx *c, int src, vg_packet **outs) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *n = &g->nodes[src];
  vg_packet *first = NULL;
  for (int p = 0; p < n->nout && !first; p++)
    first = outs[p];
  char msg[300];
  int slot = first ? stream_slot_of(r, vg_packet_stream(first)) : -1;
  frame *f = first && slot >= 0 ? frame_alloc(g) : NULL;
  if (!f) {
    for (int p = 0; p < n->nout; p++)
      vg_packet_unref(outs[p]);
    if (!first) return; /* nothing this time */
    snprintf(msg, sizeof msg, "node '%s': %s", n->id,
             slot < 0 ? "too many streams (or out of memory)" : "out of memory for a frame");
    fail_run_locked(r, VG_ERR_NO_MEMORY, msg);
    return;
  }
  stream_slot *s = &r->streams[slot];
  f->plan = g->plan_of[src];
  f->stream_slot = slot;
  f->stream_id = vg_packet_stream(first);
  f->frame_no = vg_packet_frame_no(first);
  f->eos = (vg_packet_flags(first) & VG_PACKET_EOS) != 0;
  f->seq = s->next_seq++;
  f->sprev = s->tail;
  if (s->tail)
    s->tail->snext = f;
  else
    s->head = f;
  s->tail = f;
  const gplan *pl = &g->plans[f->plan];
  for (int i = 0; i < g->nnodes; i++) {
    if (!pl->reached[i]) continue;
    f->inst[i].state = I_PENDING;
    f->inst[i].indeg = (int16_t)pl->indeg[i];
  }
  f->remaining = pl->nreached;
  r->nodes[src].inflight++;
  if (!f->eos) r->frames_in++;
  if (++r->frames_in_flight > (int)r->peak_frames) r->peak_frames = (uint64_t)r->frames_in_flight;
  complete_inst(c, f, src, outs);
}

/* ----------------------------------------------------------------------------- picking */

typedef struct task {
  int node; /* -1: none */
  int n;
} task;

/* Could another frame still reach batching node i (so a partial batch should wait)? */
static bool more_can_arrive(vg_run *r, int i) {
  const vg_graph *g = r->g;
  for (int s = 0; s < r->nstreams; s++)
    for (frame *f = r->streams[s].head; f; f = f->snext)
      if (f->inst[i].state == I_PENDING || f->inst[i].state == I_WAIT_ORDER) return true;
  if (r->stop) return false;
  for (int p = 0; p < g->nsources; p++) {
    const vg_node *src = &r->nodes[g->plans[p].source];
    if (!g->plans[p].reached[i] || src->src_eof) continue;
    int ready_here = 0;
    const fring *q = &r->nodes[i].ready;
    for (int k = 0; k < q->count; k++)
      ready_here += ring_at(q, k)->plan == p;
    if (src->inflight < g->settings.queue_size || src->inflight > ready_here) return true;
  }
  return false;
}

/* The next ready node for this pool worker's device, if any. */
static task pick(wctx *c, int64_t *deadline) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  task t = {-1, 0};
  if (atomic_load(&r->cancel) || r->ended || r->finishing) return t;
  vg_device dev = c->w->device;
  int64_t now = vg_now_ns();
  for (int k = g->nnodes - 1; k >= 0; k--) { /* downstream first: drain before admitting */
    int i = g->topo[k];
    const gnode *n = &g->nodes[i];
    vg_node *nd = &r->nodes[i];
    if (n->source || !vg_device_eq(n->device, dev) || nd->ready.count == 0 ||
        nd->running >= n->max_in_flight)
      continue;
    int take = n->batching ? (nd->ready.count < n->max_batch ? nd->ready.count : n->max_batch) : 1;
    if (n->batching && take < n->max_batch) {
      int64_t due = ring_at(&nd->ready, 0)->inst[i].t_ready_ns + (int64_t)n->max_wait_ms * 1000000;
      if (now < due && more_can_arrive(r, i)) {
        if (*deadline == 0 || due < *deadline) *deadline = due;
        continue;
      }
    }
    for (int b = 0; b < take; b++) {
      frame *f = ring_pop(&nd->ready);
      f->inst[i].state = I_RUNNING;
      c->items[b] = f;
    }
    nd->running++;
    r->running_tasks++;
    t.node = i;
    t.n = take;
    return t;
  }
  return t;
}

/* Sources run on their own threads (a live source may block waiting for its next picture
 * without holding a pool worker); one may run when its window of frames has room. */
static bool source_can_run(vg_run *r, int i) {
  const vg_node *nd = &r->nodes[i];
  return !atomic_load(&r->cancel) && !r->ended && !r->finishing && !r->stop && !nd->src_eof &&
         !nd->src_busy && nd->inflight < r->g->settings.queue_size;
}

/* ----------------------------------------------------------------------------- running */

static vg_status ensure_items(wctx *c, int n) {
  if (n <= c->items_cap) return VG_OK;
  frame **items = realloc(c->items, (size_t)n * sizeof *items);
  if (items) c->items = items;
  vg_node_io *io = realloc(c->io, (size_t)n * sizeof *io);
  if (io) c->io = io;
  vg_packet **moved = realloc(c->moved, (size_t)n * VG_MAX_PORTS * sizeof *moved);
  if (moved) c->moved = moved;
  if (!items || !io || !moved) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory in a worker");
  c->items_cap = n;
  return VG_OK;
}

/* Copies what input port p needs (picture, tensors) to the node's device; counts the copies. */
static vg_status move_input(wctx *c, const gnode *n, int p, vg_packet *in, vg_packet **moved) {
  vg_run *r = c->r;
  unsigned need = n->in_types[p];
  *moved = NULL;
  if (!in || (need & VG_PORT_ANY)) return VG_OK;
  const vg_frame *fr = vg_packet_frame(in);
  bool mv_frame = (need & VG_PORT_FRAME) && fr && !vg_device_eq(vg_frame_device(fr), n->device);
  bool mv_tensor = false;
  for (int k = 0; (need & VG_PORT_TENSOR) && k < vg_packet_ntensors(in); k++)
    mv_tensor |= !vg_device_eq(vg_tensor_device(vg_packet_tensor_at(in, k, NULL)), n->device);
  if (!mv_frame && !mv_tensor) return VG_OK;
  vg_pool *pool;
  VG_TRY(vg__node_pool_for(r, n->device, &pool));
  vg_packet *out;
  VG_TRY(vg_packet_derive(in, &out));
  vg_stream cs = c->w->device.kind == VG_DEVICE_CUDA ? c->w->stream : c->w->copy_stream;
  bool from_cuda = false;
  vg_status s = VG_OK;
  if (mv_frame) {
    vg_frame nf;
    from_cuda |= vg_frame_device(fr).kind == VG_DEVICE_CUDA;
    s = vg_frame_to_device(fr, n->device, pool, cs, &nf);
    if (s == VG_OK) {
      vg_packet_set_frame(out, &nf);
      atomic_fetch_add(&r->copy_bytes, vg_buffer_size(nf.buffer));
      vg_frame_release(&nf);
      if (n->device.kind == VG_DEVICE_CPU) {
        atomic_fetch_add(&r->copies_to_host, 1);
        atomic_fetch_add(&r->frame_copies_to_host, 1);
      } else {
        atomic_fetch_add(&r->copies_to_device, 1);
      }
    }
  }
  for (int k = 0; s == VG_OK && mv_tensor && k < vg_packet_ntensors(in); k++) {
    const char *name;
    const vg_tensor *t = vg_packet_tensor_at(in, k, &name);
    if (vg_device_eq(vg_tensor_device(t), n->device)) continue;
    vg_tensor nt;
    from_cuda |= vg_tensor_device(t).kind == VG_DEVICE_CUDA;
    s = vg_tensor_to_device(t, n->device, pool, cs, &nt);
    if (s == VG_OK) {
      s = vg_packet_set_tensor(out, name, &nt);
      atomic_fetch_add(&r->copy_bytes, vg_tensor_nbytes(&nt));
      atomic_fetch_add(n->device.kind == VG_DEVICE_CPU ? &r->copies_to_host : &r->copies_to_device,
                       1);
      vg_tensor_release(&nt);
    }
  }
  if (s == VG_OK && from_cuda && n->device.kind == VG_DEVICE_CPU) s = vg_stream_sync(cs);
  if (s != VG_OK) {
    vg_packet_unref(out);
    return vg_wrap_error(s, "copying input '%s' to %s", n->type->inputs[p].name,
                         n->device.kind == VG_DEVICE_CPU ? "cpu" : "cuda");
  }
  *moved = out;
  return VG_OK;
}

/* Fills c->io for the task's frames: inputs (waiting on producers' CUDA events, copied across
 * devices as needed). Runs without the lock: the variables are kept alive by their use counts. */
static vg_status prepare_inputs(wctx *c, int i, int n) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *gn = &g->nodes[i];
  const gplan *pl;
  memset(c->moved, 0, (size_t)n * VG_MAX_PORTS * sizeof *c->moved);
  for (int b = 0; b < n; b++) {
    frame *f = c->items[b];
    pl = &g->plans[f->plan];
    memset(&c->io[b], 0, sizeof c->io[b]);
    for (int p = 0; p < gn->nin; p++) {
      int e = pl->port_edge[i * VG_MAX_PORTS + p];
      if (e < 0) continue;
      vg_event ev = f->events[g->edges[e].from];
      if (ev) {
        VG_TRY(c->w->device.kind == VG_DEVICE_CUDA ? vg_stream_wait_event(c->w->stream, ev)
                                                   : vg_event_sync(ev));
      }
      vg_packet *in = input_of(r, f, i, p);
      VG_TRY(move_input(c, gn, p, in, &c->moved[b * VG_MAX_PORTS + p]));
      c->io[b].in[p] = c->moved[b * VG_MAX_PORTS + p] ? c->moved[b * VG_MAX_PORTS + p] : in;
    }
  }
  return VG_OK;
}

static void release_moved(wctx *c, int n) {
  for (int k = 0; k < n * VG_MAX_PORTS; k++) {
    vg_packet_unref(c->moved[k]);
    c->moved[k] = NULL;
  }
}

/* After a call on a CUDA stream: an event per frame for consumers on other streams. */
static void record_events(wctx *c, int i, int n) {
  if (c->w->device.kind != VG_DEVICE_CUDA) return;
  for (int b = 0; b < n; b++) {
    vg_event ev = NULL;
    if (vg_event_create(c->w->device, false, &ev) == VG_OK &&
        vg_event_record(ev, c->w->stream) == VG_OK)
      c->items[b]->events[i] = ev;
    else if (ev)
      vg_event_destroy(ev);
  }
}

static void run_source(wctx *c, int i) {
  vg_run *r = c->r;
  vg_node *nd = &r->nodes[i];
  vg_node_io io;
  memset(&io, 0, sizeof io);
  vg_call call = {nd, nd->state, c->w->stream, 1, &io};
  int64_t t0 = vg_now_ns();
  vg_status s = nd->g->type->process(&call);
  if (c->w->device.kind == VG_DEVICE_CUDA) { /* what it decoded on its stream is ready */
    vg_status ss = vg_stream_sync(c->w->stream);
    if (s == VG_OK) s = ss;
  }
  int64_t t1 = vg_now_ns();
  char msg[400] = "";
  if (s != VG_OK && s != VG_ERR_EOF)
    snprintf(msg, sizeof msg, "node '%s' (%s): %s", nd->g->id, nd->g->type->name, vg_last_error());
  bool any = false;
  for (int p = 0; p < nd->g->nout; p++)
    any |= io.out[p] != NULL;
  const vg_packet *first = NULL;
  for (int p = 0; p < nd->g->nout && !first; p++)
    first = io.out[p];
  frame fake = {.stream_id = first ? vg_packet_stream(first) : 0,
                .frame_no = first ? vg_packet_frame_no(first) : -1};
  const gplan *pl = &r->g->plans[r->g->plan_of[i]];
  if (s == VG_OK && any) {
    vg_latency_add_ns(nd->lat, t1 - t0);
    if (r->opt.on_event) {
      /* Pending before the frame is admitted, so that no node's Running can precede it */
      vg__emit(r, i, VG_NODE_SUCCEEDED, &fake, t1 - t0, false, false, NULL, first);
      for (int k = 0; k < r->nnodes; k++)
        if (k != i && pl->reached[k])
          vg__emit(r, k, VG_NODE_PENDING, &fake, 0, false, false, NULL, NULL);
    }
  }
  pthread_mutex_lock(&r->mu);
  nd->running--;
  r->running_tasks--;
  nd->src_busy = false;
  nd->calls++;
  if (s == VG_OK && any) {
    nd->frames++;
    if (atomic_load(&r->cancel)) {
      for (int p = 0; p < nd->g->nout; p++)
        vg_packet_unref(io.out[p]);
      for (int k = 0; k < r->nnodes; k++)
        if (k != i && pl->reached[k])
          defer_ev(c, k, VG_NODE_CANCELED, &fake, false, false, "run canceled");
    } else {
      admit(c, i, io.out);
    }
  } else {
    for (int p = 0; p < nd->g->nout; p++)
      vg_packet_unref(io.out[p]);
    if (s == VG_ERR_EOF) {
      nd->src_eof = true;
    } else if (s != VG_OK) {
      nd->errors++;
      snprintf(nd->last_error, sizeof nd->last_error, "%s", msg);
      if (nd->g->on_error == VG_ON_ERROR_DROP)
        nd->dropped++;
      else
        fail_run_locked(r, s, msg);
    }
  }
  pthread_cond_broadcast(&r->work_cv);
}

/* Runs a non-source task on c->items[0..n). Called and returns with the lock released. */
static void run_task(wctx *c, int i, int n) {
  vg_run *r = c->r;
  vg_node *nd = &r->nodes[i];
  const gnode *gn = nd->g;
  int64_t t0 = vg_now_ns();
  for (int b = 0; b < n; b++) {
    frame *f = c->items[b];
    vg_latency_add_ns(nd->wait, t0 - f->inst[i].t_ready_ns);
    if (r->opt.on_event) vg__emit(r, i, VG_NODE_RUNNING, f, 0, false, false, NULL, NULL);
  }
  vg_status s = prepare_inputs(c, i, n);
  char msg[400] = "";
  if (s == VG_OK) {
    vg_call call = {nd, nd->state, c->w->stream, n, c->io};
    s = gn->type->process(&call);
    /* Until frees are stream-ordered, a CUDA worker waits for its stream, so that memory its
     * inputs release cannot be reused while kernels still read it. */
    if (c->w->device.kind == VG_DEVICE_CUDA) {
      vg_status ss = vg_stream_sync(c->w->stream);
      if (s == VG_OK) s = ss;
    }
    record_events(c, i, n);
  } else {
    for (int b = 0; b < n; b++)
      memset(c->io[b].out, 0, sizeof c->io[b].out);
  }
  int64_t t1 = vg_now_ns();
  vg_latency_add_ns(nd->lat, t1 - t0);
  release_moved(c, n);
  if (s != VG_OK)
    snprintf(msg, sizeof msg, "node '%s' (%s): %s", gn->id, gn->type->name, vg_last_error());
  bool drop = s != VG_OK && gn->on_error == VG_ON_ERROR_DROP;
  for (int b = 0; b < n && r->opt.on_event; b++)
    vg__emit(r, i, s == VG_OK ? VG_NODE_SUCCEEDED : VG_NODE_FAILED, c->items[b], t1 - t0, false,
             drop, s == VG_OK ? NULL : msg, s == VG_OK ? c->io[b].out[0] : NULL);
  pthread_mutex_lock(&r->mu);
  nd->running--;
  r->running_tasks--;
  nd->calls++;
  nd->batch_items += (uint64_t)n;
  if (s == VG_OK) {
    nd->frames += (uint64_t)n;
    for (int b = 0; b < n; b++)
      complete_inst(c, c->items[b], i, c->io[b].out);
  } else {
    nd->errors++;
    snprintf(nd->last_error, sizeof nd->last_error, "%s", msg);
    if (drop)
      nd->dropped += (uint64_t)n;
    else
      fail_run_locked(r, s, msg);
    for (int b = 0; b < n; b++) {
      for (int p = 0; p < gn->nout; p++)
        vg_packet_unref(c->io[b].out[p]);
      kill_inst(c, c->items[b], i, msg);
    }
  }
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->mu);
}

/* ----------------------------------------------------------------------------- the end */

void vg__run_teardown_frames(vg_run *r) {
  for (int s = 0; s < r->nstreams; s++) {
    frame *f = r->streams[s].head;
    while (f) {
      frame *next = f->snext;
      frame_unlink(r, f);
      r->frames_dropped++;
      frame_free(r, f);
      f = next;
    }
  }
  for (int i = 0; i < r->nnodes; i++)
    r->nodes[i].ready.count = 0;
}

static void end_run_locked(vg_run *r, vg_run_state st) {
  r->state = st;
  r->ended = true;
  r->t_end_ns = vg_now_ns();
  pthread_cond_broadcast(&r->done_cv);
  pthread_cond_broadcast(&r->work_cv);
}

/* Emits Canceled for every instance still waiting in the frames being torn down. */
static void cancel_events(wctx *c) {
  vg_run *r = c->r;
  for (int s = 0; s < r->nstreams; s++)
    for (frame *f = r->streams[s].head; f; f = f->snext)
      for (int i = 0; i < r->nnodes; i++)
        if (f->inst[i].state != I_UNREACHED && !terminal(f->inst[i].state))
          defer_ev(c, i, VG_NODE_CANCELED, f, false, false, "run canceled");
}

static bool sources_done(const vg_run *r) {
  for (int p = 0; p < r->g->nsources; p++) {
    const vg_node *src = &r->nodes[r->g->plans[p].source];
    if (!src->src_eof && !r->stop) return false;
  }
  return true;
}

/* Called with the lock held when a worker found nothing to do. Returns true when it ended the
 * run (or another worker is ending it). */
static void maybe_end(wctx *c) {
  vg_run *r = c->r;
  if (r->ended || r->finishing || r->running_tasks > 0) return;
  if (atomic_load(&r->cancel)) {
    cancel_events(c);
    vg__run_teardown_frames(r);
    end_run_locked(r, r->status == VG_ERR_CANCELED || r->status == VG_OK ? VG_RUN_CANCELED
                                                                         : VG_RUN_FAILED);
    return;
  }
  if (!sources_done(r) || r->frames_in_flight > 0) return;
  r->finishing = true;
  pthread_mutex_unlock(&r->mu);
  vg_status s = VG_OK;
  char msg[400] = "";
  for (int k = 0; k < r->nnodes && s == VG_OK; k++) {
    vg_node *nd = &r->nodes[r->g->topo[k]];
    if (!nd->g->type->flush) continue;
    s = nd->g->type->flush(nd, nd->state);
    if (s != VG_OK)
      snprintf(msg, sizeof msg, "node '%s' (%s): flush: %s", nd->g->id, nd->g->type->name,
               vg_last_error());
  }
  pthread_mutex_lock(&r->mu);
  if (s != VG_OK) {
    r->status = s;
    snprintf(r->error, sizeof r->error, "%s", msg);
  }
  end_run_locked(r, s == VG_OK ? VG_RUN_SUCCEEDED : VG_RUN_FAILED);
}

/* ----------------------------------------------------------------------------- workers */

static void wait_work(vg_run *r, int64_t deadline) {
  int64_t now = vg_now_ns();
  int64_t wait_ns = (int64_t)IDLE_WAKE_MS * 1000000;
  if (deadline && deadline - now < wait_ns) wait_ns = deadline - now;
  if (wait_ns <= 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += wait_ns / 1000000000;
  ts.tv_nsec += wait_ns % 1000000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_cond_timedwait(&r->work_cv, &r->mu, &ts);
}

static int max_batch_of(const vg_graph *g) {
  int m = 1;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].max_batch > m) m = g->nodes[i].max_batch;
  return m;
}

static void flush_evs_unlocked(wctx *c) {
  if (!c->nevs) return;
  pthread_mutex_unlock(&c->r->mu);
  flush_evs(c);
  pthread_mutex_lock(&c->r->mu);
}

/* Loop of a source thread: emit while the window has room. Called with the lock held. */
static void source_loop(wctx *c) {
  vg_run *r = c->r;
  int i = c->w->source;
  while (!r->ended) {
    if (source_can_run(r, i)) {
      r->nodes[i].src_busy = true;
      r->nodes[i].running++;
      r->running_tasks++;
      pthread_mutex_unlock(&r->mu);
      run_source(c, i); /* returns with the lock held */
      flush_evs_unlocked(c);
      continue;
    }
    maybe_end(c);
    flush_evs_unlocked(c);
    if (!r->ended) wait_work(r, 0);
  }
}

/* Loop of a pool worker (CPU thread or CUDA stream). Called with the lock held. */
static void pool_loop(wctx *c) {
  vg_run *r = c->r;
  while (!r->ended) {
    int64_t deadline = 0;
    task t = pick(c, &deadline);
    if (t.node >= 0) {
      pthread_mutex_unlock(&r->mu);
      flush_evs(c);
      run_task(c, t.node, t.n);
      pthread_mutex_lock(&r->mu);
      flush_evs_unlocked(c);
      continue;
    }
    maybe_end(c);
    if (c->nevs) {
      flush_evs_unlocked(c);
      continue;
    }
    if (!r->ended) wait_work(r, deadline);
  }
}

void *vg__worker_main(void *arg) {
  worker *w = arg;
  vg_run *r = w->run;
  wctx c = {.w = w, .r = r};
  vg_status s = ensure_items(&c, max_batch_of(r->g));
  pthread_mutex_lock(&r->mu);
  if (s != VG_OK) {
    fail_run_locked(r, VG_ERR_NO_MEMORY, "out of memory starting a worker");
    while (!r->ended) { /* still take part in ending the run */
      maybe_end(&c);
      if (!r->ended) wait_work(r, 0);
    }
  } else if (w->source >= 0) {
    source_loop(&c);
  } else {
    pool_loop(&c);
  }
  pthread_mutex_unlock(&r->mu);
  flush_evs(&c);
  free(c.evs);
  free(c.items);
  free(c.io);
  free(c.moved);
  return NULL;
}
