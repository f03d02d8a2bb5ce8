/* Bad video input: empty, garbage, missing, audio-only, not-an-image, unreachable and silent
 * network sources, bad options. Each gives a clear error that names the source, without a crash,
 * a leak (the sanitizer build runs this) or a hang (every wait has a deadline). */
#include "unit/test_video_util.h"
#include "vidgraph/vg_video.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Opening must fail with status want and a message naming the source (and `also`). */
static void expect_open_fails(const char *url, vg_status want, const char *also,
                              const vg_source_opts *o) {
  vg_source *s = (vg_source *)0x1;
  vg_status st = vg_source_open(url, o, &s);
  if (st != want)
    fail_msg("%s: got %s (%s), want %s", url, vg_status_name(st), vg_last_error(),
             vg_status_name(want));
  assert_null(s);
  printf("%-40.40s -> %s: %s\n", url, vg_status_name(st), vg_last_error());
  VG_ASSERT_MSG_HAS(url);
  if (also) VG_ASSERT_MSG_HAS(also);
}

static void test_bad_files(void **st) {
  char missing[700];
  snprintf(missing, sizeof missing, "%s/no_such_video.mp4", fixtures());
  expect_open_fails(missing, VG_ERR_NOT_FOUND, "no such file", NULL);
  expect_open_fails(fx("empty.mp4"), VG_ERR_PARSE, NULL, NULL);
  expect_open_fails(fx("garbage.mp4"), VG_ERR_PARSE, NULL, NULL);
  expect_open_fails(fx("audio_only.wav"), VG_ERR_UNSUPPORTED, "no video stream", NULL);
  /* a file that claims to be an image but is not one */
  expect_open_fails(fx("images/readme.txt"), VG_ERR_PARSE, NULL, NULL);
  char fake[700];
  snprintf(fake, sizeof fake, "%s/garbage_image.jpg", fixtures());
  FILE *f = fopen(fake, "wb");
  fputs("\xff\xd8\xff this is not really a jpeg", f);
  fclose(f);
  expect_open_fails(fake, VG_ERR_PARSE, "bad JPEG", NULL);
  snprintf(fake, sizeof fake, "%s/empty_folder", fixtures());
  char cmd[800];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", fake);
  assert_int_equal(system(cmd), 0);
  expect_open_fails(fake, VG_ERR_NOT_FOUND, "no .jpg", NULL);
}

/* CRC-32 as PNG chunks carry it (ISO 3309, reflected 0xEDB88320). */
static uint32_t png_crc(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

/* Writes n bytes of data to fixtures/name; returns the path in buf. */
static const char *put_file(const char *name, const void *data, size_t n, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", fixtures(), name);
  FILE *f = fopen(buf, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  return buf;
}

/* Pictures whose header asks for far more work than the file holds: a truncated JPEG (libjpeg
 * would make up the missing rows), a JPEG header declaring 9224x2279 pixels in 600 bytes (a
 * fuzz_image slow unit: a 21 Mpixel decode of nothing), and JPEG/PNG headers declaring
 * 60000x60000 (10.8 GB as RGB). Each is refused with a message naming the file and the cause. */
static void test_bad_image_sizes(void **st) {
  vg_frame f;
  assert_int_equal(vg_frame_alloc(VG_PIX_RGB24, 320, 240, vg_cpu(), NULL, 0, &f), VG_OK);
  for (int y = 0; y < 240; y++)
    for (int x = 0; x < 320 * 3; x++)
      vg_frame_plane(&f, 0)[(size_t)y * f.pitch[0] + x] = (uint8_t)((x * 7 + y * 13) & 0xff);
  uint8_t *jpg = NULL;
  size_t n = 0;
  assert_int_equal(vg_jpeg_encode(&f, 90, &jpg, &n), VG_OK);
  vg_frame_release(&f);
  char path[700];
  /* the whole file reads */
  vg_frame img;
  assert_int_equal(vg_image_read(put_file("whole.jpg", jpg, n, path, sizeof path), &img), VG_OK);
  assert_int_equal(img.width, 320);
  vg_frame_release(&img);
  /* cut in the middle of the picture data */
  expect_open_fails(put_file("truncated.jpg", jpg, n / 2, path, sizeof path), VG_ERR_PARSE,
                    "truncated", NULL);
  /* the frame header (SOF0: FF C0, length, precision, height, width) patched */
  size_t sof = 0;
  for (size_t i = 2; i + 9 < n; i++)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  assert_true(sof > 0);
  uint8_t *big = malloc(n);
  assert_non_null(big);
  memcpy(big, jpg, n);
  big[sof + 5] = 2279 >> 8, big[sof + 6] = 2279 & 0xff, big[sof + 7] = 9224 >> 8,
  big[sof + 8] = 9224 & 0xff;
  expect_open_fails(put_file("declared_21mpx.jpg", big, n, path, sizeof path), VG_ERR_PARSE,
                    "truncated", NULL);
  big[sof + 5] = big[sof + 7] = 60000 >> 8;
  big[sof + 6] = big[sof + 8] = 60000 & 0xff;
  expect_open_fails(put_file("declared_3600mpx.jpg", big, n, path, sizeof path),
                    VG_ERR_UNSUPPORTED, "Mpixel", NULL);
  free(big);
  free(jpg);
  /* a PNG signature, an IHDR chunk (with its CRC) declaring 60000x60000 RGB, an empty IDAT */
  uint8_t png[45] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  uint32_t wh = 60000;
  for (int k = 0; k < 2; k++)
    for (int b = 0; b < 4; b++)
      png[16 + 4 * k + b] = (uint8_t)(wh >> (24 - 8 * b));
  png[24] = 8, png[25] = 2; /* 8 bits, RGB; compression, filter, interlace 0 */
  uint32_t crc = png_crc(png + 12, 17);
  for (int b = 0; b < 4; b++)
    png[29 + b] = (uint8_t)(crc >> (24 - 8 * b));
  memcpy(png + 37, "IDAT", 4);
  crc = png_crc(png + 37, 4);
  for (int b = 0; b < 4; b++)
    png[41 + b] = (uint8_t)(crc >> (24 - 8 * b));
  expect_open_fails(put_file("declared_3600mpx.png", png, sizeof png, path, sizeof path),
                    VG_ERR_UNSUPPORTED, "Mpixel", NULL);
}

static void test_bad_arguments(void **st) {
  vg_source *s;
  assert_int_equal(vg_source_open("", NULL, &s), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_source_open(NULL, NULL, &s), VG_ERR_INVALID_ARG);
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.output_frames = 0;
  assert_int_equal(vg_source_open(fx("h264_raw.h264"), &o, &s), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("output_frames 0");
  vg_source_opts_default(&o);
  o.read_timeout_ms = 0;
  assert_int_equal(vg_source_open(fx("h264_raw.h264"), &o, &s), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("timeouts");
  vg_source_opts_default(&o);
  o.reconnect_max_ms = 1;
  assert_int_equal(vg_source_open(fx("h264_raw.h264"), &o, &s), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("reconnect");
  assert_int_equal(vg_source_read(NULL, NULL, 0), VG_ERR_INVALID_ARG);
  vg_source_close(NULL);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_unreachable_and_silent_network(void **st) {
  /* nobody listens on the port: refused at once */
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/cam", free_port());
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.open_timeout_ms = 3000;
  vg_source *s = NULL;
  vg_status rc = vg_source_open(url, &o, &s);
  assert_true(rc == VG_ERR_IO || rc == VG_ERR_TIMEOUT);
  VG_ASSERT_MSG_HAS(url);
  printf("%s -> %s: %s\n", url, vg_status_name(rc), vg_last_error());

  /* a server that accepts the connection and never answers: the open deadline ends it */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  assert_int_equal(listen(fd, 4), 0);
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/cam", ntohs(a.sin_port));
  o.open_timeout_ms = 700;
  o.read_timeout_ms = 700;
  rc = vg_source_open(url, &o, &s);
  close(fd);
  printf("%s -> %s: %s\n", url, vg_status_name(rc), vg_last_error());
  assert_true(rc == VG_ERR_TIMEOUT || rc == VG_ERR_IO);
  VG_ASSERT_MSG_HAS(url);
  assert_null(s);

  /* the same for HTTP */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  getsockname(fd, (struct sockaddr *)&a, &len);
  assert_int_equal(listen(fd, 4), 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/video.mp4", ntohs(a.sin_port));
  rc = vg_source_open(url, &o, &s);
  close(fd);
  printf("%s -> %s: %s\n", url, vg_status_name(rc), vg_last_error());
  assert_true(rc == VG_ERR_TIMEOUT || rc == VG_ERR_IO);
  VG_ASSERT_MSG_HAS(url);
}

static void test_close_while_reading(void **st) {
  /* closing a looping, paced source with frames held and queued neither hangs nor leaks */
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.loop = true;
  o.output_frames = 2;
  vg_source *s;
  VG_ASSERT_OK(vg_source_open(fx("hevc_raw.hevc"), &o, &s));
  vg_frame f;
  VG_ASSERT_OK(vg_source_read(s, &f, 20000));
  vg_source_close(s);
  vg_frame_release(&f);
  o.realtime = true;
  VG_ASSERT_OK(vg_source_open(fx("h264_320x240.mp4"), &o, &s));
  vg_source_close(s);
}

/* Builds without FFmpeg (the GPU machine variant) read raw streams only, and say so. Runs in
 * the FFmpeg-less build; uses committed fixtures since that machine has no ffmpeg CLI. */
static void test_without_ffmpeg(void **st) {
  char path[700];
  vg_source *s = NULL;
  snprintf(path, sizeof path, "%s/tests/fixtures-gpu/h264_642x482_crop.h264", vg_test_root());
  int ngpu = 0;
  vg_cuda_device_count(&ngpu);
  if (ngpu == 0) {
    assert_int_equal(vg_source_open(path, NULL, &s), VG_ERR_UNSUPPORTED);
    VG_ASSERT_MSG_HAS("no CUDA device");
    VG_ASSERT_MSG_HAS("no CPU decoder");
    VG_ASSERT_MSG_HAS(path);
  }
  snprintf(path, sizeof path, "%s/tests/fixtures-gpu/missing.h264", vg_test_root());
  assert_int_equal(vg_source_open(path, NULL, &s), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS(path);
  snprintf(path, sizeof path, "%s/tests/fixtures-gpu/h264_642x482_crop.h264.md5", vg_test_root());
  assert_int_equal(vg_source_open(path, NULL, &s), VG_ERR_UNSUPPORTED);
  VG_ASSERT_MSG_HAS("reads only raw H.264/HEVC");
  snprintf(path, sizeof path, "%s/README.md", vg_test_root());
  char fake[700];
  snprintf(fake, sizeof fake, "/tmp/vidgraph_not_annexb_%d.h264", (int)getpid());
  char cmd[1500];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, fake);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(vg_source_open(fake, NULL, &s), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("no Annex-B start code");
  remove(fake);
  vg_encoder_opts eo;
  vg_encoder_opts_default(&eo);
  eo.width = eo.height = 64;
  vg_encoder *e;
  assert_int_equal(vg_encoder_open("/tmp/x.mp4", &eo, &e), VG_ERR_UNSUPPORTED);
  VG_ASSERT_MSG_HAS("no FFmpeg");
}

int main(void) {
  vg_log_set_level(NULL, VG_LOG_ERROR);
  if (!vg_video_have_ffmpeg()) {
    const struct CMUnitTest only[] = {cmocka_unit_test(test_without_ffmpeg)};
    return cmocka_run_group_tests(only, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_bad_image_sizes),
      cmocka_unit_test(test_unreachable_and_silent_network),
      cmocka_unit_test(test_close_while_reading),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
