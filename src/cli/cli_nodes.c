/* cli_nodes.c - `vidgraph nodes`: the built-in node types with their ports, devices and flags. */
#include "cli.h"
#include "vidgraph/vg_graph.h"

#include <string.h>

static void ports(const vg_port *p, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < VG_MAX_PORTS && p[i].name && n < cap; i++) {
    char t[64];
    n += (size_t)snprintf(buf + n, cap - n, "%s%s:%s%s", i ? " " : "", p[i].name,
                          vg_port_types_str(p[i].types, t, sizeof t), p[i].optional ? "?" : "");
  }
  if (!buf[0]) snprintf(buf, cap, "-");
}

int cli_nodes(int argc, char **argv) {
  if (argc > 1 && cli_is(argv[1], "-h", "--help")) {
    printf("usage: vidgraph nodes\n");
    return 0;
  }
  size_t n;
  const vg_node_type *const *types = vg_builtin_node_types(&n);
  for (size_t i = 0; i < n; i++) {
    const vg_node_type *t = types[i];
    char in[256], out[256];
    ports(t->inputs, in, sizeof in);
    ports(t->outputs, out, sizeof out);
    printf("%-22s %s\n", t->name, t->doc ? t->doc : "");
    printf("%-22s   in: %s   out: %s   devices: %s%s%s\n", "", in, out,
           (t->devices & VG_DEVICES_CPU) ? "cpu " : "",
           (t->devices & VG_DEVICES_CUDA) ? "cuda " : "",
           (t->flags & VG_NODE_BATCHING) ? " batching" : "");
  }
  return 0;
}
