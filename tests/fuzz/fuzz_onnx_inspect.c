/* fuzz_onnx_inspect.c - libFuzzer target: ONNX model inspection as `vidgraph models inspect`
 * does it (a CPU session from bytes, then inputs, outputs and metadata), on arbitrary bytes.
 * ONNX Runtime itself is not instrumented; what is fuzzed is our loading, introspection and
 * error paths around it. */
#include "fuzz_util.h"
#include "vidgraph/vg_infer.h"

static void touch_io(const vg_model_io *io) {
  if (!io) abort();
  (void)strlen(io->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  vg_model_spec spec;
  vg_model_spec_init(&spec);
  snprintf(spec.name, sizeof spec.name, "fuzz");
  spec.bytes = data;
  spec.nbytes = size;
  spec.providers[0] = VG_PROVIDER_CPU;
  spec.nproviders = 1;
  spec.cpu.threads = 1;
  vg_model *m = NULL;
  if (vg_model_load(&spec, &m) == VG_OK) {
    for (int i = 0; i < vg_model_input_count(m); i++)
      touch_io(vg_model_input(m, i));
    for (int i = 0; i < vg_model_output_count(m); i++)
      touch_io(vg_model_output(m, i));
    (void)vg_model_metadata(m);
    vg_model_report r;
    vg_model_get_report(m, &r);
    vg_model_free(m);
  } else if (vg_last_error()[0] == '\0') {
    abort();
  }
  return 0;
}
