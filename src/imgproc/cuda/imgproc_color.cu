/* imgproc_color.cu - colour conversion kernel NV12 <-> RGB24/BGR24/GRAY8: one thread per 2x2
 * block (one chroma sample), one grid z-slice per batch item, integer Q16 arithmetic shared
 * with the CPU twin (vg_ip_convert_block), so the results are identical. */
#include <cuda_runtime_api.h>
#include <string.h>

#include "imgproc/cuda/imgproc_kernels.h"
#include "imgproc/imgproc_math.h"

#define CONV_INLINE 48
#define BLOCK_X 32
#define BLOCK_Y 8

struct conv_args {
  const vg_ip_conv *ext; /* device array, or NULL: items[] holds them */
  int n;
  vg_ip_conv items[CONV_INLINE];
};

__global__ void __launch_bounds__(BLOCK_X *BLOCK_Y)
    convert_kernel(const __grid_constant__ conv_args a) {
  int bx = blockIdx.x * BLOCK_X + threadIdx.x;
  int by = blockIdx.y * BLOCK_Y + threadIdx.y;
  const vg_ip_conv *c = a.ext ? &a.ext[blockIdx.z] : &a.items[blockIdx.z];
  if (bx >= (c->src.w + 1) / 2 || by >= (c->src.h + 1) / 2) return;
  vg_ip_convert_block(c, bx, by);
}

extern "C" vg_status vg_ipk_convert(const vg_ip_conv *items, int n, int device, void *stream) {
  VG_TRY(vg_ipk_use_device(device, "convert"));
  conv_args a;
  a.n = n;
  a.ext = NULL;
  void *ext = NULL;
  if (n <= CONV_INLINE) {
    memcpy(a.items, items, (size_t)n * sizeof *items);
  } else {
    VG_TRY(vg_ipk_upload(items, (size_t)n * sizeof *items, stream, &ext, "convert"));
    a.ext = (const vg_ip_conv *)ext;
  }
  int bw = 1, bh = 1;
  for (int i = 0; i < n; i++) {
    bw = max(bw, (items[i].src.w + 1) / 2);
    bh = max(bh, (items[i].src.h + 1) / 2);
  }
  dim3 block(BLOCK_X, BLOCK_Y, 1);
  dim3 grid((bw + BLOCK_X - 1) / BLOCK_X, (bh + BLOCK_Y - 1) / BLOCK_Y, n);
  convert_kernel<<<grid, block, 0, (cudaStream_t)stream>>>(a);
  return vg_ipk_finish(ext, stream, device, "convert");
}
