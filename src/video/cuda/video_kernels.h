/* video_kernels.h - the C entry points of the video layer's CUDA kernels (cuda/video_rgb.cu).
 * Each has a CPU twin in the layer (named below) that the GPU tests compare it with. */
#ifndef VIDGRAPH_VIDEO_KERNELS_H
#define VIDGRAPH_VIDEO_KERNELS_H

#include "video/pixels_math.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device NV12 (uv != NULL) or GRAY8 (uv == NULL) picture -> packed RGB24 rows in device memory,
 * on `stream` (a cudaStream_t, NULL = the legacy default stream). The same bytes as
 * vgv_to_rgb24 (pixels.c) for the same coefficients. Returns 0, or the cudaError_t. */
int vgv_cuda_to_rgb24(const uint8_t *y, size_t y_pitch, const uint8_t *uv, size_t uv_pitch,
                      int width, int height, const vgv_yuv_coefs *coefs, uint8_t *dst,
                      size_t dst_pitch, void *stream);

#ifdef __cplusplus
}
#endif

#endif
