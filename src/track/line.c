/* line.c - directed line-crossing counts: per track, the anchor point's side of the segment A -> B
 * is followed from frame to frame; a change of side across the segment itself is a crossing,
 * "in" when it goes from the left of A -> B to its right as seen on the image (y down). */
#include "track_internal.h"

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_TRACKS 65536

typedef struct line_trk {
  int64_t id;
  float x, y;   /* last anchor point with a non-zero side */
  int side;     /* -1 left, +1 right */
  int64_t seen; /* frame of the last update */
} line_trk;

struct vg_line_counter {
  vg_line_params p;
  line_trk *t;
  size_t n, cap;
  int64_t in[VG_COUNT_MAX_CLASSES + 1], out[VG_COUNT_MAX_CLASSES + 1]; /* last: all classes */
};

vg_status vg_anchor_parse(const char *text, vg_anchor *out) {
  if (text && strcmp(text, "center") == 0)
    *out = VG_ANCHOR_CENTER;
  else if (text && strcmp(text, "bottom") == 0)
    *out = VG_ANCHOR_BOTTOM;
  else
    return vg_set_error(VG_ERR_INVALID_ARG, "unknown anchor '%s' (expected center or bottom)",
                        text ? text : "(null)");
  return VG_OK;
}

vg_status track_cfg_floats(const vg_cnode *seq, float *v, int n) {
  if (!seq || vg_cnode_get_kind(seq) != VG_CNODE_SEQ || (n > 0 && vg_cnode_len(seq) != (size_t)n))
    return vg_cnode_error(seq, VG_ERR_PARSE, "expected a list of %d numbers", n);
  for (size_t i = 0; i < vg_cnode_len(seq); i++) {
    double d;
    if (vg_cnode_as_double(vg_cnode_at(seq, i), &d) != VG_OK)
      return vg_cnode_error(vg_cnode_at(seq, i), VG_ERR_PARSE, "expected a number");
    v[i] = (float)d;
  }
  return VG_OK;
}

static vg_status anchor_from_config(const vg_cnode *map, vg_anchor def, vg_anchor *a) {
  const char *s;
  VG_TRY(vg_cfg_string(map, "anchor", false, def == VG_ANCHOR_BOTTOM ? "bottom" : "center", &s));
  if (vg_anchor_parse(s, a) != VG_OK)
    return vg_cnode_error(vg_cnode_get(map, "anchor"), VG_ERR_PARSE, "%s", vg_last_error());
  return VG_OK;
}

vg_status vg_line_params_from_config(const vg_cnode *map, vg_line_params *p) {
  memset(p, 0, sizeof *p);
  p->max_age = 300;
  if (!map) return vg_set_error(VG_ERR_NOT_FOUND, "line counter: no parameters");
  const vg_cnode *l = vg_cnode_get(map, "line");
  if (!l) return vg_cnode_error(map, VG_ERR_NOT_FOUND, "missing required key 'line'");
  float v[4];
  VG_TRY(track_cfg_floats(l, v, 4));
  p->x1 = v[0], p->y1 = v[1], p->x2 = v[2], p->y2 = v[3];
  if (p->x1 == p->x2 && p->y1 == p->y2)
    return vg_cnode_error(l, VG_ERR_PARSE, "the line's two ends are the same point");
  VG_TRY(anchor_from_config(map, VG_ANCHOR_CENTER, &p->anchor));
  int64_t age;
  VG_TRY(vg_cfg_int_range(map, "max_age", false, 300, 1, 1000000, &age));
  p->max_age = (int)age;
  return VG_OK;
}

vg_status vg_line_counter_create(const vg_line_params *p, vg_line_counter **out) {
  *out = NULL;
  if (p->x1 == p->x2 && p->y1 == p->y2)
    return vg_set_error(VG_ERR_INVALID_ARG, "line counter: the line's two ends are the same point");
  vg_line_counter *c = calloc(1, sizeof *c);
  if (!c) return vg_set_error(VG_ERR_NO_MEMORY, "line counter: out of memory");
  c->p = *p;
  if (c->p.max_age < 1) c->p.max_age = 300;
  *out = c;
  return VG_OK;
}

void vg_line_counter_destroy(vg_line_counter *c) {
  if (!c) return;
  free(c->t);
  free(c);
}

/* Orientation of (px, py) against the directed segment a -> b: > 0 right of it on the image. */
static double orient(double ax, double ay, double bx, double by, double px, double py) {
  return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

static int sgn(double v) {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/* True when the move p -> q (opposite sides of the line) passes through the segment. */
static bool through_segment(const vg_line_params *l, float px, float py, float qx, float qy) {
  int oa = sgn(orient(px, py, qx, qy, l->x1, l->y1)),
      ob = sgn(orient(px, py, qx, qy, l->x2, l->y2));
  return oa * ob <= 0;
}

static line_trk *lookup(vg_line_counter *c, int64_t id, bool *created) {
  *created = false;
  for (size_t i = 0; i < c->n; i++)
    if (c->t[i].id == id) return &c->t[i];
  if (c->n == c->cap) {
    if (c->cap >= LINE_MAX_TRACKS) return NULL;
    size_t cap = c->cap ? c->cap * 2 : 64;
    line_trk *n = realloc(c->t, cap * sizeof *n);
    if (!n) return NULL;
    c->t = n, c->cap = cap;
  }
  *created = true;
  line_trk *t = &c->t[c->n++];
  memset(t, 0, sizeof *t);
  t->id = id;
  return t;
}

static void count(vg_line_counter *c, int cls, bool in) {
  int k = cls >= 0 && cls < VG_COUNT_MAX_CLASSES ? cls : -1;
  if (in) {
    if (k >= 0) c->in[k]++;
    c->in[VG_COUNT_MAX_CLASSES]++;
  } else {
    if (k >= 0) c->out[k]++;
    c->out[VG_COUNT_MAX_CLASSES]++;
  }
}

vg_status vg_line_counter_update(vg_line_counter *c, const vg_objects *objs, int64_t frame_no,
                                 vg_cross_event *ev, size_t cap, size_t *nev) {
  size_t ne = 0;
  for (size_t i = 0; objs && i < objs->count; i++) {
    const vg_object *o = &objs->items[i];
    if (o->track_id < 0) continue;
    float x, y;
    track_anchor_point(&o->box, c->p.anchor, &x, &y);
    int side = sgn(orient(c->p.x1, c->p.y1, c->p.x2, c->p.y2, x, y));
    bool created;
    line_trk *t = lookup(c, o->track_id, &created);
    if (!t)
      return vg_set_error(VG_ERR_NO_MEMORY, "line counter: more than %d tracks followed",
                          LINE_MAX_TRACKS);
    t->seen = frame_no;
    if (side == 0) continue; /* on the line: wait for a side */
    if (!created && t->side != 0 && side != t->side && through_segment(&c->p, t->x, t->y, x, y)) {
      bool in = side > 0;
      count(c, o->class_id, in);
      if (ne < cap) ev[ne] = (vg_cross_event){o->track_id, o->class_id, in, frame_no};
      ne++;
    }
    t->x = x, t->y = y, t->side = side;
  }
  /* forget tracks not seen for max_age frames */
  for (size_t i = c->n; i-- > 0;)
    if (frame_no - c->t[i].seen > c->p.max_age) c->t[i] = c->t[--c->n];
  if (nev) *nev = ne;
  return VG_OK;
}

void vg_line_counter_totals(const vg_line_counter *c, int class_id, int64_t *in, int64_t *out) {
  int k = class_id < 0 ? VG_COUNT_MAX_CLASSES : class_id;
  bool ok = k <= VG_COUNT_MAX_CLASSES;
  if (in) *in = ok ? c->in[k] : 0;
  if (out) *out = ok ? c->out[k] : 0;
}
