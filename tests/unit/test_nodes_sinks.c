/* test_nodes_sinks.c - the generic built-in nodes: json_sink lines (parsed back with jansson and
 * compared with the objects that were sent), callback_sink order and end-of-stream, pass and
 * test_source parameters. */
#include "vg_test.h"

#include <jansson.h>
#include <unistd.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

static vg_graph *load(const char *yaml) {
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "sinks.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  return g;
}

/* A packet with two objects, one with text and a track id. */
static vg_packet *packet_with_objects(int stream, int64_t frame) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, stream, frame);
  vg_packet_set_pts(p, frame * 40, 0);
  vg_objects list = {0};
  vg_object a = vg_object_init();
  a.box = (vg_box){10.f, 20.f, 30.5f, 40.f};
  a.class_id = 2;
  a.score = 0.75f;
  snprintf(a.label, sizeof a.label, "car");
  vg_object b = vg_object_init();
  b.box = (vg_box){1.f, 2.f, 3.f, 4.f};
  b.class_id = 0;
  b.score = 0.5f;
  b.track_id = 17;
  snprintf(b.text, sizeof b.text, "AB123C");
  b.text_score = 0.25f;
  b.nattrs = 2;
  b.attrs[0] = 1.5f;
  b.attrs[1] = -2.f;
  VG_ASSERT_OK(vg_objects_push(&list, &a));
  VG_ASSERT_OK(vg_objects_push(&list, &b));
  VG_ASSERT_OK(vg_packet_set_objects(p, &list));
  return p;
}

static void test_json_sink_lines(void **state) {
  (void)state;
  char path[] = "/tmp/vg_json_sink_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: out, type: json_sink, params: {path: '%s'}}\nedges: [in -> out]\n",
           path);
  vg_graph *g = load(yaml);
  vg_packet *p[3] = {packet_with_objects(1, 0), packet_with_objects(1, 1), NULL};
  VG_ASSERT_OK(vg_packet_new(&p[2]));
  vg_packet_set_stream(p[2], 1, 2);
  vg_packet_set_flags(p[2], VG_PACKET_EOS);
  const char *ids[] = {"in", "in", "in"};
  vg_run *r;
  VG_ASSERT_OK(vg_run_once(g, NULL, ids, p, 3, 10000, &r));
  vg_run_destroy(r);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (!j) fail_msg("line %d is not JSON: %s", n + 1, err.text);
    assert_int_equal(json_integer_value(json_object_get(j, "stream")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "frame")), n);
    if (n == 2) {
      assert_true(json_is_true(json_object_get(j, "eos")));
      json_decref(j);
      n++;
      continue;
    }
    assert_int_equal(json_integer_value(json_object_get(j, "pts")), n * 40);
    assert_true(json_is_false(json_object_get(j, "skipped")));
    json_t *objs = json_object_get(j, "objects");
    const vg_objects *want = vg_packet_objects(p[n]);
    assert_int_equal(json_array_size(objs), want->count);
    for (size_t k = 0; k < want->count; k++) {
      const vg_object *o = &want->items[k];
      json_t *jo = json_array_get(objs, k);
      json_t *box = json_object_get(jo, "box");
      assert_float_equal(json_number_value(json_array_get(box, 0)), o->box.x1, 1e-4);
      assert_float_equal(json_number_value(json_array_get(box, 2)), o->box.x2, 1e-4);
      assert_float_equal(json_number_value(json_array_get(box, 3)), o->box.y2, 1e-4);
      assert_int_equal(json_integer_value(json_object_get(jo, "class")), o->class_id);
      assert_float_equal(json_number_value(json_object_get(jo, "score")), o->score, 1e-5);
      if (o->label[0])
        assert_string_equal(json_string_value(json_object_get(jo, "label")), o->label);
      else
        assert_null(json_object_get(jo, "label"));
      if (o->track_id >= 0)
        assert_int_equal(json_integer_value(json_object_get(jo, "track")), o->track_id);
      else
        assert_null(json_object_get(jo, "track"));
      if (o->text[0]) assert_string_equal(json_string_value(json_object_get(jo, "text")), o->text);
      assert_int_equal(json_array_size(json_object_get(jo, "attrs")), (size_t)o->nattrs);
    }
    json_decref(j);
    n++;
  }
  fclose(f);
  unlink(path);
  assert_int_equal(n, 3);
  for (int k = 0; k < 3; k++)
    vg_packet_unref(p[k]);
  vg_graph_free(g);
}

static void test_json_sink_bad_params(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n  - {id: in, type: input}\n"
                     "  - {id: out, type: json_sink, params: {path: 5, append: maybe}}\n"
                     "edges: [in -> out]\n");
  vg_run *r;
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("node 'out' (json_sink)");
  VG_ASSERT_MSG_HAS("append");
  VG_ASSERT_MSG_HAS("expected true or false, got 'maybe'");
  vg_graph_free(g);
}

typedef struct seen {
  int n, eos;
  int64_t last[4];
  bool ordered;
  int bytes_ok;
} seen;

static void on_packet(void *user, const char *id, vg_packet *p) {
  seen *s = user;
  if (vg_packet_flags(p) & VG_PACKET_EOS) {
    s->eos++;
    return;
  }
  int st = vg_packet_stream(p);
  if (vg_packet_frame_no(p) != s->last[st] + 1) s->ordered = false;
  s->last[st] = vg_packet_frame_no(p);
  const vg_frame *f = vg_packet_frame(p);
  const vg_tensor *t = vg_packet_tensor(p, "value");
  /* test_source: grey level (frame + stream) & 255, value 1000 * stream + frame */
  if (f && f->width == 24 && f->height == 10 &&
      vg_frame_plane(f, 0)[f->pitch[0] * 9 + 23] == ((vg_packet_frame_no(p) + st) & 255) && t &&
      *(const int64_t *)vg_tensor_data(t) == 1000 * st + vg_packet_frame_no(p))
    s->bytes_ok++;
  s->n++;
}

static void test_callback_sink_and_source(void **state) {
  (void)state;
  vg_graph *g =
      load("nodes:\n"
           "  - {id: src, type: test_source, params: {count: 30, streams: 3, stream_id: 1,"
           " width: 24, height: 10, eos: true}}\n"
           "  - {id: p, type: pass, params: {delay_ms: 1}}\n"
           "  - {id: out, type: callback_sink}\n"
           "edges: [src -> p, p -> out]\n");
  seen s = {.last = {-1, -1, -1, -1}, .ordered = true};
  vg_run_options opt = {.workers = 3};
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, &opt, &r));
  VG_ASSERT_OK(vg_run_on_packet(r, "out", on_packet, &s));
  assert_int_equal(vg_run_on_packet(r, "nope", on_packet, &s), VG_ERR_NOT_FOUND);
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 20000));
  assert_int_equal(s.n, 90);
  assert_int_equal(s.bytes_ok, 90);
  assert_int_equal(s.eos, 3);
  assert_true(s.ordered); /* pass is parallel-safe, the sink still sees each stream in order */
  assert_int_equal(s.last[1], 29);
  assert_int_equal(s.last[3], 29);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_source_params(void **state) {
  (void)state;
  vg_graph *g = load("nodes:\n  - {id: src, type: test_source, params: {count: -1}}\n");
  vg_run *r;
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("count = -1 is outside");
  VG_ASSERT_MSG_HAS("sinks.yaml:2:");
  vg_graph_free(g);
  g = load("nodes:\n  - {id: src, type: test_source, params: {colour: 1}}\n");
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("unknown parameter 'colour'");
  vg_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_sink_lines),
      cmocka_unit_test(test_json_sink_bad_params),
      cmocka_unit_test(test_callback_sink_and_source),
      cmocka_unit_test(test_source_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
