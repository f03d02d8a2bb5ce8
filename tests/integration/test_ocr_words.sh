#!/usr/bin/env bash
# test_ocr_words.sh - PP-OCR reads rendered text exactly (issue 6): 60 images made here
# (scripts/sample_lib/ocr_words.py: 640x200, one line of dark text on a light background each;
# English words in mixed case, two-word phrases, numbers and plate-like strings with at most one
# space; ten DejaVu/Liberation fonts, 24..64 pt, some rotated by up to +-5 degrees, some noisy)
# go as an image folder through tests/integration/ocr_words.yaml (detector -> DBNet decode with
# line merging -> direction classifier -> recogniser -> CTC -> events.jsonl). The texts of each
# image, joined left to right with one space, must equal the rendered text exactly on at least
# 95% of the images (OCR_MIN_RATE overrides); every miss is printed and the last line is
#   RESULT: ocr words exact N/M = P%
# The run must succeed (summary.json state succeeded) and report every image.
# Skips (77) without the binary, python3, ImageMagick, the fonts or models/ppocr.
set -euo pipefail
root=${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${VG_BIN:-$root/build/vidgraph}
cd "$root"
[ -x "$bin" ] || { echo "SKIP: no vidgraph binary at $bin"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "SKIP: python3 not found"; exit 77; }
for m in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx \
  ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_keys_v1.txt; do
  [ -f "models/ppocr/$m" ] || { echo "SKIP: models/ppocr/$m missing (scripts/setup.sh fetches it)"; exit 77; }
done
[ -x /usr/bin/convert ] || { echo "SKIP: /usr/bin/convert (ImageMagick) not found"; exit 77; }
min_rate=${OCR_MIN_RATE:-95}

tmp=$(mktemp -d /tmp/vg_ocr_words_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/run.log" ] && tail -20 "$tmp/run.log"; exit 1; }

"$py" scripts/sample_lib/ocr_words.py "$tmp/imgs" "$tmp/truth.tsv" || fail "image generation failed"

"$bin" run tests/integration/ocr_words.yaml --input "$tmp/imgs" --output "$tmp/out" --json \
  >"$tmp/run.log" 2>&1 || fail "vidgraph run exited with $?"
[ -f "$tmp/out/events.jsonl" ] || fail "events.jsonl missing"
[ -f "$tmp/out/summary.json" ] || fail "summary.json missing"

"$py" - "$tmp/out" "$tmp/truth.tsv" "$min_rate" <<'EOF'
import json, sys
out, truth_path, min_rate = sys.argv[1], sys.argv[2], float(sys.argv[3])


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


s = json.load(open(out + "/summary.json"))
state = find(s, "state")
if state != "succeeded":
    sys.exit("FAIL: run state %r, error %r" % (state, find(s, "error")))
truth = [l.rstrip("\n").split("\t") for l in open(truth_path) if l.strip()]
m = len(truth)
done = find(s, "frames_done")
if done not in (m, m + 1):  # the images, possibly plus the end-of-stream packet
    sys.exit("FAIL: frames_done %r for %d images" % (done, m))
nodes = {n["id"]: n for n in find(s, "nodes") or []}
for nid in ("images", "det", "det_dec", "rec_crop", "rec", "read", "events"):
    if nid not in nodes:
        sys.exit("FAIL: node %s missing from the summary" % nid)
    if nodes[nid].get("errors", 0):
        sys.exit("FAIL: node %s had %r errors" % (nid, nodes[nid]["errors"]))

got = {}
for line in open(out + "/events.jsonl"):
    ev = json.loads(line)
    if ev.get("type") != "objects":
        sys.exit("FAIL: unexpected event %r" % ev)
    f = ev["frame"]
    if not isinstance(f, int) or not 0 <= f < m or f in got:
        sys.exit("FAIL: bad or repeated frame number %r (%d images)" % (f, m))
    objs = sorted(ev["objects"], key=lambda o: o["box"][0])
    got[f] = " ".join(o.get("text", "") for o in objs if o.get("text"))

ok = 0
for i, row in enumerate(truth):
    name, want = row[0], row[1]
    g = got.get(i, "")
    if g == want:
        ok += 1
    else:
        print("%s: want %r got %r  (%s, %s pt, angle %s)" % (name, want, g, row[2], row[3], row[4]))
rate = 100.0 * ok / m
print("RESULT: ocr words exact %d/%d = %.1f%%" % (ok, m, rate))
if rate < min_rate:
    sys.exit("FAIL: exact rate %.1f%% is below %.1f%%" % (rate, min_rate))
EOF
