#!/usr/bin/env bash
# test_bench_smoke.sh - the benchmark suite's CPU smoke run (bench/run.sh --smoke, issue 13): it
# runs every suite (GPU cases recorded as skipped with the reason), writes a results document
# that bench/validate.py accepts, and bench/report.py turns it into a self-contained HTML report
# (rendered to PNG when chromium + playwright-core are there). Nothing timed is asserted: only
# that the runs happened (frames counted, fields filled). Also the validator's bad-input cases:
# each broken document or result line must be refused with exit 1.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }
[[ -f "$root/models/test/yolo_like.onnx" ]] || { echo "SKIP: models/test not generated (scripts/setup.sh)"; exit 77; }
cd "$root"
tmp=$(mktemp -d /tmp/vg-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# ---- the smoke run
t0=$SECONDS
if VG_BIN="$bin" bash bench/run.sh --smoke --out "$tmp/smoke" >"$tmp/table.txt" 2>"$tmp/err.txt"; then
  ok "bench/run.sh --smoke exit 0 in $((SECONDS - t0)) s"
else
  bad "bench/run.sh --smoke failed: $(tail -n 5 "$tmp/err.txt")"
fi
cat "$tmp/table.txt"
if python3 bench/validate.py "$tmp/smoke/results.json"; then ok "results.json validates"; else bad "results.json does not validate"; fi
python3 - "$tmp/smoke/results.json" <<'PY' && ok "every suite ran or says why; the CPU runs did their frames" || bad "results content"
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["name"]: x for x in d["results"]}
errs = []
if d["mode"] != "smoke": errs.append("mode %r" % d["mode"])
for s in ("ceiling", "model", "detection", "tiles4k", "plates"):
    if not any(x["suite"] == s for x in d["results"]): errs.append("no result for suite " + s)
for x in d["results"]:
    if "driver error" in (x["notes"] or ""): errs.append("%s: %s" % (x["name"], x["notes"]))
# the vidgraph CPU pipelines ran their frames (counts, not times)
for name, frames in (("detection/vidgraph-cpu/n1", 2), ("detection/vidgraph-cpu/n2", 4),
                     ("tiles4k/vidgraph-cpu/realtime", 3)):
    x = r.get(name)
    if not x or x["frames"] != frames or not x["fps"]:
        errs.append("%s: expected %d frames done, got %s" % (name, frames, x and x["notes"]))
    elif not x["latency_ms"] or x["latency_ms"]["p50"] is None:
        errs.append("%s: no end-to-end latency" % name)
    elif not x["stages_ms"].get("infer"):
        errs.append("%s: no per-stage infer time" % name)
    elif not (x["quality"] or {}).get("detections"):
        errs.append("%s: no detections counted" % name)
# GPU-only cases say why they did not run
c = r.get("ceiling/memcpy/d2d")
if not c or c["value"] is not None or "skipped" not in c["notes"]:
    errs.append("ceiling/memcpy/d2d: expected skipped with a reason, got %s" % c)
if len(d["targets"]) < 8: errs.append("%d targets" % len(d["targets"]))
print("\n".join(errs))
sys.exit(1 if errs else 0)
PY

# ---- the report from the smoke JSON
if python3 bench/report.py "$tmp/smoke/results.json" -o "$tmp/report.html" 2>"$tmp/rep.err"; then
  n=$(grep -o '<svg' "$tmp/report.html" | wc -l)
  if [[ $n -ge 3 ]] && grep -q 'Targets' "$tmp/report.html" && grep -q 'detection/vidgraph-cpu/n1' "$tmp/report.html" \
     && ! grep -qE '(src|href)="https?:' "$tmp/report.html"; then
    ok "report.html: $n charts, targets and results, nothing fetched from the network"
  else
    bad "report.html content ($n charts)"
  fi
else
  bad "report.py: $(cat "$tmp/rep.err")"
fi
if [[ -x "${VG_CHROMIUM:-/usr/bin/chromium}" && -f node_modules/playwright-core/package.json ]]; then
  if timeout 120 node bench/render_report.js "$tmp/report.html" "$tmp/report.png" && [[ -s "$tmp/report.png" ]]; then
    ok "report rendered to PNG in headless chromium"
  else
    bad "render_report.js"
  fi
else
  echo "note: chromium or playwright-core missing; PNG rendering not checked"
fi

# ---- the validator refuses broken input (one fault each)
python3 - "$tmp" <<'PY'
import copy, json, os, sys
tmp = sys.argv[1]
d = json.load(open(os.path.join(tmp, "smoke", "results.json")))
good = next(x for x in d["results"] if x["fps"])
def doc_with(fn):
    x = copy.deepcopy(d); fn(x); return x
def res_with(fn):
    x = copy.deepcopy(good); fn(x); return x
cases = {
  "doc-no-schema": doc_with(lambda x: x.pop("schema")),
  "doc-bad-mode": doc_with(lambda x: x.update(mode="fast")),
  "doc-dup-name": doc_with(lambda x: x["results"].append(copy.deepcopy(good))),
  "doc-target-met-wrong": doc_with(lambda x: x["targets"].append(
      {"target": "t", "value": 1.0, "required": 2.0, "met": True, "why": ""})),
  "doc-ledger-no-on": doc_with(lambda x: x["ledger"].append(
      {"optimisation": "o", "off": good, "effect": "e"})),
  "res-missing-key": res_with(lambda x: x.pop("command")),
  "res-bad-suite": res_with(lambda x: x.update(suite="speed")),
  "res-fps-zero": res_with(lambda x: x.update(fps=0)),
  "res-fps-negative": res_with(lambda x: x.update(fps=-3.5)),
  "res-fps-string": res_with(lambda x: x.update(fps="812")),
  "res-p50-above-p99": res_with(lambda x: x.update(latency_ms={"mean": 5, "p50": 9, "p99": 4, "max": 10})),
  "res-latency-missing-p99": res_with(lambda x: x.update(latency_ms={"mean": 5, "p50": 4, "max": 10})),
  "res-value-without-unit": res_with(lambda x: x.update(value=3.0, unit=None)),
  "res-no-number-no-note": res_with(lambda x: x.update(fps=None, latency_ms=None, notes="")),
  "res-cpus-not-a-list": res_with(lambda x: x.update(cpus="all")),
  "res-stage-nan": res_with(lambda x: x.update(stages_ms={"infer": float("nan")})),
}
for name, obj in cases.items():
    with open(os.path.join(tmp, "bad-%s.json" % name), "w") as f:
        f.write(json.dumps(obj) + "\n")
with open(os.path.join(tmp, "bad-not-json.json"), "w") as f:
    f.write(json.dumps(good) + "\n{not json\n")
with open(os.path.join(tmp, "bad-empty.json"), "w") as f:
    f.write("")
with open(os.path.join(tmp, "good-lines.json"), "w") as f:
    f.write(json.dumps(good) + "\n" + json.dumps(good) + "\n")
PY
for f in "$tmp"/bad-*.json; do
  python3 bench/validate.py "$f" >"$tmp/v.out" 2>&1
  rc=$?
  if [[ $rc -eq 1 && -s "$tmp/v.out" ]]; then ok "validate refuses $(basename "$f"): $(head -c 120 "$tmp/v.out" | head -n 1)"; else bad "validate accepted $(basename "$f") (rc $rc)"; fi
done
if python3 bench/validate.py "$tmp/good-lines.json" 2>/dev/null; then ok "validate accepts result lines"; else bad "validate refused good result lines"; fi
python3 bench/validate.py "$tmp/missing.json" >/dev/null 2>&1
[[ $? -eq 1 ]] && ok "validate: a missing file is exit 1" || bad "validate: missing file"
python3 bench/validate.py >/dev/null 2>&1
[[ $? -eq 2 ]] && ok "validate: no argument is a usage error (2)" || bad "validate: usage"

echo "bench smoke: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
