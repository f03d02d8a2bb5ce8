#!/usr/bin/env bash
# fuzz.sh - runs the libFuzzer targets of tests/fuzz (built by `make fuzz-build` into build-fuzz/).
# For each target: first every seed and committed reproducer once (regression), then fuzzing for
# SECONDS with the target's growing corpus (BUILD/fuzz-corpus/TARGET), the YAML/JSON dictionary for
# the spec targets, and crash files kept in BUILD/fuzz-artifacts/. One line per target goes to
# stdout and to BUILD/fuzz-report.txt: runs, executions per second, coverage (edges), features,
# corpus size, peak RSS. Exit status 1 when any target crashed, leaked or timed out.
#
#   scripts/fuzz.sh [--build DIR] [--seconds N] [--jobs J] [TARGET...]   (default: every target)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build-fuzz
SECONDS_EACH=${FUZZ_SECONDS:-180}
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "${f%.c}")"); done
fi

SEEDS=$BUILD/fuzz-seeds
if [ ! -d "$SEEDS" ] || [ -n "$(find tests/fuzz/seeds scripts/fuzz_seeds.py -newer "$SEEDS" -print -quit)" ]; then
  python3 scripts/fuzz_seeds.py "$SEEDS" >&2 || { echo "fuzz: building the seed corpora failed" >&2; exit 1; }
fi
mkdir -p "$BUILD/fuzz-artifacts"
# The file-reading targets write each input to a temporary file: keep those in memory.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

# Per-target libFuzzer options: input size limits and dictionaries. The per-input time limit is
# generous (60 s) because a loaded CI machine can stall a process for seconds; a real hang still
# shows (slow inputs are replayed in seconds: see docs/RELIABILITY.md).
opts_of() {
  case $1 in
    fuzz_graph_spec|fuzz_config_set) echo "-dict=tests/fuzz/graph_spec.dict -max_len=4096" ;;
    fuzz_shm_ref) echo "-dict=tests/fuzz/shm_ref.dict -max_len=2048" ;;
    fuzz_http) echo "-dict=tests/fuzz/http.dict -max_len=8192" ;;
    fuzz_image) echo "-max_len=16384" ;;
    fuzz_onnx_inspect) echo "-max_len=16384" ;;
    fuzz_es_stream) echo "-max_len=32768" ;;
    *) echo "" ;;
  esac
}

# LeakSanitizer: ONNX Runtime's own allocations are suppressed for the ONNX target (see the file).
lsan_of() {
  case $1 in
    fuzz_onnx_inspect|fuzz_http) echo "suppressions=$PWD/tests/fuzz/onnx_lsan.supp" ;;
    *) echo "" ;;
  esac
}

failed=0
for t in "${targets[@]}"; do
  bin=$BUILD/$t
  [ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; failed=1; continue; }
  name=${t#fuzz_}
  corpus=$BUILD/fuzz-corpus/$t
  mkdir -p "$corpus" "$SEEDS/$name"
  log=$BUILD/fuzz-artifacts/$t.log
  # shellcheck disable=SC2046
  # a 64 MB quarantine: the default 256 MB reads as RSS growth over millions of inputs
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64 LSAN_OPTIONS=$(lsan_of "$t") UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" $(opts_of "$t") -timeout=60 -rss_limit_mb=3072 -malloc_limit_mb=2048 -print_final_stats=1 \
    -max_total_time="$SECONDS_EACH" -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
    "$corpus" "$SEEDS/$name" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "$corpus" -type f | wc -l)
  line=$(printf '%-18s runs %-9s exec/s %-6s cov %-6s ft %-6s corpus %-5s rss_mb %-5s %s' "$t" \
    "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$files" "${rss:-?}" \
    "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc $rc, see $log)")")
  echo "$line"
  echo "$(date -u +%FT%TZ) ${SECONDS_EACH}s $line" >>"$BUILD/fuzz-report.txt"
  if [ $rc -ne 0 ]; then
    failed=1
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 8 >&2
  fi
done
exit $failed
