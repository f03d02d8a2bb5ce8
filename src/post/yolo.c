/* yolo.c - YOLO detection heads on the CPU: v5 ([B,N,5+nc], objectness), v8/v11 ([B,4+nc,N])
 * and end-to-end exports ([B,N,6] or separate tensors); the reference for the CUDA path. */
#include "post_internal.h"
#include "post/cuda/post_kernels.h"

#include <stdio.h>

void vg_yolo_params_default(vg_yolo_params *p) {
  memset(p, 0, sizeof *p);
  p->layout = VG_YOLO_AUTO;
  p->conf_threshold = 0.25f;
  p->iou_threshold = 0.45f;
  p->top_k = 30000;
  p->max_det = 300;
}

const char *vg_yolo_layout_name(vg_yolo_layout l) {
  switch (l) {
  case VG_YOLO_AUTO:
    return "auto";
  case VG_YOLO_V5:
    return "v5";
  case VG_YOLO_V8:
    return "v8";
  case VG_YOLO_E2E:
    return "e2e";
  }
  return "?";
}

vg_status vg_yolo_layout_parse(const char *text, vg_yolo_layout *out) {
  static const struct {
    const char *name;
    vg_yolo_layout l;
  } names[] = {{"auto", VG_YOLO_AUTO},   {"v5", VG_YOLO_V5},      {"yolov5", VG_YOLO_V5},
               {"v8", VG_YOLO_V8},       {"yolov8", VG_YOLO_V8},  {"v11", VG_YOLO_V8},
               {"yolo11", VG_YOLO_V8},   {"yolov11", VG_YOLO_V8}, {"e2e", VG_YOLO_E2E},
               {"end2end", VG_YOLO_E2E}, {"v10", VG_YOLO_E2E},    {"yolov10", VG_YOLO_E2E}};
  for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(text, names[i].name) == 0) {
      *out = names[i].l;
      return VG_OK;
    }
  return vg_set_error(VG_ERR_INVALID_ARG,
                      "unknown YOLO layout '%s' (expected auto, v5, v8, v11, "
                      "e2e)",
                      text ? text : "(null)");
}

vg_status vg_yolo_params_from_config(const vg_cnode *map, vg_yolo_params *p) {
  vg_yolo_params_default(p);
  if (!map) return VG_OK;
  const char *layout;
  int64_t v;
  double d;
  VG_TRY(vg_cfg_string(map, "layout", false, "auto", &layout));
  if (vg_yolo_layout_parse(layout, &p->layout) != VG_OK)
    return vg_cnode_error(vg_cnode_get(map, "layout"), VG_ERR_PARSE, "%s", vg_last_error());
  VG_TRY(vg_cfg_int_range(map, "num_classes", false, 0, 0, 100000, &v));
  p->num_classes = (int)v;
  VG_TRY(vg_cfg_int_range(map, "num_mask_coeffs", false, 0, 0, 1024, &v));
  p->num_mask_coeffs = (int)v;
  VG_TRY(vg_cfg_double_range(map, "conf_threshold", false, p->conf_threshold, 0, 1, &d));
  p->conf_threshold = (float)d;
  VG_TRY(vg_cfg_double_range(map, "iou_threshold", false, p->iou_threshold, 0, 1, &d));
  p->iou_threshold = (float)d;
  VG_TRY(vg_cfg_bool(map, "class_agnostic", false, false, &p->class_agnostic));
  VG_TRY(vg_cfg_int_range(map, "top_k", false, p->top_k, 1, VG_YOLO_MAX_TOP_K, &v));
  p->top_k = (int)v;
  VG_TRY(vg_cfg_int_range(map, "max_det", false, p->max_det, 1, 100000, &v));
  p->max_det = (int)v;
  const vg_cnode *cls = vg_cnode_get(map, "classes");
  if (cls && !vg_cnode_is_null(cls)) {
    if (vg_cnode_get_kind(cls) != VG_CNODE_SEQ)
      return vg_cnode_error(cls, VG_ERR_PARSE, "expected a list of class ids");
    if (vg_cnode_len(cls) > VG_YOLO_MAX_CLASS_FILTER)
      return vg_cnode_error(cls, VG_ERR_PARSE, "%zu classes listed, at most %d", vg_cnode_len(cls),
                            VG_YOLO_MAX_CLASS_FILTER);
    for (size_t i = 0; i < vg_cnode_len(cls); i++) {
      const vg_cnode *c = vg_cnode_at(cls, i);
      if (vg_cnode_as_int(c, &v) != VG_OK || v < 0 || v > 100000)
        return vg_cnode_error(c, VG_ERR_PARSE, "expected a class id (0..100000), got '%s'",
                              vg_cnode_scalar(c) ? vg_cnode_scalar(c) : "a collection");
      p->class_filter[p->nclass_filter++] = (int)v;
    }
  }
  return VG_OK;
}

vg_status post_yolo_check_params(const vg_yolo_params *p) {
  if (!(p->conf_threshold >= 0.f && p->conf_threshold <= 1.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: conf_threshold %g is outside 0..1",
                        (double)p->conf_threshold);
  if (!(p->iou_threshold >= 0.f && p->iou_threshold <= 1.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: iou_threshold %g is outside 0..1",
                        (double)p->iou_threshold);
  if (p->top_k < 1 || p->top_k > VG_YOLO_MAX_TOP_K)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: top_k %d is outside 1..%d", p->top_k,
                        VG_YOLO_MAX_TOP_K);
  if (p->max_det < 1) return vg_set_error(VG_ERR_INVALID_ARG, "yolo: max_det %d < 1", p->max_det);
  if (p->nclass_filter < 0 || p->nclass_filter > VG_YOLO_MAX_CLASS_FILTER)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: nclass_filter %d is outside 0..%d",
                        p->nclass_filter, VG_YOLO_MAX_CLASS_FILTER);
  return VG_OK;
}

vg_status vg_yolo_detect_layout(const vg_tensor *out, const vg_yolo_params *p,
                                vg_yolo_layout *layout, int *num_classes) {
  char sh[96];
  if (!out || out->ndim != 3 || out->shape[0] < 1 || out->shape[1] < 1 || out->shape[2] < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: head output %s is not [B, N, C] or [B, C, N]",
                        out ? post_shape_str(out, sh, sizeof sh) : "(null)");
  int64_t x = out->shape[1], y = out->shape[2];
  int nm = p->num_mask_coeffs;
  vg_yolo_layout l = p->layout;
  if (l == VG_YOLO_AUTO) {
    if (x < y && x - 4 - nm >= 1)
      l = VG_YOLO_V8;
    else if (y == 6 && p->num_classes != 1 && nm == 0)
      l = VG_YOLO_E2E;
    else
      l = VG_YOLO_V5;
  }
  int64_t nc;
  switch (l) {
  case VG_YOLO_V8:
    nc = x - 4 - nm;
    break;
  case VG_YOLO_V5:
    nc = y - 5 - nm;
    break;
  case VG_YOLO_E2E:
    if (y < 6)
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo: end-to-end output %s needs 6 values per row",
                          post_shape_str(out, sh, sizeof sh));
    nc = p->num_classes;
    break;
  default:
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: bad layout %d", (int)l);
  }
  if (l != VG_YOLO_E2E) {
    if (nc < 1)
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "yolo: head output %s leaves %lld classes for layout %s with %d mask "
                          "coefficients",
                          post_shape_str(out, sh, sizeof sh), (long long)nc, vg_yolo_layout_name(l),
                          nm);
    if (p->num_classes > 0 && nc != p->num_classes)
      return vg_set_error(
          VG_ERR_INVALID_ARG,
          "yolo: head output %s has %lld classes for layout %s, num_classes says %d",
          post_shape_str(out, sh, sizeof sh), (long long)nc, vg_yolo_layout_name(l),
          p->num_classes);
    if ((l == VG_YOLO_V8 ? y : x) > 0xffffff)
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo: %s has more than 16M anchors",
                          post_shape_str(out, sh, sizeof sh));
  }
  *layout = l;
  *num_classes = (int)nc;
  return VG_OK;
}

/* Best class of anchor i: first maximum. */
static void best_class(const vg_tensor *t, vg_yolo_layout l, int b, int64_t i, int first, int nc,
                       int *cls, float *score) {
  int best = 0;
  float bs = post_get(t, post_yolo_off(t, l, b, i, first));
  for (int c = 1; c < nc; c++) {
    float s = post_get(t, post_yolo_off(t, l, b, i, first + c));
    if (s > bs) bs = s, best = c;
  }
  *cls = best;
  *score = bs;
}

vg_status post_yolo_run(const vg_tensor *out, int b, const vg_yolo_params *p, int nm,
                        post_cand **kept, size_t *nkept, vg_yolo_layout *layout, int *nc_out) {
  *kept = NULL;
  *nkept = 0;
  VG_TRY(post_check_host(out, "yolo", true));
  VG_TRY(post_yolo_check_params(p));
  vg_yolo_params q = *p;
  q.num_mask_coeffs = nm;
  vg_yolo_layout l;
  int nc;
  VG_TRY(vg_yolo_detect_layout(out, &q, &l, &nc));
  if (l == VG_YOLO_E2E)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: end-to-end output has no anchors to decode");
  if (b < 0 || b >= out->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: image %d outside the batch of %lld", b,
                        (long long)out->shape[0]);
  int64_t n = l == VG_YOLO_V8 ? out->shape[2] : out->shape[1];
  post_cand *c = malloc((size_t)(n ? n : 1) * sizeof *c);
  if (!c)
    return vg_set_error(VG_ERR_NO_MEMORY, "yolo: out of memory for %lld anchors", (long long)n);
  size_t m = 0;
  int first = l == VG_YOLO_V5 ? 5 : 4;
  for (int64_t i = 0; i < n; i++) {
    int cls;
    float sc;
    best_class(out, l, b, i, first, nc, &cls, &sc);
    if (l == VG_YOLO_V5) sc = post_get(out, post_yolo_off(out, l, b, i, 4)) * sc;
    if (!(sc > p->conf_threshold) || !post_class_allowed(p, cls)) continue;
    float v[4];
    for (int k = 0; k < 4; k++)
      v[k] = post_get(out, post_yolo_off(out, l, b, i, k));
    post_cand *d = &c[m++];
    pk_cxcywh(v[0], v[1], v[2], v[3], &d->box.x1, &d->box.y1, &d->box.x2, &d->box.y2);
    d->score = sc;
    d->class_id = cls;
    d->index = (int)i;
  }
  post_sort_cands(c, m);
  if (m > (size_t)p->top_k) m = (size_t)p->top_k;
  /* greedy NMS over the sorted candidates (already in the NMS order) */
  size_t k = 0;
  for (size_t i = 0; i < m && k < (size_t)p->max_det; i++) {
    bool drop = false;
    for (size_t j = 0; j < k && !drop; j++) {
      if (!p->class_agnostic && c[j].class_id != c[i].class_id) continue;
      drop = vg_nms_iou(&c[j].box, &c[i].box) > p->iou_threshold;
    }
    if (!drop) c[k++] = c[i];
  }
  *kept = c;
  *nkept = k;
  *layout = l;
  *nc_out = nc;
  return VG_OK;
}

vg_object post_cand_to_object(const post_cand *c, const vg_yolo_params *p, const vg_xform *xf) {
  vg_object o = vg_object_init();
  vg_xform id = vg_xform_identity();
  if (!xf) xf = &id;
  o.box.x1 = pk_to_frame(c->box.x1, xf->pad_x, xf->scale_x, xf->off_x);
  o.box.y1 = pk_to_frame(c->box.y1, xf->pad_y, xf->scale_y, xf->off_y);
  o.box.x2 = pk_to_frame(c->box.x2, xf->pad_x, xf->scale_x, xf->off_x);
  o.box.y2 = pk_to_frame(c->box.y2, xf->pad_y, xf->scale_y, xf->off_y);
  o.score = c->score;
  o.class_id = c->class_id;
  post_set_label(&o, p->labels, c->class_id);
  return o;
}

static vg_status check_xform(const vg_xform *xf) {
  if (xf && !(xf->scale_x > 0.f && xf->scale_y > 0.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: transform scale %g x %g is not positive",
                        (double)xf->scale_x, (double)xf->scale_y);
  return VG_OK;
}

/* End-to-end [B, N, >=6] rows: x1, y1, x2, y2, score, class. */
static vg_status decode_e2e(const vg_tensor *t, int b, const vg_yolo_params *p, const vg_xform *xf,
                            vg_objects *objs) {
  int kept = 0;
  for (int64_t i = 0; i < t->shape[1] && kept < p->max_det; i++) {
    float v[6];
    for (int k = 0; k < 6; k++)
      v[k] = post_get(t, b * t->strides[0] + i * t->strides[1] + k * t->strides[2]);
    int cls = (int)lrintf(v[5]);
    if (!(v[4] > p->conf_threshold) || !post_class_allowed(p, cls)) continue;
    post_cand c = {{v[0], v[1], v[2], v[3]}, v[4], cls, (int)i};
    vg_object o = post_cand_to_object(&c, p, xf);
    VG_TRY(vg_objects_push(objs, &o));
    kept++;
  }
  return VG_OK;
}

vg_status vg_yolo_decode(const vg_tensor *out, int b, const vg_yolo_params *p, const vg_xform *xf,
                         vg_objects *objs) {
  VG_TRY(post_check_host(out, "yolo", true));
  VG_TRY(post_yolo_check_params(p));
  VG_TRY(check_xform(xf));
  vg_yolo_layout l;
  int nc;
  VG_TRY(vg_yolo_detect_layout(out, p, &l, &nc));
  if (l == VG_YOLO_E2E) {
    if (b < 0 || b >= out->shape[0])
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo: image %d outside the batch of %lld", b,
                          (long long)out->shape[0]);
    return decode_e2e(out, b, p, xf, objs);
  }
  post_cand *c;
  size_t n;
  VG_TRY(post_yolo_run(out, b, p, p->num_mask_coeffs, &c, &n, &l, &nc));
  vg_status s = vg_objects_reserve(objs, objs->count + n);
  for (size_t i = 0; i < n && s == VG_OK; i++) {
    vg_object o = post_cand_to_object(&c[i], p, xf);
    s = vg_objects_push(objs, &o);
  }
  free(c);
  return s;
}

vg_status vg_yolo_decode_e2e_split(const vg_tensor *boxes, const vg_tensor *scores,
                                   const vg_tensor *classes, const vg_tensor *num_dets, int b,
                                   const vg_yolo_params *p, const vg_xform *xf, vg_objects *objs) {
  char s1[96], s2[96], s3[96];
  VG_TRY(post_check_host(boxes, "yolo boxes", true));
  VG_TRY(post_check_host(scores, "yolo scores", true));
  VG_TRY(post_check_host(classes, "yolo classes", false));
  VG_TRY(post_yolo_check_params(p));
  VG_TRY(check_xform(xf));
  if (boxes->ndim != 3 || boxes->shape[2] != 4 || scores->ndim != 2 || classes->ndim != 2 ||
      scores->shape[0] != boxes->shape[0] || scores->shape[1] != boxes->shape[1] ||
      classes->shape[0] != boxes->shape[0] || classes->shape[1] != boxes->shape[1])
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "yolo: end-to-end outputs boxes %s, scores %s, classes %s are not "
                        "[B,N,4], [B,N], [B,N]",
                        post_shape_str(boxes, s1, sizeof s1), post_shape_str(scores, s2, sizeof s2),
                        post_shape_str(classes, s3, sizeof s3));
  if (b < 0 || b >= boxes->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo: image %d outside the batch of %lld", b,
                        (long long)boxes->shape[0]);
  int64_t n = boxes->shape[1];
  if (num_dets) {
    VG_TRY(post_check_host(num_dets, "yolo num_dets", false));
    if (num_dets->shape[0] != boxes->shape[0] || num_dets->ndim > 2 ||
        (num_dets->ndim == 2 && num_dets->shape[1] != 1))
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo: num_dets %s is not [B] or [B,1]",
                          post_shape_str(num_dets, s1, sizeof s1));
    float nd = post_get(num_dets, b * num_dets->strides[0]);
    if (!(nd >= 0.f) || nd > (float)n)
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo: num_dets[%d] = %g is outside 0..%lld", b,
                          (double)nd, (long long)n);
    n = (int64_t)nd;
  }
  int kept = 0;
  for (int64_t i = 0; i < n && kept < p->max_det; i++) {
    float sc = post_get(scores, b * scores->strides[0] + i * scores->strides[1]);
    int cls = (int)lrintf(post_get(classes, b * classes->strides[0] + i * classes->strides[1]));
    if (!(sc > p->conf_threshold) || !post_class_allowed(p, cls)) continue;
    float v[4];
    for (int k = 0; k < 4; k++)
      v[k] = post_get(boxes, b * boxes->strides[0] + i * boxes->strides[1] + k * boxes->strides[2]);
    post_cand c = {{v[0], v[1], v[2], v[3]}, sc, cls, (int)i};
    vg_object o = post_cand_to_object(&c, p, xf);
    VG_TRY(vg_objects_push(objs, &o));
    kept++;
  }
  return VG_OK;
}
