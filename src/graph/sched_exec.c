/* sched_exec.c - calling a node: a source once (its packets become a trip) or a task of one or
 * more ready trips. Before the call, inputs are made ready on the node's device: producers' CUDA
 * events are waited on, and what a port needs (the picture for FRAME, tensors for TENSOR) is
 * copied to the node's device and counted (copies_to_device, copies_to_host, and
 * frame_copies_to_host for pictures); after a call on a CUDA stream an event is recorded per trip
 * for consumers elsewhere. Then the results are published under the run lock.
 *
 * Lock: vg__exec_source and vg__exec_task are called without the run lock and return without it;
 * node code runs unlocked, and each takes the lock once, to publish. */
#include "sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vg_status vg__exec_reserve(wctx *c, int n) {
  if (n <= c->items_cap) return VG_OK;
  trip **items = realloc(c->items, (size_t)n * sizeof *items);
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
/* One copy the scheduler made for node n: counted for the run and for the node. */
static void count_copy(vg_run *r, const gnode *n, uint64_t bytes) {
  vg_node *nd = &r->nodes[n - r->g->nodes];
  atomic_fetch_add(&r->copy_bytes, bytes);
  vg_node_stat_add(nd, VG_STAT_COPIES, 1);
  vg_node_stat_add(nd, VG_STAT_COPY_BYTES, bytes);
}

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
      count_copy(r, n, vg_buffer_size(nf.buffer));
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
      count_copy(r, n, vg_tensor_nbytes(&nt));
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

/* Fills c->io for the task's trips: inputs (waiting on producers' CUDA events, copied across
 * devices as needed). Runs without the lock: the variables are kept alive by their use counts. */
static vg_status prepare_inputs(wctx *c, int i, int n) {
  vg_run *r = c->r;
  const vg_graph *g = r->g;
  const gnode *gn = &g->nodes[i];
  const gplan *pl;
  memset(c->moved, 0, (size_t)n * VG_MAX_PORTS * sizeof *c->moved);
  for (int b = 0; b < n; b++) {
    trip *t = c->items[b];
    pl = &g->plans[t->plan];
    memset(&c->io[b], 0, sizeof c->io[b]);
    for (int p = 0; p < gn->nin; p++) {
      int e = pl->port_edge[i * VG_MAX_PORTS + p];
      if (e < 0) continue;
      vg_event ev = t->events[g->edges[e].from];
      if (ev) {
        VG_TRY(c->w->device.kind == VG_DEVICE_CUDA ? vg_stream_wait_event(c->w->stream, ev)
                                                   : vg_event_sync(ev));
      }
      vg_packet *in = vg__trip_input(r, t, i, p);
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

/* After a call on a CUDA stream: an event per trip for consumers on other streams. */
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

/* Calls source i once. Called without the lock; returns without it. */
void vg__exec_source(wctx *c, int i) {
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
  const vg_packet *first = NULL;
  for (int p = 0; p < nd->g->nout && !first; p++)
    first = io.out[p];
  int stream_id = first ? vg_packet_stream(first) : 0;
  int64_t frame_no = first ? vg_packet_frame_no(first) : -1;
  const gplan *pl = &r->g->plans[r->g->plan_of[i]];
  if (s == VG_OK && first) {
    vg_latency_add_ns(nd->lat, t1 - t0);
    if (r->opt.on_event) {
      /* Pending before the trip is admitted, so that no node's Running can precede it */
      vg__emit(r, i, VG_NODE_SUCCEEDED, stream_id, frame_no, t1 - t0, false, false, NULL, first);
      for (int k = 0; k < r->nnodes; k++)
        if (k != i && pl->reached[k])
          vg__emit(r, k, VG_NODE_PENDING, stream_id, frame_no, 0, false, false, NULL, NULL);
    }
  }
  pthread_mutex_lock(&r->mu);
  nd->running--;
  r->running_tasks--;
  nd->src_busy = false;
  nd->calls++;
  if (s == VG_OK && first) {
    nd->frames++;
    if (atomic_load(&r->cancel)) {
      for (int p = 0; p < nd->g->nout; p++)
        vg_packet_unref(io.out[p]);
      for (int k = 0; k < r->nnodes; k++)
        if (k != i && pl->reached[k])
          vg__defer_ev(c, k, VG_NODE_CANCELED, stream_id, frame_no, false, false, "run canceled");
    } else {
      vg__trip_admit(c, i, io.out);
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
        vg__fail_run_locked(r, s, msg);
    }
  }
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->mu);
}

/* Calls node i on the trips c->items[0..n) (marked running by vg__pick). Called without the
 * lock; returns without it. */
void vg__exec_task(wctx *c, int i, int n) {
  vg_run *r = c->r;
  vg_node *nd = &r->nodes[i];
  const gnode *gn = nd->g;
  int64_t t0 = vg_now_ns();
  for (int b = 0; b < n; b++) {
    trip *t = c->items[b];
    vg_latency_add_ns(nd->wait, t0 - t->inst[i].t_ready_ns);
    if (r->opt.on_event)
      vg__emit(r, i, VG_NODE_RUNNING, t->stream_id, t->frame_no, 0, false, false, NULL, NULL);
  }
  vg_status s = prepare_inputs(c, i, n);
  for (int b = 0; b < n && s == VG_OK; b++)
    s = vg__stream_state(r, i, c->items[b], &c->io[b].stream_state);
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
    vg__emit(r, i, s == VG_OK ? VG_NODE_SUCCEEDED : VG_NODE_FAILED, c->items[b]->stream_id,
             c->items[b]->frame_no, t1 - t0, false, drop, s == VG_OK ? NULL : msg,
             s == VG_OK ? c->io[b].out[0] : NULL);
  pthread_mutex_lock(&r->mu);
  nd->running--;
  r->running_tasks--;
  nd->calls++;
  nd->batch_items += (uint64_t)n;
  if (s == VG_OK) {
    nd->frames += (uint64_t)n;
    for (int b = 0; b < n; b++)
      vg__trip_complete(c, c->items[b], i, c->io[b].out);
  } else {
    nd->errors++;
    snprintf(nd->last_error, sizeof nd->last_error, "%s", msg);
    if (drop)
      nd->dropped += (uint64_t)n;
    else
      vg__fail_run_locked(r, s, msg);
    for (int b = 0; b < n; b++) {
      for (int p = 0; p < gn->nout; p++)
        vg_packet_unref(c->io[b].out[p]);
      vg__trip_kill(c, c->items[b], i, msg);
    }
  }
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->mu);
}
