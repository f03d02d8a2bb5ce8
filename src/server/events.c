/* events.c - server-sent events. An srv_evlog is a bounded, sequence-numbered log (one per run,
 * one for the live streams): writers (graph worker threads) never wait, the oldest message goes
 * when it is full. Each SSE client is a cursor into a log, read by libmicrohttpd's content
 * callback on the client's own connection thread; a client that falls behind the oldest kept
 * message (a slow or stalled reader) is disconnected and counted, so the pipeline never waits
 * for it. Late joiners of a run's log get the run's events from the first. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct srv_evlog {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  srv_event *ring;
  size_t cap;
  uint64_t first, next; /* sequences kept: [first, next) */
  bool closed;
  atomic_int refs;
};

vg_status srv_evlog_create(size_t capacity, srv_evlog **out) {
  srv_evlog *l = calloc(1, sizeof *l);
  if (l) l->ring = calloc(capacity, sizeof *l->ring);
  if (!l || !l->ring) {
    free(l);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for an event log");
  }
  pthread_mutex_init(&l->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->cv, &ca);
  pthread_condattr_destroy(&ca);
  l->cap = capacity;
  l->first = l->next = 1;
  atomic_init(&l->refs, 1);
  *out = l;
  return VG_OK;
}

static srv_evlog *evlog_ref(srv_evlog *l) {
  atomic_fetch_add(&l->refs, 1);
  return l;
}

void srv_evlog_free(srv_evlog *l) {
  if (!l || atomic_fetch_sub(&l->refs, 1) != 1) return;
  for (size_t i = 0; i < l->cap; i++)
    free(l->ring[i].data);
  free(l->ring);
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cv);
  free(l);
}

uint64_t srv_evlog_push(srv_evlog *l, const char *type, const char *stream, json_t *data) {
  char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(6));
  json_decref(data);
  if (!text) return 0;
  pthread_mutex_lock(&l->mu);
  if (l->next - l->first == l->cap) l->first++; /* drop the oldest */
  srv_event *e = &l->ring[l->next % l->cap];
  free(e->data);
  e->seq = l->next++;
  snprintf(e->type, sizeof e->type, "%s", type);
  snprintf(e->stream, sizeof e->stream, "%s", stream ? stream : "");
  e->data = text;
  uint64_t seq = e->seq;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
  return seq;
}

void srv_evlog_close(srv_evlog *l) {
  pthread_mutex_lock(&l->mu);
  l->closed = true;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

uint64_t srv_evlog_next_seq(srv_evlog *l) {
  pthread_mutex_lock(&l->mu);
  uint64_t n = l->next;
  pthread_mutex_unlock(&l->mu);
  return n;
}

/* ------------------------------------------------------------------ SSE clients */

#define SSE_WAIT_MS 250
#define SSE_KEEPALIVE_MS 10000

typedef struct sse_client {
  vg_server *srv;
  srv_evlog *log;
  uint64_t next;
  char *streams, *types; /* comma lists or NULL */
  char *buf;             /* formatted bytes not yet handed to MHD */
  size_t len, off, cap;
  int64_t last_ns;
} sse_client;

/* True when item is one of the comma-separated list (NULL list = everything). */
static bool in_list(const char *list, const char *item) {
  if (!list) return true;
  size_t n = strlen(item);
  for (const char *p = list; *p;) {
    const char *c = strchr(p, ',');
    size_t k = c ? (size_t)(c - p) : strlen(p);
    if (k == n && strncmp(p, item, n) == 0) return true;
    if (!c) break;
    p = c + 1;
  }
  return false;
}

/* Formats every kept message from the cursor on (under the lock). Returns -1 when the client fell
 * behind the log, 1 when something was formatted, 0 when nothing. */
static int take_locked(sse_client *c) {
  srv_evlog *l = c->log;
  if (c->next < l->first) return -1;
  int any = 0;
  for (; c->next < l->next; c->next++) {
    srv_event *e = &l->ring[c->next % l->cap];
    if (e->stream[0] && !in_list(c->streams, e->stream)) continue;
    if (!e->stream[0] && c->streams && strcmp(e->type, "end") != 0) continue;
    if (!in_list(c->types, e->type)) continue;
    srv_buf_printf(&c->buf, &c->len, &c->cap, "id: %llu\nevent: %s\ndata: %s\n\n",
                   (unsigned long long)e->seq, e->type, e->data);
    any = 1;
    if (c->len > 256 * 1024) {
      c->next++;
      break;
    }
  }
  return any;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max) {
  sse_client *c = cls;
  if (c->off == c->len) {
    c->off = c->len = 0;
    srv_evlog *l = c->log;
    pthread_mutex_lock(&l->mu);
    int got = 0;
    for (;;) {
      got = take_locked(c);
      if (got != 0 || atomic_load(&c->srv->stopping)) break;
      if (l->closed && c->next >= l->next) break;
      if (vg_now_ns() - c->last_ns > (int64_t)SSE_KEEPALIVE_MS * 1000000) break;
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_nsec += SSE_WAIT_MS * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    bool ended = (l->closed && c->next >= l->next) || atomic_load(&c->srv->stopping);
    pthread_mutex_unlock(&l->mu);
    if (got < 0) {
      atomic_fetch_add(&c->srv->sse_dropped_slow, 1);
      vg_log(VG_LOG_WARN, "server", NULL, "SSE client dropped: fell behind the event log");
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (got == 0 && ended) return MHD_CONTENT_READER_END_OF_STREAM;
    if (got == 0) srv_buf_printf(&c->buf, &c->len, &c->cap, ": keepalive\n\n");
    c->last_ns = vg_now_ns();
  }
  size_t n = c->len - c->off < max ? c->len - c->off : max;
  memcpy(out, c->buf + c->off, n);
  c->off += n;
  return (ssize_t)n;
}

static void sse_free(void *cls) {
  sse_client *c = cls;
  atomic_fetch_sub(&c->srv->sse_clients, 1);
  srv_evlog_free(c->log);
  free(c->streams);
  free(c->types);
  free(c->buf);
  free(c);
}

enum MHD_Result srv_reply_sse(srv_req *rq, srv_evlog *log, uint64_t from, const char *streams,
                              const char *types) {
  sse_client *c = calloc(1, sizeof *c);
  if (!c) return srv_reply_error(rq, 503, "no_memory", "out of memory");
  c->srv = rq->srv;
  c->log = evlog_ref(log);
  c->next = from ? from : srv_evlog_next_seq(log);
  c->streams = streams && streams[0] ? strdup(streams) : NULL;
  c->types = types && types[0] ? strdup(types) : NULL;
  c->last_ns = vg_now_ns();
  atomic_fetch_add(&rq->srv->sse_clients, 1);
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, c, sse_free);
  if (!r) {
    sse_free(c);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/event-stream");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Accel-Buffering", "no");
  enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  return ret;
}

enum MHD_Result srv_route_events(srv_req *rq) {
  if (strcmp(rq->method, "GET") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/api/events is GET only");
  const char *types = srv_query(rq, "type");
  static const char *const known[] = {"node", "objects", "error", "end", "stream", NULL};
  if (types) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", types);
    for (char *save, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      bool ok = false;
      for (int i = 0; known[i]; i++)
        ok |= strcmp(t, known[i]) == 0;
      if (!ok)
        return srv_reply_error(rq, 400, "bad_request",
                               "type: unknown event type '%s' (node, objects, error, end, stream)",
                               t);
    }
  }
  return srv_reply_sse(rq, rq->srv->events, 0, srv_query(rq, "stream"), types);
}
