/* test_graph_params.c - node parameter tables: values, defaults and ranges land in the state
 * struct, unknown keys and bad values are rejected with one exact message format (the file
 * position first, then "node 'id' (type): " once), a failed init and a failed process call give
 * exact messages too, destroy runs after a failed init, bad tables are refused at registration,
 * the text forms the docs print, and vg_node_stat_add counters in the summary. */
#include "vg_test.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>

#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"
#include "vidgraph/vg_track.h"
#include "vg_test_nodes.h"

/* ----------------------------------------------------------------------------- a typed node */

typedef struct probe_state {
  bool flag;
  int n;
  int64_t big;
  float f;
  double d;
  const char *name;
  int mode;
  float rgb[3];
  int hooked;
  bool fail_init;
} probe_state;

static atomic_int g_destroyed, g_inited;

static vg_status hook_twice(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  int64_t v = 0;
  VG_TRY(vg_cfg_int(params, p->name, false, 21, &v));
  *(int *)field = (int)(2 * v);
  return VG_OK;
}

static const char *const k_modes[] = {"fast", "exact", "off", NULL};

static const vg_param k_probe_params[] = {
    VG_P_BOOL(probe_state, flag, "flag", true, "a flag"),
    VG_P_INT(probe_state, n, "n", 3, 1, 10, "a small int"),
    VG_P_INT64(probe_state, big, "big", 5000000000LL, 0, 0, "any int64"),
    VG_P_FLOAT(probe_state, f, "f", 0.25, 0, 1, "a fraction"),
    VG_P_DOUBLE(probe_state, d, "d", -2.5, 0, 0, "any number"),
    VG_P_STRING(probe_state, name, "name", "dflt", "a string"),
    VG_P_ENUM(probe_state, mode, "mode", "exact", k_modes, "a choice"),
    VG_P_FLOATS(probe_state, rgb, "rgb", 3, "1, 2, 3", 0, 255, "a colour"),
    VG_P_CUSTOM(probe_state, hooked, "twice", hook_twice, "doubled"),
    VG_P_BOOL(probe_state, fail_init, "fail_init", false, "make init fail"),
    {0}};

static probe_state g_seen;
static char g_name[32]; /* g_seen.name points into the spec, freed with its graph */

static vg_status probe_init(vg_node *self, const vg_cnode *params, void **state) {
  probe_state *s = *state;
  atomic_fetch_add(&g_inited, 1);
  g_seen = *s;
  snprintf(g_name, sizeof g_name, "%s", s->name);
  if (s->fail_init) return vg_set_error(VG_ERR_BACKEND, "init failed as asked");
  return VG_OK;
}

static void probe_destroy(void *state) {
  (void)state;
  atomic_fetch_add(&g_destroyed, 1);
}

static vg_status probe_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    c->io[i].out[0] = vg_packet_ref(c->io[i].in[0]);
  return VG_OK;
}

static const vg_node_type probe_type = {
    .name = "probe",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .params = k_probe_params,
    .state_size = sizeof(probe_state),
    .init = probe_init,
    .process = probe_process,
    .destroy = probe_destroy,
};

/* A node whose process fails through vg_node_error. */
static vg_status boom_process(vg_call *c) {
  return vg_node_error(c->node, VG_ERR_BACKEND, "boom on frame %lld",
                       (long long)vg_packet_frame_no(c->io[0].in[0]));
}

static const vg_node_type boom_type = {
    .name = "boom",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .process = boom_process,
};

/* A node that counts through vg_node_stat_add (its own counter and copies). */
static vg_status counting_process(vg_call *c) {
  for (int i = 0; i < c->n; i++) {
    vg_node_stat_add(c->node, VG_STAT_NODE0, 1);
    vg_node_stat_add(c->node, VG_STAT_COPIES, 2);
    vg_node_stat_add(c->node, VG_STAT_COPY_BYTES, 100);
    c->io[i].out[0] = vg_packet_ref(c->io[i].in[0]);
  }
  return VG_OK;
}

static char *counting_describe(void *state) {
  (void)state;
  return strdup("{\"kind\":\"counting\"}");
}

static const vg_node_type counting_type = {
    .name = "counting",
    .inputs = {{"in", VG_PORT_ANY}},
    .outputs = {{"out", VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .process = counting_process,
    .describe = counting_describe,
    .stats = {"seen"},
};

static vg_registry *registry(void) {
  vg_registry *reg;
  VG_ASSERT_OK(vg_test_registry_create(&reg));
  VG_ASSERT_OK(vg_registry_add(reg, &probe_type));
  VG_ASSERT_OK(vg_registry_add(reg, &boom_type));
  VG_ASSERT_OK(vg_registry_add(reg, &counting_type));
  return reg;
}

/* Loads "nodes: [src, {id: p, type: TYPE, params: PARAMS}]" and creates a run: returns its
 * status; the run (if any) is destroyed. */
static vg_status create_with(vg_registry *reg, const char *type, const char *params) {
  char yaml[1024];
  if (strcmp(type, "test_source") == 0) /* the source itself */
    snprintf(yaml, sizeof yaml, "nodes:\n  - {id: p, type: test_source, params: %s}\n", params);
  else
    snprintf(yaml, sizeof yaml,
             "nodes:\n"
             "  - {id: src, type: test_source, params: {count: 1}}\n"
             "  - {id: p, type: %s, params: %s}\n"
             "edges: [src -> p]\n",
             type, params);
  vg_graph *g = NULL;
  if (vg_graph_load_string(yaml, "g.yaml", NULL, 0, reg, &g) != VG_OK)
    fail_msg("load: %s", vg_last_error());
  vg_run *r = NULL;
  vg_status s = vg_run_create(g, NULL, &r);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", vg_last_error());
  vg_run_destroy(r);
  vg_graph_free(g);
  if (s != VG_OK) vg_set_error(s, "%s", msg);
  return s;
}

static void expect_message(vg_registry *reg, const char *type, const char *params, vg_status want,
                           const char *message) {
  assert_int_equal(create_with(reg, type, params), want);
  if (strcmp(vg_last_error(), message) != 0)
    fail_msg("message\n  got:  %s\n  want: %s", vg_last_error(), message);
}

/* ----------------------------------------------------------------------------- tests */

static void test_defaults_and_values(void **state) {
  (void)state;
  vg_registry *reg = registry();
  VG_ASSERT_OK(create_with(reg, "probe", "{}"));
  assert_true(g_seen.flag);
  assert_int_equal(g_seen.n, 3);
  assert_true(g_seen.big == 5000000000LL);
  assert_float_equal(g_seen.f, 0.25, 0);
  assert_float_equal(g_seen.d, -2.5, 0);
  assert_string_equal(g_name, "dflt");
  assert_int_equal(g_seen.mode, 1);
  assert_float_equal(g_seen.rgb[0], 1, 0);
  assert_float_equal(g_seen.rgb[2], 3, 0);
  assert_int_equal(g_seen.hooked, 42);

  VG_ASSERT_OK(create_with(reg, "probe",
                           "{flag: false, n: 10, big: -7, f: 1, d: 1e9, name: x, mode: off, "
                           "rgb: [0, 128, 255], twice: 4}"));
  assert_false(g_seen.flag);
  assert_int_equal(g_seen.n, 10);
  assert_true(g_seen.big == -7);
  assert_float_equal(g_seen.f, 1, 0);
  assert_float_equal(g_seen.d, 1e9, 0);
  assert_string_equal(g_name, "x");
  assert_int_equal(g_seen.mode, 2);
  assert_float_equal(g_seen.rgb[1], 128, 0);
  assert_int_equal(g_seen.hooked, 8);
  vg_registry_free(reg);
}

static void test_exact_parameter_messages(void **state) {
  (void)state;
  vg_registry *reg = registry();
  expect_message(reg, "test_source", "{frames: 3}", VG_ERR_PARSE,
                 "g.yaml:2:49: nodes[0].params.frames: node 'p' (test_source): unknown parameter "
                 "'frames' (known: count, streams, stream_id, period_ms, width, height, eos, "
                 "first_count, sequential)");
  expect_message(reg, "probe", "{n: 11}", VG_ERR_PARSE,
                 "g.yaml:3:38: nodes[1].params.n: node 'p' (probe): n = 11 is outside 1..10");
  expect_message(reg, "probe", "{mode: slow}", VG_ERR_PARSE,
                 "g.yaml:3:41: nodes[1].params.mode: node 'p' (probe): mode must be fast, exact "
                 "or off, got 'slow'");
  expect_message(reg, "probe", "{rgb: [1, 2]}", VG_ERR_PARSE,
                 "g.yaml:3:40: nodes[1].params.rgb: node 'p' (probe): expected a list of 3 "
                 "numbers");
  expect_message(reg, "probe", "{rgb: [1, 2, 300]}", VG_ERR_PARSE,
                 "g.yaml:3:47: nodes[1].params.rgb[2]: node 'p' (probe): rgb values are 0..255, "
                 "got 300");
  expect_message(reg, "probe", "{flag: maybe}", VG_ERR_PARSE,
                 "g.yaml:3:41: nodes[1].params.flag: node 'p' (probe): expected true or false, "
                 "got 'maybe'");
  vg_registry_free(reg);
}

static void test_failed_init_message_and_destroy(void **state) {
  (void)state;
  vg_registry *reg = registry();
  int destroyed = atomic_load(&g_destroyed);
  expect_message(reg, "probe", "{fail_init: true}", VG_ERR_BACKEND,
                 "g.yaml:3:5: nodes[1]: node 'p' (probe): init failed as asked");
  assert_int_equal(atomic_load(&g_destroyed), destroyed + 1);

  /* a bad value: init never ran, destroy still did (state existed) */
  int inited = atomic_load(&g_inited);
  destroyed = atomic_load(&g_destroyed);
  assert_int_equal(create_with(reg, "probe", "{n: 0}"), VG_ERR_PARSE);
  assert_int_equal(atomic_load(&g_inited), inited);
  assert_int_equal(atomic_load(&g_destroyed), destroyed + 1);

  /* a successful run destroys once too */
  destroyed = atomic_load(&g_destroyed);
  VG_ASSERT_OK(create_with(reg, "probe", "{}"));
  assert_int_equal(atomic_load(&g_destroyed), destroyed + 1);
  vg_registry_free(reg);
}

static void test_failed_process_message(void **state) {
  (void)state;
  vg_registry *reg = registry();
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n"
                                    "  - {id: src, type: test_source, params: {count: 3}}\n"
                                    "  - {id: b, type: boom}\n"
                                    "edges: [src -> b]\n",
                                    "g.yaml", NULL, 0, reg, &g));
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  assert_int_equal(vg_run_wait(r, 30000), VG_ERR_BACKEND);
  assert_string_equal(vg_last_error(), "node 'b' (boom): boom on frame 0");
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_string_equal(s.error, "node 'b' (boom): boom on frame 0");
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);

  vg_registry_free(reg);
}

static void test_bad_tables_refused(void **state) {
  (void)state;
  vg_registry *reg;
  VG_ASSERT_OK(vg_registry_create(&reg));
  static const vg_param no_doc[] = {{.name = "x", .type = VG_PARAM_INT, .offset = 0}, {0}};
  static const vg_param outside[] = {VG_P_INT(probe_state, n, "n", 0, 0, 1, "n"), {0}};
  static const vg_param twice[] = {VG_P_INT(probe_state, n, "n", 0, 0, 1, "n"),
                                   VG_P_INT(probe_state, n, "n", 0, 0, 1, "n"),
                                   {0}};
  static const vg_param no_choices[] = {
      {.name = "m", .type = VG_PARAM_ENUM, .offset = 0, .doc = "m"}, {0}};
  vg_node_type t = probe_type;
  t.params = no_doc;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("parameter 'x': no doc");
  t.params = outside;
  t.state_size = 2;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("its offset is outside the state");
  t.state_size = sizeof(probe_state);
  t.params = twice;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("declared twice");
  t.params = no_choices;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("enum without choices");
  t.params = k_probe_params;
  t.state_size = 0;
  assert_int_equal(vg_registry_add(reg, &t), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("has parameters but no state_size");
  vg_registry_free(reg);
}

static void test_counters_in_summary(void **state) {
  (void)state;
  vg_registry *reg = registry();
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string("nodes:\n"
                                    "  - {id: src, type: test_source, params: {count: 4}}\n"
                                    "  - {id: c, type: counting}\n"
                                    "edges: [src -> c]\n",
                                    "g.yaml", NULL, 0, reg, &g));
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  VG_ASSERT_OK(vg_run_wait(r, 30000));
  vg_run_summary s;
  VG_ASSERT_OK(vg_run_get_summary(r, &s));
  assert_int_equal(s.nodes[1].copies, 8);
  assert_int_equal(s.nodes[1].copy_bytes, 400);
  assert_string_equal(s.nodes[1].detail, "{\"kind\":\"counting\",\"seen\":4}");
  assert_int_equal(s.nodes[0].copies, 0);
  char *j = vg_run_summary_json(&s);
  assert_non_null(strstr(j, "\"copies\":8,\"copy_bytes\":400"));
  free(j);
  vg_run_summary_free(&s);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

/* ----------------------------------------------------------------------------- group tables */

typedef vg_status (*layer_reader)(const vg_cnode *map, void *out);

static vg_status read_tracker(const vg_cnode *m, void *out) {
  return vg_tracker_params_from_config(m, out);
}

static vg_status read_dbnet(const vg_cnode *m, void *out) {
  return vg_dbnet_params_from_config(m, out);
}

static vg_status read_fatigue(const vg_cnode *m, void *out) {
  return vg_fatigue_params_from_config(m, out);
}

/* Does the layer accept "{key: value}"? */
static vg_status layer_reads(layer_reader read, const char *key, double value, void *out) {
  char text[128];
  snprintf(text, sizeof text, "{%s: %.17g}", key, value);
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(text, strlen(text), "t.yaml", &c));
  vg_status s = read(vg_config_root(c), out);
  vg_config_free(c);
  return s;
}

/* The key table a node type documents for a layer's group agrees with the layer: same defaults
 * (read from the layer's struct at each offset), and values outside each range are refused. */
static void check_group(const char *type, const char *group, layer_reader read, size_t size) {
  const vg_node_type *t = vg_registry_find(vg_test_registry(), type);
  assert_non_null(t);
  const vg_param *g = NULL;
  for (const vg_param *p = t->params; p->name; p++)
    if (p->type == VG_PARAM_GROUP && strcmp(p->name, group) == 0) g = p;
  assert_non_null(g);
  assert_non_null(g->sub);
  char *def = calloc(1, size), *tmp = calloc(1, size);
  VG_ASSERT_OK(read(NULL, def));
  for (const vg_param *q = g->sub; q->name; q++) {
    const char *f = def + q->offset;
    double got = q->type == VG_PARAM_FLOAT    ? *(const float *)f
                 : q->type == VG_PARAM_DOUBLE ? *(const double *)f
                 : q->type == VG_PARAM_INT    ? *(const int *)f
                 : q->type == VG_PARAM_BOOL   ? *(const bool *)f
                                              : NAN;
    double want =
        q->type == VG_PARAM_FLOAT || q->type == VG_PARAM_DOUBLE ? q->fdef : (double)q->idef;
    if (fabs(got - want) > 1e-6)
      fail_msg("%s.%s: default %g, layer says %g", group, q->name, want, got);
    if (q->type == VG_PARAM_BOOL) continue;
    double lo = q->type == VG_PARAM_INT ? (double)q->imin : q->fmin;
    double hi = q->type == VG_PARAM_INT ? (double)q->imax : q->fmax;
    double step = q->type == VG_PARAM_INT ? 1 : (hi - lo) / 100;
    if (layer_reads(read, q->name, lo - step, tmp) == VG_OK ||
        layer_reads(read, q->name, hi + step, tmp) == VG_OK)
      fail_msg("%s.%s: the layer accepts values outside %g..%g", group, q->name, lo, hi);
    /* the bounds are in its range (another key's rule, e.g. low <= high, may still refuse one) */
    for (int b = 0; b < 2; b++)
      if (layer_reads(read, q->name, b ? hi : lo, tmp) != VG_OK &&
          strstr(vg_last_error(), "outside"))
        fail_msg("%s.%s: the layer refuses %g: %s", group, q->name, b ? hi : lo, vg_last_error());
  }
  free(def);
  free(tmp);
}

static void test_group_tables_match_layers(void **state) {
  (void)state;
  check_group("track", "tracker", read_tracker, sizeof(vg_tracker_params));
  check_group("fatigue", "fatigue", read_fatigue, sizeof(vg_fatigue_params));
  check_group("text_detect_decode", "dbnet", read_dbnet, sizeof(vg_dbnet_params));
}

static void test_text_forms(void **state) {
  (void)state;
  char b[128];
  const vg_param *p = k_probe_params;
  assert_string_equal(vg_param_type_name(&p[0], b, sizeof b), "bool");
  assert_string_equal(vg_param_default_str(&p[0], b, sizeof b), "true");
  assert_string_equal(vg_param_range_str(&p[1], b, sizeof b), "1..10");
  assert_string_equal(vg_param_range_str(&p[2], b, sizeof b), "");
  assert_string_equal(vg_param_default_str(&p[3], b, sizeof b), "0.25");
  assert_string_equal(vg_param_range_str(&p[6], b, sizeof b), "fast|exact|off");
  assert_string_equal(vg_param_default_str(&p[6], b, sizeof b), "exact");
  assert_string_equal(vg_param_type_name(&p[7], b, sizeof b), "list of 3 numbers");
  assert_string_equal(vg_param_default_str(&p[7], b, sizeof b), "[1, 2, 3]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_values),
      cmocka_unit_test(test_exact_parameter_messages),
      cmocka_unit_test(test_failed_init_message_and_destroy),
      cmocka_unit_test(test_failed_process_message),
      cmocka_unit_test(test_bad_tables_refused),
      cmocka_unit_test(test_counters_in_summary),
      cmocka_unit_test(test_text_forms),
      cmocka_unit_test(test_group_tables_match_layers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
