/* node_track.c - the `track` node: a ByteTrack-style tracker per stream. Sets track ids on the
 * packet's objects, lets objects that carry text vote for their track's text (the text shown on
 * a tracked object is its track's current vote), carries tracks through frames an interval
 * skipped (predicted boxes), and sends tracks that ended on the `tracks` port, one object per
 * track: track_id, class, label, box = last box, score = best detection score, text = voted
 * text, text_score = its summed confidence, frame_no = last frame, attrs = [first_frame,
 * last_frame, hits, text_votes]. At the end of a stream every remaining track ends. */
#include "node_util.h"
#include "vidgraph/vg_track.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 256

typedef struct track_state {
  vg_tracker_params p;
  bool vote_text;
  pthread_mutex_t mu; /* the map of trackers (describe reads it) */
  bool mu_inited;
  int nstreams;
  int stream_ids[MAX_STREAMS];
  vg_tracker *trackers[MAX_STREAMS];
  uint64_t ended;
} track_state;

static const char *const k_tracker_keys[] = {
    "high_thresh",   "low_thresh",          "new_track_thresh",  "match_iou",
    "low_match_iou", "tentative_match_iou", "min_hits",          "max_lost",
    "per_class",     "max_tracks",          "text_switch_reads", NULL};

static vg_status tracker_group(vg_node *self, const vg_cnode *params, const vg_param *p,
                               void *field) {
  return vg_tracker_params_from_config(params, field);
}

static const vg_param k_params[] = {
    VG_P_GROUP(track_state, p, "tracker", k_tracker_keys, tracker_group,
               "ByteTrack association (vg_tracker_params; see docs/ARCHITECTURE.md, track)"),
    VG_P_BOOL(track_state, vote_text, "vote_text", true, "objects' texts vote for their track"),
    {0}};

static void track_destroy(void *state) {
  track_state *s = state;
  for (int i = 0; i < s->nstreams; i++)
    vg_tracker_destroy(s->trackers[i]);
  if (s->mu_inited) pthread_mutex_destroy(&s->mu);
}

static vg_status track_init(vg_node *self, const vg_cnode *params, void **state) {
  track_state *s = *state;
  pthread_mutex_init(&s->mu, NULL);
  s->mu_inited = true;
  return VG_OK;
}

/* The tracker of a stream, created on its first frame. Called with s->mu held. */
static vg_status tracker_for(vg_call *c, track_state *s, int stream, vg_tracker **out) {
  for (int i = 0; i < s->nstreams; i++) {
    if (s->stream_ids[i] == stream) {
      *out = s->trackers[i];
      return VG_OK;
    }
  }
  vg_status st = VG_OK;
  if (s->nstreams == MAX_STREAMS)
    st = vg_node_error(c->node, VG_ERR_UNSUPPORTED, "more than %d streams", MAX_STREAMS);
  if (st == VG_OK) st = vg_tracker_create(&s->p, out);
  if (st == VG_OK) {
    s->stream_ids[s->nstreams] = stream;
    s->trackers[s->nstreams++] = *out;
  }
  return st;
}

/* Ended tracks as objects on a new packet (same header as in; empty when none ended). */
static vg_status ended_packet(track_state *s, vg_tracker *t, const vg_packet *in, vg_packet **out) {
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
    s->ended += list.count;
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
static void vote_and_show(track_state *s, vg_tracker *t, vg_objects *objs) {
  for (size_t i = 0; i < objs->count; i++) {
    vg_object *o = &objs->items[i];
    if (o->track_id < 0) continue;
    vg_track_info info;
    if (vg_tracker_get(t, o->track_id, &info) == VG_OK && info.text[0]) {
      snprintf(o->text, sizeof o->text, "%s", info.text);
    }
  }
  (void)s;
}

static vg_status track_one_locked(vg_call *c, vg_node_io *io) {
  track_state *s = c->state;
  vg_packet *in = io->in[0];
  vg_tracker *t;
  VG_TRY(tracker_for(c, s, vg_packet_stream(in), &t));
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
    if (st == VG_OK) vote_and_show(s, t, objs);
  }
  vg_packet *ended = NULL;
  if (st == VG_OK) st = ended_packet(s, t, in, &ended);
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  io->out[0] = out;
  io->out[1] = ended;
  return VG_OK;
}

static vg_status track_process(vg_call *c) {
  track_state *s = c->state;
  vg_status st = VG_OK;
  pthread_mutex_lock(&s->mu); /* trackers are not thread-safe; describe() reads them too */
  for (int i = 0; i < c->n && st == VG_OK; i++)
    st = track_one_locked(c, &c->io[i]);
  pthread_mutex_unlock(&s->mu);
  return st;
}

static char *track_describe(void *state) {
  track_state *s = state;
  int tent = 0, tracked = 0, lost = 0;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->nstreams; i++) {
    int a, b, d;
    vg_tracker_counts(s->trackers[i], &a, &b, &d);
    tent += a, tracked += b, lost += d;
  }
  json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:I}", "streams", s->nstreams, "tentative", tent,
                        "tracked", tracked, "lost", lost, "ended", (json_int_t)s->ended);
  pthread_mutex_unlock(&s->mu);
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
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
    .init = track_init,
    .process = track_process,
    .destroy = track_destroy,
    .describe = track_describe,
};
