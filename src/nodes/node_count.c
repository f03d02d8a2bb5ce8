/* node_count.c - the `count` node: directed line-crossing counts and zone occupancy/dwell from
 * tracked objects, per stream (vg_line_counter, vg_zone).
 *
 *   params: lines: [{name: door, line: [x1, y1, x2, y2], anchor: center|bottom, max_age: 300}]
 *           zones: [{name: queue, polygon: [[x, y], ...], anchor: bottom, max_age_sec: 5}]
 *           classes: [0]    only these classes are counted (default: all)
 *           fps: 25         zone clock when frames carry no timestamps (frame_no / fps)
 *           annotate: true  add the lines and zones with their live counts to `out`
 *
 * Ports: `out` is the input packet; with annotate, it also carries one object per line (a
 * quad A, B, B, A: the segment) and per zone (its polygon as a quad when it has 4 points, else
 * its bounding box), class_id -1 and track_id -1, label = the name, text = the live counts
 * ("door in 3 out 1", "queue 2 inside"): any overlay draws them. `events` carries one object per
 * event of this frame (always a packet, empty when nothing happened): the tracked object's box,
 * track, class, label and score, text "line:<name>:in|out" or "zone:<name>:enter|leave", and for
 * leaves attrs[0] = dwell seconds. Totals per line and class, and zone occupancy (objects
 * inside when each stream last ran), are in the run summary (describe; frames and
 * events_dropped are node stats). A stream's counters are its per-stream state (the scheduler
 * keeps it); the totals over streams are guarded by tally_mu, as calls for different streams may
 * run at once. */
#include "node_det_util.h"
#include "vidgraph/vg_track.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_MAX_LINES 16
#define COUNT_MAX_ZONES 16
#define COUNT_MAX_CLASSES 64 /* per line, in the summary table */
#define COUNT_NAME_MAX 32

typedef struct class_total {
  int class_id;
  char label[VG_LABEL_MAX];
  int64_t in, out;
} class_total;

typedef struct line_def {
  char name[COUNT_NAME_MAX];
  vg_line_params p;
  int nclasses;
  class_total classes[COUNT_MAX_CLASSES];
  int64_t in, out;
} line_def;

typedef struct zone_def {
  char name[COUNT_NAME_MAX];
  vg_zone_params p;
  int64_t entered, left;
} zone_def;

/* One stream's counters (per-stream state). */
typedef struct stream_state {
  int64_t last_frame;
  double last_t;
  vg_line_counter *lines[COUNT_MAX_LINES];
  vg_zone *zones[COUNT_MAX_ZONES];
  int occupancy[COUNT_MAX_ZONES]; /* as last added to the zones' totals */
} stream_state;

typedef struct count_state {
  int nlines, nzones;
  line_def lines[COUNT_MAX_LINES];
  zone_def zones[COUNT_MAX_ZONES];
  int nclasses;
  int classes[VG_COUNT_MAX_CLASSES];
  double fps;
  bool annotate;
  pthread_mutex_t tally_mu; /* the totals over streams: lines' and zones' tallies, occupancy */
  bool tally_inited;
  int occupancy[COUNT_MAX_ZONES];
} count_state;

enum { ST_FRAMES = VG_STAT_NODE0, ST_STREAMS, ST_EVENTS_DROPPED };

static const char *const k_line[] = {"name", "line", "anchor", "max_age", NULL};
static const char *const k_zone[] = {"name", "polygon", "anchor", "max_age_sec", NULL};

static void count_destroy(void *state) {
  count_state *s = state;
  if (s->tally_inited) pthread_mutex_destroy(&s->tally_mu);
}

/* name: a short text; default "<kind><index>". */
static vg_status read_name(const vg_cnode *m, const char *kind, size_t i, char *out) {
  const char *name;
  char def[COUNT_NAME_MAX];
  snprintf(def, sizeof def, "%s%zu", kind, i);
  VG_TRY(vg_cfg_string(m, "name", false, def, &name));
  if (!name[0] || strlen(name) >= COUNT_NAME_MAX || strchr(name, ':'))
    return vg_cnode_error(vg_cnode_get(m, "name"), VG_ERR_PARSE,
                          "name: 1..%d characters without ':'", COUNT_NAME_MAX - 1);
  snprintf(out, COUNT_NAME_MAX, "%s", name);
  return VG_OK;
}

/* A list of maps at key (absent: 0 entries), at most cap. */
static vg_status map_list(const vg_cnode *params, const char *key, size_t cap,
                          const vg_cnode **list) {
  *list = vg_cnode_get(params, key);
  if (!*list || vg_cnode_is_null(*list)) {
    *list = NULL;
    return VG_OK;
  }
  if (vg_cnode_get_kind(*list) != VG_CNODE_SEQ || vg_cnode_len(*list) > cap)
    return vg_cnode_error(*list, VG_ERR_PARSE, "%s: expected a list of at most %zu maps", key, cap);
  for (size_t i = 0; i < vg_cnode_len(*list); i++)
    if (vg_cnode_get_kind(vg_cnode_at(*list, i)) != VG_CNODE_MAP)
      return vg_cnode_error(vg_cnode_at(*list, i), VG_ERR_PARSE, "%s[%zu]: expected a map", key, i);
  return VG_OK;
}

static vg_status read_geometry(vg_node *self, const vg_cnode *params, const vg_param *p,
                               void *field) {
  count_state *s = VG_PARAM_STATE(field, p);
  const vg_cnode *lines, *zones;
  VG_TRY(map_list(params, "lines", COUNT_MAX_LINES, &lines));
  VG_TRY(map_list(params, "zones", COUNT_MAX_ZONES, &zones));
  for (size_t i = 0; lines && i < vg_cnode_len(lines); i++) {
    const vg_cnode *m = vg_cnode_at(lines, i);
    line_def *l = &s->lines[s->nlines++];
    VG_TRY(vg_params_check(self, m, k_line));
    VG_TRY(read_name(m, "line", i, l->name));
    VG_TRY(vg_line_params_from_config(m, &l->p));
  }
  for (size_t i = 0; zones && i < vg_cnode_len(zones); i++) {
    const vg_cnode *m = vg_cnode_at(zones, i);
    zone_def *z = &s->zones[s->nzones++];
    VG_TRY(vg_params_check(self, m, k_zone));
    VG_TRY(read_name(m, "zone", i, z->name));
    VG_TRY(vg_zone_params_from_config(m, &z->p));
  }
  if (s->nlines + s->nzones == 0)
    return vg_set_error(VG_ERR_PARSE, "params: give at least one of lines or zones");
  return VG_OK;
}

static vg_status read_classes(vg_node *self, const vg_cnode *params, const vg_param *p,
                              void *field) {
  count_state *s = VG_PARAM_STATE(field, p);
  return det_int_list(params, "classes", 0, 1000000, s->classes, VG_COUNT_MAX_CLASSES,
                      &s->nclasses);
}

static const char *const k_geometry_keys[] = {"lines", "zones", NULL};

static const vg_param k_params[] = {
    VG_P_GROUP(count_state, nlines, "geometry", k_geometry_keys, read_geometry,
               "lines: [{name, line: [x1, y1, x2, y2], anchor: center|bottom, max_age}], "
               "zones: [{name, polygon: [[x, y], ...], anchor, max_age_sec}]; at least one"),
    VG_P_CUSTOM(count_state, nlines, "classes", read_classes, "class ids counted (default: all)"),
    VG_P_DOUBLE(count_state, fps, "fps", 25, 0.001, 10000, "zone clock without timestamps"),
    VG_P_BOOL(count_state, annotate, "annotate", true,
              "add lines and zones with live counts to out"),
    {0}};

static vg_status count_init(vg_node *self, const vg_cnode *params, void **state) {
  count_state *s = *state;
  pthread_mutex_init(&s->tally_mu, NULL);
  s->tally_inited = true;
  return VG_OK;
}

/* The counters of a stream, on its first frame. */
static vg_status count_stream_init(vg_node *self, void *state, void *stream, int stream_id) {
  count_state *s = state;
  stream_state *st = stream;
  st->last_frame = INT64_MIN;
  st->last_t = -INFINITY;
  vg_node_stat_add(self, ST_STREAMS, 1);
  for (int i = 0; i < s->nlines; i++)
    VG_TRY(vg_line_counter_create(&s->lines[i].p, &st->lines[i]));
  for (int i = 0; i < s->nzones; i++)
    VG_TRY(vg_zone_create(&s->zones[i].p, &st->zones[i]));
  return VG_OK;
}

static void count_stream_destroy(vg_node *self, void *state, void *stream) {
  count_state *s = state;
  stream_state *st = stream;
  for (int i = 0; i < s->nlines; i++)
    vg_line_counter_destroy(st->lines[i]);
  for (int i = 0; i < s->nzones; i++)
    vg_zone_destroy(st->zones[i]);
}

/* The object of a track in list (NULL when absent). */
static const vg_object *find_track(const vg_objects *list, int64_t track_id) {
  for (size_t i = 0; i < list->count; i++)
    if (list->items[i].track_id == track_id) return &list->items[i];
  return NULL;
}

/* An event object: the track's object in this frame (when there) with the event as text. */
static vg_status push_event(vg_objects *ev, const vg_objects *objs, int64_t track_id, int class_id,
                            const char *text, double dwell) {
  const vg_object *src = find_track(objs, track_id);
  vg_object o = src ? *src : vg_object_init();
  o.track_id = track_id;
  o.class_id = class_id;
  o.has_quad = false;
  snprintf(o.text, sizeof o.text, "%s", text);
  o.text_score = 0;
  o.nattrs = 0;
  o.mask_index = -1;
  if (dwell >= 0) {
    o.nattrs = 1;
    o.attrs[0] = (float)dwell;
  }
  return vg_objects_push(ev, &o);
}

static void line_tally(line_def *l, const vg_objects *objs, const vg_cross_event *e) {
  e->in ? l->in++ : l->out++;
  class_total *t = NULL;
  for (int i = 0; i < l->nclasses && !t; i++)
    if (l->classes[i].class_id == e->class_id) t = &l->classes[i];
  if (!t && l->nclasses < COUNT_MAX_CLASSES) {
    t = &l->classes[l->nclasses++];
    *t = (class_total){.class_id = e->class_id};
    const vg_object *o = find_track(objs, e->track_id);
    if (o) snprintf(t->label, sizeof t->label, "%s", o->label);
  }
  if (t) e->in ? t->in++ : t->out++;
}

/* Feeds the lines of one stream; events appended to ev. */
static vg_status update_lines(vg_call *c, stream_state *st, const vg_objects *objs, int64_t fno,
                              vg_objects *ev) {
  count_state *s = c->state;
  size_t cap = objs->count + 1;
  vg_cross_event *ce = malloc(cap * sizeof *ce);
  if (!ce) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  vg_status rc = VG_OK;
  for (int i = 0; i < s->nlines && rc == VG_OK; i++) {
    size_t n = 0;
    rc = vg_line_counter_update(st->lines[i], objs, fno, ce, cap, &n);
    if (n > cap) vg_node_stat_add(c->node, ST_EVENTS_DROPPED, n - cap), n = cap;
    for (size_t k = 0; k < n && rc == VG_OK; k++) {
      char text[VG_TEXT_MAX];
      snprintf(text, sizeof text, "line:%s:%s", s->lines[i].name, ce[k].in ? "in" : "out");
      pthread_mutex_lock(&s->tally_mu);
      line_tally(&s->lines[i], objs, &ce[k]);
      pthread_mutex_unlock(&s->tally_mu);
      rc = push_event(ev, objs, ce[k].track_id, ce[k].class_id, text, -1);
    }
  }
  free(ce);
  return rc;
}

/* Feeds the zones of one stream; events appended to ev. */
static vg_status update_zones(vg_call *c, stream_state *st, const vg_objects *objs, double t,
                              vg_objects *ev) {
  count_state *s = c->state;
  vg_status rc = VG_OK;
  for (int i = 0; i < s->nzones && rc == VG_OK; i++) {
    size_t cap = objs->count + (size_t)vg_zone_occupancy(st->zones[i], -1) + 1, n = 0;
    vg_zone_event *ze = malloc(cap * sizeof *ze);
    if (!ze) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
    rc = vg_zone_update(st->zones[i], objs, t, ze, cap, &n);
    if (n > cap) vg_node_stat_add(c->node, ST_EVENTS_DROPPED, n - cap), n = cap;
    int occ = vg_zone_occupancy(st->zones[i], -1);
    pthread_mutex_lock(&s->tally_mu);
    for (size_t k = 0; k < n; k++)
      ze[k].enter ? s->zones[i].entered++ : s->zones[i].left++;
    s->occupancy[i] += occ - st->occupancy[i];
    pthread_mutex_unlock(&s->tally_mu);
    st->occupancy[i] = occ;
    for (size_t k = 0; k < n && rc == VG_OK; k++) {
      char text[VG_TEXT_MAX];
      snprintf(text, sizeof text, "zone:%s:%s", s->zones[i].name, ze[k].enter ? "enter" : "leave");
      rc = push_event(ev, objs, ze[k].track_id, ze[k].class_id, text,
                      ze[k].enter ? -1 : ze[k].dwell_sec);
    }
    free(ze);
  }
  return rc;
}

/* The tracked objects that count: a track id, a real class (>= 0: not an annotation), and in
 * the class filter. */
static vg_status counted(const count_state *s, const vg_objects *in, vg_objects *out) {
  for (size_t i = 0; i < in->count; i++) {
    const vg_object *o = &in->items[i];
    if (o->track_id >= 0 && o->class_id >= 0 && det_in_list(s->classes, s->nclasses, o->class_id))
      VG_TRY(vg_objects_push(out, o));
  }
  return VG_OK;
}

/* Annotation objects with this stream's live counts. */
static vg_status annotate(const count_state *s, const stream_state *st, const vg_packet *in,
                          vg_objects *list) {
  size_t first = list->count;
  for (int i = 0; i < s->nlines; i++) {
    const vg_line_params *p = &s->lines[i].p;
    vg_object o = vg_object_init();
    o.class_id = -1;
    o.has_quad = true;
    o.quad = (vg_quad){{p->x1, p->x2, p->x2, p->x1}, {p->y1, p->y2, p->y2, p->y1}};
    o.box = (vg_box){fminf(p->x1, p->x2), fminf(p->y1, p->y2), fmaxf(p->x1, p->x2) + 1,
                     fmaxf(p->y1, p->y2) + 1};
    int64_t nin = 0, nout = 0, a, b;
    for (int k = 0; k < (s->nclasses ? s->nclasses : 1); k++) {
      vg_line_counter_totals(st->lines[i], s->nclasses ? s->classes[k] : -1, &a, &b);
      nin += a, nout += b;
    }
    snprintf(o.label, sizeof o.label, "%s", s->lines[i].name);
    snprintf(o.text, sizeof o.text, "%s in %lld out %lld", s->lines[i].name, (long long)nin,
             (long long)nout);
    VG_TRY(vg_objects_push(list, &o));
  }
  for (int i = 0; i < s->nzones; i++) {
    const vg_zone_params *p = &s->zones[i].p;
    vg_object o = vg_object_init();
    o.class_id = -1;
    o.box = (vg_box){p->x[0], p->y[0], p->x[0], p->y[0]};
    for (int k = 1; k < p->npoints; k++) {
      o.box.x1 = fminf(o.box.x1, p->x[k]), o.box.y1 = fminf(o.box.y1, p->y[k]);
      o.box.x2 = fmaxf(o.box.x2, p->x[k]), o.box.y2 = fmaxf(o.box.y2, p->y[k]);
    }
    if (p->npoints == 4) {
      o.has_quad = true;
      for (int k = 0; k < 4; k++)
        o.quad.x[k] = p->x[k], o.quad.y[k] = p->y[k];
    }
    snprintf(o.label, sizeof o.label, "%s", s->zones[i].name);
    snprintf(o.text, sizeof o.text, "%s %d inside", s->zones[i].name,
             vg_zone_occupancy(st->zones[i], -1));
    VG_TRY(vg_objects_push(list, &o));
  }
  det_stamp(list, first, in);
  return VG_OK;
}

/* One frame of one stream. */
static vg_status count_one(vg_call *c, vg_node_io *io) {
  count_state *s = c->state;
  vg_packet *in = io->in[0];
  stream_state *st = io->stream_state;
  /* counters need increasing frames and times; a looping source may restart them */
  int64_t fno = vg_packet_frame_no(in);
  if (st->last_frame != INT64_MIN && fno <= st->last_frame) fno = st->last_frame + 1;
  double t = det_packet_seconds(in, s->fps);
  if (t < st->last_t) t = st->last_t + 1.0 / s->fps;
  st->last_frame = fno;
  st->last_t = t;
  vg_objects objs = {0}, ev = {0};
  vg_packet *out = NULL, *evp = NULL;
  vg_status rc = counted(s, vg_packet_objects(in), &objs);
  if (rc == VG_OK) rc = update_lines(c, st, &objs, fno, &ev);
  if (rc == VG_OK) rc = update_zones(c, st, &objs, t, &ev);
  if (rc == VG_OK) det_stamp(&ev, 0, in);
  if (rc == VG_OK) rc = vg_packet_derive(in, &evp);
  if (rc == VG_OK) rc = vg_packet_set_objects(evp, &ev);
  if (rc == VG_OK) rc = vg_packet_derive(in, &out);
  vg_objects *list = NULL;
  if (rc == VG_OK && s->annotate) rc = vg_packet_objects_edit(out, &list);
  if (rc == VG_OK && s->annotate) rc = annotate(s, st, in, list);
  vg_objects_free(&objs);
  vg_objects_free(&ev);
  if (rc != VG_OK) {
    vg_packet_unref(out);
    vg_packet_unref(evp);
    return rc;
  }
  vg_node_stat_add(c->node, ST_FRAMES, 1);
  io->out[0] = out;
  io->out[1] = evp;
  return VG_OK;
}

static vg_status count_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(count_one(c, &c->io[i]));
  return VG_OK;
}

static json_t *line_json(const line_def *l) {
  json_t *cls = json_array();
  for (int i = 0; cls && i < l->nclasses; i++) {
    const class_total *t = &l->classes[i];
    json_t *o = json_pack("{s:i,s:I,s:I}", "class", t->class_id, "in", (json_int_t)t->in, "out",
                          (json_int_t)t->out);
    if (o && t->label[0]) json_object_set_new(o, "label", json_string(t->label));
    json_array_append_new(cls, o);
  }
  return json_pack("{s:s,s:I,s:I,s:o}", "name", l->name, "in", (json_int_t)l->in, "out",
                   (json_int_t)l->out, "classes", cls);
}

static char *count_describe(void *state) {
  count_state *s = state;
  pthread_mutex_lock(&s->tally_mu);
  json_t *lines = json_array(), *zones = json_array();
  for (int i = 0; i < s->nlines; i++)
    json_array_append_new(lines, line_json(&s->lines[i]));
  for (int i = 0; i < s->nzones; i++)
    json_array_append_new(zones,
                          json_pack("{s:s,s:i,s:I,s:I}", "name", s->zones[i].name, "occupancy",
                                    s->occupancy[i], "entered", (json_int_t)s->zones[i].entered,
                                    "left", (json_int_t)s->zones[i].left));
  pthread_mutex_unlock(&s->tally_mu);
  json_t *o = json_pack("{s:o,s:o}", "lines", lines, "zones", zones);
  char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return t;
}

const vg_node_type vg_node_count = {
    .name = "count",
    .doc = "directed line crossings (in/out per class) and zone occupancy/dwell of tracked "
           "objects; events on `events`, live counts drawn through `out`",
    .inputs = {{"in", VG_PORT_OBJECTS}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD},
                {"events", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED,
    .params = k_params,
    .state_size = sizeof(count_state),
    .stream_state_size = sizeof(stream_state),
    .stream_init = count_stream_init,
    .stream_destroy = count_stream_destroy,
    .init = count_init,
    .process = count_process,
    .destroy = count_destroy,
    .describe = count_describe,
    .stats = {"frames", "streams", "events_dropped"},
};
