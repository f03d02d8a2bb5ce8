/* YAML config tree: typed getters, positions in messages, malformed input. */
#include "vg_test.h"

#include <unistd.h>

static const char *DOC = "name: plates\n"
                         "threads: 4\n"
                         "nodes:\n"
                         "  - id: det\n"
                         "    params:\n"
                         "      threshold: high\n"
                         "      scale: 0.5\n"
                         "      enabled: yes\n"
                         "  - id: rec\n"
                         "    params: {batch: 8, labels: [a, b]}\n"
                         "empty: ~\n"
                         "quoted: \"~\"\n";

static void test_tree_and_getters(void **st) {
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(DOC, strlen(DOC), "plates.yaml", &c));
  const vg_cnode *root = vg_config_root(c);
  assert_int_equal(vg_cnode_get_kind(root), VG_CNODE_MAP);
  const char *name;
  VG_ASSERT_OK(vg_cfg_string(root, "name", true, NULL, &name));
  assert_string_equal(name, "plates");
  int64_t threads;
  VG_ASSERT_OK(vg_cfg_int(root, "threads", true, 0, &threads));
  assert_int_equal(threads, 4);
  int64_t missing;
  VG_ASSERT_OK(vg_cfg_int(root, "missing", false, 17, &missing));
  assert_int_equal(missing, 17);
  const vg_cnode *nodes = vg_cnode_get(root, "nodes");
  assert_int_equal(vg_cnode_len(nodes), 2);
  const vg_cnode *params = vg_cnode_get(vg_cnode_at(nodes, 0), "params");
  assert_string_equal(vg_cnode_path(params), "nodes[0].params");
  double scale;
  VG_ASSERT_OK(vg_cfg_double(params, "scale", true, 0, &scale));
  assert_float_equal(scale, 0.5, 1e-12);
  bool en;
  VG_ASSERT_OK(vg_cfg_bool(params, "enabled", true, false, &en));
  assert_true(en);
  /* wrong type names file, line, column and path */
  double th;
  assert_int_equal(vg_cfg_double(params, "threshold", true, 0, &th), VG_ERR_PARSE);
  assert_string_equal(vg_last_error(),
                      "plates.yaml:6:18: nodes[0].params.threshold: expected a number, got 'high'");
  /* missing required key names the map */
  assert_int_equal(vg_cfg_int(params, "batch", true, 0, &threads), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("plates.yaml:6:7: nodes[0].params: missing required key 'batch'");
  const vg_cnode *p2 = vg_cnode_get(vg_cnode_at(nodes, 1), "params");
  int64_t batch;
  VG_ASSERT_OK(vg_cfg_int_range(p2, "batch", true, 0, 1, 64, &batch));
  assert_int_equal(batch, 8);
  assert_int_equal(vg_cfg_int_range(p2, "batch", true, 0, 1, 4, &batch), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("batch = 8 is outside 1..4");
  const vg_cnode *labels = vg_cnode_get(p2, "labels");
  assert_string_equal(vg_cnode_scalar(vg_cnode_at(labels, 1)), "b");
  assert_string_equal(vg_cnode_path(vg_cnode_at(labels, 1)), "nodes[1].params.labels[1]");
  assert_int_equal(vg_cfg_string(p2, "labels", true, NULL, &name), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("expected text, got a list");
  assert_true(vg_cnode_is_null(vg_cnode_get(root, "empty")));
  assert_false(vg_cnode_is_null(vg_cnode_get(root, "quoted")));
  assert_int_equal(vg_cfg_bool(root, "name", true, false, &en), VG_ERR_PARSE);
  vg_config_free(c);
}

static void expect_parse_error(const char *text, const char *needle) {
  vg_config *c = NULL;
  vg_status s = vg_config_load_string(text, strlen(text), "bad.yaml", &c);
  if (s == VG_OK) fail_msg("'%s' parsed", text);
  assert_null(c);
  if (!strstr(vg_last_error(), needle))
    fail_msg("'%s' -> '%s' lacks '%s'", text, vg_last_error(), needle);
}

static void test_malformed(void **st) {
  expect_parse_error("a: [1, 2\n", "bad.yaml:2:1: YAML syntax error");
  expect_parse_error("a: 1\n  b: 2\n", "bad.yaml:2:4: YAML syntax error");
  expect_parse_error("a: 1\na: 2\n", "bad.yaml:2:1: a: duplicate key 'a'");
  expect_parse_error("", "the document is empty");
  expect_parse_error("a: &x 1\nb: *x\n", "YAML aliases");
  expect_parse_error("a: 1\n---\nb: 2\n", "more than one YAML document");
  expect_parse_error("{[1]: 2}", "map keys must be plain text");
  expect_parse_error("\"unterminated", "YAML syntax error");
  char deep[400];
  memset(deep, '[', 200);
  deep[200] = 0;
  expect_parse_error(deep, "nesting deeper than");
  /* binary garbage */
  char garbage[256];
  for (int i = 0; i < 256; i++)
    garbage[i] = (char)(i * 37 + 11);
  vg_config *c = NULL;
  if (vg_config_load_string(garbage, sizeof garbage, "garbage", &c) == VG_OK) vg_config_free(c);
}

static void test_json_and_files(void **st) {
  const char *json = "{\"nodes\": [{\"id\": \"a\", \"n\": 3}], \"ok\": true}";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(json, strlen(json), "g.json", &c));
  int64_t n;
  VG_ASSERT_OK(
      vg_cfg_int(vg_cnode_at(vg_cnode_get(vg_config_root(c), "nodes"), 0), "n", true, 0, &n));
  assert_int_equal(n, 3);
  vg_config_free(c);
  assert_int_equal(vg_config_load_file("/no/such.yaml", &c), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("/no/such.yaml");
  char path[] = "/tmp/vg_cfg_XXXXXX";
  int fd = mkstemp(path);
  assert_int_equal(write(fd, "x: 1\ny: [\n", 10), 10);
  close(fd);
  assert_int_equal(vg_config_load_file(path, &c), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS(path);
  unlink(path);
}

/* 200,000 keys in one map parse in linear time (a hash index; the linear duplicate check took
 * minutes) and lookups, the duplicate check and the error on a late duplicate still work. */
static void test_many_keys(void **st) {
  const int n = 200000;
  size_t cap = (size_t)n * 24 + 64, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, cap - len, "key%d: %d\n", i, i);
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(text, len, "big.yaml", &c));
  const vg_cnode *root = vg_config_root(c);
  assert_int_equal(vg_cnode_len(root), n);
  int64_t v;
  VG_ASSERT_OK(vg_cfg_int(root, "key0", true, 0, &v));
  assert_int_equal(v, 0);
  VG_ASSERT_OK(vg_cfg_int(root, "key199999", true, 0, &v));
  assert_int_equal(v, 199999);
  VG_ASSERT_OK(vg_cfg_int(root, "key123457", true, 0, &v));
  assert_int_equal(v, 123457);
  assert_null(vg_cnode_get(root, "key200000"));
  assert_string_equal(vg_cnode_key_at(root, 4711), "key4711");
  vg_config_free(c);
  len += (size_t)snprintf(text + len, cap - len, "key77: again\n");
  assert_int_equal(vg_config_load_string(text, len, "big.yaml", &c), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("big.yaml:200001:1: key77: duplicate key 'key77'");
  free(text);
  /* maps just above and below the index threshold behave alike */
  for (int k = 1; k < 40; k++) {
    char small[2048];
    size_t m = 0;
    for (int i = 0; i < k; i++)
      m += (size_t)snprintf(small + m, sizeof small - m, "k%d: %d\n", i, i);
    VG_ASSERT_OK(vg_config_load_string(small, m, "s.yaml", &c));
    for (int i = 0; i < k; i++) {
      char key[16];
      snprintf(key, sizeof key, "k%d", i);
      VG_ASSERT_OK(vg_cfg_int(vg_config_root(c), key, true, -1, &v));
      assert_int_equal(v, i);
    }
    assert_null(vg_cnode_get(vg_config_root(c), "k99"));
    vg_config_free(c);
    m += (size_t)snprintf(small + m, sizeof small - m, "k%d: dup\n", k - 1);
    assert_int_equal(vg_config_load_string(small, m, "s.yaml", &c), VG_ERR_PARSE);
    VG_ASSERT_MSG_HAS("duplicate key");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_and_getters),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_json_and_files),
      cmocka_unit_test(test_many_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
