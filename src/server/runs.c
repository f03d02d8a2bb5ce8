/* runs.c - one-shot runs over the API: POST /api/runs builds a graph from a spec object or the
 * name of a configured graph (paths confined to the roots, sink files inside the run's own
 * output folder), starts it with the server's model cache, and a watcher thread waits for its
 * end, writes summary.json and closes its event log. GET lists/reads runs (state, progress,
 * per-node timings and providers), DELETE cancels, GET .../events streams the run's events
 * (node, objects, error, end) as SSE from the first one. */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *srv_ort_provider_name(vg_provider p);

#define MAX_KEPT_RUNS 256
#define RUN_LOG_EVENTS 16384
#define MAX_INPUTS 64

struct srv_run {
  vg_server *srv;
  char id[32];
  char graph_name[256];
  char outdir[SRV_PATH_MAX];
  pthread_mutex_t mu; /* r, state, final */
  vg_graph *g;
  vg_run *r;
  vg_run_state state;
  char error[512];
  vg_run_summary final;
  bool has_final;
  srv_evlog *log;
  json_t *outputs;     /* SHMREFs of the output nodes' last packets (after the end) */
  bool export_outputs; /* the client speaks shared memory (it sent shm inputs) */
  pthread_t watcher;
  bool watcher_started;
  atomic_int refs; /* the table's + one per request using it; the last one frees */
};

/* ------------------------------------------------------------------ events of a run */

static json_t *objects_json(const vg_objects *objs) {
  json_t *a = json_array();
  for (size_t i = 0; i < objs->count && i < 256; i++) {
    const vg_object *o = &objs->items[i];
    json_array_append_new(a,
                          json_pack("{s:[f,f,f,f],s:s,s:i,s:f,s:I,s:s}", "box", o->box.x1,
                                    o->box.y1, o->box.x2 - o->box.x1, o->box.y2 - o->box.y1,
                                    "label", o->label, "class_id", o->class_id, "score", o->score,
                                    "track_id", (json_int_t)o->track_id, "text", o->text));
  }
  return a;
}

static void on_node_event(void *user, const vg_node_event *ev) {
  srv_run *run = user;
  if (ev->state == VG_NODE_PENDING || ev->state == VG_NODE_RUNNING) return;
  char stream[16];
  snprintf(stream, sizeof stream, "%d", ev->stream_id);
  json_t *o = json_pack("{s:s,s:s,s:i,s:I,s:f,s:b}", "node", ev->node_id, "state",
                        vg_node_state_name(ev->state), "stream", ev->stream_id, "frame",
                        (json_int_t)ev->frame_no, "duration_ms", (double)ev->duration_ns / 1e6,
                        "skipped", ev->skipped);
  srv_evlog_push(run->log, "node", NULL, o);
  if (ev->state == VG_NODE_FAILED && ev->message)
    srv_evlog_push(run->log, "error", NULL,
                   json_pack("{s:s,s:s,s:I}", "node", ev->node_id, "message", ev->message, "frame",
                             (json_int_t)ev->frame_no));
  if (ev->state == VG_NODE_SUCCEEDED && ev->output && !ev->skipped) {
    const vg_objects *objs = vg_packet_objects(ev->output);
    if (objs->count > 0)
      srv_evlog_push(run->log, "objects", NULL,
                     json_pack("{s:i,s:I,s:s,s:o}", "stream", ev->stream_id, "frame",
                               (json_int_t)ev->frame_no, "node", ev->node_id, "objects",
                               objects_json(objs)));
  }
}

/* ------------------------------------------------------------------ RUN objects */

static json_t *nodes_json(const vg_run_summary *s, vg_run_state state) {
  json_t *a = json_array();
  for (int i = 0; i < s->nnodes; i++) {
    const vg_node_metrics *m = &s->nodes[i];
    char dev[16];
    json_t *d = m->detail ? json_loads(m->detail, 0, NULL) : NULL;
    const char *prov = json_string_value(json_object_get(d, "provider"));
    vg_provider p;
    json_t *fb = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(d, "skipped_providers"), k, v) {
      if (json_string_value(v) && json_string_value(v)[0] && vg_provider_parse(k, &p) == VG_OK)
        json_array_append_new(
            fb, json_pack("{s:s,s:O}", "provider", srv_ort_provider_name(p), "reason", v));
    }
    const char *nstate = m->errors > 0 && m->dropped < m->errors ? "failed"
                         : state == VG_RUN_RUNNING               ? "running"
                                                                 : vg_run_state_name(state);
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:s}", "id", m->id, "type", m->type, "device",
        vg_device_str(m->device, dev, sizeof dev), "state", nstate, "frames", (json_int_t)m->frames,
        "calls", (json_int_t)m->calls, "dropped", (json_int_t)m->dropped, "latency_ms",
        srv_latency_json(&m->latency), "execution_provider",
        prov && vg_provider_parse(prov, &p) == VG_OK ? json_string(srv_ort_provider_name(p))
                                                     : json_null(),
        "fallback_reasons", fb, "last_error", m->last_error);
    if (d) json_object_set_new(o, "detail", d);
    json_array_append_new(a, o);
  }
  return a;
}

static double progress_of(const vg_run_summary *s) {
  if (s->state == VG_RUN_SUCCEEDED) return 1.0;
  double total = 0;
  for (int i = 0; i < s->nnodes; i++) {
    if (!s->nodes[i].detail) continue;
    json_t *d = json_loads(s->nodes[i].detail, 0, NULL);
    json_t *t = json_object_get(d, "total_frames");
    if (json_is_number(t)) total += json_number_value(t);
    json_decref(d);
  }
  double p = total > 0 ? (double)s->frames_done / total : 0;
  return p > 1 ? 1 : p;
}

/* RUN object; takes run->mu. */
static json_t *run_json(srv_run *run, bool with_nodes) {
  pthread_mutex_lock(&run->mu);
  vg_run_summary live;
  const vg_run_summary *s = NULL;
  bool have_live = false;
  if (run->has_final) {
    s = &run->final;
  } else if (run->r && vg_run_get_summary(run->r, &live) == VG_OK) {
    s = &live;
    have_live = true;
  }
  json_t *o =
      json_pack("{s:s,s:s,s:s,s:f,s:I,s:f,s:o,s:o}", "id", run->id, "state",
                vg_run_state_name(run->state), "graph", run->graph_name, "progress",
                s ? progress_of(s) : 0.0, "frames", s ? (json_int_t)s->frames_done : 0, "fps",
                s ? s->fps : 0.0, "error", run->error[0] ? json_string(run->error) : json_null(),
                "outputs", run->outputs ? json_deep_copy(run->outputs) : json_array());
  if (s && with_nodes) {
    json_object_set_new(o, "nodes", nodes_json(s, run->state));
    json_object_set_new(o, "copies",
                        json_pack("{s:I,s:I,s:I}", "to_device", (json_int_t)s->copies_to_device,
                                  "to_host", (json_int_t)s->copies_to_host, "frames_to_host",
                                  (json_int_t)s->frame_copies_to_host));
    json_object_set_new(o, "wall_ms", json_real(s->wall_ms));
  }
  if (have_live) vg_run_summary_free(&live);
  pthread_mutex_unlock(&run->mu);
  json_object_set_new(o, "output_dir", json_string(run->outdir));
  return o;
}

/* ------------------------------------------------------------------ lifecycle */

static void write_summary(srv_run *run) {
  char *t = vg_run_summary_json(&run->final);
  json_t *o = t ? json_loads(t, 0, NULL) : json_object();
  free(t);
  json_object_set_new(o, "id", json_string(run->id));
  json_object_set_new(o, "graph", json_string(run->graph_name));
  char path[SRV_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/summary.json", run->outdir);
  if (json_dump_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
    VG_LOGW("server", "run %s: cannot write %s", run->id, path);
  json_decref(o);
}

static void *watch_run(void *arg) {
  srv_run *run = arg;
  vg_status st = vg_run_wait(run->r, -1);
  char err[512] = "";
  if (st != VG_OK && st != VG_ERR_CANCELED) snprintf(err, sizeof err, "%s", vg_last_error());
  pthread_mutex_lock(&run->mu);
  run->state = vg_run_get_state(run->r);
  if (vg_run_get_summary(run->r, &run->final) == VG_OK) run->has_final = true;
  if (!run->error[0] && err[0]) snprintf(run->error, sizeof run->error, "%s", err);
  if (!run->error[0] && run->has_final && run->final.error[0])
    snprintf(run->error, sizeof run->error, "%s", run->final.error);
  json_t *outs = json_array();
  for (int i = 0; run->export_outputs && i < vg_graph_node_count(run->g); i++) {
    vg_packet *p = NULL;
    if (strcmp(vg_graph_node_type(run->g, i)->name, "output") != 0 ||
        vg_run_output(run->r, vg_graph_node_id(run->g, i), &p) != VG_OK)
      continue;
    json_t *ref = srv_shm_export(run->srv, p);
    if (ref) json_object_set_new(ref, "node", json_string(vg_graph_node_id(run->g, i)));
    if (ref) json_array_append_new(outs, ref);
    vg_packet_unref(p);
  }
  vg_clear_error();
  run->outputs = outs;
  vg_run *r = run->r;
  vg_graph *g = run->g;
  run->r = NULL;
  run->g = NULL;
  pthread_mutex_unlock(&run->mu);
  vg_run_destroy(r); /* releases its models back to the cache */
  vg_graph_free(g);
  if (run->has_final) write_summary(run);
  srv_evlog_push(run->log, "end", NULL,
                 json_pack("{s:s,s:s,s:o}", "id", run->id, "state", vg_run_state_name(run->state),
                           "error", run->error[0] ? json_string(run->error) : json_null()));
  srv_evlog_close(run->log);
  return NULL;
}

static void run_free(srv_run *run) {
  if (run->watcher_started) pthread_join(run->watcher, NULL);
  if (run->r) vg_run_destroy(run->r);
  vg_graph_free(run->g);
  if (run->has_final) vg_run_summary_free(&run->final);
  srv_evlog_free(run->log);
  json_decref(run->outputs);
  pthread_mutex_destroy(&run->mu);
  free(run);
}

static void run_unref(srv_run *run) {
  if (run && atomic_fetch_sub(&run->refs, 1) == 1) run_free(run);
}

static vg_status mkdir_p(const char *dir) {
  char p[SRV_PATH_MAX];
  snprintf(p, sizeof p, "%s", dir);
  for (char *c = p + 1; *c; c++) {
    if (*c != '/') continue;
    *c = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
      return vg_set_error(VG_ERR_IO, "cannot create '%s': %s", p, strerror(errno));
    *c = '/';
  }
  if (mkdir(p, 0755) != 0 && errno != EEXIST)
    return vg_set_error(VG_ERR_IO, "cannot create '%s': %s", p, strerror(errno));
  return VG_OK;
}

/* ------------------------------------------------------------------ building the graph */

typedef struct build {
  srv_req *rq;
  vg_packet *fed[MAX_INPUTS]; /* shared-memory inputs, fed to the graph's `input` node */
  int nfed;
  char input_id[128]; /* that node's id ("" when the graph has none) */
  bool swapped;       /* the first source was turned into that input node */
  char *sets[2 * MAX_INPUTS + 8];
  int nsets;
  char bad[1024]; /* 400 detail */
  int bad_status;
} build;

static bool fail(build *b, int status, const char *fmt, const char *a, const char *c) {
  snprintf(b->bad, sizeof b->bad, fmt, a, c);
  b->bad_status = status;
  return false;
}

static bool add_set(build *b, const char *text) {
  if (b->nsets >= (int)(sizeof b->sets / sizeof b->sets[0]))
    return fail(b, 400, "%s%s", "too many overrides", "");
  b->sets[b->nsets++] = strdup(text);
  return true;
}

/* Rewrites one string parameter of a posted graph to a confined absolute path. */
static bool confine_value(build *b, const char *field, const char *key, json_t *str,
                          const char *outdir) {
  vg_server *s = b->rq->srv;
  const char *v = json_string_value(str);
  char real[SRV_PATH_MAX];
  if (strcmp(key, "path") == 0) { /* sink files go inside the run's folder */
    if (v[0] == '/' || strstr(v, "..") || strcmp(v, "-") == 0)
      return fail(b, 400,
                  "%s: sink paths are relative to the run's output folder, without '..' "
                  "('%s')",
                  field, v);
    snprintf(real, sizeof real, "%s/%s", outdir, v);
    json_string_set(str, real);
    return true;
  }
  if (strcmp(key, "url") == 0 && srv_is_network_url(v)) return true;
  bool model_key = strcmp(key, "model") == 0 || strcmp(key, "fallback") == 0;
  bool media_key = strcmp(key, "url") == 0;
  if (!model_key && !media_key && !strchr(v, '/') && strncmp(v, "..", 2) != 0) return true;
  vg_status st = VG_ERR_NOT_FOUND;
  if (!media_key)
    st = srv_confine_path((const char(*)[SRV_PATH_MAX])s->model_roots, s->nmodel_roots, v, field,
                          real, sizeof real);
  if (st != VG_OK && !model_key)
    st = srv_confine_path((const char(*)[SRV_PATH_MAX])s->media_roots, s->nmedia_roots, v, field,
                          real, sizeof real);
  if (st != VG_OK)
    return fail(b, vg_last_status() == VG_ERR_NOT_FOUND ? 404 : 400, "%s%s", vg_last_error(), "");
  json_string_set(str, real);
  return true;
}

static bool walk_params(build *b, json_t *v, const char *field, const char *key, const char *outdir,
                        int depth) {
  char sub[512];
  if (depth > 16) return fail(b, 400, "%s: nested too deeply%s", field, "");
  if (json_is_string(v)) return confine_value(b, field, key, v, outdir);
  if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      snprintf(sub, sizeof sub, "%s[%zu]", field, i);
      if (!walk_params(b, e, sub, key, outdir, depth + 1)) return false;
    }
  } else if (json_is_object(v)) {
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) {
      snprintf(sub, sizeof sub, "%s.%s", field, k);
      if (!walk_params(b, e, sub, k, outdir, depth + 1)) return false;
    }
  }
  return true;
}

/* Id of the first node of a type in a graph object, or NULL. */
static const char *first_of_type(json_t *graph, const char *type) {
  size_t i;
  json_t *n;
  json_array_foreach(json_object_get(graph, "nodes"), i, n) {
    const char *t = json_string_value(json_object_get(n, "type"));
    if (t && strcmp(t, type) == 0) return json_string_value(json_object_get(n, "id"));
  }
  return NULL;
}

/* inputs -> an override of the first source's url list (paths confined to the media roots);
 * {"shm": SHMREF} entries become packets for the graph's `input` node. */
static bool inputs_to_set(build *b, json_t *inputs, const char *src_id) {
  vg_server *s = b->rq->srv;
  if (!inputs) return true;
  if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
      json_array_size(inputs) > MAX_INPUTS)
    return fail(b, 400, "inputs: a list of 1..64 file paths, URLs or {\"shm\": SHMREF}%s%s", "",
                "");
  json_t *urls = json_array();
  size_t i;
  json_t *in;
  json_array_foreach(inputs, i, in) {
    char field[32], real[SRV_PATH_MAX];
    snprintf(field, sizeof field, "inputs[%zu]", i);
    if (json_is_object(in) && json_object_get(in, "shm")) {
      snprintf(field, sizeof field, "inputs[%zu].shm", i);
      if (!b->input_id[0] && src_id && !b->swapped) {
        /* a file graph on shared-memory frames: its first source becomes an `input` node */
        char set[256];
        snprintf(set, sizeof set, "nodes.%s.type=input", src_id);
        snprintf(b->input_id, sizeof b->input_id, "%s", src_id);
        b->swapped = true;
        if (!add_set(b, set)) {
          json_decref(urls);
          return false;
        }
      }
      bool ok = b->input_id[0] != '\0';
      if (!ok)
        fail(b, 400, "%s: shared-memory inputs need a graph with an `input` node%s", field, "");
      else if (srv_shm_packet(s, json_object_get(in, "shm"), "input", &b->fed[b->nfed]) != VG_OK)
        ok = fail(b, 400, "%s: %s", field, vg_last_error()); /* a bad reference is a 400 */
      else
        b->nfed++;
      if (!ok) {
        json_decref(urls);
        return false;
      }
      continue;
    }
    const char *v = json_string_value(in);
    if (!v) {
      json_decref(urls);
      return fail(b, 400, "%s: a string (file path or URL) or {\"shm\": SHMREF}%s", field, "");
    }
    if (srv_is_network_url(v)) {
      json_array_append_new(urls, json_string(v));
      continue;
    }
    if (srv_confine_path((const char(*)[SRV_PATH_MAX])s->media_roots, s->nmedia_roots, v, field,
                         real, sizeof real) != VG_OK) {
      json_decref(urls);
      return fail(b, vg_last_status() == VG_ERR_NOT_FOUND ? 404 : 400, "%s%s", vg_last_error(), "");
    }
    json_array_append_new(urls, json_string(real));
  }
  if (json_array_size(urls) == 0) { /* only shared-memory inputs */
    json_decref(urls);
    return true;
  }
  if (!src_id || b->swapped) {
    json_decref(urls);
    return fail(b, 400, "inputs: %s%s",
                b->swapped ? "files and shared-memory inputs cannot be mixed in a graph with one "
                             "source"
                           : "the graph has no node of type 'source'",
                "");
  }
  char *t = json_dumps(urls, JSON_COMPACT);
  json_decref(urls);
  char set[8192];
  snprintf(set, sizeof set, "nodes.%s.params.url=%s", src_id, t ? t : "[]");
  free(t);
  return add_set(b, set);
}

static bool user_sets(build *b, json_t *sets) {
  if (!sets) return true;
  if (!json_is_array(sets) || json_array_size(sets) > MAX_INPUTS)
    return fail(b, 400, "set: a list of \"path=value\" strings%s%s", "", "");
  size_t i;
  json_t *v;
  json_array_foreach(sets, i, v) {
    char field[32];
    snprintf(field, sizeof field, "set[%zu]", i);
    const char *t = json_string_value(v);
    const char *eq = t ? strchr(t, '=') : NULL;
    if (!eq || eq == t) return fail(b, 400, "%s: a \"path=value\" string%s", field, "");
    if (strchr(eq, '/') || strstr(eq, ".."))
      return fail(b, 400,
                  "%s: values with paths cannot be set here (use inputs, or a graph "
                  "object whose paths are checked)%s",
                  field, "");
    if (!add_set(b, t)) return false;
  }
  return true;
}

/* Configured graph: file path from the config's `graphs:` map, its first source, and sink paths
 * moved inside the run's folder. */
static bool configured_graph(build *b, const char *name, const char *outdir, char *path, size_t cap,
                             char *src_id, size_t src_cap) {
  vg_server *s = b->rq->srv;
  const vg_cnode *graphs = s->config ? vg_cnode_get(vg_config_root(s->config), "graphs") : NULL;
  const char *file = vg_cnode_scalar(vg_cnode_get(graphs, name));
  if (!file)
    return fail(b, 404, "graph: no configured graph named '%s' (the serve config's graphs: map)%s",
                name, "");
  if (file[0] == '/' || !s->config_dir[0])
    snprintf(path, cap, "%s", file);
  else
    snprintf(path, cap, "%s/%s", s->config_dir, file);
  vg_config *doc;
  if (vg_config_load_file(path, &doc) != VG_OK)
    return fail(b, 500, "graph: %s%s", vg_last_error(), "");
  const vg_cnode *nodes = vg_cnode_get(vg_config_root(doc), "nodes");
  src_id[0] = '\0';
  bool ok = true;
  for (size_t i = 0; i < vg_cnode_len(nodes) && ok; i++) {
    const vg_cnode *nd = vg_cnode_at(nodes, i);
    const char *id = vg_cnode_scalar(vg_cnode_get(nd, "id"));
    const char *type = vg_cnode_scalar(vg_cnode_get(nd, "type"));
    if (!id || !type) continue;
    if (!src_id[0] && strcmp(type, "source") == 0) snprintf(src_id, src_cap, "%s", id);
    if (!b->input_id[0] && strcmp(type, "input") == 0)
      snprintf(b->input_id, sizeof b->input_id, "%s", id);
    const char *p = vg_cnode_scalar(vg_cnode_get(vg_cnode_get(nd, "params"), "path"));
    if (p && p[0] != '/' && strcmp(p, "-") != 0) {
      char set[SRV_PATH_MAX * 2], esc[SRV_PATH_MAX * 2];
      snprintf(set, sizeof set, "%s/%s", outdir, p);
      char esc_set[SRV_PATH_MAX * 2 + 64];
      snprintf(esc_set, sizeof esc_set, "nodes.%s.params.path=\"%s\"", id,
               vg_json_escape(set, esc, sizeof esc));
      ok = add_set(b, esc_set);
    }
  }
  vg_config_free(doc);
  return ok;
}

static srv_run *run_new(vg_server *s) {
  srv_run *run = calloc(1, sizeof *run);
  if (!run) return NULL;
  if (srv_evlog_create(RUN_LOG_EVENTS, &run->log) != VG_OK) {
    free(run);
    return NULL;
  }
  pthread_mutex_init(&run->mu, NULL);
  atomic_init(&run->refs, 1);
  run->srv = s;
  pthread_mutex_lock(&s->runs_mu);
  snprintf(run->id, sizeof run->id, "r%llu", (unsigned long long)s->next_run_id++);
  pthread_mutex_unlock(&s->runs_mu);
  snprintf(run->outdir, sizeof run->outdir, "%s/runs/%s", s->cfg.output_root, run->id);
  return run;
}

/* Adds to the table, dropping the oldest finished runs beyond MAX_KEPT_RUNS. */
static void table_add(vg_server *s, srv_run *run) {
  srv_run *evict = NULL;
  pthread_mutex_lock(&s->runs_mu);
  if (s->nruns >= MAX_KEPT_RUNS) {
    for (int i = 0; i < s->nruns; i++) {
      pthread_mutex_lock(&s->runs[i]->mu);
      bool done = s->runs[i]->state != VG_RUN_RUNNING && s->runs[i]->state != VG_RUN_CREATED;
      pthread_mutex_unlock(&s->runs[i]->mu);
      if (done) {
        evict = s->runs[i];
        memmove(&s->runs[i], &s->runs[i + 1], (size_t)(s->nruns - i - 1) * sizeof *s->runs);
        s->nruns--;
        break;
      }
    }
  }
  if (s->nruns == s->runs_cap) {
    int ncap = s->runs_cap ? s->runs_cap * 2 : 16;
    srv_run **nr = realloc(s->runs, (size_t)ncap * sizeof *nr);
    if (nr) {
      s->runs = nr;
      s->runs_cap = ncap;
    }
  }
  if (s->nruns < s->runs_cap) s->runs[s->nruns++] = run;
  pthread_mutex_unlock(&s->runs_mu);
  if (evict) run_unref(evict);
}

static enum MHD_Result post_run(srv_req *rq) {
  vg_server *s = rq->srv;
  enum MHD_Result ret;
  json_t *body = srv_body_object(rq, &ret);
  if (!body) return ret;
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    if (strcmp(k, "graph") && strcmp(k, "inputs") && strcmp(k, "set")) {
      enum MHD_Result bad =
          srv_reply_error(rq, 400, "bad_field", "%s: unknown field (graph, inputs, set)", k);
      json_decref(body); /* after the reply: k points into it */
      return bad;
    }
  }
  json_t *graph = json_object_get(body, "graph");
  if (!json_is_object(graph) && !json_is_string(graph)) {
    json_decref(body);
    return srv_reply_error(rq, 400, "bad_field",
                           "graph: a graph spec object or the name of a configured graph");
  }
  srv_run *run = run_new(s);
  if (!run) {
    json_decref(body);
    return srv_reply_error(rq, 503, "no_memory", "out of memory");
  }
  build b = {.rq = rq};
  char path[SRV_PATH_MAX] = "", src_id[128] = "";
  char *text = NULL;
  bool ok;
  if (json_is_string(graph)) {
    snprintf(run->graph_name, sizeof run->graph_name, "%s", json_string_value(graph));
    ok = configured_graph(&b, json_string_value(graph), run->outdir, path, sizeof path, src_id,
                          sizeof src_id);
  } else {
    snprintf(run->graph_name, sizeof run->graph_name, "request");
    json_t *nodes = json_object_get(graph, "nodes");
    ok = json_is_array(nodes) || fail(&b, 400, "graph.nodes: a list of nodes%s%s", "", "");
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
      char field[64];
      snprintf(field, sizeof field, "graph.nodes[%zu].params", i);
      if (ok) ok = walk_params(&b, json_object_get(n, "params"), field, "", run->outdir, 0);
    }
    const char *sid = first_of_type(graph, "source"), *iid = first_of_type(graph, "input");
    if (sid) snprintf(src_id, sizeof src_id, "%s", sid);
    if (iid) snprintf(b.input_id, sizeof b.input_id, "%s", iid);
    if (ok) text = json_dumps(graph, JSON_COMPACT);
  }
  if (ok) ok = inputs_to_set(&b, json_object_get(body, "inputs"), src_id[0] ? src_id : NULL);
  if (ok) ok = user_sets(&b, json_object_get(body, "set"));
  json_decref(body);
  vg_status st = VG_OK;
  if (ok) st = mkdir_p(run->outdir);
  if (ok && st == VG_OK) {
    if (text)
      st = vg_graph_load_string(text, "graph", (const char *const *)b.sets, b.nsets, s->registry,
                                &run->g);
    else
      st = vg_graph_load_file(path, (const char *const *)b.sets, b.nsets, s->registry, &run->g);
  }
  free(text);
  for (int i = 0; i < b.nsets; i++)
    free(b.sets[i]);
  if (!ok) {
    for (int i = 0; i < b.nfed; i++)
      vg_packet_unref(b.fed[i]);
    run_free(run);
    return srv_reply_error(rq, b.bad_status, b.bad_status == 404 ? "not_found" : "bad_field", "%s",
                           b.bad);
  }
  if (st == VG_OK) {
    vg_run_options opt = {
        .on_event = on_node_event, .event_user = run, .model_cache = s->cache, .host = s};
    st = vg_run_create(run->g, &opt, &run->r);
  }
  run->export_outputs = b.nfed > 0;
  for (int i = 0; i < b.nfed; i++) {
    if (st == VG_OK) st = vg_run_feed(run->r, b.input_id, b.fed[i]);
    vg_packet_unref(b.fed[i]);
  }
  if (st != VG_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    run_free(run);
    return srv_reply_error(rq, 400, "bad_graph", "graph: %s", msg);
  }
  run->state = VG_RUN_RUNNING;
  st = vg_run_start(run->r);
  if (st == VG_OK)
    st = pthread_create(&run->watcher, NULL, watch_run, run) == 0 ? VG_OK : VG_ERR_INTERNAL;
  if (st != VG_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    run_free(run);
    return srv_reply_error(rq, 500, "start_failed", "%s", msg);
  }
  run->watcher_started = true;
  table_add(s, run);
  return srv_reply_json(rq, 201, json_pack("{s:s,s:s}", "id", run->id, "output_dir", run->outdir));
}

/* ------------------------------------------------------------------ table access */

static srv_run *find_run(vg_server *s, const char *id) {
  srv_run *r = NULL;
  pthread_mutex_lock(&s->runs_mu);
  for (int i = 0; i < s->nruns && !r; i++)
    if (strcmp(s->runs[i]->id, id) == 0) r = s->runs[i];
  if (r) atomic_fetch_add(&r->refs, 1); /* the caller's; run_unref when done */
  pthread_mutex_unlock(&s->runs_mu);
  return r; /* runs leave the table only when finished and evicted, or at shutdown */
}

void srv_runs_foreach_summary(vg_server *s, srv_summary_fn fn, void *user) {
  pthread_mutex_lock(&s->runs_mu);
  for (int i = 0; i < s->nruns; i++) {
    srv_run *run = s->runs[i];
    pthread_mutex_lock(&run->mu);
    vg_run_summary sum;
    if (run->r && run->state == VG_RUN_RUNNING && vg_run_get_summary(run->r, &sum) == VG_OK) {
      char owner[48];
      snprintf(owner, sizeof owner, "run:%s", run->id);
      fn(user, owner, run->r, &sum);
      vg_run_summary_free(&sum);
    }
    pthread_mutex_unlock(&run->mu);
  }
  pthread_mutex_unlock(&s->runs_mu);
}

void srv_runs_count(vg_server *s, int counts[5]) {
  memset(counts, 0, 5 * sizeof *counts);
  pthread_mutex_lock(&s->runs_mu);
  for (int i = 0; i < s->nruns; i++) {
    pthread_mutex_lock(&s->runs[i]->mu);
    int st = (int)s->runs[i]->state;
    pthread_mutex_unlock(&s->runs[i]->mu);
    if (st >= 0 && st < 5) counts[st]++;
  }
  pthread_mutex_unlock(&s->runs_mu);
}

void srv_runs_shutdown(vg_server *s) {
  pthread_mutex_lock(&s->runs_mu);
  for (int i = 0; i < s->nruns; i++) {
    pthread_mutex_lock(&s->runs[i]->mu);
    if (s->runs[i]->r) vg_run_stop(s->runs[i]->r); /* graceful: frames in flight finish */
    pthread_mutex_unlock(&s->runs[i]->mu);
  }
  srv_run **runs = s->runs;
  int n = s->nruns;
  s->runs = NULL;
  s->nruns = s->runs_cap = 0;
  pthread_mutex_unlock(&s->runs_mu);
  for (int i = 0; i < n; i++)
    run_unref(runs[i]); /* joins the watcher, which writes the summary */
  free(runs);
}

static enum MHD_Result run_route(srv_req *rq, srv_run *run, const char *sub) {
  const char *m = rq->method;
  if (sub && strcmp(sub, "events") == 0) {
    if (strcmp(m, "GET") != 0)
      return srv_reply_error(rq, 405, "method_not_allowed", "events: GET only");
    return srv_reply_sse(rq, run->log, 1, NULL, srv_query(rq, "type"));
  }
  if (sub) return srv_reply_error(rq, 404, "not_found", "no route %s (runs/{id}/events)", rq->url);
  if (strcmp(m, "GET") == 0) return srv_reply_json(rq, 200, run_json(run, true));
  if (strcmp(m, "DELETE") == 0) {
    pthread_mutex_lock(&run->mu);
    if (run->r) vg_run_cancel(run->r);
    pthread_mutex_unlock(&run->mu);
    return srv_reply_json(rq, 202, json_pack("{s:s,s:s}", "id", run->id, "state", "canceling"));
  }
  return srv_reply_error(rq, 405, "method_not_allowed", "/api/runs/{id}: GET or DELETE");
}

enum MHD_Result srv_route_runs(srv_req *rq, const char *id, const char *sub) {
  vg_server *s = rq->srv;
  const char *m = rq->method;
  if (!id) {
    if (strcmp(m, "POST") == 0) return post_run(rq);
    if (strcmp(m, "GET") != 0)
      return srv_reply_error(rq, 405, "method_not_allowed", "/api/runs: GET or POST");
    json_t *list = json_array();
    pthread_mutex_lock(&s->runs_mu);
    for (int i = 0; i < s->nruns; i++)
      json_array_append_new(list, run_json(s->runs[i], false));
    pthread_mutex_unlock(&s->runs_mu);
    return srv_reply_json(rq, 200, json_pack("{s:o}", "runs", list));
  }
  srv_run *run = find_run(s, id);
  if (!run)
    return srv_reply_error(rq, 404, "not_found", "no run '%s' (GET /api/runs lists them)", id);
  enum MHD_Result ret = run_route(rq, run, sub);
  run_unref(run);
  return ret;
}
