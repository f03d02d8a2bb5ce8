/* GPU: JPEGs of device frames with nvJPEG (issue 14). The colour conversion kernel that feeds
 * nvJPEG gives the same bytes as its CPU twin vgv_to_rgb24 (NV12 BT.601/709, limited/full, odd
 * sizes, GRAY8); vg_jpeg_encode takes the nvJPEG path for device frames (NV12 from NVDEC, RGB24,
 * BGR24, GRAY8) and its pictures decode to the same size as libjpeg's of the same frame, within
 * PSNR >= 35 dB of them; concurrent encodes (the server's MJPEG clients) all stay on the GPU.
 * Prints the encode times of both paths (not asserted; the libjpeg time is of the host copy, the
 * read-back is not in it). Skips (exit 77) without a GPU; fails
 * with the reason when a GPU is present but nvJPEG is not usable. */
#include "vg_test.h"
#include "video/cuda/video_kernels.h"
#include "video/video_internal.h"
#include "vidgraph/vg_video.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

/* A picture with smooth gradients, a few hard edges and texture, in any format, on the host. */
static void make_host(vg_pixfmt fmt, int w, int h, vg_colorspace cs, bool full, vg_frame *f) {
  VG_ASSERT_OK(vg_frame_alloc(fmt, w, h, vg_cpu(), NULL, 0, f));
  f->colorspace = cs;
  f->full_range = full;
  uint8_t *p0 = vg_frame_plane(f, 0);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int r = (x * 255) / w, g = (y * 255) / h, b = 128 + (int)(70 * sin((x + y) * 0.15));
      if (x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2) r = g = b = 230;
      r = (r + (int)(20 * sin(x * 0.2) * cos(y * 0.15))) & 255;
      if (fmt == VG_PIX_RGB24 || fmt == VG_PIX_BGR24) {
        uint8_t *o = p0 + (size_t)y * f->pitch[0] + 3 * (size_t)x;
        o[0] = (uint8_t)(fmt == VG_PIX_RGB24 ? r : b);
        o[1] = (uint8_t)g;
        o[2] = (uint8_t)(fmt == VG_PIX_RGB24 ? b : r);
      } else {
        int luma = (r * 77 + g * 150 + b * 29) >> 8;
        p0[(size_t)y * f->pitch[0] + x] = (uint8_t)(full ? luma : 16 + luma * 219 / 255);
      }
    }
  if (fmt != VG_PIX_NV12) return;
  uint8_t *uv = vg_frame_plane(f, 1);
  for (int y = 0; y < (h + 1) / 2; y++)
    for (int x = 0; x < (w + 1) / 2; x++) {
      uv[(size_t)y * f->pitch[1] + 2 * x] = (uint8_t)(128 + 60 * sin(x * 0.05));
      uv[(size_t)y * f->pitch[1] + 2 * x + 1] = (uint8_t)(128 + 60 * cos(y * 0.07));
    }
}

static void to_device(const vg_frame *h, vg_frame *d) {
  VG_ASSERT_OK(vg_frame_to_device(h, vg_cuda(0), NULL, NULL, d));
  VG_ASSERT_OK(vg_stream_sync(NULL));
}

static void test_rgb_kernel_matches_cpu_twin(void **st) {
  (void)st;
#ifndef VG_HAVE_CUDA
  skip(); /* no kernel in this build (and no GPU: main skipped already) */
#else
  static const int sizes[][2] = {{641, 479}, {1920, 1080}, {3, 3}, {1366, 768}};
  for (size_t i = 0; i < 4; i++)
    for (int fmt = 0; fmt < 2; fmt++)
      for (int variant = 0; variant < 4; variant++) {
        int w = sizes[i][0], h = sizes[i][1];
        vg_frame hf, df;
        vg_pixfmt pf = fmt ? VG_PIX_GRAY8 : VG_PIX_NV12;
        make_host(pf, w, h, variant & 1 ? VG_CS_BT709 : VG_CS_BT601, variant & 2, &hf);
        to_device(&hf, &df);
        size_t n = (size_t)w * h * 3;
        uint8_t *want = malloc(n), *got = malloc(n), *dev = NULL;
        vgv_to_rgb24(&hf, want);
        VG_ASSERT_OK(vg_mem_alloc(vg_cuda(0), n, (void **)&dev));
        vgv_yuv_coefs k;
        vgv_yuv_coefs_of(&hf, &k);
        assert_int_equal(vgv_cuda_to_rgb24(vg_frame_plane(&df, 0), (size_t)df.pitch[0],
                                           pf == VG_PIX_NV12 ? vg_frame_plane(&df, 1) : NULL,
                                           (size_t)df.pitch[1], w, h, &k, dev, (size_t)w * 3, NULL),
                         0);
        VG_ASSERT_OK(vg_memcpy(got, vg_cpu(), dev, vg_cuda(0), n));
        size_t diff = 0;
        for (size_t b = 0; b < n; b++)
          diff += got[b] != want[b];
        if (diff)
          fail_msg("%dx%d %s variant %d: %zu bytes differ from vgv_to_rgb24", w, h,
                   vg_pixfmt_name(pf), variant, diff);
        vg_mem_free(vg_cuda(0), dev);
        free(want);
        free(got);
        vg_frame_release(&hf);
        vg_frame_release(&df);
      }
#endif
}

static double psnr(const vg_frame *a, const vg_frame *b) {
  double se = 0;
  for (int y = 0; y < a->height; y++) {
    const uint8_t *pa = vg_frame_plane(a, 0) + (size_t)y * a->pitch[0];
    const uint8_t *pb = vg_frame_plane(b, 0) + (size_t)y * b->pitch[0];
    for (int x = 0; x < a->width * 3; x++)
      se += (double)(pa[x] - pb[x]) * (pa[x] - pb[x]);
  }
  double mse = se / ((double)a->width * a->height * 3);
  return mse == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

/* Encodes the device frame (nvJPEG) and its host copy (libjpeg), decodes both, compares. */
static double compare_paths(const vg_frame *dev, const char *label, double *ms_gpu,
                            double *ms_cpu) {
  vg_frame host;
  VG_ASSERT_OK(vg_frame_to_device(dev, vg_cpu(), NULL, NULL, &host));
  VG_ASSERT_OK(vg_stream_sync(NULL));
  char pg[64], pc[64];
  snprintf(pg, sizeof pg, "/tmp/vg_nvjpeg_%d_gpu.jpg", (int)getpid());
  snprintf(pc, sizeof pc, "/tmp/vg_nvjpeg_%d_cpu.jpg", (int)getpid());
  vg_jpeg_path how_g, how_c;
  size_t bg = 0, bc = 0;
  int64_t t0 = vg_now_ns();
  VG_ASSERT_OK(vg_jpeg_write_ex(dev, pg, 90, &how_g, &bg));
  int64_t t1 = vg_now_ns();
  VG_ASSERT_OK(vg_jpeg_write_ex(&host, pc, 90, &how_c, &bc));
  int64_t t2 = vg_now_ns();
  *ms_gpu = (double)(t1 - t0) / 1e6;
  *ms_cpu = (double)(t2 - t1) / 1e6;
  if (how_g != VG_JPEG_NVJPEG) fail_msg("%s: the device frame did not go to nvJPEG", label);
  assert_int_equal(how_c, VG_JPEG_HOST);
  vg_frame dg, dc;
  VG_ASSERT_OK(vg_image_read(pg, &dg));
  VG_ASSERT_OK(vg_image_read(pc, &dc));
  assert_int_equal(dg.width, dev->width);
  assert_int_equal(dg.height, dev->height);
  assert_int_equal(dc.width, dg.width);
  assert_int_equal(dc.height, dg.height);
  double p = psnr(&dg, &dc);
  printf("%-28s %4dx%-4d nvjpeg %7zu B %6.2f ms | libjpeg %7zu B %6.2f ms | PSNR %.1f dB\n", label,
         dev->width, dev->height, bg, *ms_gpu, bc, *ms_cpu, p);
  if (p < 35.0) fail_msg("%s: nvJPEG and libjpeg pictures differ: PSNR %.1f dB < 35", label, p);
  vg_frame_release(&dg);
  vg_frame_release(&dc);
  vg_frame_release(&host);
  remove(pg);
  remove(pc);
  return p;
}

static void test_device_frames_match_libjpeg(void **st) {
  (void)st;
  static const vg_pixfmt fmts[] = {VG_PIX_NV12, VG_PIX_RGB24, VG_PIX_BGR24, VG_PIX_GRAY8};
  double g, c;
  for (int i = 0; i < 4; i++) {
    vg_frame hf, df;
    make_host(fmts[i], 1279, 719, VG_CS_BT709, false, &hf);
    to_device(&hf, &df);
    char label[64];
    snprintf(label, sizeof label, "synthetic %s", vg_pixfmt_name(fmts[i]));
    compare_paths(&df, label, &g, &c);
    vg_frame_release(&hf);
    vg_frame_release(&df);
  }
}

/* Real NV12 pictures as the server gets them: NVDEC output of the 1080p fixture. */
static void test_nvdec_frames(void **st) {
  (void)st;
  char url[600];
  snprintf(url, sizeof url, "%s/tests/fixtures-gpu/h264_1920x1080_bench.h264", vg_test_root());
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = VG_DECODER_NVDEC;
  o.max_frames = 12;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(url, &o, &s));
  vg_frame f;
  double min_p = 99, sum_g = 0, sum_c = 0;
  int n = 0;
  while (vg_source_read(s, &f, 30000) == VG_OK) {
    assert_int_equal(vg_frame_device(&f).kind, VG_DEVICE_CUDA);
    double g, c;
    double p = compare_paths(&f, "NVDEC NV12 1080p", &g, &c);
    if (n > 0) { /* the first encode pays nvJPEG's set-up */
      sum_g += g;
      sum_c += c;
    }
    min_p = p < min_p ? p : min_p;
    vg_frame_release(&f);
    n++;
  }
  vg_source_close(s);
  assert_true(n >= 2);
  printf("KEY: nvjpeg %s 1080p NV12 %.2f ms vs libjpeg (host frame) %.2f ms, min PSNR %.1f dB\n",
         vg_jpeg_nvjpeg_version(), sum_g / (n - 1), sum_c / (n - 1), min_p);
}

typedef struct job {
  const vg_frame *f;
  int nvjpeg, bad;
} job;

static void *encode_loop(void *arg) {
  job *j = arg;
  for (int i = 0; i < 20; i++) {
    uint8_t *b = NULL;
    size_t n = 0;
    vg_jpeg_path how;
    if (vg_jpeg_encode_ex(j->f, 80, &b, &n, &how) != VG_OK || n < 4 || b[0] != 0xFF ||
        b[1] != 0xD8 || b[n - 2] != 0xFF || b[n - 1] != 0xD9)
      j->bad++;
    j->nvjpeg += how == VG_JPEG_NVJPEG;
    free(b);
  }
  return NULL;
}

static void test_concurrent_encodes_stay_on_gpu(void **st) {
  (void)st;
  vg_frame hf, df;
  make_host(VG_PIX_NV12, 1920, 1080, VG_CS_BT709, false, &hf);
  to_device(&hf, &df);
  enum { T = 12 }; /* more threads than encoder contexts: some wait for one */
  job jobs[T];
  pthread_t th[T];
  for (int i = 0; i < T; i++) {
    jobs[i] = (job){&df, 0, 0};
    pthread_create(&th[i], NULL, encode_loop, &jobs[i]);
  }
  for (int i = 0; i < T; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < T; i++) {
    assert_int_equal(jobs[i].bad, 0);
    assert_int_equal(jobs[i].nvjpeg, 20);
  }
  vg_frame_release(&hf);
  vg_frame_release(&df);
}

int main(void) {
  vg_test_require_gpu();
  char why[512];
  if (strcmp(vg_jpeg_device_encoder(0, why, sizeof why), "nvjpeg") != 0) {
    printf("FAIL: a GPU is present but nvJPEG is not usable: %s\n", why);
    return 1;
  }
  printf("nvJPEG %s\n", vg_jpeg_nvjpeg_version());
  vg_log_set_level(NULL, VG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rgb_kernel_matches_cpu_twin),
      cmocka_unit_test(test_device_frames_match_libjpeg),
      cmocka_unit_test(test_nvdec_frames),
      cmocka_unit_test(test_concurrent_encodes_stay_on_gpu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
