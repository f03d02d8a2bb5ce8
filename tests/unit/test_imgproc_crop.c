/* imgproc ROI crops (CPU twin): random boxes (partly outside, clipped) and quadrilaterals
 * (perspective) from NV12/RGB frames into fixed-size and fixed-height/variable-width tensors,
 * compared with the reference sampler and a homography solved by Gaussian elimination; the
 * PP-OCR recogniser layout; ROI errors. */
#include "test_imgproc_common.h"

/* Homography H with H * (u, v, 1) ~ (x, y, 1) for the 4 correspondences, by solving the 8x8
 * linear system (h8 = 1) with partial pivoting. */
static void solve_homography(const double u[4], const double v[4], const double x[4],
                             const double y[4], double H[9]) {
  double A[8][9];
  for (int k = 0; k < 4; k++) {
    double r1[9] = {u[k], v[k], 1, 0, 0, 0, -u[k] * x[k], -v[k] * x[k], x[k]};
    double r2[9] = {0, 0, 0, u[k], v[k], 1, -u[k] * y[k], -v[k] * y[k], y[k]};
    memcpy(A[2 * k], r1, sizeof r1);
    memcpy(A[2 * k + 1], r2, sizeof r2);
  }
  for (int c = 0; c < 8; c++) {
    int p = c;
    for (int r = c + 1; r < 8; r++)
      if (fabs(A[r][c]) > fabs(A[p][c])) p = r;
    for (int k = 0; k < 9; k++) {
      double t = A[c][k];
      A[c][k] = A[p][k], A[p][k] = t;
    }
    for (int r = 0; r < 8; r++) {
      if (r == c) continue;
      double f = A[r][c] / A[c][c];
      for (int k = c; k < 9; k++)
        A[r][k] -= f * A[c][k];
    }
  }
  for (int k = 0; k < 8; k++)
    H[k] = A[k][8] / A[k][k];
  H[8] = 1;
}

static int ref_width(double aw, double ah, int out_h, int max_w) {
  int w = (int)ceil(out_h * aw / ah - 1e-6);
  return w < 1 ? 1 : (w > max_w ? max_w : w);
}

static double side(const vg_quad *q, int a, int b) {
  return hypot(q->x[b] - q->x[a], q->y[b] - q->y[a]);
}

/* A random convex quad: a rotated rectangle with jittered corners, clockwise from top-left. */
static vg_quad random_quad(int W, int H) {
  double cx = t_randf(0, (float)W), cy = t_randf(0, (float)H);
  double hw = t_randf(2, W / 2.f + 2), hh = t_randf(2, H / 4.f + 2), a = t_randf(-0.6f, 0.6f);
  double px[4] = {-hw, hw, hw, -hw}, py[4] = {-hh, -hh, hh, hh};
  vg_quad q;
  for (int k = 0; k < 4; k++) {
    double jx = px[k] + t_randf(-1, 1) * hw * 0.15, jy = py[k] + t_randf(-1, 1) * hh * 0.15;
    q.x[k] = (float)(cx + jx * cos(a) - jy * sin(a));
    q.y[k] = (float)(cy + jx * sin(a) + jy * cos(a));
  }
  return q;
}

static void test_crops_random(void **st) {
  double worst = 0;
  for (int iter = 0; iter < 80; iter++) {
    int nf = t_randi(1, 3), n = iter % 10 == 0 ? t_randi(20, 40) : t_randi(1, 6);
    vg_frame fr[3];
    for (int i = 0; i < nf; i++) {
      fr[i] = t_frame(t_randi(0, 3) ? VG_PIX_NV12 : VG_PIX_BGR24, t_randi(3, 120), t_randi(3, 90),
                      t_randi(0, 21));
      fr[i].colorspace = (vg_colorspace)t_randi(0, 1);
      fr[i].full_range = t_randi(0, 1);
    }
    vg_roi rois[40];
    for (int k = 0; k < n; k++) {
      memset(&rois[k], 0, sizeof rois[k]);
      rois[k].frame = t_randi(0, nf - 1);
      const vg_frame *f = &fr[rois[k].frame];
      rois[k].is_quad = t_randi(0, 1);
      if (rois[k].is_quad) {
        rois[k].quad = random_quad(f->width, f->height);
      } else {
        float x1 = t_randf(-10, f->width - 2.f), y1 = t_randf(-10, f->height - 2.f);
        rois[k].box = (vg_box){x1, y1, x1 + t_randf(2.5f, f->width + 10.f),
                               y1 + t_randf(2.5f, f->height + 10.f)};
        if (rois[k].box.x2 < 1) rois[k].box.x2 = 1.5f;
        if (rois[k].box.y2 < 1) rois[k].box.y2 = 1.5f;
      }
    }
    vg_crop_params cp = {t_randi(0, 1), t_randi(4, 64)};
    int oh = t_randi(4, 32), ow = t_randi(4, 48), bmax = 0, widths[40];
    if (cp.var_width) {
      VG_ASSERT_OK(vg_crop_widths(fr, nf, rois, n, oh, cp.max_w, widths, &bmax));
      ow = bmax + t_randi(0, 3);
    }
    vg_tensor_params tp = vg_tensor_params_default();
    tp.interp = t_randi(0, 3) ? VG_INTERP_BILINEAR : VG_INTERP_NEAREST;
    tp.bgr = t_randi(0, 1);
    vg_layout l = t_randi(0, 1) ? VG_LAYOUT_NHWC : VG_LAYOUT_NCHW;
    vg_tensor out = t_tensor(VG_DTYPE_F32, l, n, oh, ow);
    int used[40];
    vg_xform xf[40];
    VG_ASSERT_OK(vg_crop(fr, nf, rois, n, &cp, &tp, l, &out, used, xf, NULL));
    double mean[3] = {0, 0, 0}, stdv[3] = {1, 1, 1};
    for (int k = 0; k < n; k++) {
      const vg_frame *f = &fr[rois[k].frame];
      t_map m;
      memset(&m, 0, sizeof m);
      m.dh = oh;
      if (rois[k].is_quad) {
        const vg_quad *q = &rois[k].quad;
        double qw = fmax(side(q, 0, 1), side(q, 3, 2)), qh = fmax(side(q, 0, 3), side(q, 1, 2));
        m.dw = cp.var_width ? ref_width(qw, qh, oh, cp.max_w) : ow;
        double u[4] = {0, m.dw, m.dw, 0}, v[4] = {0, 0, oh, oh}, x[4], y[4];
        for (int c = 0; c < 4; c++)
          x[c] = q->x[c], y[c] = q->y[c];
        solve_homography(u, v, x, y, m.H);
        m.persp = 1;
      } else {
        double x1 = fmax(rois[k].box.x1, 0), y1 = fmax(rois[k].box.y1, 0);
        double x2 = fmin(rois[k].box.x2, f->width), y2 = fmin(rois[k].box.y2, f->height);
        m.dw = cp.var_width ? ref_width(x2 - x1, y2 - y1, oh, cp.max_w) : ow;
        m.sx0 = x1, m.sy0 = y1, m.rx = (x2 - x1) / m.dw, m.ry = (y2 - y1) / oh;
        float fx, fy;
        vg_xform_to_frame(&xf[k], (float)m.dw, (float)oh, &fx, &fy);
        assert_true(fabs(fx - x2) < 1e-3 && fabs(fy - y2) < 1e-3);
      }
      assert_int_equal(used[k], m.dw);
      if (cp.var_width) assert_int_equal(widths[k], m.dw);
      double e = t_check_item(&out, l, k, f, &m, tp.interp == VG_INTERP_NEAREST, tp.bgr, mean, stdv,
                              tp.pad_value, 1e-4);
      if (e > worst) worst = e;
      if (e > 1e-4)
        fail_msg("iter %d roi %d (%s, %dx%d frame %s, out %dx%d used %d)", iter, k,
                 rois[k].is_quad ? "quad" : "box", f->width, f->height, vg_pixfmt_name(f->format),
                 ow, oh, m.dw);
    }
    for (int i = 0; i < nf; i++)
      vg_frame_release(&fr[i]);
    vg_tensor_release(&out);
  }
  printf("crops: worst relative error %.2e\n", worst);
}

/* PP-OCR recogniser input: height 48, (x/255 - 0.5)/0.5, NCHW, zero padding; an axis-aligned
 * quad gives the same crop as the equivalent box. */
static void test_ppocr_layout(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 200, 100, 12);
  vg_roi r[2];
  memset(r, 0, sizeof r);
  r[0].box = (vg_box){10, 20, 110, 45}; /* 100 x 25 -> width ceil(48 * 4) = 192 */
  r[1].is_quad = true;
  r[1].quad = (vg_quad){{10, 110, 110, 10}, {20, 20, 45, 45}};
  vg_crop_params cp = {true, 320};
  int widths[2], bmax;
  VG_ASSERT_OK(vg_crop_widths(&f, 1, r, 2, 48, 320, widths, &bmax));
  assert_int_equal(widths[0], 192);
  assert_int_equal(widths[1], 192);
  assert_int_equal(bmax, 192);
  vg_tensor out = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 2, 48, 256);
  vg_tensor_params tp = vg_tensor_params_default();
  float half[3] = {0.5f, 0.5f, 0.5f};
  tp.norm = vg_norm_mean_std(half, half);
  tp.pad_value = 127.5f;
  int used[2];
  VG_ASSERT_OK(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, used, NULL, NULL));
  assert_int_equal(used[0], 192);
  for (int c = 0; c < 3; c++) {
    assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 0, c, 47, 192), 0.0, 1e-6);
    assert_float_equal(t_at(&out, VG_LAYOUT_NCHW, 1, c, 0, 255), 0.0, 1e-6);
    for (int y = 0; y < 48; y++)
      for (int x = 0; x < 192; x++) {
        float a = t_at(&out, VG_LAYOUT_NCHW, 0, c, y, x),
              b = t_at(&out, VG_LAYOUT_NCHW, 1, c, y, x);
        assert_true(a >= -1.f && a <= 1.f);
        assert_float_equal(a, b, 1e-3);
      }
  }
  /* a narrower tensor than the widths need is refused */
  vg_tensor narrow = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 2, 48, 100);
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &narrow, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("needs width 192");
  vg_tensor_release(&narrow);
  vg_tensor_release(&out);
  vg_frame_release(&f);
}

static void test_roi_errors(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 64, 48, 0);
  vg_tensor out = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 2, 16, 16);
  vg_tensor_params tp = vg_tensor_params_default();
  vg_crop_params cp = {false, 0};
  vg_roi r[2];
  memset(r, 0, sizeof r);
  r[0].box = (vg_box){0, 0, 10, 10};
  r[1].box = (vg_box){70, 10, 90, 20}; /* right of the frame */
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("roi 1");
  VG_ASSERT_MSG_HAS("empty after clipping");
  r[1].box = (vg_box){5, 5, NAN, 9};
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("non-finite");
  r[1].box = (vg_box){5, 5, 9, 9};
  r[1].frame = 1;
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("names frame 1 of 1");
  r[1].frame = 0;
  r[1].is_quad = true;
  r[1].quad = (vg_quad){{1, 5, 9, 13}, {1, 5, 9, 13}}; /* collinear */
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("zero area");
  r[1].quad = (vg_quad){{100, 120, 120, 100}, {1, 1, 9, 9}}; /* outside */
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("outside");
  /* mismatched batch: 2 rois, tensor of 3 */
  r[1] = r[0];
  vg_tensor three = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 3, 16, 16);
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &three, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("N=2");
  cp.var_width = true;
  cp.max_w = 0;
  assert_int_equal(vg_crop(&f, 1, r, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("max_w");
  assert_int_equal(vg_crop_widths(&f, 1, r, -1, 48, 320, NULL, NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_crop_widths(&f, 1, NULL, 1, 48, 320, NULL, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("NULL");
  assert_int_equal(vg_crop(&f, 1, NULL, 2, &cp, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_tensor_release(&three);
  vg_tensor_release(&out);
  vg_frame_release(&f);
}

/* A frame without objects is an empty batch, not an error: widths give 0, a crop into an N = 0
 * tensor succeeds without touching anything, and the tensor must still say N = 0. */
static void test_empty_batch(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 64, 48, 3);
  vg_tensor_params tp = vg_tensor_params_default();
  int bmax = 77;
  VG_ASSERT_OK(vg_crop_widths(&f, 1, NULL, 0, 48, 320, NULL, &bmax));
  assert_int_equal(bmax, 0);
  VG_ASSERT_OK(vg_crop_widths(NULL, 0, NULL, 0, 48, 320, NULL, NULL));
  vg_tensor empty = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 0, 48, 320);
  for (int var = 0; var < 2; var++) {
    vg_crop_params cp = {var == 1, 320};
    VG_ASSERT_OK(vg_crop(&f, 1, NULL, 0, &cp, &tp, VG_LAYOUT_NCHW, &empty, NULL, NULL, NULL));
  }
  vg_crop_params cp = {true, 320};
  vg_tensor two = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 2, 48, 320);
  assert_int_equal(vg_crop(&f, 1, NULL, 0, &cp, &tp, VG_LAYOUT_NCHW, &two, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("N=0");
  /* the frame is still checked */
  assert_int_equal(vg_crop(NULL, 1, NULL, 0, &cp, &tp, VG_LAYOUT_NCHW, &empty, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_tensor_release(&two);
  vg_tensor_release(&empty);
  vg_frame_release(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_batch),
      cmocka_unit_test(test_crops_random),
      cmocka_unit_test(test_ppocr_layout),
      cmocka_unit_test(test_roi_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
