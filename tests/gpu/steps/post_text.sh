# post_text.sh - the text decoders on the device (sourced by run_gpu.sh): their benchmark (CPU
# twin after a copy to the host vs the CUDA decoder, bytes copied per call) and the GPU-vs-CPU
# twin test under compute-sanitizer's memcheck. test_gpu_post_text itself runs with the other
# test binaries.
step bench-post-text "$BUILD/bench_post_text" --iters 100
if command -v compute-sanitizer >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
  CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  step post-text-memcheck "$CS" --tool memcheck --error-exitcode 3 "$BUILD/test_gpu_post_text"
fi
