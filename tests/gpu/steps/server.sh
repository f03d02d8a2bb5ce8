# server.sh - `vidgraph serve` on the GPU machine (issue 14, sourced by run_gpu.sh after infer.sh
# made models/test): a live graph on NVDEC + CUDA, two streams added over the API, then what
# /api/system/info, /api/models, /api/streams and /metrics say: the GPU, the provider in use,
# TensorRT's fallback reason, fps, the driver release (NVML) and the JPEG encoder; frame.jpg and
# MJPEG of the live NVDEC frames are encoded with nvJPEG (counted as such, not as frame copies),
# and no frame crossed to the host.
server_gpu() {
  local log="$OUT/server-serve.log" port pid
  "$VG_BIN" serve --config tests/gpu/server/serve.yaml --listen 127.0.0.1:0 > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && break; sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; kill $pid; return 1; }
  python3 - "$port" "$OUT" <<'PY'
import json, re, sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
base = "http://127.0.0.1:%s" % port
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
        return json.loads(data) if r.headers.get("Content-Type", "").startswith("application/json") else data
for i in (1, 2):
    call("POST", "/api/streams", {"id": "cam%d" % i, "url": "plates.h264", "loop": True})
time.sleep(8)
info, models, streams = call("GET", "/api/system/info"), call("GET", "/api/models"), call("GET", "/api/streams")
jpeg = call("GET", "/api/streams/cam1/frame.jpg")
def mjpeg_parts(path, want):
    # reads `want` parts of the multipart stream: each a header block, then Content-Length bytes
    r = urllib.request.urlopen(base + path, timeout=60)
    parts = soi = 0
    try:
        for _ in range(want):
            head = b""
            while b"\r\n\r\n" not in head:
                c = r.read(1)
                if not c: return parts, soi
                head += c
            m = re.search(rb"Content-Length: (\d+)", head)
            body = r.read(int(m.group(1))) if m else b""
            parts += 1
            soi += body[:2] == b"\xff\xd8"
    finally:
        r.close()
    return parts, soi
mj_parts, mj_soi = mjpeg_parts("/api/streams/cam2/mjpeg", 5)
metrics = call("GET", "/metrics").decode()
json.dump({"info": info, "models": models, "streams": streams}, open(out + "/server-gpu.json", "w"), indent=1)
open(out + "/server-metrics.txt", "w").write(metrics)
for s in ("cam1", "cam2"):
    call("DELETE", "/api/streams/" + s)
gpu = info["gpus"][0]["name"] if info.get("gpus") else "none"
prov = {p["name"]: p for p in info["providers"]}
m = models["models"][0] if models["models"] else {}
trt = [f["reason"] for f in m.get("fallback_reasons", []) if "Tensorrt" in f.get("provider", "")]
fps = sum(s.get("fps", 0) for s in streams["streams"])
print("gpu:", gpu, "| model provider:", m.get("execution_provider"), "| io_binding:", m.get("io_binding"))
print("tensorrt:", trt[0][:160] if trt else prov.get("TensorrtExecutionProvider", {}).get("reason", "")[:160])
print("jpeg bytes:", len(jpeg))
copy_lines = [l for l in metrics.splitlines() if "cop" in l and not l.startswith("#")][:8]
print("\n".join(copy_lines))
def metric(name, labels=""):
    tot = 0.0
    for l in metrics.splitlines():
        if l.startswith(name + ("{" if labels else " ")) and labels in l:
            tot += float(l.rsplit(" ", 1)[1])
    return tot
nvj = metric("vidgraph_jpeg_encodes_total", 'path="nvjpeg"')
readback = metric("vidgraph_jpeg_encodes_total", 'path="readback"')
hits = metric("vidgraph_jpeg_cache_hits_total")
frame_copies = metric("vidgraph_copies_total", 'direction="frames_to_host"')
jbytes = metric("vidgraph_jpeg_gpu_bytes_to_host_total")
jinfo, drv = info.get("jpeg", {}), info.get("driver", {})
print("jpeg:", jinfo.get("summary"), "| nvjpeg encodes:", nvj, "| cache hits:", hits, "| readbacks:", readback,
      "| jpeg bytes to host:", jbytes, "| mjpeg parts:", mj_parts, mj_soi)
print("driver release:", drv.get("release"), drv.get("reason", ""), "| cuda driver api:",
      info["gpus"][0].get("cuda_driver_api") if info.get("gpus") else None)
print("frame copies to host:", frame_copies)
checks = {
    "gpu": gpu.startswith("NVIDIA"),
    "cuda provider": m.get("execution_provider") == "CUDAExecutionProvider",
    "frame.jpg": len(jpeg) > 1000 and jpeg[:2] == b"\xff\xd8",
    "mjpeg parts": mj_parts == 5 and mj_soi == 5,
    # 1 frame.jpg + 5 MJPEG parts: each encoded on the GPU or served from the stream's JPEG cache
    "jpeg on nvjpeg": jinfo.get("device_frames") == "nvjpeg" and nvj >= 2 and nvj + hits >= 6 and readback == 0,
    "jpeg bytes counted": jbytes > 1000,
    "no frame copies": frame_copies == 0,
    "driver release": bool(drv.get("release")),
}
for k, v in checks.items():
    print("%s %s" % ("PASS" if v else "FAIL", k))
ok = all(checks.values())
print("KEY: %s drv %s, det on %s, %.1f fps, %s x%d, 0 frame copies: %s" % (gpu, drv.get("release"), m.get("execution_provider"), fps, jinfo.get("device_frames"), nvj, frame_copies == 0))
sys.exit(0 if ok else 1)
PY
  local rc=$?
  kill -TERM $pid; wait $pid
  echo "serve exit: $?"; tail -3 "$log"
  return $rc
}
step server-gpu-live server_gpu

# jpeg_sink on NVDEC frames (`vidgraph run`): every snapshot is encoded by nvJPEG on the GPU, so
# the node counts no copy (a libjpeg snapshot of a device frame would count one read-back each).
jpeg_sink_gpu() {
  local dir="$OUT/jpeg-sink"
  mkdir -p "$dir"
  cat > "$dir/graph.yaml" <<YAML
nodes:
  - {id: video, type: source, params: {url: $PWD/tests/fixtures-gpu/h264_1920x1080_bench.h264, decoder: nvdec}}
  - {id: snap, type: jpeg_sink, params: {path: snaps, every: 10, quality: 85}}
edges: [video -> snap]
YAML
  "$VG_BIN" run "$dir/graph.yaml" --json --output "$dir" > "$dir/summary-stdout.json" || return 1
  python3 - "$dir/summary-stdout.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = [x for x in d["nodes"] if x["id"] == "snap"][0]
det = n["detail"]
print("snapshots:", det["written"], "| nvjpeg:", det["nvjpeg"], "| jpeg bytes to host:", det["jpeg_bytes_to_host"],
      "| node copies:", n["copies"], "| frame copies to host:", d["frame_copies_to_host"])
ok = det["written"] > 0 and det["nvjpeg"] == det["written"] and n["copies"] == 0 and d["frame_copies_to_host"] == 0
print("%s jpeg_sink on nvJPEG" % ("PASS" if ok else "FAIL"))
print("KEY: jpeg_sink %d snapshots, %d on nvJPEG, %d B to host, copies %d" % (det["written"], det["nvjpeg"], det["jpeg_bytes_to_host"], n["copies"]))
sys.exit(0 if ok else 1)
PY
}
step server-jpeg-sink-nvjpeg jpeg_sink_gpu
