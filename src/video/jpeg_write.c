/* jpeg_write.c - JPEG snapshots of frames with libjpeg: device frames are copied to the host,
 * NV12/BGR/GRAY are converted to RGB rows, then a baseline JPEG is written to a temporary file
 * that is renamed into place (a reader never sees half a snapshot). */
#include "video_internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct jerr {
  struct jpeg_error_mgr mgr;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_error(j_common_ptr c) {
  jerr *e = (jerr *)c->err;
  (*c->err->format_message)(c, e->msg);
  longjmp(e->jb, 1);
}

static vg_status compress(const uint8_t *rgb, int w, int h, FILE *fp, int quality,
                          const char *path) {
  struct jpeg_compress_struct c;
  jerr err;
  memset(&c, 0, sizeof c);
  c.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_error;
  if (setjmp(err.jb)) {
    jpeg_destroy_compress(&c);
    return vg_set_error(VG_ERR_BACKEND, "writing JPEG '%s': %s", path, err.msg);
  }
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, fp);
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
  return VG_OK;
}

vg_status vg_jpeg_write(const vg_frame *f, const char *path, int quality) {
  if (!f || !f->buffer || !path)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_jpeg_write: empty frame or path");
  if (quality < 1 || quality > 100)
    return vg_set_error(VG_ERR_INVALID_ARG, "JPEG quality %d outside 1..100", quality);
  if ((int)f->format < 0 || f->format >= VG_PIX_COUNT_)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_jpeg_write: bad pixel format %d", (int)f->format);
  vg_frame host;
  const vg_frame *src;
  VG_TRY(vg_frame_host_view(f, &host, &src));
  vg_status st = VG_OK;
  uint8_t *rgb = malloc((size_t)src->width * (size_t)src->height * 3);
  if (!rgb) st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory writing '%s'", path);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *fp = NULL;
  if (st == VG_OK) {
    vgv_to_rgb24(src, rgb);
    fp = fopen(tmp, "wb");
    if (!fp) st = vg_set_error(VG_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
  }
  if (st == VG_OK) st = compress(rgb, src->width, src->height, fp, quality, path);
  if (fp && fclose(fp) != 0 && st == VG_OK)
    st = vg_set_error(VG_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
  if (st == VG_OK && rename(tmp, path) != 0)
    st = vg_set_error(VG_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
  if (st != VG_OK && fp) remove(tmp);
  free(rgb);
  if (src == &host) vg_frame_release(&host);
  return st;
}
