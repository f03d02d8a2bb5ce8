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

typedef struct src_urls {
  int n;
  const char *v[MAX_URLS];
} src_urls;

typedef struct src_state {
  src_urls urls;
  int decoder; /* index in k_decoders */
  bool loop, realtime;
  double start_sec, image_fps;
  int64_t max_frames; /* per stream, 0 = all: also the progress denominator (0 when looping) */
  int stream_id, device, output_frames, threads, open_timeout_ms, read_timeout_ms,
      reconnect_attempts;
  int n;
  vg_source *src[MAX_URLS];
  bool eof[MAX_URLS];   /* the source ended and its end-of-stream packet went out */
  bool still[MAX_URLS]; /* images (a file or a folder): every frame is VG_PACKET_STILL */
  int ids[MAX_URLS];
  int64_t next_frame[MAX_URLS]; /* frame number the end-of-stream packet carries */
  int next;
  int64_t t0_ns;
} src_state;

/* `url` is a string or a list of strings. */
static vg_status read_urls(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  const vg_cnode *u = vg_cnode_get(params, p->name);
  src_urls *urls = field;
  if (!u)
    return vg_set_error(VG_ERR_NOT_FOUND,
                        "missing required parameter 'url' (a path, URL or list of them)");
  if (vg_cnode_get_kind(u) == VG_CNODE_SCALAR) {
    VG_TRY(vg_cnode_as_string(u, &urls->v[0]));
    urls->n = 1;
  } else if (vg_cnode_get_kind(u) == VG_CNODE_SEQ) {
    if (vg_cnode_len(u) == 0 || vg_cnode_len(u) > MAX_URLS)
      return vg_cnode_error(u, VG_ERR_PARSE, "url lists 1..%d sources", MAX_URLS);
    for (size_t i = 0; i < vg_cnode_len(u); i++)
      VG_TRY(vg_cnode_as_string(vg_cnode_at(u, i), &urls->v[i]));
    urls->n = (int)vg_cnode_len(u);
  } else {
    return vg_cnode_error(u, VG_ERR_PARSE, "url must be a string or a list of strings");
  }
  for (int i = 0; i < urls->n; i++)
    if (!urls->v[i][0]) return vg_cnode_error(u, VG_ERR_PARSE, "empty url");
  return VG_OK;
}

static const char *const k_decoders[] = {"auto", "nvdec", "cpu", NULL};

static const vg_param k_params[] = {
    VG_P_CUSTOM(src_state, urls, "url", read_urls,
                "file, RTSP/HTTP URL, image or image folder; a list gives several streams"),
    VG_P_ENUM(src_state, decoder, "decoder", "auto", k_decoders, "auto = NVDEC when it can"),
    VG_P_BOOL(src_state, loop, "loop", false, "start again at the end"),
    VG_P_DOUBLE(src_state, start_sec, "start_sec", 0, 0, 1e9, "seek to this time first"),
    VG_P_INT64(src_state, max_frames, "max_frames", 0, 0, INT64_MAX, "frames per stream; 0 = all"),
    VG_P_BOOL(src_state, realtime, "realtime", false, "pace files at their frame rate"),
    VG_P_INT(src_state, stream_id, "stream_id", 0, 0, 1 << 20, "stream id of the first url"),
    VG_P_INT(src_state, device, "device", -1, -1, 64, "CUDA device; -1 = the node's"),
    VG_P_INT(src_state, output_frames, "output_frames", VG_SOURCE_DEFAULT_OUTPUT_FRAMES, 2, 64,
             "decoded frames in flight"),
    VG_P_INT(src_state, threads, "threads", 0, 0, 64, "CPU decoder threads; 0 = automatic"),
    VG_P_INT(src_state, open_timeout_ms, "open_timeout_ms", VG_SOURCE_DEFAULT_OPEN_TIMEOUT_MS, 1,
             600000, "opening limit"),
    VG_P_INT(src_state, read_timeout_ms, "read_timeout_ms", VG_SOURCE_DEFAULT_READ_TIMEOUT_MS, 1,
             600000, "read limit"),
    VG_P_INT(src_state, reconnect_attempts, "reconnect_attempts",
             VG_SOURCE_DEFAULT_RECONNECT_ATTEMPTS, -1, 1000000,
             "live sources: reconnections after a drop; -1 = forever (a camera reboot takes "
             "30-90 s)"),
    VG_P_DOUBLE(src_state, image_fps, "image_fps", VG_SOURCE_DEFAULT_IMAGE_FPS, 0.001, 1000,
                "frame rate of images"),
    {0}};

static void src_destroy(void *state) {
  src_state *s = state;
  for (int i = 0; i < s->n; i++)
    vg_source_close(s->src[i]);
}

static vg_status src_init(vg_node *self, const vg_cnode *params, void **state) {
  src_state *s = *state;
  vg_source_opts o;
  vg_source_opts_default(&o);
  VG_TRY(vg_decoder_parse(k_decoders[s->decoder], &o.decoder));
  o.loop = s->loop;
  o.realtime = s->realtime;
  o.start_sec = s->start_sec;
  o.max_frames = s->max_frames;
  vg_device dev = vg_node_device(self);
  o.device = s->device >= 0 ? s->device : dev.kind == VG_DEVICE_CUDA ? dev.ordinal : 0;
  o.output_frames = s->output_frames;
  o.threads = s->threads;
  o.open_timeout_ms = s->open_timeout_ms;
  o.read_timeout_ms = s->read_timeout_ms;
  o.reconnect_attempts = s->reconnect_attempts;
  o.image_fps = s->image_fps;
  if (s->loop) s->max_frames = 0;
  for (int i = 0; i < s->urls.n; i++) {
    o.stream_id = s->stream_id + i;
    VG_TRY(vg_source_open(s->urls.v[i], &o, &s->src[i]));
    vg_source_info info;
    vg_source_get_info(s->src[i], &info);
    s->still[i] = info.decoder == VG_DECODER_NONE;
    s->ids[i] = o.stream_id;
    s->n = i + 1;
  }
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

static vg_status emit(vg_call *c, const vg_frame *f, bool still) {
  vg_packet *p;
  VG_TRY(vg_packet_new(&p));
  vg_packet_set_stream(p, f->stream_id, f->frame_no);
  vg_packet_set_pts(p, f->pts, f->t_capture_ns ? f->t_capture_ns : vg_now_ns());
  vg_packet_set_frame(p, f);
  if (still) vg_packet_set_flags(p, VG_PACKET_STILL);
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
        return emit_eos(c, s->ids[i], s->next_frame[i]);
      }
      if (st == VG_ERR_TIMEOUT) continue;
      if (st != VG_OK) return vg_wrap_error(st, "source '%s'", s->urls.v[i]);
      s->next = (i + 1) % s->n;
      s->next_frame[i] = f.frame_no + 1;
      st = emit(c, &f, s->still[i]);
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
    .params = k_params,
    .state_size = sizeof(src_state),
    .init = src_init,
    .process = src_process,
    .destroy = src_destroy,
    .describe = src_describe,
};
