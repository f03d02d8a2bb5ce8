/* jpeg_write.c - frames as JPEG: in memory (vg_jpeg_encode, for the server's frame.jpg and MJPEG
 * views) and as snapshot files (vg_jpeg_write, the same bytes written to a temporary file that
 * is renamed into place, so a reader never sees half a snapshot). The one place that decides the
 * encoder: a device frame goes to nvJPEG on its GPU when the library is usable (jpeg_nvjpeg.c:
 * only the JPEG bytes cross to the host), else it is read back once and encoded with libjpeg,
 * like a host frame; NV12/BGR/GRAY are converted to RGB rows first. */
#include "video_internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <stdatomic.h>

typedef struct mem_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
} mem_err;

static void mem_on_error(j_common_ptr c) {
  mem_err *e = (mem_err *)c->err;
  (*c->err->format_message)(c, e->msg);
  longjmp(e->jb, 1);
}

static vg_status compress_mem(const uint8_t *rgb, int w, int h, int quality, uint8_t **out,
                              size_t *out_len) {
  struct jpeg_compress_struct c;
  mem_err err;
  unsigned char *volatile buf = NULL;
  unsigned long len = 0;
  memset(&c, 0, sizeof c);
  c.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = mem_on_error;
  if (setjmp(err.jb)) {
    jpeg_destroy_compress(&c);
    free(buf);
    return vg_set_error(VG_ERR_BACKEND, "encoding JPEG: %s", err.msg);
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, (unsigned char **)&buf, &len);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * (size_t)w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  *out = buf;
  *out_len = len;
  return VG_OK;
}

static vg_status encode_libjpeg(const vg_frame *f, int quality, uint8_t **out, size_t *out_len) {
  vg_frame host;
  const vg_frame *src;
  VG_TRY(vg_frame_host_view(f, &host, &src));
  vg_status st = VG_OK;
  uint8_t *rgb = malloc((size_t)src->width * (size_t)src->height * 3);
  if (!rgb)
    st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a %dx%d JPEG", src->width, src->height);
  if (st == VG_OK) {
    vgv_to_rgb24(src, rgb);
    st = compress_mem(rgb, src->width, src->height, quality, out, out_len);
  }
  free(rgb);
  if (src == &host) vg_frame_release(&host);
  return st;
}

const char *vg_jpeg_device_encoder(int ordinal, char *reason, size_t cap) {
  char why[400] = "";
  bool ok = vgv_nvjpeg_usable(ordinal, why, sizeof why);
  if (reason && cap) snprintf(reason, cap, "%s", ok ? "" : why);
  return ok ? "nvjpeg" : "libjpeg";
}

const char *vg_jpeg_nvjpeg_version(void) {
  return vgv_nvjpeg_version();
}

vg_status vg_jpeg_encode_ex(const vg_frame *f, int quality, uint8_t **out, size_t *out_len,
                            vg_jpeg_path *how) {
  if (!f || !f->buffer || !out || !out_len)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_jpeg_encode: empty frame or output");
  if (quality < 1 || quality > 100)
    return vg_set_error(VG_ERR_INVALID_ARG, "JPEG quality %d outside 1..100", quality);
  if ((int)f->format < 0 || f->format >= VG_PIX_COUNT_ || f->width < 1 || f->height < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_jpeg_encode: bad frame (format %d, %dx%d)",
                        (int)f->format, f->width, f->height);
  vg_device dev = vg_frame_device(f);
  if (how) *how = dev.kind == VG_DEVICE_CPU ? VG_JPEG_HOST : VG_JPEG_READBACK;
  if (dev.kind == VG_DEVICE_CPU) return encode_libjpeg(f, quality, out, out_len);
  vg_status st = vgv_nvjpeg_encode(f, quality, out, out_len);
  if (st == VG_OK) {
    if (how) *how = VG_JPEG_NVJPEG;
    return VG_OK;
  }
  if (st != VG_ERR_UNSUPPORTED) { /* usable but failed: say so (once), then libjpeg */
    static atomic_int warned;
    if (atomic_exchange(&warned, 1) == 0)
      vg_log(VG_LOG_WARN, "jpeg", NULL, "nvJPEG failed, device frames go to libjpeg: %s",
             vg_last_error());
  }
  vg_clear_error();
  return encode_libjpeg(f, quality, out, out_len);
}

vg_status vg_jpeg_encode(const vg_frame *f, int quality, uint8_t **out, size_t *out_len) {
  return vg_jpeg_encode_ex(f, quality, out, out_len, NULL);
}

vg_status vg_jpeg_write_ex(const vg_frame *f, const char *path, int quality, vg_jpeg_path *how,
                           size_t *bytes) {
  if (!f || !f->buffer || !path)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_jpeg_write: empty frame or path");
  uint8_t *buf = NULL;
  size_t len = 0;
  vg_status st = vg_jpeg_encode_ex(f, quality, &buf, &len, how);
  if (st != VG_OK) return vg_wrap_error(st, "writing JPEG '%s'", path);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *fp = fopen(tmp, "wb");
  if (!fp) st = vg_set_error(VG_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
  if (st == VG_OK && fwrite(buf, 1, len, fp) != len)
    st = vg_set_error(VG_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
  if (fp && fclose(fp) != 0 && st == VG_OK)
    st = vg_set_error(VG_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
  if (st == VG_OK && rename(tmp, path) != 0)
    st = vg_set_error(VG_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
  if (st != VG_OK && fp) remove(tmp);
  if (st == VG_OK && bytes) *bytes = len;
  free(buf);
  return st;
}

vg_status vg_jpeg_write(const vg_frame *f, const char *path, int quality) {
  return vg_jpeg_write_ex(f, path, quality, NULL, NULL);
}
