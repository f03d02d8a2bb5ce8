/* dec_nvdec.c - hardware decoding with NVDEC through the nvcuvid API. libcuda and libnvcuvid are
 * loaded at run time (ffnvcodec's dynlink loader), so there is no link-time dependency and a
 * machine without them gets a reason instead of a crash.
 *
 * The decoder works on the device's PRIMARY context, the one the CUDA runtime (and so the rest of
 * vidgraph) uses, so the NV12 frames it hands out are ordinary device pointers there. Per
 * picture: NVDEC's parser calls back in display order -> cuvidMapVideoFrame -> the visible area
 * of the Y and UV planes is copied device-to-device (cuMemcpy2DAsync) into a frame of the
 * source's bounded frame set -> unmap. Decode surfaces are bounded (the stream's minimum, at most
 * 32) and so are output frames (the frame set).
 *
 * Each session has its own parser (run on its source's reader thread), its own context lock and
 * its own CUDA stream; nothing is shared between sessions but the primary context. A looping
 * source keeps its decoder (the hardware object with its surfaces) from pass to pass and only
 * gets a new parser (restart): creating a decoder costs milliseconds and the driver serialises
 * creations across sessions.
 *
 * Experiment knobs (environment, read when a session starts; for bench/bench_video_nvdec and
 * docs/PERF.md, not part of the API):
 *   VG_NVDEC_DISPLAY_DELAY=N   parser display delay 0..16 (default 4 for files, 2 for live): how
 *                              many pictures NVDEC decodes ahead of the one being mapped
 *   VG_NVDEC_RECREATE=1        a new decoder on every loop pass (the old behaviour)
 *   VG_NVDEC_CONTEXT=own       a context of its own per session instead of the primary one
 *   VG_NVDEC_DEINTERLACE=adaptive|bob|weave   deinterlace mode (default weave) */
#include "video_internal.h"

#include <stdio.h>
#include <string.h>

#ifdef VG_HAVE_CUDA
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

static void loader_log(char *buf, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, 200, fmt, ap);
  va_end(ap);
  buf[strcspn(buf, "\n")] = 0;
  const char *e = dlerror();
  if (e) snprintf(buf + strlen(buf), 56, " (%s)", e);
}
#define FFNV_LOG_FUNC(logctx, msg, ...) loader_log((char *)(logctx), (msg), __VA_ARGS__)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...)
#include <ffnvcodec/dynlink_loader.h>

#define MAX_SURFACES 32
/* CUDA's CU_MEMORYTYPE_UNIFIED; ffnvcodec's header does not have it */
#define MEMTYPE_UNIFIED ((CUmemorytype)4)

/* ----------------------------------------------------------------- process-wide libraries */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CudaFunctions *g_cu;
static CuvidFunctions *g_cv;
static char g_load_err[320];

static void load_libraries(void) {
  char msg[256] = "";
  if (cuda_load_functions(&g_cu, msg) < 0) {
    snprintf(g_load_err, sizeof g_load_err, "no CUDA device: libcuda not loadable: %s", msg);
    return;
  }
  if (g_cu->cuInit(0) != CUDA_SUCCESS) {
    snprintf(g_load_err, sizeof g_load_err, "no CUDA device: cuInit failed");
    cuda_free_functions(&g_cu);
    return;
  }
  msg[0] = 0;
  if (cuvid_load_functions(&g_cv, msg) < 0)
    snprintf(g_load_err, sizeof g_load_err, "libnvcuvid not found: %s", msg);
}

static const char *cu_err(CUresult r) {
  const char *s = NULL;
  if (g_cu && g_cu->cuGetErrorString) g_cu->cuGetErrorString(r, &s);
  return s ? s : "unknown CUDA error";
}

/* Device present, libraries loaded; reason set otherwise. */
static bool ready(int ordinal, char *reason, size_t cap) {
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) {
    snprintf(reason, cap, "%s", vg_cuda_unavailable_reason());
    return false;
  }
  if (ordinal < 0 || ordinal >= n) {
    snprintf(reason, cap, "no CUDA device: device %d does not exist (this machine has %d)", ordinal,
             n);
    return false;
  }
  pthread_once(&g_once, load_libraries);
  if (!g_cu || !g_cv) {
    snprintf(reason, cap, "%s", g_load_err);
    return false;
  }
  return true;
}

static cudaVideoCodec cuvid_codec(vgv_codec c) {
  switch (c) {
  case VGV_CODEC_H264:
    return cudaVideoCodec_H264;
  case VGV_CODEC_HEVC:
    return cudaVideoCodec_HEVC;
  case VGV_CODEC_AV1:
    return cudaVideoCodec_AV1;
  case VGV_CODEC_VP9:
    return cudaVideoCodec_VP9;
  default:
    return cudaVideoCodec_NumCodecs;
  }
}

static const char *chroma_name(int chroma) {
  return chroma == 444 ? "4:4:4" : chroma == 422 ? "4:2:2" : chroma == 400 ? "4:0:0" : "4:2:0";
}

static cudaVideoChromaFormat cuvid_chroma(int chroma) {
  return chroma == 444   ? cudaVideoChromaFormat_444
         : chroma == 422 ? cudaVideoChromaFormat_422
         : chroma == 400 ? cudaVideoChromaFormat_Monochrome
                         : cudaVideoChromaFormat_420;
}

/* Asks the driver whether (codec, chroma, depth, size) decodes on this GPU; the context of dev
 * must be current. Returns true, or false with the reason. */
static bool caps_ok(cudaVideoCodec codec, const char *cname, int chroma, int depth, int w, int h,
                    const char *gpu, char *reason, size_t cap) {
  CUVIDDECODECAPS caps;
  memset(&caps, 0, sizeof caps);
  caps.eCodecType = codec;
  caps.eChromaFormat = cuvid_chroma(chroma);
  caps.nBitDepthMinus8 = depth > 8 ? (unsigned)(depth - 8) : 0;
  if (!g_cv->cuvidGetDecoderCaps) return true; /* very old driver: try and see */
  CUresult r = g_cv->cuvidGetDecoderCaps(&caps);
  if (r != CUDA_SUCCESS) {
    snprintf(reason, cap, "cuvidGetDecoderCaps failed: %s", cu_err(r));
    return false;
  }
  if (!caps.bIsSupported) {
    if (depth > 8)
      snprintf(reason, cap, "%d-bit %s %s not supported by NVDEC on %s", depth, cname,
               chroma_name(chroma), gpu);
    else
      snprintf(reason, cap, "%s %s not supported by NVDEC on %s", cname, chroma_name(chroma), gpu);
    return false;
  }
  if (w > 0 && h > 0 &&
      ((unsigned)w > caps.nMaxWidth || (unsigned)h > caps.nMaxHeight ||
       (unsigned)w < caps.nMinWidth || (unsigned)h < caps.nMinHeight ||
       (caps.nMaxMBCount &&
        ((unsigned)((w + 15) / 16) * (unsigned)((h + 15) / 16)) > caps.nMaxMBCount))) {
    snprintf(reason, cap, "%s %dx%d outside NVDEC's limits on %s (%ux%u .. %ux%u)", cname, w, h,
             gpu, caps.nMinWidth, caps.nMinHeight, caps.nMaxWidth, caps.nMaxHeight);
    return false;
  }
  return true;
}

/* What vidgraph's NVDEC path itself handles: 8-bit 4:2:0 to NV12. */
static bool format_ok(const char *cname, int chroma, int depth, char *reason, size_t cap) {
  if (chroma && chroma != 420) {
    snprintf(reason, cap, "%s %s not supported by vidgraph's NVDEC path (NV12 output: 4:2:0 only)",
             cname, chroma_name(chroma));
    return false;
  }
  if (depth > 8) {
    snprintf(reason, cap, "%d-bit %s not supported by vidgraph's NVDEC path (8-bit NV12 only)",
             depth, cname);
    return false;
  }
  return true;
}

vg_status vgv_nvdec_check(const vgv_stream_desc *sd, int ordinal, char *reason, size_t cap) {
  if (!ready(ordinal, reason, cap)) return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
  cudaVideoCodec codec = cuvid_codec(sd->codec);
  if (codec == cudaVideoCodec_NumCodecs) {
    snprintf(reason, cap, "%s not supported by NVDEC in vidgraph (H.264, HEVC, AV1, VP9 only)",
             sd->codec_long);
    return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
  }
  const char *cname = vgv_codec_long_name(sd->codec);
  CUdevice dev;
  CUcontext ctx = NULL, dummy;
  char gpu[128] = "GPU";
  CUresult r = g_cu->cuDeviceGet(&dev, ordinal);
  if (r == CUDA_SUCCESS) g_cu->cuDeviceGetName(gpu, sizeof gpu, dev);
  if (r == CUDA_SUCCESS) r = g_cu->cuDevicePrimaryCtxRetain(&ctx, dev);
  if (r != CUDA_SUCCESS) {
    snprintf(reason, cap, "no CUDA device: cannot use device %d: %s", ordinal, cu_err(r));
    return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
  }
  g_cu->cuCtxPushCurrent(ctx);
  bool ok = caps_ok(codec, cname, sd->chroma ? sd->chroma : 420, sd->bit_depth, sd->width,
                    sd->height, gpu, reason, cap);
  g_cu->cuCtxPopCurrent(&dummy);
  g_cu->cuDevicePrimaryCtxRelease(dev);
  if (ok) ok = format_ok(cname, sd->chroma, sd->bit_depth, reason, cap);
  if (!ok) return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
  if (sd->width > 0)
    snprintf(reason, cap, "%s%s%s %dx%d supported by NVDEC on %s", cname, sd->profile[0] ? " " : "",
             sd->profile, sd->width, sd->height, gpu);
  else
    snprintf(reason, cap, "%s supported by NVDEC on %s", cname, gpu);
  return VG_OK;
}

bool vg_nvdec_available(int ordinal, char *reason, size_t cap) {
  char tmp[320];
  bool ok = ready(ordinal, tmp, sizeof tmp);
  if (reason && cap) snprintf(reason, cap, "%s", ok ? "" : tmp);
  return ok;
}

/* ----------------------------------------------------------------- one decoder session */

typedef struct nv_dec {
  vgv_decoder base;
  CUdevice dev;
  CUcontext ctx; /* the primary context (frames live there) */
  CUcontext own; /* VG_NVDEC_CONTEXT=own: the session's own context, else NULL */
  CUvideoctxlock lock;
  CUstream stream;
  CUvideoparser parser;
  CUvideodecoder dec;
  cudaVideoCodec codec;
  char gpu[128];
  int surfaces_opt;
  unsigned num_surfaces;
  unsigned coded_w, coded_h;
  int left, top, width, height;
  bool full_range, bt709;
  bool have_ts;
  vg_status cb_status;
  char cb_msg[512];
  CUVIDEOFORMATEX ext;
  CUVIDPARSERPARAMS parser_params; /* kept for restart */
  int display_delay;
  bool own_ctx;
  cudaVideoDeinterlaceMode deinterlace;
} nv_dec;

/* An integer knob from the environment within lo..hi, else def. */
static int env_int(const char *name, int lo, int hi, int def) {
  const char *v = getenv(name);
  if (!v || !*v) return def;
  char *end;
  long x = strtol(v, &end, 10);
  return (*end || x < lo || x > hi) ? def : (int)x;
}

static bool env_is(const char *name, const char *want) {
  const char *v = getenv(name);
  return v && strcmp(v, want) == 0;
}

static int fail_cb(nv_dec *d, vg_status st) {
  if (d->cb_status == VG_OK) {
    d->cb_status = st;
    snprintf(d->cb_msg, sizeof d->cb_msg, "%s", vg_last_error());
  }
  return 0;
}

static vg_status create_decoder(nv_dec *d, const CUVIDEOFORMAT *f, unsigned surfaces) {
  CUVIDDECODECREATEINFO ci;
  memset(&ci, 0, sizeof ci);
  ci.CodecType = f->codec;
  ci.ChromaFormat = f->chroma_format;
  ci.OutputFormat = cudaVideoSurfaceFormat_NV12;
  ci.bitDepthMinus8 = f->bit_depth_luma_minus8;
  ci.DeinterlaceMode = d->deinterlace; /* weave (default): same pictures as the CPU decoder */
  ci.ulNumOutputSurfaces = 2;
  ci.ulCreationFlags = cudaVideoCreate_PreferCUVID;
  ci.ulNumDecodeSurfaces = surfaces;
  ci.vidLock = d->lock;
  ci.ulWidth = ci.ulMaxWidth = ci.ulTargetWidth = f->coded_width;
  ci.ulHeight = ci.ulMaxHeight = ci.ulTargetHeight = f->coded_height;
  CUresult r = g_cv->cuvidCreateDecoder(&d->dec, &ci);
  if (r != CUDA_SUCCESS) {
    d->dec = NULL;
    return vg_set_error(VG_ERR_BACKEND, "cuvidCreateDecoder (%ux%u, %u surfaces) failed: %s",
                        f->coded_width, f->coded_height, surfaces, cu_err(r));
  }
  d->num_surfaces = surfaces;
  d->coded_w = f->coded_width;
  d->coded_h = f->coded_height;
  return VG_OK;
}

static int CUDAAPI on_sequence(void *user, CUVIDEOFORMAT *f) {
  nv_dec *d = user;
  if (d->cb_status != VG_OK) return 0;
  int chroma = f->chroma_format == cudaVideoChromaFormat_444          ? 444
               : f->chroma_format == cudaVideoChromaFormat_422        ? 422
               : f->chroma_format == cudaVideoChromaFormat_Monochrome ? 400
                                                                      : 420;
  int depth = 8 + f->bit_depth_luma_minus8;
  const char *cname = f->codec == cudaVideoCodec_HEVC   ? "HEVC"
                      : f->codec == cudaVideoCodec_H264 ? "H.264"
                      : f->codec == cudaVideoCodec_AV1  ? "AV1"
                                                        : "VP9";
  char reason[256];
  if (!caps_ok(f->codec, cname, chroma, depth, (int)f->coded_width, (int)f->coded_height, d->gpu,
               reason, sizeof reason) ||
      !format_ok(cname, chroma, depth, reason, sizeof reason))
    return fail_cb(d, vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason));
  unsigned want = f->min_num_decode_surfaces ? f->min_num_decode_surfaces : 20;
  if (d->surfaces_opt > 0 && (unsigned)d->surfaces_opt > want) want = (unsigned)d->surfaces_opt;
  if (want > MAX_SURFACES) want = MAX_SURFACES;
  bool same = d->dec && d->coded_w == f->coded_width && d->coded_h == f->coded_height &&
              d->num_surfaces >= want;
  if (!same) {
    if (d->dec) g_cv->cuvidDestroyDecoder(d->dec);
    d->dec = NULL;
    if (create_decoder(d, f, want) != VG_OK) return fail_cb(d, vg_last_status());
  }
  d->left = f->display_area.left & ~1;
  d->top = f->display_area.top & ~1;
  d->width = f->display_area.right - f->display_area.left;
  d->height = f->display_area.bottom - f->display_area.top;
  if (d->width <= 0 || d->height <= 0) {
    d->width = (int)f->coded_width;
    d->height = (int)f->coded_height;
    d->left = d->top = 0;
  }
  d->full_range = f->video_signal_description.video_full_range_flag;
  d->bt709 = f->video_signal_description.matrix_coefficients == 1;
  double fps =
      f->frame_rate.denominator ? (double)f->frame_rate.numerator / f->frame_rate.denominator : 0;
  if (d->base.sink.format) d->base.sink.format(d->base.sink.ctx, d->width, d->height, depth, fps);
  return (int)d->num_surfaces;
}

static int CUDAAPI on_decode(void *user, CUVIDPICPARAMS *p) {
  nv_dec *d = user;
  if (!d->dec || d->cb_status != VG_OK) return 0;
  CUresult r = g_cv->cuvidDecodePicture(d->dec, p);
  if (r != CUDA_SUCCESS) atomic_fetch_add(&d->base.corrupt, 1);
  return 1;
}

static vg_status copy_out(nv_dec *d, CUdeviceptr src, unsigned pitch, vg_frame *f) {
  CUDA_MEMCPY2D c;
  memset(&c, 0, sizeof c);
  /* a context of its own (experiment): the frame set's memory belongs to the primary context,
   * the driver resolves both pointers through unified addressing */
  c.srcMemoryType = d->own_ctx ? MEMTYPE_UNIFIED : CU_MEMORYTYPE_DEVICE;
  c.dstMemoryType = d->own_ctx ? MEMTYPE_UNIFIED : CU_MEMORYTYPE_DEVICE;
  c.srcPitch = pitch;
  c.srcDevice = src + (CUdeviceptr)d->top * pitch + (CUdeviceptr)d->left;
  c.dstDevice = (CUdeviceptr)(uintptr_t)vg_frame_plane(f, 0);
  c.dstPitch = (size_t)f->pitch[0];
  c.WidthInBytes = vg_frame_plane_width_bytes(f, 0);
  c.Height = (size_t)vg_frame_plane_rows(f, 0);
  CUresult r = g_cu->cuMemcpy2DAsync(&c, d->stream);
  if (r == CUDA_SUCCESS) {
    CUdeviceptr uv = src + (CUdeviceptr)pitch * ((d->coded_h + 1) & ~1u);
    c.srcDevice = uv + (CUdeviceptr)(d->top / 2) * pitch + (CUdeviceptr)d->left;
    c.srcMemoryType = d->own_ctx ? MEMTYPE_UNIFIED : CU_MEMORYTYPE_DEVICE;
    c.dstMemoryType = d->own_ctx ? MEMTYPE_UNIFIED : CU_MEMORYTYPE_DEVICE;
    c.dstDevice = (CUdeviceptr)(uintptr_t)vg_frame_plane(f, 1);
    c.dstPitch = (size_t)f->pitch[1];
    c.WidthInBytes = vg_frame_plane_width_bytes(f, 1);
    c.Height = (size_t)vg_frame_plane_rows(f, 1);
    r = g_cu->cuMemcpy2DAsync(&c, d->stream);
  }
  if (r == CUDA_SUCCESS) r = g_cu->cuStreamSynchronize(d->stream);
  if (r != CUDA_SUCCESS)
    return vg_set_error(VG_ERR_DEVICE, "copying an NVDEC picture failed: %s", cu_err(r));
  return VG_OK;
}

static vg_status output(nv_dec *d, CUVIDPARSERDISPINFO *di) {
  CUVIDGETDECODESTATUS ds;
  memset(&ds, 0, sizeof ds);
  if (g_cv->cuvidGetDecodeStatus(d->dec, di->picture_index, &ds) == CUDA_SUCCESS &&
      (ds.decodeStatus == cuvidDecodeStatus_Error ||
       ds.decodeStatus == cuvidDecodeStatus_Error_Concealed))
    atomic_fetch_add(&d->base.concealed, 1);
  atomic_fetch_add(&d->base.decoded, 1);
  vg_frame f;
  VG_TRY(vgv_frameset_get(d->base.sink.frames, VG_PIX_NV12, d->width, d->height, &f));
  CUVIDPROCPARAMS pp;
  memset(&pp, 0, sizeof pp);
  pp.progressive_frame = di->progressive_frame;
  pp.second_field = di->repeat_first_field + 1;
  pp.top_field_first = di->top_field_first;
  pp.unpaired_field = di->repeat_first_field < 0;
  pp.output_stream = d->stream;
  CUdeviceptr src = 0;
  unsigned pitch = 0;
  CUresult r = g_cv->cuvidMapVideoFrame(d->dec, di->picture_index, &src, &pitch, &pp);
  if (r != CUDA_SUCCESS) {
    vg_frame_release(&f);
    return vg_set_error(VG_ERR_BACKEND, "cuvidMapVideoFrame failed: %s", cu_err(r));
  }
  vg_status st = copy_out(d, src, pitch, &f);
  g_cv->cuvidUnmapVideoFrame(d->dec, src);
  if (st != VG_OK) {
    vg_frame_release(&f);
    return st;
  }
  f.colorspace = d->bt709 ? VG_CS_BT709 : VG_CS_BT601;
  f.full_range = d->full_range;
  f.pts = d->have_ts ? (int64_t)di->timestamp : INT64_MIN;
  return d->base.sink.emit(d->base.sink.ctx, &f);
}

static int CUDAAPI on_display(void *user, CUVIDPARSERDISPINFO *di) {
  nv_dec *d = user;
  if (!di) return 1;
  if (d->cb_status != VG_OK) return 0;
  vg_status st = output(d, di);
  return st == VG_OK ? 1 : fail_cb(d, st);
}

static vg_status nv_decode(vgv_decoder *base, const vgv_packet *pkt) {
  nv_dec *d = (nv_dec *)base;
  if (d->cb_status != VG_OK) return vg_set_error(d->cb_status, "%s", d->cb_msg);
  CUVIDSOURCEDATAPACKET p;
  memset(&p, 0, sizeof p);
  if (pkt) {
    p.payload = pkt->data;
    p.payload_size = (tcu_ulong)pkt->size;
    if (pkt->pts != INT64_MIN) {
      p.flags |= CUVID_PKT_TIMESTAMP;
      p.timestamp = pkt->pts;
      d->have_ts = true;
    }
    if (pkt->corrupt) atomic_fetch_add(&d->base.corrupt, 1);
  } else {
    p.flags = CUVID_PKT_ENDOFSTREAM;
  }
  CUcontext dummy;
  g_cu->cuCtxPushCurrent(d->own_ctx ? d->own : d->ctx);
  CUresult r = g_cv->cuvidParseVideoData(d->parser, &p);
  g_cu->cuCtxPopCurrent(&dummy);
  if (d->cb_status != VG_OK) return vg_set_error(d->cb_status, "%s", d->cb_msg);
  if (r != CUDA_SUCCESS) {
    /* The parser refuses damaged data; the stream goes on with the next packet. */
    atomic_fetch_add(&d->base.corrupt, 1);
  }
  return VG_OK;
}

/* The next packet starts a new pass over the stream (a loop): a fresh parser, the same decoder
 * (on_sequence keeps it when the format did not change). The caller drained the old pass. */
static vg_status nv_restart(vgv_decoder *base) {
  nv_dec *d = (nv_dec *)base;
  if (d->cb_status != VG_OK) return vg_set_error(d->cb_status, "%s", d->cb_msg);
  CUcontext dummy;
  g_cu->cuCtxPushCurrent(d->own_ctx ? d->own : d->ctx);
  if (d->parser) g_cv->cuvidDestroyVideoParser(d->parser);
  d->parser = NULL;
  CUVIDPARSERPARAMS pp = d->parser_params;
  CUresult r = g_cv->cuvidCreateVideoParser(&d->parser, &pp);
  g_cu->cuCtxPopCurrent(&dummy);
  if (r != CUDA_SUCCESS) {
    d->parser = NULL;
    return vg_set_error(VG_ERR_BACKEND, "cannot restart the NVDEC parser on %s: %s", d->gpu,
                        cu_err(r));
  }
  d->have_ts = false;
  return VG_OK;
}

static void nv_destroy(vgv_decoder *base) {
  nv_dec *d = (nv_dec *)base;
  if (!d) return;
  CUcontext dummy, work = d->own ? d->own : d->ctx;
  if (work) g_cu->cuCtxPushCurrent(work);
  if (d->parser) g_cv->cuvidDestroyVideoParser(d->parser);
  if (d->dec) g_cv->cuvidDestroyDecoder(d->dec);
  if (d->lock) g_cv->cuvidCtxLockDestroy(d->lock);
  if (d->stream) g_cu->cuStreamDestroy(d->stream);
  if (work) g_cu->cuCtxPopCurrent(&dummy);
  if (d->own) g_cu->cuCtxDestroy(d->own);
  if (d->ctx) g_cu->cuDevicePrimaryCtxRelease(d->dev);
  free(d);
}

static vg_status nv_init(nv_dec *d, const vgv_stream_desc *sd, int ordinal) {
  CUresult r = g_cu->cuDeviceGet(&d->dev, ordinal);
  if (r == CUDA_SUCCESS) g_cu->cuDeviceGetName(d->gpu, sizeof d->gpu, d->dev);
  if (r == CUDA_SUCCESS) r = g_cu->cuDevicePrimaryCtxRetain(&d->ctx, d->dev);
  if (r != CUDA_SUCCESS) {
    d->ctx = NULL;
    return vg_set_error(VG_ERR_DEVICE, "cannot use CUDA device %d: %s", ordinal, cu_err(r));
  }
  if (env_is("VG_NVDEC_CONTEXT", "own")) {
    /* experiment: a context of its own; the primary one stays retained for the frames */
    r = g_cu->cuCtxCreate(&d->own, 0, d->dev);
    if (r != CUDA_SUCCESS)
      return vg_set_error(VG_ERR_DEVICE, "cannot create a CUDA context on %s: %s", d->gpu,
                          cu_err(r));
    CUcontext dummy;
    g_cu->cuCtxPopCurrent(&dummy);
    d->own_ctx = true;
  }
  CUcontext dummy, work = d->own_ctx ? d->own : d->ctx;
  g_cu->cuCtxPushCurrent(work);
  r = g_cv->cuvidCtxLockCreate(&d->lock, work);
  if (r == CUDA_SUCCESS) r = g_cu->cuStreamCreate(&d->stream, CU_STREAM_NON_BLOCKING);
  if (r == CUDA_SUCCESS) {
    CUVIDPARSERPARAMS pp;
    memset(&pp, 0, sizeof pp);
    pp.CodecType = d->codec;
    pp.ulMaxNumDecodeSurfaces = 1; /* raised by on_sequence */
    pp.ulMaxDisplayDelay = (unsigned)d->display_delay;
    pp.pUserData = d;
    pp.pfnSequenceCallback = on_sequence;
    pp.pfnDecodePicture = on_decode;
    pp.pfnDisplayPicture = on_display;
    /* AV1 in mp4/mkv: the sequence header travels in av1C after its 4-byte header. */
    if (sd->codec == VGV_CODEC_AV1 && sd->extradata_size > 4 && (sd->extradata[0] & 0x80) &&
        sd->extradata_size - 4 <= (int)sizeof d->ext.raw_seqhdr_data) {
      d->ext.format.seqhdr_data_length = (unsigned)(sd->extradata_size - 4);
      memcpy(d->ext.raw_seqhdr_data, sd->extradata + 4, (size_t)sd->extradata_size - 4);
      pp.pExtVideoInfo = &d->ext;
    }
    d->parser_params = pp;
    r = g_cv->cuvidCreateVideoParser(&d->parser, &pp);
  }
  g_cu->cuCtxPopCurrent(&dummy);
  if (r != CUDA_SUCCESS)
    return vg_set_error(VG_ERR_BACKEND, "cannot create an NVDEC session on %s: %s", d->gpu,
                        cu_err(r));
  return VG_OK;
}

vg_status vgv_nvdec_decoder_create(const vgv_stream_desc *sd, const vg_source_opts *o,
                                   vgv_sink sink, vgv_decoder **out) {
  *out = NULL;
  char reason[320];
  if (!ready(o->device, reason, sizeof reason))
    return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
  if (cuvid_codec(sd->codec) == cudaVideoCodec_NumCodecs)
    return vg_set_error(VG_ERR_UNSUPPORTED, "%s not supported by NVDEC in vidgraph",
                        sd->codec_long);
  nv_dec *d = calloc(1, sizeof *d);
  if (!d) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating an NVDEC session");
  d->base.decode = nv_decode;
  d->base.destroy = nv_destroy;
  if (!env_is("VG_NVDEC_RECREATE", "1")) d->base.restart = nv_restart;
  d->base.sink = sink;
  d->codec = cuvid_codec(sd->codec);
  d->surfaces_opt = o->decode_surfaces;
  d->display_delay = env_int("VG_NVDEC_DISPLAY_DELAY", 0, 16, sd->live ? 2 : 4);
  d->deinterlace = env_is("VG_NVDEC_DEINTERLACE", "adaptive") ? cudaVideoDeinterlaceMode_Adaptive
                   : env_is("VG_NVDEC_DEINTERLACE", "bob")    ? cudaVideoDeinterlaceMode_Bob
                                                              : cudaVideoDeinterlaceMode_Weave;
  vg_status st = nv_init(d, sd, o->device);
  if (st != VG_OK) {
    nv_destroy(&d->base);
    return st;
  }
  snprintf(d->base.detail, sizeof d->base.detail, "NVDEC on %s", d->gpu);
  *out = &d->base;
  return VG_OK;
}

#else /* !VG_HAVE_CUDA */

static const char *k_no_cuda =
    "no CUDA device: this build of vidgraph has no CUDA support (nvcc was not found when it was "
    "configured)";

vg_status vgv_nvdec_check(const vgv_stream_desc *sd, int ordinal, char *reason, size_t cap) {
  (void)sd;
  (void)ordinal;
  snprintf(reason, cap, "%s", k_no_cuda);
  return vg_set_error(VG_ERR_UNSUPPORTED, "%s", reason);
}

bool vg_nvdec_available(int ordinal, char *reason, size_t cap) {
  (void)ordinal;
  if (reason && cap) snprintf(reason, cap, "%s", k_no_cuda);
  return false;
}

vg_status vgv_nvdec_decoder_create(const vgv_stream_desc *sd, const vg_source_opts *o,
                                   vgv_sink sink, vgv_decoder **out) {
  (void)sd;
  (void)o;
  (void)sink;
  *out = NULL;
  return vg_set_error(VG_ERR_UNSUPPORTED, "%s", k_no_cuda);
}
#endif
