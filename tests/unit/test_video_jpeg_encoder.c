/* Unit: the JPEG encoder choice (issue 14). vg_jpeg_encode decides: host frames always go to
 * libjpeg; device frames to nvJPEG when it is usable, else libjpeg, and the reason shown
 * (system info, `vidgraph version`) names what is missing: no CUDA in the build, libnvjpeg not
 * found, or no GPU. Also the NVML driver release's fallback reason, and the encoder's argument
 * checks. Needs no GPU; the nvJPEG pictures themselves are tests/gpu/test_gpu_jpeg_nvjpeg.c. */
#include "vg_test.h"
#include "vidgraph/vg_video.h"

#include <dlfcn.h>
#include <unistd.h>

static bool loadable(const char *lib) {
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != NULL;
}

static void test_fallback_reason_names_what_is_missing(void **st) {
  (void)st;
  char why[512] = "x";
  const char *enc = vg_jpeg_device_encoder(0, why, sizeof why);
  printf("device frames: %s (%s)\n", enc, why);
  int ngpu = 0;
  vg_cuda_device_count(&ngpu);
  if (!vg_cuda_compiled()) {
    assert_string_equal(enc, "libjpeg");
    assert_non_null(strstr(why, "this build has no CUDA"));
  } else if (!loadable("libnvjpeg.so.13") && !loadable("libnvjpeg.so.12")) {
    assert_string_equal(enc, "libjpeg");
    assert_non_null(strstr(why, "libnvjpeg.so.13 not found"));
    assert_non_null(strstr(why, "libnvjpeg.so.12"));
    assert_string_equal(vg_jpeg_nvjpeg_version(), "");
  } else if (ngpu == 0) {
    assert_string_equal(enc, "libjpeg");
    assert_string_equal(why, vg_cuda_unavailable_reason());
  } else {
    assert_string_equal(enc, "nvjpeg");
    assert_string_equal(why, "");
  }
}

static void test_host_frames_go_to_libjpeg(void **st) {
  (void)st;
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 65, 33, vg_cpu(), NULL, 0, &f));
  memset(vg_frame_plane(&f, 0), 120, (size_t)f.pitch[0] * 33);
  memset(vg_frame_plane(&f, 1), 128, (size_t)f.pitch[1] * 17);
  uint8_t *b = NULL;
  size_t n = 0;
  vg_jpeg_path how = VG_JPEG_NVJPEG;
  VG_ASSERT_OK(vg_jpeg_encode_ex(&f, 85, &b, &n, &how));
  assert_int_equal(how, VG_JPEG_HOST);
  assert_true(n > 100);
  assert_int_equal(b[0], 0xFF);
  assert_int_equal(b[1], 0xD8);
  free(b);
  char path[64];
  snprintf(path, sizeof path, "/tmp/vg_jpeg_enc_%d.jpg", (int)getpid());
  size_t bytes = 0;
  how = VG_JPEG_NVJPEG;
  VG_ASSERT_OK(vg_jpeg_write_ex(&f, path, 85, &how, &bytes));
  assert_int_equal(how, VG_JPEG_HOST);
  assert_int_equal(bytes, n);
  vg_frame back;
  VG_ASSERT_OK(vg_image_read(path, &back));
  assert_int_equal(back.width, 65);
  assert_int_equal(back.height, 33);
  vg_frame_release(&back);
  remove(path);
  vg_frame_release(&f);
}

static void test_bad_arguments(void **st) {
  (void)st;
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_RGB24, 8, 8, vg_cpu(), NULL, 0, &f));
  uint8_t *b = NULL;
  size_t n = 0;
  assert_int_equal(vg_jpeg_encode_ex(&f, 0, &b, &n, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("quality 0");
  assert_int_equal(vg_jpeg_encode_ex(&f, 101, &b, &n, NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_jpeg_encode_ex(NULL, 80, &b, &n, NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_jpeg_write_ex(&f, NULL, 80, NULL, NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_jpeg_write_ex(&f, "/nonexistent-dir/x.jpg", 80, NULL, NULL), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("/nonexistent-dir/x.jpg");
  assert_null(b);
  vg_frame_release(&f);
}

static void test_driver_release_or_reason(void **st) {
  (void)st;
  char rel[96] = "x";
  vg_status s = vg_driver_release(rel, sizeof rel);
  if (loadable("libnvidia-ml.so.1")) {
    /* NVML present: a release like 580.65.06, or (no GPU behind it) the NVML error */
    if (s == VG_OK) {
      assert_true(rel[0] >= '0' && rel[0] <= '9');
      assert_non_null(strchr(rel, '.'));
    } else {
      VG_ASSERT_MSG_HAS("nvml");
    }
  } else {
    assert_int_equal(s, VG_ERR_UNSUPPORTED);
    assert_string_equal(rel, "");
    VG_ASSERT_MSG_HAS("libnvidia-ml.so.1");
    VG_ASSERT_MSG_HAS("NVML not loadable");
  }
  /* read once: the same answer again */
  char rel2[96];
  assert_int_equal(vg_driver_release(rel2, sizeof rel2), s);
  assert_string_equal(rel, rel2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fallback_reason_names_what_is_missing),
      cmocka_unit_test(test_host_frames_go_to_libjpeg),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_driver_release_or_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
