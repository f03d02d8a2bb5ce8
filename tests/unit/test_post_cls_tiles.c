/* post: classification heads (softmax top-k with labels, multi-head outputs into attributes),
 * labels files, and tile fusion removing duplicates at tile borders on a synthetic frame. */
#include "vg_test.h"
#include "vidgraph/vg_post.h"

#include <math.h>

static vg_tensor make(int ndim, const int64_t *shape, const float *v) {
  vg_tensor t;
  if (vg_tensor_alloc(VG_DTYPE_F32, ndim, shape, vg_cpu(), NULL, &t) != VG_OK) abort();
  memcpy(vg_tensor_data(&t), v, (size_t)vg_tensor_numel(&t) * sizeof(float));
  return t;
}

static void test_topk(void **st) {
  float logits[2][5] = {{1.0f, 3.0f, 0.5f, 3.0f, -1.f}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}};
  int64_t shape[2] = {2, 5};
  vg_tensor t = make(2, shape, &logits[0][0]);
  vg_cls_result r;
  VG_ASSERT_OK(vg_cls_topk(&t, 0, VG_ACT_SOFTMAX, 3, &r));
  double z = exp(1.0) + 2 * exp(3.0) + exp(0.5) + exp(-1.0);
  assert_int_equal(r.k, 3);
  assert_int_equal(r.class_ids[0], 1); /* tie with class 3: the lower class first */
  assert_int_equal(r.class_ids[1], 3);
  assert_int_equal(r.class_ids[2], 0);
  assert_float_equal(r.scores[0], exp(3.0) / z, 1e-6);
  assert_float_equal(r.scores[2], exp(1.0) / z, 1e-6);
  VG_ASSERT_OK(vg_cls_topk(&t, 1, VG_ACT_NONE, 99, &r));
  assert_int_equal(r.k, 5);
  for (int i = 0; i < 5; i++)
    assert_int_equal(r.class_ids[i], 4 - i);
  vg_labels *labels;
  VG_ASSERT_OK(vg_labels_parse("cat\ndog\nbird\nfish\nfrog", 22, "animals.txt", &labels));
  vg_object o = vg_object_init();
  vg_cls_result_to_object(&r, labels, &o);
  assert_string_equal(o.label, "frog");
  assert_int_equal(o.class_id, 4);
  assert_int_equal(o.nattrs, 5);
  assert_float_equal(o.attrs[1], 0.4f, 1e-6);
  assert_int_equal(vg_cls_topk(&t, 2, VG_ACT_NONE, 1, &r), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("sample 2 outside [2,5]");
  vg_labels_free(labels);
  vg_tensor_release(&t);
}

/* An emotion model: 8 expression logits and valence/arousal in one output, or in two. */
static void test_multihead(void **st) {
  const char *y = "heads:\n"
                  "  - {tensor: 0, offset: 0, count: 8, activation: softmax, primary: true}\n"
                  "  - {tensor: 1, offset: 0, count: 2, activation: tanh}\n"
                  "bad:\n"
                  "  - {tensor: 0, count: 8, activation: relu}\n"
                  "big:\n"
                  "  - {count: 16}\n"
                  "  - {count: 1}\n";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "emo.yaml", &c));
  vg_cls_heads h;
  VG_ASSERT_OK(vg_cls_heads_from_config(vg_cnode_get(vg_config_root(c), "heads"), &h));
  assert_int_equal(h.nheads, 2);
  float e[8] = {0, 1, 2, 5, 1, 0, 0, 0}, va[2] = {0.5f, -2.f};
  int64_t s1[2] = {1, 8}, s2[2] = {1, 2};
  vg_tensor t1 = make(2, s1, e), t2 = make(2, s2, va);
  const vg_tensor *outs[2] = {&t1, &t2};
  vg_labels *labels;
  VG_ASSERT_OK(vg_labels_parse("neutral\nhappy\nsad\nsurprise\nfear\ndisgust\nanger\ncontempt\n",
                               55, "emo.txt", &labels));
  vg_object o = vg_object_init();
  VG_ASSERT_OK(vg_cls_heads_apply(outs, 2, 0, &h, labels, &o));
  assert_string_equal(o.label, "surprise");
  assert_int_equal(o.class_id, 3);
  assert_int_equal(o.nattrs, 10);
  double z = 0;
  for (int i = 0; i < 8; i++)
    z += exp(e[i]);
  assert_float_equal(o.attrs[3], exp(5.0) / z, 1e-6);
  assert_float_equal(o.score, exp(5.0) / z, 1e-6);
  assert_float_equal(o.attrs[8], tanh(0.5), 1e-6);
  assert_float_equal(o.attrs[9], tanh(-2.0), 1e-6);
  /* a head reading past the end of its output */
  h.heads[1].offset = 1;
  assert_int_equal(vg_cls_heads_apply(outs, 2, 0, &h, labels, &o), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("values 1..2 outside the 2 of [1,2]");
  h.heads[1].offset = 0;
  assert_int_equal(vg_cls_heads_apply(outs, 1, 0, &h, labels, &o), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("head 1 reads output 1 of 1");
  assert_int_equal(vg_cls_heads_from_config(vg_cnode_get(vg_config_root(c), "bad"), &h),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("emo.yaml:5:39");
  VG_ASSERT_MSG_HAS("relu");
  assert_int_equal(vg_cls_heads_from_config(vg_cnode_get(vg_config_root(c), "big"), &h),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("the heads give 17 values, at most 16");
  vg_labels_free(labels);
  vg_tensor_release(&t1);
  vg_tensor_release(&t2);
  vg_config_free(c);
}

/* ----------------------------------------------------------------- tile fusion */

/* Runs an end-to-end head with the given rows (x1, y1, x2, y2, score, class in tile model
 * coordinates) through the decoder with the tile's transform: what a tile produces. */
static void view(const float (*rows)[6], int n, vg_xform xf, vg_objects *out) {
  int64_t shape[3] = {1, n, 6};
  vg_tensor t = make(3, shape, &rows[0][0]);
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  p.layout = VG_YOLO_E2E;
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &xf, out));
  vg_tensor_release(&t);
}

/* A 2000x1000 frame cut into two 1100x1000 tiles (x 0..1100 and 900..2000, each seen at scale 1)
 * plus a global view at scale 0.32. Object A (950..1050) lies in the overlap and is seen by
 * both tiles and the global view; object B (1060..1200) is cut by tile 0's right border (its
 * part 1060..1100) and whole in tile 1; object C is only in tile 0. */
static void build_views(vg_objects v[3]) {
  memset(v, 0, 3 * sizeof *v);
  const float t0[][6] = {{950, 100, 1050, 300, 0.90f, 0},        /* A */
                         {1060, 500, 1100, 700, 0.60f, 0},       /* B cut at the border */
                         {100, 100, 200, 200, 0.80f, 1}};        /* C */
  const float t1[][6] = {{52, 102, 150, 302, 0.85f, 0},          /* A: 952..1050 in the frame */
                         {160, 500, 300, 700, 0.88f, 0}};        /* B whole: 1060..1200 */
  const float g[][6] = {{304, 92 + 32, 336, 92 + 96, 0.70f, 0}}; /* A: 950..1050, 100..300 */
  view(t0, 3, (vg_xform){1, 1, 0, 0, 0, 0}, &v[0]);
  view(t1, 2, (vg_xform){1, 1, 0, 0, 900, 0}, &v[1]);
  view(g, 1, (vg_xform){0.32f, 0.32f, 0, 92, 0, 0}, &v[2]);
}

static const vg_object *find_near(const vg_objects *l, float x1, float y1) {
  for (size_t i = 0; i < l->count; i++)
    if (fabsf(l->items[i].box.x1 - x1) < 15 && fabsf(l->items[i].box.y1 - y1) < 15)
      return &l->items[i];
  return NULL;
}

static void test_tile_fusion(void **st) {
  vg_objects v[3];
  build_views(v);
  assert_float_equal(v[2].items[0].box.x1, 950, 1e-3); /* the global view's transform */
  assert_float_equal(v[1].items[1].box.x2, 1200, 1e-3);
  vg_fuse_params p;
  vg_fuse_params_default(&p);
  vg_objects out = {0};
  VG_ASSERT_OK(vg_tiles_fuse(v, 3, &p, &out));
  assert_int_equal(out.count, 3); /* A, B, C once each */
  const vg_object *a = find_near(&out, 950, 100), *b = find_near(&out, 1060, 500);
  assert_non_null(a), assert_non_null(b), assert_non_null(find_near(&out, 100, 100));
  assert_float_equal(a->score, 0.90f, 1e-6);
  assert_float_equal(b->box.x2, 1200, 1e-3); /* the whole box survives, not the cut one */
  /* by IoU the cut part of B is not a duplicate of B (IoU 0.29): it stays */
  vg_objects_clear(&out);
  p.match = VG_MATCH_IOU;
  VG_ASSERT_OK(vg_tiles_fuse(v, 3, &p, &out));
  assert_int_equal(out.count, 4);
  /* weighted box merging: A becomes the score-weighted mean of its three boxes */
  vg_objects_clear(&out);
  p.match = VG_MATCH_IOS;
  p.method = VG_FUSE_WBM;
  VG_ASSERT_OK(vg_tiles_fuse(v, 3, &p, &out));
  assert_int_equal(out.count, 3);
  a = find_near(&out, 950, 100);
  double w = 0.9 + 0.85 + 0.7;
  assert_float_equal(a->box.x1, (0.9 * 950 + 0.85 * 952 + 0.7 * 950) / w, 1e-2);
  assert_float_equal(a->box.y2, (0.9 * 300 + 0.85 * 302 + 0.7 * 300) / w, 1e-2);
  assert_float_equal(a->score, 0.90f, 1e-6);
  /* class-aware: a box of another class on top of A is not merged */
  vg_object o = v[2].items[0];
  o.class_id = 5;
  VG_ASSERT_OK(vg_objects_push(&v[2], &o));
  vg_objects_clear(&out);
  p.method = VG_FUSE_NMS;
  VG_ASSERT_OK(vg_tiles_fuse(v, 3, &p, &out));
  assert_int_equal(out.count, 4);
  vg_objects_clear(&out);
  p.class_agnostic = true;
  VG_ASSERT_OK(vg_tiles_fuse(v, 3, &p, &out));
  assert_int_equal(out.count, 3);
  for (int i = 0; i < 3; i++)
    vg_objects_free(&v[i]);
  vg_objects_free(&out);
}

static void test_fuse_config(void **st) {
  const char *y = "a: {method: wbm, match: iou, threshold: 0.6}\nb: {method: soft}\n";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "tiles.yaml", &c));
  vg_fuse_params p;
  VG_ASSERT_OK(vg_fuse_params_from_config(vg_cnode_get(vg_config_root(c), "a"), &p));
  assert_int_equal(p.method, VG_FUSE_WBM);
  assert_int_equal(p.match, VG_MATCH_IOU);
  assert_float_equal(p.threshold, 0.6, 1e-6);
  assert_int_equal(vg_fuse_params_from_config(vg_cnode_get(vg_config_root(c), "b"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("tiles.yaml:2:13");
  VG_ASSERT_MSG_HAS("unknown fusion method 'soft'");
  vg_config_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topk),
      cmocka_unit_test(test_multihead),
      cmocka_unit_test(test_tile_fusion),
      cmocka_unit_test(test_fuse_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
