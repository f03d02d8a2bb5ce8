/* yolo_cuda.c - the C side of the batched YOLO decode + NMS on CUDA (kernels in
 * src/post/cuda/post_yolo.cu): argument checks, the device workspace, and turning the few final
 * detections that come back into objects. The CPU twin is vg_yolo_decode. */
#include "post_internal.h"
#include "post/cuda/post_kernels.h"

#include <stdio.h>

struct vg_yolo_cuda {
  vg_device dev;
  pk_yolo_ws *ws;
  pk_det *dets; /* host copy of the results */
  int32_t *counts;
  size_t dets_cap, counts_cap;
};

#ifdef VG_HAVE_CUDA

vg_status vg_yolo_cuda_create(vg_device dev, vg_yolo_cuda **out) {
  *out = NULL;
  if (dev.kind != VG_DEVICE_CUDA)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: the workspace needs a CUDA device");
  int n = 0;
  VG_TRY(vg_cuda_device_count(&n));
  if (dev.ordinal < 0 || dev.ordinal >= n)
    return vg_set_error(VG_ERR_DEVICE, "yolo-cuda: device cuda:%d does not exist (%d devices%s%s)",
                        dev.ordinal, n, n ? "" : ": ", n ? "" : vg_cuda_unavailable_reason());
  vg_yolo_cuda *w = calloc(1, sizeof *w);
  if (!w) return vg_set_error(VG_ERR_NO_MEMORY, "yolo-cuda: out of memory");
  w->dev = dev;
  w->ws = pk_yolo_ws_create(dev.ordinal);
  if (!w->ws) {
    free(w);
    return vg_set_error(VG_ERR_DEVICE, "yolo-cuda: cannot create the workspace on cuda:%d",
                        dev.ordinal);
  }
  *out = w;
  return VG_OK;
}

void vg_yolo_cuda_destroy(vg_yolo_cuda *w) {
  if (!w) return;
  pk_yolo_ws_destroy(w->ws);
  free(w->dets);
  free(w->counts);
  free(w);
}

static vg_status grow_host(vg_yolo_cuda *w, size_t ndets, size_t nb) {
  if (ndets > w->dets_cap) {
    pk_det *d = realloc(w->dets, ndets * sizeof *d);
    if (!d)
      return vg_set_error(VG_ERR_NO_MEMORY, "yolo-cuda: out of memory for %zu results", ndets);
    w->dets = d, w->dets_cap = ndets;
  }
  if (nb > w->counts_cap) {
    int32_t *c = realloc(w->counts, nb * sizeof *c);
    if (!c) return vg_set_error(VG_ERR_NO_MEMORY, "yolo-cuda: out of memory");
    w->counts = c, w->counts_cap = nb;
  }
  return VG_OK;
}

static vg_status fill_args(const vg_tensor *out, const vg_yolo_params *p, vg_yolo_layout l, int nc,
                           pk_yolo_args *a) {
  memset(a, 0, sizeof *a);
  a->data = vg_tensor_data(out);
  a->f16 = out->dtype == VG_DTYPE_F16;
  a->stride_b = out->strides[0];
  a->stride_anchor = l == VG_YOLO_V8 ? out->strides[2] : out->strides[1];
  a->stride_chan = l == VG_YOLO_V8 ? out->strides[1] : out->strides[2];
  a->batch = (int)out->shape[0];
  a->anchors = (int)(l == VG_YOLO_V8 ? out->shape[2] : out->shape[1]);
  a->num_classes = nc;
  a->objectness = l == VG_YOLO_V5;
  a->conf = p->conf_threshold;
  a->iou = p->iou_threshold;
  a->agnostic = p->class_agnostic;
  a->top_k = p->top_k;
  a->max_det = p->max_det;
  a->nfilter = p->nclass_filter;
  for (int i = 0; i < p->nclass_filter; i++)
    a->filter[i] = p->class_filter[i];
  return VG_OK;
}

vg_status vg_yolo_decode_cuda(vg_yolo_cuda *w, const vg_tensor *out, const vg_yolo_params *p,
                              const vg_xform *xf, vg_objects *objs, vg_stream s) {
  char buf[96];
  if (!w || !out || !out->buffer || !p || !objs)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: missing argument");
  vg_device td = vg_tensor_device(out);
  if (!vg_device_eq(td, w->dev))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "yolo-cuda: tensor %s is not on the workspace's "
                        "device cuda:%d",
                        vg_tensor_str(out, buf, sizeof buf), w->dev.ordinal);
  if (out->dtype != VG_DTYPE_F32 && out->dtype != VG_DTYPE_F16)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: tensor %s is not f32 or f16",
                        vg_tensor_str(out, buf, sizeof buf));
  VG_TRY(post_yolo_check_params(p));
  vg_yolo_layout l;
  int nc;
  VG_TRY(vg_yolo_detect_layout(out, p, &l, &nc));
  if (l == VG_YOLO_E2E)
    return vg_set_error(VG_ERR_UNSUPPORTED, "yolo-cuda: end-to-end outputs are decoded on the "
                                            "host (copy the small tensor and use vg_yolo_decode)");
  if (out->shape[0] > 255)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: batch %lld is more than 255",
                        (long long)out->shape[0]);
  int B = (int)out->shape[0];
  int64_t anchors = l == VG_YOLO_V8 ? out->shape[2] : out->shape[1];
  if ((int64_t)B * anchors > 0x7fffffff)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: %s has more than 2^31 candidates",
                        vg_tensor_str(out, buf, sizeof buf));
  pk_xform pxf[256];
  for (int b = 0; b < B; b++) {
    vg_xform x = xf ? xf[b] : vg_xform_identity();
    if (!(x.scale_x > 0.f && x.scale_y > 0.f))
      return vg_set_error(VG_ERR_INVALID_ARG, "yolo-cuda: transform %d has a non-positive scale",
                          b);
    pxf[b] = (pk_xform){x.scale_x, x.scale_y, x.pad_x, x.pad_y, x.off_x, x.off_y};
  }
  VG_TRY(grow_host(w, (size_t)B * (size_t)p->max_det, (size_t)B));
  pk_yolo_args a;
  fill_args(out, p, l, nc, &a);
  char err[256] = "";
  int rc = pk_yolo_run(w->ws, &a, pxf, vg_stream_native(s), w->dets, w->counts, err, sizeof err);
  if (rc != 0)
    return vg_set_error(VG_ERR_DEVICE, "yolo-cuda: decode+NMS of %s failed: %s",
                        vg_tensor_str(out, buf, sizeof buf), err);
  for (int b = 0; b < B; b++) {
    const pk_det *d = w->dets + (size_t)b * (size_t)p->max_det;
    VG_TRY(vg_objects_reserve(&objs[b], objs[b].count + (size_t)w->counts[b]));
    for (int i = 0; i < w->counts[b]; i++) {
      vg_object o = vg_object_init();
      o.box = (vg_box){d[i].x1, d[i].y1, d[i].x2, d[i].y2};
      o.score = d[i].score;
      o.class_id = d[i].class_id;
      post_set_label(&o, p->labels, d[i].class_id);
      VG_TRY(vg_objects_push(&objs[b], &o));
    }
  }
  return VG_OK;
}

#else /* no CUDA in this build */

vg_status vg_yolo_cuda_create(vg_device dev, vg_yolo_cuda **out) {
  *out = NULL;
  return vg_set_error(VG_ERR_UNSUPPORTED, "yolo-cuda: this build has no CUDA support");
}

void vg_yolo_cuda_destroy(vg_yolo_cuda *w) {
  free(w);
}

vg_status vg_yolo_decode_cuda(vg_yolo_cuda *w, const vg_tensor *out, const vg_yolo_params *p,
                              const vg_xform *xf, vg_objects *objs, vg_stream s) {
  return vg_set_error(VG_ERR_UNSUPPORTED, "yolo-cuda: this build has no CUDA support");
}

#endif
