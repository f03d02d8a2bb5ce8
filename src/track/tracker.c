/* tracker.c - multi-object tracker in the ByteTrack manner: Kalman prediction, association of
 * high-score detections with tracked and lost tracks, then of low-score detections with the
 * remaining tracked ones, then of tentative tracks with the leftovers (optimal assignment on
 * 1 - IoU with gates), track life cycle tentative -> confirmed (tracked <-> lost) -> removed,
 * ids given at confirmation, per-track attribute voting (a run of readings that disagree with
 * the voted text splits the track: another object took its place) and a list of ended tracks. */
#include "vidgraph/vg_track.h"
#include "kalman.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDED_MAX 4096

typedef enum trk_state { TRK_TENTATIVE, TRK_TRACKED, TRK_LOST } trk_state;

typedef struct trk_vote {
  char text[VG_TEXT_MAX];
  double sum;
  int n;
} trk_vote;

typedef struct trk {
  kf_state kf;
  trk_state state;
  vg_track_info info; /* track_id -1 while tentative */
  float last_score;
  int missed;
  int nvotes;
  trk_vote votes[VG_TRACK_MAX_VOTES];
  /* readings in a row that disagree with the voted text (see text_switch_reads) */
  trk_vote pending;
  int64_t pending_first; /* frame of the first of them */
  vg_track_info before;  /* the track as it was before them (what ends on a split) */
} trk;

struct vg_tracker {
  vg_tracker_params p;
  trk *tracks;
  int ntracks;
  int64_t next_id;
  int64_t last_frame;
  int64_t updates;
  vg_track_info *ended;
  size_t nended, ended_head;
  uint64_t ended_dropped;
};

void vg_tracker_params_default(vg_tracker_params *p) {
  p->high_thresh = 0.5f;
  p->low_thresh = 0.1f;
  p->new_track_thresh = 0.6f;
  p->match_iou = 0.2f;
  p->low_match_iou = 0.5f;
  p->tentative_match_iou = 0.3f;
  p->min_hits = 2;
  p->max_lost = 30;
  p->per_class = false;
  p->max_tracks = 512;
  p->text_switch_reads = 2;
}

static vg_status cfg_float(const vg_cnode *m, const char *key, float *v) {
  double d;
  VG_TRY(vg_cfg_double_range(m, key, false, *v, 0, 1, &d));
  *v = (float)d;
  return VG_OK;
}

vg_status vg_tracker_params_from_config(const vg_cnode *map, vg_tracker_params *p) {
  vg_tracker_params_default(p);
  if (!map) return VG_OK;
  int64_t v;
  VG_TRY(cfg_float(map, "high_thresh", &p->high_thresh));
  VG_TRY(cfg_float(map, "low_thresh", &p->low_thresh));
  VG_TRY(cfg_float(map, "new_track_thresh", &p->new_track_thresh));
  VG_TRY(cfg_float(map, "match_iou", &p->match_iou));
  VG_TRY(cfg_float(map, "low_match_iou", &p->low_match_iou));
  VG_TRY(cfg_float(map, "tentative_match_iou", &p->tentative_match_iou));
  VG_TRY(vg_cfg_int_range(map, "min_hits", false, p->min_hits, 1, 1000, &v));
  p->min_hits = (int)v;
  VG_TRY(vg_cfg_int_range(map, "max_lost", false, p->max_lost, 0, 100000, &v));
  p->max_lost = (int)v;
  VG_TRY(vg_cfg_bool(map, "per_class", false, false, &p->per_class));
  VG_TRY(vg_cfg_int_range(map, "max_tracks", false, p->max_tracks, 1, 4096, &v));
  p->max_tracks = (int)v;
  VG_TRY(vg_cfg_int_range(map, "text_switch_reads", false, p->text_switch_reads, 0, 1000, &v));
  p->text_switch_reads = (int)v;
  if (p->low_thresh > p->high_thresh)
    return vg_cnode_error(map, VG_ERR_PARSE, "low_thresh %g is above high_thresh %g",
                          (double)p->low_thresh, (double)p->high_thresh);
  return VG_OK;
}

vg_status vg_tracker_create(const vg_tracker_params *p, vg_tracker **out) {
  *out = NULL;
  if (p->max_tracks < 1 || p->max_tracks > 4096 || p->min_hits < 1 || p->max_lost < 0 ||
      p->text_switch_reads < 0 || !(p->low_thresh <= p->high_thresh))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "tracker: bad parameters (max_tracks %d, min_hits %d, max_lost %d, "
                        "low_thresh %g > high_thresh %g?)",
                        p->max_tracks, p->min_hits, p->max_lost, (double)p->low_thresh,
                        (double)p->high_thresh);
  vg_tracker *t = calloc(1, sizeof *t);
  if (t) t->tracks = calloc((size_t)p->max_tracks, sizeof *t->tracks);
  if (t) t->ended = calloc(ENDED_MAX, sizeof *t->ended);
  if (!t || !t->tracks || !t->ended) {
    vg_tracker_destroy(t);
    return vg_set_error(VG_ERR_NO_MEMORY, "tracker: out of memory for %d tracks", p->max_tracks);
  }
  t->p = *p;
  t->next_id = 1;
  t->last_frame = INT64_MIN;
  *out = t;
  return VG_OK;
}

void vg_tracker_destroy(vg_tracker *t) {
  if (!t) return;
  free(t->tracks);
  free(t->ended);
  free(t);
}

/* ----------------------------------------------------------------- votes and info */

static void vote(trk *k, const char *text, float score) {
  if (!text || !text[0] || !(score > 0)) return;
  for (int i = 0; i < k->nvotes; i++)
    if (strcmp(k->votes[i].text, text) == 0) {
      k->votes[i].sum += score;
      k->votes[i].n++;
      return;
    }
  int slot = k->nvotes;
  if (slot == VG_TRACK_MAX_VOTES) { /* replace the weakest when the new reading beats it */
    slot = 0;
    for (int i = 1; i < k->nvotes; i++)
      if (k->votes[i].sum < k->votes[slot].sum) slot = i;
    if (k->votes[slot].sum >= score) return;
  } else {
    k->nvotes++;
  }
  snprintf(k->votes[slot].text, sizeof k->votes[slot].text, "%s", text);
  k->votes[slot].sum = score;
  k->votes[slot].n = 1;
}

/* Letters and digits of s, upper case, at most cap - 1. */
static size_t alnum_of(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (; *s && n + 1 < cap; s++)
    if (isalnum((unsigned char)*s)) out[n++] = (char)toupper((unsigned char)*s);
  out[n] = '\0';
  return n;
}

bool vg_text_agree(const char *a, const char *b) {
  char x[VG_TEXT_MAX], y[VG_TEXT_MAX];
  size_t n = alnum_of(a ? a : "", x, sizeof x), m = alnum_of(b ? b : "", y, sizeof y);
  if (n == 0 || m == 0) return n == m;
  if (strstr(x, y) || strstr(y, x)) return true;
  /* Levenshtein distance, one row at a time */
  int row[VG_TEXT_MAX + 1];
  for (size_t j = 0; j <= m; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int up = row[j], best = diag + (x[i - 1] != y[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  size_t longer = n > m ? n : m;
  int limit = (int)(longer / 2) > 2 ? (int)(longer / 2) : 2;
  return row[m] <= limit;
}

static vg_track_info info_of(const trk *k) {
  vg_track_info i = k->info;
  int best = -1;
  for (int v = 0; v < k->nvotes; v++)
    if (best < 0 || k->votes[v].sum > k->votes[best].sum) best = v;
  i.text[0] = '\0';
  i.text_score = 0;
  i.text_votes = 0;
  if (best >= 0) {
    memcpy(i.text, k->votes[best].text, sizeof i.text);
    i.text_score = (float)k->votes[best].sum;
    i.text_votes = k->votes[best].n;
  }
  return i;
}

static void push_ended_info(vg_tracker *t, const vg_track_info *info) {
  if (t->nended == ENDED_MAX) {
    t->ended_head = (t->ended_head + 1) % ENDED_MAX;
    t->nended--;
    if (t->ended_dropped++ == 0)
      VG_LOGW("track", "ended-track list full (%d): the oldest are dropped; pop them sooner",
              ENDED_MAX);
  }
  t->ended[(t->ended_head + t->nended) % ENDED_MAX] = *info;
  t->nended++;
}

static void push_ended(vg_tracker *t, const trk *k) {
  vg_track_info i = info_of(k);
  push_ended_info(t, &i);
}

size_t vg_tracker_pop_ended(vg_tracker *t, vg_track_info *out, size_t cap) {
  size_t n = 0;
  while (n < cap && t->nended > 0) {
    out[n++] = t->ended[t->ended_head];
    t->ended_head = (t->ended_head + 1) % ENDED_MAX;
    t->nended--;
  }
  return n;
}

uint64_t vg_tracker_ended_dropped(const vg_tracker *t) {
  return t->ended_dropped;
}

static trk *find_track(const vg_tracker *t, int64_t id) {
  for (int i = 0; i < t->ntracks; i++)
    if (t->tracks[i].info.track_id == id && t->tracks[i].state != TRK_TENTATIVE)
      return &t->tracks[i];
  return NULL;
}

vg_status vg_tracker_vote(vg_tracker *t, int64_t track_id, const char *text, float score) {
  trk *k = find_track(t, track_id);
  if (!k) return vg_set_error(VG_ERR_NOT_FOUND, "tracker: no live track %lld", (long long)track_id);
  vote(k, text, score);
  return VG_OK;
}

vg_status vg_tracker_get(const vg_tracker *t, int64_t track_id, vg_track_info *out) {
  const trk *k = find_track(t, track_id);
  if (!k) return vg_set_error(VG_ERR_NOT_FOUND, "tracker: no live track %lld", (long long)track_id);
  *out = info_of(k);
  return VG_OK;
}

void vg_tracker_counts(const vg_tracker *t, int *tentative, int *tracked, int *lost) {
  int c[3] = {0, 0, 0};
  for (int i = 0; i < t->ntracks; i++)
    c[t->tracks[i].state]++;
  if (tentative) *tentative = c[TRK_TENTATIVE];
  if (tracked) *tracked = c[TRK_TRACKED];
  if (lost) *lost = c[TRK_LOST];
}

/* Removes track i (ending it when confirmed) by moving the last one into its place. */
static void remove_track(vg_tracker *t, int i) {
  if (t->tracks[i].state != TRK_TENTATIVE) push_ended(t, &t->tracks[i]);
  t->tracks[i] = t->tracks[--t->ntracks];
}

void vg_tracker_finish(vg_tracker *t) {
  while (t->ntracks > 0)
    remove_track(t, t->ntracks - 1);
}

void vg_tracker_restart(vg_tracker *t) {
  vg_tracker_finish(t);
  t->updates = 0;
}

static void confirm(vg_tracker *t, trk *k);

/* A reading of a confirmed track. One that agrees with the voted text (or while the track has
 * no text read text_switch_reads times yet) votes. One that does not is held back: when
 * text_switch_reads of them in a row agree with each other, another object has taken the
 * track's place: the track as it was before them ends, and the track goes on under a new id
 * with only their votes. */
static void read_text(vg_tracker *t, trk *k, const vg_object *o, int64_t frame_no,
                      const vg_track_info *prev) {
  const char *text = o->text;
  float score = o->text_score;
  int need = t->p.text_switch_reads;
  if (!text || !text[0] || !(score > 0)) return;
  if (need <= 0 || k->state == TRK_TENTATIVE || prev->text_votes < need ||
      vg_text_agree(text, prev->text)) {
    k->pending.n = 0;
    vote(k, text, score);
    return;
  }
  if (k->pending.n > 0 && vg_text_agree(text, k->pending.text)) {
    k->pending.sum += score;
    k->pending.n++;
    if (strlen(text) > strlen(k->pending.text)) /* keep the fullest reading */
      snprintf(k->pending.text, sizeof k->pending.text, "%s", text);
  } else {
    snprintf(k->pending.text, sizeof k->pending.text, "%s", text);
    k->pending.sum = score;
    k->pending.n = 1;
    k->pending_first = frame_no;
    k->before = *prev;
  }
  if (k->pending.n < need) return;
  push_ended_info(t, &k->before);
  confirm(t, k); /* a new id */
  k->info.first_frame = k->pending_first;
  k->info.hits = k->pending.n;
  k->info.best_score = o->score;
  k->nvotes = 1;
  k->votes[0] = k->pending;
  k->pending.n = 0;
}

/* ----------------------------------------------------------------- association */

typedef struct assoc {
  int *tr, ntr;   /* track indices */
  int *det, ndet; /* detection indices */
} assoc;

/* Optimal assignment of a.tr x a.det on 1 - IoU with gate 1 - min_iou; matched pairs go to
 * tmatch (per track index, the detection) and are removed from the lists in a. */
static vg_status associate(vg_tracker *t, const vg_objects *d, assoc *a, float min_iou,
                           int *tmatch) {
  if (a->ntr == 0 || a->ndet == 0) return VG_OK;
  double *cost = malloc((size_t)a->ntr * (size_t)a->ndet * sizeof *cost);
  int *rm = malloc((size_t)a->ntr * sizeof *rm);
  if (!cost || !rm) {
    free(cost), free(rm);
    return vg_set_error(VG_ERR_NO_MEMORY, "tracker: out of memory for a %d x %d cost matrix",
                        a->ntr, a->ndet);
  }
  for (int i = 0; i < a->ntr; i++) {
    trk *k = &t->tracks[a->tr[i]];
    vg_box kb = kf_box(&k->kf);
    for (int j = 0; j < a->ndet; j++) {
      const vg_object *o = &d->items[a->det[j]];
      bool ok = !t->p.per_class || o->class_id == k->info.class_id;
      cost[(size_t)i * a->ndet + j] = ok ? 1.0 - vg_box_iou(&kb, &o->box) : 2.0;
    }
  }
  vg_status s = vg_assign(cost, a->ntr, a->ndet, 1.0 - min_iou, rm);
  if (s == VG_OK) {
    char *used = calloc((size_t)a->ndet, 1);
    int nt = 0, nd = 0;
    if (!used) s = vg_set_error(VG_ERR_NO_MEMORY, "tracker: out of memory");
    for (int i = 0; s == VG_OK && i < a->ntr; i++) {
      if (rm[i] >= 0)
        tmatch[a->tr[i]] = a->det[rm[i]], used[rm[i]] = 1;
      else
        a->tr[nt++] = a->tr[i];
    }
    for (int j = 0; s == VG_OK && j < a->ndet; j++)
      if (!used[j]) a->det[nd++] = a->det[j];
    if (s == VG_OK) a->ntr = nt, a->ndet = nd;
    free(used);
  }
  free(cost);
  free(rm);
  return s;
}

static void confirm(vg_tracker *t, trk *k) {
  k->state = TRK_TRACKED;
  k->info.track_id = t->next_id++;
}

/* Applies a matched detection to a track. */
static vg_status apply_match(vg_tracker *t, trk *k, vg_object *o, int64_t frame_no) {
  vg_track_info prev = info_of(k); /* what ends if this match is another object (read_text) */
  VG_TRY(kf_update(&k->kf, &o->box));
  k->missed = 0;
  k->info.hits++;
  k->info.last_frame = frame_no;
  k->info.last_box = o->box;
  k->last_score = o->score;
  if (o->score > k->info.best_score) k->info.best_score = o->score;
  if (k->state == TRK_LOST) k->state = TRK_TRACKED;
  if (k->state == TRK_TENTATIVE && k->info.hits >= t->p.min_hits) confirm(t, k);
  read_text(t, k, o, frame_no, &prev);
  return VG_OK;
}

static vg_status new_track(vg_tracker *t, vg_object *o, int64_t frame_no, bool first_frame) {
  if (t->ntracks >= t->p.max_tracks) {
    VG_LOGW("track", "tracker: %d live tracks, the limit; a new detection is not tracked",
            t->p.max_tracks);
    return VG_OK;
  }
  trk *k = &t->tracks[t->ntracks++];
  memset(k, 0, sizeof *k);
  kf_init(&k->kf, &o->box);
  k->state = TRK_TENTATIVE;
  k->info.track_id = -1;
  k->info.class_id = o->class_id;
  memcpy(k->info.label, o->label, sizeof k->info.label);
  k->info.first_frame = k->info.last_frame = frame_no;
  k->info.hits = 1;
  k->info.last_box = o->box;
  k->info.best_score = o->score;
  k->last_score = o->score;
  if (first_frame || t->p.min_hits <= 1) confirm(t, k);
  vote(k, o->text, o->text_score);
  o->track_id = k->info.track_id;
  return VG_OK;
}

static vg_status check_frame(vg_tracker *t, int64_t frame_no) {
  if (t->last_frame != INT64_MIN && frame_no <= t->last_frame)
    return vg_set_error(VG_ERR_INVALID_ARG, "tracker: frame %lld after frame %lld (must increase)",
                        (long long)frame_no, (long long)t->last_frame);
  t->last_frame = frame_no;
  return VG_OK;
}

/* The association stages of one frame; lists are scratch arrays of size ntracks / ndets. */
static vg_status stages(vg_tracker *t, vg_objects *d, int *tr, int *hi, int *lo, int *tmatch,
                        int64_t frame_no) {
  const vg_tracker_params *p = &t->p;
  int nhi = 0, nlo = 0;
  for (size_t i = 0; i < d->count; i++) {
    float s = d->items[i].score;
    if (s >= p->high_thresh)
      hi[nhi++] = (int)i;
    else if (s >= p->low_thresh)
      lo[nlo++] = (int)i;
  }
  /* 1: high detections vs tracked + lost */
  assoc a = {tr, 0, hi, nhi};
  for (int i = 0; i < t->ntracks; i++)
    if (t->tracks[i].state != TRK_TENTATIVE) tr[a.ntr++] = i;
  VG_TRY(associate(t, d, &a, p->match_iou, tmatch));
  /* 2: low detections vs the remaining tracked (not lost) */
  int nleft = 0;
  for (int i = 0; i < a.ntr; i++)
    if (t->tracks[a.tr[i]].state == TRK_TRACKED) tr[nleft++] = a.tr[i];
  assoc b = {tr, nleft, lo, nlo};
  VG_TRY(associate(t, d, &b, p->low_match_iou, tmatch));
  /* 3: tentative tracks vs the leftover high detections */
  int *tent = tr + nleft; /* room after the list used above */
  assoc c = {tent, 0, a.det, a.ndet};
  for (int i = 0; i < t->ntracks; i++)
    if (t->tracks[i].state == TRK_TENTATIVE) tent[c.ntr++] = i;
  VG_TRY(associate(t, d, &c, p->tentative_match_iou, tmatch));
  for (int i = 0; i < t->ntracks; i++)
    if (tmatch[i] >= 0) VG_TRY(apply_match(t, &t->tracks[i], &d->items[tmatch[i]], frame_no));
  for (int i = 0; i < t->ntracks; i++)
    if (tmatch[i] >= 0) d->items[tmatch[i]].track_id = t->tracks[i].info.track_id;
  /* misses, removals (backwards: removal moves the last track into the hole) */
  int nold = t->ntracks;
  for (int i = nold - 1; i >= 0; i--) {
    trk *k = &t->tracks[i];
    if (tmatch[i] >= 0) continue;
    k->missed++;
    if (k->state == TRK_TENTATIVE) {
      remove_track(t, i);
      continue;
    }
    k->state = TRK_LOST;
    if (k->missed > p->max_lost) remove_track(t, i);
  }
  /* 4: new tracks */
  for (int j = 0; j < c.ndet; j++) {
    vg_object *o = &d->items[c.det[j]];
    if (o->score >= p->new_track_thresh) VG_TRY(new_track(t, o, frame_no, t->updates == 0));
  }
  return VG_OK;
}

vg_status vg_tracker_update(vg_tracker *t, int64_t frame_no, vg_objects *dets) {
  VG_TRY(check_frame(t, frame_no));
  size_t nd = dets ? dets->count : 0;
  if (nd > 4096) return vg_set_error(VG_ERR_INVALID_ARG, "tracker: %zu detections > 4096", nd);
  for (size_t i = 0; i < nd; i++)
    dets->items[i].track_id = -1;
  for (int i = 0; i < t->ntracks; i++)
    kf_predict(&t->tracks[i].kf, t->tracks[i].state != TRK_TRACKED);
  int *tr = malloc(sizeof(int) * (size_t)(2 * t->ntracks + 1));
  int *tmatch = malloc(sizeof(int) * (size_t)(t->ntracks + 1));
  int *hi = malloc(sizeof(int) * (nd + 1)), *lo = malloc(sizeof(int) * (nd + 1));
  vg_status s = VG_OK;
  if (!tr || !tmatch || !hi || !lo) s = vg_set_error(VG_ERR_NO_MEMORY, "tracker: out of memory");
  for (int i = 0; s == VG_OK && i < t->ntracks; i++)
    tmatch[i] = -1;
  vg_objects empty = {0};
  if (s == VG_OK) s = stages(t, dets ? dets : &empty, tr, hi, lo, tmatch, frame_no);
  free(tr), free(tmatch), free(hi), free(lo);
  t->updates++;
  return s;
}

vg_status vg_tracker_predict(vg_tracker *t, int64_t frame_no, vg_objects *out) {
  VG_TRY(check_frame(t, frame_no));
  for (int i = 0; i < t->ntracks; i++)
    kf_predict(&t->tracks[i].kf, t->tracks[i].state != TRK_TRACKED);
  if (!out) return VG_OK;
  for (int i = 0; i < t->ntracks; i++) {
    const trk *k = &t->tracks[i];
    if (k->state != TRK_TRACKED) continue;
    vg_object o = vg_object_init();
    vg_track_info inf = info_of(k);
    o.box = kf_box(&k->kf);
    o.class_id = inf.class_id;
    o.score = k->last_score;
    o.track_id = inf.track_id;
    o.frame_no = frame_no;
    memcpy(o.label, inf.label, sizeof o.label);
    memcpy(o.text, inf.text, sizeof o.text);
    o.text_score = inf.text_score;
    VG_TRY(vg_objects_push(out, &o));
  }
  return VG_OK;
}
