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
