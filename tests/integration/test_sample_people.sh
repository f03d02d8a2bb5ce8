#!/usr/bin/env bash
# test_sample_people.sh - scripts/make_people_sample.sh: size and decoded frame count of the
# MP4 and the Annex-B copy match the truth; the truth's crossings and counts agree with a
# recomputation from its own boxes; paths are straight; the boxes match the pixels; second run
# is a no-op; --force reproduces the same bytes.
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
S=$T/p

scripts/make_people_sample.sh "$S" 2>"$T/err1" || { cat "$T/err1"; echo "FAIL - make_people_sample.sh failed"; exit 1; }
TR=$S/people_truth.json
for f in people.mp4 people.h264 people_truth.json; do
  [ -s "$S/$f" ] && ok "$f written" || bad "$f missing"
done
want=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print("h264,%d,%d,yuv420p,%d" % (t["width"], t["height"], t["frames"]))' "$TR")
[ "$want" = "h264,1920,1080,yuv420p,250" ] && ok "truth says 1920x1080, 250 frames" || bad "truth says $want"
for f in people.mp4 people.h264; do
  got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries \
    stream=codec_name,width,height,nb_read_frames,pix_fmt -of csv=p=0 "$S/$f")
  [ "$got" = "$want" ] && ok "$f: $got" || bad "$f: ffprobe says '$got', want '$want'"
done

# Crossings recomputed from the boxes (centre anchor), counts, straight paths.
python3 - "$TR" >"$T/rules" 2>&1 <<'EOF' && ok "crossings, counts and paths agree with the boxes" || { bad "truth rules"; cat "$T/rules"; }
import json, sys
t = json.load(open(sys.argv[1]))
L = t["line"]["y1"]
assert t["line"]["y1"] == t["line"]["y2"], "line not horizontal"
counts = {"down": 0, "up": 0}
crossing_figures = 0
for g in t["figures"]:
    frames = sorted(int(k) for k in g["boxes"])
    assert frames == list(range(g["first_frame"], g["last_frame"] + 1)), g["id"]
    mine, prev = [], None
    for f in range(g["full_first_frame"], g["full_last_frame"] + 1):
        x1, y1, x2, y2 = g["boxes"][str(f)]
        side = (y1 + y2) / 2.0 >= L
        if prev is not None and side != prev:
            mine.append({"anchor": "center", "frame": f, "direction": "down" if side else "up"})
        prev = side
    theirs = [c for c in g["crossings"] if c["anchor"] == "center"]
    assert mine == theirs, (g["id"], mine, theirs)
    for c in mine:
        counts[c["direction"]] += 1
    crossing_figures += bool(mine)
    # straight path: centres on the line from path.from to path.to (within 1.5 px)
    (fx, fy), (tx, ty) = g["path"]["from"], g["path"]["to"]
    a, b = g["first_frame"], g["last_frame"]
    for f in range(g["full_first_frame"], g["full_last_frame"] + 1):
        x1, y1, x2, y2 = g["boxes"][str(f)]
        u = (f - a) / float(b - a)
        ex, ey = fx + (tx - fx) * u, fy + (ty - fy) * u
        assert abs((x1 + x2) / 2.0 - ex) <= 1.5 and abs((y1 + y2) / 2.0 - ey) <= 1.5, (g["id"], f)
assert counts == t["expected_counts"]["center"], (counts, t["expected_counts"])
assert counts["down"] >= 2 and counts["up"] >= 2, counts
assert crossing_figures < len(t["figures"]), "every figure crosses: no negative case"
print("ok", counts)
EOF

python3 -c '
import json, sys
sys.path.insert(0, "scripts/sample_lib")
import people
t = json.load(open(sys.argv[1] + "/people_truth.json"))
p = people.check_pixels(sys.argv[1], t)
print("\n".join(p))
sys.exit(1 if p else 0)' "$S" >"$T/pix" 2>&1 && ok "truth boxes match the pixels" || { bad "pixel check"; cat "$T/pix"; }

before=$(stat -c %Y.%s "$S/people.mp4")
scripts/make_people_sample.sh "$S" 2>"$T/err2" || bad "second run failed"
grep -q "up to date" "$T/err2" && [ "$(stat -c %Y.%s "$S/people.mp4")" = "$before" ] \
  && ok "second run skipped" || bad "second run did not skip: $(cat "$T/err2")"
sums=$(cd "$S" && md5sum people.mp4 people.h264 people_truth.json)
scripts/make_people_sample.sh "$S" --force 2>"$T/err3" || bad "--force failed: $(cat "$T/err3")"
[ "$(cd "$S" && md5sum people.mp4 people.h264 people_truth.json)" = "$sums" ] \
  && ok "--force gives identical files" || bad "--force output differs"

echo "test_sample_people: $fails failure(s)"
[ "$fails" = 0 ]
