#!/usr/bin/env bash
# test_hostile.sh - the hostile corpus (scripts/hostile_corpus.py: mutated media, broken ONNX
# models, hostile specs) through the sanitizer build's `vidgraph`: every case must end cleanly
# (status 1 or 2, or 0 where success is legitimate), in bounded time, with one line naming the
# input and no ASan/UBSan/LeakSanitizer report (tests/asan/hostile_run.py checks each).
# Registered only in sanitizer builds (ctest label asan); `make asan-test` runs it.
set -euo pipefail
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
: "${VG_BIN:?VG_BIN must point at the vidgraph binary}"
corpus=$(dirname "$VG_BIN")/hostile-corpus
/usr/bin/python3 scripts/hostile_corpus.py "$corpus"
/usr/bin/python3 tests/asan/hostile_run.py --bin "$VG_BIN" --corpus "$corpus" \
  --jobs "${VG_HOSTILE_JOBS:-2}" --timeout "${VG_HOSTILE_TIMEOUT:-45}"
