# fp16.sh - FP16 variants of the PP-OCR models on the GPU (issue 12, item 5; sourced by
# run_gpu.sh). scripts/fp16_convert.py makes <model>.fp16.onnx next to each model and checks it
# against FP32 on ONNX Runtime CPU (random inputs, max abs/rel difference); `vidgraph bench`
# times det and rec both ways on the CUDA provider; then the plate graph runs on every sample
# present ($DATA/plates.h264, world_plates.h264, varied.h264 with their *_truth.json) with FP32
# and det+cls+rec FP16 (`--set nodes.X.params.precision=fp16`; FP16_PARTS=1 adds det-only and
# rec-only runs). PASS/FAIL is on exact reads only: FP16 must read at least as many plates
# exactly as FP32.
FP16_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
[ -x "$FP16_PY" ] || FP16_PY=python3
DATA=${DATA:-samples}
FP16_M=models/ppocr
fp16_convert_all() {
  local rc=0
  "$FP16_PY" scripts/fp16_convert.py $FP16_M/ch_PP-OCRv4_det_infer.onnx --check --shape x=1x3x544x960 || rc=1
  "$FP16_PY" scripts/fp16_convert.py $FP16_M/ch_PP-OCRv4_rec_infer.gather.onnx --check --shape x=8x3x48x320 || rc=1
  "$FP16_PY" scripts/fp16_convert.py $FP16_M/ch_PP-OCRv4_rec_infer.onnx --check --shape x=8x3x48x320 || rc=1
  "$FP16_PY" scripts/fp16_convert.py $FP16_M/ch_ppocr_mobile_v2.0_cls_infer.onnx --check --shape x=8x3x48x192 || rc=1
  echo "KEY: det rec.gather rec cls converted; max abs diffs $(grep -o 'max abs [^ ]*' "$OUT/fp16-convert.log" 2>/dev/null | awk '{print $3}' | tr '\n' ' ')"
  return $rc
}
step fp16-convert fp16_convert_all

# fp16_bench NAME MODEL SHAPE: vidgraph bench on CUDA, IOBinding, one KEY line
fp16_bench() {
  local name=$1 model=$2 shape=$3
  "$VG_BIN" bench "$model" --provider cuda --io-binding --shape "$shape" --warmup 50 --iterations 300 --json > "$OUT/$name.json" || return 1
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); l=j['latency_ms']; r=j['report']; print('KEY: %s median %.3f ms p99 %.3f (provider %s, precision %s)' % (sys.argv[2], l['median'], l['p99'], r['provider'], r['precision']))" "$OUT/$name.json" "$name"
}
step fp16-bench-det-fp32 fp16_bench fp16-bench-det-fp32 $FP16_M/ch_PP-OCRv4_det_infer.onnx x:1x3x544x960
step fp16-bench-det-fp16 fp16_bench fp16-bench-det-fp16 $FP16_M/ch_PP-OCRv4_det_infer.fp16.onnx x:1x3x544x960
step fp16-bench-rec-fp32 fp16_bench fp16-bench-rec-fp32 $FP16_M/ch_PP-OCRv4_rec_infer.gather.onnx x:8x3x48x320
step fp16-bench-rec-fp16 fp16_bench fp16-bench-rec-fp16 $FP16_M/ch_PP-OCRv4_rec_infer.gather.fp16.onnx x:8x3x48x320

# fp16_plates NAME: the plate graph on $DATA/NAME.h264 with FP32, det, rec and all in FP16
fp16_plates() {
  local name=$1 video="$DATA/$1.h264" truth="$DATA/$1_truth.json" v sets
  local variants="fp32 all16"
  [ "${FP16_PARTS:-0}" = 1 ] && variants="fp32 det16 rec16 all16"
  for v in $variants; do
    case $v in
      fp32) sets=() ;;
      det16) sets=(--set nodes.det.params.precision=fp16) ;;
      rec16) sets=(--set nodes.rec.params.precision=fp16) ;;
      all16) sets=(--set nodes.det.params.precision=fp16 --set nodes.cls.params.precision=fp16
                   --set nodes.rec.params.precision=fp16) ;;
    esac
    "$VG_BIN" run examples/plates.yaml --input "$video" --output "$OUT/fp16-$name-$v" \
      --set nodes.annotated.params.required=false "${sets[@]}" > "$OUT/fp16-$name-$v.log" 2>&1 || { tail -5 "$OUT/fp16-$name-$v.log"; return 1; }
    python3 scripts/eval_plates.py --truth "$truth" --events "$OUT/fp16-$name-$v/events.jsonl" --json \
      > "$OUT/fp16-$name-$v/eval.json" || return 1
  done
  python3 - "$OUT" "$name" <<'PY'
import json, sys
out, name = sys.argv[1], sys.argv[2]
row = {}
import os
for v in ("fp32", "det16", "rec16", "all16"):
    if not os.path.exists("%s/fp16-%s-%s/eval.json" % (out, name, v)):
        continue
    s = json.load(open("%s/fp16-%s-%s/summary.json" % (out, name, v)))
    e = json.load(open("%s/fp16-%s-%s/eval.json" % (out, name, v)))
    n = {x["id"]: x for x in s["nodes"]}
    prec = ",".join("%s:%s" % (k, n[k].get("detail", {}).get("precision", "?")) for k in ("det", "cls", "rec") if k in n)
    row[v] = (e["exact"], e["total"])
    print("%-6s exact %d/%d, %.1f fps, det mean %.2f ms, rec mean/p50/p99 %.2f/%.2f/%.2f ms [%s]" % (
        v, e["exact"], e["total"], s["fps"], n["det"]["latency"]["mean_ms"], n["rec"]["latency"]["mean_ms"],
        n["rec"]["latency"]["p50_ms"], n["rec"]["latency"]["p99_ms"], prec))
    row[v + "_fps"] = s["fps"]
print("KEY: %s exact fp32 %d/%d %.0ffps, fp16 %d/%d %.0ffps" % (
    name, row["fp32"][0], row["fp32"][1], row["fp32_fps"], row["all16"][0], row["all16"][1],
    row["all16_fps"]))
sys.exit(0 if row["all16"][0] >= row["fp32"][0] else 1)
PY
}
for fp16_s in plates world_plates varied; do
  [ -f "$DATA/$fp16_s.h264" ] && [ -f "$DATA/${fp16_s}_truth.json" ] && step fp16-plates-$fp16_s fp16_plates $fp16_s
done
