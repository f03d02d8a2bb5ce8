/* runtime.c - the ONNX Runtime library as a whole: version, API table, the process-wide
 * environment with ONNX Runtime's log routed through vg_log (component "ort"), error
 * conversion, the provider library folder and the CUDA execution-provider library. */
#include "infer_internal.h"

#include <dlfcn.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const OrtApi *g_api;
static OrtEnv *g_env;
static char g_env_error[512];
static _Thread_local char t_last_log[1024];

const char *vg_infer_runtime_version(void) {
  const OrtApiBase *base = OrtGetApiBase();
  return base ? base->GetVersionString() : "unknown";
}

const OrtApi *vg_ort_api(void) {
  if (!g_api) g_api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
  return g_api;
}

/* "/src/x.cc:12 fn() [ONNXRuntimeError] : 1 : FAIL : real message\n" -> "real message". */
static void clean_message(const char *msg, char *out, size_t cap) {
  const char *p = strstr(msg, "[ONNXRuntimeError] : ");
  if (p) {
    p += strlen("[ONNXRuntimeError] : ");
    for (int k = 0; k < 2; k++) {
      const char *q = strstr(p, " : ");
      if (q) p = q + 3;
    }
    msg = p;
  }
  snprintf(out, cap, "%s", msg);
  size_t n = strlen(out);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
    out[--n] = '\0';
}

static void ort_logger(void *param, OrtLoggingLevel severity, const char *category,
                       const char *logid, const char *code_location, const char *message) {
  (void)param;
  vg_log_level level = VG_LOG_ERROR;
  switch (severity) {
  case ORT_LOGGING_LEVEL_VERBOSE:
    level = VG_LOG_TRACE;
    break;
  case ORT_LOGGING_LEVEL_INFO:
    level = VG_LOG_DEBUG;
    break;
  case ORT_LOGGING_LEVEL_WARNING:
    level = VG_LOG_WARN;
    break;
  default:
    level = VG_LOG_ERROR;
    break;
  }
  if (severity >= ORT_LOGGING_LEVEL_WARNING)
    clean_message(message ? message : "", t_last_log, sizeof t_last_log);
  if (level < vg_log_get_level("ort")) return;
  char cat[64], id[96], loc[160], fields[400];
  snprintf(fields, sizeof fields, "\"category\":\"%s\",\"logid\":\"%s\",\"where\":\"%s\"",
           vg_json_escape(category, cat, sizeof cat), vg_json_escape(logid, id, sizeof id),
           vg_json_escape(code_location, loc, sizeof loc));
  vg_log(level, "ort", fields, "%s", message ? message : "");
}

const char *vg_ort_last_log(void) {
  return t_last_log;
}
void vg_ort_clear_last_log(void) {
  t_last_log[0] = '\0';
}

static void create_env(void) {
  const OrtApi *api = vg_ort_api();
  if (!api) {
    snprintf(g_env_error, sizeof g_env_error, "ONNX Runtime %s does not provide API version %d",
             vg_infer_runtime_version(), ORT_API_VERSION);
    return;
  }
  vg_log_level l = vg_log_get_level("ort");
  OrtLoggingLevel ol = l <= VG_LOG_TRACE   ? ORT_LOGGING_LEVEL_VERBOSE
                       : l <= VG_LOG_DEBUG ? ORT_LOGGING_LEVEL_INFO
                                           : ORT_LOGGING_LEVEL_WARNING;
  /* ONNX Runtime 1.29 leaks 14 bytes once when its environment is created (a bare CreateEnv +
   * ReleaseEnv program shows it too). LeakSanitizer ignores what this thread allocates inside
   * this one call (see also __lsan_default_suppressions at the end of the file). */
#if defined(__SANITIZE_ADDRESS__)
  __lsan_disable();
#endif
  OrtStatus *st = api->CreateEnvWithCustomLogger(ort_logger, NULL, ol, "vidgraph", &g_env);
#if defined(__SANITIZE_ADDRESS__)
  __lsan_enable();
#endif
  if (st) {
    char msg[400];
    vg_ort_take_message(st, msg, sizeof msg);
    snprintf(g_env_error, sizeof g_env_error, "cannot create the ONNX Runtime environment: %s",
             msg);
    g_env = NULL;
  }
}

vg_status vg_ort_env(OrtEnv **out) {
  pthread_once(&g_once, create_env);
  if (!g_env) return vg_set_error(VG_ERR_BACKEND, "%s", g_env_error);
  *out = g_env;
  return VG_OK;
}

int vg_ort_clamp_threads(int requested, const char *where) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  if (requested <= cpus) return requested;
  vg_log(VG_LOG_WARN, "infer", NULL,
         "%s: threads = %d is more than the %ld CPUs of this machine; using %ld", where, requested,
         cpus, cpus);
  return (int)cpus;
}

bool vg_ort_ok(OrtStatus *st) {
  if (!st) return true;
  vg_ort_api()->ReleaseStatus(st);
  return false;
}

void vg_ort_take_message(OrtStatus *st, char *buf, size_t cap) {
  if (!st) {
    snprintf(buf, cap, "ok");
    return;
  }
  clean_message(vg_ort_api()->GetErrorMessage(st), buf, cap);
  vg_ort_api()->ReleaseStatus(st);
}

vg_status vg_ort_fail(OrtStatus *st, vg_status code, const char *what) {
  char msg[768];
  vg_ort_take_message(st, msg, sizeof msg);
  return vg_set_error(code, "%s: %s", what, msg);
}

/* ----------------------------------------------------------------- provider library folder */

static pthread_once_t g_dir_once = PTHREAD_ONCE_INIT;
static char g_lib_dir[VG_MODEL_PATH_MAX];

static void find_lib_dir(void) {
  const char *env = getenv("VG_ORT_LIB_DIR");
  if (env && env[0]) {
    snprintf(g_lib_dir, sizeof g_lib_dir, "%s", env);
    return;
  }
  Dl_info info;
  if (dladdr((void *)OrtGetApiBase, &info) && info.dli_fname) {
    snprintf(g_lib_dir, sizeof g_lib_dir, "%s", info.dli_fname);
    char *slash = strrchr(g_lib_dir, '/');
    if (slash) {
      *slash = '\0';
      return;
    }
  }
  snprintf(g_lib_dir, sizeof g_lib_dir, ".");
}

const char *vg_infer_provider_lib_dir(void) {
  pthread_once(&g_dir_once, find_lib_dir);
  return g_lib_dir;
}

/* ----------------------------------------------------------------- core library and origin */

static pthread_once_t g_core_once = PTHREAD_ONCE_INIT;
static char g_core_path[VG_MODEL_PATH_MAX];
static char g_core_origin[512];

/* Finds the line of `list` (onnxruntime-origin.txt) for file `name` of `bytes` bytes. */
static void origin_from(FILE *f, const char *list, const char *name, long long bytes) {
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    char file[256], pkg[256], inner[256], sum[128];
    long long size;
    if (sscanf(line, "%255s %lld %255s %255s %127s", file, &size, pkg, inner, sum) != 5) continue;
    if (strcmp(file, name) != 0) continue;
    if (size != bytes) {
      snprintf(g_core_origin, sizeof g_core_origin,
               "unknown: %s has %lld bytes, %s records %lld (from %s): replaced since setup?", name,
               bytes, list, size, pkg);
      return;
    }
    snprintf(g_core_origin, sizeof g_core_origin, "%s (%s, %s)", pkg, inner, sum);
    return;
  }
  snprintf(g_core_origin, sizeof g_core_origin, "unknown: %s has no line for %s", list, name);
}

static void find_core(void) {
  Dl_info info;
  snprintf(g_core_path, sizeof g_core_path, "unknown");
  snprintf(g_core_origin, sizeof g_core_origin, "unknown: the loaded library was not found");
  if (!dladdr((void *)OrtGetApiBase, &info) || !info.dli_fname) return;
  char *real = realpath(info.dli_fname, NULL);
  snprintf(g_core_path, sizeof g_core_path, "%s", real ? real : info.dli_fname);
  free(real);
  char dir[VG_MODEL_PATH_MAX], list[VG_MODEL_PATH_MAX + 32];
  snprintf(dir, sizeof dir, "%s", g_core_path);
  char *slash = strrchr(dir, '/');
  const char *name = slash ? slash + 1 : dir;
  if (slash) *slash = '\0';
  snprintf(list, sizeof list, "%s/onnxruntime-origin.txt", slash ? dir : ".");
  struct stat stt;
  long long bytes = stat(g_core_path, &stt) == 0 ? (long long)stt.st_size : -1;
  FILE *f = fopen(list, "r");
  if (!f) {
    snprintf(g_core_origin, sizeof g_core_origin, "unknown: no %s (scripts/setup.sh writes it)",
             list);
    return;
  }
  origin_from(f, list, name, bytes);
  fclose(f);
}

const char *vg_infer_core_path(void) {
  pthread_once(&g_core_once, find_core);
  return g_core_path;
}

const char *vg_infer_core_origin(void) {
  pthread_once(&g_core_once, find_core);
  return g_core_origin;
}

/* ----------------------------------------------------------------- CUDA EP library (V2 route) */

static pthread_mutex_t g_ep_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_ep_state; /* 0 untried, 1 registered, -1 failed */
static char g_ep_error[VG_REASON_MAX];

vg_status vg_ort_cuda_ep_device(int ordinal, const OrtEpDevice **out, char *reason, size_t cap) {
  OrtEnv *env = NULL;
  if (vg_ort_env(&env) != VG_OK) {
    snprintf(reason, cap, "%s", vg_last_error());
    return vg_last_status();
  }
  const OrtApi *api = vg_ort_api();
  pthread_mutex_lock(&g_ep_mu);
  if (g_ep_state == 0) {
    char path[VG_MODEL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/libonnxruntime_providers_cuda.so", vg_infer_provider_lib_dir());
    OrtStatus *st = api->RegisterExecutionProviderLibrary(env, "vidgraph_cuda", path);
    g_ep_state = st ? -1 : 1;
    if (st) {
      char msg[VG_REASON_MAX - 64];
      vg_ort_take_message(st, msg, sizeof msg);
      snprintf(g_ep_error, sizeof g_ep_error, "RegisterExecutionProviderLibrary: %s", msg);
    }
  }
  int state = g_ep_state;
  pthread_mutex_unlock(&g_ep_mu);
  if (state < 0) {
    snprintf(reason, cap, "%s", g_ep_error);
    return vg_set_error(VG_ERR_UNSUPPORTED, "%s", g_ep_error);
  }
  const OrtEpDevice *const *devs = NULL;
  size_t n = 0;
  OrtStatus *st = api->GetEpDevices(env, &devs, &n);
  if (st) {
    char msg[VG_REASON_MAX - 32];
    vg_ort_take_message(st, msg, sizeof msg);
    snprintf(reason, cap, "GetEpDevices: %s", msg);
    return vg_set_error(VG_ERR_BACKEND, "%s", reason);
  }
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(api->EpDevice_EpName(devs[i]), "CUDAExecutionProvider") != 0) continue;
    if (seen++ == ordinal) {
      *out = devs[i];
      return VG_OK;
    }
  }
  snprintf(reason, cap, "the CUDA execution-provider library lists %d device(s), none for cuda:%d",
           seen, ordinal);
  return vg_set_error(VG_ERR_DEVICE, "%s", reason);
}

/* ----------------------------------------------------------------- names and types */

bool vg_ort_dtype(int t, vg_dtype *out) {
  switch (t) {
  case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
    *out = VG_DTYPE_F32;
    return true;
  case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
    *out = VG_DTYPE_F16;
    return true;
  case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
    *out = VG_DTYPE_U8;
    return true;
  case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
    *out = VG_DTYPE_I32;
    return true;
  case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
    *out = VG_DTYPE_I64;
    return true;
  default:
    return false;
  }
}

int vg_ort_onnx_type(vg_dtype d) {
  static const int map[] = {
      ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16,
      ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32,
      ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64};
  return (unsigned)d < sizeof map / sizeof map[0] ? map[d] : 0;
}

const char *vg_ort_type_name(int t) {
  static const char *const names[] = {"undefined",  "float32", "uint8",  "int8",   "uint16",
                                      "int16",      "int32",   "int64",  "string", "bool",
                                      "float16",    "double",  "uint32", "uint64", "complex64",
                                      "complex128", "bfloat16"};
  if (t >= 0 && t < (int)(sizeof names / sizeof names[0])) return names[t];
  return "other";
}

static const char *const g_provider_names[] = {"tensorrt", "cuda", "cpu"};
static const char *const g_ep_names[] = {"TensorrtExecutionProvider", "CUDAExecutionProvider",
                                         "CPUExecutionProvider"};

const char *vg_provider_name(vg_provider p) {
  return (unsigned)p < VG_PROVIDER_COUNT_ ? g_provider_names[p] : "unknown";
}

const char *vg_ort_ep_name(vg_provider p) {
  return (unsigned)p < VG_PROVIDER_COUNT_ ? g_ep_names[p] : "unknown";
}

vg_status vg_provider_parse(const char *text, vg_provider *out) {
  if (text) {
    for (int i = 0; i < VG_PROVIDER_COUNT_; i++) {
      if (strcasecmp(text, g_provider_names[i]) == 0 || strcasecmp(text, g_ep_names[i]) == 0) {
        *out = (vg_provider)i;
        return VG_OK;
      }
    }
    if (strcasecmp(text, "trt") == 0) {
      *out = VG_PROVIDER_TENSORRT;
      return VG_OK;
    }
  }
  return vg_set_error(VG_ERR_INVALID_ARG, "unknown provider '%s' (use tensorrt, cuda or cpu)",
                      text ? text : "(null)");
}

/* ----------------------------------------------------------------- sanitizer builds */

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define VG_ASAN_BUILD 1
#elif defined(__has_feature) /* clang (the fuzz build) */
#if __has_feature(address_sanitizer)
#define VG_ASAN_BUILD 1
#endif
#endif
#ifdef VG_ASAN_BUILD
/* LeakSanitizer and ONNX Runtime (issue 15). Besides the environment's 14 bytes (ignored above,
 * precisely), ONNX Runtime 1.29's worker threads allocate a few 152-byte blocks once per process,
 * inside a pthread_once, and never free them (found by running the sanitizer tests without any
 * suppression). The library is stripped and built without frame pointers, so what a
 * suppression can tell apart depends on how malloc stacks are unwound:
 *  - fully (fast_unwind_on_malloc=0 in ASAN_OPTIONS or LSAN_OPTIONS: DWARF unwinding through
 *    ONNX Runtime, about 5x the CPU time): the stack of those blocks goes through
 *    __pthread_once_slow, and only allocations made inside a one-time initialisation are
 *    suppressed. A session, a tensor or any other ONNX Runtime object that our code fails to
 *    release is reported, with our frames: tests/sanitize/ort_leak_probe.c proves it, and the
 *    sanitizer build runs every test that creates ONNX Runtime objects this way (CMakeLists.txt);
 *  - fast (the default, frame pointers only): the stack ends at the first ONNX Runtime frame
 *    ("libonnxruntime.so.1+0x1375cdc"), which no suppression pattern can tell apart from a leaked
 *    session (patterns match module, function and file names, never offsets), so the library as a
 *    whole is suppressed there.
 * LeakSanitizer reads this hook by name from the executable, so it must stay visible despite
 * -fvisibility=hidden (hidden, it was silently ignored). */
static bool full_unwinding(const char *opts) {
  return opts && strstr(opts, "fast_unwind_on_malloc=0") != NULL;
}
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void) {
  if (full_unwinding(getenv("ASAN_OPTIONS")) || full_unwinding(getenv("LSAN_OPTIONS")))
    return "leak:__pthread_once_slow\n";
  return "leak:libonnxruntime.so\n";
}
#endif
