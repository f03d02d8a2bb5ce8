/* node_util.c - helpers shared by the built-in nodes: parameter groups and frame copies. */
#include "node_util.h"

#include <stdio.h>
#include <string.h>

void nodes_base_dir(const vg_cnode *params, char *buf, size_t cap) {
  snprintf(buf, cap, ".");
  if (!params) return;
  char where[1024];
  vg_cnode_where(params, where, sizeof where); /* "dir/file.yaml:line:col" */
  char *c = strrchr(where, ':');
  if (c) *c = '\0';
  c = strrchr(where, ':');
  if (c) *c = '\0';
  char *slash = strrchr(where, '/');
  if (!slash) return;
  *slash = '\0';
  snprintf(buf, cap, "%s", where[0] ? where : "/");
}

vg_status nodes_floats(const vg_cnode *params, const char *key, float *out, int n) {
  const vg_cnode *l = vg_cnode_get(params, key);
  if (!l) return VG_OK;
  if (vg_cnode_get_kind(l) != VG_CNODE_SEQ || (int)vg_cnode_len(l) != n)
    return vg_cnode_error(l, VG_ERR_PARSE, "expected a list of %d numbers", n);
  for (int i = 0; i < n; i++) {
    double v;
    VG_TRY(vg_cnode_as_double(vg_cnode_at(l, (size_t)i), &v));
    out[i] = (float)v;
  }
  return VG_OK;
}

vg_status nodes_tensor_params(const vg_cnode *params, vg_tensor_params *tp) {
  const char *interp, *scale;
  VG_TRY(vg_cfg_string(params, "interp", false,
                       tp->interp == VG_INTERP_NEAREST ? "nearest" : "bilinear", &interp));
  if (strcmp(interp, "bilinear") == 0)
    tp->interp = VG_INTERP_BILINEAR;
  else if (strcmp(interp, "nearest") == 0)
    tp->interp = VG_INTERP_NEAREST;
  else
    return vg_cnode_error(vg_cnode_get(params, "interp"), VG_ERR_PARSE,
                          "interp must be bilinear or nearest, got '%s'", interp);
  VG_TRY(vg_cfg_bool(params, "bgr", false, tp->bgr, &tp->bgr));
  double pad;
  VG_TRY(vg_cfg_double_range(params, "pad_value", false, tp->pad_value, 0, 255, &pad));
  tp->pad_value = (float)pad;
  VG_TRY(vg_cfg_string(params, "scale", false, NULL, &scale));
  if (scale) {
    if (strcmp(scale, "unit") == 0)
      tp->norm = vg_norm_unit();
    else if (strcmp(scale, "none") == 0)
      tp->norm = vg_norm_identity();
    else
      return vg_cnode_error(vg_cnode_get(params, "scale"), VG_ERR_PARSE,
                            "scale must be unit (v/255) or none, got '%s'", scale);
  }
  if (vg_cnode_get(params, "mean") || vg_cnode_get(params, "std")) {
    float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
    VG_TRY(nodes_floats(params, "mean", mean, 3));
    VG_TRY(nodes_floats(params, "std", std, 3));
    for (int i = 0; i < 3; i++)
      if (std[i] <= 0)
        return vg_cnode_error(vg_cnode_get(params, "std"), VG_ERR_PARSE, "std values must be > 0");
    tp->norm = vg_norm_mean_std(mean, std);
  }
  return VG_OK;
}

vg_status nodes_layout_dtype(const vg_cnode *params, vg_layout *layout, vg_dtype *dtype) {
  const char *l, *d;
  VG_TRY(vg_cfg_string(params, "layout", false, *layout == VG_LAYOUT_NHWC ? "nhwc" : "nchw", &l));
  if (strcmp(l, "nchw") == 0)
    *layout = VG_LAYOUT_NCHW;
  else if (strcmp(l, "nhwc") == 0)
    *layout = VG_LAYOUT_NHWC;
  else
    return vg_cnode_error(vg_cnode_get(params, "layout"), VG_ERR_PARSE,
                          "layout must be nchw or nhwc, got '%s'", l);
  VG_TRY(vg_cfg_string(params, "dtype", false, vg_dtype_name(*dtype), &d));
  if (strcmp(d, "f32") != 0 && strcmp(d, "f16") != 0)
    return vg_cnode_error(vg_cnode_get(params, "dtype"), VG_ERR_PARSE,
                          "dtype must be f32 or f16, got '%s'", d);
  return vg_dtype_parse(d, dtype);
}

vg_status nodes_tensor_out_params(const vg_cnode *params, const char *def_name,
                                  nodes_tensor_out *o) {
  o->tp = vg_tensor_params_default();
  VG_TRY(nodes_tensor_params(params, &o->tp));
  o->layout = VG_LAYOUT_NCHW;
  o->dtype = VG_DTYPE_F32;
  VG_TRY(nodes_layout_dtype(params, &o->layout, &o->dtype));
  const char *name;
  VG_TRY(vg_cfg_string(params, "output", false, def_name, &name));
  if (!name[0] || strlen(name) >= VG_TENSOR_NAME_MAX)
    return vg_cnode_error(vg_cnode_get(params, "output"), VG_ERR_PARSE,
                          "output: a tensor name of 1..%d characters", VG_TENSOR_NAME_MAX - 1);
  snprintf(o->name, sizeof o->name, "%s", name);
  return VG_OK;
}

const char *const nodes_tensor_out_keys[] = {"interp",    "bgr",    "mean",  "std",    "scale",
                                             "pad_value", "layout", "dtype", "output", NULL};

vg_status nodes_tensor_name(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  const vg_cnode *value = vg_cnode_get(params, p->name);
  const char *v = p->sdef ? p->sdef : "";
  if (value) VG_TRY(vg_cnode_as_string(value, &v));
  if (!v[0] || strlen(v) >= VG_TENSOR_NAME_MAX)
    return vg_cnode_error(value ? value : params, VG_ERR_PARSE,
                          "%s: a tensor name of 1..%d characters", p->name, VG_TENSOR_NAME_MAX - 1);
  snprintf(field, VG_TENSOR_NAME_MAX, "%s", v);
  return VG_OK;
}

vg_status nodes_frame_copy(vg_node *self, const vg_frame *src, vg_stream s, vg_frame *out) {
  vg_device dev = vg_node_device(self);
  vg_frame n;
  VG_TRY(vg_frame_alloc(src->format, src->width, src->height, dev, vg_node_pool(self), 0, &n));
  for (int p = 0; p < src->nplanes; p++) {
    vg_status st = vg_memcpy2d_async(vg_frame_plane(&n, p), (size_t)n.pitch[p], dev,
                                     vg_frame_plane(src, p), (size_t)src->pitch[p],
                                     vg_frame_device(src), vg_frame_plane_width_bytes(src, p),
                                     (size_t)vg_frame_plane_rows(src, p), s);
    if (st != VG_OK) {
      vg_frame_release(&n);
      return st;
    }
  }
  vg_buffer *b = n.buffer;
  int pitch[3] = {n.pitch[0], n.pitch[1], n.pitch[2]};
  size_t off[3] = {n.plane_offset[0], n.plane_offset[1], n.plane_offset[2]};
  n = *src;
  n.buffer = b;
  memcpy(n.pitch, pitch, sizeof pitch);
  memcpy(n.plane_offset, off, sizeof off);
  *out = n;
  return VG_OK;
}

vg_status nodes_per_frame(vg_call *c, vg_status (*one)(vg_call *c, vg_node_io *io)) {
  for (int i = 0; i < c->n; i++)
    VG_TRY(one(c, &c->io[i]));
  return VG_OK;
}

vg_status nodes_hand_over(vg_node_io *io, vg_packet *out, vg_status st) {
  if (st != VG_OK) {
    vg_packet_unref(out);
    return st;
  }
  io->out[0] = out;
  return VG_OK;
}

void nodes_ws_pool_init(nodes_ws_pool *p) {
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  p->inited = true;
}

void nodes_ws_pool_free(nodes_ws_pool *p, void (*drop)(void *)) {
  if (!p->inited) return;
  for (int i = 0; i < p->n; i++)
    drop(p->ws[i]);
  p->n = 0;
  pthread_mutex_destroy(&p->mu);
  p->inited = false;
}

vg_status nodes_ws_take(nodes_ws_pool *p, vg_device dev, vg_status (*make)(vg_device, void **),
                        void **ws) {
  pthread_mutex_lock(&p->mu);
  int found = -1;
  for (int i = 0; i < p->n && found < 0; i++)
    if (!p->busy[i]) found = i;
  vg_status st = VG_OK;
  if (found < 0 && p->n < NODES_WS_MAX) {
    st = make(dev, &p->ws[p->n]);
    if (st == VG_OK) found = p->n++;
  } else if (found < 0) {
    st = vg_set_error(VG_ERR_INTERNAL, "more than %d concurrent device decodes", NODES_WS_MAX);
  }
  if (found >= 0) p->busy[found] = true;
  *ws = found >= 0 ? p->ws[found] : NULL;
  pthread_mutex_unlock(&p->mu);
  return st;
}

void nodes_ws_give(nodes_ws_pool *p, void *ws) {
  pthread_mutex_lock(&p->mu);
  for (int i = 0; i < p->n; i++)
    if (p->ws[i] == ws) p->busy[i] = false;
  pthread_mutex_unlock(&p->mu);
}
