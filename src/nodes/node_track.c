/* node_track.c - the `track` node: a ByteTrack-style tracker per stream. Sets track ids on the
 * packet's objects, lets objects that carry text vote for their track's text (the text shown on
 * a tracked object is its track's current vote), carries tracks through frames an interval
 * skipped (predicted boxes), and sends tracks that ended on the `tracks` port, one object per
 * track: track_id, class, label, box = last box, score = best detection score, text = voted
 * text, text_score = its summed confidence, frame_no = last frame, attrs = [first_frame,
 * last_frame, hits, text_votes]. At the end of a stream every remaining track ends. The
 * tracker of a stream is its per-stream state (the scheduler keeps it); the summary's counters
 * (streams, tentative/tracked/lost tracks now, tracks ended) are node stats. */
#include "node_util.h"
#include "vidgraph/vg_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct track_state {
  vg_tracker_params p;
  bool vote_text;
} track_state;

/* One stream: its tracker and the track counts it last added to the node's stats. */
typedef struct track_stream {
  vg_tracker *t;
  int counts[3]; /* tentative, tracked, lost */
} track_stream;

enum { ST_STREAMS = VG_STAT_NODE0, ST_TENTATIVE, ST_TRACKED, ST_LOST, ST_ENDED };

static const char *const k_tracker_keys[] = {
    "high_thresh",   "low_thresh",          "new_track_thresh",  "match_iou",
    "low_match_iou", "tentative_match_iou", "min_hits",          "max_lost",
    "per_class",     "max_tracks",          "text_switch_reads", NULL};

static vg_status tracker_group(vg_node *self, const vg_cnode *params, const vg_param *p,
                               void *field) {
  return vg_tracker_params_from_config(params, field);
}

/* The tracker's keys for the docs (vg_tracker_params_from_config reads them; test_graph_params
 * checks these defaults and ranges against it). */
static const vg_param k_tracker_table[] = {
    VG_P_FLOAT(vg_tracker_params, high_thresh, "high_thresh", 0.5, 0, 1,
               "detections at or above enter the first association"),
    VG_P_FLOAT(vg_tracker_params, low_thresh, "low_thresh", 0.1, 0, 1,
               "detections below are ignored"),
    VG_P_FLOAT(vg_tracker_params, new_track_thresh, "new_track_thresh", 0.6, 0, 1,
               "unmatched detections at or above start tentative tracks"),
    VG_P_FLOAT(vg_tracker_params, match_iou, "match_iou", 0.2, 0, 1,
               "least IoU, first association"),
    VG_P_FLOAT(vg_tracker_params, low_match_iou, "low_match_iou", 0.5, 0, 1,
               "least IoU, second association (low-score detections)"),
    VG_P_FLOAT(vg_tracker_params, tentative_match_iou, "tentative_match_iou", 0.3, 0, 1,
               "least IoU, tentative tracks vs the leftover detections"),
    VG_P_INT(vg_tracker_params, min_hits, "min_hits", 2, 1, 1000,
             "matched frames before a track is confirmed and gets an id"),
    VG_P_INT(vg_tracker_params, max_lost, "max_lost", 30, 0, 100000,
             "missed updates before a lost track is removed"),
    VG_P_BOOL(vg_tracker_params, per_class, "per_class", false,
              "a track only matches detections of its class"),
    VG_P_INT(vg_tracker_params, max_tracks, "max_tracks", 512, 1, 4096,
             "live tracks per stream at most (new ones refused beyond)"),
    VG_P_INT(vg_tracker_params, text_switch_reads, "text_switch_reads", 2, 0, 1000,
             "readings in a row that disagree with a track's text split it (another object "
             "took its place); 0 = off"),
    {0}};

static const vg_param k_params[] = {
    VG_P_GROUP(track_state, p, "tracker", k_tracker_keys, tracker_group,
               "ByteTrack association (vg_tracker_params; see docs/ARCHITECTURE.md, track)",
               .sub = k_tracker_table),
    VG_P_BOOL(track_state, vote_text, "vote_text", true, "objects' texts vote for their track"),
    {0}};

static vg_status track_stream_init(vg_node *self, void *state, void *stream, int stream_id) {
  track_state *s = state;
  track_stream *ts = stream;
  vg_node_stat_add(self, ST_STREAMS, 1);
  return vg_tracker_create(&s->p, &ts->t);
}

/* Moves the node's track gauges by this stream's change (to 0 when gone). */
static void update_counts(vg_node *self, track_stream *ts, bool gone) {
  int now[3] = {0, 0, 0};
  if (!gone) vg_tracker_counts(ts->t, &now[0], &now[1], &now[2]);
  for (int k = 0; k < 3; k++) {
    vg_node_stat_add(self, ST_TENTATIVE + k, (uint64_t)(int64_t)(now[k] - ts->counts[k]));
    ts->counts[k] = now[k];
  }
}

static void track_stream_destroy(vg_node *self, void *state, void *stream) {
  track_stream *ts = stream;
  if (!ts->t) return;
  update_counts(self, ts, true);
  vg_tracker_destroy(ts->t);
}

/* Ended tracks as objects on a new packet (same header as in; empty when none ended). */
static vg_status ended_packet(vg_node *self, vg_tracker *t, const vg_packet *in, vg_packet **out) {
  *out = NULL;
  vg_track_info info[64];
  vg_objects list = {0};
  size_t n;
  vg_status st = VG_OK;
  while (st == VG_OK && (n = vg_tracker_pop_ended(t, info, 64)) > 0) {
    for (size_t i = 0; i < n && st == VG_OK; i++) {
      vg_object o = vg_object_init();
      o.track_id = info[i].track_id;
      o.class_id = info[i].class_id;
      snprintf(o.label, sizeof o.label, "%s", info[i].label);
      o.box = info[i].last_box;
      o.score = info[i].best_score;
      snprintf(o.text, sizeof o.text, "%s", info[i].text);
      o.text_score = info[i].text_score;
      o.stream_id = vg_packet_stream(in);
      o.frame_no = info[i].last_frame;
      o.nattrs = 4;
      o.attrs[0] = (float)info[i].first_frame;
      o.attrs[1] = (float)info[i].last_frame;
      o.attrs[2] = (float)info[i].hits;
      o.attrs[3] = (float)info[i].text_votes;
      st = vg_objects_push(&list, &o);
    }
  }
  /* a packet every frame, empty when nothing ended, so a sink joining both ports always runs */
  if (st == VG_OK) {
    vg_node_stat_add(self, ST_ENDED, list.count);
    st = vg_packet_new(out);
    if (st == VG_OK) {
      vg_packet_set_stream(*out, vg_packet_stream(in), vg_packet_frame_no(in));
      vg_packet_set_pts(*out, vg_packet_pts(in), vg_packet_t_capture_ns(in));
      st = vg_packet_set_objects(*out, &list);
    }
  }
  vg_objects_free(&list);
  return st;
}

/* Texts of tracked objects vote; then each shows its track's current vote. */
static void vote_and_show(vg_tracker *t, vg_objects *objs) {
  for (size_t i = 0; i < objs->count; i++) {
    vg_object *o = &objs->items[i];
    if (o->track_id < 0) continue;
    vg_track_info info;
    if (vg_tracker_get(t, o->track_id, &info) == VG_OK && info.text[0]) {
      snprintf(o->text, sizeof o->text, "%s", info.text);
    }
  }
}

static vg_status track_one(vg_call *c, vg_node_io *io) {
  track_state *s = c->state;
  track_stream *ts = io->stream_state;
  vg_tracker *t = ts->t;
  vg_packet *in = io->in[0];
  unsigned flags = vg_packet_flags(in);
  vg_packet *out = NULL;
  vg_status st = vg_packet_derive(in, &out);
  vg_objects *objs = NULL;
  if (st == VG_OK) st = vg_packet_objects_edit(out, &objs);
  /* a still of an image folder is not the next frame of anything: no track crosses it */
  if (st == VG_OK && (flags & VG_PACKET_STILL)) vg_tracker_restart(t);
  if (st == VG_OK && (flags & VG_PACKET_EOS)) {
    vg_tracker_finish(t);
  } else if (st == VG_OK && (flags & VG_PACKET_SKIPPED)) {
    vg_objects_clear(objs);
    st = vg_tracker_predict(t, vg_packet_frame_no(in), objs);
  } else if (st == VG_OK) {
    /* the tracker votes with texts that carry a score; keep them out when voting is off */
    if (!s->vote_text)
      for (size_t i = 0; i < objs->count; i++)
        objs->items[i].text_score = 0;
    st = vg_tracker_update(t, vg_packet_frame_no(in), objs);
    if (st == VG_OK) vote_and_show(t, objs);
  }
  vg_packet *ended = NULL;
  if (st == VG_OK) st = ended_packet(c->node, t, in, &ended);
  update_counts(c->node, ts, false);
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  io->out[0] = out;
  io->out[1] = ended;
  return VG_OK;
}

static vg_status track_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(track_one(c, &c->io[i]));
  return VG_OK;
}

const vg_node_type vg_node_track = {
    .name = "track",
    .doc = "multi-object tracker per stream (ByteTrack manner) with text voting; ended tracks out",
    .inputs = {{"in", VG_PORT_OBJECTS}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}, {"tracks", VG_PORT_OBJECTS}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED | VG_NODE_SEES_SKIPPED | VG_NODE_SEES_EOS,
    .params = k_params,
    .state_size = sizeof(track_state),
    .stream_state_size = sizeof(track_stream),
    .stream_init = track_stream_init,
    .stream_destroy = track_stream_destroy,
    .process = track_process,
    .stats = {"streams", "tentative", "tracked", "lost", "ended"},
};
