/* vg_nodes.h - the built-in node types of vidgraph (sources, preprocess, infer, decoders,
 * tracking, counting, sinks). The graph layer starts with an empty registry; a program puts the
 * two together:
 *
 *   vg_registry *reg;
 *   vg_registry_create(&reg);
 *   vg_nodes_register_builtin(reg);        (then vg_registry_add for its own types)
 *   vg_graph_load_file("g.yaml", NULL, 0, reg, &graph);
 *
 * Every type's parameters are in its vg_node_type.params table (`vidgraph nodes --params`,
 * docs/NODES.md). */
#ifndef VIDGRAPH_VG_NODES_H
#define VIDGRAPH_VG_NODES_H

#include "vidgraph/vg_graph.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* Adds every built-in node type to reg. Fails (VG_ERR_INVALID_ARG) when one of their names is
 * already registered. */
vg_status vg_nodes_register_builtin(vg_registry *reg);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
