#!/usr/bin/env bash
# test_sample_make.sh - scripts/make_sample.sh: the video's size and decoded frame count
# (ffprobe -count_frames, MP4 and Annex-B copy) match the truth file; the truth follows the
# rules the demo relies on (checked here independently of the generator); the truth boxes match
# the pixels (verify_plates.py); a second run is a no-op; --force reproduces the same bytes;
# perfect events built from the truth score 100% with eval_plates.py.
set -u
export PYTHONDONTWRITEBYTECODE=1
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
for t in ffmpeg ffprobe python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x /usr/bin/convert ] || { echo "SKIP: /usr/bin/convert (imagemagick) not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
S=$T/s

scripts/make_sample.sh "$S" 2>"$T/err1" || { cat "$T/err1"; echo "FAIL - make_sample.sh failed"; exit 1; }
for f in plates.mp4 plates.h264 plates_truth.json; do
  [ -s "$S/$f" ] && ok "$f written" || bad "$f missing"
done

# Size and frame count from ffprobe against the truth file.
W=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["width"])' "$S/plates_truth.json")
H=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["height"])' "$S/plates_truth.json")
N=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["frames"])' "$S/plates_truth.json")
[ "$W,$H,$N" = "1280,720,300" ] && ok "truth says 1280x720, 300 frames" || bad "truth says ${W}x$H, $N frames"
for f in plates.mp4 plates.h264; do
  got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries \
    stream=codec_name,width,height,nb_read_frames,pix_fmt -of csv=p=0 "$S/$f")
  [ "$got" = "h264,$W,$H,yuv420p,$N" ] && ok "$f: $got" || bad "$f: ffprobe says '$got', want 'h264,$W,$H,yuv420p,$N'"
done
rate=$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$S/plates.mp4")
[ "$rate" = "25/1" ] && ok "25 fps" || bad "frame rate $rate"
bf=$(ffprobe -v error -select_streams v:0 -show_entries stream=has_b_frames -of csv=p=0 "$S/plates.mp4")
[ "$bf" = "0" ] && ok "no B-frames" || bad "has_b_frames=$bf"

# The truth's rules, checked on the file alone.
python3 - "$S/plates_truth.json" >"$T/rules" 2>&1 <<'EOF' && ok "truth rules hold" || { bad "truth rules"; cat "$T/rules"; }
import json, re, sys
t = json.load(open(sys.argv[1]))
W, H, N, fps = t["width"], t["height"], t["frames"], t["fps"]
P = t["plates"]
assert 8 <= len(P) <= 12, "%d plates" % len(P)
assert len({p["text"] for p in P}) == len(P), "texts not distinct"
for p in P:
    s = p["text"]
    assert re.fullmatch(r"[A-Z0-9]+( [A-Z0-9]+)?", s) and 5 <= len(s) <= 8, s
    a, b, fa, fb = p["first_frame"], p["last_frame"], p["full_first_frame"], p["full_last_frame"]
    assert 0 <= a <= fa <= fb <= b < N, (s, a, fa, fb, b)
    assert 2 * fps <= b - a + 1 <= 4 * fps, (s, "visible", b - a + 1)
    assert 2 * (fb - fa + 1) > b - a + 1, (s, "not mostly fully visible")
    assert sorted(int(k) for k in p["boxes"]) == list(range(a, b + 1)), (s, "box frames")
    assert 36 <= p["text_height"] <= 64 and -6 <= p["angle_deg"] <= 6, s
    for k, (x1, y1, x2, y2) in p["boxes"].items():
        f = int(k)
        assert 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H, (s, f)
        full = x1 > 0 and y1 > 0 and x2 < W and y2 < H
        if fa <= f <= fb:
            assert x2 - x1 > 150 and y2 - y1 > 40, (s, f, "box too small")
        elif full:
            raise AssertionError((s, f, "box fully inside outside the full range"))
for f in range(N):
    on = [p for p in P if str(f) in p["boxes"]]
    assert len(on) <= 3, (f, len(on))
    for i in range(len(on)):
        for j in range(i + 1, len(on)):
            a, b = on[i]["boxes"][str(f)], on[j]["boxes"][str(f)]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (f, "overlap")
print("rules ok")
EOF

# Boxes against pixels (independent decode of the video).
python3 scripts/sample_lib/verify_plates.py "$S" >"$T/v" 2>&1 && ok "truth boxes match the pixels" || { bad "verify_plates"; cat "$T/v"; }

# Idempotent: the second run does nothing.
before=$(stat -c %Y.%s "$S/plates.mp4")
scripts/make_sample.sh "$S" 2>"$T/err2" || bad "second run failed"
grep -q "up to date" "$T/err2" && [ "$(stat -c %Y.%s "$S/plates.mp4")" = "$before" ] \
  && ok "second run skipped" || bad "second run did not skip: $(cat "$T/err2")"

# Deterministic: --force regenerates the same truth and video bytes.
sums=$(cd "$S" && md5sum plates.mp4 plates.h264 plates_truth.json)
sleep 1
scripts/make_sample.sh "$S" --force 2>"$T/err3" || bad "--force run failed: $(cat "$T/err3")"
grep -q "wrote" "$T/err3" && ok "--force regenerated" || bad "--force did not regenerate"
[ "$(cd "$S" && md5sum plates.mp4 plates.h264 plates_truth.json)" = "$sums" ] \
  && ok "--force gives identical files" || bad "--force output differs"

# Bad arguments.
scripts/make_sample.sh "$S" --bogus 2>"$T/err4"; rc=$?
[ $rc = 2 ] && grep -q "unknown argument" "$T/err4" && ok "unknown option rejected" || bad "unknown option: rc=$rc"

# Perfect events from the truth score 100% with no duplicates or false reports.
python3 - "$S/plates_truth.json" >"$T/events.jsonl" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
for i, p in enumerate(t["plates"]):
    print(json.dumps({"type": "track", "track_id": i, "text": p["text"], "confidence": 0.9,
                      "first_frame": p["full_first_frame"], "last_frame": p["full_last_frame"],
                      "stream_id": 0, "box": p["boxes"][str(p["full_first_frame"])],
                      "box_frame": p["full_first_frame"]}))
EOF
python3 scripts/eval_plates.py --truth "$S/plates_truth.json" --events "$T/events.jsonl" \
  --min-rate 1 --max-duplicates 0 --max-false 0 >"$T/e" 2>&1 && ok "perfect events score 100%" \
  || { bad "eval of perfect events"; cat "$T/e"; }

echo "test_sample_make: $fails failure(s)"
[ "$fails" = 0 ]
