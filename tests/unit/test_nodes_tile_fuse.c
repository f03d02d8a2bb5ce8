/* test_nodes_tile_fuse.c - the `tile_fuse` node joining the objects of two decoders of one frame
 * (two yolo_decode nodes reading different heads of the same packet): duplicates across views
 * merged (NMS by intersection-over-smaller; weighted box merging), classes kept apart, and bad
 * parameters. Expected boxes are worked out by hand. */
#include "test_nodes_det_common.h"
#include "vg_test_nodes.h"

/* A 1-item v8 head with one class and the given anchors (cx, cy, w, h, score). */
static void set_head(vg_packet *p, const char *name, const float (*a)[5], int n) {
  vg_tensor t;
  int64_t sh[3] = {1, 5, 8};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, sh, vg_cpu(), NULL, &t));
  float *d = vg_tensor_data(&t);
  memset(d, 0, vg_tensor_nbytes(&t));
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 5; k++)
      d[k * 8 + i] = a[i][k];
  VG_ASSERT_OK(vg_packet_set_tensor(p, name, &t));
  vg_tensor_release(&t);
}

static const vg_objects *fuse(const char *params, vg_packet **keep) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: da, type: yolo_decode, device: cpu, params: {tensor: a}}\n"
           "  - {id: db, type: yolo_decode, device: cpu, params: {tensor: b}}\n"
           "  - {id: f, type: tile_fuse, params: %s}\n"
           "  - {id: out, type: output}\n"
           "edges: [in -> da, in -> db, da -> f.in0, db -> f.in1, f -> out]\n",
           params);
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string(yaml, "fuse.yaml", NULL, 0, vg_test_registry(), &g));
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  /* view a: the person whole (150, 200, 100, 200) 0.6; view b: its right part cut at x = 105
   * (152.5, 200, 95, 200) 0.9, and a second person (425, 425, 50, 50) 0.5 */
  const float a[1][5] = {{150, 200, 100, 200, 0.6f}};
  const float b[2][5] = {{152.5f, 200, 95, 200, 0.9f}, {425, 425, 50, 50, 0.5f}};
  set_head(p, "a", a, 1);
  set_head(p, "b", b, 2);
  const char *ids[] = {"in"};
  vg_run *r = NULL;
  VG_ASSERT_OK(vg_run_once(g, NULL, ids, &p, 1, 20000, &r));
  VG_ASSERT_OK(vg_run_output(r, "out", keep));
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_packet_unref(p);
  return vg_packet_objects(*keep);
}

static void test_two_decoders(void **state) {
  (void)state;
  vg_packet *out;
  const vg_objects *o = fuse("{}", &out); /* NMS, IoS > 0.5: the cut box is inside the whole */
  assert_int_equal(o->count, 2);
  assert_float_equal(o->items[0].score, 0.9, 1e-6);
  assert_float_equal(o->items[0].box.x1, 105, 1e-4);
  assert_float_equal(o->items[1].box.x1, 400, 1e-4);
  vg_packet_unref(out);
  o = fuse("{method: wbm}", &out); /* x1 = (0.9 * 105 + 0.6 * 100) / 1.5 = 103 */
  assert_int_equal(o->count, 2);
  assert_float_equal(o->items[0].box.x1, 103, 1e-3);
  assert_float_equal(o->items[0].box.x2, 200, 1e-3);
  assert_float_equal(o->items[0].score, 0.9, 1e-6);
  vg_packet_unref(out);
  o = fuse("{match: iou, threshold: 0.96}", &out); /* IoU 95/100: kept apart */
  assert_int_equal(o->count, 3);
  vg_packet_unref(out);
}

static void test_bad_params(void **state) {
  (void)state;
  det_expect_init_error("tile_fuse", "{method: avg}", "unknown fusion method 'avg'");
  det_expect_init_error("tile_fuse", "{match: giou}", "unknown match metric 'giou'");
  det_expect_init_error("tile_fuse", "{threshold: 2}", "threshold");
  det_expect_init_error("tile_fuse", "{iou: 0.5}", "unknown parameter 'iou'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_decoders),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
