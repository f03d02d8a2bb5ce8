/* overrides.c - `--set path=value` overrides of a spec document. The config tree of core is
 * read-only, so an override re-emits the document as JSON (a subset of YAML) with the one value
 * replaced, then parses it again. The emitter pads with newlines so that every node keeps its
 * original line (columns are approximate), hence later validation messages still point at the
 * right line of the user's file. */
#include "vidgraph/vg_graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SET_LEN 4096
#define MAX_SEGMENTS 32

/* ----------------------------------------------------------------------------- emitter */

typedef struct emitter {
  char *buf;
  size_t len, cap;
  int line, col;
  bool oom;
} emitter;

static void put_n(emitter *e, const char *s, size_t n) {
  if (e->oom) return;
  if (e->len + n + 1 > e->cap) {
    size_t cap = e->cap ? e->cap : 4096;
    while (cap < e->len + n + 1)
      cap *= 2;
    char *b = realloc(e->buf, cap);
    if (!b) {
      e->oom = true;
      return;
    }
    e->buf = b;
    e->cap = cap;
  }
  memcpy(e->buf + e->len, s, n);
  e->len += n;
  e->buf[e->len] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n') {
      e->line++;
      e->col = 1;
    } else {
      e->col++;
    }
  }
}

static void put(emitter *e, const char *s) {
  put_n(e, s, strlen(s));
}

/* Moves the output forward to (line, col) when it is not past it already. */
static void pad_to(emitter *e, int line, int col) {
  while (e->line < line && !e->oom)
    put(e, "\n");
  while (e->line == line && e->col < col && !e->oom)
    put(e, " ");
}

static void put_quoted(emitter *e, const char *s) {
  put(e, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      put_n(e, esc, 2);
    } else if (*p < 0x20 || *p == 0x7f) {
      snprintf(esc, sizeof esc, "\\x%02x", *p);
      put(e, esc);
    } else {
      put_n(e, (const char *)p, 1);
    }
  }
  put(e, "\"");
}

/* What to do while emitting: replace `target` by `value`, or add `keys` (a chain of nested map
 * keys) holding `value` at the end of map `parent`. */
typedef struct edit {
  const vg_cnode *target;
  const vg_cnode *parent;
  char *keys[MAX_SEGMENTS];
  int nkeys;
  const vg_cnode *value; /* NULL = null */
} edit;

static void emit_node(emitter *e, const vg_cnode *n, const edit *ed, int depth);

static void emit_value(emitter *e, const vg_cnode *value, int depth) {
  if (value)
    emit_node(e, value, NULL, depth + 1);
  else
    put(e, "null");
}

static void emit_added(emitter *e, const edit *ed, int depth) {
  for (int k = 0; k < ed->nkeys; k++) {
    put_quoted(e, ed->keys[k]);
    put(e, ": ");
    if (k + 1 < ed->nkeys) put(e, "{");
  }
  emit_value(e, ed->value, depth);
  for (int k = 0; k + 1 < ed->nkeys; k++)
    put(e, "}");
}

static void emit_node(emitter *e, const vg_cnode *n, const edit *ed, int depth) {
  if (ed && n == ed->target) {
    emit_value(e, ed->value, depth);
    return;
  }
  pad_to(e, vg_cnode_line(n), vg_cnode_col(n));
  vg_cnode_kind kind = vg_cnode_get_kind(n);
  if (kind == VG_CNODE_SCALAR) {
    if (vg_cnode_is_null(n))
      put(e, "null");
    else
      put_quoted(e, vg_cnode_scalar(n));
    return;
  }
  bool map = kind == VG_CNODE_MAP;
  size_t len = vg_cnode_len(n);
  put(e, map ? "{" : "[");
  for (size_t i = 0; i < len; i++) {
    const vg_cnode *kid = vg_cnode_at(n, i);
    if (i) put(e, ",");
    if (map) {
      const char *key = vg_cnode_key_at(n, i);
      int back = (int)strlen(key) + 4;
      int col = vg_cnode_col(kid) - back;
      pad_to(e, vg_cnode_line(kid), col < 1 ? 1 : col);
      put_quoted(e, key);
      put(e, ": ");
    }
    emit_node(e, kid, ed, depth);
  }
  if (ed && map && n == ed->parent) {
    if (len) put(e, ",");
    emit_added(e, ed, depth);
  }
  put(e, map ? "}" : "]");
}

/* ----------------------------------------------------------------------------- path lookup */

static bool is_index(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

static const vg_cnode *seq_element(const vg_cnode *seq, const char *seg) {
  if (is_index(seg)) {
    size_t i = (size_t)strtoul(seg, NULL, 10);
    return vg_cnode_at(seq, i);
  }
  for (size_t i = 0; i < vg_cnode_len(seq); i++) {
    const vg_cnode *el = vg_cnode_at(seq, i);
    const char *id = vg_cnode_scalar(vg_cnode_get(el, "id"));
    if (id && strcmp(id, seg) == 0) return el;
  }
  return NULL;
}

/* Splits "a.b.c" into segments (in place). */
static vg_status split_path(char *path, char **segs, int *nseg, const char *set) {
  *nseg = 0;
  for (char *tok = path, *next; tok; tok = next) {
    next = strchr(tok, '.');
    if (next) *next++ = '\0';
    if (!*tok) return vg_set_error(VG_ERR_INVALID_ARG, "--set '%s': empty path segment", set);
    if (*nseg == MAX_SEGMENTS)
      return vg_set_error(VG_ERR_INVALID_ARG, "--set '%s': path deeper than %d", set, MAX_SEGMENTS);
    segs[(*nseg)++] = tok;
  }
  return VG_OK;
}

/* Resolves the path against the document into a replace target or an add-to-map edit. */
static vg_status resolve(const vg_config *doc, char **segs, int nseg, const char *set, edit *ed) {
  const vg_cnode *cur = vg_config_root(doc);
  char where[256];
  for (int i = 0; i < nseg; i++) {
    vg_cnode_kind kind = vg_cnode_get_kind(cur);
    const vg_cnode *next = NULL;
    if (kind == VG_CNODE_MAP) {
      next = vg_cnode_get(cur, segs[i]);
      if (!next) {
        ed->parent = cur;
        for (int k = i; k < nseg; k++)
          ed->keys[ed->nkeys++] = segs[k];
        return VG_OK;
      }
    } else if (kind == VG_CNODE_SEQ) {
      next = seq_element(cur, segs[i]);
      if (!next)
        return vg_set_error(VG_ERR_NOT_FOUND,
                            "--set '%s': %s: %s has no element '%s' (an index "
                            "or the id of an element)",
                            set, vg_cnode_where(cur, where, sizeof where),
                            vg_cnode_path(cur)[0] ? vg_cnode_path(cur) : "(root)", segs[i]);
    } else {
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "--set '%s': %s: %s is a value, not a map or list; "
                          "cannot set '%s' inside it",
                          set, vg_cnode_where(cur, where, sizeof where), vg_cnode_path(cur),
                          segs[i]);
    }
    cur = next;
  }
  if (cur == vg_config_root(doc))
    return vg_set_error(VG_ERR_INVALID_ARG, "--set '%s': cannot replace the whole document", set);
  ed->target = cur;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- one override */

static vg_status apply_one(const vg_config *doc, const char *set, vg_config **out) {
  *out = NULL;
  size_t len = strlen(set);
  const char *eq = strchr(set, '=');
  if (len > MAX_SET_LEN)
    return vg_set_error(VG_ERR_INVALID_ARG, "--set longer than %d bytes", MAX_SET_LEN);
  if (!eq || eq == set)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "--set '%s': expected path=value, e.g. "
                        "nodes.det.params.conf=0.4",
                        set);
  char path[MAX_SET_LEN + 1];
  memcpy(path, set, (size_t)(eq - set));
  path[eq - set] = '\0';
  char *segs[MAX_SEGMENTS];
  int nseg;
  edit ed = {0};
  VG_TRY(split_path(path, segs, &nseg, set));
  VG_TRY(resolve(doc, segs, nseg, set, &ed));

  vg_config *value = NULL;
  const char *vtext = eq + 1;
  bool blank = true;
  for (const char *p = vtext; *p; p++)
    blank = blank && isspace((unsigned char)*p);
  if (!blank) {
    char name[96];
    snprintf(name, sizeof name, "--set %.*s", (int)(eq - set), set);
    VG_TRY(vg_config_load_string(vtext, strlen(vtext), name, &value));
    ed.value = vg_config_root(value);
  }
  emitter e = {.line = 1, .col = 1};
  emit_node(&e, vg_config_root(doc), &ed, 0);
  vg_status s = VG_OK;
  if (e.oom)
    s = vg_set_error(VG_ERR_NO_MEMORY, "out of memory applying --set");
  else
    s = vg_config_load_string(e.buf, e.len, vg_config_name(doc), out);
  if (s != VG_OK && !e.oom) s = vg_wrap_error(s, "--set '%s'", set);
  free(e.buf);
  vg_config_free(value);
  return s;
}

/* Re-emits doc unchanged (a copy the caller owns). */
static vg_status copy_doc(const vg_config *doc, vg_config **out) {
  emitter e = {.line = 1, .col = 1};
  emit_node(&e, vg_config_root(doc), NULL, 0);
  vg_status s = e.oom ? vg_set_error(VG_ERR_NO_MEMORY, "out of memory copying a spec")
                      : vg_config_load_string(e.buf, e.len, vg_config_name(doc), out);
  free(e.buf);
  return s;
}

vg_status vg_spec_apply_overrides(const vg_config *doc, const char *const *sets, int nsets,
                                  vg_config **out) {
  *out = NULL;
  if (!doc) return vg_set_error(VG_ERR_INVALID_ARG, "vg_spec_apply_overrides: no document");
  if (nsets <= 0) return copy_doc(doc, out);
  vg_config *cur = NULL;
  for (int i = 0; i < nsets; i++) {
    vg_config *next;
    vg_status s = apply_one(cur ? cur : doc, sets[i] ? sets[i] : "", &next);
    vg_config_free(cur);
    if (s != VG_OK) return s;
    cur = next;
  }
  *out = cur;
  return VG_OK;
}
