/* Shape buckets of the infer layer (issue 12, stable shapes): bucket selection (0 rows, more
 * rows than the largest bucket, widths above the largest), the buckets:/warmup: spec keys and
 * their errors, and bucketed runs on the CPU provider: inputs padded with zeros, padded rows
 * never returned, chunked batches joined in order, warm-up counted, new shapes counted. */
#include "unit/test_infer_util.h"

#include <pthread.h>
#include <string.h>

/* y = 2x + 1 ([n, 2, w]), r = sum of x over the last axis ([n, 2, 1]); opset 13, made with
 * onnx.helper. Zero padding of the last axis leaves r unchanged and gives y = 1 there. */
static const unsigned char k_pad_model[] = {
    0x08, 0x07, 0x12, 0x0e, 0x76, 0x69, 0x64, 0x67, 0x72, 0x61, 0x70, 0x68, 0x2d, 0x74, 0x65, 0x73,
    0x74, 0x73, 0x3a, 0xd9, 0x01, 0x0a, 0x11, 0x0a, 0x01, 0x78, 0x0a, 0x03, 0x74, 0x77, 0x6f, 0x12,
    0x02, 0x78, 0x32, 0x22, 0x03, 0x4d, 0x75, 0x6c, 0x0a, 0x11, 0x0a, 0x02, 0x78, 0x32, 0x0a, 0x03,
    0x6f, 0x6e, 0x65, 0x12, 0x01, 0x79, 0x22, 0x03, 0x41, 0x64, 0x64, 0x0a, 0x28, 0x0a, 0x01, 0x78,
    0x0a, 0x04, 0x61, 0x78, 0x65, 0x73, 0x12, 0x01, 0x72, 0x22, 0x09, 0x52, 0x65, 0x64, 0x75, 0x63,
    0x65, 0x53, 0x75, 0x6d, 0x2a, 0x0f, 0x0a, 0x08, 0x6b, 0x65, 0x65, 0x70, 0x64, 0x69, 0x6d, 0x73,
    0x18, 0x01, 0xa0, 0x01, 0x02, 0x12, 0x03, 0x70, 0x61, 0x64, 0x2a, 0x0d, 0x10, 0x01, 0x42, 0x03,
    0x74, 0x77, 0x6f, 0x4a, 0x04, 0x00, 0x00, 0x00, 0x40, 0x2a, 0x0d, 0x10, 0x01, 0x42, 0x03, 0x6f,
    0x6e, 0x65, 0x4a, 0x04, 0x00, 0x00, 0x80, 0x3f, 0x2a, 0x14, 0x08, 0x01, 0x10, 0x07, 0x42, 0x04,
    0x61, 0x78, 0x65, 0x73, 0x4a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5a, 0x19,
    0x0a, 0x01, 0x78, 0x12, 0x14, 0x0a, 0x12, 0x08, 0x01, 0x12, 0x0e, 0x0a, 0x03, 0x12, 0x01, 0x6e,
    0x0a, 0x02, 0x08, 0x02, 0x0a, 0x03, 0x12, 0x01, 0x77, 0x62, 0x19, 0x0a, 0x01, 0x79, 0x12, 0x14,
    0x0a, 0x12, 0x08, 0x01, 0x12, 0x0e, 0x0a, 0x03, 0x12, 0x01, 0x6e, 0x0a, 0x02, 0x08, 0x02, 0x0a,
    0x03, 0x12, 0x01, 0x77, 0x62, 0x18, 0x0a, 0x01, 0x72, 0x12, 0x13, 0x0a, 0x11, 0x08, 0x01, 0x12,
    0x0d, 0x0a, 0x03, 0x12, 0x01, 0x6e, 0x0a, 0x02, 0x08, 0x02, 0x0a, 0x02, 0x08, 0x01, 0x42, 0x04,
    0x0a, 0x00, 0x10, 0x0d,
};

static void test_plan(void **st) {
  vg_shape_buckets b = {.enabled = 1, .nbatch = 4, .batch = {1, 2, 4, 8}};
  int64_t rows[8], pad[8];
  assert_int_equal(vg_buckets_plan(&b, 0, rows, pad, 8), 0); /* no crops: no run */
  assert_int_equal(vg_buckets_plan(&b, -3, rows, pad, 8), 0);
  assert_int_equal(vg_buckets_plan(&b, 1, rows, pad, 8), 1);
  assert_int_equal(rows[0], 1);
  assert_int_equal(pad[0], 1);
  assert_int_equal(vg_buckets_plan(&b, 3, rows, pad, 8), 1);
  assert_int_equal(rows[0], 3);
  assert_int_equal(pad[0], 4);
  assert_int_equal(vg_buckets_plan(&b, 8, rows, pad, 8), 1);
  assert_int_equal(pad[0], 8);
  /* more rows than the largest bucket: chunks of the largest, the rest padded */
  assert_int_equal(vg_buckets_plan(&b, 19, rows, pad, 8), 3);
  assert_int_equal(rows[0], 8);
  assert_int_equal(pad[0], 8);
  assert_int_equal(rows[1], 8);
  assert_int_equal(rows[2], 3);
  assert_int_equal(pad[2], 4);
  assert_int_equal(vg_buckets_plan(&b, 16, rows, pad, 8), 2);
  assert_int_equal(rows[1], 8);
  assert_int_equal(vg_buckets_plan(&b, 65, rows, pad, 8), -1); /* 9 chunks > cap */
  assert_int_equal(vg_buckets_plan(&b, 64, rows, pad, 8), 8);
  /* no batch buckets: one run of n, not padded */
  vg_shape_buckets w = {.enabled = 1, .nwidth = 2, .width = {320, 480}};
  assert_int_equal(vg_buckets_plan(&w, 37, rows, pad, 8), 1);
  assert_int_equal(rows[0], 37);
  assert_int_equal(pad[0], 37);
  assert_int_equal(vg_buckets_plan(NULL, 5, rows, pad, 8), 1);
  /* widths */
  assert_int_equal(vg_buckets_width(&w, 1), 320);
  assert_int_equal(vg_buckets_width(&w, 320), 320);
  assert_int_equal(vg_buckets_width(&w, 321), 480);
  assert_int_equal(vg_buckets_width(&w, 480), 480);
  assert_int_equal(vg_buckets_width(&w, 481), 481); /* above the largest: its own width */
  assert_int_equal(vg_buckets_width(&b, 77), 77);   /* no width buckets */
  assert_int_equal(vg_buckets_width(NULL, 77), 77);
}

static vg_status spec_of(const char *yaml, vg_model_spec *s) {
  vg_config *cfg;
  VG_ASSERT_OK(vg_config_load_string(yaml, strlen(yaml), "b.yaml", &cfg));
  vg_model_spec_init(s);
  vg_status rs = vg_model_spec_from_config(vg_config_root(cfg), NULL, s);
  vg_config_free(cfg);
  return rs;
}

static void expect_error(const char *yaml, const char *needle) {
  vg_model_spec s;
  assert_int_equal(spec_of(yaml, &s), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS(needle);
  VG_ASSERT_MSG_HAS("b.yaml:");
}

static void test_spec(void **st) {
  vg_model_spec s;
  VG_ASSERT_OK(spec_of("model: a.onnx\n", &s));
  assert_int_equal(s.buckets.enabled, -1);
  assert_int_equal(s.buckets.nbatch, 0);
  assert_int_equal(s.warmup, -1);
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {batch: [1, 2, 4], width: [320, 480]}\n"
                       "warmup: false\n",
                       &s));
  assert_int_equal(s.buckets.nbatch, 3);
  assert_int_equal(s.buckets.batch[2], 4);
  assert_int_equal(s.buckets.nwidth, 2);
  assert_int_equal(s.buckets.width[1], 480);
  assert_int_equal(s.buckets.enabled, -1);
  assert_int_equal(s.warmup, 0);
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {width: [64], enabled: true}\nwarmup: auto\n", &s));
  assert_int_equal(s.buckets.enabled, 1);
  assert_int_equal(s.warmup, -1);
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {batch: [8], enabled: false}\nwarmup: true\n", &s));
  assert_int_equal(s.buckets.enabled, 0);
  assert_int_equal(s.warmup, 1);
  assert_true(vg_model_spec_is_key("buckets"));
  assert_true(vg_model_spec_is_key("warmup"));
  assert_true(vg_model_spec_is_key("own_thread"));
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {batch: [2], pin_sessions: true}\n", &s));
  assert_int_equal(s.buckets.pin_sessions, 1);
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {batch: [2]}\n", &s));
  assert_int_equal(s.buckets.pin_sessions, -1);
  expect_error("model: a.onnx\nbuckets: {batch: [2], pin_sessions: 2}\n", "pin_sessions");
  VG_ASSERT_OK(spec_of("model: a.onnx\nown_thread: false\n", &s));
  assert_int_equal(s.own_thread, 0);
  VG_ASSERT_OK(spec_of("model: a.onnx\nown_thread: true\n", &s));
  assert_int_equal(s.own_thread, 1);
  expect_error("model: a.onnx\nown_thread: sometimes\n", "own_thread");

  expect_error("model: a.onnx\nbuckets: {batch: [4, 2]}\n", "ascending");
  expect_error("model: a.onnx\nbuckets: {batch: [2, 2]}\n", "ascending");
  expect_error("model: a.onnx\nbuckets: {batch: [0, 2]}\n", "1..4096");
  expect_error("model: a.onnx\nbuckets: {batch: []}\n", "1 to 12 sizes");
  expect_error("model: a.onnx\nbuckets: {batch: 4}\n", "1 to 12 sizes");
  expect_error("model: a.onnx\nbuckets: {batch: [1,2,3,4,5,6,7,8,9,10,11,12,13]}\n", "1 to 12");
  expect_error("model: a.onnx\nbuckets: {width: [320, x]}\n", "integers");
  expect_error("model: a.onnx\nbuckets: {heights: [48]}\n", "unknown key 'heights'");
  expect_error("model: a.onnx\nbuckets: {}\n", "batch: [sizes] and/or width");
  expect_error("model: a.onnx\nbuckets: [1, 2]\n", "expected a map");
  expect_error("model: a.onnx\nbuckets: {batch: [1], enabled: sometimes}\n", "auto, true or false");
  expect_error("model: a.onnx\nwarmup: 3\n", "warmup");
  expect_error("model: a.onnx\nbuckets: {batch: [1], warm_shape: [3, 0]}\n", "warm_shape");
  expect_error("model: a.onnx\nbuckets: {batch: [1], warm_shape: []}\n", "warm_shape");
  VG_ASSERT_OK(spec_of("model: a.onnx\nbuckets: {batch: [1, 2], warm_shape: [3, 544, 960]}\n", &s));
  assert_int_equal(s.buckets.nwarm, 3);
  assert_int_equal(s.buckets.warm_shape[2], 960);
}

static vg_model_spec pad_spec(void) {
  vg_model_spec s = infer_cpu_spec("");
  s.bytes = k_pad_model;
  s.nbytes = sizeof k_pad_model;
  snprintf(s.name, sizeof s.name, "pad");
  return s;
}

/* x [n, 2, w] with values 1 + row*100 + c*10 + i (never 0). */
static vg_tensor pad_input(int64_t n, int64_t w) {
  int64_t shape[3] = {n, 2, w};
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  float *x = vg_tensor_data(&t);
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < 2; c++)
      for (int64_t i = 0; i < w; i++)
        x[(r * 2 + c) * w + i] = (float)(1 + r * 100 + c * 10 + i);
  return t;
}

/* Checks y and r of a bucketed run of pad_input(n, w) padded to width W. */
static void check_outputs(const vg_tensor *y, const vg_tensor *r, int64_t n, int64_t w,
                          int64_t W) {
  assert_int_equal(y->shape[0], n); /* padded rows never come back */
  assert_int_equal(y->shape[2], W);
  assert_int_equal(r->shape[0], n);
  const float *yv = vg_tensor_data(y), *rv = vg_tensor_data(r);
  for (int64_t row = 0; row < n; row++)
    for (int64_t c = 0; c < 2; c++) {
      double sum = 0;
      for (int64_t i = 0; i < W; i++) {
        float x = i < w ? (float)(1 + row * 100 + c * 10 + i) : 0.0f;
        assert_float_equal(yv[(row * 2 + c) * W + i], 2 * x + 1, 1e-4);
        sum += x;
      }
      assert_float_equal(rv[row * 2 + c], sum, 1e-2);
    }
}

static void test_run_padded(void **st) {
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 3, .batch = {1, 2, 4}, .nwidth = 2,
                                 .width = {8, 16}};
  s.warmup = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_true(rep.buckets_on);
  assert_int_equal(rep.warmup_shapes, 6); /* every dim but n and w fixed: warmed at load */
  assert_true(strstr(rep.buckets, "batch 1,2,4 x width 8,16") != NULL);
  assert_non_null(vg_model_buckets(m));

  struct {
    int64_t n, w, W;
  } cases[] = {{3, 5, 8}, {1, 8, 8}, {4, 9, 16}, {2, 16, 16}, {11, 3, 8}, {6, 20, 20}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    vg_tensor x = pad_input(cases[k].n, cases[k].w), out[2] = {0};
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
    check_outputs(&out[0], &out[1], cases[k].n, cases[k].w, cases[k].W);
    vg_tensor_release(&out[0]);
    vg_tensor_release(&out[1]);
    vg_tensor_release(&x);
  }
  vg_model_get_report(m, &rep);
  /* shapes not warmed: 11 rows run as 4+4+(3->4) at width 8 (warmed); width 20 is above the
   * largest bucket: [4,2,20] and [2,2,20] are new */
  assert_int_equal(rep.new_shapes, 2);
  assert_int_equal(rep.new_shapes_after_warmup, 2);
  assert_int_equal(rep.padded_rows, 1 + 0 + 0 + 0 + 1 + 0);
  vg_model_free(m);
}

static void test_off_and_auto(void **st) {
  /* auto: the CPU provider runs at the given shape; outputs equal a bucketed run's rows */
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = -1, .nbatch = 2, .batch = {2, 4}};
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_false(rep.buckets_on);
  assert_int_equal(rep.warmup_shapes, 0);
  assert_null(vg_model_buckets(m));
  assert_true(strstr(rep.buckets, "off on the cpu provider") != NULL);
  vg_tensor x = pad_input(3, 5), out[2] = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
  check_outputs(&out[0], &out[1], 3, 5, 5);
  vg_tensor_release(&out[0]);
  vg_tensor_release(&out[1]);
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 1, NULL));
  vg_tensor_release(&out[0]);
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.new_shapes, 1); /* the second run repeats the shape */
  assert_int_equal(rep.padded_rows, 0);
  vg_model_free(m);
  vg_tensor_release(&x);

  /* forced on without warm-up: the first run of each bucket is counted, not warmed */
  s.buckets.enabled = 1;
  s.warmup = 0;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  for (int n = 1; n <= 4; n++) {
    x = pad_input(n, 5);
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
    check_outputs(&out[0], &out[1], n, 5, 5);
    vg_tensor_release(&out[0]);
    vg_tensor_release(&out[1]);
    vg_tensor_release(&x);
  }
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 0);
  assert_int_equal(rep.new_shapes, 2); /* buckets 2 and 4 */
  assert_int_equal(rep.new_shapes_after_warmup, 0);
  assert_int_equal(rep.padded_rows, 1 + 0 + 1 + 0);
  vg_model_free(m);
}

static void test_load_errors(void **st) {
  /* tiny_mlp: x [batch, 8]: the last axis is fixed, width buckets cannot apply */
  vg_model_spec s = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  s.buckets = (vg_shape_buckets){.enabled = 1, .nwidth = 1, .width = {16}};
  vg_model *m = NULL;
  assert_int_equal(vg_model_load(&s, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("fixed last axis (8)");
  assert_null(m);
  /* tiny_fixed: batch fixed at 2, buckets up to 4 do not fit */
  s = infer_cpu_spec(TEST_MODELS "/tiny_fixed.onnx");
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {1, 4}};
  assert_int_equal(vg_model_load(&s, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("fixed batch of 2");
  /* batch buckets on tiny_mlp are fine; a warm-up at load runs them */
  s = infer_cpu_spec(TEST_MODELS "/tiny_mlp.onnx");
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {1, 4}};
  s.warmup = 1;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2);
  assert_int_equal(rep.runs, 2);
  char *js = vg_model_report_json(m);
  assert_non_null(strstr(js, "\"warmup_shapes\":2"));
  assert_non_null(strstr(js, "\"buckets_on\":true"));
  free(js);
  vg_model_free(m);
}

/* fit_batch (what the infer node asks): a model exported with a fixed batch (tiny_fixed: 2) takes
 * batches of 1, 3 and 5, padded and run in chunks of 2, with the reference's outputs; the
 * configured batch buckets (1, 4: they do not fit a fixed batch of 2) are replaced by [2]. */
static void test_fit_fixed_batch(void **st) {
  vg_model_spec s = infer_cpu_spec(TEST_MODELS "/tiny_fixed.onnx");
  s.fit_batch = true;
  s.buckets = (vg_shape_buckets){.enabled = -1, .nbatch = 2, .batch = {1, 4}};
  vg_model *m = NULL;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_true(rep.buckets_on); /* on the CPU provider too: the model cannot run otherwise */
  assert_non_null(strstr(rep.buckets, "batch 2"));
  int64_t sizes[] = {1, 3, 5, 2};
  uint64_t runs_before = 0;
  for (int k = 0; k < 4; k++) {
    int64_t shape[2] = {sizes[k], 8};
    vg_tensor x = infer_host_input(2, shape, (uint32_t)(40 + k));
    vg_tensor out[2] = {{0}};
    VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
    assert_int_equal(out[0].shape[0], sizes[k]);
    assert_int_equal(out[1].shape[0], sizes[k]);
    float y[5 * 4], z[5];
    infer_tiny_mlp_ref((const float *)vg_tensor_data(&x), sizes[k], y, z);
    const float *y_got = vg_tensor_data(&out[0]);
    assert_true(infer_rel_err(y_got, y, (size_t)sizes[k] * 4) < 1e-5);
    assert_true(infer_rel_err((const float *)vg_tensor_data(&out[1]), z, (size_t)sizes[k]) < 1e-5);
    vg_model_get_report(m, &rep);
    /* ceil(n / 2) runs of the fixed batch */
    assert_int_equal(rep.runs - runs_before, (uint64_t)((sizes[k] + 1) / 2));
    runs_before = rep.runs;
    vg_tensor_release(&out[0]);
    vg_tensor_release(&out[1]);
    vg_tensor_release(&x);
  }
  vg_model_free(m);
  /* without fit_batch the library keeps its contract: buckets that do not fit are an error */
  s.fit_batch = false;
  assert_int_equal(vg_model_load(&s, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("fixed batch of 2");
}

static void test_warm_shape(void **st) {
  /* the pad model's w is dynamic and not bucketed here: warmed at load only with warm_shape */
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {2, 4}};
  s.warmup = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 0);
  /* ... then at the first run of a new w (its family): both buckets, no new shape counted */
  vg_tensor x = pad_input(3, 7), out[2] = {0};
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
  check_outputs(&out[0], &out[1], 3, 7, 7);
  vg_tensor_release(&out[0]);
  vg_tensor_release(&out[1]);
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2);
  assert_int_equal(rep.new_shapes, 0);
  vg_model_free(m);

  s.buckets.nwarm = 2;
  s.buckets.warm_shape[0] = 2;
  s.buckets.warm_shape[1] = 7;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2); /* at load */
  VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 1, NULL));
  vg_tensor_release(&out[0]);
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2);
  assert_int_equal(rep.new_shapes, 0);
  vg_model_free(m);
  vg_tensor_release(&x);

  s.buckets.warm_shape[0] = 3; /* the model's axis 1 is fixed at 2 */
  assert_int_equal(vg_model_load(&s, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("warm_shape[0] is 3");
  s.buckets.nwarm = 3;
  assert_int_equal(vg_model_load(&s, &m), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("warm_shape has 3 sizes");
}

typedef struct thread_run {
  vg_model *m;
  vg_status st;
} thread_run;

static void *run_in_thread(void *arg) {
  thread_run *t = arg;
  vg_tensor x = pad_input(3, 5), out[2] = {0};
  t->st = vg_model_run(t->m, NULL, &x, 1, out, 2, NULL);
  vg_tensor_release(&out[0]);
  vg_tensor_release(&out[1]);
  vg_tensor_release(&x);
  return NULL;
}

/* One run of m on a thread of its own, joined; its status. */
static vg_status run_on_new_thread(vg_model *m) {
  thread_run t = {.m = m};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_in_thread, &t), 0);
  pthread_join(th, NULL);
  return t.st;
}

static void test_warm_per_thread(void **st) {
  /* warmed at load on this thread; a run on another thread warms its family there first */
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {2, 4}, .nwidth = 1,
                                 .width = {8}};
  s.warmup = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2);
  VG_ASSERT_OK(run_on_new_thread(m));
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 4);
  assert_int_equal(rep.new_shapes, 0);
  /* a second thread (its id may be the first one's, reused): warmed again or not, no new shape */
  VG_ASSERT_OK(run_on_new_thread(m));
  vg_model_get_report(m, &rep);
  assert_true(rep.warmup_shapes == 4 || rep.warmup_shapes == 6); /* a new thread id may be reused */
  assert_int_equal(rep.new_shapes, 0);
  vg_model_free(m);
}

static void test_own_thread(void **st) {
  /* own_thread: the warm-up and every run happen on the model's thread, so other calling
   * threads warm nothing again; results and errors come back to the caller */
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {2, 4}, .nwidth = 1,
                                 .width = {8}};
  s.warmup = 1;
  s.own_thread = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_true(rep.own_thread);
  assert_int_equal(rep.warmup_shapes, 2);
  assert_int_equal(rep.slowest_run_index, 0); /* warm-up runs are not counted as slow runs */
  for (int k = 0; k < 3; k++)
    VG_ASSERT_OK(run_on_new_thread(m));
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.warmup_shapes, 2); /* not again on the three calling threads */
  assert_int_equal(rep.new_shapes, 0);
  assert_true(rep.slowest_run_index > 0);
  assert_true(rep.slowest_run_ms >= rep.slowest_run_ort_ms && rep.slowest_run_ort_ms > 0);
  assert_non_null(strchr(rep.slowest_run_shape, '8')); /* the width bucket: [.., 8] */
  char *js = vg_model_report_json(m);
  assert_non_null(js);
  assert_non_null(strstr(js, "\"own_thread\":true"));
  assert_non_null(strstr(js, "\"slowest_run\":{"));
  free(js);
  /* an error raised on the model's thread reaches the caller with its message */
  vg_tensor bad = {0};
  int64_t shape[3] = {1, 2, 5};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_U8, 3, shape, vg_cpu(), NULL, &bad));
  vg_tensor out[2] = {0};
  vg_clear_error();
  assert_int_equal(vg_model_run(m, NULL, &bad, 1, out, 2, NULL), VG_ERR_INVALID_ARG);
  assert_non_null(strstr(vg_last_error(), "element type"));
  vg_tensor_release(&bad);
  vg_model_free(m);
  /* off: the model runs on the caller's thread (the default on the CPU provider) */
  s.own_thread = -1;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_get_report(m, &rep);
  assert_false(rep.own_thread);
  vg_model_free(m);
}

static void test_pin_sessions(void **st) {
  /* pin_sessions: each bucket shape gets a session of its own, so no session ever sees its
   * shape change; results are the same as with one session, alternating shapes included */
  for (int pin = 0; pin <= 1; pin++) {
    vg_model_spec s = pad_spec();
    s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {2, 4}, .nwidth = 2,
                                   .width = {8, 16}, .pin_sessions = pin};
    s.warmup = 1;
    vg_model *m;
    VG_ASSERT_OK(vg_model_load(&s, &m));
    int64_t ns[] = {1, 3, 2, 4, 1, 3}, ws[] = {5, 12, 8, 16, 5, 3};
    for (int k = 0; k < 6; k++) {
      vg_tensor x = pad_input(ns[k], ws[k]), out[2] = {0};
      VG_ASSERT_OK(vg_model_run(m, NULL, &x, 1, out, 2, NULL));
      check_outputs(&out[0], &out[1], ns[k], ws[k], ws[k] <= 8 ? 8 : 16);
      vg_tensor_release(&out[0]);
      vg_tensor_release(&out[1]);
      vg_tensor_release(&x);
    }
    vg_model_report rep;
    vg_model_get_report(m, &rep);
    assert_int_equal(rep.warmup_shapes, 4);
    assert_int_equal(rep.new_shapes, 0);
    if (pin) {
      assert_int_equal(rep.sessions, 4); /* 2 batches x 2 widths, made at warm-up */
      assert_int_equal(rep.shape_switches, 0);
    } else {
      assert_int_equal(rep.sessions, 1);
      assert_int_equal(rep.shape_switches, 6); /* each run (the first after the warm-up too) */
    }
    vg_model_free(m);
  }
  /* auto: on with the cuda provider only, so one session on the CPU */
  vg_model_spec s = pad_spec();
  s.buckets = (vg_shape_buckets){.enabled = 1, .nbatch = 2, .batch = {2, 4}, .pin_sessions = -1};
  s.warmup = 1;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  vg_model_report rep;
  vg_model_get_report(m, &rep);
  assert_int_equal(rep.sessions, 1);
  vg_model_free(m);
}

static int setup(void **st) {
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_OFF);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan),         cmocka_unit_test(test_spec),
      cmocka_unit_test(test_run_padded),   cmocka_unit_test(test_off_and_auto),
      cmocka_unit_test(test_load_errors),  cmocka_unit_test(test_warm_shape),
      cmocka_unit_test(test_warm_per_thread), cmocka_unit_test(test_own_thread),
      cmocka_unit_test(test_pin_sessions),
      cmocka_unit_test(test_fit_fixed_batch),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
