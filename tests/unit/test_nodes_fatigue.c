/* test_nodes_fatigue.c - the `fatigue` node: eye landmarks with a known eye aspect ratio (an eye
 * of width w with lids at +-h has EAR 2h/w) open for 1 s then closed for 3 s at 10 fps; the
 * level, PERCLOS and closed time of every frame are computed here from their definitions. Also
 * the face object (new, mapped through the transform, or the packet's first object), and bad
 * input. */
#include "test_nodes_det_common.h"

#include <pthread.h>
#include "vg_test_nodes.h"

#define NF 40

/* [1, 68, 2] landmarks; both eyes of width 30 with lids at +-h (EAR 2h/30). */
static vg_packet *face_packet(int frame, float h, bool with_object) {
  vg_tensor t;
  int64_t sh[3] = {1, 68, 2};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, sh, vg_cpu(), NULL, &t));
  float *d = vg_tensor_data(&t);
  for (int k = 0; k < 68; k++)
    d[2 * k] = 50.f + (float)(k % 10), d[2 * k + 1] = 60.f + (float)(k / 10);
  for (int e = 0; e < 2; e++) {
    float x0 = e ? 60.f : 10.f, y0 = 40.f;
    float pts[6][2] = {{x0, y0},      {x0 + 10, y0 - h}, {x0 + 20, y0 - h},
                       {x0 + 30, y0}, {x0 + 20, y0 + h}, {x0 + 10, y0 + h}};
    for (int i = 0; i < 6; i++)
      d[2 * (36 + 6 * e + i)] = pts[i][0], d[2 * (36 + 6 * e + i) + 1] = pts[i][1];
  }
  vg_object o = det_obj(1, 2, 3, 4, 0, 0.9f);
  vg_packet *p = det_packet(&o, with_object ? 1 : 0);
  vg_packet_set_stream(p, 0, frame);
  VG_ASSERT_OK(vg_packet_set_tensor(p, "landmarks", &t));
  vg_tensor_release(&t);
  vg_xform xf = {2, 2, 0, 0, 100, 0}; /* model = (frame - 100) * 2 */
  VG_ASSERT_OK(vg_packet_set_xforms(p, &xf, 1));
  return p;
}

typedef struct seen {
  pthread_mutex_t mu;
  int n;
  char level[NF][16];
  float ear[NF], perclos[NF], closed_sec[NF];
  vg_box box;
} seen;

static void on_packet(void *user, const char *id, vg_packet *p) {
  seen *s = user;
  const vg_objects *o = vg_packet_objects(p);
  pthread_mutex_lock(&s->mu);
  int f = (int)vg_packet_frame_no(p);
  if (o->count == 1 && f < NF && o->items[0].nattrs == 3) {
    snprintf(s->level[f], sizeof s->level[f], "%s", o->items[0].text);
    s->ear[f] = o->items[0].attrs[0];
    s->perclos[f] = o->items[0].attrs[1];
    s->closed_sec[f] = o->items[0].attrs[2];
    s->box = o->items[0].box;
    s->n++;
  }
  pthread_mutex_unlock(&s->mu);
}

static void test_open_then_closed(void **state) {
  (void)state;
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n  - {id: in, type: input}\n"
                                    "  - {id: fat, type: fatigue, params: {fps: 10}}\n"
                                    "  - {id: out, type: callback_sink}\n"
                                    "edges: [in -> fat, fat -> out]\n",
                                    "fatigue.yaml", NULL, 0, vg_test_registry(), &g));
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  for (int f = 0; f < NF; f++) {
    vg_packet *p = face_packet(f, f < 10 ? 4.5f : 0.75f, false); /* EAR 0.3, then 0.05 */
    VG_ASSERT_OK(vg_run_feed(r, "in", p));
    vg_packet_unref(p);
  }
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  VG_ASSERT_OK(vg_run_on_packet(r, "out", on_packet, &s));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 20000));
  vg_run_destroy(r);
  vg_graph_free(g);
  assert_int_equal(s.n, NF);
  /* defaults: closed below EAR 0.2; drowsy at PERCLOS >= 0.15, asleep at >= 0.4 or 2 s closed;
   * the 60 s window holds every sample */
  for (int f = 0; f < NF; f++) {
    int closed = f < 10 ? 0 : f - 9;
    float perclos = (float)closed / (float)(f + 1);
    double csec = f < 10 ? 0 : (f - 10) / 10.0;
    const char *lvl = perclos >= 0.4f || (closed && csec >= 2 - 1e-9) ? "asleep"
                      : perclos >= 0.15f                              ? "drowsy"
                                                                      : "alert";
    assert_float_equal(s.ear[f], f < 10 ? 0.3 : 0.05, 1e-5);
    assert_float_equal(s.perclos[f], perclos, 1e-5);
    assert_float_equal(s.closed_sec[f], csec, 1e-4);
    if (strcmp(s.level[f], lvl) != 0) fail_msg("frame %d: level %s, want %s", f, s.level[f], lvl);
  }
  assert_string_equal(s.level[11], "drowsy"); /* the scene passes through every level */
  assert_string_equal(s.level[NF - 1], "asleep");
  /* the new face object: landmarks x 10..90 (model) -> frame (x / 2 + 100) */
  assert_float_equal(s.box.x1, 105, 1e-4);
  assert_float_equal(s.box.x2, 145, 1e-4);
}

static void test_first_object_and_errors(void **state) {
  (void)state;
  vg_packet *out = det_run_one("fatigue", "{}", face_packet(0, 4.5f, true));
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 1);
  assert_string_equal(o->items[0].text, "alert");
  assert_float_equal(o->items[0].box.x2, 3, 0); /* the packet's own face */
  assert_null(vg_packet_tensor(out, "landmarks"));
  vg_packet_unref(out);
  assert_null(det_run_one("fatigue", "{tensor: lm}", face_packet(0, 4.5f, true)));
  VG_ASSERT_MSG_HAS("node 'n' (fatigue): stream 0 frame 0 has no tensor 'lm'");
  assert_null(det_run_one("fatigue", "{dims: 3}", face_packet(0, 4.5f, true)));
  VG_ASSERT_MSG_HAS("expected f32/f16 [N, K, 3]");
  assert_null(
      det_run_one("fatigue", "{left_eye: [60, 61, 62, 63, 64, 68]}", face_packet(0, 4.5f, true)));
  VG_ASSERT_MSG_HAS("eye indices below K");
}

static void test_bad_params(void **state) {
  (void)state;
  det_expect_init_error("fatigue", "{left_eye: [1, 2, 3]}", "expected 6 landmark indices");
  det_expect_init_error("fatigue", "{dims: 4}", "dims");
  det_expect_init_error("fatigue", "{drowsy_perclos: 0.5, asleep_perclos: 0.3}",
                        "below drowsy_perclos");
  det_expect_init_error("fatigue", "{eyes: 2}", "unknown parameter 'eyes'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_then_closed),
      cmocka_unit_test(test_first_object_and_errors),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
