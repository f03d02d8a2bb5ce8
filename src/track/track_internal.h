/* track_internal.h - helpers shared by the analytics files of src/track (private). */
#ifndef VIDGRAPH_TRACK_INTERNAL_H
#define VIDGRAPH_TRACK_INTERNAL_H

#include "vidgraph/vg_track.h"

/* The anchor point of a box. */
static inline void track_anchor_point(const vg_box *b, vg_anchor a, float *x, float *y) {
  *x = 0.5f * (b->x1 + b->x2);
  *y = a == VG_ANCHOR_BOTTOM ? b->y2 : 0.5f * (b->y1 + b->y2);
}

/* Reads a list of numbers from a config sequence node into v (exactly n when n > 0). */
vg_status track_cfg_floats(const vg_cnode *seq, float *v, int n);

#endif
