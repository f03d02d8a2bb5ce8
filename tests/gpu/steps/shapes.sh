# shapes.sh - issue 12 item 2 (stable shapes) on the GPU machine: the plate graph
# (examples/plates.yaml) over the varied-size sample (scripts/make_varied_sample.sh:
# varied.h264 + varied_truth.json in $DATA), 1 and 8 streams (the same file 8 times, several
# --input), with shape buckets on/off, warm-up on/off and cross-stream batching on/off. One table
# line per run: fps, rec p50/p99, frame p50/p99, exact reads vs truth (8 streams: the sum over
# the streams), first runs at new shapes after load, copies to host. Each case is run with one
# session per bucket shape (buckets.pin_sessions auto) and once without (`pins_off`). PASS/FAIL on correctness
# only (exact reads not below the buckets-off run of the same stream count, 0 frame copies to
# the host, every run finished), never on timing. Sourced by run_gpu.sh; logs in $OUT/shapes/.
# Runs are stopped after SHAPES_TIMEOUT seconds (SIGTERM: the summary is still written, fps is
# then over the frames done; the line says "stopped").
DATA=${DATA:-samples}
SHAPES_TIMEOUT=${SHAPES_TIMEOUT:-30}

shapes_one() { # NAME STREAMS [--set ...]: one run, one table line
  local name=$1 n=$2; shift 2
  # SHAPES_ONLY=REGEX runs only the cases whose name matches
  if [ -n "${SHAPES_ONLY:-}" ] && ! [[ "$name" =~ $SHAPES_ONLY ]]; then return 0; fi
  local dir="$OUT/shapes/$name" ins=() i
  for ((i = 0; i < n; i++)); do ins+=(--input "$DATA/varied.h264"); done
  mkdir -p "$dir"
  # GPU utilisation (percent of time a kernel ran), sampled every 100 ms during the run: the
  # row keeps the samples of the frames' part (the last frames/fps seconds, not the load)
  local smi=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu --format=csv,noheader,nounits -lms 100 \
      > "$dir/util.csv" 2>/dev/null &
    smi=$!
  fi
  timeout -s TERM -k 20 "$SHAPES_TIMEOUT" "$VG_BIN" run examples/plates.yaml "${ins[@]}" \
    --output "$dir" --set nodes.annotated.params.required=false "$@" > "$dir/run.log" 2>&1
  echo "$?" > "$dir/rc"
  date -u +%s.%N > "$dir/t_end"
  [ -n "$smi" ] && { kill "$smi" 2>/dev/null; wait "$smi" 2>/dev/null; }
  local s
  for ((s = 0; s < n; s++)); do
    python3 scripts/eval_plates.py --truth "$DATA/varied_truth.json" --events "$dir/events.jsonl" \
      --stream "$s" > "$dir/eval_$s.txt" 2>&1
  done
  python3 - "$dir" "$name" "$n" <<'PY'
import json, os, re, sys
d, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rc = open(os.path.join(d, "rc")).read().strip()
try:
    s = json.load(open(os.path.join(d, "summary.json")))
except Exception as e:
    print("SHAPES %-22s n=%d FAILED: no summary (%s), rc %s" % (name, n, e, rc))
    json.dump({"name": name, "ok": False}, open(os.path.join(d, "row.json"), "w"))
    sys.exit(0)
nodes = {x["id"]: x for x in s.get("nodes", [])}
exact = total = 0
for k in range(n):
    t = open(os.path.join(d, "eval_%d.txt" % k)).read()
    m = re.search(r"exact reads: (\d+)/(\d+)", t)
    if m:
        exact += int(m.group(1)); total += int(m.group(2))
lat = lambda node, key: nodes.get(node, {}).get("latency", {}).get(key, float("nan"))
fl = s.get("frame_latency", {})
first = sum(nodes.get(x, {}).get("detail", {}).get("new_shapes_after_warmup", 0) for x in ("det", "cls", "rec"))
newsh = sum(nodes.get(x, {}).get("detail", {}).get("new_shapes", 0) for x in ("det", "cls", "rec"))
warm = sum(nodes.get(x, {}).get("detail", {}).get("warmup_ms", 0) for x in ("det", "cls", "rec"))
row = {"name": name, "streams": n, "state": s["state"], "rc": rc, "fps": s["fps"],
       "frames": s["frames_done"], "rec_p50": lat("rec", "p50_ms"), "rec_p99": lat("rec", "p99_ms"),
       "rec_mean_batch": nodes.get("rec", {}).get("mean_batch", 0),
       "frame_p50": fl.get("p50_ms", float("nan")), "frame_p99": fl.get("p99_ms", float("nan")),
       "exact": exact, "total": total, "new_shapes": newsh, "new_after_warmup": first,
       "warmup_ms": warm, "copies_to_host": s["copies_to_host"],
       "frame_copies_to_host": s["frame_copies_to_host"],
       "providers": [nodes.get(x, {}).get("detail", {}).get("provider") for x in ("det", "cls", "rec")],
       "rec_buckets": nodes.get("rec", {}).get("detail", {}).get("buckets"),
       "rec_cuda_graph_reason": nodes.get("rec", {}).get("detail", {}).get("cuda_graph_reason"),
       "rec_nodes": nodes.get("rec", {}).get("detail", {}).get("nodes_per_provider"),
       "graphs": {x: [nodes.get(x, {}).get("detail", {}).get("cuda_graph"),
                      nodes.get(x, {}).get("detail", {}).get("cuda_graph_reason")] for x in ("det", "cls", "rec")}}
# GPU utilisation over the frames' part of the run (see shapes_one)
import datetime
util = []
try:
    t_end = float(open(os.path.join(d, "t_end")).read())
    span = s["frames_done"] / s["fps"] if s.get("fps") else 0
    for line in open(os.path.join(d, "util.csv")):
        ts, u = [x.strip() for x in line.split(",")[:2]]
        t = datetime.datetime.strptime(ts, "%Y/%m/%d %H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        if t_end - span <= t <= t_end:
            util.append(float(u))
except Exception:
    pass
row["gpu_util"] = sum(util) / len(util) if util else float("nan")
row["gpu_util_samples"] = len(util)
# per GPU node: calls, mean batch, p50/p99 per call, busy ms per frame
row["nodes"] = {}
for x in s.get("nodes", []):
    if x.get("device", "").startswith("cuda") or x["id"] in ("det", "cls", "rec", "det_dec", "read"):
        lat_ = x.get("latency", {})
        row["nodes"][x["id"]] = {"calls": x.get("calls"), "batch": x.get("mean_batch"),
                                 "p50": lat_.get("p50_ms"), "p99": lat_.get("p99_ms"),
                                 "mean": lat_.get("mean_ms"), "wait_p50": x.get("queue_wait", {}).get("p50_ms")}
row["ok"] = s["state"] in ("succeeded", "stopped") and s["frame_copies_to_host"] == 0
json.dump(row, open(os.path.join(d, "row.json"), "w"))
print("SHAPES %-22s n=%d %-9s %4d fr %7.1f fps | rec p50 %6.2f p99 %7.2f ms b%.1f | frame p50 %7.2f p99 %8.2f ms | "
      "exact %d/%d | new shapes %d (after warm-up %d), warm-up %.0f ms | copies to host %d (frames %d) | %s"
      % (name, n, s["state"], s["frames_done"], s["fps"], row["rec_p50"], row["rec_p99"], row["rec_mean_batch"],
         row["frame_p50"], row["frame_p99"], exact, total, newsh, first, warm, s["copies_to_host"],
         s["frame_copies_to_host"], ",".join(str(p) for p in row["providers"])))
if "graphs" in name:
    for x, (on, why) in row["graphs"].items():
        print("SHAPES   %s: cuda_graph %s: %s" % (x, on, why))
print("SHAPES   rec: %s, nodes per provider %s" % (row["rec_buckets"], row["rec_nodes"]))
print("SHAPES   GPU busy %.0f%% (%d samples); per call mean/p99 ms (mean batch): %s" % (
    row["gpu_util"], row["gpu_util_samples"], ", ".join(
        "%s %.2f/%.2f (b%.1f)" % (k, v["mean"] or 0, v["p99"] or 0, v["batch"] or 0)
        for k, v in row["nodes"].items() if v.get("mean") is not None)))
PY
}

shapes_gpu() {
  [ -s "$DATA/varied.h264" ] && [ -s "$DATA/varied_truth.json" ] || {
    echo "SKIP: $DATA/varied.h264 / varied_truth.json missing (scripts/make_varied_sample.sh)"; return 77; }
  local off="--set nodes.det.params.buckets.enabled=false --set nodes.cls.params.buckets.enabled=false --set nodes.rec.params.buckets.enabled=false"
  local cold="--set nodes.det.params.warmup=false --set nodes.cls.params.warmup=false --set nodes.rec.params.warmup=false"
  local nobatch="--set nodes.det.max_batch=1 --set nodes.cls.max_batch=1 --set nodes.rec.max_batch=1"
  local batch="--set nodes.det.max_batch=8 --set nodes.cls.max_batch=8 --set nodes.rec.max_batch=8"
  local n
  for n in 1 8; do
    # shellcheck disable=SC2086
    {
      shapes_one "s${n}_buckets_off" $n $off $nobatch
      shapes_one "s${n}_buckets" $n $nobatch
      shapes_one "s${n}_buckets_pins_off" $n $nobatch --set nodes.det.params.buckets.pin_sessions=false \
        --set nodes.cls.params.buckets.pin_sessions=false --set nodes.rec.params.buckets.pin_sessions=false
      shapes_one "s${n}_buckets_nowarmup" $n $cold $nobatch
      shapes_one "s${n}_buckets_batch" $n $batch
      shapes_one "s${n}_buckets_off_batch" $n $off $batch
    }
  done
  # CUDA graphs per bucket (needs every node of a model on CUDA; the reason is printed when not)
  local graphs="--set nodes.det.params.cuda.cuda_graph=true --set nodes.cls.params.cuda.cuda_graph=true --set nodes.rec.params.cuda.cuda_graph=true"
  # shellcheck disable=SC2086
  shapes_one "s1_buckets_graphs" 1 $graphs $nobatch
  python3 - "$OUT/shapes" <<'PY'
import json, os, sys
d = sys.argv[1]
rows = {}
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name, "row.json")
    if os.path.exists(p):
        rows[name] = json.load(open(p))
bad = []
for name, r in rows.items():
    if not r.get("ok"):
        bad.append("%s: state %s, frame copies %s" % (name, r.get("state"), r.get("frame_copies_to_host")))
for n in (1, 8):
    ref = rows.get("s%d_buckets_off" % n)
    for name, r in rows.items():
        # (the CUDA-graph run is informative: a graph's outputs are fixed buffers that the next
        # run overwrites, so its reads are printed, not checked)
        if ref and r.get("streams") == n and "graphs" not in name and r.get("state") == "succeeded" and ref.get("state") == "succeeded" \
           and r["exact"] < ref["exact"]:
            bad.append("%s: exact reads %d < buckets off %d" % (name, r["exact"], ref["exact"]))
b1, b8 = rows.get("s1_buckets_batch", {}), rows.get("s8_buckets_batch", {})
print("KEY: 1 stream %.0f fps (rec p50 %.2f p99 %.2f), 8 streams %.0f fps, exact %s/%s; %s" % (
    b1.get("fps", 0), b1.get("rec_p50", 0), b1.get("rec_p99", 0), b8.get("fps", 0), b1.get("exact"),
    b1.get("total"), "FAIL: " + "; ".join(bad) if bad else "all correct"))
sys.exit(1 if bad else 0)
PY
}
step shapes-buckets shapes_gpu

# Scaling (issue 12 targets: 1 stream >= 200 fps, 8 streams >= 800 fps): CUDA worker threads
# (settings.cuda_streams) x cross-stream batching (max_batch on det/cls/rec) x frames in flight,
# each with its GPU utilisation. SHAPES_SCALE=1 (or ONLY=shapes-scale) runs it; not by default.
shapes_scale() {
  [ -s "$DATA/varied.h264" ] || { echo "SKIP: $DATA/varied.h264 missing"; return 77; }
  # 8 streams at ~135 fps need ~18 s plus ~10 s of model load and warm-up: 30 s cut two runs
  local SHAPES_TIMEOUT=${SHAPES_SCALE_TIMEOUT:-45}
  local b8="--set nodes.det.max_batch=8 --set nodes.cls.max_batch=8 --set nodes.rec.max_batch=8"
  local cs q
  # shellcheck disable=SC2086
  {
    for cs in 1 2 4; do shapes_one "x1_cs${cs}" 1 --set settings.cuda_streams=$cs; done
    for cs in 2 4 8; do shapes_one "x8_cs${cs}" 8 --set settings.cuda_streams=$cs; done
    for cs in 4 8; do shapes_one "x8_cs${cs}_b8" 8 --set settings.cuda_streams=$cs $b8; done
    for q in 16; do shapes_one "x8_cs8_b8_q${q}" 8 --set settings.cuda_streams=8 $b8 \
      --set settings.queue_size=$q; done
    # the ledger row of the window of frames in flight: one queue_size for all 8 streams, as
    # before the window became per stream (VG_SOURCE_WINDOW, docs/ARCHITECTURE.md backpressure)
    VG_SOURCE_WINDOW=shared shapes_one "x8_cs4_b8_shared" 8 --set settings.cuda_streams=4 $b8
    # the ledger row: the model copies' device-wide waits back (VG_INFER_DEVICE_SYNC, run.c)
    VG_INFER_DEVICE_SYNC=1 shapes_one "x1_cs2_devsync" 1 --set settings.cuda_streams=2
    VG_INFER_DEVICE_SYNC=1 shapes_one "x8_cs4_devsync" 8 --set settings.cuda_streams=4
  }
  python3 - "$OUT/shapes" <<'PY'
import json, os, sys
d = sys.argv[1]
rows = [json.load(open(os.path.join(d, n, "row.json"))) for n in sorted(os.listdir(d))
        if n.startswith("x") and os.path.exists(os.path.join(d, n, "row.json"))]
bad = [r["name"] for r in rows if not r.get("ok")]
best1 = max([r["fps"] for r in rows if r.get("streams") == 1] or [0])
best8 = max([r["fps"] for r in rows if r.get("streams") == 8] or [0])
print("KEY: best 1 stream %.0f fps, best 8 streams %.0f fps%s" % (best1, best8,
      "; FAIL: " + ", ".join(bad) if bad else ""))
sys.exit(1 if bad else 0)
PY
}
if [ "${SHAPES_SCALE:-0}" = 1 ] || [[ "shapes-scale" =~ ^(${ONLY})$ ]]; then
  step shapes-scale shapes_scale
fi
