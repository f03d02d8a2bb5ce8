/* zone.c - polygon zones: which tracks are inside (occupancy per class), when each entered, and
 * enter / leave events with the dwell time when a track leaves or stops being seen. */
#include "track_internal.h"

#include <stdlib.h>
#include <string.h>

#define ZONE_MAX_TRACKS 65536

typedef struct zone_trk {
  int64_t id;
  int class_id;
  double t_enter, t_last; /* t_last: last time seen inside */
  double t_seen;          /* last time seen at all */
} zone_trk;

struct vg_zone {
  vg_zone_params p;
  zone_trk *t; /* tracks inside */
  size_t n, cap;
  double last_t;
  bool started;
};

vg_status vg_zone_params_from_config(const vg_cnode *map, vg_zone_params *p) {
  memset(p, 0, sizeof *p);
  p->anchor = VG_ANCHOR_BOTTOM;
  p->max_age_sec = 5;
  if (!map) return vg_set_error(VG_ERR_NOT_FOUND, "zone: no parameters");
  const vg_cnode *poly = vg_cnode_get(map, "polygon");
  if (!poly) return vg_cnode_error(map, VG_ERR_NOT_FOUND, "missing required key 'polygon'");
  size_t n = vg_cnode_len(poly);
  if (vg_cnode_get_kind(poly) != VG_CNODE_SEQ || n < 3 || n > VG_ZONE_MAX_POINTS)
    return vg_cnode_error(poly, VG_ERR_PARSE, "expected a list of 3..%d [x, y] points",
                          VG_ZONE_MAX_POINTS);
  for (size_t i = 0; i < n; i++) {
    float xy[2];
    VG_TRY(track_cfg_floats(vg_cnode_at(poly, i), xy, 2));
    p->x[i] = xy[0], p->y[i] = xy[1];
  }
  p->npoints = (int)n;
  const char *s;
  VG_TRY(vg_cfg_string(map, "anchor", false, "bottom", &s));
  if (vg_anchor_parse(s, &p->anchor) != VG_OK)
    return vg_cnode_error(vg_cnode_get(map, "anchor"), VG_ERR_PARSE, "%s", vg_last_error());
  VG_TRY(vg_cfg_double_range(map, "max_age_sec", false, 5, 0, 86400, &p->max_age_sec));
  return VG_OK;
}

vg_status vg_zone_create(const vg_zone_params *p, vg_zone **out) {
  *out = NULL;
  if (p->npoints < 3 || p->npoints > VG_ZONE_MAX_POINTS)
    return vg_set_error(VG_ERR_INVALID_ARG, "zone: %d polygon points (3..%d)", p->npoints,
                        VG_ZONE_MAX_POINTS);
  vg_zone *z = calloc(1, sizeof *z);
  if (!z) return vg_set_error(VG_ERR_NO_MEMORY, "zone: out of memory");
  z->p = *p;
  *out = z;
  return VG_OK;
}

void vg_zone_destroy(vg_zone *z) {
  if (!z) return;
  free(z->t);
  free(z);
}

bool vg_zone_contains(const vg_zone *z, float x, float y) {
  bool in = false;
  const float *px = z->p.x, *py = z->p.y;
  for (int i = 0, j = z->p.npoints - 1; i < z->p.npoints; j = i++)
    if ((py[i] > y) != (py[j] > y) && x < (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i])
      in = !in;
  return in;
}

static zone_trk *find(vg_zone *z, int64_t id) {
  for (size_t i = 0; i < z->n; i++)
    if (z->t[i].id == id) return &z->t[i];
  return NULL;
}

static void emit(vg_zone_event *ev, size_t cap, size_t *ne, vg_zone_event e) {
  if (*ne < cap) ev[*ne] = e;
  (*ne)++;
}

static vg_status enter(vg_zone *z, const vg_object *o, double t) {
  if (z->n == z->cap) {
    if (z->cap >= ZONE_MAX_TRACKS)
      return vg_set_error(VG_ERR_NO_MEMORY, "zone: more than %d tracks inside", ZONE_MAX_TRACKS);
    size_t cap = z->cap ? z->cap * 2 : 32;
    zone_trk *n = realloc(z->t, cap * sizeof *n);
    if (!n) return vg_set_error(VG_ERR_NO_MEMORY, "zone: out of memory");
    z->t = n, z->cap = cap;
  }
  z->t[z->n++] = (zone_trk){o->track_id, o->class_id, t, t, t};
  return VG_OK;
}

vg_status vg_zone_update(vg_zone *z, const vg_objects *objs, double t_sec, vg_zone_event *ev,
                         size_t cap, size_t *nev) {
  if (z->started && t_sec < z->last_t)
    return vg_set_error(VG_ERR_INVALID_ARG, "zone: time %.3f s after %.3f s (must not decrease)",
                        t_sec, z->last_t);
  z->started = true;
  z->last_t = t_sec;
  size_t ne = 0;
  for (size_t i = 0; objs && i < objs->count; i++) {
    const vg_object *o = &objs->items[i];
    if (o->track_id < 0) continue;
    float x, y;
    track_anchor_point(&o->box, z->p.anchor, &x, &y);
    bool in = vg_zone_contains(z, x, y);
    zone_trk *k = find(z, o->track_id);
    if (k && in) {
      k->t_last = k->t_seen = t_sec;
    } else if (k) { /* left */
      emit(ev, cap, &ne, (vg_zone_event){k->id, k->class_id, false, k->t_last - k->t_enter, t_sec});
      *k = z->t[--z->n];
    } else if (in) {
      VG_TRY(enter(z, o, t_sec));
      emit(ev, cap, &ne, (vg_zone_event){o->track_id, o->class_id, true, 0, t_sec});
    }
  }
  for (size_t i = z->n; i-- > 0;) { /* not seen for too long: gone */
    zone_trk *k = &z->t[i];
    if (t_sec - k->t_seen > z->p.max_age_sec) {
      emit(ev, cap, &ne, (vg_zone_event){k->id, k->class_id, false, k->t_last - k->t_enter, t_sec});
      *k = z->t[--z->n];
    }
  }
  if (nev) *nev = ne;
  return VG_OK;
}

int vg_zone_occupancy(const vg_zone *z, int class_id) {
  int n = 0;
  for (size_t i = 0; i < z->n; i++)
    n += class_id < 0 || z->t[i].class_id == class_id;
  return n;
}

vg_status vg_zone_dwell(const vg_zone *z, int64_t track_id, double *sec) {
  for (size_t i = 0; i < z->n; i++)
    if (z->t[i].id == track_id) {
      *sec = z->t[i].t_last - z->t[i].t_enter;
      return VG_OK;
    }
  return vg_set_error(VG_ERR_NOT_FOUND, "zone: track %lld is not inside", (long long)track_id);
}
