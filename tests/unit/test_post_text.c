/* post: PP-OCR text decoding. Minimum-area rectangles against brute force, DBNet decoding of
 * synthetic probability maps with rotated rectangles of known corners, CTC decoding of synthetic
 * probability tensors with the real ppocr_keys_v1.txt, the direction classifier, and bad
 * dictionary / labels files. */
#include "vg_test.h"
#include "post/post_geom.h"
#include "vidgraph/vg_post.h"

#include <math.h>

static unsigned rng_state = 777;
static double rnd01(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (double)((rng_state >> 8) & 0xffffff) / 16777216.0;
}

/* ----------------------------------------------------------------- minimum-area rectangle */

/* Brute force: the optimal rectangle has a side along some edge between two input points (of
 * the hull); try every pair and take the smallest bounding rectangle in that orientation. */
static double ref_min_area(const float *x, const float *y, size_t n) {
  double best = INFINITY;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double dx = x[j] - x[i], dy = y[j] - y[i], len = hypot(dx, dy);
      if (len < 1e-9) continue;
      double ux = dx / len, uy = dy / len, a0 = INFINITY, a1 = -INFINITY, b0 = INFINITY,
             b1 = -INFINITY;
      for (size_t k = 0; k < n; k++) {
        double a = x[k] * ux + y[k] * uy, b = -x[k] * uy + y[k] * ux;
        a0 = fmin(a0, a), a1 = fmax(a1, a), b0 = fmin(b0, b), b1 = fmax(b1, b);
      }
      best = fmin(best, (a1 - a0) * (b1 - b0));
    }
  return best;
}

static double quad_area(const vg_quad *q) {
  double s = 0;
  for (int i = 0; i < 4; i++) {
    int j = (i + 1) % 4;
    s += (double)q->x[i] * q->y[j] - (double)q->x[j] * q->y[i];
  }
  return fabs(s) / 2;
}

static void test_min_area_rect(void **st) {
  for (int trial = 0; trial < 300; trial++) {
    size_t n = 3 + (size_t)(rnd01() * 40);
    float x[64], y[64];
    double ang = rnd01() * M_PI, ca = cos(ang), sa = sin(ang);
    for (size_t i = 0; i < n; i++) { /* points in a random rotated ellipse-ish cloud */
      double a = (rnd01() - 0.5) * 200, b = (rnd01() - 0.5) * 60;
      x[i] = (float)(300 + a * ca - b * sa);
      y[i] = (float)(300 + a * sa + b * ca);
    }
    vg_quad q;
    float w, h;
    VG_ASSERT_OK(vg_min_area_rect(x, y, n, &q, &w, &h));
    double ref = ref_min_area(x, y, n), got = quad_area(&q);
    if (fabs(got - ref) > 1e-3 * ref + 1e-3)
      fail_msg("trial %d: area %f, brute force %f", trial, got, ref);
    assert_float_equal(w * h, got, 1e-3 * got + 1e-3);
    /* every point inside the rectangle (small tolerance) */
    for (size_t i = 0; i < n; i++)
      for (int e = 0; e < 4; e++) {
        int f = (e + 1) % 4;
        double c = (q.x[f] - q.x[e]) * (y[i] - q.y[e]) - (q.y[f] - q.y[e]) * (x[i] - q.x[e]);
        assert_true(c >= -1e-2 * hypot(q.x[f] - q.x[e], q.y[f] - q.y[e]));
      }
    /* PP-OCR order: index 0 is left of index 1, index 3 below index 0 */
    assert_true(q.x[0] <= q.x[1] + 1e-3 || q.x[0] <= q.x[2] + 1e-3);
  }
  /* degenerate inputs */
  float px[3] = {5, 5, 5}, py[3] = {7, 7, 7};
  vg_quad q;
  float w, h;
  VG_ASSERT_OK(vg_min_area_rect(px, py, 3, &q, &w, &h));
  assert_float_equal(w, 0, 1e-6), assert_float_equal(h, 0, 1e-6);
  assert_int_equal(vg_min_area_rect(px, py, 0, &q, &w, &h), VG_ERR_INVALID_ARG);
}

/* ----------------------------------------------------------------- DBNet */

typedef struct rrect {
  double cx, cy, w, h, deg, prob;
} rrect;

static void draw(float *map, int mw, int mh, const rrect *r) {
  double a = r->deg * M_PI / 180, ux = cos(a), uy = sin(a);
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      double dx = x - r->cx, dy = y - r->cy;
      if (fabs(dx * ux + dy * uy) <= r->w / 2 && fabs(-dx * uy + dy * ux) <= r->h / 2)
        map[y * mw + x] = (float)r->prob;
    }
}

/* Expected frame corners: the rectangle grown by area * 1.5 / perimeter, clockwise from its
 * top-left corner (local (-w/2, -h/2)), times the frame/map scale. */
static void expected_corners(const rrect *r, double scale, double ex[4], double ey[4]) {
  double d = r->w * r->h * 1.5 / (2 * (r->w + r->h)), w = r->w + 2 * d, h = r->h + 2 * d;
  double a = r->deg * M_PI / 180, ux = cos(a), uy = sin(a), vx = -uy, vy = ux;
  double su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
  for (int i = 0; i < 4; i++) {
    ex[i] = (r->cx + su[i] * w / 2 * ux + sv[i] * h / 2 * vx) * scale;
    ey[i] = (r->cy + su[i] * w / 2 * uy + sv[i] * h / 2 * vy) * scale;
  }
}

static void test_dbnet(void **st) {
  int mw = 320, mh = 240;
  int64_t shape[4] = {1, 1, mh, mw};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, vg_cpu(), NULL, &t));
  float *map = vg_tensor_data(&t);
  memset(map, 0, sizeof(float) * mw * mh);
  rrect good[3] = {
      {100, 40, 120, 24, 0, 0.95}, {180, 140, 100, 20, 20, 0.9}, {60, 200, 60, 30, -10, 0.8}};
  rrect weak = {260, 40, 50, 20, 0, 0.45}; /* above thresh, mean below box_thresh */
  rrect speck = {300, 200, 2, 2, 0, 0.99}; /* below min_size */
  for (int i = 0; i < 3; i++)
    draw(map, mw, mh, &good[i]);
  draw(map, mw, mh, &weak);
  draw(map, mw, mh, &speck);
  vg_dbnet_params p;
  vg_dbnet_params_default(&p);
  vg_xform xf = {0.5f, 0.5f, 0, 0, 0, 0}; /* the frame is twice the map */
  vg_objects out = {0};
  VG_ASSERT_OK(vg_dbnet_decode(&t, 0, &p, &xf, 640, 480, &out));
  assert_int_equal(out.count, 3);
  /* reading order: by top-left y, so good[0], good[1], good[2] */
  for (int i = 0; i < 3; i++) {
    const vg_object *o = &out.items[i];
    assert_true(o->has_quad);
    assert_string_equal(o->label, "text");
    /* the score polygon has integer corners and includes its edges (as PP-OCR's fillPoly), so a
     * rotated region's score takes in a few background pixels */
    assert_float_equal(o->score, good[i].prob, good[i].deg != 0 ? 0.05 : 0.005);
    double ex[4], ey[4], worst = 0;
    expected_corners(&good[i], 2.0, ex, ey);
    for (int k = 0; k < 4; k++)
      worst = fmax(worst, hypot(o->quad.x[k] - ex[k], o->quad.y[k] - ey[k]));
    printf("dbnet quad %d: worst corner error %.2f px (frame)\n", i, worst);
    if (worst > 2.0)
      fail_msg(
          "quad %d: (%g,%g) (%g,%g) (%g,%g) (%g,%g) vs expected (%g,%g) (%g,%g) (%g,%g) (%g,%g)", i,
          o->quad.x[0], o->quad.y[0], o->quad.x[1], o->quad.y[1], o->quad.x[2], o->quad.y[2],
          o->quad.x[3], o->quad.y[3], ex[0], ey[0], ex[1], ey[1], ex[2], ey[2], ex[3], ey[3]);
    assert_true(o->box.x1 <= o->quad.x[0] && o->box.x2 >= o->quad.x[2]);
  }
  /* f16 map, [H, W] shape */
  int64_t s2[2] = {mh, mw};
  vg_tensor h;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F16, 2, s2, vg_cpu(), NULL, &h));
  uint16_t *hd = vg_tensor_data(&h);
  for (int i = 0; i < mw * mh; i++)
    hd[i] = vg_f32_to_f16(map[i]);
  vg_objects out2 = {0};
  VG_ASSERT_OK(vg_dbnet_decode(&h, 0, &p, &xf, 640, 480, &out2));
  assert_int_equal(out2.count, 3);
  for (int k = 0; k < 4; k++)
    assert_float_equal(out2.items[1].quad.x[k], out.items[1].quad.x[k], 1.01);
  /* a higher box threshold drops the 0.8 region; a lower one keeps the weak one */
  p.box_thresh = 0.85f;
  vg_objects_clear(&out2);
  VG_ASSERT_OK(vg_dbnet_decode(&t, 0, &p, &xf, 640, 480, &out2));
  assert_int_equal(out2.count, 2);
  p.box_thresh = 0.4f;
  vg_objects_clear(&out2);
  VG_ASSERT_OK(vg_dbnet_decode(&t, 0, &p, &xf, 640, 480, &out2));
  assert_int_equal(out2.count, 4);
  /* bad shapes */
  int64_t s3[4] = {1, 2, 8, 8};
  vg_tensor bad;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, s3, vg_cpu(), NULL, &bad));
  assert_int_equal(vg_dbnet_decode(&bad, 0, &p, &xf, 0, 0, &out2), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("[1,2,8,8] is not [B,1,H,W]");
  vg_tensor_release(&bad);
  vg_objects_free(&out);
  vg_objects_free(&out2);
  vg_tensor_release(&t);
  vg_tensor_release(&h);
}

static void test_dbnet_config(void **st) {
  const char *y = "a: {thresh: 0.2, unclip_ratio: 2.0}\nb: {box_thresh: yes}\n";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "ocr.yaml", &c));
  vg_dbnet_params p;
  VG_ASSERT_OK(vg_dbnet_params_from_config(vg_cnode_get(vg_config_root(c), "a"), &p));
  assert_float_equal(p.thresh, 0.2, 1e-6);
  assert_float_equal(p.unclip_ratio, 2.0, 1e-6);
  assert_float_equal(p.box_thresh, 0.6, 1e-6);
  assert_int_equal(vg_dbnet_params_from_config(vg_cnode_get(vg_config_root(c), "b"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("ocr.yaml:2:17: b.box_thresh");
  vg_config_free(c);
}

/* ----------------------------------------------------------------- CTC */

static char dict_path[4096];

/* Class of a UTF-8 character in the dictionary, found by scanning (class = line + 1). */
static int class_of(const vg_ctc_dict *d, const char *ch) {
  if (strcmp(ch, " ") == 0) return (int)vg_ctc_dict_num_classes(d) - 1;
  for (size_t c = 1; c + 1 < vg_ctc_dict_num_classes(d); c++)
    if (strcmp(vg_ctc_dict_get(d, c), ch) == 0) return (int)c;
  fail_msg("'%s' is not in the dictionary", ch);
  return -1;
}

/* Writes a row with probability p on class c and the rest spread evenly. */
static void row(float *r, int C, int c, float p) {
  for (int k = 0; k < C; k++)
    r[k] = (1.f - p) / (float)(C - 1);
  r[c] = p;
}

static void test_ctc_real_dict(void **st) {
  snprintf(dict_path, sizeof dict_path, "%s/models/ppocr/ppocr_keys_v1.txt", vg_test_root());
  vg_ctc_dict *d;
  VG_ASSERT_OK(vg_ctc_dict_load(dict_path, true, &d));
  assert_int_equal(vg_ctc_dict_num_classes(d), 6625);
  assert_string_equal(vg_ctc_dict_get(d, 0), "");
  assert_string_equal(vg_ctc_dict_get(d, 6624), " ");
  assert_null(vg_ctc_dict_get(d, 6625));
  /* sample 0: "京A 88" with repeats, blanks between the two 8s; sample 1: "hello" where "ll"
   * needs a blank and a repeated run "oo" merges */
  const char *s0[] = {"京", "A", " ", "8", "8"};
  const char *s1[] = {"h", "e", "l", "l", "o"};
  int T = 20, C = 6625;
  int64_t shape[3] = {2, T, C};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  float *p = vg_tensor_data(&t);
  double conf[2] = {0, 0};
  for (int n = 0; n < 2; n++) {
    const char **s = n ? s1 : s0;
    int step = 0;
    for (int i = 0; i < 5; i++) {
      int c = class_of(d, s[i]);
      float pk = 0.6f + 0.07f * (float)i;
      row(p + (n * T + step++) * C, C, c, pk);    /* the kept step */
      row(p + (n * T + step++) * C, C, c, 0.99f); /* a repeat, merged */
      row(p + (n * T + step++) * C, C, 0, 0.9f);  /* blank */
      conf[n] += pk;
    }
    while (step < T)
      row(p + (n * T + step++) * C, C, 0, 0.95f);
    conf[n] /= 5;
  }
  char text[VG_TEXT_MAX];
  float score;
  VG_ASSERT_OK(vg_ctc_decode(&t, 0, d, VG_CTC_AUTO, text, sizeof text, &score));
  assert_string_equal(text, "京A 88");
  assert_float_equal(score, conf[0], 1e-5);
  VG_ASSERT_OK(vg_ctc_decode(&t, 1, d, VG_CTC_PROBS, text, sizeof text, &score));
  assert_string_equal(text, "hello");
  assert_float_equal(score, conf[1], 1e-5);
  /* truncation at whole characters: "京" is 3 bytes, so 5 bytes (with the NUL) hold "京A" */
  VG_ASSERT_OK(vg_ctc_decode(&t, 0, d, VG_CTC_PROBS, text, 5, &score));
  assert_string_equal(text, "京A");
  VG_ASSERT_OK(vg_ctc_decode(&t, 0, d, VG_CTC_PROBS, text, 4, &score));
  assert_string_equal(text, "京");
  /* logits: log of the probabilities decodes the same with the same confidence */
  vg_tensor lg;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &lg));
  float *l = vg_tensor_data(&lg);
  for (int64_t i = 0; i < 2LL * T * C; i++)
    l[i] = logf(p[i]) + 3.f;
  VG_ASSERT_OK(vg_ctc_decode(&lg, 1, d, VG_CTC_AUTO, text, sizeof text, &score));
  assert_string_equal(text, "hello");
  assert_float_equal(score, conf[1], 1e-4);
  /* objects */
  vg_object objs[2] = {vg_object_init(), vg_object_init()};
  VG_ASSERT_OK(vg_ctc_decode_objects(&t, d, VG_CTC_AUTO, objs, 2));
  assert_string_equal(objs[0].text, "京A 88");
  assert_string_equal(objs[1].text, "hello");
  /* all blank: empty text, score 0 */
  for (int s = 0; s < T; s++)
    row(p + s * C, C, 0, 0.9f);
  VG_ASSERT_OK(vg_ctc_decode(&t, 0, d, VG_CTC_PROBS, text, sizeof text, &score));
  assert_string_equal(text, "");
  assert_float_equal(score, 0, 0);
  vg_tensor_release(&t);
  vg_tensor_release(&lg);
  /* class count mismatch names both numbers */
  vg_ctc_dict *d2;
  VG_ASSERT_OK(vg_ctc_dict_load(dict_path, false, &d2));
  int64_t s2[3] = {1, 4, 6625};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, s2, vg_cpu(), NULL, &t));
  assert_int_equal(vg_ctc_decode(&t, 0, d2, VG_CTC_AUTO, text, sizeof text, &score),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("has 6625 classes, the dictionary (6623 lines, blank) gives 6624");
  vg_tensor_release(&t);
  vg_ctc_dict_free(d2);
  vg_ctc_dict_free(d);
}

static void expect_bad_dict(const char *data, size_t len, const char *needle) {
  vg_ctc_dict *d = (vg_ctc_dict *)1;
  vg_status s = vg_ctc_dict_parse(data, len, "keys.txt", true, &d);
  if (s == VG_OK) fail_msg("'%s' parsed", data);
  assert_int_equal(s, VG_ERR_PARSE);
  assert_null(d);
  if (!strstr(vg_last_error(), needle))
    fail_msg("message '%s' lacks '%s'", vg_last_error(), needle);
}

static void test_dict_bad_inputs(void **st) {
  expect_bad_dict("", 0, "keys.txt: the file has no entries");
  expect_bad_dict("a\n\nb\n", 5, "keys.txt:2: empty line");
  expect_bad_dict("a\n\xC3\x28\n", 5, "keys.txt:2: invalid UTF-8 at byte 1");
  expect_bad_dict("a\nb\xC0\xAF\n", 6, "keys.txt:2: invalid UTF-8 at byte 2"); /* overlong */
  expect_bad_dict("a\n\xED\xA0\x80\n", 6, "keys.txt:2: invalid UTF-8");        /* surrogate */
  expect_bad_dict("a\n\xE4\xB8\n", 5, "keys.txt:2: invalid UTF-8");            /* truncated */
  expect_bad_dict("a\nb\0c\n", 6, "keys.txt:2: NUL byte");
  char longl[400];
  memset(longl, 'x', sizeof longl);
  expect_bad_dict(longl, sizeof longl, "keys.txt:1: line of 400 bytes is longer than 256");
  /* accepted: CRLF, BOM, no final newline */
  vg_ctc_dict *d;
  VG_ASSERT_OK(vg_ctc_dict_parse("\xEF\xBB\xBF"
                                 "a\r\n\xE4\xB8\x80\r\nz",
                                 12, "k", false, &d));
  assert_int_equal(vg_ctc_dict_num_classes(d), 4);
  assert_string_equal(vg_ctc_dict_get(d, 1), "a");
  assert_string_equal(vg_ctc_dict_get(d, 2), "\xE4\xB8\x80");
  assert_string_equal(vg_ctc_dict_get(d, 3), "z");
  vg_ctc_dict_free(d);
  assert_int_equal(vg_ctc_dict_load("/nonexistent/keys.txt", true, &d), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("/nonexistent/keys.txt");
  vg_labels *l;
  assert_int_equal(vg_labels_load("/tmp", &l), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("not a regular file");
}

static void test_textdir(void **st) {
  int64_t s[2] = {3, 2};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, s, vg_cpu(), NULL, &t));
  float v[6] = {0.95f, 0.05f, 0.03f, 0.97f, 0.15f, 0.85f};
  memcpy(vg_tensor_data(&t), v, sizeof v);
  bool rot;
  float sc;
  VG_ASSERT_OK(vg_textdir_decode(&t, 0, 0.9f, &rot, &sc));
  assert_false(rot);
  assert_float_equal(sc, 0.95f, 1e-6);
  VG_ASSERT_OK(vg_textdir_decode(&t, 1, 0.9f, &rot, &sc));
  assert_true(rot);
  VG_ASSERT_OK(vg_textdir_decode(&t, 2, 0.9f, &rot, &sc));
  assert_false(rot); /* 180 wins but not confidently */
  assert_int_equal(vg_textdir_decode(&t, 3, 0.9f, &rot, &sc), VG_ERR_INVALID_ARG);
  vg_tensor_release(&t);
}

/* ----------------------------------------------------------------- shared arithmetic */

/* pt_exp (the CTC softmax's exp, the same on CPU and GPU) against libm: within 2 ulp over the
 * range the decoder uses (x <= 0), exact at 0, and the edge values. */
static void test_shared_exp(void **st) {
  double worst = 0;
  for (int i = 0; i <= 200000; i++) {
    double x = -745.0 * (double)i / 200000.0 + (i % 7) * 1e-7;
    if (x > 0) x = 0;
    double a = pt_exp(x), b = exp(x);
    if (b > 1e-300) worst = fmax(worst, fabs(a - b) / b);
  }
  printf("pt_exp: worst relative error %.3g over [-745, 0]\n", worst);
  assert_true(worst < 4.5e-16);
  assert_true(pt_exp(0) == 1.0);
  assert_true(pt_exp(-INFINITY) == 0.0);
  assert_true(isnan(pt_exp(NAN)));
  assert_true(pt_exp(-1000) == 0.0);
  assert_true(fabs(pt_exp(1) - M_E) < 1e-15);
}

/* The hull from per-row extremes (the device's way) equals the monotone chain over (x, y) order
 * (the generic CPU way) point for point, on random regions, lines, single points. */
static void test_shared_hull_rows(void **st) {
  enum { H = 40 };
  int32_t rmin[H], rmax[H];
  pt_pt pts[2 * H], hull[4 * H + 1], p2[2 * H], hull2[4 * H + 1];
  for (int rep = 0; rep < 3000; rep++) {
    int rows = 1 + (int)(rnd01() * H);
    int kind = rep % 4; /* 0 random, 1 vertical line, 2 single row, 3 one pixel */
    if (kind >= 2) rows = 1;
    for (int r = 0; r < rows; r++) {
      int a = (int)(rnd01() * 30), b = a + (kind == 1 || kind == 3 ? 0 : (int)(rnd01() * 30));
      if (kind == 1) a = b = 7;
      rmin[r] = a, rmax[r] = b;
    }
    int ylo = (int)(rnd01() * 100);
    int m = pt_hull_rows(rmin, rmax, ylo, rows, pts, hull);
    size_t n = 0;
    for (int r = 0; r < rows; r++) {
      p2[n++] = (post_pt){rmin[r], ylo + r};
      if (rmax[r] != rmin[r]) p2[n++] = (post_pt){rmax[r], ylo + r};
    }
    size_t m2 = post_convex_hull(p2, n, hull2);
    assert_int_equal((size_t)m, m2);
    for (int i = 0; i < m; i++)
      if (hull[i].x != hull2[i].x || hull[i].y != hull2[i].y)
        fail_msg("rep %d point %d: rows (%g,%g) vs chain (%g,%g)", rep, i, hull[i].x, hull[i].y,
                 hull2[i].x, hull2[i].y);
  }
}

/* CTC tie and NaN rules (the same on the device): ties go to the lower class, a NaN never wins
 * except in class 0 (the sequential loop's rule), and -inf is an ordinary value. */
static void test_ctc_ties_nan(void **st) {
  vg_ctc_dict *d;
  VG_ASSERT_OK(vg_ctc_dict_parse("a\nb\nc\n", 6, "abc", false, &d)); /* 4 classes */
  int64_t shape[3] = {1, 4, 4};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  float v[16] = {0.1f,      0.4f,      0.4f, 0.1f,       /* tie a/b -> a */
                 0.f,       NAN,       0.3f, 0.7f,       /* NaN skipped -> c */
                 NAN,       0.9f,      0.1f, 0.f,        /* NaN at blank -> blank */
                 -INFINITY, -INFINITY, 0.5f, -INFINITY}; /* -> b (-inf is a value) */
  memcpy(vg_tensor_data(&t), v, sizeof v);
  char text[16];
  float score;
  VG_ASSERT_OK(vg_ctc_decode(&t, 0, d, VG_CTC_PROBS, text, sizeof text, &score));
  assert_string_equal(text, "acb");
  assert_float_equal(score, (0.4 + 0.7 + 0.5) / 3, 1e-6);
  vg_tensor_release(&t);
  vg_ctc_dict_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_min_area_rect),   cmocka_unit_test(test_dbnet),
      cmocka_unit_test(test_dbnet_config),    cmocka_unit_test(test_ctc_real_dict),
      cmocka_unit_test(test_dict_bad_inputs), cmocka_unit_test(test_textdir),
      cmocka_unit_test(test_shared_exp),      cmocka_unit_test(test_shared_hull_rows),
      cmocka_unit_test(test_ctc_ties_nan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
