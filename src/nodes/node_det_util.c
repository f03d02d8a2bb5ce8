/* node_det_util.c - helpers shared by the detection/analytics nodes: class names from params,
 * id lists, packet time, object stamping (see node_det_util.h). */
#include "node_det_util.h"

#include "node_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Inline list of names -> one name per line -> the labels parser (same checks as files). */
static vg_status labels_inline(const vg_cnode *l, vg_labels **out) {
  size_t n = vg_cnode_len(l), cap = 1, len = 0;
  if (n == 0) return vg_cnode_error(l, VG_ERR_PARSE, "the list of class names is empty");
  for (size_t i = 0; i < n; i++) {
    const char *s = vg_cnode_scalar(vg_cnode_at(l, i));
    if (!s || !s[0] || strchr(s, '\n'))
      return vg_cnode_error(vg_cnode_at(l, i), VG_ERR_PARSE,
                            "expected a class name (a non-empty string on one line)");
    cap += strlen(s) + 1;
  }
  char *text = malloc(cap);
  if (!text) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++)
    len += (size_t)sprintf(text + len, "%s\n", vg_cnode_scalar(vg_cnode_at(l, i)));
  char where[256];
  vg_status s = vg_labels_parse(text, len, vg_cnode_where(l, where, sizeof where), out);
  free(text);
  return s;
}

vg_status det_labels_from_params(const vg_cnode *params, const char *key, vg_labels **out) {
  *out = NULL;
  const vg_cnode *l = vg_cnode_get(params, key);
  if (!l || vg_cnode_is_null(l)) return VG_OK;
  if (vg_cnode_get_kind(l) == VG_CNODE_SEQ) return labels_inline(l, out);
  const char *path;
  VG_TRY(vg_cfg_string(params, key, true, NULL, &path));
  char full[2048], base[1024];
  nodes_base_dir(params, base, sizeof base);
  if (path[0] != '/' && strcmp(base, ".") != 0) {
    snprintf(full, sizeof full, "%s/%s", base, path);
    if (access(full, R_OK) != 0) snprintf(full, sizeof full, "%s", path);
  } else {
    snprintf(full, sizeof full, "%s", path);
  }
  if (vg_labels_load(full, out) != VG_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    return vg_cnode_error(l, vg_last_status(), "%s: %s", key, msg);
  }
  return VG_OK;
}

vg_status det_int_list(const vg_cnode *params, const char *key, int64_t lo, int64_t hi, int *out,
                       int cap, int *n) {
  *n = 0;
  const vg_cnode *l = vg_cnode_get(params, key);
  if (!l || vg_cnode_is_null(l)) return VG_OK;
  if (vg_cnode_get_kind(l) != VG_CNODE_SEQ)
    return vg_cnode_error(l, VG_ERR_PARSE, "%s: expected a list of ids", key);
  if ((int)vg_cnode_len(l) > cap)
    return vg_cnode_error(l, VG_ERR_PARSE, "%s: %zu ids listed, at most %d", key, vg_cnode_len(l),
                          cap);
  for (size_t i = 0; i < vg_cnode_len(l); i++) {
    const vg_cnode *c = vg_cnode_at(l, i);
    int64_t v;
    if (vg_cnode_as_int(c, &v) != VG_OK || v < lo || v > hi)
      return vg_cnode_error(c, VG_ERR_PARSE, "%s: expected an id in %lld..%lld, got '%s'", key,
                            (long long)lo, (long long)hi,
                            vg_cnode_scalar(c) ? vg_cnode_scalar(c) : "a collection");
    out[(*n)++] = (int)v;
  }
  return VG_OK;
}

bool det_in_list(const int *ids, int n, int id) {
  if (n == 0) return true;
  for (int i = 0; i < n; i++)
    if (ids[i] == id) return true;
  return false;
}

double det_packet_seconds(const vg_packet *p, double fps) {
  const vg_frame *f = vg_packet_frame(p);
  if (f && f->pts != INT64_MIN && f->tb_num > 0 && f->tb_den > 0)
    return (double)f->pts * f->tb_num / f->tb_den;
  int64_t fno = vg_packet_frame_no(p);
  return (double)(fno > 0 ? fno : 0) / (fps > 0 ? fps : 25.0);
}

void det_stamp(vg_objects *objs, size_t from, const vg_packet *p) {
  for (size_t i = from; i < objs->count; i++) {
    objs->items[i].stream_id = vg_packet_stream(p);
    objs->items[i].frame_no = vg_packet_frame_no(p);
  }
}
