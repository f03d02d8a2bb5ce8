/* dec_cpu.c - software decoding through libavcodec (frame + slice threads) into host NV12 frames:
 * YUV420P/YUVJ420P pictures are copied (Y) and interleaved (U, V) directly, NV12 is copied,
 * anything else goes through libswscale. Packets the decoder rejects are skipped and counted.
 * Only in builds with FFmpeg. */
#ifdef VG_HAVE_FFMPEG
#include "video_internal.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cpu_dec {
  vgv_decoder base;
  AVCodecContext *cc;
  AVFrame *frame;
  AVPacket *pkt;
  struct SwsContext *sws;
  char name[32];
} cpu_dec;

static vg_status convert(cpu_dec *d, const AVFrame *src, vg_frame *dst) {
  enum AVPixelFormat fmt = (enum AVPixelFormat)src->format;
  if (fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P) {
    vgv_i420_to_nv12(src->data[0], src->linesize[0], src->data[1], src->linesize[1], src->data[2],
                     src->linesize[2], dst);
    return VG_OK;
  }
  if (fmt == AV_PIX_FMT_NV12) {
    for (int p = 0; p < 2; p++)
      for (int r = 0; r < vg_frame_plane_rows(dst, p); r++)
        memcpy(vg_frame_plane(dst, p) + (size_t)r * dst->pitch[p],
               src->data[p] + (size_t)r * src->linesize[p], vg_frame_plane_width_bytes(dst, p));
    return VG_OK;
  }
  d->sws = sws_getCachedContext(d->sws, src->width, src->height, fmt, dst->width, dst->height,
                                AV_PIX_FMT_NV12, SWS_BICUBIC, NULL, NULL, NULL);
  if (!d->sws)
    return vg_set_error(VG_ERR_UNSUPPORTED, "cannot convert %s pictures to NV12",
                        av_get_pix_fmt_name(fmt));
  uint8_t *planes[4] = {vg_frame_plane(dst, 0), vg_frame_plane(dst, 1), NULL, NULL};
  int pitches[4] = {dst->pitch[0], dst->pitch[1], 0, 0};
  sws_scale(d->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, planes,
            pitches);
  return VG_OK;
}

static vg_status emit_frame(cpu_dec *d) {
  AVFrame *fr = d->frame;
  atomic_fetch_add(&d->base.decoded, 1);
  if (fr->decode_error_flags || (fr->flags & AV_FRAME_FLAG_CORRUPT))
    atomic_fetch_add(&d->base.concealed, 1);
  vg_frame f;
  VG_TRY(vgv_frameset_get(d->base.sink.frames, VG_PIX_NV12, fr->width, fr->height, &f));
  vg_status st = convert(d, fr, &f);
  if (st != VG_OK) {
    vg_frame_release(&f);
    return st;
  }
  f.colorspace = fr->colorspace == AVCOL_SPC_BT709 ? VG_CS_BT709 : VG_CS_BT601;
  f.full_range = fr->color_range == AVCOL_RANGE_JPEG || fr->format == AV_PIX_FMT_YUVJ420P;
  f.pts = fr->best_effort_timestamp != AV_NOPTS_VALUE ? fr->best_effort_timestamp : INT64_MIN;
  return d->base.sink.emit(d->base.sink.ctx, &f);
}

static vg_status drain(cpu_dec *d) {
  for (int errors = 0;;) {
    int r = avcodec_receive_frame(d->cc, d->frame);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return VG_OK;
    if (r < 0) {
      /* one damaged picture (a frame thread's error); later ones may still come */
      atomic_fetch_add(&d->base.corrupt, 1);
      if (++errors > 64) return VG_OK;
      continue;
    }
    vg_status st = emit_frame(d);
    av_frame_unref(d->frame);
    if (st != VG_OK) return st;
  }
}

static vg_status cpu_decode(vgv_decoder *base, const vgv_packet *pkt) {
  cpu_dec *d = (cpu_dec *)base;
  const AVPacket *ap = pkt ? pkt->avpkt : NULL;
  if (pkt && !ap) {
    av_packet_unref(d->pkt);
    d->pkt->data = (uint8_t *)pkt->data;
    d->pkt->size = (int)pkt->size;
    d->pkt->pts = pkt->pts == INT64_MIN ? AV_NOPTS_VALUE : pkt->pts;
    ap = d->pkt;
  }
  if (pkt && pkt->corrupt) atomic_fetch_add(&d->base.corrupt, 1);
  for (;;) {
    int r = avcodec_send_packet(d->cc, ap);
    if (r == AVERROR(EAGAIN)) {
      VG_TRY(drain(d)); /* the decoder wants its output taken first */
      continue;
    }
    if (r < 0 && r != AVERROR_EOF && pkt && !pkt->corrupt) atomic_fetch_add(&d->base.corrupt, 1);
    break;
  }
  if (ap == d->pkt) {
    d->pkt->data = NULL;
    d->pkt->size = 0;
  }
  return drain(d);
}

static void cpu_destroy(vgv_decoder *base) {
  cpu_dec *d = (cpu_dec *)base;
  if (!d) return;
  avcodec_free_context(&d->cc);
  av_frame_free(&d->frame);
  av_packet_free(&d->pkt);
  sws_freeContext(d->sws);
  free(d);
}

vg_status vgv_cpu_decoder_create(const vgv_stream_desc *sd, const vg_source_opts *o, vgv_sink sink,
                                 vgv_decoder **out) {
  *out = NULL;
  const AVCodecParameters *par = sd->av_params;
  if (!par) return vg_set_error(VG_ERR_INTERNAL, "CPU decoder needs FFmpeg stream parameters");
  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  if (!codec)
    return vg_set_error(VG_ERR_UNSUPPORTED, "codec '%s' has no decoder in this FFmpeg build",
                        sd->codec_name);
  cpu_dec *d = calloc(1, sizeof *d);
  if (!d) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a decoder");
  d->base.decode = cpu_decode;
  d->base.destroy = cpu_destroy;
  d->base.sink = sink;
  d->cc = avcodec_alloc_context3(codec);
  d->frame = av_frame_alloc();
  d->pkt = av_packet_alloc();
  if (!d->cc || !d->frame || !d->pkt) {
    cpu_destroy(&d->base);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a decoder");
  }
  int r = avcodec_parameters_to_context(d->cc, par);
  d->cc->pkt_timebase = (AVRational){sd->tb_num, sd->tb_den};
  d->cc->thread_count = o->threads;
  d->cc->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  if (r >= 0) r = avcodec_open2(d->cc, codec, NULL);
  if (r < 0) {
    char eb[128];
    av_strerror(r, eb, sizeof eb);
    cpu_destroy(&d->base);
    return vg_set_error(VG_ERR_BACKEND, "cannot open the %s decoder: %s", codec->name, eb);
  }
  snprintf(d->base.detail, sizeof d->base.detail, "%s (libavcodec, %d threads)", codec->name,
           d->cc->thread_count);
  *out = &d->base;
  return VG_OK;
}
#endif
