/* sched_batch.c - the scheduler's policy: how an instance whose inputs are all there goes on
 * (run, or passed through for interval skips, skipped and end-of-stream packets) and which ready
 * instances a pool worker takes: downstream nodes first, one trip per call unless the node
 * batches, in which case up to max_batch trips of any streams, a partial batch waiting at most
 * max_wait_ms after its oldest trip became ready and going at once when no other trip can still
 * reach the node. Called with the run lock held. */
#include "sched_internal.h"

route vg__route(const vg_run *r, const trip *t, int i) {
  const gnode *n = &r->g->nodes[i];
  bool all_skipped = n->nin > 0, any_eos = false;
  for (int p = 0; p < n->nin; p++) {
    vg_packet *in = vg__trip_input(r, t, i, p);
    if (!in) continue;
    all_skipped = all_skipped && (vg_packet_flags(in) & VG_PACKET_SKIPPED);
    any_eos = any_eos || (vg_packet_flags(in) & VG_PACKET_EOS);
  }
  if (any_eos && !(n->type->flags & VG_NODE_SEES_EOS)) return ROUTE_PASS;
  if (!any_eos && all_skipped && !n->sees_skipped) return ROUTE_PASS;
  if (!any_eos && n->interval > 1 && t->seq % n->interval != 0) return ROUTE_SKIP;
  return ROUTE_RUN;
}

/* Could another trip still reach batching node i (so a partial batch should wait)? */
static bool more_can_arrive(const vg_run *r, int i) {
  const vg_graph *g = r->g;
  for (int s = 0; s < r->nstreams; s++)
    for (const trip *t = r->streams[s].head; t; t = t->snext)
      if (t->inst[i].state == I_PENDING || t->inst[i].state == I_WAIT_ORDER) return true;
  if (r->stop) return false;
  for (int p = 0; p < g->nsources; p++) {
    const vg_node *src = &r->nodes[g->plans[p].source];
    if (!g->plans[p].reached[i] || src->src_eof) continue;
    int ready_here = 0;
    const trip_ring *q = &r->nodes[i].ready;
    for (int k = 0; k < q->count; k++)
      ready_here += vg__ring_at(q, k)->plan == p;
    if (src->inflight < vg__src_window(r, src) || src->inflight > ready_here) return true;
  }
  return false;
}

task vg__pick(wctx *c, int64_t *deadline) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  task job = {-1, 0};
  if (atomic_load(&r->cancel) || r->ended || r->finishing) return job;
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
      int64_t due =
          vg__ring_at(&nd->ready, 0)->inst[i].t_ready_ns + (int64_t)n->max_wait_ms * 1000000;
      if (now < due && more_can_arrive(r, i)) {
        if (*deadline == 0 || due < *deadline) *deadline = due;
        continue;
      }
    }
    for (int b = 0; b < take; b++) {
      trip *t = vg__ring_pop(&nd->ready);
      t->inst[i].state = I_RUNNING;
      c->items[b] = t;
    }
    nd->running++;
    r->running_tasks++;
    job.node = i;
    job.n = take;
    return job;
  }
  return job;
}
