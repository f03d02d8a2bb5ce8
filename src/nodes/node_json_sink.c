/* node_json_sink.c - writes one JSON line per frame (stream, frame, pts, skipped, objects) to a
 * file or to stdout ("-"). Frames of each stream are written in order, one at a time. Lines go
 * through src/core/json_out (vg_jsonl): texts that are not UTF-8 are repaired, and a full disk
 * leaves the file at its last whole line. */
#include "vidgraph/vg_graph.h"

#include "core/json_out.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_sink {
  const char *path;
  bool append, flush;
  vg_jsonl *out;
} json_sink;

static const vg_param k_params[] = {
    VG_P_STRING(json_sink, path, "path", "-", "file to write, '-' = standard output"),
    VG_P_BOOL(json_sink, append, "append", false, "append to the file instead of replacing it"),
    VG_P_BOOL(json_sink, flush, "flush", true, "flush after every line"),
    {0}};

static vg_status json_sink_init(vg_node *self, const vg_cnode *params, void **state) {
  json_sink *s = *state;
  return vg_jsonl_open(s->path, s->append, &s->out);
}

static json_t *object_json(const vg_object *o) {
  json_t *j = json_object();
  if (!j) return NULL;
  json_object_set_new(j, "box", json_pack("[f,f,f,f]", o->box.x1, o->box.y1, o->box.x2, o->box.y2));
  json_object_set_new(j, "class", json_integer(o->class_id));
  if (o->label[0]) json_object_set_new(j, "label", vg_json_text(o->label));
  json_object_set_new(j, "score", json_real(o->score));
  if (o->track_id >= 0) json_object_set_new(j, "track", json_integer(o->track_id));
  if (o->text[0]) {
    json_object_set_new(j, "text", vg_json_text(o->text));
    json_object_set_new(j, "text_score", json_real(o->text_score));
  }
  if (o->has_quad) {
    json_t *q = json_array();
    for (int k = 0; q && k < 4; k++)
      json_array_append_new(q, json_pack("[f,f]", o->quad.x[k], o->quad.y[k]));
    json_object_set_new(j, "quad", q);
  }
  if (o->nattrs > 0) {
    json_t *a = json_array();
    for (int k = 0; a && k < o->nattrs && k < VG_ATTR_MAX; k++)
      json_array_append_new(a, json_real(o->attrs[k]));
    json_object_set_new(j, "attrs", a);
  }
  return j;
}

static json_t *packet_json(const vg_packet *p) {
  json_t *j = json_pack("{s:i,s:I}", "stream", vg_packet_stream(p), "frame",
                        (json_int_t)vg_packet_frame_no(p));
  if (!j) return NULL;
  if (vg_packet_pts(p) != INT64_MIN) json_object_set_new(j, "pts", json_integer(vg_packet_pts(p)));
  if (vg_packet_flags(p) & VG_PACKET_EOS) {
    json_object_set_new(j, "eos", json_true());
    return j;
  }
  json_object_set_new(j, "skipped", json_boolean(vg_packet_flags(p) & VG_PACKET_SKIPPED));
  const vg_objects *objs = vg_packet_objects(p);
  json_t *arr = json_array();
  for (size_t k = 0; arr && k < objs->count; k++)
    json_array_append_new(arr, object_json(&objs->items[k]));
  json_object_set_new(j, "objects", arr);
  return j;
}

static vg_status json_sink_process(vg_call *c) {
  json_sink *s = c->state;
  for (int i = 0; i < c->n; i++) {
    json_t *j = packet_json(c->io[i].in[0]);
    vg_status st =
        vg_jsonl_write(s->out, j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6), s->flush);
    json_decref(j);
    if (st != VG_OK) return st; /* the message names the file and the reason */
  }
  return VG_OK;
}

static vg_status json_sink_flush(vg_node *self, void *state) {
  json_sink *s = state;
  return vg_jsonl_flush(s->out);
}

static void json_sink_destroy(void *state) {
  json_sink *s = state;
  vg_jsonl_close(s->out);
}

const vg_node_type vg_node_json_sink = {
    .name = "json_sink",
    .doc = "writes one JSON line per frame (objects, track ids, texts) to params.path or stdout",
    .inputs = {{"in", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED | VG_NODE_SEES_EOS,
    .max_in_flight = 1,
    .params = k_params,
    .state_size = sizeof(json_sink),
    .init = json_sink_init,
    .process = json_sink_process,
    .flush = json_sink_flush,
    .destroy = json_sink_destroy,
};
