/* device.c - CPU and CUDA devices: discovery, raw memory, copies, streams and events.
 *
 * CUDA is reached through the runtime API, linked statically, so a binary built with CUDA
 * support still starts on a machine without a GPU or driver: discovery then reports zero
 * devices and the reason. Without VG_HAVE_CUDA every CUDA request fails with a clear message. */
#include "vidgraph/vg_core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef VG_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

struct vg_stream_s {
  vg_device dev;
  void *native; /* cudaStream_t */
};

struct vg_event_s {
  vg_device dev;
  void *native; /* cudaEvent_t */
};

bool vg_cuda_compiled(void) {
#ifdef VG_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

/* ----------------------------------------------------------------------------- discovery */

static pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;
static int g_cuda_count = 0;
static char g_cuda_reason[512] = "";

static void probe_cuda(void) {
#ifdef VG_HAVE_CUDA
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    int drv = 0;
    cudaDriverGetVersion(&drv);
    if (drv == 0)
      snprintf(g_cuda_reason, sizeof g_cuda_reason,
               "no CUDA device: no NVIDIA driver found (libcuda.so.1 not loadable; %s)",
               cudaGetErrorString(e));
    else
      snprintf(g_cuda_reason, sizeof g_cuda_reason, "no CUDA device: %s (%s, driver %d)",
               cudaGetErrorString(e), cudaGetErrorName(e), drv);
    (void)cudaGetLastError();
    g_cuda_count = 0;
    return;
  }
  if (n == 0) snprintf(g_cuda_reason, sizeof g_cuda_reason, "no CUDA device: driver lists none");
  g_cuda_count = n;
#else
  snprintf(g_cuda_reason, sizeof g_cuda_reason,
           "no CUDA device: this build of vidgraph has no CUDA support (nvcc was not found when "
           "it was configured)");
  g_cuda_count = 0;
#endif
}

vg_status vg_cuda_device_count(int *count) {
  pthread_once(&g_probe_once, probe_cuda);
  *count = g_cuda_count;
  return VG_OK;
}

const char *vg_cuda_unavailable_reason(void) {
  pthread_once(&g_probe_once, probe_cuda);
  return g_cuda_count > 0 ? "" : g_cuda_reason;
}

static vg_status check_cuda_device(vg_device dev) {
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) return vg_set_error(VG_ERR_DEVICE, "%s", g_cuda_reason);
  if (dev.ordinal < 0 || dev.ordinal >= n)
    return vg_set_error(VG_ERR_DEVICE, "CUDA device %d does not exist (this machine has %d)",
                        dev.ordinal, n);
  return VG_OK;
}

#ifdef VG_HAVE_CUDA
static vg_status cuda_fail(cudaError_t e, const char *what) {
  (void)cudaGetLastError();
  return vg_set_error(VG_ERR_DEVICE, "%s failed: %s (%s)", what, cudaGetErrorString(e),
                      cudaGetErrorName(e));
}
#define CUDA_CHECK(call, what)                                                                     \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) return cuda_fail(e_, what);                                             \
  } while (0)

static vg_status use_device(vg_device dev) {
  VG_TRY(check_cuda_device(dev));
  CUDA_CHECK(cudaSetDevice(dev.ordinal), "cudaSetDevice");
  return VG_OK;
}
#endif

static void cpu_info(vg_device_info *info) {
  snprintf(info->name, sizeof info->name, "cpu");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "model name", 10) == 0) {
        char *c = strchr(line, ':');
        if (c) {
          c++;
          while (*c == ' ')
            c++;
          c[strcspn(c, "\n")] = '\0';
          snprintf(info->name, sizeof info->name, "%s", c);
        }
        break;
      }
    }
    fclose(f);
  }
  long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
  long psz = sysconf(_SC_PAGESIZE);
  info->total_mem = pages > 0 ? (size_t)pages * (size_t)psz : 0;
  info->free_mem = avail > 0 ? (size_t)avail * (size_t)psz : 0;
  info->multiprocessors = (int)sysconf(_SC_NPROCESSORS_ONLN);
}

vg_status vg_device_info_get(vg_device dev, vg_device_info *info) {
  memset(info, 0, sizeof *info);
  info->device = dev;
  if (dev.kind == VG_DEVICE_CPU) {
    cpu_info(info);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dev));
  struct cudaDeviceProp p;
  CUDA_CHECK(cudaGetDeviceProperties(&p, dev.ordinal), "cudaGetDeviceProperties");
  snprintf(info->name, sizeof info->name, "%s", p.name);
  info->cc_major = p.major;
  info->cc_minor = p.minor;
  info->multiprocessors = p.multiProcessorCount;
  info->total_mem = p.totalGlobalMem;
  size_t fr = 0, tot = 0;
  if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) info->free_mem = fr;
  (void)cudaGetLastError();
  cudaDriverGetVersion(&info->driver_version);
  cudaRuntimeGetVersion(&info->runtime_version);
  return VG_OK;
#else
  return check_cuda_device(dev);
#endif
}

const char *vg_device_str(vg_device dev, char *buf, size_t cap) {
  if (dev.kind == VG_DEVICE_CPU)
    snprintf(buf, cap, "cpu");
  else
    snprintf(buf, cap, "cuda:%d", dev.ordinal);
  return buf;
}

vg_status vg_device_parse(const char *text, vg_device *out) {
  if (!text) return vg_set_error(VG_ERR_INVALID_ARG, "no device given");
  if (strcmp(text, "cpu") == 0) {
    *out = vg_cpu();
    return VG_OK;
  }
  if (strcmp(text, "cuda") == 0 || strcmp(text, "gpu") == 0) {
    *out = vg_cuda(0);
    return VG_OK;
  }
  int ord;
  char tail;
  if ((sscanf(text, "cuda:%d%c", &ord, &tail) == 1 || sscanf(text, "gpu:%d%c", &ord, &tail) == 1) &&
      ord >= 0) {
    *out = vg_cuda(ord);
    return VG_OK;
  }
  return vg_set_error(VG_ERR_INVALID_ARG, "unknown device '%s' (use cpu, cuda or cuda:N)", text);
}

/* ----------------------------------------------------------------------------- streams/events */

vg_status vg_stream_create(vg_device dev, vg_stream *out) {
  *out = NULL;
  struct vg_stream_s *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a stream");
  s->dev = dev;
  if (dev.kind == VG_DEVICE_CUDA) {
#ifdef VG_HAVE_CUDA
    vg_status st = use_device(dev);
    cudaStream_t cs = NULL;
    if (st == VG_OK) {
      cudaError_t e = cudaStreamCreateWithFlags(&cs, cudaStreamNonBlocking);
      if (e != cudaSuccess) st = cuda_fail(e, "cudaStreamCreate");
    }
    if (st != VG_OK) {
      free(s);
      return st;
    }
    s->native = cs;
#else
    free(s);
    return check_cuda_device(dev);
#endif
  }
  *out = s;
  return VG_OK;
}

void vg_stream_destroy(vg_stream s) {
  if (!s) return;
#ifdef VG_HAVE_CUDA
  if (s->native) cudaStreamDestroy((cudaStream_t)s->native);
#endif
  free(s);
}

vg_status vg_default_stream_sync(void) {
#ifdef VG_HAVE_CUDA
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) return VG_OK;
  CUDA_CHECK(cudaStreamSynchronize(0), "cudaStreamSynchronize (default stream)");
#endif
  return VG_OK;
}

vg_status vg_stream_sync(vg_stream s) {
#ifdef VG_HAVE_CUDA
  if (!s) {
    int n = 0;
    vg_cuda_device_count(&n);
    if (n == 0) return VG_OK;
    CUDA_CHECK(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return VG_OK;
  }
  if (s->native)
    CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)s->native), "cudaStreamSynchronize");
#else
  (void)s;
#endif
  return VG_OK;
}

void *vg_stream_native(vg_stream s) {
  return s ? s->native : NULL;
}

vg_device vg_stream_device(vg_stream s) {
  return s ? s->dev : vg_cpu();
}

vg_status vg_event_create(vg_device dev, bool timing, vg_event *out) {
  *out = NULL;
  struct vg_event_s *e = calloc(1, sizeof *e);
  if (!e) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating an event");
  e->dev = dev;
  if (dev.kind == VG_DEVICE_CUDA) {
#ifdef VG_HAVE_CUDA
    vg_status st = use_device(dev);
    cudaEvent_t ce = NULL;
    if (st == VG_OK) {
      cudaError_t ce_ =
          cudaEventCreateWithFlags(&ce, timing ? cudaEventDefault : cudaEventDisableTiming);
      if (ce_ != cudaSuccess) st = cuda_fail(ce_, "cudaEventCreate");
    }
    if (st != VG_OK) {
      free(e);
      return st;
    }
    e->native = ce;
#else
    (void)timing;
    free(e);
    return check_cuda_device(dev);
#endif
  }
  *out = e;
  return VG_OK;
}

void vg_event_destroy(vg_event e) {
  if (!e) return;
#ifdef VG_HAVE_CUDA
  if (e->native) cudaEventDestroy((cudaEvent_t)e->native);
#endif
  free(e);
}

vg_status vg_event_record(vg_event e, vg_stream s) {
  if (!e) return vg_set_error(VG_ERR_INVALID_ARG, "vg_event_record: no event");
#ifdef VG_HAVE_CUDA
  if (e->native)
    CUDA_CHECK(cudaEventRecord((cudaEvent_t)e->native, s ? (cudaStream_t)s->native : 0),
               "cudaEventRecord");
#else
  (void)s;
#endif
  return VG_OK;
}

vg_status vg_event_sync(vg_event e) {
#ifdef VG_HAVE_CUDA
  if (e && e->native)
    CUDA_CHECK(cudaEventSynchronize((cudaEvent_t)e->native), "cudaEventSynchronize");
#else
  (void)e;
#endif
  return VG_OK;
}

bool vg_event_done(vg_event e) {
#ifdef VG_HAVE_CUDA
  if (e && e->native) {
    cudaError_t r = cudaEventQuery((cudaEvent_t)e->native);
    if (r == cudaErrorNotReady) {
      (void)cudaGetLastError();
      return false;
    }
    return true;
  }
#else
  (void)e;
#endif
  return true;
}

vg_status vg_stream_wait_event(vg_stream s, vg_event e) {
#ifdef VG_HAVE_CUDA
  if (e && e->native)
    CUDA_CHECK(cudaStreamWaitEvent(s ? (cudaStream_t)s->native : 0, (cudaEvent_t)e->native, 0),
               "cudaStreamWaitEvent");
#else
  (void)s;
  (void)e;
#endif
  return VG_OK;
}

vg_status vg_event_elapsed_ms(vg_event start, vg_event end, float *ms) {
  *ms = 0.f;
#ifdef VG_HAVE_CUDA
  if (start && end && start->native && end->native) {
    CUDA_CHECK(cudaEventElapsedTime(ms, (cudaEvent_t)start->native, (cudaEvent_t)end->native),
               "cudaEventElapsedTime");
    return VG_OK;
  }
#else
  (void)start;
  (void)end;
#endif
  return vg_set_error(VG_ERR_UNSUPPORTED, "elapsed time needs two CUDA events created with timing");
}

/* ----------------------------------------------------------------------------- memory */

vg_status vg_mem_alloc(vg_device dev, size_t bytes, void **out) {
  *out = NULL;
  if (bytes == 0) bytes = 1;
  if (dev.kind == VG_DEVICE_CPU) {
    *out = malloc(bytes);
    if (!*out)
      return vg_set_error(VG_ERR_NO_MEMORY, "out of host memory allocating %zu bytes", bytes);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dev));
  cudaError_t e = cudaMalloc(out, bytes);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    *out = NULL;
    return vg_set_error(VG_ERR_NO_MEMORY,
                        "out of device memory on cuda:%d allocating %zu bytes: %s", dev.ordinal,
                        bytes, cudaGetErrorString(e));
  }
  return VG_OK;
#else
  return check_cuda_device(dev);
#endif
}

void vg_mem_free(vg_device dev, void *ptr) {
  if (!ptr) return;
  if (dev.kind == VG_DEVICE_CPU) {
    free(ptr);
    return;
  }
#ifdef VG_HAVE_CUDA
  cudaSetDevice(dev.ordinal);
  cudaFree(ptr);
#endif
}

vg_status vg_mem_alloc_pinned(size_t bytes, void **out) {
  *out = NULL;
  if (bytes == 0) bytes = 1;
#ifdef VG_HAVE_CUDA
  int n = 0;
  vg_cuda_device_count(&n);
  if (n > 0) {
    cudaError_t e = cudaMallocHost(out, bytes);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      *out = NULL;
      return vg_set_error(VG_ERR_NO_MEMORY, "cannot allocate %zu bytes of pinned host memory: %s",
                          bytes, cudaGetErrorString(e));
    }
    return VG_OK;
  }
#endif
  return vg_set_error(VG_ERR_DEVICE, "pinned host memory needs a CUDA device: %s",
                      vg_cuda_unavailable_reason());
}

void vg_mem_free_pinned(void *ptr) {
#ifdef VG_HAVE_CUDA
  if (ptr) cudaFreeHost(ptr);
#else
  (void)ptr;
#endif
}

#ifdef VG_HAVE_CUDA
static enum cudaMemcpyKind copy_kind(vg_device dst, vg_device src) {
  if (dst.kind == VG_DEVICE_CPU && src.kind == VG_DEVICE_CPU) return cudaMemcpyHostToHost;
  if (dst.kind == VG_DEVICE_CPU) return cudaMemcpyDeviceToHost;
  if (src.kind == VG_DEVICE_CPU) return cudaMemcpyHostToDevice;
  return cudaMemcpyDeviceToDevice;
}
#endif

vg_status vg_memcpy(void *dst, vg_device dst_dev, const void *src, vg_device src_dev,
                    size_t bytes) {
  if (bytes == 0) return VG_OK;
  if (!dst || !src) return vg_set_error(VG_ERR_INVALID_ARG, "vg_memcpy: NULL pointer");
  if (dst_dev.kind == VG_DEVICE_CPU && src_dev.kind == VG_DEVICE_CPU) {
    memmove(dst, src, bytes);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dst_dev.kind == VG_DEVICE_CUDA ? dst_dev : src_dev));
  CUDA_CHECK(cudaMemcpy(dst, src, bytes, copy_kind(dst_dev, src_dev)), "cudaMemcpy");
  return VG_OK;
#else
  return check_cuda_device(vg_cuda(0));
#endif
}

vg_status vg_memcpy_async(void *dst, vg_device dst_dev, const void *src, vg_device src_dev,
                          size_t bytes, vg_stream s) {
  if (bytes == 0) return VG_OK;
  if (!dst || !src) return vg_set_error(VG_ERR_INVALID_ARG, "vg_memcpy_async: NULL pointer");
  if (dst_dev.kind == VG_DEVICE_CPU && src_dev.kind == VG_DEVICE_CPU) {
    VG_TRY(vg_stream_sync(s));
    memmove(dst, src, bytes);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dst_dev.kind == VG_DEVICE_CUDA ? dst_dev : src_dev));
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, copy_kind(dst_dev, src_dev),
                             s ? (cudaStream_t)s->native : 0),
             "cudaMemcpyAsync");
  return VG_OK;
#else
  (void)s;
  return check_cuda_device(vg_cuda(0));
#endif
}

vg_status vg_memcpy2d_async(void *dst, size_t dst_pitch, vg_device dst_dev, const void *src,
                            size_t src_pitch, vg_device src_dev, size_t width_bytes, size_t rows,
                            vg_stream s) {
  if (rows == 0 || width_bytes == 0) return VG_OK;
  if (!dst || !src || dst_pitch < width_bytes || src_pitch < width_bytes)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_memcpy2d_async: bad arguments (width %zu, pitches %zu/%zu)",
                        width_bytes, dst_pitch, src_pitch);
  if (dst_dev.kind == VG_DEVICE_CPU && src_dev.kind == VG_DEVICE_CPU) {
    VG_TRY(vg_stream_sync(s));
    for (size_t r = 0; r < rows; r++)
      memmove((char *)dst + r * dst_pitch, (const char *)src + r * src_pitch, width_bytes);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dst_dev.kind == VG_DEVICE_CUDA ? dst_dev : src_dev));
  CUDA_CHECK(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width_bytes, rows,
                               copy_kind(dst_dev, src_dev), s ? (cudaStream_t)s->native : 0),
             "cudaMemcpy2DAsync");
  return VG_OK;
#else
  (void)s;
  return check_cuda_device(vg_cuda(0));
#endif
}

vg_status vg_memset_async(void *dst, vg_device dev, int value, size_t bytes, vg_stream s) {
  if (bytes == 0) return VG_OK;
  if (!dst) return vg_set_error(VG_ERR_INVALID_ARG, "vg_memset_async: NULL pointer");
  if (dev.kind == VG_DEVICE_CPU) {
    VG_TRY(vg_stream_sync(s));
    memset(dst, value, bytes);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  VG_TRY(use_device(dev));
  CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, s ? (cudaStream_t)s->native : 0),
             "cudaMemsetAsync");
  return VG_OK;
#else
  (void)s;
  return check_cuda_device(dev);
#endif
}
