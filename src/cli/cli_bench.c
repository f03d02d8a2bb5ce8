/* cli_bench.c - `vidgraph bench MODEL ...`: inference latency in the spirit of trtexec. Loads the
 * model with the chosen provider and options, runs warm-up iterations, then times each run and
 * prints min, mean, median, p90, p99, throughput, the host<->device copy time a run pays when
 * inputs/outputs are not bound on the device, and the device memory the model took. */
#include "cli.h"
#include "core/json_out.h"
#include "vidgraph/vg_infer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPES 16

typedef struct bench_opts {
  const char *path;
  vg_model_spec spec;
  int batch, warmup, iterations;
  bool json;
  int nshapes;
  char shape_names[MAX_SHAPES][VG_IO_NAME_MAX];
  int shape_ndim[MAX_SHAPES];
  int64_t shapes[MAX_SHAPES][VG_MAX_DIMS];
} bench_opts;

static int usage(FILE *f) {
  fprintf(f,
          "usage: vidgraph bench MODEL.onnx [--provider tensorrt|cuda|cpu] [--batch N]\n"
          "         [--shape NAME:D0xD1x...] [--warmup N] [--iterations N] [--io-binding]\n"
          "         [--cuda-graph] [--device N] [--threads N] [--fp16] [--json]\n"
          "  Times N runs after warm-up: min/mean/median/p90/p99 latency, throughput, copy time\n"
          "  when not bound on the device, device memory. Inputs are random; dynamic dims other\n"
          "  than the batch need --shape.\n");
  return f == stdout ? 0 : 2;
}

static int bad(const char *msg, const char *arg) {
  fprintf(stderr, "vidgraph bench: %s '%s'\n", msg, arg ? arg : "");
  return 2;
}

static int parse_shape(bench_opts *o, const char *arg) {
  const char *colon = strrchr(arg, ':');
  if (!colon || colon == arg || o->nshapes == MAX_SHAPES || (size_t)(colon - arg) >= VG_IO_NAME_MAX)
    return bad("bad --shape (NAME:D0xD1x...)", arg);
  int k = o->nshapes;
  snprintf(o->shape_names[k], VG_IO_NAME_MAX, "%.*s", (int)(colon - arg), arg);
  int nd = 0;
  const char *p = colon + 1;
  while (*p && nd < VG_MAX_DIMS) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v <= 0 || v > (1LL << 31) || (*end && *end != 'x'))
      return bad("bad --shape", arg);
    o->shapes[k][nd++] = v;
    p = *end ? end + 1 : end;
  }
  if (*p || nd == 0) return bad("bad --shape", arg);
  o->shape_ndim[k] = nd;
  o->nshapes++;
  return 0;
}

static int parse_int(const char *arg, int lo, int hi, int *out) {
  char *end;
  long v = arg ? strtol(arg, &end, 10) : 0;
  if (!arg || *end || v < lo || v > hi) return bad("bad number", arg);
  *out = (int)v;
  return 0;
}

static int parse_args(int argc, char **argv, bench_opts *o) {
  vg_model_spec_init(&o->spec);
  o->batch = 1, o->warmup = 10, o->iterations = 100;
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_is(a, "-h", "--help")) return usage(stdout) - 1;
    if (cli_is(a, "--json", NULL))
      o->json = true;
    else if (cli_is(a, "--io-binding", NULL))
      o->spec.io_binding = true;
    else if (cli_is(a, "--cuda-graph", NULL))
      o->spec.cuda.cuda_graph = true;
    else if (cli_is(a, "--fp16", NULL))
      o->spec.trt.fp16 = true;
    else if (cli_is(a, "--provider", NULL) && ++i) {
      if (vg_provider_parse(v, &o->spec.providers[0]) != VG_OK) return bad("unknown provider", v);
      o->spec.nproviders = 1;
    } else if (cli_is(a, "--batch", NULL) && ++i)
      rc = parse_int(v, 1, 1 << 16, &o->batch);
    else if (cli_is(a, "--warmup", NULL) && ++i)
      rc = parse_int(v, 0, 100000, &o->warmup);
    else if (cli_is(a, "--iterations", NULL) && ++i)
      rc = parse_int(v, 1, 1000000, &o->iterations);
    else if (cli_is(a, "--device", NULL) && ++i)
      rc = parse_int(v, 0, 63, &o->spec.cuda.device_id);
    else if (cli_is(a, "--threads", NULL) && ++i)
      rc = parse_int(v, 0, 1024, &o->spec.cpu.threads);
    else if (cli_is(a, "--shape", NULL) && ++i)
      rc = v ? parse_shape(o, v) : bad("missing value for", a);
    else if (a[0] == '-')
      return bad("unknown option", a);
    else if (!o->path)
      o->path = a;
    else
      return bad("unexpected argument", a);
  }
  if (rc) return rc;
  if (!o->path) return usage(stderr);
  snprintf(o->spec.path, sizeof o->spec.path, "%s", o->path);
  return 0;
}

/* ----------------------------------------------------------------- inputs */

static void fill_random(vg_tensor *t, uint32_t seed) {
  size_t n = (size_t)vg_tensor_numel(t);
  uint32_t s = seed * 747796405u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    float f = (float)(s >> 8) / 16777216.0f; /* [0,1) */
    switch (t->dtype) {
    case VG_DTYPE_F32:
      ((float *)vg_tensor_data(t))[i] = f;
      break;
    case VG_DTYPE_F16:
      ((uint16_t *)vg_tensor_data(t))[i] = vg_f32_to_f16(f);
      break;
    case VG_DTYPE_U8:
      ((uint8_t *)vg_tensor_data(t))[i] = (uint8_t)(f * 255);
      break;
    case VG_DTYPE_I32:
      ((int32_t *)vg_tensor_data(t))[i] = 0;
      break;
    default:
      ((int64_t *)vg_tensor_data(t))[i] = 0;
      break;
    }
  }
}

/* Host tensors for every input: --shape, else the model's shape with the batch filled in. */
static vg_status make_inputs(const bench_opts *o, vg_model *m, vg_tensor *in) {
  for (int i = 0; i < vg_model_input_count(m); i++) {
    const vg_model_io *io = vg_model_input(m, i);
    int64_t shape[VG_MAX_DIMS];
    int nd = io->ndim;
    memcpy(shape, io->shape, sizeof shape);
    for (int k = 0; k < o->nshapes; k++) {
      if (strcmp(o->shape_names[k], io->name) == 0) {
        nd = o->shape_ndim[k];
        memcpy(shape, o->shapes[k], sizeof shape);
      }
    }
    if (nd > 0 && shape[0] < 0) shape[0] = o->batch;
    for (int d = 0; d < nd; d++)
      if (shape[d] < 0)
        return vg_set_error(VG_ERR_INVALID_ARG,
                            "input '%s' has the dynamic dimension %d ('%s'): give --shape %s:...",
                            io->name, d, io->dim_names[d], io->name);
    if (!io->dtype_supported)
      return vg_set_error(VG_ERR_UNSUPPORTED, "input '%s' has element type %s", io->name,
                          io->type_name);
    VG_TRY(vg_tensor_alloc(io->dtype, nd, shape, vg_cpu(), NULL, &in[i]));
    fill_random(&in[i], (uint32_t)i + 1);
  }
  return VG_OK;
}

/* ----------------------------------------------------------------- timing */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double q) {
  int k = (int)ceil(q * n) - 1;
  return sorted[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* Mean time of copying the inputs to the device and the outputs back (what an unbound GPU run
 * pays inside ONNX Runtime), measured with plain pageable copies. */
static double copy_estimate_ms(vg_device dev, const vg_tensor *in, int nin, const vg_tensor *out,
                               int nout) {
  size_t bytes = 0;
  for (int i = 0; i < nin; i++)
    bytes += vg_tensor_nbytes(&in[i]);
  for (int i = 0; i < nout; i++)
    bytes += vg_tensor_nbytes(&out[i]);
  void *d = NULL, *h = malloc(bytes ? bytes : 1);
  if (!h || vg_mem_alloc(dev, bytes ? bytes : 1, &d) != VG_OK) {
    free(h);
    return -1;
  }
  memset(h, 1, bytes);
  int64_t t0 = vg_now_ns();
  for (int r = 0; r < 10; r++) {
    size_t off = 0;
    for (int i = 0; i < nin; i++) {
      vg_memcpy((char *)d + off, dev, (char *)h + off, vg_cpu(), vg_tensor_nbytes(&in[i]));
      off += vg_tensor_nbytes(&in[i]);
    }
    for (int i = 0; i < nout; i++) {
      vg_memcpy((char *)h + off, vg_cpu(), (char *)d + off, dev, vg_tensor_nbytes(&out[i]));
      off += vg_tensor_nbytes(&out[i]);
    }
  }
  double ms = (double)(vg_now_ns() - t0) / 1e6 / 10;
  vg_mem_free(dev, d);
  free(h);
  return ms;
}

static size_t free_device_mem(int ordinal) {
  vg_device_info d;
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0 || vg_device_info_get(vg_cuda(ordinal), &d) != VG_OK) return 0;
  return d.free_mem;
}

static vg_status timed_runs(vg_model *m, const bench_opts *o, const vg_tensor *in, int nin,
                            double *ms, vg_tensor *last_out) {
  int nout = vg_model_output_count(m);
  vg_tensor *out = calloc((size_t)nout + 1, sizeof *out);
  if (!out) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  vg_status s = VG_OK;
  for (int it = 0; it < o->warmup + o->iterations && s == VG_OK; it++) {
    int64_t t0 = vg_now_ns();
    s = vg_model_run(m, NULL, in, nin, out, nout, NULL);
    if (s == VG_OK && it >= o->warmup) ms[it - o->warmup] = (double)(vg_now_ns() - t0) / 1e6;
    for (int k = 0; k < nout; k++) {
      if (s == VG_OK && it + 1 == o->warmup + o->iterations) vg_tensor_view(&out[k], &last_out[k]);
      vg_tensor_release(&out[k]);
    }
  }
  free(out);
  return s;
}

/* ----------------------------------------------------------------- report */

static void report(const bench_opts *o, vg_model *m, double *ms, double copy_ms, long long mem,
                   const vg_tensor *in, int nin) {
  int n = o->iterations;
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += ms[i];
  qsort(ms, (size_t)n, sizeof *ms, cmp_double);
  double mean = sum / n;
  int64_t batch = nin > 0 && in[0].ndim > 0 ? in[0].shape[0] : 1;
  vg_model_stats st;
  vg_model_get_stats(m, &st);
  char *rep = vg_model_report_json(m);
  json_t *r = json_object(), *shapes = json_object();
  char buf[128];
  for (int i = 0; i < nin; i++)
    json_object_set_new(shapes, vg_model_input(m, i)->name,
                        vg_json_text(vg_tensor_str(&in[i], buf, sizeof buf)));
  json_object_set_new(r, "model", vg_json_text(o->path));
  json_object_set_new(r, "inputs", shapes);
  json_object_set_new(r, "warmup", json_integer(o->warmup));
  json_object_set_new(r, "iterations", json_integer(n));
  json_object_set_new(r, "latency_ms",
                      json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "min", ms[0], "mean", mean, "median",
                                pct(ms, n, 0.5), "p90", pct(ms, n, 0.9), "p99", pct(ms, n, 0.99),
                                "max", ms[n - 1]));
  json_object_set_new(r, "throughput_per_s",
                      json_real(mean > 0 ? (double)batch * 1000.0 / mean : 0));
  json_object_set_new(r, "copy_ms_per_run", copy_ms >= 0 ? json_real(copy_ms) : json_null());
  json_object_set_new(r, "model_staging_copies", json_integer((json_int_t)st.copies));
  json_object_set_new(r, "device_mem_bytes", mem >= 0 ? json_integer(mem) : json_null());
  json_object_set_new(r, "report", rep ? json_loads(rep, 0, NULL) : json_null());
  free(rep);
  if (o->json) {
    char *s = json_dumps(r, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    printf("%s\n", s);
    free(s);
  } else {
    json_t *rp = json_object_get(r, "report");
    printf("model %s on %s (io_binding %s, cuda_graph %s)\n", o->path,
           json_string_value(json_object_get(rp, "provider")),
           json_is_true(json_object_get(rp, "io_binding")) ? "on" : "off",
           json_is_true(json_object_get(rp, "cuda_graph")) ? "on" : "off");
    printf("latency ms: min %.3f  mean %.3f  median %.3f  p90 %.3f  p99 %.3f  max %.3f (%d runs)\n",
           ms[0], mean, pct(ms, n, 0.5), pct(ms, n, 0.9), pct(ms, n, 0.99), ms[n - 1], n);
    printf("throughput: %.1f items/s (batch %lld)\n", mean > 0 ? batch * 1000.0 / mean : 0,
           (long long)batch);
    if (copy_ms >= 0) printf("host<->device copies (not bound): %.3f ms per run\n", copy_ms);
    if (mem >= 0) printf("device memory: %.1f MiB\n", (double)mem / (1 << 20));
  }
  json_decref(r);
}

static int run_bench(bench_opts *o) {
  size_t free0 = free_device_mem(o->spec.cuda.device_id);
  vg_model *m;
  if (vg_model_load(&o->spec, &m) != VG_OK) return cli_fail("bench", "cannot load the model");
  int nin = vg_model_input_count(m), nout = vg_model_output_count(m);
  vg_tensor *in = calloc((size_t)nin + 1, sizeof *in),
            *dev_in = calloc((size_t)nin + 1, sizeof *in),
            *out = calloc((size_t)nout + 1, sizeof *out);
  double *ms = calloc((size_t)o->iterations, sizeof *ms);
  int rc = 1;
  vg_device od = vg_model_output_device(m);
  vg_status s = in && dev_in && out && ms ? make_inputs(o, m, in)
                                          : vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  /* Bound on the GPU: inputs live on the device before timing starts (zero-copy runs). */
  for (int i = 0; s == VG_OK && i < nin; i++)
    s = od.kind == VG_DEVICE_CUDA ? vg_tensor_to_device(&in[i], od, NULL, NULL, &dev_in[i])
                                  : (vg_tensor_view(&in[i], &dev_in[i]), VG_OK);
  if (s == VG_OK) s = timed_runs(m, o, dev_in, nin, ms, out);
  if (s == VG_OK) {
    vg_model_report r;
    vg_model_get_report(m, &r);
    bool gpu = r.used != VG_PROVIDER_CPU;
    double copy_ms = gpu && !r.io_binding
                         ? copy_estimate_ms(vg_cuda(o->spec.cuda.device_id), in, nin, out, nout)
                         : (gpu ? 0 : -1);
    size_t free1 = free_device_mem(o->spec.cuda.device_id);
    long long mem = gpu && free0 >= free1 ? (long long)(free0 - free1) : -1;
    report(o, m, ms, copy_ms, mem, in, nin);
    rc = 0;
  } else {
    rc = cli_fail("bench", vg_model_name(m));
  }
  for (int i = 0; i < nin && in; i++)
    vg_tensor_release(&in[i]);
  for (int i = 0; i < nin && dev_in; i++)
    vg_tensor_release(&dev_in[i]);
  for (int i = 0; i < nout && out; i++)
    vg_tensor_release(&out[i]);
  free(in), free(dev_in), free(out), free(ms);
  vg_model_free(m);
  return rc;
}

int cli_bench(int argc, char **argv) {
  bench_opts *o = calloc(1, sizeof *o);
  if (!o) return 1;
  int rc = parse_args(argc, argv, o);
  if (rc == 0)
    rc = run_bench(o);
  else if (rc < 0)
    rc = 0; /* --help */
  free(o);
  return rc;
}
