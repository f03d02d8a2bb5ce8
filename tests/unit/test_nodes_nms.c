/* test_nodes_nms.c - the `nms` node on objects whose overlaps are worked out by hand: class-aware
 * and class-agnostic suppression, ties kept in list order, max_det, a looser threshold, and bad
 * parameters. */
#include "test_nodes_det_common.h"

/* A and B overlap with IoU 9000/11000 = 0.818; C is B's box in another class; D stands alone; E
 * repeats A with the same score (a tie: A comes first in the list and wins). */
static vg_packet *scene(void) {
  vg_object o[5] = {det_obj(0, 0, 100, 100, 0, 0.9f), det_obj(10, 0, 110, 100, 0, 0.8f),
                    det_obj(10, 0, 110, 100, 1, 0.7f), det_obj(200, 200, 250, 250, 0, 0.95f),
                    det_obj(0, 0, 100, 100, 0, 0.9f)};
  for (int i = 0; i < 5; i++)
    o[i].nattrs = 1, o[i].attrs[0] = (float)i; /* which input object survived */
  return det_packet(o, 5);
}

static void expect_kept(vg_packet *out, const int *want, size_t n) {
  assert_non_null(out);
  const vg_objects *o = vg_packet_objects(out);
  assert_int_equal(o->count, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal((int)o->items[i].attrs[0], want[i]);
  vg_packet_unref(out);
}

static void test_suppression(void **state) {
  (void)state;
  const int aware[] = {3, 0, 2}, agnostic[] = {3, 0}, top1[] = {3}, loose[] = {3, 0, 1, 2};
  expect_kept(det_run_one("nms", "{}", scene()), aware, 3);
  expect_kept(det_run_one("nms", "{class_agnostic: true}", scene()), agnostic, 2);
  expect_kept(det_run_one("nms", "{max_det: 1}", scene()), top1, 1);
  expect_kept(det_run_one("nms", "{iou_threshold: 0.9}", scene()), loose, 4);
  expect_kept(det_run_one("nms", "{}", det_packet(NULL, 0)), NULL, 0);
}

static void test_bad_params(void **state) {
  (void)state;
  det_expect_init_error("nms", "{iou_threshold: 1.5}", "iou_threshold");
  det_expect_init_error("nms", "{max_det: 0}", "max_det");
  det_expect_init_error("nms", "{class_agnostic: sometimes}", "class_agnostic");
  det_expect_init_error("nms", "{iou: 0.5}", "unknown parameter 'iou'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suppression),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
