/* preprocess.c - fused preprocess of a frame batch: resize or letterbox, colour conversion,
 * normalisation, layout and dtype in one sampling pass (one kernel launch on the GPU), and the
 * per-frame transforms that map model pixels back to the frame. */
#include "imgproc/imgproc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int clampi(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

void vg_ip_place(vg_ip_item *it, double sx0, double sy0, double sw, double sh, int dx0, int dy0,
                 int dw, int dh, vg_xform *xf) {
  it->perspective = 0;
  it->dx0 = dx0, it->dy0 = dy0, it->dw = dw, it->dh = dh;
  memset(it->m, 0, sizeof it->m);
  it->m[0] = (float)sx0;
  it->m[1] = (float)(sw / dw);
  it->m[2] = (float)sy0;
  it->m[3] = (float)(sh / dh);
  if (xf) {
    xf->scale_x = (float)(dw / sw);
    xf->scale_y = (float)(dh / sh);
    xf->pad_x = (float)dx0;
    xf->pad_y = (float)dy0;
    xf->off_x = (float)sx0;
    xf->off_y = (float)sy0;
  }
}

void vg_ip_fit(vg_ip_item *it, double sx0, double sy0, double sw, double sh, int out_w, int out_h,
               vg_fit fit, vg_xform *xf) {
  if (fit == VG_FIT_STRETCH) {
    vg_ip_place(it, sx0, sy0, sw, sh, 0, 0, out_w, out_h, xf);
    return;
  }
  double r = fmin(out_w / sw, out_h / sh);
  int dw = clampi((int)lround(sw * r), 1, out_w), dh = clampi((int)lround(sh * r), 1, out_h);
  int dx0 = fit == VG_FIT_LETTERBOX ? (out_w - dw) / 2 : 0;
  int dy0 = fit == VG_FIT_LETTERBOX ? (out_h - dh) / 2 : 0;
  vg_ip_place(it, sx0, sy0, sw, sh, dx0, dy0, dw, dh, xf);
}

static const unsigned ANY_FMT =
    (1u << VG_PIX_NV12) | (1u << VG_PIX_RGB24) | (1u << VG_PIX_BGR24) | (1u << VG_PIX_GRAY8);

vg_status vg_preprocess(const vg_frame *frames, int n, vg_fit fit, const vg_tensor_params *tp,
                        vg_layout layout, vg_tensor *out, vg_xform *xforms, vg_stream stream) {
  if (!frames || n <= 0 || n > VG_IMGPROC_MAX_BATCH)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_preprocess: need 1..%d frames (got %d)",
                        VG_IMGPROC_MAX_BATCH, n);
  if (fit != VG_FIT_STRETCH && fit != VG_FIT_LETTERBOX && fit != VG_FIT_LETTERBOX_TL)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_preprocess: unknown fit %d", (int)fit);
  VG_TRY(vg_ip_check_tensor_params(tp, layout));
  for (int i = 0; i < n; i++)
    VG_TRY(vg_ip_check_frame(&frames[i], "frame", i, ANY_FMT));
  int out_w, out_h;
  VG_TRY(vg_ip_check_out_tensor(out, n, layout, &out_w, &out_h));
  vg_device dev;
  VG_TRY(vg_ip_common_device(frames, n, out, &dev));
  VG_TRY(vg_ip_check_stream(stream, dev));

  vg_ip_item *items = calloc((size_t)n, sizeof *items);
  if (!items) return vg_set_error(VG_ERR_NO_MEMORY, "vg_preprocess: out of memory");
  for (int i = 0; i < n; i++) {
    vg_ip_item_colour(&items[i], &frames[i]);
    vg_ip_fit(&items[i], 0, 0, frames[i].width, frames[i].height, out_w, out_h, fit,
              xforms ? &xforms[i] : NULL);
  }
  vg_ip_out o;
  vg_ip_out_init(&o, out, layout, tp, out_w, out_h);
  vg_status st = vg_ip_run_sample(items, n, &o, dev, stream);
  free(items);
  return st;
}
