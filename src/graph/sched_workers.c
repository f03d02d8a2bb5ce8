/* sched_workers.c - the scheduler's threads and the end of a run. Every source has its own
 * thread (a live source may block for its next picture without holding a pool worker) that runs
 * it while its window of trips in flight has room; pool workers (CPU threads, and per CUDA
 * device one thread per stream) take ready tasks of their device. Workers that find nothing to
 * do check whether the run is over (every source ended and every trip done: flush the nodes in
 * topological order; or canceled: tear the trips down) and otherwise wait, never longer than
 * IDLE_WAKE_MS. Events decided under the run lock are deferred and delivered after it, and so
 * is the destruction of closed streams' state (sched_streams.c). */
#include "sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define IDLE_WAKE_MS 200 /* every wait is bounded: workers re-check at least this often */

/* ----------------------------------------------------------------------------- events */

void vg__defer_ev(wctx *c, int node, vg_node_state st, int stream_id, int64_t frame_no,
                  bool skipped, bool dropped, const char *msg) {
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
  e->stream_id = stream_id;
  e->frame_no = frame_no;
  e->skipped = skipped;
  e->dropped = dropped;
  snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "");
}

/* Delivers the deferred events and destroys the state of closed streams. Called without the
 * lock. */
static void flush_evs(wctx *c) {
  vg__streams_reap(c->r);
  for (int i = 0; i < c->nevs; i++) {
    pending_ev *e = &c->evs[i];
    vg__emit(c->r, e->node, e->state, e->stream_id, e->frame_no, 0, e->skipped, e->dropped,
             e->msg[0] ? e->msg : NULL, NULL);
  }
  c->nevs = 0;
}

/* flush_evs, called with the lock held, which it drops meanwhile. */
static void flush_evs_locked(wctx *c) {
  if (!c->nevs && !atomic_load(&c->r->nretired)) return;
  pthread_mutex_unlock(&c->r->mu);
  flush_evs(c);
  pthread_mutex_lock(&c->r->mu);
}

/* ----------------------------------------------------------------------------- run ending */

void vg__fail_run_locked(vg_run *r, vg_status s, const char *msg) {
  if (r->status == VG_OK || r->status == VG_ERR_CANCELED) {
    r->status = s == VG_OK ? VG_ERR_INTERNAL : s;
    snprintf(r->error, sizeof r->error, "%s", msg);
  }
  atomic_store(&r->cancel, true);
  pthread_cond_broadcast(&r->work_cv);
}

static void end_run_locked(vg_run *r, vg_run_state st) {
  r->state = st;
  r->ended = true;
  r->t_end_ns = vg_now_ns();
  pthread_cond_broadcast(&r->done_cv);
  pthread_cond_broadcast(&r->work_cv);
}

/* Emits Canceled for every instance still waiting in the trips being torn down. */
static void cancel_events_locked(wctx *c) {
  vg_run *r = c->r;
  for (int s = 0; s < r->nstreams; s++)
    for (trip *t = r->streams[s].head; t; t = t->snext)
      for (int i = 0; i < r->nnodes; i++)
        if (t->inst[i].state != I_UNREACHED && !vg__terminal(t->inst[i].state))
          vg__defer_ev(c, i, VG_NODE_CANCELED, t->stream_id, t->frame_no, false, false,
                       "run canceled");
}

static bool sources_done(const vg_run *r) {
  for (int p = 0; p < r->g->nsources; p++) {
    const vg_node *src = &r->nodes[r->g->plans[p].source];
    if (!src->src_eof && !r->stop) return false;
  }
  return true;
}

/* Called with the lock held (dropped while nodes flush) when a worker found nothing to do: ends
 * the run if it is over and no other worker is ending it. */
static void maybe_end_locked(wctx *c) {
  vg_run *r = c->r;
  if (r->ended || r->finishing || r->running_tasks > 0) return;
  if (atomic_load(&r->cancel)) {
    cancel_events_locked(c);
    vg__run_teardown_frames(r);
    end_run_locked(r, r->status == VG_ERR_CANCELED || r->status == VG_OK ? VG_RUN_CANCELED
                                                                         : VG_RUN_FAILED);
    return;
  }
  if (!sources_done(r) || r->frames_in_flight > 0) return;
  r->finishing = true;
  vg__streams_close_idle_locked(r); /* every stream ends with the run, before the nodes flush */
  pthread_mutex_unlock(&r->mu);
  vg__streams_reap(r);
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

/* Waits for work until deadline (0: none), at most IDLE_WAKE_MS. Called with the lock held. */
static void wait_work_locked(vg_run *r, int64_t deadline) {
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

/* A source may run when its window of trips in flight has room. */
static bool source_can_run(const vg_run *r, int i) {
  const vg_node *nd = &r->nodes[i];
  return !atomic_load(&r->cancel) && !r->ended && !r->finishing && !r->stop && !nd->src_eof &&
         !nd->src_busy && nd->inflight < vg__src_window(r, nd);
}

/* Loop of a source thread: emit while the window has room. Called with the lock held. */
static void source_loop_locked(wctx *c) {
  vg_run *r = c->r;
  int i = c->w->source;
  while (!r->ended) {
    if (source_can_run(r, i)) {
      r->nodes[i].src_busy = true;
      r->nodes[i].running++;
      r->running_tasks++;
      pthread_mutex_unlock(&r->mu);
      vg__exec_source(c, i);
      flush_evs(c);
      pthread_mutex_lock(&r->mu);
      continue;
    }
    maybe_end_locked(c);
    flush_evs_locked(c);
    if (!r->ended) wait_work_locked(r, 0);
  }
}

/* Loop of a pool worker (CPU thread or CUDA stream). Called with the lock held. */
static void pool_loop_locked(wctx *c) {
  vg_run *r = c->r;
  while (!r->ended) {
    int64_t deadline = 0;
    task job = vg__pick(c, &deadline);
    if (job.node >= 0) {
      pthread_mutex_unlock(&r->mu);
      flush_evs(c);
      vg__exec_task(c, job.node, job.n);
      flush_evs(c);
      pthread_mutex_lock(&r->mu);
      continue;
    }
    maybe_end_locked(c);
    if (c->nevs) {
      flush_evs_locked(c);
      continue;
    }
    if (!r->ended) wait_work_locked(r, deadline);
  }
}

void *vg__worker_main(void *arg) {
  worker *w = arg;
  vg_run *r = w->run;
  wctx c = {.w = w, .r = r};
  vg_status s = vg__exec_reserve(&c, max_batch_of(r->g));
  pthread_mutex_lock(&r->mu);
  if (s != VG_OK) {
    vg__fail_run_locked(r, VG_ERR_NO_MEMORY, "out of memory starting a worker");
    while (!r->ended) { /* still take part in ending the run */
      maybe_end_locked(&c);
      if (!r->ended) wait_work_locked(r, 0);
    }
  } else if (w->source >= 0) {
    source_loop_locked(&c);
  } else {
    pool_loop_locked(&c);
  }
  pthread_mutex_unlock(&r->mu);
  flush_evs(&c);
  free(c.evs);
  free(c.items);
  free(c.io);
  free(c.moved);
  return NULL;
}
