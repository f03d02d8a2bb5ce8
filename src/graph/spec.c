/* spec.c - graph specs: parses the nodes/edges/settings of a YAML or JSON document into a
 * vg_graph and validates it before anything runs (unknown types and ports, unconnected inputs,
 * port type mismatches, cycles, duplicate ids, placement, joins across sources). Every message
 * names the file, line and node id. */
#include "graph_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------------- helpers */

static bool in_list(const char *key, const char *const *list) {
  for (; *list; list++)
    if (strcmp(key, *list) == 0) return true;
  return false;
}

static void join_list(const char *const *list, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (; *list && len < cap; list++) {
    int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", *list);
    if (w > 0) len += (size_t)w;
  }
}

/* Every key of map must be in known. */
static vg_status check_keys(const vg_cnode *map, const char *const *known, const char *what) {
  for (size_t i = 0; i < vg_cnode_len(map); i++) {
    const char *key = vg_cnode_key_at(map, i);
    if (!in_list(key, known)) {
      char list[512];
      join_list(known, list, sizeof list);
      return vg_cnode_error(vg_cnode_at(map, i), VG_ERR_PARSE, "unknown key '%s' in %s (known: %s)",
                            key, what, list);
    }
  }
  return VG_OK;
}

static vg_status expect_kind(const vg_cnode *n, vg_cnode_kind kind, const char *what) {
  if (vg_cnode_get_kind(n) == kind) return VG_OK;
  return vg_cnode_error(n, VG_ERR_PARSE, "expected %s", what);
}

static bool valid_id(const char *s) {
  if (!*s || strlen(s) >= VG_ID_MAX) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
  return true;
}

/* Prefixes the current message (from a vg_cfg_* getter, which names the position) with the
 * node id. */
static vg_status node_wrap(vg_status s, const gnode *n) {
  return vg_wrap_error(s, "node '%s'", n->id);
}

void vg_graph_free(vg_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->nnodes; i++) {
    free(g->nodes[i].out_edges);
    free(g->nodes[i].in_edges);
  }
  for (int p = 0; p < g->nsources; p++) {
    free(g->plans[p].reached);
    free(g->plans[p].indeg);
    free(g->plans[p].port_edge);
    free(g->plans[p].live);
  }
  free(g->plans);
  free(g->plan_of);
  free(g->nodes);
  free(g->edges);
  free(g->topo);
  vg_config_free(g->doc);
  free(g);
}

/* ----------------------------------------------------------------------------- settings */

static vg_status parse_settings(vg_graph *g, const vg_cnode *root) {
  static const char *const known[] = {
      "device", "workers", "cuda_streams", "queue_size", "max_batch", "max_wait_ms", NULL};
  const vg_cnode *s = vg_cnode_get(root, "settings");
  int64_t v;
  gsettings *st = &g->settings;
  if (s && vg_cnode_is_null(s)) s = NULL;
  if (s) {
    VG_TRY(expect_kind(s, VG_CNODE_MAP, "a map of settings"));
    VG_TRY(check_keys(s, known, "settings"));
  }
  VG_TRY(vg_cfg_int_range(s, "workers", false, 0, 0, 256, &v));
  st->workers = (int)v;
  VG_TRY(vg_cfg_int_range(s, "cuda_streams", false, VG_DEFAULT_CUDA_STREAMS, 1, 16, &v));
  st->cuda_streams = (int)v;
  VG_TRY(vg_cfg_int_range(s, "queue_size", false, 8, 1, 1024, &v));
  st->queue_size = (int)v;
  VG_TRY(vg_cfg_int_range(s, "max_batch", false, 1, 1, VG_MAX_BATCH, &v));
  st->max_batch = (int)v;
  VG_TRY(vg_cfg_int_range(s, "max_wait_ms", false, 5, 0, 60000, &v));
  st->max_wait_ms = (int)v;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- placement */

static vg_status cuda_count(int *n) {
  *n = 0;
  if (!vg_cuda_compiled()) return VG_OK;
  return vg_cuda_device_count(n);
}

static const char *no_cuda_reason(void) {
  return vg_cuda_compiled() ? vg_cuda_unavailable_reason() : "this build has no CUDA support";
}

/* text: the node's device (or NULL), dflt: settings.device (or NULL). */
static vg_status place(gnode *n, const vg_cnode *text_node, const vg_cnode *dflt_node) {
  const vg_node_type *t = n->type;
  if (text_node && vg_cnode_get_kind(text_node) != VG_CNODE_SCALAR)
    return vg_cnode_error(text_node, VG_ERR_PARSE, "node '%s': device must be text", n->id);
  if (dflt_node && vg_cnode_get_kind(dflt_node) != VG_CNODE_SCALAR)
    return vg_cnode_error(dflt_node, VG_ERR_PARSE, "settings.device must be text");
  const char *text = vg_cnode_scalar(text_node);
  const vg_cnode *where = text_node;
  bool from_default = false;
  if (!text && dflt_node) {
    text = vg_cnode_scalar(dflt_node);
    where = dflt_node;
    from_default = true;
  }
  if (!text) {
    text = "auto";
    where = n->where;
  }
  int ncuda;
  VG_TRY(cuda_count(&ncuda));
  if (strcmp(text, "auto") == 0) {
    if (t->preferred == VG_DEVICE_CUDA && ncuda > 0) {
      n->device = vg_cuda(0);
    } else if (t->preferred == VG_DEVICE_CUDA && (t->devices & VG_DEVICES_CPU)) {
      n->device = vg_cpu();
      snprintf(n->fallback, sizeof n->fallback, "device auto -> cpu: %s", no_cuda_reason());
    } else if (t->preferred == VG_DEVICE_CUDA) {
      return vg_cnode_error(where, VG_ERR_DEVICE,
                            "node '%s' (%s) runs only on CUDA, which is unavailable: %s", n->id,
                            t->name, no_cuda_reason());
    } else {
      n->device = vg_cpu();
    }
    return VG_OK;
  }
  vg_device dev;
  if (vg_device_parse(text, &dev) != VG_OK)
    return vg_cnode_error(where, VG_ERR_PARSE,
                          "node '%s': device '%s' is not auto, cpu, cuda or cuda:N", n->id, text);
  unsigned need = dev.kind == VG_DEVICE_CUDA ? VG_DEVICES_CUDA : VG_DEVICES_CPU;
  if (!(t->devices & need)) {
    if (from_default) { /* the graph default does not bind types that cannot follow it */
      n->device = t->preferred == VG_DEVICE_CUDA && ncuda > 0 ? vg_cuda(0) : vg_cpu();
      return VG_OK;
    }
    return vg_cnode_error(where, VG_ERR_UNSUPPORTED,
                          "node '%s' (%s) cannot run on %s (it runs on %s)", n->id, t->name, text,
                          t->devices & VG_DEVICES_CPU ? "cpu" : "cuda");
  }
  if (dev.kind == VG_DEVICE_CUDA && dev.ordinal >= ncuda) {
    if (ncuda == 0)
      return vg_cnode_error(
          where, VG_ERR_DEVICE,
          "node '%s' is placed on %s but CUDA is unavailable: %s (use device: auto to fall back to the CPU)",
          n->id, text, no_cuda_reason());
    return vg_cnode_error(where, VG_ERR_DEVICE,
                          "node '%s' is placed on %s but there are only %d CUDA devices", n->id,
                          text, ncuda);
  }
  n->device = dev;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- nodes */

static vg_status parse_node(vg_graph *g, const vg_registry *reg, int i, const vg_cnode *m,
                            const vg_cnode *dflt_dev) {
  static const char *const known[] = {
      "id",        "type",        "params",        "device",  "on_error", "interval",
      "max_batch", "max_wait_ms", "max_in_flight", "ordered", NULL};
  gnode *n = &g->nodes[i];
  const char *id, *type, *on_error;
  int64_t v;
  VG_TRY(expect_kind(m, VG_CNODE_MAP, "a node map {id, type, params, ...}"));
  VG_TRY(vg_cfg_string(m, "id", true, NULL, &id));
  const vg_cnode *idn = vg_cnode_get(m, "id");
  if (!valid_id(id))
    return vg_cnode_error(idn, VG_ERR_PARSE,
                          "node id '%s' must be 1..%d letters, digits, '_' or '-'", id,
                          VG_ID_MAX - 1);
  snprintf(n->id, sizeof n->id, "%s", id);
  n->where = m;
  for (int j = 0; j < i; j++)
    if (strcmp(g->nodes[j].id, id) == 0)
      return vg_cnode_error(idn, VG_ERR_PARSE, "duplicate node id '%s' (first defined at line %d)",
                            id, vg_cnode_line(g->nodes[j].where));
  vg_status s = check_keys(m, known, "a node");
  if (s != VG_OK) return node_wrap(s, n);
  s = vg_cfg_string(m, "type", true, NULL, &type);
  if (s != VG_OK) return node_wrap(s, n);
  n->type = vg_registry_find(reg, type);
  if (!n->type) {
    char list[700];
    size_t len = 0;
    list[0] = '\0';
    for (size_t k = 0; k < vg_registry_count(reg) && len < sizeof list; k++) {
      int w = snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                       vg_registry_at(reg, k)->name);
      if (w > 0) len += (size_t)w;
    }
    return vg_cnode_error(vg_cnode_get(m, "type"), VG_ERR_NOT_FOUND,
                          "node '%s': unknown node type '%s' (known: %s)", id, type, list);
  }
  const vg_node_type *t = n->type;
  n->params = vg_cnode_get(m, "params");
  if (n->params && vg_cnode_is_null(n->params)) n->params = NULL;
  if (n->params && vg_cnode_get_kind(n->params) != VG_CNODE_MAP)
    return vg_cnode_error(n->params, VG_ERR_PARSE, "node '%s': params must be a map", id);
  n->source = t->flags & VG_NODE_SOURCE;
  n->batching = t->flags & VG_NODE_BATCHING;
  n->sees_skipped = t->flags & VG_NODE_SEES_SKIPPED;
  n->nin = vg_node_type_ninputs(t);
  n->nout = vg_node_type_noutputs(t);
  for (int k = 0; k < n->nin; k++)
    n->in_types[k] = t->inputs[k].types;
  for (int k = 0; k < n->nout; k++)
    n->out_types[k] = t->outputs[k].types;

  if ((s = vg_cfg_string(m, "on_error", false, "fail", &on_error)) != VG_OK) return node_wrap(s, n);
  if (strcmp(on_error, "fail") && strcmp(on_error, "drop"))
    return vg_cnode_error(vg_cnode_get(m, "on_error"), VG_ERR_PARSE,
                          "node '%s': on_error must be fail or drop, got '%s'", id, on_error);
  n->on_error = on_error[0] == 'd' ? VG_ON_ERROR_DROP : VG_ON_ERROR_FAIL;
  if ((s = vg_cfg_int_range(m, "interval", false, 1, 1, 1000000, &v)) != VG_OK)
    return node_wrap(s, n);
  n->interval = (int)v;
  if (n->interval > 1 && n->source)
    return vg_cnode_error(vg_cnode_get(m, "interval"), VG_ERR_PARSE,
                          "node '%s': a source cannot have an interval", id);
  if (!n->batching && vg_cnode_get(m, "max_batch"))
    return vg_cnode_error(
        vg_cnode_get(m, "max_batch"), VG_ERR_PARSE,
        "node '%s': type '%s' does not batch; max_batch applies only to batching types", id,
        t->name);
  if ((s = vg_cfg_int_range(m, "max_batch", false, g->settings.max_batch, 1, VG_MAX_BATCH, &v)) !=
      VG_OK)
    return node_wrap(s, n);
  n->max_batch = n->batching ? (int)v : 1;
  if ((s = vg_cfg_int_range(m, "max_wait_ms", false, g->settings.max_wait_ms, 0, 60000, &v)) !=
      VG_OK)
    return node_wrap(s, n);
  n->max_wait_ms = (int)v;
  bool ordered;
  if ((s = vg_cfg_bool(m, "ordered", false, false, &ordered)) != VG_OK) return node_wrap(s, n);
  if (!ordered && (t->flags & VG_NODE_ORDERED) && vg_cnode_get(m, "ordered"))
    return vg_cnode_error(
        vg_cnode_get(m, "ordered"), VG_ERR_PARSE,
        "node '%s': type '%s' must see frames in order; ordered: false is not allowed", id,
        t->name);
  n->ordered = ordered || (t->flags & VG_NODE_ORDERED) || n->source;
  if ((s = vg_cfg_int_range(m, "max_in_flight", false, 0, 0, 1024, &v)) != VG_OK)
    return node_wrap(s, n);
  int mif = v > 0 ? (int)v : t->max_in_flight;
  if (mif <= 0) mif = n->ordered ? 1 : 1 << 20;
  if (t->max_in_flight > 0 && mif > t->max_in_flight) mif = t->max_in_flight;
  n->max_in_flight = n->source ? 1 : mif;
  return place(n, vg_cnode_get(m, "device"), dflt_dev);
}

/* ----------------------------------------------------------------------------- edges */

/* "node.port" or "node" (the node's only port on that side). */
static vg_status parse_endpoint(vg_graph *g, const vg_cnode *where, const char *text, bool out,
                                int *node, int *port) {
  char buf[160];
  size_t len = strlen(text);
  while (len && isspace((unsigned char)text[len - 1]))
    len--;
  while (len && isspace((unsigned char)*text))
    text++, len--;
  if (len == 0 || len >= sizeof buf)
    return vg_cnode_error(where, VG_ERR_PARSE, "empty or too long edge endpoint");
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *dot = strchr(buf, '.');
  if (dot) *dot = '\0';
  *node = vg_graph_find_node(g, buf);
  if (*node < 0)
    return vg_cnode_error(where, VG_ERR_NOT_FOUND, "edge names unknown node '%s'", buf);
  const gnode *n = &g->nodes[*node];
  const vg_port *ports = out ? n->type->outputs : n->type->inputs;
  int count = out ? n->nout : n->nin;
  char list[256];
  size_t l = 0;
  list[0] = '\0';
  for (int k = 0; k < count; k++) {
    int w = snprintf(list + l, l < sizeof list ? sizeof list - l : 0, "%s%s", k ? ", " : "",
                     ports[k].name);
    if (w > 0) l += (size_t)w;
  }
  if (!dot) {
    if (count != 1)
      return vg_cnode_error(where, VG_ERR_PARSE,
                            "node '%s' has %d %s ports (%s): name one, as '%s.<port>'", buf, count,
                            out ? "output" : "input", count ? list : "none", buf);
    *port = 0;
    return VG_OK;
  }
  *port = out ? vg_node_type_output(n->type, dot + 1) : vg_node_type_input(n->type, dot + 1);
  if (*port < 0)
    return vg_cnode_error(where, VG_ERR_NOT_FOUND, "node '%s' (%s) has no %s port '%s' (%s: %s)",
                          buf, n->type->name, out ? "output" : "input", dot + 1,
                          out ? "outputs" : "inputs", count ? list : "none");
  return VG_OK;
}

static vg_status parse_edge(vg_graph *g, int i, const vg_cnode *e) {
  gedge *ed = &g->edges[i];
  const char *from = NULL, *to = NULL;
  char text[400];
  ed->where = e;
  if (vg_cnode_get_kind(e) == VG_CNODE_SCALAR) {
    snprintf(text, sizeof text, "%s", vg_cnode_scalar(e));
    char *arrow = strstr(text, "->");
    if (!arrow)
      return vg_cnode_error(e, VG_ERR_PARSE, "edge '%s' must read 'from.port -> to.port'", text);
    *arrow = '\0';
    from = text;
    to = arrow + 2;
    if (strstr(to, "->"))
      return vg_cnode_error(e, VG_ERR_PARSE,
                            "edge has more than one '->': write one edge per item");
  } else if (vg_cnode_get_kind(e) == VG_CNODE_MAP) {
    static const char *const known[] = {"from", "to", NULL};
    VG_TRY(check_keys(e, known, "an edge"));
    VG_TRY(vg_cfg_string(e, "from", true, NULL, &from));
    VG_TRY(vg_cfg_string(e, "to", true, NULL, &to));
  } else {
    return vg_cnode_error(e, VG_ERR_PARSE, "an edge is 'a.out -> b.in' or {from: a.out, to: b.in}");
  }
  VG_TRY(parse_endpoint(g, e, from, true, &ed->from, &ed->from_port));
  VG_TRY(parse_endpoint(g, e, to, false, &ed->to, &ed->to_port));
  if (ed->from == ed->to)
    return vg_cnode_error(e, VG_ERR_PARSE, "cycle: edge from node '%s' to itself",
                          g->nodes[ed->from].id);
  for (int j = 0; j < i; j++) {
    const gedge *o = &g->edges[j];
    if (o->from == ed->from && o->from_port == ed->from_port && o->to == ed->to &&
        o->to_port == ed->to_port)
      return vg_cnode_error(e, VG_ERR_PARSE, "duplicate edge %s -> %s (also at line %d)",
                            g->nodes[ed->from].id, g->nodes[ed->to].id, vg_cnode_line(o->where));
  }
  return VG_OK;
}

static vg_status index_edges(vg_graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    gnode *n = &g->nodes[i];
    n->out_edges = calloc((size_t)g->nedges + 1, sizeof(int));
    n->in_edges = calloc((size_t)g->nedges + 1, sizeof(int));
    if (!n->out_edges || !n->in_edges) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  }
  for (int e = 0; e < g->nedges; e++) {
    gnode *a = &g->nodes[g->edges[e].from], *b = &g->nodes[g->edges[e].to];
    a->out_edges[a->nout_edges++] = e;
    b->in_edges[b->nin_edges++] = e;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const gnode *n = &g->nodes[i];
    for (int p = 0; p < n->nin; p++) {
      bool connected = false;
      for (int k = 0; k < n->nin_edges; k++)
        connected |= g->edges[n->in_edges[k]].to_port == p;
      if (!connected && !n->type->inputs[p].optional)
        return vg_cnode_error(n->where, VG_ERR_PARSE,
                              "node '%s' (%s): required input '%s' is not connected", n->id,
                              n->type->name, n->type->inputs[p].name);
    }
  }
  return VG_OK;
}

/* ----------------------------------------------------------------------------- order, types */

/* Describes one cycle among the nodes Kahn's algorithm could not order. */
static vg_status report_cycle(vg_graph *g, const int *indeg) {
  int start = -1;
  for (int i = 0; i < g->nnodes && start < 0; i++)
    if (indeg[i] > 0) start = i;
  /* Walk backwards along unordered producers until a node repeats. */
  int *seen = calloc((size_t)g->nnodes, sizeof(int));
  int *path = calloc((size_t)g->nnodes + 1, sizeof(int));
  if (!seen || !path) {
    free(seen);
    free(path);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  }
  int len = 0, cur = start;
  while (!seen[cur]) {
    seen[cur] = len + 1;
    path[len++] = cur;
    const gnode *n = &g->nodes[cur];
    int next = -1;
    for (int k = 0; k < n->nin_edges && next < 0; k++) {
      int from = g->edges[n->in_edges[k]].from;
      if (indeg[from] > 0) next = from;
    }
    cur = next;
  }
  /* path[seen[cur]-1 .. len-1] walks the cycle backwards; print it forwards, starting at the
   * node defined first in the spec */
  int first = seen[cur] - 1, m = len - first, best = 0;
  for (int k = 0; k < m; k++)
    if (path[len - 1 - k] < path[len - 1 - best]) best = k;
  char text[600];
  size_t l = 0;
  text[0] = '\0';
  for (int k = 0; k <= m && l < sizeof text; k++) {
    int w = snprintf(text + l, sizeof text - l, "%s%s", k ? " -> " : "",
                     g->nodes[path[len - 1 - (best + k) % m]].id);
    if (w > 0) l += (size_t)w;
  }
  cur = path[len - 1 - best];
  vg_status s = vg_cnode_error(g->nodes[cur].where, VG_ERR_PARSE, "cycle: %s", text);
  free(seen);
  free(path);
  return s;
}

static vg_status order_nodes(vg_graph *g) {
  int *indeg = calloc((size_t)g->nnodes, sizeof(int));
  g->topo = calloc((size_t)g->nnodes, sizeof(int));
  if (!indeg || !g->topo) {
    free(indeg);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  }
  for (int e = 0; e < g->nedges; e++)
    indeg[g->edges[e].to]++;
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (indeg[i] == 0) g->topo[n++] = i;
  for (int k = 0; k < n; k++) {
    const gnode *nd = &g->nodes[g->topo[k]];
    for (int j = 0; j < nd->nout_edges; j++)
      if (--indeg[g->edges[nd->out_edges[j]].to] == 0) g->topo[n++] = g->edges[nd->out_edges[j]].to;
  }
  vg_status s = n == g->nnodes ? VG_OK : report_cycle(g, indeg);
  free(indeg);
  return s;
}

#define CONTENT (VG_PORT_FRAME | VG_PORT_TENSOR | VG_PORT_OBJECTS)

/* Infers what each output carries (VG_PORT_FORWARD adds the inputs' content) and checks every
 * edge: the consumer's input needs no content the producer's output lacks. */
static vg_status check_types(vg_graph *g) {
  for (int k = 0; k < g->nnodes; k++) {
    gnode *n = &g->nodes[g->topo[k]];
    unsigned in_union = 0;
    for (int j = 0; j < n->nin_edges; j++) {
      const gedge *e = &g->edges[n->in_edges[j]];
      unsigned have = g->nodes[e->from].out_types[e->from_port];
      unsigned need = n->in_types[e->to_port];
      in_union |= have;
      if ((have & VG_PORT_ANY) || (need & VG_PORT_ANY)) continue;
      if (need & CONTENT & ~have) {
        char hb[64], nb[64];
        return vg_cnode_error(
            e->where, VG_ERR_PARSE, "port type mismatch: '%s.%s' gives %s but '%s.%s' needs %s",
            g->nodes[e->from].id, g->nodes[e->from].type->outputs[e->from_port].name,
            vg_port_types_str(have & CONTENT, hb, sizeof hb), n->id,
            n->type->inputs[e->to_port].name, vg_port_types_str(need & CONTENT, nb, sizeof nb));
      }
    }
    for (int p = 0; p < n->nout; p++)
      if (n->out_types[p] & VG_PORT_FORWARD)
        n->out_types[p] =
            (n->out_types[p] & ~VG_PORT_FORWARD) | (in_union & (CONTENT | VG_PORT_ANY));
  }
  return VG_OK;
}

/* ----------------------------------------------------------------------------- sources */

static vg_status build_plan(vg_graph *g, int src, gplan *pl) {
  pl->source = src;
  pl->reached = calloc((size_t)g->nnodes, sizeof(bool));
  pl->indeg = calloc((size_t)g->nnodes, sizeof(int));
  pl->port_edge = malloc((size_t)g->nnodes * VG_MAX_PORTS * sizeof(int));
  pl->live = calloc((size_t)g->nedges + 1, sizeof(bool));
  if (!pl->reached || !pl->indeg || !pl->port_edge || !pl->live)
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (int i = 0; i < g->nnodes * VG_MAX_PORTS; i++)
    pl->port_edge[i] = -1;
  pl->reached[src] = true;
  for (int k = 0; k < g->nnodes; k++) { /* topological order: producers first */
    int i = g->topo[k];
    const gnode *n = &g->nodes[i];
    for (int j = 0; j < n->nin_edges; j++) {
      int e = n->in_edges[j];
      if (!pl->reached[g->edges[e].from]) continue;
      pl->reached[i] = true;
      pl->live[e] = true;
      pl->indeg[i]++;
      int *slot = &pl->port_edge[i * VG_MAX_PORTS + g->edges[e].to_port];
      if (*slot >= 0)
        return vg_cnode_error(
            g->edges[e].where, VG_ERR_PARSE,
            "node '%s' input '%s' would get each frame of source '%s' twice (from '%s' and '%s'); an input fed by several edges only merges different sources",
            n->id, n->type->inputs[g->edges[e].to_port].name, g->nodes[src].id,
            g->nodes[g->edges[*slot].from].id, g->nodes[g->edges[e].from].id);
      *slot = e;
    }
  }
  for (int i = 0; i < g->nnodes; i++) {
    if (!pl->reached[i]) continue;
    pl->nreached++;
    const gnode *n = &g->nodes[i];
    for (int p = 0; p < n->nin; p++) {
      if (pl->port_edge[i * VG_MAX_PORTS + p] >= 0 || n->type->inputs[p].optional) continue;
      return vg_cnode_error(
          n->where, VG_ERR_PARSE,
          "node '%s' gets frames of source '%s' but its input '%s' does not: a node cannot join frames of different sources",
          n->id, g->nodes[src].id, n->type->inputs[p].name);
    }
  }
  return VG_OK;
}

static vg_status build_plans(vg_graph *g, const vg_cnode *root) {
  g->plan_of = malloc((size_t)g->nnodes * sizeof(int));
  g->plans = calloc((size_t)g->nnodes, sizeof(gplan));
  if (!g->plan_of || !g->plans) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  bool *any = calloc((size_t)g->nnodes, sizeof(bool));
  if (!any) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  vg_status s = VG_OK;
  for (int i = 0; i < g->nnodes && s == VG_OK; i++) {
    g->plan_of[i] = -1;
    if (!g->nodes[i].source) continue;
    g->plan_of[i] = g->nsources;
    s = build_plan(g, i, &g->plans[g->nsources++]);
    for (int k = 0; s == VG_OK && k < g->nnodes; k++)
      any[k] |= g->plans[g->nsources - 1].reached[k];
  }
  if (s == VG_OK && g->nsources == 0)
    s = vg_cnode_error(root, VG_ERR_PARSE,
                       "the graph has no source node (e.g. input, test_source)");
  for (int i = 0; s == VG_OK && i < g->nnodes; i++)
    if (!any[i])
      s = vg_cnode_error(g->nodes[i].where, VG_ERR_PARSE, "node '%s' (%s) is not fed by any source",
                         g->nodes[i].id, g->nodes[i].type->name);
  free(any);
  return s;
}

/* ----------------------------------------------------------------------------- entry points */

static vg_status parse_graph(vg_graph *g, const vg_registry *reg) {
  static const char *const known[] = {"name",  "description", "version", "settings",
                                      "nodes", "edges",       NULL};
  const vg_cnode *root = vg_config_root(g->doc);
  VG_TRY(expect_kind(root, VG_CNODE_MAP, "a graph spec map with nodes and edges"));
  VG_TRY(check_keys(root, known, "the graph spec"));
  VG_TRY(parse_settings(g, root));
  const vg_cnode *settings = vg_cnode_get(root, "settings");
  const vg_cnode *dflt_dev = settings ? vg_cnode_get(settings, "device") : NULL;
  const vg_cnode *nodes = vg_cnode_get(root, "nodes");
  if (!nodes) return vg_cnode_error(root, VG_ERR_PARSE, "missing required key 'nodes'");
  VG_TRY(expect_kind(nodes, VG_CNODE_SEQ, "a list of nodes"));
  size_t nn = vg_cnode_len(nodes);
  if (nn == 0 || nn > VG_MAX_NODES)
    return vg_cnode_error(nodes, VG_ERR_PARSE, "a graph needs 1..%d nodes, got %zu", VG_MAX_NODES,
                          nn);
  const vg_cnode *edges = vg_cnode_get(root, "edges");
  if (edges && vg_cnode_is_null(edges)) edges = NULL;
  if (edges) VG_TRY(expect_kind(edges, VG_CNODE_SEQ, "a list of edges"));
  size_t ne = edges ? vg_cnode_len(edges) : 0;
  if (ne > 16 * VG_MAX_NODES)
    return vg_cnode_error(edges, VG_ERR_PARSE, "too many edges (%zu)", ne);
  g->nodes = calloc(nn, sizeof *g->nodes);
  g->edges = calloc(ne + 1, sizeof *g->edges);
  if (!g->nodes || !g->edges) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < nn; i++) {
    VG_TRY(parse_node(g, reg, (int)i, vg_cnode_at(nodes, i), dflt_dev));
    g->nnodes = (int)i + 1;
  }
  for (size_t i = 0; i < ne; i++) {
    VG_TRY(parse_edge(g, (int)i, vg_cnode_at(edges, i)));
    g->nedges = (int)i + 1;
  }
  VG_TRY(index_edges(g));
  VG_TRY(order_nodes(g));
  VG_TRY(check_types(g));
  VG_TRY(build_plans(g, root));
  for (int i = 0; i < g->nnodes; i++) {
    g->nodes[i].var_base = g->nvars;
    g->nvars += g->nodes[i].nout;
  }
  return VG_OK;
}

vg_status vg_graph_from_config(vg_config *doc, const vg_registry *reg, vg_graph **out) {
  *out = NULL;
  if (!doc) return vg_set_error(VG_ERR_INVALID_ARG, "vg_graph_from_config: no document");
  if (!reg) {
    vg_config_free(doc);
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "vg_graph_from_config: no node registry (vg_registry_create, then "
                        "vg_nodes_register_builtin for the built-in types)");
  }
  vg_graph *g = calloc(1, sizeof *g);
  if (!g) {
    vg_config_free(doc);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory loading a graph");
  }
  g->doc = doc;
  vg_status s = parse_graph(g, reg); /* the graph keeps pointers to the (static) types */
  if (s != VG_OK) {
    vg_graph_free(g);
    return s;
  }
  *out = g;
  return VG_OK;
}

static vg_status load_doc(vg_config *doc, const char *const *sets, int nsets,
                          const vg_registry *reg, vg_graph **out) {
  if (nsets > 0) {
    vg_config *changed;
    vg_status s = vg_spec_apply_overrides(doc, sets, nsets, &changed);
    vg_config_free(doc);
    if (s != VG_OK) return s;
    doc = changed;
  }
  return vg_graph_from_config(doc, reg, out);
}

vg_status vg_graph_load_file(const char *path, const char *const *sets, int nsets,
                             const vg_registry *reg, vg_graph **out) {
  vg_config *doc;
  *out = NULL;
  VG_TRY(vg_config_load_file(path, &doc));
  return load_doc(doc, sets, nsets, reg, out);
}

vg_status vg_graph_load_string(const char *text, const char *name, const char *const *sets,
                               int nsets, const vg_registry *reg, vg_graph **out) {
  vg_config *doc;
  *out = NULL;
  if (!text) return vg_set_error(VG_ERR_INVALID_ARG, "vg_graph_load_string: no text");
  VG_TRY(vg_config_load_string(text, strlen(text), name ? name : "<graph>", &doc));
  return load_doc(doc, sets, nsets, reg, out);
}

/* ----------------------------------------------------------------------------- accessors */

int vg_graph_node_count(const vg_graph *g) {
  return g->nnodes;
}

int vg_graph_find_node(const vg_graph *g, const char *id) {
  for (int i = 0; id && i < g->nnodes; i++)
    if (strcmp(g->nodes[i].id, id) == 0) return i;
  return -1;
}

const char *vg_graph_node_id(const vg_graph *g, int i) {
  return i >= 0 && i < g->nnodes ? g->nodes[i].id : NULL;
}

const vg_node_type *vg_graph_node_type(const vg_graph *g, int i) {
  return i >= 0 && i < g->nnodes ? g->nodes[i].type : NULL;
}

vg_device vg_graph_node_device(const vg_graph *g, int i) {
  return i >= 0 && i < g->nnodes ? g->nodes[i].device : vg_cpu();
}

const char *vg_graph_node_fallback(const vg_graph *g, int i) {
  return i >= 0 && i < g->nnodes ? g->nodes[i].fallback : "";
}

int vg_graph_edge_count(const vg_graph *g) {
  return g->nedges;
}
