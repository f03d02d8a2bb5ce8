# zz_demo.sh - the plate-reading demo on the GPU machine: NVDEC on the elementary-stream copy of
# the sample (this build has no FFmpeg), CUDA provider, crops on the GPU; then the same scoring
# as on the CPU (sourced by run_gpu.sh; DATA holds plates.h264 and plates_truth.json).
DATA=${DATA:-samples}
demo_plates() {
  "$VG_BIN" run examples/plates.yaml --input "$DATA/plates.h264" --output "$OUT/plates" \
    --set nodes.annotated.params.required=false || return 1
  python3 scripts/eval_plates.py --truth "$DATA/plates_truth.json" --events "$OUT/plates/events.jsonl" \
    --min-rate 0.9 --max-duplicates 0 > "$OUT/plates/eval.txt"
  local rc=$?
  cat "$OUT/plates/eval.txt"
  python3 - "$OUT/plates/summary.json" "$OUT/plates/eval.txt" <<'PY'
import json, sys, re
s = json.load(open(sys.argv[1]))
rate = re.search(r"exact reads: (\S+)", open(sys.argv[2]).read())
prov = [n["detail"]["provider"] for n in s["nodes"] if n.get("detail", {}).get("provider")]
dec = [st["decoder"] for n in s["nodes"] if n["type"] == "source" for st in n.get("detail", {}).get("streams", [])]
print("KEY: plates %s, %.1f fps, providers %s, decoder %s, frame copies to host %d" % (
    rate.group(1) if rate else "?", s["fps"], ",".join(prov), ",".join(dec), s["frame_copies_to_host"]))
PY
  return $rc
}
step demo-plates-gpu demo_plates

# demo-plates-variants (DEMO_VARIANTS=1): where the demo's time goes - the same graph with one
# thing changed at a time (shape buckets off, warm-up off, the Slice-free recogniser), one line
# each: fps, exact reads, mean/p99 ms of det, cls, rec and the source. Never fails on timing.
demo_variant() {
  local name=$1; shift
  local o="$OUT/plates-$name"
  "$VG_BIN" run examples/plates.yaml --input "$DATA/plates.h264" --output "$o" \
    --set nodes.annotated.params.required=false "$@" > "$o.log" 2>&1 || { echo "VARIANT $name failed"; tail -3 "$o.log"; return 1; }
  python3 scripts/eval_plates.py --truth "$DATA/plates_truth.json" --events "$o/events.jsonl" > "$o/eval.txt" 2>&1
  python3 - "$name" "$o/summary.json" "$o/eval.txt" <<'PY'
import json, sys, re
name, s = sys.argv[1], json.load(open(sys.argv[2]))
rate = re.search(r"exact reads: (\S+)", open(sys.argv[3]).read())
n = {x["id"]: x for x in s["nodes"]}
def ms(i):
    x = n.get(i)
    return "%s %.2f/%.2f" % (i, x["latency"]["mean_ms"], x["latency"]["p99_ms"]) if x else i + " -"
print("VARIANT %-12s %6.1f fps exact %-6s | %s | %s | %s | %s" % (name, s["fps"], rate.group(1) if rate else "?",
      ms("video"), ms("det"), ms("cls"), ms("rec")))
PY
}
demo_variants() {
  local b=nodes.det.params.buckets.enabled c=nodes.cls.params.buckets.enabled r=nodes.rec.params.buckets.enabled
  demo_variant default
  demo_variant buckets_off --set $b=false --set $c=false --set $r=false
  demo_variant warmup_off --set nodes.det.params.warmup=false --set nodes.cls.params.warmup=false \
    --set nodes.rec.params.warmup=false
  demo_variant rec_gather --set nodes.rec.params.model=models/ppocr/ch_PP-OCRv4_rec_infer.gather.onnx
  demo_variant no_cls --set nodes.cls.params.required=false --set nodes.cls.params.model=missing.onnx
  echo "KEY: demo variants done"
}
[ "${DEMO_VARIANTS:-0}" = 1 ] && step demo-plates-variants demo_variants
