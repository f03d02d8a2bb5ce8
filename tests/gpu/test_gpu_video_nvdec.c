/* GPU: NVDEC decodes the committed raw H.264/HEVC streams (tests/fixtures-gpu, made by
 * `scripts/make_video_fixtures.sh --gpu`) bit-exactly like the CPU decoder: every frame's NV12
 * MD5 equals the list computed with `ffmpeg -pix_fmt nv12 -f framemd5` (libavcodec, the CPU
 * decoder's library) and, in builds with FFmpeg, vidgraph's own CPU decoder frame by frame.
 * Also: frames live in device memory on the runtime's (primary) context, `auto` picks NVDEC and
 * says why, output frames are bounded, loops restart cleanly, and parallel sessions agree.
 * Skips (exit 77) without a GPU. */
#include "vg_test.h"
#include "vidgraph/vg_video.h"

#include <pthread.h>

#define MAXF 256

static const char *const k_streams[] = {"h264_640x360_bframes.h264", "h264_642x482_crop.h264",
                                        "hevc_1366x768.hevc", "h264_1920x1080_bench.h264"};

static const char *fixture(const char *name) {
  static _Thread_local char path[4][600];
  static _Thread_local int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%s/tests/fixtures-gpu/%s", vg_test_root(), name);
  return path[k];
}

static int load_list(const char *name, char (*md5)[33]) {
  char path[700];
  snprintf(path, sizeof path, "%s.md5", fixture(name));
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  int n = 0;
  while (n < MAXF && fscanf(f, "%32s", md5[n]) == 1)
    n++;
  fclose(f);
  return n;
}

/* Decodes url with decoder kind; fills md5 of every frame; returns the count. */
static int decode_md5s(const char *url, vg_decoder_kind kind, int64_t max_frames, bool loop,
                       char (*md5)[33], int max, vg_source_info *info) {
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = kind;
  o.loop = loop;
  o.max_frames = max_frames;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(url, &o, &s));
  int n = 0;
  vg_frame f;
  vg_status st;
  while ((st = vg_source_read(s, &f, 30000)) == VG_OK) {
    if (n >= max) fail_msg("%s: more than %d frames", url, max);
    if (kind == VG_DECODER_NVDEC) {
      assert_int_equal(vg_frame_device(&f).kind, VG_DEVICE_CUDA);
      assert_int_equal(f.format, VG_PIX_NV12);
    }
    assert_int_equal(f.frame_no, n);
    VG_ASSERT_OK(vg_frame_md5(&f, md5[n]));
    vg_frame_release(&f);
    n++;
  }
  if (st != VG_ERR_EOF) fail_msg("%s: %s", url, vg_last_error());
  if (info) vg_source_get_info(s, info);
  vg_source_close(s);
  return n;
}

static void test_bit_exact_against_cpu_lists(void **st) {
  static char want[MAXF][33], got[MAXF][33], cpu[MAXF][33];
  for (size_t i = 0; i < sizeof k_streams / sizeof k_streams[0]; i++) {
    int nw = load_list(k_streams[i], want);
    vg_source_info info;
    int ng = decode_md5s(fixture(k_streams[i]), VG_DECODER_NVDEC, 0, false, got, MAXF, &info);
    printf("%-28s %3d frames %dx%d via %s (%s)\n", k_streams[i], ng, info.width, info.height,
           info.decoder_detail, info.decoder_reason);
    assert_int_equal(info.decoder, VG_DECODER_NVDEC);
    if (ng != nw) fail_msg("%s: NVDEC gave %d frames, the CPU list %d", k_streams[i], ng, nw);
    for (int k = 0; k < nw; k++)
      if (strcmp(got[k], want[k]) != 0)
        fail_msg("%s: frame %d differs: NVDEC %s, CPU %s", k_streams[i], k, got[k], want[k]);
    if (vg_video_have_ffmpeg()) {
      int nc = decode_md5s(fixture(k_streams[i]), VG_DECODER_CPU, 0, false, cpu, MAXF, NULL);
      assert_int_equal(nc, ng);
      for (int k = 0; k < nc; k++)
        assert_string_equal(cpu[k], got[k]);
    }
  }
}

static void test_auto_picks_nvdec(void **st) {
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fixture(k_streams[0]), NULL, &s));
  vg_frame f;
  VG_ASSERT_OK(vg_source_read(s, &f, 30000));
  vg_source_info info;
  vg_source_get_info(s, &info);
  printf("auto: %s: %s\n", vg_decoder_name(info.decoder), info.decoder_reason);
  assert_int_equal(info.decoder, VG_DECODER_NVDEC);
  assert_non_null(strstr(info.decoder_reason, "supported by NVDEC"));
  assert_int_equal(info.width, 640);
  assert_int_equal(info.height, 360);
  /* the device pointer works with the CUDA runtime (same primary context) */
  vg_frame host;
  VG_ASSERT_OK(vg_frame_to_device(&f, vg_cpu(), NULL, NULL, &host));
  VG_ASSERT_OK(vg_stream_sync(NULL));
  assert_int_equal(host.width, 640);
  vg_frame_release(&host);
  vg_frame_release(&f);
  vg_source_close(s);
}

static void test_bounded_surfaces_and_loop(void **st) {
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = VG_DECODER_NVDEC;
  o.output_frames = 2;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fixture(k_streams[0]), &o, &s));
  vg_frame a, b, c;
  VG_ASSERT_OK(vg_source_read(s, &a, 30000));
  VG_ASSERT_OK(vg_source_read(s, &b, 30000));
  assert_int_equal(vg_source_read(s, &c, 500), VG_ERR_TIMEOUT);
  vg_frame_release(&a);
  VG_ASSERT_OK(vg_source_read(s, &c, 30000));
  assert_int_equal(c.frame_no, 2);
  vg_frame_release(&b);
  vg_frame_release(&c);
  vg_source_close(s);

  static char want[MAXF][33], got[MAXF][33];
  int nw = load_list(k_streams[0], want);
  int ng = decode_md5s(fixture(k_streams[0]), VG_DECODER_NVDEC, nw + 30, true, got, MAXF, NULL);
  assert_int_equal(ng, nw + 30);
  for (int k = 0; k < ng; k++)
    assert_string_equal(got[k], want[k % nw]);
}

typedef struct job {
  const char *name;
  int n, mismatches;
} job;

static void *run_job(void *p) {
  job *j = p;
  static __thread char want[MAXF][33];
  int nw = load_list(j->name, want);
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = VG_DECODER_NVDEC;
  vg_source *s;
  if (vg_source_open(fixture(j->name), &o, &s) != VG_OK) {
    j->mismatches = -1;
    return NULL;
  }
  vg_frame f;
  char md5[33];
  while (vg_source_read(s, &f, 30000) == VG_OK) {
    if (vg_frame_md5(&f, md5) != VG_OK || j->n >= nw || strcmp(md5, want[j->n]) != 0)
      j->mismatches++;
    vg_frame_release(&f);
    j->n++;
  }
  if (j->n != nw) j->mismatches++;
  vg_source_close(s);
  return NULL;
}

static void test_parallel_sessions(void **st) {
  job jobs[6];
  pthread_t th[6];
  for (int i = 0; i < 6; i++) {
    jobs[i] = (job){k_streams[i % 3], 0, 0};
    pthread_create(&th[i], NULL, run_job, &jobs[i]);
  }
  for (int i = 0; i < 6; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 6; i++) {
    printf("session %d: %s %d frames, %d mismatches\n", i, jobs[i].name, jobs[i].n,
           jobs[i].mismatches);
    assert_int_equal(jobs[i].mismatches, 0);
  }
}

int main(void) {
  vg_test_require_gpu();
  char why[320];
  if (!vg_nvdec_available(0, why, sizeof why)) {
    printf("FAIL: a GPU is present but NVDEC is not usable: %s\n", why);
    return 1;
  }
  vg_log_set_level(NULL, VG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bit_exact_against_cpu_lists),
      cmocka_unit_test(test_auto_picks_nvdec),
      cmocka_unit_test(test_bounded_surfaces_and_loop),
      cmocka_unit_test(test_parallel_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
