/* objects.c - lists of detected objects and box geometry shared by every layer above core. */
#include "vidgraph/vg_core.h"

#include <stdlib.h>
#include <string.h>

vg_object vg_object_init(void) {
  vg_object o;
  memset(&o, 0, sizeof o);
  o.track_id = -1;
  o.mask_index = -1;
  return o;
}

vg_status vg_objects_reserve(vg_objects *list, size_t cap) {
  if (cap <= list->cap) return VG_OK;
  if (cap > (SIZE_MAX / sizeof(vg_object)))
    return vg_set_error(VG_ERR_NO_MEMORY, "object list of %zu entries is too large", cap);
  vg_object *n = realloc(list->items, cap * sizeof *n);
  if (!n) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory growing an object list to %zu", cap);
  list->items = n;
  list->cap = cap;
  return VG_OK;
}

vg_status vg_objects_push(vg_objects *list, const vg_object *obj) {
  if (list->count == list->cap) VG_TRY(vg_objects_reserve(list, list->cap ? list->cap * 2 : 16));
  list->items[list->count++] = *obj;
  return VG_OK;
}

void vg_objects_clear(vg_objects *list) {
  list->count = 0;
}

void vg_objects_free(vg_objects *list) {
  free(list->items);
  memset(list, 0, sizeof *list);
}

float vg_box_iou(const vg_box *a, const vg_box *b) {
  float iw = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
  float ih = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
  if (iw <= 0 || ih <= 0) return 0.f;
  float inter = iw * ih;
  float ua = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
  return ua > 0 ? inter / ua : 0.f;
}
