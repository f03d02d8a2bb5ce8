#!/usr/bin/env bash
# test_plates_demo.sh - the README's main job, on the CPU: the plate-reading demo on the generated
# sample must read >= 90% of the plates exactly, each plate once; plus the bad-input contract of
# `vidgraph run` (missing model, unreadable input, unwritable output: one clear line, non-zero
# exit, a summary that says failed).
set -uo pipefail
cd "${VG_SOURCE_DIR:-.}"
BIN=${VG_BIN:-build/vidgraph}
[ -x "$BIN" ] || { echo "SKIP: no vidgraph binary at $BIN"; exit 77; }
[ -f models/ppocr/ch_PP-OCRv4_det_infer.onnx ] && [ -f samples/plates.mp4 ] \
  || { echo "SKIP: models or sample missing (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

# 1. the demo itself
if "$BIN" run examples/plates.yaml --input samples/plates.mp4 --output "$tmp/demo" --json > "$tmp/demo.json" 2> "$tmp/demo.err"; then
  ok "demo run succeeded"
else
  bad "demo run failed: $(tail -3 "$tmp/demo.err")"
fi
if python3 scripts/eval_plates.py --truth samples/plates_truth.json --events "$tmp/demo/events.jsonl" \
     --min-rate 0.9 --max-duplicates 0 > "$tmp/eval.txt"; then
  ok "plates: $(grep 'exact reads' "$tmp/eval.txt")"
else
  cat "$tmp/eval.txt"
  bad "plates below 90% exact or reported more than once"
fi
python3 - "$tmp/demo/summary.json" <<'PY' && ok "summary.json: state, frames, providers and reasons" || bad "summary.json content"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "succeeded", s["state"]
assert s["frames_done"] == 300, s["frames_done"]
models = [n["detail"] for n in s["nodes"] if n["type"] == "infer"]
assert len(models) == 3 and all(m["provider"] for m in models)
# on a machine without a GPU the skipped providers carry their reasons
if all(m["provider"] == "cpu" for m in models):
    assert all(m["skipped_providers"].get("cuda") for m in models), models[0]["skipped_providers"]
assert any(n["type"] == "source" and n["detail"]["streams"][0]["decoder"] for n in s["nodes"])
PY
[ -s "$tmp/demo/annotated.mp4" ] && ok "annotated.mp4 written" || bad "annotated.mp4 missing"

# 2. a graph naming a missing model
out=$("$BIN" run examples/plates.yaml --output "$tmp/nomodel" --set nodes.det.params.model=models/nope.onnx 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "nope.onnx" <<<"$out" && ok "missing model: exit $rc, names the file" \
  || bad "missing model: rc=$rc: $out"
grep -q '"state": "failed"' "$tmp/nomodel/summary.json" && ok "missing model: summary says failed" \
  || bad "missing model: summary"

# 3. an input that cannot be opened
out=$("$BIN" run examples/plates.yaml --input "$tmp/none.mp4" --output "$tmp/noinput" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "none.mp4" <<<"$out" && ok "missing input: exit $rc, names the source" \
  || bad "missing input: rc=$rc: $out"

# 4. an output folder that cannot be written
touch "$tmp/file"
out=$("$BIN" run examples/plates.yaml --output "$tmp/file/sub" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "output folder" <<<"$out" && ok "unwritable output: exit $rc, says so" \
  || bad "unwritable output: rc=$rc: $out"

# 5. a bad --set
out=$("$BIN" run examples/plates.yaml --output "$tmp/badset" --set nodes.det_pre.params.width=abc 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "width" <<<"$out" && ok "bad --set value: exit $rc, names the key" \
  || bad "bad --set: rc=$rc: $out"

# 6. Ctrl-C: a paced (live-like) run stops cleanly, exits 130 and still writes its summary
"$BIN" run examples/plates.yaml --output "$tmp/intr" --set nodes.video.params.realtime=true \
  > "$tmp/intr.log" 2>&1 &
pid=$!
sleep 4
kill -INT $pid
wait $pid
rc=$?
python3 - "$tmp/intr/summary.json" <<'PY' && [ $rc -eq 130 ] && ok "Ctrl-C: exit 130, summary written (interrupted)" || bad "Ctrl-C: rc=$rc"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["interrupted"] is True and s["state"] in ("stopped", "canceled"), s["state"]
assert 0 < s["frames_done"] < 300, s["frames_done"]
PY

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
