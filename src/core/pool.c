/* pool.c - caching allocator for device, pinned-host and host memory.
 *
 * Requests are rounded up to a size class (256 bytes minimum, then four classes per power of
 * two, so at most 25% waste) and freed blocks are kept on per-class free lists for reuse.
 * cudaMalloc/cudaFree synchronise the device and are slow; a video pipeline allocating a few
 * fixed sizes per frame should hit the free lists after the first frames. */
#include "vidgraph/vg_core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NCLASSES (4 * 64)

typedef struct blk {
  void *ptr;
  struct blk *next;
} blk;

struct vg_pool {
  atomic_int refs;
  vg_pool_kind kind;
  vg_device dev;
  size_t max_cached;
  bool pinned_fallback; /* pinned requested but no CUDA: plain malloc */
  pthread_mutex_t mu;
  blk *free_lists[NCLASSES];
  vg_pool_stats st;
};

static int class_index(size_t bytes, size_t *rounded) {
  if (bytes <= 256) {
    *rounded = 256;
    return 0;
  }
  int k = 63 - __builtin_clzll((unsigned long long)bytes); /* 2^k <= bytes < 2^(k+1) */
  size_t base = (size_t)1 << k;
  size_t step = base / 4;
  size_t sub = (bytes - base + step - 1) / step; /* 0..4 */
  if (sub == 4) {
    k++;
    sub = 0;
    base <<= 1;
    step = base / 4;
  }
  *rounded = base + sub * step;
  return 4 * k + (int)sub;
}

size_t vg_pool_size_class(size_t bytes) {
  size_t r;
  class_index(bytes, &r);
  return r;
}

vg_status vg_pool_create(vg_pool_kind kind, vg_device dev, size_t max_cached, vg_pool **out) {
  *out = NULL;
  if (kind == VG_POOL_DEVICE && dev.kind != VG_DEVICE_CUDA)
    return vg_set_error(VG_ERR_INVALID_ARG, "a device pool needs a CUDA device, got cpu");
  vg_pool *p = calloc(1, sizeof *p);
  if (!p) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a pool");
  atomic_init(&p->refs, 1);
  p->kind = kind;
  p->dev = kind == VG_POOL_DEVICE ? dev : vg_cpu();
  p->max_cached = max_cached;
  pthread_mutex_init(&p->mu, NULL);
  if (kind == VG_POOL_DEVICE) {
    int n = 0;
    vg_cuda_device_count(&n);
    if (n == 0 || dev.ordinal >= n) {
      pthread_mutex_destroy(&p->mu);
      free(p);
      return vg_set_error(VG_ERR_DEVICE, "cannot create a pool on cuda:%d: %s", dev.ordinal,
                          n == 0 ? vg_cuda_unavailable_reason() : "no such device");
    }
  }
  if (kind == VG_POOL_PINNED) {
    int n = 0;
    vg_cuda_device_count(&n);
    if (n == 0) {
      p->pinned_fallback = true;
      VG_LOGW("core", "pinned host pool uses pageable memory: %s", vg_cuda_unavailable_reason());
    }
  }
  *out = p;
  return VG_OK;
}

static vg_status sys_alloc(vg_pool *p, size_t bytes, void **out) {
  if (p->kind == VG_POOL_DEVICE) return vg_mem_alloc(p->dev, bytes, out);
  if (p->kind == VG_POOL_PINNED && !p->pinned_fallback) return vg_mem_alloc_pinned(bytes, out);
  return vg_mem_alloc(vg_cpu(), bytes, out);
}

static void sys_free(vg_pool *p, void *ptr) {
  if (p->kind == VG_POOL_DEVICE)
    vg_mem_free(p->dev, ptr);
  else if (p->kind == VG_POOL_PINNED && !p->pinned_fallback)
    vg_mem_free_pinned(ptr);
  else
    free(ptr);
}

static void update_peak(vg_pool *p) {
  size_t total = p->st.bytes_in_use + p->st.bytes_cached;
  if (total > p->st.peak_bytes) p->st.peak_bytes = total;
}

vg_status vg_pool_alloc(vg_pool *p, size_t bytes, void **out) {
  *out = NULL;
  if (!p) return vg_set_error(VG_ERR_INVALID_ARG, "vg_pool_alloc: no pool");
  if (bytes > ((size_t)1 << 50))
    return vg_set_error(VG_ERR_INVALID_ARG, "allocation of %zu bytes is too large", bytes);
  size_t rounded;
  int ci = class_index(bytes, &rounded);
  pthread_mutex_lock(&p->mu);
  p->st.requests++;
  blk *b = p->free_lists[ci];
  if (b) {
    p->free_lists[ci] = b->next;
    p->st.hits++;
    p->st.bytes_cached -= rounded;
    p->st.bytes_in_use += rounded;
    pthread_mutex_unlock(&p->mu);
    *out = b->ptr;
    free(b);
    return VG_OK;
  }
  pthread_mutex_unlock(&p->mu);
  void *ptr = NULL;
  vg_status s = sys_alloc(p, rounded, &ptr);
  if (s != VG_OK) {
    /* Give cached memory back and try once more before failing. */
    vg_pool_trim(p, 0);
    s = sys_alloc(p, rounded, &ptr);
    if (s != VG_OK) return s;
  }
  pthread_mutex_lock(&p->mu);
  p->st.allocations++;
  p->st.bytes_in_use += rounded;
  update_peak(p);
  pthread_mutex_unlock(&p->mu);
  *out = ptr;
  return VG_OK;
}

void vg_pool_free(vg_pool *p, void *ptr, size_t bytes) {
  if (!p || !ptr) return;
  size_t rounded;
  int ci = class_index(bytes, &rounded);
  blk *b = malloc(sizeof *b);
  pthread_mutex_lock(&p->mu);
  VG_ASSERT(p->st.bytes_in_use >= rounded);
  p->st.bytes_in_use -= rounded;
  bool keep = b && (p->max_cached == 0 || p->st.bytes_cached + rounded <= p->max_cached);
  if (keep) {
    b->ptr = ptr;
    b->next = p->free_lists[ci];
    p->free_lists[ci] = b;
    p->st.bytes_cached += rounded;
  } else {
    p->st.frees_to_system++;
  }
  pthread_mutex_unlock(&p->mu);
  if (!keep) {
    free(b);
    sys_free(p, ptr);
  }
}

void vg_pool_trim(vg_pool *p, size_t keep_bytes) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  /* Free the largest classes first: they are the ones worth returning. */
  for (int ci = NCLASSES - 1; ci >= 0 && p->st.bytes_cached > keep_bytes; ci--) {
    while (p->free_lists[ci] && p->st.bytes_cached > keep_bytes) {
      blk *b = p->free_lists[ci];
      p->free_lists[ci] = b->next;
      size_t base = (size_t)1 << (ci / 4);
      size_t rounded = ci == 0 ? 256 : base + (size_t)(ci % 4) * (base / 4);
      p->st.bytes_cached -= rounded;
      p->st.frees_to_system++;
      sys_free(p, b->ptr);
      free(b);
    }
  }
  pthread_mutex_unlock(&p->mu);
}

void vg_pool_get_stats(vg_pool *p, vg_pool_stats *out) {
  pthread_mutex_lock(&p->mu);
  *out = p->st;
  pthread_mutex_unlock(&p->mu);
}

vg_device vg_pool_device(const vg_pool *p) {
  return p->dev;
}

vg_pool_kind vg_pool_get_kind(const vg_pool *p) {
  return p->kind;
}

vg_pool *vg_pool_ref(vg_pool *p) {
  if (p) {
    int old = atomic_fetch_add(&p->refs, 1);
    VG_ASSERT(old > 0);
    (void)old;
  }
  return p;
}

void vg_pool_unref(vg_pool *p) {
  if (!p) return;
  int old = atomic_fetch_sub(&p->refs, 1);
  VG_ASSERT(old > 0);
  (void)old;
  if (old != 1) return;
  vg_pool_trim(p, 0);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
