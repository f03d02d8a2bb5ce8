/* node_video_sink.c - the `video_sink` node: encodes the frames it receives (usually from an
 * overlay) into an H.264 MP4 per stream (annotated.mp4, then annotated_s1.mp4, ...). Encoding
 * runs on the encoder's own thread behind a bounded queue: by default a frame that finds the
 * queue full is dropped and counted (encoding never stalls decoding); `block: true` waits
 * instead (offline files). Device frames go to the encoder as they are: NVENC takes them
 * directly, libx264 gets them copied by the encoder (counted in its stats). Without FFmpeg (or
 * when the encoder cannot start) a sink with required: false disables itself and says why.
 * A stream's encoder is its per-stream state (the scheduler keeps it): opened on its first
 * picture, finished when the stream ends (or the run does); the list of files (open and
 * finished, for the summary and for errors in finishing) is shared and guarded by files_mu. */
#include "node_util.h"
#include "vidgraph/vg_video.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vs_state {
  const char *path, *codec;
  int preset, crf, bitrate_kbps, queue_frames;
  double fps;
  bool block, required;
  vg_encoder_opts opts;
  char disabled[512];
  pthread_mutex_t files_mu; /* files, nfiles, close_error */
  bool mu_inited;
  struct vs_file *files;
  int nfiles, cap;
  char close_error[1400]; /* the first failure finishing a file ("" when none) */
  vg_status close_status;
} vs_state;

/* A file written (or being written): its encoder while open, its final stats once finished. */
typedef struct vs_file {
  char path[1100];
  int stream_id;
  vg_encoder *enc; /* NULL once finished */
  vg_encoder_stats final;
} vs_file;

/* One stream: the index of its file in files (-1 until its first picture). */
typedef struct vs_stream {
  int file;
  vg_encoder *enc;
} vs_stream;

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
  for (int i = 0; i < s->nfiles; i++) /* the streams closed their files first; just in case */
    if (s->files[i].enc) vg_encoder_close(s->files[i].enc);
  free(s->files);
  if (s->mu_inited) pthread_mutex_destroy(&s->files_mu);
}

static vg_status vs_init(vg_node *self, const vg_cnode *params, void **state) {
  vs_state *s = *state;
  pthread_mutex_init(&s->files_mu, NULL);
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

static vg_status vs_stream_init(vg_node *self, void *state, void *stream, int stream_id) {
  ((vs_stream *)stream)->file = -1;
  return VG_OK;
}

/* Finishes the stream's file (its end, or the run's): final stats kept, a failure recorded for
 * flush to report. */
static void vs_stream_destroy(vg_node *self, void *state, void *stream) {
  vs_state *s = state;
  vs_stream *vs = stream;
  if (vs->file < 0) return;
  pthread_mutex_lock(&s->files_mu);
  vs_file *f = &s->files[vs->file];
  vg_encoder_get_stats(f->enc, &f->final);
  f->enc = NULL;
  char path[1100];
  snprintf(path, sizeof path, "%s", f->path);
  pthread_mutex_unlock(&s->files_mu);
  vg_status st = vg_encoder_close(vs->enc);
  if (st != VG_OK) {
    char msg[1400];
    snprintf(msg, sizeof msg, "finishing '%s': %s", path, vg_last_error());
    pthread_mutex_lock(&s->files_mu);
    if (s->close_status == VG_OK) {
      s->close_status = st;
      snprintf(s->close_error, sizeof s->close_error, "%s", msg);
    }
    pthread_mutex_unlock(&s->files_mu);
  }
}

/* The encoded size for pictures of w x h: H.264 in yuv420p wants even sizes of 16..8192, which a
 * photo need not have (641x481 failed the whole plate run): the largest even size within the
 * limits with the picture's aspect (the encoder scales, 641x481 -> 640x480). */
static void fit_size(int w, int h, int *ew, int *eh) {
  double k = 1.0;
  if (w > 8192) k = 8192.0 / w;
  if (h * k > 8192) k = 8192.0 / h;
  int x = (int)(w * k), y = (int)(h * k);
  x = x < 16 ? 16 : x & ~1;
  y = y < 16 ? 16 : y & ~1;
  *ew = x;
  *eh = y;
}

/* The stream's encoder, opened on its first picture: annotated.mp4 for the first file,
 * annotated_s<id>.mp4 for the others. */
static vg_status encoder_for(vg_call *c, vs_stream *vs, const vg_frame *f, int stream) {
  vs_state *s = c->state;
  if (vs->enc) return VG_OK;
  vg_encoder_opts o = s->opts;
  fit_size(f->width, f->height, &o.width, &o.height);
  vg_status st = VG_OK;
  pthread_mutex_lock(&s->files_mu); /* held while opening: the file's name is its index */
  if (s->nfiles == s->cap) {
    vs_file *nf = realloc(s->files, (size_t)(s->cap + 16) * sizeof *nf);
    if (nf)
      s->files = nf, s->cap += 16;
    else
      st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory for the list of files");
  }
  int idx = s->nfiles;
  vs_file *file = st == VG_OK ? &s->files[idx] : NULL;
  if (file) {
    memset(file, 0, sizeof *file);
    stream_path(s->path, idx, stream, file->path, sizeof file->path);
    file->stream_id = stream;
    st = vg_encoder_open(file->path, &o, &vs->enc);
    if (st == VG_OK) file->enc = vs->enc, s->nfiles++;
  }
  pthread_mutex_unlock(&s->files_mu);
  if (st != VG_OK)
    return vg_node_error(c->node, st, "cannot start the video encoder: %s", vg_last_error());
  vs->file = idx;
  return VG_OK;
}

static vg_status vs_process(vg_call *c) {
  vs_state *s = c->state;
  if (s->disabled[0]) return VG_OK;
  for (int i = 0; i < c->n; i++) {
    const vg_frame *f = vg_packet_frame(c->io[i].in[0]);
    if (!f || (vg_packet_flags(c->io[i].in[0]) & VG_PACKET_EOS)) continue;
    vs_stream *vs = c->io[i].stream_state;
    VG_TRY(encoder_for(c, vs, f, vg_packet_stream(c->io[i].in[0])));
    if (f->buffer && vg_frame_device(f).kind == VG_DEVICE_CUDA) VG_TRY(vg_stream_sync(c->stream));
    VG_TRY(vg_encoder_write(vs->enc, f, s->block ? 60000 : 0));
  }
  return VG_OK;
}

/* The streams have finished their files (they end before the nodes flush): reports a failure. */
static vg_status vs_flush(vg_node *self, void *state) {
  vs_state *s = state;
  pthread_mutex_lock(&s->files_mu);
  vg_status st = s->close_status;
  char msg[1400];
  snprintf(msg, sizeof msg, "%s", s->close_error);
  pthread_mutex_unlock(&s->files_mu);
  return st == VG_OK ? VG_OK : vg_node_error(self, st, "%s", msg);
}

static char *vs_describe(void *state) {
  vs_state *s = state;
  json_t *o = json_object();
  if (s->disabled[0]) {
    json_object_set_new(o, "enabled", json_false());
    json_object_set_new(o, "reason", json_string(s->disabled));
  }
  json_t *files = json_array();
  pthread_mutex_lock(&s->files_mu);
  for (int i = 0; i < s->nfiles; i++) {
    const vs_file *f = &s->files[i];
    vg_encoder_stats st = f->final;
    if (f->enc) vg_encoder_get_stats(f->enc, &st);
    json_array_append_new(files, json_pack("{s:s,s:i,s:s,s:s,s:I,s:I,s:I}", "path", f->path,
                                           "stream_id", f->stream_id, "codec", st.codec, "reason",
                                           st.reason, "frames", (json_int_t)st.frames_encoded,
                                           "dropped", (json_int_t)st.frames_dropped, "bytes",
                                           (json_int_t)st.bytes_written));
  }
  pthread_mutex_unlock(&s->files_mu);
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
    .stream_state_size = sizeof(vs_stream),
    .stream_init = vs_stream_init,
    .stream_destroy = vs_stream_destroy,
    .init = vs_init,
    .process = vs_process,
    .flush = vs_flush,
    .destroy = vs_destroy,
    .describe = vs_describe,
};
