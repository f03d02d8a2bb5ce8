/* kalman.h - the constant-velocity Kalman filter of the tracker on (cx, cy, aspect, h) and their
 * velocities, with ByteTrack's noise model (private to src/track). */
#ifndef VIDGRAPH_TRACK_KALMAN_H
#define VIDGRAPH_TRACK_KALMAN_H

#include "vidgraph/vg_core.h"

typedef struct kf_state {
  double mean[8];
  double cov[64];
} kf_state;

/* Starts from a measurement box. */
void kf_init(kf_state *k, const vg_box *b);
/* One frame ahead; freeze_h zeroes the height velocity (ByteTrack does for tracks not tracked). */
void kf_predict(kf_state *k, bool freeze_h);
/* Corrects with a measurement box; VG_ERR_INTERNAL when the innovation is singular. */
vg_status kf_update(kf_state *k, const vg_box *b);
/* The box of the current state. */
vg_box kf_box(const kf_state *k);

#endif
