/* The model cache (sharing, keys, unload while held, threads) and model specs from config maps
 * (defaults, every option, errors naming file, line and key). */
#include "unit/test_infer_util.h"

#include <pthread.h>

static void test_cache_sharing(void **st) {
  vg_model_cache *c;
  VG_ASSERT_OK(vg_model_cache_create(0, &c));
  vg_model_spec a = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx"), b = a, other = a;
  other.cpu.threads = 1; /* different options: a different session */
  vg_model *m1, *m2, *m3;
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &m1));
  VG_ASSERT_OK(vg_model_cache_get(c, &b, &m2));
  assert_ptr_equal(m1, m2);
  VG_ASSERT_OK(vg_model_cache_get(c, &other, &m3));
  assert_ptr_not_equal(m1, m3);
  assert_int_equal(vg_model_cache_count(c), 2);

  char k1[256], k2[256], k3[256];
  VG_ASSERT_OK(vg_model_cache_key(&a, k1, sizeof k1));
  VG_ASSERT_OK(vg_model_cache_key(&other, k2, sizeof k2));
  vg_model_spec same_bytes = infer_cpu_spec(TEST_MODELS "/tiny_fixed.onnx");
  VG_ASSERT_OK(vg_model_cache_key(&same_bytes, k3, sizeof k3));
  assert_string_not_equal(k1, k2);
  assert_string_not_equal(k1, k3); /* different content */
  assert_memory_not_equal(k1, k3, 16);

  /* Unload while held: the holder can still run; freed at the last release. */
  VG_ASSERT_OK(vg_model_cache_unload(c, &a));
  assert_int_equal(vg_model_cache_count(c), 1);
  int64_t shape[2] = {1, 8};
  vg_tensor x = infer_host_input(2, shape, 1), y = {0};
  VG_ASSERT_OK(vg_model_run(m1, NULL, &x, 1, &y, 1, NULL));
  vg_tensor_release(&y);
  vg_model_cache_release(c, m1);
  vg_model_cache_release(c, m2);
  assert_int_equal(vg_model_cache_unload(c, &a), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("not in the cache");
  /* A fresh get loads again. */
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &m1));
  assert_int_equal(vg_model_cache_count(c), 2);
  vg_model_cache_release(c, m1);
  vg_model_cache_release(c, m3);
  vg_tensor_release(&x);

  /* A failing load is not cached. */
  vg_model_spec missing = infer_cpu_spec("/nonexistent/model.onnx");
  assert_int_equal(vg_model_cache_get(c, &missing, &m1), VG_ERR_NOT_FOUND);
  assert_int_equal(vg_model_cache_count(c), 2);
  vg_model_cache_destroy(c);
}

static void test_cache_full(void **st) {
  vg_model_cache *c;
  VG_ASSERT_OK(vg_model_cache_create(1, &c));
  vg_model_spec a = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx"),
                b = infer_cpu_spec(TEST_MODELS "/tiny_u8.onnx");
  vg_model *m;
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &m));
  vg_model_cache_release(c, m);
  /* a is cached but held by no one: it makes room for b (least recently used first) */
  vg_model *m2;
  VG_ASSERT_OK(vg_model_cache_get(c, &b, &m2));
  assert_int_equal(vg_model_cache_count(c), 1);
  /* b is held: nothing can make room for a */
  assert_int_equal(vg_model_cache_get(c, &a, &m), VG_ERR_NO_MEMORY);
  VG_ASSERT_MSG_HAS("cache full");
  VG_ASSERT_MSG_HAS("every one in use");
  vg_model_cache_release(c, m2);
  VG_ASSERT_OK(vg_model_cache_unload(c, &b));
  assert_int_equal(vg_model_cache_count(c), 0);
  vg_model_cache_destroy(c);
  /* three models in a cache of two: the one used least recently goes, the others stay */
  VG_ASSERT_OK(vg_model_cache_create(2, &c));
  vg_model_spec d = infer_cpu_spec(TEST_MODELS "/tiny_f16.onnx");
  vg_model *ma, *mb, *mc;
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &ma));
  VG_ASSERT_OK(vg_model_cache_get(c, &b, &mb));
  vg_model_cache_release(c, ma);
  vg_model_cache_release(c, mb);
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &ma)); /* a used again: b is now the oldest */
  vg_model_cache_release(c, ma);
  VG_ASSERT_OK(vg_model_cache_get(c, &d, &mc));
  assert_int_equal(vg_model_cache_count(c), 2);
  vg_model *again;
  VG_ASSERT_OK(vg_model_cache_get(c, &a, &again));
  assert_ptr_equal(again, ma); /* still the same loaded model: a was kept */
  vg_model_cache_release(c, again);
  vg_model_cache_release(c, mc);
  assert_int_equal(vg_model_cache_unload(c, &b), VG_ERR_NOT_FOUND); /* b was the one unloaded */
  vg_model_cache_destroy(c);
}

typedef struct {
  vg_model_cache *c;
  int errors;
  vg_model *seen;
} worker_arg;

static void *worker(void *p) {
  worker_arg *w = p;
  vg_model_spec s = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  for (int it = 0; it < 20; it++) {
    vg_model *m;
    if (vg_model_cache_get(w->c, &s, &m) != VG_OK) {
      w->errors++;
      continue;
    }
    w->seen = m;
    int64_t shape[2] = {1 + it % 3, 8};
    vg_tensor x = infer_host_input(2, shape, (uint32_t)it), out[2] = {{0}};
    if (vg_model_run(m, NULL, &x, 1, out, 2, NULL) != VG_OK) {
      w->errors++;
    } else {
      float y[12], z[3];
      infer_tiny_mlp_ref(vg_tensor_data(&x), shape[0], y, z);
      if (infer_rel_err(vg_tensor_data(&out[0]), y, (size_t)shape[0] * 4) > 1e-5) w->errors++;
    }
    vg_tensor_release(&out[0]);
    vg_tensor_release(&out[1]);
    vg_tensor_release(&x);
    vg_model_cache_release(w->c, m);
  }
  return NULL;
}

/* Threads sharing one cached model get correct answers each. */
static void test_cache_threads(void **st) {
  vg_model_cache *c;
  VG_ASSERT_OK(vg_model_cache_create(4, &c));
  pthread_t th[4];
  worker_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (worker_arg){c, 0, NULL};
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(args[i].errors, 0);
    assert_ptr_equal(args[i].seen, args[0].seen);
  }
  assert_int_equal(vg_model_cache_count(c), 1);
  vg_model_cache_destroy(c);
}

/* ----------------------------------------------------------------- specs from config */

static const char *FULL = "det:\n"
                          "  model: models/test/tiny_mlp.onnx\n"
                          "  fallback: [models/test/tiny_fixed.onnx, other.onnx]\n"
                          "  name: det\n"
                          "  required: false\n"
                          "  io_binding: true\n"
                          "  max_batch: 8\n"
                          "  providers: [cuda, cpu]\n"
                          "  tensorrt: {fp16: true, int8: false, workspace_mb: 2048,\n"
                          "             builder_optimization_level: 3, engine_cache: /tmp/trt,\n"
                          "             timing_cache: /tmp/trt-timing}\n"
                          "  cuda: {device: 1, conv_algo_search: heuristic, mem_limit_mb: 512,\n"
                          "         cuda_graph: true}\n"
                          "  cpu: {threads: 3}\n"
                          "  threshold: 0.5\n"; /* the owning node's key: left alone */

static void test_spec_from_config(void **st) {
  vg_config *cfg;
  VG_ASSERT_OK(vg_config_load_string(FULL, strlen(FULL), "graph.yaml", &cfg));
  vg_model_spec s;
  vg_model_spec_init(&s);
  VG_ASSERT_OK(vg_model_spec_from_config(vg_cnode_get(vg_config_root(cfg), "det"), "/cfgdir", &s));
  assert_string_equal(s.path, "models/test/tiny_mlp.onnx"); /* exists from the working dir */
  assert_int_equal(s.nfallbacks, 2);
  assert_string_equal(s.fallbacks[0], "models/test/tiny_fixed.onnx");
  assert_string_equal(s.fallbacks[1], "other.onnx"); /* not found anywhere: kept as given */
  assert_string_equal(s.name, "det");
  assert_false(s.required);
  assert_true(s.io_binding);
  assert_int_equal(s.max_batch, 8);
  assert_int_equal(s.nproviders, 2);
  assert_int_equal(s.providers[0], VG_PROVIDER_CUDA);
  assert_int_equal(s.providers[1], VG_PROVIDER_CPU);
  assert_true(s.trt.fp16 && !s.trt.int8);
  assert_int_equal(s.trt.workspace_bytes, (size_t)2048 << 20);
  assert_int_equal(s.trt.builder_opt_level, 3);
  assert_string_equal(s.trt.engine_cache_dir, "/tmp/trt");
  assert_string_equal(s.trt.timing_cache_dir, "/tmp/trt-timing");
  assert_int_equal(s.cuda.device_id, 1);
  assert_int_equal(s.cuda.conv_algo_search, VG_CONV_ALGO_HEURISTIC);
  assert_int_equal(s.cuda.mem_limit_bytes, (size_t)512 << 20);
  assert_true(s.cuda.cuda_graph);
  assert_int_equal(s.cpu.threads, 3);
  vg_config_free(cfg);

  /* Defaults, a single fallback string, and paths relative to the config folder. */
  const char *small = "model: tiny_mlp.onnx\nfallback: tiny_fixed.onnx\n";
  VG_ASSERT_OK(vg_config_load_string(small, strlen(small), "m.yaml", &cfg));
  vg_model_spec_init(&s);
  VG_ASSERT_OK(vg_model_spec_from_config(vg_config_root(cfg), TEST_MODELS, &s));
  assert_string_equal(s.path, TEST_MODELS "/tiny_mlp.onnx");
  assert_string_equal(s.fallbacks[0], TEST_MODELS "/tiny_fixed.onnx");
  assert_true(s.required);
  assert_int_equal(s.nproviders, 3);
  assert_int_equal(s.providers[0], VG_PROVIDER_TENSORRT);
  vg_model *m;
  s.providers[0] = VG_PROVIDER_CPU;
  s.nproviders = 1;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_free(m);
  vg_config_free(cfg);
}

static void expect_spec_error(const char *yaml, const char *needle1, const char *needle2) {
  vg_config *cfg;
  VG_ASSERT_OK(vg_config_load_string(yaml, strlen(yaml), "bad.yaml", &cfg));
  vg_model_spec s;
  vg_model_spec_init(&s);
  assert_int_not_equal(vg_model_spec_from_config(vg_config_root(cfg), NULL, &s), VG_OK);
  VG_ASSERT_MSG_HAS(needle1);
  if (needle2) VG_ASSERT_MSG_HAS(needle2);
  vg_config_free(cfg);
}

static void test_spec_errors(void **st) {
  expect_spec_error("name: x\n", "missing 'model'", "bad.yaml:1");
  assert_true(vg_model_spec_is_key("providers"));
  assert_false(vg_model_spec_is_key("provider")); /* a node's own key check catches the typo */
  expect_spec_error("model: a.onnx\nproviders: [cpu, npu]\n", "unknown provider 'npu'",
                    "bad.yaml:2");
  expect_spec_error("model: a.onnx\nproviders: [cpu, cpu]\n", "listed twice", NULL);
  expect_spec_error("model: a.onnx\nproviders: []\n", "1 to 3 providers", NULL);
  expect_spec_error("model: a.onnx\ncuda: {conv_algo_search: fastest}\n", "fastest", "bad.yaml:2");
  expect_spec_error("model: a.onnx\ncuda: {device: -1}\n", "device", NULL);
  expect_spec_error("model: a.onnx\ntensorrt: {fp16: maybe}\n", "fp16", NULL);
  expect_spec_error("model: a.onnx\ntensorrt: {builder_optimization_level: 9}\n",
                    "builder_optimization_level", NULL);
  expect_spec_error("model: a.onnx\ncpu: {threads: 2, pin: true}\n", "unknown key 'pin'", NULL);
  expect_spec_error("model: a.onnx\nfallback: [a, b, c, d, e]\n", "at most 4", NULL);
  expect_spec_error("model: ''\n", "empty model path", NULL);
  expect_spec_error("model: [a, b]\n", "model", NULL);
  expect_spec_error("- model: a.onnx\n", "expected a map", NULL);
  vg_model_spec s;
  assert_int_equal(vg_model_spec_from_config(NULL, NULL, &s), VG_ERR_INVALID_ARG);
}

static int setup(void **st) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_OFF);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_sharing), cmocka_unit_test(test_cache_full),
      cmocka_unit_test(test_cache_threads), cmocka_unit_test(test_spec_from_config),
      cmocka_unit_test(test_spec_errors),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
