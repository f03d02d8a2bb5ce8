/* imgproc colour conversion (CPU twin): known answers of BT.601/BT.709 limited/full range, and
 * random NV12 <-> RGB24/BGR24/GRAY8 batches compared exactly with an independent Q16 integer
 * implementation of the textbook matrices (and within 1 of the real-valued formula). */
#include "test_imgproc_common.h"

/* Textbook matrices in double: YUV -> RGB (ys, yoff, rv, gu, gv, bu) and RGB -> YUV rows. */
static void ref_coef(vg_colorspace cs, bool full, double d[6], double e[9]) {
  double kr = cs == VG_CS_BT709 ? 0.2126 : 0.299, kb = cs == VG_CS_BT709 ? 0.0722 : 0.114;
  double kg = 1 - kr - kb, ys = full ? 1 : 255.0 / 219, cs_ = full ? 1 : 255.0 / 224;
  double a[6] = {ys,
                 full ? 0 : 16,
                 cs_ * (2 - 2 * kr),
                 -cs_ * (2 - 2 * kb) * kb / kg,
                 -cs_ * (2 - 2 * kr) * kr / kg,
                 cs_ * (2 - 2 * kb)};
  memcpy(d, a, sizeof a);
  double yk = full ? 1 : 219.0 / 255, ck = full ? 1 : 224.0 / 255;
  double b[9] = {yk * kr,
                 yk * kg,
                 yk * kb,
                 ck * -kr / (2 - 2 * kb),
                 ck * -kg / (2 - 2 * kb),
                 ck * 0.5,
                 ck * 0.5,
                 ck * -kg / (2 - 2 * kr),
                 ck * -kb / (2 - 2 * kr)};
  memcpy(e, b, sizeof b);
}

static int q(double c) {
  return (int)floor(c * 65536 + 0.5);
}

/* round(v / 65536) with floor semantics, clamped. */
static int fix(int64_t v) {
  double r = floor(((double)v + 32768) / 65536);
  return r < 0 ? 0 : (r > 255 ? 255 : (int)r);
}

static void ref_yuv2rgb_i(vg_colorspace cs, bool full, int y, int u, int v, int rgb[3]) {
  double d[6], e[9];
  ref_coef(cs, full, d, e);
  int64_t yy = (int64_t)q(d[0]) * (y - (int)d[1]);
  rgb[0] = fix(yy + (int64_t)q(d[2]) * (v - 128));
  rgb[1] = fix(yy + (int64_t)q(d[3]) * (u - 128) + (int64_t)q(d[4]) * (v - 128));
  rgb[2] = fix(yy + (int64_t)q(d[5]) * (u - 128));
}

static void ref_rgb2yuv_i(vg_colorspace cs, bool full, int r, int g, int b, int yuv[3]) {
  double d[6], e[9];
  ref_coef(cs, full, d, e);
  int rgb[3] = {r, g, b};
  int64_t s[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < 3; c++)
      s[k] += (int64_t)q(e[k * 3 + c]) * rgb[c];
  yuv[0] = fix(s[0] + ((int64_t)(full ? 0 : 16) << 16));
  yuv[1] = fix(s[1] + (128 << 16));
  yuv[2] = fix(s[2] + (128 << 16));
}

static void test_known_colours(void **st) {
  struct {
    vg_colorspace cs;
    bool full;
    uint8_t rgb[3], yuv[3];
  } k[] = {
      {VG_CS_BT601, false, {255, 0, 0}, {81, 90, 240}},
      {VG_CS_BT709, false, {255, 0, 0}, {63, 102, 240}},
      {VG_CS_BT601, true, {255, 0, 0}, {76, 85, 255}},
      {VG_CS_BT601, false, {255, 255, 255}, {235, 128, 128}},
      {VG_CS_BT709, false, {0, 0, 0}, {16, 128, 128}},
      {VG_CS_BT709, true, {255, 255, 255}, {255, 128, 128}},
      {VG_CS_BT601, false, {0, 0, 255}, {41, 240, 110}},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    uint8_t yuv[3];
    vg_rgb_to_yuv(k[i].cs, k[i].full, k[i].rgb, yuv);
    for (int c = 0; c < 3; c++)
      if (yuv[c] != k[i].yuv[c])
        fail_msg("case %zu channel %d: %d, expected %d", i, c, yuv[c], k[i].yuv[c]);
  }
}

static void test_nv12_to_packed_random(void **st) {
  for (int iter = 0; iter < 60; iter++) {
    int n = t_randi(1, 4);
    vg_frame src[4], dst[4];
    for (int i = 0; i < n; i++) {
      int w = t_randi(1, 67), h = t_randi(1, 51);
      src[i] = t_frame(VG_PIX_NV12, w, h, t_randi(0, 13));
      src[i].colorspace = (vg_colorspace)t_randi(0, 1);
      src[i].full_range = t_randi(0, 1);
      dst[i] = t_frame((vg_pixfmt)t_randi(1, 3), w, h, t_randi(0, 13));
    }
    VG_ASSERT_OK(vg_convert_color(src, dst, n, NULL));
    for (int i = 0; i < n; i++) {
      for (int y = 0; y < src[i].height; y++) {
        for (int x = 0; x < src[i].width; x++) {
          int Y = t_px(&src[i], 0, x, y)[0];
          const uint8_t *uv = t_px(&src[i], 1, (x / 2) * 2, y / 2);
          int rgb[3];
          ref_yuv2rgb_i(src[i].colorspace, src[i].full_range, Y, uv[0], uv[1], rgb);
          double real[3];
          t_yuv2rgb(src[i].colorspace, src[i].full_range, Y, uv[0], uv[1], real);
          for (int c = 0; c < 3; c++)
            assert_true(fabs(rgb[c] - t_clamp255(real[c])) <= 0.51 + 0.01);
          if (dst[i].format == VG_PIX_GRAY8) {
            double d[6], e[9];
            ref_coef(src[i].colorspace, src[i].full_range, d, e);
            int g = fix((int64_t)q(d[0]) * (Y - (int)d[1]));
            assert_int_equal(t_px(&dst[i], 0, x, y)[0], g);
            continue;
          }
          const uint8_t *o = t_px(&dst[i], 0, x * 3, y);
          int sw = dst[i].format == VG_PIX_BGR24;
          if (o[0] != rgb[sw ? 2 : 0] || o[1] != rgb[1] || o[2] != rgb[sw ? 0 : 2])
            fail_msg("iter %d frame %d (%d,%d): got %d %d %d want %d %d %d", iter, i, x, y, o[0],
                     o[1], o[2], rgb[0], rgb[1], rgb[2]);
        }
      }
    }
    for (int i = 0; i < n; i++)
      vg_frame_release(&src[i]), vg_frame_release(&dst[i]);
  }
}

static void test_packed_to_nv12_random(void **st) {
  for (int iter = 0; iter < 60; iter++) {
    int n = t_randi(1, 4);
    vg_frame src[4], dst[4];
    for (int i = 0; i < n; i++) {
      int w = t_randi(1, 67), h = t_randi(1, 51);
      src[i] = t_frame((vg_pixfmt)t_randi(1, 3), w, h, t_randi(0, 13));
      dst[i] = t_frame(VG_PIX_NV12, w, h, t_randi(0, 13));
      dst[i].colorspace = (vg_colorspace)t_randi(0, 1);
      dst[i].full_range = t_randi(0, 1);
    }
    VG_ASSERT_OK(vg_convert_color(src, dst, n, NULL));
    for (int i = 0; i < n; i++) {
      const vg_frame *s = &src[i], *d = &dst[i];
      for (int by = 0; by < (s->height + 1) / 2; by++) {
        for (int bx = 0; bx < (s->width + 1) / 2; bx++) {
          int sum[3] = {0, 0, 0}, cnt = 0, yuv[3];
          for (int y = 2 * by; y < 2 * by + 2 && y < s->height; y++) {
            for (int x = 2 * bx; x < 2 * bx + 2 && x < s->width; x++) {
              int rgb[3];
              for (int c = 0; c < 3; c++) {
                if (s->format == VG_PIX_GRAY8)
                  rgb[c] = t_px(s, 0, x, y)[0];
                else
                  rgb[c] = t_px(s, 0, x * 3 + (s->format == VG_PIX_BGR24 ? 2 - c : c), y)[0];
                sum[c] += rgb[c];
              }
              cnt++;
              ref_rgb2yuv_i(d->colorspace, d->full_range, rgb[0], rgb[1], rgb[2], yuv);
              if (t_px(d, 0, x, y)[0] != yuv[0])
                fail_msg("iter %d frame %d Y(%d,%d) = %d, want %d", iter, i, x, y,
                         t_px(d, 0, x, y)[0], yuv[0]);
            }
          }
          for (int c = 0; c < 3; c++)
            sum[c] = (sum[c] + cnt / 2) / cnt;
          ref_rgb2yuv_i(d->colorspace, d->full_range, sum[0], sum[1], sum[2], yuv);
          const uint8_t *uv = t_px(d, 1, bx * 2, by);
          if (uv[0] != yuv[1] || uv[1] != yuv[2])
            fail_msg("iter %d frame %d UV(%d,%d) = %d,%d want %d,%d", iter, i, bx, by, uv[0], uv[1],
                     yuv[1], yuv[2]);
        }
      }
    }
    for (int i = 0; i < n; i++)
      vg_frame_release(&src[i]), vg_frame_release(&dst[i]);
  }
}

/* RGB -> NV12 -> RGB keeps flat colours within a few levels (a sanity check of both ways). */
static void test_round_trip(void **st) {
  vg_frame rgb = t_frame(VG_PIX_RGB24, 6, 4, 0), nv = t_frame(VG_PIX_NV12, 6, 4, 2),
           back = t_frame(VG_PIX_RGB24, 6, 4, 1);
  for (int cs = 0; cs < 2; cs++) {
    for (int full = 0; full < 2; full++) {
      uint8_t col[3] = {(uint8_t)t_rand(), (uint8_t)t_rand(), (uint8_t)t_rand()};
      for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++)
          memcpy((uint8_t *)t_px(&rgb, 0, 3 * x, y), col, 3);
      nv.colorspace = (vg_colorspace)cs, nv.full_range = full;
      VG_ASSERT_OK(vg_convert_color(&rgb, &nv, 1, NULL));
      VG_ASSERT_OK(vg_convert_color(&nv, &back, 1, NULL));
      for (int c = 0; c < 3; c++)
        assert_true(abs(t_px(&back, 0, 3 * 5 + c, 3)[0] - col[c]) <= 3);
    }
  }
  vg_frame_release(&rgb), vg_frame_release(&nv), vg_frame_release(&back);
}

static void test_convert_bad_args(void **st) {
  vg_frame a = t_frame(VG_PIX_NV12, 8, 8, 0), b = t_frame(VG_PIX_RGB24, 8, 6, 0),
           c = t_frame(VG_PIX_NV12, 8, 8, 0), g = t_frame(VG_PIX_GRAY8, 8, 8, 0);
  assert_int_equal(vg_convert_color(&a, &b, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("sizes must be equal");
  assert_int_equal(vg_convert_color(&a, &c, 1, NULL), VG_ERR_UNSUPPORTED);
  VG_ASSERT_MSG_HAS("nv12 to nv12");
  assert_int_equal(vg_convert_color(&a, &g, 0, NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_convert_color(&a, &a, 1, NULL), VG_ERR_UNSUPPORTED);
  g.pitch[0] = 4; /* smaller than a row */
  assert_int_equal(vg_convert_color(&a, &g, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("pitch 4");
  g.pitch[0] = 8;
  g.height = 9; /* rows beyond the buffer */
  b.height = 9, b.width = 8;
  assert_int_equal(vg_convert_color(&b, &g, 1, NULL), VG_ERR_INVALID_ARG);
  g.height = 8;
  vg_frame_release(&a), vg_frame_release(&b), vg_frame_release(&c), vg_frame_release(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_colours),         cmocka_unit_test(test_nv12_to_packed_random),
      cmocka_unit_test(test_packed_to_nv12_random), cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_convert_bad_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
