/* test_gpu_nodes_yolo.c - the detection nodes on CUDA against their CPU twins, through graphs:
 *  - yolo_decode placed on cuda (the scheduler moves the head to the device; decode + top-k +
 *    NMS + transform run there, only detections come back) gives exactly the detections of
 *    yolo_decode placed on cpu: same count, order, boxes, scores, classes and labels, for random
 *    v8 heads (f32 and f16, letterbox and 5-tile batches, fused and not, class-aware and
 *    agnostic);
 *  - tiles placed on cuda gives the CPU tiles tensor within 1e-3 and the same transforms.
 * Prints "KEY yolo_decode cases=N detections=M" and "KEY tiles max_err=E" lines. */
#include "vg_test.h"

#include <math.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static float frand(void) { /* xorshift64*, deterministic */
  g_rng ^= g_rng >> 12, g_rng ^= g_rng << 25, g_rng ^= g_rng >> 27;
  return (float)((g_rng * 2685821657736338717ULL) >> 40) / (float)(1 << 24);
}

/* A random v8 head [B, 4+nc, N]: boxes inside 640x640, most scores low, some clusters. */
static vg_tensor random_head(int B, int nc, int N, bool f16) {
  vg_tensor t;
  int64_t sh[3] = {B, 4 + nc, N};
  VG_ASSERT_OK(vg_tensor_alloc(f16 ? VG_DTYPE_F16 : VG_DTYPE_F32, 3, sh, vg_cpu(), NULL, &t));
  for (int64_t i = 0; i < vg_tensor_numel(&t); i++) {
    int64_t c = (i / N) % (4 + nc);
    float v = c < 2 ? 20 + 600 * frand() : c < 4 ? 8 + 120 * frand() : powf(frand(), 6.f);
    if (f16)
      ((uint16_t *)vg_tensor_data(&t))[i] = vg_f32_to_f16(v);
    else
      ((float *)vg_tensor_data(&t))[i] = v;
  }
  return t;
}

static vg_packet *head_packet(const vg_tensor *t, const vg_xform *xf, int nx) {
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_stream(p, 0, 3);
  VG_ASSERT_OK(vg_packet_set_tensor(p, "output0", t));
  VG_ASSERT_OK(vg_packet_set_xforms(p, xf, nx));
  return p;
}

/* One packet through `input -> <type>(device, params) -> output`; the output packet. */
static vg_packet *run_on(const char *type, const char *device, const char *params, vg_packet *in,
                         uint64_t *copies_to_device) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: n, type: %s, device: %s, params: %s}\n"
           "  - {id: out, type: output}\nedges: [in -> n, n -> out]\n",
           type, device, params);
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string(yaml, "gpu.yaml", NULL, 0, vg_test_registry(), &g));
  const char *ids[] = {"in"};
  vg_run *r = NULL;
  VG_ASSERT_OK(vg_run_once(g, NULL, ids, &in, 1, 60000, &r));
  vg_packet *out = NULL;
  VG_ASSERT_OK(vg_run_output(r, "out", &out));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  if (copies_to_device) *copies_to_device = s.copies_to_device;
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  return out;
}

static int g_cases, g_dets;

static void compare_decode(const char *params, int B, bool f16) {
  vg_tensor t = random_head(B, 6, 4200, f16);
  vg_xform xf[8];
  for (int b = 0; b < B; b++) /* tiles at 576-pixel steps; the last item a letterbox view */
    xf[b] = b == B - 1 && B > 1 ? (vg_xform){1 / 3.f, 1 / 3.f, 0, 140, 0, 0}
                                : (vg_xform){1, 1, 0, 0, 576.f * b, 440.f * (b % 2)};
  vg_packet *in = head_packet(&t, xf, B);
  vg_tensor_release(&t);
  uint64_t copies = 0;
  vg_packet *gpu = run_on("yolo_decode", "cuda", params, in, &copies);
  vg_packet *cpu = run_on("yolo_decode", "cpu", params, in, NULL);
  vg_packet_unref(in);
  assert_true(copies >= 1); /* the head went to the device, not the decoder to the host */
  const vg_objects *a = vg_packet_objects(gpu), *b = vg_packet_objects(cpu);
  if (a->count != b->count)
    fail_msg("%s B=%d f16=%d: %zu detections on cuda, %zu on cpu", params, B, f16, a->count,
             b->count);
  assert_true(b->count > 0);
  for (size_t i = 0; i < a->count; i++) {
    const vg_object *x = &a->items[i], *y = &b->items[i];
    if (memcmp(&x->box, &y->box, sizeof x->box) != 0 || x->score != y->score ||
        x->class_id != y->class_id || strcmp(x->label, y->label) != 0)
      fail_msg("%s B=%d f16=%d: detection %zu differs: cuda [%g %g %g %g] %g c%d, cpu "
               "[%g %g %g %g] %g c%d",
               params, B, f16, i, x->box.x1, x->box.y1, x->box.x2, x->box.y2, x->score, x->class_id,
               y->box.x1, y->box.y1, y->box.x2, y->box.y2, y->score, y->class_id);
  }
  g_cases++;
  g_dets += (int)a->count;
  vg_packet_unref(gpu);
  vg_packet_unref(cpu);
}

static void test_yolo_decode_cuda_vs_cpu(void **state) {
  (void)state;
  const char *params[] = {"{labels: [a, b, c, d, e, f]}", "{fuse: false, conf_threshold: 0.3}",
                          "{class_agnostic: true, iou_threshold: 0.6, max_det: 50}",
                          "{fuse: {method: wbm, match: iou}, top_k: 500}"};
  for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
    compare_decode(params[k], 1, false);
    compare_decode(params[k], 5, false);
    compare_decode(params[k], 5, true);
  }
  printf("KEY yolo_decode cases=%d detections=%d\n", g_cases, g_dets);
}

static void test_tiles_cuda_vs_cpu(void **state) {
  (void)state;
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 1918, 1078, vg_cpu(), NULL, 0, &f));
  for (int y = 0; y < 1078; y++)
    for (int x = 0; x < 1918; x++)
      vg_frame_plane(&f, 0)[(size_t)y * f.pitch[0] + x] = (uint8_t)((x * 3 + y * 5) & 255);
  for (int y = 0; y < 539; y++)
    for (int x = 0; x < 1918; x++)
      vg_frame_plane(&f, 1)[(size_t)y * f.pitch[1] + x] = (uint8_t)(96 + ((x + y) & 63));
  vg_packet *in;
  VG_ASSERT_OK(vg_packet_new(&in));
  vg_packet_set_frame(in, &f);
  vg_frame_release(&f);
  const char *params = "{tile_size: 640, overlap: 96, width: 608, height: 608}";
  vg_packet *gpu = run_on("tiles", "cuda", params, in, NULL);
  vg_packet *cpu = run_on("tiles", "cpu", params, in, NULL);
  vg_packet_unref(in);
  const vg_tensor *tg = vg_packet_tensor(gpu, "input"), *tc = vg_packet_tensor(cpu, "input");
  assert_int_equal(vg_tensor_device(tg).kind, VG_DEVICE_CUDA);
  vg_tensor host;
  VG_ASSERT_OK(vg_tensor_to_device(tg, vg_cpu(), NULL, NULL, &host));
  VG_ASSERT_OK(vg_stream_sync(NULL));
  assert_int_equal(vg_tensor_numel(&host), vg_tensor_numel(tc));
  const float *a = vg_tensor_data(&host), *b = vg_tensor_data(tc);
  double max_err = 0;
  for (int64_t i = 0; i < vg_tensor_numel(tc); i++)
    max_err = fmax(max_err, fabs((double)a[i] - b[i]));
  printf("KEY tiles items=%lld max_err=%g\n", (long long)tc->shape[0], max_err);
  assert_true(max_err <= 1e-3);
  int na, nb;
  const vg_xform *xa = vg_packet_xforms(gpu, &na), *xb = vg_packet_xforms(cpu, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(xa, xb, sizeof *xa * (size_t)na);
  vg_tensor_release(&host);
  vg_packet_unref(gpu);
  vg_packet_unref(cpu);
}

int main(void) {
  vg_test_require_gpu();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_yolo_decode_cuda_vs_cpu),
      cmocka_unit_test(test_tiles_cuda_vs_cpu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
