#!/usr/bin/env bash
# make_bench_clips.sh - renders the benchmark clips of bench/run.sh (1080p and 4K raw H.264 of
# the people-count scene) into bench/clips/, where they are committed so that the GPU machine
# (no FFmpeg there) gets them with the tree.
#
#   scripts/make_bench_clips.sh [OUTDIR] [--force]      (OUTDIR default: bench/clips/)
#
# Idempotent (stamp in OUTDIR/.bench_clips.stamp; --force regenerates) and deterministic. Needs
# the same tools as make_people_sample.sh. The generator is scripts/sample_lib/bench_clips.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "make_bench_clips: FAILED: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" "$here/sample_lib/bench_clips.py" "$@"
