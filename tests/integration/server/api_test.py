#!/usr/bin/env python3
"""api_test.py - `vidgraph serve` over real HTTP on the loopback (standard library only).

Starts the server on a free port (--listen 127.0.0.1:0) with a token, the test config
(serve.yaml: the `detect` graph and the live `stream.yaml` graph) and temporary roots, then checks
every route: auth (missing/wrong token), malformed JSON, wrong types, oversized bodies, unknown
ids, path escapes (.., absolute, symlink), models (load/list/delete), runs (SSE events in order,
cancel, summary), streams (add two to the live graph, frame.jpg, MJPEG, filtered events, remove
one while the other goes on), /metrics (a text-format parser, plus `promtool check metrics` when
installed), a bounded load test (32 connections, fixed request count, zero errors, no growth of
open fds or RSS), --listen on IPv6 ([::1], dual-stack [::]) and bad addresses, and the SIGTERM
drain (exit 0, summaries written).

Usage: api_test.py VIDGRAPH_BIN [--only NAME]. Exit 0 = all passed."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.environ.get("VG_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
HERE = os.path.join(ROOT, "tests/integration/server")
TOKEN = "s3cret-token"
FAILS = []
PASSES = [0]


def check(cond, what):
    if cond:
        PASSES[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


class Server:
    def __init__(self, binary, tmp, extra=()):
        self.tmp = tmp
        self.out = os.path.join(tmp, "out")
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--token", TOKEN,
                "--config", os.path.join(HERE, "serve.yaml"), "--output-root", self.out,
                "--model-root", os.path.join(ROOT, "models"), "--model-root", os.path.join(tmp, "mroot"),
                "--media-root", os.path.join(ROOT, "samples"), "--media-root", os.path.join(tmp, "media"),
                "--max-body", "65536"] + list(extra)
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "server.log"), "w"),
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit("server did not start: %r (see %s/server.log)" % (line, tmp))
        self.port = int(m.group(1))

    def request(self, method, path, body=None, token=TOKEN, raw=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        ctype = r.getheader("Content-Type") or ""
        doc = None
        if "json" in ctype and payload:
            doc = json.loads(payload)
        return r.status, doc, payload, ctype

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def sse(self, path, until_event=None, max_events=100000, timeout=120, token=TOKEN):
        """Reads SSE messages until `until_event` (type) arrives, the stream ends or max_events."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
        r = c.getresponse()
        events, cur = [], {}
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = r.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line == "":
                if "event" in cur:
                    events.append(cur)
                    if cur["event"] == until_event or len(events) >= max_events:
                        break
                cur = {}
            elif line.startswith(":"):
                continue
            else:
                k, _, v = line.partition(": ")
                cur[k] = v
        c.close()
        for e in events:
            e["data"] = json.loads(e["data"])
        return r.status, r.getheader("Content-Type"), events

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def wait_for(fn, timeout=60, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


# ------------------------------------------------------------------ checks

def t_auth(s):
    st, doc, _, _ = s.get("/api/health", token=None)
    check(st == 200 and doc["status"] == "ok" and doc["version"] and doc["uptime_s"] >= 0, "health without token")
    for path in ("/api/system/info", "/api/models", "/api/runs", "/api/streams", "/metrics"):
        st, doc, _, _ = s.get(path, token=None)
        check(st == 401 and doc["error"] == "unauthorized", "%s without token -> 401 (%s)" % (path, st))
        st, doc, _, _ = s.get(path, token="wrong-token")
        check(st == 401, "%s with a wrong token -> 401 (%s)" % (path, st))
        st, _, _, _ = s.get(path, token=TOKEN[:-1])
        check(st == 401, "%s with a token prefix -> 401" % path)
    st, _, _, _ = s.get("/api/system/info?access_token=" + TOKEN, token=None)
    check(st == 401, "access_token query refused outside the SSE/MJPEG/JPEG routes")


def t_system(s):
    st, doc, _, _ = s.get("/api/system/info")
    check(st == 200, "system/info 200")
    names = [p["name"] for p in doc["providers"]]
    check(names == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], "providers listed: %s" % names)
    cpu = [p for p in doc["providers"] if p["name"] == "CPUExecutionProvider"][0]
    check(cpu["usable"] and cpu["reason"] == "", "CPU provider usable")
    for p in doc["providers"]:
        check(p["usable"] or len(p["reason"]) > 10, "unusable provider %s has a reason" % p["name"])
    check(doc["build"]["ffmpeg"] in (True, False) and "cuda" in doc["build"], "build flags")
    check(doc["cpu"]["cores"] >= 1 and doc["cpu"]["model"], "cpu facts")
    check(isinstance(doc["gpus"], list), "gpus list")
    check(doc["onnxruntime"]["version"].startswith("1."), "onnxruntime version")
    dec = {d["name"]: d for d in doc["decoders"]}
    check("nvdec" in dec and (dec["nvdec"]["usable"] or dec["nvdec"]["reason"]), "nvdec usable or why not")
    check(doc["uptime_s"] > 0, "uptime")
    for g in doc["gpus"]:
        check(g.get("cuda_driver_api") and "driver" not in g, "GPU %s names its CUDA driver API version honestly" % g.get("index"))
    drv = doc["driver"]
    check((drv["release"] and drv["reason"] == "") or (drv["release"] is None and ("libnvidia-ml.so.1" in drv["reason"] or "nvml" in drv["reason"])),
          "driver release or the NVML reason: %s" % drv)
    j = doc["jpeg"]
    check(j["device_frames"] in ("nvjpeg", "libjpeg"), "jpeg encoder named: %s" % j)
    if j["device_frames"] == "libjpeg":
        check(len(j["reason"]) > 10 and j["summary"] == "jpeg: libjpeg (%s)" % j["reason"], "libjpeg fallback with its reason: %s" % j)
    else:
        check(j["reason"] == "" and j["summary"].startswith("jpeg: nvjpeg"), "nvjpeg in use: %s" % j)


def t_bad_requests(s, tmp):
    st, doc, _, _ = s.post("/api/models", raw=b"{not json")
    check(st == 400 and doc["error"] == "bad_json", "malformed JSON -> 400 bad_json")
    st, doc, _, _ = s.post("/api/models", raw=b"[1,2]")
    check(st == 400 and "object" in doc["detail"], "non-object body -> 400")
    st, doc, _, _ = s.post("/api/models", raw=b"")
    check(st == 400, "empty body -> 400")
    st, doc, _, _ = s.post("/api/models", {"name": 5, "path": "test/tiny_mlp.onnx"})
    check(st == 400 and doc["detail"].startswith("name"), "wrong type names the field: %s" % (doc,))
    st, doc, _, _ = s.post("/api/models", {"name": "m", "path": "test/tiny_mlp.onnx", "providers": ["warp"]})
    check(st == 400 and "providers[0]" in doc["detail"], "bad provider names providers[0]")
    st, doc, _, _ = s.post("/api/models", {"name": "m", "path": "test/tiny_mlp.onnx", "precision": 16})
    check(st == 400 and doc["detail"].startswith("precision"), "wrong precision type")
    st, doc, _, _ = s.post("/api/models", {"name": "m", "path": "test/tiny_mlp.onnx", "color": "red"})
    check(st == 400 and "color" in doc["detail"], "unknown field named")
    big = json.dumps({"name": "m", "path": "x" * 100000}).encode()
    st, doc, _, _ = s.post("/api/models", raw=big)
    check(st == 413 and doc["error"] == "body_too_large", "oversized body -> 413 (%s)" % st)
    for p in ("../../../../etc/passwd", "/etc/passwd", "test/../../../etc/hostname", "evil.onnx", "test/../../samples/plates.mp4"):
        st, doc, _, _ = s.post("/api/models", {"name": "esc", "path": p})
        check(st in (400, 404) and doc["detail"].startswith("path"), "path escape %s refused (%s %s)" % (p, st, doc))
    st, doc, _, _ = s.post("/api/models", {"name": "esc", "path": "evil.onnx"})
    check(st == 400 and "outside" in doc["detail"], "symlink escape says outside: %s" % doc)
    for path in ("/api/runs/r999", "/api/streams/nope", "/api/runs/r999/events", "/api/nothing", "/api/models/x/y"):
        st, doc, _, _ = s.get(path)
        check(st == 404 and doc["error"], "%s -> 404" % path)
    st, doc, _, _ = s.delete("/api/models/nope")
    check(st == 404, "delete unknown model -> 404")
    st, doc, _, _ = s.request("PUT", "/api/models")
    check(st == 405, "PUT -> 405")
    st, doc, _, _ = s.get("/api/events?type=bogus")
    check(st == 400 and "bogus" in doc["detail"], "unknown event type -> 400")


def t_models(s):
    st, doc, _, _ = s.post("/api/models", {"name": "tiny", "path": "test/tiny_mlp.onnx", "providers": ["cpu"], "precision": "fp32"})
    check(st == 201, "model load 201 (%s %s)" % (st, doc))
    if st != 201:
        return
    for k in ("name", "path", "requested_providers", "execution_provider", "io_binding", "cuda_graph", "precision",
              "fallback_reasons", "inputs", "outputs", "load_ms", "runs", "latency_ms", "users"):
        check(k in doc, "MODEL has %s" % k)
    check(doc["execution_provider"] == "CPUExecutionProvider", "tiny on CPU")
    check(doc["inputs"][0]["name"] == "x" and doc["inputs"][0]["shape"] == [-1, 8], "inputs with dynamic dims")
    st, doc, _, _ = s.post("/api/models", {"name": "tiny", "path": "test/tiny_mlp.onnx"})
    check(st == 409, "duplicate name -> 409")
    st, doc, _, _ = s.get("/api/models")
    check(st == 200 and any(m["name"] == "tiny" for m in doc["models"]), "listed")
    st, _, _, _ = s.delete("/api/models/tiny")
    check(st == 204, "delete -> 204")
    st, doc, _, _ = s.get("/api/models")
    check(not any(m["name"] == "tiny" for m in doc["models"]), "gone after delete")


def t_runs(s):
    bad = [({"graph": "nope"}, 404), ({"graph": 3}, 400), ({"graph": "detect", "inputs": ["../../etc/passwd"]}, 400),
           ({"graph": "detect", "inputs": ["/etc/passwd"]}, 400), ({"graph": "detect", "inputs": [7]}, 400),
           ({"graph": "detect", "set": ["nodes.det.params.model=/etc/passwd"]}, 400),
           ({"graph": "detect", "inputs": [{"shm": {"shm_name": "/x"}}]}, 400),
           ({"graph": {"nodes": [{"id": "v", "type": "source", "params": {"url": "/etc/passwd"}}]}}, 400),
           ({"graph": {"nodes": [{"id": "o", "type": "json_sink", "params": {"path": "../../x.jsonl"}}]}}, 400),
           ({"graph": {"nodes": [{"id": "v", "type": "nosuchtype"}]}}, 400),
           ({"graph": "detect", "extra": 1}, 400)]
    for body, want in bad:
        st, doc, _, _ = s.post("/api/runs", body)
        check(st in (want, 404) and doc.get("detail"), "bad run %s -> %s (%s %s)" % (json.dumps(body)[:80], want, st, doc))
    st, doc, _, _ = s.post("/api/runs", {"graph": "detect", "inputs": ["plates.mp4"]})
    check(st == 201 and doc["id"], "run created (%s %s)" % (st, doc))
    rid = doc["id"]
    st, ctype, events = s.sse("/api/runs/%s/events" % rid, until_event="end")
    check(st == 200 and ctype.startswith("text/event-stream"), "SSE content type")
    ids = [int(e["id"]) for e in events]
    check(ids == sorted(ids) and len(set(ids)) == len(ids) and ids and ids[0] == 1, "SSE ids strictly increasing from 1")
    check(events and events[-1]["event"] == "end" and events[-1]["data"]["state"] == "succeeded", "end last, succeeded")
    nodes = [e for e in events if e["event"] == "node"]
    det = {e["data"]["frame"] for e in nodes if e["data"]["node"] == "det" and e["data"]["state"] == "succeeded"}
    check(set(range(12)) <= det, "det succeeded on frames 0..11 (%s)" % sorted(det))
    # within a frame, the decoder's event follows the model's
    seen = {}
    order_ok = True
    for e in nodes:
        d = e["data"]
        if d["node"] == "det":
            seen[d["frame"]] = True
        if d["node"] == "decode" and d["frame"] >= 0 and not seen.get(d["frame"]):
            order_ok = False
    check(order_ok, "per frame, det before decode in the event order")
    check(all(e["data"]["duration_ms"] >= 0 for e in nodes), "durations")
    st, doc, _, _ = s.get("/api/runs/" + rid)
    check(st == 200 and doc["state"] == "succeeded" and doc["frames"] == 12 and doc["progress"] == 1.0, "RUN after end: %s" % {k: doc.get(k) for k in ("state", "frames", "progress")})
    dn = [n for n in doc["nodes"] if n["id"] == "det"][0]
    check(dn["execution_provider"] == "CPUExecutionProvider" and dn["latency_ms"]["p99"] > 0 and dn["frames"] == 12, "det node facts")
    check(os.path.exists(os.path.join(doc["output_dir"], "summary.json")), "summary.json written")
    check(os.path.exists(os.path.join(doc["output_dir"], "objects.jsonl")), "sink file inside the run folder")
    # a late SSE reader still gets everything from the first event
    st, _, late = s.sse("/api/runs/%s/events" % rid, until_event="end")
    check([e["id"] for e in late] == [e["id"] for e in events], "late SSE reader gets the same events")
    # cancel
    st, doc, _, _ = s.post("/api/runs", {"graph": "detect", "set": ["nodes.video.params.max_frames=0", "nodes.video.params.loop=true"]})
    check(st == 201, "long run created (%s %s)" % (st, doc))
    rid2 = doc["id"]
    wait_for(lambda: s.get("/api/runs/" + rid2)[1]["frames"] > 0, 60)
    st, doc, _, _ = s.delete("/api/runs/" + rid2)
    check(st == 202, "cancel -> 202")
    done = wait_for(lambda: s.get("/api/runs/" + rid2)[1]["state"] != "running", 60)
    check(done and s.get("/api/runs/" + rid2)[1]["state"] == "canceled", "run canceled")
    st, doc, _, _ = s.get("/api/runs")
    check(st == 200 and {rid, rid2} <= {r["id"] for r in doc["runs"]}, "runs listed")


def metric(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.split()[-1])
    return None


def t_model_cache(s):
    # two concurrent runs of the same graph: the detector is loaded once (the stream graph's
    # infer node uses the same file and options, so the cache holds exactly one model)
    a = s.post("/api/runs", {"graph": "detect"})[1]["id"]
    b = s.post("/api/runs", {"graph": "detect"})[1]["id"]
    text = s.get("/metrics")[2].decode()
    check(metric(text, "vidgraph_models_cached") == 1, "one cached model for two runs + the stream graph (%s)" % metric(text, "vidgraph_models_cached"))
    st, doc, _, _ = s.get("/api/models")
    users = set()
    for m in doc["models"]:
        users |= set(m["users"])
    check("stream" in users, "the stream graph is a user of the detector: %s" % users)
    for r in (a, b):
        wait_for(lambda: s.get("/api/runs/" + r)[1]["state"] != "running", 120)


def t_streams(s):
    st, doc, _, _ = s.post("/api/streams", {"url": "plates.mp4", "id": "cam1", "loop": True})
    check(st == 201 and doc["id"] == "cam1", "stream added (%s %s)" % (st, doc))
    st, doc, _, _ = s.post("/api/streams", {"url": "plates.mp4", "id": "cam1"})
    check(st == 409, "duplicate stream id -> 409")
    for body in ({"url": "/etc/passwd"}, {"url": "../../etc/passwd"}, {"url": 5}, {"url": "plates.mp4", "id": "a b"},
                 {"url": "plates.mp4", "loop": "yes"}, {"url": "missing.mp4"}):
        st, doc, _, _ = s.post("/api/streams", body)
        check(st in (400, 404), "bad stream %s -> 4xx (%s %s)" % (body, st, doc))
    wait_for(lambda: s.get("/api/streams/cam1")[1]["frames"] > 5, 60)
    wait_for(lambda: s.get("/api/streams/cam1/frame.jpg")[0] == 200, 60)
    st, doc, body, ctype = s.get("/api/streams/cam1/frame.jpg")
    check(st == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8", "frame.jpg is a JPEG (%s %s)" % (st, ctype))
    st, _, body, ctype = s.get("/api/streams/cam1/frame.jpg?access_token=" + TOKEN, token=None)
    check(st == 200 and body[:2] == b"\xff\xd8", "frame.jpg with access_token")
    # a second camera joins the running graph (the same run: its clock and counters go on)
    g0 = s.get("/api/streams")[1]["graph"]
    st, doc, _, _ = s.post("/api/streams", {"url": "people.mp4", "id": "cam2", "loop": True})
    check(st == 201, "second stream added live")
    got = wait_for(lambda: s.get("/api/streams/cam2")[1]["frames"] > 5, 60)
    check(got, "second stream delivers frames")
    st, _, evs = s.sse("/api/events?stream=cam2&type=objects,stream", max_events=5, timeout=60)
    check(len(evs) == 5 and all(e["data"].get("stream", e["data"].get("id")) == "cam2" for e in evs), "events filtered by stream")
    check(all(e["event"] in ("objects", "stream") for e in evs), "events filtered by type")
    # MJPEG: first part
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    c.request("GET", "/api/streams/cam1/mjpeg", headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    check(r.status == 200 and r.getheader("Content-Type") == "multipart/x-mixed-replace; boundary=frame", "mjpeg headers")
    head = b""
    while b"\r\n\r\n" not in head:
        head += r.read(1)
    m = re.search(rb"Content-Length: (\d+)", head)
    part = r.read(int(m.group(1))) if m else b""
    check(head.startswith(b"--frame") and part[:2] == b"\xff\xd8", "mjpeg part is a JPEG")
    c.close()
    f1 = s.get("/api/streams/cam2")[1]["frames"]
    st, _, _, _ = s.delete("/api/streams/cam1")
    check(st == 204, "stream removed")
    st, _, _, _ = s.get("/api/streams/cam1")
    check(st == 404, "removed stream is gone")
    check(wait_for(lambda: s.get("/api/streams/cam2")[1]["frames"] > f1 + 5, 60), "the other stream goes on")
    st, doc, _, _ = s.get("/api/streams")
    check([x["id"] for x in doc["streams"]] == ["cam2"], "list after removal")
    g1 = doc["graph"]
    check(g1["state"] == "running" and g1["wall_ms"] > g0["wall_ms"] and g1["frames_in"] > g0["frames_in"],
          "the live graph was never restarted (%s -> %s)" % ({k: g0[k] for k in ("wall_ms", "frames_in")}, {k: g1[k] for k in ("wall_ms", "frames_in")}))
    det = [n for n in g1["nodes"] if n["id"] == "det"][0]
    print("live graph: det %d frames in %d calls (mean batch %.2f)" % (det["frames"], det["calls"], det["mean_batch"]), flush=True)


def t_shm(s):
    """Regions registered, references validated (400 naming the field), a run on shm frames with
    its output coming back as a server region, everything released."""
    name = "/vg-apitest-%d" % os.getpid()
    path = "/dev/shm" + name
    w, h = 64, 48
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, w * h * 3)
    os.write(fd, bytes((i * 7) % 256 for i in range(w * h * 3)))
    os.close(fd)
    try:
        for body, want in (({"name": "no-slash", "bytes": 10}, 400), ({"name": "/vg-missing-x", "bytes": 10}, 404),
                           ({"name": name, "bytes": -1}, 400), ({"name": name, "bytes": "10"}, 400),
                           ({"name": name, "bytes": w * h * 3 + 1}, 400), ({"name": "/..", "bytes": 1}, 400)):
            st, doc, _, _ = s.post("/api/shm", body)
            check(st == want and doc.get("detail"), "shm register %s -> %s (%s %s)" % (body, want, st, doc))
        st, doc, _, _ = s.post("/api/shm", {"name": name, "bytes": w * h * 3})
        check(st == 201 and doc["name"] == name, "shm region registered (%s %s)" % (st, doc))
        st, _, _, _ = s.post("/api/shm", {"name": name, "bytes": w * h * 3})
        check(st == 409, "registered twice -> 409")
        ref = {"shm_name": name, "offset": 0, "bytes": w * h * 3, "dtype": "uint8", "shape": [h, w, 3], "format": "rgb24", "frame_id": 0}
        bad = [({"shape": [h, w, 4]}, "shape"), ({"bytes": w * h * 3 + 1}, "bytes"), ({"offset": 1}, "offset"),
               ({"shape": [2 ** 40, 2 ** 40, 3]}, "shape"), ({"shm_name": "/vg-nope"}, "shm_name"), ({"format": "yuv"}, "format"),
               ({"strides": [1, 1, 1]}, "strides")]
        for patch, field in bad:
            r = dict(ref, **patch)
            st, doc, _, _ = s.post("/api/runs", {"graph": "detect", "inputs": [{"shm": r}]})
            check(st == 400 and field in doc["detail"], "bad reference %s -> 400 naming %s (%s %s)" % (patch, field, st, doc))
        st, doc, _, _ = s.post("/api/runs", {"graph": "detect", "inputs": [{"shm": ref}, {"shm": dict(ref, frame_id=1)}]})
        check(st == 201, "run on shm frames (%s %s)" % (st, doc))
        if st == 201:
            rid = doc["id"]
            wait_for(lambda: s.get("/api/runs/" + rid)[1]["state"] != "running", 120)
            run = s.get("/api/runs/" + rid)[1]
            check(run["state"] == "succeeded" and run["frames"] == 2, "shm run succeeded on 2 frames (%s)" % {k: run[k] for k in ("state", "frames", "error")})
            outs = run["outputs"]
            check(len(outs) == 1 and outs[0]["format"] == "rgb24" and outs[0]["shape"][:2] == [h, w], "output frame as a reference: %s" % outs)
            for o in outs:
                check(os.path.exists("/dev/shm" + o["shm_name"]), "output region exists")
                st, _, _, _ = s.delete("/api/shm/" + o["shm_name"].lstrip("/"))
                check(st == 204, "output region released")
                check(not os.path.exists("/dev/shm" + o["shm_name"]), "released output region unlinked")
        st, _, _, _ = s.delete("/api/shm/" + name.lstrip("/"))
        check(st == 204, "client region released")
        st, _, _, _ = s.delete("/api/shm/" + name.lstrip("/"))
        check(st == 404, "released twice -> 404")
    finally:
        os.unlink(path)


PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def t_metrics(s, tmp):
    s.post("/api/models", raw=b"{bad")  # at least one 400 to count
    st, _, body, ctype = s.get("/metrics")
    check(st == 200 and ctype.startswith("text/plain; version=0.0.4"), "metrics content type")
    text = body.decode()
    types, seen_samples, errors = {}, set(), []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if name in types:
                errors.append("line %d: second TYPE for %s" % (n, name))
            if name in seen_samples:
                errors.append("line %d: TYPE after samples of %s" % (n, name))
            types[name] = typ
        elif line.startswith("#") or not line:
            continue
        else:
            m = PROM_LINE.match(line)
            if not m:
                errors.append("line %d: not a sample: %r" % (n, line))
                continue
            name = m.group(1)
            fam = re.sub(r"_(sum|count|bucket)$", "", name) if re.sub(r"_(sum|count|bucket)$", "", name) in types else name
            if fam not in types:
                errors.append("line %d: %s has no TYPE" % (n, name))
            seen_samples.add(fam)
    check(not errors, "metrics parse: %s" % errors[:5])
    for fam in ("vidgraph_http_requests_total", "vidgraph_sse_clients", "vidgraph_node_latency_seconds",
                "vidgraph_stream_fps", "vidgraph_copies_total", "vidgraph_stream_drops_total", "vidgraph_stream_queue_depth",
                "vidgraph_provider_fallbacks", "vidgraph_gpu_memory_used_bytes", "vidgraph_clients_dropped_total",
                "vidgraph_mjpeg_frames_skipped_total", "vidgraph_jpeg_encodes_total", "vidgraph_jpeg_gpu_bytes_to_host_total",
                "vidgraph_jpeg_cache_hits_total",
                "vidgraph_gpu_memory_total_bytes", "vidgraph_pool_bytes", "vidgraph_pool_peak_bytes", "vidgraph_pool_allocations_total",
                "vidgraph_pool_requests_total", "vidgraph_pool_hits_total", "vidgraph_stream_decode_seconds",
                "vidgraph_node_queue_wait_seconds", "vidgraph_node_dropped_total", "vidgraph_node_queue_depth",
                "vidgraph_node_queue_depth_peak", "vidgraph_node_running"):
        check(fam in types, "metric family %s" % fam)
    check(re.search(r'vidgraph_http_requests_total\{route="/api/models",status="400"\} [1-9]', text), "requests by route and status")
    # the live stream graph's pools are in use, and its nodes carry their pipeline stage
    check(re.search(r'vidgraph_pool_requests_total\{graph="stream",pool="(host|device)"\} [1-9]', text), "pool requests of the stream graph")
    check(re.search(r'vidgraph_pool_hits_total\{graph="stream",pool="(host|device)"\} [1-9]', text), "pool hits of the stream graph")
    for stage in ("source", "preprocess", "infer", "post"):
        check(re.search(r'vidgraph_node_latency_seconds_count\{graph="stream",[^}]*stage="%s"\} [1-9]' % stage, text),
              "stage %s latency of the stream graph" % stage)
    # a node of the live graph had frames waiting for it at some point (peak >= 1)
    check(re.search(r'vidgraph_node_queue_depth_peak\{graph="stream",[^}]*\} [1-9]', text), "node queue depth peak of the stream graph")
    check(re.search(r'vidgraph_stream_decode_seconds_count\{stream="[^"]+"\} [1-9]', text), "decode latency per stream")
    # frame.jpg/MJPEG were served (t_streams) on host frames here: libjpeg, no nvJPEG bytes
    check((metric(text, "vidgraph_jpeg_encodes_total", '{path="host"}') or 0) + (metric(text, "vidgraph_jpeg_encodes_total", '{path="readback"}') or 0)
          + (metric(text, "vidgraph_jpeg_encodes_total", '{path="nvjpeg"}') or 0) + (metric(text, "vidgraph_jpeg_cache_hits_total") or 0) >= 3,
          "2 frame.jpg + 1 MJPEG part: encoded (by path) or served from the stream's JPEG cache")
    promtool = shutil.which("promtool") or os.path.join(ROOT, "third_party/promtool/promtool")
    if os.access(promtool, os.X_OK):
        p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        # promtool exits 1 for lint findings too; only errors (not "... lint" advice) fail here
        out = (p.stdout + p.stderr).decode()
        errs = [l for l in out.splitlines() if l.strip() and "error" in l.lower()]
        check(p.returncode == 0 or not errs, "promtool check metrics: %s" % out[:500])
        print("promtool check metrics: rc %d, %d lines of findings" % (p.returncode, len(out.splitlines())))
    else:
        print("promtool not installed (scripts/setup.sh step 7): metrics checked by the parser only")


def t_load(s):
    """32 connections x N requests, twice: zero errors, and no growth of fds or RSS."""
    paths = ["/api/health", "/api/system/info", "/api/models", "/api/streams", "/metrics", "/api/runs"]
    per_thread = int(os.environ.get("VG_LOAD_REQUESTS", "40"))

    def round_():
        errs, lat = [], []
        lock = threading.Lock()

        def worker(k):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            for i in range(per_thread):
                p = paths[(k + i) % len(paths)]
                t0 = time.time()
                try:
                    c.request("GET", p, headers={"Authorization": "Bearer " + TOKEN})
                    r = c.getresponse()
                    r.read()
                    ok = r.status == 200
                except Exception as e:  # noqa: BLE001 - every failure counts
                    ok = False
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
                with lock:
                    lat.append(time.time() - t0)
                    if not ok:
                        errs.append(p)
            c.close()

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(32)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        lat.sort()
        return errs, lat

    errs, lat = round_()
    time.sleep(0.5)
    fd0, rss0 = s.fds(), s.rss_kb()
    errs2, lat2 = round_()
    time.sleep(0.5)
    fd1, rss1 = s.fds(), s.rss_kb()
    n = len(lat) + len(lat2)
    check(not errs and not errs2, "load: %d requests, %d errors" % (n, len(errs) + len(errs2)))
    check(fd1 <= fd0 + 2, "load: open fds %d -> %d" % (fd0, fd1))
    check(rss1 <= rss0 + 16 * 1024, "load: RSS %d kB -> %d kB" % (rss0, rss1))
    p99 = lat2[int(len(lat2) * 0.99) - 1] * 1000 if lat2 else 0
    print("load: %d requests on 32 connections, p50 %.1f ms, p99 %.1f ms, fds %d -> %d, RSS %d -> %d kB" %
          (n, lat2[len(lat2) // 2] * 1000, p99, fd0, fd1, rss0, rss1), flush=True)


def t_drain(binary, tmp):
    s = Server(binary, tmp)
    st, doc, _, _ = s.post("/api/runs", {"graph": "detect", "set": ["nodes.video.params.max_frames=0", "nodes.video.params.loop=true"]})
    rid = doc["id"]
    s.post("/api/streams", {"url": "plates.mp4", "id": "d1", "loop": True})
    wait_for(lambda: s.get("/api/runs/" + rid)[1]["frames"] > 0, 60)
    t0 = time.time()
    rc = s.stop(timeout=60)
    check(rc == 0, "SIGTERM: exit 0 (%s) in %.1f s" % (rc, time.time() - t0))
    summ = os.path.join(s.out, "runs", rid, "summary.json")
    check(os.path.exists(summ), "SIGTERM: run summary written")
    if os.path.exists(summ):
        with open(summ) as f:
            check(json.load(f)["frames_done"] > 0, "SIGTERM: summary has frames")
    check(os.path.exists(os.path.join(s.out, "streams-summary.json")), "SIGTERM: stream graph summary written")


def mjpeg_parts(s, stream, want):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    c.request("GET", "/api/streams/%s/mjpeg" % stream, headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    parts = []
    for _ in range(want):
        head = b""
        while b"\r\n\r\n" not in head:
            ch = r.read(1)
            if not ch:
                break
            head += ch
        m = re.search(rb"Content-Length: (\d+)", head)
        if not m:
            break
        parts.append(r.read(int(m.group(1))))
    c.close()
    return parts


def t_jpeg_cache(s):
    """Three MJPEG viewers of one stream: a frame is encoded once and the others get the cached
    JPEG (they wait for the encode in flight rather than encode it again)."""
    text = s.get("/metrics")[2].decode()
    hits0 = metric(text, "vidgraph_jpeg_cache_hits_total") or 0
    got = [None] * 3

    def viewer(i):
        got[i] = mjpeg_parts(s, "cam2", 4)
    th = [threading.Thread(target=viewer, args=(i,)) for i in range(3)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    check(all(g and len(g) == 4 and all(p[:2] == b"\xff\xd8" for p in g) for g in got), "3 MJPEG viewers got 4 JPEG parts each")
    text = s.get("/metrics")[2].decode()
    hits = (metric(text, "vidgraph_jpeg_cache_hits_total") or 0) - hits0
    check(hits >= 1, "viewers of one stream share encodes (cache hits %d)" % hits)


def t_listen(binary, tmp):
    """--listen: IPv6 in brackets on the loopback ([::1]), dual-stack [::] where the OS allows it,
    and malformed addresses refused with a message that says what to write."""
    binary = os.path.abspath(binary)
    for bad, want in (("::1:8080", "brackets"), ("[::1:8080", "brackets"), ("[zz]:8080", "not an IPv6 address"),
                      ("127.0.0.1:", "bad port"), ("300.1.1.1:80", "not an IPv4 address")):
        p = subprocess.run([binary, "serve", "--listen", bad, "--token", TOKEN], cwd=tmp, capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and want in p.stderr, "--listen %s refused (%s): rc %d %s" % (bad, want, p.returncode, p.stderr.strip()[-200:]))
    try:
        import socket
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as e:
        print("SKIP listen-v6: this sandbox has no IPv6 loopback (%s)" % e)
        return
    try:
        with open("/proc/sys/net/ipv6/bindv6only") as f:
            v6only = f.read().strip() == "1"
    except OSError:
        v6only = True
    for addr, hosts in (("[::1]:0", ["::1"]), ("[::]:0", ["::1"] + ([] if v6only else ["127.0.0.1"]))):
        proc = subprocess.Popen([binary, "serve", "--listen", addr, "--token", TOKEN], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(tmp, "server-v6.log"), "a"), text=True)
        line = proc.stdout.readline()
        m = re.search(r"listening on http://\[(::1?)\]:(\d+)", line)
        check(m is not None, "--listen %s starts: %r" % (addr, line))
        if m:
            for host in hosts:
                c = http.client.HTTPConnection(host, int(m.group(2)), timeout=30)
                c.request("GET", "/api/health")
                r = c.getresponse()
                body = r.read()
                c.close()
                check(r.status == 200 and b'"ok"' in body, "--listen %s answers on %s: %d" % (addr, host, r.status))
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=60) == 0, "--listen %s: exit 0 on SIGTERM" % addr)


def main():
    binary = sys.argv[1]
    only = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--only" else None
    tmp = tempfile.mkdtemp(prefix="vg-server-test-")
    os.makedirs(os.path.join(tmp, "mroot"))
    os.makedirs(os.path.join(tmp, "media"))
    os.symlink("/etc/hostname", os.path.join(tmp, "mroot", "evil.onnx"))
    s = Server(binary, tmp)
    try:
        steps = [("auth", lambda: t_auth(s)), ("system", lambda: t_system(s)), ("bad", lambda: t_bad_requests(s, tmp)),
                 ("models", lambda: t_models(s)), ("runs", lambda: t_runs(s)), ("cache", lambda: t_model_cache(s)),
                 ("shm", lambda: t_shm(s)), ("streams", lambda: t_streams(s)), ("jpeg", lambda: t_jpeg_cache(s)), ("metrics", lambda: t_metrics(s, tmp)), ("load", lambda: t_load(s)),
                 ("listen", lambda: t_listen(binary, tmp))]
        for name, fn in steps:
            if only and name != only:
                continue
            t0 = time.time()
            fn()
            print("%-8s done in %.1f s" % (name, time.time() - t0), flush=True)
    finally:
        rc = s.stop()
    check(rc == 0, "server exits 0 on SIGTERM (%s)" % rc)
    if not only or only == "drain":
        tmp2 = tempfile.mkdtemp(prefix="vg-server-drain-")
        os.makedirs(os.path.join(tmp2, "mroot"))
        os.makedirs(os.path.join(tmp2, "media"))
        t_drain(binary, tmp2)
        shutil.rmtree(tmp2, ignore_errors=True)
    print("%d passed, %d failed" % (PASSES[0], len(FAILS)))
    if FAILS:
        print("server log: %s/server.log" % tmp)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
