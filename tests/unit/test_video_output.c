/* Images in, pictures out: PNG/JPEG files and folders as sources (PNG bit-exact against ffmpeg's
 * RGB24 decode, JPEG within 30 dB PSNR of it), JPEG snapshots of NV12 frames (within 30 dB of
 * ffmpeg's own NV12->RGB conversion of the same frame), and the MP4 encoder: a libx264 round
 * trip decodes back to the same number of frames with Y PSNR above 35 dB, the drop-and-count
 * policy accounts for every frame, and the blocking policy drops none. */
#include "unit/test_video_util.h"
#include "vidgraph/vg_video.h"

#include <math.h>

static int load_md5s(const char *path, char (*md5)[33], int max) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) && n < max) {
    if (line[0] == '#') continue;
    char *h = strrchr(line, ',');
    if (h && sscanf(h + 1, "%32s", md5[n]) == 1) n++;
  }
  fclose(f);
  return n;
}

static unsigned char *load_raw(const char *path, size_t want) {
  char *data;
  size_t n;
  VG_ASSERT_OK(vg_read_file(path, 1 << 26, &data, &n));
  assert_int_equal(n, want);
  return (unsigned char *)data;
}

/* PSNR of two packed buffers of n bytes. */
static double psnr(const unsigned char *a, const unsigned char *b, size_t n) {
  double se = 0;
  for (size_t i = 0; i < n; i++)
    se += (double)(a[i] - b[i]) * (a[i] - b[i]);
  if (se == 0) return 99.0;
  return 10 * log10(255.0 * 255.0 / (se / (double)n));
}

/* The frame's first plane rows packed without padding. */
static unsigned char *pack_plane(const vg_frame *f, int p) {
  size_t wb = vg_frame_plane_width_bytes(f, p);
  int rows = vg_frame_plane_rows(f, p);
  unsigned char *o = malloc(wb * (size_t)rows);
  for (int r = 0; r < rows; r++)
    memcpy(o + r * wb, vg_frame_plane(f, p) + (size_t)r * f->pitch[p], wb);
  return o;
}

static void test_png_and_folder_sources(void **st) {
  char ref[8][33];
  char path[700];
  snprintf(path, sizeof path, "%s.framemd5", fx("image.png"));
  assert_int_equal(load_md5s(path, ref, 8), 1);
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("image.png"), NULL, &s));
  vg_frame f;
  VG_ASSERT_OK(vg_source_read(s, &f, 10000));
  assert_int_equal(f.format, VG_PIX_RGB24);
  assert_int_equal(f.width, 97);
  assert_int_equal(f.height, 61);
  char md5[33];
  VG_ASSERT_OK(vg_frame_md5(&f, md5));
  assert_string_equal(md5, ref[0]);
  vg_frame_release(&f);
  assert_int_equal(vg_source_read(s, &f, 10000), VG_ERR_EOF);
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_int_equal(info.decoder, VG_DECODER_NONE);
  assert_string_equal(info.container, "image");
  vg_source_close(s);

  /* a folder: sorted image files, other files ignored; looped twice */
  snprintf(path, sizeof path, "%s", fx("images.framemd5"));
  assert_int_equal(load_md5s(path, ref, 8), 3);
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.loop = true;
  o.max_frames = 6;
  o.image_fps = 5;
  o.stream_id = 4;
  VG_ASSERT_OK(vg_source_open(fx("images"), &o, &s));
  for (int i = 0; i < 6; i++) {
    VG_ASSERT_OK(vg_source_read(s, &f, 10000));
    VG_ASSERT_OK(vg_frame_md5(&f, md5));
    assert_string_equal(md5, ref[i % 3]);
    assert_int_equal(f.frame_no, i);
    assert_int_equal(f.stream_id, 4);
    assert_int_equal(f.pts * f.tb_num * 5, (int64_t)i * f.tb_den); /* 0.2 s apart */
    vg_frame_release(&f);
  }
  assert_int_equal(vg_source_read(s, &f, 10000), VG_ERR_EOF);
  vg_source_close(s);
}

/* Full-range luma of packed RGB24 (BT.601), as a JPEG decoder's Y would be. */
static unsigned char *luma_of_rgb(const unsigned char *rgb, size_t npix, bool limited) {
  unsigned char *y = malloc(npix);
  for (size_t i = 0; i < npix; i++) {
    double v = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    if (limited) v = 16 + v * 219.0 / 255.0;
    y[i] = (unsigned char)(v + 0.5);
  }
  return y;
}

static void test_jpeg_source(void **st) {
  vg_frame f;
  VG_ASSERT_OK(vg_image_read(fx("image.jpg"), &f));
  assert_int_equal(f.width, 161);
  assert_int_equal(f.height, 121);
  size_t npix = 161 * 121;
  unsigned char *want = load_raw(fx("image.jpg.rgb"), npix * 3);
  unsigned char *got = pack_plane(&f, 0);
  /* the decoders differ in chroma upsampling (sharp coloured edges), so RGB agrees loosely and
   * luma, which both take from the same DCT data, closely */
  double p = psnr(got, want, npix * 3);
  unsigned char *ya = luma_of_rgb(got, npix, false), *yb = luma_of_rgb(want, npix, false);
  double py = psnr(ya, yb, npix);
  printf("libjpeg vs ffmpeg decode of image.jpg: RGB %.1f dB, luma %.1f dB\n", p, py);
  assert_true(p > 24.0);
  assert_true(py > 38.0);
  free(want);
  free(got);
  free(ya);
  free(yb);
  vg_frame_release(&f);
  assert_int_equal(vg_image_read(fx("h264_raw.h264"), &f), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("not a JPEG or PNG");
}

static void test_jpeg_snapshot(void **st) {
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), NULL, &s));
  vg_frame f;
  VG_ASSERT_OK(vg_source_read(s, &f, 10000));
  char out[700];
  snprintf(out, sizeof out, "%s/snapshot_test.jpg", fixtures());
  VG_ASSERT_OK(vg_jpeg_write(&f, out, 95));
  assert_int_equal(vg_jpeg_write(&f, out, 0), VG_ERR_INVALID_ARG);
  char bad[] = "/nonexistent-dir/x.jpg";
  assert_int_equal(vg_jpeg_write(&f, bad, 90), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("/nonexistent-dir/x.jpg");
  vg_source_close(s);
  vg_frame back;
  VG_ASSERT_OK(vg_image_read(out, &back));
  assert_int_equal(back.width, 320);
  assert_int_equal(back.height, 240);
  size_t npix = 320 * 240;
  unsigned char *want = load_raw(fx("h264_320x240.mp4.first.rgb"), npix * 3);
  unsigned char *got = pack_plane(&back, 0);
  /* colours against ffmpeg's own NV12->RGB of the frame (a swapped channel or a wrong matrix
   * falls far below the bound); luma back against the frame's own Y plane */
  double p = psnr(got, want, npix * 3);
  unsigned char *y = luma_of_rgb(got, npix, true), *y0 = pack_plane(&f, 0);
  double py = psnr(y, y0, npix);
  printf("JPEG snapshot: RGB vs ffmpeg %.1f dB, luma vs the frame %.1f dB\n", p, py);
  assert_true(p > 25.0);
  assert_true(py > 35.0);
  free(want);
  free(got);
  free(y);
  free(y0);
  vg_frame_release(&f);
  vg_frame_release(&back);
}

static void test_encoder_round_trip(void **st) {
  /* the 50 frames of a clip, kept in memory */
  vg_frame src[50];
  vg_source_opts so;
  vg_source_opts_default(&so);
  so.output_frames = 50;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &so, &s));
  for (int i = 0; i < 50; i++)
    VG_ASSERT_OK(vg_source_read(s, &src[i], 10000));
  vg_source_close(s);

  char out[700];
  snprintf(out, sizeof out, "%s/roundtrip_test.mp4", fixtures());
  vg_encoder_opts eo;
  vg_encoder_opts_default(&eo);
  eo.width = 320;
  eo.height = 240;
  eo.crf = 18;
  eo.block_when_full = true;
  vg_encoder *e;
  VG_ASSERT_OK(vg_encoder_open(out, &eo, &e));
  for (int i = 0; i < 50; i++)
    VG_ASSERT_OK(vg_encoder_write(e, &src[i], 10000));
  vg_encoder_stats es;
  vg_encoder_get_stats(e, &es);
  int ngpu = 0;
  vg_cuda_device_count(&ngpu);
  if (ngpu == 0) {
    assert_string_equal(es.codec, "libx264");
    assert_non_null(strstr(es.reason, "h264_nvenc not used: no CUDA device"));
  }
  VG_ASSERT_OK(vg_encoder_close(e));

  VG_ASSERT_OK(vg_source_open(out, NULL, &s));
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_string_equal(info.codec, "h264");
  double worst = 99;
  int n = 0;
  vg_frame f;
  while (vg_source_read(s, &f, 10000) == VG_OK) {
    assert_true(n < 50);
    for (int p = 0; p < 2; p++) {
      unsigned char *a = pack_plane(&f, p), *b = pack_plane(&src[n], p);
      double q = psnr(a, b, vg_frame_plane_width_bytes(&f, p) * vg_frame_plane_rows(&f, p));
      if (q < worst) worst = q;
      free(a);
      free(b);
    }
    /* timestamps survive the trip: 25 fps in, 25 fps out */
    assert_true(fabs((double)f.pts * f.tb_num / f.tb_den -
                     (double)src[n].pts * src[n].tb_num / src[n].tb_den) < 0.002);
    vg_frame_release(&f);
    n++;
  }
  vg_source_close(s);
  printf("round trip: %d frames, worst plane PSNR %.1f dB (bound 35)\n", n, worst);
  assert_int_equal(n, 50);
  assert_true(worst > 35.0);

  /* drop-and-count: a one-frame queue and a writer that never waits */
  eo.queue_frames = 1;
  eo.block_when_full = false;
  VG_ASSERT_OK(vg_encoder_open(out, &eo, &e));
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 50; i++)
      VG_ASSERT_OK(vg_encoder_write(e, &src[i], 0));
  vg_encoder_get_stats(e, &es);
  VG_ASSERT_OK(vg_encoder_close(e));
  printf("drop policy: in %lld, encoded %lld, dropped %lld\n", (long long)es.frames_in,
         (long long)es.frames_encoded, (long long)es.frames_dropped);
  assert_int_equal(es.frames_in, 200);
  /* every frame is either encoded (possibly still queued at the snapshot) or dropped */
  assert_true(es.frames_dropped <= 199);
  VG_ASSERT_OK(vg_source_open(out, NULL, &s));
  n = 0;
  while (vg_source_read(s, &f, 10000) == VG_OK) {
    vg_frame_release(&f);
    n++;
  }
  vg_source_close(s);
  assert_int_equal(n + es.frames_dropped, 200);

  /* RGB24 frames of another size are converted */
  VG_ASSERT_OK(vg_source_open(fx("image.png"), NULL, &s));
  VG_ASSERT_OK(vg_source_read(s, &f, 10000));
  vg_source_close(s);
  eo.queue_frames = 4;
  eo.block_when_full = true;
  VG_ASSERT_OK(vg_encoder_open(out, &eo, &e));
  for (int i = 0; i < 3; i++)
    VG_ASSERT_OK(vg_encoder_write(e, &f, 10000));
  VG_ASSERT_OK(vg_encoder_close(e));
  vg_frame_release(&f);
  VG_ASSERT_OK(vg_source_open(out, NULL, &s));
  n = 0;
  while (vg_source_read(s, &f, 10000) == VG_OK) {
    assert_int_equal(f.width, 320);
    vg_frame_release(&f);
    n++;
  }
  vg_source_close(s);
  assert_int_equal(n, 3);
  for (int i = 0; i < 50; i++)
    vg_frame_release(&src[i]);

  /* bad encoder arguments */
  eo.width = 321;
  assert_int_equal(vg_encoder_open(out, &eo, &e), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("321x240");
  eo.width = 320;
  eo.codec = "mpeg1";
  assert_int_equal(vg_encoder_open(out, &eo, &e), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("mpeg1");
  eo.codec = "libx264";
  assert_int_equal(vg_encoder_open("/nonexistent-dir/out.mp4", &eo, &e), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("/nonexistent-dir/out.mp4");
}

int main(void) {
  vg_log_set_level(NULL, VG_LOG_ERROR);
  if (!vg_video_have_ffmpeg()) {
    printf("SKIP: this build has no FFmpeg\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_png_and_folder_sources),
      cmocka_unit_test(test_jpeg_source),
      cmocka_unit_test(test_jpeg_snapshot),
      cmocka_unit_test(test_encoder_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
