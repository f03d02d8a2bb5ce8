#!/usr/bin/env bash
# make_people_sample.sh - renders the people-count example's synthetic scene and ground truth.
#
#   scripts/make_people_sample.sh [OUTDIR] [--force]      (OUTDIR default: samples/)
#
# Writes OUTDIR/people.mp4 (1920x1080, 25 fps, 250 frames, H.264), OUTDIR/people.h264 (raw
# Annex-B copy) and OUTDIR/people_truth.json: person-like figures on straight paths, their
# per-frame boxes, and the frames and directions in which they cross the counting line y = 540.
# Idempotent (stamp in OUTDIR/.people.stamp; --force regenerates) and deterministic. Needs the
# same tools as make_sample.sh. The generator itself is scripts/sample_lib/people.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "make_people_sample: FAILED: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" "$here/sample_lib/people.py" "$@"
