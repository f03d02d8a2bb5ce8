/* video_rgb.cu - NV12/GRAY8 -> packed RGB24 on the GPU, the input nvJPEG needs for a device
 * frame (jpeg_nvjpeg.c). One thread per pixel; the arithmetic is pixels_math.h's, shared with
 * the CPU twin vgv_to_rgb24, so both give the same bytes. */
#include <cuda_runtime_api.h>

#include "video/cuda/video_kernels.h"

#define BX 32
#define BY 8

__global__ void __launch_bounds__(BX *BY)
    nv12_rgb_kernel(const uint8_t *y, size_t yp, const uint8_t *uv, size_t uvp, int w, int h,
                    vgv_yuv_coefs c, uint8_t *dst, size_t dp) {
  int x = blockIdx.x * BX + threadIdx.x, r = blockIdx.y * BY + threadIdx.y;
  if (x >= w || r >= h) return;
  int luma = y[(size_t)r * yp + x];
  uint8_t *o = dst + (size_t)r * dp + 3 * (size_t)x;
  if (!uv) {
    o[0] = o[1] = o[2] = (uint8_t)luma;
    return;
  }
  const uint8_t *cr = uv + (size_t)(r / 2) * uvp + (size_t)(x / 2) * 2;
  vgv_yuv_to_rgb(&c, luma, cr[0], cr[1], o);
}

extern "C" int vgv_cuda_to_rgb24(const uint8_t *y, size_t y_pitch, const uint8_t *uv,
                                 size_t uv_pitch, int width, int height, const vgv_yuv_coefs *coefs,
                                 uint8_t *dst, size_t dst_pitch, void *stream) {
  vgv_yuv_coefs c = *coefs;
  dim3 block(BX, BY), grid((unsigned)(width + BX - 1) / BX, (unsigned)(height + BY - 1) / BY);
  nv12_rgb_kernel<<<grid, block, 0, (cudaStream_t)stream>>>(y, y_pitch, uv, uv_pitch, width, height,
                                                            c, dst, dst_pitch);
  return (int)cudaGetLastError();
}
