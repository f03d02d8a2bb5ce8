/* run.c - running a model: input checks with messages naming the model and the input, staging
 * copies when an input is on the wrong side (counted), plain Run or IOBinding, outputs adopted
 * from ONNX Runtime and reused while shapes repeat, CUDA graphs with their fallback, and the
 * provider fallback on a failed first run. */
#include "infer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- input checks */

static void model_shape_str(const vg_model_io *io, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "[");
  for (int d = 0; d < io->ndim && n < cap; d++) {
    if (io->shape[d] >= 0)
      n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? "," : "", (long long)io->shape[d]);
    else
      n += (size_t)snprintf(buf + n, cap - n, "%s%s", d ? "," : "",
                            io->dim_names[d][0] ? io->dim_names[d] : "?");
  }
  if (n < cap) snprintf(buf + n, cap - n, "]");
}

static vg_status check_dims(const vg_model *m, const vg_model_io *io, const vg_tensor *t) {
  char want[160], got[160];
  model_shape_str(io, want, sizeof want);
  vg_tensor_str(t, got, sizeof got);
  if (t->ndim != io->ndim)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s': %d dimensions given (%s), the model expects %d %s",
                        m->spec.name, io->name, t->ndim, got, io->ndim, want);
  for (int d = 0; d < io->ndim; d++) {
    if (t->shape[d] <= 0)
      return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': input '%s': dimension %d is %lld (%s)",
                          m->spec.name, io->name, d, (long long)t->shape[d], got);
    if (io->shape[d] < 0 || t->shape[d] == io->shape[d]) continue;
    /* batch buckets pad and chunk axis 0 to the model's own batch (fit_batch) */
    if (d == 0 && vg_buckets_active(m) && m->spec.buckets.nbatch > 0) continue;
    if (d == 0 && t->shape[0] > io->shape[0])
      return vg_set_error(
          VG_ERR_INVALID_ARG,
          "model '%s': input '%s': batch %lld is larger than the model allows (%lld; "
          "shape %s), given %s",
          m->spec.name, io->name, (long long)t->shape[0], (long long)io->shape[0], want, got);
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s': dimension %d is %lld, the model expects %lld "
                        "(shape %s), given %s",
                        m->spec.name, io->name, d, (long long)t->shape[d], (long long)io->shape[d],
                        want, got);
  }
  if (m->spec.max_batch > 0 && io->ndim > 0 && t->shape[0] > m->spec.max_batch)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s': batch %lld is larger than max_batch %d",
                        m->spec.name, io->name, (long long)t->shape[0], m->spec.max_batch);
  return VG_OK;
}

static vg_status check_input(const vg_model *m, const vg_model_io *io, const vg_tensor *t) {
  if (!t->buffer)
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': input '%s': empty tensor (no buffer)",
                        m->spec.name, io->name);
  if (!io->dtype_supported)
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "model '%s': input '%s' has element type %s, which vidgraph tensors "
                        "cannot hold",
                        m->spec.name, io->name, io->type_name);
  if (t->dtype != io->dtype)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s': element type %s given, the model expects %s",
                        m->spec.name, io->name, vg_dtype_name(t->dtype), io->type_name);
  VG_TRY(check_dims(m, io, t));
  if (!vg_tensor_is_contiguous(t))
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': input '%s': tensor is not contiguous",
                        m->spec.name, io->name);
  return VG_OK;
}

/* Puts the caller's tensors in model input order into ord[] (pointers, not references). */
static vg_status order_inputs(const vg_model *m, const char *const *names, const vg_tensor *inputs,
                              int n, const vg_tensor **ord) {
  if (n != m->nin) {
    char list[512] = "";
    for (int i = 0; i < m->nin; i++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", i ? ", " : "",
               m->inputs[i].name);
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': %d inputs given, the model has %d (%s)",
                        m->spec.name, n, m->nin, list);
  }
  for (int i = 0; i < m->nin; i++)
    ord[i] = NULL;
  for (int k = 0; k < n; k++) {
    int i = names ? vg_model_input_index(m, names[k]) : k;
    if (i < 0) {
      char list[512] = "";
      for (int j = 0; j < m->nin; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", j ? ", " : "",
                 m->inputs[j].name);
      return vg_set_error(VG_ERR_NOT_FOUND, "model '%s' has no input '%s' (its inputs: %s)",
                          m->spec.name, names[k] ? names[k] : "(null)", list);
    }
    if (ord[i])
      return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': input '%s' given twice", m->spec.name,
                          m->inputs[i].name);
    ord[i] = &inputs[k];
  }
  for (int i = 0; i < m->nin; i++)
    VG_TRY(check_input(m, &m->inputs[i], ord[i]));
  return VG_OK;
}

/* ----------------------------------------------------------------- slots and outputs */

static void release_value(void *ctx, void *data, size_t bytes, vg_device dev) {
  (void)data, (void)bytes, (void)dev;
  vg_ort_api()->ReleaseValue((OrtValue *)ctx);
}

void vg_io_slot_clear(vg_model *m, vg_io_slot *s) {
  if (s->outs)
    for (int k = 0; k < m->nout; k++)
      vg_tensor_release(&s->outs[k]);
  if (s->held)
    for (int i = 0; i < m->nin; i++)
      vg_tensor_release(&s->held[i]);
  free(s->outs);
  free(s->vals);
  free(s->held);
  memset(s, 0, sizeof *s);
}

static void make_sig(const vg_model *m, const vg_tensor **in, int64_t *sig, int *nsig) {
  int n = 0;
  for (int i = 0; i < m->nin && n + 1 + in[i]->ndim <= 64; i++) {
    sig[n++] = in[i]->ndim;
    for (int d = 0; d < in[i]->ndim; d++)
      sig[n++] = in[i]->shape[d];
  }
  *nsig = n;
}

/* Makes s hold the signature sig (clearing it when it held another). */
static vg_status slot_take(vg_model *m, vg_io_slot *s, const int64_t *sig, int nsig) {
  if (s->valid && s->nsig == nsig && memcmp(s->sig, sig, sizeof *sig * (size_t)nsig) == 0)
    return VG_OK;
  vg_io_slot_clear(m, s);
  s->outs = calloc((size_t)m->nout + 1, sizeof *s->outs);
  s->vals = calloc((size_t)m->nout + 1, sizeof *s->vals);
  s->held = calloc((size_t)m->nin + 1, sizeof *s->held);
  if (!s->outs || !s->vals || !s->held) {
    vg_io_slot_clear(m, s);
    return vg_set_error(VG_ERR_NO_MEMORY, "model '%s': out of memory for outputs", m->spec.name);
  }
  memcpy(s->sig, sig, sizeof *sig * (size_t)nsig);
  s->nsig = nsig;
  s->valid = true;
  return VG_OK;
}

/* Takes ownership of an ORT-allocated output value as the slot's output k. */
static vg_status adopt_output(vg_model *m, vg_io_slot *s, int k, OrtValue *v) {
  const OrtApi *api = vg_ort_api();
  const vg_model_io *io = &m->outputs[k];
  OrtTensorTypeAndShapeInfo *info = NULL;
  OrtStatus *st = api->GetTensorTypeAndShape(v, &info);
  if (st) {
    api->ReleaseValue(v);
    return vg_ort_fail(st, VG_ERR_BACKEND, "GetTensorTypeAndShape");
  }
  ONNXTensorElementDataType et;
  size_t nd = 0;
  int64_t shape[VG_MAX_DIMS];
  (void)vg_ort_ok(api->GetTensorElementType(info, &et));
  (void)vg_ort_ok(api->GetDimensionsCount(info, &nd));
  if (nd <= VG_MAX_DIMS) (void)vg_ort_ok(api->GetDimensions(info, shape, nd));
  api->ReleaseTensorTypeAndShapeInfo(info);
  vg_dtype dt;
  if (!vg_ort_dtype((int)et, &dt) || nd > VG_MAX_DIMS) {
    api->ReleaseValue(v);
    return vg_set_error(
        VG_ERR_UNSUPPORTED,
        "model '%s': output '%s' (%s, %zu dims) cannot be held in a vidgraph tensor", m->spec.name,
        io->name, vg_ort_type_name((int)et), nd);
  }
  void *data = NULL;
  (void)vg_ort_ok(api->GetTensorMutableData(v, &data));
  size_t bytes = vg_dtype_size(dt);
  for (size_t d = 0; d < nd; d++)
    bytes *= (size_t)shape[d];
  vg_buffer *buf;
  if (!data || bytes == 0) { /* an empty output: a placeholder buffer, nothing to rebind */
    api->ReleaseValue(v);
    v = NULL;
    VG_TRY(vg_buffer_alloc(vg_cpu(), 1, NULL, &buf));
  } else {
    vg_status rs = vg_buffer_wrap(m->dev, data, bytes, release_value, v, &buf);
    if (rs != VG_OK) {
      api->ReleaseValue(v);
      return rs;
    }
  }
  vg_tensor_release(&s->outs[k]);
  vg_status rs = vg_tensor_from_buffer(buf, 0, dt, (int)nd, shape, &s->outs[k]);
  vg_buffer_unref(buf);
  s->vals[k] = v;
  return rs;
}

/* Whether output k of slot s can be written again: ours alone, or fixed for a CUDA graph. */
static bool reusable(const vg_io_slot *s, int k, bool fixed) {
  return s->vals[k] && s->outs[k].buffer && (fixed || vg_buffer_refcount(s->outs[k].buffer) == 1);
}

/* ----------------------------------------------------------------- staging copies */

static vg_status count_copy(vg_model *m, vg_status s, size_t bytes, int64_t t0) {
  if (s != VG_OK) return s;
  m->stats.copies++;
  m->stats.copy_bytes += bytes;
  m->stats.copy_ms += (double)(vg_now_ns() - t0) / 1e6;
  return VG_OK;
}

static vg_status ensure_stage(vg_model *m, vg_tensor **arr, int i, const vg_tensor *t,
                              vg_device dev, vg_pool *pool) {
  if (!*arr && !(*arr = calloc((size_t)m->nin + 1, sizeof **arr)))
    return vg_set_error(VG_ERR_NO_MEMORY, "model '%s': out of memory", m->spec.name);
  vg_tensor *st = &(*arr)[i];
  if (st->buffer && st->dtype == t->dtype && st->ndim == t->ndim &&
      memcmp(st->shape, t->shape, sizeof t->shape[0] * (size_t)t->ndim) == 0 &&
      vg_buffer_refcount(st->buffer) == 1)
    return VG_OK;
  vg_tensor_release(st);
  return vg_tensor_alloc(t->dtype, t->ndim, t->shape, dev, pool, st);
}

/* Host pointer for input i (copied from the device when needed). */
static vg_status host_input(vg_model *m, int i, const vg_tensor *t, void **ptr) {
  if (vg_tensor_device(t).kind == VG_DEVICE_CPU) {
    *ptr = vg_tensor_data(t);
    return VG_OK;
  }
  VG_TRY(ensure_stage(m, &m->stage_host, i, t, vg_cpu(), NULL));
  int64_t t0 = vg_now_ns();
  size_t n = vg_tensor_nbytes(t);
  VG_TRY(count_copy(m,
                    vg_memcpy(vg_tensor_data(&m->stage_host[i]), vg_cpu(), vg_tensor_data(t),
                              vg_tensor_device(t), n),
                    n, t0));
  *ptr = vg_tensor_data(&m->stage_host[i]);
  return VG_OK;
}

/* Device pointer on m->dev for input i (host inputs go through a pinned buffer). */
static vg_status device_input(vg_model *m, int i, const vg_tensor *t, void **ptr) {
  vg_device td = vg_tensor_device(t);
  if (vg_device_eq(td, m->dev)) {
    *ptr = vg_tensor_data(t);
    return VG_OK;
  }
  size_t n = vg_tensor_nbytes(t);
  const void *src = vg_tensor_data(t);
  int64_t t0 = vg_now_ns();
  if (td.kind == VG_DEVICE_CPU) {
    if (!m->pinned) VG_TRY(vg_pool_create(VG_POOL_PINNED, vg_cpu(), 0, &m->pinned));
    VG_TRY(ensure_stage(m, &m->stage_host, i, t, vg_cpu(), m->pinned));
    /* an asynchronous earlier run may still be reading this pinned buffer */
    if (m->spec.stream) VG_TRY(vg_stream_sync(m->spec.stream));
    memcpy(vg_tensor_data(&m->stage_host[i]), src, n);
    src = vg_tensor_data(&m->stage_host[i]);
  }
  VG_TRY(ensure_stage(m, &m->stage_dev, i, t, m->dev, NULL));
  VG_TRY(count_copy(m,
                    vg_memcpy_async(vg_tensor_data(&m->stage_dev[i]), m->dev, src,
                                    td.kind == VG_DEVICE_CPU ? vg_cpu() : td, n,
                                    vg_model_copy_stream(m)),
                    n, t0));
  *ptr = vg_tensor_data(&m->stage_dev[i]);
  return VG_OK;
}

static vg_status make_value(vg_model *m, const OrtMemoryInfo *mem, void *ptr, const vg_tensor *t,
                            OrtValue **out) {
  OrtStatus *st = vg_ort_api()->CreateTensorWithDataAsOrtValue(
      mem, ptr, vg_tensor_nbytes(t), t->shape, (size_t)t->ndim,
      (ONNXTensorElementDataType)vg_ort_onnx_type(t->dtype), out);
  if (st) return vg_ort_fail(st, VG_ERR_BACKEND, "CreateTensorWithDataAsOrtValue");
  return VG_OK;
}

/* ----------------------------------------------------------------- the model's copies */

/* Before these, the copies went to the legacy default stream and were waited for with
 * cudaDeviceSynchronize: every CUDA-graph run of every model waited twice for all the GPU work
 * of the process (the other workers' models, crops, decoders), which serialised the graph. */
/* VG_INFER_DEVICE_SYNC=1 brings the old behaviour back (legacy stream, device-wide waits,
 * cudaMalloc/cudaFree of padded inputs): the ledger's switch in docs/PERF.md, not for use. */
bool vg_infer_old_device_sync(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("VG_INFER_DEVICE_SYNC");
    v = e && e[0] == '1';
  }
  return v;
}

vg_stream vg_model_copy_stream(vg_model *m) {
  if (m->spec.stream) return m->spec.stream;
  if (m->dev.kind != VG_DEVICE_CUDA || vg_infer_old_device_sync()) return NULL;
  if (!m->io && vg_stream_create(m->dev, &m->io) != VG_OK) {
    vg_log(VG_LOG_WARN, "infer", NULL,
           "model '%s': cannot create its copy stream (%s); its copies wait for the whole device",
           m->spec.name, vg_last_error());
    vg_clear_error();
    m->io = NULL;
  }
  return m->io;
}

vg_status vg_model_copy_sync(vg_model *m, vg_stream cs) {
  if (cs) return vg_stream_sync(cs);
  return m->dev.kind == VG_DEVICE_CUDA ? vg_stream_sync(NULL) : VG_OK;
}

vg_status vg_model_pool(vg_model *m, vg_pool **out) {
  if (!m->out_pool) VG_TRY(vg_pool_create(VG_POOL_DEVICE, m->dev, 0, &m->out_pool));
  *out = m->out_pool;
  return VG_OK;
}

/* ----------------------------------------------------------------- plain Run (host memory) */

static vg_status run_plain_once(vg_model *m, OrtValue **in, vg_io_slot *s, bool reuse) {
  const OrtApi *api = vg_ort_api();
  OrtValue *out[64] = {0};
  bool fresh[64] = {0};
  for (int k = 0; k < m->nout; k++) {
    if (reuse && reusable(s, k, false)) {
      out[k] = s->vals[k];
    } else {
      vg_tensor_release(&s->outs[k]);
      s->vals[k] = NULL;
      fresh[k] = true;
    }
  }
  int64_t t0 = vg_now_ns();
  OrtStatus *st = api->Run(m->session, NULL, m->in_names, (const OrtValue *const *)in,
                           (size_t)m->nin, m->out_names, (size_t)m->nout, out);
  m->last_ort_ns = vg_now_ns() - t0;
  if (st) {
    for (int k = 0; k < m->nout; k++)
      if (fresh[k] && out[k]) api->ReleaseValue(out[k]);
    return vg_ort_fail(st, VG_ERR_BACKEND, "Run");
  }
  vg_status rs = VG_OK;
  for (int k = 0; k < m->nout; k++) {
    if (!fresh[k]) continue;
    vg_status a = adopt_output(m, s, k, out[k]);
    if (rs == VG_OK) rs = a;
  }
  return rs;
}

static vg_status run_plain(vg_model *m, const vg_tensor **ord, const int64_t *sig, int nsig) {
  OrtValue *in[64] = {0};
  vg_status rs = VG_OK;
  for (int i = 0; i < m->nin && rs == VG_OK; i++) {
    void *ptr;
    rs = host_input(m, i, ord[i], &ptr);
    if (rs == VG_OK) rs = make_value(m, m->mem_cpu, ptr, ord[i], &in[i]);
  }
  if (rs == VG_OK) rs = slot_take(m, &m->cur, sig, nsig);
  if (rs == VG_OK) {
    m->last = &m->cur;
    rs = run_plain_once(m, in, &m->cur, true);
    /* outputs whose shape depends on values cannot reuse buffers: retry with fresh ones */
    if (rs != VG_OK && m->stats.runs > 0) rs = run_plain_once(m, in, &m->cur, false);
  }
  for (int i = 0; i < m->nin; i++)
    if (in[i]) vg_ort_api()->ReleaseValue(in[i]);
  return rs;
}

/* ----------------------------------------------------------------- IOBinding */

/* Input pointers for a bound run. With a CUDA graph the captured addresses must not change:
 * inputs are copied (device to device, a few microseconds) into buffers the model owns. */
static vg_status bound_inputs(vg_model *m, const vg_tensor **ord, vg_io_slot *s, bool graph,
                              void **ptrs) {
  for (int i = 0; i < m->nin; i++) {
    VG_TRY(m->dev.kind == VG_DEVICE_CPU ? host_input(m, i, ord[i], &ptrs[i])
                                        : device_input(m, i, ord[i], &ptrs[i]));
    if (!graph) continue;
    vg_tensor *h = &s->held[i];
    if (!h->buffer)
      VG_TRY(vg_tensor_alloc(ord[i]->dtype, ord[i]->ndim, ord[i]->shape, m->dev, NULL, h));
    VG_TRY(vg_memcpy_async(vg_tensor_data(h), m->dev, ptrs[i], m->dev, vg_tensor_nbytes(h),
                           vg_model_copy_stream(m)));
    ptrs[i] = vg_tensor_data(h);
  }
  return VG_OK;
}

static vg_status bind_all(vg_model *m, const vg_tensor **ord, void **ptrs, vg_io_slot *s,
                          bool fixed, bool *fresh) {
  const OrtApi *api = vg_ort_api();
  const OrtMemoryInfo *mem = m->dev.kind == VG_DEVICE_CPU ? m->mem_cpu : m->mem_dev;
  api->ClearBoundInputs(m->binding);
  api->ClearBoundOutputs(m->binding);
  for (int i = 0; i < m->nin; i++) {
    OrtValue *v;
    VG_TRY(make_value(m, mem, ptrs[i], ord[i], &v));
    OrtStatus *st = api->BindInput(m->binding, m->in_names[i], v);
    api->ReleaseValue(v); /* the binding keeps its own reference */
    if (st) return vg_ort_fail(st, VG_ERR_BACKEND, "BindInput");
  }
  for (int k = 0; k < m->nout; k++) {
    OrtStatus *st;
    fresh[k] = !reusable(s, k, fixed);
    if (!fresh[k]) {
      st = api->BindOutput(m->binding, m->out_names[k], s->vals[k]);
    } else {
      vg_tensor_release(&s->outs[k]);
      s->vals[k] = NULL;
      st = api->BindOutputToDevice(m->binding, m->out_names[k], mem);
    }
    if (st) return vg_ort_fail(st, VG_ERR_BACKEND, "BindOutput");
  }
  return VG_OK;
}

static vg_status collect_bound(vg_model *m, vg_io_slot *s, const bool *fresh) {
  const OrtApi *api = vg_ort_api();
  OrtAllocator *alloc;
  OrtValue **vals = NULL;
  size_t n = 0;
  OrtStatus *st = api->GetAllocatorWithDefaultOptions(&alloc);
  if (!st) st = api->GetBoundOutputValues(m->binding, alloc, &vals, &n);
  if (st) return vg_ort_fail(st, VG_ERR_BACKEND, "GetBoundOutputValues");
  vg_status rs = VG_OK;
  for (size_t k = 0; k < n; k++) {
    if ((int)k < m->nout && fresh[k]) {
      vg_status a = adopt_output(m, s, (int)k, vals[k]);
      if (rs == VG_OK) rs = a;
    } else {
      api->ReleaseValue(vals[k]);
    }
  }
  if (vals) (void)vg_ort_ok(api->AllocatorFree(alloc, vals));
  return rs;
}

/* graph_id: 0 = no entry (no CUDA graphs in the session), -1 = this run is not captured, k > 0 =
 * the captured graph k (one per input shape). */
static vg_status run_options(vg_model *m, bool async, int graph_id, OrtRunOptions **out) {
  const OrtApi *api = vg_ort_api();
  OrtStatus *st = api->CreateRunOptions(out);
  if (!st && async)
    st = api->AddRunConfigEntry(*out, "disable_synchronize_execution_providers", "1");
  char id[16];
  snprintf(id, sizeof id, "%d", graph_id);
  if (!st && graph_id != 0) st = api->AddRunConfigEntry(*out, "gpu_graph_id", id);
  if (st) {
    if (*out) api->ReleaseRunOptions(*out);
    *out = NULL;
    return vg_ort_fail(st, VG_ERR_BACKEND, "run options");
  }
  return VG_OK;
}

/* The graph slot of signature sig: an existing one, or a new one while there is room (one per
 * shape bucket when buckets are on, else only the first signature). -1: run uncaptured. */
static int graph_slot(vg_model *m, const int64_t *sig, int nsig) {
  for (int i = 0; i < m->ngslots; i++)
    if (m->gslots[i].nsig == nsig && memcmp(m->gslots[i].sig, sig, sizeof *sig * (size_t)nsig) == 0)
      return i;
  int cap = vg_buckets_active(m) ? VG_GRAPH_SLOTS : 1;
  if (m->ngslots >= cap || slot_take(m, &m->gslots[m->ngslots], sig, nsig) != VG_OK) {
    vg_clear_error();
    return -1;
  }
  return m->ngslots++;
}

/* A captured graph writes every replay into the same output buffers, and a consumer (a decoder
 * of an earlier frame, another stream's batch) may still hold the last ones: the outputs are
 * handed out as copies (device to device, from a pool; microseconds against the replay). */
static vg_status hand_out_copies(vg_model *m, vg_io_slot *s) {
  vg_pool *pool;
  VG_TRY(vg_model_pool(m, &pool));
  vg_stream cs = vg_model_copy_stream(m);
  vg_io_slot *h = &m->handout;
  if (!h->outs && !(h->outs = calloc((size_t)m->nout + 1, sizeof *h->outs)))
    return vg_set_error(VG_ERR_NO_MEMORY, "model '%s': out of memory for outputs", m->spec.name);
  for (int k = 0; k < m->nout; k++) {
    const vg_tensor *o = &s->outs[k];
    vg_tensor_release(&h->outs[k]);
    if (!o->buffer) continue;
    if (vg_tensor_device(o).kind != VG_DEVICE_CUDA) {
      vg_tensor_view(o, &h->outs[k]); /* a placeholder of an empty output */
      continue;
    }
    VG_TRY(vg_tensor_alloc(o->dtype, o->ndim, o->shape, m->dev, pool, &h->outs[k]));
    VG_TRY(vg_memcpy_async(vg_tensor_data(&h->outs[k]), m->dev, vg_tensor_data(o), m->dev,
                           vg_tensor_nbytes(o), cs));
  }
  /* the next replay overwrites the graph's outputs: these copies must be done by then */
  VG_TRY(vg_model_copy_sync(m, cs));
  m->last = h;
  return VG_OK;
}

static vg_status run_bound(vg_model *m, const vg_tensor **ord, const int64_t *sig, int nsig,
                           bool async) {
  int gi = m->graph ? graph_slot(m, sig, nsig) : -1;
  bool graph = gi >= 0;
  vg_io_slot *s = graph ? &m->gslots[gi] : &m->cur;
  m->gslot_runs = graph ? s->runs : UINT64_MAX;
  if (!graph) VG_TRY(slot_take(m, s, sig, nsig));
  void *ptrs[64];
  bool fresh[64];
  VG_TRY(bound_inputs(m, ord, s, graph, ptrs));
  bool staged = false;
  for (int i = 0; i < m->nin; i++)
    staged = staged || ptrs[i] != vg_tensor_data(ord[i]);
  /* Copies went to the model's copy stream; ONNX Runtime computes on its own unless given
   * ours (spec.stream), so they must be done first (that stream only, not the device). */
  if (staged && m->dev.kind == VG_DEVICE_CUDA && !m->spec.stream)
    VG_TRY(vg_model_copy_sync(m, vg_model_copy_stream(m)));
  VG_TRY(bind_all(m, ord, ptrs, s, graph, fresh));
  OrtRunOptions *ro = NULL;
  VG_TRY(run_options(m, async, !m->graph ? 0 : graph ? gi + 1 : -1, &ro));
  int64_t t0 = vg_now_ns();
  OrtStatus *st = vg_ort_api()->RunWithBinding(m->session, ro, m->binding);
  vg_ort_api()->ReleaseRunOptions(ro);
  /* synchronous runs return with device outputs complete (graph replays included) */
  if (!st && !async && m->dev.kind == VG_DEVICE_CUDA)
    st = vg_ort_api()->SynchronizeBoundOutputs(m->binding);
  m->last_ort_ns = vg_now_ns() - t0;
  if (st)
    return vg_ort_fail(st, VG_ERR_BACKEND,
                       graph ? "RunWithBinding (CUDA graph)" : "RunWithBinding");
  m->last = s;
  if (graph) {
    m->graph_runs++;
    s->runs++;
  } else if (m->graph) {
    m->graph_other_runs++;
  }
  VG_TRY(collect_bound(m, s, fresh));
  return graph && !async ? hand_out_copies(m, s) : VG_OK;
}

/* ----------------------------------------------------------------- pinned sessions */

/* Whether each bucket shape gets a session of its own: ONNX Runtime's CUDA Conv kernels keep
 * the cuDNN plan of the last input shape and build a new one (graph, heuristics, plans) whenever
 * the shape changes, even back to a shape seen before. With buckets the shape changes almost
 * every frame (crop counts, widths): measured on the H200, such runs took 130 ms (classifier)
 * and 280 ms (recogniser) against 2.4 / 3.2 ms. A session that only ever sees one shape never
 * re-plans. CUDA graphs replay without re-planning, so they keep one session. */
static bool pinning(const vg_model *m) {
  int p = m->spec.buckets.pin_sessions;
  if (m->graph || p == 0 || !vg_buckets_active(m)) return false;
  return p == 1 || m->report.used == VG_PROVIDER_CUDA;
}

static void pin_activate(vg_model *m, int i) {
  if (m->active_pin == i) return;
  if (m->active_pin >= 0) {
    vg_pin *a = &m->pins[m->active_pin];
    a->session = m->session;
    a->binding = m->binding;
    a->cur = m->cur;
  }
  vg_pin *p = &m->pins[i];
  m->session = p->session;
  m->binding = p->binding;
  m->cur = p->cur;
  memset(&p->cur, 0, sizeof p->cur); /* owned by the mirror while active */
  m->active_pin = i;
}

static vg_status pin_select(vg_model *m, const int64_t *sig, int nsig) {
  size_t bytes = sizeof *sig * (size_t)nsig;
  for (int i = 0; i < m->npins; i++)
    if (m->pins[i].nsig == nsig && memcmp(m->pins[i].sig, sig, bytes) == 0) {
      pin_activate(m, i);
      return VG_OK;
    }
  if (m->npins == 0) { /* the session the model opened with takes the first shape */
    vg_pin *p = &m->pins[0];
    memset(p, 0, sizeof *p);
    p->nsig = nsig;
    memcpy(p->sig, sig, bytes);
    p->session = m->session;
    p->binding = m->binding;
    m->npins = 1;
    m->active_pin = 0;
    return VG_OK;
  }
  if (m->npins >= VG_MAX_PINNED) { /* out of pins: the first session runs the other shapes */
    pin_activate(m, 0);
    return VG_OK;
  }
  int64_t t0 = vg_now_ns();
  OrtSession *s;
  VG_TRY(vg_model_extra_session(m, &s));
  OrtIoBinding *b = NULL;
  OrtStatus *st = vg_ort_api()->CreateIoBinding(s, &b);
  if (st) {
    vg_ort_api()->ReleaseSession(s);
    return vg_ort_fail(st, VG_ERR_BACKEND, "CreateIoBinding (pinned session)");
  }
  vg_pin *p = &m->pins[m->npins];
  memset(p, 0, sizeof *p);
  p->nsig = nsig;
  memcpy(p->sig, sig, bytes);
  p->session = s;
  p->binding = b;
  pin_activate(m, m->npins++);
  m->report.sessions = m->npins;
  vg_log(VG_LOG_DEBUG, "infer", NULL, "model '%s': session %d pinned to a new input shape (%.1f ms)",
         m->spec.name, m->npins, (double)(vg_now_ns() - t0) / 1e6);
  return VG_OK;
}

/* Counts runs whose session ran another input shape last (where ONNX Runtime re-plans). */
static void note_switch(vg_model *m, const int64_t *sig, int nsig) {
  int *ln = m->active_pin >= 0 ? &m->pins[m->active_pin].last_nsig : &m->last_nsig;
  int64_t *ls = m->active_pin >= 0 ? m->pins[m->active_pin].last_sig : m->last_sig;
  size_t bytes = sizeof *sig * (size_t)nsig;
  if (*ln && (*ln != nsig || memcmp(ls, sig, bytes) != 0) && !m->warming)
    m->report.shape_switches++;
  *ln = nsig;
  memcpy(ls, sig, bytes);
}

/* ----------------------------------------------------------------- the run */

static vg_status run_once(vg_model *m, const vg_tensor **ord, vg_stream s) {
  int64_t sig[64];
  int nsig;
  make_sig(m, ord, sig, &nsig);
  bool async = m->spec.stream && s == m->spec.stream && m->dev.kind == VG_DEVICE_CUDA;
  if (s && !async) VG_TRY(vg_stream_sync(s)); /* the inputs must be complete */
  if (pinning(m)) VG_TRY(pin_select(m, sig, nsig));
  note_switch(m, sig, nsig);
  return m->bind ? run_bound(m, ord, sig, nsig, async) : run_plain(m, ord, sig, nsig);
}

/* A failure with CUDA graphs on: note why, reopen the provider without them, run again. */
static vg_status retry_without_graph(vg_model *m, const vg_tensor **ord, vg_stream s) {
  snprintf(m->report.cuda_graph_reason, sizeof m->report.cuda_graph_reason,
           "capture or replay failed, running without CUDA graphs: %s", vg_last_error());
  vg_append_result res;
  VG_TRY(vg_model_open_provider(m, m->pidx, false, &res));
  m->report.cuda_graph = false;
  m->graph_given_up = true;
  return run_once(m, ord, s);
}

/* The first run failed: this provider is skipped and the next ones are tried. */
static vg_status retry_next_provider(vg_model *m, const vg_tensor **ord, vg_stream s) {
  vg_model_report *r = &m->report;
  snprintf(r->provider_reasons[m->pidx], VG_REASON_MAX, "failed on the first run: %s",
           vg_last_error());
  vg_log(VG_LOG_WARN, "infer", NULL, "model '%s': provider %s failed on the first run: %s",
         m->spec.name, vg_provider_name(r->used), vg_last_error());
  VG_TRY(vg_model_try_providers(m, m->pidx + 1));
  return run_once(m, ord, s);
}

vg_status vg_model_run_checked(vg_model *m, const vg_tensor **ord, vg_stream s) {
  bool first = vg_shape_first_seen(m, ord[0]);
  int64_t t0 = vg_now_ns();
  vg_status rs = run_once(m, ord, s);
  /* a failure in the first runs of a graph slot (warm-up, capture) */
  if (rs != VG_OK && m->graph && m->gslot_runs <= 1) rs = retry_without_graph(m, ord, s);
  if (rs != VG_OK && m->stats.runs == 0 && m->pidx + 1 < m->spec.nproviders)
    rs = retry_next_provider(m, ord, s);
  if (rs != VG_OK) return rs;
  m->stats.runs++;
  double ms = (double)(vg_now_ns() - t0) / 1e6;
  if (!m->warming && ms > m->report.slowest_run_ms) {
    /* where the slowest run's time went: inside ONNX Runtime (Run + sync) or around it */
    m->report.slowest_run_ms = ms;
    m->report.slowest_run_ort_ms = (double)m->last_ort_ns / 1e6;
    m->report.slowest_run_index = m->stats.runs;
    m->report.slowest_run_first = first;
    vg_tensor_str(ord[0], m->report.slowest_run_shape, sizeof m->report.slowest_run_shape);
  }
  if (first && !m->warming) {
    /* a first run at a new shape: where GPU providers search algorithms and allocate */
    m->report.new_shapes++;
    if (m->report.warmup_shapes > 0) m->report.new_shapes_after_warmup++;
    char sh[160];
    vg_tensor_str(ord[0], sh, sizeof sh);
    bool loud = vg_buckets_active(m) || m->spec.warmup == 1;
    vg_log(loud ? VG_LOG_INFO : VG_LOG_DEBUG, "infer", NULL,
           "model '%s': first run at input shape %s took %.1f ms (%s)", m->spec.name, sh,
           (double)(vg_now_ns() - t0) / 1e6,
           m->report.warmup_shapes > 0 ? "not among the warmed shapes" : "no warm-up");
  }
  return VG_OK;
}

typedef struct run_job {
  const char *const *names;
  const vg_tensor *inputs;
  int ninputs;
  vg_tensor *outputs;
  int noutputs;
  vg_stream s;
} run_job;

/* The run itself, on the model's thread when it has one (runner.c); the lock is held. */
static vg_status run_locked(vg_model *m, void *arg) {
  run_job *j = arg;
  const char *const *names = j->names;
  const vg_tensor *inputs = j->inputs;
  int ninputs = j->ninputs, noutputs = j->noutputs;
  vg_tensor *outputs = j->outputs;
  vg_stream s = j->s;
  const vg_tensor *ord[64];
  vg_status rs = VG_OK;
  if (m->nin > 64 || m->nout > 64)
    rs = vg_set_error(VG_ERR_UNSUPPORTED, "model '%s': more than 64 inputs or outputs",
                      m->spec.name);
  else if (noutputs > m->nout)
    rs = vg_set_error(VG_ERR_INVALID_ARG, "model '%s': %d outputs asked for, the model has %d",
                      m->spec.name, noutputs, m->nout);
  if (rs == VG_OK) rs = order_inputs(m, names, inputs, ninputs, ord);
  if (rs == VG_OK && !m->session)
    rs = vg_set_error(VG_ERR_STATE, "model '%s' has no session (an earlier fallback failed)",
                      m->spec.name);
  if (rs == VG_OK && vg_buckets_active(m)) {
    rs = vg_buckets_run(m, ord[0], outputs, noutputs, s);
  } else if (rs == VG_OK) {
    rs = vg_model_run_checked(m, ord, s);
    for (int k = 0; rs == VG_OK && k < noutputs; k++)
      vg_tensor_view(&m->last->outs[k], &outputs[k]);
  }
  return rs;
}

vg_status vg_model_run(vg_model *m, const char *const *names, const vg_tensor *inputs, int ninputs,
                       vg_tensor *outputs, int noutputs, vg_stream s) {
  if (!m || (!inputs && ninputs) || (!outputs && noutputs) || noutputs < 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_run: NULL argument");
  run_job j = {names, inputs, ninputs, outputs, noutputs, s};
  pthread_mutex_lock(&m->lock);
  vg_status rs = vg_runner_call(m, run_locked, &j);
  pthread_mutex_unlock(&m->lock);
  return rs;
}
