/* source.c - vg_source: one video source with its own reader thread. Open probes the stream and
 * picks the decoder (auto -> NVDEC when usable, else the CPU, with the reason); the thread then
 * reads packets, decodes them and queues frames, applying the start offset, frame limit, loop,
 * real-time pacing and, for live sources, reconnects with exponential backoff (reported as
 * events). Frames come from a bounded set, so the thread waits when the consumer is behind. */
#include "image.h"
#include "video_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vg_source {
  char url[512];
  vg_source_opts o;
  pthread_mutex_t mu; /* guards info, decoder swaps, end status */
  vg_source_info info;
  atomic_bool stop;
  vgv_frameset *frames;
  vg_queue *q;
  pthread_t th;
  bool th_started;
  /* reader thread state */
  vgv_demux *dm;
  vgv_decoder *dec;
  vgv_images *imgs;
  vgv_stream_desc desc; /* copy of the demuxer's (images: synthesized) */
  int64_t start_pts;    /* frames before it are dropped; INT64_MIN = none */
  int64_t dur;          /* one frame in tb units */
  int64_t pass_frames;  /* pictures seen in this pass (synthesized pts) */
  int64_t pass_out;     /* frames handed out in this pass */
  bool rebase;
  int64_t pts_offset, last_pts;
  bool have_last;
  bool paced;
  int64_t pace_t0, pace_p0;
  int64_t t_packet;
  int64_t base_decoded, base_corrupt, base_concealed; /* from decoders already destroyed */
  vg_status end_status;
  char end_msg[512];
};

static const char *const k_decoder_names[] = {"auto", "nvdec", "cpu", "none"};

const char *vg_decoder_name(vg_decoder_kind k) {
  return (unsigned)k < 4 ? k_decoder_names[k] : "unknown";
}

vg_status vg_decoder_parse(const char *text, vg_decoder_kind *out) {
  if (text && strcmp(text, "gpu") == 0) text = "nvdec";
  for (int i = 0; i < 3; i++)
    if (text && strcmp(text, k_decoder_names[i]) == 0) return (*out = (vg_decoder_kind)i), VG_OK;
  return vg_set_error(VG_ERR_INVALID_ARG, "unknown decoder '%s' (use auto, nvdec or cpu)",
                      text ? text : "(null)");
}

bool vg_video_have_ffmpeg(void) {
#ifdef VG_HAVE_FFMPEG
  return true;
#else
  return false;
#endif
}

void vg_source_opts_default(vg_source_opts *o) {
  memset(o, 0, sizeof *o);
  o->decoder = VG_DECODER_AUTO;
  o->output_frames = VG_SOURCE_DEFAULT_OUTPUT_FRAMES;
  o->open_timeout_ms = VG_SOURCE_DEFAULT_OPEN_TIMEOUT_MS;
  o->read_timeout_ms = VG_SOURCE_DEFAULT_READ_TIMEOUT_MS;
  o->reconnect_attempts = VG_SOURCE_DEFAULT_RECONNECT_ATTEMPTS;
  o->reconnect_initial_ms = 250;
  o->reconnect_max_ms = 5000;
  o->rtsp_tcp = true;
  o->image_fps = VG_SOURCE_DEFAULT_IMAGE_FPS;
}

static vg_status check_opts(const vg_source_opts *o) {
  if (o->output_frames < 1 || o->output_frames > 64)
    return vg_set_error(VG_ERR_INVALID_ARG, "output_frames %d outside 1..64", o->output_frames);
  if (o->decode_surfaces < 0 || o->decode_surfaces > 32)
    return vg_set_error(VG_ERR_INVALID_ARG, "decode_surfaces %d outside 0..32", o->decode_surfaces);
  if (o->open_timeout_ms <= 0 || o->read_timeout_ms <= 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "timeouts must be > 0 ms (open %d, read %d)",
                        o->open_timeout_ms, o->read_timeout_ms);
  if (o->start_sec < 0 || o->max_frames < 0 || o->threads < 0 || o->threads > 64)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "bad source options: start_sec %.3f, max_frames %lld, threads %d",
                        o->start_sec, (long long)o->max_frames, o->threads);
  if (o->reconnect_attempts < -1 || o->reconnect_initial_ms < 1 ||
      o->reconnect_max_ms < o->reconnect_initial_ms)
    return vg_set_error(VG_ERR_INVALID_ARG, "bad reconnect policy: attempts %d, backoff %d..%d ms",
                        o->reconnect_attempts, o->reconnect_initial_ms, o->reconnect_max_ms);
  if (o->image_fps <= 0 || o->image_fps > 1000)
    return vg_set_error(VG_ERR_INVALID_ARG, "image_fps %.3f outside (0, 1000]", o->image_fps);
  if ((unsigned)o->decoder > VG_DECODER_CPU)
    return vg_set_error(VG_ERR_INVALID_ARG, "decoder %d is not auto, nvdec or cpu", o->decoder);
  return VG_OK;
}

/* ----------------------------------------------------------------- helpers for the thread */

static void send_event(vg_source *s, vg_video_event_kind kind, int attempt, int delay_ms,
                       const char *reason) {
  if (kind == VG_VIDEO_EVENT_DISCONNECTED || kind == VG_VIDEO_EVENT_GAVE_UP)
    VG_LOGW("video", "'%s': %s%s%s", s->url,
            kind == VG_VIDEO_EVENT_GAVE_UP ? "gave up reconnecting" : "disconnected",
            reason ? ": " : "", reason ? reason : "");
  if (!s->o.on_event) return;
  vg_video_event ev = {kind, s->o.stream_id, s->url, attempt, delay_ms, reason};
  s->o.on_event(s->o.event_user, &ev);
}

/* Sleeps ms in slices; false when the source is stopping. */
static bool nap(vg_source *s, int64_t ms) {
  int64_t end = vg_now_ns() + ms * 1000000;
  while (!atomic_load(&s->stop)) {
    int64_t left = (end - vg_now_ns()) / 1000000;
    if (left <= 0) return true;
    vg_sleep_ms((unsigned)(left < 20 ? left : 20));
  }
  return false;
}

static void set_frame_duration(vg_source *s) {
  double fps = s->desc.fps > 0 ? s->desc.fps : 25.0;
  double d = (double)s->desc.tb_den / ((double)s->desc.tb_num * fps);
  s->dur = d >= 1 ? (int64_t)(d + 0.5) : 1;
}

/* Holds a file's frame until its due time (realtime: true). Returns the time the frame is
 * released, which stands for its capture time (as a camera would deliver it), or 0 when not
 * pacing. */
static int64_t pace(vg_source *s, int64_t pts) {
  if (!s->o.realtime || s->info.live) return 0;
  int64_t now = vg_now_ns();
  if (!s->paced) {
    s->paced = true;
    s->pace_t0 = now;
    s->pace_p0 = pts;
    return now;
  }
  double sec = (double)(pts - s->pace_p0) * s->desc.tb_num / s->desc.tb_den;
  int64_t due = s->pace_t0 + (int64_t)(sec * 1e9);
  if (due > now) nap(s, (due - now) / 1000000);
  return vg_now_ns();
}

static vg_status queue_frame(vg_source *s, vg_frame *f) {
  vg_frame *item = malloc(sizeof *item);
  if (!item) {
    vg_frame_release(f);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory queueing a frame");
  }
  *item = *f;
  for (;;) {
    if (atomic_load(&s->stop)) break;
    vg_status st = vg_queue_push(s->q, item, 100);
    if (st == VG_OK) return VG_OK;
    if (st != VG_ERR_TIMEOUT) break;
  }
  vg_frame_release(item);
  free(item);
  return vg_set_error(VG_ERR_CANCELED, "source closed");
}

/* The sink every decoder (and the image reader) hands its pictures to. */
static vg_status sink_emit(void *ctx, vg_frame *f) {
  vg_source *s = ctx;
  if (atomic_load(&s->stop)) {
    vg_frame_release(f);
    return vg_set_error(VG_ERR_CANCELED, "source closed");
  }
  int64_t pts = f->pts != INT64_MIN ? f->pts : s->desc.start_pts + s->pass_frames * s->dur;
  s->pass_frames++;
  if (s->start_pts != INT64_MIN && pts < s->start_pts) {
    vg_frame_release(f);
    return VG_OK;
  }
  if (s->rebase) {
    s->pts_offset = s->have_last ? s->last_pts + s->dur - pts : 0;
    s->rebase = false;
  }
  pts += s->pts_offset;
  if (s->have_last && pts <= s->last_pts) {
    /* a timestamp jump backwards (RTCP re-basing of a live stream, damaged input): frames keep
     * strictly increasing timestamps, one frame duration apart over the jump */
    s->pts_offset += s->last_pts + s->dur - pts;
    pts = s->last_pts + s->dur;
  }
  s->last_pts = pts;
  s->have_last = true;
  int64_t released = pace(s, pts);
  f->pts = pts;
  f->tb_num = s->desc.tb_num;
  f->tb_den = s->desc.tb_den;
  f->stream_id = s->o.stream_id;
  f->t_capture_ns = released ? released : s->t_packet ? s->t_packet : vg_now_ns();
  f->t_decode_ns = vg_now_ns();
  pthread_mutex_lock(&s->mu);
  f->frame_no = s->info.frames_out;
  pthread_mutex_unlock(&s->mu);
  VG_TRY(queue_frame(s, f));
  pthread_mutex_lock(&s->mu);
  int64_t n = ++s->info.frames_out;
  pthread_mutex_unlock(&s->mu);
  s->pass_out++;
  if (s->o.max_frames && n >= s->o.max_frames)
    return vg_set_error(VG_ERR_EOF, "'%s': frame limit %lld reached", s->url,
                        (long long)s->o.max_frames);
  return VG_OK;
}

static void sink_format(void *ctx, int w, int h, int depth, double fps) {
  vg_source *s = ctx;
  pthread_mutex_lock(&s->mu);
  s->info.width = w;
  s->info.height = h;
  s->info.bit_depth = depth;
  if (fps > 0 && s->desc.fps <= 0) {
    s->info.fps = fps;
    s->desc.fps = fps;
    set_frame_duration(s);
  }
  pthread_mutex_unlock(&s->mu);
}

/* ----------------------------------------------------------------- decoders */

static void drop_decoder(vg_source *s) {
  if (!s->dec) return;
  pthread_mutex_lock(&s->mu);
  s->base_decoded += atomic_load(&s->dec->decoded);
  s->base_corrupt += atomic_load(&s->dec->corrupt);
  s->base_concealed += atomic_load(&s->dec->concealed);
  s->dec->destroy(s->dec);
  s->dec = NULL;
  pthread_mutex_unlock(&s->mu);
}

static vg_status new_decoder(vg_source *s) {
  vgv_sink sink = {sink_emit, sink_format, s, s->frames};
  vgv_decoder *d = NULL;
  vg_status st;
  if (s->info.decoder == VG_DECODER_NVDEC) {
    st = s->dm->want_annexb(s->dm);
    s->desc = s->dm->desc;
    s->desc.live = s->info.live;
    if (st == VG_OK) st = vgv_nvdec_decoder_create(&s->desc, &s->o, sink, &d);
  } else {
#ifdef VG_HAVE_FFMPEG
    st = vgv_cpu_decoder_create(&s->desc, &s->o, sink, &d);
#else
    st = vg_set_error(VG_ERR_UNSUPPORTED, "this build has no CPU decoder (no FFmpeg)");
#endif
  }
  if (st != VG_OK) return vg_wrap_error(st, "'%s'", s->url);
  pthread_mutex_lock(&s->mu);
  s->dec = d;
  VGV_COPY(s->info.decoder_detail, d->detail);
  pthread_mutex_unlock(&s->mu);
  return VG_OK;
}

/* Picks NVDEC or the CPU for the current stream and records why. */
static vg_status choose_decoder(vg_source *s) {
  vg_source_info *in = &s->info;
  char reason[256] = "";
  bool have_cpu = vg_video_have_ffmpeg();
  if (s->o.decoder == VG_DECODER_CPU) {
    if (!have_cpu)
      return vg_set_error(VG_ERR_UNSUPPORTED,
                          "'%s': decoder cpu requested, but this build has no FFmpeg", s->url);
    in->decoder = VG_DECODER_CPU;
    VGV_COPY(in->decoder_reason, "cpu requested");
    return VG_OK;
  }
  if (vgv_nvdec_check(&s->desc, s->o.device, reason, sizeof reason) == VG_OK) {
    in->decoder = VG_DECODER_NVDEC;
    in->output_device = vg_cuda(s->o.device);
    VGV_COPY(in->decoder_reason, reason);
    return VG_OK;
  }
  if (s->o.decoder == VG_DECODER_NVDEC)
    return vg_set_error(VG_ERR_UNSUPPORTED, "'%s': decoder nvdec requested, but %s", s->url,
                        reason);
  if (!have_cpu)
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "'%s': cannot decode: %s, and this build has no CPU decoder (no FFmpeg)",
                        s->url, reason);
  in->decoder = VG_DECODER_CPU;
  VGV_COPY(in->decoder_reason, reason);
  return VG_OK;
}

static bool is_fifo(const char *url) {
  struct stat sb;
  return !strstr(url, "://") && stat(url, &sb) == 0 && S_ISFIFO(sb.st_mode);
}

#ifndef VG_HAVE_FFMPEG
/* Without FFmpeg a FIFO is read by the elementary-stream reader, whose fopen would block until
 * a writer comes: wait for one (poll on a non-blocking descriptor, kept open across the real
 * open so that nothing written is lost) within open_timeout_ms. */
static vg_status es_open_fifo(vg_source *s, const vgv_demux_env *env) {
  int fd = open(s->url, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return vg_set_error(VG_ERR_IO, "cannot open '%s': %s", s->url, strerror(errno));
  int64_t deadline = vg_now_ns() + (int64_t)s->o.open_timeout_ms * 1000000;
  vg_status st = VG_OK;
  for (;;) {
    int64_t left_ms = (deadline - vg_now_ns()) / 1000000;
    if (atomic_load(&s->stop)) {
      st = vg_set_error(VG_ERR_CANCELED, "source closed");
      break;
    }
    if (left_ms <= 0) {
      st = vg_set_error(VG_ERR_TIMEOUT,
                        "cannot open '%s': a FIFO with no writer within %d ms (open_timeout_ms)",
                        s->url, s->o.open_timeout_ms);
      break;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, left_ms < 100 ? (int)left_ms : 100) > 0) break;
  }
  if (st == VG_OK) st = vgv_demux_es_open(s->url, env, &s->dm);
  close(fd);
  return st;
}
#endif

static vg_status open_demuxer(vg_source *s, vg_source_info *info) {
  vgv_demux_env env = {&s->o, &s->stop, info};
#ifdef VG_HAVE_FFMPEG
  return vgv_demux_ff_open(s->url, &env, &s->dm); /* waits for a FIFO's writer itself */
#else
  if (is_fifo(s->url)) return es_open_fifo(s, &env);
  return vgv_demux_es_open(s->url, &env, &s->dm);
#endif
}

static void copy_desc_to_info(vg_source *s, vg_source_info *in) {
  VGV_COPY(in->codec, s->desc.codec_name);
  VGV_COPY(in->codec_long, s->desc.codec_long);
  VGV_COPY(in->profile, s->desc.profile);
  in->width = s->desc.width;
  in->height = s->desc.height;
  in->bit_depth = s->desc.bit_depth;
  in->fps = s->desc.fps;
  in->tb_num = s->desc.tb_num;
  in->tb_den = s->desc.tb_den;
}

/* ----------------------------------------------------------------- the reader thread */

static vg_status restart_pass(vg_source *s) {
  if (s->pass_out == 0)
    return vg_set_error(VG_ERR_PARSE, "'%s': a whole pass gave no frame; not looping again",
                        s->url);
  VG_TRY(s->dm->rewind(s->dm, s->o.start_sec));
  if (s->dec->restart) {
    VG_TRY(s->dec->restart(s->dec));
  } else {
    drop_decoder(s);
    VG_TRY(new_decoder(s));
  }
  s->rebase = true;
  s->pass_frames = 0;
  s->pass_out = 0;
  pthread_mutex_lock(&s->mu);
  s->info.loops++;
  pthread_mutex_unlock(&s->mu);
  return VG_OK;
}

static vg_status try_reopen(vg_source *s) {
  vg_source_info tmp;
  memset(&tmp, 0, sizeof tmp);
  VG_TRY(open_demuxer(s, &tmp));
  s->desc = s->dm->desc;
  vg_status st = new_decoder(s);
  if (st != VG_OK) {
    s->dm->close(s->dm);
    s->dm = NULL;
  }
  return st;
}

static vg_status reconnect(vg_source *s, const char *why) {
  char reason[512];
  snprintf(reason, sizeof reason, "%s", why);
  send_event(s, VG_VIDEO_EVENT_DISCONNECTED, 0, 0, reason);
  drop_decoder(s);
  if (s->dm) s->dm->close(s->dm);
  s->dm = NULL;
  int delay = s->o.reconnect_initial_ms;
  char last[512] = "no attempt allowed (reconnect_attempts 0)";
  for (int a = 1; s->o.reconnect_attempts < 0 || a <= s->o.reconnect_attempts; a++) {
    send_event(s, VG_VIDEO_EVENT_RECONNECTING, a, delay, NULL);
    if (!nap(s, delay)) return vg_set_error(VG_ERR_CANCELED, "source closed");
    if (try_reopen(s) == VG_OK) {
      pthread_mutex_lock(&s->mu);
      s->info.reconnects++;
      pthread_mutex_unlock(&s->mu);
      s->rebase = true;
      s->pass_frames = 0;
      send_event(s, VG_VIDEO_EVENT_RECONNECTED, a, delay, NULL);
      return VG_OK;
    }
    if (atomic_load(&s->stop)) return vg_set_error(VG_ERR_CANCELED, "source closed");
    snprintf(last, sizeof last, "%s", vg_last_error());
    delay = delay * 2 > s->o.reconnect_max_ms ? s->o.reconnect_max_ms : delay * 2;
    if (s->o.reconnect_attempts > 0 && a == s->o.reconnect_attempts) {
      send_event(s, VG_VIDEO_EVENT_GAVE_UP, a, 0, last);
      return vg_set_error(VG_ERR_IO,
                          "'%s': disconnected (%s); %d reconnect attempts failed, last: %s", s->url,
                          reason, a, last);
    }
  }
  send_event(s, VG_VIDEO_EVENT_GAVE_UP, 0, 0, last);
  return vg_set_error(VG_ERR_IO, "'%s': disconnected (%s); %s", s->url, reason, last);
}

static vg_status run_video(vg_source *s) {
  for (;;) {
    vgv_packet pkt;
    vg_status st = s->dm->read(s->dm, &pkt);
    if (st == VG_OK) {
      s->t_packet = vg_now_ns();
      st = s->dec->decode(s->dec, &pkt);
      if (st != VG_OK) return st;
      continue;
    }
    if (st == VG_ERR_CANCELED) return st;
    if (!s->info.live) {
      if (st != VG_ERR_EOF) return st;
      VG_TRY(s->dec->decode(s->dec, NULL));
      if (!s->o.loop)
        return vg_set_error(VG_ERR_EOF, "'%s': end of stream after %lld frames", s->url,
                            (long long)s->info.frames_out);
      VG_TRY(restart_pass(s));
      continue;
    }
    VG_TRY(reconnect(s, vg_last_error()));
  }
}

static vg_status run_images(vg_source *s) {
  int n = vgv_images_count(s->imgs);
  for (;;) {
    for (int i = 0; i < n; i++) {
      vg_frame f;
      vg_status st = vgv_images_load(s->imgs, i, s->frames, &f);
      if (st == VG_ERR_CANCELED) return st;
      pthread_mutex_lock(&s->mu);
      if (st == VG_OK)
        s->base_decoded++;
      else
        s->base_corrupt++;
      pthread_mutex_unlock(&s->mu);
      if (st != VG_OK) {
        VG_LOGW("video", "skipping image: %s", vg_last_error());
        continue;
      }
      f.pts = s->desc.start_pts + (int64_t)i * s->dur;
      s->t_packet = vg_now_ns();
      VG_TRY(sink_emit(s, &f));
    }
    if (!s->o.loop)
      return vg_set_error(VG_ERR_EOF, "'%s': end of images after %lld frames", s->url,
                          (long long)s->info.frames_out);
    if (s->pass_out == 0)
      return vg_set_error(VG_ERR_PARSE, "'%s': no readable image; not looping again", s->url);
    s->rebase = true;
    s->pass_out = 0;
    pthread_mutex_lock(&s->mu);
    s->info.loops++;
    pthread_mutex_unlock(&s->mu);
  }
}

static void *reader_main(void *arg) {
  vg_source *s = arg;
  vg_status st = s->imgs ? run_images(s) : run_video(s);
  pthread_mutex_lock(&s->mu);
  s->end_status = st;
  snprintf(s->end_msg, sizeof s->end_msg, "%s", vg_last_error());
  pthread_mutex_unlock(&s->mu);
  vg_queue_close(s->q);
  return NULL;
}

/* ----------------------------------------------------------------- public API */

static vg_status open_images(vg_source *s) {
  if (is_fifo(s->url)) /* an image is read whole: a FIFO would block in fopen without a writer */
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "'%s' is a FIFO; an image source must be a regular file or a folder",
                        s->url);
  VG_TRY(vgv_images_open(s->url, &s->info, &s->imgs));
  s->desc.tb_num = 1;
  s->desc.tb_den = 1000;
  s->desc.fps = s->o.image_fps;
  s->info.tb_num = 1;
  s->info.tb_den = 1000;
  s->info.fps = s->o.image_fps;
  s->info.duration_sec = vgv_images_count(s->imgs) / s->o.image_fps;
  s->info.decoder = VG_DECODER_NONE;
  VGV_COPY(s->info.decoder_reason, "images are read on the CPU (libjpeg, libpng)");
  VGV_COPY(s->info.decoder_detail, "libjpeg/libpng");
  s->info.output_device = vg_cpu();
  set_frame_duration(s);
  return vgv_frameset_create(vg_cpu(), s->o.output_frames, &s->frames);
}

static vg_status open_video(vg_source *s) {
  VG_TRY(open_demuxer(s, &s->info));
  s->desc = s->dm->desc;
  copy_desc_to_info(s, &s->info);
  s->info.output_device = vg_cpu();
  VG_TRY(choose_decoder(s));
  VG_TRY(vgv_frameset_create(s->info.output_device, s->o.output_frames, &s->frames));
  vg_status st = new_decoder(s);
  if (st != VG_OK && s->info.decoder == VG_DECODER_NVDEC && s->o.decoder == VG_DECODER_AUTO &&
      vg_video_have_ffmpeg()) {
    snprintf(s->info.decoder_reason, sizeof s->info.decoder_reason, "NVDEC failed: %s",
             vg_last_error());
    s->info.decoder = VG_DECODER_CPU;
    s->info.output_device = vg_cpu();
    vgv_frameset_unref(s->frames);
    s->frames = NULL;
    VG_TRY(vgv_frameset_create(vg_cpu(), s->o.output_frames, &s->frames));
    st = new_decoder(s);
  }
  VG_TRY(st);
  set_frame_duration(s);
  if (s->o.start_sec > 0) {
    VG_TRY(s->dm->rewind(s->dm, s->o.start_sec));
    s->start_pts =
        s->desc.start_pts + (int64_t)(s->o.start_sec * s->desc.tb_den / s->desc.tb_num + 0.5);
  }
  return VG_OK;
}

static void destroy(vg_source *s) {
  if (s->frames) vgv_frameset_cancel(s->frames);
  if (s->q) {
    void *item;
    vg_queue_close(s->q);
    while (vg_queue_pop(s->q, &item, 0) == VG_OK) {
      vg_frame_release(item);
      free(item);
    }
    vg_queue_destroy(s->q);
  }
  if (s->dec) s->dec->destroy(s->dec);
  if (s->dm) s->dm->close(s->dm);
  vgv_images_close(s->imgs);
  vgv_frameset_unref(s->frames);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

vg_status vg_source_open(const char *url, const vg_source_opts *opts, vg_source **out) {
  if (!out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_source_open: NULL out");
  *out = NULL;
  if (!url || !url[0]) return vg_set_error(VG_ERR_INVALID_ARG, "vg_source_open: empty URL");
  if (strlen(url) >= sizeof((vg_source *)0)->url)
    return vg_set_error(VG_ERR_INVALID_ARG, "source URL longer than %zu bytes",
                        sizeof((vg_source *)0)->url - 1);
  vg_source *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", url);
  if (opts)
    s->o = *opts;
  else
    vg_source_opts_default(&s->o);
  VGV_COPY(s->url, url);
  VGV_COPY(s->info.url, url);
  pthread_mutex_init(&s->mu, NULL);
  atomic_init(&s->stop, false);
  s->start_pts = INT64_MIN;
  vg_status st = check_opts(&s->o);
  if (st == VG_OK) st = vgv_is_image_source(url) ? open_images(s) : open_video(s);
  if (st == VG_OK) st = vg_queue_create((size_t)s->o.output_frames, &s->q);
  if (st == VG_OK) {
    if (pthread_create(&s->th, NULL, reader_main, s) != 0)
      st = vg_set_error(VG_ERR_INTERNAL, "'%s': cannot start the reader thread", url);
    else
      s->th_started = true;
  }
  if (st != VG_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    destroy(s);
    return vg_set_error(st, "%s", msg);
  }
  *out = s;
  return VG_OK;
}

vg_status vg_source_read(vg_source *s, vg_frame *out, int timeout_ms) {
  if (!s || !out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_source_read: NULL argument");
  memset(out, 0, sizeof *out);
  void *item = NULL;
  vg_status st = vg_queue_pop(s->q, &item, timeout_ms);
  if (st == VG_OK) {
    *out = *(vg_frame *)item;
    free(item);
    return VG_OK;
  }
  if (st == VG_ERR_TIMEOUT)
    return vg_set_error(VG_ERR_TIMEOUT, "'%s': no frame within %d ms", s->url, timeout_ms);
  pthread_mutex_lock(&s->mu);
  vg_status end = s->end_status;
  char msg[512];
  snprintf(msg, sizeof msg, "%s", s->end_msg);
  pthread_mutex_unlock(&s->mu);
  if (end == VG_OK || end == VG_ERR_CANCELED) end = VG_ERR_EOF;
  return vg_set_error(end, "%s", msg);
}

void vg_source_get_info(vg_source *s, vg_source_info *out) {
  pthread_mutex_lock(&s->mu);
  *out = s->info;
  out->frames_decoded = s->base_decoded + (s->dec ? atomic_load(&s->dec->decoded) : 0);
  out->corrupt_packets = s->base_corrupt + (s->dec ? atomic_load(&s->dec->corrupt) : 0);
  out->concealed_frames = s->base_concealed + (s->dec ? atomic_load(&s->dec->concealed) : 0);
  pthread_mutex_unlock(&s->mu);
}

void vg_source_close(vg_source *s) {
  if (!s) return;
  atomic_store(&s->stop, true);
  if (s->frames) vgv_frameset_cancel(s->frames);
  if (s->th_started) pthread_join(s->th, NULL);
  destroy(s);
}
