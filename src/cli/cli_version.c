/* cli_version.c - `vidgraph version`: version, build options, ONNX Runtime, devices, the driver
 * release (NVML) and the JPEG encoder of device frames (nvJPEG or libjpeg and why). */
#include "cli.h"
#include "vidgraph/vg_infer.h"
#include "vidgraph/vg_video.h"

#include <jansson.h>
#include <string.h>

static void print_text(void) {
  printf("vidgraph %s\n", VG_VERSION_STRING);
  printf("build:        %s\n", vg_build_info());
  printf("cuda support: %s\n",
         vg_cuda_compiled() ? "compiled in (cudart static)" : "not compiled in");
  printf("onnxruntime:  %s\n", vg_infer_runtime_version());
  vg_device_info cpu;
  vg_device_info_get(vg_cpu(), &cpu);
  printf("devices:\n  cpu       %s, %d cores, %.1f GiB\n", cpu.name, cpu.multiprocessors,
         (double)cpu.total_mem / (1 << 30));
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) printf("  cuda      none: %s\n", vg_cuda_unavailable_reason());
  for (int i = 0; i < n; i++) {
    vg_device_info d;
    if (vg_device_info_get(vg_cuda(i), &d) != VG_OK) {
      printf("  cuda:%d    error: %s\n", i, vg_last_error());
      continue;
    }
    printf("  cuda:%d    %s, sm_%d%d, %d SMs, %.1f GiB (%.1f free), CUDA driver API %d.%d, "
           "runtime %d.%d\n",
           i, d.name, d.cc_major, d.cc_minor, d.multiprocessors, (double)d.total_mem / (1 << 30),
           (double)d.free_mem / (1 << 30), d.driver_version / 1000, (d.driver_version % 1000) / 10,
           d.runtime_version / 1000, (d.runtime_version % 1000) / 10);
  }
  char rel[96], why[512];
  if (vg_driver_release(rel, sizeof rel) == VG_OK)
    printf("driver:       %s\n", rel);
  else
    printf("driver:       unknown (%s)\n", vg_last_error());
  const char *enc = vg_jpeg_device_encoder(0, why, sizeof why);
  if (why[0])
    printf("jpeg:         %s (%s)\n", enc, why);
  else
    printf("jpeg:         %s %s\n", enc, vg_jpeg_nvjpeg_version());
  vg_clear_error();
}

static json_t *device_json(const vg_device_info *d) {
  char ds[16];
  return json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:i,s:i,s:i}", "device",
                   vg_device_str(d->device, ds, sizeof ds), "name", d->name, "total_mem",
                   (json_int_t)d->total_mem, "free_mem", (json_int_t)d->free_mem, "cc_major",
                   d->cc_major, "cc_minor", d->cc_minor, "multiprocessors", d->multiprocessors,
                   "driver_version", d->driver_version, "runtime_version", d->runtime_version);
}

static void print_json(void) {
  json_t *root = json_object();
  json_object_set_new(root, "version", json_string(VG_VERSION_STRING));
  json_object_set_new(root, "build", json_string(vg_build_info()));
  json_object_set_new(root, "cuda_compiled", json_boolean(vg_cuda_compiled()));
  json_object_set_new(root, "onnxruntime", json_string(vg_infer_runtime_version()));
  json_t *devs = json_array();
  vg_device_info cpu;
  vg_device_info_get(vg_cpu(), &cpu);
  json_array_append_new(devs, device_json(&cpu));
  int n = 0;
  vg_cuda_device_count(&n);
  for (int i = 0; i < n; i++) {
    vg_device_info d;
    if (vg_device_info_get(vg_cuda(i), &d) == VG_OK) json_array_append_new(devs, device_json(&d));
  }
  json_object_set_new(root, "devices", devs);
  if (n == 0)
    json_object_set_new(root, "cuda_unavailable", json_string(vg_cuda_unavailable_reason()));
  char rel[96], why[512];
  vg_status st = vg_driver_release(rel, sizeof rel);
  json_object_set_new(root, "driver",
                      json_pack("{s:o,s:s}", "release",
                                st == VG_OK ? json_string(rel) : json_null(), "reason",
                                st == VG_OK ? "" : vg_last_error()));
  const char *enc = vg_jpeg_device_encoder(0, why, sizeof why);
  json_object_set_new(root, "jpeg",
                      json_pack("{s:s,s:s,s:s}", "device_frames", enc, "reason", why,
                                "nvjpeg_version", vg_jpeg_nvjpeg_version()));
  vg_clear_error();
  char *s = json_dumps(root, JSON_INDENT(2));
  printf("%s\n", s);
  free(s);
  json_decref(root);
}

int cli_version(int argc, char **argv) {
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (cli_is(argv[i], "--json", NULL)) {
      json = true;
    } else if (cli_is(argv[i], "-h", "--help")) {
      printf("usage: vidgraph version [--json]\n");
      return 0;
    } else {
      fprintf(stderr, "vidgraph version: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (json)
    print_json();
  else
    print_text();
  return 0;
}
