/* registry.c - node type registries: a checked list of vtables looked up by name, and helpers
 * about node types (port counts and lookups, port type names). */
#include "graph_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 1024

struct vg_registry {
  const vg_node_type **types;
  size_t n, cap;
};

/* ----------------------------------------------------------------------------- type helpers */

static int count_ports(const vg_port *ports) {
  int n = 0;
  while (n < VG_MAX_PORTS && ports[n].name)
    n++;
  return n;
}

int vg_node_type_ninputs(const vg_node_type *t) {
  return count_ports(t->inputs);
}

int vg_node_type_noutputs(const vg_node_type *t) {
  return count_ports(t->outputs);
}

static int find_port(const vg_port *ports, const char *name) {
  for (int i = 0; i < VG_MAX_PORTS && ports[i].name; i++)
    if (name && strcmp(ports[i].name, name) == 0) return i;
  return -1;
}

int vg_node_type_input(const vg_node_type *t, const char *name) {
  return find_port(t->inputs, name);
}

int vg_node_type_output(const vg_node_type *t, const char *name) {
  return find_port(t->outputs, name);
}

const char *vg_port_types_str(unsigned types, char *buf, size_t cap) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{VG_PORT_FRAME, "frame"},
               {VG_PORT_TENSOR, "tensor"},
               {VG_PORT_OBJECTS, "objects"},
               {VG_PORT_ANY, "any"},
               {VG_PORT_FORWARD, "forward"}};
  size_t len = 0;
  if (cap) buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(types & names[i].bit)) continue;
    int w = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "|" : "", names[i].name);
    if (w > 0) len += (size_t)w;
  }
  if (len == 0) snprintf(buf, cap, "none");
  return buf;
}

/* ----------------------------------------------------------------------------- vtable checks */

static vg_status check_ports(const vg_node_type *t, const vg_port *ports, const char *what) {
  for (int i = 0; i < VG_MAX_PORTS && ports[i].name; i++) {
    if (!ports[i].name[0] || strlen(ports[i].name) > 31 || strchr(ports[i].name, '.'))
      return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': %s port %d has a bad name '%s'",
                          t->name, what, i, ports[i].name);
    if (ports[i].types == 0)
      return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': %s port '%s' has no type", t->name,
                          what, ports[i].name);
    for (int j = 0; j < i; j++)
      if (strcmp(ports[i].name, ports[j].name) == 0)
        return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': two %s ports named '%s'", t->name,
                            what, ports[i].name);
  }
  return VG_OK;
}

static vg_status check_type(const vg_node_type *t) {
  if (!t || !t->name || !t->name[0] || strlen(t->name) > 31)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type without a name (1..31 characters)");
  if (!t->process)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' has no process function", t->name);
  if (!(t->devices & (VG_DEVICES_CPU | VG_DEVICES_CUDA)))
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' supports no device", t->name);
  unsigned pref = t->preferred == VG_DEVICE_CUDA ? VG_DEVICES_CUDA : VG_DEVICES_CPU;
  if (!(t->devices & pref))
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' prefers a device it does not support",
                        t->name);
  VG_TRY(check_ports(t, t->inputs, "input"));
  VG_TRY(check_ports(t, t->outputs, "output"));
  int nin = vg_node_type_ninputs(t);
  if ((t->flags & VG_NODE_SOURCE) && nin > 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' is a source but has inputs", t->name);
  if (!(t->flags & VG_NODE_SOURCE) && nin == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' has no inputs and is not a source",
                        t->name);
  if ((t->flags & VG_NODE_SOURCE) && (t->flags & VG_NODE_BATCHING))
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': a source cannot batch", t->name);
  if (t->max_in_flight < 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': negative max_in_flight", t->name);
  if (t->stream_state_size && (!(t->flags & VG_NODE_ORDERED) || (t->flags & VG_NODE_SOURCE)))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "node type '%s': per-stream state needs an ordered type, not a source",
                        t->name);
  if (!t->stream_state_size && (t->stream_init || t->stream_destroy))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "node type '%s': stream_init/stream_destroy without stream_state_size",
                        t->name);
  return vg__params_check_table(t);
}

/* ----------------------------------------------------------------------------- registry */

vg_status vg_registry_create(vg_registry **out) {
  vg_registry *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a node registry");
  *out = r;
  return VG_OK;
}

void vg_registry_free(vg_registry *r) {
  if (!r) return;
  free(r->types);
  free(r);
}

vg_status vg_registry_add(vg_registry *r, const vg_node_type *t) {
  VG_TRY(check_type(t));
  if (vg_registry_find(r, t->name))
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' is registered twice", t->name);
  if (r->n == MAX_TYPES)
    return vg_set_error(VG_ERR_INVALID_ARG, "more than %d node types", MAX_TYPES);
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 32;
    const vg_node_type **types = realloc(r->types, cap * sizeof *types);
    if (!types) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory in the node registry");
    r->types = types;
    r->cap = cap;
  }
  r->types[r->n++] = t;
  return VG_OK;
}

const vg_node_type *vg_registry_find(const vg_registry *r, const char *name) {
  for (size_t i = 0; r && name && i < r->n; i++)
    if (strcmp(r->types[i]->name, name) == 0) return r->types[i];
  return NULL;
}

size_t vg_registry_count(const vg_registry *r) {
  return r ? r->n : 0;
}

const vg_node_type *vg_registry_at(const vg_registry *r, size_t i) {
  return r && i < r->n ? r->types[i] : NULL;
}
