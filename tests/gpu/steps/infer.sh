# infer.sh - the infer layer's benchmark steps, sourced by tests/gpu/run_gpu.sh (uses its `step`,
# $VG_BIN and $OUT). Bound vs unbound vs CUDA graph on the 640x640 YOLO-style detector, FP32 and
# FP16, next to PyTorch eager and CUDA graph on the same weights (docs/PERF.md, section infer).
INFER_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
INFER_M=models/test/yolo_like.onnx
INFER_M16=models/test/yolo_like_fp16.onnx
[ -f "$INFER_M16" ] || "$INFER_PY" scripts/gen_test_models.py >/dev/null 2>&1 || /usr/bin/python3 scripts/gen_test_models.py
# infer_bench NAME ARGS...: vidgraph bench --json into $OUT/NAME.json, then one KEY line.
infer_bench() {
  local name=$1; shift
  "$VG_BIN" bench "$@" --warmup 50 --iterations 500 --json > "$OUT/$name.json" || return 1
  "$INFER_PY" -c "import json,sys; j=json.load(open(sys.argv[1])); l=j['latency_ms']; r=j['report']; print('KEY: %s median %.3f ms p99 %.3f (provider %s, graph %s)' % (sys.argv[2], l['median'], l['p99'], r['provider'], r['cuda_graph']))" "$OUT/$name.json" "$name"
}
step infer-bench-fp32-unbound infer_bench infer-bench-fp32-unbound "$INFER_M" --provider cuda
step infer-bench-fp32-bound infer_bench infer-bench-fp32-bound "$INFER_M" --provider cuda --io-binding
step infer-bench-fp32-bound-graph infer_bench infer-bench-fp32-bound-graph "$INFER_M" --provider cuda --io-binding --cuda-graph
step infer-bench-fp16-bound-graph infer_bench infer-bench-fp16-bound-graph "$INFER_M16" --provider cuda --io-binding --cuda-graph
step infer-bench-trt-fallback "$VG_BIN" bench "$INFER_M" --iterations 20 --json
step infer-torch-reference "$INFER_PY" bench/torch_infer_reference.py --model "$INFER_M" --warmup 50 --iterations 500
step infer-check "$VG_BIN" check --json
