/* node_events.c - the `events` sink: writes what happened as JSON lines (events.jsonl).
 *  - `tracks` input (from a track node): one line per ended track,
 *    {"type":"track","stream_id","track_id","text","confidence","first_frame","last_frame",
 *     "hits","votes","class","label","box"}; confidence is the mean confidence of the readings
 *    of the voted text; tracks with fewer than min_votes readings of a text are left out when
 *    require_text is set (a plate is reported once, when its track ends). On a stream of stills
 *    (images: VG_PACKET_STILL) one reading is all there will be: min_votes counts as 1 there.
 *  - `in` input (optional): one line per frame that has objects,
 *    {"type":"objects","stream_id","frame","objects":[...]}.
 * Lines of one stream come in frame order. Lines are written by src/core/json_out (vg_jsonl): texts
 * that are not UTF-8 are repaired, and a full disk leaves the file at its last whole line. */
#include "node_util.h"

#include "core/json_out.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev_state {
  const char *path;
  bool require_text;
  int min_votes;
  vg_jsonl *out; /* lines of several streams may be written at once (it locks) */
} ev_state;

typedef struct ev_stream {
  bool stills; /* the stream's frames are stills (an image, a folder of images) */
} ev_stream;

enum { STAT_TRACKS = VG_STAT_NODE0, STAT_OBJECTS_LINES, STAT_TRACKS_WITHOUT_TEXT };

static const vg_param k_params[] = {
    VG_P_STRING(ev_state, path, "path", "events.jsonl", "file to write, '-' = standard output"),
    VG_P_BOOL(ev_state, require_text, "require_text", false, "only tracks with a read text"),
    VG_P_INT(ev_state, min_votes, "min_votes", 1, 1, 1000000,
             "readings of the text a track needs (with require_text)"),
    {0}};

static void ev_destroy(void *state) {
  ev_state *s = state;
  vg_jsonl_close(s->out);
}

static vg_status ev_init(vg_node *self, const vg_cnode *params, void **state) {
  ev_state *s = *state;
  return vg_jsonl_open(s->path, false, &s->out);
}

static json_t *box_json(const vg_box *b) {
  return json_pack("[f,f,f,f]", b->x1, b->y1, b->x2, b->y2);
}

static vg_status write_line(ev_state *s, json_t *o) {
  vg_status st = vg_jsonl_write(s->out, o, JSON_PRESERVE_ORDER, false);
  json_decref(o);
  return st;
}

static vg_status write_tracks(vg_node *node, ev_state *s, const vg_objects *objs, int min_votes) {
  for (size_t i = 0; i < objs->count; i++) {
    const vg_object *o = &objs->items[i];
    int votes = o->nattrs >= 4 ? (int)o->attrs[3] : 0;
    if (s->require_text && (!o->text[0] || votes < min_votes)) {
      vg_node_stat_add(node, STAT_TRACKS_WITHOUT_TEXT, 1);
      continue;
    }
    json_t *j =
        json_pack("{s:s,s:i,s:I,s:o,s:f,s:I,s:I,s:i,s:i,s:i}", "type", "track", "stream_id",
                  o->stream_id, "track_id", (json_int_t)o->track_id, "text", vg_json_text(o->text),
                  "confidence", votes > 0 ? o->text_score / (float)votes : 0.0, "first_frame",
                  (json_int_t)(o->nattrs >= 1 ? o->attrs[0] : o->frame_no), "last_frame",
                  (json_int_t)(o->nattrs >= 2 ? o->attrs[1] : o->frame_no), "hits",
                  o->nattrs >= 3 ? (int)o->attrs[2] : 0, "votes", votes, "class", o->class_id);
    if (!j) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory writing '%s'", s->path);
    if (o->label[0]) json_object_set_new(j, "label", vg_json_text(o->label));
    json_object_set_new(j, "box", box_json(&o->box));
    VG_TRY(write_line(s, j));
    vg_node_stat_add(node, STAT_TRACKS, 1);
  }
  return VG_OK;
}

static vg_status write_objects(vg_node *node, ev_state *s, const vg_packet *p) {
  const vg_objects *objs = vg_packet_objects(p);
  if (objs->count == 0) return VG_OK;
  json_t *arr = json_array();
  for (size_t i = 0; i < objs->count; i++) {
    const vg_object *o = &objs->items[i];
    json_t *j = json_pack("{s:I,s:i,s:f,s:o}", "track_id", (json_int_t)o->track_id, "class",
                          o->class_id, "score", o->score, "box", box_json(&o->box));
    if (!j) continue;
    if (o->label[0]) json_object_set_new(j, "label", vg_json_text(o->label));
    if (o->text[0]) json_object_set_new(j, "text", vg_json_text(o->text));
    json_array_append_new(arr, j);
  }
  json_t *line = json_pack("{s:s,s:i,s:I,s:o}", "type", "objects", "stream_id", vg_packet_stream(p),
                           "frame", (json_int_t)vg_packet_frame_no(p), "objects", arr);
  if (!line) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory writing '%s'", s->path);
  VG_TRY(write_line(s, line));
  vg_node_stat_add(node, STAT_OBJECTS_LINES, 1);
  return VG_OK;
}

static vg_status ev_process(vg_call *c) {
  ev_state *s = c->state;
  for (int i = 0; i < c->n; i++) {
    vg_packet *in = c->io[i].in[0], *tr = c->io[i].in[1];
    ev_stream *es = c->io[i].stream_state;
    if ((in && (vg_packet_flags(in) & VG_PACKET_STILL)) ||
        (tr && (vg_packet_flags(tr) & VG_PACKET_STILL)))
      es->stills = true;
    vg_status st = VG_OK;
    if (in && !(vg_packet_flags(in) & VG_PACKET_EOS)) st = write_objects(c->node, s, in);
    if (st == VG_OK && tr)
      st = write_tracks(c->node, s, vg_packet_objects(tr), es->stills ? 1 : s->min_votes);
    if (st != VG_OK) return st; /* the message names the file and the reason */
  }
  return vg_jsonl_flush(s->out);
}

static char *ev_describe(void *state) {
  ev_state *s = state;
  json_t *o = json_pack("{s:s}", "path", s->path);
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type vg_node_events = {
    .name = "events",
    .doc = "JSON-lines events: one line per ended track (tracks port), per-frame objects (in)",
    .inputs = {{"in", VG_PORT_OBJECTS, true}, {"tracks", VG_PORT_OBJECTS, true}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_EOS | VG_NODE_SEES_SKIPPED,
    .params = k_params,
    .state_size = sizeof(ev_state),
    .stream_state_size = sizeof(ev_stream),
    .init = ev_init,
    .process = ev_process,
    .destroy = ev_destroy,
    .describe = ev_describe,
    .stats = {"tracks", "objects_lines", "tracks_without_text"},
};
