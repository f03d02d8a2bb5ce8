# imgproc.sh - imgproc benchmark and the kernels under compute-sanitizer (sourced by run_gpu.sh).
step bench-imgproc "$BUILD/bench_imgproc" --iters 200
# compute-sanitizer makes the twin test 10-100x slower: only with MEMCHECK=1.
if [ "${MEMCHECK:-0}" = 1 ] && command -v compute-sanitizer >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
  CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  step imgproc-memcheck "$CS" --tool memcheck --error-exitcode 3 "$BUILD/test_gpu_imgproc_twins"
fi
