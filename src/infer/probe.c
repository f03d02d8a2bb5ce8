/* probe.c - can a provider actually create a session and run here? Builds a session for the
 * tiny built-in model (probe_model.c) with that provider alone, runs it once on the host and
 * checks the answer (y = x + 1). Used by `vidgraph check` and `vidgraph models inspect`. */
#include "infer_internal.h"

#include <stdio.h>
#include <string.h>

static vg_status probe_run(OrtSession *sess, char *reason, size_t cap) {
  const OrtApi *api = vg_ort_api();
  OrtMemoryInfo *mem = NULL;
  OrtValue *in = NULL, *out = NULL;
  float x[4] = {1, 2, 3, 4};
  int64_t shape[2] = {1, 4};
  const char *in_name = "x", *out_name = "y";
  OrtStatus *st = api->CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &mem);
  if (!st)
    st = api->CreateTensorWithDataAsOrtValue(mem, x, sizeof x, shape, 2,
                                             ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in);
  if (!st) st = api->Run(sess, NULL, &in_name, (const OrtValue *const *)&in, 1, &out_name, 1, &out);
  vg_status rs = VG_OK;
  if (st) {
    char msg[400];
    vg_ort_take_message(st, msg, sizeof msg);
    snprintf(reason, cap, "the first run failed: %s", msg);
    rs = vg_set_error(VG_ERR_BACKEND, "%s", reason);
  } else {
    float *y = NULL;
    (void)vg_ort_ok(api->GetTensorMutableData(out, (void **)&y));
    for (int i = 0; i < 4 && rs == VG_OK; i++) {
      if (!y || y[i] != x[i] + 1) {
        snprintf(reason, cap, "the probe model computed a wrong answer");
        rs = vg_set_error(VG_ERR_BACKEND, "%s", reason);
      }
    }
  }
  if (out) api->ReleaseValue(out);
  if (in) api->ReleaseValue(in);
  if (mem) api->ReleaseMemoryInfo(mem);
  return rs;
}

vg_status vg_infer_probe_provider(vg_provider p, int device_id, char *reason, size_t cap) {
  if (cap) reason[0] = '\0';
  if ((unsigned)p >= VG_PROVIDER_COUNT_) {
    snprintf(reason, cap, "unknown provider %d", (int)p);
    return vg_set_error(VG_ERR_INVALID_ARG, "%s", reason);
  }
  OrtEnv *env;
  if (vg_ort_env(&env) != VG_OK) {
    snprintf(reason, cap, "%s", vg_last_error());
    return vg_last_status();
  }
  const OrtApi *api = vg_ort_api();
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  spec.providers[0] = p;
  spec.nproviders = 1;
  spec.cuda.device_id = device_id;
  OrtSessionOptions *so;
  OrtStatus *st = api->CreateSessionOptions(&so);
  if (st) {
    vg_ort_take_message(st, reason, cap);
    return vg_set_error(VG_ERR_BACKEND, "%s", reason);
  }
  vg_append_result res;
  vg_status rs = vg_infer_append_provider(so, &spec, 0, false, &res);
  OrtSession *sess = NULL;
  if (rs != VG_OK) {
    snprintf(reason, cap, "%s", res.reason);
  } else if ((st = api->CreateSessionFromArray(env, vg_probe_model_onnx, vg_probe_model_onnx_len,
                                               so, &sess))) {
    char msg[400];
    vg_ort_take_message(st, msg, sizeof msg);
    const char *cause = vg_ort_last_log();
    snprintf(reason, cap, "session creation failed: %s%s%s", msg, cause[0] ? ": " : "", cause);
    rs = vg_set_error(VG_ERR_BACKEND, "%s", reason);
  } else {
    rs = probe_run(sess, reason, cap);
    api->ReleaseSession(sess);
  }
  api->ReleaseSessionOptions(so);
  if (rs != VG_OK) vg_set_error(rs, "provider %s: %s", vg_provider_name(p), reason);
  return rs;
}
