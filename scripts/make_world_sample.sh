#!/usr/bin/env bash
# make_world_sample.sh - renders a plate test set unlike the demo's: 24 plates in the formats of
# 17 countries (spaces and hyphens, 4..10 letters and digits), other fonts and sizes, up to six
# plates per 1080p frame, frames without any plate, plus a folder of JPEG/PNG stills at 480 lines.
#
#   scripts/make_world_sample.sh [OUTDIR] [--force]      (OUTDIR default: samples/, git-ignored)
#
# Writes OUTDIR/world_plates.mp4 (1920x1080, 25 fps, 80 frames), world_plates.h264,
# world_plates_truth.json (the format scripts/eval_plates.py reads), world_plates_img/ and
# world_plates_img_truth.json. Idempotent (stamp OUTDIR/.world_plates.stamp), deterministic,
# ~30 s on 2 cores. Needs what make_sample.sh needs. Generator: scripts/sample_lib/world_plates.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "make_world_sample: FAILED: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" "$here/sample_lib/world_plates.py" "$@"
