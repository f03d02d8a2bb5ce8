/* classify.c - classification heads: activations, top-k with labels, and multi-head outputs
 * (e.g. 8 expression scores plus valence and arousal) written into vg_object attributes. */
#include "post_internal.h"

#include <math.h>

vg_status vg_activation_parse(const char *text, vg_activation *out) {
  static const char *names[] = {"none", "softmax", "sigmoid", "tanh"};
  for (int i = 0; text && i < 4; i++)
    if (strcmp(text, names[i]) == 0) {
      *out = (vg_activation)i;
      return VG_OK;
    }
  return vg_set_error(VG_ERR_INVALID_ARG,
                      "unknown activation '%s' (expected none, softmax, sigmoid or tanh)",
                      text ? text : "(null)");
}

/* Applies act in place to v[0..n). */
static void activate(float *v, int n, vg_activation act) {
  if (act == VG_ACT_SOFTMAX) {
    float mx = v[0];
    for (int i = 1; i < n; i++)
      mx = v[i] > mx ? v[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++)
      sum += exp((double)v[i] - mx);
    for (int i = 0; i < n; i++)
      v[i] = (float)(exp((double)v[i] - mx) / sum);
  } else if (act == VG_ACT_SIGMOID) {
    for (int i = 0; i < n; i++)
      v[i] = (float)(1.0 / (1.0 + exp(-(double)v[i])));
  } else if (act == VG_ACT_TANH) {
    for (int i = 0; i < n; i++)
      v[i] = tanhf(v[i]);
  }
}

/* Reads `count` values at `offset` along the last axis of sample n into a malloc'd array. */
static vg_status read_row(const vg_tensor *t, int n, int offset, int count, const char *what,
                          float **out) {
  char sh[96];
  *out = NULL;
  VG_TRY(post_check_host(t, what, true));
  if (t->ndim < 1 || t->ndim > 2)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: output %s is not [N, C] or [C]", what,
                        post_shape_str(t, sh, sizeof sh));
  int64_t c = t->shape[t->ndim - 1], rows = t->ndim == 2 ? t->shape[0] : 1;
  if (n < 0 || n >= rows)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: sample %d outside %s", what, n,
                        post_shape_str(t, sh, sizeof sh));
  if (offset < 0 || count < 1 || offset + (int64_t)count > c)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: values %d..%d outside the %lld of %s", what,
                        offset, offset + count - 1, (long long)c, post_shape_str(t, sh, sizeof sh));
  float *v = malloc((size_t)count * sizeof *v);
  if (!v) return vg_set_error(VG_ERR_NO_MEMORY, "%s: out of memory", what);
  int64_t base = t->ndim == 2 ? n * t->strides[0] : 0, st = t->strides[t->ndim - 1];
  for (int i = 0; i < count; i++)
    v[i] = post_get(t, base + (offset + i) * st);
  *out = v;
  return VG_OK;
}

vg_status vg_cls_topk(const vg_tensor *t, int n, vg_activation act, int k, vg_cls_result *out) {
  memset(out, 0, sizeof *out);
  if (!t || t->ndim < 1) return vg_set_error(VG_ERR_INVALID_ARG, "classifier: empty output");
  int64_t c = t->shape[t->ndim - 1];
  if (c < 1 || c > 1000000)
    return vg_set_error(VG_ERR_INVALID_ARG, "classifier: %lld classes", (long long)c);
  float *v;
  VG_TRY(read_row(t, n, 0, (int)c, "classifier", &v));
  activate(v, (int)c, act);
  if (k < 1) k = 1;
  if (k > VG_CLS_MAX_TOPK) k = VG_CLS_MAX_TOPK;
  if (k > c) k = (int)c;
  for (int i = 0; i < c; i++) { /* insertion into the sorted top-k (ties: lower class first) */
    int pos = out->k;
    while (pos > 0 && v[i] > out->scores[pos - 1])
      pos--;
    if (pos >= k) continue;
    int last = out->k < k ? out->k : k - 1;
    for (int j = last; j > pos; j--) {
      out->scores[j] = out->scores[j - 1];
      out->class_ids[j] = out->class_ids[j - 1];
    }
    out->scores[pos] = v[i];
    out->class_ids[pos] = i;
    if (out->k < k) out->k++;
  }
  free(v);
  return VG_OK;
}

void vg_cls_result_to_object(const vg_cls_result *r, const vg_labels *labels, vg_object *obj) {
  if (r->k < 1) return;
  obj->class_id = r->class_ids[0];
  obj->score = r->scores[0];
  obj->label[0] = '\0';
  post_set_label(obj, labels, r->class_ids[0]);
  obj->nattrs = r->k < VG_ATTR_MAX ? r->k : VG_ATTR_MAX;
  for (int i = 0; i < obj->nattrs; i++)
    obj->attrs[i] = r->scores[i];
}

vg_status vg_cls_heads_from_config(const vg_cnode *seq, vg_cls_heads *h) {
  memset(h, 0, sizeof *h);
  if (!seq || vg_cnode_get_kind(seq) != VG_CNODE_SEQ || vg_cnode_len(seq) == 0)
    return seq ? vg_cnode_error(seq, VG_ERR_PARSE, "expected a non-empty list of heads")
               : vg_set_error(VG_ERR_NOT_FOUND, "classifier: no heads given");
  if (vg_cnode_len(seq) > VG_CLS_MAX_HEADS)
    return vg_cnode_error(seq, VG_ERR_PARSE, "%zu heads, at most %d", vg_cnode_len(seq),
                          VG_CLS_MAX_HEADS);
  int total = 0;
  for (size_t i = 0; i < vg_cnode_len(seq); i++) {
    const vg_cnode *m = vg_cnode_at(seq, i);
    if (vg_cnode_get_kind(m) != VG_CNODE_MAP)
      return vg_cnode_error(m, VG_ERR_PARSE,
                            "expected a head map {tensor, offset, count, "
                            "activation}");
    vg_cls_head *hd = &h->heads[i];
    int64_t v;
    const char *act;
    VG_TRY(vg_cfg_int_range(m, "tensor", false, 0, 0, 63, &v));
    hd->tensor = (int)v;
    VG_TRY(vg_cfg_int_range(m, "offset", false, 0, 0, 1000000, &v));
    hd->offset = (int)v;
    VG_TRY(vg_cfg_int_range(m, "count", true, 0, 1, VG_ATTR_MAX, &v));
    hd->count = (int)v;
    VG_TRY(vg_cfg_string(m, "activation", false, "none", &act));
    if (vg_activation_parse(act, &hd->act) != VG_OK)
      return vg_cnode_error(vg_cnode_get(m, "activation"), VG_ERR_PARSE, "%s", vg_last_error());
    VG_TRY(vg_cfg_bool(m, "primary", false, false, &hd->primary));
    total += hd->count;
    if (total > VG_ATTR_MAX)
      return vg_cnode_error(m, VG_ERR_PARSE, "the heads give %d values, at most %d attributes",
                            total, VG_ATTR_MAX);
    h->nheads++;
  }
  return VG_OK;
}

vg_status vg_cls_heads_apply(const vg_tensor *const *tensors, int ntensors, int n,
                             const vg_cls_heads *h, const vg_labels *labels, vg_object *obj) {
  if (!h || h->nheads < 1 || h->nheads > VG_CLS_MAX_HEADS)
    return vg_set_error(VG_ERR_INVALID_ARG, "classifier: no heads");
  int primary = 0;
  for (int i = h->nheads - 1; i >= 0; i--)
    if (h->heads[i].primary) primary = i;
  int na = 0;
  for (int i = 0; i < h->nheads; i++) {
    const vg_cls_head *hd = &h->heads[i];
    if (hd->tensor < 0 || hd->tensor >= ntensors)
      return vg_set_error(VG_ERR_INVALID_ARG, "classifier: head %d reads output %d of %d", i,
                          hd->tensor, ntensors);
    if (na + hd->count > VG_ATTR_MAX)
      return vg_set_error(VG_ERR_INVALID_ARG, "classifier: heads give more than %d values",
                          VG_ATTR_MAX);
    float *v;
    VG_TRY(read_row(tensors[hd->tensor], n, hd->offset, hd->count, "classifier head", &v));
    activate(v, hd->count, hd->act);
    if (i == primary) {
      int best = 0;
      for (int k = 1; k < hd->count; k++)
        if (v[k] > v[best]) best = k;
      obj->class_id = best;
      obj->score = v[best];
      obj->label[0] = '\0';
      post_set_label(obj, labels, best);
    }
    memcpy(obj->attrs + na, v, (size_t)hd->count * sizeof *v);
    na += hd->count;
    free(v);
  }
  obj->nattrs = na;
  return VG_OK;
}
