/* imgproc_overlay.cu - overlay kernel: paints primitives (rectangles, thick segments, glyphs)
 * on NV12 frames in one launch. Work is flattened over the 2x2 blocks of every primitive's
 * bounding box (a prefix sum finds a thread's primitive). A thread paints a luma pixel only
 * when no later primitive of the same frame covers it, and the block's chroma only when no
 * later primitive covers any of its four pixels, which gives exactly the in-order result of the
 * CPU twin without races. */
#include <cuda_runtime_api.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/imgproc_kernels.h"
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
    const vg_ip_prim *p = &prims[k];
    int bx0 = p->x0 >> 1, by0 = p->y0 >> 1, nbx = ((p->x1 - 1) >> 1) - bx0 + 1;
    int64_t local = t - prefix[k];
    int bx = bx0 + (int)(local % nbx), by = by0 + (int)(local / nbx);
    int mine[4], later[4] = {0, 0, 0, 0};
    for (int q = 0; q < 4; q++) {
      int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
      mine[q] = x < p->fw && y < p->fh && vg_ip_covers(p, x, y);
    }
    if (!(mine[0] | mine[1] | mine[2] | mine[3])) continue;
    for (int j = k + 1; j < p->frame_end; j++) {
      const vg_ip_prim *o = &prims[j];
      if (o->x1 <= 2 * bx || o->x0 > 2 * bx + 1 || o->y1 <= 2 * by || o->y0 > 2 * by + 1) continue;
      for (int q = 0; q < 4; q++) {
        int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
        if (!later[q] && x < p->fw && y < p->fh) later[q] = vg_ip_covers(o, x, y);
      }
    }
    for (int q = 0; q < 4; q++) {
      int x = 2 * bx + (q & 1), y = 2 * by + (q >> 1);
      if (mine[q] && !later[q]) p->py[(size_t)y * (size_t)p->pitch_y + x] = p->yuv[0];
    }
    if (!(later[0] | later[1] | later[2] | later[3])) {
      uint8_t *uv = p->puv + (size_t)by * (size_t)p->pitch_uv + (size_t)bx * 2;
      uv[0] = p->yuv[1];
      uv[1] = p->yuv[2];
    }
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
  prefix[0] = 0;
  for (int k = 0; k < n; k++) {
    const vg_ip_prim *p = &prims[k];
    int64_t nbx = ((p->x1 - 1) >> 1) - (p->x0 >> 1) + 1,
            nby = ((p->y1 - 1) >> 1) - (p->y0 >> 1) + 1;
    prefix[k + 1] = prefix[k] + nbx * nby;
  }
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
