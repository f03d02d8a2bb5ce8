/* Visible fallback and bad input: providers that cannot run here are skipped with their reason,
 * missing/truncated/garbage model files fall back to the next candidate, and bad inputs give
 * errors naming the model and the input. */
#include "unit/test_infer_util.h"

#include <jansson.h>

static bool have_gpu(void) {
  int n = 0;
  vg_cuda_device_count(&n);
  return n > 0;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  if (n) assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* [tensorrt, cuda, cpu] ends on the CPU here, with both reasons recorded, in the struct and JSON.
 */
static void test_provider_fallback(void **st) {
  if (have_gpu()) skip(); /* on the GPU machine tests/gpu covers the real providers */
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  snprintf(spec.path, sizeof spec.path, TEST_MODELS "/tiny_mlp.onnx");
  snprintf(spec.name, sizeof spec.name, "mlp");
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_int_equal(r.nrequested, 3);
  assert_int_equal(r.requested[0], VG_PROVIDER_TENSORRT);
  assert_int_equal(r.used, VG_PROVIDER_CPU);
  assert_true(strstr(r.provider_reasons[0], "no CUDA device") != NULL);
  assert_true(strstr(r.provider_reasons[1], "no CUDA device") != NULL);
  assert_string_equal(r.provider_reasons[2], "");
  assert_true(r.load_ms > 0);

  char *js = vg_model_report_json(m);
  json_error_t err;
  json_t *o = json_loads(js, 0, &err);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "provider")), "cpu");
  assert_string_equal(json_string_value(json_object_get(o, "model")), "mlp");
  json_t *req = json_object_get(o, "requested_providers");
  assert_int_equal(json_array_size(req), 3);
  assert_string_equal(json_string_value(json_array_get(req, 0)), "tensorrt");
  json_t *sk = json_object_get(o, "skipped_providers");
  assert_true(strstr(json_string_value(json_object_get(sk, "tensorrt")), "no CUDA device") != NULL);
  assert_true(strstr(json_string_value(json_object_get(sk, "cuda")), "no CUDA device") != NULL);
  assert_null(json_object_get(sk, "cpu"));
  assert_true(json_is_false(json_object_get(o, "io_binding")));
  assert_true(json_is_object(json_object_get(o, "nodes_per_provider")));
  json_decref(o);
  free(js);
  vg_model_free(m);
}

/* A spec with only GPU providers fails here with every reason in the message. */
static void test_no_provider_left(void **st) {
  if (have_gpu()) skip();
  vg_provider p[2] = {VG_PROVIDER_TENSORRT, VG_PROVIDER_CUDA};
  vg_model_spec spec = infer_spec(TEST_MODELS "/tiny_mlp.onnx", 2, p);
  vg_model *m = (vg_model *)1;
  assert_int_not_equal(vg_model_load(&spec, &m), VG_OK);
  assert_null(m);
  VG_ASSERT_MSG_HAS("tiny_mlp.onnx");
  VG_ASSERT_MSG_HAS("no CUDA device");
}

static void check_fallback_used(const char *primary, const char *why) {
  vg_model_spec spec = infer_cpu_spec(primary);
  snprintf(spec.fallbacks[0], sizeof spec.fallbacks[0], TEST_MODELS "/tiny_mlp.onnx");
  spec.nfallbacks = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_int_equal(r.candidate, 1);
  assert_string_equal(r.source, TEST_MODELS "/tiny_mlp.onnx");
  if (!strstr(r.candidate_reasons[0], why))
    fail_msg("reason '%s' lacks '%s'", r.candidate_reasons[0], why);
  assert_string_equal(r.provider_reasons[0], ""); /* the file was bad, not the provider */
  int64_t shape[2] = {1, 8};
  vg_tensor x = infer_host_input(2, shape, 4), y = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &y, 1, NULL));
  vg_tensor_release(&x);
  vg_tensor_release(&y);
  vg_model_free(m);
}

static void test_file_fallbacks(void **st) {
  char dir[] = "/tmp/vg_infer_fbXXXXXX";
  assert_non_null(mkdtemp(dir));
  char trunc[256], garbage[256], empty[256], missing[256];
  snprintf(trunc, sizeof trunc, "%s/truncated.onnx", dir);
  snprintf(garbage, sizeof garbage, "%s/garbage.onnx", dir);
  snprintf(empty, sizeof empty, "%s/empty.onnx", dir);
  snprintf(missing, sizeof missing, "%s/missing.onnx", dir);
  char *cls;
  size_t n;
  VG_ASSERT_OK(vg_read_file(PPOCR_CLS, 64 << 20, &cls, &n));
  write_file(trunc, cls, n / 3);
  free(cls);
  unsigned char junk[4096];
  infer_fill((float *)junk, sizeof junk / 4, 77);
  write_file(garbage, junk, sizeof junk);
  write_file(empty, "", 0);

  check_fallback_used(missing, "No such file");
  check_fallback_used(trunc, "truncated.onnx");
  check_fallback_used(garbage, "garbage.onnx");
  check_fallback_used(empty, "empty file");
  check_fallback_used(dir, "not a regular file");

  /* All candidates missing: NOT_FOUND naming the model and each file. */
  vg_model_spec spec = infer_cpu_spec(missing);
  snprintf(spec.name, sizeof spec.name, "plates-det");
  snprintf(spec.fallbacks[0], sizeof spec.fallbacks[0], "%s/also-missing.onnx", dir);
  spec.nfallbacks = 1;
  vg_model *m;
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("model 'plates-det'");
  VG_ASSERT_MSG_HAS("missing.onnx");
  VG_ASSERT_MSG_HAS("also-missing.onnx");
  spec.required = false; /* optional: same status, a warning says the feature is off */
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_NOT_FOUND);

  /* Corrupt only: not NOT_FOUND, and the ORT message is kept. */
  spec = infer_cpu_spec(garbage);
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_BACKEND);
  VG_ASSERT_MSG_HAS("garbage.onnx");
  VG_ASSERT_MSG_HAS("rotobuf");

  /* Garbage bytes in memory. */
  spec = infer_cpu_spec("");
  spec.bytes = junk;
  spec.nbytes = sizeof junk;
  assert_int_not_equal(vg_model_load(&spec, &m), VG_OK);
  VG_ASSERT_MSG_HAS("<memory>");

  unlink(trunc);
  unlink(garbage);
  unlink(empty);
  rmdir(dir);
}

/* CUDA graphs asked for on a provider that cannot do them: off, and the report says why. */
static void test_cuda_graph_reason_on_cpu(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  spec.cuda.cuda_graph = true;
  spec.io_binding = true;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_false(r.cuda_graph);
  assert_true(r.io_binding);
  assert_non_null(strstr(r.cuda_graph_reason, "cuda provider only"));
  vg_model_free(m);
}

static void test_bad_specs(void **st) {
  vg_model_spec spec = infer_cpu_spec("");
  vg_model *m;
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("no path and no bytes");
  spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  spec.nproviders = 0;
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_INVALID_ARG);
  spec.nproviders = 1;
  spec.providers[0] = (vg_provider)9;
  assert_int_equal(vg_model_load(&spec, &m), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_model_load(NULL, &m), VG_ERR_INVALID_ARG);
}

/* ----------------------------------------------------------------- bad inputs */

static void expect_run_error(vg_model *m, const char *const *names, vg_tensor *in, int n,
                             const char *needle1, const char *needle2) {
  vg_tensor out[2] = {0};
  assert_int_not_equal(vg_model_run(m, names, in, n, out, 2, NULL), VG_OK);
  assert_null(out[0].buffer);
  VG_ASSERT_MSG_HAS(needle1);
  if (needle2) VG_ASSERT_MSG_HAS(needle2);
}

static void test_bad_inputs(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  snprintf(spec.name, sizeof spec.name, "mlp");
  spec.max_batch = 4;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  int64_t good[2] = {2, 8}, wide[2] = {2, 9}, big[2] = {5, 8}, flat[1] = {16};
  vg_tensor x = infer_host_input(2, good, 1), xw = infer_host_input(2, wide, 1),
            xb = infer_host_input(2, big, 1), xf = infer_host_input(1, flat, 1), xi, empty = {0};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_I32, 2, good, vg_cpu(), NULL, &xi));
  const char *bad_name[1] = {"images"}, *good_name[1] = {"x"};
  expect_run_error(m, bad_name, &x, 1, "model 'mlp' has no input 'images'", "'x'");
  expect_run_error(m, NULL, &x, 0, "0 inputs given, the model has 1", NULL);
  expect_run_error(m, NULL, &xi, 1, "input 'x': element type i32 given", "float32");
  expect_run_error(m, NULL, &xw, 1, "input 'x': dimension 1 is 9, the model expects 8", "mlp");
  expect_run_error(m, NULL, &xf, 1, "input 'x': 1 dimensions given", "[batch,8]");
  expect_run_error(m, NULL, &xb, 1, "batch 5 is larger than max_batch 4", "'x'");
  expect_run_error(m, NULL, &empty, 1, "input 'x': empty tensor", NULL);
  vg_tensor sl;
  VG_ASSERT_OK(vg_tensor_slice(&xw, 1, 0, 8, &sl)); /* [2,8] view with row stride 9 */
  expect_run_error(m, NULL, &sl, 1, "not contiguous", "'x'");
  vg_tensor two[2];
  vg_tensor_view(&x, &two[0]);
  vg_tensor_view(&x, &two[1]);
  const char *dup[2] = {"x", "x"};
  expect_run_error(m, dup, two, 2, "2 inputs given", NULL);
  vg_tensor out[3] = {{0}};
  assert_int_equal(vg_model_run(m, NULL, &x, 1, out, 3, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("3 outputs asked for");
  /* The model still works after all that, by name too. */
  VG_ASSERT_OK(vg_model_run(m, good_name, &x, 1, out, 2, NULL));
  vg_tensor_release(&out[0]);
  vg_tensor_release(&out[1]);
  vg_model_free(m);

  /* A batch larger than a fixed-batch model allows. */
  spec = infer_cpu_spec(TEST_MODELS "/tiny_fixed.onnx");
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  int64_t three[2] = {3, 8};
  vg_tensor x3 = infer_host_input(2, three, 2);
  expect_run_error(m, NULL, &x3, 1, "batch 3 is larger than the model allows (2",
                   "tiny_fixed.onnx");
  vg_tensor_release(&x3);
  vg_model_free(m);
  vg_tensor *all[] = {&x, &xw, &xb, &xf, &xi, &sl, &two[0], &two[1]};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    vg_tensor_release(all[i]);
}

static void test_probe_providers(void **st) {
  char why[512];
  VG_ASSERT_OK(vg_infer_probe_provider(VG_PROVIDER_CPU, 0, why, sizeof why));
  if (have_gpu()) return;
  assert_int_not_equal(vg_infer_probe_provider(VG_PROVIDER_CUDA, 0, why, sizeof why), VG_OK);
  assert_non_null(strstr(why, "no CUDA device"));
  assert_int_not_equal(vg_infer_probe_provider(VG_PROVIDER_TENSORRT, 0, why, sizeof why), VG_OK);
  assert_true(strlen(why) > 10);
  vg_provider p;
  VG_ASSERT_OK(vg_provider_parse("TRT", &p));
  assert_int_equal(p, VG_PROVIDER_TENSORRT);
  VG_ASSERT_OK(vg_provider_parse("CUDAExecutionProvider", &p));
  assert_int_equal(p, VG_PROVIDER_CUDA);
  assert_int_equal(vg_provider_parse("npu", &p), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("'npu'");
}

static int setup(void **st) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_OFF);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_provider_fallback),        cmocka_unit_test(test_no_provider_left),
      cmocka_unit_test(test_file_fallbacks),           cmocka_unit_test(test_bad_specs),
      cmocka_unit_test(test_cuda_graph_reason_on_cpu), cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_probe_providers),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
