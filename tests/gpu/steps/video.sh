# video.sh - NVDEC throughput (sourced by run_gpu.sh; issue 12 item 6, docs/PERF.md "video").
# bench_video_nvdec with 1, 2, 4, 7, 8, 16 parallel sessions on two 1080p H.264 clips: the 60-frame
# testsrc2 clip of the earlier tables and a 360-frame camera-bitrate clip (few loops). Then one
# 8-session run with `nvidia-smi dmon -s u` sampling the decoder (dec) column and a
# `nvidia-smi -q -d UTILIZATION` snapshot taken in the middle of it: the utilisation next to the
# fps. Then the experiment knobs of src/video/dec_nvdec.c, one at a time, 8 sessions each.
NVDEC_SHORT=tests/fixtures-gpu/h264_1920x1080_bench.h264
NVDEC_LONG=tests/fixtures-gpu/h264_1920x1080_long.h264
step bench-video-nvdec "$BUILD/bench_video_nvdec" "$NVDEC_SHORT" --sessions 1,2,4,7,8,16 --frames 600
step bench-video-nvdec-long "$BUILD/bench_video_nvdec" "$NVDEC_LONG" --sessions 1,2,4,7,8,16 --frames 720

# nvdec_util SESSIONS FRAMES: the bench under dmon; prints fps and the dec column's mean/max
nvdec_util() {
  local n=$1 frames=$2 dmon="$OUT/nvdec-dmon.txt" q="$OUT/nvdec-util-q.txt" dpid bpid rc
  command -v nvidia-smi >/dev/null || { echo "no nvidia-smi"; return 77; }
  nvidia-smi dmon -s u -c 120 > "$dmon" 2>&1 &
  dpid=$!
  sleep 2
  "$BUILD/bench_video_nvdec" "$NVDEC_LONG" --sessions "$n" --frames "$frames" > "$OUT/nvdec-util.json" &
  bpid=$!
  sleep 4
  nvidia-smi -q -d UTILIZATION > "$q" 2>&1
  wait $bpid
  rc=$?
  sleep 1
  kill $dpid 2>/dev/null
  wait $dpid 2>/dev/null
  cat "$OUT/nvdec-util.json" "$dmon" "$q"
  python3 - "$OUT/nvdec-util.json" "$dmon" "$q" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
r = j["results"][0] if j.get("results") else {}
cols, dec = None, []
for line in open(sys.argv[2]):
    f = line.split()
    if line.startswith("#") and "dec" in f:
        cols = [c for c in f if c != "#"]
    elif cols and f and not line.startswith("#") and f[0] == "0" and len(f) >= len(cols):
        v = f[cols.index("dec")]
        if v.isdigit():
            dec.append(int(v))
busy = [v for v in dec if v > 0]
q = open(sys.argv[3]).read()
m = re.search(r"Decoder\s*:\s*(\d+)\s*%", q)
print("dmon dec samples: %s" % dec)
print("KEY: %d sessions %.0f fps; dmon dec mean %.0f%% max %d%% over %d busy s; -q Decoder %s%%" % (
    r.get("sessions", 0), r.get("total_fps", 0), sum(busy) / len(busy) if busy else 0,
    max(dec) if dec else -1, len(busy), m.group(1) if m else "?"))
PY
  return $rc
}
step nvdec-utilisation-8 nvdec_util 8 2160
step nvdec-utilisation-16 nvdec_util 16 1080

# one knob at a time, 8 sessions (the KEY line echoes the knob)
step nvdec-knob-recreate-short env VG_NVDEC_RECREATE=1 "$BUILD/bench_video_nvdec" "$NVDEC_SHORT" --sessions 1,8 --frames 600
for dd in 0 1 2 8; do
  step nvdec-knob-delay$dd env VG_NVDEC_DISPLAY_DELAY=$dd "$BUILD/bench_video_nvdec" "$NVDEC_LONG" --sessions 1,8 --frames 720
done
step nvdec-knob-own-context env VG_NVDEC_CONTEXT=own "$BUILD/bench_video_nvdec" "$NVDEC_LONG" --sessions 1,8 --frames 720
step nvdec-knob-deint-adaptive env VG_NVDEC_DEINTERLACE=adaptive "$BUILD/bench_video_nvdec" "$NVDEC_LONG" --sessions 1,8 --frames 720
step video-probe "$VG_BIN" probe tests/fixtures-gpu/h264_1920x1080_bench.h264 --count --json
