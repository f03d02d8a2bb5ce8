#!/usr/bin/env bash
# test_soak.sh - a soak run: the plate graph on the CPU over the looped sample video for
# VG_SOAK_SECONDS (default 90) with `vidgraph run --duration`, then the soak section of
# summary.json is checked: frames kept coming, RSS growth after the warm-up at most
# VG_SOAK_MAX_RSS_PCT (default 5: ASan's allocator and quarantine are noisy; `make soak` runs the
# release build with 1), no open files or threads gained after the warm-up, pools flat, and no
# sanitizer report or leak at exit. In sanitizer builds it is the CI soak (ctest label asan);
# `make soak` runs the long version on the release build.
set -euo pipefail
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
: "${VG_BIN:?VG_BIN must point at the vidgraph binary}"
secs=${VG_SOAK_SECONDS:-90}
max_pct=${VG_SOAK_MAX_RSS_PCT:-5}
out=${VG_SOAK_OUT:-$(mktemp -d /tmp/vg_soak.XXXXXX)}
mkdir -p "$out"
[ -f samples/plates.mp4 ] || { echo "test_soak: samples/plates.mp4 missing (scripts/setup.sh)"; exit 77; }
# A small quarantine: ASan's default (256 MB of freed blocks held back) reads as RSS growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
set +e
"$VG_BIN" run examples/plates.yaml --input samples/plates.mp4 --device cpu \
  --set nodes.video.params.loop=true --duration "$secs" --output "$out" --quiet \
  >"$out/stdout.txt" 2>"$out/stderr.txt"
rc=$?
set -e
if [ $rc -ne 0 ] || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$out/stderr.txt"; then
  echo "test_soak: vidgraph run exited $rc"; tail -n 30 "$out/stderr.txt"; exit 1
fi
/usr/bin/python3 - "$out/summary.json" "$secs" "$max_pct" <<'PY'
import json, sys
path, secs, max_pct = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
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
if k["duration_sec"] < 0.9 * secs:
    bad.append("ran %.0fs of %.0fs" % (k["duration_sec"], secs))
if len(smp) < 10:
    bad.append("only %d samples" % len(smp))
warm = [x for x in smp if x["t_sec"] >= k["warmup_sec"]]
if len(warm) < 2 or warm[-1]["frames_done"] <= warm[0]["frames_done"]:
    bad.append("no frames done after the warm-up")
if k["rss_growth_pct_after_warmup"] > max_pct:
    bad.append("RSS grew %.2f%% after the warm-up (limit %g%%)" % (k["rss_growth_pct_after_warmup"], max_pct))
if k["fd_growth_after_warmup"] > 0:
    bad.append("%d file descriptors gained after the warm-up" % k["fd_growth_after_warmup"])
if k["thread_growth_after_warmup"] > 0:
    bad.append("%d threads gained after the warm-up" % k["thread_growth_after_warmup"])
if k["pool_growth_bytes_after_warmup"] > 64 << 20:
    bad.append("pools grew %d bytes after the warm-up" % k["pool_growth_bytes_after_warmup"])
if bad:
    sys.exit("test_soak: " + "; ".join(bad))
PY
