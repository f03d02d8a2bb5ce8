/* vg_infer.h - inference on ONNX Runtime: providers with visible fallback, IOBinding, CUDA
 * graphs, model cache.
 *
 * A model is described by a vg_model_spec (file or bytes, fallback files, provider preference
 * list and per-provider options) and loaded into a vg_model. Loading tries every candidate file
 * with every provider in order; each provider that cannot be used is skipped with the exact
 * reason, which the model's report keeps (vg_model_get_report, vg_model_report_json).
 *
 * Runs take vg_tensor inputs in host or device memory and give vg_tensor outputs that the model
 * owns and reuses while shapes repeat (see vg_model_run). With io_binding on a GPU provider,
 * inputs and outputs stay in device memory and are bound in place: no host copies.
 *
 * ONNX Runtime's own log goes through vg_log with component "ort". The ONNX Runtime environment
 * is process-wide (ONNX Runtime allows one); everything else lives in explicit objects. */
#ifndef VIDGRAPH_VG_INFER_H
#define VIDGRAPH_VG_INFER_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* Version of the ONNX Runtime library loaded, e.g. "1.29.0". */
const char *vg_infer_runtime_version(void);

/* ===================================================================== providers */

typedef enum vg_provider {
  VG_PROVIDER_TENSORRT = 0,
  VG_PROVIDER_CUDA = 1,
  VG_PROVIDER_CPU = 2,
  VG_PROVIDER_COUNT_
} vg_provider;

/* "tensorrt", "cuda", "cpu". */
const char *vg_provider_name(vg_provider p);
/* Parses "tensorrt"/"trt", "cuda", "cpu" (case-insensitive). */
vg_status vg_provider_parse(const char *text, vg_provider *out);

/* Whether a provider can actually create a session and run here: builds a session for a tiny
 * built-in model with that provider alone (device `device_id` for GPU providers) and runs it.
 * Returns VG_OK when it works; otherwise the status and, in reason, why (the exact ONNX Runtime
 * or loader message, e.g. "libnvinfer.so.10: cannot open shared object file"). */
vg_status vg_infer_probe_provider(vg_provider p, int device_id, char *reason, size_t cap);

/* Folder holding the ONNX Runtime provider libraries: $VG_ORT_LIB_DIR when set, else the
 * folder of the loaded libonnxruntime.so. */
const char *vg_infer_provider_lib_dir(void);

/* The ONNX Runtime core library in use (the loaded file, links resolved) and where it came from:
 * the line of onnxruntime-origin.txt beside it that names this file, written by
 * scripts/setup.sh ("FILE BYTES PACKAGE PATH-IN-PACKAGE sha256:HEX"), when the recorded size
 * matches; otherwise "unknown: ..." saying why. */
const char *vg_infer_core_path(void);
const char *vg_infer_core_origin(void);

/* ===================================================================== model spec */

#define VG_MODEL_PATH_MAX 1024
#define VG_MODEL_NAME_MAX 64
#define VG_MODEL_MAX_FALLBACKS 4
#define VG_MODEL_MAX_PROVIDERS 3

typedef struct vg_trt_options {
  bool fp16;
  bool int8;
  size_t workspace_bytes;     /* 0 = ONNX Runtime's default */
  int builder_opt_level;      /* 0..5, -1 = default */
  char engine_cache_dir[512]; /* "" = no engine cache */
  char timing_cache_dir[512]; /* "" = no timing cache */
} vg_trt_options;

typedef enum vg_conv_algo_search {
  VG_CONV_ALGO_EXHAUSTIVE = 0,
  VG_CONV_ALGO_HEURISTIC = 1,
  VG_CONV_ALGO_DEFAULT = 2
} vg_conv_algo_search;

typedef struct vg_cuda_options {
  int device_id;
  vg_conv_algo_search conv_algo_search;
  size_t mem_limit_bytes; /* 0 = no limit */
  bool cuda_graph;        /* capture the run in a CUDA graph (needs io_binding) */
} vg_cuda_options;

typedef struct vg_cpu_options {
  int threads; /* intra-op threads, 0 = ONNX Runtime's default */
} vg_cpu_options;

/* Shape buckets (issue 12, stable shapes): a GPU provider pays a slow first run (algorithm
 * search, allocations, a CUDA graph capture) for every new input shape, so a model with buckets
 * pads its input to one of a few shapes. batch: the sizes axis 0 is padded up to (a batch above
 * the largest runs in chunks of the largest); width: the sizes the LAST axis of the input is
 * padded up to (a width above the largest runs unpadded at its own width). Padding is zeros;
 * padded rows never come back: outputs are cut to the real rows (their first axis). Buckets
 * need a model with one input. */
#define VG_MAX_BUCKETS 12

typedef struct vg_shape_buckets {
  int enabled; /* -1 = auto (on with a GPU provider, off on the CPU), 0 = off, 1 = on */
  int nbatch;
  int64_t batch[VG_MAX_BUCKETS]; /* ascending; nbatch 0 = batch not padded */
  int nwidth;
  int64_t width[VG_MAX_BUCKETS]; /* ascending; nwidth 0 = last axis not padded */
  int nwarm;                     /* dims of the input after the batch axis for the warm-up at */
  int64_t warm_shape[VG_MAX_DIMS]; /* load where the model's are dynamic (a detector's 3 x H x W);
                                      nwarm 0 = warm up at the first run of each new H x W */
  int pin_sessions; /* one ONNX Runtime session per bucket shape, so that no session ever sees
                       its input shape change: -1 = auto (on with the cuda provider, whose Conv
                       kernels re-plan with cuDNN at every change of shape: 130-280 ms a run on
                       the H200), 0 = one session for every shape, 1 = on. At most
                       VG_MAX_PINNED sessions; further shapes share the first one. */
} vg_shape_buckets;

#define VG_MAX_PINNED 16

/* The smallest width bucket >= w, or w itself when none is (or no width buckets). */
int64_t vg_buckets_width(const vg_shape_buckets *b, int64_t w);
/* Splits a run of n rows into chunks: rows[i] real rows of chunk i, padded[i] its bucket
 * (>= rows[i]). Full chunks of the largest bucket first, then the rest padded to the smallest
 * bucket that holds it. Without batch buckets: one chunk of n (not padded). n <= 0: no chunk.
 * Returns the number of chunks, or -1 when more than cap would be needed. */
int vg_buckets_plan(const vg_shape_buckets *b, int64_t n, int64_t *rows, int64_t *padded, int cap);
/* Precision of the model file that is loaded (not TensorRT's own fp16/int8 build options). */
typedef enum vg_model_precision {
  VG_PRECISION_FP32 = 0, /* the file as given */
  VG_PRECISION_FP16 = 1  /* its FP16 variant, see vg_model_fp16_path */
} vg_model_precision;

typedef struct vg_model_spec {
  char name[VG_MODEL_NAME_MAX]; /* for messages and reports; "" = the file's base name */
  char path[VG_MODEL_PATH_MAX]; /* primary file, or "" when bytes are given */
  const void *bytes;            /* primary model in memory (copied at load), or NULL */
  size_t nbytes;
  char fallbacks[VG_MODEL_MAX_FALLBACKS][VG_MODEL_PATH_MAX]; /* tried in order after primary */
  int nfallbacks;
  bool required; /* false: a missing model is a warning and the feature is disabled */
  vg_provider providers[VG_MODEL_MAX_PROVIDERS]; /* preference order */
  int nproviders;
  vg_trt_options trt;
  vg_cuda_options cuda;
  vg_cpu_options cpu;
  bool io_binding;  /* GPU providers: bind device tensors in place, outputs on the device */
  int max_batch;    /* 0 = what the model allows; else a larger input batch is an error */
  vg_stream stream; /* CUDA stream ONNX Runtime computes on (user_compute_stream); NULL = its own */
  vg_shape_buckets buckets; /* input shapes the model is run at (see above) */
  int warmup; /* run every bucket once before the first frame: -1 = auto (with a GPU provider
                 and buckets), 0 = off (then the first run of each new shape is logged), 1 = on */
  vg_model_precision precision; /* FP16: every candidate file is replaced by its FP16 variant */
  int own_thread; /* run on a thread of the model's own (warm-up included): -1 = auto (with a GPU
                     provider, whose per-thread state would otherwise be set up again on every
                     calling thread), 0 = on the caller's thread, 1 = always */
  bool fit_batch; /* a single-input model whose batch axis is fixed at B (a detector exported
                     with a static batch of 1, as exporters do by default) takes any batch: the
                     batch buckets become [B] on every provider, so a stack of n rows runs in
                     chunks of B, the last one padded. The infer node sets it; false keeps the
                     library's contract (a batch the model does not allow is an error). */
} vg_model_spec;

/* The FP16 variant of a model file: "dir/name.onnx" -> "dir/name.fp16.onnx" (a name without
 * ".onnx" gets ".fp16.onnx" appended; a name already ending in ".fp16.onnx" is its own variant).
 * scripts/fp16_convert.py makes it (float16 weights and compute, float32 inputs and outputs). */
vg_status vg_model_fp16_path(const char *path, char *out, size_t cap);

/* Applies spec->precision to the file names: with FP16 the primary path becomes its variant,
 * which must exist (else VG_ERR_NOT_FOUND naming the command that makes it), and every fallback
 * becomes its variant when that exists (else it stays out: its name gets the variant's, so the
 * load reports it missing). Idempotent. A model given as bytes cannot have a variant: error. */
vg_status vg_model_spec_apply_precision(vg_model_spec *spec);

/* Defaults: required, providers [tensorrt, cuda, cpu], io_binding off, no cuda graph,
 * conv algorithm search exhaustive, builder_opt_level -1, no buckets (enabled auto), warmup
 * auto, everything else zero. */
void vg_model_spec_init(vg_model_spec *spec);

/* Fills a spec (after vg_model_spec_init) from a config map such as
 *   model: models/det.fp16.onnx            (or "path:")
 *   fallback: [models/det.onnx]            (a string or a list)
 *   name: det   required: true   io_binding: true   max_batch: 8
 *   precision: fp32 | fp16                 (fp16: load <stem>.fp16.onnx, made by
 *                                           scripts/fp16_convert.py; see vg_model_fp16_path)
 *   providers: [tensorrt, cuda, cpu]
 *   tensorrt: {fp16: true, int8: false, workspace_mb: 2048, builder_optimization_level: 3,
 *              engine_cache: cache/trt, timing_cache: cache/trt}
 *   cuda: {device: 0, conv_algo_search: exhaustive|heuristic|default, mem_limit_mb: 0,
 *          cuda_graph: true}
 *   cpu: {threads: 4}
 *   buckets: {batch: [1, 2, 4, 8, 16, 32], width: [320, 480], enabled: auto|true|false,
 *             warm_shape: [3, 544, 960], pin_sessions: auto|true|false}
 *   warmup: auto|true|false
 *   own_thread: auto|true|false
 * Relative paths are taken as they are when they exist from the working directory, else
 * relative to base_dir (the config file's folder; may be NULL). Wrong types, unknown providers
 * and unknown keys inside tensorrt/cuda/cpu are errors naming the file, line and key. Other keys
 * of the map are left to its owner (a node's params hold its own keys too): check them with
 * vg_model_spec_is_key. */
vg_status vg_model_spec_from_config(const vg_cnode *map, const char *base_dir, vg_model_spec *spec);
/* True when key is one vg_model_spec_from_config reads at the top level ("model", "providers"...).
 */
bool vg_model_spec_is_key(const char *key);
/* Those keys, NULL-terminated ("model", "path", "fallback", "fallbacks", "name", ...). */
const char *const *vg_model_spec_keys(void);

/* ===================================================================== models */

typedef struct vg_model vg_model;

#define VG_IO_NAME_MAX 128
#define VG_DIM_NAME_MAX 48

/* One model input or output. */
typedef struct vg_model_io {
  char name[VG_IO_NAME_MAX];
  int onnx_type;        /* ONNX TensorProto element type */
  char type_name[16];   /* "float32", "float16", "uint8", "int64", "double", ... */
  bool dtype_supported; /* false when a vg_tensor cannot hold it (then dtype is meaningless) */
  vg_dtype dtype;
  int ndim;
  int64_t shape[VG_MAX_DIMS];                   /* -1 where the dimension is dynamic */
  char dim_names[VG_MAX_DIMS][VG_DIM_NAME_MAX]; /* symbolic names, "" when fixed or unnamed */
} vg_model_io;

#define VG_META_MAX_CUSTOM 16

typedef struct vg_model_meta {
  char producer[64], graph_name[64], domain[64], description[256];
  int64_t model_version;
  int opset; /* default ONNX domain; 0 when unknown */
  int ncustom;
  char custom_keys[VG_META_MAX_CUSTOM][64];
  char custom_values[VG_META_MAX_CUSTOM][512]; /* truncated when longer */
} vg_model_meta;

#define VG_REASON_MAX 512
#define VG_MAX_PLACEMENTS 8

/* What loading decided and why: the record the API, `check` and the dashboard show. */
typedef struct vg_model_report {
  char name[VG_MODEL_NAME_MAX];
  char source[VG_MODEL_PATH_MAX]; /* the file loaded, or "<memory>" */
  int candidate;                  /* 0 = primary, k = fallback k-1 */
  char candidate_reasons[1 + VG_MODEL_MAX_FALLBACKS][VG_REASON_MAX]; /* why a file was skipped */
  vg_provider requested[VG_MODEL_MAX_PROVIDERS];
  int nrequested;
  vg_provider used;
  char provider_reasons[VG_MODEL_MAX_PROVIDERS][VG_REASON_MAX]; /* "" for the one used/untried */
  bool io_binding;
  bool cuda_graph;
  char cuda_graph_reason[VG_REASON_MAX]; /* why it is off (when asked for), or a note */
  char precision[8];                     /* "fp32", "fp16", "int8" */
  char notes[VG_REASON_MAX];             /* options that could not be applied, etc. */
  double load_ms;
  int nplacements; /* nodes per provider, when ONNX Runtime reports it (0 = unknown) */
  struct {
    char provider[40];
    int nodes;
  } placements[VG_MAX_PLACEMENTS];
  uint64_t runs;
  char buckets[160];  /* "batch 1,2,4 x width 320,480 (on)", "" without buckets */
  bool buckets_on;    /* buckets in use (enabled, or auto with a GPU provider) */
  int warmup_shapes;  /* shapes run at warm-up (0 = none yet) */
  double warmup_ms;   /* their total time */
  uint64_t new_shapes; /* runs at a shape not seen before (first runs), warm-up excluded */
  uint64_t new_shapes_after_warmup; /* of those, after a warm-up: frames that waited */
  uint64_t padded_rows;             /* rows added by batch buckets (never returned) */
  bool own_thread;                  /* runs on the model's own thread (spec own_thread) */
  int sessions;                     /* ONNX Runtime sessions (1, or one per bucket shape) */
  uint64_t shape_switches;          /* runs whose session saw another input shape last time */
  /* The slowest run after warm-up: its time, the part inside ONNX Runtime (Run and output
   * sync; the rest is input staging, binding and output adoption), which run it was, whether it
   * was the first at its shape on its thread, and the input shape. */
  double slowest_run_ms, slowest_run_ort_ms;
  uint64_t slowest_run_index;
  bool slowest_run_first;
  char slowest_run_shape[64];
} vg_model_report;

/* Loads a model: for each candidate file (primary, then fallbacks) and each provider in order,
 * until a session is created. A missing or corrupt file moves to the next candidate; a provider
 * that cannot be appended or create the session moves to the next provider; each reason is
 * recorded. When no candidate loads: VG_ERR_NOT_FOUND (all missing) or the last error, with a
 * message naming the model and every file's reason; for a spec with required=false a warning
 * says the model's feature is disabled (the status is the same: callers skip the feature). */
vg_status vg_model_load(const vg_model_spec *spec, vg_model **out);
void vg_model_free(vg_model *m);

const char *vg_model_name(const vg_model *m);
int vg_model_input_count(const vg_model *m);
int vg_model_output_count(const vg_model *m);
const vg_model_io *vg_model_input(const vg_model *m, int i);
const vg_model_io *vg_model_output(const vg_model *m, int i);
/* Index of the input/output with that name, or -1. */
int vg_model_input_index(const vg_model *m, const char *name);
int vg_model_output_index(const vg_model *m, const char *name);
const vg_model_meta *vg_model_metadata(const vg_model *m);
/* The device outputs are produced on: the GPU with io_binding on a GPU provider, else the CPU. */
vg_device vg_model_output_device(const vg_model *m);

/* The model's shape buckets when they are in use with its provider, else NULL. A caller that
 * stacks inputs of several frames may pad their last axis to a common width with zeros when
 * width buckets are in use (the model pads to a bucket anyway). */
const vg_shape_buckets *vg_model_buckets(const vg_model *m);

/* A snapshot of the report (copied under the model's lock). */
void vg_model_get_report(vg_model *m, vg_model_report *out);
/* The report as a JSON object text (malloc'd; free it). NULL on allocation failure. */
char *vg_model_report_json(vg_model *m);
/* Same for a report value. */
char *vg_model_report_to_json(const vg_model_report *r);

/* Runs the model once.
 *  - names: input names in the order of inputs, or NULL for the model's input order. Every
 *    model input must be given exactly once.
 *  - inputs: contiguous tensors in host or device memory, of the model's element types and
 *    shapes (dynamic dimensions free, fixed ones equal, batch within limits).
 *  - outputs: noutputs (<= the model's output count) tensor values that receive new references
 *    to the model's outputs (release them with vg_tensor_release). The model reuses an output
 *    buffer for the next run with the same shapes once the caller has released it; while the
 *    caller holds it, a new one is used. With CUDA graphs the buffers are fixed: outputs are
 *    overwritten by the next run.
 *  - s: the stream the inputs were produced on (NULL = default). When it is the spec's stream,
 *    the run is asynchronous on it (outputs are valid in stream order); otherwise s is
 *    synchronised first and the outputs are ready when the call returns.
 * A provider that fails on the model's first run is skipped and the next one is tried.
 * Thread-safe: runs of one model are serialised. */
vg_status vg_model_run(vg_model *m, const char *const *names, const vg_tensor *inputs, int ninputs,
                       vg_tensor *outputs, int noutputs, vg_stream s);

/* Counters of one model: runs, host<->device copies the model made (bytes), time in them. */
typedef struct vg_model_stats {
  uint64_t runs;
  uint64_t copies;
  uint64_t copy_bytes;
  double copy_ms;
} vg_model_stats;
void vg_model_get_stats(vg_model *m, vg_model_stats *out);

/* ===================================================================== model cache */

/* A process-wide (but explicit) cache of loaded models keyed by content hash, provider list,
 * device, precision and options, so that many graph runs share one session. Thread-safe. */
typedef struct vg_model_cache vg_model_cache;

/* max_models: loaded models kept at most (0 = 64). */
vg_status vg_model_cache_create(size_t max_models, vg_model_cache **out);
/* Frees the cache and every model no one holds; models still held are freed when released. */
void vg_model_cache_destroy(vg_model_cache *c);
/* The shared model for spec: loaded on a miss, else the cached one; takes a reference. */
vg_status vg_model_cache_get(vg_model_cache *c, const vg_model_spec *spec, vg_model **out);
/* Drops a reference taken by vg_model_cache_get (the model stays cached until unloaded). */
void vg_model_cache_release(vg_model_cache *c, vg_model *m);
/* Removes the spec's model from the cache: freed now when no one holds it, else at the last
 * release. VG_ERR_NOT_FOUND when it is not cached. */
vg_status vg_model_cache_unload(vg_model_cache *c, const vg_model_spec *spec);
size_t vg_model_cache_count(vg_model_cache *c);
/* The cache key of a spec (hex text) into buf; reads the model files to hash them. */
vg_status vg_model_cache_key(const vg_model_spec *spec, char *buf, size_t cap);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
