/* node_classify.c - the `classify` node: classification heads on a model output become classes,
 * scores and attributes of objects.
 *  - target: objects (default): row i of the output belongs to object i of the packet (a
 *    secondary classifier run on the objects' crops, in list order); each object gets the top-1
 *    class, score and label and the top-k scores as attrs (or, with `heads`, the values of every
 *    head as attrs and the primary head's best class).
 *  - target: frame: the output has one row, and one object covering the whole frame is added.
 * Output tensors are read on the host (the scheduler copies them: they are small). */
#include "node_det_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLS_MAX_TENSORS 8

typedef struct cls_state {
  int ntensors;
  char tensors[CLS_MAX_TENSORS][VG_TENSOR_NAME_MAX];
  int act_index, target;
  vg_activation act;
  int top_k;
  bool use_heads, keep_tensors;
  vg_cls_heads heads;
  vg_labels *labels;
} cls_state;

static void cls_destroy(void *state) {
  cls_state *s = state;
  vg_labels_free(s->labels);
}

static vg_status tensor_name(const vg_cnode *n, char *out) {
  const char *v;
  VG_TRY(vg_cnode_as_string(n, &v));
  if (!v[0] || strlen(v) >= VG_TENSOR_NAME_MAX)
    return vg_cnode_error(n, VG_ERR_PARSE, "a tensor name of 1..%d characters",
                          VG_TENSOR_NAME_MAX - 1);
  snprintf(out, VG_TENSOR_NAME_MAX, "%s", v);
  return VG_OK;
}

static vg_status read_tensors(vg_node *self, const vg_cnode *params, const vg_param *p,
                              void *field) {
  cls_state *s = VG_PARAM_STATE(field, p);
  const vg_cnode *l = vg_cnode_get(params, "tensors"), *one = vg_cnode_get(params, "tensor");
  if (l && one) return vg_cnode_error(l, VG_ERR_PARSE, "give either tensor or tensors, not both");
  if (!l) {
    s->ntensors = 1;
    if (!one) {
      snprintf(s->tensors[0], VG_TENSOR_NAME_MAX, "output0");
      return VG_OK;
    }
    return tensor_name(one, s->tensors[0]);
  }
  if (vg_cnode_get_kind(l) != VG_CNODE_SEQ || vg_cnode_len(l) < 1 ||
      vg_cnode_len(l) > CLS_MAX_TENSORS)
    return vg_cnode_error(l, VG_ERR_PARSE, "tensors: expected a list of 1..%d tensor names",
                          CLS_MAX_TENSORS);
  for (size_t i = 0; i < vg_cnode_len(l); i++)
    VG_TRY(tensor_name(vg_cnode_at(l, i), s->tensors[s->ntensors++]));
  return VG_OK;
}

static vg_status read_heads(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  cls_state *s = VG_PARAM_STATE(field, p);
  const vg_cnode *h = vg_cnode_get(params, "heads");
  if (h && !vg_cnode_is_null(h)) {
    VG_TRY(vg_cls_heads_from_config(h, &s->heads));
    for (int i = 0; i < s->heads.nheads; i++)
      if (s->heads.heads[i].tensor >= s->ntensors)
        return vg_cnode_error(vg_cnode_at(h, (size_t)i), VG_ERR_PARSE,
                              "head %d reads tensor %d but tensors lists %d", i,
                              s->heads.heads[i].tensor, s->ntensors);
    s->use_heads = true;
  } else if (s->ntensors > 1) {
    return vg_cnode_error(vg_cnode_get(params, "tensors"), VG_ERR_PARSE,
                          "several tensors need `heads` to say what each one holds");
  }
  return VG_OK;
}

static vg_status read_labels(vg_node *self, const vg_cnode *params, const vg_param *p,
                             void *field) {
  return det_labels_from_params(params, p->name, field);
}

static const char *const k_tensor_keys[] = {"tensor", "tensors", NULL};
static const char *const k_acts[] = {"softmax", "sigmoid", "none", NULL};
static const char *const k_targets[] = {"objects", "frame", NULL};

static const vg_param k_params[] = {
    VG_P_GROUP(cls_state, ntensors, "tensors", k_tensor_keys, read_tensors,
               "tensor: one output name (default output0), or tensors: a list of up to 8"),
    VG_P_ENUM(cls_state, act_index, "activation", "softmax", k_acts, "applied to each row"),
    VG_P_INT(cls_state, top_k, "top_k", 1, 1, VG_CLS_MAX_TOPK, "scores kept as attrs"),
    VG_P_CUSTOM(cls_state, labels, "labels", read_labels, "class names: a file or a list"),
    VG_P_CUSTOM(cls_state, ntensors, "heads", read_heads,
                "list of heads (multi-head models; vg_cls_heads_from_config)"),
    VG_P_ENUM(cls_state, target, "target", "objects", k_targets,
              "objects: row i -> object i; frame: one whole-frame object"),
    VG_P_BOOL(cls_state, keep_tensors, "keep_tensors", false, "keep the consumed tensors"),
    {0}};

static vg_status cls_init(vg_node *self, const vg_cnode *params, void **state) {
  cls_state *s = *state;
  return vg_activation_parse(k_acts[s->act_index], &s->act);
}

/* Rows of a [N, C] (or [C]: 1) output. */
static int64_t rows_of(const vg_tensor *t) {
  return t->ndim == 2 ? t->shape[0] : t->ndim == 1 ? 1 : -1;
}

static vg_status classify_row(const cls_state *s, const vg_tensor *const *t, int row,
                              vg_object *o) {
  if (s->use_heads) return vg_cls_heads_apply(t, s->ntensors, row, &s->heads, s->labels, o);
  vg_cls_result r;
  VG_TRY(vg_cls_topk(t[0], row, s->act, s->top_k, &r));
  vg_cls_result_to_object(&r, s->labels, o);
  return VG_OK;
}

/* The packet's output tensors, checked to have `want` rows (want < 0: any). */
static vg_status get_tensors(const cls_state *s, const vg_packet *p, int64_t want,
                             const vg_tensor **t) {
  for (int i = 0; i < s->ntensors; i++) {
    t[i] = vg_packet_tensor(p, s->tensors[i]);
    if (!t[i])
      return vg_set_error(VG_ERR_NOT_FOUND, "stream %d frame %lld has no tensor '%s'",
                          vg_packet_stream(p), (long long)vg_packet_frame_no(p), s->tensors[i]);
    char sh[96];
    if (rows_of(t[i]) < 0 || (want >= 0 && rows_of(t[i]) != want))
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "tensor '%s' is %s: expected [%lld, C] (one row per %s)", s->tensors[i],
                          vg_tensor_str(t[i], sh, sizeof sh), (long long)want,
                          (s->target == 1) ? "frame" : "object of the packet");
  }
  return VG_OK;
}

static vg_status classify_packet(const cls_state *s, const vg_packet *in, vg_objects *list) {
  const vg_tensor *t[CLS_MAX_TENSORS];
  if (!(s->target == 1)) {
    if (list->count == 0) return VG_OK; /* nothing to classify (the model may not have run) */
    VG_TRY(get_tensors(s, in, (int64_t)list->count, t));
    for (size_t i = 0; i < list->count; i++)
      VG_TRY(classify_row(s, t, (int)i, &list->items[i]));
    return VG_OK;
  }
  VG_TRY(get_tensors(s, in, 1, t));
  vg_object o = vg_object_init();
  const vg_frame *f = vg_packet_frame(in);
  if (f) o.box = (vg_box){0.f, 0.f, (float)f->width, (float)f->height};
  VG_TRY(classify_row(s, t, 0, &o));
  size_t first = list->count;
  VG_TRY(vg_objects_push(list, &o));
  det_stamp(list, first, in);
  return VG_OK;
}

static vg_status cls_process(vg_call *c) {
  const cls_state *s = c->state;
  for (int i = 0; i < c->n; i++) {
    vg_packet *out;
    vg_objects *list;
    VG_TRY(vg_packet_derive(c->io[i].in[0], &out));
    vg_status st = vg_packet_objects_edit(out, &list);
    if (st == VG_OK) st = classify_packet(s, c->io[i].in[0], list);
    if (st != VG_OK) {
      vg_packet_unref(out);
      return st;
    }
    for (int k = 0; !s->keep_tensors && k < s->ntensors; k++)
      vg_packet_remove_tensor(out, s->tensors[k]);
    c->io[i].out[0] = out;
  }
  return VG_OK;
}

const vg_node_type vg_node_classify = {
    .name = "classify",
    .doc = "classification heads (softmax/sigmoid top-k, multi-head) -> object classes and attrs",
    .inputs = {{"in", VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .params = k_params,
    .state_size = sizeof(cls_state),
    .init = cls_init,
    .process = cls_process,
    .destroy = cls_destroy,
};
