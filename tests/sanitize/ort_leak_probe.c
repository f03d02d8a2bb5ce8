/* ort_leak_probe.c - a tiny program (not part of the library) that forgets to release an ONNX
 * Runtime object on purpose, so that the sanitizer build proves its LeakSanitizer suppressions
 * (src/infer/runtime.c, __lsan_default_suppressions) hide only ONNX Runtime's own one-time
 * allocations, never a session or a tensor that vidgraph's code leaks:
 *   session  a session of models/test/tiny_mlp.onnx that is never released
 *   value    a CPU tensor (OrtValue) made by ONNX Runtime's allocator, never released
 *   none     both released: must exit 0 without any report (the suppressions still cover the
 *            environment and ONNX Runtime's threads)
 * Run from the repository root; each leaking run must end with LeakSanitizer's report.
 *
 * The ONNX Runtime calls run on a thread of their own that ends before main returns. LeakSanitizer
 * counts every live thread's stack, registers and thread-local storage as roots, so a stale copy
 * of the session's address left in a dead stack slot of main (or in a thread-local cache of ONNX
 * Runtime) could make the leaked session look reachable: a CI run on another machine exited 0
 * that way once. A finished thread's stack and thread-local storage are not roots. */
#include "infer/infer_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int fail(const OrtApi *api, OrtStatus *st, const char *what) {
  fprintf(stderr, "ort_leak_probe: %s: %s\n", what, st ? api->GetErrorMessage(st) : "?");
  if (st) api->ReleaseStatus(st);
  return 2;
}

struct probe {
  const char *kind;
  int rc;
};

static int probe(const char *kind) {
  OrtEnv *env;
  if (vg_ort_env(&env) != VG_OK) {
    fprintf(stderr, "ort_leak_probe: %s\n", vg_last_error());
    return 2;
  }
  const OrtApi *api = vg_ort_api();
  OrtSessionOptions *so = NULL;
  OrtSession *sess = NULL;
  OrtStatus *st = api->CreateSessionOptions(&so);
  if (st) return fail(api, st, "CreateSessionOptions");
  st = api->SetIntraOpNumThreads(so, 1);
  if (st) {
    api->ReleaseSessionOptions(so);
    return fail(api, st, "SetIntraOpNumThreads");
  }
  st = api->CreateSession(env, "models/test/tiny_mlp.onnx", so, &sess);
  api->ReleaseSessionOptions(so);
  if (st) return fail(api, st, "CreateSession (run from the repository root)");

  OrtAllocator *alloc = NULL;
  OrtValue *val = NULL;
  int64_t shape[2] = {4, 256};
  st = api->GetAllocatorWithDefaultOptions(&alloc);
  if (!st)
    st = api->CreateTensorAsOrtValue(alloc, shape, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &val);
  if (st) return fail(api, st, "CreateTensorAsOrtValue");
  float *data = NULL;
  if (!api->GetTensorMutableData(val, (void **)&data) && data) data[0] = 1.0f;

  if (strcmp(kind, "value") != 0) api->ReleaseValue(val);
  if (strcmp(kind, "session") != 0) api->ReleaseSession(sess);
  val = NULL; /* the only references are gone: what was not released is now a leak */
  sess = NULL;
  return 0;
}

static void *probe_thread(void *arg) {
  struct probe *p = arg;
  p->rc = probe(p->kind);
  return NULL;
}

int main(int argc, char **argv) {
  struct probe p = {argc > 1 ? argv[1] : "", 2};
  if (strcmp(p.kind, "session") && strcmp(p.kind, "value") && strcmp(p.kind, "none")) {
    fprintf(stderr, "usage: vg_ort_leak_probe session|value|none\n");
    return 2;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, probe_thread, &p) != 0 || pthread_join(t, NULL) != 0) {
    fprintf(stderr, "ort_leak_probe: cannot run the probe thread\n");
    return 2;
  }
  if (p.rc != 0) return p.rc;
  printf("ort_leak_probe: %s\n", p.kind);
  return 0;
}
