/* imgproc_kernels.h - the C entry points of the imgproc CUDA kernels (src/imgproc/cuda/imgproc_*.cu).
 * Each enqueues one kernel on `stream` (a cudaStream_t, NULL = legacy default stream) of CUDA
 * device `device`, without synchronising, and turns launch errors into a vg_status with a
 * message. The descriptors are host memory; they are passed as kernel parameters, or for large
 * batches copied to stream-ordered device memory (cudaMallocAsync/cudaFreeAsync). */
#ifndef VIDGRAPH_CUDA_IMGPROC_KERNELS_H
#define VIDGRAPH_CUDA_IMGPROC_KERNELS_H

#include "imgproc/imgproc_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

vg_status vg_ipk_sample(const vg_ip_item *items, int n, const vg_ip_out *out, int device,
                        void *stream);
vg_status vg_ipk_convert(const vg_ip_conv *items, int n, int device, void *stream);
vg_status vg_ipk_overlay(const vg_ip_prim *prims, int n, int device, void *stream);

/* Helpers of the launchers (imgproc_util.cu). */
/* Makes `device` current. */
vg_status vg_ipk_use_device(int device, const char *what);
/* Copies bytes of host memory into new stream-ordered device memory (*out). */
vg_status vg_ipk_upload(const void *host, size_t bytes, void *stream, void **out, const char *what);
/* After a launch: frees `dev_mem` (may be NULL) in stream order and reports a launch error. */
vg_status vg_ipk_finish(void *dev_mem, void *stream, int device, const char *what);

#ifdef __cplusplus
}
#endif
#endif
