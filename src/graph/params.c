/* params.c - node parameter tables: reading a node's `params:` map into its state struct
 * (unknown keys, types, ranges, defaults, hooks), the state's lifecycle around init/destroy,
 * the one "unknown parameter" message, the one "node 'id' (type): " prefix of init errors, and
 * the text forms of a table that `vidgraph nodes --params` and docs/NODES.md print. */
#include "graph_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------------- text forms */

static void join(char *buf, size_t cap, const char *const *items, const char *sep,
                 const char *last_sep) {
  size_t len = 0;
  int n = 0;
  buf[0] = '\0';
  while (items && items[n])
    n++;
  for (int i = 0; i < n && len < cap; i++) {
    const char *s = i == 0 ? "" : i == n - 1 ? last_sep : sep;
    int w = snprintf(buf + len, cap - len, "%s%s", s, items[i]);
    if (w > 0) len += (size_t)w;
  }
}

static const char *const *group_keys(const vg_param *p) {
  return p->keys_of ? p->keys_of() : p->keys;
}

const char *vg_param_type_name(const vg_param *p, char *buf, size_t cap) {
  switch (p->type) {
  case VG_PARAM_BOOL:
    return snprintf(buf, cap, "bool"), buf;
  case VG_PARAM_INT:
  case VG_PARAM_INT64:
    return snprintf(buf, cap, "int"), buf;
  case VG_PARAM_FLOAT:
  case VG_PARAM_DOUBLE:
    return snprintf(buf, cap, "number"), buf;
  case VG_PARAM_STRING:
    return snprintf(buf, cap, "string"), buf;
  case VG_PARAM_ENUM:
    return snprintf(buf, cap, "enum"), buf;
  case VG_PARAM_FLOATS:
    return snprintf(buf, cap, "list of %d numbers", p->count), buf;
  case VG_PARAM_CUSTOM:
    return snprintf(buf, cap, "see doc"), buf;
  case VG_PARAM_GROUP:
    return snprintf(buf, cap, "group"), buf;
  }
  return snprintf(buf, cap, "?"), buf;
}

const char *vg_param_default_str(const vg_param *p, char *buf, size_t cap) {
  buf[0] = '\0';
  if (p->required) return buf;
  switch (p->type) {
  case VG_PARAM_BOOL:
    snprintf(buf, cap, "%s", p->idef ? "true" : "false");
    break;
  case VG_PARAM_INT:
  case VG_PARAM_INT64:
    snprintf(buf, cap, "%lld", (long long)p->idef);
    break;
  case VG_PARAM_FLOAT:
  case VG_PARAM_DOUBLE:
    snprintf(buf, cap, "%g", p->fdef);
    break;
  case VG_PARAM_STRING:
  case VG_PARAM_ENUM:
    snprintf(buf, cap, "%s", p->sdef ? p->sdef : "");
    break;
  case VG_PARAM_FLOATS:
    snprintf(buf, cap, "[%s]", p->sdef ? p->sdef : "");
    break;
  default:
    break;
  }
  return buf;
}

const char *vg_param_range_str(const vg_param *p, char *buf, size_t cap) {
  buf[0] = '\0';
  switch (p->type) {
  case VG_PARAM_INT:
  case VG_PARAM_INT64:
    if (p->imin || p->imax)
      snprintf(buf, cap, "%lld..%lld", (long long)p->imin, (long long)p->imax);
    break;
  case VG_PARAM_FLOAT:
  case VG_PARAM_DOUBLE:
  case VG_PARAM_FLOATS:
    if (p->fmin != 0 || p->fmax != 0) snprintf(buf, cap, "%g..%g", p->fmin, p->fmax);
    break;
  case VG_PARAM_ENUM:
    join(buf, cap, p->choices, "|", "|");
    break;
  case VG_PARAM_GROUP:
    join(buf, cap, group_keys(p), ", ", ", ");
    break;
  default:
    break;
  }
  return buf;
}

/* ----------------------------------------------------------------------------- unknown keys */

/* The keys of a table, in order (group keys in place), into buf: "a, b, c" or "none". */
static void table_keys(const vg_param *t, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (const vg_param *p = t; p && p->name && len < cap; p++) {
    if (p->type == VG_PARAM_GROUP) {
      for (const char *const *k = group_keys(p); k && *k && len < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", *k);
        if (w > 0) len += (size_t)w;
      }
      continue;
    }
    int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", p->name);
    if (w > 0) len += (size_t)w;
  }
  if (!len) snprintf(buf, cap, "none");
}

static bool table_has(const vg_param *t, const char *key) {
  for (const vg_param *p = t; p && p->name; p++) {
    if (p->type != VG_PARAM_GROUP) {
      if (strcmp(p->name, key) == 0) return true;
      continue;
    }
    for (const char *const *k = group_keys(p); k && *k; k++)
      if (strcmp(*k, key) == 0) return true;
  }
  return false;
}

static vg_status unknown_key(const vg_cnode *params, size_t i, const char *known) {
  return vg_cnode_error(vg_cnode_at(params, i), VG_ERR_PARSE, "unknown parameter '%s' (known: %s)",
                        vg_cnode_key_at(params, i), known);
}

static vg_status check_table_keys(const vg_param *t, const vg_cnode *params) {
  if (!params) return VG_OK;
  if (vg_cnode_get_kind(params) != VG_CNODE_MAP)
    return vg_cnode_error(params, VG_ERR_PARSE, "params must be a map");
  for (size_t i = 0; i < vg_cnode_len(params); i++) {
    if (table_has(t, vg_cnode_key_at(params, i))) continue;
    char known[600];
    table_keys(t, known, sizeof known);
    return unknown_key(params, i, known);
  }
  return VG_OK;
}

vg_status vg_params_check(const vg_node *n, const vg_cnode *params, const char *const *known) {
  (void)n;
  for (size_t i = 0; params && i < vg_cnode_len(params); i++) {
    const char *key = vg_cnode_key_at(params, i);
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++)
      ok = strcmp(*k, key) == 0;
    if (ok) continue;
    char list[600];
    join(list, sizeof list, known, ", ", ", ");
    return unknown_key(params, i, list[0] ? list : "none");
  }
  return VG_OK;
}

/* ----------------------------------------------------------------------------- filling */

static vg_status fill_enum(const vg_param *p, const vg_cnode *params, int *out) {
  const char *v;
  VG_TRY(vg_cfg_string(params, p->name, p->required, p->sdef, &v));
  for (int i = 0; v && p->choices[i]; i++)
    if (strcmp(p->choices[i], v) == 0) {
      *out = i;
      return VG_OK;
    }
  char list[300];
  join(list, sizeof list, p->choices, ", ", " or ");
  return vg_cnode_error(vg_cnode_get(params, p->name), VG_ERR_PARSE, "%s must be %s, got '%s'",
                        p->name, list, v ? v : "");
}

/* Parses "a, b, c" (a table default) into out[count]. */
static void floats_default(const vg_param *p, float *out) {
  const char *s = p->sdef ? p->sdef : "";
  for (int i = 0; i < p->count; i++) {
    char *end;
    out[i] = (float)strtod(s, &end);
    s = end;
    while (*s == ',' || *s == ' ')
      s++;
  }
}

static vg_status fill_floats(const vg_param *p, const vg_cnode *params, float *out) {
  floats_default(p, out);
  const vg_cnode *l = vg_cnode_get(params, p->name);
  if (!l && p->required)
    return params ? vg_cnode_error(params, VG_ERR_NOT_FOUND, "missing required key '%s'", p->name)
                  : vg_set_error(VG_ERR_NOT_FOUND, "missing required key '%s'", p->name);
  if (!l) return VG_OK;
  if (vg_cnode_get_kind(l) != VG_CNODE_SEQ || (int)vg_cnode_len(l) != p->count)
    return vg_cnode_error(l, VG_ERR_PARSE, "expected a list of %d numbers", p->count);
  bool ranged = p->fmin != 0 || p->fmax != 0;
  for (int i = 0; i < p->count; i++) {
    double v;
    VG_TRY(vg_cnode_as_double(vg_cnode_at(l, (size_t)i), &v));
    if (ranged && (v < p->fmin || v > p->fmax))
      return vg_cnode_error(vg_cnode_at(l, (size_t)i), VG_ERR_PARSE, "%s values are %g..%g, got %g",
                            p->name, p->fmin, p->fmax, v);
    out[i] = (float)v;
  }
  return VG_OK;
}

static vg_status fill_int(const vg_param *p, const vg_cnode *params, int64_t lo, int64_t hi,
                          int64_t *v) {
  if (p->imin || p->imax) {
    lo = p->imin;
    hi = p->imax;
  }
  return vg_cfg_int_range(params, p->name, p->required, p->idef, lo, hi, v);
}

static vg_status fill_double(const vg_param *p, const vg_cnode *params, double *v) {
  if (p->fmin != 0 || p->fmax != 0)
    return vg_cfg_double_range(params, p->name, p->required, p->fdef, p->fmin, p->fmax, v);
  return vg_cfg_double(params, p->name, p->required, p->fdef, v);
}

static vg_status fill_one(vg_node *self, const vg_param *p, const vg_cnode *params, char *state) {
  void *f = state + p->offset;
  int64_t i64;
  double d;
  switch (p->type) {
  case VG_PARAM_BOOL:
    return vg_cfg_bool(params, p->name, p->required, p->idef != 0, (bool *)f);
  case VG_PARAM_INT:
    VG_TRY(fill_int(p, params, INT_MIN, INT_MAX, &i64));
    *(int *)f = (int)i64;
    return VG_OK;
  case VG_PARAM_INT64:
    return fill_int(p, params, INT64_MIN, INT64_MAX, (int64_t *)f);
  case VG_PARAM_FLOAT:
    VG_TRY(fill_double(p, params, &d));
    *(float *)f = (float)d;
    return VG_OK;
  case VG_PARAM_DOUBLE:
    return fill_double(p, params, (double *)f);
  case VG_PARAM_STRING:
    return vg_cfg_string(params, p->name, p->required, p->sdef, (const char **)f);
  case VG_PARAM_ENUM:
    return fill_enum(p, params, (int *)f);
  case VG_PARAM_FLOATS:
    return fill_floats(p, params, (float *)f);
  case VG_PARAM_CUSTOM:
  case VG_PARAM_GROUP:
    return p->hook(self, params, p, f);
  }
  return vg_set_error(VG_ERR_INTERNAL, "parameter '%s' has an unknown type", p->name);
}

/* ----------------------------------------------------------------------------- table checks */

/* Does a group's key table list exactly its keys, in order? */
static bool sub_matches(const vg_param *p) {
  const char *const *k = group_keys(p);
  const vg_param *q = p->sub;
  for (; *k && q->name; k++, q++)
    if (strcmp(*k, q->name) != 0 || q->type == VG_PARAM_GROUP || !q->doc) return false;
  return !*k && !q->name;
}

vg_status vg__params_check_table(const vg_node_type *t) {
  if (!t->params) return VG_OK;
  if (!t->state_size)
    return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s' has parameters but no state_size",
                        t->name);
  for (const vg_param *p = t->params; p->name; p++) {
    const char *bad = NULL;
    if (p->offset >= t->state_size) bad = "its offset is outside the state";
    if (p->type < VG_PARAM_BOOL || p->type > VG_PARAM_GROUP) bad = "it has no type";
    if (p->type == VG_PARAM_ENUM && (!p->choices || !p->choices[0])) bad = "enum without choices";
    if (p->type == VG_PARAM_FLOATS && (p->count < 1 || p->count > 64)) bad = "count not 1..64";
    if ((p->type == VG_PARAM_CUSTOM || p->type == VG_PARAM_GROUP) && !p->hook) bad = "no hook";
    if (p->type == VG_PARAM_GROUP && !group_keys(p)) bad = "a group without keys";
    if (p->type == VG_PARAM_GROUP && p->sub && group_keys(p) && !sub_matches(p))
      bad = "its key table and its keys differ";
    if (!p->doc || !p->doc[0]) bad = "no doc";
    for (const vg_param *q = t->params; !bad && q < p; q++)
      if (q->type != VG_PARAM_GROUP && p->type != VG_PARAM_GROUP && !strcmp(q->name, p->name))
        bad = "declared twice";
    if (bad)
      return vg_set_error(VG_ERR_INVALID_ARG, "node type '%s': parameter '%s': %s", t->name,
                          p->name, bad);
  }
  return VG_OK;
}

/* ----------------------------------------------------------------------------- lifecycle */

void vg__node_state_destroy(const vg_node_type *t, void *state) {
  if (!state) return;
  if (t->destroy) t->destroy(state);
  if (t->params || t->state_size) free(state);
}

vg_status vg__node_state_create(vg_node *self, const vg_node_type *t, const vg_cnode *params,
                                void **out) {
  *out = NULL;
  if (!t->params && !t->state_size) { /* legacy: init owns everything */
    /* (without init, params are not read at all: the server runs a file graph's source as an
     * `input` node and leaves the source's params in place) */
    vg_status s = t->init ? t->init(self, params, out) : VG_OK;
    if (s != VG_OK) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", vg_last_error());
      vg__node_state_destroy(t, *out);
      *out = NULL;
      return vg_set_error(s, "%s", msg);
    }
    return VG_OK;
  }
  void *state = calloc(1, t->state_size ? t->state_size : 1);
  if (!state) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for the node's state");
  vg_status s = check_table_keys(t->params, params);
  for (const vg_param *p = t->params; s == VG_OK && p && p->name; p++)
    s = fill_one(self, p, params, state);
  void *st = state;
  if (s == VG_OK && t->init) s = t->init(self, params, &st);
  if (s == VG_OK && st != state) s = vg_set_error(VG_ERR_INTERNAL, "init replaced its state");
  if (s != VG_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    vg__node_state_destroy(t, state);
    return vg_set_error(s, "%s", msg);
  }
  *out = state;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- error prefix */

/* Length of "file:line:col: path: " at the start of msg when it is a position in doc, else 0. */
static size_t position_len(const char *msg, const char *doc_name) {
  size_t n = strlen(doc_name);
  if (strncmp(msg, doc_name, n) != 0 || msg[n] != ':') return 0;
  const char *c = msg + n + 1;
  for (int k = 0; k < 2; k++) { /* line: col: */
    if (*c < '0' || *c > '9') return 0;
    while (*c >= '0' && *c <= '9')
      c++;
    if (*c != ':') return 0;
    c++;
  }
  if (*c != ' ') return 0;
  const char *path_end = strstr(c + 1, ": ");
  if (!path_end || memchr(c + 1, ' ', (size_t)(path_end - c - 1))) return (size_t)(c + 1 - msg);
  return (size_t)(path_end + 2 - msg);
}

vg_status vg__node_error_prefix(const vg_graph *g, int node, vg_status s) {
  const gnode *n = &g->nodes[node];
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", vg_last_error());
  size_t pos = position_len(msg, vg_config_name(g->doc));
  if (pos)
    return vg_set_error(s, "%.*snode '%s' (%s): %s", (int)pos, msg, n->id, n->type->name,
                        msg + pos);
  char where[300];
  vg_cnode_where(n->where, where, sizeof where);
  return vg_set_error(s, "%s: %s: node '%s' (%s): %s", where, vg_cnode_path(n->where), n->id,
                      n->type->name, msg);
}
