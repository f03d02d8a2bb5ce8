/* test_nodes_tiles.c - the `tiles` node: tile counts and transforms of a 1080p frame from the grid
 * geometry worked out by hand, tile pixels equal to the frame pixels they cover (a tile of the
 * model's size is a plain copy), the global view's letterbox, two frames of different sizes
 * batched into one call (one tensor, each packet a view of its own items), and bad parameters. */
#include "vg_test.h"

#include <pthread.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

static uint8_t pix(int x, int y, int c) {
  return (uint8_t)(c == 0 ? (x * 7 + y * 3) & 255 : c == 1 ? (x + y) & 255 : y & 255);
}

static vg_packet *frame_packet(int stream, int w, int h, int salt) {
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_RGB24, w, h, vg_cpu(), NULL, 0, &f));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        vg_frame_plane(&f, 0)[(size_t)y * f.pitch[0] + 3 * x + c] = pix(x + salt, y, c);
  f.stream_id = stream;
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, stream, 0);
  vg_packet_set_frame(p, &f);
  vg_frame_release(&f);
  return p;
}

typedef struct got {
  pthread_mutex_t mu;
  vg_packet *p[4];
  int n;
} got;

static void keep(void *user, const char *id, vg_packet *p) {
  got *g = user;
  pthread_mutex_lock(&g->mu);
  if (g->n < 4) g->p[g->n++] = vg_packet_ref(p);
  pthread_mutex_unlock(&g->mu);
}

/* Runs input -> tiles(params) -> sink over the packets; returns the summary's mean batch. */
static double run_tiles(const char *params, vg_packet **in, int n, got *g) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: tl, type: tiles, device: cpu, max_batch: 4, max_wait_ms: 2000, params: %s}\n"
           "  - {id: out, type: callback_sink}\nedges: [in -> tl, tl -> out]\n",
           params);
  vg_graph *gr = NULL;
  if (vg_graph_load_string(yaml, "tiles.yaml", NULL, 0, vg_test_registry(), &gr) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(gr, NULL, &r));
  for (int i = 0; i < n; i++)
    VG_ASSERT_OK(vg_run_feed(r, "in", in[i]));
  VG_ASSERT_OK(vg_run_on_packet(r, "out", keep, g));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 60000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  double mb = s.nodes[vg_graph_find_node(gr, "tl")].mean_batch;
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(gr);
  return mb;
}

/* Tile k of the packet covers the frame from (ox, oy) at scale 1: its pixels are the frame's. */
static void expect_tile(const vg_tensor *t, int k, int ox, int oy, int salt) {
  const float *d = vg_tensor_data(t);
  int64_t H = t->shape[2], W = t->shape[3];
  static const int probe[][2] = {{0, 0}, {639, 0}, {0, 639}, {639, 639}, {123, 457}, {320, 5}};
  for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
    int u = probe[i][0], v = probe[i][1];
    for (int c = 0; c < 3; c++) {
      float got = d[((k * 3 + c) * H + v) * W + u];
      float want = pix(ox + u + salt, oy + v, c) / 255.f;
      if (got < want - 1e-6f || got > want + 1e-6f)
        fail_msg("tile %d (%d,%d) c%d: got %g want %g", k, u, v, c, got, want);
    }
  }
}

static void test_1080p_grid(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  vg_packet *in = frame_packet(0, 1920, 1080, 0);
  got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
  run_tiles("{tile_size: 640, overlap: 64, global_view: true, output: images}", &in, 1, &g);
  assert_int_equal(g.n, 1);
  const vg_tensor *t = vg_packet_tensor(g.p[0], "images");
  assert_non_null(t);
  /* columns: stride 576 -> x 0, 576, 1152, then 1280 (moved to end at 1920); rows 0, 440 */
  assert_int_equal(t->shape[0], 9);
  assert_int_equal(t->shape[1], 3);
  assert_int_equal(t->shape[2], 640);
  assert_int_equal(t->shape[3], 640);
  int nx;
  const vg_xform *xf = vg_packet_xforms(g.p[0], &nx);
  assert_int_equal(nx, 9);
  static const int ox[] = {0, 576, 1152, 1280}, oy[] = {0, 440};
  for (int k = 0; k < 8; k++) {
    assert_float_equal(xf[k].off_x, ox[k % 4], 0);
    assert_float_equal(xf[k].off_y, oy[k / 4], 0);
    assert_float_equal(xf[k].scale_x, 1, 0);
    float fx, fy;
    vg_xform_to_frame(&xf[k], 10.f, 20.f, &fx, &fy);
    assert_float_equal(fx, ox[k % 4] + 10.f, 1e-4);
    assert_float_equal(fy, oy[k / 4] + 20.f, 1e-4);
    expect_tile(t, k, ox[k % 4], oy[k / 4], 0);
  }
  /* global view: 1920x1080 letterboxed into 640x640: scale 1/3, 140 rows of padding above */
  assert_float_equal(xf[8].scale_x, 1.f / 3.f, 1e-6);
  assert_float_equal(xf[8].pad_y, 140.f, 1e-3);
  assert_float_equal(xf[8].pad_x, 0.f, 1e-3);
  const float *d = vg_tensor_data(t);
  assert_float_equal(d[((8 * 3 + 0) * 640 + 10) * 640 + 320], 114.f / 255.f, 1e-6); /* padding */
  assert_true(vg_packet_frame(g.p[0]) != NULL); /* the picture travels on */
  vg_packet_unref(g.p[0]);
  vg_packet_unref(in);
  assert_int_equal(vg_packet_live_count(), base);
}

static void test_batched_frames(void **state) {
  (void)state;
  /* 1280x720 -> columns 0, 512, 640; rows 0, 80: 6 tiles, no global view.
   * 700x500 -> one column pair 0, 60 (moved to the edge); one clipped row: 2 tiles */
  vg_packet *in[2] = {frame_packet(0, 1280, 720, 0), frame_packet(1, 700, 500, 9)};
  got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
  double mb = run_tiles("{tile_size: [640, 640], overlap: 128, global_view: false}", in, 2, &g);
  assert_int_equal(g.n, 2);
  vg_packet *p0 = vg_packet_stream(g.p[0]) == 0 ? g.p[0] : g.p[1];
  vg_packet *p1 = p0 == g.p[0] ? g.p[1] : g.p[0];
  const vg_tensor *t0 = vg_packet_tensor(p0, "input"), *t1 = vg_packet_tensor(p1, "input");
  assert_int_equal(t0->shape[0], 6);
  assert_int_equal(t1->shape[0], 2);
  int n0, n1;
  const vg_xform *x0 = vg_packet_xforms(p0, &n0), *x1 = vg_packet_xforms(p1, &n1);
  assert_int_equal(n0, 6);
  assert_int_equal(n1, 2);
  assert_float_equal(x0[2].off_x, 640, 0);
  assert_float_equal(x0[5].off_y, 80, 0);
  assert_float_equal(x1[1].off_x, 60, 0);
  expect_tile(t0, 4, 512, 80, 0);
  /* frame 2's tile 1 starts at x = 60; only its 500 rows are frame pixels (probe rows < 500) */
  const float *d = vg_tensor_data(t1);
  assert_float_equal(d[((1 * 3 + 0) * 640 + 457) * 640 + 123], pix(60 + 123 + 9, 457, 0) / 255.f,
                     1e-6);
  /* one call for both (max_wait_ms 2000): the packets hold views of one tensor */
  assert_float_equal(mb, 2.0, 1e-9);
  assert_ptr_equal(t0->buffer, t1->buffer);
  for (int i = 0; i < 2; i++) {
    vg_packet_unref(g.p[i]);
    vg_packet_unref(in[i]);
  }
}

static void expect_init_error(const char *params, const char *needle) {
  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n  - {id: tl, type: tiles, params: %s}\n"
           "edges: [in -> tl]\n",
           params);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "tiles.yaml", NULL, 0, vg_test_registry(), &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r = NULL;
  assert_int_not_equal(vg_run_create(g, NULL, &r), VG_OK);
  VG_ASSERT_MSG_HAS("node 'tl' (tiles)");
  VG_ASSERT_MSG_HAS(needle);
  vg_graph_free(g);
}

static void test_bad_params(void **state) {
  (void)state;
  expect_init_error("{tile_size: 8}", "tile_size 8 is outside 16..");
  expect_init_error("{tile_size: [640]}", "tile_size: expected a number or [width, height]");
  expect_init_error("{tile_size: 640, overlap: 640}", "overlap");
  expect_init_error("{dtype: i8}", "dtype must be f32 or f16");
  expect_init_error("{layout: chw}", "layout must be nchw or nhwc");
  expect_init_error("{global: true}", "unknown parameter 'global'");
  expect_init_error("{width: 4}", "width");
  expect_init_error("{output: ''}", "output: a tensor name");
}

static void test_packet_without_picture(void **state) {
  (void)state;
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n  - {id: in, type: input}\n"
                                    "  - {id: tl, type: tiles, device: cpu}\n"
                                    "  - {id: out, type: output}\nedges: [in -> tl, tl -> out]\n",
                                    "tiles.yaml", NULL, 0, vg_test_registry(), &g));
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 3, 7);
  const char *ids[] = {"in"};
  vg_run *r = NULL;
  assert_int_not_equal(vg_run_once(g, NULL, ids, &p, 1, 10000, &r), VG_OK);
  VG_ASSERT_MSG_HAS("node 'tl' (tiles): stream 3 frame 7 has no picture");
  vg_run_destroy(r);
  vg_packet_unref(p);
  vg_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_1080p_grid),
      cmocka_unit_test(test_batched_frames),
      cmocka_unit_test(test_bad_params),
      cmocka_unit_test(test_packet_without_picture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
