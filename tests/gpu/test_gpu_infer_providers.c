/* GPU: the CUDA provider against the CPU provider (PP-OCR det/rec/cls and the YOLO-style
 * detector), IOBinding with device tensors, CUDA graphs on and off, a user compute stream, and
 * TensorRT falling back with its reason. Prints "KEY:" lines for tests/gpu/run_gpu.sh.
 * Needs the ONNX Runtime CUDA provider library (VG_ORT_LIB_DIR or next to libonnxruntime.so)
 * and cuDNN/cuBLAS/cudart 13 on LD_LIBRARY_PATH. Skips (77) without a GPU. */
#include "unit/test_infer_util.h"

#define TOL 5e-3 /* relative to the largest |value|: TF32 convolutions on the GPU */

static vg_model *load(const char *path, vg_provider p, bool bind, bool graph) {
  vg_model_spec s = infer_spec(path, 1, &p);
  s.io_binding = bind;
  s.cuda.cuda_graph = graph;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  return m;
}

/* Output 0 of m for input x, copied to a host float array (malloc'd). */
static float *run_to_host(vg_model *m, const vg_tensor *x, vg_stream s, size_t *n) {
  vg_tensor y = {0}, h;
  VG_ASSERT_OK(vg_model_run(m, NULL, x, 1, &y, 1, s));
  if (s) VG_ASSERT_OK(vg_stream_sync(s));
  VG_ASSERT_OK(vg_tensor_to_device(&y, vg_cpu(), NULL, NULL, &h));
  *n = (size_t)vg_tensor_numel(&h);
  float *out = malloc(*n * sizeof *out);
  memcpy(out, vg_tensor_data(&h), *n * sizeof *out);
  vg_tensor_release(&y);
  vg_tensor_release(&h);
  return out;
}

static void compare_models_tol(const char *label, const char *path, int ndim, const int64_t *shape,
                               double tol) {
  vg_model *cpu = load(path, VG_PROVIDER_CPU, false, false);
  vg_model *gpu = load(path, VG_PROVIDER_CUDA, false, false);
  vg_model_report r;
  vg_model_get_report(gpu, &r);
  assert_int_equal(r.used, VG_PROVIDER_CUDA);
  vg_tensor x = infer_host_input(ndim, shape, 11);
  size_t na, nb;
  float *a = run_to_host(cpu, &x, NULL, &na), *b = run_to_host(gpu, &x, NULL, &nb);
  assert_int_equal(na, nb);
  double err = infer_rel_err(b, a, na);
  int cuda_nodes = 0, cpu_nodes = 0;
  for (int i = 0; i < r.nplacements; i++) {
    if (strcmp(r.placements[i].provider, "CUDAExecutionProvider") == 0)
      cuda_nodes = r.placements[i].nodes;
    if (strcmp(r.placements[i].provider, "CPUExecutionProvider") == 0)
      cpu_nodes = r.placements[i].nodes;
  }
  printf("KEY: %s cuda-vs-cpu rel err %.2e (nodes: cuda %d, cpu %d)\n", label, err, cuda_nodes,
         cpu_nodes);
  assert_true(err < tol);
  assert_true(cuda_nodes > 0);
  free(a);
  free(b);
  vg_tensor_release(&x);
  vg_model_free(cpu);
  vg_model_free(gpu);
}

static void compare_models(const char *label, const char *path, int ndim, const int64_t *shape) {
  compare_models_tol(label, path, ndim, shape, TOL);
}

static void test_ppocr_det(void **st) {
  int64_t s[4] = {1, 3, 320, 320};
  compare_models("ppocr-det", PPOCR_DET, 4, s);
}
static void test_ppocr_rec(void **st) {
  int64_t s[4] = {2, 3, 48, 320};
  /* attention blocks (MatMul + Softmax in TF32) over random inputs: 1e-2 of the largest value */
  compare_models_tol("ppocr-rec (Slice as Gather)", PPOCR_REC_GATHER, 4, s, 1e-2);
}
static void test_ppocr_cls(void **st) {
  int64_t s[4] = {4, 3, 48, 192};
  compare_models("ppocr-cls", PPOCR_CLS, 4, s);
}
static void test_yolo_like(void **st) {
  int64_t s[4] = {2, 3, 640, 640};
  compare_models("yolo-like", TEST_MODELS "/yolo_like.onnx", 4, s);
}

/* Bound on the device: outputs live on the GPU, no staging copies with device inputs, some
 * with host inputs; results equal the unbound CUDA run. */
static void test_io_binding(void **st) {
  const char *path = TEST_MODELS "/yolo_like.onnx";
  int64_t shape[4] = {1, 3, 640, 640};
  vg_model *ref = load(path, VG_PROVIDER_CUDA, false, false);
  vg_model *m = load(path, VG_PROVIDER_CUDA, true, false);
  assert_int_equal(vg_model_output_device(m).kind, VG_DEVICE_CUDA);
  vg_tensor x = infer_host_input(4, shape, 5), xd;
  VG_ASSERT_OK(vg_tensor_to_device(&x, vg_cuda(0), NULL, NULL, &xd));
  size_t na, nb;
  float *a = run_to_host(ref, &x, NULL, &na);
  float *b = run_to_host(m, &xd, NULL, &nb);
  vg_model_stats stats;
  vg_model_get_stats(m, &stats);
  assert_int_equal(stats.copies, 0);
  double err = infer_rel_err(b, a, na);
  printf("KEY: io-binding vs unbound rel err %.2e\n", err);
  assert_true(err < 1e-5);
  free(b);
  b = run_to_host(m, &x, NULL, &nb); /* host input: staged through pinned memory, counted */
  vg_model_get_stats(m, &stats);
  assert_int_equal(stats.copies, 1);
  assert_true(infer_rel_err(b, a, na) < 1e-5);
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_true(r.io_binding);
  char *js = vg_model_report_json(m);
  printf("report: %s\n", js);
  free(js);
  free(a);
  free(b);
  vg_tensor_release(&x);
  vg_tensor_release(&xd);
  vg_model_free(ref);
  vg_model_free(m);
}

/* CUDA graphs: same outputs as without, new input data in another buffer is honoured, another
 * shape runs uncaptured; the report says so. */
static void test_cuda_graph(void **st) {
  const char *path = TEST_MODELS "/yolo_like.onnx";
  int64_t shape[4] = {1, 3, 640, 640}, shape2[4] = {2, 3, 640, 640};
  vg_model *ref = load(path, VG_PROVIDER_CUDA, true, false);
  vg_model *g = load(path, VG_PROVIDER_CUDA, true, true);
  vg_model_report r;
  vg_model_get_report(g, &r);
  printf("KEY: cuda graph %s%s%s\n", r.cuda_graph ? "on" : "off", r.cuda_graph ? "" : ": ",
         r.cuda_graph_reason);
  assert_true(r.cuda_graph);
  vg_tensor x1 = infer_host_input(4, shape, 1), x2 = infer_host_input(4, shape, 2), d1, d2;
  VG_ASSERT_OK(vg_tensor_to_device(&x1, vg_cuda(0), NULL, NULL, &d1));
  VG_ASSERT_OK(vg_tensor_to_device(&x2, vg_cuda(0), NULL, NULL, &d2));
  size_t n;
  float *want1 = run_to_host(ref, &d1, NULL, &n), *want2 = run_to_host(ref, &d2, NULL, &n);
  for (int it = 0; it < 4; it++) { /* run 1 regular, run 2 captured, then replays */
    float *got = run_to_host(g, &d1, NULL, &n);
    assert_true(infer_rel_err(got, want1, n) < 1e-5);
    free(got);
  }
  /* an output still held by a consumer survives the next replay (outputs are handed out as
   * copies; the graph's own buffer is overwritten) */
  vg_tensor held = {0}, later = {0}, hh;
  VG_ASSERT_OK(vg_model_run(g, NULL, &d1, 1, &held, 1, NULL));
  VG_ASSERT_OK(vg_model_run(g, NULL, &d2, 1, &later, 1, NULL));
  VG_ASSERT_OK(vg_tensor_to_device(&held, vg_cpu(), NULL, NULL, &hh));
  double herr = infer_rel_err(vg_tensor_data(&hh), want1, n);
  printf("KEY: cuda graph output held across a replay rel err %.2e\n", herr);
  assert_true(herr < 1e-5);
  vg_tensor_release(&hh);
  vg_tensor_release(&held);
  vg_tensor_release(&later);
  float *got = run_to_host(g, &d2, NULL, &n); /* another buffer: copied into the captured one */
  double err = infer_rel_err(got, want2, n);
  printf("KEY: cuda graph replay with new input rel err %.2e\n", err);
  assert_true(err < 1e-5);
  free(got);
  vg_tensor b2 = infer_host_input(4, shape2, 3), db2;
  VG_ASSERT_OK(vg_tensor_to_device(&b2, vg_cuda(0), NULL, NULL, &db2));
  float *wantb = run_to_host(ref, &db2, NULL, &n);
  got = run_to_host(g, &db2, NULL, &n);
  assert_true(infer_rel_err(got, wantb, n) < 1e-5);
  vg_model_get_report(g, &r);
  printf("graph note: %s\n", r.cuda_graph_reason);
  assert_non_null(strstr(r.cuda_graph_reason, "other shapes"));
  free(got);
  free(wantb);
  free(want1);
  free(want2);
  vg_tensor *ts[] = {&x1, &x2, &d1, &d2, &b2, &db2};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
    vg_tensor_release(ts[i]);
  vg_model_free(ref);
  vg_model_free(g);
}

/* CUDA graphs asked for without IOBinding: off, with the reason. */
static void test_cuda_graph_needs_binding(void **st) {
  vg_model *m = load(TEST_MODELS "/tiny_mlp.onnx", VG_PROVIDER_CUDA, false, true);
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_false(r.cuda_graph);
  assert_non_null(strstr(r.cuda_graph_reason, "io_binding"));
  vg_model_free(m);
}

/* ONNX Runtime computes on our stream: an asynchronous run ordered with our work. */
static void test_user_stream(void **st) {
  vg_stream s;
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s));
  vg_provider p = VG_PROVIDER_CUDA;
  vg_model_spec spec = infer_spec(PPOCR_CLS, 1, &p);
  spec.io_binding = true;
  spec.stream = s;
  vg_model *m, *cpu = load(PPOCR_CLS, VG_PROVIDER_CPU, false, false);
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  int64_t shape[4] = {8, 3, 48, 192};
  vg_tensor x = infer_host_input(4, shape, 9), xd;
  VG_ASSERT_OK(vg_tensor_to_device(&x, vg_cuda(0), NULL, s, &xd)); /* async on s */
  size_t na, nb;
  float *a = run_to_host(cpu, &x, NULL, &na), *b = run_to_host(m, &xd, s, &nb);
  double err = infer_rel_err(b, a, na);
  printf("KEY: user stream cuda-vs-cpu rel err %.2e\n", err);
  assert_true(err < TOL);
  free(a);
  free(b);
  vg_tensor_release(&x);
  vg_tensor_release(&xd);
  vg_model_free(m);
  vg_model_free(cpu);
  vg_stream_destroy(s);
}

/* [tensorrt, cuda, cpu]: a GPU provider is used; when TensorRT is skipped, its reason is kept. */
static void test_tensorrt_fallback(void **st) {
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  snprintf(spec.path, sizeof spec.path, "%s", PPOCR_CLS);
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_report r;
  vg_model_get_report(m, &r);
  printf("KEY: [tensorrt,cuda,cpu] -> %s; tensorrt: %s\n", vg_provider_name(r.used),
         r.provider_reasons[0][0] ? r.provider_reasons[0] : "used");
  assert_int_not_equal(r.used, VG_PROVIDER_CPU);
  if (r.used == VG_PROVIDER_CUDA) assert_true(strlen(r.provider_reasons[0]) > 10);
  char why[1024];
  vg_status s = vg_infer_probe_provider(VG_PROVIDER_TENSORRT, 0, why, sizeof why);
  printf("tensorrt probe: %s\n", s == VG_OK ? "ok" : why);
  VG_ASSERT_OK(vg_infer_probe_provider(VG_PROVIDER_CUDA, 0, why, sizeof why));
  vg_model_free(m);
}

int main(void) {
  vg_test_require_gpu();
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ppocr_det),
      cmocka_unit_test(test_ppocr_rec),
      cmocka_unit_test(test_ppocr_cls),
      cmocka_unit_test(test_yolo_like),
      cmocka_unit_test(test_io_binding),
      cmocka_unit_test(test_cuda_graph),
      cmocka_unit_test(test_cuda_graph_needs_binding),
      cmocka_unit_test(test_user_stream),
      cmocka_unit_test(test_tensorrt_fallback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
