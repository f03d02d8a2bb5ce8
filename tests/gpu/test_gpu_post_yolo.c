/* GPU: the batched CUDA YOLO decode + NMS against its CPU twin (vg_yolo_decode) on random v5 and
 * v8 heads, f32 and f16, class-aware and agnostic, with many tied scores: the results must be
 * identical (same detections, same order, same floats). Skips (exit 77) without a GPU. */
#include "vg_test.h"
#include "vidgraph/vg_post.h"

static unsigned rng_state = 4242;
static unsigned rnd(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) & 0xffffff;
}

/* A random head of the given layout on the host. Scores are multiples of 1/64 (many ties). */
static void random_head(vg_yolo_layout l, vg_dtype dt, int B, int N, int nc, vg_tensor *t) {
  int C = (l == VG_YOLO_V5 ? 5 : 4) + nc;
  int64_t shape[3] = {B, l == VG_YOLO_V5 ? N : C, l == VG_YOLO_V5 ? C : N};
  VG_ASSERT_OK(vg_tensor_alloc(dt, 3, shape, vg_cpu(), NULL, t));
  for (int b = 0; b < B; b++)
    for (int i = 0; i < N; i++)
      for (int c = 0; c < C; c++) {
        float v;
        if (c < 2)
          v = (float)(rnd() % 6400) / 10.f; /* centre */
        else if (c < 4)
          v = 8.f + (float)(rnd() % 1200) / 10.f; /* size */
        else
          v = (float)(rnd() % 64) / 64.f * (c == 4 && l == VG_YOLO_V5 ? 1.f : 0.7f);
        int64_t off = l == VG_YOLO_V5 ? ((int64_t)b * N + i) * C + c : ((int64_t)b * C + c) * N + i;
        if (dt == VG_DTYPE_F16)
          ((uint16_t *)vg_tensor_data(t))[off] = vg_f32_to_f16(v);
        else
          ((float *)vg_tensor_data(t))[off] = v;
      }
}

static void compare(vg_yolo_cuda *w, vg_stream s, const vg_tensor *h, const vg_yolo_params *p,
                    const char *what) {
  int B = (int)h->shape[0];
  vg_tensor d;
  VG_ASSERT_OK(vg_tensor_to_device(h, vg_cuda(0), NULL, s, &d));
  VG_ASSERT_OK(vg_stream_sync(s));
  vg_xform xf[8];
  for (int b = 0; b < B; b++)
    xf[b] = (vg_xform){0.5f + 0.1f * (float)b, 0.5f, 0, 140.f, 3.f * (float)b, 0};
  vg_objects gpu[8] = {{0}}, cpu = {0};
  VG_ASSERT_OK(vg_yolo_decode_cuda(w, &d, p, xf, gpu, s));
  size_t total = 0;
  for (int b = 0; b < B; b++) {
    vg_objects_clear(&cpu);
    VG_ASSERT_OK(vg_yolo_decode(h, b, p, &xf[b], &cpu));
    if (cpu.count != gpu[b].count)
      fail_msg("%s image %d: CPU %zu detections, GPU %zu", what, b, cpu.count, gpu[b].count);
    for (size_t i = 0; i < cpu.count; i++) {
      const vg_object *a = &cpu.items[i], *g = &gpu[b].items[i];
      if (a->box.x1 != g->box.x1 || a->box.y1 != g->box.y1 || a->box.x2 != g->box.x2 ||
          a->box.y2 != g->box.y2 || a->score != g->score || a->class_id != g->class_id)
        fail_msg("%s image %d det %zu: CPU (%g %g %g %g %g c%d) GPU (%g %g %g %g %g c%d)", what, b,
                 i, a->box.x1, a->box.y1, a->box.x2, a->box.y2, a->score, a->class_id, g->box.x1,
                 g->box.y1, g->box.x2, g->box.y2, g->score, g->class_id);
    }
    total += cpu.count;
    vg_objects_free(&gpu[b]);
  }
  printf("%-34s CPU == GPU on %zu detections\n", what, total);
  assert_true(total > 0);
  vg_objects_free(&cpu);
  vg_tensor_release(&d);
}

static void test_cuda_equals_cpu(void **st) {
  vg_stream s;
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s));
  vg_yolo_cuda *w;
  VG_ASSERT_OK(vg_yolo_cuda_create(vg_cuda(0), &w));
  vg_yolo_params p;
  vg_tensor h;
  /* v8, f32, batch 3, 80 classes, 8400 anchors */
  random_head(VG_YOLO_V8, VG_DTYPE_F32, 3, 8400, 80, &h);
  vg_yolo_params_default(&p);
  compare(w, s, &h, &p, "v8 f32 class-aware");
  p.class_agnostic = true;
  compare(w, s, &h, &p, "v8 f32 agnostic");
  p.class_agnostic = false;
  p.top_k = 100;
  p.max_det = 20;
  p.nclass_filter = 3;
  p.class_filter[0] = 0, p.class_filter[1] = 2, p.class_filter[2] = 7;
  compare(w, s, &h, &p, "v8 f32 top_k/max_det/classes");
  vg_tensor_release(&h);
  /* v8, f16, batch 2, odd sizes */
  random_head(VG_YOLO_V8, VG_DTYPE_F16, 2, 3001, 7, &h);
  vg_yolo_params_default(&p);
  p.conf_threshold = 0.5f;
  compare(w, s, &h, &p, "v8 f16");
  vg_tensor_release(&h);
  /* v5, f32 and f16 */
  random_head(VG_YOLO_V5, VG_DTYPE_F32, 4, 6300, 3, &h);
  vg_yolo_params_default(&p);
  p.iou_threshold = 0.6f;
  compare(w, s, &h, &p, "v5 f32");
  vg_tensor_release(&h);
  random_head(VG_YOLO_V5, VG_DTYPE_F16, 1, 25200, 80, &h);
  vg_yolo_params_default(&p);
  p.class_agnostic = true;
  compare(w, s, &h, &p, "v5 f16 agnostic");
  vg_tensor_release(&h);
  vg_yolo_cuda_destroy(w);
  vg_stream_destroy(s);
}

static void test_cuda_bad_inputs(void **st) {
  vg_yolo_cuda *w;
  VG_ASSERT_OK(vg_yolo_cuda_create(vg_cuda(0), &w));
  vg_tensor h;
  random_head(VG_YOLO_V8, VG_DTYPE_F32, 1, 100, 2, &h);
  vg_yolo_params p;
  vg_yolo_params_default(&p);
  vg_objects o = {0};
  assert_int_equal(vg_yolo_decode_cuda(w, &h, &p, NULL, &o, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("is not on the workspace's device");
  vg_tensor_release(&h);
  vg_yolo_cuda_destroy(w);
  assert_int_equal(vg_yolo_cuda_create(vg_cuda(99), &w), VG_ERR_DEVICE);
}

int main(void) {
  vg_test_require_gpu();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cuda_equals_cpu),
      cmocka_unit_test(test_cuda_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
