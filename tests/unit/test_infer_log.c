/* ONNX Runtime's own log goes through vg_log as JSON lines with component "ort" (its level
 * follows vg_log's level for "ort", fixed when the environment is created). */
#include "unit/test_infer_util.h"

static void test_ort_log_routed(void **st) {
  char path[] = "/tmp/vg_infer_logXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  VG_ASSERT_OK(vg_log_set_file(path));
  vg_log_set_level(NULL, VG_LOG_ERROR);
  vg_log_set_level("ort", VG_LOG_TRACE); /* before the environment exists */
  vg_log_set_rate_limit(0, 0);
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_free(m);
  vg_log_flush();
  VG_ASSERT_OK(vg_log_set_file(NULL));
  char *text;
  size_t n;
  VG_ASSERT_OK(vg_read_file(path, 16 << 20, &text, &n));
  unlink(path);
  /* Session creation logs at verbose level; every such line is tagged as ours. */
  assert_non_null(strstr(text, "\"component\":\"ort\""));
  assert_non_null(strstr(text, "\"logid\":\"tiny_mlp.onnx\""));
  assert_non_null(strstr(text, "Initializing session"));
  free(text);
}

int main(void) {
  infer_ensure_models();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_ort_log_routed)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
