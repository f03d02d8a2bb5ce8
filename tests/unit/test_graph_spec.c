/* test_graph_spec.c - graph spec parsing and validation: both edge forms, YAML and JSON, and one
 * test per validation error with the expected message (file, line, node id), --set overrides,
 * placement (CUDA unavailable here: explicit cuda fails, auto falls back and says why), the
 * registry's vtable checks, and node init (parameter) errors at run creation. */
#include "vg_test.h"

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

static vg_status nop_process(vg_call *c) {
  (void)c;
  return VG_OK;
}

static vg_status load(const char *yaml, vg_graph **g) {
  return vg_graph_load_string(yaml, "g.yaml", NULL, 0, vg_test_registry(), g);
}

/* Loading must fail with status s and a message containing every needle. */
static void expect_fail(const char *yaml, vg_status s, const char *n1, const char *n2,
                        const char *n3) {
  vg_graph *g = NULL;
  vg_status got = load(yaml, &g);
  if (got == VG_OK) fail_msg("expected %s, loaded fine:\n%s", vg_status_name(s), yaml);
  assert_null(g);
  if (got != s)
    fail_msg("expected %s, got %s: %s", vg_status_name(s), vg_status_name(got), vg_last_error());
  VG_ASSERT_MSG_HAS(n1);
  if (n2) VG_ASSERT_MSG_HAS(n2);
  if (n3) VG_ASSERT_MSG_HAS(n3);
}

#define SRC "  - {id: src, type: test_source}\n"

static void test_valid_forms(void **state) {
  (void)state;
  vg_graph *g;
  VG_ASSERT_OK(load("name: demo\n"
                    "settings: {queue_size: 4, workers: 2, max_batch: 4, max_wait_ms: 7}\n"
                    "nodes:\n" SRC "  - id: a\n"
                    "    type: test_sum\n"
                    "    params: {mul: 2}\n"
                    "  - {id: s1, type: json_sink, params: {path: /dev/null}}\n"
                    "  - {id: s2, type: callback_sink}\n"
                    "edges:\n"
                    "  - src.out -> a.in0\n"
                    "  - {from: a.out, to: s1.in}\n"
                    "  - a -> s2\n",
                    &g));
  assert_int_equal(vg_graph_node_count(g), 4);
  assert_int_equal(vg_graph_edge_count(g), 3);
  assert_int_equal(vg_graph_find_node(g, "s1"), 2);
  assert_int_equal(vg_graph_find_node(g, "zz"), -1);
  assert_string_equal(vg_graph_node_type(g, 1)->name, "test_sum");
  assert_int_equal(vg_graph_node_device(g, 1).kind, VG_DEVICE_CPU);
  vg_graph_free(g);
  /* the same in JSON */
  VG_ASSERT_OK(load("{\"nodes\": [{\"id\": \"src\", \"type\": \"test_source\"},\n"
                    " {\"id\": \"a\", \"type\": \"test_sum\"}],\n"
                    " \"edges\": [{\"from\": \"src.out\", \"to\": \"a.in0\"}]}",
                    &g));
  assert_int_equal(vg_graph_node_count(g), 2);
  vg_graph_free(g);
}

static void test_unknown_type(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: det, type: yolox}\nedges: [src -> det]\n", VG_ERR_NOT_FOUND,
              "g.yaml:3:", "node 'det'", "unknown node type 'yolox'");
  VG_ASSERT_MSG_HAS("test_sum"); /* lists the known types */
}

static void test_unknown_ports(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n"
              "edges:\n  - src.out -> a.inX\n",
              VG_ERR_NOT_FOUND, "g.yaml:5:", "node 'a' (test_sum) has no input port 'inX'",
              "in0, in1");
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n"
              "edges:\n  - src.video -> a.in0\n",
              VG_ERR_NOT_FOUND, "g.yaml:5:", "node 'src' (test_source) has no output port 'video'",
              "outputs: out");
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n"
              "edges:\n  - src -> a\n",
              VG_ERR_PARSE, "g.yaml:5:", "node 'a' has 4 input ports", "'a.<port>'");
  expect_fail("nodes:\n" SRC "edges:\n  - src -> ghost.in\n", VG_ERR_NOT_FOUND,
              "g.yaml:4:", "unknown node 'ghost'", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass}\nedges:\n  - src a\n", VG_ERR_PARSE,
              "g.yaml:5:", "must read 'from.port -> to.port'", NULL);
}

static void test_unconnected_required(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n"
              "  - {id: b, type: test_sum}\n"
              "edges: [src -> a.in1, a -> b.in0]\n",
              VG_ERR_PARSE,
              "g.yaml:3:", "node 'a' (test_sum): required input 'in0' is not connected", NULL);
}

static void test_type_mismatch(void **state) {
  (void)state;
  /* test_sum needs a tensor; test_source gives one, but a json_sink... has no output: use a
   * registry type that gives objects only */
  static const vg_node_type objs_only = {
      .name = "objs_only",
      .inputs = {{"in", VG_PORT_ANY}},
      .outputs = {{"out", VG_PORT_OBJECTS}},
      .devices = VG_DEVICES_CPU,
      .process = nop_process,
  };
  vg_registry *reg;
  VG_ASSERT_OK(vg_test_registry_create(&reg));
  VG_ASSERT_OK(vg_registry_add(reg, &objs_only));
  vg_graph *g = NULL;
  vg_status s = vg_graph_load_string("nodes:\n" SRC "  - {id: o, type: objs_only}\n"
                                     "  - {id: a, type: test_sum}\n"
                                     "edges:\n  - src -> o\n  - o.out -> a.in0\n",
                                     "g.yaml", NULL, 0, reg, &g);
  assert_int_equal(s, VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("g.yaml:7:");
  VG_ASSERT_MSG_HAS("port type mismatch: 'o.out' gives objects but 'a.in0' needs tensor");
  /* forward: pass after the source carries what the source carried, so this one is fine */
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n" SRC "  - {id: p, type: pass}\n"
                                    "  - {id: a, type: test_sum}\n"
                                    "edges: [src -> p, p -> a.in0]\n",
                                    "g.yaml", NULL, 0, reg, &g));
  vg_graph_free(g);
  /* ...and pass after objs_only carries only objects */
  s = vg_graph_load_string("nodes:\n" SRC "  - {id: o, type: objs_only}\n"
                           "  - {id: p, type: pass}\n  - {id: a, type: test_sum}\n"
                           "edges: [src -> o, o -> p, p -> a.in0]\n",
                           "g.yaml", NULL, 0, reg, &g);
  assert_int_equal(s, VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("'p.out' gives objects but 'a.in0' needs tensor");
  vg_registry_free(reg);
}

static void test_cycle(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n  - {id: b, type: test_sum}\n"
              "  - {id: c, type: test_sum}\n"
              "edges: [src -> a.in0, a -> b.in0, b -> c.in0, c -> a.in1]\n",
              VG_ERR_PARSE, "cycle: ", "a -> b -> c -> a", "g.yaml:");
  expect_fail("nodes:\n" SRC "  - {id: a, type: test_sum}\n"
              "edges: [src -> a.in0, a -> a.in1]\n",
              VG_ERR_PARSE, "g.yaml:4:", "cycle: edge from node 'a' to itself", NULL);
}

static void test_duplicate_id(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass}\n  - {id: a, type: pass}\n"
              "edges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:4:", "duplicate node id 'a' (first defined at line 3)", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass}\nedges: [src -> a, src.out -> a.in]\n",
              VG_ERR_PARSE, "duplicate edge src -> a", NULL, NULL);
}

static void test_bad_node_keys(void **state) {
  (void)state;
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, parms: {delay_ms: 1}}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:3:", "node 'a'", "unknown key 'parms'");
  expect_fail("nodes:\n" SRC "  - {id: 'a.b', type: pass}\n", VG_ERR_PARSE,
              "g.yaml:3:", "node id 'a.b' must be", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, on_error: retry}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:3:", "node 'a': on_error must be fail or drop", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, interval: 0}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:3:", "node 'a'", "interval = 0 is outside 1..");
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, max_batch: 4}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:3:", "node 'a': type 'pass' does not batch", NULL);
  expect_fail("nodes:\n" SRC "  - {type: pass}\n", VG_ERR_NOT_FOUND,
              "g.yaml:3:", "missing required key 'id'", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a}\n", VG_ERR_NOT_FOUND, "node 'a'",
              "g.yaml:3:", "missing required key 'type'");
  expect_fail("nodes:\n" SRC "  - {id: a, type: json_sink, ordered: false}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "node 'a': type 'json_sink' must see frames in order", NULL, NULL);
}

static void test_document_shape(void **state) {
  (void)state;
  expect_fail("- a\n- b\n", VG_ERR_PARSE, "g.yaml:1:", "expected a graph spec map", NULL);
  expect_fail("edges: []\n", VG_ERR_PARSE, "missing required key 'nodes'", NULL, NULL);
  expect_fail("nodes: []\n", VG_ERR_PARSE, "a graph needs 1..", NULL, NULL);
  expect_fail("nodes:\n" SRC "extra: 1\n", VG_ERR_PARSE, "g.yaml:3:", "unknown key 'extra'", NULL);
  expect_fail("nodes: [\n", VG_ERR_PARSE, "g.yaml:", "YAML syntax error", NULL);
  expect_fail("settings: {queue_size: 0}\nnodes:\n" SRC, VG_ERR_PARSE,
              "g.yaml:1:", "queue_size = 0 is outside 1..1024", NULL);
  expect_fail("settings: {colour: red}\nnodes:\n" SRC, VG_ERR_PARSE, "unknown key 'colour'", NULL,
              NULL);
  expect_fail("nodes:\n  - {id: a, type: pass}\n", VG_ERR_PARSE,
              "node 'a' (pass): required input "
              "'in' is not connected",
              NULL, NULL);
}

static void test_source_joins(void **state) {
  (void)state;
  /* two sources joined on two ports of one node: not a merge, rejected */
  expect_fail("nodes:\n  - {id: s0, type: test_source}\n  - {id: s1, type: test_source}\n"
              "  - {id: a, type: test_sum}\n"
              "edges: [s0 -> a.in0, s1 -> a.in1]\n",
              VG_ERR_PARSE, "node 'a' gets frames of source 's1' but its input 'in0' does not",
              NULL, NULL);
  /* one source reaching one port twice */
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass}\n  - {id: b, type: pass}\n"
              "  - {id: j, type: pass}\n"
              "edges: [src -> a, src -> b, a -> j, b -> j]\n",
              VG_ERR_PARSE, "node 'j' input 'in' would get each frame of source 'src' twice", NULL,
              NULL);
  /* two sources merged into one port: fine */
  vg_graph *g;
  VG_ASSERT_OK(load("nodes:\n  - {id: s0, type: test_source}\n  - {id: s1, type: test_source}\n"
                    "  - {id: a, type: pass}\nedges: [s0 -> a, s1 -> a]\n",
                    &g));
  vg_graph_free(g);
}

static void test_placement(void **state) {
  (void)state;
  int n = 0;
  vg_cuda_device_count(&n);
  if (n > 0) skip(); /* these checks are for machines without a GPU */
  const char *reason = vg_cuda_compiled() ? vg_cuda_unavailable_reason() : "no CUDA support";
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, device: cuda}\nedges: [src -> a]\n",
              VG_ERR_DEVICE, "g.yaml:3:", "node 'a' is placed on cuda but CUDA is unavailable",
              reason);
  expect_fail("nodes:\n" SRC "  - {id: a, type: pass, device: tpu}\nedges: [src -> a]\n",
              VG_ERR_PARSE, "g.yaml:3:", "device 'tpu' is not auto, cpu, cuda or cuda:N", NULL);
  expect_fail("nodes:\n" SRC "  - {id: a, type: json_sink, device: cuda:0}\nedges: [src -> a]\n",
              VG_ERR_UNSUPPORTED, "node 'a' (json_sink) cannot run on cuda:0", NULL, NULL);
  expect_fail("settings: {device: cuda}\nnodes:\n" SRC
              "  - {id: a, type: pass}\nedges: [src -> a]\n",
              VG_ERR_DEVICE, "g.yaml:1:", "CUDA is unavailable", NULL);
  /* auto falls back to the CPU for a type that prefers CUDA, and records why */
  static const vg_node_type gpu_pref = {
      .name = "gpu_pref",
      .inputs = {{"in", VG_PORT_ANY}},
      .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
      .preferred = VG_DEVICE_CUDA,
      .process = nop_process,
  };
  static const vg_node_type gpu_only = {
      .name = "gpu_only",
      .inputs = {{"in", VG_PORT_ANY}},
      .devices = VG_DEVICES_CUDA,
      .preferred = VG_DEVICE_CUDA,
      .process = nop_process,
  };
  vg_registry *reg;
  VG_ASSERT_OK(vg_test_registry_create(&reg));
  VG_ASSERT_OK(vg_registry_add(reg, &gpu_pref));
  VG_ASSERT_OK(vg_registry_add(reg, &gpu_only));
  vg_graph *g;
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n" SRC "  - {id: a, type: gpu_pref, device: auto}\n"
                                    "edges: [src -> a]\n",
                                    "g.yaml", NULL, 0, reg, &g));
  assert_int_equal(vg_graph_node_device(g, 1).kind, VG_DEVICE_CPU);
  assert_non_null(strstr(vg_graph_node_fallback(g, 1), "device auto -> cpu: "));
  assert_non_null(strstr(vg_graph_node_fallback(g, 1), reason));
  assert_string_equal(vg_graph_node_fallback(g, 0), "");
  vg_graph_free(g);
  vg_status s =
      vg_graph_load_string("nodes:\n" SRC "  - {id: a, type: gpu_only}\nedges: [src -> a]\n",
                           "g.yaml", NULL, 0, reg, &g);
  assert_int_equal(s, VG_ERR_DEVICE);
  VG_ASSERT_MSG_HAS("node 'a' (gpu_only) runs only on CUDA, which is unavailable");
  vg_registry_free(reg);
}

static void test_overrides(void **state) {
  (void)state;
  const char *yaml = "# a comment line\n"
                     "settings:\n"
                     "  queue_size: 4\n"
                     "nodes:\n"
                     "  - id: src\n"
                     "    type: test_source\n"
                     "  - id: a\n"
                     "    type: test_sum\n"
                     "    params:\n"
                     "      mul: 2\n"
                     "edges:\n"
                     "  - src -> a.in0\n";
  vg_config *doc, *out;
  VG_ASSERT_OK(vg_config_load_string(yaml, strlen(yaml), "g.yaml", &doc));
  const char *sets[] = {"nodes.a.params.mul=7", "settings.max_wait_ms=9", "nodes.1.params.add=3",
                        "nodes.src.params={count: 5}"};
  VG_ASSERT_OK(vg_spec_apply_overrides(doc, sets, 4, &out));
  const vg_cnode *root = vg_config_root(out);
  const vg_cnode *a = vg_cnode_at(vg_cnode_get(root, "nodes"), 1);
  int64_t v;
  VG_ASSERT_OK(vg_cfg_int(vg_cnode_get(a, "params"), "mul", true, 0, &v));
  assert_int_equal(v, 7);
  VG_ASSERT_OK(vg_cfg_int(vg_cnode_get(a, "params"), "add", true, 0, &v));
  assert_int_equal(v, 3);
  VG_ASSERT_OK(vg_cfg_int(vg_cnode_get(root, "settings"), "max_wait_ms", true, 0, &v));
  assert_int_equal(v, 9);
  VG_ASSERT_OK(vg_cfg_int(vg_cnode_get(root, "settings"), "queue_size", true, 0, &v));
  assert_int_equal(v, 4);
  const vg_cnode *src = vg_cnode_at(vg_cnode_get(root, "nodes"), 0);
  VG_ASSERT_OK(vg_cfg_int(vg_cnode_get(src, "params"), "count", true, 0, &v));
  assert_int_equal(v, 5);
  /* lines are kept: the type of node a is still on line 8, edges on line 12 */
  assert_int_equal(vg_cnode_line(vg_cnode_get(a, "type")), 8);
  assert_int_equal(vg_cnode_line(vg_cnode_at(vg_cnode_get(root, "edges"), 0)), 12);
  assert_string_equal(vg_config_name(out), "g.yaml");
  vg_config_free(out);
  /* no overrides: a copy */
  VG_ASSERT_OK(vg_spec_apply_overrides(doc, NULL, 0, &out));
  assert_int_equal(vg_cnode_len(vg_cnode_get(vg_config_root(out), "nodes")), 2);
  vg_config_free(out);
  /* bad overrides */
  const char *bad1[] = {"nodes.ghost.params.x=1"};
  assert_int_equal(vg_spec_apply_overrides(doc, bad1, 1, &out), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("has no element 'ghost'");
  const char *bad2[] = {"novalue"};
  assert_int_equal(vg_spec_apply_overrides(doc, bad2, 1, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("expected path=value");
  const char *bad3[] = {"settings.queue_size.x=1"};
  assert_int_equal(vg_spec_apply_overrides(doc, bad3, 1, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("cannot set 'x' inside it");
  const char *bad4[] = {"nodes..a=1"};
  assert_int_equal(vg_spec_apply_overrides(doc, bad4, 1, &out), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("empty path segment");
  const char *bad5[] = {"settings.queue_size=[1"};
  assert_int_equal(vg_spec_apply_overrides(doc, bad5, 1, &out), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("--set settings.queue_size");
  vg_config_free(doc);

  /* an override that breaks validation is reported at the original line of the user's file */
  vg_graph *g;
  const char *bad6[] = {"nodes.a.type=nope"};
  assert_int_equal(vg_graph_load_string(yaml, "g.yaml", bad6, 1, vg_test_registry(), &g),
                   VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("g.yaml:8:");
  VG_ASSERT_MSG_HAS("unknown node type 'nope'");
  const char *bad7[] = {"settings.queue_size=0"};
  assert_int_equal(vg_graph_load_string(yaml, "g.yaml", bad7, 1, vg_test_registry(), &g),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("g.yaml:3:");
  const char *good[] = {"nodes.a.params.mul=5"};
  VG_ASSERT_OK(vg_graph_load_string(yaml, "g.yaml", good, 1, vg_test_registry(), &g));
  vg_graph_free(g);
}

static void test_param_errors_at_run_create(void **state) {
  (void)state;
  vg_graph *g;
  VG_ASSERT_OK(load("nodes:\n" SRC "  - id: a\n    type: test_sum\n    params:\n      mul: big\n"
                    "edges: [src -> a.in0]\n",
                    &g));
  vg_run *r = NULL;
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  assert_null(r);
  VG_ASSERT_MSG_HAS("node 'a' (test_sum)");
  VG_ASSERT_MSG_HAS("g.yaml:6:");
  VG_ASSERT_MSG_HAS("expected an integer, got 'big'");
  vg_graph_free(g);

  VG_ASSERT_OK(load("nodes:\n" SRC "  - {id: a, type: test_sum, params: {mul: 5000}}\n"
                    "edges: [src -> a.in0]\n",
                    &g));
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("node 'a' (test_sum)");
  VG_ASSERT_MSG_HAS("g.yaml:3:");
  VG_ASSERT_MSG_HAS("mul = 5000 is outside -1000..1000");
  vg_graph_free(g);

  VG_ASSERT_OK(
      load("nodes:\n" SRC "  - {id: a, type: pass, params: {delay: 5}}\nedges: [src -> a]\n", &g));
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("unknown parameter 'delay' (known: delay_ms)");
  VG_ASSERT_MSG_HAS("g.yaml:3:");
  vg_graph_free(g);

  /* an error without a position gets the node's */
  VG_ASSERT_OK(load("nodes:\n" SRC
                    "  - {id: out, type: json_sink, params: {path: /nonexistent/dir/x.jsonl}}\n"
                    "edges: [src -> out]\n",
                    &g));
  assert_int_equal(vg_run_create(g, NULL, &r), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("g.yaml:3:");
  VG_ASSERT_MSG_HAS("node 'out' (json_sink)");
  VG_ASSERT_MSG_HAS("/nonexistent/dir/x.jsonl");
  vg_graph_free(g);
}

static void test_registry_checks(void **state) {
  (void)state;
  vg_registry *reg;
  VG_ASSERT_OK(vg_registry_create(&reg));
  assert_int_equal(vg_registry_count(reg), 0);
  vg_node_type t = {.name = "x", .inputs = {{"in", VG_PORT_ANY}}, .devices = VG_DEVICES_CPU};
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("node type 'x' has no process function");
  t.process = nop_process;
  t.inputs[1] = (vg_port){"in", VG_PORT_ANY, false};
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("two input ports named 'in'");
  t.inputs[1] = (vg_port){0};
  t.flags = VG_NODE_SOURCE;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("is a source but has inputs");
  t.flags = 0;
  t.devices = 0;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("supports no device");
  t.devices = VG_DEVICES_CPU;
  VG_ASSERT_OK(vg_registry_add(reg, &t));
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("registered twice");
  assert_ptr_equal(vg_registry_find(reg, "x"), &t);
  vg_registry_free(reg);
  /* the built-in table is valid, and holds no test node */
  VG_ASSERT_OK(vg_registry_create(&reg));
  assert_int_equal(vg_registry_count(reg), 0);
  VG_ASSERT_OK(vg_nodes_register_builtin(reg));
  assert_true(vg_registry_count(reg) >= 20);
  assert_non_null(vg_registry_find(reg, "json_sink"));
  assert_null(vg_registry_find(reg, "test_source"));
  assert_null(vg_registry_find(reg, "pass"));
  assert_int_equal(vg_nodes_register_builtin(reg), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("registered twice");
  vg_registry_free(reg);
  /* no registry: a clear error */
  vg_graph *g = NULL;
  assert_int_equal(vg_graph_load_string("nodes: []\n", "g.yaml", NULL, 0, NULL, &g),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("no node registry");
  char buf[64];
  assert_string_equal(vg_port_types_str(VG_PORT_FRAME | VG_PORT_OBJECTS, buf, sizeof buf),
                      "frame|objects");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_forms),
      cmocka_unit_test(test_unknown_type),
      cmocka_unit_test(test_unknown_ports),
      cmocka_unit_test(test_unconnected_required),
      cmocka_unit_test(test_type_mismatch),
      cmocka_unit_test(test_cycle),
      cmocka_unit_test(test_duplicate_id),
      cmocka_unit_test(test_bad_node_keys),
      cmocka_unit_test(test_document_shape),
      cmocka_unit_test(test_source_joins),
      cmocka_unit_test(test_placement),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_param_errors_at_run_create),
      cmocka_unit_test(test_registry_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
