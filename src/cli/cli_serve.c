/* cli_serve.c - `vidgraph serve`: the HTTP API, event streams, metrics and dashboard on top of
 * the graph runtime (src/server). Prints the bound address on stdout (useful with port 0), then
 * runs until SIGTERM/SIGINT, which drains: runs stop and write their summaries, streams end,
 * event streams close, exit 0. */
#include "cli.h"
#include "server/server.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: vidgraph serve [--config FILE] [--listen HOST:PORT] [--token T | --token-file F]\n"
      "                      [--model-root DIR]... [--media-root DIR]... [--web-root DIR]\n"
      "                      [--output-root DIR] [--max-body BYTES]\n"
      "  --listen       address to bind (default 127.0.0.1:8080; port 0 = any free port)\n"
      "  --token        bearer token every /api route but /api/health and /metrics need\n"
      "  --model-root   folders model paths in requests must lie in (default: .)\n"
      "  --media-root   folders video/image paths in requests must lie in (default: .)\n"
      "  --web-root     the dashboard's static files (default <exe>/../web, then the source "
      "tree's)\n"
      "  --output-root  where runs write their files and summaries (default out/serve)\n"
      "  The routes are described in docs/API.md.\n");
}

static int parse(int argc, char **argv, vg_server_config *c, const char **token_file) {
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    bool more = i + 1 < argc;
    if (cli_is(o, "-h", "--help")) {
      usage(stdout);
      return 0;
    } else if (cli_is(o, "--config", "-c") && more) {
      c->config_file = argv[++i];
    } else if (cli_is(o, "--listen", "-l") && more) {
      c->listen = argv[++i];
    } else if (cli_is(o, "--token", NULL) && more) {
      c->token = argv[++i];
    } else if (cli_is(o, "--token-file", NULL) && more) {
      *token_file = argv[++i];
    } else if (cli_is(o, "--model-root", NULL) && more && c->nmodel_roots < VG_SERVER_MAX_ROOTS) {
      c->model_roots[c->nmodel_roots++] = argv[++i];
    } else if (cli_is(o, "--media-root", NULL) && more && c->nmedia_roots < VG_SERVER_MAX_ROOTS) {
      c->media_roots[c->nmedia_roots++] = argv[++i];
    } else if (cli_is(o, "--web-root", NULL) && more) {
      c->web_root = argv[++i];
    } else if (cli_is(o, "--output-root", NULL) && more) {
      c->output_root = argv[++i];
    } else if (cli_is(o, "--max-body", NULL) && more) {
      c->max_body_bytes = strtoull(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "vidgraph serve: unknown or incomplete option '%s'\n", o);
      usage(stderr);
      return 2;
    }
  }
  if (c->token && *token_file) {
    fprintf(stderr, "vidgraph serve: --token and --token-file are exclusive\n");
    return 2;
  }
  return -1;
}

int cli_serve(int argc, char **argv) {
  vg_server_config cfg;
  memset(&cfg, 0, sizeof cfg);
  const char *token_file = NULL;
  int rc = parse(argc, argv, &cfg, &token_file);
  if (rc >= 0) return rc;
  char token[512];
  if (token_file) {
    char *data;
    size_t n;
    if (vg_read_file(token_file, sizeof token, &data, &n) != VG_OK)
      return cli_fail("serve", "--token-file");
    while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
      data[--n] = '\0';
    snprintf(token, sizeof token, "%s", data);
    free(data);
    cfg.token = token;
  }
  vg_server *s;
  if (vg_server_create(&cfg, &s) != VG_OK) return cli_fail("serve", "configuration");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (vg_server_start(s) != VG_OK) {
    int r = cli_fail("serve", "cannot start");
    vg_server_free(s);
    return r;
  }
  const char *listen = cfg.listen ? cfg.listen : "127.0.0.1:8080";
  char host[64];
  snprintf(host, sizeof host, "%s", listen);
  char *colon = strrchr(host, ':');
  if (colon) *colon = '\0';
  printf("vidgraph serve: listening on http://%s:%d\n", host, vg_server_port(s));
  fflush(stdout);
  while (!g_stop)
    usleep(100 * 1000);
  fprintf(stderr, "vidgraph serve: stopping (draining runs and streams)\n");
  vg_server_stop(s);
  vg_server_free(s);
  fprintf(stderr, "vidgraph serve: stopped\n");
  return 0;
}
