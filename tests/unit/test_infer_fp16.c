/* FP16 variants (issue 12, item 5): the file-name rule (vg_model_fp16_path), `precision:` in model
 * specs (values, the missing-variant error that names the converter command, fallbacks), and
 * scripts/fp16_convert.py on the generated test nets and PP-OCR det/cls/rec: the variant keeps
 * float32 inputs and outputs, loads with `precision: fp16` on the CPU provider (ONNX Runtime
 * casts where it has no float16 kernel), reports fp16, and its outputs stay close to FP32's on the
 * same input (max abs difference printed and bounded per model). */
#include "unit/test_infer_util.h"

#include <stdlib.h>
#include <sys/wait.h>

static char g_dir[256]; /* converted variants of this run */

static void test_fp16_path_rule(void **st) {
  char out[64];
  VG_ASSERT_OK(vg_model_fp16_path("models/det.onnx", out, sizeof out));
  assert_string_equal(out, "models/det.fp16.onnx");
  VG_ASSERT_OK(vg_model_fp16_path("rec.gather.onnx", out, sizeof out));
  assert_string_equal(out, "rec.gather.fp16.onnx");
  VG_ASSERT_OK(vg_model_fp16_path("a/det.fp16.onnx", out, sizeof out));
  assert_string_equal(out, "a/det.fp16.onnx");
  VG_ASSERT_OK(vg_model_fp16_path("model", out, sizeof out));
  assert_string_equal(out, "model.fp16.onnx");
  assert_int_equal(vg_model_fp16_path(".onnx", out, sizeof out), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_model_fp16_path("abcdefgh.onnx", out, 18), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("longer than 17 bytes");
  VG_ASSERT_OK(vg_model_fp16_path("abcdefg.onnx", out, 18)); /* exactly fits */
  assert_int_equal(vg_model_fp16_path(NULL, out, sizeof out), VG_ERR_INVALID_ARG);
}

static vg_status spec_from(const char *yaml, vg_model_spec *s) {
  vg_config *cfg;
  VG_ASSERT_OK(vg_config_load_string(yaml, strlen(yaml), "m.yaml", &cfg));
  vg_model_spec_init(s);
  vg_status r = vg_model_spec_from_config(vg_config_root(cfg), NULL, s);
  vg_config_free(cfg);
  return r;
}

static void test_spec_precision(void **st) {
  vg_model_spec s;
  assert_true(vg_model_spec_is_key("precision"));
  /* fp32 (the default) leaves the names alone */
  VG_ASSERT_OK(spec_from("model: " TEST_MODELS "/tiny_mlp.onnx\nprecision: fp32\n", &s));
  assert_int_equal(s.precision, VG_PRECISION_FP32);
  assert_string_equal(s.path, TEST_MODELS "/tiny_mlp.onnx");
  /* bad values name the file, line and what is allowed */
  assert_int_equal(spec_from("model: a.onnx\nprecision: fp8\n", &s), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("expected fp32 or fp16, got 'fp8'");
  VG_ASSERT_MSG_HAS("m.yaml:2");
  assert_int_equal(spec_from("model: a.onnx\nprecision: FP16\n", &s), VG_ERR_PARSE);
  assert_int_not_equal(spec_from("model: a.onnx\nprecision: [fp16]\n", &s), VG_OK);
  assert_int_not_equal(spec_from("model: a.onnx\nprecision: ''\n", &s), VG_OK);
  /* a missing variant: the error names it and the command that makes it */
  assert_int_equal(spec_from("model: no/such.onnx\nprecision: fp16\n", &s), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("no/such.fp16.onnx, which does not exist");
  VG_ASSERT_MSG_HAS("python3 scripts/fp16_convert.py no/such.onnx no/such.fp16.onnx");
  VG_ASSERT_MSG_HAS("m.yaml:2");
  /* present: primary and fallbacks become their variants */
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "model: %s/tiny_mlp.onnx\nfallback: [%s/conv10.onnx]\nprecision: fp16\n", g_dir, g_dir);
  VG_ASSERT_OK(spec_from(yaml, &s));
  assert_int_equal(s.precision, VG_PRECISION_FP16);
  char want[512];
  snprintf(want, sizeof want, "%s/tiny_mlp.fp16.onnx", g_dir);
  assert_string_equal(s.path, want);
  snprintf(want, sizeof want, "%s/conv10.fp16.onnx", g_dir);
  assert_string_equal(s.fallbacks[0], want);
  VG_ASSERT_OK(vg_model_spec_apply_precision(&s)); /* idempotent */
  assert_string_equal(s.fallbacks[0], want);
  /* API: bytes cannot have a variant; an unknown enum value is refused */
  vg_model_spec b;
  vg_model_spec_init(&b);
  b.bytes = "x";
  b.nbytes = 1;
  b.precision = VG_PRECISION_FP16;
  assert_int_equal(vg_model_spec_apply_precision(&b), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("not model bytes");
  vg_model *m = NULL;
  assert_int_equal(vg_model_load(&b, &m), VG_ERR_INVALID_ARG);
  assert_null(m);
  b.bytes = NULL;
  b.precision = (vg_model_precision)7;
  snprintf(b.path, sizeof b.path, "x.onnx");
  assert_int_equal(vg_model_spec_apply_precision(&b), VG_ERR_INVALID_ARG);
  /* vg_model_load applies it too: a missing variant fails before ONNX Runtime runs */
  vg_model_spec c = infer_cpu_spec("no/such.onnx");
  c.precision = VG_PRECISION_FP16;
  assert_int_equal(vg_model_load(&c, &m), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("fp16_convert.py");
}

/* Runs model (fp32 file, or its variant with fp16) on input x; returns output k. */
static vg_tensor run_one(const char *path, vg_model_precision p, const vg_tensor *x, int k,
                         char *prec) {
  vg_model_spec s = infer_cpu_spec(path);
  s.precision = p;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  const vg_model_io *in = vg_model_input(m, 0), *out = vg_model_output(m, k);
  assert_string_equal(in->type_name, "float32"); /* float32 at the edges in both */
  assert_string_equal(out->type_name, "float32");
  vg_model_report r;
  vg_model_get_report(m, &r);
  snprintf(prec, 8, "%s", r.precision);
  vg_tensor outs[4] = {0};
  int nout = vg_model_output_count(m);
  VG_ASSERT_OK(vg_model_run(m, NULL, x, 1, outs, nout, NULL));
  for (int i = 0; i < nout; i++)
    if (i != k) vg_tensor_release(&outs[i]);
  vg_model_free(m);
  return outs[k];
}

typedef struct case_ {
  const char *src;  /* the float32 model */
  const char *stem; /* its name in g_dir */
  int ndim;
  int64_t shape[4];
  int out;        /* output compared */
  double max_abs; /* bound on the largest difference */
  bool text;      /* input: dark text-like strokes on a light background, not noise */
} case_;

/* Normalised-image input: a light background with dark vertical strokes in text lines, so that
 * DBNet's probability map has text to find (on noise it stays near 0 everywhere). */
static void fill_text(vg_tensor *x) {
  float *p = vg_tensor_data(x);
  int64_t c = x->shape[1], h = x->shape[2], w = x->shape[3];
  for (int64_t k = 0; k < c; k++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t i = 0; i < w; i++) {
        bool line = (y % 40 >= 12 && y % 40 < 28) && i > 8 && i < w - 8;
        bool stroke = (i % 9 < 3) || (y % 40 == 12 || y % 40 == 27);
        p[(k * h + y) * w + i] = line && stroke ? -1.8f : 1.9f;
      }
}

static bool convert(const char *src, const char *stem) {
  const char *py = getenv("VG_PYTHON") ? getenv("VG_PYTHON") : "/usr/bin/python3";
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s scripts/fp16_convert.py %s %s/%s.fp16.onnx > %s/%s.log 2>&1", py,
           src, g_dir, stem, g_dir, stem);
  if (system(cmd) == 0) return true;
  fprintf(stderr, "%s failed (log: %s/%s.log)\n", cmd, g_dir, stem);
  return false;
}

static void test_converter_accuracy(void **st) {
  static const case_ cases[] = {
      {TEST_MODELS "/tiny_mlp.onnx", "tiny_mlp", 2, {3, 8}, 0, 0.005, false},
      {TEST_MODELS "/conv10.onnx", "conv10", 4, {1, 3, 640, 640}, 0, 0.01, false},
      {TEST_MODELS "/yolo_like.onnx", "yolo_like", 4, {1, 3, 640, 640}, 0, 0.01, false},
      {PPOCR_DET, "det", 4, {1, 3, 160, 320}, 0, 0.05, true},
      {PPOCR_CLS, "cls", 4, {2, 3, 48, 192}, 0, 0.01, true},
      {PPOCR_REC_GATHER, "rec", 4, {1, 3, 48, 160}, 0, 0.03, true},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const case_ *t = &cases[c];
    if (!infer_file_exists(t->src)) {
      if (strncmp(t->src, "models/ppocr", 12) == 0) {
        printf("%s: not present (scripts/setup.sh fetches it); left out\n", t->src);
        continue;
      }
      fail_msg("%s missing", t->src);
    }
    assert_true(convert(t->src, t->stem));
    if (strcmp(t->stem, "det") ==
        0) { /* its 24 Clips: Max/Min in float16 (CUDA has no fp16 Clip-11) */
      char cmd[600];
      snprintf(cmd, sizeof cmd, "grep -q ' 24 Clip as Max/Min' %s/det.log", g_dir);
      assert_int_equal(system(cmd), 0);
    }
    char fake32[512], prec32[8], prec16[8];
    snprintf(fake32, sizeof fake32, "%s/%s.onnx", g_dir, t->stem); /* only its variant exists */
    vg_tensor x = infer_host_input(t->ndim, t->shape, (uint32_t)c + 1);
    if (t->text) fill_text(&x);
    vg_tensor a = run_one(t->src, VG_PRECISION_FP32, &x, t->out, prec32);
    vg_tensor b = run_one(fake32, VG_PRECISION_FP16, &x, t->out, prec16);
    assert_string_equal(prec32, "fp32");
    assert_string_equal(prec16, "fp16");
    assert_int_equal(a.ndim, b.ndim);
    assert_memory_equal(a.shape, b.shape, sizeof(int64_t) * (size_t)a.ndim);
    const float *pa = vg_tensor_data(&a), *pb = vg_tensor_data(&b);
    size_t n = (size_t)vg_tensor_numel(&a);
    double md = 0, ma = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
      if (!isfinite(pb[i])) fail_msg("%s: output %zu not finite in FP16", t->stem, i);
      double d = fabs((double)pa[i] - pb[i]);
      sum += d;
      if (d > md) md = d;
      if (fabs(pa[i]) > ma) ma = fabs(pa[i]);
    }
    printf("%-10s %zu values, max |fp32| %.4g: max abs diff %.4g, mean %.3g (bound %.3g)\n",
           t->stem, n, ma, md, sum / (double)n, t->max_abs);
    assert_true(md <= t->max_abs);
    assert_true(md > 0 || n < 64); /* it did compute in float16: not the FP32 model again */
    vg_tensor_release(&a);
    vg_tensor_release(&b);
    vg_tensor_release(&x);
  }
}

/* The converter refuses what it cannot convert with a message, not a traceback. */
static void test_converter_bad_input(void **st) {
  const char *py = getenv("VG_PYTHON") ? getenv("VG_PYTHON") : "/usr/bin/python3";
  char cmd[1024], path[512];
  snprintf(path, sizeof path, "%s/garbage.onnx", g_dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("not a model", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s scripts/fp16_convert.py %s 2>%s/bad.err", py, path, g_dir);
  assert_int_equal(WEXITSTATUS(system(cmd)), 2);
  snprintf(cmd, sizeof cmd, "grep -q 'cannot read' %s/bad.err", g_dir);
  assert_int_equal(system(cmd), 0);
  /* an FP16-input model is already converted */
  snprintf(cmd, sizeof cmd,
           "%s scripts/fp16_convert.py %s/tiny_f16.onnx %s/x.fp16.onnx 2>%s/f16.err", py,
           TEST_MODELS, g_dir, g_dir);
  assert_int_equal(WEXITSTATUS(system(cmd)), 2);
  snprintf(cmd, sizeof cmd, "grep -q 'already has float16 input' %s/f16.err", g_dir);
  assert_int_equal(system(cmd), 0);
}

static int setup(void **st) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_OFF);
  snprintf(g_dir, sizeof g_dir, "/tmp/vg_fp16_XXXXXX");
  if (!mkdtemp(g_dir)) return -1;
  /* the spec test needs variants of tiny_mlp and conv10 */
  return convert(TEST_MODELS "/tiny_mlp.onnx", "tiny_mlp") &&
                 convert(TEST_MODELS "/conv10.onnx", "conv10")
             ? 0
             : -1;
}

static int teardown(void **st) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fp16_path_rule),
      cmocka_unit_test(test_spec_precision),
      cmocka_unit_test(test_converter_bad_input),
      cmocka_unit_test(test_converter_accuracy),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
