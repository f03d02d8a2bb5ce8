/* vg_video.h - the video layer of vidgraph: frames come in here (files, raw elementary streams,
 * RTSP/HTTP, images and image folders; decoded by NVDEC into device memory or by libavcodec
 * into host memory) and go out here (H.264 MP4 encoding, JPEG snapshots).
 *
 * Sources hand out vg_frame values: NV12 (device memory for NVDEC, host memory for the CPU
 * decoder) or RGB24 host frames for images. Every frame comes from a bounded set: a source never
 * has more than `output_frames` frames alive (queued or held by the caller), so a slow consumer
 * slows the source instead of growing memory. All blocking calls have timeouts.
 *
 * Builds without FFmpeg (VG_WITH_FFMPEG=OFF, the GPU machine variant) read only raw Annex-B
 * H.264/HEVC elementary streams (.h264 .264 .h265 .hevc), decoded by NVDEC; the encoder and the
 * CPU decoder need FFmpeg. */
#ifndef VIDGRAPH_VG_VIDEO_H
#define VIDGRAPH_VG_VIDEO_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* ===================================================================== decoders */

typedef enum vg_decoder_kind {
  VG_DECODER_AUTO = 0, /* NVDEC when a GPU is present and supports the stream, else the CPU */
  VG_DECODER_NVDEC,    /* NVDEC or fail with the reason */
  VG_DECODER_CPU,      /* libavcodec */
  VG_DECODER_NONE      /* images: no video decoder involved */
} vg_decoder_kind;

/* "auto", "nvdec", "cpu", "none". */
const char *vg_decoder_name(vg_decoder_kind k);
/* Parses "auto", "nvdec" (or "gpu"), "cpu". */
vg_status vg_decoder_parse(const char *text, vg_decoder_kind *out);

/* True when this build can read containers through FFmpeg (and decode on the CPU, encode). */
bool vg_video_have_ffmpeg(void);

/* Whether NVDEC can be used on CUDA device `ordinal` at all (driver, libnvcuvid). On false,
 * reason (cap bytes) says why, e.g. "libnvcuvid not found: ...". */
bool vg_nvdec_available(int ordinal, char *reason, size_t cap);

/* ===================================================================== sources */

typedef enum vg_video_event_kind {
  VG_VIDEO_EVENT_DISCONNECTED = 0, /* a live source stopped delivering (error or end) */
  VG_VIDEO_EVENT_RECONNECTING,     /* an attempt is about to be made after `delay_ms` */
  VG_VIDEO_EVENT_RECONNECTED,      /* the source delivers again */
  VG_VIDEO_EVENT_GAVE_UP           /* reconnect attempts exhausted; the source ends */
} vg_video_event_kind;

typedef struct vg_video_event {
  vg_video_event_kind kind;
  int stream_id;
  const char *url;
  int attempt;        /* 1-based reconnect attempt (RECONNECTING, RECONNECTED, GAVE_UP) */
  int delay_ms;       /* backoff before this attempt (RECONNECTING) */
  const char *reason; /* what went wrong (DISCONNECTED, GAVE_UP) */
} vg_video_event;

/* Called on the source's reader thread; must be quick and must not call back into the source. */
typedef void (*vg_video_event_fn)(void *user, const vg_video_event *ev);

/* Defaults of vg_source_opts (vg_source_opts_default); the `source` node's parameter table
 * takes its defaults from these too. */
#define VG_SOURCE_DEFAULT_OUTPUT_FRAMES 6
#define VG_SOURCE_DEFAULT_OPEN_TIMEOUT_MS 10000
#define VG_SOURCE_DEFAULT_READ_TIMEOUT_MS 5000
/* -1 = forever: a camera that reboots is away 30-90 s, and 5 attempts (the earlier default)
 * gave up after ~8 s of backoff; a run on a live source ends with Ctrl-C / SIGTERM or an explicit
 * reconnect_attempts. Only drops after a connection count; a source that cannot be opened at
 * all still fails at once. */
#define VG_SOURCE_DEFAULT_RECONNECT_ATTEMPTS (-1)
#define VG_SOURCE_DEFAULT_IMAGE_FPS 1.0

typedef struct vg_source_opts {
  int stream_id;            /* copied into every frame (default 0) */
  bool loop;                /* files: start again at the end (frame numbers keep counting) */
  double start_sec;         /* skip to this time (seek + drop frames before it); 0 = start */
  int64_t max_frames;       /* stop after this many frames (0 = no limit) */
  bool realtime;            /* deliver at the stream's own rate (simulate a live camera) */
  vg_decoder_kind decoder;  /* auto | nvdec | cpu */
  int device;               /* CUDA ordinal for NVDEC (default 0) */
  int output_frames;        /* frames alive at once, queued + held by the caller (default 6) */
  int decode_surfaces;      /* NVDEC decode surfaces, 0 = what the stream needs (bounded 32) */
  int threads;              /* CPU decoder threads (0 = automatic) */
  int open_timeout_ms;      /* connecting/opening/probing (default 10000) */
  int read_timeout_ms;      /* one network read (default 5000) */
  int reconnect_attempts;   /* live sources: attempts after a disconnect (default -1, forever) */
  int reconnect_initial_ms; /* first backoff (default 250), doubled per attempt ... */
  int reconnect_max_ms;     /* ... up to this (default 5000) */
  bool rtsp_tcp;            /* RTSP over TCP (default true) */
  bool rtsp_listen;         /* RTSP: wait for a publisher to push to the URL (ANNOUNCE) */
  double image_fps;         /* pacing/timestamps of image sources (default 1) */
  vg_video_event_fn on_event; /* reconnect events, may be NULL */
  void *event_user;
} vg_source_opts;

/* Fills o with the defaults above. */
void vg_source_opts_default(vg_source_opts *o);

#define VG_SOURCE_MAX_STREAMS 8

typedef struct vg_source_stream {
  int index;
  char type[12];  /* video, audio, subtitle, data */
  char codec[32]; /* short codec name */
} vg_source_stream;

typedef struct vg_source_info {
  char url[512];
  char container[64];  /* e.g. "mov,mp4,m4a,3gp,3g2,mj2", "h264 elementary stream", "image" */
  char codec[32];      /* e.g. "h264", "hevc", "mpeg4" */
  char codec_long[64]; /* e.g. "H.264", "MPEG-4 Part 2" */
  char profile[32];    /* e.g. "High", "Main" ("" when unknown) */
  int width, height;
  int bit_depth;
  double fps;          /* average frame rate (0 when unknown) */
  double duration_sec; /* 0 when unknown or live */
  int tb_num, tb_den;  /* time base of frame pts */
  bool live;
  int nstreams; /* all streams of the container (first VG_SOURCE_MAX_STREAMS listed) */
  vg_source_stream streams[VG_SOURCE_MAX_STREAMS];
  vg_decoder_kind decoder;  /* the decoder in use */
  char decoder_reason[256]; /* why it was chosen (and why NVDEC was not, if so) */
  char decoder_detail[64];  /* e.g. "h264 (libavcodec, 2 threads)", "NVDEC on NVIDIA H100" */
  vg_device output_device;  /* where frames live */
  /* counters, updated while reading */
  int64_t frames_out;       /* frames handed out */
  int64_t frames_decoded;   /* pictures produced by the decoder (incl. skipped before start) */
  int64_t corrupt_packets;  /* packets flagged damaged or rejected by the decoder (skipped) */
  int64_t concealed_frames; /* pictures the decoder reported as damaged/concealed */
  int64_t reconnects;       /* successful reconnects */
  int64_t loops;            /* completed passes over a looped file */
} vg_source_info;

typedef struct vg_source vg_source;

/* Opens url: a file path, a raw .h264/.hevc stream, rtsp:// rtsps:// rtmp:// http(s):// udp://
 * URLs, a .jpg/.jpeg/.png image, a folder of such images, or an image sequence pattern
 * ("img_%04d.png"). Opening probes the stream and picks the decoder; failures name the source
 * ("cannot open 'x.mp4': No such file or directory", "'y.mp4': no video stream", ...). opts may
 * be NULL for the defaults. A reader thread then decodes ahead into a bounded queue. */
vg_status vg_source_open(const char *url, const vg_source_opts *opts, vg_source **out);

/* Waits up to timeout_ms (<0 = forever) for the next frame. The frame owns a buffer reference;
 * release it with vg_frame_release (that returns it to the source's bounded set). Returns
 * VG_ERR_EOF at the end, VG_ERR_TIMEOUT when no frame came in time (the source stays usable),
 * or the error that ended the source (repeated on every later call). */
vg_status vg_source_read(vg_source *s, vg_frame *out, int timeout_ms);

/* A snapshot of the source's description and counters. */
void vg_source_get_info(vg_source *s, vg_source_info *out);

/* Stops the reader thread and frees the source. Frames still held stay valid. NULL is fine. */
void vg_source_close(vg_source *s);

/* ===================================================================== encoder */

typedef struct vg_encoder_opts {
  int width, height;    /* encoded size (frames of other sizes/formats are converted) */
  int fps_num, fps_den; /* nominal rate and time base of the output (default 25/1) */
  const char *codec;    /* "auto" (h264_nvenc when usable, else libx264), "libx264", "h264_nvenc" */
  int crf;              /* libx264 quality (default 23); NVENC uses cq */
  int bitrate_kbps;     /* > 0: target bitrate instead of crf */
  const char *preset;   /* libx264 preset (default "veryfast") */
  int gop;              /* keyframe interval (default 2 s of frames) */
  int queue_frames;     /* bounded queue between writer and encoder thread (default 8) */
  bool block_when_full; /* false (default): drop and count when the queue is full */
  int device;           /* CUDA ordinal for NVENC */
} vg_encoder_opts;

void vg_encoder_opts_default(vg_encoder_opts *o);

typedef struct vg_encoder_stats {
  int64_t frames_in;      /* vg_encoder_write calls */
  int64_t frames_encoded; /* frames given to the codec */
  int64_t frames_dropped; /* dropped because the queue was full */
  int64_t bytes_written;  /* compressed bytes */
  char codec[32];         /* codec in use */
  char reason[256];       /* why (e.g. "h264_nvenc unavailable: no CUDA device: ...") */
} vg_encoder_stats;

typedef struct vg_encoder vg_encoder;

/* Creates path (MP4, H.264) and starts the encoder thread. */
vg_status vg_encoder_open(const char *path, const vg_encoder_opts *opts, vg_encoder **out);
/* Queues a frame (NV12/RGB24/BGR24/GRAY8, host or device; a new reference is taken, the caller
 * keeps its own). Never blocks unless block_when_full (then up to timeout_ms). A dropped frame
 * returns VG_OK and is counted. */
vg_status vg_encoder_write(vg_encoder *e, const vg_frame *f, int timeout_ms);
void vg_encoder_get_stats(vg_encoder *e, vg_encoder_stats *out);
/* Encodes what is queued, flushes, writes the MP4 index and frees e. Returns the first error the
 * encoder thread met, if any. */
vg_status vg_encoder_close(vg_encoder *e);

/* ===================================================================== images */

/* How a JPEG was made. */
typedef enum vg_jpeg_path {
  VG_JPEG_HOST = 0, /* a host frame, libjpeg */
  VG_JPEG_READBACK, /* a device frame read back to the host once, then libjpeg */
  VG_JPEG_NVJPEG    /* a device frame encoded on its GPU; only the JPEG bytes crossed */
} vg_jpeg_path;

/* Writes f (NV12, RGB24, BGR24 or GRAY8; host or device) as a baseline JPEG, quality 1..100. */
vg_status vg_jpeg_write(const vg_frame *f, const char *path, int quality);
/* Same, into memory: *out (malloc'd, free it) holds *out_len bytes of JPEG. A device frame is
 * encoded with nvJPEG when libnvjpeg.so.13 (or .12) is loadable, else read back to the host once
 * and encoded with libjpeg (vg_jpeg_device_encoder says which, and why). */
vg_status vg_jpeg_encode(const vg_frame *f, int quality, uint8_t **out, size_t *out_len);
/* The same two, also saying how, and for the file the JPEG's size (how, bytes may be NULL). */
vg_status vg_jpeg_encode_ex(const vg_frame *f, int quality, uint8_t **out, size_t *out_len,
                            vg_jpeg_path *how);
vg_status vg_jpeg_write_ex(const vg_frame *f, const char *path, int quality, vg_jpeg_path *how,
                           size_t *bytes);
/* The encoder device frames of CUDA device `ordinal` get: "nvjpeg", or "libjpeg" with the reason
 * nvJPEG is not used in reason (cap bytes; "" for nvjpeg), e.g. "libnvjpeg.so.13 not found ...". */
const char *vg_jpeg_device_encoder(int ordinal, char *reason, size_t cap);
/* The loaded nvJPEG's version ("13.0.1"), or "" when it is not loaded. */
const char *vg_jpeg_nvjpeg_version(void);

/* Reads a JPEG or PNG file into a host RGB24 frame. */
vg_status vg_image_read(const char *path, vg_frame *out);

/* ===================================================================== checksums */

/* MD5 of a frame's pixels without padding: each plane's rows of vg_frame_plane_width_bytes, in
 * plane order (for NV12 the Y rows then the interleaved UV rows) - the same bytes as
 * `ffmpeg -pix_fmt nv12 -f framemd5`. Device frames are copied to the host. hex gets 33 bytes. */
vg_status vg_frame_md5(const vg_frame *f, char hex[33]);

/* MD5 (RFC 1321) of bytes, as 32 lowercase hex digits + NUL. */
void vg_md5_hex(const void *data, size_t len, char hex[33]);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
