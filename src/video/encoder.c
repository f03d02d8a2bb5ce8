/* encoder.c - H.264 MP4 output through libavcodec/libavformat: h264_nvenc when a GPU and the
 * NVENC library are usable ("auto"), else libx264, with the reason recorded. Frames are queued
 * (bounded) to an encoder thread; when the queue is full they are dropped and counted, so a slow
 * encoder never stalls the decoding side (or, on request, the writer waits with a timeout). */
#include "video_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vg_encoder_opts_default(vg_encoder_opts *o) {
  memset(o, 0, sizeof *o);
  o->fps_num = 25;
  o->fps_den = 1;
  o->codec = "auto";
  o->crf = 23;
  o->preset = "veryfast";
  o->queue_frames = 8;
}

#ifdef VG_HAVE_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <pthread.h>

struct vg_encoder {
  char path[512];
  vg_encoder_opts o;
  AVFormatContext *oc;
  AVStream *st;
  AVCodecContext *cc;
  AVFrame *frm;
  AVPacket *pkt;
  struct SwsContext *sws;
  vg_queue *q;
  pthread_t th;
  bool th_started;
  pthread_mutex_t mu; /* stats and err */
  vg_encoder_stats stats;
  vg_status err;
  char err_msg[512];
  bool header_written;
  int64_t first_pts, last_pts;
  bool have_pts;
};

static const char *averr(int e, char *buf, size_t cap) {
  av_strerror(e, buf, cap);
  return buf;
}

static void set_err(vg_encoder *e, vg_status st) {
  pthread_mutex_lock(&e->mu);
  if (e->err == VG_OK) {
    e->err = st;
    snprintf(e->err_msg, sizeof e->err_msg, "%s", vg_last_error());
  }
  pthread_mutex_unlock(&e->mu);
}

static vg_status open_codec(vg_encoder *e, const char *name) {
  char eb[128];
  const AVCodec *codec = avcodec_find_encoder_by_name(name);
  if (!codec) return vg_set_error(VG_ERR_UNSUPPORTED, "FFmpeg has no %s encoder", name);
  AVCodecContext *cc = avcodec_alloc_context3(codec);
  if (!cc) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating the %s encoder", name);
  cc->width = e->o.width;
  cc->height = e->o.height;
  cc->pix_fmt = AV_PIX_FMT_NV12;
  cc->time_base = (AVRational){e->o.fps_den, e->o.fps_num};
  cc->framerate = (AVRational){e->o.fps_num, e->o.fps_den};
  cc->gop_size = e->o.gop > 0 ? e->o.gop : 2 * e->o.fps_num / e->o.fps_den;
  if (e->oc->oformat->flags & AVFMT_GLOBALHEADER) cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  char q[16];
  snprintf(q, sizeof q, "%d", e->o.crf);
  if (e->o.bitrate_kbps > 0) {
    cc->bit_rate = (int64_t)e->o.bitrate_kbps * 1000;
  } else if (strcmp(name, "libx264") == 0) {
    av_opt_set(cc->priv_data, "crf", q, 0);
  } else {
    av_opt_set(cc->priv_data, "rc", "vbr", 0);
    av_opt_set(cc->priv_data, "cq", q, 0);
  }
  if (strcmp(name, "libx264") == 0) av_opt_set(cc->priv_data, "preset", e->o.preset, 0);
  if (strcmp(name, "h264_nvenc") == 0) {
    char dev[16];
    snprintf(dev, sizeof dev, "%d", e->o.device);
    av_opt_set(cc->priv_data, "gpu", dev, 0);
  }
  int r = avcodec_open2(cc, codec, NULL);
  if (r < 0) {
    avcodec_free_context(&cc);
    return vg_set_error(VG_ERR_BACKEND, "cannot open the %s encoder (%dx%d): %s", name, e->o.width,
                        e->o.height, averr(r, eb, sizeof eb));
  }
  e->cc = cc;
  VGV_COPY(e->stats.codec, name);
  return VG_OK;
}

static vg_status pick_codec(vg_encoder *e) {
  const char *want = e->o.codec ? e->o.codec : "auto";
  if (strcmp(want, "libx264") == 0 || strcmp(want, "h264_nvenc") == 0) {
    VG_TRY(open_codec(e, want));
    snprintf(e->stats.reason, sizeof e->stats.reason, "%s requested", want);
    return VG_OK;
  }
  if (strcmp(want, "auto") != 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "unknown encoder '%s' (use auto, libx264, h264_nvenc)",
                        want);
  char why[256];
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) {
    snprintf(why, sizeof why, "%s", vg_cuda_unavailable_reason());
  } else if (open_codec(e, "h264_nvenc") == VG_OK) {
    snprintf(e->stats.reason, sizeof e->stats.reason, "a GPU and NVENC are available");
    return VG_OK;
  } else {
    snprintf(why, sizeof why, "%s", vg_last_error());
  }
  VG_TRY(open_codec(e, "libx264"));
  snprintf(e->stats.reason, sizeof e->stats.reason, "h264_nvenc not used: %s", why);
  return VG_OK;
}

static vg_status write_packets(vg_encoder *e) {
  char eb[128];
  for (;;) {
    int r = avcodec_receive_packet(e->cc, e->pkt);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return VG_OK;
    if (r < 0)
      return vg_set_error(VG_ERR_BACKEND, "encoding '%s': %s", e->path, averr(r, eb, sizeof eb));
    if (e->pkt->duration <= 0) e->pkt->duration = 1; /* else MP4 edit lists cut the last frame */
    av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
    e->pkt->stream_index = e->st->index;
    int size = e->pkt->size;
    r = av_interleaved_write_frame(e->oc, e->pkt);
    if (r < 0) return vg_set_error(VG_ERR_IO, "writing '%s': %s", e->path, averr(r, eb, sizeof eb));
    pthread_mutex_lock(&e->mu);
    e->stats.bytes_written += size;
    pthread_mutex_unlock(&e->mu);
  }
}

/* Host frame -> the encoder's NV12 AVFrame (copy when it fits, else libswscale). */
static vg_status fill_frame(vg_encoder *e, const vg_frame *f) {
  AVFrame *o = e->frm;
  int r = av_frame_make_writable(o);
  if (r < 0) return vg_set_error(VG_ERR_NO_MEMORY, "encoder frame not writable");
  if (f->format == VG_PIX_NV12 && f->width == o->width && f->height == o->height) {
    for (int p = 0; p < 2; p++)
      for (int y = 0; y < vg_frame_plane_rows(f, p); y++)
        memcpy(o->data[p] + (size_t)y * o->linesize[p],
               vg_frame_plane(f, p) + (size_t)y * f->pitch[p], vg_frame_plane_width_bytes(f, p));
    return VG_OK;
  }
  static const enum AVPixelFormat fmts[] = {AV_PIX_FMT_NV12, AV_PIX_FMT_RGB24, AV_PIX_FMT_BGR24,
                                            AV_PIX_FMT_GRAY8};
  e->sws = sws_getCachedContext(e->sws, f->width, f->height, fmts[f->format], o->width, o->height,
                                AV_PIX_FMT_NV12, SWS_BILINEAR, NULL, NULL, NULL);
  if (!e->sws) return vg_set_error(VG_ERR_UNSUPPORTED, "cannot convert a frame for the encoder");
  const uint8_t *src[4] = {vg_frame_plane(f, 0), f->nplanes > 1 ? vg_frame_plane(f, 1) : NULL, NULL,
                           NULL};
  int pitches[4] = {f->pitch[0], f->nplanes > 1 ? f->pitch[1] : 0, 0, 0};
  sws_scale(e->sws, src, pitches, 0, f->height, o->data, o->linesize);
  return VG_OK;
}

static int64_t next_pts(vg_encoder *e, const vg_frame *f) {
  int64_t p;
  if (f->pts != INT64_MIN && f->tb_num > 0 && f->tb_den > 0)
    p = av_rescale_q(f->pts, (AVRational){f->tb_num, f->tb_den}, e->cc->time_base);
  else
    p = e->have_pts ? e->last_pts + 1 + e->first_pts : 0;
  if (!e->have_pts) e->first_pts = p;
  p -= e->first_pts;
  if (e->have_pts && p <= e->last_pts) p = e->last_pts + 1;
  e->have_pts = true;
  e->last_pts = p;
  return p;
}

static vg_status encode_one(vg_encoder *e, const vg_frame *f) {
  vg_frame host;
  const vg_frame *src;
  VG_TRY(vg_frame_host_view(f, &host, &src));
  vg_status st = fill_frame(e, src);
  if (st == VG_OK) {
    e->frm->pts = next_pts(e, src);
    int r = avcodec_send_frame(e->cc, e->frm);
    char eb[128];
    if (r < 0)
      st = vg_set_error(VG_ERR_BACKEND, "encoding '%s': %s", e->path, averr(r, eb, sizeof eb));
  }
  if (src == &host) vg_frame_release(&host);
  if (st == VG_OK) {
    pthread_mutex_lock(&e->mu);
    e->stats.frames_encoded++;
    pthread_mutex_unlock(&e->mu);
    st = write_packets(e);
  }
  return st;
}

static void *encoder_main(void *arg) {
  vg_encoder *e = arg;
  void *item;
  while (vg_queue_pop(e->q, &item, -1) == VG_OK) {
    vg_frame *f = item;
    pthread_mutex_lock(&e->mu);
    bool failed = e->err != VG_OK;
    pthread_mutex_unlock(&e->mu);
    if (!failed) {
      vg_status st = encode_one(e, f);
      if (st != VG_OK) set_err(e, st);
    }
    vg_frame_release(f);
    free(f);
  }
  return NULL;
}

static void free_encoder(vg_encoder *e) {
  if (e->q) {
    void *item;
    vg_queue_close(e->q);
    while (vg_queue_pop(e->q, &item, 0) == VG_OK) {
      vg_frame_release(item);
      free(item);
    }
    vg_queue_destroy(e->q);
  }
  avcodec_free_context(&e->cc);
  av_frame_free(&e->frm);
  av_packet_free(&e->pkt);
  sws_freeContext(e->sws);
  if (e->oc) {
    if (e->oc->pb) avio_closep(&e->oc->pb);
    avformat_free_context(e->oc);
  }
  pthread_mutex_destroy(&e->mu);
  free(e);
}

static vg_status setup(vg_encoder *e) {
  char eb[128];
  int r = avformat_alloc_output_context2(&e->oc, NULL, "mp4", e->path);
  if (r < 0 || !e->oc)
    return vg_set_error(VG_ERR_BACKEND, "'%s': cannot create an MP4 muxer: %s", e->path,
                        averr(r, eb, sizeof eb));
  VG_TRY(pick_codec(e));
  e->st = avformat_new_stream(e->oc, NULL);
  e->frm = av_frame_alloc();
  e->pkt = av_packet_alloc();
  if (!e->st || !e->frm || !e->pkt) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  e->st->time_base = e->cc->time_base;
  r = avcodec_parameters_from_context(e->st->codecpar, e->cc);
  e->frm->format = AV_PIX_FMT_NV12;
  e->frm->width = e->o.width;
  e->frm->height = e->o.height;
  if (r >= 0) r = av_frame_get_buffer(e->frm, 0);
  if (r < 0) return vg_set_error(VG_ERR_NO_MEMORY, "encoder buffers: %s", averr(r, eb, sizeof eb));
  r = avio_open(&e->oc->pb, e->path, AVIO_FLAG_WRITE);
  if (r < 0)
    return vg_set_error(VG_ERR_IO, "cannot create '%s': %s", e->path, averr(r, eb, sizeof eb));
  r = avformat_write_header(e->oc, NULL);
  if (r < 0)
    return vg_set_error(VG_ERR_BACKEND, "'%s': cannot write the MP4 header: %s", e->path,
                        averr(r, eb, sizeof eb));
  e->header_written = true;
  VG_TRY(vg_queue_create((size_t)e->o.queue_frames, &e->q));
  if (pthread_create(&e->th, NULL, encoder_main, e) != 0)
    return vg_set_error(VG_ERR_INTERNAL, "cannot start the encoder thread");
  e->th_started = true;
  return VG_OK;
}

vg_status vg_encoder_open(const char *path, const vg_encoder_opts *opts, vg_encoder **out) {
  if (!out || !path || !opts)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_encoder_open: NULL argument");
  *out = NULL;
  if (opts->width < 16 || opts->height < 16 || opts->width > 8192 || opts->height > 8192 ||
      (opts->width | opts->height) & 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "'%s': encoder size %dx%d must be even, 16..8192", path,
                        opts->width, opts->height);
  if (opts->fps_num <= 0 || opts->fps_den <= 0 || opts->queue_frames < 1 ||
      opts->queue_frames > 256 || opts->crf < 0 || opts->crf > 51)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "'%s': bad encoder options (fps %d/%d, queue %d, crf %d)", path,
                        opts->fps_num, opts->fps_den, opts->queue_frames, opts->crf);
  vgv_ff_log_install();
  vg_encoder *e = calloc(1, sizeof *e);
  if (!e) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", path);
  VGV_COPY(e->path, path);
  e->o = *opts;
  if (!e->o.preset) e->o.preset = "veryfast";
  pthread_mutex_init(&e->mu, NULL);
  vg_status st = setup(e);
  if (st != VG_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    if (e->th_started) {
      vg_queue_close(e->q);
      pthread_join(e->th, NULL);
    }
    free_encoder(e);
    remove(path);
    return vg_set_error(st, "%s", msg);
  }
  *out = e;
  return VG_OK;
}

vg_status vg_encoder_write(vg_encoder *e, const vg_frame *f, int timeout_ms) {
  if (!e || !f || !f->buffer)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_encoder_write: empty encoder or frame");
  if ((int)f->format < 0 || f->format >= VG_PIX_COUNT_)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_encoder_write: bad pixel format");
  pthread_mutex_lock(&e->mu);
  e->stats.frames_in++;
  vg_status err = e->err;
  pthread_mutex_unlock(&e->mu);
  if (err != VG_OK) return vg_set_error(err, "%s", e->err_msg);
  vg_frame *item = malloc(sizeof *item);
  if (!item) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory queueing a frame");
  vg_frame_view(f, item);
  vg_status st =
      e->o.block_when_full ? vg_queue_push(e->q, item, timeout_ms) : vg_queue_try_push(e->q, item);
  if (st == VG_OK) return VG_OK;
  vg_frame_release(item);
  free(item);
  if (st == VG_ERR_STATE) return vg_set_error(VG_ERR_STATE, "'%s': encoder closed", e->path);
  pthread_mutex_lock(&e->mu);
  e->stats.frames_dropped++;
  pthread_mutex_unlock(&e->mu);
  vg_clear_error();
  return VG_OK;
}

void vg_encoder_get_stats(vg_encoder *e, vg_encoder_stats *out) {
  pthread_mutex_lock(&e->mu);
  *out = e->stats;
  pthread_mutex_unlock(&e->mu);
}

vg_status vg_encoder_close(vg_encoder *e) {
  if (!e) return VG_OK;
  vg_queue_close(e->q);
  if (e->th_started) pthread_join(e->th, NULL);
  vg_status st = e->err;
  char msg[512];
  snprintf(msg, sizeof msg, "%s", e->err_msg);
  if (st == VG_OK) {
    avcodec_send_frame(e->cc, NULL);
    st = write_packets(e);
    if (st != VG_OK) snprintf(msg, sizeof msg, "%s", vg_last_error());
  }
  bool created = e->header_written;
  if (e->header_written) {
    int r = av_write_trailer(e->oc);
    char eb[128];
    if (r < 0 && st == VG_OK) {
      st = VG_ERR_IO;
      snprintf(msg, sizeof msg, "'%s': cannot finish the MP4: %s", e->path,
               averr(r, eb, sizeof eb));
    }
    /* avio buffers: a failed write (a full disk) may show only when the buffer is flushed */
    r = avio_closep(&e->oc->pb);
    if (r < 0 && st == VG_OK) {
      st = VG_ERR_IO;
      snprintf(msg, sizeof msg, "writing '%s': %s", e->path, averr(r, eb, sizeof eb));
    }
  }
  /* An MP4 whose trailer (the index) was not written cannot be played: remove it rather than
   * leave half a file (a full disk, an encoder failure). */
  char path[sizeof e->path];
  snprintf(path, sizeof path, "%s", e->path);
  free_encoder(e);
  if (st != VG_OK) {
    if (created && unlink(path) == 0) {
      size_t n = strlen(msg);
      snprintf(msg + n, sizeof msg - n, " (the unfinished MP4 was removed)");
    }
    return vg_set_error(st, "%s", msg);
  }
  return VG_OK;
}

#else /* !VG_HAVE_FFMPEG */

struct vg_encoder {
  int unused;
};

vg_status vg_encoder_open(const char *path, const vg_encoder_opts *opts, vg_encoder **out) {
  (void)opts;
  if (out) *out = NULL;
  return vg_set_error(
      VG_ERR_UNSUPPORTED,
      "cannot encode '%s': this build of vidgraph has no FFmpeg (VG_WITH_FFMPEG=OFF)",
      path ? path : "(null)");
}

vg_status vg_encoder_write(vg_encoder *e, const vg_frame *f, int timeout_ms) {
  (void)e;
  (void)f;
  (void)timeout_ms;
  return vg_set_error(VG_ERR_STATE, "vg_encoder_write: no encoder");
}

void vg_encoder_get_stats(vg_encoder *e, vg_encoder_stats *out) {
  (void)e;
  memset(out, 0, sizeof *out);
}

vg_status vg_encoder_close(vg_encoder *e) {
  (void)e;
  return VG_OK;
}
#endif
