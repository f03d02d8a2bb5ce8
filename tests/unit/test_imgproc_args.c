/* imgproc bad arguments: zero sizes, frames whose planes do not fit their buffer, unsupported
 * formats, output tensors of the wrong shape/dtype/layout/device, mismatched batches and
 * devices, bad tile and tensor parameters. Each must be an error with a useful message, never an
 * access out of bounds (the sanitizer build runs this too). */
#include "test_imgproc_common.h"

static vg_tensor_params tp;

static int setup(void **st) {
  tp = vg_tensor_params_default();
  return 0;
}

static void test_bad_frames(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 32, 16, 0);
  vg_tensor out = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 8, 8);
  assert_int_equal(vg_preprocess(&f, 0, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  assert_int_equal(vg_preprocess(NULL, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_frame g = f;
  g.width = 0;
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("frame 0 has size 0x16");
  g = f;
  g.height = 17; /* one row more than the buffer holds */
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("buffer has");
  g = f;
  g.plane_offset[1] = 1u << 30;
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  g = f;
  g.nplanes = 1;
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("planes");
  g = f;
  g.format = (vg_pixfmt)17;
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_UNSUPPORTED);
  g = f;
  g.buffer = NULL;
  assert_int_equal(vg_preprocess(&g, 1, VG_FIT_LETTERBOX, &tp, VG_LAYOUT_NCHW, &out, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("no pixel buffer");
  vg_tensor_release(&out);
  vg_frame_release(&f);
}

static void test_bad_tensors(void **st) {
  vg_frame f[2] = {t_frame(VG_PIX_NV12, 32, 16, 0), t_frame(VG_PIX_RGB24, 7, 5, 3)};
  vg_tensor t = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 8, 8); /* batch 1 for 2 frames */
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("N=2");
  vg_tensor_release(&t);
  t = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NHWC, 2, 8, 8); /* NHWC given as NCHW */
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("[N,3,H,W]");
  VG_ASSERT_OK(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NHWC, &t, NULL, NULL));
  vg_tensor_release(&t);
  int64_t shape[4] = {2, 3, 8, 8};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_U8, 4, shape, vg_cpu(), NULL, &t));
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_UNSUPPORTED);
  VG_ASSERT_MSG_HAS("f32 or f16");
  vg_tensor_release(&t);
  /* a non-contiguous view (every other column) */
  int64_t wide[4] = {2, 3, 8, 16};
  vg_tensor w, v;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, wide, vg_cpu(), NULL, &w));
  VG_ASSERT_OK(vg_tensor_slice(&w, 3, 0, 8, &v));
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &v, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("not contiguous");
  vg_tensor_release(&v);
  vg_tensor_release(&w);
  /* empty tensor, zero-sized output */
  vg_tensor empty;
  memset(&empty, 0, sizeof empty);
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &empty, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  int64_t zero[4] = {2, 3, 0, 8};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, zero, vg_cpu(), NULL, &t));
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_tensor_release(&t);
  vg_frame_release(&f[0]);
  vg_frame_release(&f[1]);
}

static void no_release(void *ctx, void *data, size_t bytes, vg_device dev) {}

/* A frame that claims to be on cuda:0 (never touched: the device check comes first). */
static void test_device_mismatch(void **st) {
  vg_frame f[2] = {t_frame(VG_PIX_NV12, 32, 16, 0), t_frame(VG_PIX_NV12, 32, 16, 0)};
  static uint8_t fake[4096];
  vg_buffer *b;
  VG_ASSERT_OK(vg_buffer_wrap(vg_cuda(0), fake, sizeof fake, no_release, NULL, &b));
  vg_buffer_unref(f[1].buffer);
  f[1].buffer = b;
  vg_tensor t = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 2, 8, 8);
  assert_int_equal(vg_preprocess(f, 2, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("frame 1 is on cuda:0 but frame 0 is on cpu");
  vg_tensor_release(&t);
  t = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 8, 8);
  assert_int_equal(vg_preprocess(&f[1], 1, VG_FIT_STRETCH, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("output tensor is on cpu but the frames are on cuda:0");
  vg_frame dst = t_frame(VG_PIX_RGB24, 32, 16, 0);
  assert_int_equal(vg_convert_color(&f[1], &dst, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("cuda:0");
  vg_roi r;
  memset(&r, 0, sizeof r);
  r.box = (vg_box){0, 0, 4, 4};
  vg_crop_params cp = {false, 0};
  assert_int_equal(vg_crop(&f[1], 1, &r, 1, &cp, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_frame_release(&dst);
  vg_tensor_release(&t);
  vg_frame_release(&f[0]);
  vg_frame_release(&f[1]);
}

static void test_bad_params(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 32, 16, 0);
  vg_tensor t = t_tensor(VG_DTYPE_F32, VG_LAYOUT_NCHW, 1, 8, 8);
  assert_int_equal(vg_preprocess(&f, 1, (vg_fit)7, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  assert_int_equal(vg_preprocess(&f, 1, VG_FIT_STRETCH, NULL, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  vg_tensor_params bad = tp;
  bad.interp = (vg_interp)5;
  assert_int_equal(vg_preprocess(&f, 1, VG_FIT_STRETCH, &bad, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  float mean[3] = {0.5f, 0.5f, 0.5f}, std0[3] = {0.5f, 0.f, 0.5f};
  bad = tp;
  bad.norm = vg_norm_mean_std(mean, std0);
  assert_int_equal(vg_preprocess(&f, 1, VG_FIT_STRETCH, &bad, VG_LAYOUT_NCHW, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("channel 1");
  assert_int_equal(vg_preprocess(&f, 1, VG_FIT_STRETCH, &tp, (vg_layout)3, &t, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  /* tiles */
  int n;
  vg_tile_params tl = {64, 64, 64, false};
  assert_int_equal(vg_tile_grid(100, 100, &tl, NULL, 0, &n), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("overlap 64");
  tl.overlap = 0;
  tl.tile_w = 0;
  assert_int_equal(vg_tile_grid(100, 100, &tl, NULL, 0, &n), VG_ERR_INVALID_ARG);
  tl.tile_w = 8;
  assert_int_equal(vg_tile_grid(0, 100, &tl, NULL, 0, &n), VG_ERR_INVALID_ARG);
  tl.tile_h = 8; /* 32x16 frame -> 4 x 2 tiles; tensor of 1 */
  assert_int_equal(vg_preprocess_tiles(&f, 1, &tl, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("N=8");
  tl.tile_w = tl.tile_h = 1; /* 512 tiles of one pixel: fine; 1x1 tiles of a big frame: not */
  vg_frame big = t_frame(VG_PIX_GRAY8, 100, 100, 0);
  assert_int_equal(vg_preprocess_tiles(&big, 1, &tl, &tp, VG_LAYOUT_NCHW, &t, NULL, NULL, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("10000 tiles");
  vg_frame_release(&big);
  vg_tensor_release(&t);
  vg_frame_release(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_bad_frames, setup),
      cmocka_unit_test_setup(test_bad_tensors, setup),
      cmocka_unit_test_setup(test_device_mismatch, setup),
      cmocka_unit_test_setup(test_bad_params, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
