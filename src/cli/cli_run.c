/* cli_run.c - `vidgraph run GRAPH.yaml`: runs a streaming graph to the end of its inputs (or
 * until Ctrl-C, SIGTERM or SIGHUP, which stop cleanly), shows progress on a terminal, and writes
 * into the output folder the sinks' files (their relative paths are taken inside it) and
 * summary.json: frames, wall time, fps, the per-node table, each model's provider and fallback
 * reasons, copies, drops, and the state (a failed run is recorded as failed). */
#include "cli.h"
#include "core/json_out.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_nodes.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ARGS 64

typedef struct run_args {
  const char *graph, *output, *device;
  const char *inputs[MAX_ARGS];
  int ninputs;
  const char *sets[MAX_ARGS];
  int nsets;
  bool json, quiet;
  int workers;
  double duration, warmup; /* --duration / --warmup (soak runs); 0 = not given */
  vg_soak *soak;
} run_args;

/* ------------------------------------------------------------------ signals */

/* SIGINT, SIGTERM and SIGHUP all mean "stop": the first one stops the run gracefully (frames in
 * flight finish, sinks are flushed, summary.json is written), a second one cancels. A signal
 * that comes before the graph has started stops it before it starts. The exit code is
 * 128 + the number of the first signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP). */
static volatile sig_atomic_t g_interrupts;
static volatile sig_atomic_t g_first_signal;
static const int k_stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP_SIGNALS (int)(sizeof k_stop_signals / sizeof k_stop_signals[0])

static void on_stop_signal(int sig) {
  if (!g_first_signal) g_first_signal = sig;
  g_interrupts++;
}

static void catch_stop_signals(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  g_interrupts = 0;
  g_first_signal = 0;
  for (int i = 0; i < NSTOP_SIGNALS; i++)
    sigaction(k_stop_signals[i], &sa, &old[i]);
}

static void restore_stop_signals(const struct sigaction *old) {
  for (int i = 0; i < NSTOP_SIGNALS; i++)
    sigaction(k_stop_signals[i], &old[i], NULL);
}

static int interrupted_exit_code(void) {
  return 128 + (g_first_signal ? (int)g_first_signal : SIGINT);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: vidgraph run GRAPH.yaml [--input URL]... [--output DIR] [--device "
          "auto|cpu|cuda[:N]]\n"
          "                    [--set key=value]... [--workers N] [--json] [--quiet]\n"
          "  --input   replaces the url of the graph's first `source` node (repeat for "
          "several streams)\n"
          "  --output  folder for the sinks' files and summary.json (default: out)\n"
          "  --device  default device of the graph's nodes (settings.device)\n"
          "  --set     overrides a spec value, e.g. nodes.det.params.providers=[cpu]\n"
          "  --json    no progress line; print the summary as JSON on stdout\n"
          "  --duration SECONDS  soak run: stop gracefully after SECONDS (use a looping\n"
          "            source, e.g. --set nodes.video.params.loop=true); RSS, open files,\n"
          "            threads, pools and device memory are sampled into summary.json \"soak\"\n"
          "  --warmup SECONDS    soak growth is measured after this (default: a quarter of\n"
          "            the duration, at most 120 s)\n"
          "  --set and --input may each be given up to %d times; a --set is applied after\n"
          "  the options above, so it wins (e.g. over the output-folder rewrite of a path)\n"
          "\n"
          "Ctrl-C, SIGTERM or SIGHUP stop the run gracefully (frames in flight finish,\n"
          "the outputs are closed, summary.json says \"interrupted\": true and\n"
          "\"state\": \"stopped\"); a second signal cancels. Exit status: 0 success, 1 failure,\n"
          "2 bad usage, 128+N after signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP).\n",
          MAX_ARGS);
}

static int too_many(const char *opt) {
  fprintf(stderr, "vidgraph run: too many %s options (at most %d)\n", opt, MAX_ARGS);
  return 2;
}

/* A positive number of seconds for --duration / --warmup; prints the problem and returns -1. */
static int parse_seconds(const char *opt, const char *text, double *out) {
  char *end;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0) || v > 1e7) {
    fprintf(stderr, "vidgraph run: %s needs a number of seconds > 0, got '%s'\n", opt, text);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  a->output = "out";
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    bool more = i + 1 < argc;
    if (cli_is(o, "-h", "--help")) {
      usage(stdout);
      return 0;
    } else if (cli_is(o, "--input", "-i") && more) {
      if (a->ninputs == MAX_ARGS) return too_many(o);
      a->inputs[a->ninputs++] = argv[++i];
    } else if (cli_is(o, "--output", "-o") && more) {
      a->output = argv[++i];
    } else if (cli_is(o, "--device", NULL) && more) {
      a->device = argv[++i];
    } else if (cli_is(o, "--set", "-s") && more) {
      if (a->nsets == MAX_ARGS) return too_many(o);
      a->sets[a->nsets++] = argv[++i];
    } else if (cli_is(o, "--workers", NULL) && more) {
      a->workers = atoi(argv[++i]);
    } else if (cli_is(o, "--duration", NULL) && more) {
      if (parse_seconds("--duration", argv[++i], &a->duration) != 0) return 2;
    } else if (cli_is(o, "--warmup", NULL) && more) {
      if (parse_seconds("--warmup", argv[++i], &a->warmup) != 0) return 2;
    } else if (cli_is(o, "--json", NULL)) {
      a->json = true;
    } else if (cli_is(o, "--quiet", "-q")) {
      a->quiet = true;
    } else if (o[0] != '-' && !a->graph) {
      a->graph = o;
    } else {
      fprintf(stderr, "vidgraph run: unknown or incomplete option '%s'\n", o);
      usage(stderr);
      return 2;
    }
  }
  if (!a->graph) {
    usage(stderr);
    return 2;
  }
  return -1;
}

/* mkdir -p, then proves the folder is writable. */
static vg_status prepare_output(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
      return vg_set_error(VG_ERR_IO, "cannot create output folder '%s': %s", path, strerror(errno));
    *p = '/';
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST)
    return vg_set_error(VG_ERR_IO, "cannot create output folder '%s': %s", dir, strerror(errno));
  snprintf(path, sizeof path, "%s/.vidgraph-write-test", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return vg_set_error(VG_ERR_IO, "cannot write into output folder '%s': %s", dir,
                        strerror(errno));
  fclose(f);
  unlink(path);
  return VG_OK;
}

/* ------------------------------------------------------------------ the --set list */

/* A growing list of malloc'd "key=value" strings. */
typedef struct set_list {
  char **items;
  int n, cap;
} set_list;

static void set_list_free(set_list *l) {
  for (int i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

static vg_status set_list_add(set_list *l, const char *text) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 16;
    char **it = realloc(l->items, (size_t)cap * sizeof *it);
    if (!it) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory building the --set list");
    l->items = it;
    l->cap = cap;
  }
  if (!(l->items[l->n] = strdup(text)))
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory building the --set list");
  l->n++;
  return VG_OK;
}

/* Appends "key=" + value as one JSON string (quotes, backslashes and control characters
 * escaped). A value that is not UTF-8 cannot be put into a spec: the error names the option. */
static vg_status add_quoted(set_list *l, const char *key, const char *prefix, const char *value,
                            const char *option) {
  if (!vg_utf8_valid(value, strlen(value)) || !vg_utf8_valid(prefix, strlen(prefix)))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "%s '%s%s' is not valid UTF-8 text; graph specs hold UTF-8 only (rename "
                        "the file or link it under a UTF-8 name)",
                        option, prefix, value);
  size_t n = strlen(prefix) + strlen(value) + 1;
  char *joined = malloc(n);
  if (!joined) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory building the --set list");
  snprintf(joined, n, "%s%s", prefix, value);
  json_t *j = json_string(joined);
  char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
  json_decref(j);
  free(joined);
  char *item = q ? malloc(strlen(key) + strlen(q) + 2) : NULL;
  vg_status st = VG_OK;
  if (item) {
    sprintf(item, "%s=%s", key, q);
    st = set_list_add(l, item);
  } else {
    st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory building the --set list");
  }
  free(item);
  free(q);
  return st;
}

/* nodes.<id>.params.url=[...] for --input (one or several streams). */
static vg_status add_inputs(const run_args *a, const char *id, set_list *l) {
  json_t *urls = json_array();
  for (int j = 0; urls && j < a->ninputs; j++) {
    if (!vg_utf8_valid(a->inputs[j], strlen(a->inputs[j]))) {
      json_decref(urls);
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "--input '%s' is not valid UTF-8 text; graph specs hold UTF-8 only "
                          "(rename the file or link it under a UTF-8 name)",
                          a->inputs[j]);
    }
    json_array_append_new(urls, json_string(a->inputs[j]));
  }
  char *list = urls ? json_dumps(urls, JSON_COMPACT) : NULL;
  json_decref(urls);
  char key[256];
  snprintf(key, sizeof key, "nodes.%s.params.url", id);
  char *item = list ? malloc(strlen(key) + strlen(list) + 2) : NULL;
  vg_status st = VG_OK;
  if (item) {
    sprintf(item, "%s=%s", key, list);
    st = set_list_add(l, item);
  } else {
    st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory building the --set list");
  }
  free(item);
  free(list);
  return st;
}

/* Builds the --set list: device, inputs and the output-folder rewrite of relative sink paths
 * first, then the user's --set options, so that what the user wrote wins. */
static vg_status build_sets(const run_args *a, set_list *l) {
  memset(l, 0, sizeof *l);
  char buf[512];
  if (a->device) {
    snprintf(buf, sizeof buf, "settings.device=%s", a->device);
    VG_TRY(set_list_add(l, buf));
  }
  vg_config *doc;
  VG_TRY(vg_config_load_file(a->graph, &doc));
  const vg_cnode *nodes = vg_cnode_get(vg_config_root(doc), "nodes");
  bool source_done = false;
  vg_status st = VG_OK;
  for (size_t i = 0; i < vg_cnode_len(nodes) && st == VG_OK; i++) {
    const vg_cnode *nd = vg_cnode_at(nodes, i);
    const char *id = vg_cnode_scalar(vg_cnode_get(nd, "id"));
    const char *type = vg_cnode_scalar(vg_cnode_get(nd, "type"));
    if (!id || !type) continue;
    if (a->ninputs > 0 && !source_done && strcmp(type, "source") == 0) {
      st = add_inputs(a, id, l);
      source_done = true;
    }
    const char *path = vg_cnode_scalar(vg_cnode_get(vg_cnode_get(nd, "params"), "path"));
    if (st == VG_OK && path && path[0] != '/' && strcmp(path, "-") != 0) {
      char key[256], prefix[4096];
      snprintf(key, sizeof key, "nodes.%s.params.path", id);
      if ((size_t)snprintf(prefix, sizeof prefix, "%s/", a->output) >= sizeof prefix)
        st = vg_set_error(VG_ERR_INVALID_ARG, "--output '%s' is too long", a->output);
      else
        st = add_quoted(l, key, prefix, path, "--output");
    }
  }
  vg_config_free(doc);
  if (st == VG_OK && a->ninputs > 0 && !source_done)
    st = vg_set_error(VG_ERR_NOT_FOUND, "--input given but '%s' has no node of type 'source'",
                      a->graph);
  for (int i = 0; i < a->nsets && st == VG_OK; i++)
    st = set_list_add(l, a->sets[i]);
  if (st != VG_OK) set_list_free(l);
  return st;
}

/* ------------------------------------------------------------------ progress and summary */

/* Progress (frames done / the sources' total_frames) and the provider of each model. */
static void progress_facts(const vg_run_summary *s, double *progress, char *provider, size_t cap) {
  *progress = -1;
  double total = 0;
  provider[0] = '\0';
  for (int i = 0; i < s->nnodes; i++) {
    if (!s->nodes[i].detail) continue;
    json_t *d = json_loads(s->nodes[i].detail, 0, NULL);
    if (!d) continue;
    json_t *p = json_object_get(d, "total_frames");
    if (json_is_number(p)) total += json_number_value(p);
    json_t *u = json_object_get(d, "provider");
    if (json_is_string(u) && strlen(provider) + 32 < cap)
      snprintf(provider + strlen(provider), cap - strlen(provider), "%s%s=%s",
               provider[0] ? " " : "", s->nodes[i].id, json_string_value(u));
    json_decref(d);
  }
  if (total > 0) *progress = (double)s->frames_done / total;
}

static void print_progress(vg_run *r) {
  vg_run_summary s;
  if (vg_run_get_summary(r, &s) != VG_OK) return;
  double prog;
  char prov[256];
  progress_facts(&s, &prog, prov, sizeof prov);
  double elapsed = s.wall_ms / 1000.0;
  fprintf(stderr, "\r\033[K%llu frames  %.1f fps  %.1fs", (unsigned long long)s.frames_done, s.fps,
          elapsed);
  if (prog > 0 && prog <= 1.0) {
    double eta = elapsed * (1 - prog) / prog;
    fprintf(stderr, "  %3.0f%%  ETA %d:%02d", prog * 100, (int)eta / 60, (int)eta % 60);
  }
  if (prov[0]) fprintf(stderr, "  %s", prov);
  fflush(stderr);
  vg_run_summary_free(&s);
}

static void print_table(const vg_run_summary *s, FILE *out) {
  fprintf(out, "\n%-18s %-22s %-7s %8s %9s %9s %9s %7s\n", "node", "type", "device", "frames",
          "mean ms", "p50 ms", "p99 ms", "batch");
  for (int i = 0; i < s->nnodes; i++) {
    const vg_node_metrics *m = &s->nodes[i];
    char dev[16];
    fprintf(out, "%-18.18s %-22.22s %-7s %8llu %9.2f %9.2f %9.2f %7.2f\n", m->id, m->type,
            vg_device_str(m->device, dev, sizeof dev), (unsigned long long)m->frames,
            m->latency.mean_ms, m->latency.p50_ms, m->latency.p99_ms, m->mean_batch);
  }
  for (int i = 0; i < s->nnodes; i++) {
    if (!s->nodes[i].detail) continue;
    json_t *d = json_loads(s->nodes[i].detail, 0, NULL);
    const char *used = json_string_value(json_object_get(d, "provider"));
    if (used) {
      fprintf(out, "model %s (node %s): provider %s",
              json_string_value(json_object_get(d, "model")), s->nodes[i].id, used);
      json_t *io = json_object_get(d, "io_binding"), *cg = json_object_get(d, "cuda_graph");
      fprintf(out, ", io binding %s, cuda graph %s\n", json_is_true(io) ? "on" : "off",
              json_is_true(cg) ? "on" : "off");
      const char *k;
      json_t *v;
      json_object_foreach(json_object_get(d, "skipped_providers"), k, v) {
        fprintf(out, "  skipped %s: %s\n", k, json_string_value(v));
      }
    }
    const char *reason = json_string_value(json_object_get(d, "reason"));
    if (!used && reason) fprintf(out, "node %s disabled: %s\n", s->nodes[i].id, reason);
    json_decref(d);
  }
  fprintf(out,
          "%s: %llu frames in %.2f s, %.1f fps; %llu dropped; copies to device %llu, to host %llu "
          "(frames %llu)\n",
          vg_run_state_name(s->state), (unsigned long long)s->frames_done, s->wall_ms / 1000,
          s->fps, (unsigned long long)s->frames_dropped, (unsigned long long)s->copies_to_device,
          (unsigned long long)s->copies_to_host, (unsigned long long)s->frame_copies_to_host);
  if (s->error[0]) fprintf(out, "error: %s\n", s->error);
}

/* The state summary.json reports: a run stopped by a signal is "stopped" (it ended cleanly but
 * did not read all its input) or "canceled" (it never started), never "succeeded". */
static void mark_interrupted(json_t *o, bool interrupted) {
  json_object_set_new(o, "interrupted", json_boolean(interrupted));
  if (!interrupted) return;
  const char *state = json_string_value(json_object_get(o, "state"));
  if (state && strcmp(state, "succeeded") == 0)
    json_object_set_new(o, "state", json_string("stopped"));
  else if (state && (strcmp(state, "created") == 0 || strcmp(state, "running") == 0))
    json_object_set_new(o, "state", json_string("canceled"));
  if (g_first_signal) json_object_set_new(o, "signal", json_integer(g_first_signal));
}

/* summary.json = the run summary + what was run. Written even for failed runs, whole or not at
 * all (temporary file + rename), with every text repaired to UTF-8. */
static void write_summary(const run_args *a, const vg_run_summary *s, const char *early_error,
                          bool interrupted, json_t **out_json) {
  json_t *o = NULL;
  if (s) {
    char *t = vg_run_summary_json(s);
    o = t ? json_loads(t, 0, NULL) : NULL;
    free(t);
  }
  if (!o)
    o = json_pack("{s:s,s:o}", "state", s ? vg_run_state_name(s->state) : "failed", "error",
                  vg_json_text(early_error ? early_error
                               : s         ? s->error
                                           : ""));
  if (o) {
    json_object_set_new(o, "graph", vg_json_text(a->graph));
    json_object_set_new(o, "output_dir", vg_json_text(a->output));
    mark_interrupted(o, interrupted);
    json_object_set_new(o, "vidgraph", vg_json_text(vg_build_info()));
    if (a->soak) {
      char *t = vg_soak_json(a->soak);
      json_t *soak = t ? json_loads(t, 0, NULL) : NULL;
      free(t);
      if (soak) json_object_set_new(o, "soak", soak);
    }
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/summary.json", a->output);
  if (vg_json_write_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != VG_OK)
    fprintf(stderr, "vidgraph run: %s\n", vg_last_error());
  if (out_json)
    *out_json = o;
  else
    json_decref(o);
}

static int finish_failed_early(const run_args *a, const char *what) {
  char msg[2048];
  snprintf(msg, sizeof msg, "%s: %s", what, vg_last_error());
  fprintf(stderr, "vidgraph run: %s\n", msg);
  if (prepare_output(a->output) == VG_OK) write_summary(a, NULL, msg, false, NULL);
  return 1;
}

static vg_status load_graph(const run_args *a, vg_graph **g) {
  set_list sets;
  vg_status st = build_sets(a, &sets);
  vg_registry *reg = NULL;
  if (st == VG_OK) st = vg_registry_create(&reg);
  if (st == VG_OK) st = vg_nodes_register_builtin(reg);
  if (st == VG_OK)
    st = vg_graph_load_file(a->graph, (const char *const *)sets.items, sets.n, reg, g);
  vg_registry_free(reg); /* the graph keeps the (static) types, not the registry */
  set_list_free(&sets);
  return st;
}

/* Soak runs (--duration): starts the sampler; the interval gives about 100 samples. A sampler
 * that cannot start is reported and the run goes on without it. */
static void soak_begin(run_args *a, vg_run *r, int64_t *deadline_ns) {
  *deadline_ns = 0;
  if (!(a->duration > 0)) return;
  *deadline_ns = vg_now_ns() + (int64_t)(a->duration * 1e9);
  double interval = a->duration / 100;
  interval = interval < 1 ? 1 : interval > 30 ? 30 : interval;
  double warmup = a->warmup > 0 ? a->warmup : a->duration / 4 > 120 ? 120 : a->duration / 4;
  if (vg_soak_start(r, interval, warmup, &a->soak) != VG_OK)
    fprintf(stderr, "vidgraph run: no soak samples: %s\n", vg_last_error());
}

static vg_status wait_run(vg_run *r, bool progress, bool *interrupted, int64_t deadline_ns) {
  int seen = 0;
  bool timed_out = false;
  for (;;) {
    vg_status st = vg_run_wait(r, 500);
    if (st != VG_ERR_TIMEOUT) return st;
    if (deadline_ns && !timed_out && vg_now_ns() >= deadline_ns) {
      timed_out = true; /* --duration reached: a graceful stop, not an interruption */
      vg_run_stop(r);
    }
    if (g_interrupts > seen) {
      seen = g_interrupts;
      *interrupted = true;
      if (seen == 1) {
        fprintf(stderr,
                "\nvidgraph run: stopping (finishing frames in flight; Ctrl-C again to cancel)\n");
        vg_run_stop(r);
      } else {
        vg_run_cancel(r);
      }
    }
    if (progress) print_progress(r);
  }
}

/* Prints the table (or the JSON summary) and writes summary.json. */
static void report(const run_args *a, vg_run *r, bool interrupted) {
  vg_run_summary s;
  json_t *js = NULL;
  if (vg_run_get_summary(r, &s) != VG_OK) return;
  write_summary(a, &s, NULL, interrupted, a->json ? &js : NULL);
  if (!a->json) print_table(&s, a->quiet ? stderr : stdout);
  vg_run_summary_free(&s);
  if (js) {
    char *t = vg_json_dump_text(js, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (t) printf("%s\n", t);
    free(t);
    json_decref(js);
  }
}

int cli_run(int argc, char **argv) {
  run_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0) return rc;
  /* signals are caught from here on: one during loading stops the run before it starts */
  struct sigaction old[NSTOP_SIGNALS];
  catch_stop_signals(old);
  vg_graph *g = NULL;
  vg_run *r = NULL;
  if (prepare_output(a.output) != VG_OK) {
    rc = cli_fail("run", "output");
  } else if (load_graph(&a, &g) != VG_OK) {
    rc = finish_failed_early(&a, "invalid graph");
  } else if (vg_run_create(g, &(vg_run_options){.workers = a.workers}, &r) != VG_OK) {
    rc = finish_failed_early(&a, "cannot start the graph");
  } else {
    bool progress = !a.json && !a.quiet && isatty(STDERR_FILENO);
    bool interrupted = g_interrupts > 0;
    vg_status st = VG_OK;
    if (interrupted)
      fprintf(stderr, "vidgraph run: stopped by a signal before the graph started\n");
    else {
      int64_t deadline_ns;
      soak_begin(&a, r, &deadline_ns);
      if ((st = vg_run_start(r)) == VG_OK) st = wait_run(r, progress, &interrupted, deadline_ns);
      vg_soak_stop(a.soak);
    }
    if (progress) fprintf(stderr, "\n");
    report(&a, r, interrupted);
    rc = interrupted ? interrupted_exit_code() : st != VG_OK ? 1 : 0;
    if (rc == 1) fprintf(stderr, "vidgraph run: failed: %s\n", vg_last_error());
  }
  vg_soak_free(a.soak);
  vg_run_destroy(r);
  vg_graph_free(g);
  restore_stop_signals(old);
  return rc;
}
