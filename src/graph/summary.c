/* summary.c - run summaries: frames, wall time, fps, the per-node latency table, copies, drops
 * and errors, as a struct and as JSON (jansson; texts through vg_json_text, so a message cut
 * inside a UTF-8 character by a fixed buffer is repaired instead of losing the document). */
#include "graph_internal.h"

#include "core/json_out.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void node_metrics(vg_run *r, int i, vg_node_metrics *m) {
  const vg_node *n = &r->nodes[i];
  const gnode *g = n->g;
  snprintf(m->id, sizeof m->id, "%s", g->id);
  snprintf(m->type, sizeof m->type, "%s", g->type->name);
  m->device = g->device;
  m->frames = n->frames;
  m->calls = n->calls;
  m->errors = n->errors;
  m->dropped = n->dropped;
  m->filtered = n->filtered;
  m->skipped = n->skipped;
  m->copies = vg_node_stat_get(n, VG_STAT_COPIES);
  m->copy_bytes = vg_node_stat_get(n, VG_STAT_COPY_BYTES);
  m->mean_batch = n->calls && !g->source ? (double)n->batch_items / (double)n->calls : 1.0;
  vg_latency_summarize(n->lat, &m->latency);
  vg_latency_summarize(n->wait, &m->queue_wait);
  m->queued = n->ready.count;
  m->queued_peak = n->ready_peak;
  m->running = n->running;
  snprintf(m->last_error, sizeof m->last_error, "%s", n->last_error);
  snprintf(m->fallback, sizeof m->fallback, "%s", g->fallback);
}

/* The type's own counters go into the node's detail object, beside what describe() said. */
static void add_named_stats(const vg_node *n, char **detail) {
  const vg_node_type *t = n->g->type;
  if (!t->stats[0]) return;
  json_t *o = *detail ? json_loads(*detail, 0, NULL) : json_object();
  if (!o || !json_is_object(o)) {
    json_decref(o);
    return;
  }
  for (int k = 0; k < VG_NODE_MAX_STATS && t->stats[k]; k++)
    json_object_set_new(o, t->stats[k],
                        json_integer((json_int_t)vg_node_stat_get(n, VG_STAT_NODE0 + k)));
  char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (!text) return;
  free(*detail);
  *detail = text;
}

vg_status vg_run_get_summary(vg_run *r, vg_run_summary *out) {
  memset(out, 0, sizeof *out);
  out->nodes = calloc((size_t)r->nnodes, sizeof *out->nodes);
  if (!out->nodes) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a run summary");
  pthread_mutex_lock(&r->mu);
  out->state = r->state;
  out->status = r->state == VG_RUN_SUCCEEDED ? VG_OK : r->status;
  snprintf(out->error, sizeof out->error, "%s", r->state == VG_RUN_SUCCEEDED ? "" : r->error);
  out->frames_in = r->frames_in;
  out->frames_done = r->frames_done;
  out->frames_dropped = r->frames_dropped;
  int64_t end = r->ended ? r->t_end_ns : vg_now_ns();
  out->wall_ms = r->t_start_ns ? (double)(end - r->t_start_ns) / 1e6 : 0.0;
  out->fps = out->wall_ms > 0 ? (double)out->frames_done * 1000.0 / out->wall_ms : 0.0;
  out->copies_to_device = atomic_load(&r->copies_to_device);
  out->copies_to_host = atomic_load(&r->copies_to_host);
  out->frame_copies_to_host = atomic_load(&r->frame_copies_to_host);
  out->copy_bytes = atomic_load(&r->copy_bytes);
  if (r->frame_lat) vg_latency_summarize(r->frame_lat, &out->frame_latency);
  out->peak_frames_in_flight = r->peak_frames;
  out->peak_packets_held = r->peak_packets;
  out->workers = r->ncpu_workers;
  out->cuda_streams = r->cuda_streams;
  out->nnodes = r->nnodes;
  for (int i = 0; i < r->nnodes; i++)
    node_metrics(r, i, &out->nodes[i]);
  pthread_mutex_unlock(&r->mu);
  /* describe() runs outside the run lock: nodes protect their own state. */
  for (int i = 0; i < r->nnodes; i++) {
    const vg_node *n = &r->nodes[i];
    if (n->inited && n->g->type->describe) out->nodes[i].detail = n->g->type->describe(n->state);
    if (n->inited) add_named_stats(n, &out->nodes[i].detail);
  }
  return VG_OK;
}

void vg_run_summary_free(vg_run_summary *s) {
  if (!s) return;
  for (int i = 0; s->nodes && i < s->nnodes; i++)
    free(s->nodes[i].detail);
  free(s->nodes);
  s->nodes = NULL;
  s->nnodes = 0;
}

static json_t *latency_json(const vg_latency_summary *l) {
  return json_pack("{s:I,s:f,s:f,s:f,s:f}", "count", (json_int_t)l->count, "mean_ms", l->mean_ms,
                   "p50_ms", l->p50_ms, "p99_ms", l->p99_ms, "max_ms", l->max_ms);
}

static json_t *node_json(const vg_node_metrics *m) {
  char dev[32];
  json_t *o = json_pack("{s:o,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "id", vg_json_text(m->id),
                        "type", vg_json_text(m->type), "device",
                        vg_device_str(m->device, dev, sizeof dev), "frames", (json_int_t)m->frames,
                        "calls", (json_int_t)m->calls, "errors", (json_int_t)m->errors, "dropped",
                        (json_int_t)m->dropped, "filtered", (json_int_t)m->filtered, "skipped",
                        (json_int_t)m->skipped, "mean_batch", m->mean_batch);
  if (!o) return NULL;
  json_object_set_new(o, "latency", latency_json(&m->latency));
  json_object_set_new(o, "queue_wait", latency_json(&m->queue_wait));
  json_object_set_new(o, "queued", json_integer(m->queued));
  json_object_set_new(o, "queued_peak", json_integer(m->queued_peak));
  json_object_set_new(o, "running", json_integer(m->running));
  json_object_set_new(o, "copies", json_integer((json_int_t)m->copies));
  json_object_set_new(o, "copy_bytes", json_integer((json_int_t)m->copy_bytes));
  if (m->last_error[0]) json_object_set_new(o, "last_error", vg_json_text(m->last_error));
  if (m->fallback[0]) json_object_set_new(o, "fallback", vg_json_text(m->fallback));
  if (m->detail) {
    json_t *d = json_loads(m->detail, 0, NULL);
    if (d) json_object_set_new(o, "detail", d);
  }
  return o;
}

char *vg_run_summary_json(const vg_run_summary *s) {
  json_t *o = json_pack(
      "{s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i}", "state",
      vg_run_state_name(s->state), "status", vg_status_name(s->status), "frames_in",
      (json_int_t)s->frames_in, "frames_done", (json_int_t)s->frames_done, "frames_dropped",
      (json_int_t)s->frames_dropped, "wall_ms", s->wall_ms, "fps", s->fps, "copies_to_device",
      (json_int_t)s->copies_to_device, "copies_to_host", (json_int_t)s->copies_to_host,
      "frame_copies_to_host", (json_int_t)s->frame_copies_to_host, "copy_bytes",
      (json_int_t)s->copy_bytes, "peak_frames_in_flight", (json_int_t)s->peak_frames_in_flight,
      "peak_packets_held", (json_int_t)s->peak_packets_held, "workers", s->workers, "cuda_streams",
      s->cuda_streams);
  if (!o) return NULL;
  if (s->error[0]) json_object_set_new(o, "error", vg_json_text(s->error));
  json_object_set_new(o, "frame_latency", latency_json(&s->frame_latency));
  json_t *nodes = json_array();
  for (int i = 0; nodes && i < s->nnodes; i++)
    json_array_append_new(nodes, node_json(&s->nodes[i]));
  json_object_set_new(o, "nodes", nodes);
  char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return text;
}
