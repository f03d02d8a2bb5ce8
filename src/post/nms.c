/* nms.c - greedy non-maximum suppression on the CPU: the reference for the CUDA path, the
 * tile fusion and every decoder. Ordering rule: score descending, ties by the lower index. */
#include "post_internal.h"
#include "post/cuda/post_kernels.h"

float vg_nms_iou(const vg_box *a, const vg_box *b) {
  return pk_iou(a->x1, a->y1, a->x2, a->y2, b->x1, b->y1, b->x2, b->y2);
}

typedef struct order_item {
  float score;
  size_t index;
} order_item;

static int cmp_order(const void *pa, const void *pb) {
  const order_item *a = pa, *b = pb;
  if (a->score > b->score) return -1;
  if (a->score < b->score) return 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_cand(const void *pa, const void *pb) {
  const post_cand *a = pa, *b = pb;
  if (a->score > b->score) return -1;
  if (a->score < b->score) return 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

void post_sort_cands(post_cand *c, size_t n) {
  if (n > 1) qsort(c, n, sizeof *c, cmp_cand);
}

vg_status vg_nms(const vg_box *boxes, const float *scores, const int *classes, size_t n,
                 float iou_threshold, bool agnostic, size_t max_keep, size_t *keep, size_t *nkeep) {
  *nkeep = 0;
  if (n == 0 || max_keep == 0) return VG_OK;
  if (!boxes || !scores || !keep) return vg_set_error(VG_ERR_INVALID_ARG, "vg_nms: NULL array");
  if (!(iou_threshold >= 0.f && iou_threshold <= 1.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_nms: iou_threshold %g is outside 0..1",
                        (double)iou_threshold);
  order_item *ord = malloc(n * sizeof *ord);
  if (!ord) return vg_set_error(VG_ERR_NO_MEMORY, "vg_nms: out of memory for %zu boxes", n);
  for (size_t i = 0; i < n; i++)
    ord[i] = (order_item){scores[i], i};
  qsort(ord, n, sizeof *ord, cmp_order);
  size_t k = 0;
  for (size_t i = 0; i < n && k < max_keep; i++) {
    size_t c = ord[i].index;
    bool drop = false;
    for (size_t j = 0; j < k && !drop; j++) {
      size_t o = keep[j];
      if (!agnostic && classes && classes[o] != classes[c]) continue;
      drop = vg_nms_iou(&boxes[o], &boxes[c]) > iou_threshold;
    }
    if (!drop) keep[k++] = c;
  }
  free(ord);
  *nkeep = k;
  return VG_OK;
}

vg_status vg_nms_objects(vg_objects *objs, float iou_threshold, bool agnostic, size_t max_keep) {
  size_t n = objs->count;
  if (n == 0) return VG_OK;
  vg_box *boxes = malloc(n * sizeof *boxes);
  float *scores = malloc(n * sizeof *scores);
  int *classes = malloc(n * sizeof *classes);
  size_t *keep = malloc(n * sizeof *keep);
  vg_object *tmp = malloc(n * sizeof *tmp);
  vg_status s = VG_OK;
  if (!boxes || !scores || !classes || !keep || !tmp) {
    s = vg_set_error(VG_ERR_NO_MEMORY, "vg_nms_objects: out of memory for %zu objects", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    boxes[i] = objs->items[i].box;
    scores[i] = objs->items[i].score;
    classes[i] = objs->items[i].class_id;
  }
  size_t nk;
  s = vg_nms(boxes, scores, classes, n, iou_threshold, agnostic, max_keep < n ? max_keep : n, keep,
             &nk);
  if (s != VG_OK) goto done;
  for (size_t i = 0; i < nk; i++)
    tmp[i] = objs->items[keep[i]];
  memcpy(objs->items, tmp, nk * sizeof *tmp);
  objs->count = nk;
done:
  free(boxes);
  free(scores);
  free(classes);
  free(keep);
  free(tmp);
  return s;
}
