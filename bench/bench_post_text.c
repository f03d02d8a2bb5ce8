/* bench_post_text.c - GPU benchmark of the text decoders (not a test): for a PP-OCR recogniser
 * output [N, 40, 6625] (N = 1, 8, 32) and a DBNet map [1, 1, 640, 640] / [1, 1, 960, 960] with
 * 8 / 40 soft text regions, the wall time per call (mean over --iters after warm-up, results on
 * the host) of
 *   host: copy the device tensor to the host, then the CPU decoder (the path before the device
 *         decoders: what the scheduler's copy + the CPU node did), and
 *   device: the CUDA decoder (vg_ctc_decode_objects_cuda / vg_dbnet_decode_cuda),
 * plus the bytes each path copies to the host per call. Prints a table, then one line
 * "RESULT: {json}". Usage: bench_post_text [--iters N]. Exit 77 without a GPU. */
#include "post/cuda/post_text.h"
#include "vidgraph/vg_post.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(expr)                                                                                \
  do {                                                                                             \
    vg_status st_ = (expr);                                                                        \
    if (st_ != VG_OK) {                                                                            \
      fprintf(stderr, "bench_post_text: %s failed: %s\n", #expr, vg_last_error());                 \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static unsigned g_rng = 12345;
static double rnd01(void) {
  g_rng = g_rng * 1103515245u + 12345u;
  return (double)((g_rng >> 8) & 0xffffff) / 16777216.0;
}

typedef struct row {
  char name[48];
  double host_ms, dev_ms;
  double host_bytes, dev_bytes;
  size_t results;
} row;

static vg_stream g_s;
static int g_iters = 50;

static double now_ms(void) {
  return (double)vg_now_ns() / 1e6;
}

/* ----------------------------------------------------------------- CTC */

static row bench_ctc(const vg_ctc_dict *d, int N) {
  int T = 40, C = (int)vg_ctc_dict_num_classes(d);
  int64_t shape[3] = {N, T, C};
  vg_tensor h, dv;
  CHECK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &h));
  float *p = vg_tensor_data(&h);
  for (int64_t r = 0; r < (int64_t)N * T; r++) { /* softmax-like rows, one peak */
    int c = rnd01() < 0.4 ? 0 : (int)(rnd01() * C);
    double peak = 0.5 + 0.49 * rnd01(), rest = (1 - peak) / (C - 1);
    for (int k = 0; k < C; k++)
      p[r * C + k] = (float)(k == c ? peak : rest);
  }
  CHECK(vg_tensor_to_device(&h, vg_cuda(0), NULL, g_s, &dv));
  CHECK(vg_stream_sync(g_s));
  vg_object *objs = calloc((size_t)N, sizeof *objs);
  vg_ctc_cuda *w;
  CHECK(vg_ctc_cuda_create(vg_cuda(0), &w));
  row out;
  memset(&out, 0, sizeof out);
  snprintf(out.name, sizeof out.name, "ctc %dx%dx%d", N, T, C);
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < 3; i++) /* warm-up */
      CHECK(vg_ctc_decode_objects_cuda(w, &dv, d, VG_CTC_AUTO, objs, (size_t)N, g_s));
    double t0 = now_ms();
    for (int it = 0; it < g_iters; it++) {
      if (pass == 0) {
        vg_tensor back;
        CHECK(vg_tensor_to_device(&dv, vg_cpu(), NULL, g_s, &back));
        CHECK(vg_stream_sync(g_s));
        CHECK(vg_ctc_decode_objects(&back, d, VG_CTC_AUTO, objs, (size_t)N));
        vg_tensor_release(&back);
      } else {
        CHECK(vg_ctc_decode_objects_cuda(w, &dv, d, VG_CTC_AUTO, objs, (size_t)N, g_s));
      }
    }
    double ms = (now_ms() - t0) / g_iters;
    *(pass == 0 ? &out.host_ms : &out.dev_ms) = ms;
  }
  for (int i = 0; i < N; i++)
    out.results += objs[i].text[0] != 0;
  out.host_bytes = (double)N * T * C * 4;
  out.dev_bytes = (double)pt_ctc_host_bytes(N, T);
  vg_ctc_cuda_destroy(w);
  free(objs);
  vg_tensor_release(&dv);
  vg_tensor_release(&h);
  return out;
}

/* ----------------------------------------------------------------- DBNet */

static row bench_dbnet(int side, int regions) {
  int64_t shape[4] = {1, 1, side, side};
  vg_tensor h, dv;
  CHECK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, vg_cpu(), NULL, &h));
  float *m = vg_tensor_data(&h);
  for (int64_t i = 0; i < (int64_t)side * side; i++)
    m[i] = (float)(0.05 * rnd01());
  for (int r = 0; r < regions; r++) { /* soft axis-aligned text lines */
    double cx = rnd01() * side, cy = rnd01() * side, bw = 20 + rnd01() * side * 0.25,
           bh = 8 + rnd01() * 20;
    for (int y = (int)(cy - bh); y <= (int)(cy + bh); y++)
      for (int x = (int)(cx - bw); x <= (int)(cx + bw); x++) {
        if (x < 0 || y < 0 || x >= side || y >= side) continue;
        double d = fmin(bw / 2 - fabs(x - cx), bh / 2 - fabs(y - cy));
        float v = (float)(0.95 / (1 + exp(-2 * d)));
        if (v > m[(int64_t)y * side + x]) m[(int64_t)y * side + x] = v;
      }
  }
  CHECK(vg_tensor_to_device(&h, vg_cuda(0), NULL, g_s, &dv));
  CHECK(vg_stream_sync(g_s));
  vg_dbnet_cuda *w;
  CHECK(vg_dbnet_cuda_create(vg_cuda(0), &w));
  vg_dbnet_params p;
  vg_dbnet_params_default(&p);
  vg_xform xf = vg_xform_identity();
  vg_objects objs = {0};
  row out;
  memset(&out, 0, sizeof out);
  snprintf(out.name, sizeof out.name, "dbnet %dx%d, %d regions", side, side, regions);
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < 3; i++) {
      vg_objects_clear(&objs);
      CHECK(vg_dbnet_decode_cuda(w, &dv, 0, &p, &xf, side, side, &objs, g_s));
    }
    double t0 = now_ms();
    for (int it = 0; it < g_iters; it++) {
      vg_objects_clear(&objs);
      if (pass == 0) {
        vg_tensor back;
        CHECK(vg_tensor_to_device(&dv, vg_cpu(), NULL, g_s, &back));
        CHECK(vg_stream_sync(g_s));
        CHECK(vg_dbnet_decode(&back, 0, &p, &xf, side, side, &objs));
        vg_tensor_release(&back);
      } else {
        CHECK(vg_dbnet_decode_cuda(w, &dv, 0, &p, &xf, side, side, &objs, g_s));
      }
    }
    double ms = (now_ms() - t0) / g_iters;
    *(pass == 0 ? &out.host_ms : &out.dev_ms) = ms;
  }
  out.results = objs.count;
  out.host_bytes = (double)side * side * 4;
  /* two counts, then the kept rectangles (upper bound: every result) */
  out.dev_bytes = 8.0 + (double)objs.count * sizeof(pt_db_box);
  vg_objects_free(&objs);
  vg_dbnet_cuda_destroy(w);
  vg_tensor_release(&dv);
  vg_tensor_release(&h);
  return out;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
      g_iters = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: bench_post_text [--iters N]\n");
      return 2;
    }
  }
  if (g_iters < 1) g_iters = 1;
  int n = 0;
  if (vg_cuda_device_count(&n) != VG_OK || n < 1) {
    printf("bench_post_text: no CUDA device (%s): skipped\n", vg_cuda_unavailable_reason());
    return 77;
  }
  CHECK(vg_stream_create(vg_cuda(0), &g_s));
  char path[4096];
  const char *root = getenv("VG_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/models/ppocr/ppocr_keys_v1.txt", root ? root : ".");
  vg_ctc_dict *d;
  CHECK(vg_ctc_dict_load(path, true, &d));
  row rows[8];
  int nr = 0;
  rows[nr++] = bench_ctc(d, 1);
  rows[nr++] = bench_ctc(d, 8);
  rows[nr++] = bench_ctc(d, 32);
  rows[nr++] = bench_dbnet(640, 8);
  rows[nr++] = bench_dbnet(640, 40);
  rows[nr++] = bench_dbnet(960, 40);
  printf("%-28s %12s %12s %8s %14s %12s %8s\n", "case", "host ms", "device ms", "speedup",
         "host bytes", "dev bytes", "results");
  char json[4096];
  size_t jl = (size_t)snprintf(json, sizeof json, "{\"iters\":%d,\"cases\":[", g_iters);
  for (int i = 0; i < nr; i++) {
    const row *r = &rows[i];
    printf("%-28s %12.3f %12.3f %7.1fx %14.0f %12.0f %8zu\n", r->name, r->host_ms, r->dev_ms,
           r->host_ms / r->dev_ms, r->host_bytes, r->dev_bytes, r->results);
    jl += (size_t)snprintf(json + jl, sizeof json - jl,
                           "%s{\"case\":\"%s\",\"host_ms\":%.4f,\"device_ms\":%.4f,"
                           "\"host_bytes\":%.0f,\"device_bytes\":%.0f,\"results\":%zu}",
                           i ? "," : "", r->name, r->host_ms, r->dev_ms, r->host_bytes,
                           r->dev_bytes, r->results);
    if (jl >= sizeof json) jl = sizeof json - 1;
  }
  snprintf(json + jl, sizeof json - jl, "]}");
  printf("RESULT: %s\n", json);
  vg_ctc_dict_free(d);
  vg_stream_destroy(g_s);
  return 0;
}
