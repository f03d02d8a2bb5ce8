/* post: NMS against a brute-force reference on random boxes, and the YOLO decoders (v5, v8, f16,
 * end-to-end, segmentation) on synthetic head outputs with known answers. */
#include "vg_test.h"
#include "vidgraph/vg_post.h"

#include <math.h>

/* ----------------------------------------------------------------- NMS vs brute force */

static unsigned rng_state = 12345;
static unsigned rnd(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) & 0xffffff;
}

/* IoU in double, written independently of the library. */
static double ref_iou(const vg_box *a, const vg_box *b) {
  double ix = fmin(a->x2, b->x2) - fmax(a->x1, b->x1), iy = fmin(a->y2, b->y2) - fmax(a->y1, b->y1);
  if (ix <= 0 || iy <= 0) return 0;
  double u = (double)(a->x2 - a->x1) * (a->y2 - a->y1) + (double)(b->x2 - b->x1) * (b->y2 - b->y1) -
             ix * iy;
  return ix * iy / u;
}

/* Brute force: repeatedly pick the best unprocessed box by scanning (score desc, index asc);
 * keep it unless a kept box of its class overlaps it by more than thr. */
static size_t ref_nms(const vg_box *b, const float *s, const int *c, size_t n, double thr,
                      bool agnostic, size_t max_keep, size_t *keep) {
  char *done = calloc(n, 1);
  size_t k = 0;
  for (size_t round = 0; round < n && k < max_keep; round++) {
    size_t best = n;
    for (size_t i = 0; i < n; i++)
      if (!done[i] && (best == n || s[i] > s[best])) best = i;
    done[best] = 1;
    bool ok = true;
    for (size_t j = 0; j < k; j++)
      if ((agnostic || c[keep[j]] == c[best]) && ref_iou(&b[keep[j]], &b[best]) > thr) ok = false;
    if (ok) keep[k++] = best;
  }
  free(done);
  return k;
}

static void test_nms_vs_brute_force(void **st) {
  for (int trial = 0; trial < 200; trial++) {
    size_t n = 1 + rnd() % 300;
    vg_box *b = malloc(n * sizeof *b);
    float *s = malloc(n * sizeof *s);
    int *c = malloc(n * sizeof *c);
    size_t *k1 = malloc(n * sizeof *k1), *k2 = malloc(n * sizeof *k2);
    for (size_t i = 0; i < n; i++) {
      float x = (float)(rnd() % 400), y = (float)(rnd() % 400);
      b[i] = (vg_box){x, y, x + 5 + (float)(rnd() % 80), y + 5 + (float)(rnd() % 80)};
      s[i] = (float)(rnd() % 50) / 50.f; /* many equal scores: exercises the tie rule */
      c[i] = (int)(rnd() % 3);
    }
    bool agnostic = trial % 2;
    float thr = (trial % 5) * 0.2f + 0.1f;
    size_t max_keep = trial % 7 == 0 ? 5 : n;
    size_t nk;
    VG_ASSERT_OK(vg_nms(b, s, c, n, thr, agnostic, max_keep, k1, &nk));
    size_t nr = ref_nms(b, s, c, n, thr, agnostic, max_keep, k2);
    assert_int_equal(nk, nr);
    for (size_t i = 0; i < nk; i++)
      assert_int_equal(k1[i], k2[i]);
    free(b), free(s), free(c), free(k1), free(k2);
  }
  vg_box b1 = {0, 0, 10, 10};
  float sc = 1;
  size_t keep, nk;
  assert_int_equal(vg_nms(&b1, &sc, NULL, 1, 1.5f, false, 1, &keep, &nk), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("iou_threshold");
}

static void test_nms_objects(void **st) {
  vg_objects l = {0};
  vg_object o = vg_object_init();
  float spec[][5] = {{0, 0, 10, 10, 0.5f}, {1, 1, 11, 11, 0.9f}, {50, 50, 60, 60, 0.7f}};
  for (int i = 0; i < 3; i++) {
    o.box = (vg_box){spec[i][0], spec[i][1], spec[i][2], spec[i][3]};
    o.score = spec[i][4];
    o.class_id = 0;
    VG_ASSERT_OK(vg_objects_push(&l, &o));
  }
  VG_ASSERT_OK(vg_nms_objects(&l, 0.5f, false, 100));
  assert_int_equal(l.count, 2);
  assert_float_equal(l.items[0].score, 0.9f, 0);
  assert_float_equal(l.items[1].score, 0.7f, 0);
  vg_objects_free(&l);
}

/* ----------------------------------------------------------------- YOLO heads */

/* Ground truth in model coordinates (640x640 letterbox of a 1280x720 frame). */
typedef struct gt {
  float cx, cy, w, h, score;
  int cls;
} gt;

static const gt GT[] = {
    {100, 300, 40, 80, 0.90f, 2},  /* kept */
    {102, 302, 40, 80, 0.80f, 2},  /* duplicate of 0: suppressed */
    {104, 300, 40, 80, 0.85f, 1},  /* same place, other class: kept when class-aware */
    {400, 400, 100, 50, 0.60f, 0}, /* kept */
    {500, 200, 20, 20, 0.20f, 0},  /* below threshold */
};
#define NGT 5
#define NANCH 12
#define NC 3

static vg_xform letterbox(void) {
  vg_xform x = {0.5f, 0.5f, 0.f, 140.f, 0.f, 0.f};
  return x;
}

/* Fills a v8 [1, 4+nc, N] tensor; anchors after the ground truth get small noise scores. */
static void fill_v8(float *d, int n) {
  for (int i = 0; i < n; i++) {
    float v[4 + NC] = {320, 320, 10, 10, 0.01f, 0.02f, 0.03f};
    if (i < NGT) {
      v[0] = GT[i].cx, v[1] = GT[i].cy, v[2] = GT[i].w, v[3] = GT[i].h;
      for (int c = 0; c < NC; c++)
        v[4 + c] = c == GT[i].cls ? GT[i].score : 0.05f;
    }
    for (int c = 0; c < 4 + NC; c++)
      d[c * n + i] = v[c];
  }
}

static void expect_box(const vg_object *o, const gt *g, float tol) {
  vg_xform x = letterbox();
  float x1 = (g->cx - g->w / 2 - x.pad_x) / x.scale_x,
        y1 = (g->cy - g->h / 2 - x.pad_y) / x.scale_y;
  float x2 = (g->cx + g->w / 2 - x.pad_x) / x.scale_x,
        y2 = (g->cy + g->h / 2 - x.pad_y) / x.scale_y;
  assert_float_equal(o->box.x1, x1, tol);
  assert_float_equal(o->box.y1, y1, tol);
  assert_float_equal(o->box.x2, x2, tol);
  assert_float_equal(o->box.y2, y2, tol);
  assert_float_equal(o->score, g->score, tol ? 1e-3 : 1e-6);
  assert_int_equal(o->class_id, g->cls);
}

static void check_dets(const vg_objects *l, bool agnostic, float tol) {
  if (agnostic) {
    assert_int_equal(l->count, 2);
    expect_box(&l->items[0], &GT[0], tol);
    expect_box(&l->items[1], &GT[3], tol);
  } else {
    assert_int_equal(l->count, 3);
    expect_box(&l->items[0], &GT[0], tol);
    expect_box(&l->items[1], &GT[2], tol);
    expect_box(&l->items[2], &GT[3], tol);
  }
}

static void test_yolo_v8(void **st) {
  int64_t shape[3] = {1, 4 + NC, NANCH};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  fill_v8(vg_tensor_data(&t), NANCH);
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  vg_yolo_layout l;
  int nc;
  VG_ASSERT_OK(vg_yolo_detect_layout(&t, &p, &l, &nc));
  assert_int_equal(l, VG_YOLO_V8);
  assert_int_equal(nc, NC);
  vg_xform x = letterbox();
  vg_objects out = {0};
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  check_dets(&out, false, 0);
  assert_int_equal(out.items[0].track_id, -1);
  vg_objects_clear(&out);
  p.class_agnostic = true;
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  check_dets(&out, true, 0);
  /* class filter, max_det, labels */
  vg_labels *labels;
  VG_ASSERT_OK(vg_labels_parse("person\ncar\ntruck\n", 17, "labels.txt", &labels));
  p.class_agnostic = false;
  p.nclass_filter = 1;
  p.class_filter[0] = 1;
  p.labels = labels;
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  assert_int_equal(out.count, 1);
  assert_string_equal(out.items[0].label, "car");
  p.nclass_filter = 0;
  p.max_det = 1;
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  assert_int_equal(out.count, 1);
  assert_string_equal(out.items[0].label, "truck");
  /* wrong class count and bad batch index */
  p.num_classes = 80;
  assert_int_equal(vg_yolo_decode(&t, 0, &p, &x, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("[1,7,12] has 3 classes");
  p.num_classes = 0;
  assert_int_equal(vg_yolo_decode(&t, 1, &p, &x, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("outside the batch");
  vg_labels_free(labels);
  vg_objects_free(&out);
  vg_tensor_release(&t);
}

static void test_yolo_v5_and_f16(void **st) {
  /* v5: [1, N, 5+nc]; objectness * class score: put score in objectness, class prob 1 */
  int64_t shape[3] = {1, NANCH, 5 + NC};
  vg_tensor t, h;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  float *d = vg_tensor_data(&t);
  float v8[(4 + NC) * NANCH];
  fill_v8(v8, NANCH);
  for (int i = 0; i < NANCH; i++) {
    for (int k = 0; k < 4; k++)
      d[i * (5 + NC) + k] = v8[k * NANCH + i];
    d[i * (5 + NC) + 4] = i < NGT ? GT[i].score : 0.1f;
    for (int c = 0; c < NC; c++)
      d[i * (5 + NC) + 5 + c] = i < NGT ? (c == GT[i].cls ? 1.f : 0.5f) : 0.2f;
  }
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  vg_yolo_layout l;
  int nc;
  VG_ASSERT_OK(vg_yolo_detect_layout(&t, &p, &l, &nc));
  assert_int_equal(l, VG_YOLO_V5);
  assert_int_equal(nc, NC);
  vg_xform x = letterbox();
  vg_objects out = {0};
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  check_dets(&out, false, 0);
  /* the same head in f16 (values exact in half except the scores) */
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F16, 3, shape, vg_cpu(), NULL, &h));
  uint16_t *hd = vg_tensor_data(&h);
  for (int i = 0; i < NANCH * (5 + NC); i++)
    hd[i] = vg_f32_to_f16(d[i]);
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode(&h, 0, &p, &x, &out));
  check_dets(&out, false, 1e-3f);
  vg_objects_free(&out);
  vg_tensor_release(&t);
  vg_tensor_release(&h);
}

static void test_yolo_e2e(void **st) {
  int64_t shape[3] = {2, 4, 6};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  float rows[2][4][6] = {{{10, 150, 50, 190, 0.9f, 3},
                          {60, 160, 80, 200, 0.7f, 1},
                          {0, 140, 5, 145, 0.1f, 0},
                          {0, 0, 0, 0, 0, 0}},
                         {{20, 160, 40, 180, 0.95f, 5}, {0}, {0}, {0}}};
  memcpy(vg_tensor_data(&t), rows, sizeof rows);
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  vg_xform x = letterbox();
  vg_objects out = {0};
  VG_ASSERT_OK(vg_yolo_decode(&t, 0, &p, &x, &out));
  assert_int_equal(out.count, 2);
  assert_float_equal(out.items[0].box.x1, 20, 1e-5);
  assert_float_equal(out.items[0].box.y1, 20, 1e-5);
  assert_float_equal(out.items[0].box.x2, 100, 1e-5);
  assert_float_equal(out.items[0].box.y2, 100, 1e-5);
  assert_int_equal(out.items[0].class_id, 3);
  assert_int_equal(out.items[1].class_id, 1);
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode(&t, 1, &p, &x, &out));
  assert_int_equal(out.count, 1);
  assert_int_equal(out.items[0].class_id, 5);
  /* the same as separate tensors with num_dets */
  int64_t bs[3] = {2, 4, 4}, ss[2] = {2, 4}, ns[1] = {2};
  vg_tensor tb, ts, tc, tn;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, bs, vg_cpu(), NULL, &tb));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, ss, vg_cpu(), NULL, &ts));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I64, 2, ss, vg_cpu(), NULL, &tc));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I32, 1, ns, vg_cpu(), NULL, &tn));
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < 4; i++) {
      for (int k = 0; k < 4; k++)
        ((float *)vg_tensor_data(&tb))[(b * 4 + i) * 4 + k] = rows[b][i][k];
      ((float *)vg_tensor_data(&ts))[b * 4 + i] = rows[b][i][4];
      ((int64_t *)vg_tensor_data(&tc))[b * 4 + i] = (int64_t)rows[b][i][5];
    }
  ((int32_t *)vg_tensor_data(&tn))[0] = 1;
  ((int32_t *)vg_tensor_data(&tn))[1] = 1;
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode_e2e_split(&tb, &ts, &tc, &tn, 0, &p, &x, &out));
  assert_int_equal(out.count, 1); /* num_dets = 1 */
  assert_float_equal(out.items[0].box.x2, 100, 1e-5);
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode_e2e_split(&tb, &ts, &tc, NULL, 0, &p, &x, &out));
  assert_int_equal(out.count, 2);
  ((int32_t *)vg_tensor_data(&tn))[0] = 9;
  assert_int_equal(vg_yolo_decode_e2e_split(&tb, &ts, &tc, &tn, 0, &p, &x, &out),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("num_dets[0] = 9");
  assert_int_equal(vg_yolo_decode_e2e_split(&tb, &tc, &ts, &tn, 0, &p, &x, &out),
                   VG_ERR_INVALID_ARG); /* i64 scores */
  vg_tensor_release(&tb), vg_tensor_release(&ts), vg_tensor_release(&tc), vg_tensor_release(&tn);
  vg_objects_free(&out);
  vg_tensor_release(&t);
}

static void test_yolo_bad_inputs(void **st) {
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  vg_objects out = {0};
  int64_t s2[2] = {4, 4};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, s2, vg_cpu(), NULL, &t));
  assert_int_equal(vg_yolo_decode(&t, 0, &p, NULL, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("[4,4] is not [B, N, C]");
  vg_tensor_release(&t);
  int64_t s3[3] = {1, 100, 4};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, s3, vg_cpu(), NULL, &t));
  assert_int_equal(vg_yolo_decode(&t, 0, &p, NULL, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("leaves -1 classes");
  vg_tensor_release(&t);
  int64_t s4[3] = {1, 100, 8};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I32, 3, s4, vg_cpu(), NULL, &t));
  assert_int_equal(vg_yolo_decode(&t, 0, &p, NULL, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("unsupported dtype");
  vg_tensor_release(&t);
  vg_tensor empty = {0};
  assert_int_equal(vg_yolo_decode(&empty, 0, &p, NULL, &out), VG_ERR_INVALID_ARG);
  p.top_k = 0;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, s4, vg_cpu(), NULL, &t));
  assert_int_equal(vg_yolo_decode(&t, 0, &p, NULL, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("top_k 0");
  vg_tensor_release(&t);
  vg_yolo_layout l;
  assert_int_equal(vg_yolo_layout_parse("v7", &l), VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_yolo_layout_parse("v11", &l));
  assert_int_equal(l, VG_YOLO_V8);
  vg_objects_free(&out);
}

static void test_yolo_config(void **st) {
  const char *y = "det:\n  layout: v8\n  conf_threshold: 0.4\n  classes: [0, 2]\n"
                  "bad:\n  iou_threshold: 2\n"
                  "bad2:\n  classes: [0, car]\n"
                  "bad3:\n  layout: yolo9000\n";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "g.yaml", &c));
  vg_yolo_params p;
  VG_ASSERT_OK(vg_yolo_params_from_config(vg_cnode_get(vg_config_root(c), "det"), &p));
  assert_int_equal(p.layout, VG_YOLO_V8);
  assert_float_equal(p.conf_threshold, 0.4, 1e-6);
  assert_int_equal(p.nclass_filter, 2);
  assert_int_equal(p.class_filter[1], 2);
  assert_int_equal(vg_yolo_params_from_config(vg_cnode_get(vg_config_root(c), "bad"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("g.yaml:6:18: bad.iou_threshold");
  assert_int_equal(vg_yolo_params_from_config(vg_cnode_get(vg_config_root(c), "bad2"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("g.yaml:8:16");
  VG_ASSERT_MSG_HAS("got 'car'");
  assert_int_equal(vg_yolo_params_from_config(vg_cnode_get(vg_config_root(c), "bad3"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("g.yaml:10:11");
  VG_ASSERT_MSG_HAS("yolo9000");
  vg_config_free(c);
}

/* Pixels of m that disagree with the rectangle [x0,x1) x [y0,y1), ignoring squares of side r at
 * the rectangle's corners (a bilinear upsampling rounds them). */
static int mask_errors(const vg_mask *m, int x0, int y0, int x1, int y1, int r) {
  int wrong = 0;
  for (int y = 0; y < m->h; y++)
    for (int x = 0; x < m->w; x++) {
      int fx = m->x + x, fy = m->y + y;
      bool cx = abs(fx - x0) < r || abs(fx - x1) < r, cy = abs(fy - y0) < r || abs(fy - y1) < r;
      if (cx && cy) continue;
      bool in = fx >= x0 && fx < x1 && fy >= y0 && fy < y1;
      wrong += (m->data[y * m->w + x] == 255) != in;
    }
  printf("mask %dx%d: %d wrong pixels\n", m->w, m->h, wrong);
  return wrong;
}

/* Segmentation: prototype 0 is +8 over proto cells u in [4,8), v in [4,12), -8 elsewhere; the
 * detection's coefficients select it, so its mask is that area (model x in [16,32), y in [16,48))
 * cut by the box (8, 8, 48, 40). */
static void test_yolo_seg(void **st) {
  int nm = 32, n = 64;
  int64_t ps[4] = {1, nm, 16, 16}, hs[3] = {1, 4 + 1 + nm, n};
  vg_tensor protos, head;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, ps, vg_cpu(), NULL, &protos));
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, hs, vg_cpu(), NULL, &head));
  float *pd = vg_tensor_data(&protos), *hd = vg_tensor_data(&head);
  memset(pd, 0, (size_t)vg_tensor_nbytes(&protos));
  memset(hd, 0, (size_t)vg_tensor_nbytes(&head));
  for (int v = 0; v < 16; v++)
    for (int u = 0; u < 16; u++)
      pd[v * 16 + u] = (u >= 4 && u < 8 && v >= 4 && v < 12) ? 8.f : -8.f;
  float det[5] = {28, 24, 40, 32, 0.9f}; /* cx, cy, w, h, score: box (8, 8, 48, 40) */
  for (int k = 0; k < 5; k++)
    hd[k * n + 0] = det[k];
  hd[5 * n + 0] = 1.f; /* coefficient 0 */
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  p.num_mask_coeffs = nm;
  vg_objects out = {0};
  vg_masks masks = {0};
  vg_xform x = vg_xform_identity();
  VG_ASSERT_OK(vg_yolo_decode_seg(&head, &protos, 0, &p, &x, 0, 0, 64, 64, &out, &masks));
  assert_int_equal(out.count, 1);
  assert_int_equal(masks.count, 1);
  assert_int_equal(out.items[0].mask_index, 0);
  const vg_mask *m = &masks.items[0];
  assert_int_equal(m->x, 8), assert_int_equal(m->y, 8);
  assert_int_equal(m->w, 40), assert_int_equal(m->h, 32);
  assert_int_equal(mask_errors(m, 16, 16, 32, 40, 2), 0);
  /* a 2x frame: the same mask at twice the size */
  vg_xform x2 = {0.5f, 0.5f, 0, 0, 0, 0};
  vg_objects_clear(&out);
  VG_ASSERT_OK(vg_yolo_decode_seg(&head, &protos, 0, &p, &x2, 64, 64, 128, 128, &out, &masks));
  m = &masks.items[1];
  assert_int_equal(out.items[0].mask_index, 1);
  assert_int_equal(m->w, 80);
  assert_int_equal(mask_errors(m, 32, 32, 64, 80, 4), 0);
  /* bad prototypes */
  int64_t bs[4] = {1, 16, 16, 16};
  vg_tensor bad;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, bs, vg_cpu(), NULL, &bad));
  assert_int_equal(vg_yolo_decode_seg(&head, &bad, 0, &p, &x, 0, 0, 64, 64, &out, &masks),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("not [B, 32, H, W]");
  vg_tensor_release(&bad);
  vg_masks_free(&masks);
  vg_objects_free(&out);
  vg_tensor_release(&protos);
  vg_tensor_release(&head);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nms_vs_brute_force),
      cmocka_unit_test(test_nms_objects),
      cmocka_unit_test(test_yolo_v8),
      cmocka_unit_test(test_yolo_v5_and_f16),
      cmocka_unit_test(test_yolo_e2e),
      cmocka_unit_test(test_yolo_bad_inputs),
      cmocka_unit_test(test_yolo_config),
      cmocka_unit_test(test_yolo_seg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
