#!/usr/bin/env bash
# go.sh NAME [SECONDS] - on the GPU machine after unpack.sh: tests/gpu/run_gpu.sh (ONLY and the
# steps' variables from the environment) with a time limit, logs into $OUT/NAME/ and a
# $OUT/NAME.tgz of them; prints the summary table.
name=${1:-run}
limit=${2:-560}
export OUT_DIR=${OUT:-/tmp/out}
mkdir -p "$OUT_DIR/$name"
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv,noheader \
  > "$OUT_DIR/$name/gpu.txt" 2>&1 || true
OUT="$OUT_DIR/$name" timeout -s TERM -k 15 "$limit" bash tests/gpu/run_gpu.sh > "$OUT_DIR/$name/run.log" 2>&1
rc=$?
tar -C "$OUT_DIR" -czf "$OUT_DIR/$name.tgz" "$name"
rm -rf "${OUT_DIR:?}/$name"
echo "go: rc $rc"
tar -xzOf "$OUT_DIR/$name.tgz" "$name/run.log" | tail -n 60
