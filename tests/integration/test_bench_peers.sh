#!/usr/bin/env bash
# test_bench_peers.sh - the unit tests of bench/peers/' pure-Python parts (letterbox, NMS, the
# tracker port, CTC, plate text, result objects, the peers' skip path without torch/cv2), run
# with Debian's python3 + numpy. Skips (77) when numpy is missing.
set -euo pipefail
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c "import numpy" 2>/dev/null || { echo "SKIP: numpy not installed for $PY"; exit 77; }
exec "$PY" bench/peers/test_peers.py
