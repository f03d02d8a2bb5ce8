/* demux_es.c - raw Annex-B H.264/HEVC elementary stream files read in chunks, for builds without
 * FFmpeg: NVDEC's own parser finds the access units, so no demuxing is needed. The stream is
 * checked for a start code up front so that a wrong file gets a clear error at open. */
#include "video_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ES_CHUNK (256 * 1024)

typedef struct es_demux {
  vgv_demux base;
  char path[512];
  FILE *f;
  uint8_t *buf;
} es_demux;

vgv_codec vgv_es_codec_of(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot) return VGV_CODEC_OTHER;
  static const char *const h264[] = {".h264", ".264", ".avc", ".jsv"};
  static const char *const hevc[] = {".h265", ".265", ".hevc"};
  for (size_t i = 0; i < sizeof h264 / sizeof h264[0]; i++)
    if (strcasecmp(dot, h264[i]) == 0) return VGV_CODEC_H264;
  for (size_t i = 0; i < sizeof hevc / sizeof hevc[0]; i++)
    if (strcasecmp(dot, hevc[i]) == 0) return VGV_CODEC_HEVC;
  return VGV_CODEC_OTHER;
}

static vg_status es_read(vgv_demux *base, vgv_packet *pkt) {
  es_demux *d = (es_demux *)base;
  memset(pkt, 0, sizeof *pkt);
  size_t n = fread(d->buf, 1, ES_CHUNK, d->f);
  if (n == 0) {
    if (ferror(d->f))
      return vg_set_error(VG_ERR_IO, "'%s': read failed: %s", d->path, strerror(errno));
    return vg_set_error(VG_ERR_EOF, "'%s': end of stream", d->path);
  }
  pkt->data = d->buf;
  pkt->size = n;
  pkt->pts = INT64_MIN;
  return VG_OK;
}

static vg_status es_rewind(vgv_demux *base, double start_sec) {
  es_demux *d = (es_demux *)base;
  (void)start_sec; /* no index: the source drops frames before the start instead */
  if (fseek(d->f, 0, SEEK_SET) != 0)
    return vg_set_error(VG_ERR_IO, "'%s': cannot seek: %s", d->path, strerror(errno));
  return VG_OK;
}

static vg_status es_want_annexb(vgv_demux *base) {
  (void)base;
  return VG_OK;
}

static void es_close(vgv_demux *base) {
  es_demux *d = (es_demux *)base;
  if (!d) return;
  if (d->f) fclose(d->f);
  free(d->buf);
  free(d);
}

/* True when the first bytes hold an Annex-B start code (00 00 01 or 00 00 00 01). */
static bool has_start_code(const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 3 <= n && i < 4096; i++)
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) return true;
  return false;
}

vg_status vgv_demux_es_open(const char *path, const vgv_demux_env *env, vgv_demux **out) {
  *out = NULL;
  vgv_codec codec = vgv_es_codec_of(path);
  if (codec == VGV_CODEC_OTHER)
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "'%s': this build has no FFmpeg and reads only raw H.264/HEVC streams "
                        "(.h264 .264 .h265 .hevc)",
                        path);
  struct stat sb;
  if (stat(path, &sb) != 0)
    return vg_set_error(errno == ENOENT ? VG_ERR_NOT_FOUND : VG_ERR_IO, "cannot open '%s': %s",
                        path, strerror(errno));
  if (S_ISDIR(sb.st_mode)) return vg_set_error(VG_ERR_INVALID_ARG, "'%s' is a folder", path);
  es_demux *d = calloc(1, sizeof *d);
  if (!d) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", path);
  VGV_COPY(d->path, path);
  d->base.read = es_read;
  d->base.rewind = es_rewind;
  d->base.want_annexb = es_want_annexb;
  d->base.close = es_close;
  d->buf = malloc(ES_CHUNK);
  d->f = fopen(path, "rb");
  if (!d->buf || !d->f) {
    vg_status st = vg_set_error(d->buf ? VG_ERR_IO : VG_ERR_NO_MEMORY, "cannot open '%s': %s", path,
                                strerror(errno));
    es_close(&d->base);
    return st;
  }
  size_t n = fread(d->buf, 1, 4096, d->f);
  if (n == 0 || !has_start_code(d->buf, n)) {
    es_close(&d->base);
    return vg_set_error(VG_ERR_PARSE, "'%s': %s", path,
                        n == 0 ? "empty file"
                               : "no Annex-B start code: not a raw H.264/HEVC stream");
  }
  rewind(d->f);
  vgv_stream_desc *sd = &d->base.desc;
  sd->codec = codec;
  VGV_COPY(sd->codec_name, codec == VGV_CODEC_H264 ? "h264" : "hevc");
  VGV_COPY(sd->codec_long, vgv_codec_long_name(codec));
  sd->tb_num = 1;
  sd->tb_den = 90000;
  sd->annexb = true;
  vg_source_info *info = env->info;
  snprintf(info->container, sizeof info->container, "%s elementary stream", sd->codec_name);
  info->nstreams = 1;
  info->streams[0].index = 0;
  VGV_COPY(info->streams[0].type, "video");
  VGV_COPY(info->streams[0].codec, sd->codec_name);
  *out = &d->base;
  return VG_OK;
}
