/* imgproc_overlay.cu - overlay kernel: paints primitives (rectangles, thick segments, glyphs)
 * on NV12 frames in one launch. Work is flattened over the 2x2 blocks of every primitive's
 * bounding box (a prefix sum finds a thread's primitive); the work of one thread is
 * vg_ip_overlay_block (imgproc_math.h), which paints only what no later primitive covers, so the
 * result equals the CPU twin's in-order painting without races. */
#include <cuda_runtime_api.h>
#include <stdlib.h>
#include <string.h>

#include "imgproc/cuda/imgproc_kernels.h"
#include "imgproc/imgproc_math.h"

#define THREADS 256

__device__ static int find_prim(const int64_t *prefix, int n, int64_t t) {
  int lo = 0, hi = n - 1; /* largest k with prefix[k] <= t */
  while (lo < hi) {
    int mid = (lo + hi + 1) >> 1;
    if (prefix[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

__global__ void __launch_bounds__(THREADS)
    overlay_kernel(const vg_ip_prim *prims, const int64_t *prefix, int n) {
  int64_t total = prefix[n];
  for (int64_t t = (int64_t)blockIdx.x * THREADS + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * THREADS) {
    int k = find_prim(prefix, n, t);
    vg_ip_overlay_block(prims, k, t - prefix[k]);
  }
}

extern "C" vg_status vg_ipk_overlay(const vg_ip_prim *prims, int n, int device, void *stream) {
  VG_TRY(vg_ipk_use_device(device, "overlay"));
  /* one upload: primitives, then the prefix sums of their block counts */
  size_t pbytes = (size_t)n * sizeof *prims, bytes = pbytes + (size_t)(n + 1) * sizeof(int64_t);
  char *host = (char *)malloc(bytes);
  if (!host) return vg_set_error(VG_ERR_NO_MEMORY, "imgproc overlay: out of memory");
  memcpy(host, prims, pbytes);
  int64_t *prefix = (int64_t *)(host + pbytes);
  vg_ip_overlay_prefix(prims, n, prefix);
  int64_t total = prefix[n];
  void *dev = NULL;
  vg_status st = vg_ipk_upload(host, bytes, stream, &dev, "overlay");
  free(host);
  if (st != VG_OK) return st;
  int64_t blocks = (total + THREADS - 1) / THREADS;
  unsigned grid = (unsigned)(blocks < (1 << 20) ? (blocks > 0 ? blocks : 1) : (1 << 20));
  overlay_kernel<<<grid, THREADS, 0, (cudaStream_t)stream>>>(
      (const vg_ip_prim *)dev, (const int64_t *)((char *)dev + pbytes), n);
  return vg_ipk_finish(dev, stream, device, "overlay");
}
