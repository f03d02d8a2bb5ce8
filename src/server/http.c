/* http.c - the HTTP face of `vidgraph serve` on libmicrohttpd: request bodies (size-limited),
 * bearer-token check (constant time), the router that maps /api/... paths to the route files,
 * JSON replies and {error, detail} errors, per-route request counters, and the static dashboard
 * files (confined to the web root). */
#include "server_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct conn_ctx {
  char *body;
  size_t len, cap;
  bool too_large;
} conn_ctx;

/* ------------------------------------------------------------------ replies */

static enum MHD_Result send_buffer(srv_req *rq, int status, const char *ctype, void *data,
                                   size_t len) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, data, data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(data);
    return MHD_NO;
  }
  if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
  MHD_destroy_response(r);
  rq->status = status;
  return ret;
}

enum MHD_Result srv_reply_json(srv_req *rq, int status, json_t *body) {
  if (!body) return send_buffer(rq, status, NULL, NULL, 0);
  char *t = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6));
  json_decref(body);
  if (!t) return send_buffer(rq, 500, NULL, NULL, 0);
  size_t n = strlen(t);
  return send_buffer(rq, status, "application/json", t, n);
}

enum MHD_Result srv_reply_error(srv_req *rq, int status, const char *code, const char *fmt, ...) {
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return srv_reply_json(rq, status, json_pack("{s:s,s:s}", "error", code, "detail", detail));
}

json_t *srv_body_object(srv_req *rq, enum MHD_Result *ret) {
  json_error_t err;
  if (rq->body_len == 0) {
    *ret = srv_reply_error(rq, 400, "bad_request", "the request needs a JSON object body");
    return NULL;
  }
  json_t *o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
  if (!o) {
    *ret = srv_reply_error(rq, 400, "bad_json", "body is not valid JSON: %s (line %d, column %d)",
                           err.text, err.line, err.column);
    return NULL;
  }
  if (!json_is_object(o)) {
    json_decref(o);
    *ret = srv_reply_error(rq, 400, "bad_request", "body must be a JSON object");
    return NULL;
  }
  return o;
}

const char *srv_query(srv_req *rq, const char *key) {
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

json_t *srv_latency_json(const vg_latency_summary *l) {
  return json_pack("{s:f,s:f,s:f}", "mean", l->mean_ms, "p50", l->p50_ms, "p99", l->p99_ms);
}

void srv_buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (*buf && *len + (size_t)n < *cap) {
      *len += (size_t)n;
      return;
    }
    size_t ncap = (*cap ? *cap * 2 : 4096) + (size_t)n;
    char *nb = realloc(*buf, ncap);
    if (!nb) return;
    *buf = nb;
    *cap = ncap;
  }
}

/* ------------------------------------------------------------------ metrics of requests */

void srv_count_request(vg_server *s, const char *route, int status) {
  pthread_mutex_lock(&s->stats_mu);
  int i;
  for (i = 0; i < s->nroute_stats; i++)
    if (s->route_stats[i].status == status && strcmp(s->route_stats[i].route, route) == 0) break;
  if (i == s->nroute_stats && i < SRV_MAX_ROUTE_STATS) {
    snprintf(s->route_stats[i].route, sizeof s->route_stats[i].route, "%s", route);
    s->route_stats[i].status = status;
    atomic_init(&s->route_stats[i].count, 0);
    s->nroute_stats++;
  }
  if (i < SRV_MAX_ROUTE_STATS) atomic_fetch_add(&s->route_stats[i].count, 1);
  pthread_mutex_unlock(&s->stats_mu);
}

/* ------------------------------------------------------------------ auth */

/* Compares in time that depends only on the lengths, never on where the first difference is. */
static bool token_equal(const char *given, const char *want) {
  size_t a = strlen(given), b = strlen(want);
  unsigned char diff = (unsigned char)(a != b);
  for (size_t i = 0; i < b; i++)
    diff |= (unsigned char)(want[i] ^ (i < a ? given[i] : 0));
  return diff == 0;
}

static bool authorized(srv_req *rq, bool query_ok) {
  vg_server *s = rq->srv;
  if (!s->token[0]) return true;
  const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
  if (h && strncmp(h, "Bearer ", 7) == 0) return token_equal(h + 7, s->token);
  const char *q = query_ok ? srv_query(rq, "access_token") : NULL;
  return q && token_equal(q, s->token);
}

/* ------------------------------------------------------------------ static files */

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot) return "application/octet-stream";
  if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
  if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
  if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
  if (!strcmp(dot, ".json")) return "application/json";
  if (!strcmp(dot, ".svg")) return "image/svg+xml";
  if (!strcmp(dot, ".png")) return "image/png";
  if (!strcmp(dot, ".ico")) return "image/x-icon";
  return "application/octet-stream";
}

static enum MHD_Result serve_static(srv_req *rq) {
  vg_server *s = rq->srv;
  snprintf(rq->route, sizeof rq->route, "static");
  if (!s->web_root[0])
    return srv_reply_error(rq, 404, "not_found",
                           "no dashboard here (no web root); the API is "
                           "under /api");
  if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "static files are GET only");
  char want[SRV_PATH_MAX], real[PATH_MAX];
  const char *rel = strcmp(rq->url, "/") == 0 ? "/index.html" : rq->url;
  snprintf(want, sizeof want, "%s%s", s->web_root, rel);
  size_t rl = strlen(s->web_root);
  if (strstr(rel, "..") || !realpath(want, real) || strncmp(real, s->web_root, rl) != 0 ||
      real[rl] != '/')
    return srv_reply_error(rq, 404, "not_found", "no such file: %s", rq->url);
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    return srv_reply_error(rq, 404, "not_found", "no such file: %s", rq->url);
  }
  struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
  if (!r) {
    close(fd);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", content_type(real));
  enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  return ret;
}

/* ------------------------------------------------------------------ router */

/* Splits "/api/runs/r1/events" after prefix into id ("r1") and sub ("events"). */
static void split_tail(const char *tail, char *id, size_t idcap, char *sub, size_t subcap) {
  id[0] = sub[0] = '\0';
  if (*tail == '/') tail++;
  const char *slash = strchr(tail, '/');
  size_t n = slash ? (size_t)(slash - tail) : strlen(tail);
  if (n >= idcap) n = idcap - 1;
  memcpy(id, tail, n);
  id[n] = '\0';
  if (slash) snprintf(sub, subcap, "%s", slash + 1);
}

static bool has_prefix(const char *url, const char *p, const char **tail) {
  size_t n = strlen(p);
  if (strncmp(url, p, n) != 0 || (url[n] != '\0' && url[n] != '/')) return false;
  *tail = url + n;
  return true;
}

static enum MHD_Result route(srv_req *rq) {
  const char *url = rq->url, *tail;
  char id[256], sub[64];
  if (strcmp(url, "/api/health") == 0) {
    snprintf(rq->route, sizeof rq->route, "/api/health");
    return srv_route_health(rq);
  }
  bool is_api = has_prefix(url, "/api", &tail), is_metrics = strcmp(url, "/metrics") == 0;
  if (!is_api && !is_metrics) return serve_static(rq);
  bool stream_route = strstr(url, "/events") || strstr(url, "/frame.jpg") || strstr(url, "/mjpeg");
  if (!authorized(rq, stream_route)) {
    snprintf(rq->route, sizeof rq->route, "unauthorized");
    return srv_reply_json(rq, 401,
                          json_pack("{s:s,s:s}", "error", "unauthorized", "detail",
                                    "send the token as 'Authorization: Bearer TOKEN'"));
  }
  if (is_metrics) {
    snprintf(rq->route, sizeof rq->route, "/metrics");
    return srv_route_metrics(rq);
  }
  if (strcmp(url, "/api/system/info") == 0) {
    snprintf(rq->route, sizeof rq->route, "/api/system/info");
    return srv_route_system_info(rq);
  }
  if (strcmp(url, "/api/events") == 0) {
    snprintf(rq->route, sizeof rq->route, "/api/events");
    return srv_route_events(rq);
  }
  static const struct {
    const char *prefix;
    enum MHD_Result (*fn)(srv_req *, const char *, const char *);
  } tables[] = {{"/api/runs", srv_route_runs}, {"/api/streams", srv_route_streams}};
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
    if (!has_prefix(url, tables[t].prefix, &tail)) continue;
    split_tail(tail, id, sizeof id, sub, sizeof sub);
    snprintf(rq->route, sizeof rq->route, "%s%s%s%s", tables[t].prefix, id[0] ? "/{id}" : "",
             sub[0] ? "/" : "", sub[0] && strlen(sub) < 16 ? sub : "");
    return tables[t].fn(rq, id[0] ? id : NULL, sub[0] ? sub : NULL);
  }
  if (has_prefix(url, "/api/models", &tail)) {
    split_tail(tail, id, sizeof id, sub, sizeof sub);
    snprintf(rq->route, sizeof rq->route, "/api/models%s", id[0] ? "/{name}" : "");
    if (sub[0]) return srv_reply_error(rq, 404, "not_found", "no route %s", url);
    return srv_route_models(rq, id[0] ? id : NULL);
  }
  if (has_prefix(url, "/api/shm", &tail)) {
    snprintf(rq->route, sizeof rq->route, "/api/shm%s", tail[0] && tail[1] ? "/{name}" : "");
    return srv_route_shm(rq, tail[0] && tail[1] ? tail + 1 : NULL);
  }
  snprintf(rq->route, sizeof rq->route, "unknown");
  return srv_reply_error(rq, 404, "not_found", "no route %s %s (see docs/API.md)", rq->method, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  vg_server *s = cls;
  conn_ctx *c = *con_cls;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) return MHD_NO;
    *con_cls = c;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body_bytes) c->too_large = true;
    return MHD_YES;
  }
  if (*upload_size) {
    if (!c->too_large && c->len + *upload_size <= s->cfg.max_body_bytes) {
      if (c->len + *upload_size + 1 > c->cap) {
        size_t ncap = (c->len + *upload_size + 1) * 2;
        if (ncap > s->cfg.max_body_bytes + 1) ncap = s->cfg.max_body_bytes + 1;
        char *nb = realloc(c->body, ncap);
        if (!nb) return MHD_NO;
        c->body = nb;
        c->cap = ncap;
      }
      memcpy(c->body + c->len, upload, *upload_size);
      c->len += *upload_size;
    } else {
      c->too_large = true;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  srv_req rq = {.srv = s,
                .conn = conn,
                .method = method,
                .url = url,
                .body = c->body ? c->body : "",
                .body_len = c->len};
  if (c->body) c->body[c->len] = '\0';
  enum MHD_Result ret;
  if (atomic_load(&s->stopping)) {
    snprintf(rq.route, sizeof rq.route, "stopping");
    ret = srv_reply_error(&rq, 503, "stopping", "the server is shutting down");
  } else if (c->too_large) {
    atomic_fetch_add(&s->http_rejected_body, 1);
    snprintf(rq.route, sizeof rq.route, "too_large");
    ret = srv_reply_error(&rq, 413, "body_too_large", "request bodies are limited to %zu bytes",
                          s->cfg.max_body_bytes);
  } else {
    ret = route(&rq);
  }
  srv_count_request(s, rq.route[0] ? rq.route : "unknown", rq.status);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  conn_ctx *c = *con_cls;
  if (!c) return;
  free(c->body);
  free(c);
  *con_cls = NULL;
}

/* ------------------------------------------------------------------ daemon */

/* HOST:PORT with an IPv4 host ("127.0.0.1:8080", ":8080" = every IPv4 address) or a bracketed
 * IPv6 one ("[::1]:8080"; "[::]:8080" = every address, IPv4 too where the OS allows dual-stack
 * sockets). *flags gets the libmicrohttpd flags the address family needs. */
static vg_status parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *flags) {
  char host[64];
  const char *colon = strrchr(listen, ':');
  if (!colon || (size_t)(colon - listen) >= sizeof host)
    return vg_set_error(VG_ERR_INVALID_ARG, "--listen: expected HOST:PORT, got '%s'", listen);
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || port < 0 || port > 65535)
    return vg_set_error(VG_ERR_INVALID_ARG, "--listen: bad port in '%s'", listen);
  memset(ss, 0, sizeof *ss);
  *flags = 0;
  size_t hl = strlen(host);
  if (host[0] == '[') {
    if (hl < 3 || host[hl - 1] != ']')
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "--listen: '%s': an IPv6 address goes in brackets, "
                          "e.g. [::1]:8080",
                          listen);
    host[hl - 1] = '\0';
    struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)ss;
    sa6->sin6_family = AF_INET6;
    sa6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host + 1, &sa6->sin6_addr) != 1)
      return vg_set_error(VG_ERR_INVALID_ARG, "--listen: '%s' is not an IPv6 address", host + 1);
    *flags = IN6_IS_ADDR_UNSPECIFIED(&sa6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    return VG_OK;
  }
  if (strchr(host, ':'))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "--listen: '%s': an IPv6 address goes in brackets, "
                        "e.g. [%s]:%ld",
                        listen, host, port);
  struct sockaddr_in *sa = (struct sockaddr_in *)ss;
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) != 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "--listen: '%s' is not an IPv4 address", host);
  return VG_OK;
}

vg_status vg__server_http_start(vg_server *s) {
  struct sockaddr_storage ss;
  unsigned family_flags = 0;
  const char *listen = s->cfg.listen ? s->cfg.listen : "127.0.0.1:8080";
  VG_TRY(parse_listen(listen, &ss, &family_flags));
  /* One thread per connection: SSE and MJPEG responses wait (bounded) for the next event in
   * their content callbacks, which must not hold up other clients' requests. The connection
   * limit bounds the threads. */
  s->mhd =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                           MHD_USE_POLL | MHD_USE_ERROR_LOG | family_flags,
                       0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT,
                       512u, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
  if (!s->mhd)
    return vg_set_error(VG_ERR_IO,
                        "cannot listen on %s: %s (port in use, or not an address of "
                        "this machine?)",
                        listen, strerror(errno));
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port
               : ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
  return VG_OK;
}

void vg__server_http_stop(vg_server *s) {
  if (!s->mhd) return;
  MHD_stop_daemon(s->mhd);
  s->mhd = NULL;
}
