/* server.h - `vidgraph serve` as the CLI sees it: a configuration, then create / start / stop /
 * free. The server is an explicit object (no globals): its HTTP daemon, model cache, runs, live
 * streaming graph and event logs all hang off it. Routes are in docs/API.md. */
#ifndef VIDGRAPH_SERVER_H
#define VIDGRAPH_SERVER_H

#include "vidgraph/vg_core.h"

#include <stdbool.h>
#include <stddef.h>

#define VG_SERVER_MAX_ROOTS 8

typedef struct vg_server_config {
  const char *config_file; /* --config: YAML with graphs, stream_graph, streams, roots */
  const char *listen;      /* "127.0.0.1:8080"; port 0 = any free port */
  const char *token;       /* bearer token, or NULL for none */
  const char *model_roots[VG_SERVER_MAX_ROOTS];
  int nmodel_roots;
  const char *media_roots[VG_SERVER_MAX_ROOTS];
  int nmedia_roots;
  const char *web_root;    /* static dashboard files; NULL = <exe>/../web, else the source tree's */
  const char *output_root; /* run outputs (sink files, summaries); NULL = "out/serve" */
  size_t max_body_bytes;   /* 0 = 1 MiB */
  int threads;             /* unused with thread-per-connection; kept for the config */
} vg_server_config;

typedef struct vg_server vg_server;

/* Validates the configuration (roots exist, token set, config file parses) and creates the
 * server; nothing listens yet. */
vg_status vg_server_create(const vg_server_config *cfg, vg_server **out);
/* Starts the streaming graph (if configured) and the HTTP daemon. */
vg_status vg_server_start(vg_server *s);
/* The port bound (useful with port 0). */
int vg_server_port(const vg_server *s);
/* Graceful drain: no new requests, runs canceled and summarised, streams stopped, SSE ended. */
void vg_server_stop(vg_server *s);
void vg_server_free(vg_server *s);

#endif
