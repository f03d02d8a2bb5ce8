/* providers.c - appending an execution provider (TensorRT, CUDA, CPU) to ONNX Runtime session
 * options with the spec's options, and saying exactly why when it cannot be done.
 *
 * Routes, as checked on the GPU machine with the CPU build of ONNX Runtime 1.29:
 *  - CUDA: the V1 call (OrtCUDAProviderOptions) loads libonnxruntime_providers_cuda.so through
 *    the provider bridge. CUDA graphs are a V2-only option, and this build's
 *    CreateCUDAProviderOptions says "not enabled in this build", so CUDA graphs take the
 *    execution-provider library route (RegisterExecutionProviderLibrary + GetEpDevices +
 *    SessionOptionsAppendExecutionProvider_V2); if that fails, V1 without graphs.
 *  - TensorRT: V2 options when the build has them, else the legacy struct (no timing cache or
 *    builder optimisation level then: recorded as a note). The loader's real message (e.g. the
 *    missing libnvinfer.so.10) is logged by ONNX Runtime, not returned, so we pick it from the
 *    log (vg_ort_last_log). */
#include "infer_internal.h"

#include <stdio.h>
#include <string.h>

/* reason = "<what>: <status message>[: <logged cause>]". Releases st. */
static vg_status fail_reason(OrtStatus *st, const char *what, vg_append_result *res) {
  char msg[VG_REASON_MAX / 2];
  vg_ort_take_message(st, msg, sizeof msg);
  const char *cause = vg_ort_last_log();
  if (cause[0] && !strstr(msg, cause))
    snprintf(res->reason, sizeof res->reason, "%s: %s: %s", what, msg, cause);
  else
    snprintf(res->reason, sizeof res->reason, "%s: %s", what, msg);
  return vg_set_error(VG_ERR_UNSUPPORTED, "%s", res->reason);
}

static void add_note(vg_append_result *res, const char *note) {
  size_t n = strlen(res->notes);
  snprintf(res->notes + n, sizeof res->notes - n, "%s%s", n ? "; " : "", note);
}

static bool gpu_ready(int device_id, vg_append_result *res) {
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) {
    snprintf(res->reason, sizeof res->reason, "%s", vg_cuda_unavailable_reason());
    return false;
  }
  if (device_id < 0 || device_id >= n) {
    snprintf(res->reason, sizeof res->reason, "CUDA device %d does not exist (this machine has %d)",
             device_id, n);
    return false;
  }
  return true;
}

static const char *algo_name(vg_conv_algo_search a) {
  return a == VG_CONV_ALGO_HEURISTIC ? "HEURISTIC"
         : a == VG_CONV_ALGO_DEFAULT ? "DEFAULT"
                                     : "EXHAUSTIVE";
}

/* CUDA through the execution-provider library with enable_cuda_graph=1. */
static bool append_cuda_v2_graph(OrtSessionOptions *so, const vg_model_spec *spec,
                                 vg_append_result *res) {
  const OrtEpDevice *dev = NULL;
  char why[VG_REASON_MAX - 64];
  if (vg_ort_cuda_ep_device(spec->cuda.device_id, &dev, why, sizeof why) != VG_OK) {
    snprintf(res->graph_reason, sizeof res->graph_reason,
             "the CUDA execution-provider library (needed for CUDA graphs) is not usable: %s", why);
    return false;
  }
  char mem[32], stream[32];
  snprintf(mem, sizeof mem, "%zu", spec->cuda.mem_limit_bytes);
  snprintf(stream, sizeof stream, "%llu",
           (unsigned long long)(uintptr_t)vg_stream_native(spec->stream));
  const char *keys[6] = {"enable_cuda_graph", "cudnn_conv_algo_search"},
             *vals[6] = {"1", algo_name(spec->cuda.conv_algo_search)};
  size_t nkeys = 2;
  if (spec->cuda.mem_limit_bytes) keys[nkeys] = "gpu_mem_limit", vals[nkeys++] = mem;
  if (spec->stream) {
    keys[nkeys] = "has_user_compute_stream", vals[nkeys++] = "1";
    keys[nkeys] = "user_compute_stream", vals[nkeys++] = stream;
  }
  OrtEnv *env;
  if (vg_ort_env(&env) != VG_OK) return false;
  vg_ort_clear_last_log();
  OrtStatus *st =
      vg_ort_api()->SessionOptionsAppendExecutionProvider_V2(so, env, &dev, 1, keys, vals, nkeys);
  if (st) {
    char msg[VG_REASON_MAX - 64];
    vg_ort_take_message(st, msg, sizeof msg);
    snprintf(res->graph_reason, sizeof res->graph_reason,
             "SessionOptionsAppendExecutionProvider_V2 (CUDA, enable_cuda_graph=1): %s", msg);
    return false;
  }
  res->graph_on = true;
  return true;
}

static vg_status append_cuda_v1(OrtSessionOptions *so, const vg_model_spec *spec,
                                vg_append_result *res) {
  OrtCUDAProviderOptions o;
  memset(&o, 0, sizeof o);
  o.device_id = spec->cuda.device_id;
  o.cudnn_conv_algo_search = (OrtCudnnConvAlgoSearch)spec->cuda.conv_algo_search;
  o.gpu_mem_limit = spec->cuda.mem_limit_bytes ? spec->cuda.mem_limit_bytes : SIZE_MAX;
  o.do_copy_in_default_stream = 1;
  if (spec->stream) {
    o.has_user_compute_stream = 1;
    o.user_compute_stream = vg_stream_native(spec->stream);
  }
  vg_ort_clear_last_log();
  OrtStatus *st = vg_ort_api()->SessionOptionsAppendExecutionProvider_CUDA(so, &o);
  if (st) return fail_reason(st, "SessionOptionsAppendExecutionProvider_CUDA", res);
  return VG_OK;
}

static vg_status append_cuda(OrtSessionOptions *so, const vg_model_spec *spec, bool want_graph,
                             vg_append_result *res) {
  if (!gpu_ready(spec->cuda.device_id, res)) return vg_set_error(VG_ERR_DEVICE, "%s", res->reason);
  if (want_graph && append_cuda_v2_graph(so, spec, res)) return VG_OK;
  return append_cuda_v1(so, spec, res);
}

/* TensorRT V2 options (key/value); VG_ERR_UNSUPPORTED with *absent when the build lacks them. */
static vg_status append_trt_v2(OrtSessionOptions *so, const vg_model_spec *spec,
                               vg_append_result *res, bool *absent) {
  const OrtApi *api = vg_ort_api();
  OrtTensorRTProviderOptionsV2 *o = NULL;
  OrtStatus *st = api->CreateTensorRTProviderOptions(&o);
  if (st) {
    *absent = true;
    api->ReleaseStatus(st);
    return VG_ERR_UNSUPPORTED;
  }
  const vg_trt_options *t = &spec->trt;
  char dev[16], ws[32], lvl[16], stream[32];
  snprintf(dev, sizeof dev, "%d", spec->cuda.device_id);
  snprintf(ws, sizeof ws, "%zu", t->workspace_bytes);
  snprintf(lvl, sizeof lvl, "%d", t->builder_opt_level);
  snprintf(stream, sizeof stream, "%llu",
           (unsigned long long)(uintptr_t)vg_stream_native(spec->stream));
  const char *keys[16], *vals[16];
  int n = 0;
  keys[n] = "device_id", vals[n++] = dev;
  keys[n] = "trt_fp16_enable", vals[n++] = t->fp16 ? "1" : "0";
  keys[n] = "trt_int8_enable", vals[n++] = t->int8 ? "1" : "0";
  if (t->workspace_bytes) keys[n] = "trt_max_workspace_size", vals[n++] = ws;
  if (t->builder_opt_level >= 0) keys[n] = "trt_builder_optimization_level", vals[n++] = lvl;
  if (t->engine_cache_dir[0]) {
    keys[n] = "trt_engine_cache_enable", vals[n++] = "1";
    keys[n] = "trt_engine_cache_path", vals[n++] = t->engine_cache_dir;
  }
  if (t->timing_cache_dir[0]) {
    keys[n] = "trt_timing_cache_enable", vals[n++] = "1";
    keys[n] = "trt_timing_cache_path", vals[n++] = t->timing_cache_dir;
  }
  if (spec->stream) keys[n] = "user_compute_stream", vals[n++] = stream;
  st = api->UpdateTensorRTProviderOptions(o, keys, vals, (size_t)n);
  if (!st) {
    vg_ort_clear_last_log();
    st = api->SessionOptionsAppendExecutionProvider_TensorRT_V2(so, o);
  }
  api->ReleaseTensorRTProviderOptions(o);
  if (st) return fail_reason(st, "SessionOptionsAppendExecutionProvider_TensorRT_V2", res);
  return VG_OK;
}

static vg_status append_trt_legacy(OrtSessionOptions *so, const vg_model_spec *spec,
                                   vg_append_result *res) {
  const vg_trt_options *t = &spec->trt;
  OrtTensorRTProviderOptions o;
  memset(&o, 0, sizeof o);
  o.device_id = spec->cuda.device_id;
  o.trt_max_partition_iterations = 1000;
  o.trt_min_subgraph_size = 1;
  o.trt_max_workspace_size = t->workspace_bytes ? t->workspace_bytes : ((size_t)1 << 30);
  o.trt_fp16_enable = t->fp16;
  o.trt_int8_enable = t->int8;
  o.trt_engine_cache_enable = t->engine_cache_dir[0] != '\0';
  o.trt_engine_cache_path = t->engine_cache_dir;
  if (spec->stream) {
    o.has_user_compute_stream = 1;
    o.user_compute_stream = vg_stream_native(spec->stream);
  }
  if (t->builder_opt_level >= 0 || t->timing_cache_dir[0])
    add_note(res, "tensorrt: builder_optimization_level and timing_cache need the V2 provider "
                  "options, which this ONNX Runtime build lacks; not applied");
  vg_ort_clear_last_log();
  OrtStatus *st = vg_ort_api()->SessionOptionsAppendExecutionProvider_TensorRT(so, &o);
  if (st) return fail_reason(st, "SessionOptionsAppendExecutionProvider_TensorRT", res);
  return VG_OK;
}

static vg_status append_trt(OrtSessionOptions *so, const vg_model_spec *spec, int pidx,
                            vg_append_result *res) {
  if (!gpu_ready(spec->cuda.device_id, res)) return vg_set_error(VG_ERR_DEVICE, "%s", res->reason);
  bool absent = false;
  vg_status s = append_trt_v2(so, spec, res, &absent);
  if (s != VG_OK && absent) s = append_trt_legacy(so, spec, res);
  if (s != VG_OK) return s;
  /* CUDA after TensorRT (when the spec lists it later) takes the nodes TensorRT cannot. */
  for (int i = pidx + 1; i < spec->nproviders; i++) {
    if (spec->providers[i] != VG_PROVIDER_CUDA) continue;
    vg_append_result sub;
    memset(&sub, 0, sizeof sub);
    if (append_cuda_v1(so, spec, &sub) != VG_OK) {
      char note[VG_REASON_MAX];
      snprintf(note, sizeof note, "cuda next to tensorrt: %s", sub.reason);
      add_note(res, note);
    }
  }
  return VG_OK;
}

vg_status vg_infer_append_provider(OrtSessionOptions *so, const vg_model_spec *spec, int pidx,
                                   bool want_graph, vg_append_result *res) {
  memset(res, 0, sizeof *res);
  switch (spec->providers[pidx]) {
  case VG_PROVIDER_TENSORRT:
    return append_trt(so, spec, pidx, res);
  case VG_PROVIDER_CUDA:
    return append_cuda(so, spec, want_graph, res);
  case VG_PROVIDER_CPU:
    if (spec->cpu.threads > 0) {
      int threads = vg_ort_clamp_threads(spec->cpu.threads, spec->path); /* API callers, bench */
      OrtStatus *st = vg_ort_api()->SetIntraOpNumThreads(so, threads);
      if (st) return fail_reason(st, "SetIntraOpNumThreads", res);
    }
    return VG_OK;
  default:
    snprintf(res->reason, sizeof res->reason, "unknown provider %d", (int)spec->providers[pidx]);
    return vg_set_error(VG_ERR_INVALID_ARG, "%s", res->reason);
  }
}
