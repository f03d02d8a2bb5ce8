/* bench_graph.c - scheduler overhead of the graph runtime: a source of tiny packets through a
 * chain (or a diamond) of pass-through nodes, so that the time measured is the runtime's own
 * (dispatch, in-degree bookkeeping, variable store, events). Prints one JSON line per case:
 *   {"case":"chain","nodes":N,"workers":W,"frames":F,"fps":...,"us_per_node_call":...}
 * Usage: bench_graph [frames=20000] [workers=0 (cores-1)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidgraph/vg_graph.h"
#include "../tests/vg_test_nodes.h"

static int bench(const char *name, int nodes, bool diamond, int frames, int workers) {
  char yaml[8192];
  size_t len = 0;
  len += (size_t)snprintf(yaml + len, sizeof yaml - len,
                          "settings: {queue_size: 16}\nnodes:\n  - {id: src, type: test_source, "
                          "params: {count: %d, streams: 4}}\n",
                          frames / 4);
  for (int i = 0; i < nodes; i++)
    len += (size_t)snprintf(yaml + len, sizeof yaml - len, "  - {id: n%d, type: pass}\n", i);
  len += (size_t)snprintf(yaml + len, sizeof yaml - len, "edges:\n");
  for (int i = 0; i < nodes; i++) {
    if (diamond || i == 0) /* fan-out: the source feeds every node */
      len += (size_t)snprintf(yaml + len, sizeof yaml - len, "  - src -> n%d\n", i);
    else /* chain: each node feeds the next */
      len += (size_t)snprintf(yaml + len, sizeof yaml - len, "  - n%d -> n%d\n", i - 1, i);
  }
  vg_graph *g;
  if (vg_graph_load_string(yaml, "bench", NULL, 0, vg_test_registry(), &g) != VG_OK) {
    fprintf(stderr, "bench_graph: %s\n", vg_last_error());
    return 1;
  }
  vg_run_options opt = {.workers = workers};
  vg_run *r;
  vg_status s = vg_run_once(g, &opt, NULL, NULL, 0, -1, &r);
  if (s != VG_OK) {
    fprintf(stderr, "bench_graph: %s\n", vg_last_error());
    vg_run_destroy(r);
    vg_graph_free(g);
    return 1;
  }
  vg_run_summary sum;
  vg_run_get_summary(r, &sum);
  double calls = (double)sum.frames_done * nodes;
  printf("{\"case\":\"%s\",\"nodes\":%d,\"workers\":%d,\"frames\":%llu,\"wall_ms\":%.1f,"
         "\"fps\":%.0f,\"us_per_node_call\":%.2f}\n",
         name, nodes, sum.workers, (unsigned long long)sum.frames_done, sum.wall_ms, sum.fps,
         calls > 0 ? sum.wall_ms * 1000.0 / calls : 0.0);
  vg_run_summary_free(&sum);
  vg_run_destroy(r);
  vg_graph_free(g);
  return 0;
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 20000;
  int workers = argc > 2 ? atoi(argv[2]) : 0;
  if (frames < 4) frames = 4;
  int rc = 0;
  rc |= bench("chain", 1, false, frames, workers);
  rc |= bench("chain", 8, false, frames, workers);
  rc |= bench("fan_out", 8, true, frames, workers);
  return rc;
}
