/* imgproc CPU twins of the fused preprocess and of tiles, compared with the double-precision
 * reference formulas of test_imgproc_common.h on random cases (odd sizes, pitches larger than
 * rows, every format/fit/interp/layout/dtype/norm), plus known answers and tile grids. */
#include "test_imgproc_common.h"

static double g_worst[2]; /* largest error seen: f32, f16 (printed at the end) */

typedef struct case_params {
  vg_fit fit;
  vg_tensor_params tp;
  vg_layout layout;
  vg_dtype dtype;
  double mean[3], stdv[3];
} case_params;

static case_params random_params(void) {
  case_params c;
  c.fit = (vg_fit)t_randi(0, 2);
  c.tp = vg_tensor_params_default();
  c.tp.interp = t_randi(0, 3) == 0 ? VG_INTERP_NEAREST : VG_INTERP_BILINEAR;
  c.tp.bgr = t_randi(0, 1);
  c.tp.pad_value = (float)t_randi(0, 255);
  c.layout = t_randi(0, 1) ? VG_LAYOUT_NHWC : VG_LAYOUT_NCHW;
  c.dtype = t_randi(0, 1) ? VG_DTYPE_F16 : VG_DTYPE_F32;
  if (t_randi(0, 1)) {
    float mean[3], stdv[3];
    for (int k = 0; k < 3; k++) {
      mean[k] = t_randf(0.2f, 0.6f), stdv[k] = t_randf(0.2f, 0.6f);
      c.mean[k] = mean[k], c.stdv[k] = stdv[k];
    }
    c.tp.norm = vg_norm_mean_std(mean, stdv);
  } else {
    c.tp.norm = vg_norm_unit();
    for (int k = 0; k < 3; k++)
      c.mean[k] = 0, c.stdv[k] = 1;
  }
  return c;
}

static double tol_of(vg_dtype dt) {
  return dt == VG_DTYPE_F16 ? 1e-3 : 1e-4;
}

static void note(vg_dtype dt, double e) {
  int k = dt == VG_DTYPE_F16;
  if (e > g_worst[k]) g_worst[k] = e;
}

/* The letterbox/stretch map, computed from the definition. */
static t_map fit_map(int w, int h, int ow, int oh, vg_fit fit) {
  t_map m;
  memset(&m, 0, sizeof m);
  int nw = ow, nh = oh;
  if (fit != VG_FIT_STRETCH) {
    double r = fmin((double)ow / w, (double)oh / h);
    nw = (int)lround(w * r), nh = (int)lround(h * r);
    nw = nw < 1 ? 1 : (nw > ow ? ow : nw);
    nh = nh < 1 ? 1 : (nh > oh ? oh : nh);
  }
  m.dw = nw, m.dh = nh;
  m.dx = fit == VG_FIT_LETTERBOX ? (ow - nw) / 2 : 0;
  m.dy = fit == VG_FIT_LETTERBOX ? (oh - nh) / 2 : 0;
  m.rx = (double)w / nw, m.ry = (double)h / nh;
  return m;
}

static void test_preprocess_random(void **st) {
  for (int iter = 0; iter < 150; iter++) {
    int n = iter % 7 == 0 ? t_randi(5, 9) : t_randi(1, 3);
    case_params c = random_params();
    int ow = t_randi(1, 48), oh = t_randi(1, 48);
    if (iter % 5 == 0) ow = t_randi(40, 80), oh = t_randi(40, 80);
    vg_frame fr[9];
    for (int i = 0; i < n; i++) {
      vg_pixfmt fmt = iter % 3 ? VG_PIX_NV12 : (vg_pixfmt)t_randi(0, 3);
      fr[i] = t_frame(fmt, t_randi(1, 90), t_randi(1, 90), t_randi(0, 1) ? t_randi(1, 40) : 0);
      fr[i].colorspace = (vg_colorspace)t_randi(0, 1);
      fr[i].full_range = t_randi(0, 1);
    }
    vg_tensor out = t_tensor(c.dtype, c.layout, n, oh, ow);
    vg_xform xf[9];
    VG_ASSERT_OK(vg_preprocess(fr, n, c.fit, &c.tp, c.layout, &out, xf, NULL));
    for (int i = 0; i < n; i++) {
      t_map m = fit_map(fr[i].width, fr[i].height, ow, oh, c.fit);
      double e = t_check_item(&out, c.layout, i, &fr[i], &m, c.tp.interp == VG_INTERP_NEAREST,
                              c.tp.bgr, c.mean, c.stdv, c.tp.pad_value, tol_of(c.dtype));
      note(c.dtype, e);
      if (e > tol_of(c.dtype))
        fail_msg("iter %d item %d: %dx%d %s -> %dx%d fit %d interp %d", iter, i, fr[i].width,
                 fr[i].height, vg_pixfmt_name(fr[i].format), ow, oh, c.fit, c.tp.interp);
      /* the transform maps the content rectangle back onto the whole frame */
      float fx, fy;
      vg_xform_to_frame(&xf[i], (float)(m.dx + m.dw), (float)(m.dy + m.dh), &fx, &fy);
      assert_true(fabsf(fx - fr[i].width) < 1e-3f && fabsf(fy - fr[i].height) < 1e-3f);
      vg_xform_to_frame(&xf[i], (float)m.dx, (float)m.dy, &fx, &fy);
      assert_true(fabsf(fx) < 1e-3f && fabsf(fy) < 1e-3f);
    }
    for (int i = 0; i < n; i++)
      vg_frame_release(&fr[i]);
    vg_tensor_release(&out);
  }
  printf("preprocess: worst relative error f32 %.2e, f16 %.2e\n", g_worst[0], g_worst[1]);
}

/* Known answers: a flat BT.601 limited-range white and red NV12 frame, letterboxed. */
static void test_preprocess_known(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 64, 32, 8);
  uint8_t yuv[2][3] = {{235, 128, 128}, {81, 90, 240}}; /* white, red (BT.601 limited) */
  double want[2][3] = {{1, 1, 1}, {1, 0, 0}};
  for (int k = 0; k < 2; k++) {
    for (int y = 0; y < 32; y++)
      memset((uint8_t *)t_px(&f, 0, 0, y), yuv[k][0], 64);
    for (int y = 0; y < 16; y++)
      for (int x = 0; x < 32; x++) {
        uint8_t *uv = (uint8_t *)t_px(&f, 1, 2 * x, y);
        uv[0] = yuv[k][1], uv[1] = yuv[k][2];
      }
    vg_tensor out = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 40, 40);
    vg_tensor_params tp = vg_tensor_params_default();
    vg_xform xf;
    VG_ASSERT_OK(vg_preprocess(&f, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, &xf, NULL));
    /* 64x32 -> 40x20 centred in 40x40: rows 10..29 are the picture, the rest 114/255 */
    assert_float_equal(xf.scale_x, 40.f / 64, 1e-6);
    assert_float_equal(xf.pad_y, 10.f, 0);
    for (int c = 0; c < 3; c++) {
      assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 0, c, 9, 5), 114.0 / 255, 1e-6);
      assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 0, c, 30, 5), 114.0 / 255, 1e-6);
      assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 0, c, 10, 0), want[k][c], 0.01);
      assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 0, c, 29, 39), want[k][c], 0.01);
    }
    vg_tensor_release(&out);
  }
  vg_frame_release(&f);
}

/* ----------------------------------------------------------------- tiles */

static void test_tile_grid_known(void **st) {
  vg_tile_params tp = {640, 640, 64, true};
  vg_rect r[64];
  int n;
  VG_ASSERT_OK(vg_tile_grid(3840, 2160, &tp, r, 64, &n));
  /* stride 576: x = 0, 576, ..., 2880, then 3200 (ends at 3840); y = 0, 576, 1152, 1520 */
  assert_int_equal(n, 7 * 4 + 1);
  assert_int_equal(r[5].x, 2880);
  assert_int_equal(r[6].x, 3200);
  assert_int_equal(r[7].y, 576);
  assert_int_equal(r[21].y, 1520);
  assert_int_equal(r[27].x + r[27].w, 3840);
  assert_int_equal(r[28].w, 3840); /* global view last */
  assert_int_equal(r[28].h, 2160);
  /* small frame: one clipped tile; cap 0 only counts */
  tp.global_view = false;
  VG_ASSERT_OK(vg_tile_grid(300, 700, &tp, r, 64, &n));
  assert_int_equal(n, 2);
  assert_int_equal(r[0].w, 300);
  assert_int_equal(r[1].y, 60);
  VG_ASSERT_OK(vg_tile_grid(3840, 2160, &tp, NULL, 0, &n));
  assert_int_equal(n, 28);
}

/* Random grids: every pixel is covered, tiles stay inside, neighbours overlap by >= overlap. */
static void test_tile_grid_random(void **st) {
  for (int iter = 0; iter < 300; iter++) {
    vg_tile_params tp = {t_randi(1, 50), t_randi(1, 50), 0, false};
    int m = tp.tile_w < tp.tile_h ? tp.tile_w : tp.tile_h;
    tp.overlap = t_randi(0, m - 1);
    int W = t_randi(1, 200), H = t_randi(1, 200), n;
    VG_ASSERT_OK(vg_tile_grid(W, H, &tp, NULL, 0, &n));
    vg_rect *r = malloc(sizeof *r * n);
    int n2;
    VG_ASSERT_OK(vg_tile_grid(W, H, &tp, r, n, &n2));
    assert_int_equal(n, n2);
    unsigned char *cov = calloc((size_t)W * H, 1);
    for (int k = 0; k < n; k++) {
      assert_true(r[k].x >= 0 && r[k].y >= 0 && r[k].x + r[k].w <= W && r[k].y + r[k].h <= H);
      assert_int_equal(r[k].w, W < tp.tile_w ? W : tp.tile_w);
      for (int y = r[k].y; y < r[k].y + r[k].h; y++)
        for (int x = r[k].x; x < r[k].x + r[k].w; x++)
          cov[y * W + x] = 1;
      if (k > 0 && r[k].y == r[k - 1].y && W > tp.tile_w)
        assert_true(r[k - 1].x + r[k - 1].w - r[k].x >= tp.overlap);
    }
    for (int i = 0; i < W * H; i++)
      assert_int_equal(cov[i], 1);
    free(cov);
    free(r);
  }
}

static void test_tiles_random(void **st) {
  for (int iter = 0; iter < 40; iter++) {
    int n = t_randi(1, 3);
    case_params c = random_params();
    vg_tile_params tp = {t_randi(8, 40), t_randi(8, 40), 0, t_randi(0, 1)};
    tp.overlap = t_randi(0, 7);
    int ow = t_randi(8, 48), oh = t_randi(8, 48);
    vg_frame fr[3];
    int total = 0, counts[3];
    for (int i = 0; i < n; i++) {
      fr[i] = t_frame(t_randi(0, 2) ? VG_PIX_NV12 : VG_PIX_RGB24, t_randi(5, 100), t_randi(5, 100),
                      t_randi(0, 9));
      fr[i].colorspace = (vg_colorspace)t_randi(0, 1);
      fr[i].full_range = t_randi(0, 1);
      VG_ASSERT_OK(vg_tile_grid(fr[i].width, fr[i].height, &tp, NULL, 0, &counts[i]));
      total += counts[i];
    }
    vg_tensor out = t_tensor(c.dtype, c.layout, total, oh, ow);
    vg_xform *xf = malloc(sizeof *xf * total);
    int *which = malloc(sizeof *which * total);
    VG_ASSERT_OK(vg_preprocess_tiles(fr, n, &tp, &c.tp, c.layout, &out, xf, which, NULL));
    double s = fmin((double)ow / tp.tile_w, (double)oh / tp.tile_h);
    for (int i = 0, item = 0; i < n; i++) {
      vg_rect r[4096];
      int cnt;
      VG_ASSERT_OK(vg_tile_grid(fr[i].width, fr[i].height, &tp, r, 4096, &cnt));
      for (int k = 0; k < cnt; k++, item++) {
        assert_int_equal(which[item], i);
        t_map m;
        if (tp.global_view && k == cnt - 1) {
          m = fit_map(fr[i].width, fr[i].height, ow, oh, VG_FIT_LETTERBOX);
        } else {
          memset(&m, 0, sizeof m);
          m.dw = (int)lround(r[k].w * s), m.dh = (int)lround(r[k].h * s);
          m.dw = m.dw < 1 ? 1 : (m.dw > ow ? ow : m.dw);
          m.dh = m.dh < 1 ? 1 : (m.dh > oh ? oh : m.dh);
          m.sx0 = r[k].x, m.sy0 = r[k].y;
          m.rx = (double)r[k].w / m.dw, m.ry = (double)r[k].h / m.dh;
          float fx, fy;
          vg_xform_to_frame(&xf[item], (float)m.dw, (float)m.dh, &fx, &fy);
          assert_true(fabsf(fx - (r[k].x + r[k].w)) < 1e-3f);
          assert_true(fabsf(fy - (r[k].y + r[k].h)) < 1e-3f);
        }
        double e = t_check_item(&out, c.layout, item, &fr[i], &m, c.tp.interp == VG_INTERP_NEAREST,
                                c.tp.bgr, c.mean, c.stdv, c.tp.pad_value, tol_of(c.dtype));
        note(c.dtype, e);
        if (e > tol_of(c.dtype)) fail_msg("tiles iter %d frame %d tile %d", iter, i, k);
      }
    }
    for (int i = 0; i < n; i++)
      vg_frame_release(&fr[i]);
    vg_tensor_release(&out);
    free(xf);
    free(which);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_preprocess_random), cmocka_unit_test(test_preprocess_known),
      cmocka_unit_test(test_tile_grid_known),   cmocka_unit_test(test_tile_grid_random),
      cmocka_unit_test(test_tiles_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
