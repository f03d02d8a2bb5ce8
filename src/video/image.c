/* image.c - still images as a source: one JPEG (libjpeg) or PNG (libpng) file, or a folder of
 * them (sorted by name, other files ignored), read into host RGB24 frames. Also vg_image_read for
 * callers that want one picture. */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>

#define MAX_FOLDER_IMAGES 100000
/* The largest picture read: 128 Mpixel (a 108 Mpixel phone photo fits), 384 MB as RGB24. A
 * header is a few bytes, so without a limit a tiny file could ask for gigabytes. */
#define MAX_IMAGE_PIXELS (128ull * 1000 * 1000)

static vg_status check_size(const char *path, const char *kind, unsigned long long w,
                            unsigned long long h) {
  if (w == 0 || h == 0)
    return vg_set_error(VG_ERR_PARSE, "'%s': bad %s: its header says %llux%llu pixels", path, kind,
                        w, h);
  if (w > 65535 || h > 65535 || w * h > MAX_IMAGE_PIXELS)
    return vg_set_error(VG_ERR_UNSUPPORTED,
                        "'%s': %s of %llux%llu pixels (%.1f Mpixel) is larger than the %llu Mpixel "
                        "vidgraph reads; scale it down first",
                        path, kind, w, h, (double)(w * h) / 1e6, MAX_IMAGE_PIXELS / 1000000);
  return VG_OK;
}

/* Allocates the frame an image is read into, once its size is known. */
typedef vg_status (*alloc_fn)(void *ctx, int w, int h, vg_frame *out);

/* ----------------------------------------------------------------- JPEG */

typedef struct jerr {
  struct jpeg_error_mgr mgr;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
} jerr;

static void jpeg_fail(j_common_ptr c) {
  jerr *e = (jerr *)c->err;
  (*c->err->format_message)(c, e->msg);
  longjmp(e->jb, 1);
}

/* Warnings are quiet, except the two after which libjpeg makes up the rest of the picture (grey)
 * because the data ran out: a 112-byte file declaring 9224x2279 pixels then costs a 21 Mpixel
 * decode of nothing (found by fuzz_image). Such a file is an error, named as truncated. */
static void jpeg_quiet(j_common_ptr c, int level) {
  if (level >= 0) return; /* trace messages */
  if (c->err->msg_code != JWRN_JPEG_EOF && c->err->msg_code != JWRN_HIT_MARKER) return;
  jerr *e = (jerr *)c->err;
  const struct jpeg_decompress_struct *d = (const struct jpeg_decompress_struct *)c;
  if (d->output_height == 0)
    snprintf(e->msg, sizeof e->msg, "the data ends inside its header (truncated or corrupt file)");
  else
    snprintf(e->msg, sizeof e->msg, "the data ends at row %u of %u (truncated or corrupt file)",
             d->output_scanline, d->output_height);
  longjmp(e->jb, 1);
}

static vg_status read_jpeg(const char *path, FILE *fp, alloc_fn alloc, void *ctx, vg_frame *out) {
  struct jpeg_decompress_struct cinfo;
  jerr err;
  /* volatile: modified between setjmp and a possible longjmp */
  vg_frame *volatile fr = NULL;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_quiet;
  if (setjmp(err.jb)) {
    jpeg_destroy_decompress(&cinfo);
    if (fr) vg_frame_release(fr);
    return vg_set_error(VG_ERR_PARSE, "'%s': bad JPEG: %s", path, err.msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, fp);
  jpeg_read_header(&cinfo, TRUE);
  vg_status big = check_size(path, "JPEG image", cinfo.image_width, cinfo.image_height);
  if (big != VG_OK) {
    jpeg_destroy_decompress(&cinfo);
    return big;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return vg_set_error(VG_ERR_UNSUPPORTED, "'%s': CMYK JPEG images are not supported", path);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  vg_status st = alloc(ctx, (int)cinfo.output_width, (int)cinfo.output_height, out);
  if (st != VG_OK) {
    jpeg_destroy_decompress(&cinfo);
    return vg_wrap_error(st, "'%s'", path);
  }
  fr = out;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = vg_frame_plane(out, 0) + (size_t)cinfo.output_scanline * out->pitch[0];
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return VG_OK;
}

/* ----------------------------------------------------------------- PNG */

static vg_status read_png(const char *path, alloc_fn alloc, void *ctx, vg_frame *out) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path))
    return vg_set_error(VG_ERR_PARSE, "'%s': bad PNG: %s", path, img.message);
  img.format = PNG_FORMAT_RGB;
  vg_status st = check_size(path, "PNG image", img.width, img.height);
  if (st != VG_OK) {
    png_image_free(&img);
    return st;
  }
  st = alloc(ctx, (int)img.width, (int)img.height, out);
  if (st != VG_OK) {
    png_image_free(&img);
    return vg_wrap_error(st, "'%s'", path);
  }
  if (!png_image_finish_read(&img, NULL, vg_frame_plane(out, 0), out->pitch[0], NULL)) {
    vg_frame_release(out);
    png_image_free(&img);
    return vg_set_error(VG_ERR_PARSE, "'%s': bad PNG: %s", path, img.message);
  }
  return VG_OK;
}

/* ----------------------------------------------------------------- dispatch */

static vg_status read_any(const char *path, alloc_fn alloc, void *ctx, vg_frame *out) {
  memset(out, 0, sizeof *out);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return vg_set_error(errno == ENOENT ? VG_ERR_NOT_FOUND : VG_ERR_IO, "cannot open '%s': %s",
                        path, strerror(errno));
  unsigned char magic[8] = {0};
  size_t n = fread(magic, 1, sizeof magic, fp);
  rewind(fp);
  vg_status st;
  if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
    st = read_jpeg(path, fp, alloc, ctx, out);
    fclose(fp);
  } else if (n == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
    fclose(fp);
    st = read_png(path, alloc, ctx, out);
  } else {
    fclose(fp);
    st = vg_set_error(VG_ERR_PARSE, "'%s': %s", path,
                      n == 0 ? "empty file" : "not a JPEG or PNG image");
  }
  if (st == VG_OK) {
    out->colorspace = VG_CS_BT601;
    out->full_range = true;
  }
  return st;
}

static vg_status alloc_plain(void *ctx, int w, int h, vg_frame *out) {
  (void)ctx;
  return vg_frame_alloc(VG_PIX_RGB24, w, h, vg_cpu(), NULL, 0, out);
}

vg_status vg_image_read(const char *path, vg_frame *out) {
  if (!path || !out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_image_read: NULL argument");
  return read_any(path, alloc_plain, NULL, out);
}

/* ----------------------------------------------------------------- image lists */

struct vgv_images {
  char **paths;
  int count;
};

static bool has_image_ext(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                 strcasecmp(dot, ".png") == 0);
}

bool vgv_is_image_source(const char *url) {
  if (strstr(url, "://") || strchr(url, '%')) return false;
  struct stat sb;
  if (stat(url, &sb) == 0 && S_ISDIR(sb.st_mode)) return true;
  return has_image_ext(url);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void vgv_images_close(vgv_images *im) {
  if (!im) return;
  for (int i = 0; i < im->count; i++)
    free(im->paths[i]);
  free(im->paths);
  free(im);
}

static vg_status add_path(vgv_images *im, int *cap, const char *dir, const char *name) {
  if (im->count == *cap) {
    int ncap = *cap ? *cap * 2 : 64;
    char **np = realloc(im->paths, (size_t)ncap * sizeof *np);
    if (!np) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory listing '%s'", dir);
    im->paths = np;
    *cap = ncap;
  }
  size_t len = strlen(dir) + strlen(name) + 2;
  char *p = malloc(len);
  if (!p) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory listing '%s'", dir);
  snprintf(p, len, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name);
  im->paths[im->count++] = p;
  return VG_OK;
}

static vg_status list_folder(vgv_images *im, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return vg_set_error(VG_ERR_IO, "cannot open folder '%s': %s", dir, strerror(errno));
  int cap = 0;
  vg_status st = VG_OK;
  struct dirent *e;
  while (st == VG_OK && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || !has_image_ext(e->d_name)) continue;
    if (im->count >= MAX_FOLDER_IMAGES)
      st = vg_set_error(VG_ERR_INVALID_ARG, "folder '%s' has more than %d images", dir,
                        MAX_FOLDER_IMAGES);
    else
      st = add_path(im, &cap, "", e->d_name);
  }
  closedir(d);
  if (st != VG_OK) return st;
  if (im->count == 0)
    return vg_set_error(VG_ERR_NOT_FOUND, "folder '%s' has no .jpg/.jpeg/.png images", dir);
  qsort(im->paths, (size_t)im->count, sizeof *im->paths, cmp_str);
  /* prefix the folder after sorting by file name */
  for (int i = 0; i < im->count; i++) {
    size_t len = strlen(dir) + strlen(im->paths[i]) + 2;
    char *p = malloc(len);
    if (!p) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory listing '%s'", dir);
    snprintf(p, len, "%s/%s", dir, im->paths[i]);
    free(im->paths[i]);
    im->paths[i] = p;
  }
  return VG_OK;
}

static vg_status alloc_probe(void *ctx, int w, int h, vg_frame *out) {
  int *wh = ctx;
  wh[0] = w;
  wh[1] = h;
  return vg_frame_alloc(VG_PIX_RGB24, w, h, vg_cpu(), NULL, 0, out);
}

vg_status vgv_images_open(const char *url, vg_source_info *info, vgv_images **out) {
  *out = NULL;
  vgv_images *im = calloc(1, sizeof *im);
  if (!im) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", url);
  struct stat sb;
  bool folder = stat(url, &sb) == 0 && S_ISDIR(sb.st_mode);
  int cap = 0;
  vg_status st = folder ? list_folder(im, url) : add_path(im, &cap, "", url);
  /* Read the first picture now: a bad or missing file is an error at open. */
  vg_frame f;
  int wh[2] = {0, 0};
  if (st == VG_OK) st = read_any(im->paths[0], alloc_probe, wh, &f);
  if (st != VG_OK) {
    vgv_images_close(im);
    return st;
  }
  vg_frame_release(&f);
  VGV_COPY(info->container, folder ? "image folder" : "image");
  const char *dot = strrchr(im->paths[0], '.');
  VGV_COPY(info->codec, dot && strcasecmp(dot, ".png") == 0 ? "png" : "mjpeg");
  VGV_COPY(info->codec_long, dot && strcasecmp(dot, ".png") == 0 ? "PNG" : "JPEG");
  info->width = wh[0];
  info->height = wh[1];
  info->bit_depth = 8;
  info->nstreams = 1;
  VGV_COPY(info->streams[0].type, "video");
  VGV_COPY(info->streams[0].codec, info->codec);
  *out = im;
  return VG_OK;
}

int vgv_images_count(const vgv_images *im) {
  return im->count;
}

const char *vgv_images_path(const vgv_images *im, int idx) {
  return im->paths[idx];
}

static vg_status alloc_from_set(void *ctx, int w, int h, vg_frame *out) {
  return vgv_frameset_get(ctx, VG_PIX_RGB24, w, h, out);
}

vg_status vgv_images_load(const vgv_images *im, int idx, vgv_frameset *fs, vg_frame *out) {
  if (idx < 0 || idx >= im->count)
    return vg_set_error(VG_ERR_INVALID_ARG, "image index %d outside 0..%d", idx, im->count - 1);
  return read_any(im->paths[idx], alloc_from_set, fs, out);
}
