/* imgproc_util.cu - host helpers shared by the imgproc kernel launchers: device selection,
 * stream-ordered upload of descriptor arrays, launch error reporting. */
#include <cuda_runtime_api.h>

#include "imgproc/cuda/imgproc_kernels.h"

extern "C" vg_status vg_ipk_use_device(int device, const char *what) {
  cudaError_t e = cudaSetDevice(device);
  if (e != cudaSuccess)
    return vg_set_error(VG_ERR_DEVICE, "imgproc %s: cannot use cuda:%d: %s", what, device,
                        cudaGetErrorString(e));
  return VG_OK;
}

extern "C" vg_status vg_ipk_upload(const void *host, size_t bytes, void *stream, void **out,
                                   const char *what) {
  cudaStream_t s = (cudaStream_t)stream;
  *out = NULL;
  cudaError_t e = cudaMallocAsync(out, bytes, s);
  if (e != cudaSuccess) {
    *out = NULL;
    return vg_set_error(VG_ERR_NO_MEMORY,
                        "imgproc %s: cannot allocate %zu bytes of descriptors "
                        "on the device: %s",
                        what, bytes, cudaGetErrorString(e));
  }
  /* pageable source: the runtime stages it before returning, so the caller may free it */
  e = cudaMemcpyAsync(*out, host, bytes, cudaMemcpyHostToDevice, s);
  if (e != cudaSuccess) {
    cudaFreeAsync(*out, s);
    *out = NULL;
    return vg_set_error(VG_ERR_DEVICE, "imgproc %s: descriptor upload failed: %s", what,
                        cudaGetErrorString(e));
  }
  return VG_OK;
}

extern "C" vg_status vg_ipk_finish(void *dev_mem, void *stream, int device, const char *what) {
  cudaError_t e = cudaGetLastError();
  if (dev_mem) cudaFreeAsync(dev_mem, (cudaStream_t)stream);
  if (e != cudaSuccess)
    return vg_set_error(VG_ERR_DEVICE, "imgproc %s kernel launch failed on cuda:%d: %s (%s)", what,
                        device, cudaGetErrorString(e), cudaGetErrorName(e));
  return VG_OK;
}
