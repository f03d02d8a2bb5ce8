/* ctc_cuda.c - the C side of greedy CTC decoding on CUDA (kernels in src/post/cuda/post_ctc.cu):
 * argument checks, the device workspace, and turning the kept classes that come back into object
 * texts with the dictionary. The CPU twin is vg_ctc_decode (src/post/ctc.c). */
#include "post_internal.h"
#include "post/cuda/post_text.h"

struct vg_ctc_cuda {
  vg_device dev;
  pt_ctc_ws *ws;
  void *host; /* the compact result */
  size_t host_cap;
};

#ifdef VG_HAVE_CUDA

vg_status vg_ctc_cuda_create(vg_device dev, vg_ctc_cuda **out) {
  *out = NULL;
  if (dev.kind != VG_DEVICE_CUDA)
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc-cuda: the workspace needs a CUDA device");
  int n = 0;
  VG_TRY(vg_cuda_device_count(&n));
  if (dev.ordinal < 0 || dev.ordinal >= n)
    return vg_set_error(VG_ERR_DEVICE, "ctc-cuda: device cuda:%d does not exist (%d devices%s%s)",
                        dev.ordinal, n, n ? "" : ": ", n ? "" : vg_cuda_unavailable_reason());
  vg_ctc_cuda *w = calloc(1, sizeof *w);
  if (!w) return vg_set_error(VG_ERR_NO_MEMORY, "ctc-cuda: out of memory");
  w->dev = dev;
  w->ws = pt_ctc_ws_create(dev.ordinal);
  if (!w->ws) {
    free(w);
    return vg_set_error(VG_ERR_NO_MEMORY, "ctc-cuda: out of memory");
  }
  *out = w;
  return VG_OK;
}

void vg_ctc_cuda_destroy(vg_ctc_cuda *w) {
  if (!w) return;
  pt_ctc_ws_destroy(w->ws);
  free(w->host);
  free(w);
}

vg_status vg_ctc_decode_objects_cuda(vg_ctc_cuda *w, const vg_tensor *probs, const vg_ctc_dict *d,
                                     vg_ctc_input input, vg_object *objs, size_t count,
                                     vg_stream s) {
  char buf[96];
  if (!w || !probs || !probs->buffer || (count && !objs))
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc-cuda: missing argument");
  if (!vg_device_eq(vg_tensor_device(probs), w->dev))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "ctc-cuda: tensor %s is not on the workspace's device cuda:%d",
                        vg_tensor_str(probs, buf, sizeof buf), w->dev.ordinal);
  if (probs->dtype != VG_DTYPE_F32 && probs->dtype != VG_DTYPE_F16)
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc-cuda: tensor %s is not f32 or f16",
                        vg_tensor_str(probs, buf, sizeof buf));
  VG_TRY(post_ctc_check(probs, d, false));
  if ((int64_t)count > probs->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: %zu objects but only %lld recognised crops",
                        count, (long long)probs->shape[0]);
  if (probs->shape[1] > VG_CTC_MAX_STEPS)
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: %lld time steps, at most %d",
                        (long long)probs->shape[1], VG_CTC_MAX_STEPS);
  if (count == 0) return VG_OK;
  /* only the rows of the objects are decoded (padded batches carry more) */
  pt_ctc_args a = {vg_tensor_data(probs),
                   probs->dtype == VG_DTYPE_F16,
                   probs->strides[0],
                   probs->strides[1],
                   probs->strides[2],
                   (int)count,
                   (int)probs->shape[1],
                   (int)probs->shape[2],
                   (int)input};
  size_t need = pt_ctc_host_bytes(a.n, a.t);
  if (need > w->host_cap) {
    void *h = realloc(w->host, need);
    if (!h) return vg_set_error(VG_ERR_NO_MEMORY, "ctc-cuda: out of memory");
    w->host = h, w->host_cap = need;
  }
  char err[256] = "";
  int rc = pt_ctc_run(w->ws, &a, vg_stream_native(s), w->host, err, sizeof err);
  if (rc != 0)
    return vg_set_error(VG_ERR_DEVICE, "ctc-cuda: decoding %s failed: %s",
                        vg_tensor_str(probs, buf, sizeof buf), err);
  const pt_ctc_sample *smp = w->host;
  const int32_t *cls = (const int32_t *)(smp + a.n);
  for (size_t i = 0; i < count; i++)
    post_ctc_text(d, cls + i * (size_t)a.t, smp[i].kept, smp[i].conf, objs[i].text,
                  sizeof objs[i].text, &objs[i].text_score);
  return VG_OK;
}

#else /* no CUDA in this build */

vg_status vg_ctc_cuda_create(vg_device dev, vg_ctc_cuda **out) {
  (void)dev;
  *out = NULL;
  return vg_set_error(VG_ERR_UNSUPPORTED, "ctc-cuda: this build has no CUDA support");
}

void vg_ctc_cuda_destroy(vg_ctc_cuda *w) {
  free(w);
}

vg_status vg_ctc_decode_objects_cuda(vg_ctc_cuda *w, const vg_tensor *probs, const vg_ctc_dict *d,
                                     vg_ctc_input input, vg_object *objs, size_t count,
                                     vg_stream s) {
  (void)w, (void)probs, (void)d, (void)input, (void)objs, (void)count, (void)s;
  return vg_set_error(VG_ERR_UNSUPPORTED, "ctc-cuda: this build has no CUDA support");
}

#endif
