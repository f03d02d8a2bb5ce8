/* Video sources on the CPU decoder: every fixture (several codecs and containers, odd sizes,
 * variable frame rate, truncated, corrupted) decodes to the same frames as `ffmpeg -pix_fmt nv12
 * -f framemd5` (count, per-frame MD5, timestamps); options (frame limit, start offset, loop,
 * stream id, real-time pacing, bounded output frames); decoder choice and its reason; MD5 known
 * answers. Fixtures are made by scripts/make_video_fixtures.sh into $VG_VIDEO_FIXTURES or
 * /tmp/vidgraph-video-fixtures. */
#include "unit/test_video_util.h"
#include "vidgraph/vg_video.h"

#include <math.h>

#define MAXF 512

typedef struct ref_list {
  int n;
  char md5[MAXF][33];
  int64_t pts[MAXF];
  int tb_num, tb_den;
  int w, h;
} ref_list;

/* Parses ffmpeg's framemd5 output: "#tb 0: 1/25", "#dimensions 0: WxH", then
 * "stream, dts, pts, duration, size, hash" lines. */
static void load_ref(const char *name, ref_list *r) {
  char path[800];
  snprintf(path, sizeof path, "%s.framemd5", fx(name));
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  memset(r, 0, sizeof *r);
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "#tb 0: %d/%d", &r->tb_num, &r->tb_den) == 2) continue;
    if (sscanf(line, "#dimensions 0: %dx%d", &r->w, &r->h) == 2) continue;
    if (line[0] == '#') continue;
    long long dts, pts, dur, size;
    int stream;
    char hash[64];
    if (sscanf(line, "%d, %lld, %lld, %lld, %lld, %63s", &stream, &dts, &pts, &dur, &size, hash) ==
            6 &&
        r->n < MAXF) {
      snprintf(r->md5[r->n], 33, "%s", hash);
      r->pts[r->n] = pts;
      r->n++;
    }
  }
  fclose(f);
}

static void check_against_ffmpeg(const char *name, bool check_pts, bool ordered) {
  ref_list ref;
  load_ref(name, &ref);
  assert_true(ref.n > 0);
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.stream_id = 3;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx(name), &o, &s));
  int n = 0;
  double last_t = -1e9;
  for (;;) {
    vg_frame f;
    vg_status st = vg_source_read(s, &f, 20000);
    if (st == VG_ERR_EOF) break;
    if (st != VG_OK) fail_msg("%s: frame %d: %s", name, n, vg_last_error());
    if (n >= ref.n) fail_msg("%s: more frames than ffmpeg (%d)", name, ref.n);
    assert_int_equal(f.format, VG_PIX_NV12);
    assert_int_equal(vg_frame_device(&f).kind, VG_DEVICE_CPU);
    assert_int_equal(f.width, ref.w);
    assert_int_equal(f.height, ref.h);
    assert_int_equal(f.stream_id, 3);
    assert_int_equal(f.frame_no, n);
    char md5[33];
    VG_ASSERT_OK(vg_frame_md5(&f, md5));
    if (strcmp(md5, ref.md5[n]) != 0)
      fail_msg("%s: frame %d: md5 %s, ffmpeg %s", name, n, md5, ref.md5[n]);
    double t = (double)f.pts * f.tb_num / f.tb_den;
    if (check_pts) {
      double rt = (double)ref.pts[n] * ref.tb_num / ref.tb_den;
      if (fabs(t - rt) > 0.0015) fail_msg("%s: frame %d at %.4f s, ffmpeg %.4f s", name, n, t, rt);
    }
    if (ordered && t <= last_t)
      fail_msg("%s: frame %d at %.4f s, not after %.4f s", name, n, t, last_t);
    last_t = t;
    vg_frame_release(&f);
    n++;
  }
  VG_ASSERT_MSG_HAS(name);
  if (n != ref.n) fail_msg("%s: %d frames, ffmpeg %d", name, n, ref.n);
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_int_equal(info.frames_out, n);
  assert_int_equal(info.decoder, VG_DECODER_CPU);
  printf("%-22s %3d frames %4dx%-4d %-6s %-12s container %-10.10s corrupt %lld concealed %lld\n",
         name, n, info.width, info.height, info.codec, info.profile, info.container,
         (long long)info.corrupt_packets, (long long)info.concealed_frames);
  vg_source_close(s);
}

static void test_md5_known_answers(void **st) {
  char h[33];
  vg_md5_hex("", 0, h);
  assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
  vg_md5_hex("abc", 3, h);
  assert_string_equal(h, "900150983cd24fb0d6963f7d28e17f72");
  vg_md5_hex("message digest", 14, h);
  assert_string_equal(h, "f96b697d7cb7938d525a2f31aaf161d0");
  const char *alnum =
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
  vg_md5_hex(alnum, strlen(alnum), h);
  assert_string_equal(h, "57edf4a22be3c955ac49da2e2107b67a");
  char *a = malloc(1000000);
  memset(a, 'a', 1000000);
  vg_md5_hex(a, 1000000, h);
  assert_string_equal(h, "7707d6ae4e027c70eea2a935c2296f21");
  free(a);
  /* a frame's MD5 skips the pitch padding */
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 3, 3, vg_cpu(), NULL, 64, &f));
  memset(vg_buffer_data(f.buffer), 0xEE, vg_buffer_size(f.buffer));
  for (int r = 0; r < 3; r++)
    memcpy(vg_frame_plane(&f, 0) + r * f.pitch[0], "abc", 3);
  for (int r = 0; r < 2; r++)
    memcpy(vg_frame_plane(&f, 1) + r * f.pitch[1], "wxyz", 4);
  VG_ASSERT_OK(vg_frame_md5(&f, h));
  char want[33];
  vg_md5_hex("abcabcabcwxyzwxyz", 17, want);
  assert_string_equal(h, want);
  vg_frame_release(&f);
}

static void test_containers_and_codecs(void **st) {
  check_against_ffmpeg("h264_320x240.mp4", true, true);
  check_against_ffmpeg("h264_1366x768.mp4", true, true);
  check_against_ffmpeg("hevc_1366x768.mkv", true, true);
  check_against_ffmpeg("mpeg4_641x481.avi", true, true);
  check_against_ffmpeg("mpeg2_641x481.ts", false, true);
  check_against_ffmpeg("h264_raw.h264", false, true);
  check_against_ffmpeg("hevc_raw.hevc", false, true);
}

static void test_variable_frame_rate(void **st) {
  check_against_ffmpeg("vfr.mkv", true, true);
}

static void test_truncated_ends_cleanly(void **st) {
  check_against_ffmpeg("truncated.mp4", false, true);
}

static void test_corrupt_skipped_and_counted(void **st) {
  check_against_ffmpeg("corrupt.ts", false, false);
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("corrupt.ts"), NULL, &s));
  vg_frame f;
  vg_status rc;
  while ((rc = vg_source_read(s, &f, 20000)) == VG_OK)
    vg_frame_release(&f);
  assert_int_equal(rc, VG_ERR_EOF);
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_true(info.corrupt_packets + info.concealed_frames > 0);
  vg_source_close(s);
}

static void test_info_and_decoder_choice(void **st) {
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), NULL, &s));
  vg_source_info in;
  vg_source_get_info(s, &in);
  assert_non_null(strstr(in.container, "mp4"));
  assert_string_equal(in.codec, "h264");
  assert_string_equal(in.codec_long, "H.264");
  assert_string_equal(in.profile, "High");
  assert_int_equal(in.width, 320);
  assert_int_equal(in.height, 240);
  assert_true(fabs(in.fps - 25.0) < 1e-6);
  assert_true(fabs(in.duration_sec - 2.0) < 0.05);
  assert_false(in.live);
  assert_int_equal(in.nstreams, 1);
  assert_string_equal(in.streams[0].type, "video");
  int ngpu = 0;
  vg_cuda_device_count(&ngpu);
  if (ngpu == 0) {
    /* auto on a machine without a GPU: the CPU, and the reason says so */
    assert_int_equal(in.decoder, VG_DECODER_CPU);
    assert_non_null(strstr(in.decoder_reason, "no CUDA device"));
    assert_int_equal(in.output_device.kind, VG_DEVICE_CPU);
  }
  vg_source_close(s);

  /* MPEG-4 Part 2 is never NVDEC's here; the reason names the codec */
  VG_ASSERT_OK(vg_source_open(fx("mpeg4_641x481.avi"), NULL, &s));
  vg_source_get_info(s, &in);
  assert_int_equal(in.decoder, VG_DECODER_CPU);
  if (ngpu > 0) assert_non_null(strstr(in.decoder_reason, "not supported by NVDEC"));
  vg_source_close(s);

  /* nvdec forced without a GPU: a clear error */
  if (ngpu == 0) {
    vg_source_opts o;
    vg_source_opts_default(&o);
    o.decoder = VG_DECODER_NVDEC;
    assert_int_equal(vg_source_open(fx("h264_320x240.mp4"), &o, &s), VG_ERR_UNSUPPORTED);
    VG_ASSERT_MSG_HAS("nvdec requested");
    VG_ASSERT_MSG_HAS("no CUDA device");
    assert_null(s);
  }
  vg_decoder_kind k;
  VG_ASSERT_OK(vg_decoder_parse("gpu", &k));
  assert_int_equal(k, VG_DECODER_NVDEC);
  assert_int_equal(vg_decoder_parse("quantum", &k), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("quantum");
}

static void read_md5s(vg_source *s, char (*md5)[33], int64_t *pts, int max, int *n) {
  *n = 0;
  for (;;) {
    vg_frame f;
    vg_status st = vg_source_read(s, &f, 20000);
    if (st == VG_ERR_EOF) return;
    if (st != VG_OK) fail_msg("read: %s", vg_last_error());
    assert_true(*n < max);
    VG_ASSERT_OK(vg_frame_md5(&f, md5[*n]));
    pts[*n] = f.pts;
    assert_int_equal(f.frame_no, *n);
    vg_frame_release(&f);
    (*n)++;
  }
}

static void test_limit_start_loop(void **st) {
  ref_list ref;
  load_ref("h264_320x240.mp4", &ref); /* 50 frames at 25 fps */
  static char md5[300][33];
  static int64_t pts[300];
  int n;
  vg_source_opts o;
  vg_source *s;

  vg_source_opts_default(&o);
  o.max_frames = 7;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &o, &s));
  read_md5s(s, md5, pts, 300, &n);
  VG_ASSERT_MSG_HAS("frame limit 7");
  vg_source_close(s);
  assert_int_equal(n, 7);
  for (int i = 0; i < n; i++)
    assert_string_equal(md5[i], ref.md5[i]);

  vg_source_opts_default(&o);
  o.start_sec = 1.0;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &o, &s));
  read_md5s(s, md5, pts, 300, &n);
  vg_source_close(s);
  assert_int_equal(n, 25);
  for (int i = 0; i < n; i++)
    assert_string_equal(md5[i], ref.md5[25 + i]);

  vg_source_opts_default(&o);
  o.loop = true;
  o.max_frames = 120;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &o, &s));
  read_md5s(s, md5, pts, 300, &n);
  vg_source_info info;
  vg_source_get_info(s, &info);
  vg_source_close(s);
  assert_int_equal(n, 120);
  assert_int_equal(info.loops, 2);
  for (int i = 0; i < n; i++) {
    assert_string_equal(md5[i], ref.md5[i % 50]);
    if (i) assert_true(pts[i] > pts[i - 1]);
  }

  /* loop + start offset: every pass starts at 1 s */
  vg_source_opts_default(&o);
  o.loop = true;
  o.start_sec = 1.0;
  o.max_frames = 60;
  VG_ASSERT_OK(vg_source_open(fx("h264_raw.h264"), &o, &s));
  read_md5s(s, md5, pts, 300, &n);
  vg_source_close(s);
  ref_list raw;
  load_ref("h264_raw.h264", &raw); /* 40 frames: passes of 15 */
  assert_int_equal(n, 60);
  for (int i = 0; i < n; i++)
    assert_string_equal(md5[i], raw.md5[25 + i % 15]);
}

static void test_bounded_output_frames(void **st) {
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.output_frames = 3;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("h264_1366x768.mp4"), &o, &s));
  vg_frame held[3], f;
  for (int i = 0; i < 3; i++)
    VG_ASSERT_OK(vg_source_read(s, &held[i], 20000));
  /* all three frames of the set are held: nothing more can be decoded */
  assert_int_equal(vg_source_read(s, &f, 300), VG_ERR_TIMEOUT);
  VG_ASSERT_MSG_HAS("no frame within 300 ms");
  vg_frame_release(&held[0]);
  VG_ASSERT_OK(vg_source_read(s, &f, 20000));
  assert_int_equal(f.frame_no, 3);
  vg_frame_release(&f);
  /* frames stay valid after the source is closed */
  vg_source_close(s);
  char md5[33];
  VG_ASSERT_OK(vg_frame_md5(&held[1], md5));
  vg_frame_release(&held[1]);
  vg_frame_release(&held[2]);
}

static void test_realtime_pacing(void **st) {
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.realtime = true;
  o.max_frames = 6;
  vg_source *s;
  int64_t t0 = vg_now_ns();
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &o, &s));
  vg_frame f;
  int n = 0;
  int64_t cap0 = 0, cap_last = 0;
  while (vg_source_read(s, &f, 20000) == VG_OK) {
    /* a paced frame's capture time is its release time (what a camera would have delivered),
     * so capture times are spaced by the frame interval: end-to-end latency then starts at the
     * release, not at a packet read that waited for its due time */
    if (n == 0) cap0 = f.t_capture_ns;
    cap_last = f.t_capture_ns;
    assert_true(f.t_capture_ns >= t0 && f.t_capture_ns <= vg_now_ns());
    vg_frame_release(&f);
    n++;
  }
  double el = (vg_now_ns() - t0) / 1e9;
  vg_source_close(s);
  assert_int_equal(n, 6);
  /* 6 frames at 25 fps span 5 frame intervals: delivery cannot be faster than that */
  assert_true(el >= 5 / 25.0 - 0.005);
  assert_true((cap_last - cap0) / 1e9 >= 5 / 25.0 - 0.005);
}

static void test_many_sources_at_once(void **st) {
  const char *names[] = {"h264_320x240.mp4", "hevc_raw.hevc", "mpeg2_641x481.ts"};
  vg_source *s[3];
  ref_list *ref = malloc(3 * sizeof *ref);
  int n[3] = {0, 0, 0};
  bool done[3] = {false, false, false};
  for (int i = 0; i < 3; i++) {
    vg_source_opts o;
    vg_source_opts_default(&o);
    o.stream_id = 10 + i;
    VG_ASSERT_OK(vg_source_open(fx(names[i]), &o, &s[i]));
    load_ref(names[i], &ref[i]);
  }
  int left = 3;
  while (left) {
    for (int i = 0; i < 3; i++) {
      if (done[i]) continue;
      vg_frame f;
      vg_status rc = vg_source_read(s[i], &f, 20000);
      if (rc == VG_ERR_EOF) {
        done[i] = true;
        left--;
        continue;
      }
      VG_ASSERT_OK(rc);
      assert_int_equal(f.stream_id, 10 + i);
      char md5[33];
      VG_ASSERT_OK(vg_frame_md5(&f, md5));
      assert_string_equal(md5, ref[i].md5[n[i]]);
      n[i]++;
      vg_frame_release(&f);
    }
  }
  for (int i = 0; i < 3; i++) {
    assert_int_equal(n[i], ref[i].n);
    vg_source_close(s[i]);
  }
  free(ref);
}

/* The committed GPU-machine lists (tests/fixtures-gpu/NAME.md5) are what the CPU decoder gives:
 * NVDEC is held to them there. */
static void test_gpu_fixture_lists_match_cpu(void **st) {
  const char *names[] = {"h264_640x360_bframes.h264", "h264_642x482_crop.h264",
                         "hevc_1366x768.hevc", "h264_1920x1080_bench.h264"};
  for (int i = 0; i < 4; i++) {
    char path[700], list[720];
    snprintf(path, sizeof path, "%s/tests/fixtures-gpu/%s", vg_test_root(), names[i]);
    snprintf(list, sizeof list, "%s.md5", path);
    FILE *f = fopen(list, "r");
    if (!f) fail_msg("cannot open %s", list);
    vg_source_opts o;
    vg_source_opts_default(&o);
    o.decoder = VG_DECODER_CPU;
    vg_source *s;
    VG_ASSERT_OK(vg_source_open(path, &o, &s));
    vg_frame fr;
    char want[40], got[33];
    int n = 0;
    while (vg_source_read(s, &fr, 30000) == VG_OK) {
      if (fscanf(f, "%39s", want) != 1) fail_msg("%s: more frames than the list", names[i]);
      VG_ASSERT_OK(vg_frame_md5(&fr, got));
      if (strcmp(got, want) != 0) fail_msg("%s: frame %d: %s, list %s", names[i], n, got, want);
      vg_frame_release(&fr);
      n++;
    }
    assert_int_equal(fscanf(f, "%39s", want), EOF);
    fclose(f);
    vg_source_close(s);
    printf("%-28s %d frames match the committed list\n", names[i], n);
  }
}

int main(void) {
  vg_log_set_level(NULL, VG_LOG_ERROR);
  if (!vg_video_have_ffmpeg()) {
    printf("SKIP: this build has no FFmpeg (CPU decoding, containers)\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_md5_known_answers),
      cmocka_unit_test(test_containers_and_codecs),
      cmocka_unit_test(test_variable_frame_rate),
      cmocka_unit_test(test_truncated_ends_cleanly),
      cmocka_unit_test(test_corrupt_skipped_and_counted),
      cmocka_unit_test(test_info_and_decoder_choice),
      cmocka_unit_test(test_limit_start_loop),
      cmocka_unit_test(test_bounded_output_frames),
      cmocka_unit_test(test_realtime_pacing),
      cmocka_unit_test(test_many_sources_at_once),
      cmocka_unit_test(test_gpu_fixture_lists_match_cpu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
