/* routes_models.c - GET/POST /api/models and DELETE /api/models/{name}. Named models are loaded
 * through the server's model cache (the one every infer node of every run and stream uses), so a
 * model POSTed here and a graph naming the same file with the same providers share one session.
 * The list also shows models that runs and the streaming graph loaded themselves, with their
 * users ("run:r3", "stream:graph") and the latency their infer nodes measured. */
#include "server_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *srv_ort_provider_name(vg_provider p);

typedef struct named_model {
  char name[VG_MODEL_NAME_MAX];
  char precision[8];
  vg_model_spec spec;
  vg_model *model; /* a cache reference */
} named_model;

#define MAX_NAMED 64

struct srv_models {
  pthread_mutex_t mu;
  named_model items[MAX_NAMED];
  int n;
};

vg_status srv_models_create(srv_models **out) {
  srv_models *m = calloc(1, sizeof *m);
  if (!m) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  pthread_mutex_init(&m->mu, NULL);
  *out = m;
  return VG_OK;
}

void srv_models_free(vg_server *s) {
  srv_models *m = s->models;
  if (!m) return;
  for (int i = 0; i < m->n; i++) {
    vg_model_cache_release(s->cache, m->items[i].model);
    vg_model_cache_unload(s->cache, &m->items[i].spec);
  }
  vg_clear_error();
  pthread_mutex_destroy(&m->mu);
  free(m);
  s->models = NULL;
}

/* ------------------------------------------------------------------ users and latency */

typedef struct users_ctx {
  const char *source;
  json_t *users;      /* array of "run:r1" */
  json_t *latency;    /* of the first user node */
  json_t *discovered; /* models found in graphs: source -> node detail (when source NULL) */
} users_ctx;

static void users_cb(void *user, const char *owner, vg_run *run, const vg_run_summary *sum) {
  (void)run;
  users_ctx *u = user;
  bool listed = false;
  for (int i = 0; i < sum->nnodes; i++) {
    const vg_node_metrics *m = &sum->nodes[i];
    if (!m->detail) continue;
    json_t *d = json_loads(m->detail, 0, NULL);
    const char *src = json_string_value(json_object_get(d, "source"));
    if (src && u->source && strcmp(src, u->source) == 0) {
      if (!listed) json_array_append_new(u->users, json_string(owner));
      listed = true;
      if (!u->latency) u->latency = srv_latency_json(&m->latency);
    }
    if (src && u->discovered && !json_object_get(u->discovered, src)) {
      json_object_set_new(d, "node_latency", srv_latency_json(&m->latency));
      json_object_set(u->discovered, src, d);
    }
    json_decref(d);
  }
}

static void scan_users(vg_server *s, users_ctx *u) {
  srv_runs_foreach_summary(s, users_cb, u);
  srv_streams_summary(s, users_cb, u);
}

json_t *srv_model_users(vg_server *s, const char *source) {
  users_ctx u = {.source = source, .users = json_array()};
  scan_users(s, &u);
  json_decref(u.latency);
  return u.users;
}

/* ------------------------------------------------------------------ MODEL objects */

static json_t *io_json(const vg_model_io *io) {
  json_t *shape = json_array();
  for (int d = 0; d < io->ndim; d++)
    json_array_append_new(shape, json_integer(io->shape[d]));
  return json_pack("{s:s,s:s,s:o}", "name", io->name, "dtype", io->type_name, "shape", shape);
}

static json_t *model_json(vg_server *s, const char *name, vg_model *m) {
  vg_model_report r;
  vg_model_get_report(m, &r);
  json_t *req = json_array(), *fb = json_array(), *ins = json_array(), *outs = json_array();
  for (int i = 0; i < r.nrequested; i++) {
    json_array_append_new(req, json_string(vg_provider_name(r.requested[i])));
    if (r.provider_reasons[i][0])
      json_array_append_new(fb, json_pack("{s:s,s:s}", "provider",
                                          srv_ort_provider_name(r.requested[i]), "reason",
                                          r.provider_reasons[i]));
  }
  for (int i = 0; i <= VG_MODEL_MAX_FALLBACKS; i++)
    if (r.candidate_reasons[i][0])
      json_array_append_new(fb, json_pack("{s:s,s:s}", "file", i == 0 ? "primary" : "fallback",
                                          "reason", r.candidate_reasons[i]));
  for (int i = 0; i < vg_model_input_count(m); i++)
    json_array_append_new(ins, io_json(vg_model_input(m, i)));
  for (int i = 0; i < vg_model_output_count(m); i++)
    json_array_append_new(outs, io_json(vg_model_output(m, i)));
  users_ctx u = {.source = r.source, .users = json_array()};
  scan_users(s, &u);
  vg_model_stats st;
  vg_model_get_stats(m, &st);
  return json_pack("{s:s,s:s,s:o,s:s,s:b,s:b,s:s,s:o,s:o,s:o,s:f,s:I,s:o,s:o,s:I}", "name", name,
                   "path", r.source, "requested_providers", req, "execution_provider",
                   srv_ort_provider_name(r.used), "io_binding", r.io_binding, "cuda_graph",
                   r.cuda_graph, "precision", r.precision, "fallback_reasons", fb, "inputs", ins,
                   "outputs", outs, "load_ms", r.load_ms, "runs", (json_int_t)st.runs, "latency_ms",
                   u.latency ? u.latency
                             : json_pack("{s:f,s:f,s:f}", "mean", 0.0, "p50", 0.0, "p99", 0.0),
                   "users", u.users, "host_copies", (json_int_t)st.copies);
}

/* A model a graph loaded itself (not POSTed): built from its infer node's describe(). */
static json_t *discovered_json(vg_server *s, json_t *d) {
  json_t *req = json_array(), *fb = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(d, "requested_providers"), i, v) json_array_append(req, v);
  const char *k;
  json_object_foreach(json_object_get(d, "skipped_providers"), k, v) {
    vg_provider p;
    if (json_string_value(v) && json_string_value(v)[0] && vg_provider_parse(k, &p) == VG_OK)
      json_array_append_new(
          fb, json_pack("{s:s,s:O}", "provider", srv_ort_provider_name(p), "reason", v));
  }
  vg_provider used = VG_PROVIDER_CPU;
  vg_provider_parse(json_string_value(json_object_get(d, "provider")) ?: "cpu", &used);
  const char *src = json_string_value(json_object_get(d, "source"));
  json_t *stats = json_object_get(d, "stats");
  return json_pack("{s:O,s:s,s:o,s:s,s:O,s:O,s:O,s:o,s:[],s:[],s:O,s:O,s:O,s:o,s:b}", "name",
                   json_object_get(d, "model"), "path", src ? src : "", "requested_providers", req,
                   "execution_provider", srv_ort_provider_name(used), "io_binding",
                   json_object_get(d, "io_binding"), "cuda_graph", json_object_get(d, "cuda_graph"),
                   "precision", json_object_get(d, "precision"), "fallback_reasons", fb, "inputs",
                   "outputs", "load_ms", json_object_get(d, "load_ms"), "runs",
                   json_object_get(stats, "runs") ?: json_object_get(d, "runs"), "latency_ms",
                   json_object_get(d, "node_latency"), "users", srv_model_users(s, src),
                   "loaded_by_graph", 1);
}

/* ------------------------------------------------------------------ routes */

static enum MHD_Result list_models(srv_req *rq) {
  vg_server *s = rq->srv;
  srv_models *ms = s->models;
  json_t *list = json_array();
  json_t *seen = json_object();
  pthread_mutex_lock(&ms->mu);
  for (int i = 0; i < ms->n; i++) {
    json_t *o = model_json(s, ms->items[i].name, ms->items[i].model);
    json_object_set_new(seen, json_string_value(json_object_get(o, "path")), json_true());
    json_array_append_new(list, o);
  }
  pthread_mutex_unlock(&ms->mu);
  users_ctx u = {.discovered = json_object()};
  scan_users(s, &u);
  const char *src;
  json_t *d;
  json_object_foreach(u.discovered, src, d) {
    if (!json_object_get(seen, src)) json_array_append_new(list, discovered_json(s, d));
  }
  json_decref(u.discovered);
  json_decref(seen);
  return srv_reply_json(rq, 200, json_pack("{s:o}", "models", list));
}

static bool valid_name(const char *n) {
  if (!n[0] || strlen(n) >= VG_MODEL_NAME_MAX) return false;
  for (const char *p = n; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') return false;
  return n[0] != '.';
}

/* Fills spec from the POST body; replies 400 naming the field on a bad one. */
static bool spec_from_body(srv_req *rq, json_t *b, named_model *nm, enum MHD_Result *ret) {
  vg_server *s = rq->srv;
  json_t *name = json_object_get(b, "name"), *path = json_object_get(b, "path");
  json_t *prov = json_object_get(b, "providers"), *prec = json_object_get(b, "precision");
  const char *k;
  json_t *v;
  json_object_foreach(b, k, v) {
    if (strcmp(k, "name") && strcmp(k, "path") && strcmp(k, "providers") &&
        strcmp(k, "precision") && strcmp(k, "io_binding")) {
      *ret = srv_reply_error(rq, 400, "bad_field",
                             "%s: unknown field (name, path, providers, precision, io_binding)", k);
      return false;
    }
  }
  if (!json_is_string(name) || !valid_name(json_string_value(name))) {
    *ret = srv_reply_error(rq, 400, "bad_field",
                           "name: a string of 1..63 letters, digits, '_', '-' or '.'");
    return false;
  }
  if (!json_is_string(path)) {
    *ret =
        srv_reply_error(rq, 400, "bad_field", "path: a string (a .onnx file under a model root)");
    return false;
  }
  vg_model_spec_init(&nm->spec);
  nm->spec.fit_batch = true; /* as an infer node sets it, so that both share one session */
  snprintf(nm->name, sizeof nm->name, "%s", json_string_value(name));
  snprintf(nm->spec.name, sizeof nm->spec.name, "%s", nm->name);
  if (srv_confine_path((const char(*)[SRV_PATH_MAX])s->model_roots, s->nmodel_roots,
                       json_string_value(path), "path", nm->spec.path,
                       sizeof nm->spec.path) != VG_OK) {
    *ret = srv_reply_error(rq, vg_last_status() == VG_ERR_NOT_FOUND ? 404 : 400, "bad_path", "%s",
                           vg_last_error());
    return false;
  }
  if (prov) {
    size_t i;
    json_t *p;
    if (!json_is_array(prov) || json_array_size(prov) == 0 ||
        json_array_size(prov) > VG_MODEL_MAX_PROVIDERS) {
      *ret = srv_reply_error(rq, 400, "bad_field",
                             "providers: a list of 1..3 of \"tensorrt\", \"cuda\", \"cpu\"");
      return false;
    }
    nm->spec.nproviders = 0;
    json_array_foreach(prov, i, p) {
      if (!json_is_string(p) ||
          vg_provider_parse(json_string_value(p), &nm->spec.providers[i]) != VG_OK) {
        *ret = srv_reply_error(rq, 400, "bad_field",
                               "providers[%zu]: \"tensorrt\", \"cuda\" or \"cpu\"", i);
        return false;
      }
      nm->spec.nproviders++;
    }
  }
  const char *pr = prec ? json_string_value(prec) : "fp32";
  if (!pr || (strcmp(pr, "fp32") && strcmp(pr, "fp16") && strcmp(pr, "int8"))) {
    *ret = srv_reply_error(rq, 400, "bad_field", "precision: \"fp32\", \"fp16\" or \"int8\"");
    return false;
  }
  snprintf(nm->precision, sizeof nm->precision, "%s", pr);
  nm->spec.trt.fp16 = strcmp(pr, "fp16") == 0;
  nm->spec.trt.int8 = strcmp(pr, "int8") == 0;
  json_t *iob = json_object_get(b, "io_binding");
  if (iob && !json_is_boolean(iob)) {
    *ret = srv_reply_error(rq, 400, "bad_field", "io_binding: true or false");
    return false;
  }
  nm->spec.io_binding = json_is_true(iob);
  return true;
}

static enum MHD_Result post_model(srv_req *rq) {
  vg_server *s = rq->srv;
  enum MHD_Result ret;
  json_t *b = srv_body_object(rq, &ret);
  if (!b) return ret;
  named_model nm;
  memset(&nm, 0, sizeof nm);
  bool ok = spec_from_body(rq, b, &nm, &ret);
  json_decref(b);
  if (!ok) return ret;
  srv_models *ms = s->models;
  pthread_mutex_lock(&ms->mu);
  for (int i = 0; i < ms->n; i++)
    if (strcmp(ms->items[i].name, nm.name) == 0) {
      pthread_mutex_unlock(&ms->mu);
      return srv_reply_error(rq, 409, "exists", "name: a model named '%s' is already loaded",
                             nm.name);
    }
  if (ms->n == MAX_NAMED) {
    pthread_mutex_unlock(&ms->mu);
    return srv_reply_error(rq, 409, "full", "at most %d named models; delete one first", MAX_NAMED);
  }
  pthread_mutex_unlock(&ms->mu);
  /* loading may take seconds: outside the lock */
  if (vg_model_cache_get(s->cache, &nm.spec, &nm.model) != VG_OK)
    return srv_reply_error(rq, 422, "load_failed", "path: %s", vg_last_error());
  pthread_mutex_lock(&ms->mu);
  bool dup = false;
  for (int i = 0; i < ms->n; i++)
    dup |= strcmp(ms->items[i].name, nm.name) == 0;
  if (dup || ms->n == MAX_NAMED) {
    pthread_mutex_unlock(&ms->mu);
    vg_model_cache_release(s->cache, nm.model);
    return srv_reply_error(rq, 409, "exists", "name: '%s' was loaded by another request", nm.name);
  }
  ms->items[ms->n++] = nm;
  json_t *o = model_json(s, nm.name, nm.model);
  pthread_mutex_unlock(&ms->mu);
  return srv_reply_json(rq, 201, o);
}

static enum MHD_Result delete_model(srv_req *rq, const char *name) {
  vg_server *s = rq->srv;
  srv_models *ms = s->models;
  pthread_mutex_lock(&ms->mu);
  int k = -1;
  for (int i = 0; i < ms->n; i++)
    if (strcmp(ms->items[i].name, name) == 0) k = i;
  if (k < 0) {
    pthread_mutex_unlock(&ms->mu);
    return srv_reply_error(rq, 404, "not_found", "no model named '%s' (GET /api/models lists them)",
                           name);
  }
  json_t *users = srv_model_users(s, ms->items[k].spec.path);
  vg_model_report r;
  vg_model_get_report(ms->items[k].model, &r);
  json_decref(users);
  users = srv_model_users(s, r.source);
  if (json_array_size(users) > 0) {
    pthread_mutex_unlock(&ms->mu);
    char *t = json_dumps(users, JSON_COMPACT);
    json_decref(users);
    enum MHD_Result ret =
        srv_reply_error(rq, 409, "in_use", "model '%s' is used by %s", name, t ? t : "runs");
    free(t);
    return ret;
  }
  json_decref(users);
  named_model nm = ms->items[k];
  ms->items[k] = ms->items[--ms->n];
  pthread_mutex_unlock(&ms->mu);
  vg_model_cache_release(s->cache, nm.model);
  vg_model_cache_unload(s->cache, &nm.spec);
  vg_clear_error();
  return srv_reply_json(rq, 204, NULL);
}

enum MHD_Result srv_route_models(srv_req *rq, const char *name) {
  if (!name && strcmp(rq->method, "GET") == 0) return list_models(rq);
  if (!name && strcmp(rq->method, "POST") == 0) return post_model(rq);
  if (name && strcmp(rq->method, "DELETE") == 0) return delete_model(rq, name);
  return srv_reply_error(rq, 405, "method_not_allowed",
                         "models: GET /api/models, POST /api/models, DELETE /api/models/{name}");
}
