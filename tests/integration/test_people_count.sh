#!/usr/bin/env bash
# test_people_count.sh - the people-count example end to end on the CPU: the 1080p synthetic
# scene (scripts/make_people_sample.sh) through examples/people_count.yaml with the random-weights
# YOLOv8-layout model (scripts/gen_test_models.py), for a few frames. The detections are
# meaningless; this proves the plumbing (tiles -> batched infer -> decode + fusion -> track ->
# count -> overlay/video/events/snapshots), the batching and that nothing fails:
#  - the run succeeds, summary.json says succeeded with FRAMES frames done and none dropped;
#  - tiles made 9 images per frame (8 tiles + global view) and det ran batches of 2 frames;
#  - yolo_decode decoded every frame; the counter saw every frame and reports its line and zone;
#  - annotated.mp4 has FRAMES 1920x1080 frames; events.jsonl exists and every line is JSON.
# Then a bad model path must fail with one clear line naming it, and the summary records the
# failure. Needs the CLI (VG_BIN) and python3 for the JSON checks; skips (77) without them.
set -euo pipefail
root=${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${VG_BIN:-$root/build/vidgraph}
cd "$root"
[ -x "$bin" ] || { echo "SKIP: no vidgraph binary at $bin"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "SKIP: python3 not found"; exit 77; }
"$bin" run --help >/dev/null 2>&1 || { echo "SKIP: this vidgraph has no run command"; exit 77; }

FRAMES=${PEOPLE_FRAMES:-6}
"$py" scripts/gen_test_models.py >/dev/null
[ -f samples/people.mp4 ] || scripts/make_people_sample.sh >/dev/null
model=models/test/yolo_like.onnx
[ -f "$model" ] || { echo "FAIL: $model was not generated"; exit 1; }

out=$(mktemp -d /tmp/vg_people_XXXXXX)
trap 'rm -rf "$out"' EXIT

fail() { echo "FAIL: $*"; [ -f "$out/run.log" ] && tail -20 "$out/run.log"; exit 1; }

# --- the example on the CPU, a few frames ---------------------------------------------------
"$bin" run examples/people_count.yaml --input samples/people.mp4 --output "$out/run" \
  --device cpu --set nodes.video.params.max_frames=$FRAMES --set nodes.video.params.loop=false \
  --set nodes.det.max_wait_ms=5000 \
  >"$out/run.log" 2>&1 || fail "vidgraph run exited with $?"

for f in summary.json events.jsonl annotated.mp4; do
  [ -s "$out/run/$f" ] || [ "$f" = events.jsonl -a -f "$out/run/$f" ] || fail "$f missing"
done

"$py" - "$out/run" "$FRAMES" <<'EOF' || fail "summary checks"
import json, sys
d, frames = sys.argv[1], int(sys.argv[2])
s = json.load(open(d + "/summary.json"))
run = s.get("run", s)  # the run summary, possibly wrapped with what was run


def find(obj, key):
    """First value of key anywhere in obj."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find(v, key)
            if r is not None:
                return r
    if isinstance(obj, list):
        for v in obj:
            r = find(v, key)
            if r is not None:
                return r
    return None


state = find(s, "state")
assert state == "succeeded", "state %r, error %r" % (state, find(s, "error"))
# frames plus the source's end-of-stream packet, and every frame that came in completed
assert find(s, "frames_done") in (frames, frames + 1), "frames_done %r" % find(s, "frames_done")
assert find(s, "frames_done") == find(s, "frames_in"), "frames in %r" % find(s, "frames_in")
assert find(s, "frames_dropped") == 0, "frames_dropped %r" % find(s, "frames_dropped")
nodes = {n["id"]: n for n in find(s, "nodes")}
for nid in ("video", "tiles", "det", "decode", "tracker", "counter", "draw", "annotated",
            "events", "snapshots"):
    assert nid in nodes, "node %s missing from the summary" % nid
    assert nodes[nid].get("errors", 0) == 0, "node %s had errors" % nid
assert nodes["tiles"]["frames"] == frames
assert nodes["decode"]["frames"] == frames
assert nodes["counter"]["frames"] == frames
det = nodes["det"]
assert det["frames"] == frames, "det frames %r" % det["frames"]
assert det.get("mean_batch", 1) > 1.0, "det never batched frames (mean batch %r)" % det.get("mean_batch")
assert det["calls"] < frames, "det calls %r for %d frames" % (det["calls"], frames)
dec = nodes["decode"].get("detail") or {}
assert dec.get("frames") == frames, "decode detail %r" % dec
cnt = nodes["counter"].get("detail") or {}
assert cnt.get("frames") == frames, "counter detail %r" % cnt
assert [l["name"] for l in cnt["lines"]] == ["line"], cnt
assert [z["name"] for z in cnt["zones"]] == ["zone"], cnt
for line in open(d + "/events.jsonl"):
    ev = json.loads(line)
    assert ev["type"] in ("objects", "track"), ev
    for o in ev.get("objects", []):
        assert o["text"].split(":")[0] in ("line", "zone"), o
print("people_count: %d frames, det mean batch %.2f, %d detections, counts %s" %
      (frames, det["mean_batch"], dec.get("detections", -1),
       [(l["name"], l["in"], l["out"]) for l in cnt["lines"]]))
EOF

if command -v ffprobe >/dev/null; then
  info=$(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=width,height,nb_read_frames -of csv=p=0 "$out/run/annotated.mp4")
  [ "$info" = "1920,1080,$FRAMES" ] || fail "annotated.mp4 is '$info', want 1920,1080,$FRAMES"
fi

# --- a detector exported with a fixed batch of 1 (Ultralytics' default): the 9 images of each
# frame run in chunks of 1, and the detections are those of the same weights with a free batch
for m in yolo_static1; do # the example's own run above is the free-batch reference
  "$bin" run examples/people_count.yaml --input samples/people.mp4 --output "$out/$m" \
    --device cpu --set nodes.video.params.max_frames=$FRAMES --set nodes.video.params.loop=false \
    --set nodes.det.params.model=models/test/$m.onnx --set nodes.det.max_wait_ms=5000 >"$out/$m.log" 2>&1 || { cat "$out/$m.log"; fail "$m: exit $?"; }
done
"$py" - "$out" "$FRAMES" <<'EOF' || fail "fixed-batch model checks"
import json, sys
d, frames = sys.argv[1], int(sys.argv[2])
def node(run, nid):
    s = json.load(open("%s/%s/summary.json" % (d, run)))
    assert s["state"] == "succeeded", (run, s["state"], s.get("error"))
    return {n["id"]: n for n in s["nodes"]}[nid]
st = node("yolo_static1", "det")
runs = st["detail"]["stats"]["runs"]
assert runs == 9 * frames, "fixed batch of 1: %d model runs for %d frames of 9 images" % (runs, frames)
assert "batch 1" in st["detail"]["buckets"], st["detail"]["buckets"]
a = node("yolo_static1", "decode")["detail"]["detections"]
b = node("run", "decode")["detail"]["detections"]
assert a == b, "detections: fixed batch %d, free batch %d" % (a, b)
print("people_count with a fixed-batch detector: %d runs of batch 1, %d detections (= %d)" % (runs, a, b))
EOF

# --- a model that does not exist: one clear line, non-zero exit, the summary says failed ----
if "$bin" run examples/people_count.yaml --input samples/people.mp4 --output "$out/bad" \
  --device cpu --set nodes.det.params.model=models/test/no_such_model.onnx \
  >"$out/bad.log" 2>&1; then
  fail "a missing model did not fail the run"
fi
grep -q "no_such_model.onnx" "$out/bad.log" || { cat "$out/bad.log"; fail "the error does not name the model"; }
if [ -f "$out/bad/summary.json" ]; then
  grep -q '"failed"' "$out/bad/summary.json" || fail "the summary does not record the failure"
fi
echo "PASS: people_count example ($FRAMES frames)"
