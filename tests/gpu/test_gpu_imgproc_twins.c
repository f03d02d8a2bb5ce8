/* GPU: every imgproc kernel against its CPU twin on the same random cases (odd sizes, pitches
 * larger than rows, batch 1 to beyond the inline descriptor capacity): preprocess, tiles, ROI
 * crops (boxes and quads), colour conversion and overlay. Float outputs must agree within
 * 1e-3 relative (f16 after conversion, 2e-3), 8-bit outputs within 1. Prints one KEY line with
 * the largest differences. Skips (77) without a GPU; with VG_IMGPROC_TWIN_SELFTEST=1 and no GPU
 * it runs the same harness with the host as the "device" (to check the harness itself). */
#include "unit/test_imgproc_common.h"

static vg_device g_dev;
static vg_stream g_s;
static double g_max_f32, g_max_f16;
static int g_max_u8;
static long g_cases;

/* ----------------------------------------------------------------- copies */

static vg_frame dev_frame(const vg_frame *h) {
  vg_frame d = *h;
  size_t n = vg_buffer_size(h->buffer);
  if (vg_buffer_alloc(g_dev, n, NULL, &d.buffer) != VG_OK) abort();
  VG_ASSERT_OK(vg_memcpy(vg_buffer_data(d.buffer), g_dev, vg_buffer_data(h->buffer), vg_cpu(), n));
  return d;
}

static vg_frame host_frame(const vg_frame *d) {
  vg_frame h = *d;
  size_t n = vg_buffer_size(d->buffer);
  if (vg_buffer_alloc(vg_cpu(), n, NULL, &h.buffer) != VG_OK) abort();
  VG_ASSERT_OK(vg_memcpy(vg_buffer_data(h.buffer), vg_cpu(), vg_buffer_data(d->buffer), g_dev, n));
  return h;
}

static vg_tensor dev_tensor_like(const vg_tensor *h) {
  vg_tensor d;
  VG_ASSERT_OK(vg_tensor_alloc(h->dtype, h->ndim, h->shape, g_dev, NULL, &d));
  VG_ASSERT_OK(vg_memset_async(vg_tensor_data(&d), g_dev, 0x7f, vg_tensor_nbytes(&d), g_s));
  return d;
}

/* Compares a device tensor (after the stream is done) with the host result. */
static void compare_tensors(const vg_tensor *host, const vg_tensor *dev, const char *what) {
  VG_ASSERT_OK(vg_stream_sync(g_s));
  size_t n = vg_tensor_nbytes(host);
  uint8_t *back = malloc(n);
  VG_ASSERT_OK(vg_memcpy(back, vg_cpu(), vg_tensor_data(dev), g_dev, n));
  int64_t cnt = vg_tensor_numel(host);
  bool f16 = host->dtype == VG_DTYPE_F16;
  for (int64_t i = 0; i < cnt; i++) {
    double a = t_tget(host, i), b = f16 ? vg_f16_to_f32(((uint16_t *)back)[i]) : ((float *)back)[i];
    double e = fabs(a - b) / (fabs(a) > 1 ? fabs(a) : 1);
    if (!(e <= (f16 ? 2e-3 : 1e-3)))
      fail_msg("%s: element %lld: cpu %.7g gpu %.7g", what, (long long)i, a, b);
    double *m = f16 ? &g_max_f16 : &g_max_f32;
    if (e > *m) *m = e;
  }
  free(back);
  g_cases++;
}

static void compare_frames(const vg_frame *host, const vg_frame *dev, const char *what) {
  VG_ASSERT_OK(vg_stream_sync(g_s));
  vg_frame back = host_frame(dev);
  const uint8_t *a = vg_buffer_data(host->buffer), *b = vg_buffer_data(back.buffer);
  for (size_t i = 0; i < vg_buffer_size(host->buffer); i++) {
    int d = abs((int)a[i] - (int)b[i]);
    if (d > 1) fail_msg("%s: byte %zu: cpu %d gpu %d", what, i, a[i], b[i]);
    if (d > g_max_u8) g_max_u8 = d;
  }
  vg_frame_release(&back);
  g_cases++;
}

/* ----------------------------------------------------------------- random inputs */

static vg_frame rand_frame(int maxw, int maxh, bool nv12_only) {
  vg_pixfmt fmt = nv12_only || t_randi(0, 2) ? VG_PIX_NV12 : (vg_pixfmt)t_randi(1, 3);
  vg_frame f = t_frame(fmt, t_randi(1, maxw), t_randi(1, maxh), t_randi(0, 1) ? t_randi(1, 70) : 0);
  f.colorspace = (vg_colorspace)t_randi(0, 1);
  f.full_range = t_randi(0, 1);
  return f;
}

static vg_tensor_params rand_tp(void) {
  vg_tensor_params tp = vg_tensor_params_default();
  tp.interp = t_randi(0, 2) ? VG_INTERP_BILINEAR : VG_INTERP_NEAREST;
  tp.bgr = t_randi(0, 1);
  tp.pad_value = (float)t_randi(0, 255);
  if (t_randi(0, 1)) {
    float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    tp.norm = vg_norm_mean_std(mean, stdv);
  }
  return tp;
}

/* ----------------------------------------------------------------- tests */

static void test_preprocess_twins(void **st) {
  for (int iter = 0; iter < 40; iter++) {
    int n = iter == 0 ? 1 : (iter % 8 == 0 ? t_randi(65, 90) : t_randi(1, 12));
    vg_frame hf[90], df[90];
    for (int i = 0; i < n; i++)
      hf[i] = rand_frame(n > 20 ? 60 : 300, n > 20 ? 60 : 200, false);
    for (int i = 0; i < n; i++)
      df[i] = dev_frame(&hf[i]);
    vg_tensor_params tp = rand_tp();
    vg_layout l = t_randi(0, 1) ? VG_LAYOUT_NHWC : VG_LAYOUT_NCHW;
    vg_dtype dt = t_randi(0, 1) ? VG_DTYPE_F16 : VG_DTYPE_F32;
    vg_fit fit = (vg_fit)t_randi(0, 2);
    vg_tensor ht = t_tensor(dt, l, n, t_randi(1, 130), t_randi(1, 130)), dtn = dev_tensor_like(&ht);
    vg_xform hx[90], dx[90];
    VG_ASSERT_OK(vg_preprocess(hf, n, fit, &tp, l, &ht, hx, NULL));
    VG_ASSERT_OK(vg_preprocess(df, n, fit, &tp, l, &dtn, dx, g_s));
    assert_memory_equal(hx, dx, sizeof hx[0] * n);
    char what[64];
    snprintf(what, sizeof what, "preprocess iter %d (batch %d)", iter, n);
    compare_tensors(&ht, &dtn, what);
    for (int i = 0; i < n; i++)
      vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
    vg_tensor_release(&ht);
    vg_tensor_release(&dtn);
  }
}

/* The benchmark's shape: 1080p NV12 -> 640x640 letterboxed f16 NCHW, batch 3. */
static void test_preprocess_1080p(void **st) {
  vg_frame hf[3], df[3];
  for (int i = 0; i < 3; i++) {
    hf[i] = t_frame(VG_PIX_NV12, 1920, 1080, 128);
    hf[i].colorspace = VG_CS_BT709;
    df[i] = dev_frame(&hf[i]);
  }
  vg_tensor_params tp = vg_tensor_params_default();
  vg_tensor ht = t_tensor(VG_DTYPE_F16, VG_LAYOUT_NCHW, 3, 640, 640), dtn = dev_tensor_like(&ht);
  VG_ASSERT_OK(vg_preprocess(hf, 3, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &ht, NULL, NULL));
  VG_ASSERT_OK(vg_preprocess(df, 3, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &dtn, NULL, g_s));
  compare_tensors(&ht, &dtn, "preprocess 1080p");
  for (int i = 0; i < 3; i++)
    vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
  vg_tensor_release(&ht);
  vg_tensor_release(&dtn);
}

static void test_tiles_twins(void **st) {
  for (int iter = 0; iter < 12; iter++) {
    int n = t_randi(1, 3), total = 0;
    vg_tile_params tl = {t_randi(16, 96), t_randi(16, 96), 0, t_randi(0, 1)};
    tl.overlap = t_randi(0, 15);
    vg_frame hf[3], df[3];
    for (int i = 0; i < n; i++) {
      hf[i] = rand_frame(400, 300, false);
      df[i] = dev_frame(&hf[i]);
      int c;
      VG_ASSERT_OK(vg_tile_grid(hf[i].width, hf[i].height, &tl, NULL, 0, &c));
      total += c;
    }
    if (total > 400) { /* keep the CPU side short */
      for (int i = 0; i < n; i++)
        vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
      continue;
    }
    vg_tensor_params tp = rand_tp();
    vg_layout l = t_randi(0, 1) ? VG_LAYOUT_NHWC : VG_LAYOUT_NCHW;
    vg_dtype dt = t_randi(0, 1) ? VG_DTYPE_F16 : VG_DTYPE_F32;
    vg_tensor ht = t_tensor(dt, l, total, t_randi(16, 96), t_randi(16, 96)),
              dtn = dev_tensor_like(&ht);
    VG_ASSERT_OK(vg_preprocess_tiles(hf, n, &tl, &tp, l, &ht, NULL, NULL, NULL));
    VG_ASSERT_OK(vg_preprocess_tiles(df, n, &tl, &tp, l, &dtn, NULL, NULL, g_s));
    char what[64];
    snprintf(what, sizeof what, "tiles iter %d (%d items)", iter, total);
    compare_tensors(&ht, &dtn, what);
    for (int i = 0; i < n; i++)
      vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
    vg_tensor_release(&ht);
    vg_tensor_release(&dtn);
  }
}

static void test_crop_twins(void **st) {
  for (int iter = 0; iter < 25; iter++) {
    int nf = t_randi(1, 4), n = iter % 5 == 0 ? t_randi(65, 150) : t_randi(1, 20);
    vg_frame hf[4], df[4];
    for (int i = 0; i < nf; i++) {
      hf[i] = rand_frame(320, 240, iter % 2);
      df[i] = dev_frame(&hf[i]);
    }
    vg_roi *r = calloc((size_t)n, sizeof *r);
    for (int k = 0; k < n; k++) {
      r[k].frame = t_randi(0, nf - 1);
      int W = hf[r[k].frame].width, H = hf[r[k].frame].height;
      r[k].is_quad = t_randi(0, 1);
      float cx = t_randf(0, (float)W), cy = t_randf(0, (float)H), hw = t_randf(1, W / 2.f + 1),
            hh = t_randf(1, H / 4.f + 1), a = t_randf(-0.5f, 0.5f);
      if (r[k].is_quad) {
        float px[4] = {-hw, hw, hw, -hw}, py[4] = {-hh, -hh, hh, hh};
        for (int c = 0; c < 4; c++) {
          r[k].quad.x[c] = cx + px[c] * cosf(a) - py[c] * sinf(a) + t_randf(-1, 1);
          r[k].quad.y[c] = cy + px[c] * sinf(a) + py[c] * cosf(a) + t_randf(-1, 1);
        }
      } else {
        r[k].box = (vg_box){cx - hw, cy - hh, cx + hw, cy + hh};
      }
    }
    vg_crop_params cp = {t_randi(0, 1), t_randi(8, 200)};
    int oh = t_randi(8, 48), ow = t_randi(8, 64), bmax;
    if (cp.var_width) {
      VG_ASSERT_OK(vg_crop_widths(hf, nf, r, n, oh, cp.max_w, NULL, &bmax));
      ow = bmax;
    }
    vg_tensor_params tp = rand_tp();
    vg_layout l = t_randi(0, 1) ? VG_LAYOUT_NHWC : VG_LAYOUT_NCHW;
    vg_dtype dt = t_randi(0, 1) ? VG_DTYPE_F16 : VG_DTYPE_F32;
    vg_tensor ht = t_tensor(dt, l, n, oh, ow), dtn = dev_tensor_like(&ht);
    int *uh = calloc((size_t)n, sizeof *uh), *ud = calloc((size_t)n, sizeof *ud);
    VG_ASSERT_OK(vg_crop(hf, nf, r, n, &cp, &tp, l, &ht, uh, NULL, NULL));
    VG_ASSERT_OK(vg_crop(df, nf, r, n, &cp, &tp, l, &dtn, ud, NULL, g_s));
    assert_memory_equal(uh, ud, sizeof *uh * n);
    char what[64];
    snprintf(what, sizeof what, "crops iter %d (%d rois)", iter, n);
    compare_tensors(&ht, &dtn, what);
    for (int i = 0; i < nf; i++)
      vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
    vg_tensor_release(&ht);
    vg_tensor_release(&dtn);
    free(r), free(uh), free(ud);
  }
}

static void test_convert_twins(void **st) {
  for (int iter = 0; iter < 20; iter++) {
    int n = iter % 6 == 0 ? t_randi(49, 70) : t_randi(1, 6);
    bool to_nv12 = t_randi(0, 1);
    vg_frame hs[70], hd[70], ds[70], dd[70];
    for (int i = 0; i < n; i++) {
      int w = t_randi(1, n > 20 ? 64 : 500), h = t_randi(1, n > 20 ? 64 : 300);
      vg_pixfmt packed = (vg_pixfmt)t_randi(1, 3);
      hs[i] = t_frame(to_nv12 ? packed : VG_PIX_NV12, w, h, t_randi(0, 40));
      hd[i] = t_frame(to_nv12 ? VG_PIX_NV12 : packed, w, h, t_randi(0, 40));
      vg_frame *yuv = to_nv12 ? &hd[i] : &hs[i];
      yuv->colorspace = (vg_colorspace)t_randi(0, 1);
      yuv->full_range = t_randi(0, 1);
      ds[i] = dev_frame(&hs[i]);
      dd[i] = dev_frame(&hd[i]);
    }
    VG_ASSERT_OK(vg_convert_color(hs, hd, n, NULL));
    VG_ASSERT_OK(vg_convert_color(ds, dd, n, g_s));
    for (int i = 0; i < n; i++) {
      char what[64];
      snprintf(what, sizeof what, "convert iter %d frame %d", iter, i);
      compare_frames(&hd[i], &dd[i], what);
    }
    for (int i = 0; i < n; i++) {
      vg_frame_release(&hs[i]), vg_frame_release(&hd[i]);
      vg_frame_release(&ds[i]), vg_frame_release(&dd[i]);
    }
  }
}

static void test_overlay_twins(void **st) {
  static char texts[300][24];
  for (int iter = 0; iter < 15; iter++) {
    int nf = t_randi(1, 3), nops = t_randi(1, 300);
    vg_frame hf[3], df[3];
    for (int i = 0; i < nf; i++) {
      /* every format the sources produce: NV12 (decoders), RGB24 (images), BGR24, GRAY8 */
      vg_pixfmt fmt = (vg_pixfmt)t_randi(0, VG_PIX_COUNT_ - 1);
      hf[i] = t_frame(fmt, t_randi(1, 700), t_randi(1, 400), t_randi(0, 30));
      hf[i].colorspace = (vg_colorspace)t_randi(0, 1);
      hf[i].full_range = t_randi(0, 1);
      df[i] = dev_frame(&hf[i]);
    }
    vg_draw_op *ops = calloc((size_t)nops, sizeof *ops);
    for (int k = 0; k < nops; k++) {
      int f = t_randi(0, nf - 1), W = hf[f].width, H = hf[f].height;
      uint8_t c[3] = {(uint8_t)t_rand(), (uint8_t)t_rand(), (uint8_t)t_rand()};
      float x = t_randf(-20, W + 5.f), y = t_randf(-20, H + 5.f);
      vg_box b = {x, y, x + t_randf(0, W * 0.5f), y + t_randf(0, H * 0.5f)};
      int kind = t_randi(0, 4);
      if (kind == 0) ops[k] = vg_draw_box(f, b, t_randi(1, 6), c[0], c[1], c[2]);
      if (kind == 1) ops[k] = vg_draw_fill(f, b, c[0], c[1], c[2]);
      if (kind == 2) {
        vg_quad q = {{b.x1, b.x2, b.x2 + 5, b.x1 - 3}, {b.y1, b.y1 + 4, b.y2, b.y2 - 2}};
        ops[k] = vg_draw_quad(f, &q, t_randi(1, 7), c[0], c[1], c[2]);
      }
      if (kind >= 3) {
        int len = t_randi(0, 20);
        for (int i = 0; i < len; i++)
          texts[k][i] = (char)t_randi(32, 126);
        texts[k][len] = 0;
        uint8_t bg[3] = {c[2], c[0], c[1]};
        ops[k] = kind == 3 ? vg_draw_text(f, x, y, texts[k], t_randi(1, 3), c[0], c[1], c[2])
                           : vg_draw_label(f, x, y, texts[k], t_randi(1, 2), c, bg);
      }
    }
    VG_ASSERT_OK(vg_overlay(hf, nf, ops, nops, NULL));
    VG_ASSERT_OK(vg_overlay(df, nf, ops, nops, g_s));
    for (int i = 0; i < nf; i++) {
      char what[64];
      snprintf(what, sizeof what, "overlay iter %d frame %d (%s, %d ops)", iter, i,
               vg_pixfmt_name(hf[i].format), nops);
      compare_frames(&hf[i], &df[i], what);
    }
    for (int i = 0; i < nf; i++)
      vg_frame_release(&hf[i]), vg_frame_release(&df[i]);
    free(ops);
  }
}

/* Device frames with a host tensor, or a stream of another device, are refused. */
static void test_device_errors(void **st) {
  if (g_dev.kind == VG_DEVICE_CPU) skip();
  vg_frame h = t_frame(VG_PIX_NV12, 64, 32, 0), d = dev_frame(&h);
  vg_tensor_params tp = vg_tensor_params_default();
  vg_tensor ht = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 16, 16);
  assert_int_equal(vg_preprocess(&d, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &ht, NULL, g_s),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("output tensor is on cpu but the frames are on cuda:0");
  vg_frame_release(&h), vg_frame_release(&d);
  vg_tensor_release(&ht);
}

static int setup(void **st) {
  int n = 0;
  vg_cuda_device_count(&n);
  const char *self = getenv("VG_IMGPROC_TWIN_SELFTEST");
  if (n == 0 && self && *self == '1') {
    printf("self-test: the host plays the device\n");
    g_dev = vg_cpu();
    g_s = NULL;
    return 0;
  }
  vg_test_require_gpu();
  g_dev = vg_cuda(0);
  return vg_stream_create(g_dev, &g_s) == VG_OK ? 0 : -1;
}

static int teardown(void **st) {
  printf("KEY: imgproc twins: %ld comparisons, max rel diff f32 %.2e f16 %.2e, max u8 diff %d\n",
         g_cases, g_max_f32, g_max_f16, g_max_u8);
  if (g_s) vg_stream_destroy(g_s);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_preprocess_twins), cmocka_unit_test(test_preprocess_1080p),
      cmocka_unit_test(test_tiles_twins),      cmocka_unit_test(test_crop_twins),
      cmocka_unit_test(test_convert_twins),    cmocka_unit_test(test_overlay_twins),
      cmocka_unit_test(test_device_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
