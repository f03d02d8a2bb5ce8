#!/usr/bin/env bash
# run_gpu.sh - everything that needs a GPU, in one go, on the GPU machine. Builds nothing.
#
# Expects (from the repo root):
#   BUILD   the FFmpeg-less build made by `make gpu-build` (default build-gpu)
#   ORTDIR  a folder with libonnxruntime.so.1, libonnxruntime_providers_{shared,cuda,tensorrt}.so
#           (default /var/tmp/ortcuda)
#   LIBDIR  extra shared libraries the test binaries need (default .carry/lib: libcmocka.so.0)
#   OUT     where logs go (default ./gpu-out)
#   ONLY    optional regex: run only steps whose name matches
# Prints one table at the end: step, result, seconds, and the key number each step reports.
# Driven from a machine without a GPU through a tool that carries at most 64 MiB per call:
# tests/gpu/remote/pack.sh (pieces), unpack.sh and go.sh (on the GPU machine) say how.
set -uo pipefail
BUILD=${BUILD:-build-gpu}
ORTDIR=${ORTDIR:-/var/tmp/ortcuda}
LIBDIR=${LIBDIR:-.carry/lib}
OUT=${OUT:-./gpu-out}
ONLY=${ONLY:-.}
mkdir -p "$OUT"
TORCH_LIB=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
export LD_LIBRARY_PATH="$ORTDIR:$PWD/$LIBDIR:$TORCH_LIB/cu13/lib:$TORCH_LIB/cudnn/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export VG_ORT_LIB_DIR="$ORTDIR"
export VG_SOURCE_DIR="$PWD"
export VG_BIN="$PWD/$BUILD/vidgraph"

rows=()
# step NAME CMD...: runs CMD, logs to $OUT/NAME.log, records result and the last "KEY:" line.
step() {
  local name=$1; shift
  [[ "$name" =~ $ONLY ]] || return 0
  local t0=$SECONDS rc
  echo "=== $name: $*" | tee -a "$OUT/all.log"
  "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  tail -n 40 "$OUT/$name.log" >> "$OUT/all.log"
  local res=PASS
  [ $rc -eq 77 ] && res=SKIP
  [ $rc -ne 0 ] && [ $rc -ne 77 ] && res="FAIL($rc)"
  local key
  key=$(grep -E '^(KEY|RESULT):' "$OUT/$name.log" | tail -n 1 | cut -c1-90)
  rows+=("$(printf '%-34s %-9s %5ss  %s' "$name" "$res" "$((SECONDS - t0))" "$key")")
}

"$VG_BIN" version > "$OUT/version.log" 2>&1

# ---- every GPU test binary (tests/gpu/test_gpu_*.c)
for t in "$BUILD"/test_gpu_*; do
  [ -x "$t" ] || continue
  step "$(basename "$t")" "$t"
done
# ---- CPU unit tests that need no FFmpeg also run here, as a sanity check of this build
for t in "$BUILD"/test_core_*; do
  [ -x "$t" ] || continue
  step "$(basename "$t")" "$t"
done

# ---- extra steps added by layers (benchmarks, demo): tests/gpu/steps/*.sh, sourced in order
for s in tests/gpu/steps/*.sh; do
  [ -f "$s" ] && source "$s"
done

echo
echo "==================== GPU run summary ($(date -u +%FT%TZ))"
head -n 8 "$OUT/version.log"
printf '%-34s %-9s %6s  %s\n' STEP RESULT TIME KEY
for r in "${rows[@]}"; do echo "$r"; done | tee "$OUT/summary.txt"
