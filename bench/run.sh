#!/usr/bin/env bash
# run.sh - the benchmark suite (issue 13): ceilings, vidgraph pipelines and their Python peers on
# the same clips and models, into one results document, a short table printed last.
#
#   bench/run.sh [--smoke | --quick] [--out DIR] [--only SUITE[,SUITE]] [--budget SECONDS]
#
# Suites: ceiling, model, detection, tiles4k, plates (bench/suite.py says what each measures).
# The full run is sized for one device call of at most 9 minutes on the H200 (budget 470 s, each
# run time-boxed); --smoke is the CPU variant CI runs (< 60 s, tiny clip, GPU cases recorded as
# skipped with the reason, nothing timed is asserted). Output: DIR/results.json (validated by
# bench/validate.py), DIR/runs/*/summary.json, DIR/logs/. Default DIR: out/bench-full|smoke.
# Environment: VG_BIN (default build/vidgraph, else build-gpu/vidgraph; the bench_* programs
# are taken from the same folder), PEER_PY (default /opt/torch/.venv/bin/python3, else python3),
# BENCH_CPUS (the cores the CPU runs and the CPU peer are pinned to; default the first half, at
# most 8). Keep results: cp DIR/results.json bench/results/<date>-<machine>-<mode>.json, then
# bench/report.py bench/results/*.json (report.html + report.png).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "bench/run.sh: python3 not found (Debian package python3)" >&2; exit 1; }
exec "$py" bench/suite.py "$@"
