/* dbnet_cuda.c - the C side of DBNet decoding on CUDA (kernels in src/post/cuda/post_dbnet.cu):
 * argument checks, the device workspace, and turning the few rectangles that come back into frame
 * quads with the CPU twin's own emit and reading-order steps (src/post/dbnet.c). */
#include "post_internal.h"
#include "post/cuda/post_text.h"

struct vg_dbnet_cuda {
  vg_device dev;
  pt_db_ws *ws;
  pt_db_box *boxes; /* host copy of the results */
  size_t cap;
};

#ifdef VG_HAVE_CUDA

vg_status vg_dbnet_cuda_create(vg_device dev, vg_dbnet_cuda **out) {
  *out = NULL;
  if (dev.kind != VG_DEVICE_CUDA)
    return vg_set_error(VG_ERR_INVALID_ARG, "dbnet-cuda: the workspace needs a CUDA device");
  int n = 0;
  VG_TRY(vg_cuda_device_count(&n));
  if (dev.ordinal < 0 || dev.ordinal >= n)
    return vg_set_error(VG_ERR_DEVICE, "dbnet-cuda: device cuda:%d does not exist (%d devices%s%s)",
                        dev.ordinal, n, n ? "" : ": ", n ? "" : vg_cuda_unavailable_reason());
  vg_dbnet_cuda *w = calloc(1, sizeof *w);
  if (!w) return vg_set_error(VG_ERR_NO_MEMORY, "dbnet-cuda: out of memory");
  w->dev = dev;
  w->ws = pt_db_ws_create(dev.ordinal);
  if (!w->ws) {
    free(w);
    return vg_set_error(VG_ERR_NO_MEMORY, "dbnet-cuda: out of memory");
  }
  *out = w;
  return VG_OK;
}

void vg_dbnet_cuda_destroy(vg_dbnet_cuda *w) {
  if (!w) return;
  pt_db_ws_destroy(w->ws);
  free(w->boxes);
  free(w);
}

vg_status vg_dbnet_decode_cuda(vg_dbnet_cuda *w, const vg_tensor *prob, int b,
                               const vg_dbnet_params *p, const vg_xform *xf, int frame_w,
                               int frame_h, vg_objects *objs, vg_stream s) {
  char buf[96];
  if (!w || !prob || !prob->buffer || !objs)
    return vg_set_error(VG_ERR_INVALID_ARG, "dbnet-cuda: missing argument");
  if (!vg_device_eq(vg_tensor_device(prob), w->dev))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "dbnet-cuda: tensor %s is not on the workspace's device cuda:%d",
                        vg_tensor_str(prob, buf, sizeof buf), w->dev.ordinal);
  if (prob->dtype != VG_DTYPE_F32 && prob->dtype != VG_DTYPE_F16)
    return vg_set_error(VG_ERR_INVALID_ARG, "dbnet-cuda: tensor %s is not f32 or f16",
                        vg_tensor_str(prob, buf, sizeof buf));
  post_db_map m;
  VG_TRY(post_dbnet_check_map(prob, b, false, &m));
  vg_xform id;
  VG_TRY(post_dbnet_check_args(p, &xf, &id));
  size_t es = prob->dtype == VG_DTYPE_F16 ? 2 : 4;
  pt_db_args a = {(const char *)vg_tensor_data(prob) + m.base * (int64_t)es,
                  prob->dtype == VG_DTYPE_F16,
                  m.sy,
                  m.sx,
                  m.w,
                  m.h,
                  p->thresh,
                  p->box_thresh,
                  p->min_size,
                  p->unclip_ratio,
                  p->max_candidates};
  char err[256] = "";
  int nout = 0, nregions = 0;
  int rc = pt_db_run(w->ws, &a, vg_stream_native(s), &w->boxes, &w->cap, &nout, &nregions, err,
                     sizeof err);
  if (rc != 0)
    return vg_set_error(rc < 0 ? VG_ERR_NO_MEMORY : VG_ERR_DEVICE,
                        "dbnet-cuda: decoding %s failed: %s", vg_tensor_str(prob, buf, sizeof buf),
                        err);
  size_t first = objs->count;
  for (int i = 0; i < nout; i++) {
    double q[8];
    for (int k = 0; k < 4; k++)
      q[2 * k] = w->boxes[i].q[k].x, q[2 * k + 1] = w->boxes[i].q[k].y;
    VG_TRY(post_dbnet_emit(q, w->boxes[i].score, xf, frame_w, frame_h, objs));
  }
  post_dbnet_reading_order(objs->items + first, objs->count - first);
  return VG_OK;
}

#else /* no CUDA in this build */

vg_status vg_dbnet_cuda_create(vg_device dev, vg_dbnet_cuda **out) {
  (void)dev;
  *out = NULL;
  return vg_set_error(VG_ERR_UNSUPPORTED, "dbnet-cuda: this build has no CUDA support");
}

void vg_dbnet_cuda_destroy(vg_dbnet_cuda *w) {
  free(w);
}

vg_status vg_dbnet_decode_cuda(vg_dbnet_cuda *w, const vg_tensor *prob, int b,
                               const vg_dbnet_params *p, const vg_xform *xf, int frame_w,
                               int frame_h, vg_objects *objs, vg_stream s) {
  (void)w, (void)prob, (void)b, (void)p, (void)xf, (void)frame_w, (void)frame_h, (void)objs,
      (void)s;
  return vg_set_error(VG_ERR_UNSUPPORTED, "dbnet-cuda: this build has no CUDA support");
}

#endif
