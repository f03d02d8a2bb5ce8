/* infer_internal.h - private declarations shared by the files of the infer layer: the ONNX
 * Runtime API table and environment, error conversion, provider appending and the model
 * object's layout. Nothing here is visible outside src/infer. */
#ifndef VIDGRAPH_INFER_INTERNAL_H
#define VIDGRAPH_INFER_INTERNAL_H

#include "vidgraph/vg_infer.h"

#include <onnxruntime_c_api.h>
#include <pthread.h>

/* ----------------------------------------------------------------- runtime.c */

/* The ONNX Runtime API table (never NULL after the first successful vg_ort_env). */
const OrtApi *vg_ort_api(void);
/* The process-wide environment, created on first use with our custom logger. */
vg_status vg_ort_env(OrtEnv **out);
/* Intra-op thread counts are bounded by the machine: more than its online CPUs only slows a
 * session down (1024 threads on 2 cores took minutes for 3 frames). Returns requested, or the
 * number of online CPUs with a warning naming the limit and where the count came from. */
int vg_ort_clamp_threads(int requested, const char *where);
/* Converts a failed OrtStatus into a vg error "<what>: <ORT message>" and releases it. */
vg_status vg_ort_fail(OrtStatus *st, vg_status code, const char *what);
/* True when st is NULL (success); releases a failure status (for informative calls). */
bool vg_ort_ok(OrtStatus *st);
/* Copies the ORT message (without the source-location prefix) into buf and releases st. */
void vg_ort_take_message(OrtStatus *st, char *buf, size_t cap);
/* The last warning/error ONNX Runtime logged on this thread (cleaned of its location prefix),
 * "" when none since vg_ort_clear_last_log. Provider loaders log the real cause there (the
 * missing library) while the returned status only says "Failed to load shared library". */
const char *vg_ort_last_log(void);
void vg_ort_clear_last_log(void);
/* Registers libonnxruntime_providers_cuda.so as an execution-provider library (once per
 * process) and returns the OrtEpDevice of CUDA device `ordinal`; reason on failure. */
vg_status vg_ort_cuda_ep_device(int ordinal, const OrtEpDevice **out, char *reason, size_t cap);
/* ONNX element type -> vg dtype / display name. */
bool vg_ort_dtype(int onnx_type, vg_dtype *out);
const char *vg_ort_type_name(int onnx_type);
int vg_ort_onnx_type(vg_dtype d);
/* The ONNX Runtime execution provider name of p ("CUDAExecutionProvider", ...). */
const char *vg_ort_ep_name(vg_provider p);

/* ----------------------------------------------------------------- providers.c */

typedef struct vg_append_result {
  bool graph_on;                    /* CUDA graph enabled in the options */
  char graph_reason[VG_REASON_MAX]; /* why not, when it was asked for */
  char reason[VG_REASON_MAX];       /* why the provider could not be appended */
  char notes[VG_REASON_MAX];        /* options that could not be applied */
} vg_append_result;

/* Appends provider spec->providers[pidx] (and, for TensorRT, CUDA when it comes later in the
 * list) to so. want_graph asks for CUDA graphs. VG_OK or an error with res->reason set. */
vg_status vg_infer_append_provider(OrtSessionOptions *so, const vg_model_spec *spec, int pidx,
                                   bool want_graph, vg_append_result *res);

/* ----------------------------------------------------------------- probe_model.c */

extern const unsigned char vg_probe_model_onnx[];
extern const size_t vg_probe_model_onnx_len;

/* ----------------------------------------------------------------- model.c / run.c */

/* One set of bound outputs for one input-shape signature. */
typedef struct vg_io_slot {
  bool valid;
  int nsig;
  int64_t sig[64]; /* ndims and dims of every input, concatenated */
  vg_tensor *outs; /* nout adopted outputs (buffer NULL until the first run) */
  OrtValue **vals; /* the OrtValue behind each output (owned by the output buffer) */
  vg_tensor *held; /* graph slot only: the input tensors bound at capture */
  uint64_t runs;   /* graph slot only: runs so far (ONNX Runtime captures on the second) */
} vg_io_slot;

/* ----------------------------------------------------------------- runner.c */

typedef struct vg_model_runner vg_model_runner;
/* Whether the model gets its own thread (spec own_thread; auto = with a GPU provider). */
bool vg_runner_wanted(const vg_model *m);
/* Starts the model's thread (idempotent). */
vg_status vg_runner_start(vg_model *m);
/* Stops and joins it (nothing pending: the caller holds no run). */
void vg_runner_stop(vg_model *m);
/* Runs fn(m, arg) on the model's thread and waits; directly when it has none or when called
 * from it. An error is re-raised on the caller's thread with its message. */
vg_status vg_runner_call(vg_model *m, vg_status (*fn)(vg_model *, void *), void *arg);

/* A session pinned to one input signature (buckets with pin_sessions, run.c): its binding and
 * outputs. The active one is mirrored in the model's session/binding/cur. */
typedef struct vg_pin {
  int nsig;
  int64_t sig[64];
  OrtSession *session;
  OrtIoBinding *binding;
  vg_io_slot cur;
  int last_nsig; /* the signature its session ran last (another one only when pins ran out) */
  int64_t last_sig[64];
} vg_pin;

/* CUDA graphs captured per model: one per input shape (per bucket with shape buckets). */
#define VG_GRAPH_SLOTS 16

struct vg_model {
  pthread_mutex_t lock;
  vg_model_spec spec; /* a copy; spec.bytes points at bytes_copy */
  void *bytes_copy;
  char path[VG_MODEL_PATH_MAX]; /* candidate loaded ("" = memory) */
  int pidx;                     /* index in spec.providers of the provider used */
  OrtSession *session;
  bool bind;  /* IOBinding in device memory */
  bool graph; /* CUDA graph enabled in the session */
  bool graph_given_up;
  vg_device dev; /* where outputs live and bound inputs must be */
  OrtMemoryInfo *mem_cpu, *mem_dev;
  OrtIoBinding *binding;
  int nin, nout;
  vg_model_io *inputs, *outputs;
  const char **in_names, **out_names;
  vg_model_meta meta;
  vg_model_report report;
  vg_model_stats stats;
  vg_io_slot cur;   /* last signature (non-graph runs) */
  vg_io_slot gslots[VG_GRAPH_SLOTS]; /* captured graphs (gpu_graph_id = index + 1) */
  int ngslots;
  uint64_t gslot_runs; /* runs of the slot of the last graph run, before it (retry decision) */
  vg_io_slot *last; /* the slot of the last run (its outputs are handed out) */
  uint64_t graph_runs, graph_other_runs;
  vg_tensor *stage_host, *stage_dev; /* per input staging copies */
  vg_pool *pinned;
  /* shape buckets (buckets.c) */
  bool warming;                   /* inside a warm-up: first runs are expected */
  int nthreads;                   /* threads that ran the model (ONNX Runtime's CUDA provider */
  pthread_t threads[8];           /* keeps cuDNN/cuBLAS state per thread: warm-up is per thread) */
  int nfam;                       /* shape families warmed per thread (dims other than the */
  int64_t fam[32][VG_MAX_DIMS + 2]; /* bucketed ones, + the thread) */
  int nseen;                      /* input shapes run so far per thread (the first 256) */
  int64_t seen[256][VG_MAX_DIMS + 2];
  vg_tensor pad;                  /* the padded input, reused while its shape repeats */
  vg_io_slot handout;             /* copies of a CUDA graph's outputs (its own are overwritten by
                                     the next replay while a consumer may still hold them) */
  vg_pool *out_pool;              /* device memory of those copies, the padded inputs and the
                                     joined chunk outputs (no cudaMalloc/cudaFree per run) */
  vg_stream io;                   /* the model's own CUDA stream for its copies when the spec
                                     gives none (vg_model_copy_stream) */
  vg_model_runner *runner;        /* the model's own thread (runner.c), NULL = callers' threads */
  vg_pin pins[VG_MAX_PINNED];     /* sessions pinned to a shape; pins[0] owns the first one */
  int npins, active_pin;          /* active_pin: whose session is mirrored now (-1: none) */
  int64_t last_sig[64];           /* the signature the mirrored session ran last */
  int last_nsig;
  uint64_t runner_calls;          /* runs handed to it */
  int64_t last_ort_ns;            /* time inside ONNX Runtime (Run + output sync) of the last run */
};

/* (Re)creates the session with provider index pidx and the loaded candidate; fills report. */
vg_status vg_model_open_provider(vg_model *m, int pidx, bool want_graph, vg_append_result *res);
/* Tries providers first.. of the spec on the loaded candidate; records reasons. VG_ERR_PARSE
 * when the file itself is bad. */
vg_status vg_model_try_providers(vg_model *m, int first);
/* A new session of the loaded candidate with the provider in use (no CUDA graphs). */
vg_status vg_model_extra_session(vg_model *m, OrtSession **out);
/* Drops the session and every run-time resource tied to it (slots, binding). */
void vg_model_close_session(vg_model *m);
/* Runs ord (model input order, checked) with the CUDA graph and first-run provider fallbacks;
 * the outputs are in m->last. Records first runs of new shapes. Lock held. */
vg_status vg_model_run_checked(vg_model *m, const vg_tensor **ord, vg_stream s);

/* The stream for the model's own copies (staging, held graph inputs, hand-outs, padding, chunk
 * joins): spec.stream when given, else a stream of the model's, created at the first use (NULL
 * on the CPU, or when it cannot be created: the legacy stream and a device-wide wait). */
vg_stream vg_model_copy_stream(vg_model *m);
/* Waits for the copies queued on cs (vg_model_copy_stream): that stream only, never the whole
 * device unless cs is NULL on a CUDA model. */
vg_status vg_model_copy_sync(vg_model *m, vg_stream cs);
/* VG_INFER_DEVICE_SYNC=1: the copies wait for the whole device and padded inputs are
 * cudaMalloc'd/cudaFree'd as before 2026-12-02 (the ledger's switch in docs/PERF.md). */
bool vg_infer_old_device_sync(void);
/* The model's device memory pool (created at the first use). */
vg_status vg_model_pool(vg_model *m, vg_pool **out);

/* ----------------------------------------------------------------- buckets.c */

/* Whether the spec's buckets apply with the provider in use. */
bool vg_buckets_active(const vg_model *m);
/* Checks the buckets against the model's input at load; fills the report's bucket fields. */
vg_status vg_buckets_check(vg_model *m);
/* Warm-up at load when every other input dimension is fixed (else at the first run). */
vg_status vg_buckets_warm_at_load(vg_model *m);
/* A bucketed run of the single input x (lock held): padded, chunked, outputs cut to x's rows. */
vg_status vg_buckets_run(vg_model *m, const vg_tensor *x, vg_tensor *outputs, int noutputs,
                         vg_stream s);
/* Notes the shape of a run about to happen; true when it was not seen before. */
bool vg_shape_first_seen(vg_model *m, const vg_tensor *x);

/* Frees the outputs and held inputs of a slot. */
void vg_io_slot_clear(vg_model *m, vg_io_slot *s);

#endif
