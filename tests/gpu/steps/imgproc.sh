# imgproc.sh - imgproc benchmark and the kernels under compute-sanitizer (sourced by run_gpu.sh).
step bench-imgproc "$BUILD/bench_imgproc" --iters 200
# Every kernel under compute-sanitizer's memcheck (about 2 s on the H100).
if command -v compute-sanitizer >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
  CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  step imgproc-memcheck "$CS" --tool memcheck --error-exitcode 3 "$BUILD/test_gpu_imgproc_twins"
fi
