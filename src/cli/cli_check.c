/* cli_check.c - `vidgraph check [CONFIG] [--input URL]... [--json]`: preflight of this machine.
 * ONNX Runtime version, each execution provider and whether it can actually create a session and
 * run here (with the reason when not), CUDA devices, NVDEC, every model named in a config (any
 * map with a `model:` key, e.g. a node's params) found and loadable, and, when the config is a
 * graph (it has `nodes:`), the graph validated exactly as `vidgraph run` does: parsing,
 * validation and node init, without starting (sinks write into a temporary folder that is
 * removed). Unusable optional parts are warnings; the exit status is non-zero when a required
 * model cannot be loaded or the graph would not run. */
#include "cli.h"
#include "core/json_out.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_infer.h"
#include "vidgraph/vg_nodes.h"
#include "vidgraph/vg_video.h"

#include <ftw.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUTS 64

typedef struct check_ctx {
  json_t *root;
  int errors, warnings;
  const char *config_dir;
  const char *inputs[MAX_INPUTS];
  int ninputs;
} check_ctx;

static json_t *providers_json(check_ctx *c) {
  json_t *a = json_array();
  for (int p = 0; p < VG_PROVIDER_COUNT_; p++) {
    char why[1024];
    vg_status s = vg_infer_probe_provider((vg_provider)p, 0, why, sizeof why);
    json_t *o =
        json_pack("{s:s,s:b}", "provider", vg_provider_name((vg_provider)p), "usable", s == VG_OK);
    if (s != VG_OK) {
      json_object_set_new(o, "reason", vg_json_text(why));
      if (p == VG_PROVIDER_CPU)
        c->errors++;
      else
        c->warnings++;
    }
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *devices_json(check_ctx *c) {
  json_t *o = json_object(), *a = json_array();
  int n = 0;
  vg_cuda_device_count(&n);
  for (int i = 0; i < n; i++) {
    vg_device_info d;
    if (vg_device_info_get(vg_cuda(i), &d) != VG_OK) continue;
    json_array_append_new(a,
                          json_pack("{s:i,s:s,s:i,s:i,s:I,s:I}", "ordinal", i, "name", d.name,
                                    "cc_major", d.cc_major, "cc_minor", d.cc_minor, "total_mem",
                                    (json_int_t)d.total_mem, "free_mem", (json_int_t)d.free_mem));
  }
  json_object_set_new(o, "cuda", a);
  if (n == 0) {
    json_object_set_new(o, "cuda_reason", vg_json_text(vg_cuda_unavailable_reason()));
    c->warnings++;
  }
  char why[512] = "";
  bool nvdec = n > 0 && vg_nvdec_available(0, why, sizeof why);
  if (n == 0) snprintf(why, sizeof why, "%s", vg_cuda_unavailable_reason());
  json_object_set_new(o, "nvdec", json_boolean(nvdec));
  if (!nvdec) {
    json_object_set_new(o, "nvdec_reason", vg_json_text(why));
    c->warnings++;
  }
  return o;
}

/* ----------------------------------------------------------------- models of a config */

static void model_name(const vg_cnode *map, const vg_cnode *parent, const char *key, char *out,
                       size_t cap) {
  const char *s = NULL;
  const vg_cnode *id = parent ? vg_cnode_get(parent, "id") : NULL;
  if (vg_cnode_get(map, "name") && vg_cnode_as_string(vg_cnode_get(map, "name"), &s) == VG_OK)
    snprintf(out, cap, "%s", s);
  else if (id && key && strcmp(key, "params") == 0 && vg_cnode_as_string(id, &s) == VG_OK)
    snprintf(out, cap, "%s", s);
  else
    snprintf(out, cap, "%s", vg_cnode_path(map)[0] ? vg_cnode_path(map) : "model");
}

static void check_model(check_ctx *c, const vg_cnode *map, const vg_cnode *parent, const char *key,
                        json_t *list) {
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  json_t *o = json_object();
  char where[256];
  json_object_set_new(o, "where", vg_json_text(vg_cnode_where(map, where, sizeof where)));
  vg_status s = vg_model_spec_from_config(map, c->config_dir, &spec);
  if (s == VG_OK && !spec.name[0]) model_name(map, parent, key, spec.name, sizeof spec.name);
  json_object_set_new(o, "name", vg_json_text(spec.name));
  json_object_set_new(o, "required", json_boolean(spec.required));
  vg_model *m = NULL;
  if (s == VG_OK) s = vg_model_load(&spec, &m);
  if (s == VG_OK) {
    char *rep = vg_model_report_json(m);
    json_object_set_new(o, "report", rep ? json_loads(rep, 0, NULL) : json_null());
    free(rep);
    vg_model_free(m);
  } else {
    json_object_set_new(o, "error", vg_json_text(vg_last_error()));
    if (spec.required)
      c->errors++;
    else
      c->warnings++;
  }
  json_object_set_new(o, "ok", json_boolean(s == VG_OK));
  json_array_append_new(list, o);
}

/* Every map with a scalar `model:` key, depth first, bounded depth. */
static void walk(check_ctx *c, const vg_cnode *n, const vg_cnode *parent, const char *key,
                 json_t *list, int depth) {
  if (!n || depth > 32) return;
  if (vg_cnode_get_kind(n) == VG_CNODE_MAP) {
    const vg_cnode *mk = vg_cnode_get(n, "model");
    if (mk && vg_cnode_get_kind(mk) == VG_CNODE_SCALAR) {
      check_model(c, n, parent, key, list);
      return;
    }
    for (size_t i = 0; i < vg_cnode_len(n); i++)
      walk(c, vg_cnode_at(n, i), n, vg_cnode_key_at(n, i), list, depth + 1);
  } else if (vg_cnode_get_kind(n) == VG_CNODE_SEQ) {
    for (size_t i = 0; i < vg_cnode_len(n); i++)
      walk(c, vg_cnode_at(n, i), n, NULL, list, depth + 1);
  }
}

/* ----------------------------------------------------------------- the graph, as run sees it */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* One "key=<JSON value>" override, malloc'd; NULL when out of memory. */
static char *make_set(const char *key, json_t *value) {
  char *v = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  json_decref(value);
  char *item = v ? malloc(strlen(key) + strlen(v) + 2) : NULL;
  if (item) sprintf(item, "%s=%s", key, v);
  free(v);
  return item;
}

/* The overrides check applies: --input as run does, and every node's params.path moved into
 * tmp (node init of a sink opens its file; check must not touch the user's outputs). */
static int graph_sets(const check_ctx *c, const vg_cnode *nodes, const char *tmp, char **sets) {
  int n = 0;
  bool source_done = c->ninputs == 0;
  for (size_t i = 0; i < vg_cnode_len(nodes); i++) {
    const vg_cnode *nd = vg_cnode_at(nodes, i);
    const char *id = vg_cnode_scalar(vg_cnode_get(nd, "id"));
    const char *type = vg_cnode_scalar(vg_cnode_get(nd, "type"));
    if (!id || !type) continue;
    char key[256];
    if (!source_done && strcmp(type, "source") == 0) {
      json_t *urls = json_array();
      for (int k = 0; k < c->ninputs; k++)
        json_array_append_new(urls, vg_json_text(c->inputs[k]));
      snprintf(key, sizeof key, "nodes.%s.params.url", id);
      if ((sets[n] = make_set(key, urls))) n++;
      source_done = true;
    }
    const char *path = vg_cnode_scalar(vg_cnode_get(vg_cnode_get(nd, "params"), "path"));
    if (path) {
      char *copy = strdup(path), moved[4096];
      snprintf(moved, sizeof moved, "%s/%zu-%s", tmp, i, copy ? basename(copy) : "out");
      free(copy);
      snprintf(key, sizeof key, "nodes.%s.params.path", id);
      if ((sets[n] = make_set(key, vg_json_text(moved)))) n++;
    }
  }
  return n;
}

/* Loads, validates and initialises the graph like `vidgraph run`, then destroys it unstarted. */
static void check_graph(check_ctx *c, const char *path, const vg_config *cfg) {
  const vg_cnode *nodes = vg_cnode_get(vg_config_root(cfg), "nodes");
  if (!nodes) return; /* a model config, not a graph */
  char tmp[] = "/tmp/vidgraph-check-XXXXXX";
  size_t cap = 2 * vg_cnode_len(nodes) + 1;
  char **sets = calloc(cap, sizeof *sets);
  vg_status s;
  int nsets = 0;
  if (!sets || !mkdtemp(tmp)) {
    s = vg_set_error(VG_ERR_IO, "cannot create a temporary folder for the graph check");
    tmp[0] = '\0';
  } else {
    nsets = graph_sets(c, nodes, tmp, sets);
    vg_graph *g = NULL;
    vg_run *r = NULL;
    vg_registry *reg = NULL;
    s = vg_registry_create(&reg);
    if (s == VG_OK) s = vg_nodes_register_builtin(reg);
    if (s == VG_OK) s = vg_graph_load_file(path, (const char *const *)sets, nsets, reg, &g);
    vg_registry_free(reg); /* as in run: the graph keeps the (static) types */
    if (s == VG_OK) s = vg_run_create(g, &(vg_run_options){0}, &r);
    vg_run_destroy(r);
    vg_graph_free(g);
  }
  json_t *o = json_pack("{s:b}", "ok", s == VG_OK);
  if (s != VG_OK) {
    json_object_set_new(o, "error", vg_json_text(vg_last_error()));
    c->errors++;
  } else {
    json_object_set_new(o, "nodes", json_integer((json_int_t)vg_cnode_len(nodes)));
  }
  json_object_set_new(c->root, "graph", o);
  for (int i = 0; i < nsets; i++)
    free(sets[i]);
  free(sets);
  if (tmp[0]) nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int check_config(check_ctx *c, const char *path) {
  vg_config *cfg;
  if (vg_config_load_file(path, &cfg) != VG_OK) {
    json_object_set_new(c->root, "config_error", vg_json_text(vg_last_error()));
    c->errors++;
    return 1;
  }
  if (vg_cnode_get_kind(vg_config_root(cfg)) != VG_CNODE_MAP) {
    char msg[1200];
    snprintf(msg, sizeof msg,
             "%s: expected a map (a graph with `nodes:`, or a config naming models), got a %s",
             path, vg_cnode_get_kind(vg_config_root(cfg)) == VG_CNODE_SEQ ? "list" : "scalar");
    json_object_set_new(c->root, "config_error", vg_json_text(msg));
    c->errors++;
    vg_config_free(cfg);
    return 1;
  }
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  c->config_dir = dirname(dir);
  json_t *list = json_array();
  walk(c, vg_config_root(cfg), NULL, NULL, list, 0);
  json_object_set_new(c->root, "config", vg_json_text(path));
  json_object_set_new(c->root, "models", list);
  check_graph(c, path, cfg);
  vg_config_free(cfg);
  return 0;
}

/* ----------------------------------------------------------------- output */

static void print_text(const check_ctx *c) {
  json_t *r = c->root;
  printf("onnxruntime   %s (provider libraries in %s)\n",
         json_string_value(json_object_get(r, "onnxruntime")),
         json_string_value(json_object_get(r, "provider_lib_dir")));
  json_t *core = json_object_get(r, "onnxruntime_core");
  printf("  core        %s\n  from        %s\n", json_string_value(json_object_get(core, "path")),
         json_string_value(json_object_get(core, "origin")));
  size_t i;
  json_t *p;
  printf("providers:\n");
  json_array_foreach(json_object_get(r, "providers"), i, p) {
    const char *why = json_string_value(json_object_get(p, "reason"));
    printf("  %-9s %s%s\n", json_string_value(json_object_get(p, "provider")),
           why ? "unavailable: " : "ok", why ? why : "");
  }
  json_t *dev = json_object_get(r, "devices");
  printf("cuda devices:\n");
  if (json_array_size(json_object_get(dev, "cuda")) == 0)
    printf("  none: %s\n", json_string_value(json_object_get(dev, "cuda_reason")));
  json_array_foreach(json_object_get(dev, "cuda"), i, p) printf(
      "  cuda:%lld  %s, sm_%lld%lld, %.1f GiB\n", json_integer_value(json_object_get(p, "ordinal")),
      json_string_value(json_object_get(p, "name")),
      json_integer_value(json_object_get(p, "cc_major")),
      json_integer_value(json_object_get(p, "cc_minor")),
      (double)json_integer_value(json_object_get(p, "total_mem")) / (1 << 30));
  const char *nv = json_string_value(json_object_get(dev, "nvdec_reason"));
  printf("nvdec:        %s%s\n", nv ? "unavailable: " : "ok", nv ? nv : "");
  if (json_object_get(r, "config_error"))
    printf("config:       %s\n", json_string_value(json_object_get(r, "config_error")));
  if (json_object_get(r, "models"))
    printf("models of %s:\n", json_string_value(json_object_get(r, "config")));
  json_array_foreach(json_object_get(r, "models"), i, p) {
    bool ok = json_is_true(json_object_get(p, "ok")),
         req = json_is_true(json_object_get(p, "required"));
    json_t *rep = json_object_get(p, "report");
    printf("  %-16s %s", json_string_value(json_object_get(p, "name")),
           ok    ? "ok"
           : req ? "ERROR (required)"
                 : "warning (optional, feature disabled)");
    if (ok)
      printf(" on %s (%s)\n", json_string_value(json_object_get(rep, "provider")),
             json_string_value(json_object_get(rep, "source")));
    else
      printf(": %s\n", json_string_value(json_object_get(p, "error")));
  }
  json_t *g = json_object_get(r, "graph");
  if (json_is_true(json_object_get(g, "ok")))
    printf("graph:        ok (%lld nodes, validated and initialised as `run` does)\n",
           json_integer_value(json_object_get(g, "nodes")));
  else if (g)
    printf("graph:        ERROR: %s\n", json_string_value(json_object_get(g, "error")));
  printf("summary: %d error(s), %d warning(s)\n", c->errors, c->warnings);
}

static int usage(FILE *f) {
  fprintf(f,
          "usage: vidgraph check [CONFIG.yaml] [--input URL]... [--json]\n"
          "  Preflight: ONNX Runtime and its providers (can each create a session here, and\n"
          "  why not), CUDA devices, NVDEC, and every model named in CONFIG (maps with a\n"
          "  `model:` key). A CONFIG with `nodes:` is a graph: it is parsed, validated and\n"
          "  its nodes initialised exactly as `vidgraph run` would (--input as in run), without\n"
          "  starting. Exit status 1 when a required part is unusable or the graph would not\n"
          "  run, 2 on bad usage.\n");
  return f == stdout ? 0 : 2;
}

int cli_check(int argc, char **argv) {
  bool json = false;
  const char *config = NULL;
  check_ctx c = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_is(argv[i], "--json", NULL))
      json = true;
    else if (cli_is(argv[i], "--input", "-i") && i + 1 < argc) {
      if (c.ninputs == MAX_INPUTS) {
        fprintf(stderr, "vidgraph check: too many --input options (at most %d)\n", MAX_INPUTS);
        return 2;
      }
      c.inputs[c.ninputs++] = argv[++i];
    } else if (cli_is(argv[i], "-h", "--help"))
      return usage(stdout);
    else if (argv[i][0] == '-') {
      fprintf(stderr, "vidgraph check: unknown option '%s'\n", argv[i]);
      return usage(stderr);
    } else if (!config)
      config = argv[i];
    else
      return usage(stderr);
  }
  c.root = json_object();
  json_object_set_new(c.root, "onnxruntime", vg_json_text(vg_infer_runtime_version()));
  json_object_set_new(c.root, "provider_lib_dir", vg_json_text(vg_infer_provider_lib_dir()));
  json_object_set_new(c.root, "onnxruntime_core",
                      json_pack("{s:o,s:o}", "path", vg_json_text(vg_infer_core_path()), "origin",
                                vg_json_text(vg_infer_core_origin())));
  json_object_set_new(c.root, "providers", providers_json(&c));
  json_object_set_new(c.root, "devices", devices_json(&c));
  if (config) check_config(&c, config);
  json_object_set_new(c.root, "errors", json_integer(c.errors));
  json_object_set_new(c.root, "warnings", json_integer(c.warnings));
  if (json) {
    char *s = vg_json_dump_text(c.root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (s) {
      printf("%s\n", s);
    } else {
      cli_fail("check", "--json");
      c.errors++;
    }
    free(s);
  } else {
    print_text(&c);
  }
  json_decref(c.root);
  return c.errors ? 1 : 0;
}
