/* test_nodes_yolo_decode.c - the `yolo_decode` node on synthetic heads whose answers are worked
 * out by hand: v8 with a letterbox transform (threshold, class-aware NMS, labels), tiles with one
 * transform per item fused across views (NMS and weighted box merging) or not, v5 objectness,
 * end-to-end single and split outputs, stamping and tensor removal, and every error: transforms
 * that do not match the batch, a missing tensor, bad parameters. */
#include "test_nodes_det_common.h"

/* A [B, 4+nc, N] (v8) or [B, N, 5+nc] (v5) f32 head, zeroed. */
static vg_tensor head(bool v5, int B, int nc, int N) {
  vg_tensor t;
  int64_t v8s[3] = {B, 4 + nc, N}, v5s[3] = {B, N, 5 + nc};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, v5 ? v5s : v8s, vg_cpu(), NULL, &t));
  memset(vg_tensor_data(&t), 0, vg_tensor_nbytes(&t));
  return t;
}

/* Sets anchor a of item b of a v8 head: box (cx, cy, w, h) and the score of class cls. */
static void v8_set(vg_tensor *t, int b, int a, float cx, float cy, float w, float h, int cls,
                   float score) {
  float *d = vg_tensor_data(t);
  int64_t C = t->shape[1], N = t->shape[2];
  float v[4] = {cx, cy, w, h};
  for (int k = 0; k < 4; k++)
    d[(b * C + k) * N + a] = v[k];
  d[(b * C + 4 + cls) * N + a] = score;
}

static vg_packet *packet_with(const char *name, const vg_tensor *t, const vg_xform *xf, int nx) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 2, 41);
  VG_ASSERT_OK(vg_packet_set_tensor(p, name, t));
  if (nx) VG_ASSERT_OK(vg_packet_set_xforms(p, xf, nx));
  return p;
}

/* input -> yolo_decode(params) -> output; returns the output packet (or NULL when the run
 * failed; the message is then in vg_last_error). */
static vg_packet *decode(const char *params, vg_packet *in) {
  return det_run_one("yolo_decode", params, in);
}

static void expect_box(const vg_object *o, float x1, float y1, float x2, float y2) {
  assert_float_equal(o->box.x1, x1, 1e-3);
  assert_float_equal(o->box.y1, y1, 1e-3);
  assert_float_equal(o->box.x2, x2, 1e-3);
  assert_float_equal(o->box.y2, y2, 1e-3);
}

static void test_v8_letterbox(void **state) {
  (void)state;
  vg_tensor t = head(false, 1, 3, 10);
  v8_set(&t, 0, 0, 100, 200, 40, 80, 1, 0.9f); /* kept */
  v8_set(&t, 0, 1, 102, 201, 40, 80, 1, 0.8f); /* same class, IoU ~0.9 with a0: suppressed */
  v8_set(&t, 0, 2, 100, 200, 40, 80, 2, 0.7f); /* same box, other class: kept */
  v8_set(&t, 0, 3, 400, 300, 50, 50, 0, 0.2f); /* under conf_threshold 0.25 */
  v8_set(&t, 0, 4, 500, 400, 60, 30, 0, 0.6f); /* kept */
  /* 1280x720 letterboxed into 640x640: scale 0.5, 140 rows of padding above */
  vg_xform xf = {0.5f, 0.5f, 0.f, 140.f, 0.f, 0.f};
  vg_packet *out = decode("{labels: [person, bag, cat]}", packet_with("output0", &t, &xf, 1));
  vg_tensor_release(&t);
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 3);
  /* frame = (model - pad) / scale */
  expect_box(&o->items[0], 160, 40, 240, 200);
  assert_int_equal(o->items[0].class_id, 1);
  assert_string_equal(o->items[0].label, "bag");
  assert_float_equal(o->items[0].score, 0.9, 1e-6);
  assert_int_equal(o->items[1].class_id, 2);
  assert_string_equal(o->items[1].label, "cat");
  expect_box(&o->items[2], 940, 490, 1060, 550);
  assert_string_equal(o->items[2].label, "person");
  for (size_t i = 0; i < o->count; i++) {
    assert_int_equal(o->items[i].stream_id, 2);
    assert_int_equal(o->items[i].frame_no, 41);
    assert_int_equal(o->items[i].track_id, -1);
  }
  assert_null(vg_packet_tensor(out, "output0")); /* consumed */
  vg_packet_unref(out);
}

/* Three views of a 1000x500 frame: tile 0 at x 0, tile 1 at x 500 (both scale 1), the global
 * view at scale 0.5. A person at (480, 100)-(560, 300) straddles the border: tile 0 sees all of
 * it (0.8), tile 1 its right part (500..560, 0.7), the global view all of it (0.85). Another
 * person (900, 50)-(950, 150) is only in tile 1 (0.5). */
static vg_packet *tiles_packet(void) {
  vg_tensor t = head(false, 3, 1, 6);
  v8_set(&t, 0, 0, 520, 200, 80, 200, 0, 0.8f);
  v8_set(&t, 1, 0, 30, 200, 60, 200, 0, 0.7f);
  v8_set(&t, 1, 3, 425, 100, 50, 100, 0, 0.5f);
  v8_set(&t, 2, 5, 260, 100, 40, 100, 0, 0.85f);
  vg_xform xf[3] = {{1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 500, 0}, {0.5f, 0.5f, 0, 0, 0, 0}};
  vg_packet *p = packet_with("output0", &t, xf, 3);
  vg_tensor_release(&t);
  return p;
}

static void test_tiles_fused(void **state) {
  (void)state;
  vg_packet *out = decode("{}", tiles_packet()); /* fuse by default: NMS, IoS > 0.5 */
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 2);
  assert_float_equal(o->items[0].score, 0.85, 1e-6);
  expect_box(&o->items[0], 480, 100, 560, 300);
  expect_box(&o->items[1], 900, 50, 950, 150);
  vg_packet_unref(out);

  out = decode("{fuse: false}", tiles_packet());
  assert_int_equal(vg_packet_objects(out)->count, 4);
  vg_packet_unref(out);

  /* weighted box merging: the score-weighted mean of the three boxes, the best score */
  out = decode("{fuse: {method: wbm}}", tiles_packet());
  o = vg_packet_objects(out);
  assert_int_equal(o->count, 2);
  double sw = 0.85 + 0.8 + 0.7;
  expect_box(&o->items[0], (float)((0.85 * 480 + 0.8 * 480 + 0.7 * 500) / sw), 100,
             (float)((0.85 * 560 + 0.8 * 560 + 0.7 * 560) / sw), 300);
  assert_float_equal(o->items[0].score, 0.85, 1e-6);
  vg_packet_unref(out);

  /* IoU matching: the cut part has IoU 60/80 = 0.75 with the whole box, under 0.8, so it stays
   * a detection of its own (IoS would be 1) */
  out = decode("{fuse: {match: iou, threshold: 0.8}}", tiles_packet());
  assert_int_equal(vg_packet_objects(out)->count, 3);
  vg_packet_unref(out);
}

static void test_v5_objectness(void **state) {
  (void)state;
  vg_tensor t = head(true, 1, 2, 8);
  float *d = vg_tensor_data(&t);
  float rows[3][7] = {{50, 60, 20, 20, 0.8f, 0.5f, 0.1f}, /* 0.4, class 0 */
                      {150, 60, 20, 20, 0.3f, 0.f, 0.9f}, /* 0.27, class 1 */
                      {250, 60, 20, 20, 0.2f, 1.f, 0.f}}; /* 0.2: dropped */
  for (int r = 0; r < 3; r++)
    memcpy(d + r * 7, rows[r], sizeof rows[r]);
  vg_packet *out = decode("{tensor: head, layout: v5}", packet_with("head", &t, NULL, 0));
  vg_tensor_release(&t);
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 2);
  assert_float_equal(o->items[0].score, 0.4, 1e-6);
  expect_box(&o->items[0], 40, 50, 60, 70); /* no transform: identity */
  assert_int_equal(o->items[1].class_id, 1);
  assert_float_equal(o->items[1].score, 0.27, 1e-6);
  vg_packet_unref(out);
}

static void test_end_to_end(void **state) {
  (void)state;
  vg_tensor t;
  int64_t sh[3] = {1, 8, 6};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, sh, vg_cpu(), NULL, &t));
  memset(vg_tensor_data(&t), 0, vg_tensor_nbytes(&t));
  float *d = vg_tensor_data(&t);
  float r0[6] = {10, 20, 30, 60, 0.9f, 3}, r1[6] = {100, 20, 130, 60, 0.1f, 1};
  memcpy(d, r0, sizeof r0);
  memcpy(d + 6, r1, sizeof r1);
  vg_xform xf = {2, 2, 0, 0, 0, 0};
  vg_packet *out = decode("{layout: e2e}", packet_with("output0", &t, &xf, 1));
  vg_tensor_release(&t);
  assert_non_null(out);
  assert_int_equal(vg_packet_objects(out)->count, 1);
  expect_box(&vg_packet_objects(out)->items[0], 5, 10, 15, 30);
  assert_int_equal(vg_packet_objects(out)->items[0].class_id, 3);
  vg_packet_unref(out);

  /* split outputs: boxes [1, 3, 4], scores [1, 3], classes [1, 3], num_dets [1] = 2 */
  vg_tensor b, s, c, n;
  int64_t sb[3] = {1, 3, 4}, ss[2] = {1, 3}, sn[1] = {1};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, sb, vg_cpu(), NULL, &b));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, ss, vg_cpu(), NULL, &s));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I64, 2, ss, vg_cpu(), NULL, &c));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I64, 1, sn, vg_cpu(), NULL, &n));
  float bx[12] = {0, 0, 10, 10, 20, 20, 40, 40, 50, 50, 60, 60}, sc[3] = {0.8f, 0.6f, 0.9f};
  int64_t cl[3] = {0, 5, 2}, nd = 2;
  memcpy(vg_tensor_data(&b), bx, sizeof bx);
  memcpy(vg_tensor_data(&s), sc, sizeof sc);
  memcpy(vg_tensor_data(&c), cl, sizeof cl);
  memcpy(vg_tensor_data(&n), &nd, sizeof nd);
  vg_packet *p = packet_with("det_boxes", &b, NULL, 0);
  VG_ASSERT_OK(vg_packet_set_tensor(p, "det_scores", &s));
  VG_ASSERT_OK(vg_packet_set_tensor(p, "det_classes", &c));
  VG_ASSERT_OK(vg_packet_set_tensor(p, "num_dets", &n));
  VG_ASSERT_OK(vg_packet_set_tensor(p, "other", &n));
  vg_tensor_release(&b), vg_tensor_release(&s), vg_tensor_release(&c), vg_tensor_release(&n);
  out = decode("{split: {boxes: det_boxes, scores: det_scores, classes: det_classes, "
               "num_dets: num_dets}}",
               p);
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 2); /* the third row is past num_dets */
  assert_int_equal(o->items[1].class_id, 5);
  expect_box(&o->items[1], 20, 20, 40, 40);
  assert_null(vg_packet_tensor(out, "det_scores"));
  assert_null(vg_packet_tensor(out, "num_dets"));
  assert_non_null(vg_packet_tensor(out, "other")); /* not ours: stays */
  vg_packet_unref(out);
}

static void test_process_errors(void **state) {
  (void)state;
  vg_tensor t = head(false, 2, 1, 6);
  vg_xform xf[3] = {{1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}};
  assert_null(decode("{}", packet_with("output0", &t, xf, 3)));
  VG_ASSERT_MSG_HAS("node 'n' (yolo_decode): the head has a batch of 2 but the packet carries 3 "
                    "transforms");
  assert_null(decode("{tensor: scores}", packet_with("output0", &t, xf, 2)));
  VG_ASSERT_MSG_HAS("stream 2 frame 41 has no tensor 'scores' (it has: output0)");
  /* keep_tensors leaves the head for later nodes */
  vg_packet *out = decode("{keep_tensors: true}", packet_with("output0", &t, xf, 2));
  assert_non_null(vg_packet_tensor(out, "output0"));
  vg_packet_unref(out);
  vg_tensor_release(&t);
}

static void expect_init_error(const char *params, const char *needle) {
  det_expect_init_error("yolo_decode", params, needle);
}

static void test_bad_params(void **state) {
  (void)state;
  expect_init_error("{layout: v9}", "v9");
  expect_init_error("{conf_threshold: 1.5}", "conf_threshold");
  expect_init_error("{fuse: maybe}", "fuse: expected true, false or a map");
  expect_init_error("{fuse: {method: avg}}", "unknown fusion method 'avg'");
  expect_init_error("{split: {boxes: b, sizes: s}}", "unknown parameter 'sizes'");
  expect_init_error("{split: [b, s]}", "split: expected a map");
  expect_init_error("{labels: /nonexistent/coco.names}", "/nonexistent/coco.names");
  expect_init_error("{labels: []}", "the list of class names is empty");
  expect_init_error("{classes: [person]}", "expected a class id");
  expect_init_error("{tensr: output0}", "unknown parameter 'tensr'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v8_letterbox),   cmocka_unit_test(test_tiles_fused),
      cmocka_unit_test(test_v5_objectness),  cmocka_unit_test(test_end_to_end),
      cmocka_unit_test(test_process_errors), cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
