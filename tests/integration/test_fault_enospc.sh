#!/usr/bin/env bash
# test_fault_enospc.sh - a sink whose disk fills (issue 15, faults): a graph with every kind of
# file sink (source -> json_sink JSON lines, video_sink MP4, jpeg_sink snapshots of every frame;
# the events sink writes through the same JSON-lines writer as json_sink) writes its output folder
# and summary.json onto a small tmpfs, for several sizes so that each file in turn is the one that
# hits ENOSPC (at the first bytes, in the middle of the MP4, of the lines, of a snapshot, at the
# summary). The filesystem is real (no
# shim: libavformat, libjpeg and stdio all see the same errno); the test runs itself in a private
# mount namespace (`unshare -m` as root, `unshare -rm` otherwise) and skips (77) where neither is
# allowed. Each run must:
#   - fail cleanly: exit 1 within 120 s, a stderr line naming the file under the full disk with
#     "No space left on device";
#   - leave nothing half-written (tests/integration/check_outputs.py): summary.json valid with
#     state "failed" or absent (it may be the file that did not fit), the MP4 absent or playable,
#     every events.jsonl line whole, every snapshot a complete JPEG, no temporary file.
# A run with room enough succeeds (the control).
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root" || exit 1
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }
if [[ -z "${VG_ENOSPC_NS:-}" ]]; then
  for how in "-m" "-rm"; do
    if unshare $how true 2>/dev/null; then
      VG_ENOSPC_NS=1 exec unshare $how bash "$0" "$@"
    fi
  done
  echo "SKIP: cannot create a private mount namespace (unshare -m / -rm) for a small tmpfs"
  exit 77
fi
for t in ffmpeg ffprobe python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -f samples/people.mp4 ] || { echo "SKIP: samples/people.mp4 missing (scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d /tmp/vg_enospc_XXXXXX)
trap 'umount "$tmp"/disk_* 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

ffmpeg -nostdin -loglevel error -y -i samples/people.mp4 -frames:v 24 -vf scale=640:360 \
  -c:v libx264 -g 8 -pix_fmt yuv420p "$tmp/clip.mp4" || { echo "FAIL: ffmpeg"; exit 1; }
cat >"$tmp/sinks.yaml" <<YAML
nodes:
  - {id: video, type: source, params: {url: $tmp/clip.mp4, decoder: cpu}}
  - {id: lines, type: json_sink, params: {path: frames.jsonl, flush: false}}
  - {id: annotated, type: video_sink, params: {path: annotated.mp4, block: true}}
  - {id: snapshots, type: jpeg_sink, params: {path: snapshots, every: 1}}
edges: [video -> lines, video -> annotated, video -> snapshots]
YAML
run_args=(run "$tmp/sinks.yaml" --device cpu --quiet)

# the control, on the ordinary disk: how much does a whole run write?
"$bin" "${run_args[@]}" --output "$tmp/full" >"$tmp/full.log" 2>&1
rc=$?
total=$(du -sb "$tmp/full" | cut -f1)
if [[ $rc == 0 ]] && res=$(python3 tests/integration/check_outputs.py "$tmp/full" 0); then
  ok "room enough: exit 0, $total bytes written: $res"
else
  bad "control run: exit $rc: $(tail -3 "$tmp/full.log")"; exit 1
fi

# disks from 4 KiB (nothing fits) to a little less than the whole output
for kb in ${VG_ENOSPC_SIZES:-4 16 64 256 $((total / 2048)) $((total * 3 / 4096)) $((total * 9 / 10240))}; do
  d="$tmp/disk_$kb"
  mkdir -p "$d"
  mount -t tmpfs -o size=${kb}k tmpfs "$d" || { bad "mount tmpfs ${kb}k"; continue; }
  o="$d/out"
  timeout -s KILL 120 "$bin" "${run_args[@]}" --output "$o" >"$d.log" 2>&1
  rc=$?
  line=$(grep -m1 "No space left on device" "$d.log")
  if [[ $rc == 137 ]]; then
    bad "${kb} KiB: still running after 120 s (hang)"
  elif [[ $rc != 1 ]]; then
    bad "${kb} KiB: exit $rc (want 1): $(grep -v -e '^---' -e Suppressions -e 'count  *bytes' -e '^ *[0-9]' "$d.log" | tail -3)"
    ls -la "$o" | head
  elif [[ "$line" != *"$d"* ]]; then
    bad "${kb} KiB: no error line naming a file under $d with ENOSPC: $(tail -3 "$d.log")"
  elif res=$(ALLOW_NO_SUMMARY=1 python3 tests/integration/check_outputs.py "$o" 1); then
    ok "${kb} KiB: exit 1, '${line:0:160}', $res"
  else
    bad "${kb} KiB: $res"
  fi
  umount "$d"
done
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
