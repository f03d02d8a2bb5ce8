/* fuzz_config_set.c - libFuzzer target: the config tree and --set overrides. The input is a
 * document, then (after each NUL byte) one "path=value" override, at most 8. The document is
 * parsed with vg_config_load_string, every node is visited through the getters and the typed
 * reads, the overrides are applied with vg_spec_apply_overrides and the result is visited too. */
#include "fuzz_util.h"
#include "vidgraph/vg_graph.h"

#define MAX_SETS 8

/* Touches every node the way the layers above do (positions, paths, typed reads). */
static void visit(const vg_cnode *n, int depth) {
  char where[256];
  (void)vg_cnode_where(n, where, sizeof where);
  (void)vg_cnode_path(n);
  if (vg_cnode_line(n) < 1 || vg_cnode_col(n) < 1) abort();
  if (depth > 200) return; /* the parser bounds depth; this only keeps the stack small */
  switch (vg_cnode_get_kind(n)) {
  case VG_CNODE_SCALAR: {
    int64_t i;
    double d;
    bool b;
    const char *s;
    (void)vg_cnode_as_int(n, &i);
    (void)vg_cnode_as_double(n, &d);
    (void)vg_cnode_as_bool(n, &b);
    (void)vg_cnode_as_string(n, &s);
    (void)vg_cnode_is_null(n);
    break;
  }
  case VG_CNODE_MAP:
    for (size_t i = 0; i < vg_cnode_len(n); i++) {
      const char *key = vg_cnode_key_at(n, i);
      if (!key || vg_cnode_get(n, key) == NULL) abort();
      int64_t iv;
      (void)vg_cfg_int_range(n, key, false, 0, -5, 5, &iv);
      visit(vg_cnode_at(n, i), depth + 1);
    }
    break;
  case VG_CNODE_SEQ:
    for (size_t i = 0; i < vg_cnode_len(n); i++)
      visit(vg_cnode_at(n, i), depth + 1);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  char *text = fuzz_cstr(data, size);
  if (!text) return 0;
  size_t doc_len = strlen(text);
  const char *sets[MAX_SETS];
  int nsets = 0;
  for (size_t at = doc_len + 1; at < size + 1 && nsets < MAX_SETS;) {
    sets[nsets++] = text + at;
    at += strlen(text + at) + 1;
  }
  vg_config *doc = NULL;
  if (vg_config_load_string(text, doc_len, "fuzz.yaml", &doc) == VG_OK) {
    visit(vg_config_root(doc), 0);
    vg_config *out = NULL;
    if (vg_spec_apply_overrides(doc, sets, nsets, &out) == VG_OK) {
      visit(vg_config_root(out), 0);
      vg_config_free(out);
    } else if (vg_last_error()[0] == '\0') {
      abort();
    }
    vg_config_free(doc);
  } else if (vg_last_error()[0] == '\0') {
    abort();
  }
  free(text);
  return 0;
}
