/* fuzz_graph_spec.c - libFuzzer target: a graph spec (YAML or JSON text) through
 * vg_graph_load_string with the built-in node types: parsing, validation (types, ports, cycles,
 * placement) and, when the spec is valid, the graph's accessors. Any input must end in VG_OK or
 * an error message, never a crash, a leak or undefined behaviour. */
#include "fuzz_util.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_nodes.h"

/* The built-in types, made once (the registry is read-only while specs are loaded). */
static const vg_registry *builtin_registry(void) {
  static vg_registry *reg;
  if (!reg && (vg_registry_create(&reg) != VG_OK || vg_nodes_register_builtin(reg) != VG_OK))
    abort();
  return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  char *text = fuzz_cstr(data, size);
  if (!text) return 0;
  vg_graph *g = NULL;
  if (vg_graph_load_string(text, "fuzz.yaml", NULL, 0, builtin_registry(), &g) == VG_OK) {
    int n = vg_graph_node_count(g);
    for (int i = 0; i < n; i++) {
      const char *id = vg_graph_node_id(g, i);
      if (vg_graph_find_node(g, id) != i) abort(); /* ids are unique and found again */
      (void)vg_graph_node_type(g, i);
      (void)vg_graph_node_device(g, i);
      (void)vg_graph_node_fallback(g, i);
    }
    (void)vg_graph_edge_count(g);
    vg_graph_free(g);
  } else if (vg_last_error()[0] == '\0') {
    abort(); /* a failure must say why */
  }
  free(text);
  return 0;
}
