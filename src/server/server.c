/* server.c - the life of a `vidgraph serve` process: configuration (flags over the --config
 * file), roots resolved once, the shared model cache and node registry, start (streaming graph,
 * then HTTP), and the graceful drain on stop (no new requests, runs canceled and summarised,
 * streams stopped, event streams ended). */
#include "server_internal.h"
#include "vidgraph/vg_nodes.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vg_status vg__server_http_start(vg_server *s);
void vg__server_http_stop(vg_server *s);

/* Resolves and stores a root (must be an existing folder). */
static vg_status add_root(char roots[][SRV_PATH_MAX], int *n, const char *path, const char *what) {
  if (*n >= SRV_MAX_ROOTS)
    return vg_set_error(VG_ERR_INVALID_ARG, "at most %d %s roots", SRV_MAX_ROOTS, what);
  char real[PATH_MAX];
  struct stat st;
  if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
    return vg_set_error(VG_ERR_NOT_FOUND, "%s root '%s' is not an existing folder", what, path);
  snprintf(roots[(*n)++], SRV_PATH_MAX, "%s", real);
  return VG_OK;
}

/* Path of a config value relative to the config file's folder. */
static void cfg_path(const vg_server *s, const char *v, char *out, size_t cap) {
  if (v[0] == '/' || !s->config_dir[0])
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "%s/%s", s->config_dir, v);
}

static vg_status roots_from_config(vg_server *s, const char *key, char roots[][SRV_PATH_MAX],
                                   int *n) {
  const vg_cnode *list = vg_cnode_get(vg_config_root(s->config), key);
  if (!list) return VG_OK;
  if (vg_cnode_get_kind(list) != VG_CNODE_SEQ)
    return vg_cnode_error(list, VG_ERR_PARSE, "%s is a list of folders", key);
  for (size_t i = 0; i < vg_cnode_len(list); i++) {
    const char *v;
    VG_TRY(vg_cnode_as_string(vg_cnode_at(list, i), &v));
    char p[SRV_PATH_MAX];
    cfg_path(s, v, p, sizeof p);
    VG_TRY(add_root(roots, n, p, key));
  }
  return VG_OK;
}

static vg_status load_config(vg_server *s) {
  if (!s->cfg.config_file) return VG_OK;
  VG_TRY(vg_config_load_file(s->cfg.config_file, &s->config));
  char dir[SRV_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", s->cfg.config_file);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  snprintf(s->config_dir, sizeof s->config_dir, "%s", dir);
  const vg_cnode *root = vg_config_root(s->config);
  if (vg_cnode_get_kind(root) != VG_CNODE_MAP)
    return vg_cnode_error(root, VG_ERR_PARSE, "the serve config is a map");
  static const char *const known[] = {"listen",   "token_file",     "model_roots", "media_roots",
                                      "web_root", "output_root",    "graphs",      "stream_graph",
                                      "streams",  "max_body_bytes", NULL};
  for (size_t i = 0; i < vg_cnode_len(root); i++) {
    const char *k = vg_cnode_key_at(root, i);
    bool ok = false;
    for (int j = 0; known[j]; j++)
      ok |= strcmp(k, known[j]) == 0;
    if (!ok)
      return vg_cnode_error(vg_cnode_at(root, i), VG_ERR_PARSE,
                            "unknown key '%s' (listen, token_file, model_roots, media_roots, "
                            "web_root, output_root, graphs, stream_graph, streams, max_body_bytes)",
                            k);
  }
  return VG_OK;
}

static vg_status read_token_file(const char *path, char *out, size_t cap) {
  char *data;
  size_t n;
  VG_TRY(vg_read_file(path, 4096, &data, &n));
  while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
    data[--n] = '\0';
  if (n == 0 || n >= cap) {
    free(data);
    return vg_set_error(VG_ERR_INVALID_ARG, "token file '%s' is empty or longer than %zu bytes",
                        path, cap - 1);
  }
  snprintf(out, cap, "%s", data);
  free(data);
  return VG_OK;
}

/* The dashboard folder: --web-root, the config's web_root, <exe>/../web, the source tree's. */
static void find_web_root(vg_server *s) {
  char cand[3][SRV_PATH_MAX];
  int n = 0;
  const char *v = NULL;
  if (s->cfg.web_root) {
    snprintf(cand[n++], SRV_PATH_MAX, "%s", s->cfg.web_root);
  } else {
    if (s->config &&
        vg_cfg_string(vg_config_root(s->config), "web_root", false, NULL, &v) == VG_OK && v)
      cfg_path(s, v, cand[n++], SRV_PATH_MAX);
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
      exe[k] = '\0';
      char *slash = strrchr(exe, '/');
      if (slash) *slash = '\0';
      snprintf(cand[n++], SRV_PATH_MAX, "%s/../web", exe);
    }
    snprintf(cand[n++], SRV_PATH_MAX, "%s/web", VG_SOURCE_DIR);
  }
  for (int i = 0; i < n; i++) {
    char real[PATH_MAX];
    struct stat st;
    if (realpath(cand[i], real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
      snprintf(s->web_root, sizeof s->web_root, "%s", real);
      return;
    }
  }
  s->web_root[0] = '\0';
}

static vg_status configure(vg_server *s) {
  VG_TRY(load_config(s));
  const vg_cnode *root = s->config ? vg_config_root(s->config) : NULL;
  const char *v = NULL;
  if (!s->cfg.listen && root) VG_TRY(vg_cfg_string(root, "listen", false, NULL, &s->cfg.listen));
  if (!s->cfg.listen) s->cfg.listen = "127.0.0.1:8080";
  if (s->cfg.token) {
    if (!s->cfg.token[0] || strlen(s->cfg.token) >= sizeof s->token)
      return vg_set_error(VG_ERR_INVALID_ARG, "--token: 1..%zu characters", sizeof s->token - 1);
    snprintf(s->token, sizeof s->token, "%s", s->cfg.token);
  } else if (root && vg_cfg_string(root, "token_file", false, NULL, &v) == VG_OK && v) {
    char p[SRV_PATH_MAX];
    cfg_path(s, v, p, sizeof p);
    VG_TRY(read_token_file(p, s->token, sizeof s->token));
  }
  for (int i = 0; i < s->cfg.nmodel_roots; i++)
    VG_TRY(add_root(s->model_roots, &s->nmodel_roots, s->cfg.model_roots[i], "model"));
  for (int i = 0; i < s->cfg.nmedia_roots; i++)
    VG_TRY(add_root(s->media_roots, &s->nmedia_roots, s->cfg.media_roots[i], "media"));
  if (root && !s->cfg.nmodel_roots)
    VG_TRY(roots_from_config(s, "model_roots", s->model_roots, &s->nmodel_roots));
  if (root && !s->cfg.nmedia_roots)
    VG_TRY(roots_from_config(s, "media_roots", s->media_roots, &s->nmedia_roots));
  if (!s->nmodel_roots) VG_TRY(add_root(s->model_roots, &s->nmodel_roots, ".", "model"));
  if (!s->nmedia_roots) VG_TRY(add_root(s->media_roots, &s->nmedia_roots, ".", "media"));
  if (!s->cfg.output_root && root)
    VG_TRY(vg_cfg_string(root, "output_root", false, NULL, &s->cfg.output_root));
  if (!s->cfg.output_root) s->cfg.output_root = "out/serve";
  int64_t mb = 0;
  if (!s->cfg.max_body_bytes && root)
    VG_TRY(vg_cfg_int_range(root, "max_body_bytes", false, 0, 0, 1 << 30, &mb));
  if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = mb ? (size_t)mb : (size_t)1 << 20;
  find_web_root(s);
  return VG_OK;
}

vg_status vg_server_create(const vg_server_config *cfg, vg_server **out) {
  vg_server *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  s->cfg = *cfg;
  pthread_mutex_init(&s->runs_mu, NULL);
  pthread_mutex_init(&s->info_mu, NULL);
  pthread_mutex_init(&s->stats_mu, NULL);
  s->t_start_ns = vg_now_ns();
  s->next_run_id = 1;
  vg_status st = configure(s);
  if (st == VG_OK) st = vg_registry_create(&s->registry);
  if (st == VG_OK) st = vg_nodes_register_builtin(s->registry);
  if (st == VG_OK) st = vg_registry_add(s->registry, &srv_node_streams);
  if (st == VG_OK) st = vg_model_cache_create(0, &s->cache);
  if (st == VG_OK) st = srv_models_create(&s->models);
  if (st == VG_OK) st = srv_evlog_create(8192, &s->events);
  if (st == VG_OK) st = srv_shm_create(s);
  if (st != VG_OK) {
    vg_server_free(s);
    return st;
  }
  *out = s;
  return VG_OK;
}

vg_status vg_server_start(vg_server *s) {
  VG_TRY(srv_streams_start(s));
  return vg__server_http_start(s);
}

int vg_server_port(const vg_server *s) {
  return s->port;
}

void vg_server_stop(vg_server *s) {
  if (!s || atomic_exchange(&s->stopping, true)) return;
  VG_LOGI("server", "draining: canceling runs, stopping streams");
  srv_runs_shutdown(s); /* runs end; their `end` events reach the SSE readers still there */
  if (s->events) srv_evlog_close(s->events);
  /* joins every connection thread: SSE/MJPEG readers see `stopping` within 250 ms, so nothing
   * still points into the live graph when it goes */
  vg__server_http_stop(s);
  srv_streams_shutdown(s);
}

void vg_server_free(vg_server *s) {
  if (!s) return;
  vg_server_stop(s);
  srv_models_free(s);
  srv_shm_free(s);
  vg_model_cache_destroy(s->cache);
  vg_registry_free(s->registry);
  if (s->events) srv_evlog_free(s->events);
  json_decref(s->system_info);
  vg_config_free(s->config);
  free(s->runs);
  pthread_mutex_destroy(&s->runs_mu);
  pthread_mutex_destroy(&s->info_mu);
  pthread_mutex_destroy(&s->stats_mu);
  free(s);
}
