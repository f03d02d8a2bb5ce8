/* nvml.c - the NVIDIA driver release (e.g. "580.65.06"), read through NVML. libnvidia-ml.so.1
 * comes with the driver, not the toolkit, so it is loaded at run time (dlopen) and a machine
 * without it gets the reason instead. The CUDA driver API version (13.0) is a different number:
 * vg_device_info.driver_version. Read once per process. */
#include "vidgraph/vg_core.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_release[96];
static char g_reason[400];

static void read_release(void) {
  void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    snprintf(g_reason, sizeof g_reason,
             "NVML not loadable (libnvidia-ml.so.1 comes with the "
             "NVIDIA driver): %s",
             e ? e : "dlopen failed");
    return;
  }
  int (*init)(void) = NULL, (*shutdown)(void) = NULL, (*version)(char *, unsigned) = NULL;
  const char *(*errstr)(int) = NULL;
  void *p;
  if ((p = dlsym(lib, "nvmlInit_v2"))) memcpy(&init, &p, sizeof p);
  if ((p = dlsym(lib, "nvmlShutdown"))) memcpy(&shutdown, &p, sizeof p);
  if ((p = dlsym(lib, "nvmlSystemGetDriverVersion"))) memcpy(&version, &p, sizeof p);
  if ((p = dlsym(lib, "nvmlErrorString"))) memcpy(&errstr, &p, sizeof p);
  if (!init || !shutdown || !version) {
    snprintf(g_reason, sizeof g_reason,
             "libnvidia-ml.so.1 lacks nvmlInit_v2, nvmlShutdown or "
             "nvmlSystemGetDriverVersion");
    dlclose(lib);
    return;
  }
  int rc = init();
  if (rc != 0) {
    snprintf(g_reason, sizeof g_reason, "nvmlInit_v2 failed: %s (NVML status %d)",
             errstr ? errstr(rc) : "unknown", rc);
    dlclose(lib);
    return;
  }
  char v[96] = "";
  rc = version(v, sizeof v);
  if (rc == 0 && v[0])
    snprintf(g_release, sizeof g_release, "%s", v);
  else
    snprintf(g_reason, sizeof g_reason, "nvmlSystemGetDriverVersion failed: %s (NVML status %d)",
             errstr ? errstr(rc) : "unknown", rc);
  shutdown();
  dlclose(lib);
}

vg_status vg_driver_release(char *out, size_t cap) {
  pthread_once(&g_once, read_release);
  if (g_release[0]) {
    snprintf(out, cap, "%s", g_release);
    return VG_OK;
  }
  if (cap) out[0] = '\0';
  return vg_set_error(VG_ERR_UNSUPPORTED, "%s", g_reason);
}
