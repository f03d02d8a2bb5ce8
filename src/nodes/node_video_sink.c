/* node_video_sink.c - the `video_sink` node: encodes the frames it receives (usually from an
 * overlay) into an H.264 MP4 per stream (annotated.mp4, then annotated_s1.mp4, ...). Encoding
 * runs on the encoder's own thread behind a bounded queue: by default a frame that finds the
 * queue full is dropped and counted (encoding never stalls decoding); `block: true` waits
 * instead (offline files). Device frames go to the encoder as they are: NVENC takes them
 * directly, libx264 gets them copied by the encoder (counted in its stats). Without FFmpeg (or
 * when the encoder cannot start) a sink with required: false disables itself and says why. */
#include "node_util.h"
#include "vidgraph/vg_video.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 16

typedef struct vs_state {
  const char *path, *codec;
  int preset, crf, bitrate_kbps, queue_frames;
  double fps;
  bool block, required;
  vg_encoder_opts opts;
  char disabled[512];
  pthread_mutex_t mu;
  bool mu_inited;
  int n;
  int stream_ids[MAX_STREAMS];
  vg_encoder *enc[MAX_STREAMS];
  char paths[MAX_STREAMS][1100];
  vg_encoder_stats final[MAX_STREAMS];
  bool closed[MAX_STREAMS];
} vs_state;

static const char *const k_presets[] = {"ultrafast", "superfast", "veryfast", "faster",
                                        "fast",      "medium",    "slow",     NULL};

static const vg_param k_params[] = {
    VG_P_STRING(vs_state, path, "path", "annotated.mp4",
                "file of the first stream; others get _s<stream> before the extension"),
    VG_P_STRING(vs_state, codec, "codec", "auto", "auto, an NVENC or a libx264 encoder name"),
    VG_P_INT(vs_state, crf, "crf", 23, 0, 51, "quality (libx264)"),
    VG_P_INT(vs_state, bitrate_kbps, "bitrate_kbps", 0, 0, 1000000, "0 = quality-based"),
    VG_P_ENUM(vs_state, preset, "preset", "veryfast", k_presets, "encoder speed preset"),
    VG_P_DOUBLE(vs_state, fps, "fps", 25, 0.1, 1000, "frame rate written in the file"),
    VG_P_BOOL(vs_state, block, "block", false, "wait when the queue is full instead of dropping"),
    VG_P_INT(vs_state, queue_frames, "queue_frames", 8, 1, 1024, "frames queued for the encoder"),
    VG_P_BOOL(vs_state, required, "required", true,
              "false: without FFmpeg the sink disables itself with the reason"),
    {0}};

static void vs_destroy(void *state) {
  vs_state *s = state;
  for (int i = 0; i < s->n; i++)
    if (!s->closed[i]) vg_encoder_close(s->enc[i]);
  if (s->mu_inited) pthread_mutex_destroy(&s->mu);
}

static vg_status vs_init(vg_node *self, const vg_cnode *params, void **state) {
  vs_state *s = *state;
  pthread_mutex_init(&s->mu, NULL);
  s->mu_inited = true;
  vg_encoder_opts_default(&s->opts);
  s->opts.codec = s->codec;
  s->opts.preset = k_presets[s->preset];
  s->opts.crf = s->crf;
  s->opts.bitrate_kbps = s->bitrate_kbps;
  s->opts.queue_frames = s->queue_frames;
  s->opts.fps_num = (int)(s->fps * 1000 + 0.5);
  s->opts.fps_den = 1000;
  s->opts.block_when_full = s->block;
  if (vg_node_device(self).kind == VG_DEVICE_CUDA) s->opts.device = vg_node_device(self).ordinal;
  if (!vg_video_have_ffmpeg()) {
    snprintf(
        s->disabled, sizeof s->disabled,
        "this build of vidgraph has no FFmpeg (built with VG_WITH_FFMPEG=OFF): no video encoding");
    if (s->required)
      return vg_set_error(VG_ERR_UNSUPPORTED, "%s; set required: false to run without it",
                          "this build has no FFmpeg, so it cannot write video");
    VG_LOGW("nodes", "node '%s' disabled: %s", vg_node_id(self), s->disabled);
  }
  return VG_OK;
}

/* annotated.mp4 for the first stream, annotated_s<id>.mp4 for the others. */
static void stream_path(const char *path, int idx, int stream, char *out, size_t cap) {
  if (idx == 0) {
    size_t n = strlen(path) < cap ? strlen(path) : cap - 1;
    memmove(out, path, n);
    out[n] = '\0';
    return;
  }
  const char *dot = strrchr(path, '.');
  int stem = dot ? (int)(dot - path) : (int)strlen(path);
  snprintf(out, cap, "%.*s_s%d%s", stem, path, stream, dot ? dot : "");
}

static vg_status encoder_for(vg_call *c, vs_state *s, const vg_frame *f, int stream,
                             vg_encoder **e) {
  for (int i = 0; i < s->n; i++)
    if (s->stream_ids[i] == stream) return (*e = s->enc[i]), VG_OK;
  if (s->n == MAX_STREAMS)
    return vg_node_error(c->node, VG_ERR_UNSUPPORTED, "more than %d streams", MAX_STREAMS);
  vg_encoder_opts o = s->opts;
  o.width = f->width;
  o.height = f->height;
  stream_path(s->path, s->n, stream, s->paths[s->n], sizeof s->paths[s->n]);
  vg_status st = vg_encoder_open(s->paths[s->n], &o, e);
  if (st != VG_OK)
    return vg_node_error(c->node, st, "cannot start the video encoder: %s", vg_last_error());
  s->stream_ids[s->n] = stream;
  s->enc[s->n++] = *e;
  return VG_OK;
}

static vg_status vs_process(vg_call *c) {
  vs_state *s = c->state;
  if (s->disabled[0]) return VG_OK;
  vg_status st = VG_OK;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < c->n && st == VG_OK; i++) {
    const vg_frame *f = vg_packet_frame(c->io[i].in[0]);
    if (!f || (vg_packet_flags(c->io[i].in[0]) & VG_PACKET_EOS)) continue;
    vg_encoder *e;
    st = encoder_for(c, s, f, vg_packet_stream(c->io[i].in[0]), &e);
    if (st == VG_OK && f->buffer && vg_frame_device(f).kind == VG_DEVICE_CUDA)
      st = vg_stream_sync(c->stream);
    if (st == VG_OK) st = vg_encoder_write(e, f, s->block ? 60000 : 0);
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

static vg_status vs_flush(vg_node *self, void *state) {
  vs_state *s = state;
  vg_status first = VG_OK;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->n; i++) {
    vg_encoder_get_stats(s->enc[i], &s->final[i]);
    vg_status st = vg_encoder_close(s->enc[i]);
    s->closed[i] = true;
    if (st != VG_OK && first == VG_OK)
      first = vg_node_error(self, st, "finishing '%s': %s", s->paths[i], vg_last_error());
  }
  pthread_mutex_unlock(&s->mu);
  return first;
}

static char *vs_describe(void *state) {
  vs_state *s = state;
  json_t *o = json_object();
  if (s->disabled[0]) {
    json_object_set_new(o, "enabled", json_false());
    json_object_set_new(o, "reason", json_string(s->disabled));
  }
  json_t *files = json_array();
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->n; i++) {
    vg_encoder_stats st = s->final[i];
    if (!s->closed[i]) vg_encoder_get_stats(s->enc[i], &st);
    json_array_append_new(
        files, json_pack("{s:s,s:i,s:s,s:s,s:I,s:I,s:I}", "path", s->paths[i], "stream_id",
                         s->stream_ids[i], "codec", st.codec, "reason", st.reason, "frames",
                         (json_int_t)st.frames_encoded, "dropped", (json_int_t)st.frames_dropped,
                         "bytes", (json_int_t)st.bytes_written));
  }
  pthread_mutex_unlock(&s->mu);
  json_object_set_new(o, "files", files);
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type vg_node_video_sink = {
    .name = "video_sink",
    .doc = "H.264 MP4 per stream (NVENC or libx264), bounded queue, drop-and-count or block",
    .inputs = {{"in", VG_PORT_FRAME}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .flags = VG_NODE_ORDERED,
    .params = k_params,
    .state_size = sizeof(vs_state),
    .init = vs_init,
    .process = vs_process,
    .flush = vs_flush,
    .destroy = vs_destroy,
    .describe = vs_describe,
};
