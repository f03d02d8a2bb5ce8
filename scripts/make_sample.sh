#!/usr/bin/env bash
# make_sample.sh - renders the plate-reading demo's sample video and its ground truth.
#
#   scripts/make_sample.sh [OUTDIR] [--force]      (OUTDIR default: samples/, git-ignored)
#
# Writes OUTDIR/plates.mp4 (1280x720, 25 fps, 300 frames, H.264), OUTDIR/plates.h264 (the same
# stream as raw Annex-B, for the FFmpeg-less GPU build) and OUTDIR/plates_truth.json. Idempotent:
# does nothing when the outputs exist and were made by this version of the generator (stamp in
# OUTDIR/.plates.stamp); --force regenerates. Deterministic (fixed seed), ~15 s on 2 cores.
# Needs ffmpeg (with libx264), ImageMagick (/usr/bin/convert), DejaVu and Liberation fonts, and
# python3 (standard library only). The generator itself is scripts/sample_lib/plates.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "make_sample: FAILED: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" "$here/sample_lib/plates.py" "$@"
