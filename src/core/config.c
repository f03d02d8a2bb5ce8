/* config.c - YAML (and JSON, its subset) documents as a tree of positioned nodes with typed
 * getters whose errors name file, line, column and key path. Built on libyaml's event parser. */
#include "vidgraph/vg_core.h"

#include "json_out.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_CONFIG_BYTES (16u << 20)
/* Maps with more keys than this get a hash index, so that lookups (and the duplicate-key check
 * of the parser) stay O(1) and a spec with 200,000 keys parses in linear time. */
#define INDEX_FROM 8

struct vg_cnode {
  vg_cnode_kind kind;
  int line, col;
  bool quoted;
  char *scalar;
  char *path;
  size_t n, cap;
  char **keys;     /* maps */
  vg_cnode **kids; /* maps and sequences */
  size_t *index;   /* maps with more than INDEX_FROM keys: open addressing, slot = key index + 1 */
  size_t index_cap;
  const vg_config *doc;
};

struct vg_config {
  char *name;
  vg_cnode *root;
};

static void node_free(vg_cnode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n; i++) {
    node_free(n->kids[i]);
    if (n->keys) free(n->keys[i]);
  }
  free(n->kids);
  free(n->keys);
  free(n->index);
  free(n->scalar);
  free(n->path);
  free(n);
}

void vg_config_free(vg_config *c) {
  if (!c) return;
  node_free(c->root);
  free(c->name);
  free(c);
}

typedef struct {
  yaml_parser_t parser;
  vg_config *doc;
} parse_ctx;

static vg_status yaml_fail(parse_ctx *pc) {
  yaml_parser_t *p = &pc->parser;
  const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
  return vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: YAML syntax error: %s%s%s", pc->doc->name,
                      m->line + 1, m->column + 1, p->problem ? p->problem : "unknown problem",
                      p->context ? " " : "", p->context ? p->context : "");
}

static vg_status next_event(parse_ctx *pc, yaml_event_t *ev) {
  if (!yaml_parser_parse(&pc->parser, ev)) return yaml_fail(pc);
  return VG_OK;
}

static vg_cnode *new_node(parse_ctx *pc, vg_cnode_kind kind, const yaml_event_t *ev,
                          const char *path) {
  vg_cnode *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)ev->start_mark.line + 1;
  n->col = (int)ev->start_mark.column + 1;
  n->doc = pc->doc;
  n->path = strdup(path);
  if (!n->path) {
    free(n);
    return NULL;
  }
  return n;
}

/* ----------------------------------------------------------------------------- key index */

static size_t key_hash(const char *k) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)k; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h ^ (h >> 32));
}

static void index_put(size_t *index, size_t cap, const char *key, size_t i) {
  size_t slot = key_hash(key) & (cap - 1);
  while (index[slot])
    slot = (slot + 1) & (cap - 1);
  index[slot] = i + 1;
}

/* Keeps the index of a map at most half full, rebuilding it when it grows. */
static vg_status index_add(vg_cnode *m, size_t i) {
  if (m->n + 1 <= INDEX_FROM) return VG_OK;
  if (!m->index || 2 * (m->n + 1) > m->index_cap) {
    size_t cap = 64;
    while (cap < 4 * (m->n + 1))
      cap *= 2;
    size_t *idx = calloc(cap, sizeof *idx);
    if (!idx) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
    for (size_t k = 0; k < m->n; k++)
      index_put(idx, cap, m->keys[k], k);
    free(m->index);
    m->index = idx;
    m->index_cap = cap;
  }
  index_put(m->index, m->index_cap, m->keys[i], i);
  return VG_OK;
}

static vg_status add_child(vg_cnode *parent, char *key, vg_cnode *child) {
  if (parent->n == parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 4;
    vg_cnode **k = realloc(parent->kids, cap * sizeof *k);
    if (!k) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
    parent->kids = k;
    if (parent->kind == VG_CNODE_MAP) {
      char **ks = realloc(parent->keys, cap * sizeof *ks);
      if (!ks) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
      parent->keys = ks;
    }
    parent->cap = cap;
  }
  parent->kids[parent->n] = child;
  if (parent->kind == VG_CNODE_MAP) {
    parent->keys[parent->n] = key;
    VG_TRY(index_add(parent, parent->n));
  }
  parent->n++;
  return VG_OK;
}

static vg_status parse_node(parse_ctx *pc, yaml_event_t *ev, const char *path, int depth,
                            vg_cnode **out);

static vg_status parse_children(parse_ctx *pc, vg_cnode *n, int depth) {
  for (;;) {
    yaml_event_t ev;
    VG_TRY(next_event(pc, &ev));
    if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return VG_OK;
    }
    char *key = NULL;
    char path[1024];
    if (n->kind == VG_CNODE_MAP) {
      if (ev.type != YAML_SCALAR_EVENT) {
        vg_status s = vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: %s: map keys must be plain text",
                                   pc->doc->name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                   n->path[0] ? n->path : "(root)");
        yaml_event_delete(&ev);
        return s;
      }
      key = strdup((const char *)ev.data.scalar.value);
      if (!key) {
        yaml_event_delete(&ev);
        return vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
      }
      if (vg_cnode_get(n, key)) {
        vg_status s = vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: %s%s%s: duplicate key '%s'",
                                   pc->doc->name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                   n->path, n->path[0] ? "." : "", key, key);
        free(key);
        yaml_event_delete(&ev);
        return s;
      }
      snprintf(path, sizeof path, "%s%s%s", n->path, n->path[0] ? "." : "", key);
      yaml_event_delete(&ev);
      vg_status s = next_event(pc, &ev);
      if (s != VG_OK) {
        free(key);
        return s;
      }
    } else {
      snprintf(path, sizeof path, "%s[%zu]", n->path, n->n);
    }
    vg_cnode *child = NULL;
    vg_status s = parse_node(pc, &ev, path, depth + 1, &child);
    if (s == VG_OK) s = add_child(n, key, child);
    if (s != VG_OK) {
      free(key);
      node_free(child);
      return s;
    }
  }
}

/* Builds a node from ev (which it consumes) and, for collections, the events that follow. */
static vg_status parse_node(parse_ctx *pc, yaml_event_t *ev, const char *path, int depth,
                            vg_cnode **out) {
  *out = NULL;
  vg_status s = VG_OK;
  if (depth > MAX_DEPTH) {
    s = vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: nesting deeper than %d levels", pc->doc->name,
                     ev->start_mark.line + 1, ev->start_mark.column + 1, MAX_DEPTH);
  } else if (ev->type == YAML_ALIAS_EVENT) {
    s = vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: %s: YAML aliases (*%s) are not supported",
                     pc->doc->name, ev->start_mark.line + 1, ev->start_mark.column + 1, path,
                     ev->data.alias.anchor);
  } else if (ev->type == YAML_SCALAR_EVENT) {
    vg_cnode *n = new_node(pc, VG_CNODE_SCALAR, ev, path);
    if (n) {
      n->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
      n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    }
    if (!n || !n->scalar) {
      node_free(n);
      s = vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
    } else {
      *out = n;
    }
  } else if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT) {
    vg_cnode *n =
        new_node(pc, ev->type == YAML_MAPPING_START_EVENT ? VG_CNODE_MAP : VG_CNODE_SEQ, ev, path);
    if (!n) {
      s = vg_set_error(VG_ERR_NO_MEMORY, "out of memory parsing config");
    } else {
      s = parse_children(pc, n, depth);
      if (s == VG_OK)
        *out = n;
      else
        node_free(n);
    }
  } else {
    s = vg_set_error(VG_ERR_PARSE, "%s:%zu:%zu: unexpected YAML event %d", pc->doc->name,
                     ev->start_mark.line + 1, ev->start_mark.column + 1, (int)ev->type);
  }
  yaml_event_delete(ev);
  return s;
}

/* Skips stream/document start, parses the root, checks there is a single document. */
static vg_status parse_document(parse_ctx *pc) {
  yaml_event_t ev;
  VG_TRY(next_event(pc, &ev));
  if (ev.type != YAML_STREAM_START_EVENT) {
    yaml_event_delete(&ev);
    return vg_set_error(VG_ERR_PARSE, "%s: not a YAML stream", pc->doc->name);
  }
  yaml_event_delete(&ev);
  VG_TRY(next_event(pc, &ev));
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    return vg_set_error(VG_ERR_PARSE, "%s: the document is empty", pc->doc->name);
  }
  yaml_event_delete(&ev); /* document start */
  VG_TRY(next_event(pc, &ev));
  VG_TRY(parse_node(pc, &ev, "", 0, &pc->doc->root));
  VG_TRY(next_event(pc, &ev)); /* document end */
  yaml_event_delete(&ev);
  VG_TRY(next_event(pc, &ev));
  bool more = ev.type == YAML_DOCUMENT_START_EVENT;
  size_t line = ev.start_mark.line + 1;
  yaml_event_delete(&ev);
  if (more)
    return vg_set_error(VG_ERR_PARSE, "%s:%zu: more than one YAML document in the file",
                        pc->doc->name, line);
  return VG_OK;
}

vg_status vg_config_load_string(const char *text, size_t len, const char *name, vg_config **out) {
  *out = NULL;
  if (!text) return vg_set_error(VG_ERR_INVALID_ARG, "vg_config_load_string: no text");
  if (len > MAX_CONFIG_BYTES)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: config larger than %u bytes",
                        name ? name : "config", MAX_CONFIG_BYTES);
  vg_config *c = calloc(1, sizeof *c);
  if (!c || !(c->name = strdup(name ? name : "<string>"))) {
    free(c);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory loading config");
  }
  parse_ctx pc;
  pc.doc = c;
  if (!yaml_parser_initialize(&pc.parser)) {
    vg_config_free(c);
    return vg_set_error(VG_ERR_NO_MEMORY, "cannot initialise the YAML parser");
  }
  yaml_parser_set_input_string(&pc.parser, (const unsigned char *)text, len);
  vg_status s = parse_document(&pc);
  yaml_parser_delete(&pc.parser);
  if (s != VG_OK) {
    vg_config_free(c);
    return s;
  }
  *out = c;
  return VG_OK;
}

vg_status vg_config_load_file(const char *path, vg_config **out) {
  *out = NULL;
  char *text;
  size_t len;
  vg_status s = vg_read_file(path, MAX_CONFIG_BYTES, &text, &len);
  if (s != VG_OK) return vg_wrap_error(s, "cannot load config");
  s = vg_config_load_string(text, len, path, out);
  free(text);
  return s;
}

const vg_cnode *vg_config_root(const vg_config *c) {
  return c ? c->root : NULL;
}

const char *vg_config_name(const vg_config *c) {
  return c ? c->name : "";
}

/* ----------------------------------------------------------------------------- node access */

vg_cnode_kind vg_cnode_get_kind(const vg_cnode *n) {
  return n->kind;
}
int vg_cnode_line(const vg_cnode *n) {
  return n->line;
}
int vg_cnode_col(const vg_cnode *n) {
  return n->col;
}
const char *vg_cnode_path(const vg_cnode *n) {
  return n->path;
}

const char *vg_cnode_where(const vg_cnode *n, char *buf, size_t cap) {
  snprintf(buf, cap, "%s:%d:%d", n->doc->name, n->line, n->col);
  return buf;
}

const char *vg_cnode_scalar(const vg_cnode *n) {
  return n && n->kind == VG_CNODE_SCALAR ? n->scalar : NULL;
}

bool vg_cnode_is_null(const vg_cnode *n) {
  if (!n || n->kind != VG_CNODE_SCALAR || n->quoted) return false;
  return n->scalar[0] == '\0' || strcmp(n->scalar, "~") == 0 || strcmp(n->scalar, "null") == 0;
}

size_t vg_cnode_len(const vg_cnode *n) {
  return n && n->kind != VG_CNODE_SCALAR ? n->n : 0;
}

const vg_cnode *vg_cnode_at(const vg_cnode *n, size_t i) {
  return n && n->kind != VG_CNODE_SCALAR && i < n->n ? n->kids[i] : NULL;
}

const char *vg_cnode_key_at(const vg_cnode *n, size_t i) {
  return n && n->kind == VG_CNODE_MAP && i < n->n ? n->keys[i] : NULL;
}

const vg_cnode *vg_cnode_get(const vg_cnode *n, const char *key) {
  if (!n || n->kind != VG_CNODE_MAP || !key) return NULL;
  if (n->index) {
    for (size_t slot = key_hash(key) & (n->index_cap - 1); n->index[slot];
         slot = (slot + 1) & (n->index_cap - 1))
      if (strcmp(n->keys[n->index[slot] - 1], key) == 0) return n->kids[n->index[slot] - 1];
    return NULL;
  }
  for (size_t i = 0; i < n->n; i++)
    if (strcmp(n->keys[i], key) == 0) return n->kids[i];
  return NULL;
}

vg_status vg_cnode_error(const vg_cnode *n, vg_status s, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  vg_utf8_trim(msg); /* a value cut inside a UTF-8 character by the buffer */
  return vg_set_error(s, "%s:%d:%d: %s: %s", n->doc->name, n->line, n->col,
                      n->path[0] ? n->path : "(root)", msg);
}

static const char *kind_word(const vg_cnode *n) {
  return n->kind == VG_CNODE_MAP ? "a map" : n->kind == VG_CNODE_SEQ ? "a list" : "text";
}

vg_status vg_cnode_as_string(const vg_cnode *n, const char **out) {
  if (n->kind != VG_CNODE_SCALAR)
    return vg_cnode_error(n, VG_ERR_PARSE, "expected text, got %s", kind_word(n));
  *out = n->scalar;
  return VG_OK;
}

vg_status vg_cnode_as_int(const vg_cnode *n, int64_t *out) {
  if (n->kind != VG_CNODE_SCALAR)
    return vg_cnode_error(n, VG_ERR_PARSE, "expected an integer, got %s", kind_word(n));
  char *end;
  errno = 0;
  long long v = strtoll(n->scalar, &end, 0);
  if (n->scalar[0] == '\0' || *end != '\0' || errno == ERANGE)
    return vg_cnode_error(n, VG_ERR_PARSE, "expected an integer, got '%s'", n->scalar);
  *out = v;
  return VG_OK;
}

vg_status vg_cnode_as_double(const vg_cnode *n, double *out) {
  if (n->kind != VG_CNODE_SCALAR)
    return vg_cnode_error(n, VG_ERR_PARSE, "expected a number, got %s", kind_word(n));
  char *end;
  errno = 0;
  double v = strtod(n->scalar, &end);
  if (n->scalar[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
    return vg_cnode_error(n, VG_ERR_PARSE, "expected a number, got '%s'", n->scalar);
  *out = v;
  return VG_OK;
}

vg_status vg_cnode_as_bool(const vg_cnode *n, bool *out) {
  if (n->kind == VG_CNODE_SCALAR) {
    const char *t = n->scalar;
    if (!strcasecmp(t, "true") || !strcasecmp(t, "yes") || !strcasecmp(t, "on") || !strcmp(t, "1"))
      return (*out = true), VG_OK;
    if (!strcasecmp(t, "false") || !strcasecmp(t, "no") || !strcasecmp(t, "off") || !strcmp(t, "0"))
      return (*out = false), VG_OK;
  }
  return vg_cnode_error(
      n, VG_ERR_PARSE, "expected true or false, got %s%s%s", n->kind == VG_CNODE_SCALAR ? "'" : "",
      n->kind == VG_CNODE_SCALAR ? n->scalar : kind_word(n), n->kind == VG_CNODE_SCALAR ? "'" : "");
}

/* Looks up key in map; handles the absent and not-a-map cases for the vg_cfg_* getters. */
static vg_status member(const vg_cnode *map, const char *key, bool required, const vg_cnode **out) {
  *out = NULL;
  if (!map)
    return required ? vg_set_error(VG_ERR_NOT_FOUND, "missing required key '%s'", key) : VG_OK;
  if (map->kind != VG_CNODE_MAP)
    return vg_cnode_error(map, VG_ERR_PARSE, "expected a map holding '%s', got %s", key,
                          kind_word(map));
  *out = vg_cnode_get(map, key);
  if (!*out && required)
    return vg_cnode_error(map, VG_ERR_NOT_FOUND, "missing required key '%s'", key);
  return VG_OK;
}

vg_status vg_cfg_int(const vg_cnode *map, const char *key, bool required, int64_t def,
                     int64_t *out) {
  const vg_cnode *n;
  *out = def;
  VG_TRY(member(map, key, required, &n));
  return n ? vg_cnode_as_int(n, out) : VG_OK;
}

vg_status vg_cfg_int_range(const vg_cnode *map, const char *key, bool required, int64_t def,
                           int64_t lo, int64_t hi, int64_t *out) {
  VG_TRY(vg_cfg_int(map, key, required, def, out));
  if (*out < lo || *out > hi) {
    const vg_cnode *n = vg_cnode_get(map, key);
    return vg_cnode_error(n ? n : map, VG_ERR_PARSE, "%s = %lld is outside %lld..%lld", key,
                          (long long)*out, (long long)lo, (long long)hi);
  }
  return VG_OK;
}

vg_status vg_cfg_double(const vg_cnode *map, const char *key, bool required, double def,
                        double *out) {
  const vg_cnode *n;
  *out = def;
  VG_TRY(member(map, key, required, &n));
  return n ? vg_cnode_as_double(n, out) : VG_OK;
}

vg_status vg_cfg_double_range(const vg_cnode *map, const char *key, bool required, double def,
                              double lo, double hi, double *out) {
  VG_TRY(vg_cfg_double(map, key, required, def, out));
  if (*out < lo || *out > hi) {
    const vg_cnode *n = vg_cnode_get(map, key);
    return vg_cnode_error(n ? n : map, VG_ERR_PARSE, "%s = %g is outside %g..%g", key, *out, lo,
                          hi);
  }
  return VG_OK;
}

vg_status vg_cfg_bool(const vg_cnode *map, const char *key, bool required, bool def, bool *out) {
  const vg_cnode *n;
  *out = def;
  VG_TRY(member(map, key, required, &n));
  return n ? vg_cnode_as_bool(n, out) : VG_OK;
}

vg_status vg_cfg_string(const vg_cnode *map, const char *key, bool required, const char *def,
                        const char **out) {
  const vg_cnode *n;
  *out = def;
  VG_TRY(member(map, key, required, &n));
  return n ? vg_cnode_as_string(n, out) : VG_OK;
}
