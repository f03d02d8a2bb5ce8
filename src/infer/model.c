/* model.c - loading a model: candidate files (primary, then fallbacks) x providers in order,
 * session creation, introspection (inputs, outputs, symbolic dims, metadata, opset), nodes per
 * provider, and the report of what was chosen and why. Runs are in run.c. */
#include "infer_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CALL(expr, what)                                                                           \
  do {                                                                                             \
    OrtStatus *st_ = (expr);                                                                       \
    if (st_) return vg_ort_fail(st_, VG_ERR_BACKEND, what);                                        \
  } while (0)

/* ----------------------------------------------------------------- introspection */

static void copy_str(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

static vg_status read_io(vg_model *m, bool input, int i, vg_model_io *io) {
  const OrtApi *api = vg_ort_api();
  OrtAllocator *alloc;
  CALL(api->GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");
  char *name = NULL;
  CALL(input ? api->SessionGetInputName(m->session, (size_t)i, alloc, &name)
             : api->SessionGetOutputName(m->session, (size_t)i, alloc, &name),
       "SessionGetInputName");
  copy_str(io->name, sizeof io->name, name);
  (void)vg_ort_ok(api->AllocatorFree(alloc, name));
  OrtTypeInfo *ti = NULL;
  CALL(input ? api->SessionGetInputTypeInfo(m->session, (size_t)i, &ti)
             : api->SessionGetOutputTypeInfo(m->session, (size_t)i, &ti),
       "SessionGetInputTypeInfo");
  const OrtTensorTypeAndShapeInfo *tsi = NULL;
  OrtStatus *st = api->CastTypeInfoToTensorInfo(ti, &tsi);
  vg_status rc = VG_OK;
  if (st || !tsi) {
    if (st) api->ReleaseStatus(st);
    snprintf(io->type_name, sizeof io->type_name, "non-tensor");
    io->ndim = 0;
  } else {
    ONNXTensorElementDataType et;
    size_t nd = 0;
    const char *sym[VG_MAX_DIMS] = {0};
    (void)vg_ort_ok(api->GetTensorElementType(tsi, &et));
    (void)vg_ort_ok(api->GetDimensionsCount(tsi, &nd));
    io->onnx_type = (int)et;
    copy_str(io->type_name, sizeof io->type_name, vg_ort_type_name((int)et));
    io->dtype_supported = vg_ort_dtype((int)et, &io->dtype);
    if (nd > VG_MAX_DIMS) {
      rc = vg_set_error(VG_ERR_UNSUPPORTED,
                        "'%s' has %zu dimensions; vidgraph tensors hold at most %d", io->name, nd,
                        VG_MAX_DIMS);
    } else {
      io->ndim = (int)nd;
      (void)vg_ort_ok(api->GetDimensions(tsi, io->shape, nd));
      (void)vg_ort_ok(api->GetSymbolicDimensions(tsi, sym, nd));
      for (size_t d = 0; d < nd; d++) {
        if (io->shape[d] < 0) io->shape[d] = -1;
        copy_str(io->dim_names[d], sizeof io->dim_names[d], sym[d]);
      }
    }
  }
  api->ReleaseTypeInfo(ti);
  return rc;
}

/* Copies one metadata string (getter output) and frees ORT's copy. */
static void meta_str(OrtStatus *st, OrtAllocator *a, char **s, char *dst, size_t cap) {
  if (!vg_ort_ok(st) || !*s) return;
  copy_str(dst, cap, *s);
  (void)vg_ort_ok(vg_ort_api()->AllocatorFree(a, *s));
  *s = NULL;
}

static void read_meta_strings(vg_model *m, OrtModelMetadata *md, OrtAllocator *a) {
  const OrtApi *api = vg_ort_api();
  char *s = NULL;
  vg_model_meta *o = &m->meta;
  meta_str(api->ModelMetadataGetProducerName(md, a, &s), a, &s, o->producer, sizeof o->producer);
  s = NULL;
  meta_str(api->ModelMetadataGetGraphName(md, a, &s), a, &s, o->graph_name, sizeof o->graph_name);
  s = NULL;
  meta_str(api->ModelMetadataGetDomain(md, a, &s), a, &s, o->domain, sizeof o->domain);
  s = NULL;
  meta_str(api->ModelMetadataGetDescription(md, a, &s), a, &s, o->description,
           sizeof o->description);
  (void)vg_ort_ok(api->ModelMetadataGetVersion(md, &o->model_version));
  char **keys = NULL;
  int64_t nkeys = 0;
  if (!vg_ort_ok(api->ModelMetadataGetCustomMetadataMapKeys(md, a, &keys, &nkeys)) || !keys) return;
  for (int64_t k = 0; k < nkeys; k++) {
    s = NULL;
    if (o->ncustom < VG_META_MAX_CUSTOM) {
      meta_str(api->ModelMetadataLookupCustomMetadataMap(md, a, keys[k], &s), a, &s,
               o->custom_values[o->ncustom], sizeof o->custom_values[0]);
      copy_str(o->custom_keys[o->ncustom], sizeof o->custom_keys[0], keys[k]);
      o->ncustom++;
    }
    (void)vg_ort_ok(api->AllocatorFree(a, keys[k]));
  }
  (void)vg_ort_ok(api->AllocatorFree(a, keys));
}

static void read_metadata(vg_model *m) {
  const OrtApi *api = vg_ort_api();
  memset(&m->meta, 0, sizeof m->meta);
  OrtAllocator *a;
  OrtModelMetadata *md = NULL;
  if (!vg_ort_ok(api->GetAllocatorWithDefaultOptions(&a)) ||
      !vg_ort_ok(api->SessionGetModelMetadata(m->session, &md)))
    return; /* metadata is informative; a model without it still runs */
  read_meta_strings(m, md, a);
  api->ReleaseModelMetadata(md);
  const OrtModelEditorApi *ed = api->GetModelEditorApi();
  int opset = 0;
  if (ed && vg_ort_ok(ed->SessionGetOpsetForDomain(m->session, "", &opset))) m->meta.opset = opset;
}

static vg_status read_signature(vg_model *m) {
  size_t nin = 0, nout = 0;
  CALL(vg_ort_api()->SessionGetInputCount(m->session, &nin), "SessionGetInputCount");
  CALL(vg_ort_api()->SessionGetOutputCount(m->session, &nout), "SessionGetOutputCount");
  free(m->inputs);
  free(m->outputs);
  free(m->in_names);
  free(m->out_names);
  m->nin = (int)nin;
  m->nout = (int)nout;
  m->inputs = calloc(nin + 1, sizeof *m->inputs);
  m->outputs = calloc(nout + 1, sizeof *m->outputs);
  m->in_names = calloc(nin + 1, sizeof *m->in_names);
  m->out_names = calloc(nout + 1, sizeof *m->out_names);
  if (!m->inputs || !m->outputs || !m->in_names || !m->out_names)
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory reading the model's inputs");
  for (int i = 0; i < m->nin; i++) {
    VG_TRY(read_io(m, true, i, &m->inputs[i]));
    m->in_names[i] = m->inputs[i].name;
  }
  for (int i = 0; i < m->nout; i++) {
    VG_TRY(read_io(m, false, i, &m->outputs[i]));
    m->out_names[i] = m->outputs[i].name;
  }
  return VG_OK;
}

/* Nodes per execution provider (needs session.record_ep_graph_assignment_info). */
static void read_placements(vg_model *m) {
  const OrtApi *api = vg_ort_api();
  const OrtEpAssignedSubgraph *const *sg = NULL;
  size_t n = 0;
  vg_model_report *r = &m->report;
  r->nplacements = 0;
  OrtStatus *st = api->Session_GetEpGraphAssignmentInfo(m->session, &sg, &n);
  if (st) {
    api->ReleaseStatus(st);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *ep = NULL;
    const OrtEpAssignedNode *const *nodes = NULL;
    size_t nn = 0;
    if (api->EpAssignedSubgraph_GetEpName(sg[i], &ep) || !ep) continue;
    if (api->EpAssignedSubgraph_GetNodes(sg[i], &nodes, &nn)) continue;
    int k = 0;
    while (k < r->nplacements && strcmp(r->placements[k].provider, ep) != 0)
      k++;
    if (k == r->nplacements) {
      if (k == VG_MAX_PLACEMENTS) continue;
      copy_str(r->placements[k].provider, sizeof r->placements[k].provider, ep);
      r->placements[k].nodes = 0;
      r->nplacements++;
    }
    r->placements[k].nodes += (int)nn;
  }
}

/* ----------------------------------------------------------------- sessions */

/* True when ONNX Runtime's failure is about the model file rather than the provider. */
static bool is_model_error(const char *msg, OrtErrorCode code) {
  return code == ORT_NO_SUCHFILE || code == ORT_INVALID_PROTOBUF || code == ORT_NO_MODEL ||
         code == ORT_INVALID_GRAPH || strstr(msg, "Load model") || strstr(msg, "load model") ||
         strstr(msg, "rotobuf parsing failed");
}

static vg_status create_session(vg_model *m, OrtSessionOptions *so, bool *model_error,
                                OrtSession **out) {
  const OrtApi *api = vg_ort_api();
  OrtEnv *env;
  VG_TRY(vg_ort_env(&env));
  OrtSession *s = NULL;
  OrtStatus *st = m->path[0]
                      ? api->CreateSession(env, m->path, so, &s)
                      : api->CreateSessionFromArray(env, m->bytes_copy, m->spec.nbytes, so, &s);
  if (st) {
    *model_error = is_model_error(api->GetErrorMessage(st), api->GetErrorCode(st));
    return vg_ort_fail(st, VG_ERR_BACKEND, "cannot create the session");
  }
  *out = s;
  return VG_OK;
}

static vg_status new_session(vg_model *m, OrtSessionOptions *so, bool *model_error) {
  return create_session(m, so, model_error, &m->session);
}

static vg_status session_options(vg_model *m, OrtSessionOptions **out) {
  const OrtApi *api = vg_ort_api();
  CALL(api->CreateSessionOptions(out), "CreateSessionOptions");
  OrtStatus *st = api->SetSessionLogId(*out, m->spec.name);
  if (!st) st = api->AddSessionConfigEntry(*out, "session.record_ep_graph_assignment_info", "1");
  /* The intra-op threads of a session sleep when it has no work instead of spinning: a graph
   * runs several sessions (models, streams) next to decoders and encoders, and the spinning
   * threads of idle sessions compete for the cores with the one that runs. */
  if (!st) st = api->AddSessionConfigEntry(*out, "session.intra_op.allow_spinning", "0");
  /* VG_ORT_PROFILE=PREFIX: ONNX Runtime's own profile of every run, node by node, written to
   * PREFIX_<model>_<date>.json when the session is released (docs/PERF.md, where time goes) */
  const char *prof = getenv("VG_ORT_PROFILE");
  if (!st && prof && *prof) {
    char pre[VG_MODEL_PATH_MAX + VG_MODEL_NAME_MAX + 2];
    snprintf(pre, sizeof pre, "%s_%s", prof, m->spec.name);
    st = api->EnableProfiling(*out, pre);
  }
  if (st) {
    api->ReleaseSessionOptions(*out);
    return vg_ort_fail(st, VG_ERR_BACKEND, "session options");
  }
  return VG_OK;
}

vg_status vg_model_extra_session(vg_model *m, OrtSession **out) {
  OrtSessionOptions *so;
  VG_TRY(session_options(m, &so));
  vg_append_result res;
  memset(&res, 0, sizeof res);
  bool model_error = false;
  vg_status s = vg_infer_append_provider(so, &m->spec, m->pidx, false, &res);
  if (s == VG_OK) s = create_session(m, so, &model_error, out);
  vg_ort_api()->ReleaseSessionOptions(so);
  return s;
}

void vg_model_close_session(vg_model *m) {
  const OrtApi *api = vg_ort_api();
  if (m->npins > 0) {
    /* the mirrored session goes back to its pin; then every pin is released (pins[0] holds the
     * session the model opened with) */
    if (m->active_pin >= 0) {
      m->pins[m->active_pin].session = m->session;
      m->pins[m->active_pin].binding = m->binding;
      m->pins[m->active_pin].cur = m->cur;
    }
    for (int i = 0; i < m->npins; i++) {
      vg_io_slot_clear(m, &m->pins[i].cur);
      if (m->pins[i].binding) api->ReleaseIoBinding(m->pins[i].binding);
      if (m->pins[i].session) api->ReleaseSession(m->pins[i].session);
    }
    memset(m->pins, 0, sizeof m->pins);
    memset(&m->cur, 0, sizeof m->cur);
    m->session = NULL;
    m->binding = NULL;
    m->npins = 0;
  }
  m->active_pin = -1;
  m->last_nsig = 0;
  vg_io_slot_clear(m, &m->cur);
  for (int i = 0; i < m->ngslots; i++)
    vg_io_slot_clear(m, &m->gslots[i]);
  m->ngslots = 0;
  if (m->binding) api->ReleaseIoBinding(m->binding);
  if (m->mem_dev) api->ReleaseMemoryInfo(m->mem_dev);
  if (m->mem_cpu) api->ReleaseMemoryInfo(m->mem_cpu);
  m->mem_cpu = NULL;
  if (m->session) api->ReleaseSession(m->session);
  m->binding = NULL;
  m->last = NULL;
  m->mem_dev = NULL;
  m->session = NULL;
}

static bool has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  return n >= k && strcmp(s + n - k, suf) == 0;
}

/* fp16: TensorRT asked to build in FP16, a file of the FP16 variant (by spec or by its
 * name, e.g. `vidgraph bench det.fp16.onnx`) or a model with float16 inputs. */
static void set_precision(vg_model *m) {
  vg_model_report *r = &m->report;
  const char *p = "fp32";
  if (r->used == VG_PROVIDER_TENSORRT && m->spec.trt.int8)
    p = "int8";
  else if (r->used == VG_PROVIDER_TENSORRT && m->spec.trt.fp16)
    p = "fp16";
  else if (m->spec.precision == VG_PRECISION_FP16 || has_suffix(m->path, ".fp16.onnx") ||
           (m->nin > 0 && m->inputs[0].onnx_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16))
    p = "fp16";
  copy_str(r->precision, sizeof r->precision, p);
}

/* Binding state for the provider in use: device memory info, binding object. */
static vg_status setup_binding(vg_model *m) {
  const OrtApi *api = vg_ort_api();
  vg_provider p = m->spec.providers[m->pidx];
  m->bind = m->spec.io_binding;
  m->dev = m->bind && p != VG_PROVIDER_CPU ? vg_cuda(m->spec.cuda.device_id) : vg_cpu();
  m->report.io_binding = m->bind;
  if (m->dev.kind == VG_DEVICE_CUDA)
    CALL(api->CreateMemoryInfo("Cuda", OrtDeviceAllocator, m->spec.cuda.device_id,
                               OrtMemTypeDefault, &m->mem_dev),
         "CreateMemoryInfo(Cuda)");
  CALL(api->CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &m->mem_cpu),
       "CreateCpuMemoryInfo");
  CALL(api->CreateIoBinding(m->session, &m->binding), "CreateIoBinding");
  return VG_OK;
}

vg_status vg_model_open_provider(vg_model *m, int pidx, bool want_graph, vg_append_result *res) {
  vg_model_close_session(m);
  OrtSessionOptions *so;
  VG_TRY(session_options(m, &so));
  m->pidx = pidx;
  vg_status s = vg_infer_append_provider(so, &m->spec, pidx, want_graph, res);
  bool model_error = false;
  if (s == VG_OK) {
    s = new_session(m, so, &model_error);
    if (s != VG_OK && res->graph_on) { /* e.g. not every node can run on CUDA: retry, no graph */
      snprintf(res->graph_reason, sizeof res->graph_reason, "session with CUDA graphs failed: %s",
               vg_last_error());
      vg_ort_api()->ReleaseSessionOptions(so);
      VG_TRY(session_options(m, &so));
      char keep[VG_REASON_MAX];
      copy_str(keep, sizeof keep, res->graph_reason);
      s = vg_infer_append_provider(so, &m->spec, pidx, false, res);
      copy_str(res->graph_reason, sizeof res->graph_reason, keep);
      if (s == VG_OK) s = new_session(m, so, &model_error);
    }
    if (s != VG_OK) copy_str(res->reason, sizeof res->reason, vg_last_error());
  }
  vg_ort_api()->ReleaseSessionOptions(so);
  if (s != VG_OK) return model_error ? vg_set_error(VG_ERR_PARSE, "%s", res->reason) : s;
  m->graph = res->graph_on;
  m->graph_given_up = false;
  m->report.used = m->spec.providers[pidx];
  VG_TRY(read_signature(m));
  read_metadata(m);
  read_placements(m);
  set_precision(m);
  m->report.sessions = 1;
  return setup_binding(m);
}

/* ----------------------------------------------------------------- loading */

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* Checks a candidate file before ONNX Runtime sees it: present, a regular file, not empty. */
static bool candidate_ok(const char *path, char *why, size_t cap) {
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(why, cap, "%s: %s", path, strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(why, cap, "%s: not a regular file", path);
    return false;
  }
  if (st.st_size == 0) {
    snprintf(why, cap, "%s: empty file", path);
    return false;
  }
  return true;
}

/* Tries every provider on the current candidate. VG_ERR_PARSE = the file is bad. */
vg_status vg_model_try_providers(vg_model *m, int first) {
  vg_model_report *r = &m->report;
  bool want_graph = m->spec.cuda.cuda_graph;
  vg_status last = VG_ERR_UNSUPPORTED;
  for (int p = first; p < m->spec.nproviders; p++) {
    vg_append_result res;
    vg_status s = vg_model_open_provider(
        m, p, want_graph && m->spec.providers[p] == VG_PROVIDER_CUDA && m->spec.io_binding, &res);
    if (res.notes[0]) copy_str(r->notes, sizeof r->notes, res.notes);
    if (s == VG_OK) {
      r->provider_reasons[p][0] = '\0';
      r->cuda_graph = m->graph;
      if (want_graph && !m->graph) {
        if (m->spec.providers[p] != VG_PROVIDER_CUDA)
          snprintf(r->cuda_graph_reason, sizeof r->cuda_graph_reason,
                   "CUDA graphs are used with the cuda provider only (running on %s)",
                   vg_provider_name(m->spec.providers[p]));
        else if (!m->spec.io_binding)
          snprintf(r->cuda_graph_reason, sizeof r->cuda_graph_reason,
                   "CUDA graphs need io_binding (inputs and outputs at fixed device addresses)");
        else
          copy_str(r->cuda_graph_reason, sizeof r->cuda_graph_reason, res.graph_reason);
      }
      return VG_OK;
    }
    if (s == VG_ERR_PARSE) return s; /* the file is bad, not the provider */
    copy_str(r->provider_reasons[p], sizeof r->provider_reasons[p],
             res.reason[0] ? res.reason : vg_last_error());
    VG_LOGI("infer", "model '%s': provider %s skipped: %s", m->spec.name,
            vg_provider_name(m->spec.providers[p]), r->provider_reasons[p]);
    last = s;
  }
  char msg[2048];
  int n = snprintf(msg, sizeof msg, "no provider could load it");
  for (int p = first; p < m->spec.nproviders && n < (int)sizeof msg; p++)
    n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s: %s", p == first ? " (" : "; ",
                  vg_provider_name(m->spec.providers[p]), r->provider_reasons[p]);
  if (n < (int)sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ")");
  return vg_set_error(last, "%s", msg);
}

static vg_status load_candidates(vg_model *m) {
  vg_model_report *r = &m->report;
  int ncand = 1 + m->spec.nfallbacks;
  bool all_missing = true;
  for (int c = 0; c < ncand; c++) {
    const char *path = c == 0 ? m->spec.path : m->spec.fallbacks[c - 1];
    bool memory = c == 0 && m->bytes_copy;
    if (!memory && !candidate_ok(path, r->candidate_reasons[c], VG_REASON_MAX)) continue;
    all_missing = false;
    copy_str(m->path, sizeof m->path, memory ? "" : path);
    copy_str(r->source, sizeof r->source, memory ? "<memory>" : path);
    vg_status s = vg_model_try_providers(m, 0);
    if (s == VG_OK) {
      r->candidate = c;
      return VG_OK;
    }
    snprintf(r->candidate_reasons[c], VG_REASON_MAX, "%s: %s", memory ? "<memory>" : path,
             vg_last_error());
  }
  /* One message naming the model and every file's reason. */
  char msg[4096];
  int n = snprintf(msg, sizeof msg, "model '%s': no usable model file", m->spec.name);
  for (int c = 0; c < ncand && n < (int)sizeof msg; c++)
    n += snprintf(msg + n, sizeof msg - (size_t)n, "; %s: %s", c == 0 ? "primary" : "fallback",
                  r->candidate_reasons[c]);
  return vg_set_error(all_missing ? VG_ERR_NOT_FOUND : VG_ERR_BACKEND, "%s", msg);
}

static vg_status validate_spec(const vg_model_spec *spec) {
  if (!spec->path[0] && !spec->bytes)
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': no path and no bytes given", spec->name);
  if (spec->bytes && spec->nbytes == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': empty model bytes", spec->name);
  if (spec->nproviders < 1 || spec->nproviders > VG_MODEL_MAX_PROVIDERS || spec->nfallbacks < 0 ||
      spec->nfallbacks > VG_MODEL_MAX_FALLBACKS)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': %d providers and %d fallbacks (1..%d and 0..%d allowed)",
                        spec->name, spec->nproviders, spec->nfallbacks, VG_MODEL_MAX_PROVIDERS,
                        VG_MODEL_MAX_FALLBACKS);
  for (int i = 0; i < spec->nproviders; i++)
    if ((unsigned)spec->providers[i] >= VG_PROVIDER_COUNT_)
      return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': unknown provider %d", spec->name,
                          (int)spec->providers[i]);
  return VG_OK;
}

static vg_status model_new(const vg_model_spec *spec, vg_model **out) {
  VG_TRY(validate_spec(spec));
  vg_model *m = calloc(1, sizeof *m);
  if (!m) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for model '%s'", spec->name);
  pthread_mutex_init(&m->lock, NULL);
  m->active_pin = -1;
  m->spec = *spec;
  if (vg_model_spec_apply_precision(&m->spec) != VG_OK) {
    vg_status st = vg_last_status();
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    pthread_mutex_destroy(&m->lock);
    free(m);
    return vg_set_error(st, "%s", msg);
  }
  if (!m->spec.name[0])
    copy_str(m->spec.name, sizeof m->spec.name,
             spec->path[0] ? base_name(spec->path) : "memory-model");
  if (spec->bytes) {
    m->bytes_copy = malloc(spec->nbytes);
    if (!m->bytes_copy) {
      vg_model_free(m);
      return vg_set_error(VG_ERR_NO_MEMORY, "model '%s': cannot copy %zu model bytes", m->spec.name,
                          spec->nbytes);
    }
    memcpy(m->bytes_copy, spec->bytes, spec->nbytes);
    m->spec.bytes = m->bytes_copy;
  }
  vg_model_report *r = &m->report;
  copy_str(r->name, sizeof r->name, m->spec.name);
  r->nrequested = spec->nproviders;
  memcpy(r->requested, spec->providers, sizeof r->requested);
  r->io_binding = spec->io_binding;
  *out = m;
  return VG_OK;
}

static vg_status warm_job(vg_model *m, void *arg) {
  (void)arg;
  return vg_buckets_warm_at_load(m);
}

vg_status vg_model_load(const vg_model_spec *spec, vg_model **out) {
  if (!spec || !out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_load: NULL argument");
  *out = NULL;
  OrtEnv *env;
  VG_TRY(vg_ort_env(&env));
  vg_model *m = NULL;
  VG_TRY(model_new(spec, &m));
  int64_t t0 = vg_now_ns();
  vg_status s = load_candidates(m);
  if (s != VG_OK) {
    if (!spec->required)
      vg_log(VG_LOG_WARN, "infer", NULL, "optional model '%s' disabled: %s", m->spec.name,
             vg_last_error());
    vg_model_free(m);
    return s;
  }
  m->report.load_ms = (double)(vg_now_ns() - t0) / 1e6;
  s = vg_buckets_check(m);
  if (s == VG_OK && vg_runner_wanted(m)) s = vg_runner_start(m);
  m->report.own_thread = m->runner != NULL;
  if (s == VG_OK) s = vg_runner_call(m, warm_job, NULL);
  if (s != VG_OK) {
    vg_model_free(m);
    return s;
  }
  char fields[256], nm[VG_MODEL_NAME_MAX * 2];
  snprintf(fields, sizeof fields, "\"model\":\"%s\",\"provider\":\"%s\",\"load_ms\":%.1f",
           vg_json_escape(m->spec.name, nm, sizeof nm), vg_provider_name(m->report.used),
           m->report.load_ms);
  vg_log(VG_LOG_INFO, "infer", fields, "model '%s' loaded on %s", m->spec.name,
         vg_provider_name(m->report.used));
  *out = m;
  return VG_OK;
}

void vg_model_free(vg_model *m) {
  if (!m) return;
  vg_runner_stop(m);
  vg_model_close_session(m);
  vg_io_slot_clear(m, &m->handout);
  if (m->stage_host || m->stage_dev) {
    for (int i = 0; i < m->nin; i++) {
      if (m->stage_host) vg_tensor_release(&m->stage_host[i]);
      if (m->stage_dev) vg_tensor_release(&m->stage_dev[i]);
    }
  }
  free(m->stage_host);
  free(m->stage_dev);
  vg_tensor_release(&m->pad);
  if (m->out_pool) vg_pool_unref(m->out_pool);
  if (m->io) {
    (void)vg_stream_sync(m->io);
    vg_stream_destroy(m->io);
  }
  if (m->pinned) vg_pool_unref(m->pinned);
  free(m->inputs);
  free(m->outputs);
  free(m->in_names);
  free(m->out_names);
  free(m->bytes_copy);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

/* ----------------------------------------------------------------- accessors */

const char *vg_model_name(const vg_model *m) {
  return m->spec.name;
}
int vg_model_input_count(const vg_model *m) {
  return m->nin;
}
int vg_model_output_count(const vg_model *m) {
  return m->nout;
}
const vg_model_io *vg_model_input(const vg_model *m, int i) {
  return i >= 0 && i < m->nin ? &m->inputs[i] : NULL;
}
const vg_model_io *vg_model_output(const vg_model *m, int i) {
  return i >= 0 && i < m->nout ? &m->outputs[i] : NULL;
}
int vg_model_input_index(const vg_model *m, const char *name) {
  for (int i = 0; name && i < m->nin; i++)
    if (strcmp(m->inputs[i].name, name) == 0) return i;
  return -1;
}
int vg_model_output_index(const vg_model *m, const char *name) {
  for (int i = 0; name && i < m->nout; i++)
    if (strcmp(m->outputs[i].name, name) == 0) return i;
  return -1;
}
const vg_model_meta *vg_model_metadata(const vg_model *m) {
  return &m->meta;
}
vg_device vg_model_output_device(const vg_model *m) {
  return m->dev;
}

void vg_model_get_report(vg_model *m, vg_model_report *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->report;
  out->runs = m->stats.runs;
  out->buckets_on = vg_buckets_active(m);
  if (m->graph && m->graph_other_runs)
    snprintf(out->cuda_graph_reason, sizeof out->cuda_graph_reason,
             "captured for %d input shape%s (%s); %llu runs at other shapes ran without it",
             m->ngslots, m->ngslots == 1 ? "" : "s",
             vg_buckets_active(m) ? "one per shape bucket, at most 16" : "no buckets: the first",
             (unsigned long long)m->graph_other_runs);
  pthread_mutex_unlock(&m->lock);
}

void vg_model_get_stats(vg_model *m, vg_model_stats *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->stats;
  pthread_mutex_unlock(&m->lock);
}
