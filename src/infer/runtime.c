/* runtime.c - the ONNX Runtime library as a whole: version and API table. */
#include "vidgraph/vg_infer.h"

#include <onnxruntime_c_api.h>

const char *vg_infer_runtime_version(void) {
  const OrtApiBase *base = OrtGetApiBase();
  return base ? base->GetVersionString() : "unknown";
}
