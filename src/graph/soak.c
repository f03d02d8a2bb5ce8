/* soak.c - long-run sampling of a run: a thread records the process's RSS, open file descriptors
 * and threads, the run's pool usage and the used device memory at a fixed interval into a bounded
 * list, and reports growth after the warm-up. `vidgraph run --duration` writes it into
 * summary.json; the soak test asserts on it. */
#include "graph_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct vg_soak {
  vg_run *run;
  double interval_sec, warmup_sec;
  int64_t t0_ns;
  pthread_t thread;
  bool started, stopped;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool quit;
  vg_soak_sample samples[VG_SOAK_MAX_SAMPLES];
  int n;
  int64_t rss_peak;
  bool have_device;
};

static void take_sample(vg_soak *s, vg_soak_sample *out) {
  memset(out, 0, sizeof *out);
  out->t_sec = (double)(vg_now_ns() - s->t0_ns) / 1e9;
  vg_proc_stats ps;
  if (vg_proc_stats_read(&ps) == VG_OK) {
    out->rss_bytes = ps.rss_bytes;
    out->open_fds = ps.open_fds;
    out->threads = ps.threads;
  }
  vg_pool_stats host, dev;
  vg_run_get_pool_stats(s->run, &host, &dev);
  out->host_pool_in_use = host.bytes_in_use;
  out->host_pool_cached = host.bytes_cached;
  out->device_pool_in_use = dev.bytes_in_use;
  out->device_pool_cached = dev.bytes_cached;
  vg_run_summary sum;
  if (vg_run_get_summary(s->run, &sum) == VG_OK) {
    out->frames_done = sum.frames_done;
    vg_run_summary_free(&sum);
  }
  out->device_used_bytes = -1;
  vg_device_info di;
  if (s->have_device && vg_device_info_get(vg_cuda(0), &di) == VG_OK && di.total_mem >= di.free_mem)
    out->device_used_bytes = (int64_t)(di.total_mem - di.free_mem);
}

/* Appends a sample (lock held); when the list is full, keeps every other one and doubles the
 * interval, so that a run of any length keeps the same resolution over its whole span. */
static void add_sample(vg_soak *s, const vg_soak_sample *smp) {
  if (s->n == VG_SOAK_MAX_SAMPLES) {
    int k = 0;
    for (int i = 0; i < s->n; i += 2)
      s->samples[k++] = s->samples[i];
    s->n = k;
    s->interval_sec *= 2;
  }
  s->samples[s->n++] = *smp;
  if (smp->rss_bytes > s->rss_peak) s->rss_peak = smp->rss_bytes;
}

static void *sampler(void *arg) {
  vg_soak *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->quit) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double wait = s->interval_sec;
    ts.tv_sec += (time_t)wait;
    ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    while (!s->quit && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0) {
    }
    if (s->quit) break;
    pthread_mutex_unlock(&s->mu);
    vg_soak_sample smp;
    take_sample(s, &smp); /* outside the lock: it asks the run for its summary */
    pthread_mutex_lock(&s->mu);
    add_sample(s, &smp);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

vg_status vg_soak_start(vg_run *r, double interval_sec, double warmup_sec, vg_soak **out) {
  *out = NULL;
  if (!r || !(interval_sec > 0) || !(warmup_sec >= 0))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_soak_start: needs a run, an interval > 0 s and a warm-up >= 0 s");
  vg_soak *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for the soak sampler");
  s->run = r;
  s->interval_sec = interval_sec;
  s->warmup_sec = warmup_sec;
  s->t0_ns = vg_now_ns();
  int ndev = 0;
  s->have_device = vg_cuda_device_count(&ndev) == VG_OK && ndev > 0;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  vg_soak_sample first;
  take_sample(s, &first);
  add_sample(s, &first);
  if (pthread_create(&s->thread, NULL, sampler, s) != 0) {
    vg_soak_free(s);
    return vg_set_error(VG_ERR_INTERNAL, "cannot start the soak sampler thread");
  }
  s->started = true;
  *out = s;
  return VG_OK;
}

static void stop_thread(vg_soak *s) {
  if (!s->started) return;
  pthread_mutex_lock(&s->mu);
  s->quit = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->started = false;
}

/* No sample is taken here: by now the run may have ended and released its memory, which would
 * hide growth; the last periodic sample is the last one of the running graph. */
void vg_soak_stop(vg_soak *s) {
  if (!s || s->stopped) return;
  stop_thread(s);
  s->stopped = true;
}

static int64_t pools_total(const vg_soak_sample *x) {
  return (int64_t)(x->host_pool_in_use + x->host_pool_cached + x->device_pool_in_use +
                   x->device_pool_cached);
}

void vg_soak_get_report(vg_soak *s, vg_soak_report *out) {
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&s->mu);
  out->nsamples = s->n;
  out->interval_sec = s->interval_sec;
  out->warmup_sec = s->warmup_sec;
  out->rss_peak_bytes = s->rss_peak;
  if (s->n > 0) {
    int w = 0;
    while (w < s->n - 1 && s->samples[w].t_sec < s->warmup_sec)
      w++;
    out->warm = s->samples[w];
    out->last = s->samples[s->n - 1];
  }
  pthread_mutex_unlock(&s->mu);
  const vg_soak_sample *a = &out->warm, *b = &out->last;
  out->duration_sec = b->t_sec;
  if (a->rss_bytes > 0)
    out->rss_growth_pct_after_warmup =
        (double)(b->rss_bytes - a->rss_bytes) * 100.0 / (double)a->rss_bytes;
  out->fd_growth_after_warmup = b->open_fds - a->open_fds;
  out->thread_growth_after_warmup = b->threads - a->threads;
  out->pool_growth_bytes_after_warmup = pools_total(b) - pools_total(a);
  if (a->device_used_bytes >= 0 && b->device_used_bytes >= 0)
    out->device_growth_bytes_after_warmup = b->device_used_bytes - a->device_used_bytes;
}

static json_t *sample_json(const vg_soak_sample *x) {
  json_t *o = json_object();
  json_object_set_new(o, "t_sec", json_real(x->t_sec));
  json_object_set_new(o, "frames_done", json_integer((json_int_t)x->frames_done));
  json_object_set_new(o, "rss_bytes", json_integer(x->rss_bytes));
  json_object_set_new(o, "open_fds", json_integer(x->open_fds));
  json_object_set_new(o, "threads", json_integer(x->threads));
  json_object_set_new(o, "host_pool_in_use", json_integer((json_int_t)x->host_pool_in_use));
  json_object_set_new(o, "host_pool_cached", json_integer((json_int_t)x->host_pool_cached));
  json_object_set_new(o, "device_pool_in_use", json_integer((json_int_t)x->device_pool_in_use));
  json_object_set_new(o, "device_pool_cached", json_integer((json_int_t)x->device_pool_cached));
  json_object_set_new(o, "device_used_bytes", json_integer(x->device_used_bytes));
  return o;
}

char *vg_soak_json(vg_soak *s) {
  vg_soak_report r;
  vg_soak_get_report(s, &r);
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "duration_sec", json_real(r.duration_sec));
  json_object_set_new(o, "interval_sec", json_real(r.interval_sec));
  json_object_set_new(o, "warmup_sec", json_real(r.warmup_sec));
  json_object_set_new(o, "rss_start_bytes", json_integer(s->n ? s->samples[0].rss_bytes : 0));
  json_object_set_new(o, "rss_after_warmup_bytes", json_integer(r.warm.rss_bytes));
  json_object_set_new(o, "rss_end_bytes", json_integer(r.last.rss_bytes));
  json_object_set_new(o, "rss_peak_bytes", json_integer(r.rss_peak_bytes));
  json_object_set_new(o, "rss_growth_pct_after_warmup", json_real(r.rss_growth_pct_after_warmup));
  json_object_set_new(o, "fd_growth_after_warmup", json_integer(r.fd_growth_after_warmup));
  json_object_set_new(o, "thread_growth_after_warmup", json_integer(r.thread_growth_after_warmup));
  json_object_set_new(o, "pool_growth_bytes_after_warmup",
                      json_integer(r.pool_growth_bytes_after_warmup));
  json_object_set_new(o, "device_growth_bytes_after_warmup",
                      json_integer(r.device_growth_bytes_after_warmup));
  json_t *arr = json_array();
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->n; i++)
    json_array_append_new(arr, sample_json(&s->samples[i]));
  pthread_mutex_unlock(&s->mu);
  json_object_set_new(o, "samples", arr);
  char *t = json_dumps(o, JSON_PRESERVE_ORDER);
  json_decref(o);
  return t;
}

void vg_soak_free(vg_soak *s) {
  if (!s) return;
  stop_thread(s); /* no last sample: the run may be gone already */
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
