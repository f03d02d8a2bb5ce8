/* frameset.c - the bounded set of output frames of one source: device frames for NVDEC, host
 * frames for the CPU decoder and images. Memory comes from a caching vg_pool; the bound (frames
 * alive at once, whether queued or held by the caller) is what keeps a slow consumer from
 * growing memory: the decoder waits for a frame to come back instead. */
#include "video_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct vgv_frameset {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int refs; /* the owner + one per frame alive */
  int max_frames;
  int in_use;
  bool canceled;
  vg_pool *pool;
};

typedef struct slot {
  vgv_frameset *fs;
  size_t bytes;
} slot;

vg_status vgv_frameset_create(vg_device dev, int max_frames, vgv_frameset **out) {
  *out = NULL;
  if (max_frames < 1 || max_frames > 1024)
    return vg_set_error(VG_ERR_INVALID_ARG, "output_frames %d outside 1..1024", max_frames);
  vgv_frameset *fs = calloc(1, sizeof *fs);
  if (!fs) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a frame set");
  vg_status st =
      vg_pool_create(dev.kind == VG_DEVICE_CUDA ? VG_POOL_DEVICE : VG_POOL_HOST, dev, 0, &fs->pool);
  if (st != VG_OK) {
    free(fs);
    return st;
  }
  pthread_mutex_init(&fs->mu, NULL);
  pthread_cond_init(&fs->cv, NULL);
  atomic_init(&fs->refs, 1);
  fs->max_frames = max_frames;
  *out = fs;
  return VG_OK;
}

static void frameset_drop(vgv_frameset *fs) {
  if (atomic_fetch_sub(&fs->refs, 1) != 1) return;
  vg_pool_unref(fs->pool);
  pthread_mutex_destroy(&fs->mu);
  pthread_cond_destroy(&fs->cv);
  free(fs);
}

void vgv_frameset_unref(vgv_frameset *fs) {
  if (fs) frameset_drop(fs);
}

void vgv_frameset_cancel(vgv_frameset *fs) {
  pthread_mutex_lock(&fs->mu);
  fs->canceled = true;
  pthread_cond_broadcast(&fs->cv);
  pthread_mutex_unlock(&fs->mu);
}

int vgv_frameset_in_use(vgv_frameset *fs) {
  pthread_mutex_lock(&fs->mu);
  int n = fs->in_use;
  pthread_mutex_unlock(&fs->mu);
  return n;
}

vg_device vgv_frameset_device(vgv_frameset *fs) {
  return vg_pool_device(fs->pool);
}

static void slot_release(void *ctx, void *data, size_t bytes, vg_device dev) {
  (void)dev;
  slot *s = ctx;
  vgv_frameset *fs = s->fs;
  vg_pool_free(fs->pool, data, s->bytes);
  free(s);
  pthread_mutex_lock(&fs->mu);
  fs->in_use--;
  pthread_cond_signal(&fs->cv);
  pthread_mutex_unlock(&fs->mu);
  frameset_drop(fs);
  (void)bytes;
}

static vg_status wait_slot(vgv_frameset *fs) {
  pthread_mutex_lock(&fs->mu);
  while (!fs->canceled && fs->in_use >= fs->max_frames)
    pthread_cond_wait(&fs->cv, &fs->mu);
  if (fs->canceled) {
    pthread_mutex_unlock(&fs->mu);
    return vg_set_error(VG_ERR_CANCELED, "source closed");
  }
  fs->in_use++;
  pthread_mutex_unlock(&fs->mu);
  return VG_OK;
}

static void give_back_slot(vgv_frameset *fs) {
  pthread_mutex_lock(&fs->mu);
  fs->in_use--;
  pthread_cond_signal(&fs->cv);
  pthread_mutex_unlock(&fs->mu);
}

/* The layout vg_frame_alloc uses: planes one after the other, pitches rounded to 256 bytes. */
static vg_status layout(vg_pixfmt fmt, int width, int height, vg_frame *f, size_t *bytes) {
  memset(f, 0, sizeof *f);
  if ((int)fmt < 0 || fmt >= VG_PIX_COUNT_)
    return vg_set_error(VG_ERR_INVALID_ARG, "unsupported pixel format %d", (int)fmt);
  if (width <= 0 || height <= 0 || width > 32768 || height > 32768)
    return vg_set_error(VG_ERR_INVALID_ARG, "frame size %dx%d outside 1..32768", width, height);
  f->format = fmt;
  f->width = width;
  f->height = height;
  f->nplanes = fmt == VG_PIX_NV12 ? 2 : 1;
  f->pts = INT64_MIN;
  f->tb_num = 1;
  f->tb_den = 1;
  size_t total = 0;
  for (int p = 0; p < f->nplanes; p++) {
    size_t pitch = (vg_frame_plane_width_bytes(f, p) + 255) & ~(size_t)255;
    f->pitch[p] = (int)pitch;
    f->plane_offset[p] = total;
    total += pitch * (size_t)vg_frame_plane_rows(f, p);
  }
  *bytes = total;
  return VG_OK;
}

vg_status vgv_frameset_get(vgv_frameset *fs, vg_pixfmt fmt, int width, int height, vg_frame *out) {
  memset(out, 0, sizeof *out);
  vg_frame f;
  size_t bytes = 0;
  VG_TRY(layout(fmt, width, height, &f, &bytes));
  VG_TRY(wait_slot(fs));
  void *mem = NULL;
  slot *s = malloc(sizeof *s);
  vg_status st = s ? vg_pool_alloc(fs->pool, bytes, &mem)
                   : vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a frame slot");
  if (st == VG_OK) {
    s->fs = fs;
    s->bytes = bytes;
    atomic_fetch_add(&fs->refs, 1);
    st = vg_buffer_wrap(vg_pool_device(fs->pool), mem, bytes, slot_release, s, &f.buffer);
    if (st != VG_OK) atomic_fetch_sub(&fs->refs, 1);
  }
  if (st != VG_OK) {
    if (mem) vg_pool_free(fs->pool, mem, bytes);
    free(s);
    give_back_slot(fs);
    return st;
  }
  *out = f;
  return VG_OK;
}
