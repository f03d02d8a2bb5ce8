/* sched_flow.c - the trip of one packet through the graph. Every packet a source emits starts a
 * trip: the sub-graph that source reaches (its plan), with one in-degree count and one state per
 * node and a variable store of (node, port) outputs, each released when its last consumer is
 * done. A node whose inputs are all there goes into its ready ring (or is passed through, see
 * vg__route); an ordered node waits until the earlier trips of its stream are past it.
 *
 * The flow runs on a worklist, not by recursion: completing a node queues "ready" steps for the
 * consumers whose in-degree reached zero and for the next trip waiting on an ordered node, and
 * killing one queues "kill" steps for its consumers. The steps are linked through the instances
 * (no allocation, each instance queued at most once) and every queued step holds a reference on
 * its trip, so a trip is freed only when its instances are all done and no step names it. All of
 * this runs under the run lock. */
#include "sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------------- trips */

static trip *trip_alloc(const vg_graph *g) {
  trip *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->inst = calloc((size_t)g->nnodes, sizeof *t->inst);
  t->vars = calloc((size_t)g->nvars + 1, sizeof *t->vars);
  t->var_uses = calloc((size_t)g->nvars + 1, sizeof *t->var_uses);
  t->events = calloc((size_t)g->nnodes, sizeof *t->events);
  if (!t->inst || !t->vars || !t->var_uses || !t->events) {
    free(t->inst);
    free(t->vars);
    free(t->var_uses);
    free(t->events);
    free(t);
    return NULL;
  }
  return t;
}

static void trip_free(vg_run *r, trip *t) {
  const vg_graph *g = r->g;
  for (int v = 0; v < g->nvars; v++)
    if (t->vars[v]) {
      vg_packet_unref(t->vars[v]);
      r->packets_held--;
    }
  for (int i = 0; i < g->nnodes; i++)
    if (t->events[i]) vg_event_destroy(t->events[i]);
  free(t->inst);
  free(t->vars);
  free(t->var_uses);
  free(t->events);
  free(t);
}

static void trip_unlink(vg_run *r, trip *t) {
  stream_slot *s = &r->streams[t->stream_slot];
  if (t->sprev)
    t->sprev->snext = t->snext;
  else
    s->head = t->snext;
  if (t->snext)
    t->snext->sprev = t->sprev;
  else
    s->tail = t->sprev;
  vg_node *src = &r->nodes[r->g->plans[t->plan].source];
  src->inflight--;
  r->frames_in_flight--;
  vg__stream_trip_gone_locked(r, t->stream_slot, t->eos);
}

/* Drops one reference (an instance ended, or a queued step was done); the last ends the trip. */
static void trip_unref(vg_run *r, trip *t) {
  VG_ASSERT(t->refs > 0);
  if (--t->refs > 0) return;
  trip_unlink(r, t);
  if (t->eos)
    ; /* end-of-stream markers are not frames */
  else if (t->dropped)
    r->frames_dropped++;
  else {
    r->frames_done++;
    if (r->frame_lat) vg_latency_add_ns(r->frame_lat, vg_now_ns() - t->t0_ns);
  }
  trip_free(r, t);
  pthread_cond_broadcast(&r->work_cv); /* the source window has room again */
}

void vg__run_teardown_frames(vg_run *r) {
  for (int s = 0; s < r->nstreams; s++) {
    trip *t = r->streams[s].head;
    while (t) {
      trip *next = t->snext;
      trip_unlink(r, t);
      r->frames_dropped++;
      trip_free(r, t);
      t = next;
    }
  }
  for (int i = 0; i < r->nnodes; i++)
    r->nodes[i].ready.count = 0;
}

static void var_release(vg_run *r, trip *t, int v) {
  if (t->vars[v] && --t->var_uses[v] == 0) {
    vg_packet_unref(t->vars[v]);
    t->vars[v] = NULL;
    r->packets_held--;
  }
}

/* A consumer is done with its inputs (ran or died). */
static void release_inputs(vg_run *r, trip *t, int i) {
  const vg_graph *g = r->g;
  const gplan *pl = &g->plans[t->plan];
  for (int p = 0; p < g->nodes[i].nin; p++) {
    int e = pl->port_edge[i * VG_MAX_PORTS + p];
    if (e < 0) continue;
    const gedge *ed = &g->edges[e];
    if (t->inst[ed->from].state == I_DONE)
      var_release(r, t, g->nodes[ed->from].var_base + ed->from_port);
  }
}

vg_packet *vg__trip_input(const vg_run *r, const trip *t, int i, int p) {
  const vg_graph *g = r->g;
  int e = g->plans[t->plan].port_edge[i * VG_MAX_PORTS + p];
  if (e < 0) return NULL;
  const gedge *ed = &g->edges[e];
  return t->vars[g->nodes[ed->from].var_base + ed->from_port];
}

/* ----------------------------------------------------------------------------- the worklist */

/* Queues a step for node i of trip t. An instance already queued is not queued again: a second
 * kill (from another dead producer) is the same step. Ready and kill never meet on one instance:
 * ready needs every producer done, kill comes from a dead one. */
static void push_step(wctx *c, trip *t, int i, uint8_t kind, int from) {
  inst *in = &t->inst[i];
  if (in->step != STEP_NONE) return;
  in->step = kind;
  in->step_from = from;
  in->step_next = NULL;
  t->refs++;
  if (c->wl_tail) {
    c->wl_tail->inst[c->wl_tail_i].step_next = t;
    c->wl_tail->inst[c->wl_tail_i].step_next_i = i;
  } else {
    c->wl_head = t;
    c->wl_head_i = i;
  }
  c->wl_tail = t;
  c->wl_tail_i = i;
}

static bool pop_step(wctx *c, trip **t, int *i) {
  if (!c->wl_head) return false;
  *t = c->wl_head;
  *i = c->wl_head_i;
  const inst *in = &(*t)->inst[*i];
  c->wl_head = in->step_next;
  c->wl_head_i = in->step_next_i;
  if (!c->wl_head) c->wl_tail = NULL;
  return true;
}

/* ----------------------------------------------------------------------------- ordering */

/* Does an earlier trip of the stream still have node i to run? */
static bool earlier_pending(const trip *t, int i) {
  for (const trip *u = t->sprev; u; u = u->sprev)
    if (u->inst[i].state != I_UNREACHED && !vg__terminal(u->inst[i].state)) return true;
  return false;
}

/* After an instance of ordered node i ended in trip t: the next trip waiting for it may go. */
static void advance_order(wctx *c, trip *t, int i) {
  for (trip *u = t->snext; u; u = u->snext) {
    uint8_t st = u->inst[i].state;
    if (st == I_UNREACHED || vg__terminal(st)) continue;
    if (st == I_WAIT_ORDER && !earlier_pending(u, i)) {
      u->inst[i].state = I_PENDING;
      push_step(c, u, i, STEP_READY, -1);
    }
    return;
  }
}

static void inst_terminal(wctx *c, trip *t, int i) {
  if (c->r->g->nodes[i].ordered) advance_order(c, t, i);
  trip_unref(c->r, t);
}

/* ----------------------------------------------------------------------------- steps */

/* Node i will not run for trip t: an input will never come, or the node dropped the trip. Its
 * consumers get kill steps. */
static void kill_inst(wctx *c, trip *t, int i, const char *reason) {
  uint8_t st = t->inst[i].state;
  if (st == I_UNREACHED || vg__terminal(st)) return;
  const vg_graph *g = c->r->g;
  const gnode *n = &g->nodes[i];
  const gplan *pl = &g->plans[t->plan];
  t->inst[i].state = I_DEAD;
  t->dropped = true;
  if (st != I_RUNNING)
    vg__defer_ev(c, i, VG_NODE_CANCELED, t->stream_id, t->frame_no, false, false, reason);
  for (int k = 0; k < n->nout_edges; k++) {
    int to = g->edges[n->out_edges[k]].to;
    uint8_t tst = t->inst[to].state;
    if (pl->live[n->out_edges[k]] && tst != I_UNREACHED && !vg__terminal(tst))
      push_step(c, t, to, STEP_KILL, i);
  }
  release_inputs(c->r, t, i);
  inst_terminal(c, t, i);
}

/* Publishes the outputs of node i (owned references, entries may be NULL); consumers whose
 * in-degree reaches zero get ready steps, those on a port that got nothing are killed. */
static void complete_inst(wctx *c, trip *t, int i, vg_packet **outs) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *n = &g->nodes[i];
  const gplan *pl = &g->plans[t->plan];
  t->inst[i].state = I_DONE;
  bool filtered = false;
  for (int p = 0; p < n->nout; p++) {
    if (!outs[p]) continue;
    int uses = 0;
    for (int k = 0; k < n->nout_edges; k++) {
      const gedge *e = &g->edges[n->out_edges[k]];
      if (e->from_port == p && pl->live[n->out_edges[k]] && !vg__terminal(t->inst[e->to].state))
        uses++;
    }
    int v = n->var_base + p;
    if (uses == 0) {
      vg_packet_unref(outs[p]);
      continue;
    }
    t->vars[v] = outs[p];
    t->var_uses[v] = uses;
    if (++r->packets_held > r->peak_packets) r->peak_packets = r->packets_held;
  }
  for (int k = 0; k < n->nout_edges; k++) {
    int e = n->out_edges[k];
    const gedge *ed = &g->edges[e];
    if (!pl->live[e] || t->inst[ed->to].state != I_PENDING) continue;
    if (!outs[ed->from_port]) {
      char why[128];
      snprintf(why, sizeof why, "no input: '%s' sent nothing on '%s'", n->id,
               n->type->outputs[ed->from_port].name);
      filtered = true;
      kill_inst(c, t, ed->to, why);
    } else if (--t->inst[ed->to].indeg == 0) {
      push_step(c, t, ed->to, STEP_READY, -1);
    }
  }
  if (filtered) {
    r->nodes[i].filtered++;
    t->dropped = true;
  }
  release_inputs(r, t, i);
  inst_terminal(c, t, i);
}

/* Passes the first input through to every output without calling the node (see route). */
static void pass_through(wctx *c, trip *t, int i, bool mark_skipped) {
  vg_run *r = c->r;
  const gnode *n = &r->g->nodes[i];
  vg_packet *in = NULL, *outs[VG_MAX_PORTS] = {0};
  for (int p = 0; p < n->nin && !in; p++)
    in = vg__trip_input(r, t, i, p);
  vg_packet *fwd = NULL;
  if (in && mark_skipped && n->nout > 0) {
    if (vg_packet_derive(in, &fwd) != VG_OK) {
      char msg[400];
      snprintf(msg, sizeof msg, "node '%s' (%s): %s", n->id, n->type->name, vg_last_error());
      vg__fail_run_locked(r, VG_ERR_NO_MEMORY, msg);
      t->inst[i].state = I_READY; /* fall back to dispatch; the run is failing anyway */
      kill_inst(c, t, i, "out of memory");
      return;
    }
    vg_packet_set_flags(fwd, vg_packet_flags(in) | VG_PACKET_SKIPPED);
  } else if (in && n->nout > 0) {
    fwd = vg_packet_ref(in);
  }
  for (int p = 0; p < n->nout && fwd; p++)
    outs[p] = p == 0 ? fwd : vg_packet_ref(fwd);
  r->nodes[i].skipped += mark_skipped;
  vg__defer_ev(c, i, VG_NODE_SUCCEEDED, t->stream_id, t->frame_no, true, false,
               mark_skipped ? "interval" : NULL);
  complete_inst(c, t, i, outs);
}

/* All inputs of node i in trip t are there. */
static void make_ready(wctx *c, trip *t, int i) {
  vg_run *r = c->r;
  if (r->g->nodes[i].ordered && earlier_pending(t, i)) {
    t->inst[i].state = I_WAIT_ORDER;
    return;
  }
  switch (vg__route(r, t, i)) {
  case ROUTE_PASS:
    pass_through(c, t, i, false);
    return;
  case ROUTE_SKIP:
    pass_through(c, t, i, true);
    return;
  case ROUTE_RUN:
    break;
  }
  t->inst[i].state = I_READY;
  t->inst[i].t_ready_ns = vg_now_ns();
  vg__ring_push(&r->nodes[i].ready, t);
  if (r->nodes[i].ready.count > r->nodes[i].ready_peak)
    r->nodes[i].ready_peak = r->nodes[i].ready.count;
  pthread_cond_broadcast(&r->work_cv);
}

/* Does the queued steps, oldest first, until none is left. */
static void drain(wctx *c) {
  const vg_graph *g = c->r->g;
  trip *t;
  int i;
  while (pop_step(c, &t, &i)) {
    inst *in = &t->inst[i];
    uint8_t kind = in->step;
    in->step = STEP_NONE;
    if (kind == STEP_READY && in->state == I_PENDING) {
      make_ready(c, t, i);
    } else if (kind == STEP_KILL) {
      char why[128];
      snprintf(why, sizeof why, "upstream '%s' did not produce this frame",
               g->nodes[in->step_from].id);
      kill_inst(c, t, i, why);
    }
    trip_unref(c->r, t); /* the step's reference */
  }
}

/* ----------------------------------------------------------------------------- entry points */

void vg__trip_complete(wctx *c, trip *t, int i, vg_packet **outs) {
  complete_inst(c, t, i, outs);
  drain(c);
}

void vg__trip_kill(wctx *c, trip *t, int i, const char *reason) {
  kill_inst(c, t, i, reason);
  drain(c);
}

void vg__trip_admit(wctx *c, int src, vg_packet **outs) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *n = &g->nodes[src];
  vg_packet *first = NULL;
  for (int p = 0; p < n->nout && !first; p++)
    first = outs[p];
  char msg[400];
  int slot = first ? vg__stream_open_locked(r, vg_packet_stream(first), src) : -1;
  vg_status st = slot < 0 ? vg_last_status() : VG_ERR_NO_MEMORY;
  trip *t = first && slot >= 0 ? trip_alloc(g) : NULL;
  if (!t) {
    for (int p = 0; p < n->nout; p++)
      vg_packet_unref(outs[p]);
    if (!first) return; /* nothing this time */
    snprintf(msg, sizeof msg, "node '%s' (%s): %s", n->id, n->type->name,
             slot < 0 ? vg_last_error() : "out of memory for a frame");
    vg__fail_run_locked(r, st, msg);
    return;
  }
  stream_slot *s = &r->streams[slot];
  t->plan = g->plan_of[src];
  t->stream_slot = slot;
  t->stream_id = vg_packet_stream(first);
  t->frame_no = vg_packet_frame_no(first);
  t->eos = (vg_packet_flags(first) & VG_PACKET_EOS) != 0;
  t->ss = s->ss;
  if (!t->eos) s->ended = false; /* a stream that goes on after its end stays open */
  /* End-to-end latency starts at the frame's capture (the source stamps decode/arrival time on
   * the monotonic clock), or here when the packet carries none; never before the run started
   * (a file source reads ahead while the models load and warm up: that is start-up, not the
   * latency of a frame). */
  int64_t now = vg_now_ns(), cap = vg_packet_t_capture_ns(first);
  if (cap > 0 && cap < r->t_start_ns) cap = r->t_start_ns;
  t->t0_ns = cap > 0 && cap <= now ? cap : now;
  t->seq = s->next_seq++;
  t->sprev = s->tail;
  if (s->tail)
    s->tail->snext = t;
  else
    s->head = t;
  s->tail = t;
  const gplan *pl = &g->plans[t->plan];
  for (int i = 0; i < g->nnodes; i++) {
    if (!pl->reached[i]) continue;
    t->inst[i].state = I_PENDING;
    t->inst[i].indeg = (int16_t)pl->indeg[i];
  }
  t->refs = pl->nreached;
  r->nodes[src].inflight++;
  if (!t->eos) r->frames_in++;
  if (++r->frames_in_flight > (int)r->peak_frames) r->peak_frames = (uint64_t)r->frames_in_flight;
  vg__trip_complete(c, t, src, outs);
}
