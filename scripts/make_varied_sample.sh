#!/usr/bin/env bash
# make_varied_sample.sh - renders a 720p plate sample with very different plate sizes (0..8
# plates per frame, plate height 30..157 px, entering and leaving on six lanes, street clutter
# and text-like distractors): the input on which every new crop-batch shape used to cost ONNX
# Runtime a slow first run (issue 12, stable shapes).
#
#   scripts/make_varied_sample.sh [OUTDIR] [--force]      (OUTDIR default: samples/, git-ignored)
#
# Writes OUTDIR/varied.mp4 (1280x720, 25 fps, 300 frames), varied.h264 (raw Annex-B for NVDEC)
# and varied_truth.json (the format scripts/eval_plates.py reads). Idempotent (stamp
# OUTDIR/.varied.stamp), deterministic. Needs what make_sample.sh needs.
# Generator: scripts/sample_lib/varied_plates.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "make_varied_sample: FAILED: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" "$here/sample_lib/varied_plates.py" "$@"
