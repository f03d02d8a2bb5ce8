/* server_internal.h - the pieces of `vidgraph serve` shared between the files of src/server/:
 * the server object, HTTP helpers (JSON replies and errors), the event log behind every SSE
 * route, path confinement, the run table, the live streaming graph and the metrics counters.
 * Nothing here is public API; the CLI reaches the server through server.h. */
#ifndef VIDGRAPH_SERVER_INTERNAL_H
#define VIDGRAPH_SERVER_INTERNAL_H

#include "server/server.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_infer.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server/shm.h"

#define SRV_MAX_ROOTS 8
#define SRV_PATH_MAX 4096

/* ------------------------------------------------------------------ event log (SSE) */

/* A bounded, sequence-numbered log of SSE messages. Writers never wait: when the log is full the
 * oldest message goes. Readers keep a cursor (the next sequence they want); a reader that falls
 * behind the oldest kept message is a slow client and is dropped with a counted reason. */
typedef struct srv_evlog srv_evlog;

typedef struct srv_event {
  uint64_t seq;    /* 1, 2, ... */
  char type[16];   /* SSE `event:` */
  char stream[64]; /* stream id for filters ("" when none) */
  char *data;      /* JSON text (one line) */
} srv_event;

vg_status srv_evlog_create(size_t capacity, srv_evlog **out);
void srv_evlog_free(srv_evlog *l);
/* Appends; data is a JSON object (stolen). Returns the sequence number given. */
uint64_t srv_evlog_push(srv_evlog *l, const char *type, const char *stream, json_t *data);
/* Marks the log finished: readers end after the last message. */
void srv_evlog_close(srv_evlog *l);
/* Sequence of the next message that will be pushed. */
uint64_t srv_evlog_next_seq(srv_evlog *l);

/* ------------------------------------------------------------------ server */

typedef struct srv_run srv_run;
typedef struct srv_streams srv_streams;
typedef struct srv_models srv_models;

typedef struct srv_route_stat {
  char route[48];
  int status;
  atomic_ulong count;
} srv_route_stat;

#define SRV_MAX_ROUTE_STATS 128

struct vg_server {
  vg_server_config cfg;
  char model_roots[SRV_MAX_ROOTS][SRV_PATH_MAX]; /* realpaths */
  int nmodel_roots;
  char media_roots[SRV_MAX_ROOTS][SRV_PATH_MAX];
  int nmedia_roots;
  char web_root[SRV_PATH_MAX]; /* "" = no dashboard */
  char token[256];
  struct MHD_Daemon *mhd;
  int port;
  int64_t t_start_ns;
  atomic_bool stopping;
  vg_registry *registry;   /* built-ins + the server's `streams` node type */
  vg_model_cache *cache;   /* every infer node of every run and stream */
  srv_models *models;      /* named models (POST /api/models) */
  pthread_mutex_t runs_mu; /* the run table */
  srv_run **runs;
  int nruns, runs_cap;
  uint64_t next_run_id;
  srv_streams *streams; /* the live streaming graph, or NULL when none is configured */
  srv_evlog *events;    /* /api/events */
  vg_shm_registry *shm; /* client and output regions (shm.c); NULL without the data plane */
  json_t *system_info;  /* providers/decoders probe, computed once (guarded by info_mu) */
  pthread_mutex_t info_mu;
  vg_config *config; /* --config document (graphs: name -> path) */
  char config_dir[SRV_PATH_MAX];
  /* metrics */
  pthread_mutex_t stats_mu;
  srv_route_stat route_stats[SRV_MAX_ROUTE_STATS];
  int nroute_stats;
  atomic_long sse_clients;
  atomic_ulong sse_dropped_slow, sse_dropped_closed;
  atomic_ulong mjpeg_frames_skipped;
  atomic_ulong jpeg_by_path[3]; /* vg_jpeg_path: host frames, device frames read back, nvJPEG */
  atomic_ulong jpeg_gpu_bytes;  /* bytes of nvJPEG output copied to the host */
  atomic_ulong jpeg_cache_hits; /* frame.jpg/MJPEG answers from a stream's cached JPEG */
  atomic_ulong http_rejected_body;
};

/* ------------------------------------------------------------------ HTTP helpers */

/* One request as the route handlers see it. */
typedef struct srv_req {
  vg_server *srv;
  struct MHD_Connection *conn;
  const char *method; /* "GET", "POST", "DELETE" */
  const char *url;    /* path, no query */
  const char *body;   /* NUL-terminated (may be "") */
  size_t body_len;
  char route[48]; /* route label for metrics, set by the router */
  int status;     /* the status sent */
} srv_req;

/* Sends a JSON reply (steals body; NULL = no body). Returns the MHD result. */
enum MHD_Result srv_reply_json(srv_req *rq, int status, json_t *body);
/* Sends {"error": code, "detail": formatted}. */
enum MHD_Result srv_reply_error(srv_req *rq, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parses the body as a JSON object; on failure replies 400 and returns NULL. */
json_t *srv_body_object(srv_req *rq, enum MHD_Result *ret);
/* A query argument or NULL. */
const char *srv_query(srv_req *rq, const char *key);
/* Sends an SSE response reading the log from sequence `from` (0 = only new messages). filter:
 * NULL or a comma-separated list of stream ids; types: NULL or a comma-separated list. */
enum MHD_Result srv_reply_sse(srv_req *rq, srv_evlog *log, uint64_t from, const char *streams,
                              const char *types);
void srv_count_request(vg_server *s, const char *route, int status);

/* ------------------------------------------------------------------ paths */

/* Resolves a path named in a request inside one of roots: relative paths are taken from each root
 * in turn; absolute ones must lie inside one. The realpath (no `..`, symlinks resolved) goes to
 * out. Fails with a message naming `field` when it escapes or does not exist. */
vg_status srv_confine_path(const char roots[][SRV_PATH_MAX], int nroots, const char *path,
                           const char *field, char *out, size_t cap);
/* True for network URLs a source may open (rtsp, rtsps, rtmp, http, https, srt, udp). */
bool srv_is_network_url(const char *url);

/* ------------------------------------------------------------------ routes */

enum MHD_Result srv_route_health(srv_req *rq);
enum MHD_Result srv_route_system_info(srv_req *rq);
enum MHD_Result srv_route_models(srv_req *rq, const char *name);
enum MHD_Result srv_route_runs(srv_req *rq, const char *id, const char *sub);
enum MHD_Result srv_route_streams(srv_req *rq, const char *id, const char *sub);
enum MHD_Result srv_route_events(srv_req *rq);
enum MHD_Result srv_route_metrics(srv_req *rq);
enum MHD_Result srv_route_shm(srv_req *rq, const char *name);

/* ------------------------------------------------------------------ shared memory */

vg_status srv_shm_create(vg_server *s);
void srv_shm_free(vg_server *s);
/* A packet (frame or tensor `tensor_name`) viewing a validated reference; the message of a bad
 * reference names its field. */
vg_status srv_shm_packet(vg_server *s, const json_t *ref, const char *tensor_name, vg_packet **out);
/* An output packet's frame (else first tensor) copied into a new server region: its reference,
 * or NULL. */
json_t *srv_shm_export(vg_server *s, const vg_packet *p);

/* ------------------------------------------------------------------ models */

vg_status srv_models_create(srv_models **out);
void srv_models_free(vg_server *s);
/* Names of the runs/streams whose graphs use a model whose file is `source` (json array). */
json_t *srv_model_users(vg_server *s, const char *source);

/* ------------------------------------------------------------------ runs */

/* Cancels every run, waits for them, writes their summaries, frees them. */
void srv_runs_shutdown(vg_server *s);
/* Calls fn for every run's graph summary (for models' users and metrics), under the run lock. */
/* run: the graph's run (for its pool stats), valid during the call. */
typedef void (*srv_summary_fn)(void *user, const char *owner, vg_run *run,
                               const vg_run_summary *sum);
void srv_runs_foreach_summary(vg_server *s, srv_summary_fn fn, void *user);
/* Counts runs by state for metrics. */
void srv_runs_count(vg_server *s, int counts[5]);

/* ------------------------------------------------------------------ streams */

/* The `streams` node type: the entry point of the live graph (registered by the server). */
extern const vg_node_type srv_node_streams;
/* Starts the configured streaming graph (cfg.stream_graph) with its initial streams. */
vg_status srv_streams_start(vg_server *s);
/* Stops the streams and the graph gracefully and writes its summary. */
void srv_streams_shutdown(vg_server *s);
/* Metrics of the live graph and its streams (Prometheus text appended to a growing buffer). */
void srv_streams_metrics(vg_server *s, char **buf, size_t *len, size_t *cap);
void srv_streams_summary(vg_server *s, srv_summary_fn fn, void *user);

/* Appends formatted text to a growing buffer (for /metrics). */
void srv_buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Latency summary as {"mean","p50","p99"}. */
json_t *srv_latency_json(const vg_latency_summary *l);

#endif
