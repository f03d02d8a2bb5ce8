/* imgproc_sample.cu - the sampling kernel behind preprocess, tiles and ROI crops: one thread
 * per output pixel, one grid z-slice per batch item, all three channels computed from the
 * source frame (NV12/RGB/BGR/GRAY) with vg_ip_shade (the CPU twin's formula) and written as
 * f32 or f16 (round to nearest even), NCHW or NHWC. Up to SAMPLE_INLINE item descriptors travel
 * as a __grid_constant__ kernel parameter; bigger batches read them from device memory. */
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "imgproc/cuda/imgproc_kernels.h"
#include "imgproc/imgproc_math.h"

#define SAMPLE_INLINE 64
#define BLOCK_X 32
#define BLOCK_Y 8

struct sample_args {
  vg_ip_out out;
  const vg_ip_item *ext; /* device array of n items, or NULL: items[] holds them */
  int n;
  vg_ip_item items[SAMPLE_INLINE];
};

template <bool F16, bool NHWC>
__global__ void __launch_bounds__(BLOCK_X *BLOCK_Y)
    sample_kernel(const __grid_constant__ sample_args a) {
  int ox = blockIdx.x * BLOCK_X + threadIdx.x;
  int oy = blockIdx.y * BLOCK_Y + threadIdx.y;
  int item = blockIdx.z;
  const vg_ip_out *o = &a.out;
  if (ox >= o->out_w || oy >= o->out_h) return;
  const vg_ip_item *it = a.ext ? &a.ext[item] : &a.items[item];
  float val[3];
  vg_ip_shade(it, o, ox, oy, val);
  int64_t plane = (int64_t)o->out_w * o->out_h;
  int64_t pix = (int64_t)oy * o->out_w + ox;
  int64_t base = (int64_t)item * o->item_stride + (NHWC ? pix * 3 : pix);
  int64_t step = NHWC ? 1 : plane;
#pragma unroll
  for (int c = 0; c < 3; c++) {
    if (F16)
      ((__half *)o->data)[base + c * step] = __float2half_rn(val[c]);
    else
      ((float *)o->data)[base + c * step] = val[c];
  }
}

extern "C" vg_status vg_ipk_sample(const vg_ip_item *items, int n, const vg_ip_out *out, int device,
                                   void *stream) {
  VG_TRY(vg_ipk_use_device(device, "sample"));
  cudaStream_t s = (cudaStream_t)stream;
  sample_args a; /* ~8 KiB; unused inline slots are passed along uninitialised */
  a.out = *out;
  a.n = n;
  a.ext = NULL;
  void *ext = NULL;
  if (n <= SAMPLE_INLINE) {
    memcpy(a.items, items, (size_t)n * sizeof *items);
  } else {
    VG_TRY(vg_ipk_upload(items, (size_t)n * sizeof *items, stream, &ext, "sample"));
    a.ext = (const vg_ip_item *)ext;
  }
  dim3 block(BLOCK_X, BLOCK_Y, 1);
  dim3 grid((out->out_w + BLOCK_X - 1) / BLOCK_X, (out->out_h + BLOCK_Y - 1) / BLOCK_Y, n);
  if (out->f16 && out->nhwc)
    sample_kernel<true, true><<<grid, block, 0, s>>>(a);
  else if (out->f16)
    sample_kernel<true, false><<<grid, block, 0, s>>>(a);
  else if (out->nhwc)
    sample_kernel<false, true><<<grid, block, 0, s>>>(a);
  else
    sample_kernel<false, false><<<grid, block, 0, s>>>(a);
  return vg_ipk_finish(ext, stream, device, "sample");
}
