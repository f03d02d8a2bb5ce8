/* node_yolo_decode.c - the `yolo_decode` node: a YOLO head tensor becomes objects in frame
 * pixels. Layouts: v5 [B,N,5+nc], v8/v11 [B,4+nc,N], end-to-end [B,N,6] (one tensor) or split
 * end-to-end outputs (params.split), and -seg heads (boxes only: masks do not travel in
 * packets). Thresholds, classes, top-k and NMS come from vg_yolo_params_from_config.
 *
 * Transforms: item b of the batch is mapped back with the packet's transform b. One transform
 * (letterbox) or none (identity) with a batch of 1; with tiles, one per item. The detections of
 * the items (views) are then fused into one list with vg_tiles_fuse (params.fuse: a map of fusion
 * parameters, true for the defaults, false to just concatenate). Fusing here keeps the views
 * apart until the end, which a packet's single object list cannot do; the `tile_fuse` node is for
 * views coming from several decoders.
 *
 * Where: a head on a CUDA device is decoded there (decode + top-k + NMS + transform on the
 * device, only detections come back: vg_yolo_decode_cuda); a host head by the CPU twin. End-to-
 * end heads are tiny and always decoded on the host (a device one is copied, and counted). */
#include "node_det_util.h"
#include "node_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YOLO_MAX_WS 16          /* device workspaces: one per concurrent CUDA call */
#define YOLO_CUDA_MAX_BATCH 255 /* vg_yolo_decode_cuda's bound; bigger batches go in chunks */

/* The type's counters (stats[] below). */
enum { STAT_FRAMES = VG_STAT_NODE0, STAT_DETECTIONS, STAT_ON_DEVICE };

typedef struct yolo_state {
  vg_yolo_params p;
  vg_labels *labels;
  char tensor[VG_TENSOR_NAME_MAX];
  bool split; /* end-to-end split outputs */
  char boxes[VG_TENSOR_NAME_MAX], scores[VG_TENSOR_NAME_MAX], classes[VG_TENSOR_NAME_MAX],
      num_dets[VG_TENSOR_NAME_MAX];
  bool fuse;
  vg_fuse_params fp;
  bool keep_tensors;
  pthread_mutex_t mu; /* guards the workspaces */
  bool mu_inited;
  vg_yolo_cuda *ws[YOLO_MAX_WS];
  bool ws_busy[YOLO_MAX_WS];
  int nws;
} yolo_state;

static const char *const k_yolo_keys[] = {
    "layout",         "num_classes", "num_mask_coeffs", "conf_threshold", "iou_threshold",
    "class_agnostic", "top_k",       "max_det",         "classes",        NULL};
static const char *const k_split[] = {"boxes", "scores", "classes", "num_dets", NULL};

static vg_status name_param(const vg_cnode *map, const char *key, bool required, const char *def,
                            char *out) {
  const char *s;
  VG_TRY(vg_cfg_string(map, key, required, def, &s));
  if (!s) {
    out[0] = '\0';
    return VG_OK;
  }
  if (!s[0] || strlen(s) >= VG_TENSOR_NAME_MAX)
    return vg_cnode_error(vg_cnode_get(map, key), VG_ERR_PARSE,
                          "%s: a tensor name of 1..%d characters", key, VG_TENSOR_NAME_MAX - 1);
  snprintf(out, VG_TENSOR_NAME_MAX, "%s", s);
  return VG_OK;
}

static vg_status read_split(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  yolo_state *s = VG_PARAM_STATE(field, p);
  const vg_cnode *m = vg_cnode_get(params, "split");
  if (!m || vg_cnode_is_null(m)) return VG_OK;
  if (vg_cnode_get_kind(m) != VG_CNODE_MAP)
    return vg_cnode_error(m, VG_ERR_PARSE,
                          "split: expected a map {boxes, scores, classes, num_dets} of tensor "
                          "names");
  VG_TRY(vg_params_check(self, m, k_split));
  s->split = true;
  VG_TRY(name_param(m, "boxes", false, "boxes", s->boxes));
  VG_TRY(name_param(m, "scores", false, "scores", s->scores));
  VG_TRY(name_param(m, "classes", false, "classes", s->classes));
  return name_param(m, "num_dets", false, NULL, s->num_dets);
}

static vg_status read_fuse(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  yolo_state *s = VG_PARAM_STATE(field, p);
  const vg_cnode *f = vg_cnode_get(params, "fuse");
  vg_fuse_params_default(&s->fp);
  s->fuse = true;
  if (!f || vg_cnode_is_null(f)) return VG_OK;
  if (vg_cnode_get_kind(f) == VG_CNODE_MAP) return vg_fuse_params_from_config(f, &s->fp);
  if (vg_cnode_as_bool(f, &s->fuse) != VG_OK)
    return vg_cnode_error(f, VG_ERR_PARSE,
                          "fuse: expected true, false or a map {method, match, threshold, "
                          "class_agnostic, max_det}");
  return VG_OK;
}

static vg_status yolo_group(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  return vg_yolo_params_from_config(params, field);
}

static vg_status read_labels(vg_node *self, const vg_cnode *params, const vg_param *p,
                             void *field) {
  return det_labels_from_params(params, p->name, field);
}

#define YOLO_STR_(x) #x
#define YOLO_STR(x) YOLO_STR_(x)

static const char *const k_layouts[] = {"auto", "v5", "v8", "e2e", NULL};

/* The head's keys for the docs (vg_yolo_params_from_config reads them; test_graph_params checks
 * these defaults and ranges against it). */
static const vg_param k_yolo_table[] = {
    VG_P_ENUM(vg_yolo_params, layout, "layout", "auto", k_layouts,
              "head layout: v5 [B,N,5+nc], v8 (also v11) [B,4+nc,N], e2e [B,N,6] (also v10); "
              "auto guesses from the shape"),
    VG_P_INT(vg_yolo_params, num_classes, "num_classes", 0, 0, 100000,
             "classes of the head; 0 = from its shape"),
    VG_P_INT(vg_yolo_params, num_mask_coeffs, "num_mask_coeffs", 0, 0, 1024,
             "mask coefficients per candidate (32 for -seg heads; masks are dropped)"),
    VG_P_FLOAT(vg_yolo_params, conf_threshold, "conf_threshold", 0.25, 0, 1,
               "a candidate needs a score above"),
    VG_P_FLOAT(vg_yolo_params, iou_threshold, "iou_threshold", 0.45, 0, 1,
               "NMS: boxes overlapping more are duplicates"),
    VG_P_BOOL(vg_yolo_params, class_agnostic, "class_agnostic", false,
              "NMS across classes instead of per class"),
    VG_P_INT(vg_yolo_params, top_k, "top_k", 30000, 1, VG_YOLO_MAX_TOP_K,
             "best candidates that enter NMS"),
    VG_P_INT(vg_yolo_params, max_det, "max_det", 300, 1, 100000, "detections kept per image"),
    VG_P_CUSTOM(
        vg_yolo_params, class_filter, "classes", NULL,
        "class ids 0..100000 to keep (at most " YOLO_STR(VG_YOLO_MAX_CLASS_FILTER) "); none = all"),
    {0}};

static const vg_param k_params[] = {
    VG_P_CUSTOM(yolo_state, tensor, "tensor", nodes_tensor_name, "the head tensor",
                .sdef = "output0"),
    VG_P_GROUP(yolo_state, p, "yolo", k_yolo_keys, yolo_group,
               "thresholds, classes, top-k and NMS of the head (vg_yolo_params)",
               .sub = k_yolo_table),
    VG_P_CUSTOM(yolo_state, split, "split", read_split,
                "end-to-end split outputs: {boxes, scores, classes, num_dets} tensor names"),
    VG_P_CUSTOM(yolo_state, split, "fuse", read_fuse,
                "fuse the views of a batch: true (default), false or {method, match, threshold, "
                "class_agnostic, max_det}"),
    VG_P_BOOL(yolo_state, keep_tensors, "keep_tensors", false, "keep the consumed head tensors"),
    VG_P_CUSTOM(yolo_state, labels, "labels", read_labels, "class names: a file or a list"),
    {0}};

static void yolo_destroy(void *state) {
  yolo_state *s = state;
  for (int i = 0; i < s->nws; i++)
    vg_yolo_cuda_destroy(s->ws[i]);
  vg_labels_free(s->labels);
  if (s->mu_inited) pthread_mutex_destroy(&s->mu);
}

static vg_status yolo_init(vg_node *self, const vg_cnode *params, void **state) {
  yolo_state *s = *state;
  pthread_mutex_init(&s->mu, NULL);
  s->mu_inited = true;
  s->p.labels = s->labels;
  return VG_OK;
}

/* A device workspace for this call (created on first use, one per concurrent call; a node runs
 * on one device, so they all live there). */
static vg_status ws_take(yolo_state *s, vg_device dev, int *slot) {
  pthread_mutex_lock(&s->mu);
  int found = -1;
  for (int i = 0; i < s->nws && found < 0; i++)
    if (!s->ws_busy[i]) found = i;
  vg_status st = VG_OK;
  if (found < 0 && s->nws < YOLO_MAX_WS) {
    st = vg_yolo_cuda_create(dev, &s->ws[s->nws]);
    if (st == VG_OK) found = s->nws++;
  } else if (found < 0) {
    st = vg_set_error(VG_ERR_INTERNAL, "more than %d concurrent device decodes", YOLO_MAX_WS);
  }
  if (found >= 0) s->ws_busy[found] = true;
  pthread_mutex_unlock(&s->mu);
  *slot = found;
  return st;
}

static void ws_give(yolo_state *s, int slot) {
  pthread_mutex_lock(&s->mu);
  s->ws_busy[slot] = false;
  pthread_mutex_unlock(&s->mu);
}

/* The packet's tensor `name` or an error that lists what the packet carries. */
static vg_status need_tensor(vg_call *c, const vg_packet *p, const char *name,
                             const vg_tensor **out) {
  *out = vg_packet_tensor(p, name);
  if (*out) return VG_OK;
  char have[256] = "";
  size_t len = 0;
  for (int i = 0; i < vg_packet_ntensors(p) && len < sizeof have; i++) {
    const char *nm;
    vg_packet_tensor_at(p, i, &nm);
    int w = snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "", nm);
    if (w > 0) len += (size_t)w;
  }
  return vg_set_error(
      VG_ERR_NOT_FOUND, "stream %d frame %lld has no tensor '%s' (it has: %s); set params.tensor",
      vg_packet_stream(p), (long long)vg_packet_frame_no(p), name, have[0] ? have : "none");
}

/* A host tensor for t: t itself, or a copy of a device tensor into *tmp (counted). */
static vg_status host_view(vg_call *c, yolo_state *s, const vg_tensor *t, vg_tensor *tmp,
                           const vg_tensor **out) {
  *out = t;
  if (!t || vg_tensor_device(t).kind == VG_DEVICE_CPU) return VG_OK;
  VG_TRY(vg_tensor_to_device(t, vg_cpu(), NULL, c->stream, tmp));
  vg_status st = vg_stream_sync(c->stream);
  if (st != VG_OK) {
    vg_tensor_release(tmp);
    return st;
  }
  vg_node_stat_add(c->node, VG_STAT_COPIES, 1);
  vg_node_stat_add(c->node, VG_STAT_COPY_BYTES, vg_tensor_nbytes(tmp));
  *out = tmp;
  return VG_OK;
}

/* The batch size of the head and the transform of each item (identity when none). */
static vg_status item_xforms(vg_call *c, const vg_packet *p, int64_t batch, vg_xform **out) {
  int nx = 0;
  const vg_xform *x = vg_packet_xforms(p, &nx);
  if (batch < 1 || batch > 65536)
    return vg_set_error(VG_ERR_INVALID_ARG, "head batch %lld is outside 1..65536",
                        (long long)batch);
  if (nx != 0 && nx != batch)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "the head has a batch of %lld but the packet carries %d transforms "
                        "(one per item expected: letterbox 1, tiles one per tile)",
                        (long long)batch, nx);
  vg_xform *xf = malloc((size_t)batch * sizeof *xf);
  if (!xf) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (int64_t b = 0; b < batch; b++)
    xf[b] = nx ? x[b] : vg_xform_identity();
  *out = xf;
  return VG_OK;
}

/* Decodes every item into views[b] on the device (V5/V8 heads in CUDA memory). */
static vg_status decode_device(vg_call *c, yolo_state *s, const vg_tensor *t, const vg_xform *xf,
                               vg_objects *views) {
  int slot;
  VG_TRY(ws_take(s, vg_tensor_device(t), &slot));
  vg_status st = VG_OK;
  for (int64_t b0 = 0; st == VG_OK && b0 < t->shape[0]; b0 += YOLO_CUDA_MAX_BATCH) {
    int64_t nb = t->shape[0] - b0 < YOLO_CUDA_MAX_BATCH ? t->shape[0] - b0 : YOLO_CUDA_MAX_BATCH;
    vg_tensor part;
    st = vg_tensor_slice(t, 0, b0, nb, &part);
    if (st != VG_OK) break;
    st = vg_yolo_decode_cuda(s->ws[slot], &part, &s->p, xf + b0, views + b0, c->stream);
    vg_tensor_release(&part);
  }
  ws_give(s, slot);
  if (st == VG_OK) vg_node_stat_add(c->node, STAT_ON_DEVICE, 1);
  return st;
}

/* Decodes one packet's head(s) into one list per batch item. */
static vg_status decode_views(vg_call *c, yolo_state *s, const vg_packet *in, vg_objects **views,
                              int *nviews) {
  const vg_tensor *t = NULL, *tb = NULL, *ts = NULL, *tc = NULL, *tn = NULL;
  if (s->split) {
    VG_TRY(need_tensor(c, in, s->boxes, &tb));
    VG_TRY(need_tensor(c, in, s->scores, &ts));
    VG_TRY(need_tensor(c, in, s->classes, &tc));
    if (s->num_dets[0]) VG_TRY(need_tensor(c, in, s->num_dets, &tn));
    t = tb;
  } else {
    VG_TRY(need_tensor(c, in, s->tensor, &t));
  }
  if (t->ndim < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "tensor '%s' has no batch dimension",
                        s->split ? s->boxes : s->tensor);
  vg_xform *xf = NULL;
  VG_TRY(item_xforms(c, in, t->shape[0], &xf));
  int B = (int)t->shape[0];
  vg_objects *v = calloc((size_t)B, sizeof *v);
  if (!v) {
    free(xf);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  }
  vg_yolo_layout l = VG_YOLO_E2E;
  int nc;
  vg_status st = VG_OK;
  if (!s->split) st = vg_yolo_detect_layout(t, &s->p, &l, &nc);
  if (st == VG_OK && !s->split && l != VG_YOLO_E2E && vg_tensor_device(t).kind == VG_DEVICE_CUDA) {
    st = decode_device(c, s, t, xf, v);
  } else if (st == VG_OK) {
    vg_tensor h[4] = {{0}};
    const vg_tensor *hb = NULL, *hs = NULL, *hc = NULL, *hn = NULL;
    st = host_view(c, s, t, &h[0], &hb);
    if (st == VG_OK && s->split) st = host_view(c, s, ts, &h[1], &hs);
    if (st == VG_OK && s->split) st = host_view(c, s, tc, &h[2], &hc);
    if (st == VG_OK && s->split) st = host_view(c, s, tn, &h[3], &hn);
    for (int b = 0; st == VG_OK && b < B; b++)
      st = s->split ? vg_yolo_decode_e2e_split(hb, hs, hc, hn, b, &s->p, &xf[b], &v[b])
                    : vg_yolo_decode(hb, b, &s->p, &xf[b], &v[b]);
    for (int k = 0; k < 4; k++)
      vg_tensor_release(&h[k]);
  }
  free(xf);
  if (st != VG_OK) {
    for (int b = 0; b < B; b++)
      vg_objects_free(&v[b]);
    free(v);
    return st;
  }
  *views = v;
  *nviews = B;
  return VG_OK;
}

/* Appends the views' detections to list: fused when there are several views and fuse is on. */
static vg_status merge_views(yolo_state *s, const vg_objects *views, int n, vg_objects *list) {
  if (n > 1 && s->fuse) return vg_tiles_fuse(views, n, &s->fp, list);
  for (int b = 0; b < n; b++)
    for (size_t k = 0; k < views[b].count; k++)
      VG_TRY(vg_objects_push(list, &views[b].items[k]));
  return VG_OK;
}

static vg_status yolo_one(vg_call *c, yolo_state *s, vg_node_io *io) {
  vg_objects *views = NULL;
  int n = 0;
  VG_TRY(decode_views(c, s, io->in[0], &views, &n));
  vg_packet *out = NULL;
  vg_objects *list = NULL;
  vg_status st = vg_packet_derive(io->in[0], &out);
  if (st == VG_OK) st = vg_packet_objects_edit(out, &list);
  size_t first = list ? list->count : 0;
  if (st == VG_OK) st = merge_views(s, views, n, list);
  for (int b = 0; b < n; b++)
    vg_objects_free(&views[b]);
  free(views);
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  det_stamp(list, first, io->in[0]);
  if (!s->keep_tensors) {
    const char *names[5] = {s->split ? s->boxes : s->tensor, s->split ? s->scores : NULL,
                            s->split ? s->classes : NULL, s->split ? s->num_dets : NULL, NULL};
    for (int k = 0; k < 4; k++)
      if (names[k] && names[k][0]) vg_packet_remove_tensor(out, names[k]);
  }
  vg_node_stat_add(c->node, STAT_FRAMES, 1);
  vg_node_stat_add(c->node, STAT_DETECTIONS, list->count - first);
  io->out[0] = out;
  return VG_OK;
}

static vg_status yolo_process(vg_call *c) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(yolo_one(c, c->state, &c->io[i]));
  return VG_OK;
}

static char *yolo_describe(void *state) {
  yolo_state *s = state;
  char *j = malloc(32);
  if (j) snprintf(j, 32, "{\"fuse\":%s}", s->fuse ? "true" : "false");
  return j;
}

const vg_node_type vg_node_yolo_decode = {
    .name = "yolo_decode",
    .doc = "YOLO head (v5/v8/v11/e2e/seg boxes) -> objects in frame pixels; tiles fused; NMS on "
           "the device when the head is there",
    .inputs = {{"in", VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .params = k_params,
    .state_size = sizeof(yolo_state),
    .init = yolo_init,
    .process = yolo_process,
    .destroy = yolo_destroy,
    .describe = yolo_describe,
    .stats = {"frames", "detections", "decoded_on_device"},
};
