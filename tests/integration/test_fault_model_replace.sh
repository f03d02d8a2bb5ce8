#!/usr/bin/env bash
# test_fault_model_replace.sh - a model file replaced while it is in use (issue 15, faults).
#   run:   a detector graph (source -> preprocess -> infer -> yolo_decode -> json_sink) runs on a
#          copy of the test detector; while it runs (frames flowing, paced in real time) the file
#          is overwritten in place with garbage, then replaced by rename with another model. The
#          run keeps its loaded session: it must succeed with exactly the output of an
#          undisturbed run. A run started afterwards reads the file as it is now and fails
#          cleanly, naming the model.
#   serve: the model cache is keyed by the files' content (src/infer/cache.c), never by path:
#          a model POSTed, its file replaced by another model (same path, same size class), then
#          POSTed again under a new name must describe the NEW file (its inputs), not the cached
#          session of the old one; the first name keeps the session it loaded; a file replaced
#          by garbage gives 422 naming the file, not the stale entry.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root" || exit 1
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }
for t in ffmpeg python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
for f in samples/people.mp4 models/test/yolo_like.onnx models/test/tiny_mlp.onnx models/test/tiny_fixed.onnx; do
  [ -f "$f" ] || { echo "SKIP: $f missing (scripts/setup.sh)"; exit 77; }
done
tmp=$(mktemp -d /tmp/vg_model_replace_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

ffmpeg -nostdin -loglevel error -y -i samples/people.mp4 -frames:v 40 -vf scale=640:360 \
  -c:v libx264 -g 8 -pix_fmt yuv420p "$tmp/clip.mp4" || { echo "FAIL: ffmpeg"; exit 1; }
cp models/test/yolo_like.onnx "$tmp/det.onnx"
# detector -> decode (a low threshold: the random-weights model gives boxes) -> one line per frame
cat >"$tmp/det.yaml" <<YAML
nodes:
  - {id: video, type: source, params: {url: $tmp/clip.mp4, decoder: cpu}}
  - {id: pre, type: preprocess, params: {width: 640, height: 640, output: images}}
  - {id: det, type: infer, params: {model: $tmp/det.onnx, input: images, output: output0}}
  - {id: dec, type: yolo_decode, params: {tensor: output0, layout: v8, conf_threshold: 0.01}}
  - {id: out, type: json_sink, params: {path: frames.jsonl}}
edges: [video -> pre, pre -> det, det -> dec, dec -> out]
YAML
run_args=(run "$tmp/det.yaml" --device cpu --quiet)
"$bin" "${run_args[@]}" --output "$tmp/ref" >"$tmp/ref.log" 2>&1 || {
  echo "FAIL: the undisturbed run: $(tail -3 "$tmp/ref.log")"; exit 1; }
boxes=$(python3 -c "import json,sys; print(sum(len(json.loads(l).get('objects', [])) for l in open(sys.argv[1])))" "$tmp/ref/frames.jsonl")
echo "undisturbed run: $(wc -l <"$tmp/ref/frames.jsonl") lines, $boxes boxes"

# --- run: overwrite in place, then rename another model over it, while frames flow
"$bin" "${run_args[@]}" --output "$tmp/hit" --set nodes.video.params.realtime=true \
  >"$tmp/hit.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do # until the run has done frames (bounded wait, not a timing assertion)
  [[ -s "$tmp/hit/frames.jsonl" ]] && break
  grep -q '"frames_done"' "$tmp/hit/summary.json" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
head -c 5000 /dev/urandom >"$tmp/det.onnx"          # in place: same inode, new content
cp models/test/tiny_mlp.onnx "$tmp/other.onnx" && mv "$tmp/other.onnx" "$tmp/det.onnx"  # new inode
wait $pid
rc=$?
if [[ $rc == 0 ]] && cmp -s "$tmp/ref/frames.jsonl" "$tmp/hit/frames.jsonl"; then
  ok "run with its model replaced mid-run: exit 0, output identical ($(wc -l <"$tmp/hit/frames.jsonl") lines, $boxes boxes)"
elif [[ $rc == 0 ]]; then
  bad "run with its model replaced mid-run: exit 0 but the output differs from the undisturbed run"
  diff <(head -3 "$tmp/ref/frames.jsonl") <(head -3 "$tmp/hit/frames.jsonl") | cut -c1-300
else
  bad "run with its model replaced mid-run: exit $rc: $(tail -3 "$tmp/hit.log")"
fi
"$bin" "${run_args[@]}" --output "$tmp/after" >"$tmp/after.log" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -qE "det.onnx|model 'det'" "$tmp/after.log"; then
  ok "a run after the replacement reads the new file: exit 1, '$(grep -m1 -E "det.onnx|model 'det'" "$tmp/after.log" | cut -c1-200)'"
else
  bad "a run after the replacement: exit $rc: $(tail -3 "$tmp/after.log")"
fi

# --- serve: the model cache must follow the file, not the path
mkdir -p "$tmp/mroot" "$tmp/media" "$tmp/sout"
cp models/test/tiny_mlp.onnx "$tmp/mroot/m.onnx"
python3 - "$bin" "$tmp" <<'PY'
import http.client, json, os, re, shutil, signal, subprocess, sys
binary, tmp = sys.argv[1], sys.argv[2]
p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--token", "t",
                      "--model-root", tmp + "/mroot", "--media-root", tmp + "/media",
                      "--output-root", tmp + "/sout"], stdout=subprocess.PIPE,
                     stderr=open(tmp + "/serve.log", "w"), text=True)
m = re.search(r":(\d+)", p.stdout.readline() or "")
if not m:
    sys.exit("FAIL: serve did not start: " + open(tmp + "/serve.log").read()[-400:])
port = int(m.group(1))
def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Authorization": "Bearer t", "Content-Type": "application/json"})
    r = c.getresponse()
    d = r.read()
    return r.status, (json.loads(d) if d else None)
fails = 0
def check(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what)
    fails += 0 if cond else 1
shapes = lambda doc: [(i["name"], i["shape"]) for i in doc["inputs"]]
try:
    st, a = call("POST", "/api/models", {"name": "a", "path": "m.onnx", "providers": ["cpu"]})
    check(st == 201, "serve: POST a (tiny_mlp) -> %d" % st)
    # replaced by rename with a different model
    shutil.copy(os.path.join("models/test/tiny_fixed.onnx"), tmp + "/mroot/m.new")
    os.rename(tmp + "/mroot/m.new", tmp + "/mroot/m.onnx")
    st, b = call("POST", "/api/models", {"name": "b", "path": "m.onnx", "providers": ["cpu"]})
    check(st == 201 and shapes(b) != shapes(a),
          "serve: after the file changed, POST b describes the new model: %s (was %s)" % (
              shapes(b) if st == 201 else (st, b), shapes(a)))
    st, lst = call("GET", "/api/models")
    by = {x["name"]: x for x in lst["models"]} if st == 200 else {}
    check("a" in by and shapes(by["a"]) == shapes(a), "serve: model a keeps the session it loaded")
    # overwritten in place with garbage
    with open(tmp + "/mroot/m.onnx", "r+b") as f:
        f.write(os.urandom(4096))
    st, c = call("POST", "/api/models", {"name": "c", "path": "m.onnx", "providers": ["cpu"]})
    check(st in (400, 422) and "m.onnx" in json.dumps(c),
          "serve: the file overwritten with garbage gives %d naming it, not a cached session: %s" % (
              st, json.dumps(c)[:160]))
finally:
    p.send_signal(signal.SIGTERM)
    p.wait(60)
sys.exit(1 if fails else 0)
PY
if [[ $? == 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
