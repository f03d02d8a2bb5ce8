/* test_nodes_count.c - the `count` node on synthetic tracked scenes with known crossings: exact
 * in/out counts per class and per stream (tracks beyond the segment's ends, touching the line,
 * crossing back, untracked objects, frames an interval skipped), zone enter/leave events with
 * dwell times and the final occupancy, the class filter, the annotation objects with live counts,
 * the run-summary detail, and bad parameters. The expected events are written out by hand from
 * the geometry of the scene (line y = 500 from x = 0 to 1000 pointing right: moving down is "in").
 */
#include "vg_test.h"

#include <jansson.h>
#include <pthread.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

#define FRAMES 12
#define FPS 10.0

/* Where track `id` is on `stream` at frame f: false when absent. Anchor = box centre. */
static bool track_pos(int stream, int id, int f, float *x, float *y, int *cls) {
  static const float t5[] = {440, 470, 520, 560, 530, 480, 450};
  static const float t6[] = {470, 490, 500, 490, 470};
  static const float t8[] = {50, 150, 200, 200, 200, 350};
  *cls = 0;
  if (stream == 1) { /* the same id as on stream 0, moving up: one "out" at frame 6 */
    if (id != 1) return false;
    *x = 400, *y = 700.f - 40.f * f;
    return true;
  }
  switch (id) {
  case 1:
    *x = 400, *y = 310.f + 40.f * f;
    return true; /* in at 5 */
  case 2:
    *x = 600, *y = 790.f - 50.f * f;
    return true; /* out at 6 */
  case 3:
    *x = 1200, *y = 300.f + 40.f * f;
    return true; /* beyond the end: none */
  case 4:
    *cls = 1, *x = 300, *y = 420.f + 20.f * f;
    return true; /* touches at 4, in at 5 */
  case 5:
    *x = 700;
    if (f >= 7) return false;
    *y = t5[f];
    return true; /* in at 2, out at 5 */
  case 6:
    *x = 800;
    if (f >= 5) return false;
    *y = t6[f];
    return true; /* touch and back */
  case 7:
    *x = -50, *y = 300.f + 40.f * f;
    return true; /* before the start: none */
  case 8:
    *x = 200;
    if (f >= 6) return false;
    *y = t8[f];
    return true; /* zone 1..4 */
  case 9:
    *x = 200, *y = 200;
    return f >= 9; /* zone from 9 */
  case -1:
    *x = 500, *y = 300.f + 40.f * f;
    return true; /* untracked: ignored */
  }
  return false;
}

static vg_packet *scene_packet(int stream, int f, bool skipped) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, stream, f);
  if (skipped) vg_packet_set_flags(p, VG_PACKET_SKIPPED);
  vg_objects list = {0};
  static const int ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, -1};
  for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
    float x, y;
    int cls;
    if (!track_pos(stream, ids[k], f, &x, &y, &cls)) continue;
    vg_object o = vg_object_init();
    o.box = (vg_box){x - 10, y - 20, x + 10, y + 20};
    o.class_id = cls;
    o.track_id = ids[k];
    o.score = 0.9f;
    snprintf(o.label, sizeof o.label, "%s", cls ? "car" : "person");
    VG_ASSERT_OK(vg_objects_push(&list, &o));
  }
  VG_ASSERT_OK(vg_packet_set_objects(p, &list));
  return p;
}

typedef struct ev_rec {
  int stream;
  int64_t frame, track;
  char text[64];
  float dwell;
  int cls;
} ev_rec;

typedef struct collected {
  pthread_mutex_t mu;
  ev_rec ev[64];
  int nev;
  char last_line[2][96], last_zone[2][96];
  int annotations_bad;
} collected;

static void on_events(void *user, const char *id, vg_packet *p) {
  collected *c = user;
  const vg_objects *o = vg_packet_objects(p);
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < o->count && c->nev < 64; i++) {
    ev_rec *r = &c->ev[c->nev++];
    r->stream = vg_packet_stream(p);
    r->frame = o->items[i].frame_no;
    r->track = o->items[i].track_id;
    r->cls = o->items[i].class_id;
    snprintf(r->text, sizeof r->text, "%s", o->items[i].text);
    r->dwell = o->items[i].nattrs > 0 ? o->items[i].attrs[0] : -1.f;
    if (o->items[i].frame_no != vg_packet_frame_no(p)) c->annotations_bad++;
  }
  pthread_mutex_unlock(&c->mu);
}

static void on_out(void *user, const char *id, vg_packet *p) {
  collected *c = user;
  const vg_objects *o = vg_packet_objects(p);
  int s = vg_packet_stream(p);
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < o->count; i++) {
    const vg_object *a = &o->items[i];
    if (a->class_id != -1) continue;
    if (a->track_id != -1) c->annotations_bad++;
    if (strcmp(a->label, "door") == 0) {
      snprintf(c->last_line[s], sizeof c->last_line[s], "%s", a->text);
      /* the segment as a degenerate quad A, B, B, A */
      if (!a->has_quad || a->quad.x[0] != 0.f || a->quad.x[1] != 1000.f || a->quad.y[0] != 500.f)
        c->annotations_bad++;
    } else if (strcmp(a->label, "box") == 0) {
      snprintf(c->last_zone[s], sizeof c->last_zone[s], "%s", a->text);
      if (!a->has_quad || a->box.x1 != 100.f || a->box.y2 != 300.f) c->annotations_bad++;
    }
  }
  pthread_mutex_unlock(&c->mu);
}

static int ev_cmp(const void *a, const void *b) {
  const ev_rec *x = a, *y = b;
  if (x->stream != y->stream) return x->stream - y->stream;
  if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
  if (x->track != y->track) return x->track < y->track ? -1 : 1;
  return strcmp(x->text, y->text);
}

static const char *k_graph =
    "nodes:\n"
    "  - {id: in, type: input}\n"
    "  - id: cnt\n"
    "    type: count\n"
    "    params:\n"
    "      lines: [{name: door, line: [0, 500, 1000, 500]}]\n"
    "      zones: [{name: box, polygon: [[100, 100], [300, 100], [300, 300],"
    " [100, 300]], anchor: center}]\n"
    "      fps: 10\n"
    "%s"
    "  - {id: out, type: callback_sink}\n"
    "  - {id: ev, type: callback_sink}\n"
    "edges: [in -> cnt, cnt.out -> out, cnt.events -> ev]\n";

/* Runs the scene (both streams interleaved, frame 5 of stream 0 marked skipped) through a count
 * node with extra params; returns the finished run's summary detail of the count node. */
static char *run_scene(const char *extra, collected *c) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml, k_graph, extra);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "count.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  for (int f = 0; f < FRAMES; f++)
    for (int s = 0; s < 2; s++) {
      vg_packet *p = scene_packet(s, f, s == 0 && f == 5);
      VG_ASSERT_OK(vg_run_feed(r, "in", p));
      vg_packet_unref(p);
    }
  VG_ASSERT_OK(vg_run_on_packet(r, "out", on_out, c));
  VG_ASSERT_OK(vg_run_on_packet(r, "ev", on_events, c));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 30000));
  vg_run_summary sum;
  VG_ASSERT_OK(vg_run_get_summary(r, &sum));
  assert_int_equal(sum.frames_done, 2 * FRAMES);
  assert_int_equal(sum.frames_dropped, 0);
  int i = vg_graph_find_node(g, "cnt");
  char *detail = sum.nodes[i].detail ? strdup(sum.nodes[i].detail) : NULL;
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
  qsort(c->ev, (size_t)c->nev, sizeof c->ev[0], ev_cmp);
  return detail;
}

static void expect_events(const collected *c, const ev_rec *want, int n) {
  for (int i = 0; i < n && i < c->nev; i++) {
    const ev_rec *g = &c->ev[i], *w = &want[i];
    if (g->stream != w->stream || g->frame != w->frame || g->track != w->track ||
        strcmp(g->text, w->text) != 0)
      fail_msg("event %d: got stream %d frame %lld track %lld '%s', want %d %lld %lld '%s'", i,
               g->stream, (long long)g->frame, (long long)g->track, g->text, w->stream,
               (long long)w->frame, (long long)w->track, w->text);
    if (w->dwell >= 0) assert_float_equal(g->dwell, w->dwell, 1e-4);
  }
  assert_int_equal(c->nev, n);
}

static void test_scene_counts(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  collected c = {.mu = PTHREAD_MUTEX_INITIALIZER};
  char *detail = run_scene("", &c);
  const ev_rec want[] = {
      {0, 1, 8, "zone:box:enter", -1, 0}, {0, 2, 5, "line:door:in", -1, 0},
      {0, 5, 1, "line:door:in", -1, 0},   {0, 5, 4, "line:door:in", -1, 1},
      {0, 5, 5, "line:door:out", -1, 0},  {0, 5, 8, "zone:box:leave", 0.3f, 0},
      {0, 6, 2, "line:door:out", -1, 0},  {0, 9, 9, "zone:box:enter", -1, 0},
      {1, 6, 1, "line:door:out", -1, 0},
  };
  expect_events(&c, want, (int)(sizeof want / sizeof want[0]));
  for (int i = 0; i < c.nev; i++)
    if (strstr(c.ev[i].text, "line:")) assert_int_equal(c.ev[i].cls, c.ev[i].track == 4 ? 1 : 0);
  assert_int_equal(c.annotations_bad, 0);
  assert_string_equal(c.last_line[0], "door in 3 out 2");
  assert_string_equal(c.last_line[1], "door in 0 out 1");
  assert_string_equal(c.last_zone[0], "box 1 inside");
  assert_string_equal(c.last_zone[1], "box 0 inside");
  /* the summary: totals over streams, per class */
  assert_non_null(detail);
  json_error_t err;
  json_t *j = json_loads(detail, 0, &err);
  assert_non_null(j);
  json_t *l = json_array_get(json_object_get(j, "lines"), 0);
  assert_string_equal(json_string_value(json_object_get(l, "name")), "door");
  assert_int_equal(json_integer_value(json_object_get(l, "in")), 3);
  assert_int_equal(json_integer_value(json_object_get(l, "out")), 3);
  json_t *cls = json_object_get(l, "classes");
  int64_t in0 = -1, out0 = -1, in1 = -1;
  for (size_t k = 0; k < json_array_size(cls); k++) {
    json_t *e = json_array_get(cls, k);
    int id = (int)json_integer_value(json_object_get(e, "class"));
    if (id == 0)
      in0 = json_integer_value(json_object_get(e, "in")),
      out0 = json_integer_value(json_object_get(e, "out"));
    if (id == 1) {
      in1 = json_integer_value(json_object_get(e, "in"));
      assert_string_equal(json_string_value(json_object_get(e, "label")), "car");
    }
  }
  assert_int_equal(in0, 2);
  assert_int_equal(out0, 3);
  assert_int_equal(in1, 1);
  json_t *z = json_array_get(json_object_get(j, "zones"), 0);
  assert_int_equal(json_integer_value(json_object_get(z, "occupancy")), 1);
  assert_int_equal(json_integer_value(json_object_get(z, "entered")), 2);
  assert_int_equal(json_integer_value(json_object_get(z, "left")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "frames")), 2 * FRAMES);
  json_decref(j);
  free(detail);
  assert_int_equal(vg_packet_live_count(), base);
}

static void test_class_filter_no_annotations(void **state) {
  (void)state;
  collected c = {.mu = PTHREAD_MUTEX_INITIALIZER};
  /* only class 0 counts, and no annotations on `out` */
  free(run_scene("      classes: [0]\n      annotate: false\n", &c));
  const ev_rec want[] = {
      {0, 1, 8, "zone:box:enter", -1, 0},   {0, 2, 5, "line:door:in", -1, 0},
      {0, 5, 1, "line:door:in", -1, 0},     {0, 5, 5, "line:door:out", -1, 0},
      {0, 5, 8, "zone:box:leave", 0.3f, 0}, {0, 6, 2, "line:door:out", -1, 0},
      {0, 9, 9, "zone:box:enter", -1, 0},   {1, 6, 1, "line:door:out", -1, 0},
  };
  expect_events(&c, want, (int)(sizeof want / sizeof want[0]));
  assert_string_equal(c.last_line[0], ""); /* annotate: false */
}

static void expect_init_error(const char *params, const char *needle) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n  - id: cnt\n    type: count\n    params: %s\n"
           "edges: [in -> cnt]\n",
           params);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "count.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r = NULL;
  assert_int_not_equal(vg_run_create(g, NULL, &r), VG_OK);
  VG_ASSERT_MSG_HAS("node 'cnt' (count)");
  VG_ASSERT_MSG_HAS(needle);
  vg_graph_free(g);
}

static void test_bad_params(void **state) {
  (void)state;
  expect_init_error("{}", "give at least one of lines or zones");
  expect_init_error("{fps: 10}", "give at least one of lines or zones");
  expect_init_error("{lines: [{line: [1, 2, 1, 2]}]}", "two ends are the same point");
  expect_init_error("{lines: [{lne: [1, 2, 3, 4]}]}", "unknown parameter 'lne'");
  expect_init_error("{lines: [{name: 'a:b', line: [1, 2, 3, 4]}]}", "name: 1..31 characters");
  expect_init_error("{lines: {line: [1, 2, 3, 4]}}", "lines: expected a list");
  expect_init_error("{zones: [{polygon: [[0, 0], [1, 1]]}]}", "3..64 [x, y] points");
  expect_init_error("{zones: [{polygon: [[0, 0], [1, 1], [0, 1]], anchor: feet}]}", "feet");
  expect_init_error("{lines: [{line: [0, 0, 9, 9]}], classes: [car]}", "classes: expected an id");
  expect_init_error("{lines: [{line: [0, 0, 9, 9]}], fps: 0}", "fps");
  expect_init_error("{lines: [{line: [0, 0, 9, 9]}], colour: red}", "unknown parameter 'colour'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scene_counts),
      cmocka_unit_test(test_class_filter_no_annotations),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
