/* test_nodes_classify.c - the `classify` node: per-object softmax top-k against a softmax computed
 * here, sigmoid, the whole-frame target, multi-head outputs into attributes, a row count that
 * does not match the objects, no objects at all, and bad parameters. */
#include "test_nodes_det_common.h"

#include <math.h>

static vg_tensor rows(int n, int c, const float *v) {
  vg_tensor t;
  int64_t sh[2] = {n, c};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, sh, vg_cpu(), NULL, &t));
  memcpy(vg_tensor_data(&t), v, (size_t)(n * c) * sizeof *v);
  return t;
}

static vg_packet *with_tensor(vg_packet *p, const char *name, int n, int c, const float *v) {
  vg_tensor t = rows(n, c, v);
  VG_ASSERT_OK(vg_packet_set_tensor(p, name, &t));
  vg_tensor_release(&t);
  return p;
}

static const float k_logits[12] = {1, 3, 0.5f, 2, /**/ -1, -2, 4, 0, /**/ 0, 0, 0, 0.1f};

static vg_packet *three_objects(void) {
  vg_object o[3] = {det_obj(0, 0, 10, 10, 7, 0.5f), det_obj(20, 0, 30, 10, 7, 0.5f),
                    det_obj(40, 0, 50, 10, 7, 0.5f)};
  return with_tensor(det_packet(o, 3), "output0", 3, 4, k_logits);
}

static void test_softmax_topk(void **state) {
  (void)state;
  vg_packet *out = det_run_one("classify", "{top_k: 2, labels: [a, b, c, d]}", three_objects());
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 3);
  for (int r = 0; r < 3; r++) {
    const float *x = k_logits + 4 * r;
    double z = 0, p[4];
    for (int k = 0; k < 4; k++)
      z += exp(x[k]);
    int best = 0, second = -1;
    for (int k = 0; k < 4; k++) {
      p[k] = exp(x[k]) / z;
      if (x[k] > x[best]) best = k;
    }
    for (int k = 0; k < 4; k++)
      if (k != best && (second < 0 || x[k] > x[second])) second = k;
    const vg_object *ob = &o->items[r];
    assert_int_equal(ob->class_id, best);
    assert_float_equal(ob->score, p[best], 1e-5);
    char want[2] = {(char)('a' + best), 0};
    assert_string_equal(ob->label, want);
    assert_int_equal(ob->nattrs, 2);
    assert_float_equal(ob->attrs[1], p[second], 1e-5);
    assert_float_equal(ob->box.x1, 20.f * r, 0); /* boxes untouched */
  }
  assert_null(vg_packet_tensor(out, "output0"));
  vg_packet_unref(out);

  out = det_run_one("classify", "{activation: sigmoid}", three_objects());
  assert_float_equal(vg_packet_objects(out)->items[1].score, 1 / (1 + exp(-4.0)), 1e-5);
  vg_packet_unref(out);
}

static void test_frame_target_and_heads(void **state) {
  (void)state;
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 4, 9);
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_GRAY8, 64, 48, vg_cpu(), NULL, 0, &f));
  vg_packet_set_frame(p, &f);
  vg_frame_release(&f);
  const float v[3] = {0.2f, 0.1f, 0.7f};
  vg_packet *out = det_run_one("classify", "{target: frame, activation: none, tensor: scene}",
                               with_tensor(p, "scene", 1, 3, v));
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, 1);
  assert_int_equal(o->items[0].class_id, 2);
  assert_float_equal(o->items[0].score, 0.7, 1e-6);
  assert_float_equal(o->items[0].box.x2, 64, 0);
  assert_float_equal(o->items[0].box.y2, 48, 0);
  assert_int_equal(o->items[0].stream_id, 4);
  assert_int_equal(o->items[0].frame_no, 9);
  vg_packet_unref(out);

  /* two heads on two objects: age (3, softmax, primary) from tensor 0, two sigmoids from 1 */
  vg_object ob[2] = {det_obj(0, 0, 5, 5, 0, 1), det_obj(5, 5, 9, 9, 0, 1)};
  const float age[6] = {0, 1, 0, 2, 0, 0}, g[4] = {0, 1, -1, 2};
  p = with_tensor(with_tensor(det_packet(ob, 2), "age", 2, 3, age), "g", 2, 2, g);
  out = det_run_one("classify",
                    "{tensors: [age, g], heads: [{tensor: 0, count: 3, activation: softmax, "
                    "primary: true}, {tensor: 1, count: 2, activation: sigmoid}]}",
                    p);
  assert_non_null(out);
  o = vg_packet_objects(out);
  assert_int_equal(o->items[0].class_id, 1);
  assert_int_equal(o->items[1].class_id, 0);
  assert_int_equal(o->items[1].nattrs, 5);
  assert_float_equal(o->items[1].attrs[3], 1 / (1 + exp(1.0)), 1e-5);
  assert_float_equal(o->items[1].attrs[4], 1 / (1 + exp(-2.0)), 1e-5);
  assert_null(vg_packet_tensor(out, "g"));
  vg_packet_unref(out);
}

static void test_process_errors(void **state) {
  (void)state;
  vg_object o[3] = {det_obj(0, 0, 1, 1, 0, 1), det_obj(0, 0, 1, 1, 0, 1),
                    det_obj(0, 0, 1, 1, 0, 1)};
  assert_null(
      det_run_one("classify", "{}", with_tensor(det_packet(o, 3), "output0", 2, 4, k_logits)));
  VG_ASSERT_MSG_HAS("node 'n' (classify): tensor 'output0' is f32[2,4]");
  VG_ASSERT_MSG_HAS("expected [3, C] (one row per object of the packet)");
  assert_null(det_run_one("classify", "{tensor: logits}", three_objects()));
  VG_ASSERT_MSG_HAS("stream 1 frame 7 has no tensor 'logits'");
  /* no objects: nothing to classify, the tensor is not needed */
  vg_packet *out = det_run_one("classify", "{tensor: logits}", det_packet(NULL, 0));
  assert_non_null(out);
  assert_int_equal(vg_packet_objects(out)->count, 0);
  vg_packet_unref(out);
}

static void test_bad_params(void **state) {
  (void)state;
  det_expect_init_error("classify", "{activation: tanh}", "activation must be softmax");
  det_expect_init_error("classify", "{target: crops}", "target must be objects or frame");
  det_expect_init_error("classify", "{tensors: [a, b]}", "several tensors need `heads`");
  det_expect_init_error("classify", "{tensor: a, tensors: [a]}", "either tensor or tensors");
  det_expect_init_error("classify", "{heads: [{tensor: 1, count: 2}]}", "reads tensor 1");
  det_expect_init_error("classify", "{top_k: 0}", "top_k");
  det_expect_init_error("classify", "{labels: no_such_labels.txt}", "no_such_labels.txt");
  det_expect_init_error("classify", "{topk: 2}", "unknown parameter 'topk'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax_topk),
      cmocka_unit_test(test_frame_target_and_heads),
      cmocka_unit_test(test_process_errors),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
