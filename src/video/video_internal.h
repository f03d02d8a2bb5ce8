/* video_internal.h - private interfaces between the parts of the video layer: the bounded frame
 * set, demuxers (FFmpeg, raw elementary streams), decoders (libavcodec, NVDEC) and the sink that
 * a decoder hands its pictures to. Nothing here is public API. */
#ifndef VIDGRAPH_VIDEO_INTERNAL_H
#define VIDGRAPH_VIDEO_INTERNAL_H

#include "vidgraph/vg_video.h"
#include "video/pixels_math.h"

#include <stdatomic.h>
#include <string.h>

/* ----------------------------------------------------------------- bounded frame set */

/* Hands out frames of one device, at most `max_frames` alive at once. A frame's buffer goes back
 * to the set when its last reference is dropped, even after the owner unref'd the set. */
typedef struct vgv_frameset vgv_frameset;

vg_status vgv_frameset_create(vg_device dev, int max_frames, vgv_frameset **out);
void vgv_frameset_unref(vgv_frameset *fs);
/* Wakes waiters; later gets fail with VG_ERR_CANCELED. */
void vgv_frameset_cancel(vgv_frameset *fs);
/* Waits (cancelable) for a free slot and allocates a frame with 256-byte pitches. */
vg_status vgv_frameset_get(vgv_frameset *fs, vg_pixfmt fmt, int width, int height, vg_frame *out);
int vgv_frameset_in_use(vgv_frameset *fs);
vg_device vgv_frameset_device(vgv_frameset *fs);

/* ----------------------------------------------------------------- stream description */

typedef enum vgv_codec {
  VGV_CODEC_H264 = 0,
  VGV_CODEC_HEVC,
  VGV_CODEC_AV1,
  VGV_CODEC_VP9,
  VGV_CODEC_OTHER
} vgv_codec;

typedef struct vgv_stream_desc {
  vgv_codec codec;
  char codec_name[32];
  char codec_long[64];
  char profile[32];
  int width, height; /* 0 when not known before decoding (raw streams without FFmpeg) */
  int bit_depth;     /* 0 when unknown */
  int chroma;        /* 420, 422, 444, 400; 0 when unknown */
  int tb_num, tb_den;
  double fps;
  int64_t start_pts; /* first pts of the stream in tb units (0 when unknown) */
  const uint8_t *extradata;
  int extradata_size;
  const void *av_params; /* AVCodecParameters * (FFmpeg demuxer only) */
  bool annexb;           /* packets are Annex-B byte streams (what NVDEC's parser wants) */
  bool live;             /* set by the source: a live stream (decoders keep latency low) */
} vgv_stream_desc;

typedef struct vgv_packet {
  const uint8_t *data;
  size_t size;
  int64_t pts; /* INT64_MIN when unknown */
  bool corrupt;
  const void *avpkt; /* AVPacket * (FFmpeg demuxer only) */
} vgv_packet;

/* ----------------------------------------------------------------- demuxers */

typedef struct vgv_demux vgv_demux;
struct vgv_demux {
  vgv_stream_desc desc;
  /* Next packet of the video stream (valid until the next call). VG_ERR_EOF at the end. */
  vg_status (*read)(vgv_demux *d, vgv_packet *pkt);
  /* Seeks to start_sec (0 = the beginning) for loops and start offsets. */
  vg_status (*rewind)(vgv_demux *d, double start_sec);
  /* Makes H.264/HEVC packets Annex-B (mp4/mkv store length-prefixed NAL units). */
  vg_status (*want_annexb)(vgv_demux *d);
  void (*close)(vgv_demux *d);
};

/* Where a demuxer reads its cancel flag and fills the container part of the info. */
typedef struct vgv_demux_env {
  const vg_source_opts *opts;
  const atomic_bool *stop;
  vg_source_info *info; /* container, streams, duration, live, fps, size, codec */
} vgv_demux_env;

#ifdef VG_HAVE_FFMPEG
/* FFmpeg's log lines go to vidgraph's logger (component "ffmpeg", debug level). */
void vgv_ff_log_install(void);
vg_status vgv_demux_ff_open(const char *url, const vgv_demux_env *env, vgv_demux **out);
#endif
/* Raw Annex-B H.264/HEVC file read in chunks (no FFmpeg needed). */
vg_status vgv_demux_es_open(const char *path, const vgv_demux_env *env, vgv_demux **out);
/* VGV_CODEC_H264/HEVC for .h264 .264 .avc / .h265 .265 .hevc, else VGV_CODEC_OTHER. */
vgv_codec vgv_es_codec_of(const char *path);

/* ----------------------------------------------------------------- decoders */

/* Where decoded pictures go. emit takes ownership of *f (also on failure). It returns VG_OK to
 * go on, VG_ERR_EOF when the frame limit is reached, VG_ERR_CANCELED when the source stops. */
typedef struct vgv_sink {
  vg_status (*emit)(void *ctx, vg_frame *f);
  /* The decoder learnt the real picture format (NVDEC sequence header). May be NULL. */
  void (*format)(void *ctx, int width, int height, int bit_depth, double fps);
  void *ctx;
  vgv_frameset *frames;
} vgv_sink;

typedef struct vgv_decoder vgv_decoder;
struct vgv_decoder {
  /* Decodes one packet (NULL = end of stream: drain) and emits what is ready. */
  vg_status (*decode)(vgv_decoder *d, const vgv_packet *pkt);
  void (*destroy)(vgv_decoder *d);
  /* Optional (NULL: destroy and create a new one): the next packet starts a new pass over the
   * same stream (a loop), after a drain; keeps what is costly to create. */
  vg_status (*restart)(vgv_decoder *d);
  atomic_llong decoded, corrupt, concealed;
  char detail[64];
  vgv_sink sink;
};

#ifdef VG_HAVE_FFMPEG
vg_status vgv_cpu_decoder_create(const vgv_stream_desc *sd, const vg_source_opts *o, vgv_sink sink,
                                 vgv_decoder **out);
#endif
/* VG_OK when NVDEC on device `ordinal` can decode sd (reason gets a description of the GPU),
 * else VG_ERR_UNSUPPORTED with the reason (also in vg_last_error). */
vg_status vgv_nvdec_check(const vgv_stream_desc *sd, int ordinal, char *reason, size_t cap);
vg_status vgv_nvdec_decoder_create(const vgv_stream_desc *sd, const vg_source_opts *o,
                                   vgv_sink sink, vgv_decoder **out);

/* ----------------------------------------------------------------- helpers */

/* Copies a host NV12 picture given as Y + separate U, V planes (I420) into an NV12 frame. */
void vgv_i420_to_nv12(const uint8_t *y, int ys, const uint8_t *u, int us, const uint8_t *v, int vs,
                      vg_frame *dst);
/* NV12/RGB24/BGR24/GRAY8 host frame -> packed RGB24 rows (dst pitch = width*3). BT.601 or
 * BT.709 after the frame's colorspace, limited or full range. */
void vgv_to_rgb24(const vg_frame *f, uint8_t *dst);
/* The coefficients vgv_to_rgb24 uses for an NV12 frame (its colorspace and range). */
void vgv_yuv_coefs_of(const vg_frame *f, vgv_yuv_coefs *c);
const char *vgv_codec_long_name(vgv_codec c);

/* nvJPEG (jpeg_nvjpeg.c): whether device frames of CUDA device `ordinal` can be encoded on the
 * GPU (else the reason); the loaded version or ""; the encode itself, VG_ERR_UNSUPPORTED when
 * nvJPEG cannot be used for f (host frame, no library, no device), other codes when it failed. */
bool vgv_nvjpeg_usable(int ordinal, char *reason, size_t cap);
const char *vgv_nvjpeg_version(void);
vg_status vgv_nvjpeg_encode(const vg_frame *f, int quality, uint8_t **out, size_t *out_len);
/* Copies a string (NULL = "") into a fixed array, truncating, always terminated. */
static inline void vgv_copy(char *dst, size_t cap, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = 0;
}
#define VGV_COPY(dst, src) vgv_copy((dst), sizeof(dst), (src))

#endif
