/* buffer.c - reference-counted bytes on a device, from a pool, raw allocation, or wrapped. */
#include "vidgraph/vg_core.h"

#include <stdatomic.h>
#include <stdlib.h>

#define BUFFER_MAGIC 0x76674246u /* "vgBF" */
#define BUFFER_DEAD 0xdeadbf00u

struct vg_buffer {
  unsigned magic;
  atomic_int refs;
  vg_device dev;
  void *data;
  size_t size;
  vg_pool *pool;         /* when from a pool */
  vg_release_fn release; /* when wrapped */
  void *release_ctx;
  bool owned; /* raw vg_mem_alloc */
};

vg_status vg_buffer_alloc(vg_device dev, size_t bytes, vg_pool *pool, vg_buffer **out) {
  *out = NULL;
  vg_buffer *b = calloc(1, sizeof *b);
  if (!b) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a buffer");
  vg_status s;
  if (pool) {
    vg_device pd = vg_pool_device(pool);
    if (!vg_device_eq(pd, dev)) {
      free(b);
      char a[16], c[16];
      return vg_set_error(VG_ERR_INVALID_ARG, "buffer for %s asked from a pool on %s",
                          vg_device_str(dev, a, sizeof a), vg_device_str(pd, c, sizeof c));
    }
    s = vg_pool_alloc(pool, bytes, &b->data);
    if (s == VG_OK) b->pool = vg_pool_ref(pool);
  } else {
    s = vg_mem_alloc(dev, bytes, &b->data);
    b->owned = true;
  }
  if (s != VG_OK) {
    free(b);
    return s;
  }
  b->magic = BUFFER_MAGIC;
  atomic_init(&b->refs, 1);
  b->dev = dev;
  b->size = bytes;
  *out = b;
  return VG_OK;
}

vg_status vg_buffer_wrap(vg_device dev, void *data, size_t bytes, vg_release_fn release, void *ctx,
                         vg_buffer **out) {
  *out = NULL;
  if (!data && bytes) return vg_set_error(VG_ERR_INVALID_ARG, "vg_buffer_wrap: NULL data");
  vg_buffer *b = calloc(1, sizeof *b);
  if (!b) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a buffer");
  b->magic = BUFFER_MAGIC;
  atomic_init(&b->refs, 1);
  b->dev = dev;
  b->data = data;
  b->size = bytes;
  b->release = release;
  b->release_ctx = ctx;
  *out = b;
  return VG_OK;
}

vg_buffer *vg_buffer_ref(vg_buffer *b) {
  if (!b) return NULL;
  VG_ASSERT(b->magic == BUFFER_MAGIC);
  int old = atomic_fetch_add(&b->refs, 1);
  VG_ASSERT(old > 0);
  (void)old;
  return b;
}

void vg_buffer_unref(vg_buffer *b) {
  if (!b) return;
  VG_ASSERT(b->magic == BUFFER_MAGIC);
  int old = atomic_fetch_sub(&b->refs, 1);
  VG_ASSERT(old > 0);
  (void)old;
  if (old != 1) return;
  if (b->pool) {
    vg_pool_free(b->pool, b->data, b->size);
    vg_pool_unref(b->pool);
  } else if (b->owned) {
    vg_mem_free(b->dev, b->data);
  } else if (b->release) {
    b->release(b->release_ctx, b->data, b->size, b->dev);
  }
  b->magic = BUFFER_DEAD;
  free(b);
}

void *vg_buffer_data(const vg_buffer *b) {
  return b ? b->data : NULL;
}

size_t vg_buffer_size(const vg_buffer *b) {
  return b ? b->size : 0;
}

vg_device vg_buffer_device(const vg_buffer *b) {
  return b ? b->dev : vg_cpu();
}

int vg_buffer_refcount(const vg_buffer *b) {
  return b ? atomic_load(&((vg_buffer *)b)->refs) : 0;
}
