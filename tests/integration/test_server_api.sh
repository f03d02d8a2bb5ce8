#!/usr/bin/env bash
# test_server_api.sh - `vidgraph serve` over real HTTP on the loopback: every route, hostile
# requests, SSE order, live streams, metrics format, a bounded load test and the SIGTERM drain.
# The checks are in tests/integration/server/api_test.py (python3 standard library only).
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
cd "$root" || exit 1
for f in samples/plates.mp4 samples/people.mp4 models/test/yolo_like.onnx models/test/tiny_mlp.onnx; do
  [[ -f "$f" ]] || { echo "SKIP: $f missing (run scripts/setup.sh)"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
exec python3 tests/integration/server/api_test.py "$bin" "$@"
