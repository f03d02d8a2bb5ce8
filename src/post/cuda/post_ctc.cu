/* post_ctc.cu - greedy CTC decoding on the device: one warp per time step (argmax, the
 * probability check and the softmax denominator, in the 32-lane order of post_text.h), then one
 * thread per sample collapses repeats and drops blanks; only the kept classes and probabilities
 * are copied to the host (one small copy). CPU twin: src/post/ctc.c (vg_ctc_decode). */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>

#include "post_text.h"

struct pt_ctc_ws {
  int device;
  size_t cap_rows, cap_out;
  pt_ctc_row *rows;
  char *out; /* samples | cls | prob */
};

extern "C" pt_ctc_ws *pt_ctc_ws_create(int device) {
  pt_ctc_ws *w = (pt_ctc_ws *)calloc(1, sizeof *w);
  if (w) w->device = device;
  return w;
}

extern "C" void pt_ctc_ws_destroy(pt_ctc_ws *w) {
  if (!w) return;
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(w->device);
  cudaFree(w->rows);
  cudaFree(w->out);
  cudaSetDevice(prev);
  free(w);
}

__device__ __forceinline__ float ctc_load(const void *data, int f16, int64_t off) {
  if (f16) return __half2float(((const __half *)data)[off]);
  return ((const float *)data)[off];
}

/* One warp per (sample, step) row. */
__global__ void k_ctc_rows(pt_ctc_args a, int want_exp, pt_ctc_row *rows) {
  const unsigned full = 0xffffffffu;
  int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  int lane = threadIdx.x & 31;
  if (warp >= (int64_t)a.n * a.t) return; /* whole warps leave together */
  int n = (int)(warp / a.t), s = (int)(warp % a.t);
  int64_t base = n * a.stride_n + s * a.stride_t;
  float bv = 0.f;
  int32_t best = -1;
  double part = 0;
  int in01 = 1;
  for (int c = lane; c < a.c; c += 32) {
    float v = ctc_load(a.data, a.f16, base + c * a.stride_c);
    pt_argmax_take(v, c, &bv, &best);
    in01 &= v >= 0.f && v <= 1.f;
    part = PT_DADD(part, (double)v);
  }
  for (int off = 16; off >= 1; off /= 2) {
    float ov = __shfl_down_sync(full, bv, off);
    int32_t ob = __shfl_down_sync(full, best, off);
    double op = __shfl_down_sync(full, part, off);
    if (lane + off < 32) pt_argmax_merge(ov, ob, &bv, &best);
    if (lane < off) part = PT_DADD(part, op);
  }
  in01 = __all_sync(full, in01);
  if (lane == 0) {
    float v0 = ctc_load(a.data, a.f16, base);
    if (v0 != v0 || best < 0) best = 0, bv = v0; /* the sequential loop's NaN rule */
  }
  bv = __shfl_sync(full, bv, 0);
  best = __shfl_sync(full, best, 0);
  pt_ctc_row r;
  r.best = best;
  r.best_v = bv;
  r.probs = in01 && fabs(PT_DSUB(part, 1.0)) <= 0.01;
  r.pad_ = 0;
  r.expsum = 0;
  if (want_exp) {
    double e = 0;
    for (int c = lane; c < a.c; c += 32)
      e = PT_DADD(
          e, pt_exp(PT_DSUB((double)ctc_load(a.data, a.f16, base + c * a.stride_c), (double)bv)));
    for (int off = 16; off >= 1; off /= 2) {
      double oe = __shfl_down_sync(full, e, off);
      if (lane < off) e = PT_DADD(e, oe);
    }
    r.expsum = e;
  }
  if (lane == 0) rows[warp] = r;
}

/* One thread per sample. */
__global__ void k_ctc_collapse(pt_ctc_args a, const pt_ctc_row *rows, pt_ctc_sample *samples,
                               int32_t *cls, float *prob) {
  int n = blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.n) return;
  const pt_ctc_row *r = rows + (int64_t)n * a.t;
  int all_probs = 1;
  for (int s = 0; s < a.t; s++)
    all_probs &= r[s].probs;
  int logits = a.input == 2 || (a.input == 0 && !all_probs);
  pt_ctc_sample out;
  out.logits = logits;
  out.kept =
      pt_ctc_collapse(r, a.t, logits, cls + (int64_t)n * a.t, prob + (int64_t)n * a.t, &out.conf);
  samples[n] = out;
}

#define CK(x)                                                                                      \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      snprintf(err, errcap, "%s: %s", #x, cudaGetErrorString(e_));                                 \
      return (int)e_;                                                                              \
    }                                                                                              \
  } while (0)

extern "C" int pt_ctc_run(pt_ctc_ws *w, const pt_ctc_args *a, void *stream, void *host, char *err,
                          size_t errcap) {
  cudaStream_t s = (cudaStream_t)stream;
  CK(cudaSetDevice(w->device));
  size_t nrows = (size_t)a->n * (size_t)a->t;
  size_t bytes_s = (size_t)a->n * sizeof(pt_ctc_sample), bytes_c = nrows * sizeof(int32_t),
         bytes_p = nrows * sizeof(float);
  if (nrows > w->cap_rows) {
    cudaFree(w->rows);
    w->rows = NULL, w->cap_rows = 0;
    CK(cudaMalloc(&w->rows, nrows * sizeof(pt_ctc_row)));
    w->cap_rows = nrows;
  }
  if (bytes_s + bytes_c + bytes_p > w->cap_out) {
    cudaFree(w->out);
    w->out = NULL, w->cap_out = 0;
    CK(cudaMalloc(&w->out, bytes_s + bytes_c + bytes_p));
    w->cap_out = bytes_s + bytes_c + bytes_p;
  }
  pt_ctc_sample *ds = (pt_ctc_sample *)w->out;
  int32_t *dc = (int32_t *)(w->out + bytes_s);
  float *dp = (float *)(w->out + bytes_s + bytes_c);
  const int threads = 256; /* 8 rows per block */
  size_t blocks = (nrows * 32 + threads - 1) / threads;
  k_ctc_rows<<<(unsigned)blocks, threads, 0, s>>>(*a, a->input != 1, w->rows);
  CK(cudaGetLastError());
  k_ctc_collapse<<<(a->n + 127) / 128, 128, 0, s>>>(*a, w->rows, ds, dc, dp);
  CK(cudaGetLastError());
  /* samples, classes and probabilities are adjacent: one copy */
  CK(cudaMemcpyAsync(host, w->out, bytes_s + bytes_c + bytes_p, cudaMemcpyDeviceToHost, s));
  CK(cudaStreamSynchronize(s));
  return 0;
}
