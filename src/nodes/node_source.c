/* node_source.c - the `source` node: opens one or more video sources (files, elementary
 * streams, RTSP/HTTP, images) with the video layer and emits one packet per decoded frame.
 *
 * Demux and decode are one node: vg_source runs both on its reader thread with a bounded set of
 * frames (NVDEC surfaces stay in device memory), so there is nothing to gain from sending
 * compressed packets along an edge. `decoder: auto|nvdec|cpu` picks the decoder; why it was
 * picked is in the node's describe() and so in the run summary. Several URLs give several
 * streams (stream ids stream_id, stream_id+1, ...), read round-robin. */
#include "node_util.h"
#include "vidgraph/vg_video.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URLS 64

typedef struct src_state {
  int n;
  vg_source *src[MAX_URLS];
  bool eof[MAX_URLS]; /* the source ended and its end-of-stream packet went out */
  int stream_id[MAX_URLS];
  int64_t next_frame[MAX_URLS]; /* frame number the end-of-stream packet carries */
  char *url[MAX_URLS];
  int next;
  int64_t t0_ns;
  int64_t max_frames; /* per stream, 0 = all: the progress denominator */
} src_state;

static const char *const k_params[] = {"url",
                                       "decoder",
                                       "loop",
                                       "start_sec",
                                       "max_frames",
                                       "realtime",
                                       "stream_id",
                                       "device",
                                       "output_frames",
                                       "threads",
                                       "open_timeout_ms",
                                       "read_timeout_ms",
                                       "reconnect_attempts",
                                       "image_fps",
                                       NULL};

static void src_destroy(void *state) {
  src_state *s = state;
  if (!s) return;
  for (int i = 0; i < s->n; i++) {
    vg_source_close(s->src[i]);
    free(s->url[i]);
  }
  free(s);
}

static vg_status read_opts(vg_node *self, const vg_cnode *p, vg_source_opts *o) {
  const char *dec;
  int64_t v;
  vg_source_opts_default(o);
  VG_TRY(vg_cfg_string(p, "decoder", false, "auto", &dec));
  if (vg_decoder_parse(dec, &o->decoder) != VG_OK)
    return vg_cnode_error(vg_cnode_get(p, "decoder"), VG_ERR_PARSE,
                          "decoder must be auto, nvdec or cpu, got '%s'", dec);
  VG_TRY(vg_cfg_bool(p, "loop", false, false, &o->loop));
  VG_TRY(vg_cfg_bool(p, "realtime", false, false, &o->realtime));
  VG_TRY(vg_cfg_double_range(p, "start_sec", false, 0, 0, 1e9, &o->start_sec));
  VG_TRY(vg_cfg_int_range(p, "max_frames", false, 0, 0, INT64_MAX, &v));
  o->max_frames = v;
  int dev_default = vg_node_device(self).kind == VG_DEVICE_CUDA ? vg_node_device(self).ordinal : 0;
  VG_TRY(vg_cfg_int_range(p, "device", false, dev_default, 0, 64, &v));
  o->device = (int)v;
  VG_TRY(vg_cfg_int_range(p, "output_frames", false, o->output_frames, 2, 64, &v));
  o->output_frames = (int)v;
  VG_TRY(vg_cfg_int_range(p, "threads", false, 0, 0, 64, &v));
  o->threads = (int)v;
  VG_TRY(vg_cfg_int_range(p, "open_timeout_ms", false, o->open_timeout_ms, 1, 600000, &v));
  o->open_timeout_ms = (int)v;
  VG_TRY(vg_cfg_int_range(p, "read_timeout_ms", false, o->read_timeout_ms, 1, 600000, &v));
  o->read_timeout_ms = (int)v;
  VG_TRY(vg_cfg_int_range(p, "reconnect_attempts", false, o->reconnect_attempts, -1, 1000000, &v));
  o->reconnect_attempts = (int)v;
  VG_TRY(vg_cfg_double_range(p, "image_fps", false, o->image_fps, 0.001, 1000, &o->image_fps));
  return VG_OK;
}

/* `url` is a string or a list of strings. */
static vg_status read_urls(const vg_cnode *p, const char **urls, int *n) {
  const vg_cnode *u = vg_cnode_get(p, "url");
  *n = 0;
  if (!u)
    return vg_set_error(VG_ERR_NOT_FOUND,
                        "missing required parameter 'url' (a path, URL or list of them)");
  if (vg_cnode_get_kind(u) == VG_CNODE_SCALAR) {
    VG_TRY(vg_cnode_as_string(u, &urls[0]));
    *n = 1;
  } else if (vg_cnode_get_kind(u) == VG_CNODE_SEQ) {
    if (vg_cnode_len(u) == 0 || vg_cnode_len(u) > MAX_URLS)
      return vg_cnode_error(u, VG_ERR_PARSE, "url lists 1..%d sources", MAX_URLS);
    for (size_t i = 0; i < vg_cnode_len(u); i++)
      VG_TRY(vg_cnode_as_string(vg_cnode_at(u, i), &urls[i]));
    *n = (int)vg_cnode_len(u);
  } else {
    return vg_cnode_error(u, VG_ERR_PARSE, "url must be a string or a list of strings");
  }
  for (int i = 0; i < *n; i++)
    if (!urls[i][0]) return vg_cnode_error(u, VG_ERR_PARSE, "empty url");
  return VG_OK;
}

static vg_status src_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  const char *urls[MAX_URLS];
  int n;
  VG_TRY(read_urls(params, urls, &n));
  vg_source_opts o;
  VG_TRY(read_opts(self, params, &o));
  int64_t sid;
  VG_TRY(vg_cfg_int_range(params, "stream_id", false, 0, 0, 1 << 20, &sid));
  src_state *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  s->max_frames = o.loop ? 0 : o.max_frames;
  for (int i = 0; i < n; i++) {
    o.stream_id = (int)sid + i;
    vg_status st = vg_source_open(urls[i], &o, &s->src[i]);
    if (st != VG_OK) {
      src_destroy(s);
      return st;
    }
    s->url[i] = strdup(urls[i]);
    s->stream_id[i] = o.stream_id;
    s->n = i + 1;
  }
  *state = s;
  return VG_OK;
}

/* The last packet of a stream: no picture, VG_PACKET_EOS (trackers end their tracks on it). */
static vg_status emit_eos(vg_call *c, int stream, int64_t frame_no) {
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_packet_set_stream(p, stream, frame_no);
  vg_packet_set_pts(p, INT64_MIN, vg_now_ns());
  vg_packet_set_flags(p, VG_PACKET_EOS);
  c->io[0].out[0] = p;
  return VG_OK;
}

static vg_status emit(vg_call *c, const vg_frame *f) {
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_packet_set_stream(p, f->stream_id, f->frame_no);
  vg_packet_set_pts(p, f->pts, f->t_capture_ns ? f->t_capture_ns : vg_now_ns());
  vg_packet_set_frame(p, f);
  c->io[0].out[0] = p;
  return VG_OK;
}

static vg_status src_process(vg_call *c) {
  src_state *s = c->state;
  if (!s->t0_ns) s->t0_ns = vg_now_ns();
  for (;;) {
    int live = 0;
    for (int k = 0; k < s->n; k++) {
      int i = (s->next + k) % s->n;
      if (s->eof[i]) continue;
      live++;
      vg_frame f;
      vg_status st = vg_source_read(s->src[i], &f, s->n == 1 ? 100 : 5);
      if (st == VG_ERR_EOF) {
        s->eof[i] = true;
        return emit_eos(c, s->stream_id[i], s->next_frame[i]);
      }
      if (st == VG_ERR_TIMEOUT) continue;
      if (st != VG_OK) return vg_wrap_error(st, "source '%s'", s->url[i]);
      s->next = (i + 1) % s->n;
      s->next_frame[i] = f.frame_no + 1;
      st = emit(c, &f);
      vg_frame_release(&f);
      return st;
    }
    if (live == 0) return VG_ERR_EOF;
    if (vg_node_canceled(c->node)) return vg_set_error(VG_ERR_CANCELED, "canceled");
  }
}

static char *src_describe(void *state) {
  src_state *s = state;
  json_t *streams = json_array();
  double total_frames = 0;
  for (int i = 0; i < s->n; i++) {
    vg_source_info in;
    vg_source_get_info(s->src[i], &in);
    char dev[16];
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:i,s:i,s:f,s:f,s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "url", in.url, "container",
        in.container, "codec", in.codec, "width", in.width, "height", in.height, "fps", in.fps,
        "duration_sec", in.duration_sec, "decoder", vg_decoder_name(in.decoder), "decoder_reason",
        in.decoder_reason, "device", vg_device_str(in.output_device, dev, sizeof dev), "frames",
        (json_int_t)in.frames_out, "corrupt_packets", (json_int_t)in.corrupt_packets, "reconnects",
        (json_int_t)in.reconnects, "live", in.live);
    if (j) json_array_append_new(streams, j);
    double total = in.duration_sec > 0 && in.fps > 0 && !in.live ? in.duration_sec * in.fps : 0;
    if (s->max_frames > 0 && (total == 0 || (double)s->max_frames < total))
      total = (double)s->max_frames;
    total_frames += total;
  }
  json_t *o = json_pack("{s:o}", "streams", streams);
  /* frames the sources will deliver in all (files): with the run's frames done, the progress */
  if (total_frames > 0) json_object_set_new(o, "total_frames", json_real(total_frames));
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

const vg_node_type vg_node_source = {
    .name = "source",
    .doc = "video/image source with decoding (NVDEC or CPU): url, decoder, loop, max_frames",
    .outputs = {{"out", VG_PORT_FRAME}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .flags = VG_NODE_SOURCE,
    .init = src_init,
    .process = src_process,
    .destroy = src_destroy,
    .describe = src_describe,
};
