/* test_graph_model_cache.c - infer nodes take their model from the run's shared model cache
 * (vg_run_options.model_cache, what `vidgraph serve` passes to every run and its live graph):
 * two runs of the same graph hold one loaded model, a run without a cache loads its own, and
 * the model stays cached (for the next run) after both runs are gone. */
#include "vg_test.h"

#include "test_infer_util.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_infer.h"
#include "vg_test_nodes.h"

static const char *k_graph =
    "nodes:\n"
    "  - {id: src, type: test_source, params: {count: 1}}\n"
    "  - {id: det, type: infer, device: cpu, params: {model: models/test/tiny_mlp.onnx, "
    "input: value, providers: [cpu]}}\n"
    "  - {id: out, type: callback_sink}\n"
    "edges: [src -> det, det -> out]\n";

static void test_two_runs_share_one_model(void **state) {
  (void)state;
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string(k_graph, "cache.yaml", NULL, 0, vg_test_registry(), &g));
  vg_model_cache *cache;
  VG_ASSERT_OK(vg_model_cache_create(0, &cache));
  vg_run_options opt = {.model_cache = cache};
  vg_run *a = NULL, *b = NULL, *own = NULL;
  VG_ASSERT_OK(vg_run_create(g, &opt, &a));
  assert_int_equal(vg_model_cache_count(cache), 1);
  VG_ASSERT_OK(vg_run_create(g, &opt, &b));
  assert_int_equal(vg_model_cache_count(cache), 1); /* the second run loaded nothing */
  VG_ASSERT_OK(vg_run_create(g, NULL, &own));       /* no cache: its own model */
  assert_int_equal(vg_model_cache_count(cache), 1);
  /* the cache hands out the very model the runs hold: unloading it now defers the free */
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  snprintf(spec.path, sizeof spec.path, "%s", TEST_MODELS "/tiny_mlp.onnx");
  snprintf(spec.name, sizeof spec.name, "det");
  spec.providers[0] = VG_PROVIDER_CPU;
  spec.nproviders = 1;
  spec.fit_batch = true; /* as the infer node sets it */
  vg_model *m = NULL;
  VG_ASSERT_OK(vg_model_cache_get(cache, &spec, &m));
  assert_int_equal(vg_model_cache_count(cache), 1);
  vg_model_cache_release(cache, m);
  vg_run_destroy(own);
  vg_run_destroy(a);
  vg_run_destroy(b);
  assert_int_equal(vg_model_cache_count(cache), 1); /* kept for the next run */
  vg_model_cache_destroy(cache);
  vg_graph_free(g);
}

int main(void) {
  infer_ensure_models();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_runs_share_one_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
