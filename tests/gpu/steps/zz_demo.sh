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
# thing changed at a time (CUDA graphs off, then also one session for every bucket shape, 2 CUDA
# streams, each model on the caller's thread instead of its own, shape buckets off, warm-up off,
# the original recogniser), one line each: fps, exact reads, mean/p99 ms of the source, det,
# cls, rec, and per model its sessions, shape switches and slowest run with its time inside ONNX
# Runtime. DEMO_PROFILE=1 adds a run with ONNX Runtime's profiler on (VG_ORT_PROFILE),
# summarised by scripts/ort_profile_summary.py. Never fails on timing.
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
def slow(i):
    d = n.get(i, {}).get("detail", {})
    r = d.get("slowest_run") if isinstance(d, dict) else None
    w = d.get("warmup_ms", 0) if isinstance(d, dict) else 0
    return "%s warm %.0f sess %s switches %s slowest %.1f (ort %.1f, run %d%s)" % (i, w or 0, d.get("sessions"),
        d.get("shape_switches"), r["ms"], r["in_ort_ms"], r["run"], ", first" if r["first_at_shape"] else "") if r else i + " -"
print("VARIANT %-14s %6.1f fps exact %-6s | %s | %s | %s | %s" % (name, s["fps"], rate.group(1) if rate else "?",
      ms("video"), ms("det"), ms("cls"), ms("rec")))
print("SLOWEST %-14s %s | %s | %s" % (name, slow("det"), slow("cls"), slow("rec")))
PY
}
demo_variants() {
  local m x
  local nograph=() nopin=() nobuckets=() cold=() ownoff=()
  for m in det cls rec; do
    nograph+=(--set nodes.$m.params.cuda.cuda_graph=false)
    nopin+=(--set nodes.$m.params.buckets.pin_sessions=false)
    nobuckets+=(--set nodes.$m.params.buckets.enabled=false)
    cold+=(--set nodes.$m.params.warmup=false)
    ownoff+=(--set nodes.$m.params.own_thread=false)
  done
  demo_variant default
  demo_variant graphs_off "${nograph[@]}"
  demo_variant graphs_pins_off "${nograph[@]}" "${nopin[@]}"
  demo_variant streams2 --set settings.cuda_streams=2
  if [ "${DEMO_VARIANTS_ALL:-0}" = 1 ]; then # measured on 2026-12-02 (docs/PERF.md)
    demo_variant own_thread_off "${ownoff[@]}"
    demo_variant warmup_off "${cold[@]}"
  fi
  demo_variant buckets_off "${nobuckets[@]}"
  demo_variant rec_original --set nodes.rec.params.model=models/ppocr/ch_PP-OCRv4_rec_infer.onnx
  if [ "${DEMO_PROFILE:-0}" = 1 ]; then
    rm -rf "$OUT/prof"; mkdir -p "$OUT/prof"
    VG_ORT_PROFILE="$OUT/prof/p" demo_variant profiled --set nodes.video.params.max_frames=150 "${nograph[@]}"
    python3 scripts/ort_profile_summary.py "$OUT"/prof/p_*.json --slowest 3 --top 5 | cut -c1-600
    rm -rf "$OUT/prof" # large; the summary above is what is kept
  fi
  echo "KEY: demo variants done"
}
[ "${DEMO_VARIANTS:-0}" = 1 ] && step demo-plates-variants demo_variants
