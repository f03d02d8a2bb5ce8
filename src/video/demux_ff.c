/* demux_ff.c - reading the video stream of a file or network URL through libavformat: open with
 * a deadline (AVIOInterruptCB; a FIFO is first waited for with poll, since opening one blocks
 * in open(2) until a writer comes, out of the callback's reach), probe, describe the stream, hand
 * out packets (Annex-B through a bitstream filter when NVDEC needs it), seek for loops and start
 * offsets. Only in builds with FFmpeg. */
#ifdef VG_HAVE_FFMPEG
#include "video_internal.h"

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ff_demux {
  vgv_demux base;
  char url[512];
  AVFormatContext *fc;
  int vidx;
  AVPacket *pkt;
  AVBSFContext *bsf;
  bool bsf_eof;
  const atomic_bool *stop;
  int64_t deadline_ns; /* 0 = none */
  int read_timeout_ms;
  bool live;
  int fifo_fd; /* a FIFO source, read through FFmpeg's pipe: protocol; -1 otherwise */
} ff_demux;

static int interrupt_cb(void *p) {
  ff_demux *d = p;
  if (d->stop && atomic_load(d->stop)) return 1;
  return d->deadline_ns && vg_now_ns() > d->deadline_ns;
}

static bool timed_out(ff_demux *d) {
  return d->deadline_ns && vg_now_ns() > d->deadline_ns;
}

static const char *averr(int e, char *buf, size_t cap) {
  av_strerror(e, buf, cap);
  return buf;
}

static vgv_codec map_codec(enum AVCodecID id) {
  switch (id) {
  case AV_CODEC_ID_H264:
    return VGV_CODEC_H264;
  case AV_CODEC_ID_HEVC:
    return VGV_CODEC_HEVC;
  case AV_CODEC_ID_AV1:
    return VGV_CODEC_AV1;
  case AV_CODEC_ID_VP9:
    return VGV_CODEC_VP9;
  default:
    return VGV_CODEC_OTHER;
  }
}

static bool is_live_url(const char *url, AVFormatContext *fc) {
  static const char *const live[] = {
      "rtsp:", "rtsps:", "rtmp:", "rtmps:", "udp:", "rtp:", "srt:", "tcp:", "mmsh:", "mmst:"};
  for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
    if (strncmp(url, live[i], strlen(live[i])) == 0) return true;
  bool http = strncmp(url, "http:", 5) == 0 || strncmp(url, "https:", 6) == 0;
  return http && fc->duration == AV_NOPTS_VALUE;
}

static void describe(ff_demux *d, vg_source_info *info) {
  AVFormatContext *fc = d->fc;
  AVStream *st = fc->streams[d->vidx];
  AVCodecParameters *par = st->codecpar;
  vgv_stream_desc *sd = &d->base.desc;
  const AVCodecDescriptor *cd = avcodec_descriptor_get(par->codec_id);
  sd->codec = map_codec(par->codec_id);
  VGV_COPY(sd->codec_name, cd ? cd->name : "unknown");
  VGV_COPY(sd->codec_long, sd->codec != VGV_CODEC_OTHER
                               ? vgv_codec_long_name(sd->codec)
                               : (cd && cd->long_name ? cd->long_name : sd->codec_name));
  const char *prof = avcodec_profile_name(par->codec_id, par->profile);
  VGV_COPY(sd->profile, prof);
  sd->width = par->width;
  sd->height = par->height;
  const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get((enum AVPixelFormat)par->format);
  if (pd) {
    sd->bit_depth = pd->comp[0].depth;
    sd->chroma = pd->nb_components < 3                                ? 400
                 : (pd->log2_chroma_w == 1 && pd->log2_chroma_h == 1) ? 420
                 : (pd->log2_chroma_w == 1)                           ? 422
                                                                      : 444;
  }
  sd->tb_num = st->time_base.num;
  sd->tb_den = st->time_base.den;
  AVRational fr = av_guess_frame_rate(fc, st, NULL);
  sd->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
  sd->start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  sd->extradata = par->extradata;
  sd->extradata_size = par->extradata_size;
  sd->av_params = par;
  /* Raw streams and MPEG-TS carry start codes; mp4/mkv/flv carry avcC/hvcC extradata. */
  sd->annexb = !(par->extradata_size > 0 && par->extradata[0] == 1);

  VGV_COPY(info->container, fc->iformat->name);
  info->live = d->live;
  info->duration_sec = (!d->live && fc->duration != AV_NOPTS_VALUE) ? fc->duration / 1e6 : 0;
  info->nstreams = (int)fc->nb_streams;
  for (unsigned i = 0; i < fc->nb_streams && i < VG_SOURCE_MAX_STREAMS; i++) {
    AVCodecParameters *p = fc->streams[i]->codecpar;
    const char *t = av_get_media_type_string(p->codec_type);
    info->streams[i].index = (int)i;
    VGV_COPY(info->streams[i].type, t ? t : "unknown");
    VGV_COPY(info->streams[i].codec, avcodec_get_name(p->codec_id));
  }
}

static vg_status ff_read(vgv_demux *base, vgv_packet *out) {
  ff_demux *d = (ff_demux *)base;
  char eb[128];
  memset(out, 0, sizeof *out);
  for (;;) {
    av_packet_unref(d->pkt);
    if (d->bsf) {
      int r = av_bsf_receive_packet(d->bsf, d->pkt);
      if (r == 0) break;
      if (r == AVERROR_EOF) return vg_set_error(VG_ERR_EOF, "'%s': end of stream", d->url);
      if (r != AVERROR(EAGAIN))
        return vg_set_error(VG_ERR_BACKEND, "'%s': bitstream filter: %s", d->url,
                            averr(r, eb, sizeof eb));
      if (d->bsf_eof) return vg_set_error(VG_ERR_EOF, "'%s': end of stream", d->url);
    }
    d->deadline_ns = vg_now_ns() + (int64_t)d->read_timeout_ms * 1000000;
    int r = av_read_frame(d->fc, d->pkt);
    bool late = timed_out(d);
    d->deadline_ns = 0;
    if (r == AVERROR(EAGAIN)) {
      vg_sleep_ms(5);
      continue;
    }
    if (r < 0) {
      if (d->stop && atomic_load(d->stop)) return vg_set_error(VG_ERR_CANCELED, "source closed");
      if (late)
        return vg_set_error(VG_ERR_TIMEOUT, "'%s': no data for %d ms", d->url, d->read_timeout_ms);
      if (r != AVERROR_EOF && d->live)
        return vg_set_error(VG_ERR_IO, "'%s': read failed: %s", d->url, averr(r, eb, sizeof eb));
      if (r != AVERROR_EOF)
        VG_LOGW("video", "'%s': read failed (%s); treating it as the end of the file", d->url,
                averr(r, eb, sizeof eb));
      if (!d->bsf) return vg_set_error(VG_ERR_EOF, "'%s': end of stream", d->url);
      d->bsf_eof = true;
      av_bsf_send_packet(d->bsf, NULL);
      continue;
    }
    if (d->pkt->stream_index != d->vidx) continue;
    if (!d->bsf) break;
    r = av_bsf_send_packet(d->bsf, d->pkt);
    if (r < 0)
      return vg_set_error(VG_ERR_BACKEND, "'%s': bitstream filter: %s", d->url,
                          averr(r, eb, sizeof eb));
  }
  out->data = d->pkt->data;
  out->size = (size_t)d->pkt->size;
  out->pts = d->pkt->pts != AV_NOPTS_VALUE ? d->pkt->pts : INT64_MIN;
  out->corrupt = (d->pkt->flags & AV_PKT_FLAG_CORRUPT) != 0;
  out->avpkt = d->pkt;
  return VG_OK;
}

static vg_status ff_rewind(vgv_demux *base, double start_sec) {
  ff_demux *d = (ff_demux *)base;
  AVStream *st = d->fc->streams[d->vidx];
  int64_t ts = (int64_t)(start_sec / av_q2d(st->time_base)) + d->base.desc.start_pts;
  d->deadline_ns = vg_now_ns() + (int64_t)d->read_timeout_ms * 1000000;
  int r = av_seek_frame(d->fc, d->vidx, ts, AVSEEK_FLAG_BACKWARD);
  /* No index (raw streams): back to the first byte; the source drops frames before start. */
  if (r < 0) r = av_seek_frame(d->fc, -1, 0, AVSEEK_FLAG_BYTE);
  d->deadline_ns = 0;
  if (d->bsf) {
    av_bsf_flush(d->bsf);
    d->bsf_eof = false;
  }
  if (r < 0) {
    char eb[128];
    return vg_set_error(VG_ERR_UNSUPPORTED, "'%s': cannot seek to %.3f s: %s", d->url, start_sec,
                        averr(r, eb, sizeof eb));
  }
  return VG_OK;
}

static vg_status ff_want_annexb(vgv_demux *base) {
  ff_demux *d = (ff_demux *)base;
  if (d->base.desc.annexb || d->bsf) return VG_OK;
  const char *name = d->base.desc.codec == VGV_CODEC_H264   ? "h264_mp4toannexb"
                     : d->base.desc.codec == VGV_CODEC_HEVC ? "hevc_mp4toannexb"
                                                            : NULL;
  if (!name) return VG_OK;
  const AVBitStreamFilter *f = av_bsf_get_by_name(name);
  if (!f) return vg_set_error(VG_ERR_UNSUPPORTED, "FFmpeg lacks the %s filter", name);
  int r = av_bsf_alloc(f, &d->bsf);
  if (r >= 0) r = avcodec_parameters_copy(d->bsf->par_in, d->fc->streams[d->vidx]->codecpar);
  if (r >= 0) {
    d->bsf->time_base_in = d->fc->streams[d->vidx]->time_base;
    r = av_bsf_init(d->bsf);
  }
  if (r < 0) {
    char eb[128];
    av_bsf_free(&d->bsf);
    return vg_set_error(VG_ERR_BACKEND, "'%s': %s: %s", d->url, name, averr(r, eb, sizeof eb));
  }
  d->base.desc.annexb = true;
  return VG_OK;
}

static void ff_close(vgv_demux *base) {
  ff_demux *d = (ff_demux *)base;
  if (!d) return;
  av_bsf_free(&d->bsf);
  av_packet_free(&d->pkt);
  if (d->fc) avformat_close_input(&d->fc);
  if (d->fifo_fd >= 0) close(d->fifo_fd);
  free(d);
}

static void set_network_options(const char *url, const vg_source_opts *o, AVDictionary **dict) {
  char v[32];
  snprintf(v, sizeof v, "%lld", (long long)o->read_timeout_ms * 1000);
  if (strncmp(url, "rtsp", 4) == 0) {
    if (o->rtsp_tcp) av_dict_set(dict, "rtsp_transport", "tcp", 0);
    av_dict_set(dict, "timeout", v, 0); /* socket I/O, microseconds */
    /* No frame-rate probing: by default avformat_find_stream_info reads ~20 frames of a live
     * camera to estimate a rate that the SDP or the SPS usually give (0 = unknown otherwise);
     * that is ~0.8 s of every open and every reconnect at 25 fps (ffprobe on our test server:
     * 1.22 s -> 0.40 s, same size and rate found). */
    av_dict_set(dict, "fpsprobesize", "0", 0);
    if (o->rtsp_listen) {
      char s[32];
      snprintf(s, sizeof s, "%d", (o->open_timeout_ms + 999) / 1000);
      av_dict_set(dict, "rtsp_flags", "listen", 0);
      av_dict_set(dict, "listen_timeout", s, 0);
    }
  } else if (strstr(url, "://")) {
    av_dict_set(dict, "rw_timeout", v, 0);
  }
}

/* A local FIFO: opened without blocking, then polled until a writer sends data (or hangs up),
 * the open deadline passes or the source is closed. FFmpeg then reads it as "pipe:FD" (the fd
 * stays non-blocking, so its reads go through the interrupt callback and the read deadline). */
static vg_status wait_fifo(ff_demux *d, int timeout_ms, char *open_url, size_t cap) {
  struct stat sb;
  if (strstr(d->url, "://") || stat(d->url, &sb) != 0 || !S_ISFIFO(sb.st_mode)) return VG_OK;
  int fd = open(d->url, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return vg_set_error(VG_ERR_IO, "cannot open '%s': %s", d->url, strerror(errno));
  int64_t deadline = vg_now_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    if (d->stop && atomic_load(d->stop)) {
      close(fd);
      return vg_set_error(VG_ERR_CANCELED, "source closed");
    }
    int64_t left_ms = (deadline - vg_now_ns()) / 1000000;
    if (left_ms <= 0) {
      close(fd);
      return vg_set_error(VG_ERR_TIMEOUT,
                          "cannot open '%s': a FIFO with no writer within %d ms (open_timeout_ms)",
                          d->url, timeout_ms);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left_ms < 100 ? (int)left_ms : 100);
    if (r > 0) break;
    if (r < 0 && errno != EINTR) {
      int e = errno;
      close(fd);
      return vg_set_error(VG_ERR_IO, "cannot open '%s': %s", d->url, strerror(e));
    }
  }
  d->fifo_fd = fd; /* not "live": the writer closing it is the end of the stream */
  snprintf(open_url, cap, "pipe:%d", fd);
  return VG_OK;
}

static vg_status open_input(ff_demux *d, const vg_source_opts *o) {
  char eb[128], url[sizeof d->url];
  snprintf(url, sizeof url, "%s", d->url);
  VG_TRY(wait_fifo(d, o->open_timeout_ms, url, sizeof url));
  d->fc = avformat_alloc_context();
  if (!d->fc) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", d->url);
  d->fc->interrupt_callback.callback = interrupt_cb;
  d->fc->interrupt_callback.opaque = d;
  AVDictionary *dict = NULL;
  set_network_options(d->url, o, &dict);
  d->deadline_ns = vg_now_ns() + (int64_t)o->open_timeout_ms * 1000000;
  int r = avformat_open_input(&d->fc, url, NULL, &dict);
  av_dict_free(&dict);
  if (r < 0) {
    d->fc = NULL; /* freed by avformat_open_input on failure */
    if (d->stop && atomic_load(d->stop)) return vg_set_error(VG_ERR_CANCELED, "source closed");
    if (timed_out(d))
      return vg_set_error(VG_ERR_TIMEOUT, "cannot open '%s': no answer within %d ms", d->url,
                          o->open_timeout_ms);
    if (r == AVERROR(ENOENT))
      return vg_set_error(VG_ERR_NOT_FOUND, "cannot open '%s': no such file", d->url);
    if (r == AVERROR_INVALIDDATA || r == AVERROR_EOF)
      return vg_set_error(VG_ERR_PARSE, "cannot open '%s': not a video FFmpeg can read (%s)",
                          d->url, averr(r, eb, sizeof eb));
    return vg_set_error(VG_ERR_IO, "cannot open '%s': %s", d->url, averr(r, eb, sizeof eb));
  }
  r = avformat_find_stream_info(d->fc, NULL);
  bool late = timed_out(d);
  d->deadline_ns = 0;
  if (r < 0) {
    if (late)
      return vg_set_error(VG_ERR_TIMEOUT, "'%s': no stream information within %d ms", d->url,
                          o->open_timeout_ms);
    return vg_set_error(VG_ERR_PARSE, "'%s': cannot read stream information: %s", d->url,
                        averr(r, eb, sizeof eb));
  }
  return VG_OK;
}

static vg_status pick_stream(ff_demux *d) {
  d->vidx = av_find_best_stream(d->fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (d->vidx < 0) {
    char list[256] = "";
    for (unsigned i = 0; i < d->fc->nb_streams && strlen(list) < 200; i++) {
      AVCodecParameters *p = d->fc->streams[i]->codecpar;
      const char *t = av_get_media_type_string(p->codec_type);
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s %s", i ? ", " : "",
               t ? t : "unknown", avcodec_get_name(p->codec_id));
    }
    return vg_set_error(VG_ERR_UNSUPPORTED, "'%s': no video stream (streams: %s)", d->url,
                        list[0] ? list : "none");
  }
  AVCodecParameters *par = d->fc->streams[d->vidx]->codecpar;
  if (par->width <= 0 || par->height <= 0)
    return vg_set_error(VG_ERR_PARSE, "'%s': video stream %d has no picture size (damaged?)",
                        d->url, d->vidx);
  for (unsigned i = 0; i < d->fc->nb_streams; i++)
    if ((int)i != d->vidx) d->fc->streams[i]->discard = AVDISCARD_ALL;
  return VG_OK;
}

vg_status vgv_demux_ff_open(const char *url, const vgv_demux_env *env, vgv_demux **out) {
  *out = NULL;
  vgv_ff_log_install();
  ff_demux *d = calloc(1, sizeof *d);
  if (!d) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", url);
  VGV_COPY(d->url, url);
  d->fifo_fd = -1;
  d->stop = env->stop;
  d->read_timeout_ms = env->opts->read_timeout_ms;
  d->base.read = ff_read;
  d->base.rewind = ff_rewind;
  d->base.want_annexb = ff_want_annexb;
  d->base.close = ff_close;
  d->pkt = av_packet_alloc();
  vg_status st = d->pkt ? open_input(d, env->opts)
                        : vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", url);
  if (st == VG_OK) st = pick_stream(d);
  if (st != VG_OK) {
    ff_close(&d->base);
    return st;
  }
  d->live = is_live_url(url, d->fc);
  describe(d, env->info);
  *out = &d->base;
  return VG_OK;
}
#endif
