/* test_nodes_jpeg_sink.c - the `jpeg_sink` node: snapshots every N-th frame and on frames that
 * carry objects, read back as images of the right size and grey level, the max_files bound (and
 * its count in the run summary), and bad parameters (no folder, nothing to write, a file in the
 * folder's place). */
#include "test_nodes_det_common.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidgraph/vg_video.h"
#include "vg_test_nodes.h"

static vg_packet *grey_packet(int frame, bool with_object) {
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 64, 48, vg_cpu(), NULL, 0, &f));
  memset(vg_frame_plane(&f, 0), 40 + 10 * frame, (size_t)f.pitch[0] * 48);
  memset(vg_frame_plane(&f, 1), 128, (size_t)f.pitch[1] * 24);
  f.full_range = true;
  vg_object o = det_obj(1, 1, 5, 5, 0, 1);
  vg_packet *p = det_packet(&o, with_object ? 1 : 0);
  vg_packet_set_stream(p, 0, frame);
  vg_packet_set_frame(p, &f);
  vg_frame_release(&f);
  return p;
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static void clean(const char *dir) {
  DIR *d = opendir(dir);
  char p[512];
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

/* 10 frames (objects on frames 2 and 5) into a jpeg_sink; returns its summary detail. */
static char *run_sink(const char *params) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n  - {id: snap, type: jpeg_sink, params: %s}\n"
           "edges: [in -> snap]\n",
           params);
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string(yaml, "jpeg.yaml", NULL, 0, vg_test_registry(), &g));
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  for (int f = 0; f < 10; f++) {
    vg_packet *p = grey_packet(f, f == 2 || f == 5);
    VG_ASSERT_OK(vg_run_feed(r, "in", p));
    vg_packet_unref(p);
  }
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 20000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  char *detail = s.nodes[1].detail ? strdup(s.nodes[1].detail) : NULL;
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  return detail;
}

static void test_every_and_on_objects(void **state) {
  (void)state;
  char dir[] = "/tmp/vg_jpeg_sink_XXXXXX", params[256];
  assert_non_null(mkdtemp(dir));
  snprintf(params, sizeof params, "{path: '%s', every: 3, quality: 95}", dir);
  free(run_sink(params));
  assert_int_equal(count_files(dir), 4); /* frames 0, 3, 6, 9 */
  for (int f = 0; f < 10; f += 3) {
    char path[512];
    snprintf(path, sizeof path, "%s/snap_s0_f%06d.jpg", dir, f);
    vg_frame img;
    VG_ASSERT_OK(vg_image_read(path, &img));
    assert_int_equal(img.width, 64);
    assert_int_equal(img.height, 48);
    int v = vg_frame_plane(&img, 0)[img.pitch[0] * 20 + 3 * 30]; /* R of a grey pixel */
    assert_true(abs(v - (40 + 10 * f)) <= 3);
    vg_frame_release(&img);
  }
  clean(dir);
  snprintf(dir, sizeof dir, "/tmp/vg_jpeg_sink_XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(params, sizeof params, "{path: '%s', on_objects: true, prefix: ev}", dir);
  free(run_sink(params));
  assert_int_equal(count_files(dir), 2);
  char path[512];
  snprintf(path, sizeof path, "%s/ev_s0_f000005.jpg", dir);
  assert_int_equal(access(path, R_OK), 0);
  clean(dir);
}

static void test_max_files(void **state) {
  (void)state;
  char dir[] = "/tmp/vg_jpeg_sink_XXXXXX", params[256];
  assert_non_null(mkdtemp(dir));
  snprintf(params, sizeof params, "{path: '%s', every: 1, max_files: 2}", dir);
  char *detail = run_sink(params);
  assert_int_equal(count_files(dir), 2);
  json_t *j = json_loads(detail, 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "written")), 2);
  assert_int_equal(json_integer_value(json_object_get(j, "not_written_max_files")), 8);
  json_decref(j);
  free(detail);
  clean(dir);
}

static void test_bad_params(void **state) {
  (void)state;
  det_expect_init_error("jpeg_sink", "{every: 2}", "path");
  det_expect_init_error("jpeg_sink", "{path: /tmp}", "nothing to write");
  det_expect_init_error("jpeg_sink", "{path: /tmp, every: 1, quality: 0}", "quality");
  det_expect_init_error("jpeg_sink", "{path: /tmp, every: 1, prefix: 'a/b'}", "no '/'");
  det_expect_init_error("jpeg_sink", "{path: /etc/hostname, every: 1}", "is not a folder");
  det_expect_init_error("jpeg_sink", "{path: /nonexistent/a/b, every: 1}",
                        "cannot create the snapshot folder '/nonexistent/a/b'");
  det_expect_init_error("jpeg_sink", "{path: /tmp, every: 1, dir: x}", "unknown parameter 'dir'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_and_on_objects),
      cmocka_unit_test(test_max_files),
      cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
