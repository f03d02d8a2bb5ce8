#!/usr/bin/env bash
# test_soak.sh - a soak run: the plate graph on the CPU over a looped clip for VG_SOAK_SECONDS
# (default 120, warm-up VG_SOAK_WARMUP = 40) with `vidgraph run --duration`. The clip is the first
# 20 frames of the sample video at 640x360, so that even a slow machine loops it several times
# and every shape the models see is seen in the warm-up (ONNX Runtime's arenas grow until then).
# Then the soak section of summary.json is checked: at least two loops before the end of the
# warm-up, frames kept coming after it, RSS growth after the warm-up at most
# VG_SOAK_MAX_RSS_PCT (default 5: ASan's allocator and quarantine are noisy; `make soak` runs the
# release build with 1), no open files or threads gained after the warm-up, pools flat, and no
# sanitizer report or leak at exit. In sanitizer builds it is the CI soak (ctest label asan);
# `make soak` runs the long version on the release build.
set -euo pipefail
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
: "${VG_BIN:?VG_BIN must point at the vidgraph binary}"
secs=${VG_SOAK_SECONDS:-120}
warmup=${VG_SOAK_WARMUP:-40}
max_pct=${VG_SOAK_MAX_RSS_PCT:-5}
out=${VG_SOAK_OUT:-$(mktemp -d /tmp/vg_soak.XXXXXX)}
mkdir -p "$out"
[ -f samples/plates.mp4 ] || { echo "test_soak: samples/plates.mp4 missing (scripts/setup.sh)"; exit 77; }
clip_frames=20
ffmpeg -v error -y -i samples/plates.mp4 -frames:v $clip_frames -vf scale=640:360 -c:v libx264 \
  -g 10 -pix_fmt yuv420p "$out/clip.mp4" </dev/null
# A small quarantine: ASan's default (256 MB of freed blocks held back) reads as RSS growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
set +e
"$VG_BIN" run examples/plates.yaml --input "$out/clip.mp4" --device cpu \
  --set nodes.video.params.loop=true --duration "$secs" --warmup "$warmup" --output "$out" --quiet \
  >"$out/stdout.txt" 2>"$out/stderr.txt"
rc=$?
set -e
if [ $rc -ne 0 ] || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$out/stderr.txt"; then
  echo "test_soak: vidgraph run exited $rc"; tail -n 30 "$out/stderr.txt"; exit 1
fi
# Exit 77 (skipped) only when the machine was too slow to reach two loops of the clip in time;
# the run's success, sanitizer/leak reports and file/thread counts are checked in any case.
/usr/bin/python3 - "$out/summary.json" "$secs" "$max_pct" "$clip_frames" <<'PY'
import json, sys
path, secs, max_pct, clip = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = json.load(open(path))
k = s.get("soak")
if not k:
    sys.exit("test_soak: summary.json has no soak section")
smp = k["samples"]
mb = lambda b: b / 1048576
print("test_soak: %.0fs, %d samples, %d frames; RSS %.0f MB -> %.0f MB after warm-up (%.0fs) -> "
      "%.0f MB (%+.2f%%), peak %.0f MB; fds %+d, threads %+d, pools %+d bytes" % (
      k["duration_sec"], len(smp), smp[-1]["frames_done"], mb(k["rss_start_bytes"]),
      mb(k["rss_after_warmup_bytes"]), k["warmup_sec"], mb(k["rss_end_bytes"]),
      k["rss_growth_pct_after_warmup"], mb(k["rss_peak_bytes"]), k["fd_growth_after_warmup"],
      k["thread_growth_after_warmup"], k["pool_growth_bytes_after_warmup"]))
bad = []
if s.get("state") != "succeeded":
    bad.append("state %s: %s" % (s.get("state"), s.get("error")))
if k["duration_sec"] < 0.8 * secs:
    bad.append("ran %.0fs of %.0fs" % (k["duration_sec"], secs))
if len(smp) < 10:
    bad.append("only %d samples" % len(smp))
# The warm-up that matters is two loops of the clip (every shape seen), however long that takes
# on this machine: growth is measured from the first sample after the later of the two.
warm = [x for x in smp if x["t_sec"] >= k["warmup_sec"] and x["frames_done"] >= 2 * clip]
growth = None
too_slow = len(warm) < 2 or warm[-1]["t_sec"] - warm[0]["t_sec"] < 0.25 * secs
if too_slow:
    print("test_soak: two loops of the clip (%d frames) took more than 3/4 of the run (%d frames "
          "in %.0fs): this machine is too loaded to measure growth; raise VG_SOAK_SECONDS" %
          (2 * clip, smp[-1]["frames_done"], k["duration_sec"]))
else:
    growth = (warm[-1]["rss_bytes"] - warm[0]["rss_bytes"]) * 100.0 / warm[0]["rss_bytes"]
    print("test_soak: after two loops (frame %d, %.0fs): RSS %+.2f%% over %.0fs, %d frames" % (
        warm[0]["frames_done"], warm[0]["t_sec"], growth, warm[-1]["t_sec"] - warm[0]["t_sec"],
        warm[-1]["frames_done"] - warm[0]["frames_done"]))
    if warm[-1]["frames_done"] <= warm[0]["frames_done"]:
        bad.append("no frames done after the warm-up")
if growth is not None and growth > max_pct:
    bad.append("RSS grew %.2f%% after the warm-up (limit %g%%)" % (growth, max_pct))
if k["fd_growth_after_warmup"] > 0:
    bad.append("%d file descriptors gained after the warm-up" % k["fd_growth_after_warmup"])
if k["thread_growth_after_warmup"] > 0:
    bad.append("%d threads gained after the warm-up" % k["thread_growth_after_warmup"])
if k["pool_growth_bytes_after_warmup"] > 64 << 20:
    bad.append("pools grew %d bytes after the warm-up" % k["pool_growth_bytes_after_warmup"])
if bad:
    sys.exit("test_soak: " + "; ".join(bad))
if too_slow:
    sys.exit(77)  # skipped: the run, its exit, leaks and file/thread counts were still checked
PY
