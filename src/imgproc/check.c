/* check.c - argument checks shared by every imgproc entry point: frames that the kernels can
 * read without leaving their buffers, output tensors of the right shape/dtype/device, devices and
 * streams that agree, tensor parameters; and the descriptors built from checked arguments. */
#include "imgproc/imgproc_internal.h"

#include <math.h>
#include <string.h>

vg_status vg_ip_check_frame(const vg_frame *f, const char *what, int idx, unsigned allow_mask) {
  if (!f) return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: %s %d is NULL", what, idx);
  if ((int)f->format < 0 || f->format >= VG_PIX_COUNT_ || !(allow_mask & (1u << f->format)))
    return vg_set_error(VG_ERR_UNSUPPORTED, "imgproc: %s %d has unsupported pixel format %s (%d)",
                        what, idx, vg_pixfmt_name(f->format), (int)f->format);
  if (f->width <= 0 || f->height <= 0 || f->width > 32768 || f->height > 32768)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: %s %d has size %dx%d outside 1..32768", what,
                        idx, f->width, f->height);
  if (!f->buffer || !vg_buffer_data(f->buffer))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: %s %d has no pixel buffer", what, idx);
  int planes = f->format == VG_PIX_NV12 ? 2 : 1;
  if (f->nplanes != planes)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: %s %d (%s) has %d planes, expected %d", what,
                        idx, vg_pixfmt_name(f->format), f->nplanes, planes);
  size_t size = vg_buffer_size(f->buffer);
  for (int p = 0; p < planes; p++) {
    size_t wb = vg_frame_plane_width_bytes(f, p), rows = (size_t)vg_frame_plane_rows(f, p);
    if (f->pitch[p] <= 0 || (size_t)f->pitch[p] < wb)
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "imgproc: %s %d plane %d pitch %d is smaller than its row of %zu bytes",
                          what, idx, p, f->pitch[p], wb);
    size_t end = f->plane_offset[p] + (size_t)f->pitch[p] * (rows - 1) + wb;
    if (f->plane_offset[p] > size || end > size)
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "imgproc: %s %d plane %d (offset %zu, pitch %d, %zu rows) needs %zu "
                          "bytes but its buffer has %zu",
                          what, idx, p, f->plane_offset[p], f->pitch[p], rows, end, size);
  }
  return VG_OK;
}

vg_status vg_ip_common_device(const vg_frame *frames, int n, const vg_tensor *t, vg_device *dev) {
  char a[24], b[24];
  vg_device d = vg_frame_device(&frames[0]);
  for (int i = 1; i < n; i++) {
    vg_device di = vg_frame_device(&frames[i]);
    if (!vg_device_eq(d, di))
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "imgproc: frame %d is on %s but frame 0 is on %s; all inputs and "
                          "outputs of one call must be on one device",
                          i, vg_device_str(di, a, sizeof a), vg_device_str(d, b, sizeof b));
  }
  if (t && t->buffer && !vg_device_eq(d, vg_tensor_device(t)))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc: the output tensor is on %s but the frames are on %s; move one "
                        "of them first",
                        vg_device_str(vg_tensor_device(t), a, sizeof a),
                        vg_device_str(d, b, sizeof b));
  *dev = d;
  return VG_OK;
}

vg_status vg_ip_check_out_tensor(const vg_tensor *t, int64_t n, vg_layout layout, int *out_w,
                                 int *out_h) {
  char s[96];
  if (!t || !t->buffer) return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: output tensor is empty");
  if (t->dtype != VG_DTYPE_F32 && t->dtype != VG_DTYPE_F16)
    return vg_set_error(VG_ERR_UNSUPPORTED, "imgproc: output tensor %s must be f32 or f16",
                        vg_tensor_str(t, s, sizeof s));
  int ch = layout == VG_LAYOUT_NCHW ? 1 : 3;
  int hd = layout == VG_LAYOUT_NCHW ? 2 : 1;
  if (t->ndim != 4 || t->shape[0] != n || t->shape[ch] != 3 || t->shape[hd] <= 0 ||
      t->shape[hd + 1] <= 0 || t->shape[hd] > VG_IMGPROC_MAX_SIDE ||
      t->shape[hd + 1] > VG_IMGPROC_MAX_SIDE)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "imgproc: output tensor %s does not have the shape %s with N=%lld and H, "
                        "W in 1..%d",
                        vg_tensor_str(t, s, sizeof s),
                        layout == VG_LAYOUT_NCHW ? "[N,3,H,W]" : "[N,H,W,3]", (long long)n,
                        VG_IMGPROC_MAX_SIDE);
  if (!vg_tensor_is_contiguous(t))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: output tensor %s is not contiguous",
                        vg_tensor_str(t, s, sizeof s));
  size_t size = vg_buffer_size(t->buffer);
  if (t->offset > size || vg_tensor_nbytes(t) > size - t->offset)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: output tensor %s overruns its buffer",
                        vg_tensor_str(t, s, sizeof s));
  *out_h = (int)t->shape[hd];
  *out_w = (int)t->shape[hd + 1];
  return VG_OK;
}

vg_status vg_ip_check_tensor_params(const vg_tensor_params *tp, vg_layout layout) {
  if (!tp) return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: tensor parameters are NULL");
  if (layout != VG_LAYOUT_NCHW && layout != VG_LAYOUT_NHWC)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: unknown layout %d", (int)layout);
  if (tp->interp != VG_INTERP_BILINEAR && tp->interp != VG_INTERP_NEAREST)
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: unknown interpolation %d", (int)tp->interp);
  for (int c = 0; c < 3; c++)
    if (!isfinite(tp->norm.mul[c]) || !isfinite(tp->norm.add[c]))
      return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: normalisation of channel %d is not finite",
                          c);
  if (!isfinite(tp->pad_value))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: pad value is not finite");
  return VG_OK;
}

vg_status vg_ip_check_stream(vg_stream s, vg_device dev) {
  if (!s || dev.kind == VG_DEVICE_CPU) return VG_OK;
  vg_device sd = vg_stream_device(s);
  char a[24], b[24];
  if (!vg_device_eq(sd, dev))
    return vg_set_error(VG_ERR_INVALID_ARG, "imgproc: the stream is on %s but the data is on %s",
                        vg_device_str(sd, a, sizeof a), vg_device_str(dev, b, sizeof b));
  return VG_OK;
}

void vg_ip_out_init(vg_ip_out *o, const vg_tensor *t, vg_layout layout, const vg_tensor_params *tp,
                    int out_w, int out_h) {
  memset(o, 0, sizeof *o);
  o->data = vg_tensor_data(t);
  o->out_w = out_w;
  o->out_h = out_h;
  o->item_stride = (int64_t)3 * out_w * out_h;
  o->f16 = t->dtype == VG_DTYPE_F16;
  o->nhwc = layout == VG_LAYOUT_NHWC;
  o->interp = tp->interp;
  o->bgr = tp->bgr ? 1 : 0;
  for (int c = 0; c < 3; c++) {
    o->mul[c] = tp->norm.mul[c];
    o->add[c] = tp->norm.add[c];
    o->pad[c] = tp->pad_value * tp->norm.mul[c] + tp->norm.add[c];
  }
}

void vg_ip_src_init(vg_ip_src *s, const vg_frame *f) {
  memset(s, 0, sizeof *s);
  s->p0 = vg_frame_plane(f, 0);
  s->p1 = f->nplanes > 1 ? vg_frame_plane(f, 1) : NULL;
  s->pitch0 = f->pitch[0];
  s->pitch1 = f->nplanes > 1 ? f->pitch[1] : 0;
  s->w = f->width;
  s->h = f->height;
  s->fmt = (int)f->format;
}

void vg_ip_item_colour(vg_ip_item *it, const vg_frame *f) {
  vg_ip_src_init(&it->src, f);
  vg_ip_coef_float(f->colorspace, f->full_range, it->cm);
}

/* ----------------------------------------------------------------- normalisation helpers */

vg_norm vg_norm_unit(void) {
  vg_norm n;
  for (int c = 0; c < 3; c++)
    n.mul[c] = 1.f / 255.f, n.add[c] = 0.f;
  return n;
}

vg_norm vg_norm_identity(void) {
  vg_norm n;
  for (int c = 0; c < 3; c++)
    n.mul[c] = 1.f, n.add[c] = 0.f;
  return n;
}

vg_norm vg_norm_mean_std(const float mean[3], const float std[3]) {
  vg_norm n;
  for (int c = 0; c < 3; c++) {
    double s = std[c] != 0.f ? std[c] : NAN; /* a zero std is caught by the parameter check */
    n.mul[c] = (float)(1.0 / (255.0 * s));
    n.add[c] = (float)(-mean[c] / s);
  }
  return n;
}

vg_tensor_params vg_tensor_params_default(void) {
  vg_tensor_params tp;
  memset(&tp, 0, sizeof tp);
  tp.interp = VG_INTERP_BILINEAR;
  tp.norm = vg_norm_unit();
  tp.pad_value = 114.f;
  return tp;
}
