/* routes_system.c - GET /api/health and GET /api/system/info: version, build flags, CPU, GPUs,
 * ONNX Runtime, every execution provider with the exact reason it is not usable here (the same
 * probe `vidgraph check` runs, done once and kept), decoders (NVDEC or why not), the driver
 * release (NVML) beside each GPU's CUDA driver API version, the JPEG encoder of device frames
 * (nvJPEG or why not), uptime. */
#include "server_internal.h"
#include "vidgraph/vg_video.h"

#include <stdlib.h>
#include <string.h>

static double uptime_s(const vg_server *s) {
  return (double)(vg_now_ns() - s->t_start_ns) / 1e9;
}

enum MHD_Result srv_route_health(srv_req *rq) {
  if (strcmp(rq->method, "GET") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/api/health is GET only");
  return srv_reply_json(rq, 200,
                        json_pack("{s:s,s:s,s:f}", "status", "ok", "version", VG_VERSION_STRING,
                                  "uptime_s", uptime_s(rq->srv)));
}

/* ONNX Runtime's name of a provider, as the dashboard and ORT users know them. */
const char *srv_ort_provider_name(vg_provider p) {
  switch (p) {
  case VG_PROVIDER_TENSORRT:
    return "TensorrtExecutionProvider";
  case VG_PROVIDER_CUDA:
    return "CUDAExecutionProvider";
  default:
    return "CPUExecutionProvider";
  }
}

static json_t *providers_json(void) {
  json_t *a = json_array();
  for (int p = 0; p < VG_PROVIDER_COUNT_; p++) {
    char why[1024] = "";
    vg_status st = vg_infer_probe_provider((vg_provider)p, 0, why, sizeof why);
    json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:s}", "name",
                                       srv_ort_provider_name((vg_provider)p), "short",
                                       vg_provider_name((vg_provider)p), "usable", st == VG_OK,
                                       "reason", st == VG_OK ? "" : why));
  }
  vg_clear_error();
  return a;
}

static json_t *gpus_json(int *count) {
  json_t *a = json_array();
  *count = 0;
  vg_cuda_device_count(count);
  for (int i = 0; i < *count; i++) {
    vg_device_info d;
    if (vg_device_info_get(vg_cuda(i), &d) != VG_OK) continue;
    char cc[16], api[16];
    snprintf(cc, sizeof cc, "%d.%d", d.cc_major, d.cc_minor);
    snprintf(api, sizeof api, "%d.%d", d.driver_version / 1000, (d.driver_version % 1000) / 10);
    json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:I,s:s,s:s,s:i}", "index", i, "name", d.name,
                                       "memory_used", (json_int_t)(d.total_mem - d.free_mem),
                                       "memory_total", (json_int_t)d.total_mem,
                                       "compute_capability", cc, "cuda_driver_api", api,
                                       "multiprocessors", d.multiprocessors));
  }
  return a;
}

/* The driver release through NVML ("580.65.06"), or null and the reason. */
static json_t *driver_json(void) {
  char rel[96];
  vg_status st = vg_driver_release(rel, sizeof rel);
  json_t *o = json_pack("{s:o,s:s}", "release", st == VG_OK ? json_string(rel) : json_null(),
                        "reason", st == VG_OK ? "" : vg_last_error());
  vg_clear_error();
  return o;
}

/* Which encoder JPEGs of device frames get (frame.jpg, MJPEG, jpeg_sink), and why. */
static json_t *jpeg_json(void) {
  char why[512] = "";
  const char *enc = vg_jpeg_device_encoder(0, why, sizeof why);
  char summary[600];
  if (strcmp(enc, "nvjpeg") == 0)
    snprintf(summary, sizeof summary, "jpeg: nvjpeg %s", vg_jpeg_nvjpeg_version());
  else
    snprintf(summary, sizeof summary, "jpeg: libjpeg (%s)", why);
  return json_pack("{s:s,s:s,s:s,s:s}", "device_frames", enc, "reason", why, "nvjpeg_version",
                   vg_jpeg_nvjpeg_version(), "summary", summary);
}

/* The slow part (provider probes create sessions) once per process; GPU memory fresh each time. */
static json_t *static_info(vg_server *s) {
  pthread_mutex_lock(&s->info_mu);
  if (!s->system_info) {
    json_t *o = json_object();
    json_object_set_new(o, "providers", providers_json());
    int n = 0;
    vg_cuda_device_count(&n);
    char why[512] = "";
    bool nvdec = n > 0 && vg_nvdec_available(0, why, sizeof why);
    if (n == 0) snprintf(why, sizeof why, "%s", vg_cuda_unavailable_reason());
    json_object_set_new(o, "decoders",
                        json_pack("[{s:s,s:b,s:s},{s:s,s:b,s:s}]", "name", "nvdec", "usable", nvdec,
                                  "reason", nvdec ? "" : why, "name", "cpu", "usable",
                                  vg_video_have_ffmpeg(), "reason",
                                  vg_video_have_ffmpeg() ? ""
                                                         : "this build has no FFmpeg (raw "
                                                           ".h264/.hevc streams on NVDEC only)"));
    s->system_info = o;
  }
  json_t *copy = json_deep_copy(s->system_info);
  pthread_mutex_unlock(&s->info_mu);
  return copy;
}

enum MHD_Result srv_route_system_info(srv_req *rq) {
  if (strcmp(rq->method, "GET") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/api/system/info is GET only");
  vg_server *s = rq->srv;
  json_t *o = static_info(s);
  json_object_set_new(o, "version", json_string(VG_VERSION_STRING));
  bool ffmpeg = vg_video_have_ffmpeg();
#if defined(__SANITIZE_ADDRESS__)
  bool sanitize = true;
#else
  bool sanitize = false;
#endif
  json_object_set_new(o, "build",
                      json_pack("{s:b,s:b,s:b,s:s}", "cuda", vg_cuda_compiled(), "ffmpeg", ffmpeg,
                                "sanitize", sanitize, "info", vg_build_info()));
  vg_device_info cpu;
  memset(&cpu, 0, sizeof cpu);
  vg_device_info_get(vg_cpu(), &cpu);
  json_object_set_new(o, "cpu",
                      json_pack("{s:s,s:i,s:I}", "model", cpu.name, "cores", cpu.multiprocessors,
                                "memory_total", (json_int_t)cpu.total_mem));
  int n = 0;
  json_object_set_new(o, "gpus", gpus_json(&n));
  if (n == 0) json_object_set_new(o, "gpu_reason", json_string(vg_cuda_unavailable_reason()));
  json_object_set_new(o, "driver", driver_json());
  json_object_set_new(o, "jpeg", jpeg_json());
  json_object_set_new(o, "onnxruntime",
                      json_pack("{s:s,s:s}", "version", vg_infer_runtime_version(), "origin",
                                vg_infer_provider_lib_dir()));
  json_object_set_new(o, "uptime_s", json_real(uptime_s(s)));
  vg_clear_error();
  return srv_reply_json(rq, 200, o);
}
