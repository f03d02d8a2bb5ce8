/* cli_check.c - `vidgraph check`: preflight of this machine for vidgraph. */
#include "cli.h"
#include "vidgraph/vg_infer.h"

int cli_check(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("onnxruntime %s\n", vg_infer_runtime_version());
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0)
    printf("cuda: unavailable: %s\n", vg_cuda_unavailable_reason());
  else
    printf("cuda: %d device(s)\n", n);
  return 0;
}
