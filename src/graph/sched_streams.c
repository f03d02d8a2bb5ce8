/* sched_streams.c - the streams of a run and the nodes' per-stream state. A stream opens with
 * its first packet (a slot: its trips in flight, for ordering, and one state block per node
 * type that declares a stream_state_size) and closes when its end-of-stream packet has gone
 * through the graph, or at the end of the run; at most VG_GRAPH_MAX_STREAMS are open at once.
 *
 * A node's block is created on the node's first call for the stream (stream_init runs then,
 * outside the run lock, on the worker that calls the node) and destroyed when the stream
 * closes: the closed stream's set of blocks goes on the run's retired list under the lock and
 * a worker destroys it after releasing the lock (stream_destroy may finish a file), before the
 * nodes flush at the end of a run, and at teardown. Every block is destroyed exactly once. */
#include "sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does any node of the graph keep per-stream state? */
static bool any_stream_state(const vg_run *r) {
  for (int i = 0; i < r->nnodes; i++)
    if (r->g->nodes[i].type->stream_state_size) return true;
  return false;
}

static void close_slot_locked(vg_run *r, int s);

/* Grows node i's ready ring to hold every trip that can wait there: the windows of the sources
 * that reach it (they grow as their streams open), + 1. Items keep their order. */
vg_status vg__ring_fit(vg_run *r, int i) {
  const vg_graph *g = r->g;
  int need = 1;
  for (int p = 0; p < g->nsources; p++)
    if (g->plans[p].reached[i]) need += vg__src_window(r, &r->nodes[g->plans[p].source]);
  trip_ring *q = &r->nodes[i].ready;
  if (q->cap >= need) return VG_OK;
  trip **items = malloc((size_t)need * sizeof *items);
  if (!items)
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for the queue of node '%s' (%d frames)",
                        g->nodes[i].id, need);
  for (int k = 0; k < q->count; k++)
    items[k] = vg__ring_at(q, k);
  free(q->items);
  q->items = items;
  q->cap = need;
  q->head = 0;
  return VG_OK;
}

int vg__stream_open_locked(vg_run *r, int stream_id, int source) {
  int free_slot = -1;
  for (int s = 0; s < r->nstreams; s++) {
    if (r->streams[s].used && r->streams[s].stream_id == stream_id) return s;
    if (!r->streams[s].used && free_slot < 0) free_slot = s;
  }
  if (r->nopen == VG_GRAPH_MAX_STREAMS) {
    vg_set_error(VG_ERR_UNSUPPORTED,
                 "too many streams: stream %d cannot open, %d are open in this run (the most, "
                 "VG_GRAPH_MAX_STREAMS); a stream closes after its end-of-stream packet",
                 stream_id, VG_GRAPH_MAX_STREAMS);
    return -1;
  }
  if (free_slot < 0) {
    if (r->nstreams % 16 == 0) {
      stream_slot *ns = realloc(r->streams, (size_t)(r->nstreams + 16) * sizeof *ns);
      if (!ns) {
        vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening stream %d", stream_id);
        return -1;
      }
      r->streams = ns;
    }
    free_slot = r->nstreams++;
  }
  stream_slot *s = &r->streams[free_slot];
  memset(s, 0, sizeof *s);
  if (any_stream_state(r)) {
    s->ss = calloc(1, sizeof *s->ss + (size_t)r->nnodes * sizeof s->ss->of[0]);
    if (!s->ss) {
      vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening stream %d", stream_id);
      return -1;
    }
    s->ss->stream_id = stream_id;
  }
  s->stream_id = stream_id;
  s->source = source;
  s->used = true;
  r->nopen++;
  /* the source's window grows by one queue_size: so must the queues of the nodes it reaches */
  r->nodes[source].src_streams++;
  for (int i = 0; i < r->nnodes; i++) {
    if (!r->g->plans[r->g->plan_of[source]].reached[i]) continue;
    if (vg__ring_fit(r, i) != VG_OK) {
      close_slot_locked(r, free_slot);
      return -1;
    }
  }
  return free_slot;
}

/* Closes slot s (no trip of it in flight): its blocks go to the retired list. Lock held. */
static void close_slot_locked(vg_run *r, int s) {
  stream_slot *sl = &r->streams[s];
  if (sl->ss) {
    sl->ss->next = r->retired;
    r->retired = sl->ss;
    atomic_fetch_add(&r->nretired, 1);
  }
  r->nodes[sl->source].src_streams--;
  memset(sl, 0, sizeof *sl);
  r->nopen--;
}

void vg__stream_trip_gone_locked(vg_run *r, int s, bool eos) {
  stream_slot *sl = &r->streams[s];
  if (eos) sl->ended = true;
  if (sl->ended && !sl->head) close_slot_locked(r, s);
}

void vg__streams_close_idle_locked(vg_run *r) {
  for (int s = 0; s < r->nstreams; s++)
    if (r->streams[s].used && !r->streams[s].head) close_slot_locked(r, s);
}

static void destroy_block(vg_run *r, int i, void *block) {
  vg_node *nd = &r->nodes[i];
  if (nd->g->type->stream_destroy) nd->g->type->stream_destroy(nd, nd->state, block);
  free(block);
}

static void destroy_set(vg_run *r, stream_states *ss) {
  for (int i = 0; i < r->nnodes; i++)
    if (ss->of[i]) destroy_block(r, i, ss->of[i]);
  free(ss);
}

void vg__streams_reap(vg_run *r) {
  if (atomic_load(&r->nretired) == 0) return;
  pthread_mutex_lock(&r->mu);
  stream_states *list = r->retired;
  r->retired = NULL;
  atomic_store(&r->nretired, 0);
  pthread_mutex_unlock(&r->mu);
  while (list) {
    stream_states *next = list->next;
    destroy_set(r, list);
    list = next;
  }
}

vg_status vg__stream_state(vg_run *r, int i, trip *t, void **out) {
  const vg_node_type *type = r->g->nodes[i].type;
  *out = NULL;
  if (!type->stream_state_size || !t->ss) return VG_OK;
  if (t->ss->of[i]) {
    *out = t->ss->of[i];
    return VG_OK;
  }
  void *block = calloc(1, type->stream_state_size);
  if (!block) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for stream %d", t->stream_id);
  vg_node *nd = &r->nodes[i];
  vg_status s = type->stream_init ? type->stream_init(nd, nd->state, block, t->stream_id) : VG_OK;
  if (s != VG_OK) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    destroy_block(r, i, block);
    return vg_set_error(s, "%s", msg); /* destroy may have set another message */
  }
  t->ss->of[i] = block;
  *out = block;
  return VG_OK;
}

void vg__streams_free(vg_run *r) {
  for (int s = 0; s < r->nstreams; s++)
    if (r->streams[s].used) close_slot_locked(r, s);
  vg__streams_reap(r);
  free(r->streams);
  r->streams = NULL;
  r->nstreams = 0;
}
