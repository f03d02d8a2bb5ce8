/* node_host.c - what a node may ask about the program that runs its graph: the shared model
 * cache and the host object of vg_run_options (a server's stream hub, for instance). Kept apart
 * from run.c so that embedding hooks grow here without touching the scheduler. */
#include "graph_internal.h"

struct vg_model_cache *vg_node_model_cache(const vg_node *n) {
  return n && n->run ? n->run->opt.model_cache : NULL;
}

void *vg_node_host(const vg_node *n) {
  return n && n->run ? n->run->opt.host : NULL;
}
