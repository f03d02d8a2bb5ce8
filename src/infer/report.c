/* report.c - a model's report (providers requested and used, why each skipped one failed,
 * IOBinding, CUDA graphs, precision, load time, nodes per provider) as JSON text. */
#include "infer_internal.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *str_or_null(const char *s) {
  return s && s[0] ? json_string(s) : json_null();
}

static json_t *providers_json(const vg_model_report *r) {
  json_t *req = json_array(), *skipped = json_object();
  for (int i = 0; i < r->nrequested; i++) {
    json_array_append_new(req, json_string(vg_provider_name(r->requested[i])));
    if (r->provider_reasons[i][0])
      json_object_set_new(skipped, vg_provider_name(r->requested[i]),
                          json_string(r->provider_reasons[i]));
  }
  json_t *o = json_object();
  json_object_set_new(o, "requested", req);
  json_object_set_new(o, "skipped", skipped);
  return o;
}

static json_t *placements_json(const vg_model_report *r) {
  json_t *p = json_object();
  for (int i = 0; i < r->nplacements; i++)
    json_object_set_new(p, r->placements[i].provider, json_integer(r->placements[i].nodes));
  return p;
}

static json_t *files_json(const vg_model_report *r) {
  json_t *a = json_array();
  for (int i = 0; i <= VG_MODEL_MAX_FALLBACKS; i++)
    if (r->candidate_reasons[i][0]) json_array_append_new(a, json_string(r->candidate_reasons[i]));
  return a;
}

char *vg_model_report_to_json(const vg_model_report *r) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_t *prov = providers_json(r);
  json_object_set_new(o, "model", json_string(r->name));
  json_object_set_new(o, "source", json_string(r->source));
  json_object_set_new(o, "fallback_index", json_integer(r->candidate));
  json_object_set_new(o, "skipped_files", files_json(r));
  json_object_set(o, "requested_providers", json_object_get(prov, "requested"));
  json_object_set_new(o, "provider", json_string(vg_provider_name(r->used)));
  json_object_set(o, "skipped_providers", json_object_get(prov, "skipped"));
  json_decref(prov);
  json_object_set_new(o, "io_binding", json_boolean(r->io_binding));
  json_object_set_new(o, "cuda_graph", json_boolean(r->cuda_graph));
  json_object_set_new(o, "cuda_graph_reason", str_or_null(r->cuda_graph_reason));
  json_object_set_new(o, "precision", json_string(r->precision));
  json_object_set_new(o, "load_ms", json_real(r->load_ms));
  json_object_set_new(o, "nodes_per_provider", r->nplacements ? placements_json(r) : json_null());
  json_object_set_new(o, "notes", str_or_null(r->notes));
  json_object_set_new(o, "runs", json_integer((json_int_t)r->runs));
  json_object_set_new(o, "buckets", str_or_null(r->buckets));
  json_object_set_new(o, "buckets_on", json_boolean(r->buckets_on));
  json_object_set_new(o, "warmup_shapes", json_integer(r->warmup_shapes));
  json_object_set_new(o, "warmup_ms", json_real(r->warmup_ms));
  json_object_set_new(o, "new_shapes", json_integer((json_int_t)r->new_shapes));
  json_object_set_new(o, "new_shapes_after_warmup",
                      json_integer((json_int_t)r->new_shapes_after_warmup));
  json_object_set_new(o, "padded_rows", json_integer((json_int_t)r->padded_rows));
  json_object_set_new(o, "own_thread", json_boolean(r->own_thread));
  json_object_set_new(o, "sessions", json_integer(r->sessions));
  json_object_set_new(o, "shape_switches", json_integer((json_int_t)r->shape_switches));
  json_t *slow = json_null();
  if (r->slowest_run_index)
    slow = json_pack("{s:f, s:f, s:I, s:b, s:s}", "ms", r->slowest_run_ms, "in_ort_ms",
                     r->slowest_run_ort_ms, "run", (json_int_t)r->slowest_run_index,
                     "first_at_shape", (int)r->slowest_run_first, "shape", r->slowest_run_shape);
  json_object_set_new(o, "slowest_run", slow);
  char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
  json_decref(o);
  return s;
}

char *vg_model_report_json(vg_model *m) {
  vg_model_report r;
  vg_model_get_report(m, &r);
  return vg_model_report_to_json(&r);
}
