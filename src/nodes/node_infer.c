/* node_infer.c - the `infer` node: runs an ONNX model (vg_model, ONNX Runtime with the
 * TensorRT -> CUDA -> CPU fallback) on named tensors of the packet and adds the outputs as named
 * tensors. Batching: up to max_batch frames (of any streams) are stacked along the first axis,
 * run once, and the outputs are split back per frame as views (no copies). The model's shape
 * buckets (vg_model_spec buckets) pad the stacked batch; with width buckets, frames whose
 * inputs differ only in their last axis (crops of different widths) are stacked at the widest. A
 * frame whose input has 0 items (e.g. no text regions to read) passes through without a run. */
#include "node_util.h"
#include "vidgraph/vg_infer.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IO 8
#define IN0_DEFAULT "input"    /* packet tensor of model input 0 (k_io_table says so) */
#define OUT_DEFAULT "output%d" /* packet tensor of model output i */

typedef struct infer_state {
  vg_model_spec spec;
  atomic_ullong copies_seen, bytes_seen; /* the model's staging copies already counted */
  vg_model *model;
  vg_model_cache *cache;        /* the run's shared cache the model came from, or NULL (owned) */
  char disabled[VG_REASON_MAX]; /* optional model that could not load: the reason */
  char model_name[VG_MODEL_NAME_MAX];
  int nin, nout;
  char in_tensor[MAX_IO][VG_TENSOR_NAME_MAX];  /* packet tensor feeding model input i */
  const char *in_name[MAX_IO];                 /* model input names */
  char out_tensor[MAX_IO][VG_TENSOR_NAME_MAX]; /* packet tensor name of model output i */
} infer_state;

static vg_status set_name(const vg_cnode *n, char *dst) {
  const char *v;
  VG_TRY(vg_cnode_as_string(n, &v));
  if (!v[0] || strlen(v) >= VG_TENSOR_NAME_MAX)
    return vg_cnode_error(n, VG_ERR_PARSE, "tensor names are 1..%d characters",
                          VG_TENSOR_NAME_MAX - 1);
  snprintf(dst, VG_TENSOR_NAME_MAX, "%s", v);
  return VG_OK;
}

/* input: NAME (single-input models) or inputs: {model_input: tensor, ...}. */
static vg_status map_inputs(const vg_cnode *params, infer_state *s) {
  s->nin = vg_model_input_count(s->model);
  if (s->nin > MAX_IO)
    return vg_set_error(VG_ERR_UNSUPPORTED, "model has %d inputs (max %d)", s->nin, MAX_IO);
  const vg_cnode *map = vg_cnode_get(params, "inputs");
  for (int i = 0; i < s->nin; i++) {
    s->in_name[i] = vg_model_input(s->model, i)->name;
    snprintf(s->in_tensor[i], VG_TENSOR_NAME_MAX, "%s", i == 0 ? IN0_DEFAULT : s->in_name[i]);
  }
  const vg_cnode *one = vg_cnode_get(params, "input");
  if (one) VG_TRY(set_name(one, s->in_tensor[0]));
  if (!map) return VG_OK;
  if (vg_cnode_get_kind(map) != VG_CNODE_MAP)
    return vg_cnode_error(map, VG_ERR_PARSE, "inputs maps model input names to packet tensors");
  for (size_t k = 0; k < vg_cnode_len(map); k++) {
    int i = vg_model_input_index(s->model, vg_cnode_key_at(map, k));
    if (i < 0)
      return vg_cnode_error(vg_cnode_at(map, k), VG_ERR_NOT_FOUND, "model '%s' has no input '%s'",
                            s->model_name, vg_cnode_key_at(map, k));
    VG_TRY(set_name(vg_cnode_at(map, k), s->in_tensor[i]));
  }
  return VG_OK;
}

/* output: NAME (first output) or outputs: [name, ...] in model output order. */
static vg_status map_outputs(const vg_cnode *params, infer_state *s) {
  s->nout = vg_model_output_count(s->model);
  if (s->nout > MAX_IO) s->nout = MAX_IO;
  for (int i = 0; i < s->nout; i++)
    snprintf(s->out_tensor[i], VG_TENSOR_NAME_MAX, OUT_DEFAULT, i);
  const vg_cnode *one = vg_cnode_get(params, "output");
  if (one) VG_TRY(set_name(one, s->out_tensor[0]));
  const vg_cnode *list = vg_cnode_get(params, "outputs");
  if (!list) return VG_OK;
  if (vg_cnode_get_kind(list) != VG_CNODE_SEQ || (int)vg_cnode_len(list) > s->nout)
    return vg_cnode_error(list, VG_ERR_PARSE, "outputs is a list of at most %d names (model '%s')",
                          s->nout, s->model_name);
  for (size_t k = 0; k < vg_cnode_len(list); k++)
    VG_TRY(set_name(vg_cnode_at(list, k), s->out_tensor[k]));
  return VG_OK;
}

static void infer_destroy(void *state) {
  infer_state *s = state;
  if (s->cache && s->model)
    vg_model_cache_release(s->cache, s->model);
  else
    vg_model_free(s->model);
}

/* The model keys (infer's vg_model_spec_from_config); on a GPU node tensors are already on the
 * device, so they are bound in place by default. */
static vg_status read_spec(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  vg_model_spec *spec = field;
  if (!params) return vg_set_error(VG_ERR_NOT_FOUND, "missing params (at least 'model')");
  char base[1024];
  nodes_base_dir(params, base, sizeof base);
  vg_model_spec_init(spec);
  vg_device dev = vg_node_device(self);
  spec->io_binding = dev.kind == VG_DEVICE_CUDA;
  if (dev.kind == VG_DEVICE_CUDA) spec->cuda.device_id = dev.ordinal;
  VG_TRY(vg_model_spec_from_config(params, base, spec));
  /* A node placed on the CPU on a machine with a usable GPU (`--device cpu`, settings.device or
   * the node's device: cpu) runs its model on the CPU provider unless the spec lists providers:
   * the placement is the user's choice. Without a GPU the full list stays, so that the report
   * says why TensorRT and CUDA were skipped. */
  int ngpu = 0;
  if (dev.kind == VG_DEVICE_CPU && !vg_cnode_get(params, "providers") &&
      vg_cuda_device_count(&ngpu) == VG_OK && ngpu > 0) {
    spec->providers[0] = VG_PROVIDER_CPU;
    spec->nproviders = 1;
  }
  vg_clear_error();
  if (!spec->name[0]) snprintf(spec->name, sizeof spec->name, "%s", vg_node_id(self));
  /* a detector exported with a static batch (of 1, usually) still takes the tiles of a frame or
   * a batch of frames: in chunks of its batch (vg_model_spec.fit_batch) */
  spec->fit_batch = true;
  return VG_OK;
}

/* input/inputs/output/outputs are matched to the model once it is loaded (init); their shapes
 * are checked here, before anything loads. */
static vg_status check_io(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  const vg_cnode *n;
  if ((n = vg_cnode_get(params, "inputs")) && vg_cnode_get_kind(n) != VG_CNODE_MAP)
    return vg_cnode_error(n, VG_ERR_PARSE, "inputs maps model input names to packet tensors");
  if ((n = vg_cnode_get(params, "outputs")) && vg_cnode_get_kind(n) != VG_CNODE_SEQ)
    return vg_cnode_error(n, VG_ERR_PARSE, "outputs is a list of tensor names");
  return VG_OK;
}

static const char *const k_io_keys[] = {"input", "inputs", "output", "outputs", NULL};

static const char *const k_tristate[] = {"auto", "true", "false", NULL};
static const char *const k_precisions[] = {"fp32", "fp16", NULL};

/* The model's keys for the docs, in vg_model_spec_keys() order (vg_model_spec_from_config reads
 * them; test_graph_params checks these defaults and ranges against it). */
static const vg_param k_model_table[] = {
    VG_P_STRING(vg_model_spec, path, "model", NULL,
                "the ONNX file (relative: from the working directory, else the spec's folder)",
                .required = true),
    VG_P_STRING(vg_model_spec, path, "path", NULL, "the same as model"),
    VG_P_CUSTOM(vg_model_spec, fallbacks, "fallback", NULL,
                "a file or a list of files tried in order when the model cannot load"),
    VG_P_CUSTOM(vg_model_spec, fallbacks, "fallbacks", NULL, "the same as fallback"),
    VG_P_STRING(vg_model_spec, name, "name", NULL, "name in messages and reports; none = node id"),
    VG_P_BOOL(vg_model_spec, required, "required", true,
              "false: a model that cannot load disables the node (a warning) instead of failing"),
    VG_P_CUSTOM(vg_model_spec, providers, "providers", NULL,
                "execution providers in order of preference: a list of tensorrt, cuda, cpu",
                .sdef = "[tensorrt, cuda, cpu]"),
    VG_P_BOOL(vg_model_spec, io_binding, "io_binding", false,
              "bind device tensors in place (outputs stay on the device); on a GPU node: true"),
    VG_P_INT(vg_model_spec, max_batch, "max_batch", 0, 0, 65536,
             "frames stacked into one run at most; 0 = what the model allows"),
    VG_P_CUSTOM(vg_model_spec, trt, "tensorrt", NULL,
                "{fp16: false, int8: false, workspace_mb: 0..1048576 (0 = ORT's), "
                "builder_optimization_level: -1..5 (-1 = ORT's), engine_cache: dir, "
                "timing_cache: dir}"),
    VG_P_CUSTOM(vg_model_spec, cuda, "cuda", NULL,
                "{device: 0..63 (default: the node's), conv_algo_search: "
                "exhaustive|heuristic|default (exhaustive), mem_limit_mb: 0 (none), cuda_graph: "
                "false}"),
    VG_P_CUSTOM(vg_model_spec, cpu, "cpu", NULL, "{threads: 0..1024 (0 = ORT's)}"),
    VG_P_CUSTOM(vg_model_spec, buckets, "buckets", NULL,
                "shape buckets: {batch: [ascending sizes 1..4096], width: [ascending last-axis "
                "sizes 1..65536], enabled: auto|true|false (auto = with a GPU provider), "
                "warm_shape: [dims after the batch axis], pin_sessions: auto|true|false (one "
                "session per bucket shape; auto = on the cuda provider)}; the input is padded with "
                "zeros to the next bucket, padded rows cut from the outputs"),
    VG_P_ENUM(vg_model_spec, warmup, "warmup", "auto", k_tristate,
              "run every bucket once before the first frame; auto = with buckets on a GPU"),
    VG_P_ENUM(vg_model_spec, precision, "precision", "fp32", k_precisions,
              "fp16: load <stem>.fp16.onnx (scripts/fp16_convert.py makes it)"),
    VG_P_ENUM(vg_model_spec, own_thread, "own_thread", "auto", k_tristate,
              "run the model (and its warm-up) on a thread of its own; auto = on a GPU, whose "
              "provider sets up cuDNN/cuBLAS state again on every new calling thread"),
    {0}};

/* The tensor names (map_inputs and map_outputs use these defaults). */
static const vg_param k_io_table[] = {
    VG_P_STRING(infer_state, in_tensor, "input", IN0_DEFAULT, "packet tensor for model input 0"),
    VG_P_CUSTOM(infer_state, in_tensor, "inputs", NULL,
                "{model input: packet tensor}; default: each input's own name (input 0: input)"),
    VG_P_STRING(infer_state, out_tensor, "output", "output0", "packet tensor for model output 0"),
    VG_P_CUSTOM(infer_state, out_tensor, "outputs", NULL,
                "[names] in model output order; default: output<i>"),
    {0}};

static const vg_param k_params[] = {
    VG_P_GROUP(infer_state, spec, "model", NULL, read_spec,
               "the model and how it runs (vg_model_spec_from_config)",
               .keys_of = vg_model_spec_keys, .sub = k_model_table),
    VG_P_GROUP(infer_state, nin, "io", k_io_keys, check_io,
               "packet tensors in and out, matched to the model once it is loaded",
               .sub = k_io_table),
    {0}};

static vg_status infer_init(vg_node *self, const vg_cnode *params, void **state) {
  infer_state *s = *state;
  snprintf(s->model_name, sizeof s->model_name, "%s", s->spec.name);
  /* a shared cache (a server's) gives every run the same loaded model */
  s->cache = vg_node_model_cache(self);
  vg_status st = s->cache ? vg_model_cache_get(s->cache, &s->spec, &s->model)
                          : vg_model_load(&s->spec, &s->model);
  if (st != VG_OK) {
    if (s->spec.required) return st;
    snprintf(s->disabled, sizeof s->disabled, "%s", vg_last_error());
    VG_LOGW("nodes", "node '%s': optional model disabled: %s", vg_node_id(self), s->disabled);
    return VG_OK;
  }
  VG_TRY(map_inputs(params, s));
  return map_outputs(params, s);
}

/* Raises *seen to now (concurrent calls may race) and returns by how much. */
static uint64_t advance(atomic_ullong *seen, uint64_t now) {
  uint64_t old = atomic_load(seen);
  while (now > old && !atomic_compare_exchange_weak(seen, &old, now)) {
  }
  return now > old ? now - old : 0;
}

/* The model's staging copies (vg_model_stats) become the node's copy counter. */
static void count_model_copies(vg_node *node, infer_state *s) {
  vg_model_stats st;
  vg_model_get_stats(s->model, &st);
  vg_node_stat_add(node, VG_STAT_COPIES, advance(&s->copies_seen, st.copies));
  vg_node_stat_add(node, VG_STAT_COPY_BYTES, advance(&s->bytes_seen, st.copy_bytes));
}

/* Stacks the tensors of n frames along axis 0 into one tensor on dev. With pad_width (the
 * model pads its input's last axis to width buckets with zeros anyway) tensors that differ only
 * in their last axis are padded to the widest with zeros, so that crops of several frames run
 * in one batch. */
static vg_status stack(vg_call *c, const vg_tensor *const *parts, int n, bool pad_width,
                       vg_tensor *out) {
  if (n < 1 || !parts[0]) return vg_node_error(c->node, VG_ERR_INTERNAL, "nothing to stack");
  const vg_tensor *a = parts[0];
  int last = a->ndim - 1;
  int64_t shape[VG_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[0] = 0;
  bool ragged = false;
  for (int i = 0; i < n; i++) {
    const vg_tensor *t = parts[i];
    bool same = t->dtype == a->dtype && t->ndim == a->ndim && vg_tensor_is_contiguous(t);
    for (int d = 1; same && d < a->ndim; d++)
      same = t->shape[d] == a->shape[d] || (pad_width && d == last && last >= 1);
    if (!same) /* the caller runs the frames one by one instead */
      return vg_set_error(VG_ERR_UNSUPPORTED, "input tensors differ in shape or dtype");
    shape[0] += t->shape[0];
    if (a->ndim > 1 && t->shape[last] != shape[last]) ragged = true;
    if (a->ndim > 1 && t->shape[last] > shape[last]) shape[last] = t->shape[last];
  }
  vg_device dev = vg_tensor_device(a);
  VG_TRY(vg_tensor_alloc(a->dtype, a->ndim, shape, dev, vg_node_pool(c->node), out));
  size_t es = vg_dtype_size(a->dtype), off = 0;
  vg_status st =
      ragged ? vg_memset_async(vg_tensor_data(out), dev, 0, vg_tensor_nbytes(out), c->stream)
             : VG_OK;
  for (int i = 0; i < n && st == VG_OK; i++) {
    const vg_tensor *t = parts[i];
    size_t nb = vg_tensor_nbytes(t);
    if (!ragged) {
      st = vg_memcpy_async((char *)vg_tensor_data(out) + off, dev, vg_tensor_data(t),
                           vg_tensor_device(t), nb, c->stream);
      off += nb;
      continue;
    }
    size_t w = (size_t)t->shape[last] * es, W = (size_t)shape[last] * es;
    size_t rows = w ? nb / w : 0;
    st = vg_memcpy2d_async((char *)vg_tensor_data(out) + off, W, dev, vg_tensor_data(t), w,
                           vg_tensor_device(t), w, rows, c->stream);
    off += rows * W;
  }
  if (st != VG_OK) vg_tensor_release(out);
  return st;
}

/* Gathers input k of every frame that has items; stacks when several. */
static vg_status gather(vg_call *c, const infer_state *s, int k, const bool *run, vg_tensor *out) {
  const vg_tensor *parts[VG_MAX_BATCH] = {0};
  int m = 0;
  for (int i = 0; i < c->n; i++) {
    if (!run[i]) continue;
    parts[m++] = vg_packet_tensor(c->io[i].in[0], s->in_tensor[k]);
  }
  if (m == 1) {
    vg_tensor_view(parts[0], out);
    return VG_OK;
  }
  return stack(c, parts, m,
               k == 0 && vg_model_buckets(s->model) && vg_model_buckets(s->model)->nwidth > 0, out);
}

/* Splits the batched outputs back to the frames (views along axis 0) into their packets. */
static vg_status scatter(vg_call *c, const infer_state *s, const bool *run, const int64_t *items,
                         int64_t total, vg_tensor *outs) {
  int64_t start = 0;
  for (int i = 0; i < c->n; i++) {
    VG_TRY(vg_packet_derive(c->io[i].in[0], &c->io[i].out[0]));
    /* inputs are consumed: later nodes (and copies to the host) do not carry them */
    for (int k = 0; k < s->nin; k++)
      vg_packet_remove_tensor(c->io[i].out[0], s->in_tensor[k]);
    if (!run[i]) continue;
    for (int k = 0; k < s->nout; k++) {
      vg_tensor v;
      bool whole = outs[k].ndim == 0 || outs[k].shape[0] != total;
      if (whole && total != items[i])
        return vg_node_error(c->node, VG_ERR_UNSUPPORTED,
                             "output '%s' has no batch axis to split; set max_batch: 1",
                             s->out_tensor[k]);
      if (whole)
        vg_tensor_view(&outs[k], &v);
      else
        VG_TRY(vg_tensor_slice(&outs[k], 0, start, items[i], &v));
      vg_status st = vg_packet_set_tensor(c->io[i].out[0], s->out_tensor[k], &v);
      vg_tensor_release(&v);
      VG_TRY(st);
    }
    start += items[i];
  }
  return VG_OK;
}

static vg_status infer_process(vg_call *c) {
  infer_state *s = c->state;
  if (c->n > VG_MAX_BATCH)
    return vg_set_error(VG_ERR_INVALID_ARG, "batch of %d frames (max %d)", c->n, VG_MAX_BATCH);
  bool run[VG_MAX_BATCH];
  int64_t items[VG_MAX_BATCH], total = 0;
  int nrun = 0;
  for (int i = 0; i < c->n; i++) {
    run[i] = false;
    items[i] = 0;
    if (!s->model) continue;
    for (int k = 0; k < s->nin; k++) {
      const vg_tensor *t = vg_packet_tensor(c->io[i].in[0], s->in_tensor[k]);
      if (!t)
        return vg_node_error(c->node, VG_ERR_NOT_FOUND,
                             "packet has no tensor '%s' for input '%s' of model '%s'",
                             s->in_tensor[k], s->in_name[k], s->model_name);
      if (k == 0) items[i] = t->ndim ? t->shape[0] : 1;
    }
    run[i] = items[i] > 0;
    total += items[i];
    nrun += run[i];
  }
  vg_tensor ins[MAX_IO], outs[MAX_IO];
  memset(ins, 0, sizeof ins);
  memset(outs, 0, sizeof outs);
  vg_status st = VG_OK;
  for (int k = 0; nrun > 0 && k < s->nin && st == VG_OK; k++)
    st = gather(c, s, k, run, &ins[k]);
  if (st == VG_ERR_UNSUPPORTED && nrun > 1) {
    /* frames whose inputs cannot be stacked (e.g. crops of different widths): one run each */
    for (int k = 0; k < MAX_IO; k++)
      vg_tensor_release(&ins[k]);
    vg_clear_error();
    for (int i = 0; i < c->n; i++) {
      vg_call one = *c;
      one.n = 1;
      one.io = &c->io[i];
      VG_TRY(infer_process(&one));
    }
    return VG_OK;
  }
  if (nrun > 0 && st == VG_OK) {
    st = vg_model_run(s->model, s->in_name, ins, s->nin, outs, s->nout, c->stream);
    if (!s->cache) count_model_copies(c->node, s); /* a shared model's stats mix runs */
  }
  if (st == VG_OK) st = scatter(c, s, run, items, total, outs);
  for (int k = 0; k < MAX_IO; k++) {
    vg_tensor_release(&ins[k]);
    vg_tensor_release(&outs[k]);
  }
  return st;
}

static char *infer_describe(void *state) {
  infer_state *s = state;
  if (!s->model) {
    json_t *o =
        json_pack("{s:s,s:b,s:s}", "model", s->model_name, "enabled", 0, "reason", s->disabled);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
  }
  char *rep = vg_model_report_json(s->model);
  json_t *o = rep ? json_loads(rep, 0, NULL) : NULL;
  free(rep);
  if (!o) return NULL;
  vg_model_stats st;
  vg_model_get_stats(s->model, &st);
  json_object_set_new(o, "stats",
                      json_pack("{s:I,s:I,s:I,s:f}", "runs", (json_int_t)st.runs, "copies",
                                (json_int_t)st.copies, "copy_bytes", (json_int_t)st.copy_bytes,
                                "copy_ms", st.copy_ms));
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type vg_node_infer = {
    .name = "infer",
    .doc = "ONNX model on packet tensors (TensorRT -> CUDA -> CPU with reasons), batched",
    .inputs = {{"in", VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_TENSOR | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .flags = VG_NODE_BATCHING,
    .params = k_params,
    .state_size = sizeof(infer_state),
    .init = infer_init,
    .process = infer_process,
    .destroy = infer_destroy,
    .describe = infer_describe,
};
