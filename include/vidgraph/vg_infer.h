/* vg_infer.h - inference on ONNX Runtime: providers with visible fallback, IOBinding, CUDA
 * graphs, model cache. */
#ifndef VIDGRAPH_VG_INFER_H
#define VIDGRAPH_VG_INFER_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the ONNX Runtime library loaded, e.g. "1.29.0". */
const char *vg_infer_runtime_version(void);

#ifdef __cplusplus
}
#endif
#endif
