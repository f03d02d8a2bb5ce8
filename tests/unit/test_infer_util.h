/* test_infer_util.h - helpers shared by the infer tests (unit and GPU): generated test models,
 * specs, deterministic inputs and reference computations. Header-only (static functions). */
#ifndef VIDGRAPH_TEST_INFER_UTIL_H
#define VIDGRAPH_TEST_INFER_UTIL_H

#include "vg_test.h"
#include "vidgraph/vg_infer.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_MODELS "models/test"
#define PPOCR_DET "models/ppocr/ch_PP-OCRv4_det_infer.onnx"
#define PPOCR_REC "models/ppocr/ch_PP-OCRv4_rec_infer.onnx"
#define PPOCR_CLS "models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"
/* The recogniser with its Slice nodes as Gather (scripts/ort_compat.py): the form the CUDA
 * provider of our ONNX Runtime packages can run. */
#define PPOCR_REC_GATHER "models/ppocr/ch_PP-OCRv4_rec_infer.gather.onnx"

static inline bool infer_file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* Generates models/test/ with scripts/gen_test_models.py when a model is missing. */
static inline void infer_ensure_models(void) {
  if (getenv("VG_SOURCE_DIR") && chdir(getenv("VG_SOURCE_DIR")) != 0) {
    fprintf(stderr, "cannot enter VG_SOURCE_DIR\n");
    exit(1);
  }
  if (infer_file_exists(TEST_MODELS "/VERSION") &&
      infer_file_exists(TEST_MODELS "/yolo_like.onnx") &&
      infer_file_exists(TEST_MODELS "/yolo_like_fp16.onnx"))
    return;
  /* $VG_PYTHON: a Python with onnx + numpy where /usr/bin/python3 has none (GPU machine) */
  const char *py = getenv("VG_PYTHON") ? getenv("VG_PYTHON") : "/usr/bin/python3";
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s scripts/gen_test_models.py", py);
  if (system(cmd) != 0) {
    fprintf(stderr, "scripts/gen_test_models.py failed\n");
    exit(1);
  }
}

/* A spec for path with the given providers (n of them). */
static inline vg_model_spec infer_spec(const char *path, int n, const vg_provider *p) {
  vg_model_spec s;
  vg_model_spec_init(&s);
  snprintf(s.path, sizeof s.path, "%s", path);
  if (n > 0) {
    s.nproviders = n;
    for (int i = 0; i < n; i++)
      s.providers[i] = p[i];
  }
  return s;
}

static inline vg_model_spec infer_cpu_spec(const char *path) {
  vg_provider cpu = VG_PROVIDER_CPU;
  return infer_spec(path, 1, &cpu);
}

/* Deterministic values in [-1, 1) from an LCG seeded with seed. */
static inline void infer_fill(float *x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* A host f32 tensor of the shape, filled with infer_fill. */
static inline vg_tensor infer_host_input(int ndim, const int64_t *shape, uint32_t seed) {
  vg_tensor t;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, ndim, shape, vg_cpu(), NULL, &t));
  infer_fill((float *)vg_tensor_data(&t), (size_t)vg_tensor_numel(&t), seed);
  return t;
}

/* The tiny_mlp reference: y = relu(x W + b), z = sum(y). W[i][j] = 0.1(i-j)+0.05, b = 0.01j-0.02.
 */
static inline void infer_tiny_mlp_ref(const float *x, int64_t batch, float *y, float *z) {
  for (int64_t r = 0; r < batch; r++) {
    z[r] = 0;
    for (int j = 0; j < 4; j++) {
      float acc = 0.01f * (float)j - 0.02f;
      for (int i = 0; i < 8; i++)
        acc += x[r * 8 + i] * (0.1f * (float)(i - j) + 0.05f);
      y[r * 4 + j] = acc > 0 ? acc : 0;
      z[r] += y[r * 4 + j];
    }
  }
}

/* Max |a-b| / (max |b| + eps) over n floats. */
static inline double infer_rel_err(const float *a, const float *b, size_t n) {
  double md = 0, mb = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (d > md) md = d;
    if (fabs(b[i]) > mb) mb = fabs(b[i]);
  }
  return md / (mb + 1e-12);
}

#endif
