/* metrics.c - GET /metrics in the Prometheus text format 0.0.4: HTTP requests by route and
 * status, SSE/MJPEG clients and drops, JPEG encodes by path (nvJPEG, libjpeg on host frames or
 * on device frames read back), runs by state, cached models, GPU memory used/total, and per graph
 * (every running run and the streaming graph) per-node latency and queue-wait summaries
 * (quantiles 0.5/0.9/0.99 + sum + count, labelled with the node's stage: source, preprocess,
 * infer, post, track, annotate, sink, other), frames, drops, host<->device copies, provider
 * fallbacks, memory pool stats (in use, cached, peak, allocations, requests, hits per pool); per
 * stream fps, decode latency, frames, drops, reconnects and the feeder queue depth. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct mbuf {
  char *b;
  size_t len, cap;
} mbuf;

/* Label value escaping of the text format: backslash, double quote, newline. */
static const char *esc(const char *in, char *out, size_t cap) {
  size_t k = 0;
  for (const char *p = in; *p && k + 3 < cap; p++) {
    if (*p == '\\' || *p == '"') {
      out[k++] = '\\';
      out[k++] = *p;
    } else if (*p == '\n') {
      out[k++] = '\\';
      out[k++] = 'n';
    } else {
      out[k++] = *p;
    }
  }
  out[k] = '\0';
  return out;
}

static void header(mbuf *m, const char *name, const char *type, const char *help) {
  srv_buf_printf(&m->b, &m->len, &m->cap, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The families of per-node series are written graph by graph, so each family's samples are
 * gathered first and printed together (the format wants one block per family). */
typedef struct fam {
  mbuf lat, wait, frames, dropped, copies, fallbacks, inflight, queued, queued_peak, running;
  mbuf pool_bytes, pool_peak, pool_allocs, pool_requests, pool_hits;
} fam;

/* The pipeline stage a node type belongs to (decode is the streams' own summary). */
static const char *stage_of(const char *type) {
  static const char *const map[][2] = {{"source", "source"},
                                       {"streams", "source"},
                                       {"input", "source"},
                                       {"preprocess", "preprocess"},
                                       {"tiles", "preprocess"},
                                       {"roi_crop", "preprocess"},
                                       {"infer", "infer"},
                                       {"yolo_decode", "post"},
                                       {"nms", "post"},
                                       {"tile_fuse", "post"},
                                       {"classify", "post"},
                                       {"text_direction", "post"},
                                       {"text_detect_decode", "post"},
                                       {"text_recognize_decode", "post"},
                                       {"track", "track"},
                                       {"count", "track"},
                                       {"fatigue", "track"},
                                       {"overlay", "annotate"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(type, map[i][0]) == 0) return map[i][1];
  if (strstr(type, "decode") || strstr(type, "post")) return "post";
  if (strstr(type, "sink")) return "sink";
  return "other";
}

static void pool_samples(fam *f, const char *g, const char *pool, const vg_pool_stats *p) {
  srv_buf_printf(&f->pool_bytes.b, &f->pool_bytes.len, &f->pool_bytes.cap,
                 "vidgraph_pool_bytes{graph=\"%s\",pool=\"%s\",state=\"in_use\"} %zu\n"
                 "vidgraph_pool_bytes{graph=\"%s\",pool=\"%s\",state=\"cached\"} %zu\n",
                 g, pool, p->bytes_in_use, g, pool, p->bytes_cached);
  srv_buf_printf(&f->pool_peak.b, &f->pool_peak.len, &f->pool_peak.cap,
                 "vidgraph_pool_peak_bytes{graph=\"%s\",pool=\"%s\"} %zu\n", g, pool,
                 p->peak_bytes);
  srv_buf_printf(&f->pool_allocs.b, &f->pool_allocs.len, &f->pool_allocs.cap,
                 "vidgraph_pool_allocations_total{graph=\"%s\",pool=\"%s\"} %llu\n", g, pool,
                 (unsigned long long)p->allocations);
  srv_buf_printf(&f->pool_requests.b, &f->pool_requests.len, &f->pool_requests.cap,
                 "vidgraph_pool_requests_total{graph=\"%s\",pool=\"%s\"} %llu\n", g, pool,
                 (unsigned long long)p->requests);
  srv_buf_printf(&f->pool_hits.b, &f->pool_hits.len, &f->pool_hits.cap,
                 "vidgraph_pool_hits_total{graph=\"%s\",pool=\"%s\"} %llu\n", g, pool,
                 (unsigned long long)p->hits);
}

static void summary_samples(mbuf *m, const char *name, const char *labels,
                            const vg_latency_summary *l) {
  srv_buf_printf(&m->b, &m->len, &m->cap,
                 "%s{%s,quantile=\"0.5\"} %.6f\n%s{%s,quantile=\"0.9\"} %.6f\n"
                 "%s{%s,quantile=\"0.99\"} %.6f\n%s_sum{%s} %.6f\n%s_count{%s} %llu\n",
                 name, labels, l->p50_ms / 1e3, name, labels, l->p90_ms / 1e3, name, labels,
                 l->p99_ms / 1e3, name, labels, l->mean_ms * (double)l->count / 1e3, name, labels,
                 (unsigned long long)l->count);
}

static void graph_cb(void *user, const char *owner, vg_run *run, const vg_run_summary *s) {
  fam *f = user;
  char g[128], lab[512], n[128];
  esc(owner, g, sizeof g);
  for (int i = 0; i < s->nnodes; i++) {
    const vg_node_metrics *m = &s->nodes[i];
    snprintf(lab, sizeof lab, "graph=\"%s\",node=\"%s\",type=\"%s\",stage=\"%s\"", g,
             esc(m->id, n, sizeof n), m->type, stage_of(m->type));
    summary_samples(&f->lat, "vidgraph_node_latency_seconds", lab, &m->latency);
    summary_samples(&f->wait, "vidgraph_node_queue_wait_seconds", lab, &m->queue_wait);
    srv_buf_printf(&f->frames.b, &f->frames.len, &f->frames.cap,
                   "vidgraph_node_frames_total{%s} %llu\n", lab, (unsigned long long)m->frames);
    srv_buf_printf(&f->queued.b, &f->queued.len, &f->queued.cap,
                   "vidgraph_node_queue_depth{%s} %d\n", lab, m->queued);
    srv_buf_printf(&f->queued_peak.b, &f->queued_peak.len, &f->queued_peak.cap,
                   "vidgraph_node_queue_depth_peak{%s} %d\n", lab, m->queued_peak);
    srv_buf_printf(&f->running.b, &f->running.len, &f->running.cap,
                   "vidgraph_node_running{%s} %d\n", lab, m->running);
    srv_buf_printf(&f->dropped.b, &f->dropped.len, &f->dropped.cap,
                   "vidgraph_node_dropped_total{%s} %llu\n", lab,
                   (unsigned long long)(m->dropped + m->filtered));
    json_t *d = m->detail ? json_loads(m->detail, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(d, "skipped_providers"), k, v) {
      if (!json_string_value(v) || !json_string_value(v)[0]) continue;
      srv_buf_printf(&f->fallbacks.b, &f->fallbacks.len, &f->fallbacks.cap,
                     "vidgraph_provider_fallbacks{%s,provider=\"%s\"} 1\n", lab, k);
    }
    json_decref(d);
  }
  srv_buf_printf(&f->copies.b, &f->copies.len, &f->copies.cap,
                 "vidgraph_copies_total{graph=\"%s\",direction=\"to_device\"} %llu\n"
                 "vidgraph_copies_total{graph=\"%s\",direction=\"to_host\"} %llu\n"
                 "vidgraph_copies_total{graph=\"%s\",direction=\"frames_to_host\"} %llu\n",
                 g, (unsigned long long)s->copies_to_device, g,
                 (unsigned long long)s->copies_to_host, g,
                 (unsigned long long)s->frame_copies_to_host);
  srv_buf_printf(&f->inflight.b, &f->inflight.len, &f->inflight.cap,
                 "vidgraph_graph_frames_in_flight_peak{graph=\"%s\"} %llu\n", g,
                 (unsigned long long)s->peak_frames_in_flight);
  vg_pool_stats host, dev;
  vg_run_get_pool_stats(run, &host, &dev);
  pool_samples(f, g, "host", &host);
  pool_samples(f, g, "device", &dev);
}

static void block(mbuf *out, mbuf *in, const char *name, const char *type, const char *help) {
  header(out, name, type, help);
  if (in->b) srv_buf_printf(&out->b, &out->len, &out->cap, "%s", in->b);
  free(in->b);
}

static void server_families(vg_server *s, mbuf *m) {
  header(m, "vidgraph_http_requests_total", "counter", "HTTP requests by route and status");
  pthread_mutex_lock(&s->stats_mu);
  for (int i = 0; i < s->nroute_stats; i++) {
    char r[96];
    srv_buf_printf(&m->b, &m->len, &m->cap,
                   "vidgraph_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
                   esc(s->route_stats[i].route, r, sizeof r), s->route_stats[i].status,
                   atomic_load(&s->route_stats[i].count));
  }
  pthread_mutex_unlock(&s->stats_mu);
  header(m, "vidgraph_sse_clients", "gauge", "connected SSE and MJPEG clients");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_sse_clients %ld\n",
                 atomic_load(&s->sse_clients));
  header(m, "vidgraph_clients_dropped_total", "counter",
         "SSE clients disconnected by the server, by reason");
  srv_buf_printf(&m->b, &m->len, &m->cap,
                 "vidgraph_clients_dropped_total{kind=\"sse\",reason=\"slow\"} %lu\n",
                 atomic_load(&s->sse_dropped_slow));
  header(m, "vidgraph_mjpeg_frames_skipped_total", "counter",
         "frames a slow MJPEG client did not get (it always gets the newest)");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_mjpeg_frames_skipped_total %lu\n",
                 atomic_load(&s->mjpeg_frames_skipped));
  header(m, "vidgraph_jpeg_encodes_total", "counter",
         "JPEG encodes for frame.jpg/mjpeg by path: host frames (libjpeg), device frames read "
         "back to the host (libjpeg, one frame copy each), device frames on the GPU (nvjpeg)");
  static const char *const paths[] = {"host", "readback", "nvjpeg"};
  for (int i = 0; i < 3; i++)
    srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_jpeg_encodes_total{path=\"%s\"} %lu\n",
                   paths[i], atomic_load(&s->jpeg_by_path[i]));
  header(m, "vidgraph_jpeg_gpu_bytes_to_host_total", "counter",
         "bytes of JPEG made by nvJPEG copied to the host (the only data of those views that "
         "crosses)");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_jpeg_gpu_bytes_to_host_total %lu\n",
                 atomic_load(&s->jpeg_gpu_bytes));
  header(m, "vidgraph_jpeg_cache_hits_total", "counter",
         "frame.jpg/MJPEG answers served from the JPEG another client's request encoded (one "
         "encode per frame, however many viewers)");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_jpeg_cache_hits_total %lu\n",
                 atomic_load(&s->jpeg_cache_hits));
  header(m, "vidgraph_http_rejected_bodies_total", "counter", "requests refused as too large");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_http_rejected_bodies_total %lu\n",
                 atomic_load(&s->http_rejected_body));
  int counts[5];
  srv_runs_count(s, counts);
  header(m, "vidgraph_runs", "gauge", "runs kept by the server, by state");
  for (int i = 0; i < 5; i++)
    srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_runs{state=\"%s\"} %d\n",
                   vg_run_state_name((vg_run_state)i), counts[i]);
  header(m, "vidgraph_models_cached", "gauge", "models loaded in the shared model cache");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_models_cached %zu\n",
                 vg_model_cache_count(s->cache));
  header(m, "vidgraph_uptime_seconds", "gauge", "seconds since the server started");
  srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_uptime_seconds %.3f\n",
                 (double)(vg_now_ns() - s->t_start_ns) / 1e9);
  int n = 0;
  vg_cuda_device_count(&n);
  vg_device_info d[16];
  bool ok[16];
  n = n > 16 ? 16 : n;
  for (int i = 0; i < n; i++)
    ok[i] = vg_device_info_get(vg_cuda(i), &d[i]) == VG_OK;
  header(m, "vidgraph_gpu_memory_used_bytes", "gauge",
         "device memory in use per GPU (all processes)");
  for (int i = 0; i < n; i++)
    if (ok[i])
      srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_gpu_memory_used_bytes{gpu=\"%d\"} %zu\n", i,
                     d[i].total_mem - d[i].free_mem);
  header(m, "vidgraph_gpu_memory_total_bytes", "gauge", "device memory per GPU");
  for (int i = 0; i < n; i++)
    if (ok[i])
      srv_buf_printf(&m->b, &m->len, &m->cap, "vidgraph_gpu_memory_total_bytes{gpu=\"%d\"} %zu\n",
                     i, d[i].total_mem);
  vg_clear_error();
}

enum MHD_Result srv_route_metrics(srv_req *rq) {
  if (strcmp(rq->method, "GET") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/metrics is GET only");
  vg_server *s = rq->srv;
  mbuf m = {0};
  server_families(s, &m);
  fam f;
  memset(&f, 0, sizeof f);
  srv_runs_foreach_summary(s, graph_cb, &f);
  srv_streams_summary(s, graph_cb, &f);
  block(&m, &f.lat, "vidgraph_node_latency_seconds", "summary", "per-call latency of a node");
  block(&m, &f.wait, "vidgraph_node_queue_wait_seconds", "summary",
        "ready-to-running wait of a node's frames");
  block(&m, &f.frames, "vidgraph_node_frames_total", "counter", "frames a node processed");
  block(&m, &f.queued, "vidgraph_node_queue_depth", "gauge",
        "frames ready for a node and waiting for a worker");
  block(&m, &f.queued_peak, "vidgraph_node_queue_depth_peak", "gauge",
        "the most frames that waited for a node at once");
  block(&m, &f.running, "vidgraph_node_running", "gauge", "calls of a node running now");
  block(&m, &f.dropped, "vidgraph_node_dropped_total", "counter",
        "frames a node dropped or filtered");
  block(&m, &f.copies, "vidgraph_copies_total", "counter",
        "host<->device copies the scheduler made");
  block(&m, &f.inflight, "vidgraph_graph_frames_in_flight_peak", "gauge",
        "most frames in flight at once");
  block(&m, &f.fallbacks, "vidgraph_provider_fallbacks", "gauge",
        "execution providers a model skipped (1 per skipped provider)");
  block(&m, &f.pool_bytes, "vidgraph_pool_bytes", "gauge",
        "memory pool bytes of a graph's run, handed out (in_use) or on free lists (cached)");
  block(&m, &f.pool_peak, "vidgraph_pool_peak_bytes", "gauge",
        "most bytes a pool held at once (in use + cached)");
  block(&m, &f.pool_allocs, "vidgraph_pool_allocations_total", "counter",
        "blocks a pool obtained from the system");
  block(&m, &f.pool_requests, "vidgraph_pool_requests_total", "counter",
        "allocations asked of a pool");
  block(&m, &f.pool_hits, "vidgraph_pool_hits_total", "counter",
        "allocations a pool served from its free lists");
  srv_streams_metrics(s, &m.b, &m.len, &m.cap);
  if (!m.b) return srv_reply_error(rq, 500, "no_memory", "out of memory");
  struct MHD_Response *r = MHD_create_response_from_buffer(m.len, m.b, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(m.b);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  return ret;
}
