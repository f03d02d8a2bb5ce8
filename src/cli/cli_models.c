/* cli_models.c - `vidgraph models inspect MODEL [--json]`: a model's inputs and outputs (element
 * types, shapes with symbolic dimensions), opset and metadata, and which execution providers can
 * load it on this machine (nodes per provider) or why not. */
#include "cli.h"
#include "core/json_out.h"
#include "vidgraph/vg_infer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *io_json(const vg_model_io *io) {
  json_t *shape = json_array();
  for (int d = 0; d < io->ndim; d++)
    json_array_append_new(shape, io->shape[d] >= 0
                                     ? json_integer(io->shape[d])
                                     : vg_json_text(io->dim_names[d][0] ? io->dim_names[d] : "?"));
  return json_pack("{s:o,s:o,s:o}", "name", vg_json_text(io->name), "type",
                   vg_json_text(io->type_name), "shape", shape);
}

static json_t *meta_json(const vg_model_meta *md) {
  json_t *custom = json_object();
  for (int i = 0; i < md->ncustom; i++) {
    char *key = vg_utf8_repair(md->custom_keys[i]); /* keys must be UTF-8 too */
    if (key) json_object_set_new(custom, key, vg_json_text(md->custom_values[i]));
    free(key);
  }
  return json_pack("{s:o,s:o,s:o,s:o,s:I,s:i,s:o}", "producer", vg_json_text(md->producer), "graph",
                   vg_json_text(md->graph_name), "domain", vg_json_text(md->domain), "description",
                   vg_json_text(md->description), "model_version", (json_int_t)md->model_version,
                   "opset", md->opset, "custom", custom);
}

/* Loads the model with each provider alone: usable or the reason. */
static json_t *providers_json(const char *path) {
  json_t *a = json_array();
  for (int p = 0; p < VG_PROVIDER_COUNT_; p++) {
    vg_model_spec spec;
    vg_model_spec_init(&spec);
    snprintf(spec.path, sizeof spec.path, "%s", path);
    spec.providers[0] = (vg_provider)p;
    spec.nproviders = 1;
    vg_model *m;
    json_t *o = json_pack("{s:s}", "provider", vg_provider_name((vg_provider)p));
    if (vg_model_load(&spec, &m) == VG_OK) {
      vg_model_report r;
      vg_model_get_report(m, &r);
      json_t *pl = json_object();
      for (int i = 0; i < r.nplacements; i++)
        json_object_set_new(pl, r.placements[i].provider, json_integer(r.placements[i].nodes));
      json_object_set_new(o, "usable", json_true());
      json_object_set_new(o, "load_ms", json_real(r.load_ms));
      json_object_set_new(o, "nodes_per_provider", pl);
      vg_model_free(m);
    } else {
      json_object_set_new(o, "usable", json_false());
      json_object_set_new(o, "reason", vg_json_text(vg_last_error()));
    }
    json_array_append_new(a, o);
  }
  return a;
}

static void print_io(const char *title, json_t *list) {
  size_t i;
  json_t *io;
  printf("%s:\n", title);
  json_array_foreach(list, i, io) {
    char *shape = json_dumps(json_object_get(io, "shape"), JSON_COMPACT | JSON_ENCODE_ANY);
    printf("  %-24s %-8s %s\n", json_string_value(json_object_get(io, "name")),
           json_string_value(json_object_get(io, "type")), shape);
    free(shape);
  }
}

static void print_text(json_t *r) {
  json_t *md = json_object_get(r, "metadata");
  printf("model:     %s\n", json_string_value(json_object_get(r, "path")));
  printf("opset:     %lld\n", json_integer_value(json_object_get(md, "opset")));
  printf("producer:  %s\n", json_string_value(json_object_get(md, "producer")));
  printf("graph:     %s (version %lld)\n", json_string_value(json_object_get(md, "graph")),
         json_integer_value(json_object_get(md, "model_version")));
  print_io("inputs", json_object_get(r, "inputs"));
  print_io("outputs", json_object_get(r, "outputs"));
  const char *k;
  json_t *v;
  if (json_object_size(json_object_get(md, "custom"))) printf("metadata:\n");
  json_object_foreach(json_object_get(md, "custom"), k, v) {
    const char *s = json_string_value(v);
    printf("  %-16s %.100s%s\n", k, s, strlen(s) > 100 ? "..." : "");
  }
  printf("providers on this machine:\n");
  size_t i;
  json_array_foreach(json_object_get(r, "providers"), i, v) {
    const char *why = json_string_value(json_object_get(v, "reason"));
    printf("  %-9s %s%s\n", json_string_value(json_object_get(v, "provider")), why ? "no: " : "yes",
           why ? why : "");
  }
}

static int inspect(const char *path, bool json) {
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  snprintf(spec.path, sizeof spec.path, "%s", path);
  spec.providers[0] = VG_PROVIDER_CPU; /* introspection needs a session; the CPU always has one */
  spec.nproviders = 1;
  vg_model *m;
  if (vg_model_load(&spec, &m) != VG_OK) return cli_fail("models inspect", "cannot load the model");
  json_t *r = json_object(), *in = json_array(), *out = json_array();
  /* every append is checked: a lost entry is an error, never a silently shorter list */
  int bad = !r || !in || !out;
  for (int i = 0; i < vg_model_input_count(m); i++)
    bad |= json_array_append_new(in, io_json(vg_model_input(m, i))) != 0;
  for (int i = 0; i < vg_model_output_count(m); i++)
    bad |= json_array_append_new(out, io_json(vg_model_output(m, i))) != 0;
  bad |= json_object_set_new(r, "path", vg_json_text(path)) != 0;
  bad |= json_object_set_new(r, "inputs", in) != 0;
  bad |= json_object_set_new(r, "outputs", out) != 0;
  bad |= json_object_set_new(r, "metadata", meta_json(vg_model_metadata(m))) != 0;
  vg_model_free(m);
  bad |= json_object_set_new(r, "providers", providers_json(path)) != 0;
  int rc = 0;
  if (bad) {
    vg_set_error(VG_ERR_NO_MEMORY, "cannot describe '%s' as JSON (out of memory)", path);
    rc = cli_fail("models inspect", "cannot describe the model");
  } else if (json) {
    char *s = vg_json_dump_text(r, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (s)
      printf("%s\n", s);
    else
      rc = cli_fail("models inspect", "--json");
    free(s);
  } else {
    print_text(r);
  }
  json_decref(r);
  return rc;
}

static int usage(FILE *f) {
  fprintf(f, "usage: vidgraph models inspect MODEL.onnx [--json]\n"
             "  Inputs and outputs (types, shapes with symbolic dims), opset, metadata, and\n"
             "  which execution providers can load the model here, or why not.\n");
  return f == stdout ? 0 : 2;
}

int cli_models(int argc, char **argv) {
  if (argc >= 2 && cli_is(argv[1], "-h", "--help")) return usage(stdout);
  if (argc < 3 || strcmp(argv[1], "inspect") != 0) return usage(stderr);
  bool json = false;
  const char *path = NULL;
  for (int i = 2; i < argc; i++) {
    if (cli_is(argv[i], "--json", NULL))
      json = true;
    else if (cli_is(argv[i], "-h", "--help"))
      return usage(stdout);
    else if (argv[i][0] == '-' || path) {
      fprintf(stderr, "vidgraph models inspect: unexpected argument '%s'\n", argv[i]);
      return usage(stderr);
    } else
      path = argv[i];
  }
  if (!path) return usage(stderr);
  return inspect(path, json);
}
