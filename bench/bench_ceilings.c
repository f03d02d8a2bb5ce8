/* bench_ceilings.c - memory-copy ceilings of the machine, for bench/run.sh's "ceiling" suite:
 * device-to-device copy bandwidth (cudaMemcpy through vg_memcpy_async on one stream) and the
 * pinned host <-> device bandwidth, timed with CUDA events. Prints one result object per case in
 * the bench/results contract (docs/PERF.md, bench/validate.py):
 *   {"suite":"ceiling","name":"ceiling/memcpy/d2d","impl":"memcpy","value":GB/s,"unit":"GB/s",...}
 *
 *   bench_ceilings [--mb 256] [--reps 20] [--device 0]
 *
 * Bandwidth counts the bytes copied once (a d2d copy reads and writes them: the DRAM traffic is
 * twice that). Without a usable GPU it prints the cases with a null value and the reason, and
 * exits 77 (the smoke run records them as skipped). */
#include "vidgraph/vg_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void emit(const char *name, const char *what, double gbs, size_t bytes, int reps,
                 const char *cmd, const char *notes) {
  printf("{\"suite\":\"ceiling\",\"name\":\"ceiling/memcpy/%s\",\"impl\":\"memcpy\",\"streams\":1,"
         "\"frames\":null,\"fps\":null,",
         name);
  if (gbs > 0)
    printf("\"value\":%.2f,\"unit\":\"GB/s\",", gbs);
  else
    printf("\"value\":null,\"unit\":null,");
  printf("\"latency_ms\":null,\"stages_ms\":{},\"gpu_mem_mb\":null,"
         "\"quality\":null,\"batch\":null,\"precision\":null,\"cpus\":null,\"command\":\"%s\","
         "\"notes\":\"%s: %zu MB x %d copies; %s\"}\n",
         cmd, what, bytes >> 20, reps, notes);
}

/* Times reps copies of bytes from src to dst; returns GB/s or -1 (message on stderr). */
static double time_copy(void *dst, vg_device dd, const void *src, vg_device sd, size_t bytes,
                        int reps, vg_device dev) {
  vg_stream s = NULL;
  vg_event e0 = NULL, e1 = NULL;
  double gbs = -1;
  if (vg_stream_create(dev, &s) != VG_OK || vg_event_create(dev, true, &e0) != VG_OK ||
      vg_event_create(dev, true, &e1) != VG_OK)
    goto out;
  /* warm-up */
  if (vg_memcpy_async(dst, dd, src, sd, bytes, s) != VG_OK || vg_stream_sync(s) != VG_OK) goto out;
  if (vg_event_record(e0, s) != VG_OK) goto out;
  for (int i = 0; i < reps; i++)
    if (vg_memcpy_async(dst, dd, src, sd, bytes, s) != VG_OK) goto out;
  if (vg_event_record(e1, s) != VG_OK || vg_event_sync(e1) != VG_OK) goto out;
  float ms = 0;
  if (vg_event_elapsed_ms(e0, e1, &ms) != VG_OK || ms <= 0) goto out;
  gbs = (double)bytes * reps / (ms / 1e3) / 1e9;
out:
  if (gbs < 0) fprintf(stderr, "bench_ceilings: %s\n", vg_last_error());
  vg_event_destroy(e0);
  vg_event_destroy(e1);
  vg_stream_destroy(s);
  return gbs;
}

int main(int argc, char **argv) {
  long mb = 256;
  int reps = 20, ord = 0;
  char cmd[512];
  size_t len = (size_t)snprintf(cmd, sizeof cmd, "bench_ceilings");
  for (int i = 1; i < argc && len < sizeof cmd; i++)
    len += (size_t)snprintf(cmd + len, sizeof cmd - len, " %s", argv[i]);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
      mb = atol(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
      ord = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_ceilings [--mb 256] [--reps 20] [--device 0]\n");
      return 2;
    }
  }
  if (mb < 1 || mb > 65536 || reps < 1 || reps > 100000) {
    fprintf(stderr, "bench_ceilings: --mb must be 1..65536 and --reps 1..100000\n");
    return 2;
  }
  size_t bytes = (size_t)mb << 20;
  int n = 0;
  if (!vg_cuda_compiled() || vg_cuda_device_count(&n) != VG_OK || n <= ord) {
    char why[300];
    snprintf(why, sizeof why, "skipped: no CUDA device (%s)",
             vg_cuda_compiled() ? vg_cuda_unavailable_reason() : "built without CUDA");
    for (char *p = why; *p; p++)
      if (*p == '"' || *p == '\\') *p = '\'';
    emit("d2d", "device to device", -1, bytes, reps, cmd, why);
    emit("h2d", "pinned host to device", -1, bytes, reps, cmd, why);
    emit("d2h", "device to pinned host", -1, bytes, reps, cmd, why);
    return 77;
  }
  vg_device dev = vg_cuda(ord), cpu = vg_cpu();
  void *a = NULL, *b = NULL, *h = NULL;
  int rc = 1;
  if (vg_mem_alloc(dev, bytes, &a) != VG_OK || vg_mem_alloc(dev, bytes, &b) != VG_OK ||
      vg_mem_alloc_pinned(bytes, &h) != VG_OK) {
    fprintf(stderr, "bench_ceilings: %s\n", vg_last_error());
    goto out;
  }
  memset(h, 1, bytes);
  double d2d = time_copy(b, dev, a, dev, bytes, reps, dev);
  double h2d = time_copy(a, dev, h, cpu, bytes, reps, dev);
  double d2h = time_copy(h, cpu, a, dev, bytes, reps, dev);
  emit("d2d", "device to device", d2d, bytes, reps, cmd, "bytes copied once; DRAM traffic is 2x");
  emit("h2d", "pinned host to device", h2d, bytes, reps, cmd, "pinned host memory");
  emit("d2h", "device to pinned host", d2h, bytes, reps, cmd, "pinned host memory");
  rc = d2d > 0 && h2d > 0 && d2h > 0 ? 0 : 1;
out:
  vg_mem_free(dev, a);
  vg_mem_free(dev, b);
  vg_mem_free_pinned(h);
  return rc;
}
