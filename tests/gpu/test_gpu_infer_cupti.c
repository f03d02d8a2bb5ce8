/* GPU: proof of the zero-copy claim. CUPTI's activity API records every memcpy the process
 * makes (ours and ONNX Runtime's shared cudart alike); during N inferences of the YOLO-style
 * model there must be no host<->device copy with IOBinding on device tensors (with and without
 * CUDA graphs), and some without IOBinding or with host inputs. Prints "KEY:" lines. */
#include "unit/test_infer_util.h"

#ifdef VG_HAVE_CUDA
#include <cupti.h>

#define N_RUNS 20
#define BUF_SIZE (1 << 20)

static uint64_t g_h2d, g_d2h, g_other, g_dropped, g_small;
/* Tensor-sized copies: the model's input is 4.9 MB and its output 2.8 MB. */
#define DATA_COPY_BYTES (1 << 20)
static uint64_t g_small_max;

static void CUPTIAPI buffer_requested(uint8_t **buf, size_t *size, size_t *max_records) {
  *buf = aligned_alloc(8, BUF_SIZE);
  *size = BUF_SIZE;
  *max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buf, size_t size,
                                      size_t valid) {
  CUpti_Activity *rec = NULL;
  while (cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS) {
    if (rec->kind != CUPTI_ACTIVITY_KIND_MEMCPY) continue;
    const CUpti_ActivityMemcpy6 *mc = (const CUpti_ActivityMemcpy6 *)rec;
    /* ONNX Runtime itself uploads a few bytes per run (shapes and scalars computed on the CPU
     * for ops such as Reshape/Resize): counted apart; data copies are the tensor-sized ones. */
    bool data = mc->bytes >= DATA_COPY_BYTES;
    if (!data && mc->bytes > g_small_max) g_small_max = mc->bytes;
    switch (mc->copyKind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      if (data) g_h2d++; else g_small++;
      break;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      if (data) g_d2h++; else g_small++;
      break;
    default:
      g_other++;
      break;
    }
  }
  size_t dropped = 0;
  cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped);
  g_dropped += dropped;
  free(buf);
}

/* Copies during N runs of m on x (after two untraced warm-up runs). */
static void count_copies(vg_model *m, const vg_tensor *x, uint64_t *h2d, uint64_t *d2h,
                         uint64_t *d2d) {
  for (int i = 0; i < 3; i++) { /* warm-up: allocations, graph capture */
    vg_tensor y = {0};
    VG_ASSERT_OK(vg_model_run(m, NULL, x, 1, &y, 1, NULL));
    vg_tensor_release(&y);
  }
  cuptiActivityFlushAll(1);
  g_h2d = g_d2h = g_other = g_dropped = g_small = g_small_max = 0;
  assert_int_equal(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY), CUPTI_SUCCESS);
  for (int i = 0; i < N_RUNS; i++) {
    vg_tensor y = {0};
    VG_ASSERT_OK(vg_model_run(m, NULL, x, 1, &y, 1, NULL));
    vg_tensor_release(&y);
  }
  VG_ASSERT_OK(vg_stream_sync(NULL));
  cuptiActivityFlushAll(1);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_MEMCPY);
  assert_int_equal(g_dropped, 0);
  *h2d = g_h2d, *d2h = g_d2h, *d2d = g_other;
}

static vg_model *load(bool bind, bool graph) {
  vg_provider p = VG_PROVIDER_CUDA;
  vg_model_spec s = infer_spec(TEST_MODELS "/yolo_like.onnx", 1, &p);
  s.io_binding = bind;
  s.cuda.cuda_graph = graph;
  vg_model *m;
  VG_ASSERT_OK(vg_model_load(&s, &m));
  return m;
}

static void test_copy_counts(void **st) {
  int64_t shape[4] = {1, 3, 640, 640};
  vg_tensor x = infer_host_input(4, shape, 1), xd;
  VG_ASSERT_OK(vg_tensor_to_device(&x, vg_cuda(0), NULL, NULL, &xd));
  uint64_t h2d, d2h, d2d;
  struct {
    const char *label;
    bool bind, graph;
    const vg_tensor *in;
    bool expect_zero;
  } cases[] = {
      {"bound device tensors", true, false, &xd, true},
      {"bound device tensors + cuda graph", true, true, &xd, true},
      {"unbound host tensors", false, false, &x, false},
      {"bound, host input (staged)", true, false, &x, false},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    vg_model *m = load(cases[c].bind, cases[c].graph);
    count_copies(m, cases[c].in, &h2d, &d2h, &d2d);
    vg_model_report r;
    vg_model_get_report(m, &r);
    printf("KEY: %s (graph %s): %d runs, %llu HtoD + %llu DtoH data copies (>= %d bytes), "
           "%llu smaller ORT-internal copies (largest %llu bytes), %llu device-side\n",
           cases[c].label, r.cuda_graph ? "on" : "off", N_RUNS, (unsigned long long)h2d,
           (unsigned long long)d2h, DATA_COPY_BYTES, (unsigned long long)g_small,
           (unsigned long long)g_small_max,
           (unsigned long long)d2d);
    if (cases[c].expect_zero) {
      assert_int_equal(h2d + d2h, 0);
    } else {
      assert_true(h2d >= N_RUNS);
    }
    if (cases[c].graph) assert_true(r.cuda_graph);
    vg_model_free(m);
  }
  vg_tensor_release(&x);
  vg_tensor_release(&xd);
}

int main(void) {
  vg_test_require_gpu();
  infer_ensure_models();
  vg_log_set_level(NULL, VG_LOG_WARN);
  if (cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed) != CUPTI_SUCCESS) {
    printf("FAIL: cuptiActivityRegisterCallbacks\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_copy_counts)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#else
int main(void) {
  printf("SKIP: built without CUDA (CUPTI copy counting needs it)\n");
  return 77;
}
#endif
