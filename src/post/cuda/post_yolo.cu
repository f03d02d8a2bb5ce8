/* post_yolo.cu - batched YOLO decode + NMS on the device: per-anchor decode and thresholds, one
 * radix sort of (image, score desc, anchor) keys, per-image greedy NMS in one block, transform to
 * frame coordinates; only the final detections are copied to the host. CPU twin:
 * src/post/yolo.c (vg_yolo_decode), same ordering rule and the same rounding (post_kernels.h). */
#include <cub/cub.cuh>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdio.h>

#include "post_kernels.h"

struct pk_yolo_ws {
  int device;
  size_t cap_cand; /* B*N */
  size_t cap_b, cap_det, cap_tmp;
  float4 *boxes;
  float *scores;
  int *classes;
  unsigned long long *keys, *keys_sorted;
  int *cand_counts;
  int *out_counts;
  pk_det *out_dets;
  pk_xform *xf;
  void *tmp;
};

extern "C" pk_yolo_ws *pk_yolo_ws_create(int device) {
  pk_yolo_ws *w = (pk_yolo_ws *)calloc(1, sizeof *w);
  if (w) w->device = device;
  return w;
}

static void ws_free(pk_yolo_ws *w) {
  cudaFree(w->boxes);
  cudaFree(w->scores);
  cudaFree(w->classes);
  cudaFree(w->keys);
  cudaFree(w->keys_sorted);
  cudaFree(w->cand_counts);
  cudaFree(w->out_counts);
  cudaFree(w->out_dets);
  cudaFree(w->xf);
  cudaFree(w->tmp);
}

extern "C" void pk_yolo_ws_destroy(pk_yolo_ws *w) {
  if (!w) return;
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(w->device);
  ws_free(w);
  cudaSetDevice(prev);
  free(w);
}

__device__ __forceinline__ float load_elem(const void *data, int f16, int64_t off) {
  if (f16) return __half2float(((const __half *)data)[off]);
  return ((const float *)data)[off];
}

__global__ void decode_kernel(pk_yolo_args a, float4 *boxes, float *scores, int *classes,
                              unsigned long long *keys, int *counts) {
  int64_t gid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  int64_t total = (int64_t)a.batch * a.anchors;
  if (gid >= total) return;
  int b = (int)(gid / a.anchors), i = (int)(gid % a.anchors);
  int64_t base = b * a.stride_b + (int64_t)i * a.stride_anchor;
  int first = a.objectness ? 5 : 4;
  int best = 0;
  float bs = load_elem(a.data, a.f16, base + (int64_t)first * a.stride_chan);
  for (int c = 1; c < a.num_classes; c++) {
    float s = load_elem(a.data, a.f16, base + (int64_t)(first + c) * a.stride_chan);
    if (s > bs) bs = s, best = c;
  }
  if (a.objectness) bs = __fmul_rn(load_elem(a.data, a.f16, base + 4 * a.stride_chan), bs);
  bool ok = bs > a.conf;
  if (ok && a.nfilter > 0) {
    ok = false;
    for (int k = 0; k < a.nfilter; k++)
      ok = ok || a.filter[k] == best;
  }
  if (!ok) {
    keys[gid] = ~0ull;
    return;
  }
  float v[4];
  for (int k = 0; k < 4; k++)
    v[k] = load_elem(a.data, a.f16, base + (int64_t)k * a.stride_chan);
  float4 bx;
  pk_cxcywh(v[0], v[1], v[2], v[3], &bx.x, &bx.y, &bx.z, &bx.w);
  boxes[gid] = bx;
  scores[gid] = bs;
  classes[gid] = best;
  keys[gid] = pk_key((uint32_t)b, __float_as_uint(bs), (uint32_t)i);
  atomicAdd(&counts[b], 1);
}

/* One block per image: greedy NMS over its sorted candidates (removed flags in shared memory). */
__global__ void nms_kernel(pk_yolo_args a, const float4 *boxes, const float *scores,
                           const int *classes, const unsigned long long *keys, const int *counts,
                           const pk_xform *xf, pk_det *out, int *out_counts) {
  extern __shared__ unsigned char removed[];
  int b = blockIdx.x;
  int64_t start = 0;
  for (int j = 0; j < b; j++)
    start += counts[j];
  int n = counts[b] < a.top_k ? counts[b] : a.top_k;
  for (int j = threadIdx.x; j < n; j += blockDim.x)
    removed[j] = 0;
  __syncthreads();
  const unsigned long long *k = keys + start;
  int64_t img = (int64_t)b * a.anchors;
  int kept = 0;
  for (int i = 0; i < n && kept < a.max_det; i++) {
    if (removed[i]) continue;
    int64_t ci = img + (int64_t)(k[i] & 0xffffffull);
    float4 bi = boxes[ci];
    int cls = classes[ci];
    if (threadIdx.x == 0) {
      pk_xform x = xf[b];
      pk_det d;
      d.x1 = pk_to_frame(bi.x, x.pad_x, x.scale_x, x.off_x);
      d.y1 = pk_to_frame(bi.y, x.pad_y, x.scale_y, x.off_y);
      d.x2 = pk_to_frame(bi.z, x.pad_x, x.scale_x, x.off_x);
      d.y2 = pk_to_frame(bi.w, x.pad_y, x.scale_y, x.off_y);
      d.score = scores[ci];
      d.class_id = cls;
      d.index = (int32_t)(ci - img);
      d.pad_ = 0;
      out[(int64_t)b * a.max_det + kept] = d;
    }
    kept++;
    for (int j = i + 1 + threadIdx.x; j < n; j += blockDim.x) {
      if (removed[j]) continue;
      int64_t cj = img + (int64_t)(k[j] & 0xffffffull);
      if (!a.agnostic && classes[cj] != cls) continue;
      float4 bj = boxes[cj];
      if (pk_iou(bi.x, bi.y, bi.z, bi.w, bj.x, bj.y, bj.z, bj.w) > a.iou) removed[j] = 1;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out_counts[b] = kept;
}

#define GROW(ptr, count, type)                                                                     \
  do {                                                                                             \
    cudaFree(ptr);                                                                                 \
    ptr = NULL;                                                                                    \
    e = cudaMalloc((void **)&ptr, (size_t)(count) * sizeof(type));                                 \
    if (e != cudaSuccess) return e;                                                                \
  } while (0)

static cudaError_t ws_reserve(pk_yolo_ws *w, size_t cand, size_t nb, size_t ndet) {
  cudaError_t e = cudaSuccess;
  if (cand > w->cap_cand) {
    GROW(w->boxes, cand, float4);
    GROW(w->scores, cand, float);
    GROW(w->classes, cand, int);
    GROW(w->keys, cand, unsigned long long);
    GROW(w->keys_sorted, cand, unsigned long long);
    w->cap_cand = cand;
  }
  if (nb > w->cap_b) {
    GROW(w->cand_counts, nb, int);
    GROW(w->out_counts, nb, int);
    GROW(w->xf, nb, pk_xform);
    w->cap_b = nb;
  }
  if (ndet > w->cap_det) {
    GROW(w->out_dets, ndet, pk_det);
    w->cap_det = ndet;
  }
  size_t tmp = 0;
  e = cub::DeviceRadixSort::SortKeys(NULL, tmp, w->keys, w->keys_sorted, (int)cand);
  if (e != cudaSuccess) return e;
  if (tmp > w->cap_tmp) {
    GROW(w->tmp, tmp, char);
    w->cap_tmp = tmp;
  }
  return cudaSuccess;
}

static cudaError_t run(pk_yolo_ws *w, const pk_yolo_args *a, const pk_xform *xf, cudaStream_t s,
                       pk_det *dets, int32_t *counts) {
  size_t cand = (size_t)a->batch * (size_t)a->anchors;
  size_t ndet = (size_t)a->batch * (size_t)a->max_det;
  cudaError_t e = ws_reserve(w, cand, (size_t)a->batch, ndet);
  if (e != cudaSuccess) return e;
  if ((e = cudaMemsetAsync(w->cand_counts, 0, a->batch * sizeof(int), s)) != cudaSuccess) return e;
  e = cudaMemcpyAsync(w->xf, xf, a->batch * sizeof(pk_xform), cudaMemcpyHostToDevice, s);
  if (e != cudaSuccess) return e;
  int threads = 256;
  unsigned blocks = (unsigned)((cand + threads - 1) / threads);
  decode_kernel<<<blocks, threads, 0, s>>>(*a, w->boxes, w->scores, w->classes, w->keys,
                                           w->cand_counts);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  size_t tmp = w->cap_tmp;
  e = cub::DeviceRadixSort::SortKeys(w->tmp, tmp, w->keys, w->keys_sorted, (int)cand, 0, 64, s);
  if (e != cudaSuccess) return e;
  nms_kernel<<<a->batch, 512, (size_t)a->top_k, s>>>(*a, w->boxes, w->scores, w->classes,
                                                     w->keys_sorted, w->cand_counts, w->xf,
                                                     w->out_dets, w->out_counts);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  e = cudaMemcpyAsync(counts, w->out_counts, a->batch * sizeof(int32_t), cudaMemcpyDeviceToHost, s);
  if (e != cudaSuccess) return e;
  e = cudaMemcpyAsync(dets, w->out_dets, ndet * sizeof(pk_det), cudaMemcpyDeviceToHost, s);
  if (e != cudaSuccess) return e;
  return cudaStreamSynchronize(s);
}

extern "C" int pk_yolo_run(pk_yolo_ws *w, const pk_yolo_args *a, const pk_xform *xf, void *stream,
                           pk_det *dets, int32_t *counts, char *err, size_t errcap) {
  int prev = 0;
  cudaGetDevice(&prev);
  cudaError_t e = cudaSetDevice(w->device);
  if (e == cudaSuccess) e = run(w, a, xf, (cudaStream_t)stream, dets, counts);
  if (e != cudaSuccess && err)
    snprintf(err, errcap, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
  cudaSetDevice(prev);
  return (int)e;
}
