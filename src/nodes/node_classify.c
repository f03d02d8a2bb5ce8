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
  vg_activation act;
  int top_k;
  bool use_heads, frame_target, keep_tensors;
  vg_cls_heads heads;
  vg_labels *labels;
} cls_state;

static const char *const k_params[] = {"tensor", "tensors", "activation",   "top_k", "labels",
                                       "heads",  "target",  "keep_tensors", NULL};

static void cls_destroy(void *state) {
  cls_state *s = state;
  if (!s) return;
  vg_labels_free(s->labels);
  free(s);
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

static vg_status read_tensors(const vg_cnode *params, cls_state *s) {
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

static vg_status read_mode(const vg_cnode *params, cls_state *s) {
  const char *act, *target;
  int64_t k;
  VG_TRY(vg_cfg_string(params, "activation", false, "softmax", &act));
  if (vg_activation_parse(act, &s->act) != VG_OK || s->act == VG_ACT_TANH)
    return vg_cnode_error(vg_cnode_get(params, "activation"), VG_ERR_PARSE,
                          "activation must be softmax, sigmoid or none, got '%s'", act);
  VG_TRY(vg_cfg_int_range(params, "top_k", false, 1, 1, VG_CLS_MAX_TOPK, &k));
  s->top_k = (int)k;
  VG_TRY(vg_cfg_string(params, "target", false, "objects", &target));
  if (strcmp(target, "frame") == 0)
    s->frame_target = true;
  else if (strcmp(target, "objects") != 0)
    return vg_cnode_error(vg_cnode_get(params, "target"), VG_ERR_PARSE,
                          "target must be objects or frame, got '%s'", target);
  VG_TRY(vg_cfg_bool(params, "keep_tensors", false, false, &s->keep_tensors));
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

static vg_status cls_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  cls_state *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  vg_status st = read_tensors(params, s);
  if (st == VG_OK) st = read_mode(params, s);
  if (st == VG_OK) st = det_labels_from_params(params, "labels", &s->labels);
  if (st != VG_OK) {
    cls_destroy(s);
    return st;
  }
  *state = s;
  return VG_OK;
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
                          s->frame_target ? "frame" : "object of the packet");
  }
  return VG_OK;
}

static vg_status classify_packet(const cls_state *s, const vg_packet *in, vg_objects *list) {
  const vg_tensor *t[CLS_MAX_TENSORS];
  if (!s->frame_target) {
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
    .init = cls_init,
    .process = cls_process,
    .destroy = cls_destroy,
};
