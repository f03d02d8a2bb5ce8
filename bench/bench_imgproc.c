/* bench_imgproc.c - GPU benchmark of the imgproc kernels (not a test): batched 1080p NV12 ->
 * 640x640 letterboxed f16 NCHW at batch 1, 8, 32; 4K tiles (640x640, overlap 64, + global
 * view); 64 ROI crops per 1080p frame (height 48, variable width, PP-OCR normalisation). For
 * each: GPU time per call (CUDA events, mean over --iters after warm-up), time per frame,
 * achieved bytes/s (bytes read + bytes written) and the same figure for a device-to-device
 * cudaMemcpy of (read + written) / 2 bytes measured in the same run. Prints a table, then one
 * line "RESULT: {json}". Usage: bench_imgproc [--iters N] [--device K]. Exit 77 without GPU. */
#include "vidgraph/vg_imgproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
  char name[48];
  int frames, items;
  double ms, host_us, bytes, gbps, copy_gbps;
} row;

static vg_device g_dev;
static vg_stream g_s;
static int g_iters = 50;

#define CHECK(expr)                                                                                \
  do {                                                                                             \
    vg_status st_ = (expr);                                                                        \
    if (st_ != VG_OK) {                                                                            \
      fprintf(stderr, "bench_imgproc: %s failed: %s\n", #expr, vg_last_error());                   \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* A device NV12 frame with a smooth pattern plus noise (content does not change the timing much
 * but keeps the reads honest). */
static vg_frame make_frame(int w, int h, unsigned seed) {
  vg_frame host, dev;
  CHECK(vg_frame_alloc(VG_PIX_NV12, w, h, vg_cpu(), NULL, 0, &host));
  for (int p = 0; p < 2; p++) {
    uint8_t *d = vg_frame_plane(&host, p);
    for (int y = 0; y < vg_frame_plane_rows(&host, p); y++)
      for (size_t x = 0; x < vg_frame_plane_width_bytes(&host, p); x++) {
        seed = seed * 1103515245u + 12345u;
        d[(size_t)y * host.pitch[p] + x] = (uint8_t)((x + y) / 4 + (seed >> 28));
      }
  }
  host.colorspace = VG_CS_BT709;
  CHECK(vg_frame_to_device(&host, g_dev, NULL, g_s, &dev));
  CHECK(vg_stream_sync(g_s));
  vg_frame_release(&host);
  return dev;
}

typedef vg_status (*op_fn)(void *ctx);

/* Mean GPU milliseconds per call of fn (events around g_iters calls) and host microseconds. */
static double time_op(op_fn fn, void *ctx, double *host_us) {
  for (int i = 0; i < 3; i++)
    CHECK(fn(ctx));
  vg_event a, b;
  CHECK(vg_event_create(g_dev, true, &a));
  CHECK(vg_event_create(g_dev, true, &b));
  CHECK(vg_stream_sync(g_s));
  int64_t t0 = vg_now_ns();
  CHECK(vg_event_record(a, g_s));
  for (int i = 0; i < g_iters; i++)
    CHECK(fn(ctx));
  CHECK(vg_event_record(b, g_s));
  int64_t t1 = vg_now_ns();
  CHECK(vg_event_sync(b));
  float ms;
  CHECK(vg_event_elapsed_ms(a, b, &ms));
  vg_event_destroy(a);
  vg_event_destroy(b);
  if (host_us) *host_us = (double)(t1 - t0) / 1e3 / g_iters;
  return ms / g_iters;
}

typedef struct copy_ctx {
  void *src, *dst;
  size_t bytes;
} copy_ctx;

static vg_status copy_op(void *c) {
  copy_ctx *k = c;
  return vg_memcpy_async(k->dst, g_dev, k->src, g_dev, k->bytes, g_s);
}

/* GB/s of a device-to-device copy moving (read + written) = 2 * bytes. */
static double copy_gbps(size_t bytes) {
  copy_ctx k = {NULL, NULL, bytes};
  CHECK(vg_mem_alloc(g_dev, bytes, &k.src));
  CHECK(vg_mem_alloc(g_dev, bytes, &k.dst));
  CHECK(vg_memset_async(k.src, g_dev, 1, bytes, g_s));
  double ms = time_op(copy_op, &k, NULL);
  vg_mem_free(g_dev, k.src);
  vg_mem_free(g_dev, k.dst);
  return 2.0 * bytes / (ms * 1e6);
}

static void finish_row(row *r, op_fn fn, void *ctx, double bytes) {
  r->ms = time_op(fn, ctx, &r->host_us);
  r->bytes = bytes;
  r->gbps = bytes / (r->ms * 1e6);
  r->copy_gbps = copy_gbps((size_t)(bytes / 2));
}

/* ----------------------------------------------------------------- the three operations */

typedef struct pre_ctx {
  vg_frame *frames;
  int n;
  vg_tensor out;
  vg_tensor_params tp;
  vg_tile_params tiles;
  vg_roi *rois;
  int nrois;
  vg_crop_params cp;
} pre_ctx;

static vg_status pre_op(void *c) {
  pre_ctx *k = c;
  return vg_preprocess(k->frames, k->n, VG_FIT_LETTERBOX, &k->tp, VG_LAYOUT_NCHW, &k->out, NULL,
                       g_s);
}

static vg_status tiles_op(void *c) {
  pre_ctx *k = c;
  return vg_preprocess_tiles(k->frames, k->n, &k->tiles, &k->tp, VG_LAYOUT_NCHW, &k->out, NULL,
                             NULL, g_s);
}

static vg_status crop_op(void *c) {
  pre_ctx *k = c;
  return vg_crop(k->frames, k->n, k->rois, k->nrois, &k->cp, &k->tp, VG_LAYOUT_NCHW, &k->out, NULL,
                 NULL, g_s);
}

static row bench_preprocess(int batch, vg_frame *frames) {
  row r = {.frames = batch, .items = batch};
  snprintf(r.name, sizeof r.name, "preprocess 1080p->640 f16 b%d", batch);
  pre_ctx k = {.frames = frames, .n = batch, .tp = vg_tensor_params_default()};
  int64_t shape[4] = {batch, 3, 640, 640};
  CHECK(vg_tensor_alloc(VG_DTYPE_F16, 4, shape, g_dev, NULL, &k.out));
  double bytes = batch * (1920.0 * 1080 * 1.5) + (double)vg_tensor_nbytes(&k.out);
  finish_row(&r, pre_op, &k, bytes);
  vg_tensor_release(&k.out);
  return r;
}

static row bench_tiles(int batch, vg_frame *frames4k) {
  row r = {.frames = batch};
  pre_ctx k = {.frames = frames4k, .n = batch, .tp = vg_tensor_params_default()};
  k.tiles = (vg_tile_params){640, 640, 64, true};
  int per;
  CHECK(vg_tile_grid(3840, 2160, &k.tiles, NULL, 0, &per));
  r.items = per * batch;
  snprintf(r.name, sizeof r.name, "tiles 4K->%dx640 f16 b%d", per, batch);
  int64_t shape[4] = {r.items, 3, 640, 640};
  CHECK(vg_tensor_alloc(VG_DTYPE_F16, 4, shape, g_dev, NULL, &k.out));
  double bytes = batch * (3840.0 * 2160 * 1.5) + (double)vg_tensor_nbytes(&k.out);
  finish_row(&r, tiles_op, &k, bytes);
  vg_tensor_release(&k.out);
  return r;
}

static row bench_crops(int batch, vg_frame *frames) {
  row r = {.frames = batch, .items = 64 * batch};
  snprintf(r.name, sizeof r.name, "crops 64/frame h48 f32 b%d", batch);
  pre_ctx k = {.frames = frames, .n = batch, .tp = vg_tensor_params_default()};
  float half[3] = {0.5f, 0.5f, 0.5f};
  k.tp.norm = vg_norm_mean_std(half, half);
  k.tp.pad_value = 127.5f;
  k.cp = (vg_crop_params){true, 320};
  k.nrois = r.items;
  k.rois = calloc((size_t)k.nrois, sizeof *k.rois);
  double src_bytes = 0;
  unsigned seed = 7;
  for (int i = 0; i < k.nrois; i++) {
    seed = seed * 1103515245u + 12345u;
    float w = 60 + (float)((seed >> 24) % 200), h = 20 + (float)((seed >> 16) & 31);
    float x = (float)((seed >> 8) % 1600), y = (float)((seed >> 4) % 1000);
    k.rois[i].frame = i / 64;
    if (i % 2) {
      k.rois[i].is_quad = true;
      k.rois[i].quad = (vg_quad){{x, x + w, x + w + 6, x + 6}, {y, y + 4, y + h + 4, y + h}};
    } else {
      k.rois[i].box = (vg_box){x, y, x + w, y + h};
    }
    src_bytes += w * h * 1.5;
  }
  int maxw;
  CHECK(vg_crop_widths(frames, batch, k.rois, k.nrois, 48, 320, NULL, &maxw));
  int64_t shape[4] = {k.nrois, 3, 48, maxw};
  CHECK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, g_dev, NULL, &k.out));
  finish_row(&r, crop_op, &k, src_bytes + (double)vg_tensor_nbytes(&k.out));
  vg_tensor_release(&k.out);
  free(k.rois);
  return r;
}

/* ----------------------------------------------------------------- report */

static void report(const row *rows, int n) {
  vg_device_info info;
  CHECK(vg_device_info_get(g_dev, &info));
  printf("device: %s, %d iterations per case\n\n", info.name, g_iters);
  printf("%-34s %6s %6s %10s %10s %10s %9s %9s %7s\n", "case", "frames", "items", "gpu ms/call",
         "us/frame", "host us", "GB/s", "copy GB/s", "of copy");
  for (int i = 0; i < n; i++) {
    const row *r = &rows[i];
    printf("%-34s %6d %6d %10.4f %10.2f %10.1f %9.1f %9.1f %6.0f%%\n", r->name, r->frames, r->items,
           r->ms, r->ms * 1e3 / r->frames, r->host_us, r->gbps, r->copy_gbps,
           100.0 * r->gbps / r->copy_gbps);
  }
  printf("RESULT: {\"bench\":\"imgproc\",\"device\":\"%s\",\"iters\":%d,\"cases\":[", info.name,
         g_iters);
  for (int i = 0; i < n; i++) {
    const row *r = &rows[i];
    printf("%s{\"name\":\"%s\",\"frames\":%d,\"items\":%d,\"gpu_ms_per_call\":%.5f,"
           "\"us_per_frame\":%.3f,\"host_us_per_call\":%.2f,\"bytes\":%.0f,\"gbps\":%.2f,"
           "\"copy_gbps\":%.2f,\"fraction_of_copy\":%.3f}",
           i ? "," : "", r->name, r->frames, r->items, r->ms, r->ms * 1e3 / r->frames, r->host_us,
           r->bytes, r->gbps, r->copy_gbps, r->gbps / r->copy_gbps);
  }
  printf("]}\n");
}

int main(int argc, char **argv) {
  int ordinal = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
      g_iters = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
      ordinal = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: bench_imgproc [--iters N] [--device K]\n");
      return 2;
    }
  }
  if (g_iters < 1 || g_iters > 100000) g_iters = 50;
  int n = 0;
  vg_cuda_device_count(&n);
  if (n <= ordinal) {
    printf("SKIP: %s\n", n == 0 ? vg_cuda_unavailable_reason() : "no such CUDA device");
    return 77;
  }
  g_dev = vg_cuda(ordinal);
  CHECK(vg_stream_create(g_dev, &g_s));
  vg_frame hd[32], uhd[4];
  for (int i = 0; i < 32; i++)
    hd[i] = make_frame(1920, 1080, 1u + i);
  for (int i = 0; i < 4; i++)
    uhd[i] = make_frame(3840, 2160, 100u + i);
  row rows[16];
  int nr = 0;
  int batches[3] = {1, 8, 32};
  for (int b = 0; b < 3; b++)
    rows[nr++] = bench_preprocess(batches[b], hd);
  rows[nr++] = bench_tiles(1, uhd);
  rows[nr++] = bench_tiles(4, uhd);
  rows[nr++] = bench_crops(1, hd);
  rows[nr++] = bench_crops(8, hd);
  report(rows, nr);
  for (int i = 0; i < 32; i++)
    vg_frame_release(&hd[i]);
  for (int i = 0; i < 4; i++)
    vg_frame_release(&uhd[i]);
  vg_stream_destroy(g_s);
  return 0;
}
