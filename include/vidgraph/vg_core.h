/* vg_core.h - the core layer of vidgraph: status codes and errors, logging, time, devices,
 * streams and events, ref-counted buffers, memory pools, tensors, frames, bounded queues,
 * latency statistics and the YAML config tree.
 *
 * Everything else in vidgraph is built on these types. Rules that hold across the library:
 *  - every function that can fail returns a vg_status and, on failure, sets a message a person
 *    can act on, readable with vg_last_error() on the same thread;
 *  - nothing here keeps per-run state in globals; the only process-wide objects are the logger
 *    and the CUDA runtime itself. */
#ifndef VIDGRAPH_VG_CORE_H
#define VIDGRAPH_VG_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The public API. The library is built with -fvisibility=hidden: only what the public headers
 * declare between VG_API_BEGIN and VG_API_END (or mark VG_API) is exported from libvidgraph.so;
 * internal functions, whatever their prefix, stay inside it (tests/integration/test_exports.sh). */
#if defined(__GNUC__)
#define VG_API __attribute__((visibility("default")))
#define VG_API_BEGIN _Pragma("GCC visibility push(default)")
#define VG_API_END _Pragma("GCC visibility pop")
#else
#define VG_API
#define VG_API_BEGIN
#define VG_API_END
#endif

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

#define VG_VERSION_MAJOR 0
#define VG_VERSION_MINOR 1
#define VG_VERSION_PATCH 0
#define VG_VERSION_STRING "0.1.0"

/* ===================================================================== status and errors */

typedef enum vg_status {
  VG_OK = 0,
  VG_ERR_INVALID_ARG, /* a caller passed something out of range or inconsistent */
  VG_ERR_NO_MEMORY,   /* host or device allocation failed */
  VG_ERR_IO,          /* file or socket error */
  VG_ERR_PARSE,       /* malformed config, spec, model or stream */
  VG_ERR_NOT_FOUND,   /* file, key, node, model or device that does not exist */
  VG_ERR_UNSUPPORTED, /* valid request this build or machine cannot do */
  VG_ERR_DEVICE,      /* CUDA / driver error, or no device */
  VG_ERR_BACKEND,     /* error reported by a library (ONNX Runtime, FFmpeg, NVDEC) */
  VG_ERR_TIMEOUT,     /* a bounded wait ran out */
  VG_ERR_CANCELED,    /* the run was canceled */
  VG_ERR_EOF,         /* end of stream: not an error for sources, a signal */
  VG_ERR_STATE,       /* call in the wrong state (e.g. use after close) */
  VG_ERR_INTERNAL,    /* a bug in vidgraph */
  VG_STATUS_COUNT_
} vg_status;

/* Short stable name of a status, e.g. "invalid_arg". */
const char *vg_status_name(vg_status s);

/* The message of the last failure on this thread ("" when none). */
const char *vg_last_error(void);

/* Sets this thread's message (printf style) and returns s, so that callers can write
 * `return vg_set_error(VG_ERR_IO, "cannot open %s: %s", path, strerror(errno));`. */
vg_status vg_set_error(vg_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with more context: "context: previous message". Returns s. */
vg_status vg_wrap_error(vg_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void vg_clear_error(void);

/* The status of the last vg_set_error on this thread (VG_OK after vg_clear_error). */
vg_status vg_last_status(void);

/* Propagates a failing status to the caller; the only control-flow macro in the project. */
#define VG_TRY(expr)                                                                               \
  do {                                                                                             \
    vg_status vg_try_s_ = (expr);                                                                  \
    if (vg_try_s_ != VG_OK) return vg_try_s_;                                                      \
  } while (0)

/* Internal consistency checks (refcount misuse, corrupted handles). Active unless NDEBUG; on
 * failure they log the expression and abort. */
void vg_assert_fail(const char *expr, const char *file, int line);
#ifdef NDEBUG
#define VG_ASSERT(e) ((void)0)
#else
#define VG_ASSERT(e) ((e) ? (void)0 : vg_assert_fail(#e, __FILE__, __LINE__))
#endif

/* ===================================================================== logging */

typedef enum vg_log_level {
  VG_LOG_TRACE = 0,
  VG_LOG_DEBUG,
  VG_LOG_INFO,
  VG_LOG_WARN,
  VG_LOG_ERROR,
  VG_LOG_OFF
} vg_log_level;

/* Logs one JSON line: {"ts":"...","level":"warn","component":"infer","msg":"...", ...fields}.
 * fields_json is NULL or the members of a JSON object without braces, e.g. "\"model\":\"det\"".
 * Repeated messages (same component and format) are rate limited: the first N within a window
 * are written, the rest are counted and summarised as one "suppressed K" line. */
void vg_log(vg_log_level level, const char *component, const char *fields_json, const char *fmt,
            ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void vg_logv(vg_log_level level, const char *component, const char *fields_json, const char *fmt,
             va_list ap);

/* Sends log lines to a file (appended) instead of stderr; NULL goes back to stderr. */
vg_status vg_log_set_file(const char *path);
/* Level for one component, or the default level when component is NULL. */
void vg_log_set_level(const char *component, vg_log_level level);
vg_log_level vg_log_get_level(const char *component);
/* Parses "trace|debug|info|warn|error|off". */
vg_status vg_log_level_parse(const char *text, vg_log_level *out);
const char *vg_log_level_name(vg_log_level level);
/* At most first_n identical messages per window_ms; 0 first_n disables the limit. */
void vg_log_set_rate_limit(unsigned first_n, unsigned window_ms);
/* Writes pending "suppressed" summaries now (also done at exit by the CLI). */
void vg_log_flush(void);
/* Escapes s into a JSON string body (no quotes) into out (size cap); returns out. */
char *vg_json_escape(const char *s, char *out, size_t cap);

#define VG_LOGE(comp, ...) vg_log(VG_LOG_ERROR, comp, NULL, __VA_ARGS__)
#define VG_LOGW(comp, ...) vg_log(VG_LOG_WARN, comp, NULL, __VA_ARGS__)
#define VG_LOGI(comp, ...) vg_log(VG_LOG_INFO, comp, NULL, __VA_ARGS__)
#define VG_LOGD(comp, ...) vg_log(VG_LOG_DEBUG, comp, NULL, __VA_ARGS__)

/* ===================================================================== time */

/* Monotonic clock in nanoseconds. */
int64_t vg_now_ns(void);
/* Wall clock (Unix epoch) in nanoseconds. */
int64_t vg_wall_ns(void);
void vg_sleep_ms(unsigned ms);

/* ===================================================================== devices */

typedef enum vg_device_kind { VG_DEVICE_CPU = 0, VG_DEVICE_CUDA = 1 } vg_device_kind;

typedef struct vg_device {
  vg_device_kind kind;
  int ordinal; /* CUDA device index; 0 for the CPU */
} vg_device;

static inline vg_device vg_cpu(void) {
  vg_device d = {VG_DEVICE_CPU, 0};
  return d;
}
static inline vg_device vg_cuda(int ordinal) {
  vg_device d = {VG_DEVICE_CUDA, ordinal};
  return d;
}
static inline bool vg_device_eq(vg_device a, vg_device b) {
  return a.kind == b.kind && (a.kind == VG_DEVICE_CPU || a.ordinal == b.ordinal);
}

typedef struct vg_device_info {
  vg_device device;
  char name[128];
  size_t total_mem;
  size_t free_mem;
  int cc_major, cc_minor;
  int multiprocessors;
  int driver_version;  /* e.g. 13000; 0 when no driver */
  int runtime_version; /* CUDA runtime linked in, e.g. 13000 */
} vg_device_info;

/* True when this build has CUDA support compiled in. */
bool vg_cuda_compiled(void);
/* Number of usable CUDA devices. Returns VG_OK with 0 devices when there is no GPU or driver;
 * then vg_cuda_unavailable_reason() says why (e.g. "no CUDA driver found (libcuda.so.1)"). */
vg_status vg_cuda_device_count(int *count);
const char *vg_cuda_unavailable_reason(void);
/* The NVIDIA driver release ("580.65.06", what nvidia-smi shows) through NVML, loaded at run
 * time; VG_ERR_UNSUPPORTED with the reason in vg_last_error() when NVML is not there. Not the
 * CUDA driver API version (vg_device_info.driver_version, e.g. 13000). */
vg_status vg_driver_release(char *out, size_t cap);
/* Name, memory, compute capability, versions. For the CPU: the processor model and RAM. */
vg_status vg_device_info_get(vg_device dev, vg_device_info *info);
/* "cpu" or "cuda:N" into buf; returns buf. */
const char *vg_device_str(vg_device dev, char *buf, size_t cap);
/* Parses "cpu", "cuda", "cuda:1", "gpu". */
vg_status vg_device_parse(const char *text, vg_device *out);

/* ----- streams and events (CUDA streams; on the CPU they are no-ops that always succeed) */

typedef struct vg_stream_s *vg_stream; /* NULL means the legacy default stream */
typedef struct vg_event_s *vg_event;

vg_status vg_stream_create(vg_device dev, vg_stream *out);
void vg_stream_destroy(vg_stream s);
/* Waits for s; s NULL waits for the whole device (every stream: a stall for every other thread's
 * GPU work, so never on a per-frame path). */
vg_status vg_stream_sync(vg_stream s);
/* Waits for the work queued on the legacy default stream (stream NULL of vg_memcpy_async and
 * friends) only, not for the other (non-blocking) streams: what a per-frame read-back needs. */
vg_status vg_default_stream_sync(void);
/* The cudaStream_t behind s (NULL for the default stream), for kernels and libraries. */
void *vg_stream_native(vg_stream s);
vg_device vg_stream_device(vg_stream s);

vg_status vg_event_create(vg_device dev, bool timing, vg_event *out);
void vg_event_destroy(vg_event e);
vg_status vg_event_record(vg_event e, vg_stream s);
vg_status vg_event_sync(vg_event e);
/* True when the work before the event has completed (non-blocking). */
bool vg_event_done(vg_event e);
vg_status vg_stream_wait_event(vg_stream s, vg_event e);
vg_status vg_event_elapsed_ms(vg_event start, vg_event end, float *ms);

/* ----- raw memory (prefer pools and buffers) */

vg_status vg_mem_alloc(vg_device dev, size_t bytes, void **out);
void vg_mem_free(vg_device dev, void *ptr);
vg_status vg_mem_alloc_pinned(size_t bytes, void **out); /* page-locked host memory */
void vg_mem_free_pinned(void *ptr);
/* Copies between any two devices; blocking. */
vg_status vg_memcpy(void *dst, vg_device dst_dev, const void *src, vg_device src_dev, size_t bytes);
/* Asynchronous on stream s (truly async only with pinned host memory). */
vg_status vg_memcpy_async(void *dst, vg_device dst_dev, const void *src, vg_device src_dev,
                          size_t bytes, vg_stream s);
/* 2D copy of `rows` rows of `width_bytes`, with pitches. */
vg_status vg_memcpy2d_async(void *dst, size_t dst_pitch, vg_device dst_dev, const void *src,
                            size_t src_pitch, vg_device src_dev, size_t width_bytes, size_t rows,
                            vg_stream s);
vg_status vg_memset_async(void *dst, vg_device dev, int value, size_t bytes, vg_stream s);

/* ===================================================================== memory pools */

/* A caching allocator for one kind of memory (device, pinned host or pageable host). Blocks are
 * rounded to size classes (4 steps per power of two) and kept on free lists for reuse; trimming
 * returns cached blocks to the system. Thread-safe. Reference counted: buffers allocated from a
 * pool keep it alive. */
typedef struct vg_pool vg_pool;

typedef enum vg_pool_kind {
  VG_POOL_HOST = 0,   /* malloc */
  VG_POOL_PINNED = 1, /* cudaMallocHost (falls back to malloc without CUDA, with a warning) */
  VG_POOL_DEVICE = 2  /* cudaMalloc on one device */
} vg_pool_kind;

typedef struct vg_pool_stats {
  size_t bytes_in_use;  /* handed out and not returned */
  size_t bytes_cached;  /* held on free lists */
  size_t peak_bytes;    /* max of in_use + cached */
  uint64_t allocations; /* blocks obtained from the system */
  uint64_t requests;    /* vg_pool_alloc calls */
  uint64_t hits;        /* requests served from a free list */
  uint64_t frees_to_system;
} vg_pool_stats;

/* max_cached: bytes kept on free lists before blocks go back to the system (0 = unlimited). */
vg_status vg_pool_create(vg_pool_kind kind, vg_device dev, size_t max_cached, vg_pool **out);
vg_pool *vg_pool_ref(vg_pool *p);
void vg_pool_unref(vg_pool *p);
vg_status vg_pool_alloc(vg_pool *p, size_t bytes, void **out);
/* bytes must be the size asked for at allocation. */
void vg_pool_free(vg_pool *p, void *ptr, size_t bytes);
/* Frees cached blocks until at most keep_bytes are cached. */
void vg_pool_trim(vg_pool *p, size_t keep_bytes);
void vg_pool_get_stats(vg_pool *p, vg_pool_stats *out);
vg_device vg_pool_device(const vg_pool *p);
vg_pool_kind vg_pool_get_kind(const vg_pool *p);
/* The size a request of `bytes` is rounded to. */
size_t vg_pool_size_class(size_t bytes);

/* ===================================================================== buffers */

/* Reference-counted bytes on one device. The release callback runs when the last reference
 * is dropped. Ref/unref are thread-safe (atomic). */
typedef struct vg_buffer vg_buffer;
typedef void (*vg_release_fn)(void *ctx, void *data, size_t bytes, vg_device dev);

/* From a pool when pool != NULL (the buffer's device is the pool's), else raw vg_mem_alloc. */
vg_status vg_buffer_alloc(vg_device dev, size_t bytes, vg_pool *pool, vg_buffer **out);
/* Wraps memory owned elsewhere; release (may be NULL) is called with ctx at the end. */
vg_status vg_buffer_wrap(vg_device dev, void *data, size_t bytes, vg_release_fn release, void *ctx,
                         vg_buffer **out);
vg_buffer *vg_buffer_ref(vg_buffer *b);
void vg_buffer_unref(vg_buffer *b);
void *vg_buffer_data(const vg_buffer *b);
size_t vg_buffer_size(const vg_buffer *b);
vg_device vg_buffer_device(const vg_buffer *b);
int vg_buffer_refcount(const vg_buffer *b);

/* ===================================================================== tensors */

typedef enum vg_dtype {
  VG_DTYPE_F32 = 0,
  VG_DTYPE_F16,
  VG_DTYPE_U8,
  VG_DTYPE_I32,
  VG_DTYPE_I64,
  VG_DTYPE_COUNT_
} vg_dtype;

#define VG_MAX_DIMS 8

/* A strided view into a buffer. Strides are in elements. A tensor value owns one reference to
 * its buffer (NULL buffer = empty tensor); copy it with vg_tensor_view, drop it with
 * vg_tensor_release. */
typedef struct vg_tensor {
  vg_dtype dtype;
  int ndim;
  int64_t shape[VG_MAX_DIMS];
  int64_t strides[VG_MAX_DIMS];
  size_t offset; /* bytes from the buffer start */
  vg_buffer *buffer;
} vg_tensor;

size_t vg_dtype_size(vg_dtype t);
const char *vg_dtype_name(vg_dtype t);
vg_status vg_dtype_parse(const char *text, vg_dtype *out);

/* Contiguous (row-major) tensor; memory from pool when not NULL. Contents uninitialised. */
vg_status vg_tensor_alloc(vg_dtype dtype, int ndim, const int64_t *shape, vg_device dev,
                          vg_pool *pool, vg_tensor *out);
/* Contiguous tensor over an existing buffer at offset (takes a new reference). Checks bounds. */
vg_status vg_tensor_from_buffer(vg_buffer *buf, size_t offset, vg_dtype dtype, int ndim,
                                const int64_t *shape, vg_tensor *out);
void vg_tensor_release(vg_tensor *t);
/* A new reference to the same data (a shallow copy). */
void vg_tensor_view(const vg_tensor *t, vg_tensor *out);
/* View of [start, start+len) along dim. */
vg_status vg_tensor_slice(const vg_tensor *t, int dim, int64_t start, int64_t len, vg_tensor *out);
/* View with a new shape; t must be contiguous; one dim may be -1. */
vg_status vg_tensor_reshape(const vg_tensor *t, int ndim, const int64_t *shape, vg_tensor *out);
int64_t vg_tensor_numel(const vg_tensor *t);
size_t vg_tensor_nbytes(const vg_tensor *t); /* numel * dtype size */
bool vg_tensor_is_contiguous(const vg_tensor *t);
void *vg_tensor_data(const vg_tensor *t); /* buffer data + offset */
vg_device vg_tensor_device(const vg_tensor *t);
/* Copies a contiguous tensor to dev (new contiguous tensor). */
vg_status vg_tensor_to_device(const vg_tensor *t, vg_device dev, vg_pool *pool, vg_stream s,
                              vg_tensor *out);
/* "f32[1,3,640,640]@cuda:0" into buf. */
const char *vg_tensor_str(const vg_tensor *t, char *buf, size_t cap);

/* IEEE half conversions (host). */
uint16_t vg_f32_to_f16(float f);
float vg_f16_to_f32(uint16_t h);

/* ===================================================================== frames */

typedef enum vg_pixfmt {
  VG_PIX_NV12 = 0, /* Y plane + interleaved UV plane at half resolution */
  VG_PIX_RGB24,
  VG_PIX_BGR24,
  VG_PIX_GRAY8,
  VG_PIX_COUNT_
} vg_pixfmt;

typedef enum vg_colorspace { VG_CS_BT601 = 0, VG_CS_BT709 = 1 } vg_colorspace;

/* A picture in host or device memory, with where and when it came from. The frame value owns
 * one reference to its buffer; drop it with vg_frame_release. */
typedef struct vg_frame {
  vg_pixfmt format;
  int width, height;
  int nplanes;
  size_t plane_offset[3]; /* bytes from the buffer start */
  int pitch[3];           /* bytes per row of each plane */
  vg_buffer *buffer;
  vg_colorspace colorspace;
  bool full_range;
  int stream_id;
  int64_t frame_no; /* 0-based within its stream */
  int64_t pts;      /* in time_base units; INT64_MIN when unknown */
  int tb_num, tb_den;
  int64_t t_capture_ns; /* vg_now_ns when the source produced the packet */
  int64_t t_decode_ns;  /* vg_now_ns when the picture was ready */
} vg_frame;

const char *vg_pixfmt_name(vg_pixfmt f);
vg_status vg_pixfmt_parse(const char *text, vg_pixfmt *out);
/* Allocates a frame with pitches rounded up to `align` bytes (power of two, 0 = 256). */
vg_status vg_frame_alloc(vg_pixfmt fmt, int width, int height, vg_device dev, vg_pool *pool,
                         int align, vg_frame *out);
void vg_frame_release(vg_frame *f);
void vg_frame_view(const vg_frame *f, vg_frame *out); /* new reference, same pixels */
uint8_t *vg_frame_plane(const vg_frame *f, int plane);
vg_device vg_frame_device(const vg_frame *f);
/* Bytes of one row of plane `plane` without padding, and its number of rows. */
size_t vg_frame_plane_width_bytes(const vg_frame *f, int plane);
int vg_frame_plane_rows(const vg_frame *f, int plane);
/* Copies pixels and metadata into a new frame on dev (the copy is asynchronous on s when both
 * sides allow; call vg_stream_sync before reading on the host). */
vg_status vg_frame_to_device(const vg_frame *f, vg_device dev, vg_pool *pool, vg_stream s,
                             vg_frame *out);

/* ===================================================================== objects */

/* An axis-aligned box in pixel coordinates of the frame it belongs to (x2, y2 exclusive). */
typedef struct vg_box {
  float x1, y1, x2, y2;
} vg_box;

/* A quadrilateral (rotated text, plates): points clockwise from top-left. */
typedef struct vg_quad {
  float x[4], y[4];
} vg_quad;

/* How a model-input image was made from a frame region: model = (frame - offset) * scale + pad.
 * vg_xform_to_frame maps model coordinates back to the frame. Produced by preprocess/tiles,
 * consumed by the decoders. */
typedef struct vg_xform {
  float scale_x, scale_y; /* model pixels per frame pixel */
  float pad_x, pad_y;     /* letterbox padding in model pixels */
  float off_x, off_y;     /* top-left of the source region in the frame (tiles, crops) */
} vg_xform;

static inline vg_xform vg_xform_identity(void) {
  vg_xform x = {1.f, 1.f, 0.f, 0.f, 0.f, 0.f};
  return x;
}
static inline void vg_xform_to_frame(const vg_xform *t, float mx, float my, float *fx, float *fy) {
  *fx = (mx - t->pad_x) / t->scale_x + t->off_x;
  *fy = (my - t->pad_y) / t->scale_y + t->off_y;
}

#define VG_LABEL_MAX 32
#define VG_TEXT_MAX 96
#define VG_ATTR_MAX 16

/* One detected/recognised thing in one frame (DeepStream's object meta, as a plain struct). */
typedef struct vg_object {
  vg_box box;
  vg_quad quad; /* valid when has_quad */
  bool has_quad;
  int class_id;
  float score;
  int64_t track_id; /* -1 until a tracker assigns one */
  int stream_id;
  int64_t frame_no;
  char label[VG_LABEL_MAX]; /* class name when known */
  char text[VG_TEXT_MAX];   /* recognised text (UTF-8), "" when none */
  float text_score;
  int nattrs; /* classifier outputs, e.g. top-k scores or valence/arousal */
  float attrs[VG_ATTR_MAX];
  int32_t mask_index; /* index into a side list of masks (segmentation), -1 when none */
} vg_object;

/* A growable list of objects; {0} is a valid empty list. */
typedef struct vg_objects {
  vg_object *items;
  size_t count, cap;
} vg_objects;

/* A zeroed object with track_id and mask_index -1. */
vg_object vg_object_init(void);
vg_status vg_objects_push(vg_objects *list, const vg_object *obj);
vg_status vg_objects_reserve(vg_objects *list, size_t cap);
void vg_objects_clear(vg_objects *list); /* count = 0, keeps memory */
void vg_objects_free(vg_objects *list);
/* Intersection over union of two boxes (0 when either is empty). */
float vg_box_iou(const vg_box *a, const vg_box *b);

/* The pixels of f readable on the host: *out = f when f is in host memory, else a copy made into
 * *tmp (synchronously: ready when the call returns). Afterwards: if (*out == tmp) release tmp. */
vg_status vg_frame_host_view(const vg_frame *f, vg_frame *tmp, const vg_frame **out);

/* ===================================================================== bounded queue */

/* A bounded multi-producer multi-consumer queue of pointers with timeouts and close. A full
 * queue blocks producers (backpressure) or, with vg_queue_try_push, refuses. */
typedef struct vg_queue vg_queue;

vg_status vg_queue_create(size_t capacity, vg_queue **out);
void vg_queue_destroy(vg_queue *q);
/* Waits up to timeout_ms (<0 = forever) for room. VG_ERR_TIMEOUT, or VG_ERR_STATE if closed. */
vg_status vg_queue_push(vg_queue *q, void *item, int timeout_ms);
vg_status vg_queue_try_push(vg_queue *q, void *item);
/* Waits up to timeout_ms for an item. VG_ERR_EOF when closed and drained, VG_ERR_TIMEOUT. */
vg_status vg_queue_pop(vg_queue *q, void **item, int timeout_ms);
/* After close, pushes fail and pops drain what is left then return VG_ERR_EOF. */
void vg_queue_close(vg_queue *q);
size_t vg_queue_size(vg_queue *q);
size_t vg_queue_capacity(const vg_queue *q);

/* ===================================================================== latency statistics */

/* Count, mean and percentiles of durations. Keeps the last VG_STATS_WINDOW samples for the
 * percentiles and exact totals for count and mean. Thread-safe. */
#define VG_STATS_WINDOW 4096
typedef struct vg_latency vg_latency;

typedef struct vg_latency_summary {
  uint64_t count;
  double mean_ms, min_ms, max_ms, p50_ms, p90_ms, p99_ms;
} vg_latency_summary;

vg_status vg_latency_create(vg_latency **out);
void vg_latency_destroy(vg_latency *l);
void vg_latency_add_ns(vg_latency *l, int64_t ns);
void vg_latency_summarize(vg_latency *l, vg_latency_summary *out);
void vg_latency_reset(vg_latency *l);

/* ===================================================================== config tree (YAML) */

/* A YAML (or JSON) document parsed into a tree whose nodes remember file, line and column, so
 * that every later error can name the place. Getters that fail set a message such as
 * "plates.yaml:12:7: nodes[2].params.threshold: expected a number, got 'high'". */
typedef struct vg_config vg_config;
typedef struct vg_cnode vg_cnode;

typedef enum vg_cnode_kind { VG_CNODE_SCALAR = 0, VG_CNODE_MAP, VG_CNODE_SEQ } vg_cnode_kind;

vg_status vg_config_load_file(const char *path, vg_config **out);
/* name is used in messages in place of a file name. */
vg_status vg_config_load_string(const char *text, size_t len, const char *name, vg_config **out);
void vg_config_free(vg_config *c);
const vg_cnode *vg_config_root(const vg_config *c);
const char *vg_config_name(const vg_config *c);

vg_cnode_kind vg_cnode_get_kind(const vg_cnode *n);
int vg_cnode_line(const vg_cnode *n); /* 1-based */
int vg_cnode_col(const vg_cnode *n);  /* 1-based */
/* Path from the root, e.g. "nodes[2].params.threshold". */
const char *vg_cnode_path(const vg_cnode *n);
/* "file:line:col" of a node into buf. */
const char *vg_cnode_where(const vg_cnode *n, char *buf, size_t cap);
/* Scalar text (NULL for maps and sequences). Quoted scalars keep their text. */
const char *vg_cnode_scalar(const vg_cnode *n);
bool vg_cnode_is_null(const vg_cnode *n); /* "~", "null" or empty plain scalar */
/* Number of children of a map or sequence (0 for scalars). */
size_t vg_cnode_len(const vg_cnode *n);
const vg_cnode *vg_cnode_at(const vg_cnode *n, size_t i);
const char *vg_cnode_key_at(const vg_cnode *n, size_t i); /* maps only */
/* Child of a map by key; NULL when absent or n is not a map. */
const vg_cnode *vg_cnode_get(const vg_cnode *n, const char *key);

/* Typed reads of a scalar node. */
vg_status vg_cnode_as_int(const vg_cnode *n, int64_t *out);
vg_status vg_cnode_as_double(const vg_cnode *n, double *out);
vg_status vg_cnode_as_bool(const vg_cnode *n, bool *out);
vg_status vg_cnode_as_string(const vg_cnode *n, const char **out);

/* Typed reads of a map member. When the key is absent: required -> VG_ERR_NOT_FOUND with the
 * map's position, otherwise *out = def and VG_OK. Present but of the wrong type -> VG_ERR_PARSE. */
vg_status vg_cfg_int(const vg_cnode *map, const char *key, bool required, int64_t def,
                     int64_t *out);
vg_status vg_cfg_int_range(const vg_cnode *map, const char *key, bool required, int64_t def,
                           int64_t lo, int64_t hi, int64_t *out);
vg_status vg_cfg_double(const vg_cnode *map, const char *key, bool required, double def,
                        double *out);
vg_status vg_cfg_double_range(const vg_cnode *map, const char *key, bool required, double def,
                              double lo, double hi, double *out);
vg_status vg_cfg_bool(const vg_cnode *map, const char *key, bool required, bool def, bool *out);
vg_status vg_cfg_string(const vg_cnode *map, const char *key, bool required, const char *def,
                        const char **out);
/* Reports a position-tagged error about node n (used by layers above for their own checks). */
vg_status vg_cnode_error(const vg_cnode *n, vg_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ===================================================================== process statistics */

/* What the process holds now, from /proc/self (Linux): resident memory, open file descriptors,
 * threads. Used by soak runs to show that nothing grows over hours. */
typedef struct vg_proc_stats {
  int64_t rss_bytes;
  int open_fds;
  int threads;
} vg_proc_stats;

vg_status vg_proc_stats_read(vg_proc_stats *out);

/* ===================================================================== misc */

/* 64-bit FNV-1a over bytes, chained with seed (use VG_HASH_SEED to start). */
#define VG_HASH_SEED 0xcbf29ce484222325ULL
uint64_t vg_hash64(const void *data, size_t len, uint64_t seed);
/* Reads a whole file into a malloc'd buffer (NUL-terminated; size excludes the NUL). */
vg_status vg_read_file(const char *path, size_t max_bytes, char **data, size_t *size);
/* Versions and build facts as one line, e.g. for --version. */
const char *vg_build_info(void);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
