/* spec.c - model specs: defaults and reading one from a config map (a graph node's params or a
 * `models:` entry), with errors that name the file, line and key. */
#include "infer_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void vg_model_spec_init(vg_model_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->required = true;
  spec->providers[0] = VG_PROVIDER_TENSORRT;
  spec->providers[1] = VG_PROVIDER_CUDA;
  spec->providers[2] = VG_PROVIDER_CPU;
  spec->nproviders = 3;
  spec->trt.builder_opt_level = -1;
  spec->cuda.conv_algo_search = VG_CONV_ALGO_EXHAUSTIVE;
  spec->buckets.enabled = -1;
  spec->buckets.pin_sessions = -1;
  spec->warmup = -1;
  spec->own_thread = -1;
}

static const char *const g_top_keys[] = {
    "model",      "path",      "fallback", "fallbacks", "name",    "required", "providers",
    "io_binding", "max_batch", "tensorrt", "cuda",      "cpu",     "buckets",  "warmup",
    "precision",  "own_thread", NULL};
static const char *const g_trt_keys[] = {
    "fp16",         "int8", "workspace_mb", "builder_optimization_level", "engine_cache",
    "timing_cache", NULL};
static const char *const g_cuda_keys[] = {"device", "conv_algo_search", "mem_limit_mb",
                                          "cuda_graph", NULL};
static const char *const g_cpu_keys[] = {"threads", NULL};
static const char *const g_bucket_keys[] = {"batch",      "width",        "enabled",
                                            "warm_shape", "pin_sessions", NULL};

/* Every key of map must be in allowed (extra keys are allowed when extra_ok). */
static vg_status check_keys(const vg_cnode *map, const char *const *allowed, bool extra_ok) {
  if (vg_cnode_get_kind(map) != VG_CNODE_MAP)
    return vg_cnode_error(map, VG_ERR_PARSE, "expected a map");
  if (extra_ok) return VG_OK;
  for (size_t i = 0; i < vg_cnode_len(map); i++) {
    const char *k = vg_cnode_key_at(map, i);
    bool ok = false;
    for (int j = 0; allowed[j] && !ok; j++)
      ok = strcmp(k, allowed[j]) == 0;
    if (!ok) {
      char list[256] = "";
      for (int j = 0; allowed[j]; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 allowed[j]);
      return vg_cnode_error(vg_cnode_at(map, i), VG_ERR_PARSE, "unknown key '%s' (known: %s)", k,
                            list);
    }
  }
  return VG_OK;
}

static bool file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* Resolves a path: as given when absolute or present from the working directory, else under
 * base_dir. */
static vg_status resolve_path(const vg_cnode *n, const char *base_dir, char *out) {
  const char *p;
  VG_TRY(vg_cnode_as_string(n, &p));
  if (!p[0]) return vg_cnode_error(n, VG_ERR_PARSE, "empty model path");
  if (strlen(p) >= VG_MODEL_PATH_MAX)
    return vg_cnode_error(n, VG_ERR_PARSE, "model path longer than %d bytes",
                          VG_MODEL_PATH_MAX - 1);
  if (p[0] == '/' || !base_dir || !base_dir[0] || file_exists(p)) {
    snprintf(out, VG_MODEL_PATH_MAX, "%s", p);
    return VG_OK;
  }
  char joined[2 * VG_MODEL_PATH_MAX];
  snprintf(joined, sizeof joined, "%s/%s", base_dir, p);
  snprintf(out, VG_MODEL_PATH_MAX, "%s", file_exists(joined) ? joined : p);
  return VG_OK;
}

static vg_status read_fallbacks(const vg_cnode *n, const char *base_dir, vg_model_spec *spec) {
  if (vg_cnode_get_kind(n) == VG_CNODE_SCALAR) {
    spec->nfallbacks = 1;
    return resolve_path(n, base_dir, spec->fallbacks[0]);
  }
  if (vg_cnode_get_kind(n) != VG_CNODE_SEQ)
    return vg_cnode_error(n, VG_ERR_PARSE, "expected a path or a list of paths");
  if (vg_cnode_len(n) > VG_MODEL_MAX_FALLBACKS)
    return vg_cnode_error(n, VG_ERR_PARSE, "%zu fallback models; at most %d", vg_cnode_len(n),
                          VG_MODEL_MAX_FALLBACKS);
  spec->nfallbacks = (int)vg_cnode_len(n);
  for (int i = 0; i < spec->nfallbacks; i++)
    VG_TRY(resolve_path(vg_cnode_at(n, (size_t)i), base_dir, spec->fallbacks[i]));
  return VG_OK;
}

static vg_status read_providers(const vg_cnode *n, vg_model_spec *spec) {
  if (vg_cnode_get_kind(n) == VG_CNODE_SCALAR) {
    const char *s;
    VG_TRY(vg_cnode_as_string(n, &s));
    spec->nproviders = 1;
    if (vg_provider_parse(s, &spec->providers[0]) != VG_OK)
      return vg_cnode_error(n, VG_ERR_PARSE, "%s", vg_last_error());
    return VG_OK;
  }
  size_t len = vg_cnode_len(n);
  if (vg_cnode_get_kind(n) != VG_CNODE_SEQ || len == 0 || len > VG_MODEL_MAX_PROVIDERS)
    return vg_cnode_error(n, VG_ERR_PARSE,
                          "expected a list of 1 to %d providers (tensorrt, cuda, "
                          "cpu)",
                          VG_MODEL_MAX_PROVIDERS);
  spec->nproviders = (int)len;
  for (size_t i = 0; i < len; i++) {
    const char *s;
    VG_TRY(vg_cnode_as_string(vg_cnode_at(n, i), &s));
    if (vg_provider_parse(s, &spec->providers[i]) != VG_OK)
      return vg_cnode_error(vg_cnode_at(n, i), VG_ERR_PARSE, "%s", vg_last_error());
    for (size_t j = 0; j < i; j++)
      if (spec->providers[j] == spec->providers[i])
        return vg_cnode_error(vg_cnode_at(n, i), VG_ERR_PARSE, "provider '%s' listed twice", s);
  }
  return VG_OK;
}

static vg_status copy_string(const vg_cnode *map, const char *key, char *out, size_t cap) {
  const char *s;
  VG_TRY(vg_cfg_string(map, key, false, "", &s));
  if (strlen(s) >= cap)
    return vg_cnode_error(vg_cnode_get(map, key), VG_ERR_PARSE, "'%s' longer than %zu bytes", key,
                          cap - 1);
  snprintf(out, cap, "%s", s);
  return VG_OK;
}

static vg_status read_trt(const vg_cnode *n, vg_trt_options *t) {
  VG_TRY(check_keys(n, g_trt_keys, false));
  int64_t ws, lvl;
  VG_TRY(vg_cfg_bool(n, "fp16", false, t->fp16, &t->fp16));
  VG_TRY(vg_cfg_bool(n, "int8", false, t->int8, &t->int8));
  VG_TRY(vg_cfg_int_range(n, "workspace_mb", false, 0, 0, 1 << 20, &ws));
  VG_TRY(
      vg_cfg_int_range(n, "builder_optimization_level", false, t->builder_opt_level, -1, 5, &lvl));
  t->workspace_bytes = (size_t)ws << 20;
  t->builder_opt_level = (int)lvl;
  VG_TRY(copy_string(n, "engine_cache", t->engine_cache_dir, sizeof t->engine_cache_dir));
  return copy_string(n, "timing_cache", t->timing_cache_dir, sizeof t->timing_cache_dir);
}

static vg_status read_cuda(const vg_cnode *n, vg_cuda_options *c) {
  VG_TRY(check_keys(n, g_cuda_keys, false));
  int64_t dev, mem;
  const char *algo;
  VG_TRY(vg_cfg_int_range(n, "device", false, c->device_id, 0, 63, &dev));
  VG_TRY(vg_cfg_int_range(n, "mem_limit_mb", false, 0, 0, (int64_t)1 << 30, &mem));
  VG_TRY(vg_cfg_bool(n, "cuda_graph", false, c->cuda_graph, &c->cuda_graph));
  VG_TRY(vg_cfg_string(n, "conv_algo_search", false, "exhaustive", &algo));
  c->device_id = (int)dev;
  c->mem_limit_bytes = (size_t)mem << 20;
  if (strcmp(algo, "exhaustive") == 0)
    c->conv_algo_search = VG_CONV_ALGO_EXHAUSTIVE;
  else if (strcmp(algo, "heuristic") == 0)
    c->conv_algo_search = VG_CONV_ALGO_HEURISTIC;
  else if (strcmp(algo, "default") == 0)
    c->conv_algo_search = VG_CONV_ALGO_DEFAULT;
  else
    return vg_cnode_error(vg_cnode_get(n, "conv_algo_search"), VG_ERR_PARSE,
                          "conv_algo_search: expected exhaustive, heuristic or default, got '%s'",
                          algo);
  return VG_OK;
}

static vg_status read_sections(const vg_cnode *map, vg_model_spec *spec) {
  const vg_cnode *n;
  if ((n = vg_cnode_get(map, "tensorrt"))) VG_TRY(read_trt(n, &spec->trt));
  if ((n = vg_cnode_get(map, "cuda"))) VG_TRY(read_cuda(n, &spec->cuda));
  if ((n = vg_cnode_get(map, "cpu"))) {
    int64_t th;
    VG_TRY(check_keys(n, g_cpu_keys, false));
    VG_TRY(vg_cfg_int_range(n, "threads", false, 0, 0, 1024, &th));
    spec->cpu.threads = (int)th; /* bounded by the machine when the session is made */
  }
  return VG_OK;
}

/* auto -> -1, true/false -> 1/0. */
static vg_status read_tristate(const vg_cnode *map, const char *key, int *out) {
  const vg_cnode *n = vg_cnode_get(map, key);
  if (!n) return VG_OK;
  const char *s;
  if (vg_cnode_get_kind(n) == VG_CNODE_SCALAR && vg_cnode_as_string(n, &s) == VG_OK &&
      strcmp(s, "auto") == 0) {
    *out = -1;
    return VG_OK;
  }
  vg_clear_error();
  bool b;
  if (vg_cnode_as_bool(n, &b) != VG_OK)
    return vg_cnode_error(n, VG_ERR_PARSE, "%s: expected auto, true or false", key);
  *out = b ? 1 : 0;
  return VG_OK;
}

/* A list of 1..VG_MAX_BUCKETS ascending sizes in [1, max]. */
static vg_status read_sizes(const vg_cnode *n, const char *what, int64_t max, int64_t *out,
                            int *count) {
  size_t len = vg_cnode_len(n);
  if (vg_cnode_get_kind(n) != VG_CNODE_SEQ || len < 1 || len > VG_MAX_BUCKETS)
    return vg_cnode_error(n, VG_ERR_PARSE, "buckets: %s: expected a list of 1 to %d sizes", what,
                          VG_MAX_BUCKETS);
  for (size_t i = 0; i < len; i++) {
    const vg_cnode *e = vg_cnode_at(n, i);
    int64_t v;
    if (vg_cnode_as_int(e, &v) != VG_OK || v < 1 || v > max)
      return vg_cnode_error(e, VG_ERR_PARSE, "buckets: %s: sizes are integers 1..%lld", what,
                            (long long)max);
    if (i > 0 && v <= out[i - 1])
      return vg_cnode_error(e, VG_ERR_PARSE,
                            "buckets: %s: sizes must be ascending (%lld after %lld)", what,
                            (long long)v, (long long)out[i - 1]);
    out[i] = v;
  }
  *count = (int)len;
  return VG_OK;
}

static vg_status read_buckets(const vg_cnode *n, vg_shape_buckets *b) {
  VG_TRY(check_keys(n, g_bucket_keys, false));
  const vg_cnode *e;
  if ((e = vg_cnode_get(n, "batch"))) VG_TRY(read_sizes(e, "batch", 4096, b->batch, &b->nbatch));
  if ((e = vg_cnode_get(n, "width"))) VG_TRY(read_sizes(e, "width", 1 << 16, b->width, &b->nwidth));
  if (!b->nbatch && !b->nwidth)
    return vg_cnode_error(n, VG_ERR_PARSE, "buckets: give batch: [sizes] and/or width: [sizes]");
  if ((e = vg_cnode_get(n, "warm_shape"))) {
    size_t len = vg_cnode_len(e);
    if (vg_cnode_get_kind(e) != VG_CNODE_SEQ || len < 1 || len >= VG_MAX_DIMS)
      return vg_cnode_error(e, VG_ERR_PARSE,
                            "buckets: warm_shape: the input's dims after the batch axis, 1 to %d "
                            "sizes",
                            VG_MAX_DIMS - 1);
    for (size_t i = 0; i < len; i++) {
      const vg_cnode *x = vg_cnode_at(e, i);
      if (vg_cnode_as_int(x, &b->warm_shape[i]) != VG_OK || b->warm_shape[i] < 1 ||
          b->warm_shape[i] > (1 << 20))
        return vg_cnode_error(x, VG_ERR_PARSE, "buckets: warm_shape: sizes are integers >= 1");
    }
    b->nwarm = (int)len;
  }
  VG_TRY(read_tristate(n, "pin_sessions", &b->pin_sessions));
  return read_tristate(n, "enabled", &b->enabled);
}

vg_status vg_model_fp16_path(const char *path, char *out, size_t cap) {
  if (!path || !out || cap == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_fp16_path: NULL");
  size_t n = strlen(path);
  static const char k16[] = ".fp16.onnx", kon[] = ".onnx";
  if (n >= sizeof k16 - 1 && strcmp(path + n - (sizeof k16 - 1), k16) == 0) {
    if (n >= cap) return vg_set_error(VG_ERR_INVALID_ARG, "model path '%s' too long", path);
    memcpy(out, path, n + 1);
    return VG_OK;
  }
  size_t stem = (n >= sizeof kon - 1 && strcmp(path + n - (sizeof kon - 1), kon) == 0)
                    ? n - (sizeof kon - 1)
                    : n;
  if (stem == 0) return vg_set_error(VG_ERR_INVALID_ARG, "model path '%s' has no name", path);
  if (stem + sizeof k16 > cap)
    return vg_set_error(VG_ERR_INVALID_ARG, "the FP16 variant of '%s' is longer than %zu bytes",
                        path, cap - 1);
  memcpy(out, path, stem);
  memcpy(out + stem, k16, sizeof k16);
  return VG_OK;
}

vg_status vg_model_spec_apply_precision(vg_model_spec *spec) {
  if (!spec) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_spec_apply_precision: NULL");
  if (spec->precision == VG_PRECISION_FP32) return VG_OK;
  if (spec->precision != VG_PRECISION_FP16)
    return vg_set_error(VG_ERR_INVALID_ARG, "model '%s': unknown precision %d", spec->name,
                        (int)spec->precision);
  if (spec->bytes)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': precision fp16 needs a model file (its FP16 variant is found "
                        "by name), not model bytes",
                        spec->name[0] ? spec->name : "memory-model");
  char v[VG_MODEL_PATH_MAX];
  VG_TRY(vg_model_fp16_path(spec->path, v, sizeof v));
  if (!file_exists(v))
    return vg_set_error(VG_ERR_NOT_FOUND,
                        "model '%s': precision fp16 needs %s, which does not exist; make it with: "
                        "python3 scripts/fp16_convert.py %s %s",
                        spec->name[0] ? spec->name : spec->path, v, spec->path, v);
  snprintf(spec->path, sizeof spec->path, "%s", v);
  for (int i = 0; i < spec->nfallbacks && i < VG_MODEL_MAX_FALLBACKS; i++) {
    VG_TRY(vg_model_fp16_path(spec->fallbacks[i], v, sizeof v));
    snprintf(spec->fallbacks[i], sizeof spec->fallbacks[i], "%s", v);
  }
  return VG_OK;
}

bool vg_model_spec_is_key(const char *key) {
  for (int j = 0; key && g_top_keys[j]; j++)
    if (strcmp(key, g_top_keys[j]) == 0) return true;
  return false;
}

const char *const *vg_model_spec_keys(void) {
  return g_top_keys;
}

vg_status vg_model_spec_from_config(const vg_cnode *map, const char *base_dir,
                                    vg_model_spec *spec) {
  if (!map || !spec) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_spec_from_config: NULL");
  VG_TRY(check_keys(map, g_top_keys, true)); /* other keys belong to the node that holds us */
  const vg_cnode *model = vg_cnode_get(map, "model");
  if (!model) model = vg_cnode_get(map, "path");
  if (!model) return vg_cnode_error(map, VG_ERR_NOT_FOUND, "missing 'model' (the ONNX file)");
  VG_TRY(resolve_path(model, base_dir, spec->path));
  spec->bytes = NULL;
  spec->nbytes = 0;
  const vg_cnode *n = vg_cnode_get(map, "fallback");
  if (!n) n = vg_cnode_get(map, "fallbacks");
  if (n) VG_TRY(read_fallbacks(n, base_dir, spec));
  VG_TRY(copy_string(map, "name", spec->name, sizeof spec->name));
  VG_TRY(vg_cfg_bool(map, "required", false, spec->required, &spec->required));
  VG_TRY(vg_cfg_bool(map, "io_binding", false, spec->io_binding, &spec->io_binding));
  int64_t mb;
  VG_TRY(vg_cfg_int_range(map, "max_batch", false, spec->max_batch, 0, 1 << 16, &mb));
  spec->max_batch = (int)mb;
  if ((n = vg_cnode_get(map, "providers"))) VG_TRY(read_providers(n, spec));
  if ((n = vg_cnode_get(map, "buckets"))) VG_TRY(read_buckets(n, &spec->buckets));
  VG_TRY(read_tristate(map, "warmup", &spec->warmup));
  VG_TRY(read_tristate(map, "own_thread", &spec->own_thread));
  if ((n = vg_cnode_get(map, "precision"))) {
    const char *p;
    VG_TRY(vg_cnode_as_string(n, &p));
    if (strcmp(p, "fp32") == 0)
      spec->precision = VG_PRECISION_FP32;
    else if (strcmp(p, "fp16") == 0)
      spec->precision = VG_PRECISION_FP16;
    else
      return vg_cnode_error(n, VG_ERR_PARSE,
                            "precision: expected fp32 or fp16, got '%s' (TensorRT's own FP16/INT8 "
                            "builds are tensorrt: {fp16: true})",
                            p);
    if (vg_model_spec_apply_precision(spec) != VG_OK)
      return vg_cnode_error(n, vg_last_status(), "%s", vg_last_error());
  }
  return read_sections(map, spec);
}
