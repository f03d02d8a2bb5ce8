/* latency.c - count, mean and percentiles of durations over a sliding window of samples. */
#include "vidgraph/vg_core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct vg_latency {
  pthread_mutex_t mu;
  int64_t ring[VG_STATS_WINDOW];
  size_t filled, next;
  uint64_t count;
  double sum_ns;
  int64_t min_ns, max_ns;
};

vg_status vg_latency_create(vg_latency **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating latency stats");
  pthread_mutex_init(&(*out)->mu, NULL);
  return VG_OK;
}

void vg_latency_destroy(vg_latency *l) {
  if (!l) return;
  pthread_mutex_destroy(&l->mu);
  free(l);
}

void vg_latency_add_ns(vg_latency *l, int64_t ns) {
  if (ns < 0) ns = 0;
  pthread_mutex_lock(&l->mu);
  l->ring[l->next] = ns;
  l->next = (l->next + 1) % VG_STATS_WINDOW;
  if (l->filled < VG_STATS_WINDOW) l->filled++;
  if (l->count == 0 || ns < l->min_ns) l->min_ns = ns;
  if (l->count == 0 || ns > l->max_ns) l->max_ns = ns;
  l->count++;
  l->sum_ns += (double)ns;
  pthread_mutex_unlock(&l->mu);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile on sorted samples. */
static double pct(const int64_t *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t r = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return (double)v[r - 1] / 1e6;
}

void vg_latency_summarize(vg_latency *l, vg_latency_summary *out) {
  memset(out, 0, sizeof *out);
  int64_t *tmp = malloc(sizeof(int64_t) * VG_STATS_WINDOW);
  pthread_mutex_lock(&l->mu);
  size_t n = l->filled;
  out->count = l->count;
  if (l->count) {
    out->mean_ms = l->sum_ns / (double)l->count / 1e6;
    out->min_ms = (double)l->min_ns / 1e6;
    out->max_ms = (double)l->max_ns / 1e6;
  }
  if (tmp) memcpy(tmp, l->ring, sizeof(int64_t) * n);
  pthread_mutex_unlock(&l->mu);
  if (!tmp) return;
  qsort(tmp, n, sizeof *tmp, cmp_i64);
  out->p50_ms = pct(tmp, n, 50);
  out->p90_ms = pct(tmp, n, 90);
  out->p99_ms = pct(tmp, n, 99);
  free(tmp);
}

void vg_latency_reset(vg_latency *l) {
  pthread_mutex_lock(&l->mu);
  l->filled = l->next = 0;
  l->count = 0;
  l->sum_ns = 0;
  l->min_ns = l->max_ns = 0;
  pthread_mutex_unlock(&l->mu);
}
