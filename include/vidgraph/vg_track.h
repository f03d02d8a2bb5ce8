/* vg_track.h - the tracking and analytics layer of vidgraph: a ByteTrack-style multi-object
 * tracker per stream (Kalman filter, two-stage association, optimal assignment, track life
 * cycle, per-track attribute voting), directed line-crossing counts, polygon zones (occupancy,
 * dwell time) and driver fatigue (eye aspect ratio, PERCLOS).
 *
 * Every object here is per stream and not thread-safe: one graph node instance owns it and calls
 * it in frame order. Parameters come from *_params_default() or *_params_from_config() (config
 * maps read with the vg_cfg_* getters, so errors name file:line:col and key). */
#ifndef VIDGRAPH_VG_TRACK_H
#define VIDGRAPH_VG_TRACK_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* ===================================================================== optimal assignment */

/* Minimum-cost partial assignment with a gate, in the manner of lapjv with cost_limit: pairs
 * with cost > gate are forbidden, and leaving a row or a column unmatched costs gate / 2 each, so
 * a pair is used only when it beats leaving both ends free. cost is rows x cols, row-major.
 * row_match[i] gets the matched column of row i or -1. rows, cols <= 4096. */
vg_status vg_assign(const double *cost, int rows, int cols, double gate, int *row_match);

/* ===================================================================== tracker */

typedef struct vg_tracker_params {
  float high_thresh;         /* 0.5: detections >= this enter the first association */
  float low_thresh;          /* 0.1: detections below this are ignored */
  float new_track_thresh;    /* 0.6: unmatched detections >= this start tentative tracks */
  float match_iou;           /* 0.2: min IoU, first association (ByteTrack match_thresh 0.8) */
  float low_match_iou;       /* 0.5: min IoU, second association (low-score detections) */
  float tentative_match_iou; /* 0.3: min IoU, tentative tracks vs the leftover detections */
  int min_hits;              /* 2: matched frames before a track is confirmed and gets an id */
  int max_lost;              /* 30: missed updates before a lost track is removed */
  bool per_class;            /* false: when true a track only matches detections of its class */
  int max_tracks;            /* 512: live tracks at most (new ones are refused beyond) */
  int text_switch_reads;     /* 2: this many readings in a row that agree with each other but
                              * not with the track's voted text (itself read at least this many
                              * times) mean another object took the track's place (a plate left
                              * and a new one appeared there within max_lost): the track ends and
                              * a new one (new id, votes of the new text only) goes on; 0 = off */
} vg_tracker_params;

void vg_tracker_params_default(vg_tracker_params *p);
/* Keys: high_thresh, low_thresh, new_track_thresh, match_iou, low_match_iou,
 * tentative_match_iou, min_hits, max_lost, per_class, max_tracks, text_switch_reads. */
vg_status vg_tracker_params_from_config(const vg_cnode *map, vg_tracker_params *p);

#define VG_TRACK_MAX_VOTES 8

/* What is known about one track: for sinks that emit one event per track. */
typedef struct vg_track_info {
  int64_t track_id;
  int class_id;
  char label[VG_LABEL_MAX];
  int64_t first_frame, last_frame; /* frames of the first and last matched detection */
  int hits;                        /* matched detections */
  vg_box last_box;                 /* last matched detection's box */
  float best_score;                /* highest detection score */
  char text[VG_TEXT_MAX];          /* the voted text: highest summed confidence, "" when none */
  float text_score;                /* its summed confidence */
  int text_votes;                  /* readings of that text */
} vg_track_info;

typedef struct vg_tracker vg_tracker;

vg_status vg_tracker_create(const vg_tracker_params *p, vg_tracker **out);
void vg_tracker_destroy(vg_tracker *t);

/* One frame with detections. Sets dets->items[i].track_id to the id of the confirmed track the
 * detection belongs to, or -1 (ignored, or a track not confirmed yet). Detections that already
 * carry text (text_score > 0) vote for their track. frame_no must increase. */
vg_status vg_tracker_update(vg_tracker *t, int64_t frame_no, vg_objects *dets);

/* One frame on which the detector did not run (`interval: N`): advances every track's Kalman
 * prediction by one frame without counting a miss, and appends the predicted boxes of the
 * confirmed, currently tracked tracks to out (may be NULL) with their id, class, label, last
 * score and voted text. */
vg_status vg_tracker_predict(vg_tracker *t, int64_t frame_no, vg_objects *out);

/* Adds a reading of an attribute (e.g. the plate text from OCR) to a confirmed track. Texts are
 * grouped exactly; at most VG_TRACK_MAX_VOTES distinct texts per track (then the weakest is
 * replaced when the new reading is stronger). VG_ERR_NOT_FOUND when the track does not exist. */
vg_status vg_tracker_vote(vg_tracker *t, int64_t track_id, const char *text, float score);

/* Current information about a live confirmed track. */
vg_status vg_tracker_get(const vg_tracker *t, int64_t track_id, vg_track_info *out);

/* Tracks that ended (removed after max_lost misses, or all of them after vg_tracker_finish), in
 * the order they ended: copies up to cap of them to out and forgets those. The list holds at most
 * 4096; beyond, the oldest are dropped, counted by vg_tracker_ended_dropped and logged. */
size_t vg_tracker_pop_ended(vg_tracker *t, vg_track_info *out, size_t cap);
uint64_t vg_tracker_ended_dropped(const vg_tracker *t);

/* End of stream: every confirmed track ends (see vg_tracker_pop_ended). */
void vg_tracker_finish(vg_tracker *t);
/* The next frame is unrelated to the previous ones (a still of an image folder): every track
 * ends as with vg_tracker_finish, and the next update is treated as a first frame (its new
 * tracks are confirmed at once). */
void vg_tracker_restart(vg_tracker *t);

/* Two readings of one object's text agree: equal, one a part of the other (a plate read while
 * it enters the frame), or a few characters apart (at most half of the longer, at least 2),
 * comparing letters and digits only, case-insensitively. */
bool vg_text_agree(const char *a, const char *b);

/* Live tracks by state (for metrics and tests). */
void vg_tracker_counts(const vg_tracker *t, int *tentative, int *tracked, int *lost);

/* ===================================================================== line crossings */

typedef enum vg_anchor {
  VG_ANCHOR_CENTER = 0, /* box centre */
  VG_ANCHOR_BOTTOM      /* bottom centre (feet, wheels) */
} vg_anchor;

vg_status vg_anchor_parse(const char *text, vg_anchor *out);

#define VG_COUNT_MAX_CLASSES 1024

typedef struct vg_line_params {
  float x1, y1, x2, y2; /* the directed segment A -> B in frame pixels */
  vg_anchor anchor;     /* VG_ANCHOR_CENTER */
  int max_age;          /* 300: frames after which a track not seen is forgotten */
} vg_line_params;

/* Keys: line ([x1, y1, x2, y2], required), anchor (center|bottom), max_age. */
vg_status vg_line_params_from_config(const vg_cnode *map, vg_line_params *p);

typedef struct vg_cross_event {
  int64_t track_id;
  int class_id;
  bool in; /* true: crossed from the left of A -> B to its right (as seen on the image, y down) */
  int64_t frame_no;
} vg_cross_event;

typedef struct vg_line_counter vg_line_counter;

vg_status vg_line_counter_create(const vg_line_params *p, vg_line_counter **out);
void vg_line_counter_destroy(vg_line_counter *c);
/* Feeds one frame of tracked objects (track_id >= 0; others are ignored). A crossing is counted
 * when the anchor moves from one side of the line to the other across the segment itself
 * (touching the line is not a crossing; the side before the touch counts). Events of this frame
 * go to ev (up to cap; *nev gets their number, which may be larger than cap). */
vg_status vg_line_counter_update(vg_line_counter *c, const vg_objects *objs, int64_t frame_no,
                                 vg_cross_event *ev, size_t cap, size_t *nev);
/* Totals for one class, or all classes with class_id -1. */
void vg_line_counter_totals(const vg_line_counter *c, int class_id, int64_t *in, int64_t *out);

/* ===================================================================== zones */

#define VG_ZONE_MAX_POINTS 64

typedef struct vg_zone_params {
  int npoints;
  float x[VG_ZONE_MAX_POINTS], y[VG_ZONE_MAX_POINTS];
  vg_anchor anchor;   /* VG_ANCHOR_BOTTOM */
  double max_age_sec; /* 5: a track not seen for this long has left */
} vg_zone_params;

/* Keys: polygon ([[x, y], ...], at least 3 points, required), anchor, max_age_sec. */
vg_status vg_zone_params_from_config(const vg_cnode *map, vg_zone_params *p);

typedef struct vg_zone_event {
  int64_t track_id;
  int class_id;
  bool enter;       /* true: entered; false: left */
  double dwell_sec; /* on leaving: time from entering to the last time seen inside */
  double t_sec;
} vg_zone_event;

typedef struct vg_zone vg_zone;

vg_status vg_zone_create(const vg_zone_params *p, vg_zone **out);
void vg_zone_destroy(vg_zone *z);
/* Feeds one frame (t_sec increasing). Tracks inside now and absent before enter; tracks inside
 * before and outside now (or unseen for max_age_sec) leave with their dwell time. */
vg_status vg_zone_update(vg_zone *z, const vg_objects *objs, double t_sec, vg_zone_event *ev,
                         size_t cap, size_t *nev);
/* Tracks inside now, of one class or all (-1). */
int vg_zone_occupancy(const vg_zone *z, int class_id);
/* Seconds the track has been inside (as of the last update); VG_ERR_NOT_FOUND when not inside. */
vg_status vg_zone_dwell(const vg_zone *z, int64_t track_id, double *sec);
/* True when the point is inside the polygon (even-odd rule). */
bool vg_zone_contains(const vg_zone *z, float x, float y);

/* ===================================================================== fatigue */

/* Eye aspect ratio of 6 eye landmarks p1..p6 (x, y interleaved, dlib / MediaPipe order: p1 and p4
 * the corners, p2, p3 upper lid, p6, p5 lower lid): (|p2-p6| + |p3-p5|) / (2 |p1-p4|). 0 when the
 * eye has no width. */
float vg_ear(const float *xy6);

typedef enum vg_fatigue_level { VG_ALERT = 0, VG_DROWSY, VG_ASLEEP } vg_fatigue_level;

const char *vg_fatigue_level_name(vg_fatigue_level l);

typedef struct vg_fatigue_params {
  float ear_closed;         /* 0.2: eyes closed when the mean EAR of both eyes is below */
  double window_sec;        /* 60: PERCLOS window */
  float drowsy_perclos;     /* 0.15 */
  float asleep_perclos;     /* 0.4 */
  double asleep_closed_sec; /* 2: eyes closed this long without a break = asleep */
  int max_samples;          /* 10000: samples kept (oldest dropped beyond) */
} vg_fatigue_params;

void vg_fatigue_params_default(vg_fatigue_params *p);
/* Keys: ear_closed, window_sec, drowsy_perclos, asleep_perclos, asleep_closed_sec, max_samples. */
vg_status vg_fatigue_params_from_config(const vg_cnode *map, vg_fatigue_params *p);

typedef struct vg_fatigue_state {
  float ear;         /* this sample's mean EAR */
  bool closed;       /* this sample */
  float perclos;     /* fraction of the window's samples with the eyes closed */
  double closed_sec; /* how long the eyes have been closed without a break (0 when open) */
  vg_fatigue_level level;
} vg_fatigue_state;

typedef struct vg_fatigue vg_fatigue;

vg_status vg_fatigue_create(const vg_fatigue_params *p, vg_fatigue **out);
void vg_fatigue_destroy(vg_fatigue *f);
/* One sample at t_sec (increasing) from 6 landmarks per eye (x, y interleaved). */
vg_status vg_fatigue_update(vg_fatigue *f, double t_sec, const float *left6, const float *right6,
                            vg_fatigue_state *out);

VG_API_END

#ifdef __cplusplus
}
#endif
#endif
