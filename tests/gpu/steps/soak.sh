# soak.sh - the GPU soak (issue 15): the plate graph on NVDEC + CUDA over the looped elementary-
# stream sample for SOAK_SECONDS (default 60 to fit the session's device budget; the issue's
# 20-minute run is SOAK_SECONDS=1200)
# with `vidgraph run --duration`, then the soak section of summary.json: host RSS and used device
# memory (CUDA device 0, cudaMemGetInfo) from the first sample after the warm-up to the last one,
# open files, threads, pools. Growth is measured from the first sample after both the warm-up
# (SOAK_WARMUP, default half the run) and one whole pass of the sample (SOAK_PASS_FRAMES, 300
# frames in plates.h264: every input shape seen), else the step is skipped (77) saying so.
# SOAK_REALTIME=1 paces the source at the clip's rate (a camera's load, not the GPU's
# maximum); soak_sampler adds the per-process device memory from nvidia-smi every second, which
# the check prefers when other runs share the GPU (the check's comment below).
# Sourced by run_gpu.sh; ONLY=soak runs it alone.
#   PASS when the run succeeded on CUDA with NVDEC, frames kept coming after the warm-up, RSS and
#   device memory grew less than SOAK_MAX_PCT (default 1) percent after it, and no file or thread
#   was gained. KEY: fps, RSS and device memory at warm-up -> end with growth.
#
# One device call may run 10 minutes, so the 20-minute run goes in two steps, if the machine keeps
# a process started in the background between calls (check once with `setsid sleep 60 &`):
#   SOAK_DETACH=1 SOAK_SECONDS=1200 ONLY=soak tests/gpu/run_gpu.sh   starts it in SOAK_DIR
#       (default /var/tmp/vg/soak, kept while the machine is warm) and returns at once (SKIP);
#   SOAK_COLLECT=1 ONLY=soak tests/gpu/run_gpu.sh   in later calls (each within the machine's
#       idle time of the last) waits up to SOAK_WAIT seconds for it to end, then checks it as
#       above and copies its files to $OUT/soak; still running -> SKIP with the progress.
SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_WARMUP=${SOAK_WARMUP:-$((SOAK_SECONDS / 2))}
SOAK_PASS_FRAMES=${SOAK_PASS_FRAMES:-300}
SOAK_MAX_PCT=${SOAK_MAX_PCT:-1}
SOAK_DIR=${SOAK_DIR:-/var/tmp/vg/soak}
SOAK_WAIT=${SOAK_WAIT:-540}
SOAK_REALTIME=${SOAK_REALTIME:-0}
soak_cmd() { # DATA OUT: the soak run itself
  local rt=()
  [ "$SOAK_REALTIME" = 1 ] && rt=(--set nodes.video.params.realtime=true)
  "$VG_BIN" run examples/plates.yaml --input "$1/plates.h264" --device cuda \
    --set nodes.video.params.loop=true --set nodes.video.params.decoder=nvdec \
    --set nodes.annotated.params.required=false "${rt[@]}" \
    --duration "$SOAK_SECONDS" --warmup "$SOAK_WARMUP" --output "$2" --quiet \
    > "$2/stdout.txt" 2> "$2/stderr.txt"
}
# soak_sampler DIR: every second until DIR/rc exists (or the run's time + 10 min), the device's
# used memory (smi_dev.csv: unix time, MiB) and the per-process one (smi_apps.csv: unix time,
# pid, MiB; empty where the container hides the processes). The summary's device figure is
# cudaMemGetInfo, i.e. the whole device: when other runs share the GPU (a soak in the background
# of benchmarks), the check uses these instead (see the check's comment below).
soak_sampler() {
  local dir=$1 t0=$SECONDS
  command -v nvidia-smi >/dev/null 2>&1 || return 0
  : > "$dir/smi_dev.csv"; : > "$dir/smi_apps.csv"
  while [ ! -f "$dir/rc" ] && [ $((SECONDS - t0)) -lt $((SOAK_SECONDS + 600)) ]; do
    local now; now=$(date +%s)
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null |
      head -n 1 | sed "s/^/$now,/" >> "$dir/smi_dev.csv"
    nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null |
      tr -d ' ' | sed "s/^/$now,/" >> "$dir/smi_apps.csv"
    [ -f "$dir/vgpid" ] || pgrep -n -f "run examples/plates.yaml --input $dir/plates.h264" \
      > "$dir/vgpid" 2>/dev/null || rm -f "$dir/vgpid"
    sleep 1
  done
}
soak_gpu() {
  local data=${DATA:-samples} out="$OUT/soak" rc
  [ -f "$data/plates.h264" ] || { echo "soak: $data/plates.h264 missing"; return 77; }
  mkdir -p "$out"
  if [ "${SOAK_DETACH:-0}" = 1 ]; then
    rm -rf "$SOAK_DIR"; mkdir -p "$SOAK_DIR"
    # a tree of its own: this call's copy of the repository may be gone before the models load
    mkdir -p "$SOAK_DIR/tree"
    cp -rL "$data/plates.h264" "$SOAK_DIR/"
    cp -r examples "$SOAK_DIR/tree/"
    ln -s "$(readlink -f models)" "$SOAK_DIR/tree/models"
    VG_BIN=$(readlink -f "$VG_BIN") SOAK_SECONDS=$SOAK_SECONDS SOAK_WARMUP=$SOAK_WARMUP \
      SOAK_REALTIME=$SOAK_REALTIME \
      setsid nohup bash -c "$(declare -f soak_cmd); cd '$SOAK_DIR/tree' && \
      soak_cmd '$SOAK_DIR' '$SOAK_DIR'; echo \$? > '$SOAK_DIR/rc'" > /dev/null 2>&1 < /dev/null &
    echo "$!" > "$SOAK_DIR/pid"
    SOAK_SECONDS=$SOAK_SECONDS setsid nohup bash -c "$(declare -f soak_sampler); \
      soak_sampler '$SOAK_DIR'" > /dev/null 2>&1 < /dev/null &
    echo "$!" > "$SOAK_DIR/sampler_pid"
    echo "KEY: soak started in the background for ${SOAK_SECONDS}s in $SOAK_DIR (pid $!): collect with SOAK_COLLECT=1"
    return 77
  fi
  if [ "${SOAK_COLLECT:-0}" = 1 ]; then
    [ -f "$SOAK_DIR/pid" ] || { echo "KEY: soak: nothing started in $SOAK_DIR (machine restarted?)"; return 1; }
    local t0=$SECONDS
    while [ ! -f "$SOAK_DIR/rc" ] && [ $((SECONDS - t0)) -lt "$SOAK_WAIT" ]; do
      kill -0 "$(cat "$SOAK_DIR/pid")" 2>/dev/null || break
      sleep 5
    done
    if [ ! -f "$SOAK_DIR/rc" ]; then
      if kill -0 "$(cat "$SOAK_DIR/pid")" 2>/dev/null; then
        echo "KEY: soak still running ($(tail -c 300 "$SOAK_DIR/stderr.txt" | tr '\n' ' '))"; return 77
      fi
      echo "KEY: soak: the background run is gone without an exit status (killed with the call?)"
      return 1
    fi
    cp "$SOAK_DIR"/*.json "$SOAK_DIR"/*.jsonl "$SOAK_DIR"/*.txt "$SOAK_DIR"/*.csv \
      "$SOAK_DIR"/vgpid "$SOAK_DIR"/rc "$out/" 2>/dev/null
    rc=$(cat "$SOAK_DIR/rc")
  else
    cp -L "$data/plates.h264" "$out/"
    soak_sampler "$out" & local smp=$!
    soak_cmd "$out" "$out"
    rc=$?
    echo "$rc" > "$out/rc"; wait "$smp"; rm -f "$out/plates.h264"
  fi
  tail -n 5 "$out/stderr.txt"
  [ "$rc" -eq 0 ] || { echo "soak: vidgraph run exited $rc"; tail -n 30 "$out/stderr.txt"; return 1; }
  python3 - "$out/summary.json" "$SOAK_SECONDS" "$SOAK_MAX_PCT" "$SOAK_PASS_FRAMES" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
secs, max_pct, pass_frames = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
k = s.get("soak")
if not k:
    sys.exit("soak: summary.json has no soak section")
smp = k["samples"]
warm = [x for x in smp if x["t_sec"] >= k["warmup_sec"] and x["frames_done"] >= pass_frames]
mb = lambda b: b / 1048576.0
bad = []
if s.get("state") != "succeeded":
    bad.append("state %s: %s" % (s.get("state"), s.get("error")))
if len(warm) < 2:
    print("KEY: soak SKIP: fewer than 2 samples after the warm-up and one pass (%d frames): "
          "%d frames in %.0fs; raise SOAK_SECONDS" % (pass_frames, smp[-1]["frames_done"] if smp else 0,
                                                       k["duration_sec"]))
    sys.exit(77)
a, b = warm[0], warm[-1]
rss_pct = (b["rss_bytes"] - a["rss_bytes"]) * 100.0 / a["rss_bytes"]
dev_pct = None
dev_how = "cudaMemGetInfo (whole device)"
if a["device_used_bytes"] > 0 and b["device_used_bytes"] >= 0:
    dev_pct = (b["device_used_bytes"] - a["device_used_bytes"]) * 100.0 / a["device_used_bytes"]
else:
    bad.append("no device memory samples (device_used_bytes %d): not a CUDA run?" % a["device_used_bytes"])
# nvidia-smi, every second (soak_sampler): the process's own device memory where the container
# shows processes, else the whole device's. Other runs on the GPU only ever add to the device's
# figure, so its minimum over a window is the soak's own use at the quietest moment of it: the
# growth is judged on the minimum of an early window (after the warm-up) against that of the
# last minute. Used instead of the summary's figure when it has samples in both windows.
import os
d = os.path.dirname(sys.argv[1])
def rows(name):
    try:
        return [l.strip().split(",") for l in open(os.path.join(d, name)) if l.strip()]
    except OSError:
        return []
try:
    t_end = os.path.getmtime(sys.argv[1])
except OSError:
    t_end = None
if t_end:
    t0 = t_end - k["duration_sec"]
    w0 = t0 + max(k["warmup_sec"], a["t_sec"])
    early = (w0, w0 + max(120.0, (k["duration_sec"] - (w0 - t0)) / 3))
    late = (t_end - 60, t_end)
    try:
        pid = open(os.path.join(d, "vgpid")).read().strip()
    except OSError:
        pid = ""
    apps = [(float(r[0]), float(r[2])) for r in rows("smi_apps.csv")
            if len(r) == 3 and r[1] == pid and r[2].replace(".", "").isdigit()]
    dev = [(float(r[0]), float(r[1])) for r in rows("smi_dev.csv")
           if len(r) == 2 and r[1].replace(".", "").isdigit()]
    for series, how in ((apps, "nvidia-smi, this process"),
                        (dev, "nvidia-smi, whole device, minimum per window")):
        e = [v for t, v in series if early[0] <= t <= early[1]]
        l = [v for t, v in series if late[0] <= t <= late[1]]
        if e and l:
            print("soak: device memory (%s): early window %d samples min %.0f MiB max %.0f; "
                  "last minute %d samples min %.0f MiB max %.0f" % (how, len(e), min(e), max(e),
                                                                   len(l), min(l), max(l)))
            dev_pct = (min(l) - min(e)) * 100.0 / min(e)
            dev_how = how
            break
prov = [n["detail"]["provider"] for n in s["nodes"] if n.get("detail", {}).get("provider")]
dec = [st["decoder"] for n in s["nodes"] if n["type"] == "source"
       for st in n.get("detail", {}).get("streams", [])]
frames = b["frames_done"] - a["frames_done"]
fps = frames / max(b["t_sec"] - a["t_sec"], 1e-9)
for x in smp[:: max(1, len(smp) // 12)] + [smp[-1]]:
    print("t=%6.1fs frames=%7d rss=%7.1f MB dev=%8.1f MB fds=%d threads=%d pools=%.1f/%.1f MB" % (
        x["t_sec"], x["frames_done"], mb(x["rss_bytes"]), mb(max(x["device_used_bytes"], 0)),
        x["open_fds"], x["threads"], mb(x["host_pool_in_use"] + x["host_pool_cached"]),
        mb(x["device_pool_in_use"] + x["device_pool_cached"])))
print("soak: device memory growth judged from %s" % dev_how)
print("soak: %.0fs (warm-up %.0fs), %d samples, providers %s, decoder %s, frame copies to host %d" % (
    k["duration_sec"], k["warmup_sec"], len(smp), ",".join(prov), ",".join(dec),
    s.get("frame_copies_to_host", -1)))
print("soak: after warm-up %.0fs -> %.0fs: %d frames (%.1f fps); RSS %.1f -> %.1f MB (%+.3f%%), peak %.1f MB; "
      "device %.1f -> %.1f MB (%s); fds %+d, threads %+d, pools %+d bytes" % (
      a["t_sec"], b["t_sec"], frames, fps, mb(a["rss_bytes"]), mb(b["rss_bytes"]), rss_pct,
      mb(k["rss_peak_bytes"]), mb(a["device_used_bytes"]), mb(b["device_used_bytes"]),
      "%+.3f%%" % dev_pct if dev_pct is not None else "n/a", k["fd_growth_after_warmup"],
      k["thread_growth_after_warmup"], k["pool_growth_bytes_after_warmup"]))
if k["duration_sec"] < 0.8 * secs:
    bad.append("ran %.0fs of %.0fs" % (k["duration_sec"], secs))
if frames <= 0:
    bad.append("no frames done after the warm-up")
if not any(p.lower() in ("cuda", "tensorrt") or "CUDA" in p or "Tensorrt" in p for p in prov):
    bad.append("no node ran on CUDA (%s)" % ",".join(prov))
if not any("nvdec" in d.lower() for d in dec):
    bad.append("decoder is not NVDEC (%s)" % ",".join(dec))
if rss_pct > max_pct:
    bad.append("RSS grew %.3f%% after the warm-up (limit %g%%)" % (rss_pct, max_pct))
if dev_pct is not None and dev_pct > max_pct:
    bad.append("device memory grew %.3f%% after the warm-up (limit %g%%)" % (dev_pct, max_pct))
if k["fd_growth_after_warmup"] > 0:
    bad.append("%d file descriptors gained" % k["fd_growth_after_warmup"])
if k["thread_growth_after_warmup"] > 0:
    bad.append("%d threads gained" % k["thread_growth_after_warmup"])
print("KEY: soak %.0fs %.0f fps, RSS %+.2f%%, device %s after warm-up%s" % (
    k["duration_sec"], fps, rss_pct, "%+.2f%%" % dev_pct if dev_pct is not None else "n/a",
    "" if not bad else " FAIL"))
if bad:
    sys.exit("soak: " + "; ".join(bad))
PY
}
step soak-gpu soak_gpu
