/* frame.c - pictures in host or device memory with their plane layout and timing metadata. */
#include "vidgraph/vg_core.h"

#include <stdio.h>
#include <string.h>

static const char *const fmt_names[VG_PIX_COUNT_] = {"nv12", "rgb24", "bgr24", "gray8"};

const char *vg_pixfmt_name(vg_pixfmt f) {
  return ((int)f >= 0 && f < VG_PIX_COUNT_) ? fmt_names[f] : "unknown";
}

vg_status vg_pixfmt_parse(const char *text, vg_pixfmt *out) {
  for (int i = 0; i < VG_PIX_COUNT_; i++)
    if (text && strcmp(text, fmt_names[i]) == 0) return (*out = (vg_pixfmt)i), VG_OK;
  return vg_set_error(VG_ERR_INVALID_ARG,
                      "unknown pixel format '%s' (use nv12, rgb24, bgr24, gray8)",
                      text ? text : "(null)");
}

size_t vg_frame_plane_width_bytes(const vg_frame *f, int plane) {
  switch (f->format) {
  case VG_PIX_NV12:
    return plane == 0 ? (size_t)f->width : (size_t)((f->width + 1) / 2) * 2;
  case VG_PIX_RGB24:
  case VG_PIX_BGR24:
    return (size_t)f->width * 3;
  case VG_PIX_GRAY8:
    return (size_t)f->width;
  default:
    return 0;
  }
}

int vg_frame_plane_rows(const vg_frame *f, int plane) {
  if (f->format == VG_PIX_NV12 && plane == 1) return (f->height + 1) / 2;
  return f->height;
}

static int planes_of(vg_pixfmt fmt) {
  return fmt == VG_PIX_NV12 ? 2 : 1;
}

vg_status vg_frame_alloc(vg_pixfmt fmt, int width, int height, vg_device dev, vg_pool *pool,
                         int align, vg_frame *out) {
  memset(out, 0, sizeof *out);
  if ((int)fmt < 0 || fmt >= VG_PIX_COUNT_)
    return vg_set_error(VG_ERR_INVALID_ARG, "unsupported pixel format %d", (int)fmt);
  if (width <= 0 || height <= 0 || width > 32768 || height > 32768)
    return vg_set_error(VG_ERR_INVALID_ARG, "frame size %dx%d outside 1..32768", width, height);
  if (align == 0) align = 256;
  if (align < 0 || (align & (align - 1)))
    return vg_set_error(VG_ERR_INVALID_ARG, "frame alignment %d is not a power of two", align);
  vg_frame f;
  memset(&f, 0, sizeof f);
  f.format = fmt;
  f.width = width;
  f.height = height;
  f.nplanes = planes_of(fmt);
  f.pts = INT64_MIN;
  f.tb_num = 1;
  f.tb_den = 1;
  size_t total = 0;
  for (int p = 0; p < f.nplanes; p++) {
    size_t wb = vg_frame_plane_width_bytes(&f, p);
    size_t pitch = (wb + (size_t)align - 1) & ~((size_t)align - 1);
    f.pitch[p] = (int)pitch;
    f.plane_offset[p] = total;
    total += pitch * (size_t)vg_frame_plane_rows(&f, p);
  }
  VG_TRY(vg_buffer_alloc(dev, total, pool, &f.buffer));
  *out = f;
  return VG_OK;
}

void vg_frame_release(vg_frame *f) {
  if (!f) return;
  vg_buffer_unref(f->buffer);
  f->buffer = NULL;
}

void vg_frame_view(const vg_frame *f, vg_frame *out) {
  vg_frame tmp = *f;
  tmp.buffer = vg_buffer_ref(f->buffer);
  *out = tmp;
}

uint8_t *vg_frame_plane(const vg_frame *f, int plane) {
  if (!f->buffer || plane < 0 || plane >= f->nplanes) return NULL;
  return (uint8_t *)vg_buffer_data(f->buffer) + f->plane_offset[plane];
}

vg_device vg_frame_device(const vg_frame *f) {
  return vg_buffer_device(f->buffer);
}

vg_status vg_frame_to_device(const vg_frame *f, vg_device dev, vg_pool *pool, vg_stream s,
                             vg_frame *out) {
  if (!f->buffer) return vg_set_error(VG_ERR_INVALID_ARG, "vg_frame_to_device: empty frame");
  vg_frame n;
  VG_TRY(vg_frame_alloc(f->format, f->width, f->height, dev, pool, 0, &n));
  for (int p = 0; p < f->nplanes; p++) {
    vg_status st = vg_memcpy2d_async(
        vg_frame_plane(&n, p), (size_t)n.pitch[p], dev, vg_frame_plane(f, p), (size_t)f->pitch[p],
        vg_frame_device(f), vg_frame_plane_width_bytes(f, p), (size_t)vg_frame_plane_rows(f, p), s);
    if (st != VG_OK) {
      vg_frame_release(&n);
      return st;
    }
  }
  n.colorspace = f->colorspace;
  n.full_range = f->full_range;
  n.stream_id = f->stream_id;
  n.frame_no = f->frame_no;
  n.pts = f->pts;
  n.tb_num = f->tb_num;
  n.tb_den = f->tb_den;
  n.t_capture_ns = f->t_capture_ns;
  n.t_decode_ns = f->t_decode_ns;
  *out = n;
  return VG_OK;
}

vg_status vg_frame_host_view(const vg_frame *f, vg_frame *tmp, const vg_frame **out) {
  *out = f;
  if (vg_frame_device(f).kind == VG_DEVICE_CPU) return VG_OK;
  /* The picture is complete (its producer's stream was waited for before it was handed on); the
   * copy goes to the default stream and only that is waited for, not the whole device. */
  VG_TRY(vg_frame_to_device(f, vg_cpu(), NULL, NULL, tmp));
  vg_status st = vg_default_stream_sync();
  if (st != VG_OK) {
    vg_frame_release(tmp);
    return st;
  }
  *out = tmp;
  return VG_OK;
}
