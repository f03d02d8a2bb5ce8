/* node_det_util.h - helpers shared by the detection/analytics nodes (yolo_decode, classify,
 * count, fatigue, jpeg_sink): class names from params, lists of class ids, the time of a packet,
 * and stamping objects with their stream and frame. Private to src/nodes. */
#ifndef VIDGRAPH_NODE_DET_UTIL_H
#define VIDGRAPH_NODE_DET_UTIL_H

#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"

/* Class names from params[key]: a file path (relative paths from the spec's folder, then from
 * the working directory) or an inline list of strings. *out stays NULL when the key is absent. */
vg_status det_labels_from_params(const vg_cnode *params, const char *key, vg_labels **out);

/* A list of integer ids in lo..hi at params[key] (absent: *n = 0); at most cap entries. */
vg_status det_int_list(const vg_cnode *params, const char *key, int64_t lo, int64_t hi, int *out,
                       int cap, int *n);

/* True when id is one of ids (or n == 0: no filter). */
bool det_in_list(const int *ids, int n, int id);

/* Seconds of a packet on its stream: the picture's pts x time base when known, else
 * frame_no / fps. */
double det_packet_seconds(const vg_packet *p, double fps);

/* Sets stream_id and frame_no of objs->items[from..] to the packet's. */
void det_stamp(vg_objects *objs, size_t from, const vg_packet *p);

#endif
