/* tiles.c - tile fusion: detections of several views of one frame (tiles and the global view),
 * already mapped to frame coordinates, merged into one list with the duplicates at tile borders
 * removed by NMS or weighted box merging, matched by IoU or intersection-over-smaller. */
#include "post_internal.h"

void vg_fuse_params_default(vg_fuse_params *p) {
  p->method = VG_FUSE_NMS;
  p->match = VG_MATCH_IOS;
  p->threshold = 0.5f;
  p->class_agnostic = false;
  p->max_det = 1000;
}

vg_status vg_fuse_params_from_config(const vg_cnode *map, vg_fuse_params *p) {
  vg_fuse_params_default(p);
  if (!map) return VG_OK;
  const char *s;
  double d;
  int64_t v;
  VG_TRY(vg_cfg_string(map, "method", false, "nms", &s));
  if (strcmp(s, "nms") == 0)
    p->method = VG_FUSE_NMS;
  else if (strcmp(s, "wbm") == 0)
    p->method = VG_FUSE_WBM;
  else
    return vg_cnode_error(vg_cnode_get(map, "method"), VG_ERR_PARSE,
                          "unknown fusion method '%s' (expected nms or wbm)", s);
  VG_TRY(vg_cfg_string(map, "match", false, "ios", &s));
  if (strcmp(s, "iou") == 0)
    p->match = VG_MATCH_IOU;
  else if (strcmp(s, "ios") == 0)
    p->match = VG_MATCH_IOS;
  else
    return vg_cnode_error(vg_cnode_get(map, "match"), VG_ERR_PARSE,
                          "unknown match metric '%s' (expected iou or ios)", s);
  VG_TRY(vg_cfg_double_range(map, "threshold", false, p->threshold, 0, 1, &d));
  p->threshold = (float)d;
  VG_TRY(vg_cfg_bool(map, "class_agnostic", false, false, &p->class_agnostic));
  VG_TRY(vg_cfg_int_range(map, "max_det", false, p->max_det, 1, 1000000, &v));
  p->max_det = (int)v;
  return VG_OK;
}

static float box_area(const vg_box *b) {
  float w = b->x2 - b->x1, h = b->y2 - b->y1;
  return w > 0 && h > 0 ? w * h : 0.f;
}

static float match_value(const vg_box *a, const vg_box *b, vg_fuse_match m) {
  if (m == VG_MATCH_IOU) return vg_nms_iou(a, b);
  float iw = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
  float ih = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
  if (!(iw > 0) || !(ih > 0)) return 0.f;
  float sa = box_area(a), sb = box_area(b), small = sa < sb ? sa : sb;
  return small > 0 ? iw * ih / small : 0.f;
}

typedef struct fuse_item {
  const vg_object *obj;
  size_t order; /* view-major position, the tie-break */
} fuse_item;

static int cmp_item(const void *pa, const void *pb) {
  const fuse_item *a = pa, *b = pb;
  if (a->obj->score > b->obj->score) return -1;
  if (a->obj->score < b->obj->score) return 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

typedef struct cluster {
  size_t rep; /* index into items of the kept box */
  double sw, x1, y1, x2, y2;
} cluster;

static void cluster_add(cluster *c, const vg_object *o) {
  double w = o->score > 0 ? o->score : 1e-6;
  c->sw += w;
  c->x1 += w * o->box.x1, c->y1 += w * o->box.y1;
  c->x2 += w * o->box.x2, c->y2 += w * o->box.y2;
}

vg_status vg_tiles_fuse(const vg_objects *views, int nviews, const vg_fuse_params *p,
                        vg_objects *out) {
  if (nviews < 0 || (nviews > 0 && !views))
    return vg_set_error(VG_ERR_INVALID_ARG, "tile fusion: bad view list (%d views)", nviews);
  if (!(p->threshold >= 0.f && p->threshold <= 1.f) || p->max_det < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "tile fusion: threshold %g or max_det %d out of range",
                        (double)p->threshold, p->max_det);
  size_t n = 0;
  for (int v = 0; v < nviews; v++)
    n += views[v].count;
  if (n == 0) return VG_OK;
  fuse_item *it = malloc(n * sizeof *it);
  cluster *cl = malloc(n * sizeof *cl);
  if (!it || !cl) {
    free(it), free(cl);
    return vg_set_error(VG_ERR_NO_MEMORY, "tile fusion: out of memory for %zu detections", n);
  }
  size_t k = 0;
  for (int v = 0; v < nviews; v++)
    for (size_t i = 0; i < views[v].count; i++, k++)
      it[k] = (fuse_item){&views[v].items[i], k};
  qsort(it, n, sizeof *it, cmp_item);
  size_t nc = 0;
  for (size_t i = 0; i < n; i++) {
    const vg_object *o = it[i].obj;
    size_t hit = nc;
    for (size_t c = 0; c < nc && hit == nc; c++) {
      const vg_object *r = it[cl[c].rep].obj;
      if (!p->class_agnostic && r->class_id != o->class_id) continue;
      if (match_value(&r->box, &o->box, p->match) > p->threshold) hit = c;
    }
    if (hit < nc) {
      cluster_add(&cl[hit], o);
    } else if (nc < (size_t)p->max_det) {
      cl[nc] = (cluster){i, 0, 0, 0, 0, 0};
      cluster_add(&cl[nc++], o);
    }
  }
  vg_status s = vg_objects_reserve(out, out->count + nc);
  for (size_t c = 0; c < nc && s == VG_OK; c++) {
    vg_object o = *it[cl[c].rep].obj;
    if (p->method == VG_FUSE_WBM) {
      o.box = (vg_box){(float)(cl[c].x1 / cl[c].sw), (float)(cl[c].y1 / cl[c].sw),
                       (float)(cl[c].x2 / cl[c].sw), (float)(cl[c].y2 / cl[c].sw)};
    }
    s = vg_objects_push(out, &o);
  }
  free(it);
  free(cl);
  return s;
}
