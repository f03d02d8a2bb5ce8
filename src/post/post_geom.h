/* post_geom.h - plane geometry shared by the text detector's files (private to src/post). */
#ifndef VIDGRAPH_POST_GEOM_H
#define VIDGRAPH_POST_GEOM_H

#include <stddef.h>

#include "post/cuda/post_text.h"

typedef pt_pt post_pt;

/* Convex hull of p (sorted in place) into hull (room for 2n+1), counter-clockwise in a y-up
 * frame, collinear points dropped. Returns the number of hull points. */
size_t post_convex_hull(post_pt *p, size_t n, post_pt *hull);
/* Minimum-area enclosing rectangle of a convex hull of m >= 1 points (rotating calipers). */
void post_min_rect_hull(const post_pt *h, size_t m, post_pt rect[4]);
/* PP-OCR's get_mini_boxes order: top-left, top-right, bottom-right, bottom-left. */
void post_order_ppocr(const post_pt in[4], post_pt out[4]);
/* PP-OCR's order_points_clockwise: min(x+y), min(y-x), max(x+y), max(y-x). */
void post_order_clockwise(const post_pt in[4], post_pt out[4]);

#endif
