#!/usr/bin/env bash
# test_video_probe.sh - `vidgraph probe`: text and JSON output, --count against ffprobe's own
# count, the decoder and its reason, and clear failures (exit 1, source named) for a missing
# file, garbage and an audio-only file. Fixtures from scripts/make_video_fixtures.sh.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }
command -v ffprobe >/dev/null || { echo "SKIP: ffprobe not installed"; exit 77; }
if ! "$bin" probe --help >/dev/null 2>&1; then echo "SKIP: this vidgraph has no probe"; exit 77; fi
fx="${VG_VIDEO_FIXTURES:-/tmp/vidgraph-video-fixtures}"
bash "$root/scripts/make_video_fixtures.sh" "$fx" >/dev/null || { echo "FAIL: fixtures"; exit 1; }

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# --count --json: frames equal ffprobe's decoded frame count, fields as ffprobe says
for f in h264_320x240.mp4 hevc_1366x768.mkv mpeg4_641x481.avi mpeg2_641x481.ts h264_raw.h264 \
  vfr.mkv truncated.mp4 corrupt.ts; do
  want=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames \
    -of csv=p=0 "$fx/$f" 2>/dev/null | head -1 | tr -d ',\n')
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 \
    "$fx/$f" 2>/dev/null | head -1 | cut -d, -f1,2 | tr ',' 'x' | tr -d '\n')
  out=$("$bin" probe "$fx/$f" --count --json 2>/dev/null)
  got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["frames"], "%dx%d" % (d["width"], d["height"]), d["decoder"]["name"], bool(d["decoder"]["reason"]))' <<<"$out")
  if [[ "$got" == "$want $size "*" True" ]]; then ok "$f: $got"; else bad "$f: got '$got', ffprobe '$want $size'"; fi
done

# the corrupt file reports skipped/concealed damage
n=$("$bin" probe "$fx/corrupt.ts" --count --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["corrupt_packets"] + d["concealed_frames"])')
if [[ "$n" -gt 0 ]]; then ok "corrupt.ts: $n damaged packets/frames counted"; else bad "corrupt.ts: nothing counted"; fi

# text output names the decoder and the reason
text=$("$bin" probe "$fx/h264_320x240.mp4")
if grep -q "^codec: *h264 (H.264) profile High" <<<"$text" && grep -q "^decoder:" <<<"$text" &&
  grep -q "^why:" <<<"$text"; then ok "text output"; else bad "text output: $text"; fi

# images
out=$("$bin" probe "$fx/images" --count --json)
got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["frames"], d["container"], d["width"])' <<<"$out")
if [[ "$got" == "3 image folder 65" ]]; then ok "image folder: $got"; else bad "image folder: $got"; fi

# failures: exit 1 and the source named on stderr
for f in no_such_file.mp4 garbage.mp4 empty.mp4 audio_only.wav; do
  err=$("$bin" probe "$fx/$f" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc == 1 && "$err" == *"$fx/$f"* ]]; then ok "$f: $err"; else bad "$f: rc $rc, '$err'"; fi
done
"$bin" probe 2>/dev/null
rc=$?
if [[ $rc == 2 ]]; then ok "no URL: usage, exit 2"; else bad "no URL: exit $rc"; fi
"$bin" probe "$fx/h264_raw.h264" --bogus 2>/dev/null
rc=$?
if [[ $rc == 2 ]]; then ok "unknown option: exit 2"; else bad "unknown option: exit $rc"; fi

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
