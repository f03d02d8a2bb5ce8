/* post_dbnet.cu - DBNet probability map -> text rectangles on the device: threshold, 8-connected
 * labelling by union-find (each region's root is its first pixel in raster order, as the CPU's
 * scan finds it), region numbers by a prefix sum over the roots, per-row extreme x of the first
 * max_candidates regions, then per region the hull, min-area rectangle, fixed-point box score,
 * unclip and the second rectangle with the post_text.h functions the CPU twin uses. Only the kept
 * rectangles (a few dozen bytes each) are copied to the host. CPU twin: src/post/dbnet.c. */
#include <cub/cub.cuh>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "post_text.h"

struct pt_db_ws {
  int device;
  size_t cap_px, cap_c, cap_tmp;
  int32_t *parent, *flags, *rank;                /* per pixel */
  int32_t *rmin, *rmax;                          /* per region row, <= pixels */
  pt_pt *pts, *hull;                             /* 2 and 4 per region row (+1 per region) */
  int32_t *ylo, *yhi, *height, *off, *ok, *keep; /* per region (< max_candidates) */
  pt_pt *q;                                      /* 4 per region */
  pt_scorebox *sb;
  unsigned long long *sum, *cnt;
  pt_db_box *box, *kept;
  int32_t *counts; /* [0] kept, [1] regions */
  void *tmp;
};

extern "C" pt_db_ws *pt_db_ws_create(int device) {
  pt_db_ws *w = (pt_db_ws *)calloc(1, sizeof *w);
  if (w) w->device = device;
  return w;
}

static void free_px(pt_db_ws *w) {
  cudaFree(w->parent), cudaFree(w->flags), cudaFree(w->rank), cudaFree(w->rmin);
  cudaFree(w->rmax), cudaFree(w->pts), cudaFree(w->hull);
  w->parent = w->flags = w->rank = w->rmin = w->rmax = NULL;
  w->pts = w->hull = NULL;
  w->cap_px = 0;
}

static void free_c(pt_db_ws *w) {
  cudaFree(w->ylo), cudaFree(w->yhi), cudaFree(w->height), cudaFree(w->off), cudaFree(w->ok);
  cudaFree(w->keep), cudaFree(w->q), cudaFree(w->sb), cudaFree(w->sum), cudaFree(w->cnt);
  cudaFree(w->box), cudaFree(w->kept), cudaFree(w->counts);
  w->ylo = w->yhi = w->height = w->off = w->ok = w->keep = w->counts = NULL;
  w->q = NULL, w->sb = NULL, w->sum = w->cnt = NULL, w->box = w->kept = NULL;
  w->cap_c = 0;
}

extern "C" void pt_db_ws_destroy(pt_db_ws *w) {
  if (!w) return;
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(w->device);
  free_px(w);
  free_c(w);
  cudaFree(w->tmp);
  cudaSetDevice(prev);
  free(w);
}

__device__ __forceinline__ float db_load(const pt_db_args &a, int x, int y) {
  int64_t off = (int64_t)y * a.sy + (int64_t)x * a.sx;
  if (a.f16) return __half2float(((const __half *)a.data)[off]);
  return ((const float *)a.data)[off];
}

__global__ void k_db_init(pt_db_args a, int32_t *parent) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (int64_t)a.w * a.h) return;
  int x = (int)(i % a.w), y = (int)(i / a.w);
  parent[i] = db_load(a, x, y) > a.thresh ? (int32_t)i : -1;
}

/* The root of i, splitting the path on the way (each visited node is pointed at its grandparent
 * with atomicMin: pointers only ever move to a smaller ancestor of the same tree, so this is safe
 * while other threads link roots). Keeps long chains (a pixel run linked left to right) short. */
__device__ __forceinline__ int32_t db_find(int32_t *parent, int32_t i) {
  int32_t p = parent[i];
  while (p != i) {
    int32_t gp = parent[p];
    if (gp != p) atomicMin(&parent[i], gp);
    i = p;
    p = gp;
  }
  return i;
}

/* Links the trees of a and b, the larger root under the smaller (roots stay the minima). */
__device__ void db_union(int32_t *parent, int32_t a, int32_t b) {
  bool done = false;
  while (!done) {
    a = db_find(parent, a);
    b = db_find(parent, b);
    if (a < b) {
      int32_t old = atomicMin(&parent[b], a);
      done = old == b;
      b = old;
    } else if (b < a) {
      int32_t old = atomicMin(&parent[a], b);
      done = old == a;
      a = old;
    } else {
      done = true;
    }
  }
}

__global__ void k_db_union(int w, int h, int32_t *parent) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (int64_t)w * h || parent[i] < 0) return;
  int x = (int)(i % w), y = (int)(i / w);
  if (x > 0 && parent[i - 1] >= 0) db_union(parent, (int32_t)i, (int32_t)(i - 1));
  if (y > 0) {
    int64_t u = i - w;
    if (parent[u] >= 0) db_union(parent, (int32_t)i, (int32_t)u);
    if (x > 0 && parent[u - 1] >= 0) db_union(parent, (int32_t)i, (int32_t)(u - 1));
    if (x + 1 < w && parent[u + 1] >= 0) db_union(parent, (int32_t)i, (int32_t)(u + 1));
  }
}

__global__ void k_db_flatten(int64_t npx, int32_t *parent, int32_t *flags) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= npx) return;
  int32_t p = parent[i];
  if (p >= 0) {
    p = db_find(parent, (int32_t)i);
    parent[i] = p;
  }
  flags[i] = p == (int32_t)i;
}

/* Regions seen (capped at maxc), and per-region defaults. */
__global__ void k_db_regions(int64_t npx, const int32_t *flags, const int32_t *rank, int maxc,
                             int32_t *counts, int32_t *ylo, int32_t *yhi) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c == 0) {
    int64_t n = (int64_t)rank[npx - 1] + flags[npx - 1];
    counts[1] = (int32_t)(n < maxc ? n : maxc);
    counts[0] = 0;
  }
  if (c < maxc) ylo[c] = INT_MAX, yhi[c] = -1;
}

__global__ void k_db_span(int w, int64_t npx, const int32_t *parent, const int32_t *rank, int maxc,
                          int32_t *ylo, int32_t *yhi) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= npx || parent[i] < 0) return;
  int32_t c = rank[parent[i]];
  if (c >= maxc) return;
  int y = (int)(i / w);
  if (parent[i] == (int32_t)i) ylo[c] = y; /* the root is the region's first pixel */
  atomicMax(&yhi[c], y);
}

__global__ void k_db_heights(int maxc, const int32_t *counts, const int32_t *ylo,
                             const int32_t *yhi, int32_t *height) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= maxc) return;
  height[c] = c < counts[1] ? yhi[c] - ylo[c] + 1 : 0;
}

__global__ void k_db_fill_rows(int64_t n, int32_t *rmin, int32_t *rmax) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  rmin[i] = INT_MAX;
  rmax[i] = -1;
}

__global__ void k_db_rows(int w, int64_t npx, const int32_t *parent, const int32_t *rank, int maxc,
                          const int32_t *ylo, const int32_t *off, int32_t *rmin, int32_t *rmax) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= npx || parent[i] < 0) return;
  int32_t c = rank[parent[i]];
  if (c >= maxc) return;
  int x = (int)(i % w), y = (int)(i / w);
  int64_t r = (int64_t)off[c] + (y - ylo[c]);
  atomicMin(&rmin[r], x);
  atomicMax(&rmax[r], x);
}

/* Per region: hull of the row extremes, rectangle, min_size check, score window. */
__global__ void k_db_rect(pt_db_args a, const int32_t *counts, const int32_t *ylo,
                          const int32_t *height, const int32_t *off, const int32_t *rmin,
                          const int32_t *rmax, pt_pt *pts, pt_pt *hull, pt_pt *q, int32_t *ok,
                          pt_scorebox *sb, unsigned long long *sum, unsigned long long *cnt) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= counts[1]) return;
  int64_t o = off[c];
  pt_pt *hc = hull + 4 * o + c;
  int m = pt_hull_rows(rmin + o, rmax + o, ylo[c], height[c], pts + 2 * o, hc);
  pt_pt r[4];
  double side = pt_mini_box(hc, m, r);
  ok[c] = !(side < (double)a.min_size);
  for (int k = 0; k < 4; k++)
    q[4 * c + k] = r[k];
  pt_score_box(r, a.w, a.h, &sb[c]);
  sum[c] = 0;
  cnt[c] = 0;
}

/* One block per region: fixed-point sum of the map inside its rectangle. */
__global__ void k_db_score(pt_db_args a, const int32_t *counts, const int32_t *ok,
                           const pt_scorebox *sbs, unsigned long long *sum,
                           unsigned long long *cnt) {
  int c = blockIdx.x;
  if (c >= counts[1] || !ok[c]) return;
  pt_scorebox sb = sbs[c];
  int bw = sb.x1 - sb.x0 + 1, bh = sb.y1 - sb.y0 + 1;
  int64_t n = (int64_t)bw * bh;
  long long s = 0, k = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    int x = sb.x0 + (int)(i % bw), y = sb.y0 + (int)(i / bw);
    if (pt_score_inside(&sb, x, y)) {
      s += pt_score_fix(db_load(a, x, y));
      k++;
    }
  }
  typedef cub::BlockReduce<long long, 256> R;
  __shared__ typename R::TempStorage t1, t2;
  long long ts = R(t1).Sum(s), tk = R(t2).Sum(k);
  if (threadIdx.x == 0) {
    atomicAdd(&sum[c], (unsigned long long)ts); /* two's complement: exact in any order */
    atomicAdd(&cnt[c], (unsigned long long)tk);
  }
}

/* Per region: score threshold, unclip, second rectangle. */
__global__ void k_db_final(pt_db_args a, const int32_t *counts, const int32_t *ok, const pt_pt *q,
                           const unsigned long long *sum, const unsigned long long *cnt,
                           pt_db_box *box, int32_t *keep) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= counts[1]) return;
  keep[c] = 0;
  if (!ok[c]) return;
  float score = pt_score_mean((int64_t)sum[c], (int64_t)cnt[c]);
  if (score < a.box_thresh) return;
  pt_pt g[4], hl[9], q2[4];
  pt_unclip(q + 4 * c, a.unclip_ratio, g);
  pt_sort_xy(g, 4);
  int m = pt_hull_sorted(g, 4, hl);
  if (pt_mini_box(hl, m, q2) < (double)(a.min_size + 2.f)) return;
  pt_db_box b;
  for (int k = 0; k < 4; k++)
    b.q[k] = q2[k];
  b.score = score;
  b.region = c;
  box[c] = b;
  keep[c] = 1;
}

/* Kept boxes in region order, and their count. */
__global__ void k_db_compact(int32_t *counts, const int32_t *keep, const pt_db_box *box,
                             pt_db_box *kept) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  int n = 0;
  for (int c = 0; c < counts[1]; c++)
    if (keep[c]) kept[n++] = box[c];
  counts[0] = n;
}

#define CK(x)                                                                                      \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      snprintf(err, errcap, "%s: %s", #x, cudaGetErrorString(e_));                                 \
      return (int)e_;                                                                              \
    }                                                                                              \
  } while (0)

static cudaError_t grow(pt_db_ws *w, size_t npx, size_t maxc) {
  cudaError_t e = cudaSuccess;
  if (npx > w->cap_px) {
    free_px(w);
#define AL(p, n) (e == cudaSuccess ? (e = cudaMalloc((void **)&w->p, (n) * sizeof *w->p)) : e)
    AL(parent, npx), AL(flags, npx), AL(rank, npx), AL(rmin, npx), AL(rmax, npx);
    AL(pts, 2 * npx), AL(hull, 4 * npx + npx);
    if (e != cudaSuccess) {
      free_px(w);
      return e;
    }
    w->cap_px = npx;
  }
  if (maxc > w->cap_c) {
    free_c(w);
    AL(ylo, maxc), AL(yhi, maxc), AL(height, maxc), AL(off, maxc), AL(ok, maxc), AL(keep, maxc);
    AL(q, 4 * maxc), AL(sb, maxc), AL(sum, maxc), AL(cnt, maxc), AL(box, maxc), AL(kept, maxc);
    AL(counts, 2);
#undef AL
    if (e != cudaSuccess) {
      free_c(w);
      return e;
    }
    w->cap_c = maxc;
  }
  return e;
}

extern "C" int pt_db_run(pt_db_ws *w, const pt_db_args *a, void *stream, pt_db_box **out,
                         size_t *cap, int *nout, int *nregions, char *err, size_t errcap) {
  cudaStream_t s = (cudaStream_t)stream;
  *nout = 0;
  *nregions = 0;
  CK(cudaSetDevice(w->device));
  int64_t npx = (int64_t)a->w * a->h;
  int maxc = a->max_candidates < 1              ? 0
             : (int64_t)a->max_candidates < npx ? a->max_candidates
                                                : (int)npx;
  if (maxc == 0) return 0;
  CK(grow(w, (size_t)npx, (size_t)maxc));
  size_t t1 = 0, t2 = 0;
  CK(cub::DeviceScan::ExclusiveSum(NULL, t1, w->flags, w->rank, (int)npx));
  CK(cub::DeviceScan::ExclusiveSum(NULL, t2, w->height, w->off, maxc));
  size_t tmp = t1 > t2 ? t1 : t2;
  if (tmp > w->cap_tmp) {
    cudaFree(w->tmp);
    w->tmp = NULL, w->cap_tmp = 0;
    CK(cudaMalloc(&w->tmp, tmp));
    w->cap_tmp = tmp;
  }
  const int T = 256;
  unsigned gp = (unsigned)((npx + T - 1) / T), gc = (unsigned)((maxc + T - 1) / T);
  k_db_init<<<gp, T, 0, s>>>(*a, w->parent);
  k_db_union<<<gp, T, 0, s>>>(a->w, a->h, w->parent);
  k_db_flatten<<<gp, T, 0, s>>>(npx, w->parent, w->flags);
  CK(cudaGetLastError());
  CK(cub::DeviceScan::ExclusiveSum(w->tmp, tmp, w->flags, w->rank, (int)npx, s));
  k_db_regions<<<gc, T, 0, s>>>(npx, w->flags, w->rank, maxc, w->counts, w->ylo, w->yhi);
  k_db_span<<<gp, T, 0, s>>>(a->w, npx, w->parent, w->rank, maxc, w->ylo, w->yhi);
  k_db_heights<<<gc, T, 0, s>>>(maxc, w->counts, w->ylo, w->yhi, w->height);
  CK(cudaGetLastError());
  CK(cub::DeviceScan::ExclusiveSum(w->tmp, tmp, w->height, w->off, maxc, s));
  k_db_fill_rows<<<gp, T, 0, s>>>(npx, w->rmin, w->rmax);
  k_db_rows<<<gp, T, 0, s>>>(a->w, npx, w->parent, w->rank, maxc, w->ylo, w->off, w->rmin, w->rmax);
  k_db_rect<<<gc, T, 0, s>>>(*a, w->counts, w->ylo, w->height, w->off, w->rmin, w->rmax, w->pts,
                             w->hull, w->q, w->ok, w->sb, w->sum, w->cnt);
  k_db_score<<<(unsigned)maxc, 256, 0, s>>>(*a, w->counts, w->ok, w->sb, w->sum, w->cnt);
  k_db_final<<<gc, T, 0, s>>>(*a, w->counts, w->ok, w->q, w->sum, w->cnt, w->box, w->keep);
  k_db_compact<<<1, 1, 0, s>>>(w->counts, w->keep, w->box, w->kept);
  CK(cudaGetLastError());
  int32_t counts[2];
  CK(cudaMemcpyAsync(counts, w->counts, sizeof counts, cudaMemcpyDeviceToHost, s));
  CK(cudaStreamSynchronize(s));
  *nregions = counts[1];
  if (counts[0] > 0) {
    if ((size_t)counts[0] > *cap) {
      pt_db_box *nb = (pt_db_box *)realloc(*out, (size_t)counts[0] * sizeof *nb);
      if (!nb) {
        snprintf(err, errcap, "host out of memory for %d boxes", counts[0]);
        return -1;
      }
      *out = nb, *cap = (size_t)counts[0];
    }
    CK(cudaMemcpyAsync(*out, w->kept, (size_t)counts[0] * sizeof(pt_db_box), cudaMemcpyDeviceToHost,
                       s));
    CK(cudaStreamSynchronize(s));
  }
  *nout = counts[0];
  return 0;
}
