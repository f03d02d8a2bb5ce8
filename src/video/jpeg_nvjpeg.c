/* jpeg_nvjpeg.c - JPEG of device frames on the GPU with nvJPEG. libnvjpeg is loaded at run time
 * (dlopen of libnvjpeg.so.13, else .12; like libnvcuvid in dec_nvdec.c), so there is no
 * link-time dependency and a machine without it gets a reason instead of a crash. Only the
 * JPEG bytes cross to the host.
 *
 * NV12 and GRAY8 frames are first converted to RGB24 on the device (cuda/video_rgb.cu, the
 * twin of vgv_to_rgb24, so the picture is the one libjpeg would get); RGB24/BGR24 go in as they
 * are. Encoder contexts (nvJPEG encoder state + parameters + RGB scratch) are not thread-safe,
 * so a small process-wide set of them is handed out under a lock; the library and one nvJPEG
 * handle per device are loaded once. All work runs on the legacy default stream, which orders
 * it after whatever produced the frame on the device. */
#include "video_internal.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef VG_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <pthread.h>

#include "video/cuda/video_kernels.h"

/* The part of nvjpeg.h used here (the toolkit on build machines may lack the header). */
typedef struct nvj_handle *nvj_handle_t;
typedef struct nvj_state *nvj_state_t;
typedef struct nvj_params *nvj_params_t;
typedef struct nvj_image {
  unsigned char *channel[4];
  size_t pitch[4];
} nvj_image;
enum { NVJ_CSS_420 = 2, NVJ_INPUT_RGBI = 5, NVJ_INPUT_BGRI = 6 };

typedef struct nvj_api {
  int (*create_simple)(nvj_handle_t *);
  int (*state_create)(nvj_handle_t, nvj_state_t *, cudaStream_t);
  int (*params_create)(nvj_handle_t, nvj_params_t *, cudaStream_t);
  int (*set_quality)(nvj_params_t, int, cudaStream_t);
  int (*set_sampling)(nvj_params_t, int, cudaStream_t);
  int (*encode_image)(nvj_handle_t, nvj_state_t, nvj_params_t, const nvj_image *, int, int, int,
                      cudaStream_t);
  int (*retrieve)(nvj_handle_t, nvj_state_t, unsigned char *, size_t *, cudaStream_t);
  int (*get_property)(int, int *);
} nvj_api;

#define MAX_DEVICES 16
#define MAX_CONTEXTS 8

typedef struct nvj_ctx {
  int ordinal;
  bool busy;
  nvj_state_t state;
  nvj_params_t params;
  int quality; /* last set; 0 = none yet */
  uint8_t *rgb;
  size_t rgb_cap;
} nvj_ctx;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static nvj_api g_api;
static bool g_loaded;
static char g_lib_name[32];
static char g_version[32];
static char g_load_err[400];

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static nvj_handle_t g_handle[MAX_DEVICES];
static nvj_ctx g_ctx[MAX_CONTEXTS];
static int g_nctx;

static bool sym(void *lib, const char *name, void *fn) {
  void *p = dlsym(lib, name);
  if (!p) {
    snprintf(g_load_err, sizeof g_load_err, "%s has no %s", g_lib_name, name);
    return false;
  }
  memcpy(fn, &p, sizeof p);
  return true;
}

static void load_library(void) {
  static const char *const names[] = {"libnvjpeg.so.13", "libnvjpeg.so.12"};
  void *lib = NULL;
  char first_err[300] = "";
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++) {
    lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (lib) snprintf(g_lib_name, sizeof g_lib_name, "%s", names[i]);
    if (!lib && i == 0) snprintf(first_err, sizeof first_err, "%s", dlerror());
  }
  if (!lib) {
    snprintf(g_load_err, sizeof g_load_err, "libnvjpeg.so.13 not found (nor libnvjpeg.so.12): %s",
             first_err);
    return;
  }
  nvj_api *a = &g_api;
  if (!sym(lib, "nvjpegCreateSimple", &a->create_simple) ||
      !sym(lib, "nvjpegEncoderStateCreate", &a->state_create) ||
      !sym(lib, "nvjpegEncoderParamsCreate", &a->params_create) ||
      !sym(lib, "nvjpegEncoderParamsSetQuality", &a->set_quality) ||
      !sym(lib, "nvjpegEncoderParamsSetSamplingFactors", &a->set_sampling) ||
      !sym(lib, "nvjpegEncodeImage", &a->encode_image) ||
      !sym(lib, "nvjpegEncodeRetrieveBitstream", &a->retrieve) ||
      !sym(lib, "nvjpegGetProperty", &a->get_property)) {
    dlclose(lib);
    return;
  }
  int v[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++)
    a->get_property(k, &v[k]); /* MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL */
  snprintf(g_version, sizeof g_version, "%d.%d.%d", v[0], v[1], v[2]);
  g_loaded = true; /* the library stays loaded for the life of the process */
}

bool vgv_nvjpeg_usable(int ordinal, char *reason, size_t cap) {
  pthread_once(&g_once, load_library);
  if (!g_loaded) {
    snprintf(reason, cap, "%s", g_load_err);
    return false;
  }
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) {
    snprintf(reason, cap, "%s", vg_cuda_unavailable_reason());
    return false;
  }
  if (ordinal < 0 || ordinal >= n || ordinal >= MAX_DEVICES) {
    snprintf(reason, cap, "no CUDA device %d (this machine has %d)", ordinal, n);
    return false;
  }
  return true;
}

const char *vgv_nvjpeg_version(void) {
  pthread_once(&g_once, load_library);
  return g_loaded ? g_version : "";
}

static vg_status nvj_fail(int code, const char *what) {
  return vg_set_error(VG_ERR_BACKEND, "nvJPEG (%s %s): %s failed with status %d", g_lib_name,
                      g_version, what, code);
}

/* A free context of device `ordinal` (created on first need), waiting when all are busy. */
static vg_status ctx_take(int ordinal, nvj_ctx **out) {
  pthread_mutex_lock(&g_mu);
  vg_status st = VG_OK;
  int rc = 0;
  if (!g_handle[ordinal] && (rc = g_api.create_simple(&g_handle[ordinal])) != 0)
    st = nvj_fail(rc, "nvjpegCreateSimple");
  nvj_ctx *c = NULL;
  while (st == VG_OK && !c) {
    for (int i = 0; i < g_nctx && !c; i++)
      if (!g_ctx[i].busy && g_ctx[i].ordinal == ordinal) c = &g_ctx[i];
    if (!c && g_nctx < MAX_CONTEXTS) {
      nvj_ctx *n = &g_ctx[g_nctx];
      memset(n, 0, sizeof *n);
      n->ordinal = ordinal;
      if ((rc = g_api.state_create(g_handle[ordinal], &n->state, NULL)) != 0)
        st = nvj_fail(rc, "nvjpegEncoderStateCreate");
      else if ((rc = g_api.params_create(g_handle[ordinal], &n->params, NULL)) != 0)
        st = nvj_fail(rc, "nvjpegEncoderParamsCreate"); /* the state is kept: reused next time */
      else if ((rc = g_api.set_sampling(n->params, NVJ_CSS_420, NULL)) != 0)
        st = nvj_fail(rc, "nvjpegEncoderParamsSetSamplingFactors");
      if (st == VG_OK) c = &g_ctx[g_nctx++];
    }
    if (st == VG_OK && !c) pthread_cond_wait(&g_cv, &g_mu);
  }
  if (c) c->busy = true;
  pthread_mutex_unlock(&g_mu);
  *out = c;
  return st;
}

static void ctx_give(nvj_ctx *c) {
  pthread_mutex_lock(&g_mu);
  c->busy = false;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

/* The nvJPEG input image of f: RGB/BGR as they are, NV12/GRAY8 through the scratch buffer. */
static vg_status input_of(nvj_ctx *c, const vg_frame *f, nvj_image *img, int *fmt) {
  memset(img, 0, sizeof *img);
  *fmt = f->format == VG_PIX_BGR24 ? NVJ_INPUT_BGRI : NVJ_INPUT_RGBI;
  if (f->format == VG_PIX_RGB24 || f->format == VG_PIX_BGR24) {
    img->channel[0] = vg_frame_plane(f, 0);
    img->pitch[0] = (size_t)f->pitch[0];
    return VG_OK;
  }
  size_t pitch = (size_t)f->width * 3, need = pitch * (size_t)f->height;
  if (need > c->rgb_cap) {
    vg_mem_free(vg_cuda(c->ordinal), c->rgb);
    c->rgb = NULL;
    c->rgb_cap = 0;
    VG_TRY(vg_mem_alloc(vg_cuda(c->ordinal), need, (void **)&c->rgb));
    c->rgb_cap = need;
  }
  vgv_yuv_coefs k;
  vgv_yuv_coefs_of(f, &k);
  const uint8_t *uv = f->format == VG_PIX_NV12 ? vg_frame_plane(f, 1) : NULL;
  int rc =
      vgv_cuda_to_rgb24(vg_frame_plane(f, 0), (size_t)f->pitch[0], uv, uv ? (size_t)f->pitch[1] : 0,
                        f->width, f->height, &k, c->rgb, pitch, NULL);
  if (rc != 0)
    return vg_set_error(VG_ERR_DEVICE, "JPEG colour conversion kernel: %s",
                        cudaGetErrorString((cudaError_t)rc));
  img->channel[0] = c->rgb;
  img->pitch[0] = pitch;
  return VG_OK;
}

static vg_status encode_with(nvj_ctx *c, const vg_frame *f, int quality, uint8_t **out,
                             size_t *out_len) {
  nvj_handle_t h = g_handle[c->ordinal];
  int rc;
  if (c->quality != quality) {
    if ((rc = g_api.set_quality(c->params, quality, NULL)) != 0)
      return nvj_fail(rc, "nvjpegEncoderParamsSetQuality");
    c->quality = quality;
  }
  nvj_image img;
  int fmt;
  VG_TRY(input_of(c, f, &img, &fmt));
  if ((rc = g_api.encode_image(h, c->state, c->params, &img, fmt, f->width, f->height, NULL)) != 0)
    return nvj_fail(rc, "nvjpegEncodeImage");
  size_t len = 0;
  if ((rc = g_api.retrieve(h, c->state, NULL, &len, NULL)) != 0)
    return nvj_fail(rc, "nvjpegEncodeRetrieveBitstream (length)");
  cudaError_t ce = cudaStreamSynchronize(NULL);
  if (ce != cudaSuccess)
    return vg_set_error(VG_ERR_DEVICE, "nvJPEG encode: %s", cudaGetErrorString(ce));
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a %zu-byte JPEG", len);
  if ((rc = g_api.retrieve(h, c->state, buf, &len, NULL)) != 0) {
    free(buf);
    return nvj_fail(rc, "nvjpegEncodeRetrieveBitstream");
  }
  ce = cudaStreamSynchronize(NULL);
  if (ce != cudaSuccess) {
    free(buf);
    return vg_set_error(VG_ERR_DEVICE, "nvJPEG bitstream: %s", cudaGetErrorString(ce));
  }
  *out = buf;
  *out_len = len;
  return VG_OK;
}

vg_status vgv_nvjpeg_encode(const vg_frame *f, int quality, uint8_t **out, size_t *out_len) {
  vg_device dev = vg_frame_device(f);
  char why[400];
  if (dev.kind != VG_DEVICE_CUDA || !vgv_nvjpeg_usable(dev.ordinal, why, sizeof why))
    return vg_set_error(VG_ERR_UNSUPPORTED, "nvJPEG: %s",
                        dev.kind != VG_DEVICE_CUDA ? "not a device frame" : why);
  cudaError_t ce = cudaSetDevice(dev.ordinal);
  if (ce != cudaSuccess)
    return vg_set_error(VG_ERR_DEVICE, "nvJPEG: cannot use CUDA device %d: %s", dev.ordinal,
                        cudaGetErrorString(ce));
  nvj_ctx *c = NULL;
  VG_TRY(ctx_take(dev.ordinal, &c));
  vg_status st = encode_with(c, f, quality, out, out_len);
  ctx_give(c);
  return st;
}

#else /* no CUDA in this build */

bool vgv_nvjpeg_usable(int ordinal, char *reason, size_t cap) {
  (void)ordinal;
  snprintf(reason, cap, "this build has no CUDA (built with VG_WITH_CUDA=OFF or without nvcc)");
  return false;
}

const char *vgv_nvjpeg_version(void) {
  return "";
}

vg_status vgv_nvjpeg_encode(const vg_frame *f, int quality, uint8_t **out, size_t *out_len) {
  (void)f, (void)quality, (void)out, (void)out_len;
  return vg_set_error(VG_ERR_UNSUPPORTED, "nvJPEG: this build has no CUDA");
}

#endif
