/* vg_graph.h - the graph runtime of vidgraph: packets (what flows on edges), node types (the
 * vtable every node implements), the node registry, graph specs (YAML/JSON, with
 * validation and --set overrides), runs (per-run context, scheduler, executors, metrics,
 * events) and run summaries.
 *
 * Shape of a run:
 *   vg_graph_load_file(...)        parse + validate the spec (types, ports, cycles, placement)
 *   vg_run_create(graph, ...)      instantiate the nodes (node init = parameter validation)
 *   vg_run_start / vg_run_wait     execute: sources push packets through the graph
 *   vg_run_get_summary             frames, fps, per-node latency table, copies, drops, errors
 *   vg_run_destroy                 cancel if needed, join the workers, free everything
 *
 * Execution model (see docs/ARCHITECTURE.md, section "graph"): every packet a source emits
 * starts a "frame" that flows through the sub-graph reachable from that source. Within a frame a
 * node runs when all its inputs are there (in-degree counting); across frames, nodes are
 * pipelined, ordered nodes see the frames of each stream in order, parallel-safe nodes run
 * several frames at once and batching nodes receive frames of several streams together. The
 * number of frames in flight per source is bounded (queue_size), which is the backpressure. */
#ifndef VIDGRAPH_VG_GRAPH_H
#define VIDGRAPH_VG_GRAPH_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* ===================================================================== packets */

/* One frame of one stream as it moves along an edge: an optional picture, named tensors, the
 * objects found so far, the preprocess transforms, and where/when it came from. Reference
 * counted (atomic). A packet is mutable only by the node that created it, until it hands it
 * out as an output; after that it is shared and read-only: to change something, derive a new
 * packet (vg_packet_derive), which shares (references) everything it does not replace. */
typedef struct vg_packet vg_packet;

#define VG_PACKET_EOS 1u     /* the last packet of its stream (carries no picture) */
#define VG_PACKET_SKIPPED 2u /* an interval node passed this frame through without running */
/* a still picture (an image file or a folder of images), unrelated to the packet before it:
 * trackers start afresh on it */
#define VG_PACKET_STILL 4u

#define VG_PACKET_MAX_TENSORS 16
#define VG_TENSOR_NAME_MAX 32

/* New empty packet (refcount 1): stream 0, frame_no -1, pts INT64_MIN, no picture. */
vg_status vg_packet_new(vg_packet **out);
/* New packet with the same header, picture, tensors, objects and transforms as src (all
 * shared by reference; objects are copied only when the new packet edits them). */
vg_status vg_packet_derive(const vg_packet *src, vg_packet **out);
vg_packet *vg_packet_ref(vg_packet *p);
void vg_packet_unref(vg_packet *p);
int vg_packet_refcount(const vg_packet *p);
/* Number of packets alive in this process (a diagnostic for leak and backpressure tests). */
long vg_packet_live_count(void);

/* ----- header */
int vg_packet_stream(const vg_packet *p);
int64_t vg_packet_frame_no(const vg_packet *p);
int64_t vg_packet_pts(const vg_packet *p);
int64_t vg_packet_t_capture_ns(const vg_packet *p);
unsigned vg_packet_flags(const vg_packet *p);
void vg_packet_set_stream(vg_packet *p, int stream_id, int64_t frame_no);
void vg_packet_set_pts(vg_packet *p, int64_t pts, int64_t t_capture_ns);
void vg_packet_set_flags(vg_packet *p, unsigned flags);

/* ----- picture: NULL when the packet has none. set takes its own reference (a view). */
const vg_frame *vg_packet_frame(const vg_packet *p);
void vg_packet_set_frame(vg_packet *p, const vg_frame *f);
void vg_packet_clear_frame(vg_packet *p);

/* ----- named tensors ("input", "output0", "boxes", ...). set takes its own reference and
 * replaces a tensor of the same name; at most VG_PACKET_MAX_TENSORS names of up to 31 chars. */
const vg_tensor *vg_packet_tensor(const vg_packet *p, const char *name);
int vg_packet_ntensors(const vg_packet *p);
const vg_tensor *vg_packet_tensor_at(const vg_packet *p, int i, const char **name);
vg_status vg_packet_set_tensor(vg_packet *p, const char *name, const vg_tensor *t);
void vg_packet_remove_tensor(vg_packet *p, const char *name);

/* ----- objects (never NULL; an empty list when none). edit returns a list this packet owns
 * alone (copying a shared list first); set moves the items of *list into the packet and leaves
 * *list empty. */
const vg_objects *vg_packet_objects(const vg_packet *p);
vg_status vg_packet_objects_edit(vg_packet *p, vg_objects **out);
vg_status vg_packet_set_objects(vg_packet *p, vg_objects *list);

/* ----- preprocess transforms (one per model input image: 1 for letterbox, N for tiles). */
const vg_xform *vg_packet_xforms(const vg_packet *p, int *n);
vg_status vg_packet_set_xforms(vg_packet *p, const vg_xform *x, int n);

/* ===================================================================== node types */

/* What a port carries (outputs) or needs (inputs), as a mask. An input needs every bit it
 * names; an output of VG_PORT_ANY is compatible with every input. VG_PORT_FORWARD on an output
 * means "and whatever my inputs carried" (a decoder adds objects to the frame it was given).
 * The scheduler moves the picture (FRAME) and tensors (TENSOR) an input needs to the node's
 * device before calling it; OBJECTS live on the host. */
#define VG_PORT_FRAME 0x1u
#define VG_PORT_TENSOR 0x2u
#define VG_PORT_OBJECTS 0x4u
#define VG_PORT_ANY 0x8u
#define VG_PORT_FORWARD 0x10u

/* "frame|objects" style text of a mask into buf. */
const char *vg_port_types_str(unsigned types, char *buf, size_t cap);

#define VG_MAX_PORTS 8
/* The largest max_batch a spec may give a batching node (frames per call). */
#define VG_MAX_BATCH 1024
/* CUDA worker threads per device when a spec's settings do not say (settings.cuda_streams): two
 * let one batch's copies and decoders overlap the next batch's model run. Measured on an H200
 * (docs/PERF.md): detection at 16 x 1080p 1007 -> 1836 fps, the plate graph at 1 stream 87 -> 114
 * fps against one worker. Graphs with long model chains ask for more (examples/plates.yaml: 4). */
#define VG_DEFAULT_CUDA_STREAMS 2
/* The most streams one run has open at once (a stream opens with its first packet and closes
 * after its end-of-stream packet has gone through the graph; its slot is then reused). The
 * scheduler keeps the per-stream slots (ordering and the nodes' per-stream state); a packet of
 * one more stream fails the run with "too many streams: ...". */
#define VG_GRAPH_MAX_STREAMS 256

typedef struct vg_port {
  const char *name; /* NULL ends the list */
  unsigned types;   /* VG_PORT_* */
  bool optional;    /* inputs only: may stay unconnected */
} vg_port;

/* Node type flags. */
#define VG_NODE_SOURCE 0x1u   /* no inputs; called repeatedly to emit packets until VG_ERR_EOF */
#define VG_NODE_ORDERED 0x2u  /* sees the frames of each stream in order, one at a time */
#define VG_NODE_BATCHING 0x4u /* process may receive up to max_batch frames (of any streams) */
#define VG_NODE_SEES_SKIPPED 0x8u /* also called for frames an upstream interval skipped */
#define VG_NODE_SEES_EOS 0x10u    /* also called for end-of-stream packets (others pass them on) */

/* Devices a type can run on (mask). */
#define VG_DEVICES_CPU 0x1u
#define VG_DEVICES_CUDA 0x2u

typedef struct vg_node vg_node; /* one node of one run */

/* The inputs and outputs of one frame in one call. in[k] is borrowed (NULL for an unconnected
 * optional port); out[k] is set by the node to a packet it hands over (one reference), or left
 * NULL to send nothing on port k for this frame (its consumers are then skipped for the frame). */
typedef struct vg_node_io {
  vg_packet *in[VG_MAX_PORTS];
  vg_packet *out[VG_MAX_PORTS];
  /* The per-stream state of this frame's stream (stream_state_size bytes, stream_init already
   * run), for a type with a stream_state_size; NULL otherwise. */
  void *stream_state;
} vg_node_io;

/* One call of process(). */
typedef struct vg_call {
  vg_node *node;
  void *state;      /* what init stored */
  vg_stream stream; /* the CUDA stream to enqueue on (NULL on the CPU) */
  int n;            /* frames in this call: 1 unless the type is VG_NODE_BATCHING */
  vg_node_io *io;   /* n entries */
} vg_call;

/* ----- counters: atomic per node; the run summary shows them (the named ones inside the node's
 * detail object, beside what describe() returns), and so will the metrics. */
typedef enum vg_stat {
  VG_STAT_COPIES = 0, /* host<->device copies made for this node: the scheduler's and its own */
  VG_STAT_COPY_BYTES, /* their bytes */
  VG_STAT_NODE0,      /* the type's own counters: VG_STAT_NODE0 + k is named stats[k] */
} vg_stat;
#define VG_NODE_MAX_STATS 8

/* ----- parameter tables (in the spirit of FFmpeg's AVOption + priv_size)
 *
 * A node type lists its parameters; the runtime reads them from the spec's `params:` map into
 * the node's state struct (allocated zeroed, state_size bytes) before init runs: it rejects
 * unknown keys (listing the known ones), checks types and ranges, applies defaults and writes
 * each value at its offset. `vidgraph nodes --params` and docs/NODES.md are printed from the
 * same tables. What a table cannot express (nested maps, lists of maps, a layer's own group of
 * keys) goes through a hook: CUSTOM reads one key, GROUP reads the whole map and names the keys
 * it owns. */
typedef enum vg_param_type {
  VG_PARAM_BOOL = 1, /* bool */
  VG_PARAM_INT,      /* int, imin..imax */
  VG_PARAM_INT64,    /* int64_t, imin..imax (both 0 = any) */
  VG_PARAM_FLOAT,    /* float, fmin..fmax */
  VG_PARAM_DOUBLE,   /* double, fmin..fmax */
  VG_PARAM_STRING,   /* const char * into the spec (the graph outlives its runs); NULL = none */
  VG_PARAM_ENUM,     /* int: index of the value in choices */
  VG_PARAM_FLOATS,   /* float[count]: a list of exactly count numbers in fmin..fmax */
  VG_PARAM_CUSTOM,   /* hook reads key p->name (absent: its default) */
  VG_PARAM_GROUP,    /* hook reads the keys listed in p->keys */
} vg_param_type;

typedef struct vg_param vg_param;
/* params is the node's whole map (NULL when the spec has none); field = state + p->offset. A
 * hook that fills several fields gets the whole struct with VG_PARAM_STATE(field, p). */
typedef vg_status (*vg_param_hook)(vg_node *self, const vg_cnode *params, const vg_param *p,
                                   void *field);

struct vg_param {
  const char *name; /* NULL ends the table; a GROUP's name is only a label */
  vg_param_type type;
  size_t offset; /* of the field in the state struct */
  bool required;
  int64_t idef;               /* BOOL, INT, INT64 default */
  double fdef;                /* FLOAT, DOUBLE default */
  const char *sdef;           /* STRING, ENUM (a choice), CUSTOM default; FLOATS: "0.5, 0.5" */
  int64_t imin, imax;         /* INT, INT64 range */
  double fmin, fmax;          /* FLOAT, DOUBLE, FLOATS range */
  int count;                  /* FLOATS: number of values */
  const char *const *choices; /* ENUM: NULL-terminated */
  vg_param_hook hook;         /* CUSTOM, GROUP */
  const char *const *keys;    /* GROUP: NULL-terminated keys the hook reads, */
  const char *const *(*keys_of)(void); /* or the function that lists them (another layer's) */
  /* GROUP, optional: the same keys as a table (type, default, range, doc; offsets into the
   * layer's struct at offset) for the docs; registration fails when its names and keys differ. */
  const struct vg_param *sub;
  const char *doc; /* one line for the docs */
};

/* Table entries: S is the state struct, F its field; the last arguments are the doc line and
 * optional designators, e.g. VG_P_INT(st, w, "width", 0, 8, 4096, "model width", .required = true).
 */
#define VG_P_BOOL(S, F, NAME, DEF, ...)                                                            \
  { .name = NAME, .type = VG_PARAM_BOOL, .offset = offsetof(S, F), .idef = DEF, .doc = __VA_ARGS__ }
#define VG_P_INT(S, F, NAME, DEF, LO, HI, ...)                                                     \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_INT, .offset = offsetof(S, F), .idef = DEF, .imin = LO,         \
    .imax = HI, .doc = __VA_ARGS__                                                                 \
  }
#define VG_P_INT64(S, F, NAME, DEF, LO, HI, ...)                                                   \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_INT64, .offset = offsetof(S, F), .idef = DEF, .imin = LO,       \
    .imax = HI, .doc = __VA_ARGS__                                                                 \
  }
#define VG_P_FLOAT(S, F, NAME, DEF, LO, HI, ...)                                                   \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_FLOAT, .offset = offsetof(S, F), .fdef = DEF, .fmin = LO,       \
    .fmax = HI, .doc = __VA_ARGS__                                                                 \
  }
#define VG_P_DOUBLE(S, F, NAME, DEF, LO, HI, ...)                                                  \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_DOUBLE, .offset = offsetof(S, F), .fdef = DEF, .fmin = LO,      \
    .fmax = HI, .doc = __VA_ARGS__                                                                 \
  }
#define VG_P_STRING(S, F, NAME, DEF, ...)                                                          \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_STRING, .offset = offsetof(S, F), .sdef = DEF,                  \
    .doc = __VA_ARGS__                                                                             \
  }
#define VG_P_ENUM(S, F, NAME, DEF, CHOICES, ...)                                                   \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_ENUM, .offset = offsetof(S, F), .sdef = DEF,                    \
    .choices = CHOICES, .doc = __VA_ARGS__                                                         \
  }
#define VG_P_FLOATS(S, F, NAME, COUNT, DEF, LO, HI, ...)                                           \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_FLOATS, .offset = offsetof(S, F), .count = COUNT, .sdef = DEF,  \
    .fmin = LO, .fmax = HI, .doc = __VA_ARGS__                                                     \
  }
#define VG_P_CUSTOM(S, F, NAME, HOOK, ...)                                                         \
  {                                                                                                \
    .name = NAME, .type = VG_PARAM_CUSTOM, .offset = offsetof(S, F), .hook = HOOK,                 \
    .doc = __VA_ARGS__                                                                             \
  }
#define VG_P_GROUP(S, F, LABEL, KEYS, HOOK, ...)                                                   \
  {                                                                                                \
    .name = LABEL, .type = VG_PARAM_GROUP, .offset = offsetof(S, F), .keys = KEYS, .hook = HOOK,   \
    .doc = __VA_ARGS__                                                                             \
  }

#define VG_PARAM_STATE(field, p) ((void *)((char *)(field) - (p)->offset))

/* "bool", "int", "float", "string", "enum", "list of 3 numbers", "map"... */
const char *vg_param_type_name(const vg_param *p, char *buf, size_t cap);
/* The default of p as text ("" when none), e.g. "0.45", "letterbox", "[0, 230, 0]". */
const char *vg_param_default_str(const vg_param *p, char *buf, size_t cap);
/* The range or choices of p as text ("" when none), e.g. "0..1", "letterbox|stretch". */
const char *vg_param_range_str(const vg_param *p, char *buf, size_t cap);

/* The vtable of a node type. A built-in type = one file in src/nodes/ defining a
 * `const vg_node_type vg_node_<name>` plus one X(name) line in src/nodes/registry.c; any other
 * is added to a registry with vg_registry_add. */
typedef struct vg_node_type {
  const char *name; /* as written in specs: "json_sink" */
  const char *doc;  /* one line for `vidgraph nodes` */
  vg_port inputs[VG_MAX_PORTS];
  vg_port outputs[VG_MAX_PORTS];
  unsigned devices; /* VG_DEVICES_* */
  vg_device_kind preferred;
  unsigned flags;    /* VG_NODE_* */
  int max_in_flight; /* concurrent calls; 0 = 1 for ordered types, unlimited otherwise */
  /* Parameters and state. With a table or a state_size, the runtime allocates state_size
   * zeroed bytes, rejects unknown keys, fills the table's fields, then calls init with *state
   * already pointing at that struct (init must not replace it); destroy (if any) releases what
   * the node acquired and the runtime frees the struct. destroy runs whenever state exists, also
   * after a failed init, so it must accept a partly filled struct. Without either (legacy),
   * init reads params itself and sets *state, and destroy frees it. */
  const vg_param *params; /* ends with {.name = NULL}; NULL = no parameters */
  size_t state_size;
  /* params is the spec's map (NULL when the spec has none). Errors need not name the node: the
   * runtime prefixes "node 'id' (type): " once, after the file position. Optional. */
  vg_status (*init)(vg_node *self, const vg_cnode *params, void **state);
  /* Required. Sources set c->io[0].out[...] or return VG_ERR_EOF when done. Must not block
   * without a bound: long waits poll vg_node_canceled(). */
  vg_status (*process)(vg_call *c);
  /* Called once after the last frame of a successful run (e.g. to finish a file). Optional. */
  vg_status (*flush)(vg_node *self, void *state);
  /* Releases what state holds (see above). Optional. */
  void (*destroy)(void *state);
  /* Per-stream state (ordered types only). With a stream_state_size, the scheduler allocates
   * that many zeroed bytes for each stream the node sees, before the node's first call for the
   * stream, then calls stream_init (optional) with the node's state; process finds the block in
   * io[k].stream_state. stream_destroy (optional) releases what the block holds and the
   * scheduler frees it: when the stream ends (its end-of-stream packet went through the graph),
   * at the end of the run and at teardown; always once per block, also after a failed
   * stream_init (so it must accept a partly filled block). A failed stream_init fails the call
   * like a failed process (on_error applies). Calls for one stream never overlap, so the block
   * needs no lock; the node's own state is shared by all streams. At most VG_GRAPH_MAX_STREAMS
   * streams at once. */
  size_t stream_state_size;
  vg_status (*stream_init)(vg_node *self, void *state, void *stream_state, int stream_id);
  void (*stream_destroy)(vg_node *self, void *state, void *stream_state);
  /* Names of the type's own counters (VG_STAT_NODE0 + k), NULL-terminated; e.g. "detections". */
  const char *stats[VG_NODE_MAX_STATS];
  /* What the node wants the run summary to show (a model's provider and fallback reasons, a
   * source's decoder and position, a sink's file): a JSON object text, malloc'd, or NULL.
   * May be called from any thread while the node runs: protect what it reads. Optional. */
  char *(*describe)(void *state);
} vg_node_type;

/* Counts of ports, and the index of a port by name (-1 when none). */
int vg_node_type_ninputs(const vg_node_type *t);
int vg_node_type_noutputs(const vg_node_type *t);
int vg_node_type_input(const vg_node_type *t, const char *name);
int vg_node_type_output(const vg_node_type *t, const char *name);

/* ----- what a node can ask about itself (valid during init, process, flush) */
const char *vg_node_id(const vg_node *n);
const char *vg_node_type_name(const vg_node *n);
vg_device vg_node_device(const vg_node *n);
/* Memory pool of the node's device for this run (frames and tensors the node allocates). */
vg_pool *vg_node_pool(const vg_node *n);
/* max_batch of a batching node (1 otherwise). */
int vg_node_max_batch(const vg_node *n);
/* Cancel token: true once the run is canceled or failed; long work should stop early. */
bool vg_node_canceled(const vg_node *n);
/* The packets fed with vg_run_feed for this node (input nodes): next one, or NULL when none. */
vg_packet *vg_node_next_fed(vg_node *n);
/* Keeps p (a new reference) as this node's result for vg_run_output (output nodes). */
void vg_node_set_result(vg_node *n, vg_packet *p);
/* Delivers p to the callback set with vg_run_on_packet for this node (callback sinks);
 * false when none is set. */
bool vg_node_deliver(vg_node *n, vg_packet *p);
/* The run's vg_run_options.model_cache and .host (NULL when not set). */
struct vg_model_cache *vg_node_model_cache(const vg_node *n);
void *vg_node_host(const vg_node *n);
/* Adds v to counter `stat` (vg_stat, or VG_STAT_NODE0 + k for the type's stats[k]); atomic,
 * from any thread. */
void vg_node_stat_add(vg_node *n, int stat, uint64_t v);
uint64_t vg_node_stat_get(const vg_node *n, int stat);
/* Sets an error of this node (the runtime adds "node 'id' (type): " when it reports it; the
 * message itself does not repeat it). Returns s. */
vg_status vg_node_error(const vg_node *n, vg_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Fails when params (may be NULL) has a key not in known (NULL-terminated), naming the key,
 * its position and the known keys ("unknown parameter 'k' (known: a, b)"), the same message as
 * the parameter tables give: for nested maps and legacy init functions. */
vg_status vg_params_check(const vg_node *n, const vg_cnode *params, const char *const *known);

/* ===================================================================== registry */

typedef struct vg_registry vg_registry;

/* An empty registry. The built-in types are added by the nodes layer
 * (vg_nodes_register_builtin in vg_nodes.h); the graph layer knows no node type by name. */
vg_status vg_registry_create(vg_registry **out);
void vg_registry_free(vg_registry *r);
/* Adds a type (kept by pointer: it must outlive the registry). Checks the vtable: a name,
 * process, unique port names, sources without inputs, devices. Fails on a duplicate name. */
vg_status vg_registry_add(vg_registry *r, const vg_node_type *t);
const vg_node_type *vg_registry_find(const vg_registry *r, const char *name);
size_t vg_registry_count(const vg_registry *r);
const vg_node_type *vg_registry_at(const vg_registry *r, size_t i);

/* ===================================================================== graph specs */

/* A validated graph: nodes with their types, placement and parameters, edges, settings.
 * Immutable once loaded; several runs may use one graph at the same time.
 *
 * Spec (YAML or JSON):
 *   settings:  {device: auto|cpu|cuda[:N], workers: 0, cuda_streams: 2, queue_size: 8,
 *               max_batch: 1, max_wait_ms: 5}                      (all optional)
 *   nodes:     - {id: det, type: infer, device: auto, params: {...}, on_error: fail|drop,
 *                 interval: 1, max_batch: 8, max_wait_ms: 5, max_in_flight: 0, ordered: false}
 *   edges:     - "src.out -> det.in"         (or "src -> det" when each side has one port)
 *              - {from: det.out, to: sink.in}
 * Every message names the file, line and node id. */
typedef struct vg_graph vg_graph;

typedef enum vg_on_error { VG_ON_ERROR_FAIL = 0, VG_ON_ERROR_DROP = 1 } vg_on_error;

/* Overrides in --set style, "path=value", applied to the document before validation. The path
 * is dot-separated; in a list, a segment is an index ("nodes.2") or the id of an element
 * ("nodes.det.params.conf=0.4"); missing map keys are added. The value is parsed as YAML
 * ("0.4", "[1, 2]", "{a: 1}"). */
vg_status vg_spec_apply_overrides(const vg_config *doc, const char *const *sets, int nsets,
                                  vg_config **out);

/* Parses and validates a spec against the types of reg (required). The graph owns doc on
 * success (and frees it on failure). */
vg_status vg_graph_from_config(vg_config *doc, const vg_registry *reg, vg_graph **out);
vg_status vg_graph_load_file(const char *path, const char *const *sets, int nsets,
                             const vg_registry *reg, vg_graph **out);
/* name is used in messages in place of a file name. */
vg_status vg_graph_load_string(const char *text, const char *name, const char *const *sets,
                               int nsets, const vg_registry *reg, vg_graph **out);
void vg_graph_free(vg_graph *g);

int vg_graph_node_count(const vg_graph *g);
/* Index of a node id, -1 when absent. */
int vg_graph_find_node(const vg_graph *g, const char *id);
const char *vg_graph_node_id(const vg_graph *g, int i);
const vg_node_type *vg_graph_node_type(const vg_graph *g, int i);
vg_device vg_graph_node_device(const vg_graph *g, int i);
/* Why a node did not get its preferred device ("" when it did), e.g. "device auto -> cpu:
 * no CUDA driver found". */
const char *vg_graph_node_fallback(const vg_graph *g, int i);
int vg_graph_edge_count(const vg_graph *g);

/* ===================================================================== runs */

typedef struct vg_run vg_run;

typedef enum vg_node_state {
  VG_NODE_PENDING = 0,
  VG_NODE_RUNNING,
  VG_NODE_SUCCEEDED,
  VG_NODE_FAILED,
  VG_NODE_CANCELED
} vg_node_state;
const char *vg_node_state_name(vg_node_state s);

/* A node state change for one frame. Pending when the frame enters the graph, Running when
 * the node is called, then Succeeded (skipped: an interval passed it through), Failed
 * (dropped: the frame was dropped by on_error: drop) or Canceled (the run stopped, or an
 * upstream node dropped or filtered the frame; message says which). */
typedef struct vg_node_event {
  const char *node_id;
  const char *node_type;
  int node_index;
  vg_node_state state;
  int stream_id;
  int64_t frame_no;
  int64_t t_ns;        /* vg_now_ns of the change */
  int64_t duration_ns; /* Running -> end, on terminal states */
  bool skipped, dropped;
  const char *message;     /* error or reason, or NULL */
  const vg_packet *output; /* on Succeeded: the first output (objects of detection nodes) */
} vg_node_event;

/* Called from worker threads, never with a runtime lock held; must be quick. */
typedef void (*vg_node_event_fn)(void *user, const vg_node_event *ev);
/* Callback of callback sinks (vg_node_deliver); p is borrowed for the duration of the call. */
typedef void (*vg_packet_fn)(void *user, const char *node_id, vg_packet *p);

typedef struct vg_run_options {
  int workers;      /* CPU worker threads; 0 = settings.workers, else cores-1 (at least 1) */
  int cuda_streams; /* streams per CUDA device in use; 0 = settings.cuda_streams (2) */
  vg_node_event_fn on_event;
  void *event_user;
  /* Loaded models shared across runs (vg_infer.h): infer nodes take their model from it, so
   * that runs of the same graph load each model once. NULL = every run loads its own. */
  struct vg_model_cache *model_cache;
  /* The embedding program's object for node types it registers itself (vg_node_host). */
  void *host;
} vg_run_options;

typedef enum vg_run_state {
  VG_RUN_CREATED = 0,
  VG_RUN_RUNNING,
  VG_RUN_SUCCEEDED,
  VG_RUN_FAILED,
  VG_RUN_CANCELED
} vg_run_state;
const char *vg_run_state_name(vg_run_state s);

/* Instantiates every node (calls init in topological order). On failure nothing runs and the
 * message names the node, file and line. opt may be NULL. */
vg_status vg_run_create(const vg_graph *g, const vg_run_options *opt, vg_run **out);
/* Before start: queues p (a new reference) for input node node_id (at most 4096 per node). */
vg_status vg_run_feed(vg_run *r, const char *node_id, vg_packet *p);
/* Before start: the callback of callback-sink node node_id. */
vg_status vg_run_on_packet(vg_run *r, const char *node_id, vg_packet_fn fn, void *user);
vg_status vg_run_start(vg_run *r);
/* Waits up to timeout_ms (<0 = forever) for the end. Returns VG_OK when the run succeeded,
 * VG_ERR_TIMEOUT when still running, VG_ERR_CANCELED, or the failing node's status (with its
 * message). */
vg_status vg_run_wait(vg_run *r, int timeout_ms);
/* Stops dispatch now; running calls finish (or stop early by polling the cancel token). */
void vg_run_cancel(vg_run *r);
/* Graceful stop: sources stop, frames in flight finish, nodes are flushed. */
void vg_run_stop(vg_run *r);
vg_run_state vg_run_get_state(vg_run *r);
/* The last packet an output node kept (a new reference), or VG_ERR_NOT_FOUND. */
vg_status vg_run_output(vg_run *r, const char *node_id, vg_packet **out);
/* Cancels if running, joins the workers, destroys the nodes and frees everything. */
void vg_run_destroy(vg_run *r);

/* One-shot: create, feed packets[i] to input node ids[i], run to the end (timeout_ms, <0 =
 * none; a timeout cancels the run). *out_run gets the finished run (read outputs, summary;
 * then destroy it) even when the run failed; NULL when it could not be created. */
vg_status vg_run_once(const vg_graph *g, const vg_run_options *opt, const char *const *ids,
                      vg_packet *const *packets, int n, int timeout_ms, vg_run **out_run);

/* ===================================================================== summaries */

typedef struct vg_node_metrics {
  char id[64];
  char type[32];
  vg_device device;
  uint64_t frames;   /* frames processed (batch items count one each) */
  uint64_t calls;    /* process() calls (batches count one) */
  uint64_t errors;   /* failed calls */
  uint64_t dropped;  /* frames dropped by on_error: drop */
  uint64_t filtered; /* frames the node sent nothing for on a connected port */
  uint64_t skipped;  /* frames an interval passed through */
  uint64_t copies;   /* host<->device copies for this node (scheduler's and its own) */
  uint64_t copy_bytes;
  double mean_batch;
  vg_latency_summary latency;    /* per call */
  vg_latency_summary queue_wait; /* ready -> running, per frame */
  int queued;      /* frames ready for this node and waiting for a worker, now */
  int queued_peak; /* the most that waited at once */
  int running;     /* calls of this node running now */
  char last_error[256];
  char fallback[160];
  char *detail; /* the node's describe() JSON object text (malloc'd) or NULL */
} vg_node_metrics;

typedef struct vg_run_summary {
  vg_run_state state;
  vg_status status;
  char error[512];
  uint64_t frames_in;                        /* packets the sources emitted */
  uint64_t frames_done;                      /* frames that completed every node */
  uint64_t frames_dropped;                   /* frames dropped or filtered somewhere */
  double wall_ms, fps;                       /* fps = frames_done / wall time */
  uint64_t copies_to_device, copies_to_host; /* pictures and tensors moved by the scheduler */
  uint64_t frame_copies_to_host;             /* pictures only (0 in a GPU pipeline) */
  uint64_t copy_bytes;
  uint64_t peak_frames_in_flight;
  uint64_t peak_packets_held; /* packets held in the run's variable store at once */
  /* end to end per completed frame: its capture (the packet's t_capture_ns: packet read, or a
   * paced file's release; entering the graph when it has none) -> its last node done */
  vg_latency_summary frame_latency;
  int workers, cuda_streams;
  int nnodes;
  vg_node_metrics *nodes;
} vg_run_summary;

vg_status vg_run_get_summary(vg_run *r, vg_run_summary *out);
/* Memory pools of the run: its host pool, and all its device pools added together. */
void vg_run_get_pool_stats(vg_run *r, vg_pool_stats *host, vg_pool_stats *device);
void vg_run_summary_free(vg_run_summary *s);
/* The summary as a JSON object text (malloc'd; free it). NULL on out of memory. */
char *vg_run_summary_json(const vg_run_summary *s);

/* ===================================================================== soak */

/* Long-run sampling (`vidgraph run --duration`): a thread samples the process (RSS, open file
 * descriptors, threads), the run's pools and the used device memory at a fixed interval. At most
 * VG_SOAK_MAX_SAMPLES are kept: when full, every other sample is dropped and the interval
 * doubles, so memory stays bounded however long the run. Growth is measured from the first sample
 * at or after the warm-up to the end. */
#define VG_SOAK_MAX_SAMPLES 512

typedef struct vg_soak vg_soak;

typedef struct vg_soak_sample {
  double t_sec; /* since vg_soak_start */
  uint64_t frames_done;
  int64_t rss_bytes;
  int open_fds, threads;
  size_t host_pool_in_use, host_pool_cached;
  size_t device_pool_in_use, device_pool_cached;
  int64_t device_used_bytes; /* used memory of CUDA device 0; -1 without a device */
} vg_soak_sample;

typedef struct vg_soak_report {
  int nsamples;
  double interval_sec, warmup_sec, duration_sec;
  vg_soak_sample warm; /* first sample at or after the warm-up (the first one when shorter) */
  vg_soak_sample last;
  int64_t rss_peak_bytes;
  double rss_growth_pct_after_warmup; /* (last - warm) / warm * 100 */
  int fd_growth_after_warmup, thread_growth_after_warmup;
  int64_t pool_growth_bytes_after_warmup;   /* host + device pools, in use + cached */
  int64_t device_growth_bytes_after_warmup; /* 0 without a device */
} vg_soak_report;

/* Starts sampling r (taken now and then every interval_sec > 0). r must outlive the soak. */
vg_status vg_soak_start(vg_run *r, double interval_sec, double warmup_sec, vg_soak **out);
/* Stops the sampling thread (call it while the run exists). Idempotent. */
void vg_soak_stop(vg_soak *s);
void vg_soak_get_report(vg_soak *s, vg_soak_report *out);
/* {interval_sec, warmup_sec, duration_sec, rss_growth_pct_after_warmup, ..., samples: [...]}
 * as JSON text (malloc'd; free it). NULL on out of memory. */
char *vg_soak_json(vg_soak *s);
/* Stops the thread (without a last sample) and frees. NULL is fine. */
void vg_soak_free(vg_soak *s);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
