/* packet.c - vg_packet, the reference-counted unit that flows on graph edges: one frame of one
 * stream with its picture, named tensors, objects (shared copy-on-write) and transforms. */
#include "vidgraph/vg_graph.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list of objects shared by several packets; copied before a packet edits it. */
typedef struct objbox {
  atomic_int refs;
  vg_objects list;
} objbox;

typedef struct named_tensor {
  char name[VG_TENSOR_NAME_MAX];
  vg_tensor t;
} named_tensor;

struct vg_packet {
  atomic_int refs;
  int stream_id;
  int64_t frame_no, pts, t_capture_ns;
  unsigned flags;
  bool has_frame;
  vg_frame frame;
  int ntensors;
  named_tensor tensors[VG_PACKET_MAX_TENSORS];
  objbox *objs; /* NULL = empty */
  vg_xform *xforms;
  int nxforms;
};

static atomic_long g_live; /* diagnostic only: packets alive in the process */

long vg_packet_live_count(void) {
  return atomic_load(&g_live);
}

static void objbox_unref(objbox *b) {
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    vg_objects_free(&b->list);
    free(b);
  }
}

vg_status vg_packet_new(vg_packet **out) {
  vg_packet *p = calloc(1, sizeof *p);
  *out = NULL;
  if (!p) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a packet");
  atomic_init(&p->refs, 1);
  p->frame_no = -1;
  p->pts = INT64_MIN;
  atomic_fetch_add(&g_live, 1);
  *out = p;
  return VG_OK;
}

vg_status vg_packet_derive(const vg_packet *src, vg_packet **out) {
  VG_TRY(vg_packet_new(out));
  vg_packet *p = *out;
  if (!src) return VG_OK;
  if (src->nxforms > 0 && vg_packet_set_xforms(p, src->xforms, src->nxforms) != VG_OK) {
    vg_packet_unref(p);
    *out = NULL;
    return vg_last_status();
  }
  p->stream_id = src->stream_id;
  p->frame_no = src->frame_no;
  p->pts = src->pts;
  p->t_capture_ns = src->t_capture_ns;
  p->flags = src->flags;
  if (src->has_frame) vg_packet_set_frame(p, &src->frame);
  for (int i = 0; i < src->ntensors; i++) {
    memcpy(p->tensors[i].name, src->tensors[i].name, VG_TENSOR_NAME_MAX);
    vg_tensor_view(&src->tensors[i].t, &p->tensors[i].t);
  }
  p->ntensors = src->ntensors;
  if (src->objs) {
    atomic_fetch_add(&src->objs->refs, 1);
    p->objs = src->objs;
  }
  return VG_OK;
}

vg_packet *vg_packet_ref(vg_packet *p) {
  if (p) {
    VG_ASSERT(atomic_load(&p->refs) > 0);
    atomic_fetch_add(&p->refs, 1);
  }
  return p;
}

void vg_packet_unref(vg_packet *p) {
  if (!p) return;
  int before = atomic_fetch_sub(&p->refs, 1);
  VG_ASSERT(before > 0);
  if (before != 1) return;
  if (p->has_frame) vg_frame_release(&p->frame);
  for (int i = 0; i < p->ntensors; i++)
    vg_tensor_release(&p->tensors[i].t);
  objbox_unref(p->objs);
  free(p->xforms);
  free(p);
  atomic_fetch_sub(&g_live, 1);
}

int vg_packet_refcount(const vg_packet *p) {
  return p ? atomic_load(&((vg_packet *)p)->refs) : 0;
}

/* ----------------------------------------------------------------------------- header */

int vg_packet_stream(const vg_packet *p) {
  return p->stream_id;
}
int64_t vg_packet_frame_no(const vg_packet *p) {
  return p->frame_no;
}
int64_t vg_packet_pts(const vg_packet *p) {
  return p->pts;
}
int64_t vg_packet_t_capture_ns(const vg_packet *p) {
  return p->t_capture_ns;
}
unsigned vg_packet_flags(const vg_packet *p) {
  return p->flags;
}
void vg_packet_set_stream(vg_packet *p, int stream_id, int64_t frame_no) {
  p->stream_id = stream_id;
  p->frame_no = frame_no;
}
void vg_packet_set_pts(vg_packet *p, int64_t pts, int64_t t_capture_ns) {
  p->pts = pts;
  p->t_capture_ns = t_capture_ns;
}
void vg_packet_set_flags(vg_packet *p, unsigned flags) {
  p->flags = flags;
}

/* ----------------------------------------------------------------------------- picture */

const vg_frame *vg_packet_frame(const vg_packet *p) {
  return p->has_frame ? &p->frame : NULL;
}

void vg_packet_set_frame(vg_packet *p, const vg_frame *f) {
  vg_frame view;
  if (f) vg_frame_view(f, &view); /* before releasing: f may be our own frame */
  vg_packet_clear_frame(p);
  if (!f) return;
  p->frame = view;
  p->has_frame = true;
}

void vg_packet_clear_frame(vg_packet *p) {
  if (p->has_frame) vg_frame_release(&p->frame);
  p->has_frame = false;
}

/* ----------------------------------------------------------------------------- tensors */

static int tensor_index(const vg_packet *p, const char *name) {
  for (int i = 0; i < p->ntensors; i++)
    if (strcmp(p->tensors[i].name, name) == 0) return i;
  return -1;
}

const vg_tensor *vg_packet_tensor(const vg_packet *p, const char *name) {
  int i = name ? tensor_index(p, name) : -1;
  return i < 0 ? NULL : &p->tensors[i].t;
}

int vg_packet_ntensors(const vg_packet *p) {
  return p->ntensors;
}

const vg_tensor *vg_packet_tensor_at(const vg_packet *p, int i, const char **name) {
  if (i < 0 || i >= p->ntensors) return NULL;
  if (name) *name = p->tensors[i].name;
  return &p->tensors[i].t;
}

vg_status vg_packet_set_tensor(vg_packet *p, const char *name, const vg_tensor *t) {
  if (!name || !name[0] || strlen(name) >= VG_TENSOR_NAME_MAX || !t)
    return vg_set_error(VG_ERR_INVALID_ARG, "packet tensor name '%s' must be 1..%d characters",
                        name ? name : "(null)", VG_TENSOR_NAME_MAX - 1);
  int i = tensor_index(p, name);
  if (i < 0) {
    if (p->ntensors == VG_PACKET_MAX_TENSORS)
      return vg_set_error(VG_ERR_INVALID_ARG, "packet already holds %d tensors; cannot add '%s'",
                          VG_PACKET_MAX_TENSORS, name);
    i = p->ntensors++;
    snprintf(p->tensors[i].name, VG_TENSOR_NAME_MAX, "%s", name);
    vg_tensor_view(t, &p->tensors[i].t);
    return VG_OK;
  }
  vg_tensor view;
  vg_tensor_view(t, &view);
  vg_tensor_release(&p->tensors[i].t);
  p->tensors[i].t = view;
  return VG_OK;
}

void vg_packet_remove_tensor(vg_packet *p, const char *name) {
  int i = name ? tensor_index(p, name) : -1;
  if (i < 0) return;
  vg_tensor_release(&p->tensors[i].t);
  memmove(&p->tensors[i], &p->tensors[i + 1], (size_t)(p->ntensors - i - 1) * sizeof p->tensors[0]);
  p->ntensors--;
}

/* ----------------------------------------------------------------------------- objects */

const vg_objects *vg_packet_objects(const vg_packet *p) {
  static const vg_objects empty = {0}; /* immutable, shared by all empty packets */
  return p->objs ? &p->objs->list : &empty;
}

static vg_status new_box(objbox **out) {
  objbox *b = calloc(1, sizeof *b);
  *out = b;
  if (!b) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a packet's objects");
  atomic_init(&b->refs, 1);
  return VG_OK;
}

vg_status vg_packet_objects_edit(vg_packet *p, vg_objects **out) {
  *out = NULL;
  if (!p->objs) {
    VG_TRY(new_box(&p->objs));
  } else if (atomic_load(&p->objs->refs) > 1) {
    objbox *b;
    VG_TRY(new_box(&b));
    const vg_objects *src = &p->objs->list;
    if (src->count && vg_objects_reserve(&b->list, src->count) != VG_OK) {
      free(b);
      return vg_last_status();
    }
    if (src->count) memcpy(b->list.items, src->items, src->count * sizeof *src->items);
    b->list.count = src->count;
    objbox_unref(p->objs);
    p->objs = b;
  }
  *out = &p->objs->list;
  return VG_OK;
}

vg_status vg_packet_set_objects(vg_packet *p, vg_objects *list) {
  objbox *b;
  VG_TRY(new_box(&b));
  b->list = *list;
  memset(list, 0, sizeof *list);
  objbox_unref(p->objs);
  p->objs = b;
  return VG_OK;
}

/* ----------------------------------------------------------------------------- transforms */

const vg_xform *vg_packet_xforms(const vg_packet *p, int *n) {
  if (n) *n = p->nxforms;
  return p->xforms;
}

vg_status vg_packet_set_xforms(vg_packet *p, const vg_xform *x, int n) {
  if (n < 0 || n > 65536 || (n > 0 && !x))
    return vg_set_error(VG_ERR_INVALID_ARG, "packet transforms: bad count %d", n);
  vg_xform *copy = NULL;
  if (n > 0) {
    copy = malloc((size_t)n * sizeof *copy);
    if (!copy) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for %d transforms", n);
    memcpy(copy, x, (size_t)n * sizeof *copy);
  }
  free(p->xforms);
  p->xforms = copy;
  p->nxforms = n;
  return VG_OK;
}
