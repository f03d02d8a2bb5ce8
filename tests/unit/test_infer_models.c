/* Loading and running models on the CPU provider: known answers for the tiny generated models,
 * introspection and metadata, output reuse and rebinding, IOBinding on host memory, PP-OCR
 * det/rec/cls output shapes and properties, memory- vs file-loaded models. */
#include "unit/test_infer_util.h"

#include <unistd.h>

static void run_tiny(vg_model *m, int64_t batch, uint32_t seed) {
  int64_t shape[2] = {batch, 8};
  vg_tensor x = infer_host_input(2, shape, seed), out[2] = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
  float y[64 * 4], z[64];
  infer_tiny_mlp_ref(vg_tensor_data(&x), batch, y, z);
  assert_int_equal(out[0].ndim, 2);
  assert_int_equal(out[0].shape[0], batch);
  assert_int_equal(out[0].shape[1], 4);
  assert_int_equal(out[1].shape[1], 1);
  assert_true(vg_tensor_device(&out[0]).kind == VG_DEVICE_CPU);
  assert_true(infer_rel_err(vg_tensor_data(&out[0]), y, (size_t)batch * 4) < 1e-5);
  assert_true(infer_rel_err(vg_tensor_data(&out[1]), z, (size_t)batch) < 1e-5);
  vg_tensor_release(&out[0]);
  vg_tensor_release(&out[1]);
  vg_tensor_release(&x);
}

static void test_tiny_known_answer(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  for (int64_t b = 1; b <= 5; b += 2)
    run_tiny(m, b, (uint32_t)b);
  vg_model_free(m);
}

static void test_introspection(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  assert_string_equal(vg_model_name(m), "tiny_mlp.onnx");
  assert_int_equal(vg_model_input_count(m), 1);
  assert_int_equal(vg_model_output_count(m), 2);
  const vg_model_io *x = vg_model_input(m, 0);
  assert_string_equal(x->name, "x");
  assert_string_equal(x->type_name, "float32");
  assert_true(x->dtype_supported && x->dtype == VG_DTYPE_F32);
  assert_int_equal(x->ndim, 2);
  assert_int_equal(x->shape[0], -1);
  assert_string_equal(x->dim_names[0], "batch");
  assert_int_equal(x->shape[1], 8);
  assert_string_equal(vg_model_output(m, 1)->name, "z");
  assert_int_equal(vg_model_output_index(m, "z"), 1);
  assert_int_equal(vg_model_input_index(m, "nope"), -1);
  assert_null(vg_model_input(m, 1));
  const vg_model_meta *md = vg_model_metadata(m);
  assert_string_equal(md->producer, "vidgraph-tests");
  assert_string_equal(md->graph_name, "tiny_mlp");
  assert_int_equal(md->model_version, 7);
  assert_int_equal(md->opset, 17);
  assert_int_equal(md->ncustom, 2);
  bool found = false;
  for (int i = 0; i < md->ncustom; i++)
    if (strcmp(md->custom_keys[i], "author") == 0) {
      assert_string_equal(md->custom_values[i], "vidgraph");
      found = true;
    }
  assert_true(found);
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_int_equal(r.used, VG_PROVIDER_CPU);
  assert_string_equal(r.precision, "fp32");
  assert_true(r.nplacements >= 1);
  assert_string_equal(r.placements[0].provider, "CPUExecutionProvider");
  /* MatMul, Add, Relu, ReduceSum; ONNX Runtime may fuse MatMul+Add into one Gemm first */
  assert_int_equal(r.nplacements, 1);
  assert_true(r.placements[0].nodes >= 3 && r.placements[0].nodes <= 4);
  vg_model_free(m);
}

/* Released outputs are reused for the same shapes; held ones are not overwritten. */
static void test_output_reuse(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  for (int bind = 0; bind < 2; bind++) {
    spec.io_binding = bind;
    vg_model *m;
    VG_ASSERT_OK(vg_model_load(&spec, &m));
    int64_t shape[2] = {2, 8};
    vg_tensor x = infer_host_input(2, shape, 1), a = {0}, b = {0};
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &a, 1, NULL));
    void *pa = vg_tensor_data(&a);
    float keep[8];
    memcpy(keep, pa, sizeof keep);
    infer_fill(vg_tensor_data(&x), 16, 99);
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &b, 1, NULL)); /* a still held: new buffer */
    assert_ptr_not_equal(vg_tensor_data(&b), pa);
    assert_memory_equal(vg_tensor_data(&a), keep, sizeof keep);
    vg_tensor_release(&a);
    void *pb = vg_tensor_data(&b);
    vg_tensor_release(&b);
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &b, 1, NULL)); /* released: reused */
    assert_ptr_equal(vg_tensor_data(&b), pb);
    float y[16], z[4];
    infer_tiny_mlp_ref(vg_tensor_data(&x), 2, y, z);
    assert_true(infer_rel_err(vg_tensor_data(&b), y, 8) < 1e-5);
    vg_tensor_release(&b);
    vg_tensor_release(&x);
    run_tiny(m, 4, 5); /* shape change: rebinding */
    run_tiny(m, 2, 6);
    vg_model_report r;
    vg_model_get_report(m, &r);
    assert_int_equal(r.io_binding, bind);
    assert_int_equal(r.runs, 5);
    vg_model_free(m);
  }
}

static void test_other_dtypes(void **st) {
  vg_model_spec spec = infer_cpu_spec(TEST_MODELS "/tiny_u8.onnx");
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  int64_t shape[2] = {3, 4};
  vg_tensor x, y = {0};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_U8, 2, shape, vg_cpu(), NULL, &x));
  uint8_t *px = vg_tensor_data(&x);
  for (int i = 0; i < 12; i++)
    px[i] = (uint8_t)(i * 21);
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &y, 1, NULL));
  assert_int_equal(y.dtype, VG_DTYPE_F32);
  for (int i = 0; i < 12; i++)
    assert_float_equal(((float *)vg_tensor_data(&y))[i], px[i] * 0.5f + 1, 1e-6);
  vg_tensor_release(&x);
  vg_tensor_release(&y);
  vg_model_free(m);

  spec = infer_cpu_spec(TEST_MODELS "/tiny_f16.onnx");
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_model_report r;
  vg_model_get_report(m, &r);
  assert_string_equal(r.precision, "fp16");
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F16, 2, shape, vg_cpu(), NULL, &x));
  uint16_t *hx = vg_tensor_data(&x);
  for (int i = 0; i < 12; i++)
    hx[i] = vg_f32_to_f16((float)i * 0.25f - 1.0f);
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &y, 1, NULL));
  assert_int_equal(y.dtype, VG_DTYPE_F16);
  for (int i = 0; i < 12; i++)
    assert_float_equal(vg_f16_to_f32(((uint16_t *)vg_tensor_data(&y))[i]),
                       2 * ((float)i * 0.25f - 1), 1e-3);
  vg_tensor_release(&x);
  vg_tensor_release(&y);
  vg_model_free(m);
}

/* ----------------------------------------------------------------- PP-OCR on the CPU */

static void check_rows_sum_to_one(const vg_tensor *t) {
  int64_t cols = t->shape[t->ndim - 1], rows = vg_tensor_numel(t) / cols;
  const float *p = vg_tensor_data(t);
  for (int64_t r = 0; r < rows; r++) {
    double s = 0;
    for (int64_t c = 0; c < cols; c++) {
      assert_true(p[r * cols + c] >= 0 && p[r * cols + c] <= 1);
      s += p[r * cols + c];
    }
    assert_true(fabs(s - 1) < 1e-3);
  }
}

static vg_tensor run_ppocr(const char *path, int ndim, const int64_t *shape) {
  vg_model_spec spec = infer_cpu_spec(path);
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&spec, &m));
  vg_tensor x = infer_host_input(ndim, shape, 7), y = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, &y, 1, NULL));
  vg_tensor_release(&x);
  vg_model_free(m); /* the output outlives its model */
  return y;
}

static void test_ppocr_det(void **st) {
  int64_t shape[4] = {1, 3, 96, 160};
  vg_tensor y = run_ppocr(PPOCR_DET, 4, shape);
  int64_t want[4] = {1, 1, 96, 160};
  assert_int_equal(y.ndim, 4);
  assert_memory_equal(y.shape, want, sizeof want);
  const float *p = vg_tensor_data(&y);
  for (int64_t i = 0; i < vg_tensor_numel(&y); i++)
    assert_true(p[i] >= 0 && p[i] <= 1); /* sigmoid */
  vg_tensor_release(&y);
}

static void test_ppocr_rec(void **st) {
  int64_t shape[4] = {2, 3, 48, 160};
  vg_tensor y = run_ppocr(PPOCR_REC, 4, shape);
  int64_t want[3] = {2, 20, 6625}; /* width / 8 time steps, 6623 keys + blank + space */
  assert_int_equal(y.ndim, 3);
  assert_memory_equal(y.shape, want, sizeof want);
  check_rows_sum_to_one(&y); /* softmax over the classes */
  vg_tensor_release(&y);
}

static void test_ppocr_cls(void **st) {
  int64_t shape[4] = {3, 3, 48, 192};
  vg_tensor y = run_ppocr(PPOCR_CLS, 4, shape);
  int64_t want[2] = {3, 2};
  assert_int_equal(y.ndim, 2);
  assert_memory_equal(y.shape, want, sizeof want);
  check_rows_sum_to_one(&y);
  vg_tensor_release(&y);
}

/* The same model from a file and from bytes in memory gives the same bits. */
static void test_memory_equals_file(void **st) {
  char *bytes;
  size_t n;
  VG_ASSERT_OK(vg_read_file(PPOCR_CLS, 64 << 20, &bytes, &n));
  vg_model_spec fs = infer_cpu_spec(PPOCR_CLS), ms = infer_cpu_spec("");
  ms.bytes = bytes;
  ms.nbytes = n;
  snprintf(ms.name, sizeof ms.name, "cls-in-memory");
  vg_model *mf, *mm;
  VG_ASSERT_OK(vg_model_load(&fs, &mf));
  VG_ASSERT_OK(vg_model_load(&ms, &mm));
  free(bytes); /* the model keeps its own copy */
  int64_t shape[4] = {2, 3, 48, 192};
  vg_tensor x = infer_host_input(4, shape, 3), a = {0}, b = {0};
  VG_ASSERT_OK(vg_model_run(mf, NULL, &x, 1, &a, 1, NULL));
  VG_ASSERT_OK(vg_model_run(mm, NULL, &x, 1, &b, 1, NULL));
  assert_int_equal(vg_tensor_nbytes(&a), vg_tensor_nbytes(&b));
  assert_memory_equal(vg_tensor_data(&a), vg_tensor_data(&b), vg_tensor_nbytes(&a));
  vg_model_report r;
  vg_model_get_report(mm, &r);
  assert_string_equal(r.source, "<memory>");
  assert_string_equal(r.name, "cls-in-memory");
  vg_tensor_release(&a);
  vg_tensor_release(&b);
  vg_tensor_release(&x);
  vg_model_free(mf);
  vg_model_free(mm);
}

static int setup(void **st) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_ERROR);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiny_known_answer), cmocka_unit_test(test_introspection),
      cmocka_unit_test(test_output_reuse),      cmocka_unit_test(test_other_dtypes),
      cmocka_unit_test(test_ppocr_det),         cmocka_unit_test(test_ppocr_rec),
      cmocka_unit_test(test_ppocr_cls),         cmocka_unit_test(test_memory_equals_file),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
