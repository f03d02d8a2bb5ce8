/* sample.c - the CPU twin of the sampling kernel behind preprocess, tiles and crops (one output
 * picture per item, sampled from a frame region into an f32/f16 NCHW/NHWC tensor), and the
 * dispatch between it and the CUDA kernel. */
#include "imgproc/imgproc_math.h"

#ifdef VG_HAVE_CUDA
#include "imgproc/cuda/imgproc_kernels.h"
#endif

static void store(const vg_ip_out *o, int item, int ox, int oy, const float val[3]) {
  int64_t plane = (int64_t)o->out_w * o->out_h;
  int64_t base = (int64_t)item * o->item_stride;
  for (int c = 0; c < 3; c++) {
    int64_t idx = o->nhwc ? base + ((int64_t)oy * o->out_w + ox) * 3 + c
                          : base + c * plane + (int64_t)oy * o->out_w + ox;
    if (o->f16)
      ((uint16_t *)o->data)[idx] = vg_f32_to_f16(val[c]);
    else
      ((float *)o->data)[idx] = val[c];
  }
}

void vg_ip_sample_cpu(const vg_ip_item *items, int n, const vg_ip_out *out) {
  for (int i = 0; i < n; i++) {
    for (int oy = 0; oy < out->out_h; oy++) {
      for (int ox = 0; ox < out->out_w; ox++) {
        float val[3];
        vg_ip_shade(&items[i], out, ox, oy, val);
        store(out, i, ox, oy, val);
      }
    }
  }
}

vg_status vg_ip_run_sample(const vg_ip_item *items, int n, const vg_ip_out *out, vg_device dev,
                           vg_stream stream) {
  if (dev.kind == VG_DEVICE_CPU) {
    vg_ip_sample_cpu(items, n, out);
    return VG_OK;
  }
#ifdef VG_HAVE_CUDA
  return vg_ipk_sample(items, n, out, dev.ordinal, vg_stream_native(stream));
#else
  return vg_set_error(VG_ERR_UNSUPPORTED,
                      "imgproc: frames on a CUDA device need a build with CUDA support");
#endif
}
