# peers.sh - issue 13's peers on the GPU machine (bench/peers/, see its README.md): each peer runs
# briefly on the H200 and must print valid result objects (bench-schema.md) with a number; PASS
# means "ran and produced valid JSON", never a timing. Sourced by tests/gpu/run_gpu.sh (uses its
# `step`, $OUT); results in $OUT/peers-*.jsonl, one KEY line per result in the step's log.
PEERS_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
[ -x "$PEERS_PY" ] || PEERS_PY=python3
DATA=${DATA:-samples}
# the benchmark detector is git-ignored: make it here when the carry did not bring it
[ -f models/bench/yolo_bench.onnx ] || "$PEERS_PY" scripts/gen_bench_models.py >/dev/null 2>&1 \
  || /usr/bin/python3 scripts/gen_bench_models.py
# peers_run NAME CMD...: CMD's stdout (result objects) into $OUT/NAME.jsonl, then the check.
peers_run() {
  local name=$1; shift
  "$@" > "$OUT/$name.jsonl" || { echo "FAIL: $name exited $?"; cat "$OUT/$name.jsonl"; return 1; }
  "$PEERS_PY" bench/peers/check_results.py "$OUT/$name.jsonl" --ran
}
step peers-det-n1 peers_run peers-det-n1 "$PEERS_PY" bench/peers/det_loop.py \
  --video "$DATA/people.h264" --streams 1 --frames 300
step peers-det-n4 peers_run peers-det-n4 "$PEERS_PY" bench/peers/det_loop.py \
  --video "$DATA/people.h264" --streams 4 --frames 100
step peers-det-cpu peers_run peers-det-cpu "$PEERS_PY" bench/peers/det_loop.py \
  --video "$DATA/people.h264" --device cpu --frames 10
step peers-model-alone peers_run peers-model-alone "$PEERS_PY" bench/peers/model_alone.py \
  --batches 1,8 --warmup 10 --iterations 50 --check
PEERS_PIN=(taskset -c 0-7)
command -v taskset >/dev/null 2>&1 || PEERS_PIN=()   # then the notes' cpus say so
if [ -f bench/peers/plates_loop.py ]; then
  step peers-plates-n1 peers_run peers-plates-n1 "${PEERS_PIN[@]}" "$PEERS_PY" \
    bench/peers/plates_loop.py --video "$DATA/plates.h264" --truth "$DATA/plates_truth.json" \
    --streams 1 --threads 8
fi
