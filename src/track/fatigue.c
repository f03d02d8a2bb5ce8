/* fatigue.c - driver fatigue from eye landmarks: eye aspect ratio (EAR), PERCLOS (the share of
 * samples with the eyes closed over a sliding time window) and levels alert / drowsy / asleep. */
#include "vidgraph/vg_track.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fat_sample {
  double t;
  bool closed;
} fat_sample;

struct vg_fatigue {
  vg_fatigue_params p;
  fat_sample *ring;
  size_t head, n, nclosed;
  double closed_since; /* NAN when the eyes are open */
  double last_t;
  bool started;
};

static double dist(const float *a, const float *b) {
  return hypot((double)a[0] - b[0], (double)a[1] - b[1]);
}

float vg_ear(const float *p) {
  /* p1 = p[0..1], p2 = p[2..3], ..., p6 = p[10..11] */
  double w = dist(p + 0, p + 6);
  if (!(w > 1e-9)) return 0.f;
  return (float)((dist(p + 2, p + 10) + dist(p + 4, p + 8)) / (2 * w));
}

const char *vg_fatigue_level_name(vg_fatigue_level l) {
  return l == VG_ASLEEP ? "asleep" : l == VG_DROWSY ? "drowsy" : "alert";
}

void vg_fatigue_params_default(vg_fatigue_params *p) {
  p->ear_closed = 0.2f;
  p->window_sec = 60;
  p->drowsy_perclos = 0.15f;
  p->asleep_perclos = 0.4f;
  p->asleep_closed_sec = 2;
  p->max_samples = 10000;
}

vg_status vg_fatigue_params_from_config(const vg_cnode *map, vg_fatigue_params *p) {
  vg_fatigue_params_default(p);
  if (!map) return VG_OK;
  double d;
  int64_t v;
  VG_TRY(vg_cfg_double_range(map, "ear_closed", false, p->ear_closed, 0, 1, &d));
  p->ear_closed = (float)d;
  VG_TRY(vg_cfg_double_range(map, "window_sec", false, p->window_sec, 0.1, 3600, &p->window_sec));
  VG_TRY(vg_cfg_double_range(map, "drowsy_perclos", false, p->drowsy_perclos, 0, 1, &d));
  p->drowsy_perclos = (float)d;
  VG_TRY(vg_cfg_double_range(map, "asleep_perclos", false, p->asleep_perclos, 0, 1, &d));
  p->asleep_perclos = (float)d;
  VG_TRY(vg_cfg_double_range(map, "asleep_closed_sec", false, p->asleep_closed_sec, 0, 3600,
                             &p->asleep_closed_sec));
  VG_TRY(vg_cfg_int_range(map, "max_samples", false, p->max_samples, 16, 1000000, &v));
  p->max_samples = (int)v;
  if (p->asleep_perclos < p->drowsy_perclos)
    return vg_cnode_error(map, VG_ERR_PARSE, "asleep_perclos %g is below drowsy_perclos %g",
                          (double)p->asleep_perclos, (double)p->drowsy_perclos);
  return VG_OK;
}

vg_status vg_fatigue_create(const vg_fatigue_params *p, vg_fatigue **out) {
  *out = NULL;
  if (p->max_samples < 1 || p->max_samples > 1000000 || !(p->window_sec > 0))
    return vg_set_error(VG_ERR_INVALID_ARG, "fatigue: max_samples %d or window %g s out of range",
                        p->max_samples, p->window_sec);
  vg_fatigue *f = calloc(1, sizeof *f);
  if (f) f->ring = calloc((size_t)p->max_samples, sizeof *f->ring);
  if (!f || !f->ring) {
    vg_fatigue_destroy(f);
    return vg_set_error(VG_ERR_NO_MEMORY, "fatigue: out of memory");
  }
  f->p = *p;
  f->closed_since = NAN;
  *out = f;
  return VG_OK;
}

void vg_fatigue_destroy(vg_fatigue *f) {
  if (!f) return;
  free(f->ring);
  free(f);
}

static void drop_oldest(vg_fatigue *f) {
  if (f->ring[f->head].closed) f->nclosed--;
  f->head = (f->head + 1) % (size_t)f->p.max_samples;
  f->n--;
}

vg_status vg_fatigue_update(vg_fatigue *f, double t_sec, const float *left6, const float *right6,
                            vg_fatigue_state *out) {
  if (!left6 || !right6) return vg_set_error(VG_ERR_INVALID_ARG, "fatigue: missing landmarks");
  if (f->started && t_sec < f->last_t)
    return vg_set_error(VG_ERR_INVALID_ARG, "fatigue: time %.3f s after %.3f s", t_sec, f->last_t);
  f->started = true;
  f->last_t = t_sec;
  float ear = 0.5f * (vg_ear(left6) + vg_ear(right6));
  bool closed = ear < f->p.ear_closed;
  if (f->n == (size_t)f->p.max_samples) drop_oldest(f);
  f->ring[(f->head + f->n) % (size_t)f->p.max_samples] = (fat_sample){t_sec, closed};
  f->n++;
  f->nclosed += closed;
  while (f->n > 0 && f->ring[f->head].t < t_sec - f->p.window_sec - 1e-9) /* 1 ns slack: rounding */
    drop_oldest(f);
  if (closed && isnan(f->closed_since)) f->closed_since = t_sec;
  if (!closed) f->closed_since = NAN;
  vg_fatigue_state s;
  s.ear = ear;
  s.closed = closed;
  s.perclos = f->n ? (float)f->nclosed / (float)f->n : 0.f;
  s.closed_sec = closed ? t_sec - f->closed_since : 0;
  if (s.perclos >= f->p.asleep_perclos || (closed && s.closed_sec >= f->p.asleep_closed_sec))
    s.level = VG_ASLEEP;
  else if (s.perclos >= f->p.drowsy_perclos)
    s.level = VG_DROWSY;
  else
    s.level = VG_ALERT;
  if (out) *out = s;
  return VG_OK;
}
