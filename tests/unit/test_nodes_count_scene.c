/* test_nodes_count_scene.c - counting on the people-count sample's ground truth: the per-frame
 * boxes of samples/people_truth.json (scripts/make_people_sample.sh; skipped when absent) play a
 * perfect detector, go through the real `track` node and then `count` with the sample's line
 * (y = 540, A on the left: walking down is "in"), for both anchors. The in/out totals must equal
 * the truth's expected_counts, and every crossing event must come within 2 frames of a crossing
 * of the truth (same direction) for the figure the track follows. */
#include "vg_test.h"

#include <jansson.h>
#include <pthread.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

#define MAX_EVENTS 64

typedef struct seen {
  pthread_mutex_t mu;
  int n;
  int64_t frame[MAX_EVENTS];
  bool in[MAX_EVENTS];
  float cx[MAX_EVENTS];
} seen;

static void on_events(void *user, const char *id, vg_packet *p) {
  seen *s = user;
  const vg_objects *o = vg_packet_objects(p);
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < o->count && s->n < MAX_EVENTS; i++) {
    s->frame[s->n] = o->items[i].frame_no;
    s->in[s->n] = strstr(o->items[i].text, ":in") != NULL;
    s->cx[s->n] = 0.5f * (o->items[i].box.x1 + o->items[i].box.x2);
    s->n++;
  }
  pthread_mutex_unlock(&s->mu);
}

/* One packet per frame with the truth boxes of that frame as class-0 detections. */
static vg_packet *frame_packet(json_t *figures, int f) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 0, f);
  vg_objects list = {0};
  char key[16];
  snprintf(key, sizeof key, "%d", f);
  size_t i;
  json_t *fig;
  json_array_foreach(figures, i, fig) {
    json_t *b = json_object_get(json_object_get(fig, "boxes"), key);
    if (!b) continue;
    vg_object o = vg_object_init();
    o.box = (vg_box){(float)json_number_value(json_array_get(b, 0)),
                     (float)json_number_value(json_array_get(b, 1)),
                     (float)json_number_value(json_array_get(b, 2)),
                     (float)json_number_value(json_array_get(b, 3))};
    o.score = 0.9f;
    VG_ASSERT_OK(vg_objects_push(&list, &o));
  }
  VG_ASSERT_OK(vg_packet_set_objects(p, &list));
  return p;
}

/* Is there a truth crossing (anchor, direction) within 2 frames whose figure is at x then? */
static bool truth_has(json_t *figures, const char *anchor, bool in, int64_t frame, float cx) {
  size_t i, k;
  json_t *fig, *c;
  json_array_foreach(figures, i, fig) {
    json_array_foreach(json_object_get(fig, "crossings"), k, c) {
      if (strcmp(json_string_value(json_object_get(c, "anchor")), anchor) != 0) continue;
      bool down = strcmp(json_string_value(json_object_get(c, "direction")), "down") == 0;
      int64_t f = json_integer_value(json_object_get(c, "frame"));
      if (down != in || llabs(f - frame) > 2) continue;
      char key[16];
      snprintf(key, sizeof key, "%lld", (long long)frame);
      json_t *b = json_object_get(json_object_get(fig, "boxes"), key);
      if (b && cx >= json_number_value(json_array_get(b, 0)) - 5 &&
          cx <= json_number_value(json_array_get(b, 2)) + 5)
        return true;
    }
  }
  return false;
}

static void run_anchor(json_t *truth, const char *anchor, const char *truth_anchor) {
  json_t *figures = json_object_get(truth, "figures");
  int frames = (int)json_integer_value(json_object_get(truth, "frames"));
  json_t *line = json_object_get(truth, "line");
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: trk, type: track, params: {min_hits: 2, max_lost: 10}}\n"
           "  - id: cnt\n    type: count\n"
           "    params: {lines: [{name: l, line: [%g, %g, %g, %g], anchor: %s}], fps: 25}\n"
           "  - {id: ev, type: callback_sink}\n"
           "edges: [in -> trk, trk.out -> cnt, cnt.events -> ev]\n",
           json_number_value(json_object_get(line, "x1")),
           json_number_value(json_object_get(line, "y1")),
           json_number_value(json_object_get(line, "x2")),
           json_number_value(json_object_get(line, "y2")), anchor);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "scene.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  for (int f = 0; f < frames; f++) {
    vg_packet *p = frame_packet(figures, f);
    VG_ASSERT_OK(vg_run_feed(r, "in", p));
    vg_packet_unref(p);
  }
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  VG_ASSERT_OK(vg_run_on_packet(r, "ev", on_events, &s));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 60000));
  vg_run_destroy(r);
  vg_graph_free(g);
  json_t *want = json_object_get(json_object_get(truth, "expected_counts"), truth_anchor);
  int in = 0, out = 0;
  for (int i = 0; i < s.n; i++) {
    s.in[i] ? in++ : out++;
    if (!truth_has(figures, truth_anchor, s.in[i], s.frame[i], s.cx[i]))
      fail_msg("%s: crossing %s at frame %lld (x %.0f) is not in the truth", anchor,
               s.in[i] ? "in" : "out", (long long)s.frame[i], s.cx[i]);
  }
  printf("anchor %s: in %d out %d (truth: down %lld up %lld)\n", anchor, in, out,
         (long long)json_integer_value(json_object_get(want, "down")),
         (long long)json_integer_value(json_object_get(want, "up")));
  assert_int_equal(in, json_integer_value(json_object_get(want, "down")));
  assert_int_equal(out, json_integer_value(json_object_get(want, "up")));
}

static void test_sample_truth(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/samples/people_truth.json", vg_test_root());
  json_error_t err;
  json_t *truth = json_load_file(path, 0, &err);
  if (!truth) {
    printf("SKIP: %s: %s (run scripts/make_people_sample.sh)\n", path, err.text);
    skip();
  }
  run_anchor(truth, "bottom", "bottom_center");
  run_anchor(truth, "center", "center");
  json_decref(truth);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_truth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
