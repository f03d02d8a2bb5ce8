/* The PP-OCR recogniser rewritten by scripts/ort_compat.py (Slice nodes as Gather, so that the
 * CUDA provider can run it) computes what the original computes: both run on the CPU provider
 * on the same inputs; the probabilities agree to float rounding (ONNX Runtime fuses the two
 * graphs slightly differently) and the best class of every time step, which is what CTC
 * decoding reads, is the same. */
#include "unit/test_infer_util.h"

static float *run_cpu(const char *path, const vg_tensor *x, size_t *n) {
  vg_model_spec s = infer_cpu_spec(path);
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_tensor y = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, x, 1, &y, 1, NULL));
  *n = (size_t)vg_tensor_numel(&y);
  float *out = malloc(*n * sizeof *out);
  memcpy(out, vg_tensor_data(&y), *n * sizeof *out);
  vg_tensor_release(&y);
  vg_model_free(m);
  return out;
}

static void test_gather_rewrite_is_exact(void **st) {
  if (!infer_file_exists(PPOCR_REC_GATHER))
    fail_msg("%s missing: run scripts/setup.sh", PPOCR_REC_GATHER);
  int64_t widths[] = {320, 96, 488};
  for (size_t k = 0; k < 3; k++) {
    int64_t shape[4] = {2, 3, 48, widths[k]};
    vg_tensor x = infer_host_input(4, shape, (uint32_t)(7 + k));
    size_t na, nb;
    float *a = run_cpu(PPOCR_REC, &x, &na);
    float *b = run_cpu(PPOCR_REC_GATHER, &x, &nb);
    assert_int_equal(na, nb);
    assert_true(na >= 2 * 6625);
    double maxd = 0;
    for (size_t i = 0; i < na; i++)
      maxd = fmax(maxd, fabs((double)a[i] - b[i]));
    size_t steps = na / 6625, same = 0;
    for (size_t t = 0; t < steps; t++) {
      size_t ba = 0, bb = 0;
      for (size_t c = 1; c < 6625; c++) {
        if (a[t * 6625 + c] > a[t * 6625 + ba]) ba = c;
        if (b[t * 6625 + c] > b[t * 6625 + bb]) bb = c;
      }
      same += ba == bb;
    }
    printf("width %lld: %zu outputs, max abs diff %.2e, best class equal on %zu/%zu steps\n",
           (long long)widths[k], na, maxd, same, steps);
    assert_true(maxd < 1e-4);
    assert_int_equal(same, steps);
    free(a);
    free(b);
    vg_tensor_release(&x);
  }
}

int main(void) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_ERROR);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_gather_rewrite_is_exact)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
