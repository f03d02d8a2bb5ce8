/* node_fatigue.c - the `fatigue` node: driver drowsiness from face landmarks. Row 0 of a
 * landmark tensor ([N, K, D] or [N, K*D], D = 2 (x, y) or 3 (x, y, z), f32/f16) gives the eye
 * points (6 per eye, dlib/MediaPipe order, indices from params); one vg_fatigue per stream turns
 * them into EAR, PERCLOS over a window and a level (alert, drowsy, asleep).
 *
 * The result goes on the packet's first object (the driver's face) when there is one, else on a
 * new object around the landmarks (mapped to frame pixels with the packet's first transform):
 * text = level, attrs = [ear, perclos, closed_sec], label "face" on a new object. The vg_fatigue
 * of a stream is the node's per-stream state (kept by the scheduler). */
#include "node_det_util.h"
#include "node_util.h"
#include "vidgraph/vg_track.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAT_MAX_POINTS 1024

typedef struct fat_state {
  vg_fatigue_params p;
  char tensor[VG_TENSOR_NAME_MAX];
  int dims;
  int left[6], right[6];
  double fps;
  bool keep_tensors;
} fat_state;

typedef struct fat_stream {
  vg_fatigue *f;
} fat_stream;

static const char *const k_fatigue_keys[] = {
    "ear_closed",  "window_sec", "drowsy_perclos", "asleep_perclos", "asleep_closed_sec",
    "max_samples", NULL};

static vg_status fatigue_group(vg_node *self, const vg_cnode *params, const vg_param *p,
                               void *field) {
  return vg_fatigue_params_from_config(params, field);
}

/* left_eye / right_eye: 6 landmark indices (p1..p6); defaults are dlib's 68-point eyes. */
static vg_status eye_param(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  int *out = field, n;
  for (int i = 0; i < 6; i++)
    out[i] = (int)p->idef + i;
  if (!vg_cnode_get(params, p->name)) return VG_OK;
  VG_TRY(det_int_list(params, p->name, 0, FAT_MAX_POINTS - 1, out, 6, &n));
  if (n != 6)
    return vg_cnode_error(vg_cnode_get(params, p->name), VG_ERR_PARSE,
                          "%s: expected 6 landmark indices (p1..p6), got %d", p->name, n);
  return VG_OK;
}

/* The fatigue keys for the docs (vg_fatigue_params_from_config reads them; test_graph_params
 * checks these defaults and ranges against it). */
static const vg_param k_fatigue_table[] = {
    VG_P_FLOAT(vg_fatigue_params, ear_closed, "ear_closed", 0.2, 0, 1,
               "an eye aspect ratio below is a closed eye"),
    VG_P_DOUBLE(vg_fatigue_params, window_sec, "window_sec", 60, 0.1, 3600, "PERCLOS window"),
    VG_P_FLOAT(vg_fatigue_params, drowsy_perclos, "drowsy_perclos", 0.15, 0, 1,
               "closed share of the window from which the level is drowsy"),
    VG_P_FLOAT(vg_fatigue_params, asleep_perclos, "asleep_perclos", 0.4, 0, 1,
               "closed share from which it is asleep (at least drowsy_perclos)"),
    VG_P_DOUBLE(vg_fatigue_params, asleep_closed_sec, "asleep_closed_sec", 2, 0, 3600,
                "eyes closed this long is asleep"),
    VG_P_INT(vg_fatigue_params, max_samples, "max_samples", 10000, 16, 1000000,
             "samples kept in the window"),
    {0}};

static const vg_param k_params[] = {
    VG_P_CUSTOM(fat_state, tensor, "tensor", nodes_tensor_name, "landmark tensor",
                .sdef = "landmarks"),
    VG_P_INT(fat_state, dims, "dims", 2, 2, 3, "values per landmark (x, y[, z])"),
    VG_P_CUSTOM(fat_state, left, "left_eye", eye_param, "6 landmark indices; default 36..41",
                .idef = 36),
    VG_P_CUSTOM(fat_state, right, "right_eye", eye_param, "6 landmark indices; default 42..47",
                .idef = 42),
    VG_P_DOUBLE(fat_state, fps, "fps", 25, 0.001, 10000, "frame rate when pictures have no pts"),
    VG_P_BOOL(fat_state, keep_tensors, "keep_tensors", false, "keep the landmark tensor"),
    VG_P_GROUP(fat_state, p, "fatigue", k_fatigue_keys, fatigue_group,
               "EAR threshold, PERCLOS window and levels (vg_fatigue_params)",
               .sub = k_fatigue_table),
    {0}};

static vg_status fat_stream_init(vg_node *self, void *state, void *stream, int stream_id) {
  return vg_fatigue_create(&((fat_state *)state)->p, &((fat_stream *)stream)->f);
}

static void fat_stream_destroy(vg_node *self, void *state, void *stream) {
  vg_fatigue_destroy(((fat_stream *)stream)->f);
}

/* Landmark k (x, y) of row 0, in model pixels. */
static void point(const vg_tensor *t, int dims, int k, float *x, float *y) {
  int64_t base, sx;
  if (t->ndim == 3) {
    base = k * t->strides[1], sx = t->strides[2];
  } else {
    base = (int64_t)k * dims * t->strides[1], sx = t->strides[1];
  }
  const char *d = vg_tensor_data(t);
  if (t->dtype == VG_DTYPE_F16) {
    *x = vg_f16_to_f32(((const uint16_t *)d)[base]);
    *y = vg_f16_to_f32(((const uint16_t *)d)[base + sx]);
  } else {
    *x = ((const float *)d)[base];
    *y = ((const float *)d)[base + sx];
  }
}

/* Number of landmarks of the tensor, or an error naming its shape. */
static vg_status landmarks(const fat_state *s, const vg_packet *p, const vg_tensor **t, int *k) {
  *t = vg_packet_tensor(p, s->tensor);
  char sh[96];
  if (!*t)
    return vg_set_error(VG_ERR_NOT_FOUND, "stream %d frame %lld has no tensor '%s'",
                        vg_packet_stream(p), (long long)vg_packet_frame_no(p), s->tensor);
  const vg_tensor *v = *t;
  bool ok =
      (v->dtype == VG_DTYPE_F32 || v->dtype == VG_DTYPE_F16) && v->shape[0] >= 1 &&
      ((v->ndim == 3 && v->shape[2] == s->dims) || (v->ndim == 2 && v->shape[1] % s->dims == 0));
  int64_t n = !ok ? 0 : v->ndim == 3 ? v->shape[1] : v->shape[1] / s->dims;
  for (int i = 0; ok && i < 6; i++)
    ok = s->left[i] < n && s->right[i] < n;
  if (!ok)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "tensor '%s' is %s: expected f32/f16 [N, K, %d] or [N, K*%d] with the eye "
                        "indices below K",
                        s->tensor, vg_tensor_str(v, sh, sizeof sh), s->dims, s->dims);
  *k = (int)n;
  return VG_OK;
}

/* The box around the landmarks in frame pixels. */
static vg_box landmark_box(const vg_tensor *t, int dims, int k, const vg_packet *p) {
  int nx = 0;
  const vg_xform *xf = vg_packet_xforms(p, &nx);
  vg_box b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
  for (int i = 0; i < k; i++) {
    float x, y;
    point(t, dims, i, &x, &y);
    if (nx > 0) vg_xform_to_frame(xf, x, y, &x, &y);
    b.x1 = fminf(b.x1, x), b.y1 = fminf(b.y1, y), b.x2 = fmaxf(b.x2, x), b.y2 = fmaxf(b.y2, y);
  }
  return b;
}

static vg_status fat_one(fat_state *s, vg_node_io *io) {
  const vg_packet *in = io->in[0];
  const vg_tensor *t;
  int k = 0;
  VG_TRY(landmarks(s, in, &t, &k));
  float l6[12], r6[12];
  for (int i = 0; i < 6; i++) {
    point(t, s->dims, s->left[i], &l6[2 * i], &l6[2 * i + 1]);
    point(t, s->dims, s->right[i], &r6[2 * i], &r6[2 * i + 1]);
  }
  vg_fatigue_state fs;
  fat_stream *fst = io->stream_state;
  VG_TRY(vg_fatigue_update(fst->f, det_packet_seconds(in, s->fps), l6, r6, &fs));
  vg_packet *out;
  vg_status st;
  vg_objects *list;
  VG_TRY(vg_packet_derive(in, &out));
  st = vg_packet_objects_edit(out, &list);
  if (st == VG_OK && list->count == 0) {
    vg_object o = vg_object_init();
    o.box = landmark_box(t, s->dims, k, in);
    snprintf(o.label, sizeof o.label, "face");
    o.score = 1.f;
    st = vg_objects_push(list, &o);
    det_stamp(list, 0, in);
  }
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  vg_object *o = &list->items[0];
  snprintf(o->text, sizeof o->text, "%s", vg_fatigue_level_name(fs.level));
  o->nattrs = 3;
  o->attrs[0] = fs.ear, o->attrs[1] = fs.perclos, o->attrs[2] = (float)fs.closed_sec;
  if (!s->keep_tensors) vg_packet_remove_tensor(out, s->tensor);
  io->out[0] = out;
  return VG_OK;
}

static vg_status fat_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(fat_one(c->state, &c->io[i]));
  return VG_OK;
}

const vg_node_type vg_node_fatigue = {
    .name = "fatigue",
    .doc = "eye landmarks -> EAR, PERCLOS and alert/drowsy/asleep per stream (on the face object)",
    .inputs = {{"in", VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_ORDERED,
    .params = k_params,
    .state_size = sizeof(fat_state),
    .stream_state_size = sizeof(fat_stream),
    .stream_init = fat_stream_init,
    .stream_destroy = fat_stream_destroy,
    .process = fat_process,
};
