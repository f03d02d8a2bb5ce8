/* streams.c - the live streaming graph of `vidgraph serve`. The serve config names a graph
 * (`stream_graph:`) whose entry is a `streams` node; it runs for the life of the server. Cameras
 * and files are added and removed over the API without restarting it: each stream has its own
 * reader thread (vg_source: demux + decode, NVDEC where it can) that pushes packets into one
 * bounded feeder queue, and the `streams` node emits them, so frames of every stream flow
 * through the same nodes and join the same batches. A full queue drops the newest frame of a
 * real-time stream (counted) and makes a file stream wait. Removing a stream ends it with an
 * end-of-stream packet (trackers close its tracks). The latest frame of each stream (the
 * annotated one when the graph ends in a `callback_sink`) serves frame.jpg and MJPEG. */
#include "server_internal.h"
#include "vidgraph/vg_video.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STREAMS 64
#define READ_WAIT_MS 100

typedef struct stream_ent {
  bool used;
  char id[64];
  char url[SRV_PATH_MAX];
  int sid; /* graph stream id */
  bool loop, realtime;
  vg_source *src;
  pthread_t th;
  bool th_started;
  atomic_bool remove;
  bool removing; /* a DELETE is taking it down (hub->mu) */
  /* hub->mu */
  char state[16];
  char last_error[512];
  uint64_t frames, drops, reconnects;
  double fps;
  int64_t fps_t0;
  uint64_t fps_n0;
  vg_packet *latest;
  uint64_t latest_seq;
  vg_source_info info;
  vg_latency *decode_lat; /* packet demuxed -> picture ready, per frame (thread-safe itself) */
  uint8_t *jpg;           /* the JPEG of frame jpg_seq, shared by frame.jpg/MJPEG clients */
  size_t jpg_len;
  uint64_t jpg_seq;
  uint64_t jpg_encoding; /* the frame a client is encoding now (0 = none): others wait for it */
} stream_ent;

struct srv_streams {
  vg_server *srv;
  pthread_mutex_t mu;
  pthread_cond_t frame_cv; /* a stream's latest frame changed */
  stream_ent ents[MAX_STREAMS];
  int next_sid;
  vg_queue *queue;
  int queue_cap;
  vg_graph *g;
  vg_run *r;
  bool has_sink;
  char graph_path[SRV_PATH_MAX];
  atomic_bool stopping;
  vg_decoder_kind decoder;
  vg_device device;
  bool default_realtime;
  atomic_ulong queue_drops;
};

/* ------------------------------------------------------------------ lookup (hub->mu) */

static stream_ent *by_id(srv_streams *h, const char *id) {
  for (int i = 0; i < MAX_STREAMS; i++)
    if (h->ents[i].used && strcmp(h->ents[i].id, id) == 0) return &h->ents[i];
  return NULL;
}

static stream_ent *by_sid(srv_streams *h, int sid) {
  for (int i = 0; i < MAX_STREAMS; i++)
    if (h->ents[i].used && h->ents[i].sid == sid) return &h->ents[i];
  return NULL;
}

static void set_state(srv_streams *h, stream_ent *e, const char *state) {
  if (strcmp(e->state, state) == 0) return;
  snprintf(e->state, sizeof e->state, "%s", state);
  srv_evlog_push(h->srv->events, "stream", e->id,
                 json_pack("{s:s,s:s,s:f}", "id", e->id, "state", state, "fps", e->fps));
}

static void set_latest(srv_streams *h, int sid, vg_packet *p) {
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_sid(h, sid);
  if (e) {
    vg_packet *old = e->latest;
    e->latest = vg_packet_ref(p);
    e->latest_seq++;
    pthread_cond_broadcast(&h->frame_cv);
    pthread_mutex_unlock(&h->mu);
    if (old) vg_packet_unref(old);
    return;
  }
  pthread_mutex_unlock(&h->mu);
}

/* ------------------------------------------------------------------ the `streams` node */

static vg_status feeder_init(vg_node *self, const vg_cnode *params, void **state) {
  static const char *const known[] = {"decoder", "realtime", "queue_size", NULL};
  VG_TRY(vg_params_check(self, params, known));
  vg_server *s = vg_node_host(self);
  if (!s || !s->streams)
    return vg_set_error(VG_ERR_UNSUPPORTED, "the 'streams' node runs only inside `vidgraph serve` "
                                            "(it is fed by POST /api/streams)");
  srv_streams *h = s->streams;
  const char *dec = "auto";
  if (params) VG_TRY(vg_cfg_string(params, "decoder", false, "auto", &dec));
  if (vg_decoder_parse(dec, &h->decoder) != VG_OK)
    return vg_set_error(VG_ERR_PARSE, "decoder must be auto, nvdec or cpu, got '%s'", dec);
  bool rt = true;
  int64_t qs = 8;
  if (params) VG_TRY(vg_cfg_bool(params, "realtime", false, true, &rt));
  if (params) VG_TRY(vg_cfg_int_range(params, "queue_size", false, 8, 1, 256, &qs));
  h->default_realtime = rt;
  h->device = vg_node_device(self);
  if (!h->queue) {
    VG_TRY(vg_queue_create((size_t)qs, &h->queue));
    h->queue_cap = (int)qs;
  }
  *state = h;
  return VG_OK;
}

static vg_status feeder_process(vg_call *c) {
  srv_streams *h = c->state;
  void *item = NULL;
  vg_status st = vg_queue_pop(h->queue, &item, READ_WAIT_MS);
  if (st == VG_ERR_TIMEOUT) {
    vg_clear_error();
    return atomic_load(&h->stopping) ? vg_set_error(VG_ERR_EOF, "server stopping") : VG_OK;
  }
  if (st == VG_ERR_EOF) return st;
  VG_TRY(st);
  vg_packet *p = item;
  if (!h->has_sink && vg_packet_frame(p)) set_latest(h, vg_packet_stream(p), p);
  c->io[0].out[0] = p;
  return VG_OK;
}

static char *feeder_describe(void *state) {
  srv_streams *h = state;
  json_t *o =
      json_pack("{s:i,s:i,s:I}", "queue_depth", (int)vg_queue_size(h->queue), "queue_capacity",
                h->queue_cap, "queue_drops", (json_int_t)atomic_load(&h->queue_drops));
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type srv_node_streams = {
    .name = "streams",
    .doc = "the server's live streams (POST /api/streams adds one without restarting the graph)",
    .outputs = {{"out", VG_PORT_FRAME}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .flags = VG_NODE_SOURCE,
    .init = feeder_init,
    .process = feeder_process,
    .describe = feeder_describe,
};

/* ------------------------------------------------------------------ reader threads */

typedef struct reader_arg {
  srv_streams *h;
  stream_ent *e;
} reader_arg;

static void on_source_event(void *user, const vg_video_event *ev) {
  reader_arg *a = user;
  pthread_mutex_lock(&a->h->mu);
  if (ev->kind == VG_VIDEO_EVENT_RECONNECTING) set_state(a->h, a->e, "reconnecting");
  if (ev->kind == VG_VIDEO_EVENT_RECONNECTED) {
    a->e->reconnects++;
    set_state(a->h, a->e, "running");
  }
  if ((ev->kind == VG_VIDEO_EVENT_DISCONNECTED || ev->kind == VG_VIDEO_EVENT_GAVE_UP) && ev->reason)
    snprintf(a->e->last_error, sizeof a->e->last_error, "%s", ev->reason);
  pthread_mutex_unlock(&a->h->mu);
}

/* Pushes p: a real-time stream drops it when the queue is full, a file stream waits. */
static void push_packet(srv_streams *h, stream_ent *e, vg_packet *p, bool must) {
  if (e->realtime && !must) {
    if (vg_queue_try_push(h->queue, p) == VG_OK) return;
    vg_clear_error();
    pthread_mutex_lock(&h->mu);
    e->drops++;
    pthread_mutex_unlock(&h->mu);
    atomic_fetch_add(&h->queue_drops, 1);
    vg_packet_unref(p);
    return;
  }
  for (int tries = 0; !atomic_load(&h->stopping); tries++) {
    if (vg_queue_push(h->queue, p, READ_WAIT_MS) == VG_OK) return;
    vg_clear_error();
    if (!must && atomic_load(&e->remove)) break;
    if (must && tries > 20) break;
  }
  vg_packet_unref(p);
}

static void update_fps(srv_streams *h, stream_ent *e) {
  int64_t now = vg_now_ns();
  if (!e->fps_t0) {
    e->fps_t0 = now;
    e->fps_n0 = e->frames;
    return;
  }
  if (now - e->fps_t0 < 1000000000LL) return;
  e->fps = (double)(e->frames - e->fps_n0) * 1e9 / (double)(now - e->fps_t0);
  e->fps_t0 = now;
  e->fps_n0 = e->frames;
  srv_evlog_push(h->srv->events, "stream", e->id,
                 json_pack("{s:s,s:s,s:f,s:I,s:I}", "id", e->id, "state", e->state, "fps", e->fps,
                           "frames", (json_int_t)e->frames, "drops", (json_int_t)e->drops));
}

static void *reader_main(void *arg) {
  reader_arg *a = arg;
  srv_streams *h = a->h;
  stream_ent *e = a->e;
  int64_t next_frame = 0;
  while (!atomic_load(&e->remove) && !atomic_load(&h->stopping)) {
    vg_frame f;
    vg_status st = vg_source_read(e->src, &f, READ_WAIT_MS);
    if (st == VG_ERR_TIMEOUT) {
      vg_clear_error();
      continue;
    }
    if (st != VG_OK) {
      pthread_mutex_lock(&h->mu);
      if (st == VG_ERR_EOF) {
        set_state(h, e, "ended");
      } else {
        snprintf(e->last_error, sizeof e->last_error, "%s", vg_last_error());
        set_state(h, e, "failed");
      }
      pthread_mutex_unlock(&h->mu);
      break;
    }
    vg_packet *p = NULL;
    if (vg_packet_new(&p) == VG_OK) {
      vg_packet_set_stream(p, e->sid, f.frame_no);
      vg_packet_set_pts(p, f.pts, f.t_capture_ns ? f.t_capture_ns : vg_now_ns());
      vg_packet_set_frame(p, &f);
    }
    next_frame = f.frame_no + 1;
    if (e->decode_lat && f.t_decode_ns >= f.t_capture_ns && f.t_capture_ns > 0)
      vg_latency_add_ns(e->decode_lat, f.t_decode_ns - f.t_capture_ns);
    vg_frame_release(&f);
    pthread_mutex_lock(&h->mu);
    e->frames++;
    set_state(h, e, "running");
    update_fps(h, e);
    vg_source_get_info(e->src, &e->info);
    pthread_mutex_unlock(&h->mu);
    if (p) push_packet(h, e, p, false);
  }
  /* the stream's last packet: trackers and counters end its tracks */
  vg_packet *eos;
  if (!atomic_load(&h->stopping) && vg_packet_new(&eos) == VG_OK) {
    vg_packet_set_stream(eos, e->sid, next_frame);
    vg_packet_set_pts(eos, INT64_MIN, vg_now_ns());
    vg_packet_set_flags(eos, VG_PACKET_EOS);
    push_packet(h, e, eos, true);
  }
  free(a);
  return NULL;
}

/* ------------------------------------------------------------------ add / remove */

static bool valid_id(const char *id) {
  if (!id[0] || strlen(id) >= 64) return false;
  for (const char *p = id; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') return false;
  return true;
}

/* Opens the source and starts its reader. id "" = generated. On failure: status, message set. */
static vg_status add_stream(srv_streams *h, const char *id, const char *url, bool loop,
                            bool realtime, char *out_id, size_t cap) {
  pthread_mutex_lock(&h->mu);
  stream_ent *e = NULL;
  if (id[0] && by_id(h, id)) {
    pthread_mutex_unlock(&h->mu);
    return vg_set_error(VG_ERR_STATE, "id: a stream '%s' exists already", id);
  }
  for (int i = 0; i < MAX_STREAMS && !e; i++)
    if (!h->ents[i].used) e = &h->ents[i];
  if (!e) {
    pthread_mutex_unlock(&h->mu);
    return vg_set_error(VG_ERR_NO_MEMORY, "at most %d streams; remove one first", MAX_STREAMS);
  }
  memset(e, 0, sizeof *e);
  e->used = true;
  if (vg_latency_create(&e->decode_lat) != VG_OK) vg_clear_error(); /* metrics only: go on */
  e->sid = h->next_sid++;
  if (id[0])
    snprintf(e->id, sizeof e->id, "%s", id);
  else
    snprintf(e->id, sizeof e->id, "cam%d", e->sid + 1);
  snprintf(e->url, sizeof e->url, "%s", url);
  snprintf(e->state, sizeof e->state, "starting");
  e->loop = loop;
  e->realtime = realtime;
  atomic_init(&e->remove, false);
  snprintf(out_id, cap, "%s", e->id);
  pthread_mutex_unlock(&h->mu);
  reader_arg *a = malloc(sizeof *a);
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.stream_id = e->sid;
  o.loop = loop;
  o.realtime = realtime;
  o.decoder = h->decoder;
  o.device = h->device.kind == VG_DEVICE_CUDA ? h->device.ordinal : 0;
  o.on_event = on_source_event;
  o.event_user = a;
  vg_status st =
      a ? vg_source_open(url, &o, &e->src) : vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  if (st == VG_OK) {
    a->h = h;
    a->e = e;
    vg_source_get_info(e->src, &e->info);
    if (pthread_create(&e->th, NULL, reader_main, a) != 0)
      st = vg_set_error(VG_ERR_INTERNAL, "cannot start the reader thread of stream '%s'", e->id);
    else
      e->th_started = true;
  }
  if (st != VG_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    if (e->src) vg_source_close(e->src);
    free(a);
    pthread_mutex_lock(&h->mu);
    vg_latency_destroy(e->decode_lat);
    e->decode_lat = NULL;
    e->used = false;
    pthread_mutex_unlock(&h->mu);
    return vg_set_error(st, "url: %s", msg);
  }
  pthread_mutex_lock(&h->mu);
  srv_evlog_push(
      h->srv->events, "stream", e->id,
      json_pack("{s:s,s:s,s:s,s:f}", "id", e->id, "state", e->state, "url", e->url, "fps", 0.0));
  pthread_mutex_unlock(&h->mu);
  return VG_OK;
}

/* Stops the reader (it sends the stream's end-of-stream packet), closes the source, frees. */
static void remove_stream(srv_streams *h, stream_ent *e) {
  atomic_store(&e->remove, true);
  if (e->th_started) pthread_join(e->th, NULL);
  vg_source_close(e->src);
  pthread_mutex_lock(&h->mu);
  vg_packet *latest = e->latest;
  srv_evlog_push(h->srv->events, "stream", e->id,
                 json_pack("{s:s,s:s,s:f}", "id", e->id, "state", "removed", "fps", 0.0));
  e->latest = NULL;
  vg_latency_destroy(e->decode_lat);
  e->decode_lat = NULL;
  free(e->jpg);
  e->jpg = NULL;
  e->used = false;
  e->th_started = false;
  pthread_cond_broadcast(&h->frame_cv);
  pthread_mutex_unlock(&h->mu);
  if (latest) vg_packet_unref(latest);
}

/* ------------------------------------------------------------------ graph callbacks */

static void on_stream_event(void *user, const vg_node_event *ev) {
  srv_streams *h = user;
  if (ev->state == VG_NODE_PENDING || ev->state == VG_NODE_RUNNING) return;
  char sid[64] = "";
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_sid(h, ev->stream_id);
  if (e) snprintf(sid, sizeof sid, "%s", e->id);
  pthread_mutex_unlock(&h->mu);
  if (!sid[0]) return;
  srv_evlog_push(h->srv->events, "node", sid,
                 json_pack("{s:s,s:s,s:s,s:I,s:f}", "node", ev->node_id, "state",
                           vg_node_state_name(ev->state), "stream", sid, "frame",
                           (json_int_t)ev->frame_no, "duration_ms", (double)ev->duration_ns / 1e6));
  if (ev->state == VG_NODE_FAILED && ev->message)
    srv_evlog_push(
        h->srv->events, "error", sid,
        json_pack("{s:s,s:s,s:s}", "node", ev->node_id, "stream", sid, "message", ev->message));
}

static void on_sink_packet(void *user, const char *node_id, vg_packet *p) {
  srv_streams *h = user;
  if (vg_packet_flags(p) & VG_PACKET_EOS) return;
  if (vg_packet_frame(p)) set_latest(h, vg_packet_stream(p), p);
  const vg_objects *objs = vg_packet_objects(p);
  if (objs->count == 0) return;
  char sid[64] = "";
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_sid(h, vg_packet_stream(p));
  if (e) snprintf(sid, sizeof sid, "%s", e->id);
  pthread_mutex_unlock(&h->mu);
  if (!sid[0]) return;
  json_t *a = json_array();
  for (size_t i = 0; i < objs->count && i < 256; i++) {
    const vg_object *o = &objs->items[i];
    json_array_append_new(a,
                          json_pack("{s:[f,f,f,f],s:s,s:i,s:f,s:I,s:s}", "box", o->box.x1,
                                    o->box.y1, o->box.x2 - o->box.x1, o->box.y2 - o->box.y1,
                                    "label", o->label, "class_id", o->class_id, "score", o->score,
                                    "track_id", (json_int_t)o->track_id, "text", o->text));
  }
  srv_evlog_push(h->srv->events, "objects", sid,
                 json_pack("{s:s,s:I,s:s,s:o}", "stream", sid, "frame",
                           (json_int_t)vg_packet_frame_no(p), "node", node_id, "objects", a));
}

/* ------------------------------------------------------------------ start / stop */

static void cfg_path(vg_server *s, const char *v, char *out, size_t cap) {
  if (v[0] == '/' || srv_is_network_url(v) || !s->config_dir[0])
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "%s/%s", s->config_dir, v);
}

static vg_status initial_streams(vg_server *s) {
  const vg_cnode *list = vg_cnode_get(vg_config_root(s->config), "streams");
  if (!list) return VG_OK;
  if (vg_cnode_get_kind(list) != VG_CNODE_SEQ)
    return vg_cnode_error(list, VG_ERR_PARSE, "streams is a list of {id, url, loop}");
  for (size_t i = 0; i < vg_cnode_len(list); i++) {
    const vg_cnode *it = vg_cnode_at(list, i);
    const char *id = "", *url;
    bool loop = false, rt = s->streams->default_realtime;
    VG_TRY(vg_cfg_string(it, "url", true, NULL, &url));
    VG_TRY(vg_cfg_string(it, "id", false, "", &id));
    VG_TRY(vg_cfg_bool(it, "loop", false, false, &loop));
    VG_TRY(vg_cfg_bool(it, "realtime", false, rt, &rt));
    char path[SRV_PATH_MAX], got[64];
    cfg_path(s, url, path, sizeof path);
    VG_TRY(add_stream(s->streams, id, path, loop, rt, got, sizeof got));
  }
  return VG_OK;
}

vg_status srv_streams_start(vg_server *s) {
  const char *gp = NULL;
  if (!s->config ||
      vg_cfg_string(vg_config_root(s->config), "stream_graph", false, NULL, &gp) != VG_OK || !gp)
    return vg_last_status() == VG_OK || !s->config ? VG_OK : vg_last_status();
  srv_streams *h = calloc(1, sizeof *h);
  if (!h) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  h->srv = s;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->frame_cv, NULL);
  h->default_realtime = true;
  s->streams = h;
  cfg_path(s, gp, h->graph_path, sizeof h->graph_path);
  VG_TRY(vg_graph_load_file(h->graph_path, NULL, 0, s->registry, &h->g));
  int feeders = 0;
  for (int i = 0; i < vg_graph_node_count(h->g); i++) {
    const char *t = vg_graph_node_type(h->g, i)->name;
    feeders += strcmp(t, "streams") == 0;
    h->has_sink |= strcmp(t, "callback_sink") == 0;
  }
  if (feeders != 1)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "stream_graph '%s' needs exactly one node of type 'streams' (has %d)",
                        h->graph_path, feeders);
  vg_run_options opt = {
      .on_event = on_stream_event, .event_user = h, .model_cache = s->cache, .host = s};
  VG_TRY(vg_run_create(h->g, &opt, &h->r));
  for (int i = 0; i < vg_graph_node_count(h->g); i++)
    if (strcmp(vg_graph_node_type(h->g, i)->name, "callback_sink") == 0)
      VG_TRY(vg_run_on_packet(h->r, vg_graph_node_id(h->g, i), on_sink_packet, h));
  VG_TRY(vg_run_start(h->r));
  return initial_streams(s);
}

void srv_streams_shutdown(vg_server *s) {
  srv_streams *h = s->streams;
  if (!h) return;
  for (int i = 0; i < MAX_STREAMS; i++)
    if (h->ents[i].used) atomic_store(&h->ents[i].remove, true);
  for (int i = 0; i < MAX_STREAMS; i++) {
    pthread_mutex_lock(&h->mu);
    bool mine = h->ents[i].used && !h->ents[i].removing;
    if (mine) h->ents[i].removing = true;
    pthread_mutex_unlock(&h->mu);
    if (mine) remove_stream(h, &h->ents[i]); /* EOS packets go in first */
  }
  atomic_store(&h->stopping, true);
  if (h->r) {
    vg_run_stop(h->r);
    if (vg_run_wait(h->r, 10000) == VG_ERR_TIMEOUT) {
      vg_run_cancel(h->r);
      vg_run_wait(h->r, -1);
    }
    vg_run_summary sum;
    if (vg_run_get_summary(h->r, &sum) == VG_OK) {
      char *t = vg_run_summary_json(&sum);
      char path[SRV_PATH_MAX + 64];
      snprintf(path, sizeof path, "%s/streams-summary.json", s->cfg.output_root);
      FILE *f = t ? fopen(path, "w") : NULL;
      if (f) {
        fputs(t, f);
        fclose(f);
      }
      free(t);
      vg_run_summary_free(&sum);
    }
    vg_run_destroy(h->r);
  }
  if (h->queue) {
    void *item;
    vg_queue_close(h->queue);
    while (vg_queue_pop(h->queue, &item, 0) == VG_OK)
      vg_packet_unref(item);
    vg_queue_destroy(h->queue);
  }
  vg_clear_error();
  vg_graph_free(h->g);
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->frame_cv);
  free(h);
  s->streams = NULL;
}

void srv_streams_summary(vg_server *s, srv_summary_fn fn, void *user) {
  srv_streams *h = s->streams;
  vg_run_summary sum;
  if (!h || !h->r || vg_run_get_summary(h->r, &sum) != VG_OK) return;
  fn(user, "stream", h->r, &sum);
  vg_run_summary_free(&sum);
}

void srv_streams_metrics(vg_server *s, char **buf, size_t *len, size_t *cap) {
  srv_streams *h = s->streams;
  static const char *const fams[][3] = {
      {"vidgraph_stream_fps", "gauge", "frames per second a stream delivers (last second)"},
      {"vidgraph_stream_frames_total", "counter", "frames a stream decoded"},
      {"vidgraph_stream_drops_total", "counter", "frames dropped because the graph was behind"},
      {"vidgraph_stream_reconnects_total", "counter", "reconnects of a live stream"}};
  for (int f = 0; f < 4; f++) {
    srv_buf_printf(buf, len, cap, "# HELP %s %s\n# TYPE %s %s\n", fams[f][0], fams[f][2],
                   fams[f][0], fams[f][1]);
    if (!h) continue;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < MAX_STREAMS; i++) {
      stream_ent *e = &h->ents[i];
      if (!e->used) continue;
      if (f == 0)
        srv_buf_printf(buf, len, cap, "%s{stream=\"%s\"} %.3f\n", fams[f][0], e->id, e->fps);
      if (f > 0)
        srv_buf_printf(buf, len, cap, "%s{stream=\"%s\"} %llu\n", fams[f][0], e->id,
                       (unsigned long long)(f == 1   ? e->frames
                                            : f == 2 ? e->drops
                                                     : e->reconnects));
    }
    pthread_mutex_unlock(&h->mu);
  }
  srv_buf_printf(buf, len, cap,
                 "# HELP vidgraph_stream_decode_seconds a stream's decode latency per frame "
                 "(packet read -> picture ready)\n# TYPE vidgraph_stream_decode_seconds summary\n");
  if (h) {
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < MAX_STREAMS; i++) {
      stream_ent *e = &h->ents[i];
      if (!e->used || !e->decode_lat) continue;
      vg_latency_summary l;
      vg_latency_summarize(e->decode_lat, &l);
      static const double q[3] = {0.5, 0.9, 0.99};
      const double v[3] = {l.p50_ms, l.p90_ms, l.p99_ms};
      for (int k = 0; k < 3; k++)
        srv_buf_printf(buf, len, cap,
                       "vidgraph_stream_decode_seconds{stream=\"%s\",quantile=\"%g\"} %.6f\n",
                       e->id, q[k], v[k] / 1e3);
      srv_buf_printf(buf, len, cap,
                     "vidgraph_stream_decode_seconds_sum{stream=\"%s\"} %.6f\n"
                     "vidgraph_stream_decode_seconds_count{stream=\"%s\"} %llu\n",
                     e->id, l.mean_ms * (double)l.count / 1e3, e->id, (unsigned long long)l.count);
    }
    pthread_mutex_unlock(&h->mu);
  }
  srv_buf_printf(buf, len, cap,
                 "# HELP vidgraph_stream_queue_depth packets waiting in the feeder queue\n"
                 "# TYPE vidgraph_stream_queue_depth gauge\n");
  if (h && h->queue)
    srv_buf_printf(buf, len, cap, "vidgraph_stream_queue_depth %zu\n", vg_queue_size(h->queue));
}

/* ------------------------------------------------------------------ routes */

static json_t *stream_json(const stream_ent *e) {
  char dev[16];
  return json_pack("{s:s,s:s,s:s,s:f,s:I,s:I,s:I,s:o,s:b,s:{s:s,s:s,s:s,s:i,s:i,s:s}}", "id", e->id,
                   "url", e->url, "state", e->state, "fps", e->fps, "frames", (json_int_t)e->frames,
                   "drops", (json_int_t)e->drops, "reconnects", (json_int_t)e->reconnects,
                   "last_error", e->last_error[0] ? json_string(e->last_error) : json_null(),
                   "loop", e->loop, "source", "codec", e->info.codec, "decoder",
                   vg_decoder_name(e->info.decoder), "decoder_reason", e->info.decoder_reason,
                   "width", e->info.width, "height", e->info.height, "device",
                   vg_device_str(e->info.output_device, dev, sizeof dev));
}

static enum MHD_Result post_stream(srv_req *rq, srv_streams *h) {
  vg_server *s = rq->srv;
  enum MHD_Result ret;
  json_t *b = srv_body_object(rq, &ret);
  if (!b) return ret;
  const char *k;
  json_t *v;
  json_object_foreach(b, k, v) {
    if (strcmp(k, "url") && strcmp(k, "id") && strcmp(k, "loop") && strcmp(k, "realtime")) {
      enum MHD_Result bad =
          srv_reply_error(rq, 400, "bad_field", "%s: unknown field (url, id, loop, realtime)", k);
      json_decref(b); /* after the reply: k points into it */
      return bad;
    }
  }
  json_t *url = json_object_get(b, "url"), *id = json_object_get(b, "id");
  json_t *loop = json_object_get(b, "loop"), *rt = json_object_get(b, "realtime");
  const char *err = NULL;
  if (!json_is_string(url) || !json_string_value(url)[0])
    err = "url: a file path under a media root or an rtsp/http URL";
  else if (id && (!json_is_string(id) || !valid_id(json_string_value(id))))
    err = "id: 1..63 letters, digits, '_', '-' or '.'";
  else if ((loop && !json_is_boolean(loop)) || (rt && !json_is_boolean(rt)))
    err = "loop and realtime: true or false";
  if (err) {
    json_decref(b);
    return srv_reply_error(rq, 400, "bad_field", "%s", err);
  }
  char path[SRV_PATH_MAX];
  const char *u = json_string_value(url);
  if (srv_is_network_url(u)) {
    snprintf(path, sizeof path, "%s", u);
  } else if (srv_confine_path((const char(*)[SRV_PATH_MAX])s->media_roots, s->nmedia_roots, u,
                              "url", path, sizeof path) != VG_OK) {
    json_decref(b);
    return srv_reply_error(rq, vg_last_status() == VG_ERR_NOT_FOUND ? 404 : 400, "bad_path", "%s",
                           vg_last_error());
  }
  char got[64];
  vg_status st = add_stream(h, id ? json_string_value(id) : "", path, json_is_true(loop),
                            rt ? json_is_true(rt) : h->default_realtime, got, sizeof got);
  json_decref(b);
  if (st != VG_OK)
    return srv_reply_error(rq, st == VG_ERR_STATE ? 409 : 422,
                           st == VG_ERR_STATE ? "exists" : "open_failed", "%s", vg_last_error());
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_id(h, got);
  json_t *o = e ? stream_json(e) : json_pack("{s:s}", "id", got);
  pthread_mutex_unlock(&h->mu);
  return srv_reply_json(rq, 201, o);
}

/* The live graph as a whole: one run since the server started (streams never restart it). */
static json_t *graph_json(srv_streams *h) {
  vg_run_summary sum;
  if (!h->r || vg_run_get_summary(h->r, &sum) != VG_OK) return json_null();
  json_t *nodes = json_array();
  for (int i = 0; i < sum.nnodes; i++)
    json_array_append_new(
        nodes, json_pack("{s:s,s:s,s:I,s:I,s:f}", "id", sum.nodes[i].id, "type", sum.nodes[i].type,
                         "frames", (json_int_t)sum.nodes[i].frames, "calls",
                         (json_int_t)sum.nodes[i].calls, "mean_batch", sum.nodes[i].mean_batch));
  json_t *o =
      json_pack("{s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:o}", "path", h->graph_path, "state",
                vg_run_state_name(sum.state), "frames_in", (json_int_t)sum.frames_in, "frames_done",
                (json_int_t)sum.frames_done, "frames_dropped", (json_int_t)sum.frames_dropped,
                "wall_ms", sum.wall_ms, "fps", sum.fps, "nodes", nodes);
  vg_run_summary_free(&sum);
  return o;
}

enum MHD_Result srv_send_jpeg(srv_req *rq, srv_streams *h, const char *id);
enum MHD_Result srv_send_mjpeg(srv_req *rq, srv_streams *h, const char *id);

enum MHD_Result srv_route_streams(srv_req *rq, const char *id, const char *sub) {
  srv_streams *h = rq->srv->streams;
  const char *m = rq->method;
  if (!h)
    return srv_reply_error(rq, 409, "no_stream_graph",
                           "no streaming graph runs here: name one with stream_graph: in the "
                           "serve config (--config)");
  if (!id) {
    if (strcmp(m, "POST") == 0) return post_stream(rq, h);
    if (strcmp(m, "GET") != 0)
      return srv_reply_error(rq, 405, "method_not_allowed", "/api/streams: GET or POST");
    json_t *list = json_array();
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < MAX_STREAMS; i++)
      if (h->ents[i].used) json_array_append_new(list, stream_json(&h->ents[i]));
    pthread_mutex_unlock(&h->mu);
    return srv_reply_json(rq, 200, json_pack("{s:o,s:o}", "streams", list, "graph", graph_json(h)));
  }
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_id(h, id);
  if (e && e->removing) e = NULL;
  json_t *o = e && !sub && strcmp(m, "GET") == 0 ? stream_json(e) : NULL;
  bool del = e && !sub && strcmp(m, "DELETE") == 0;
  if (del) e->removing = true;
  pthread_mutex_unlock(&h->mu);
  if (!e)
    return srv_reply_error(rq, 404, "not_found", "no stream '%s' (GET /api/streams lists them)",
                           id);
  if (o) return srv_reply_json(rq, 200, o);
  if (sub && strcmp(sub, "frame.jpg") == 0 && strcmp(m, "GET") == 0)
    return srv_send_jpeg(rq, h, id);
  if (sub && strcmp(sub, "mjpeg") == 0 && strcmp(m, "GET") == 0) return srv_send_mjpeg(rq, h, id);
  if (sub) return srv_reply_error(rq, 404, "not_found", "no route %s %s", m, rq->url);
  if (del) {
    remove_stream(h, e);
    return srv_reply_json(rq, 204, NULL);
  }
  return srv_reply_error(rq, 405, "method_not_allowed", "/api/streams/{id}: GET or DELETE");
}

/* ------------------------------------------------------------------ JPEG and MJPEG */

/* The latest frame of a stream (a packet reference), its sequence and the stream's graph id, or
 * NULL. */
static vg_packet *latest_of(srv_streams *h, const char *id, uint64_t *seq, int *sid, bool *gone) {
  pthread_mutex_lock(&h->mu);
  stream_ent *e = by_id(h, id);
  vg_packet *p = e && e->latest ? vg_packet_ref(e->latest) : NULL;
  if (seq) *seq = e ? e->latest_seq : 0;
  if (sid) *sid = e ? e->sid : -1;
  if (gone) *gone = !e;
  pthread_mutex_unlock(&h->mu);
  return p;
}

/* Encodes the packet's frame (nvJPEG for device frames where usable; vg_jpeg_encode decides) and
 * counts how: a device frame read back is the only frame copy to the host a view makes. */
static vg_status encode(vg_server *s, vg_packet *p, uint8_t **jpg, size_t *n) {
  vg_jpeg_path how = VG_JPEG_HOST;
  vg_status st = vg_jpeg_encode_ex(vg_packet_frame(p), 80, jpg, n, &how);
  if (st != VG_OK) return st;
  atomic_fetch_add(&s->jpeg_by_path[how], 1);
  if (how == VG_JPEG_NVJPEG) atomic_fetch_add(&s->jpeg_gpu_bytes, *n);
  return VG_OK;
}

/* Called with h->mu held: waits (bounded) while another client encodes frame seq of stream sid,
 * then returns the entry when its cached JPEG is that frame, else NULL. */
static stream_ent *cached_jpeg(srv_streams *h, const char *id, int sid, uint64_t seq) {
  int64_t t0 = vg_now_ns();
  for (;;) {
    stream_ent *e = by_id(h, id);
    if (!e || e->sid != sid) return NULL;
    if (e->jpg && e->jpg_seq == seq) return e;
    if (e->jpg_encoding != seq || vg_now_ns() - t0 > 5000000000LL) return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&h->frame_cv, &h->mu, &ts);
  }
}

/* The JPEG of frame `seq` of stream `sid` (packet p) into *jpg (malloc'd, the caller's): the
 * first client to ask for a frame encodes it (others wait for it, bounded) and leaves it in the
 * stream's one-frame cache, so N viewers of a stream cost one encode per frame. sid tells a
 * stream from a later one with the same id (graph stream ids are never reused). */
static vg_status jpeg_of(srv_streams *h, const char *id, int sid, uint64_t seq, vg_packet *p,
                         uint8_t **jpg, size_t *n) {
  *jpg = NULL;
  pthread_mutex_lock(&h->mu);
  stream_ent *e = cached_jpeg(h, id, sid, seq);
  if (e && (*jpg = malloc(e->jpg_len)) != NULL) {
    memcpy(*jpg, e->jpg, e->jpg_len);
    *n = e->jpg_len;
  }
  stream_ent *mine = e ? NULL : by_id(h, id);
  if (mine && mine->sid == sid && seq > mine->jpg_encoding) mine->jpg_encoding = seq;
  pthread_mutex_unlock(&h->mu);
  if (e) {
    if (!*jpg) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a JPEG");
    atomic_fetch_add(&h->srv->jpeg_cache_hits, 1);
    return VG_OK;
  }
  vg_status st = encode(h->srv, p, jpg, n);
  uint8_t *copy = st == VG_OK ? malloc(*n) : NULL;
  if (copy) memcpy(copy, *jpg, *n);
  pthread_mutex_lock(&h->mu);
  e = by_id(h, id);
  if (e && e->sid == sid) {
    if (copy && (!e->jpg || seq > e->jpg_seq)) {
      free(e->jpg);
      e->jpg = copy;
      e->jpg_len = *n;
      e->jpg_seq = seq;
      copy = NULL;
    }
    if (e->jpg_encoding == seq) e->jpg_encoding = 0; /* waiters: take it, or encode themselves */
    pthread_cond_broadcast(&h->frame_cv);
  }
  pthread_mutex_unlock(&h->mu);
  free(copy);
  return st;
}

enum MHD_Result srv_send_jpeg(srv_req *rq, srv_streams *h, const char *id) {
  uint64_t seq = 0;
  int sid = -1;
  vg_packet *p = latest_of(h, id, &seq, &sid, NULL);
  if (!p) return srv_reply_error(rq, 404, "no_frame", "stream '%s' has no frame yet", id);
  uint8_t *jpg = NULL;
  size_t n = 0;
  vg_status st = jpeg_of(h, id, sid, seq, p, &jpg, &n);
  vg_packet_unref(p);
  if (st != VG_OK) return srv_reply_error(rq, 500, "encode_failed", "%s", vg_last_error());
  struct MHD_Response *r = MHD_create_response_from_buffer(n, jpg, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(jpg);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "image/jpeg");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  return ret;
}

typedef struct mjpeg_client {
  vg_server *srv;
  srv_streams *h;
  char id[64];
  uint64_t seq;
  uint8_t *part;
  size_t len, off;
} mjpeg_client;

static ssize_t mjpeg_read(void *cls, uint64_t pos, char *out, size_t max) {
  mjpeg_client *c = cls;
  srv_streams *h = c->h;
  while (c->off == c->len) {
    free(c->part);
    c->part = NULL;
    c->off = c->len = 0;
    uint64_t seq = 0;
    int sid = -1;
    bool gone;
    vg_packet *p = NULL;
    int64_t t0 = vg_now_ns();
    pthread_mutex_lock(&h->mu);
    for (;;) {
      stream_ent *e = by_id(h, c->id);
      gone = !e;
      if (gone || atomic_load(&c->srv->stopping) || atomic_load(&h->stopping)) break;
      if (e->latest && e->latest_seq != c->seq) {
        if (c->seq && e->latest_seq > c->seq + 1)
          atomic_fetch_add(&c->srv->mjpeg_frames_skipped, e->latest_seq - c->seq - 1);
        p = vg_packet_ref(e->latest);
        seq = e->latest_seq;
        sid = e->sid;
        break;
      }
      if (vg_now_ns() - t0 > 30000000000LL) break; /* no frame for 30 s */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 250000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&h->frame_cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    if (!p) return MHD_CONTENT_READER_END_OF_STREAM;
    c->seq = seq;
    uint8_t *jpg = NULL;
    size_t n = 0;
    vg_status st = jpeg_of(h, c->id, sid, seq, p, &jpg, &n);
    vg_packet_unref(p);
    if (st != VG_OK) return MHD_CONTENT_READER_END_WITH_ERROR;
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", n);
    c->part = malloc((size_t)hl + n + 2);
    if (!c->part) {
      free(jpg);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    memcpy(c->part, head, (size_t)hl);
    memcpy(c->part + hl, jpg, n);
    memcpy(c->part + hl + n, "\r\n", 2);
    c->len = (size_t)hl + n + 2;
    free(jpg);
  }
  size_t n = c->len - c->off < max ? c->len - c->off : max;
  memcpy(out, c->part + c->off, n);
  c->off += n;
  return (ssize_t)n;
}

static void mjpeg_free(void *cls) {
  mjpeg_client *c = cls;
  atomic_fetch_sub(&c->srv->sse_clients, 1);
  free(c->part);
  free(c);
}

enum MHD_Result srv_send_mjpeg(srv_req *rq, srv_streams *h, const char *id) {
  mjpeg_client *c = calloc(1, sizeof *c);
  if (!c) return srv_reply_error(rq, 503, "no_memory", "out of memory");
  c->srv = rq->srv;
  c->h = h;
  snprintf(c->id, sizeof c->id, "%s", id);
  atomic_fetch_add(&rq->srv->sse_clients, 1);
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, mjpeg_read, c, mjpeg_free);
  if (!r) {
    mjpeg_free(c);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "multipart/x-mixed-replace; boundary=frame");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
  MHD_destroy_response(r);
  rq->status = 200;
  return ret;
}
